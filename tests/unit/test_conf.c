/*
 * test_conf.c: unit tests for src/core/conf.c, the schema-driven .jcfg reader.
 *
 * Covers the value spellings Janus users write, the exact shape of error
 * messages (file, line, section.key), the warnings for unknown settings
 * (captured through the log file), and that strings are freed (the suite
 * runs under LeakSanitizer).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "core/conf.h"
#include "core/log.h"
#include "stoa/conf_words.h"

typedef struct test_conf {
	bool http;
	bool https;
	int port;
	int session_timeout;
	int offset;
	int version;
	char *interface;
	char *server_name;
	char *admin_secret;
} test_conf;

static const stoa_conf_key keys[] = {
	STOA_CONF_KEY_INT(NULL, "version", test_conf, version, 1, 3),
	STOA_CONF_KEY_BOOL("general", "http", test_conf, http),
	STOA_CONF_KEY_BOOL("general", "https", test_conf, https),
	STOA_CONF_KEY_INT("general", "port", test_conf, port, 1, 65535),
	STOA_CONF_KEY_INT("general", "session_timeout", test_conf, session_timeout, 0, 86400),
	STOA_CONF_KEY_INT("general", "offset", test_conf, offset, -10, 10),
	STOA_CONF_KEY_STR("general", "interface", test_conf, interface),
	STOA_CONF_KEY_STR("general", "server_name", test_conf, server_name),
	STOA_CONF_KEY_STR("admin", "admin_secret", test_conf, admin_secret),
};

static char *log_path; /* the warnings land here too */
static char *tmp_dir;

static void conf_defaults(test_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->http = true;
	c->port = 8088;
	c->session_timeout = 60;
	c->version = 2;
	c->server_name = g_strdup("default-name");
}

/* Loads `text` as "test.jcfg" into c (defaults first); returns the result. */
static int load(test_conf *c, const char *text, char *err, size_t errlen)
{
	conf_defaults(c);
	err[0] = '\0';
	return stoa_conf_load_string(text, "test.jcfg", keys, G_N_ELEMENTS(keys), c, err, errlen);
}

/* Loads `text`, expects failure with exactly `want` as the message. */
static void expect_error(const char *text, const char *want)
{
	test_conf c;
	char err[256];

	g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, want);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
}

static void test_defaults_kept(void)
{
	test_conf c;
	char err[256];

	g_assert_cmpint(load(&c, "general: {\n  https = true\n}\n", err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_true(c.https);
	g_assert_true(c.http);
	g_assert_cmpint(c.port, ==, 8088);
	g_assert_cmpint(c.session_timeout, ==, 60);
	g_assert_cmpint(c.version, ==, 2);
	g_assert_cmpstr(c.server_name, ==, "default-name");
	g_assert_null(c.interface);
	g_assert_null(c.admin_secret);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);

	/* An empty file and a file with only comments change nothing either. */
	g_assert_cmpint(load(&c, "", err, sizeof(err)), ==, 0);
	g_assert_cmpint(c.port, ==, 8088);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
	g_assert_cmpint(load(&c, "# a\n// b\n/* c */\n", err, sizeof(err)), ==, 0);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
}

static void test_bool_spellings(void)
{
	static const struct {
		const char *value;
		bool want;
	} cases[] = {
		{ "true", true },     { "false", false },   { "TRUE", true },     { "False", false },
		{ "1", true },	      { "0", false },	    { "\"true\"", true }, { "\"false\"", false },
		{ "\"yes\"", true },  { "\"no\"", false },  { "\"YES\"", true },  { "\"No\"", false },
		{ "\"1\"", true },    { "\"0\"", false },   { "\"TrUe\"", true },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		test_conf c;
		char err[256];
		char *text = g_strdup_printf("general: { http = %s\nhttps = %s }\n",
					     cases[i].value, cases[i].value);

		g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, 0);
		g_assert_cmpint(c.http, ==, cases[i].want);
		g_assert_cmpint(c.https, ==, cases[i].want);
		stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
		g_free(text);
	}
}

static void test_int_spellings(void)
{
	static const struct {
		const char *text;
		int port, offset;
	} cases[] = {
		{ "port = 8080\noffset = -3", 8080, -3 },
		{ "port = \"8080\"\noffset = \"-3\"", 8080, -3 },
		{ "port = \"+8080\"\noffset = \"+3\"", 8080, 3 },
		{ "port = 0x1F90\noffset = 0", 8080, 0 },
		{ "port = 8080L\noffset = 10L", 8080, 10 },
		{ "port: 1\noffset: -10", 1, -10 },
		{ "port = 65535;\noffset = \"10\";", 65535, 10 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		test_conf c;
		char err[256];
		char *text = g_strdup_printf("general: {\n%s\n}\n", cases[i].text);

		g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, 0);
		g_assert_cmpint(c.port, ==, cases[i].port);
		g_assert_cmpint(c.offset, ==, cases[i].offset);
		stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
		g_free(text);
	}
}

static void test_string_spellings(void)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "\"eth0\"", "eth0" },	 { "\"\"", "" },	     { "42", "42" },
		{ "-7", "-7" },		 { "12345678901L", "12345678901" },
		{ "true", "true" },	 { "false", "false" },	     { "1.5", "1.5" },
		{ "\"a \\\"q\\\" b\"", "a \"q\" b" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		test_conf c;
		char err[256];
		char *text = g_strdup_printf("general = {\n  interface = %s;\n  server_name = %s;\n};\n",
					     cases[i].value, cases[i].value);

		g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, 0);
		g_assert_cmpstr(c.interface, ==, cases[i].want);
		g_assert_cmpstr(c.server_name, ==, cases[i].want);
		stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
		g_free(text);
	}
}

static void test_top_level_key(void)
{
	test_conf c;
	char err[256];

	g_assert_cmpint(load(&c, "version = 3\ngeneral: { port = 9 }\n", err, sizeof(err)), ==, 0);
	g_assert_cmpint(c.version, ==, 3);
	g_assert_cmpint(c.port, ==, 9);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
	expect_error("\nversion = 4\n", "test.jcfg:2: version: must be an integer between 1 and 3");
}

static void test_type_errors(void)
{
	expect_error("general: {\n  http = \"maybe\"\n}\n",
		     "test.jcfg:2: general.http: must be a boolean");
	expect_error("general: {\n\n  https = 2\n}\n",
		     "test.jcfg:3: general.https: must be a boolean");
	expect_error("general: { http = 1.0 }\n", "test.jcfg:1: general.http: must be a boolean");
	expect_error("general: { http = [true] }\n",
		     "test.jcfg:1: general.http: must be a boolean");
	expect_error("general: {\n  port = \"80x\"\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = \" 80\"\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = \"\"\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = \"-\"\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = 80.5\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = true\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("admin: {\n  admin_secret = [ \"a\", \"b\" ]\n}\n",
		     "test.jcfg:2: admin.admin_secret: must be a string");
	expect_error("admin: {\n  admin_secret = { x = 1 }\n}\n",
		     "test.jcfg:2: admin.admin_secret: must be a string");
	expect_error("\n\ngeneral = 5\n",
		     "test.jcfg:3: general: must be a section (general: { ... })");
}

static void test_range_errors(void)
{
	expect_error("general: {\n  port = 0\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = 65536\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  port = \"70000\"\n}\n",
		     "test.jcfg:2: general.port: must be an integer between 1 and 65535");
	expect_error("general: {\n  offset = -11\n}\n",
		     "test.jcfg:2: general.offset: must be an integer between -10 and 10");
	expect_error("general: {\n  session_timeout = 12345678901L\n}\n",
		     "test.jcfg:2: general.session_timeout: must be an integer between 0 and 86400");
	/* Past 64 bits: strtoll's overflow must not wrap into range. */
	expect_error("general: {\n  offset = \"-99999999999999999999\"\n}\n",
		     "test.jcfg:2: general.offset: must be an integer between -10 and 10");
}

static void test_first_error_wins(void)
{
	/* Both are wrong; the table order decides which one is reported. */
	expect_error("general: {\n  port = 0\n  http = \"maybe\"\n}\n",
		     "test.jcfg:3: general.http: must be a boolean");
}

static void test_syntax_errors(void)
{
	expect_error("general: {\n  port = 1\n  http = \n}\n", "test.jcfg:4: syntax error");
	expect_error("general: {\n  port = 1\n  port = 2\n}\n",
		     "test.jcfg:3: syntax error: duplicate setting name");
	expect_error("general: {\n  port = 1\n", "test.jcfg:3: syntax error");
}

static char *read_log(void)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
	return text;
}

static void test_unknown_settings_warn(void)
{
	static const char text[] = "general: {\n"
				   "  port = 1234\n"
				   "  bogus = \"x\"\n"
				   "  nested: { a = 1 }\n"
				   "}\n"
				   "room-1234: {\n"
				   "  description = \"Demo\"\n"
				   "}\n"
				   "loose = 5\n";
	test_conf c;
	char err[256], *log;

	/* Truncate in place: the logger holds the file open in append mode. */
	g_assert_cmpint(truncate(log_path, 0), ==, 0);
	g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, 0);
	g_assert_cmpint(c.port, ==, 1234);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);

	log = read_log();
	g_assert_nonnull(strstr(log, "[WARN] [config] test.jcfg:3: unknown setting general.bogus "
				     "(ignored)\n"));
	g_assert_nonnull(strstr(log, "test.jcfg:4: unknown setting general.nested (ignored)\n"));
	g_assert_nonnull(strstr(log, "test.jcfg:6: unknown setting room-1234 (ignored)\n"));
	g_assert_nonnull(strstr(log, "test.jcfg:9: unknown setting loose (ignored)\n"));
	/* One line per unknown section, not one per key inside it. */
	g_assert_null(strstr(log, "description"));
	g_assert_null(strstr(log, "port"));
	g_free(log);
}

static void test_files(void)
{
	char *path = g_build_filename(tmp_dir, "stoa.jcfg", NULL);
	char *missing = g_build_filename(tmp_dir, "nope.jcfg", NULL);
	char *want;
	test_conf c;
	char err[256];

	/* A missing optional file leaves the target alone. */
	conf_defaults(&c);
	c.port = 1;
	g_assert_cmpint(stoa_conf_load(missing, true, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, 1);
	g_assert_cmpint(c.port, ==, 1);
	g_assert_cmpstr(c.server_name, ==, "default-name");

	g_assert_cmpint(stoa_conf_load(missing, false, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, -1);
	want = g_strdup_printf("%s: cannot read: %s", missing, g_strerror(ENOENT));
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	/* Janus's "key: value" spelling, read from a real file. */
	g_assert_true(g_file_set_contents(path, "general: {\n  port: 7088\n  interface: \"lo\"\n}\n",
					  -1, NULL));
	g_assert_cmpint(stoa_conf_load(path, false, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, 0);
	g_assert_cmpint(c.port, ==, 7088);
	g_assert_cmpstr(c.interface, ==, "lo");

	/* Messages name the file as the caller gave it. */
	g_assert_true(g_file_set_contents(path, "general: {\n  port: 0\n}\n", -1, NULL));
	g_assert_cmpint(stoa_conf_load(path, true, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, -1);
	want = g_strdup_printf("%s:2: general.port: must be an integer between 1 and 65535", path);
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	g_assert_true(g_file_set_contents(path, "general: {\n  port: \n}\n", -1, NULL));
	g_assert_cmpint(stoa_conf_load(path, true, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, -1);
	want = g_strdup_printf("%s:3: syntax error", path);
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
	g_unlink(path);
	g_free(path);
	g_free(missing);
}

static void test_unreadable_path(void)
{
	test_conf c;
	char err[256], *want;

	/* A directory exists but is not a file: an error even when optional. */
	conf_defaults(&c);
	g_assert_cmpint(stoa_conf_load(tmp_dir, true, keys, G_N_ELEMENTS(keys), &c, err,
				       sizeof(err)), ==, -1);
	want = g_strdup_printf("%s: cannot read: %s", tmp_dir, g_strerror(EISDIR));
	g_assert_cmpstr(err, ==, want);
	g_free(want);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
}

static void test_strings_freed(void)
{
	test_conf c;
	char err[256];
	const char *text = "general: { interface = \"a\"\n server_name = \"b\" }\n"
			   "admin: { admin_secret = \"c\" }\n";

	/* Loading twice into the same target replaces (and frees) the strings. */
	g_assert_cmpint(load(&c, text, err, sizeof(err)), ==, 0);
	g_assert_cmpint(stoa_conf_load_string("general: { interface = \"z\" }", "t", keys,
					      G_N_ELEMENTS(keys), &c, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(c.interface, ==, "z");
	g_assert_cmpstr(c.admin_secret, ==, "c");
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
	g_assert_null(c.interface);
	g_assert_null(c.server_name);
	g_assert_null(c.admin_secret);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c); /* twice is harmless */

	/* A failed load leaves what it set so far owned by the target. */
	g_assert_cmpint(load(&c, "general: { interface = \"a\"\n port = 0 }", err, sizeof(err)),
			==, -1);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
}

static void test_small_err_buffer(void)
{
	test_conf c;
	char err[12];

	g_assert_cmpint(load(&c, "general: { port = 0 }", err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, "test.jcfg:1");
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);

	conf_defaults(&c);
	g_assert_cmpint(stoa_conf_load_string("general: { port = 0 }", "x", keys,
					      G_N_ELEMENTS(keys), &c, NULL, 0), ==, -1);
	stoa_conf_free(keys, G_N_ELEMENTS(keys), &c);
}

static void test_parse_bool(void)
{
	g_assert_cmpint(stoa_parse_bool_word("true"), ==, 1);
	g_assert_cmpint(stoa_parse_bool_word("YES"), ==, 1);
	g_assert_cmpint(stoa_parse_bool_word("1"), ==, 1);
	g_assert_cmpint(stoa_parse_bool_word("False"), ==, 0);
	g_assert_cmpint(stoa_parse_bool_word("no"), ==, 0);
	g_assert_cmpint(stoa_parse_bool_word("0"), ==, 0);
	g_assert_cmpint(stoa_parse_bool_word(""), ==, -1);
	g_assert_cmpint(stoa_parse_bool_word("on"), ==, -1);
	g_assert_cmpint(stoa_parse_bool_word("true "), ==, -1);
	g_assert_cmpint(stoa_parse_bool_word("2"), ==, -1);
	g_assert_cmpint(stoa_parse_bool_word(NULL), ==, -1);
}

/* A list key: records read with their own key table. */
typedef struct test_user {
	char *name;
	int level;
	bool admin;
} test_user;

typedef struct list_conf {
	GPtrArray *users;
	int port;
} list_conf;

static const stoa_conf_key user_keys[] = {
	STOA_CONF_KEY_STR(NULL, "name", test_user, name),
	STOA_CONF_KEY_INT(NULL, "level", test_user, level, 0, 9),
	STOA_CONF_KEY_BOOL(NULL, "admin", test_user, admin),
};
static const stoa_conf_list user_list = { user_keys, G_N_ELEMENTS(user_keys), sizeof(test_user) };
static const stoa_conf_key list_keys[] = {
	STOA_CONF_KEY_LIST("auth", "users", list_conf, users, user_list),
	STOA_CONF_KEY_INT("auth", "port", list_conf, port, 1, 65535),
};

static int load_list(list_conf *c, const char *text, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	return stoa_conf_load_string(text, "test.jcfg", list_keys, G_N_ELEMENTS(list_keys), c, err,
				     errlen);
}

static void test_lists(void)
{
	list_conf c;
	char err[256], *log;
	test_user *u;

	g_assert_cmpint(truncate(log_path, 0), ==, 0);
	g_assert_cmpint(load_list(&c, "auth: {\n"
				      "  users = ( { name = \"ann\"; level = 3; admin = true; },\n"
				      "            { name = \"bob\"; extra = 1; } );\n"
				      "  port = 80\n"
				      "}\n", err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(c.port, ==, 80);
	g_assert_nonnull(c.users);
	g_assert_cmpuint(c.users->len, ==, 2);
	u = c.users->pdata[0];
	g_assert_cmpstr(u->name, ==, "ann");
	g_assert_cmpint(u->level, ==, 3);
	g_assert_true(u->admin);
	u = c.users->pdata[1];
	g_assert_cmpstr(u->name, ==, "bob");
	g_assert_cmpint(u->level, ==, 0); /* absent members stay zero */
	g_assert_false(u->admin);
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
	g_assert_null(c.users);
	log = read_log();
	g_assert_nonnull(strstr(log, "test.jcfg:3: unknown setting auth.users[1].extra (ignored)\n"));
	g_free(log);

	/* Absent: NULL. Empty, as a list or as an array: no records. */
	g_assert_cmpint(load_list(&c, "auth: { port = 1 }\n", err, sizeof(err)), ==, 0);
	g_assert_null(c.users);
	g_assert_cmpint(load_list(&c, "auth: { users = () }\n", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(c.users->len, ==, 0);
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
	g_assert_cmpint(load_list(&c, "auth: { users = [] }\n", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(c.users->len, ==, 0);
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);

	/* Errors name the record and the member; what was read is freed. */
	g_assert_cmpint(load_list(&c, "auth: {\n users = ( { name = \"a\"; },\n"
				      " { level = 10; } )\n}\n", err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, "test.jcfg:3: auth.users[1].level: must be an integer between 0 "
				 "and 9");
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
	g_assert_cmpint(load_list(&c, "auth: {\n users = ( \"a\" )\n}\n", err, sizeof(err)), ==,
			-1);
	g_assert_cmpstr(err, ==, "test.jcfg:2: auth.users[0]: must be a group { ... }");
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
	g_assert_cmpint(load_list(&c, "auth: {\n users = \"a\"\n}\n", err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, "test.jcfg:2: auth.users: must be a list of groups: "
				 "( { ... }, { ... } )");
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
	g_assert_cmpint(load_list(&c, "auth: {\n users = [ 1, 2 ]\n}\n", err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, "test.jcfg:2: auth.users: must be a list of groups: "
				 "( { ... }, { ... } )");
	stoa_conf_free(list_keys, G_N_ELEMENTS(list_keys), &c);
}

static void test_set_string(void)
{
	char *s = NULL;

	stoa_conf_set_string(&s, "one");
	g_assert_cmpstr(s, ==, "one");
	stoa_conf_set_string(&s, s); /* must copy before freeing */
	g_assert_cmpstr(s, ==, "one");
	stoa_conf_set_string(&s, NULL);
	g_assert_null(s);
}

int main(int argc, char **argv)
{
	stoa_log_options lo = { .level = STOA_LOG_WARN, .colors = 0, .to_stdout = false };
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("stoa-test-conf-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	log_path = g_build_filename(tmp_dir, "log.txt", NULL);
	lo.file = log_path;
	g_assert_cmpint(stoa_log_init(&lo), ==, 0);

	g_test_add_func("/conf/defaults_kept", test_defaults_kept);
	g_test_add_func("/conf/bool_spellings", test_bool_spellings);
	g_test_add_func("/conf/int_spellings", test_int_spellings);
	g_test_add_func("/conf/string_spellings", test_string_spellings);
	g_test_add_func("/conf/top_level_key", test_top_level_key);
	g_test_add_func("/conf/type_errors", test_type_errors);
	g_test_add_func("/conf/range_errors", test_range_errors);
	g_test_add_func("/conf/first_error_wins", test_first_error_wins);
	g_test_add_func("/conf/syntax_errors", test_syntax_errors);
	g_test_add_func("/conf/unknown_settings_warn", test_unknown_settings_warn);
	g_test_add_func("/conf/files", test_files);
	g_test_add_func("/conf/unreadable_path", test_unreadable_path);
	g_test_add_func("/conf/strings_freed", test_strings_freed);
	g_test_add_func("/conf/small_err_buffer", test_small_err_buffer);
	g_test_add_func("/conf/parse_bool", test_parse_bool);
	g_test_add_func("/conf/set_string", test_set_string);
	g_test_add_func("/conf/lists", test_lists);
	rc = g_test_run();

	stoa_log_close();
	g_unlink(log_path);
	g_rmdir(tmp_dir);
	g_free(log_path);
	g_free(tmp_dir);
	return rc;
}
