/*
 * rest_rooms.c: /api/v1/rooms and /api/v1/rooms/{room} — the VideoRoom's
 * rooms as a REST collection.
 *
 *   GET    /rooms            list (?include=private adds private rooms)
 *   POST   /rooms            create; 201, the room, Location
 *   GET    /rooms/{room}     one room (private ones too: the token decides)
 *   PATCH  /rooms/{room}     edit; 200, the room
 *   DELETE /rooms/{room}     destroy; 204 (?permanent=true: from the config file too)
 *
 * Field names are the VideoRoom's own, so one vocabulary serves the Janus
 * API and this one; a room is shown as the VideoRoom's `list` entry. PATCH
 * takes the same names as create and sends them as edit's new_* fields;
 * the fields edit cannot change are refused (immutable_field) instead of
 * being dropped silently.
 *
 * Threads: the caller's; every call goes through rest_videoroom.c.
 */
#include <string.h>

#include <glib.h>

#include "api/rest_internal.h"

/* Every room option of the VideoRoom's `create` (janus-api-compat.md
 * §8.2.2), with edit's name for the ones PATCH may change. */
static const stoa_rest_field room_fields[] = {
	{ "room", STOA_REST_T_ID, false, NULL },
	{ "permanent", STOA_REST_T_BOOL, false, NULL },
	{ "description", STOA_REST_T_STRING, false, "new_description" },
	{ "is_private", STOA_REST_T_BOOL, false, "new_is_private" },
	{ "secret", STOA_REST_T_STRING, false, "new_secret" },
	{ "pin", STOA_REST_T_STRING, false, "new_pin" },
	{ "require_pvtid", STOA_REST_T_BOOL, false, "new_require_pvtid" },
	{ "signed_tokens", STOA_REST_T_BOOL, false, NULL },
	{ "require_e2ee", STOA_REST_T_BOOL, false, NULL },
	{ "notify_joining", STOA_REST_T_BOOL, false, NULL },
	{ "publishers", STOA_REST_T_INT, false, "new_publishers" },
	{ "bitrate", STOA_REST_T_INT, false, "new_bitrate" },
	{ "bitrate_cap", STOA_REST_T_BOOL, false, NULL },
	{ "fir_freq", STOA_REST_T_INT, false, "new_fir_freq" },
	{ "audiocodec", STOA_REST_T_STRING, false, NULL },
	{ "videocodec", STOA_REST_T_STRING, false, NULL },
	{ "vp9_profile", STOA_REST_T_STRING, false, NULL },
	{ "h264_profile", STOA_REST_T_STRING, false, NULL },
	{ "opus_fec", STOA_REST_T_BOOL, false, NULL },
	{ "opus_dtx", STOA_REST_T_BOOL, false, NULL },
	{ "audiolevel_ext", STOA_REST_T_BOOL, false, NULL },
	{ "audiolevel_event", STOA_REST_T_BOOL, false, NULL },
	{ "audio_active_packets", STOA_REST_T_INT, false, NULL },
	{ "audio_level_average", STOA_REST_T_INT, false, NULL },
	{ "videoorient_ext", STOA_REST_T_BOOL, false, NULL },
	{ "playoutdelay_ext", STOA_REST_T_BOOL, false, NULL },
	{ "transport_wide_cc_ext", STOA_REST_T_BOOL, false, NULL },
	{ "record", STOA_REST_T_BOOL, false, NULL },
	{ "rec_dir", STOA_REST_T_STRING, false, "new_rec_dir" },
	{ "lock_record", STOA_REST_T_BOOL, false, "new_lock_record" },
	{ "dummy_publisher", STOA_REST_T_BOOL, false, NULL },
	{ "allowed", STOA_REST_T_STRINGS, false, NULL },
};

/* The VideoRoom's `list`, private rooms included when asked. New ref or
 * NULL with the error set. */
static json_t *room_list(stoa_rest_ctx *ctx, bool include_private)
{
	static const stoa_rest_vr_call call = { .request = "list" };
	json_t *reply = stoa__rest_vr(ctx, &call, json_pack("{s:b}", "include_private",
							    include_private));
	json_t *list = reply != NULL ? json_incref(json_object_get(reply, "list")) : NULL;

	if (reply != NULL)
		json_decref(reply);
	if (reply != NULL && !json_is_array(list)) {
		if (list != NULL)
			json_decref(list);
		stoa__rest_error(ctx, STOA_REST_ERR_INTERNAL, NULL, "the VideoRoom's list has no rooms");
		return NULL;
	}
	return list;
}

/* The `list` entry of `room` (new ref), or NULL: not found (nothing set),
 * or a plugin error (response set). */
static json_t *find_entry(stoa_rest_ctx *ctx, uint64_t room)
{
	json_t *list = room_list(ctx, true);
	json_t *found = NULL;
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		if ((uint64_t)json_integer_value(json_object_get(e, "room")) == room) {
			found = json_incref(e);
			break;
		}
	}
	if (list != NULL)
		json_decref(list);
	return found;
}

/* The room's entry, or NULL with 404 (or the plugin's error) set. */
static json_t *room_entry(stoa_rest_ctx *ctx, uint64_t room)
{
	json_t *e = find_entry(ctx, room);

	if (e == NULL && ctx->resp->status == 0)
		stoa__rest_error(ctx, STOA_REST_ERR_ROOM_NOT_FOUND, NULL,
				 "no room %" G_GUINT64_FORMAT, room);
	return e;
}

void stoa__rest_rooms_list(stoa_rest_ctx *ctx)
{
	const char *include = stoa__rest_query(ctx, "include");
	json_t *list;

	if (include != NULL && strcmp(include, "private") != 0) {
		stoa__rest_error(ctx, STOA_REST_ERR_INVALID_FIELD, "include",
				 "include must be \"private\"");
		return;
	}
	list = room_list(ctx, include != NULL);
	if (list != NULL)
		stoa__rest_reply(ctx, 200, json_pack("{s:o}", "rooms", list));
}

void stoa__rest_rooms_create(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "create" };
	json_t *reply, *room;
	uint64_t id;

	if (STOA_REST_CHECK(ctx, ctx->body, room_fields) < 0)
		return;
	reply = stoa__rest_vr(ctx, &call, json_deep_copy(ctx->body));
	if (reply == NULL)
		return;
	id = (uint64_t)json_integer_value(json_object_get(reply, "room"));
	/* The room as GET shows it; if it went in between (a DELETE racing
	 * this request), the plugin's own reply still says what was made. */
	room = find_entry(ctx, id);
	if (ctx->resp->status != 0) {
		json_decref(reply);
		return;
	}
	if (room != NULL) {
		json_object_set(room, "permanent", json_object_get(reply, "permanent"));
		json_decref(reply);
	} else {
		room = reply;
	}
	ctx->resp->location = g_strdup_printf(STOA_REST_BASE "/rooms/%" G_GUINT64_FORMAT, id);
	stoa__rest_reply(ctx, 201, room);
}

void stoa__rest_room_get(stoa_rest_ctx *ctx)
{
	json_t *room = room_entry(ctx, ctx->ids[0]);

	if (room != NULL)
		stoa__rest_reply(ctx, 200, room);
}

/* PATCH's body as an edit request: each field under edit's name. Returns
 * NULL with a 400 set for a field edit cannot change. */
static json_t *edit_request(stoa_rest_ctx *ctx)
{
	json_t *edit = json_object();
	const char *key;
	json_t *v;

	json_object_foreach(ctx->body, key, v) {
		const stoa_rest_field *f = stoa__rest_field_find(room_fields, G_N_ELEMENTS(room_fields),
								 key);
		if (f == NULL) {
			stoa__rest_error(ctx, STOA_REST_ERR_UNKNOWN_FIELD, key, "unknown field %s", key);
		} else if (f->alias == NULL && strcmp(key, "permanent") != 0) {
			stoa__rest_error(ctx, STOA_REST_ERR_IMMUTABLE_FIELD, key,
					 "%s cannot be changed once the room exists", key);
		} else {
			json_object_set(edit, f->alias != NULL ? f->alias : key, v);
			continue;
		}
		json_decref(edit);
		return NULL;
	}
	return edit;
}

void stoa__rest_room_patch(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "edit", .patch = true };
	json_t *edit, *reply, *room;

	edit = edit_request(ctx);
	if (edit == NULL || STOA_REST_CHECK(ctx, ctx->body, room_fields) < 0) {
		if (edit != NULL)
			json_decref(edit);
		return;
	}
	json_object_set_new(edit, "room", json_integer((json_int_t)ctx->ids[0]));
	reply = stoa__rest_vr(ctx, &call, edit);
	if (reply == NULL)
		return;
	json_decref(reply);
	room = room_entry(ctx, ctx->ids[0]);
	if (room != NULL)
		stoa__rest_reply(ctx, 200, room);
}

void stoa__rest_room_delete(stoa_rest_ctx *ctx)
{
	static const stoa_rest_vr_call call = { .request = "destroy" };
	bool permanent;
	json_t *reply;

	if (stoa__rest_query_bool(ctx, "permanent", &permanent) < 0)
		return;
	reply = stoa__rest_vr(ctx, &call, json_pack("{s:I,s:b}", "room", (json_int_t)ctx->ids[0],
						    "permanent", permanent));
	if (reply == NULL)
		return;
	json_decref(reply);
	stoa__rest_reply(ctx, 204, NULL);
}
