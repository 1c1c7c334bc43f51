/*
 * test_params.c: table-driven request validation (api/params.c) and the
 * Janus error table (api/errors.c).
 */
#include <glib.h>

#include "api/errors.h"
#include "api/params.h"

static const stoa_param table[] = {
	{ "plugin", STOA_PARAM_STRING, 1 },
	{ "opaque_id", STOA_PARAM_NONEMPTY_STRING, 0 },
	{ "loop_index", STOA_PARAM_POSITIVE, 0 },
	{ "audio", STOA_PARAM_BOOL, 0 },
	{ "body", STOA_PARAM_OBJECT, 0 },
	{ "list", STOA_PARAM_ARRAY, 0 },
	{ "delta", STOA_PARAM_INTEGER, 0 },
};

static int check(const char *json, char *err, size_t errlen)
{
	json_t *obj = json_loads(json, 0, NULL);
	g_assert_nonnull(obj);
	int rc = STOA_PARAMS_CHECK(obj, table, 456, 467, err, errlen);
	json_decref(obj);
	return rc;
}

static void test_ok(void)
{
	char err[128] = "";
	g_assert_cmpint(check("{\"plugin\":\"p\"}", err, sizeof(err)), ==, 0);
	g_assert_cmpint(check("{\"plugin\":\"p\",\"opaque_id\":\"x\",\"loop_index\":0,\"audio\":false,"
			      "\"body\":{},\"list\":[],\"delta\":-3,\"extra\":1}", err, sizeof(err)), ==, 0);
}

static void test_missing(void)
{
	char err[128];
	g_assert_cmpint(check("{}", err, sizeof(err)), ==, 456);
	g_assert_cmpstr(err, ==, "Missing mandatory element (plugin)");
}

static void test_invalid(void)
{
	static const struct {
		const char *json, *text;
	} cases[] = {
		{ "{\"plugin\":1}", "Invalid element type (plugin should be a string)" },
		{ "{\"plugin\":\"p\",\"opaque_id\":\"\"}", "Invalid element type (opaque_id should be a non-empty string)" },
		{ "{\"plugin\":\"p\",\"loop_index\":-1}", "Invalid element type (loop_index should be a positive integer)" },
		{ "{\"plugin\":\"p\",\"loop_index\":1.5}", "Invalid element type (loop_index should be a positive integer)" },
		{ "{\"plugin\":\"p\",\"audio\":1}", "Invalid element type (audio should be a boolean)" },
		{ "{\"plugin\":\"p\",\"audio\":\"true\"}", "Invalid element type (audio should be a boolean)" },
		{ "{\"plugin\":\"p\",\"body\":[]}", "Invalid element type (body should be an object)" },
		{ "{\"plugin\":\"p\",\"list\":{}}", "Invalid element type (list should be an array)" },
		{ "{\"plugin\":\"p\",\"delta\":null}", "Invalid element type (delta should be an integer)" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char err[128];
		g_assert_cmpint(check(cases[i].json, err, sizeof(err)), ==, 467);
		g_assert_cmpstr(err, ==, cases[i].text);
	}
}

static void test_error_reasons(void)
{
	g_assert_cmpstr(stoa_api_error_reason(STOA_ERR_SESSION_NOT_FOUND), ==, "Session not found");
	g_assert_cmpstr(stoa_api_error_reason(STOA_ERR_UNAUTHORIZED), ==,
			"Unauthorized request (wrong or missing secret/token)");
	g_assert_cmpstr(stoa_api_error_reason(STOA_ERR_NOT_ACCEPTING_SESSIONS), ==,
			"Currently not accepting new sessions");
	g_assert_cmpstr(stoa_api_error_reason(12345), ==, "Unknown error");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/params/ok", test_ok);
	g_test_add_func("/params/missing", test_missing);
	g_test_add_func("/params/invalid", test_invalid);
	g_test_add_func("/errors/reasons", test_error_reasons);
	return g_test_run();
}
