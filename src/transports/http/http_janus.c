/*
 * http_janus.c: the Janus API and the Admin API over HTTP
 * (janus-api-compat.md §4.2 and §4.5).
 *
 * POST <base>[/<session>[/<handle>]] carries one JSON request; ids in the
 * path are copied into the body. GET <base>/info and <base>/ping answer
 * without a body; GET <base>/<session> is the long poll (http_longpoll.c);
 * GET <base>/<session>/<handle> redirects there. The Admin API has the same
 * paths under admin_base_path, on its own listener, without the long poll.
 *
 * Every JSON reply, errors included, is HTTP 200 application/json; other
 * status codes mean the path or the method is wrong (400, 404) or the
 * request is not allowed (403).
 *
 * Threads: libmicrohttpd connection threads. Each request runs the core's
 * stoa_api_handle() on its own thread, through a tconn made for it alone.
 */
#include <string.h>

#include "api/api.h"
#include "api/errors.h"
#include "core/log.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

/* Janus ids fit in 53 bits; anything up to INT64_MAX survives json_int_t. */
int stoa__http_parse_id(const char *s, uint64_t *out)
{
	guint64 v;

	if (s == NULL || !g_ascii_string_to_unsigned(s, 10, 1, G_MAXINT64, &v, NULL))
		return -1;
	*out = v;
	return 0;
}

json_t *stoa__http_api_call(const stoa__http_request *req, bool admin, json_t *request)
{
	/* A plain request tconn: its data is NULL, which tells send() apart
	 * from a long-poll queue. The reply comes back as the return value. */
	stoa_tconn *conn = stoa_tconn_new(&stoa__http_transport, NULL, admin, req->peer);
	json_t *reply = stoa_api_handle(conn, request);

	stoa_tconn_unref(conn);
	return reply;
}

static const char *transaction_of(json_t *request)
{
	return json_string_value(json_object_get(request, "transaction"));
}

/* Copies a path id into `field` when the body has none (a non-integer value
 * counts as none, as the core would ignore it). Returns -1 on conflict. */
static int merge_id(json_t *request, const char *field, uint64_t path_id)
{
	json_t *v = json_object_get(request, field);

	if (path_id == 0)
		return 0;
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v) == path_id ? 0 : -1;
	json_object_set_new(request, field, json_integer((json_int_t)path_id));
	return 0;
}

/* Parses a POST body and applies the path ids. Returns the request, or NULL
 * with the error reply in `*reply`. */
static json_t *parse_request(const stoa__http_request *req, uint64_t sid, uint64_t hid,
			     json_t **reply)
{
	json_error_t jerr;
	json_t *request = json_loadb((const char *)req->body->data, req->body->len, 0, &jerr);

	if (request == NULL) {
		*reply = stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON, "JSON error: on line %d: %s",
					jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(request)) {
		*reply = stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON_OBJECT, NULL);
	} else if (merge_id(request, "session_id", sid) < 0) {
		*reply = stoa_api_error(sid, transaction_of(request), STOA_ERR_INVALID_REQUEST_PATH,
					"Conflicting session ID (payload and path)");
	} else if (merge_id(request, "handle_id", hid) < 0) {
		*reply = stoa_api_error(sid, transaction_of(request), STOA_ERR_INVALID_REQUEST_PATH,
					"Conflicting handle ID (payload and path)");
	} else {
		return request;
	}
	json_decref(request);
	return NULL;
}

static STOA_MHD_RESULT handle_post(struct MHD_Connection *c, const stoa__http_request *req,
				   bool admin, char **parts, guint n)
{
	uint64_t sid = 0, hid = 0;
	json_t *request, *reply = NULL;

	/* An empty POST gets no answer at all, as with Janus. */
	if (req->body == NULL || req->body->len == 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 10, "%s: empty POST, closing", req->peer);
		return MHD_NO;
	}
	if ((n >= 1 && stoa__http_parse_id(parts[0], &sid) < 0) ||
	    (n >= 2 && stoa__http_parse_id(parts[1], &hid) < 0))
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	request = parse_request(req, sid, hid, &reply);
	if (request != NULL) {
		reply = stoa__http_api_call(req, admin, request);
		json_decref(request);
	}
	return stoa__http_respond_json(c, reply);
}

/* GET <base>/<session>[/<handle>] on the Janus API. */
static STOA_MHD_RESULT handle_get(struct MHD_Connection *c, const stoa__http_request *req,
				  char **parts, guint n)
{
	uint64_t sid, hid;
	struct MHD_Response *resp;
	char *location;

	if (n == 0 || stoa__http_parse_id(parts[0], &sid) < 0)
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	if (n == 1)
		return stoa__http_longpoll(c, req, sid);
	/* Events are per session, so a handle's GET polls its session. */
	if (stoa__http_parse_id(parts[1], &hid) < 0)
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	location = g_strdup_printf("%s/%" G_GUINT64_FORMAT, stoa__http_conf.base_path, sid);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	g_free(location);
	return stoa__http_queue(c, MHD_HTTP_FOUND, resp);
}

/* <base>/info and <base>/ping, which need no request body. A GET is run as
 * the equivalent request with a random transaction, so its reply has the
 * same shape as a POSTed info/ping (clients parse both the same way). */
static STOA_MHD_RESULT handle_endpoint(struct MHD_Connection *c, const stoa__http_request *req,
				       bool admin, bool info, const char *method)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
		char transaction[13];
		for (size_t i = 0; i < sizeof(transaction) - 1; i++)
			transaction[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[g_random_int_range(0, 36)];
		transaction[sizeof(transaction) - 1] = '\0';
		json_t *request = json_pack("{s:s,s:s}", "janus", info ? "info" : "ping",
					    "transaction", transaction);
		json_t *reply = stoa__http_api_call(req, admin, request);
		json_decref(request);
		return stoa__http_respond_json(c, reply);
	}
	if (!admin)
		return stoa__http_respond_empty(c, MHD_HTTP_BAD_REQUEST);
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return stoa__http_respond_json(
			c, stoa_api_error(0, NULL, STOA_ERR_TRANSPORT_SPECIFIC,
					  "Use GET for the %s endpoint", info ? "info" : "ping"));
	return stoa__http_respond_json(c, stoa_api_error(0, NULL, STOA_ERR_TRANSPORT_SPECIFIC,
							 "Unsupported method %s", method));
}

STOA_MHD_RESULT stoa__http_janus_handle(struct MHD_Connection *c, stoa__http_request *req,
					const char *method)
{
	bool admin = req->route == STOA_HTTP_ROUTE_ADMIN;
	/* Empty components are dropped, so "/janus/" is "/janus". */
	char **parts = g_strsplit(req->subpath, "/", -1);
	char **kept = g_new0(char *, g_strv_length(parts) + 1);
	guint n = 0;
	STOA_MHD_RESULT ret;

	for (char **p = parts; *p != NULL; p++)
		if (**p != '\0')
			kept[n++] = *p;
	if (n > 2)
		ret = stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	else if (n == 1 && (strcmp(kept[0], "info") == 0 || strcmp(kept[0], "ping") == 0))
		ret = handle_endpoint(c, req, admin, strcmp(kept[0], "info") == 0, method);
	else if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		ret = handle_post(c, req, admin, kept, n);
	else if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 && admin)
		ret = stoa__http_respond_json(c, stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON,
								"Request payload missing"));
	else if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		ret = handle_get(c, req, kept, n);
	else
		ret = stoa__http_respond_json(c, stoa_api_error(0, NULL, STOA_ERR_TRANSPORT_SPECIFIC,
								"Unsupported method %s", method));
	g_free(kept);
	g_strfreev(parts);
	return ret;
}
