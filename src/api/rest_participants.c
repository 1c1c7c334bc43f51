/*
 * rest_participants.c: a room's participants and RTP forwarders.
 *
 *   GET    /rooms/{room}/participants                      listparticipants
 *   GET    /rooms/{room}/participants/{id}                 participant_info
 *   DELETE /rooms/{room}/participants/{id}                 kick; 204
 *   POST   /rooms/{room}/participants/{id}/moderate        moderate {mid, mute}; 204
 *   GET    /rooms/{room}/forwarders                        listforwarders
 *   POST   /rooms/{room}/participants/{id}/forwarders      rtp_forward; 201
 *   DELETE /rooms/{room}/participants/{id}/forwarders/{stream_id}  stop_rtp_forward; 204
 *
 * A forwarder belongs to one publisher's stream, so it is made and ended
 * under that participant; the room-wide list is where to find them all.
 * A kick reaches the participant as the VideoRoom's `leaving`/`kicked`
 * event, as when a Janus API client kicks.
 *
 * Threads: the caller's; every call goes through rest_videoroom.c.
 */
#include <glib.h>

#include "api/rest_internal.h"

/* {room, <id_field>: participant} for a request about one participant. */
static json_t *participant_request(const stoa_rest_ctx *ctx, const char *id_field)
{
	return json_pack("{s:I,s:I}", "room", (json_int_t)ctx->ids[0], id_field,
			 (json_int_t)ctx->ids[1]);
}

/* Answers `status` with the reply (200/201), or 204 without it. */
static void answer(stoa_rest_ctx *ctx, unsigned status, json_t *reply)
{
	if (reply == NULL)
		return;
	if (status == 204) {
		json_decref(reply);
		reply = NULL;
	}
	stoa__rest_reply(ctx, status, reply);
}

void stoa__rest_participants_list(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "listparticipants" };

	answer(ctx, 200, stoa__rest_vr(ctx, &call, json_pack("{s:I}", "room",
							     (json_int_t)ctx->ids[0])));
}

void stoa__rest_participant_get(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "participant_info" };

	answer(ctx, 200, stoa__rest_vr(ctx, &call, participant_request(ctx, "id")));
}

void stoa__rest_participant_kick(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "kick" };

	answer(ctx, 204, stoa__rest_vr(ctx, &call, participant_request(ctx, "id")));
}

void stoa__rest_participant_moderate(stoa_rest_ctx *ctx)
{
	static const stoa_rest_field fields[] = {
		{ "mid", STOA_REST_T_STRING, true, NULL },
		{ "mute", STOA_REST_T_BOOL, true, NULL },
	};
	static const stoa_rest_vr_call call = { .request = "moderate",
						.stream_field = "mid",
						.no_such_stream = STOA_REST_ERR_STREAM_NOT_FOUND };
	json_t *request;

	if (STOA_REST_CHECK(ctx, ctx->body, fields) < 0)
		return;
	request = participant_request(ctx, "id");
	json_object_update(request, ctx->body);
	answer(ctx, 204, stoa__rest_vr(ctx, &call, request));
}

void stoa__rest_forwarders_list(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "listforwarders" };

	answer(ctx, 200, stoa__rest_vr(ctx, &call, json_pack("{s:I}", "room",
							     (json_int_t)ctx->ids[0])));
}

void stoa__rest_forwarder_create(stoa_rest_ctx *ctx)
{
	/* rtp_forward's multistream form (janus-api-compat.md §8.2.6); the
	 * deprecated flat fields (audio_port, video_port, ...) are not offered
	 * here. The plugin checks each stream's members. */
	static const stoa_rest_field fields[] = {
		{ "host", STOA_REST_T_STRING, false, NULL },
		{ "host_family", STOA_REST_T_STRING, false, NULL },
		{ "streams", STOA_REST_T_OBJECTS, true, NULL },
		{ "srtp_suite", STOA_REST_T_INT, false, NULL },
		{ "srtp_crypto", STOA_REST_T_STRING, false, NULL },
	};
	static const stoa_rest_vr_call call = { .request = "rtp_forward",
						.stream_field = "streams",
						.no_such_stream = STOA_REST_ERR_STREAM_NOT_FOUND };
	json_t *request;

	if (STOA_REST_CHECK(ctx, ctx->body, fields) < 0)
		return;
	request = participant_request(ctx, "publisher_id");
	json_object_update(request, ctx->body);
	answer(ctx, 201, stoa__rest_vr(ctx, &call, request));
}

void stoa__rest_forwarder_delete(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "stop_rtp_forward",
						.stream_field = "stream_id",
						.no_such_stream = STOA_REST_ERR_FORWARDER_NOT_FOUND };
	json_t *request;

	/* The VideoRoom's stream ids are 32-bit: a larger one names nothing
	 * (and must not wrap onto one that exists). */
	if (ctx->ids[2] > G_MAXUINT32) {
		stoa__rest_error(ctx, STOA_REST_ERR_FORWARDER_NOT_FOUND, "stream_id",
				 "no forwarder %" G_GUINT64_FORMAT, ctx->ids[2]);
		return;
	}
	request = participant_request(ctx, "publisher_id");
	json_object_set_new(request, "stream_id", json_integer((json_int_t)ctx->ids[2]));
	answer(ctx, 204, stoa__rest_vr(ctx, &call, request));
}
