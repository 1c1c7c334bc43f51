/*
 * test_auth.c: api_secret, stored tokens and HMAC-signed tokens (core/auth.c),
 * and the constant-time secret comparison and ids (core/ids.c).
 */
#include <glib.h>
#include <string.h>

#include "core/auth.h"
#include "core/ids.h"

/* A signed token as a client builds it: data ":" base64(HMAC-SHA1(secret, data)). */
static char *sign(const char *secret, const char *data)
{
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
	g_hmac_update(h, (const guchar *)data, -1);
	guint8 d[20];
	gsize n = sizeof(d);
	g_hmac_get_digest(h, d, &n);
	g_hmac_unref(h);
	char *b64 = g_base64_encode(d, n);
	char *tok = g_strdup_printf("%s:%s", data, b64);
	g_free(b64);
	return tok;
}

static void test_secret_equal(void)
{
	g_assert_true(stoa_secret_equal("abc", "abc"));
	g_assert_false(stoa_secret_equal("abc", "abd"));
	g_assert_false(stoa_secret_equal("abc", "abcd"));
	g_assert_false(stoa_secret_equal("abcd", "abc"));
	g_assert_false(stoa_secret_equal(NULL, "abc"));
	g_assert_false(stoa_secret_equal("abc", NULL));
	g_assert_true(stoa_secret_equal("", ""));
}

static void test_ids(void)
{
	for (int i = 0; i < 10000; i++) {
		uint64_t id = stoa_id_random();
		g_assert_cmpuint(id, >, 0);
		g_assert_cmpuint(id, <=, STOA_ID_MAX);
		g_assert_cmpuint(stoa_id_random32(), >, 0);
	}
}

static void test_open(void)
{
	stoa_auth_init(NULL, false, NULL);
	g_assert_false(stoa_auth_enabled());
	g_assert_true(stoa_auth_check(NULL, NULL));
	g_assert_true(stoa_auth_check_plugin(NULL, "janus.plugin.echotest"));
	stoa_auth_cleanup();
}

static void test_api_secret(void)
{
	stoa_auth_init("s3cret", false, NULL);
	g_assert_true(stoa_auth_enabled());
	g_assert_true(stoa_auth_check("s3cret", NULL));
	g_assert_false(stoa_auth_check("wrong", NULL));
	g_assert_false(stoa_auth_check(NULL, NULL));
	g_assert_false(stoa_auth_check(NULL, "s3cret")); /* a token is not a secret */
	stoa_auth_cleanup();
}

static void test_stored_tokens(void)
{
	stoa_auth_init(NULL, true, NULL);
	g_assert_true(stoa_auth_stored_tokens());
	g_assert_false(stoa_auth_check(NULL, "t1"));
	json_t *plugins = json_pack("[s]", "janus.plugin.echotest");
	stoa_auth_token_add("t1", plugins);
	json_decref(plugins);
	g_assert_true(stoa_auth_check(NULL, "t1"));
	g_assert_true(stoa_auth_check_plugin("t1", "janus.plugin.echotest"));
	g_assert_false(stoa_auth_check_plugin("t1", "janus.plugin.videoroom"));

	json_t *more = json_pack("[s]", "janus.plugin.videoroom");
	g_assert_cmpint(stoa_auth_token_allow("t1", more), ==, 0);
	g_assert_true(stoa_auth_check_plugin("t1", "janus.plugin.videoroom"));
	g_assert_cmpint(stoa_auth_token_disallow("t1", more), ==, 0);
	g_assert_false(stoa_auth_check_plugin("t1", "janus.plugin.videoroom"));
	g_assert_cmpint(stoa_auth_token_allow("nope", more), <, 0);
	json_decref(more);

	json_t *list = stoa_auth_token_list();
	g_assert_cmpuint(json_array_size(list), ==, 1);
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(list, 0), "token")), ==, "t1");
	json_decref(list);

	g_assert_cmpint(stoa_auth_token_remove("t1"), ==, 0);
	g_assert_cmpint(stoa_auth_token_remove("t1"), <, 0);
	g_assert_false(stoa_auth_check(NULL, "t1"));
	stoa_auth_cleanup();
}

static void test_signed_token(void)
{
	const char *key = "janus";
	char *good = sign(key, "2000000000,janus,janus.plugin.echotest");
	g_assert_true(stoa_auth_signed_token_valid(good, key, "janus", NULL, 1700000000));
	g_assert_true(stoa_auth_signed_token_valid(good, key, "janus", "janus.plugin.echotest",
						   1700000000));
	g_assert_false(stoa_auth_signed_token_valid(good, key, "janus", "janus.plugin.videoroom",
						    1700000000));
	g_assert_false(stoa_auth_signed_token_valid(good, key, "other", NULL, 1700000000));
	/* Expired. */
	g_assert_false(stoa_auth_signed_token_valid(good, key, "janus", NULL, 2000000001));
	/* Wrong key. */
	g_assert_false(stoa_auth_signed_token_valid(good, "other", "janus", NULL, 1700000000));
	/* Tampered data: the HMAC covers the whole data part, realm and descriptors too. */
	char *tampered = g_strdup(good);
	tampered[0] = '3';
	g_assert_false(stoa_auth_signed_token_valid(tampered, key, "janus", NULL, 1700000000));
	g_free(tampered);
	g_free(good);

	const char *malformed[] = { "", ":", "nocolon", "2000000000,janus:", "abc,janus:xx",
				    "2000000000:sig", "1,janus:a:b", "-5,janus:sig" };
	for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++)
		g_assert_false(stoa_auth_signed_token_valid(malformed[i], key, "janus", NULL, 0));
}

static void test_signed_mode(void)
{
	stoa_auth_init(NULL, true, "k3y");
	g_assert_false(stoa_auth_stored_tokens());
	char *tok = sign("k3y", "4000000000,janus,janus.plugin.echotest");
	g_assert_true(stoa_auth_check(NULL, tok));
	g_assert_true(stoa_auth_check_plugin(tok, "janus.plugin.echotest"));
	g_assert_false(stoa_auth_check_plugin(tok, "janus.plugin.videocall"));
	g_free(tok);
	stoa_auth_cleanup();
}

static void test_secret_or_token(void)
{
	stoa_auth_init("s3cret", true, NULL);
	json_t *none = json_array();
	stoa_auth_token_add("t", none);
	json_decref(none);
	g_assert_true(stoa_auth_check("s3cret", NULL));
	g_assert_true(stoa_auth_check(NULL, "t"));
	g_assert_true(stoa_auth_check("wrong", "t"));
	g_assert_false(stoa_auth_check("wrong", "u"));
	stoa_auth_cleanup();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ids/secret_equal", test_secret_equal);
	g_test_add_func("/ids/random", test_ids);
	g_test_add_func("/auth/open", test_open);
	g_test_add_func("/auth/api_secret", test_api_secret);
	g_test_add_func("/auth/stored_tokens", test_stored_tokens);
	g_test_add_func("/auth/signed_token", test_signed_token);
	g_test_add_func("/auth/signed_mode", test_signed_mode);
	g_test_add_func("/auth/secret_or_token", test_secret_or_token);
	return g_test_run();
}
