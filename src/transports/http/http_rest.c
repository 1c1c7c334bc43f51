/*
 * http_rest.c: the REST admin API (src/api/rest.c) on libmicrohttpd.
 *
 * Where it is served: /api/v1/... and /metrics on the admin listener(s),
 * next to /admin, and on the Janus API listener(s) too when stoa.jcfg says
 * rest_api.on_main_port = true; nowhere when rest_api.enabled = false.
 * This file only translates: the request's method, path, headers, query
 * and body into a stoa_rest_request, and the stoa_rest_response back into
 * a status, headers and a body. CORS headers are added by
 * stoa__http_queue() as for every other response; responses are marked
 * Cache-Control: no-store, since they carry live, token-protected state.
 *
 * Threads: stoa__http_rest_here() on any; the rest on the request's
 * libmicrohttpd connection thread, which the REST handler may block for a
 * moment (plugin calls, per-loop stats).
 */
#include <string.h>

#include "api/api.h"
#include "api/rest.h"
#include "core/config.h"
#include "core/log.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

bool stoa__http_rest_here(const stoa__http_listener *l, const char *url)
{
	const stoa_config *c = stoa_config_get();

	if (c == NULL || !c->rest_enabled || !stoa_rest_owns_path(url))
		return false;
	return l->admin || c->rest_on_main_port;
}

void stoa__http_rest_announce(const char *run_token)
{
	const stoa_config *c = stoa_config_get();

	if (c == NULL || !c->rest_enabled)
		return;
	STOA_LOG(STOA_LOG_INFO, "REST API at %s and %s on the admin listener%s", STOA_REST_BASE,
		 STOA_REST_METRICS, c->rest_on_main_port ? " and the API listener" : "");
	if (run_token != NULL)
		STOA_LOG(STOA_LOG_WARN,
			 "REST API: no rest_api.tokens and no admin_secret, so this run's token "
			 "(read, write) is %s; admin dashboard: http://localhost:%d/admin.html#token=%s",
			 run_token, stoa__http_conf.port, run_token);
}

static const char *query_arg(void *query_ctx, const char *name)
{
	return MHD_lookup_connection_value(query_ctx, MHD_GET_ARGUMENT_KIND, name);
}

static STOA_MHD_RESULT send_response(struct MHD_Connection *c, stoa_rest_response *r)
{
	struct MHD_Response *resp;
	char *text = NULL;
	const char *type = NULL;
	STOA_MHD_RESULT ret;

	if (r->json != NULL) {
		text = stoa_api_dump(r->json);
		type = "application/json";
	} else if (r->text != NULL) {
		text = g_strdup(r->text);
		type = r->content_type;
	}
	/* Copy so that MHD frees with its allocator and we with ours. */
	resp = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
					       text != NULL ? text : (void *)"",
					       MHD_RESPMEM_MUST_COPY);
	g_free(text);
	if (resp == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->location != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->www_authenticate != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
	ret = stoa__http_queue(c, r->status, resp);
	stoa_rest_response_clear(r);
	return ret;
}

STOA_MHD_RESULT stoa__http_rest_handle(struct MHD_Connection *c, const stoa__http_request *req,
				       const char *url, const char *method)
{
	stoa_rest_request rr = {
		.method = method,
		.path = url,
		.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_AUTHORIZATION),
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = req->body != NULL ? req->body->data : NULL,
		.body_len = req->body != NULL ? req->body->len : 0,
		.peer = req->peer,
		.query = query_arg,
		.query_ctx = c,
	};
	stoa_rest_response resp = { 0 };

	stoa_rest_handle(&rr, &resp);
	return send_response(c, &resp);
}

STOA_MHD_RESULT stoa__http_rest_refuse(struct MHD_Connection *c, const char *method,
				       unsigned status)
{
	stoa_rest_response resp;

	stoa_rest_refuse(method, status, &resp);
	return send_response(c, &resp);
}
