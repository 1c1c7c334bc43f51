/*
 * rest_internal.h: what the files of the REST API share.
 *
 *   rest.c               the route table, path matching, 404/405/415, JSON bodies
 *   rest_auth.c          Bearer tokens and scopes (401/403), open endpoints
 *   rest_errors.c        the error table and the one error body shape
 *   rest_fields.c        field tables that check JSON bodies (400 with the field)
 *   rest_videoroom.c     calls into janus.plugin.videoroom, its error codes as HTTP
 *   rest_rooms.c         /rooms and /rooms/{room}
 *   rest_participants.c  /rooms/{room}/participants/..., moderate, forwarders
 *   rest_sessions.c      /sessions and /sessions/{session}
 *   rest_info.c          /info, /health, /ready, /metrics
 *
 * A request runs on the calling transport thread from start to end; the
 * context below lives on that thread's stack.
 */
#ifndef STOA_API_REST_INTERNAL_H
#define STOA_API_REST_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/rest.h"

/* The errors the REST API answers with: each one HTTP status and one
 * stable `code` string that clients match on (rest_errors.c). */
typedef enum stoa_rest_err {
	STOA_REST_ERR_INVALID_JSON,	/* 400 */
	STOA_REST_ERR_INVALID_FIELD,	/* 400 */
	STOA_REST_ERR_MISSING_FIELD,	/* 400 */
	STOA_REST_ERR_UNKNOWN_FIELD,	/* 400 */
	STOA_REST_ERR_IMMUTABLE_FIELD,	/* 400 */
	STOA_REST_ERR_UNAUTHORIZED,	/* 401 */
	STOA_REST_ERR_FORBIDDEN,	/* 403 */
	STOA_REST_ERR_INSUFFICIENT_SCOPE, /* 403 */
	STOA_REST_ERR_NOT_FOUND,	/* 404: no such path */
	STOA_REST_ERR_ROOM_NOT_FOUND,	/* 404 */
	STOA_REST_ERR_PARTICIPANT_NOT_FOUND, /* 404 */
	STOA_REST_ERR_STREAM_NOT_FOUND, /* 404 */
	STOA_REST_ERR_FORWARDER_NOT_FOUND, /* 404 */
	STOA_REST_ERR_SESSION_NOT_FOUND, /* 404 */
	STOA_REST_ERR_METHOD_NOT_ALLOWED, /* 405 */
	STOA_REST_ERR_ROOM_EXISTS,	/* 409 */
	STOA_REST_ERR_CONFLICT,		/* 409 */
	STOA_REST_ERR_PAYLOAD_TOO_LARGE, /* 413 */
	STOA_REST_ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 */
	STOA_REST_ERR_INTERNAL,		/* 500 */
	STOA_REST_ERR_NOT_IMPLEMENTED,	/* 501 */
	STOA_REST_ERR_UNAVAILABLE,	/* 503 */
	STOA_REST_ERR_NOT_READY,	/* 503 */
} stoa_rest_err;

/* ---- rest_errors.c ---- */

unsigned stoa__rest_err_status(stoa_rest_err err);
/* {"error":{"status","code","message","field"?}}; `field` may be NULL. */
json_t *stoa__rest_error_body(stoa_rest_err err, const char *field, const char *message);

/* One request while it is answered. */
typedef struct stoa_rest_ctx {
	const stoa_rest_request *req;
	stoa_rest_response *resp;
	uint64_t ids[4];	/* the route's {…} path segments, in order */
	json_t *body;		/* the JSON object body (routes that take one), or NULL */
} stoa_rest_ctx;

/* Sets the response to `status` with `body` (stolen; NULL: no body). */
void stoa__rest_reply(stoa_rest_ctx *ctx, unsigned status, json_t *body);
/* Sets the response to an error; `field` names the offending field or
 * query parameter (NULL if none). */
void stoa__rest_error(stoa_rest_ctx *ctx, stoa_rest_err err, const char *field, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
/* The request's query parameter, or NULL. */
const char *stoa__rest_query(const stoa_rest_ctx *ctx, const char *name);
/* A boolean query parameter ("true"/"false"; absent = false). Returns 0, or
 * -1 with a 400 set. */
int stoa__rest_query_bool(stoa_rest_ctx *ctx, const char *name, bool *out);

/* ---- routes (rest.c) ---- */

typedef void (*stoa_rest_fn)(stoa_rest_ctx *ctx);

/* Which config switch may open a route to requests without a token. */
typedef enum stoa_rest_open {
	STOA_REST_OPEN_NEVER,
	STOA_REST_OPEN_HEALTH,	/* rest_api.open_health */
	STOA_REST_OPEN_METRICS,	/* rest_api.open_metrics */
} stoa_rest_open;

typedef struct stoa_rest_route {
	const char *method;
	const char *pattern;	/* "/api/v1/rooms/{room}": a {…} segment is an id */
	bool body;		/* takes a JSON object body (an empty body is {}) */
	stoa_rest_open open;
	stoa_rest_fn fn;
} stoa_rest_route;

/* ---- rest_auth.c ---- */

/* Checks the Bearer token for `route` (GET needs the read scope, every
 * other method write). Returns 0, or -1 with the 401/403 response set. */
int stoa__rest_authorize(stoa_rest_ctx *ctx, const stoa_rest_route *route);

/* ---- rest_fields.c: checking JSON bodies ---- */

typedef enum stoa_rest_type {
	STOA_REST_T_BOOL,
	STOA_REST_T_INT,	/* integer >= 0 */
	STOA_REST_T_ID,		/* integer >= 1 */
	STOA_REST_T_STRING,
	STOA_REST_T_STRINGS,	/* array of strings */
	STOA_REST_T_OBJECTS,	/* non-empty array of objects */
	STOA_REST_T_OBJECT,
} stoa_rest_type;

typedef struct stoa_rest_field {
	const char *name;
	stoa_rest_type type;
	bool required;
	const char *alias;	/* the plugin's name when it differs (PATCH: new_*), else NULL */
} stoa_rest_field;

/* Checks `obj` against `fields`: a field not in the table (unknown_field),
 * a required one missing (missing_field), a wrong type (invalid_field).
 * Returns 0, or -1 with the 400 set, naming the field. */
int stoa__rest_check_fields(stoa_rest_ctx *ctx, json_t *obj, const stoa_rest_field *fields,
			    size_t n);
#define STOA_REST_CHECK(ctx, obj, table) \
	stoa__rest_check_fields((ctx), (obj), (table), sizeof(table) / sizeof((table)[0]))
/* The table entry named `name`, or NULL. */
const stoa_rest_field *stoa__rest_field_find(const stoa_rest_field *fields, size_t n,
					     const char *name);

/* ---- rest_videoroom.c ---- */

/* What a VideoRoom 428 ("No such ...") means for the request at hand: the
 * plugin uses one code for participants, streams and forwarders. */
typedef struct stoa_rest_vr_call {
	const char *request;		/* "create", "kick", ... */
	/* When `stream_field` is set, a 428 "No such stream ..." is
	 * `no_such_stream` naming that field (else participant_not_found). */
	const char *stream_field;
	stoa_rest_err no_such_stream;
	bool patch;			/* field names in errors lose edit's "new_" */
} stoa_rest_vr_call;

/* Sends `request` (stolen; "request" is set from `call`) to the VideoRoom's
 * handle_admin_message. Returns the reply without its "videoroom" key (new
 * ref), or NULL with the error response set (plugin missing → 503, plugin
 * errors mapped to HTTP). */
json_t *stoa__rest_vr(stoa_rest_ctx *ctx, const stoa_rest_vr_call *call, json_t *request);

/* ---- handlers ---- */

/* rest_rooms.c */
void stoa__rest_rooms_list(stoa_rest_ctx *ctx);
void stoa__rest_rooms_create(stoa_rest_ctx *ctx);
void stoa__rest_room_get(stoa_rest_ctx *ctx);
void stoa__rest_room_patch(stoa_rest_ctx *ctx);
void stoa__rest_room_delete(stoa_rest_ctx *ctx);

/* rest_participants.c */
void stoa__rest_participants_list(stoa_rest_ctx *ctx);
void stoa__rest_participant_get(stoa_rest_ctx *ctx);
void stoa__rest_participant_kick(stoa_rest_ctx *ctx);
void stoa__rest_participant_moderate(stoa_rest_ctx *ctx);
void stoa__rest_forwarders_list(stoa_rest_ctx *ctx);
void stoa__rest_forwarder_create(stoa_rest_ctx *ctx);
void stoa__rest_forwarder_delete(stoa_rest_ctx *ctx);

/* rest_sessions.c */
void stoa__rest_sessions_list(stoa_rest_ctx *ctx);
void stoa__rest_session_get(stoa_rest_ctx *ctx);
void stoa__rest_session_delete(stoa_rest_ctx *ctx);

/* rest_info.c */
void stoa__rest_info(stoa_rest_ctx *ctx);
void stoa__rest_health(stoa_rest_ctx *ctx);
void stoa__rest_ready(stoa_rest_ctx *ctx);
void stoa__rest_metrics(stoa_rest_ctx *ctx);

#endif
