/*
 * rest_videoroom.c: how the REST API talks to janus.plugin.videoroom.
 *
 * Rooms are the VideoRoom's own: REST sends the plugin its own requests
 * (create, edit, destroy, list, listparticipants, kick, moderate,
 * listforwarders, rtp_forward, stop_rtp_forward, participant_info) through
 * handle_admin_message, exactly as the Admin API's message_plugin does. The
 * plugin treats that path as trusted — no room secret, pin or admin_key is
 * asked for — because the REST token already decided who may do what. So a
 * room changed here is the same room Janus API clients see, at once, and
 * its events reach participants as usual.
 *
 * The plugin answers errors as {"error_code","error"} with Janus's codes
 * (janus-api-compat.md §8.2.7); the table below turns them into HTTP:
 * 426 → 404 room_not_found, 428 → 404 participant_not_found (or stream /
 * forwarder, by the request), 427 → 409 room_exists, 429/430 → 400 with the
 * field, 423 "Unknown request" → 501 (a plugin that predates the request),
 * 499 and anything unexpected → 500.
 *
 * Threads: the caller's (handle_admin_message runs on API threads and locks
 * the plugin's state itself).
 */
#include <string.h>

#include <glib.h>

#include "api/rest_internal.h"
#include "core/plugins.h"

#define VIDEOROOM "janus.plugin.videoroom"

static const struct {
	int code;
	stoa_rest_err err;
} codes[] = {
	{ 421, STOA_REST_ERR_INVALID_JSON },	/* no message */
	{ 422, STOA_REST_ERR_INVALID_JSON },	/* not an object */
	{ 426, STOA_REST_ERR_ROOM_NOT_FOUND },
	{ 427, STOA_REST_ERR_ROOM_EXISTS },
	{ 428, STOA_REST_ERR_PARTICIPANT_NOT_FOUND },
	{ 429, STOA_REST_ERR_MISSING_FIELD },
	{ 430, STOA_REST_ERR_INVALID_FIELD },
	/* Admin requests skip every secret, so 433 means the plugin refused
	 * on its own grounds; say so rather than blame the token. */
	{ 433, STOA_REST_ERR_FORBIDDEN },
	{ 436, STOA_REST_ERR_CONFLICT },
};

/* The field a plugin error text names: its texts put it in parentheses
 * after a fixed prefix ("Invalid element type (publishers should be ...)",
 * "Missing mandatory element (room)", "Invalid value (fir_freq should be
 * at least 0)"). Other texts name no field (NULL). g_free the result. */
static char *field_of(const char *text, bool patch)
{
	static const char *const prefixes[] = {
		"Missing mandatory element (", "Missing element (", "Invalid element type (",
		"Invalid element (", "Invalid value (",
	};
	const char *p = NULL;
	size_t n = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(prefixes) && p == NULL; i++)
		if (g_str_has_prefix(text, prefixes[i]))
			p = text + strlen(prefixes[i]);
	if (p == NULL)
		return NULL;
	while (g_ascii_isalnum(p[n]) || p[n] == '_')
		n++;
	if (n == 0)
		return NULL;
	/* A PATCH field is edit's new_<field>; the client wrote <field>. */
	if (patch && n > 4 && strncmp(p, "new_", 4) == 0) {
		p += 4;
		n -= 4;
	}
	return g_strndup(p, n);
}

static stoa_rest_err map_code(int code, const char *text, const stoa_rest_vr_call *call)
{
	if (code == 428 && g_str_has_prefix(text, "No such stream") && call->stream_field != NULL)
		return call->no_such_stream;
	if (code == 423 && g_str_has_prefix(text, "Unknown request"))
		return STOA_REST_ERR_NOT_IMPLEMENTED;
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
		if (codes[i].code == code)
			return codes[i].err;
	return STOA_REST_ERR_INTERNAL;
}

/* Sets the HTTP error for a plugin error reply. */
static void plugin_error(stoa_rest_ctx *ctx, const stoa_rest_vr_call *call, json_t *reply)
{
	int code = (int)json_integer_value(json_object_get(reply, "error_code"));
	const char *text = json_string_value(json_object_get(reply, "error"));
	stoa_rest_err err;
	char *field;

	if (text == NULL)
		text = "VideoRoom error";
	err = map_code(code, text, call);
	field = err == STOA_REST_ERR_MISSING_FIELD || err == STOA_REST_ERR_INVALID_FIELD
			? field_of(text, call->patch)
			: NULL;
	if (field == NULL && call->stream_field != NULL && err == call->no_such_stream)
		field = g_strdup(call->stream_field);
	if (call->patch) {
		/* Say what the client wrote: "publishers", not edit's "new_publishers". */
		char **parts = g_strsplit(text, "(new_", -1);
		char *said = g_strjoinv("(", parts);
		stoa__rest_error(ctx, err, field, "%s (VideoRoom error %d)", said, code);
		g_free(said);
		g_strfreev(parts);
	} else {
		stoa__rest_error(ctx, err, field, "%s (VideoRoom error %d)", text, code);
	}
	g_free(field);
}

json_t *stoa__rest_vr(stoa_rest_ctx *ctx, const stoa_rest_vr_call *call, json_t *request)
{
	const stoa_plugin *p = stoa_plugins_find(VIDEOROOM);
	json_t *reply;

	if (p == NULL || p->handle_admin_message == NULL) {
		json_decref(request);
		stoa__rest_error(ctx, STOA_REST_ERR_UNAVAILABLE, NULL, "%s is not loaded", VIDEOROOM);
		return NULL;
	}
	json_object_set_new(request, "request", json_string(call->request));
	reply = p->handle_admin_message(request);
	json_decref(request);
	if (!json_is_object(reply)) {
		if (reply != NULL)
			json_decref(reply);
		stoa__rest_error(ctx, STOA_REST_ERR_INTERNAL, NULL, "%s gave no answer to %s",
				 VIDEOROOM, call->request);
		return NULL;
	}
	if (json_object_get(reply, "error_code") != NULL) {
		plugin_error(ctx, call, reply);
		json_decref(reply);
		return NULL;
	}
	json_object_del(reply, "videoroom");
	return reply;
}
