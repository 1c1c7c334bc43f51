/*
 * rest.h: the REST admin API (/api/v1/...) and /metrics, as transports see
 * them.
 *
 * The REST API manages VideoRoom rooms and the server's sessions with plain
 * HTTP verbs, JSON bodies and Bearer tokens, next to Janus's JSON-RPC style
 * Admin API; docs/openapi.yaml describes every endpoint. This header knows
 * nothing of libmicrohttpd: the HTTP transport fills a stoa_rest_request
 * from its connection, calls stoa_rest_handle() on the connection thread
 * and turns the stoa_rest_response into HTTP (http_rest.c). So the API can
 * be driven without sockets.
 *
 * Threads: stoa_rest_handle() runs on the caller's thread and may block for
 * a moment (a plugin call, a peer connection's stats from its media loop,
 * the readiness probe of the media loops); never call it from a media loop.
 */
#ifndef STOA_API_REST_H
#define STOA_API_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every REST path starts with this; /metrics is the one exception. */
#define STOA_REST_BASE "/api/v1"
#define STOA_REST_METRICS "/metrics"

/*
 * One request, borrowed for the call. Strings are NUL-terminated and may be
 * NULL when absent. `query` looks up a decoded query parameter (NULL when
 * absent); `query_ctx` is passed back to it.
 */
typedef struct stoa_rest_request {
	const char *method;
	const char *path;		/* decoded, without the query: "/api/v1/rooms/7" */
	const char *authorization;	/* the Authorization header */
	const char *content_type;	/* the Content-Type header */
	const uint8_t *body;
	size_t body_len;
	const char *peer;		/* for logs */
	const char *(*query)(void *query_ctx, const char *name);
	void *query_ctx;
} stoa_rest_request;

/*
 * What to answer. Exactly one of `json` (application/json) and `text`
 * (with `content_type`) is set, or neither for an empty body (204).
 * Header values are NULL when the header is not sent. Owned by the
 * response; free with stoa_rest_response_clear().
 */
typedef struct stoa_rest_response {
	unsigned status;
	json_t *json;
	char *text;
	const char *content_type;	/* static */
	char *location;			/* Location, for 201 */
	char *allow;			/* Allow, for 405 */
	char *www_authenticate;		/* WWW-Authenticate, for 401 and 403 */
} stoa_rest_response;

/* Is `path` one the REST API serves (under STOA_REST_BASE, or /metrics)? */
bool stoa_rest_owns_path(const char *path);

/* Answers one request into `resp` (zeroed by the caller). */
void stoa_rest_handle(const stoa_rest_request *req, stoa_rest_response *resp);

/* An error response built before the request could be read (413 for a
 * body over the limit, 403 for a CORS refusal), in the same error shape as
 * every other REST error, and counted in the metrics under `method`.
 * `status` is 403 or 413. */
void stoa_rest_refuse(const char *method, unsigned status, stoa_rest_response *resp);

void stoa_rest_response_clear(stoa_rest_response *resp);

/* With no rest_api.tokens and no admin_secret, makes a random token with
 * every scope for this run and returns it (borrowed, valid until
 * stoa_rest_run_token_free), so the admin dashboard works on embedded
 * defaults; otherwise returns NULL. Main thread, before the listeners
 * start; free after they stop. */
const char *stoa_rest_run_token_init(void);
void stoa_rest_run_token_free(void);

#endif
