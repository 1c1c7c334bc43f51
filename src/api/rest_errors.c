/*
 * rest_errors.c: the REST API's errors — one table from error to HTTP
 * status and `code`, and the one body shape every error has:
 *
 *   {"error":{"status":400,"code":"invalid_field","message":"...","field":"publishers"}}
 *
 * `status` repeats the HTTP status so a body logged on its own still says
 * what happened; `code` is stable and what clients match on; `message` is
 * for people; `field` names the body field or query parameter at fault.
 * Any thread; no state.
 */
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

#include "api/rest_internal.h"

static const struct {
	stoa_rest_err err;
	unsigned status;
	const char *code;
} errors[] = {
	{ STOA_REST_ERR_INVALID_JSON, 400, "invalid_json" },
	{ STOA_REST_ERR_INVALID_FIELD, 400, "invalid_field" },
	{ STOA_REST_ERR_MISSING_FIELD, 400, "missing_field" },
	{ STOA_REST_ERR_UNKNOWN_FIELD, 400, "unknown_field" },
	{ STOA_REST_ERR_IMMUTABLE_FIELD, 400, "immutable_field" },
	{ STOA_REST_ERR_UNAUTHORIZED, 401, "unauthorized" },
	{ STOA_REST_ERR_FORBIDDEN, 403, "forbidden" },
	{ STOA_REST_ERR_INSUFFICIENT_SCOPE, 403, "insufficient_scope" },
	{ STOA_REST_ERR_NOT_FOUND, 404, "not_found" },
	{ STOA_REST_ERR_ROOM_NOT_FOUND, 404, "room_not_found" },
	{ STOA_REST_ERR_PARTICIPANT_NOT_FOUND, 404, "participant_not_found" },
	{ STOA_REST_ERR_STREAM_NOT_FOUND, 404, "stream_not_found" },
	{ STOA_REST_ERR_FORWARDER_NOT_FOUND, 404, "forwarder_not_found" },
	{ STOA_REST_ERR_SESSION_NOT_FOUND, 404, "session_not_found" },
	{ STOA_REST_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed" },
	{ STOA_REST_ERR_ROOM_EXISTS, 409, "room_exists" },
	{ STOA_REST_ERR_CONFLICT, 409, "conflict" },
	{ STOA_REST_ERR_PAYLOAD_TOO_LARGE, 413, "payload_too_large" },
	{ STOA_REST_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type" },
	{ STOA_REST_ERR_INTERNAL, 500, "internal_error" },
	{ STOA_REST_ERR_NOT_IMPLEMENTED, 501, "not_implemented" },
	{ STOA_REST_ERR_UNAVAILABLE, 503, "unavailable" },
	{ STOA_REST_ERR_NOT_READY, 503, "not_ready" },
};

/* The table is indexed by the enum, so its rows must stay in enum order;
 * a row out of place is a bug, answered as a 500 rather than a wrong code. */
static unsigned row(stoa_rest_err err)
{
	bool ok = (size_t)err < G_N_ELEMENTS(errors) && errors[err].err == err;

	g_warn_if_fail(ok);
	return ok ? (unsigned)err : STOA_REST_ERR_INTERNAL;
}

unsigned stoa__rest_err_status(stoa_rest_err err)
{
	return errors[row(err)].status;
}

json_t *stoa__rest_error_body(stoa_rest_err err, const char *field, const char *message)
{
	unsigned i = row(err);
	json_t *e = json_pack("{s:i,s:s,s:s}", "status", (int)errors[i].status, "code",
			      errors[i].code, "message", message != NULL ? message : errors[i].code);

	if (field != NULL)
		json_object_set_new(e, "field", json_string(field));
	return json_pack("{s:o}", "error", e);
}

void stoa__rest_error(stoa_rest_ctx *ctx, stoa_rest_err err, const char *field, const char *fmt,
		      ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	stoa__rest_reply(ctx, stoa__rest_err_status(err), stoa__rest_error_body(err, field, message));
}
