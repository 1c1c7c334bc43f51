/*
 * rest.c: the REST API's routes and what every request goes through.
 *
 * Design: one table maps a method and a path pattern to a handler. A
 * request is checked in this order, so each failure has one answer:
 *   1. the path matches no pattern                       → 404 not_found
 *   2. it matches, but not with this method              → 405 + Allow
 *   3. the Bearer token (unless the route is open)       → 401 / 403
 *   4. a body with another Content-Type than JSON        → 415
 *   5. a body that is not a JSON object                  → 400 invalid_json
 *   6. the handler: fields (400), ids (404), conflicts (409)
 * Body size is bounded before any of this, by the transport (413).
 * Every answer, the transport's early refusals included, is counted in
 * stoa_api_requests_total{api="rest"} by method and status.
 * Routing before authentication means an unknown path is 404 with or
 * without a token: the list of paths is public (docs/openapi.yaml) anyway.
 *
 * Threads: the caller's (an HTTP connection thread); no state of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "api/rest_internal.h"
#include "core/log.h"
#include "core/metrics.h"

#define STOA_LOG_MODULE "rest"

#define B STOA_REST_BASE
static const stoa_rest_route routes[] = {
	{ "GET", B "/rooms", false, STOA_REST_OPEN_NEVER, stoa__rest_rooms_list },
	{ "POST", B "/rooms", true, STOA_REST_OPEN_NEVER, stoa__rest_rooms_create },
	{ "GET", B "/rooms/{room}", false, STOA_REST_OPEN_NEVER, stoa__rest_room_get },
	{ "PATCH", B "/rooms/{room}", true, STOA_REST_OPEN_NEVER, stoa__rest_room_patch },
	{ "DELETE", B "/rooms/{room}", false, STOA_REST_OPEN_NEVER, stoa__rest_room_delete },
	{ "GET", B "/rooms/{room}/participants", false, STOA_REST_OPEN_NEVER,
	  stoa__rest_participants_list },
	{ "GET", B "/rooms/{room}/participants/{id}", false, STOA_REST_OPEN_NEVER,
	  stoa__rest_participant_get },
	{ "DELETE", B "/rooms/{room}/participants/{id}", false, STOA_REST_OPEN_NEVER,
	  stoa__rest_participant_kick },
	{ "POST", B "/rooms/{room}/participants/{id}/moderate", true, STOA_REST_OPEN_NEVER,
	  stoa__rest_participant_moderate },
	{ "POST", B "/rooms/{room}/participants/{id}/forwarders", true, STOA_REST_OPEN_NEVER,
	  stoa__rest_forwarder_create },
	{ "DELETE", B "/rooms/{room}/participants/{id}/forwarders/{stream_id}", false,
	  STOA_REST_OPEN_NEVER, stoa__rest_forwarder_delete },
	{ "GET", B "/rooms/{room}/forwarders", false, STOA_REST_OPEN_NEVER,
	  stoa__rest_forwarders_list },
	{ "GET", B "/sessions", false, STOA_REST_OPEN_NEVER, stoa__rest_sessions_list },
	{ "GET", B "/sessions/{session}", false, STOA_REST_OPEN_NEVER, stoa__rest_session_get },
	{ "DELETE", B "/sessions/{session}", false, STOA_REST_OPEN_NEVER,
	  stoa__rest_session_delete },
	{ "GET", B "/info", false, STOA_REST_OPEN_NEVER, stoa__rest_info },
	{ "GET", B "/health", false, STOA_REST_OPEN_HEALTH, stoa__rest_health },
	{ "GET", B "/ready", false, STOA_REST_OPEN_NEVER, stoa__rest_ready },
	{ "GET", STOA_REST_METRICS, false, STOA_REST_OPEN_METRICS, stoa__rest_metrics },
};
#undef B

/* ---------------------------------------------------------------- responses */

void stoa__rest_reply(stoa_rest_ctx *ctx, unsigned status, json_t *body)
{
	stoa_rest_response *resp = ctx->resp;

	if (resp->json != NULL)
		json_decref(resp->json);
	g_clear_pointer(&resp->text, g_free);
	resp->status = status;
	resp->json = body;
}

void stoa_rest_response_clear(stoa_rest_response *resp)
{
	if (resp->json != NULL)
		json_decref(resp->json);
	g_free(resp->text);
	g_free(resp->location);
	g_free(resp->allow);
	g_free(resp->www_authenticate);
	memset(resp, 0, sizeof(*resp));
}

void stoa_rest_refuse(const char *method, unsigned status, stoa_rest_response *resp)
{
	stoa_rest_err err = status == 413 ? STOA_REST_ERR_PAYLOAD_TOO_LARGE : STOA_REST_ERR_FORBIDDEN;

	memset(resp, 0, sizeof(*resp));
	resp->status = stoa__rest_err_status(err);
	resp->json = stoa__rest_error_body(err, NULL,
					   status == 413 ? "the request body is over the size limit"
							 : "the request's origin is not allowed");
	stoa_metrics_rest_request(method, resp->status);
}

/* ---------------------------------------------------------------- query */

const char *stoa__rest_query(const stoa_rest_ctx *ctx, const char *name)
{
	const stoa_rest_request *req = ctx->req;

	return req->query != NULL ? req->query(req->query_ctx, name) : NULL;
}

int stoa__rest_query_bool(stoa_rest_ctx *ctx, const char *name, bool *out)
{
	const char *v = stoa__rest_query(ctx, name);

	*out = false;
	if (v == NULL || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	stoa__rest_error(ctx, STOA_REST_ERR_INVALID_FIELD, name,
			 "query parameter %s must be true or false", name);
	return -1;
}

/* ---------------------------------------------------------------- routing */

bool stoa_rest_owns_path(const char *path)
{
	size_t n = strlen(STOA_REST_BASE);

	if (path == NULL)
		return false;
	if (strncmp(path, STOA_REST_BASE, n) == 0 && (path[n] == '\0' || path[n] == '/'))
		return true;
	return strcmp(path, STOA_REST_METRICS) == 0;
}

/* A path's non-empty segments: "/api/v1//rooms/" and "/api/v1/rooms" are
 * the same path, as they are for the Janus API. Free with g_strfreev. */
static char **segments(const char *path)
{
	char **parts = g_strsplit(path, "/", -1);
	guint n = 0;

	for (guint i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0')
			g_free(parts[i]);
		else
			parts[n++] = parts[i];
	}
	parts[n] = NULL;
	return parts;
}

/* Ids are what the core and the VideoRoom use: decimal, 1..2^63-1. */
static bool parse_id(const char *s, uint64_t *out)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 1, G_MAXINT64, &v, NULL))
		return false;
	*out = v;
	return true;
}

/* Does `path` (split) match `pattern`? Fills ids[] with the {…} segments. */
static bool match(char **path, const char *pattern, uint64_t *ids, size_t max_ids)
{
	char **pat = segments(pattern);
	size_t nids = 0;
	bool ok = g_strv_length(pat) == g_strv_length(path);

	for (guint i = 0; ok && pat[i] != NULL; i++) {
		if (pat[i][0] == '{')
			ok = nids < max_ids && parse_id(path[i], &ids[nids++]);
		else
			ok = strcmp(pat[i], path[i]) == 0;
	}
	g_strfreev(pat);
	return ok;
}

/* The methods routes allow on `path`, as an Allow header value; NULL if
 * no route has that path. */
static char *allowed_methods(char **path)
{
	GString *allow = NULL;
	uint64_t ids[G_N_ELEMENTS(((stoa_rest_ctx *)NULL)->ids)];

	for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
		if (!match(path, routes[i].pattern, ids, G_N_ELEMENTS(ids)))
			continue;
		if (allow == NULL)
			allow = g_string_new(routes[i].method);
		else
			g_string_append_printf(allow, ", %s", routes[i].method);
	}
	return allow != NULL ? g_string_free(allow, FALSE) : NULL;
}

/* The route for the request's method and path, with ids filled in; NULL
 * with the 404 or 405 response set. */
static const stoa_rest_route *route_find(stoa_rest_ctx *ctx)
{
	char **path = segments(ctx->req->path);
	const stoa_rest_route *found = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(routes) && found == NULL; i++)
		if (strcmp(routes[i].method, ctx->req->method) == 0 &&
		    match(path, routes[i].pattern, ctx->ids, G_N_ELEMENTS(ctx->ids)))
			found = &routes[i];
	if (found == NULL) {
		char *allow = allowed_methods(path);
		if (allow == NULL) {
			stoa__rest_error(ctx, STOA_REST_ERR_NOT_FOUND, NULL, "no such path: %s",
					 ctx->req->path);
		} else {
			stoa__rest_error(ctx, STOA_REST_ERR_METHOD_NOT_ALLOWED, NULL,
					 "%s is not allowed here (allowed: %s)", ctx->req->method,
					 allow);
			ctx->resp->allow = allow;
		}
	}
	g_strfreev(path);
	return found;
}

/* ---------------------------------------------------------------- bodies */

/* application/json, with parameters (charset) allowed; a PATCH may also
 * say application/merge-patch+json (RFC 7396), which is what it means. */
static bool json_content_type(const char *method, const char *value)
{
	char *type;
	bool ok;

	if (value == NULL)
		return false;
	type = g_ascii_strdown(value, -1);
	if (strchr(type, ';') != NULL)
		*strchr(type, ';') = '\0';
	g_strstrip(type);
	ok = strcmp(type, "application/json") == 0 ||
	     (strcmp(method, "PATCH") == 0 && strcmp(type, "application/merge-patch+json") == 0);
	g_free(type);
	return ok;
}

/* Parses the body of a route that takes one into ctx->body. Returns 0, or
 * -1 with 415/400 set. Bodies sent to routes that take none are ignored,
 * as HTTP allows. */
static int read_body(stoa_rest_ctx *ctx)
{
	const stoa_rest_request *req = ctx->req;
	json_error_t jerr;

	if (req->body_len == 0) {
		ctx->body = json_object();
		return 0;
	}
	if (!json_content_type(req->method, req->content_type)) {
		stoa__rest_error(ctx, STOA_REST_ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
				 "the body must be application/json (got %s)",
				 req->content_type != NULL ? req->content_type : "no Content-Type");
		return -1;
	}
	ctx->body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (ctx->body == NULL) {
		stoa__rest_error(ctx, STOA_REST_ERR_INVALID_JSON, NULL,
				 "the body is not valid JSON: line %d, column %d: %s", jerr.line,
				 jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(ctx->body)) {
		stoa__rest_error(ctx, STOA_REST_ERR_INVALID_JSON, NULL,
				 "the body must be a JSON object");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- entry */

static void log_request(const stoa_rest_ctx *ctx)
{
	const stoa_rest_request *req = ctx->req;
	/* Changes are logged at info level: they are what an operator audits. */
	int level = strcmp(req->method, "GET") == 0 || ctx->resp->status >= 400 ? STOA_LOG_VERB
										   : STOA_LOG_INFO;

	STOA_LOG(level, "%s: %s %s -> %u", req->peer != NULL ? req->peer : "?", req->method,
		 req->path, ctx->resp->status);
}

void stoa_rest_handle(const stoa_rest_request *req, stoa_rest_response *resp)
{
	stoa_rest_ctx ctx = { .req = req, .resp = resp };
	const stoa_rest_route *route = route_find(&ctx);

	if (route != NULL && stoa__rest_authorize(&ctx, route) == 0 &&
	    (!route->body || read_body(&ctx) == 0))
		route->fn(&ctx);
	if (resp->status == 0)
		stoa__rest_error(&ctx, STOA_REST_ERR_INTERNAL, NULL, "the handler gave no answer");
	log_request(&ctx);
	stoa_metrics_rest_request(req->method, resp->status);
	if (ctx.body != NULL)
		json_decref(ctx.body);
}
