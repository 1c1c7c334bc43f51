/*
 * test_rest.c: unit tests for the REST API's request path (src/api/rest*.c)
 * without sockets or plugins: routing (404, 405 with Allow), Bearer tokens
 * and scopes (401 with WWW-Authenticate, 403), open endpoints, bodies (415,
 * invalid JSON), the one error shape, every error's row in the table, and
 * the count of answers in stoa_api_requests_total (method and status only).
 * No plugin is loaded, so room requests answer 503 — the point where the
 * VideoRoom would be called.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "api/rest.h"
#include "api/rest_internal.h"
#include "core/conf.h"
#include "core/config.h"
#include "core/metrics.h"

static stoa_config cfg;

static const char *no_query(void *ctx, const char *name)
{
	return NULL;
}

/* Runs one request; the caller clears the response. */
static void run(stoa_rest_response *resp, const char *method, const char *path,
		const char *token, const char *ctype, const char *body)
{
	char *auth = token != NULL ? g_strdup_printf("Bearer %s", token) : NULL;
	stoa_rest_request req = {
		.method = method,
		.path = path,
		.authorization = auth,
		.content_type = ctype,
		.body = (const uint8_t *)body,
		.body_len = body != NULL ? strlen(body) : 0,
		.peer = "test",
		.query = no_query,
	};

	memset(resp, 0, sizeof(*resp));
	stoa_rest_handle(&req, resp);
	g_free(auth);
}

/* Asserts an error response with this status and code. */
static void assert_error(const stoa_rest_response *resp, unsigned status, const char *code)
{
	json_t *e = json_object_get(resp->json, "error");

	g_assert_cmpuint(resp->status, ==, status);
	g_assert_nonnull(e);
	g_assert_cmpint(json_integer_value(json_object_get(e, "status")), ==, status);
	g_assert_cmpstr(json_string_value(json_object_get(e, "code")), ==, code);
	g_assert_nonnull(json_string_value(json_object_get(e, "message")));
}

static void test_owns_path(void)
{
	g_assert_true(stoa_rest_owns_path("/api/v1"));
	g_assert_true(stoa_rest_owns_path("/api/v1/rooms"));
	g_assert_true(stoa_rest_owns_path("/metrics"));
	g_assert_false(stoa_rest_owns_path("/api/v10"));
	g_assert_false(stoa_rest_owns_path("/api"));
	g_assert_false(stoa_rest_owns_path("/metrics/x"));
	g_assert_false(stoa_rest_owns_path("/janus"));
	g_assert_false(stoa_rest_owns_path(NULL));
}

static void test_routing(void)
{
	stoa_rest_response r;

	run(&r, "GET", "/api/v1/nope", "w", NULL, NULL);
	assert_error(&r, 404, "not_found");
	g_assert_null(r.allow);
	stoa_rest_response_clear(&r);
	run(&r, "GET", "/api/v1/rooms/abc", "w", NULL, NULL);
	assert_error(&r, 404, "not_found");
	stoa_rest_response_clear(&r);
	/* 405 comes before the token is looked at. */
	run(&r, "PUT", "/api/v1/rooms/5", NULL, NULL, NULL);
	assert_error(&r, 405, "method_not_allowed");
	g_assert_cmpstr(r.allow, ==, "GET, PATCH, DELETE");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1//rooms/5/participants/6/moderate/", "r", NULL, NULL);
	assert_error(&r, 403, "insufficient_scope"); /* empty segments do not matter */
	stoa_rest_response_clear(&r);
}

static void test_auth(void)
{
	stoa_rest_response r;

	run(&r, "GET", "/api/v1/rooms", NULL, NULL, NULL);
	assert_error(&r, 401, "unauthorized");
	g_assert_cmpstr(r.www_authenticate, ==, "Bearer realm=\"stoa\"");
	stoa_rest_response_clear(&r);
	run(&r, "GET", "/api/v1/rooms", "nope", NULL, NULL);
	assert_error(&r, 401, "unauthorized");
	g_assert_cmpstr(r.www_authenticate, ==, "Bearer realm=\"stoa\", error=\"invalid_token\"");
	stoa_rest_response_clear(&r);
	run(&r, "DELETE", "/api/v1/rooms/1", "r", NULL, NULL);
	assert_error(&r, 403, "insufficient_scope");
	g_assert_nonnull(strstr(r.www_authenticate, "scope=\"write\""));
	stoa_rest_response_clear(&r);
	/* The admin_secret has every scope; no plugin, so 503 is as far as it goes. */
	run(&r, "DELETE", "/api/v1/rooms/1", "secret", NULL, NULL);
	assert_error(&r, 503, "unavailable");
	stoa_rest_response_clear(&r);
	run(&r, "GET", "/api/v1/rooms", "r", NULL, NULL);
	assert_error(&r, 503, "unavailable");
	stoa_rest_response_clear(&r);
	/* Health is closed by default, open when configured. */
	run(&r, "GET", "/api/v1/health", NULL, NULL, NULL);
	assert_error(&r, 401, "unauthorized");
	stoa_rest_response_clear(&r);
	cfg.rest_open_health = true;
	run(&r, "GET", "/api/v1/health", NULL, NULL, NULL);
	g_assert_cmpuint(r.status, ==, 200);
	g_assert_cmpstr(json_string_value(json_object_get(r.json, "status")), ==, "ok");
	stoa_rest_response_clear(&r);
	cfg.rest_open_health = false;
}

static void test_bodies(void)
{
	stoa_rest_response r;

	run(&r, "POST", "/api/v1/rooms", "w", "text/plain", "{}");
	assert_error(&r, 415, "unsupported_media_type");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1/rooms", "w", NULL, "{}");
	assert_error(&r, 415, "unsupported_media_type");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1/rooms", "w", "application/json", "{\"a\":");
	assert_error(&r, 400, "invalid_json");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1/rooms", "w", "application/json", "[]");
	assert_error(&r, 400, "invalid_json");
	stoa_rest_response_clear(&r);
	/* Fields are checked before the plugin is called. */
	run(&r, "POST", "/api/v1/rooms", "w", "application/json; charset=UTF-8",
	    "{\"publishers\":\"3\"}");
	assert_error(&r, 400, "invalid_field");
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
			==, "publishers");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1/rooms", "w", "application/json", "{\"nope\":1}");
	assert_error(&r, 400, "unknown_field");
	stoa_rest_response_clear(&r);
	run(&r, "POST", "/api/v1/rooms/1/participants/2/moderate", "w", NULL, NULL);
	assert_error(&r, 400, "missing_field");
	stoa_rest_response_clear(&r);
}

static void test_scopes(void)
{
	g_assert_cmpint(stoa_config_rest_scopes("read"), ==, STOA_REST_SCOPE_READ);
	g_assert_cmpint(stoa_config_rest_scopes("write"), ==,
			STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE);
	g_assert_cmpint(stoa_config_rest_scopes(" read, write "), ==,
			STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE);
	g_assert_cmpint(stoa_config_rest_scopes("read write"), ==,
			STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE);
	g_assert_cmpint(stoa_config_rest_scopes(""), ==, -1);
	g_assert_cmpint(stoa_config_rest_scopes(NULL), ==, -1);
	g_assert_cmpint(stoa_config_rest_scopes("read,admin"), ==, -1);
	g_assert_cmpint(stoa_config_rest_scopes("READ"), ==, -1);
}

static void test_error_table(void)
{
	/* Every error has its row, in enum order (rest_errors.c relies on it). */
	for (int e = STOA_REST_ERR_INVALID_JSON; e <= STOA_REST_ERR_NOT_READY; e++) {
		json_t *body = stoa__rest_error_body((stoa_rest_err)e, "f", "m");
		json_t *o = json_object_get(body, "error");
		unsigned status = stoa__rest_err_status((stoa_rest_err)e);
		g_assert_cmpuint(status, >=, 400);
		g_assert_cmpint(json_integer_value(json_object_get(o, "status")), ==, status);
		g_assert_cmpuint(json_object_size(o), ==, 4);
		json_decref(body);
	}
	stoa_rest_response r;
	stoa_rest_refuse("POST", 413, &r);
	assert_error(&r, 413, "payload_too_large");
	stoa_rest_response_clear(&r);
	stoa_rest_refuse("GET", 403, &r);
	assert_error(&r, 403, "forbidden");
	stoa_rest_response_clear(&r);
}

/* How often the metrics text says REST answered `verb` with `code`. */
static unsigned rest_count(const char *verb, const char *code)
{
	char *text = stoa_metrics_render();
	char *key = g_strdup_printf("stoa_api_requests_total{api=\"rest\",verb=\"%s\",code=\"%s\"} ",
				    verb, code);
	const char *at = strstr(text, key);
	unsigned n = at != NULL ? (unsigned)strtoul(at + strlen(key), NULL, 10) : 0;

	g_free(key);
	g_free(text);
	return n;
}

/* Every answer is counted by method and status, never by path: made-up
 * paths and methods cannot grow the metrics' label set. */
static void test_metrics(void)
{
	stoa_rest_response r;
	unsigned get404 = rest_count("GET", "404"), unknown405 = rest_count("unknown", "405");
	unsigned post413 = rest_count("POST", "413");

	for (int i = 0; i < 3; i++) {
		char *path = g_strdup_printf("/api/v1/made-up-%d", i);
		run(&r, "GET", path, "r", NULL, NULL);
		g_assert_cmpuint(r.status, ==, 404);
		stoa_rest_response_clear(&r);
		g_free(path);
	}
	run(&r, "FROBNICATE", "/api/v1/info", "r", NULL, NULL);
	g_assert_cmpuint(r.status, ==, 405);
	stoa_rest_response_clear(&r);
	stoa_rest_refuse("POST", 413, &r);
	stoa_rest_response_clear(&r);
	g_assert_cmpuint(rest_count("GET", "404"), ==, get404 + 3);
	g_assert_cmpuint(rest_count("unknown", "405"), ==, unknown405 + 1);
	g_assert_cmpuint(rest_count("POST", "413"), ==, post413 + 1);
	char *text = stoa_metrics_render();
	g_assert_null(strstr(text, "made-up"));
	g_assert_null(strstr(text, "FROBNICATE"));
	g_free(text);
}

int main(int argc, char **argv)
{
	static char r[] = "r", w[] = "w", read[] = "read", write[] = "write";
	static stoa_config_token reader = { r, read, STOA_REST_SCOPE_READ };
	static stoa_config_token writer = { w, write, STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE };
	int rc;

	g_test_init(&argc, &argv, NULL);
	stoa_config_init(&cfg);
	stoa_conf_set_string(&cfg.admin_secret, "secret");
	cfg.rest_tokens = g_ptr_array_new();
	g_ptr_array_add(cfg.rest_tokens, &reader);
	g_ptr_array_add(cfg.rest_tokens, &writer);
	stoa_config_set_current(&cfg);

	g_test_add_func("/rest/owns_path", test_owns_path);
	g_test_add_func("/rest/routing", test_routing);
	g_test_add_func("/rest/auth", test_auth);
	g_test_add_func("/rest/bodies", test_bodies);
	g_test_add_func("/rest/scopes", test_scopes);
	g_test_add_func("/rest/error_table", test_error_table);
	g_test_add_func("/rest/metrics", test_metrics);
	rc = g_test_run();

	g_ptr_array_free(cfg.rest_tokens, TRUE);
	cfg.rest_tokens = NULL;
	stoa_config_set_current(NULL);
	stoa_config_free(&cfg);
	return rc;
}
