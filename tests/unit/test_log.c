/*
 * test_log.c: unit tests for src/core/log.c.
 *
 * The pure formatter (stoa_log_format) is checked byte for byte for text
 * lines and field by field (parsed back with jansson) for JSON lines. The
 * write path is checked through a log file and a captured stderr: level
 * filtering, truncation, whole lines from concurrent threads, rate limiting.
 * TZ is pinned to UTC so local timestamps are predictable.
 */
#define STOA_LOG_MODULE "test"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "core/log.h"

/* 2026-11-21 10:00:00.123456 UTC */
#define WALL_US (1795255200LL * G_USEC_PER_SEC + 123456)
#define ELLIPSIS "\xe2\x80\xa6"

static char *tmp_dir;
static char *log_path;

static char *fmt_text(int level, const char *module, uint64_t sid, uint64_t hid,
		      const char *msg, bool timestamps, bool colors)
{
	char buf[1024];

	stoa_log_format(buf, sizeof(buf), level, module, sid, hid, msg, false, timestamps,
			colors, WALL_US);
	return g_strdup(buf);
}

#define ASSERT_TEXT(want, ...) \
	do { \
		char *got_ = fmt_text(__VA_ARGS__); \
		g_assert_cmpstr(got_, ==, (want)); \
		g_free(got_); \
	} while (0)

static json_t *fmt_json(int level, const char *module, uint64_t sid, uint64_t hid,
			const char *msg)
{
	char buf[1024];
	json_error_t jerr;
	json_t *o;
	size_t n = stoa_log_format(buf, sizeof(buf), level, module, sid, hid, msg, true, false,
				   true, WALL_US);

	g_assert_cmpuint(n, ==, strlen(buf));
	g_assert_null(strchr(buf, '\n')); /* one object per line */
	o = json_loads(buf, 0, &jerr);
	g_assert_nonnull(o);
	return o;
}

static void test_text_levels(void)
{
	ASSERT_TEXT("[FATAL] [http] boom", STOA_LOG_FATAL, "http", 0, 0, "boom", false, false);
	ASSERT_TEXT("[ERR] [http] bad", STOA_LOG_ERR, "http", 0, 0, "bad", false, false);
	ASSERT_TEXT("[WARN] [http] hmm", STOA_LOG_WARN, "http", 0, 0, "hmm", false, false);
	ASSERT_TEXT("[http] fine", STOA_LOG_INFO, "http", 0, 0, "fine", false, false);
	ASSERT_TEXT("[http] chatty", STOA_LOG_DBG, "http", 0, 0, "chatty", false, false);
	ASSERT_TEXT("[WARN] no module", STOA_LOG_WARN, NULL, 0, 0, "no module", false, false);
	ASSERT_TEXT("[WARN] empty module", STOA_LOG_WARN, "", 0, 0, "empty module", false, false);
	ASSERT_TEXT("[x] ", STOA_LOG_INFO, "x", 0, 0, "", false, false);
}

static void test_text_timestamp(void)
{
	ASSERT_TEXT("[2026-11-21 10:00:00.123] [WARN] [http] hi", STOA_LOG_WARN, "http", 0, 0,
		    "hi", true, false);
	ASSERT_TEXT("[2026-11-21 10:00:00.123] [ice] hi", STOA_LOG_INFO, "ice", 0, 0, "hi", true,
		    false);
}

static void test_text_ids(void)
{
	ASSERT_TEXT("[janus.plugin.echotest] [s=12 h=34] hi", STOA_LOG_INFO,
		    "janus.plugin.echotest", 12, 34, "hi", false, false);
	ASSERT_TEXT("[http] [s=12] hi", STOA_LOG_INFO, "http", 12, 0, "hi", false, false);
	ASSERT_TEXT("[http] [h=34] hi", STOA_LOG_INFO, "http", 0, 34, "hi", false, false);
	ASSERT_TEXT("[http] hi", STOA_LOG_INFO, "http", 0, 0, "hi", false, false);
	ASSERT_TEXT("[ERR] [s=18446744073709551615 h=9007199254740991] max", STOA_LOG_ERR, NULL,
		    UINT64_MAX, 9007199254740991ULL, "max", false, false);
}

static void test_text_colors(void)
{
	ASSERT_TEXT("\x1b[31m[FATAL]\x1b[0m [m] x", STOA_LOG_FATAL, "m", 0, 0, "x", false, true);
	ASSERT_TEXT("\x1b[31m[ERR]\x1b[0m [m] x", STOA_LOG_ERR, "m", 0, 0, "x", false, true);
	ASSERT_TEXT("\x1b[33m[WARN]\x1b[0m [m] [s=1] x", STOA_LOG_WARN, "m", 1, 0, "x", false,
		    true);
	/* Only the tag is coloured, so untagged levels carry no escapes at all. */
	ASSERT_TEXT("[m] x", STOA_LOG_INFO, "m", 0, 0, "x", false, true);
	ASSERT_TEXT("[2026-11-21 10:00:00.123] \x1b[33m[WARN]\x1b[0m [m] x", STOA_LOG_WARN, "m", 0,
		    0, "x", true, true);
}

static void test_json_fields(void)
{
	json_t *o = fmt_json(STOA_LOG_WARN, "http", 12, 34, "hello");

	g_assert_cmpstr(json_string_value(json_object_get(o, "ts")), ==,
			"2026-11-21T10:00:00.123Z");
	g_assert_cmpstr(json_string_value(json_object_get(o, "level")), ==, "warn");
	g_assert_cmpstr(json_string_value(json_object_get(o, "module")), ==, "http");
	g_assert_cmpint(json_integer_value(json_object_get(o, "session_id")), ==, 12);
	g_assert_cmpint(json_integer_value(json_object_get(o, "handle_id")), ==, 34);
	g_assert_cmpstr(json_string_value(json_object_get(o, "msg")), ==, "hello");
	g_assert_cmpuint(json_object_size(o), ==, 6);
	json_decref(o);

	/* Ids and module appear only when set. */
	o = fmt_json(STOA_LOG_ERR, NULL, 12, 0, "x");
	g_assert_cmpstr(json_string_value(json_object_get(o, "level")), ==, "error");
	g_assert_nonnull(json_object_get(o, "session_id"));
	g_assert_null(json_object_get(o, "handle_id"));
	g_assert_null(json_object_get(o, "module"));
	json_decref(o);

	o = fmt_json(STOA_LOG_DBG, "m", 0, 0, "x");
	g_assert_cmpstr(json_string_value(json_object_get(o, "level")), ==, "debug");
	g_assert_null(json_object_get(o, "session_id"));
	g_assert_null(json_object_get(o, "handle_id"));
	json_decref(o);
}

static void test_json_escaping(void)
{
	static const char *const msgs[] = {
		"say \"hi\"", "two\nlines", "back\\slash", "tab\there", "ctl\x01\x1f",
		"caf\xc3\xa9 \xe2\x9c\x93", "{\"json\":\"inside\"}", "",
	};
	char buf[512];

	for (size_t i = 0; i < G_N_ELEMENTS(msgs); i++) {
		json_t *o = fmt_json(STOA_LOG_INFO, "m", 0, 0, msgs[i]);
		g_assert_cmpstr(json_string_value(json_object_get(o, "msg")), ==, msgs[i]);
		json_decref(o);
	}

	/* The raw text really is escaped, not just parseable. */
	stoa_log_format(buf, sizeof(buf), STOA_LOG_INFO, "m", 0, 0, "a\"b\nc", true, false, false,
			WALL_US);
	g_assert_nonnull(strstr(buf, "\"msg\":\"a\\\"b\\nc\""));

	/* Invalid UTF-8 cannot go into JSON as is; it is replaced, not dropped. */
	json_t *o = fmt_json(STOA_LOG_INFO, "m", 0, 0, "bad \xff byte");
	g_assert_cmpstr(json_string_value(json_object_get(o, "msg")), ==, "bad \xef\xbf\xbd byte");
	json_decref(o);
}

/* A message of `n` bytes made of two-byte characters (plus an 'a' if n is odd),
 * so a careless cut would split one. */
static char *multibyte_msg(size_t n)
{
	GString *s = g_string_sized_new(n + 1);

	if (n % 2 == 1)
		g_string_append_c(s, 'a');
	while (s->len < n)
		g_string_append(s, "\xc3\xa9");
	return g_string_free(s, FALSE);
}

static void test_format_truncation(void)
{
	char *msg = multibyte_msg(20 * 1024);
	char buf[200];
	json_t *o;
	json_error_t jerr;
	size_t n;

	/* Text: cut at a character boundary, marked, within the buffer. */
	n = stoa_log_format(buf, sizeof(buf), STOA_LOG_WARN, "m", 1, 2, msg, false, false, false,
			    WALL_US);
	g_assert_cmpuint(n, ==, strlen(buf));
	g_assert_cmpuint(n, <, sizeof(buf));
	g_assert_cmpuint(n, >=, sizeof(buf) - 4);
	g_assert_true(g_str_has_prefix(buf, "[WARN] [m] [s=1 h=2] \xc3\xa9"));
	g_assert_true(g_str_has_suffix(buf, ELLIPSIS));
	g_assert_true(g_utf8_validate(buf, -1, NULL));

	/* JSON: still one valid object, with the message shortened. */
	n = stoa_log_format(buf, sizeof(buf), STOA_LOG_WARN, "m", 1, 2, msg, true, false, false,
			    WALL_US);
	g_assert_cmpuint(n, <, sizeof(buf));
	o = json_loads(buf, 0, &jerr);
	g_assert_nonnull(o);
	g_assert_true(g_str_has_suffix(json_string_value(json_object_get(o, "msg")), ELLIPSIS));
	json_decref(o);
	g_free(msg);

	/* JSON where escaping doubles the size: quotes only. */
	msg = g_strnfill(20 * 1024, '"');
	n = stoa_log_format(buf, sizeof(buf), STOA_LOG_INFO, "m", 0, 0, msg, true, false, false,
			    WALL_US);
	g_assert_cmpuint(n, <, sizeof(buf));
	o = json_loads(buf, 0, &jerr);
	g_assert_nonnull(o);
	json_decref(o);
	g_free(msg);

	/* Tiny buffers never overflow. */
	n = stoa_log_format(buf, 5, STOA_LOG_WARN, "module", 0, 0, "msg", false, false, false, 0);
	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpstr(buf, ==, "[WAR");
	g_assert_cmpuint(stoa_log_format(buf, 0, STOA_LOG_WARN, "m", 0, 0, "x", false, false,
					 false, 0), ==, 0);
}

/* --- the write path: a log file, and stderr captured into another file --- */

static int saved_stderr = -1;
static char *stderr_path;

static void capture_stderr(void)
{
	int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	g_assert_cmpint(fd, >=, 0);
	saved_stderr = dup(STDERR_FILENO);
	g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
	close(fd);
}

/* Restores stderr and returns what was written to it. */
static char *release_stderr(void)
{
	char *text = NULL;

	g_assert_cmpint(dup2(saved_stderr, STDERR_FILENO), ==, STDERR_FILENO);
	close(saved_stderr);
	g_assert_true(g_file_get_contents(stderr_path, &text, NULL, NULL));
	return text;
}

/* Starts logging to stderr (captured) and a fresh log file. */
static void log_start(int level, bool json, int colors)
{
	stoa_log_options o = { .level = level, .json = json, .colors = colors,
			       .file = log_path, .to_stdout = false };

	g_unlink(log_path);
	capture_stderr();
	g_assert_cmpint(stoa_log_init(&o), ==, 0);
}

static char *log_stop(char **stderr_text)
{
	char *text = NULL;

	stoa_log_close();
	*stderr_text = release_stderr();
	g_assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
	return text;
}

static void test_write_levels(void)
{
	char *file, *err;

	log_start(STOA_LOG_INFO, false, 0);
	g_assert_cmpint(stoa_log_get_level(), ==, STOA_LOG_INFO);
	g_assert_true(stoa_log_enabled(STOA_LOG_INFO));
	g_assert_false(stoa_log_enabled(STOA_LOG_VERB));
	STOA_LOG(STOA_LOG_INFO, "info %d", 1);
	STOA_LOG(STOA_LOG_VERB, "verbose %d", 2);
	STOA_LOG_S(STOA_LOG_ERR, 5, 6, "with ids\n"); /* Janus-style trailing newline */
	stoa_log_set_level(STOA_LOG_DBG);
	STOA_LOG(STOA_LOG_DBG, "debug %s", "now on");
	stoa_log_set_level(STOA_LOG_ERR);
	STOA_LOG(STOA_LOG_WARN, "warn dropped");
	file = log_stop(&err);

	g_assert_cmpstr(file, ==, "[test] info 1\n[ERR] [test] [s=5 h=6] with ids\n"
				  "[test] debug now on\n");
	g_assert_cmpstr(err, ==, file);
	g_free(file);
	g_free(err);

	stoa_log_set_level(100);
	g_assert_cmpint(stoa_log_get_level(), ==, STOA_LOG_DBG);
	stoa_log_set_level(-5);
	g_assert_cmpint(stoa_log_get_level(), ==, STOA_LOG_NONE);
	g_assert_true(stoa_log_enabled(STOA_LOG_NONE));
	g_assert_false(stoa_log_enabled(STOA_LOG_FATAL));
}

static void test_write_switches(void)
{
	char *file, *err;

	log_start(STOA_LOG_INFO, false, 1);
	g_assert_true(stoa_log_get_colors());
	g_assert_false(stoa_log_get_timestamps());
	STOA_LOG(STOA_LOG_WARN, "coloured");
	stoa_log_set_colors(false);
	g_assert_false(stoa_log_get_colors());
	STOA_LOG(STOA_LOG_WARN, "plain");
	stoa_log_set_timestamps(true);
	g_assert_true(stoa_log_get_timestamps());
	STOA_LOG(STOA_LOG_INFO, "stamped");
	stoa_log_set_timestamps(false);
	file = log_stop(&err);

	/* Colours reach the terminal, never the file. */
	g_assert_true(g_str_has_prefix(err, "\x1b[33m[WARN]\x1b[0m [test] coloured\n"
					    "[WARN] [test] plain\n["));
	g_assert_true(g_str_has_prefix(file, "[WARN] [test] coloured\n[WARN] [test] plain\n["));
	g_assert_true(g_str_has_suffix(file, "] [test] stamped\n"));
	g_free(file);
	g_free(err);

	/* colors = -1 asks isatty(); a file is not a terminal. */
	log_start(STOA_LOG_INFO, false, -1);
	g_assert_false(stoa_log_get_colors());
	file = log_stop(&err);
	g_free(file);
	g_free(err);
}

static void test_write_json(void)
{
	char *file, *err, **lines;
	json_t *o;
	json_error_t jerr;

	log_start(STOA_LOG_INFO, true, 1);
	stoa_log_write(STOA_LOG_WARN, "http", 7, 0, "quote \" and\nnewline");
	stoa_log_write(STOA_LOG_INFO, "ws", 0, 0, "second");
	file = log_stop(&err);

	/* JSON lines are never coloured, even when colours are on. */
	g_assert_cmpstr(err, ==, file);
	lines = g_strsplit(file, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpstr(lines[2], ==, "");
	o = json_loads(lines[0], 0, &jerr);
	g_assert_nonnull(o);
	g_assert_cmpstr(json_string_value(json_object_get(o, "msg")), ==, "quote \" and\nnewline");
	g_assert_cmpstr(json_string_value(json_object_get(o, "module")), ==, "http");
	g_assert_cmpint(json_integer_value(json_object_get(o, "session_id")), ==, 7);
	g_assert_true(g_str_has_suffix(json_string_value(json_object_get(o, "ts")), "Z"));
	json_decref(o);
	o = json_loads(lines[1], 0, &jerr);
	g_assert_nonnull(o);
	g_assert_cmpstr(json_string_value(json_object_get(o, "level")), ==, "info");
	json_decref(o);
	g_strfreev(lines);
	g_free(file);
	g_free(err);
}

static void test_write_truncation(void)
{
	char *msg = multibyte_msg(20 * 1024 + 1);
	char *file, *err;
	size_t len;

	log_start(STOA_LOG_INFO, false, 0);
	stoa_log_write(STOA_LOG_WARN, "m", 0, 0, "%s", msg);
	stoa_log_write(STOA_LOG_WARN, "m", 0, 0, "next");
	file = log_stop(&err);

	len = strlen(file);
	g_assert_true(g_str_has_prefix(file, "[WARN] [m] a\xc3\xa9"));
	g_assert_true(g_str_has_suffix(file, ELLIPSIS "\n[WARN] [m] next\n"));
	g_assert_cmpuint(len, <, 9 * 1024);
	g_assert_cmpuint(len, >, 8 * 1024 - 16);
	g_assert_true(g_utf8_validate(file, -1, NULL));
	g_assert_cmpstr(err, ==, file);
	g_free(file);
	g_free(err);
	g_free(msg);
}

#define N_THREADS 8
#define N_LINES 300

static gpointer writer_thread(gpointer data)
{
	int id = GPOINTER_TO_INT(data);
	char pad[200];

	memset(pad, 'a' + id, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < N_LINES; i++)
		stoa_log_write(STOA_LOG_INFO, "t", (uint64_t)id + 1, 0, "line %d %s end", i, pad);
	return NULL;
}

/* Checks that `text` holds exactly the lines the writers wrote, each whole:
 * a torn line would miss its prefix or its " end" marker. */
static void check_whole_lines(const char *text)
{
	char **lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (char **l = lines; *l != NULL && **l != '\0'; l++, n++) {
		g_assert_true(g_str_has_prefix(*l, "[t] [s="));
		g_assert_true(g_str_has_suffix(*l, " end"));
	}
	g_assert_cmpuint(n, ==, N_THREADS * N_LINES);
	g_strfreev(lines);
}

static void test_write_concurrent(void)
{
	GThread *threads[N_THREADS];
	char *file, *err;

	log_start(STOA_LOG_INFO, false, 0);
	for (int i = 0; i < N_THREADS; i++)
		threads[i] = g_thread_new("writer", writer_thread, GINT_TO_POINTER(i));
	for (int i = 0; i < N_THREADS; i++)
		g_thread_join(threads[i]);
	file = log_stop(&err);

	/* The two destinations are written separately, so their order may differ. */
	check_whole_lines(file);
	check_whole_lines(err);
	g_free(file);
	g_free(err);
}

static void test_ratelimit(void)
{
	stoa_log_ratelimit rl = { 0 };
	unsigned supp = 99;

	g_assert_true(stoa_log_ratelimit_pass(&rl, 10, &supp));
	g_assert_cmpuint(supp, ==, 0);
	g_assert_false(stoa_log_ratelimit_pass(&rl, 10, &supp));
	g_assert_false(stoa_log_ratelimit_pass(&rl, 10, &supp));
	g_assert_false(stoa_log_ratelimit_pass(&rl, 10, NULL));
	g_assert_cmpuint(rl.suppressed, ==, 3);
	g_assert_cmpint(rl.next_us, >, g_get_monotonic_time() + 9 * G_USEC_PER_SEC);

	/* Pretend the interval has passed: the next line reports the count. */
	rl.next_us = g_get_monotonic_time() - 1;
	g_assert_true(stoa_log_ratelimit_pass(&rl, 10, &supp));
	g_assert_cmpuint(supp, ==, 3);
	g_assert_cmpuint(rl.suppressed, ==, 0);
	g_assert_false(stoa_log_ratelimit_pass(&rl, 10, &supp));
}

static void test_ratelimit_macro(void)
{
	char *file, *err;

	log_start(STOA_LOG_INFO, false, 0);
	for (int i = 0; i < 5; i++)
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 60, "bad packet %d", i);
	file = log_stop(&err);
	g_assert_cmpstr(file, ==, "[WARN] [test] bad packet 0\n");
	g_free(file);
	g_free(err);
}

static void test_init_errors(void)
{
	char *bad = g_build_filename(tmp_dir, "no", "such", "dir.log", NULL);
	stoa_log_options o = { .level = STOA_LOG_INFO, .file = bad, .to_stdout = false };
	char *err;

	capture_stderr();
	g_assert_cmpint(stoa_log_init(&o), ==, -1);
	err = release_stderr();
	g_assert_nonnull(strstr(err, "[ERR] [log] cannot open log file"));
	g_assert_nonnull(strstr(err, bad));
	g_free(err);
	g_free(bad);

	/* NULL options: the defaults (stdout, info); init again and close twice. */
	g_assert_cmpint(stoa_log_init(NULL), ==, 0);
	g_assert_cmpint(stoa_log_get_level(), ==, STOA_LOG_INFO);
	stoa_log_close();
	stoa_log_close();
}

int main(int argc, char **argv)
{
	int rc;

	g_setenv("TZ", "UTC", TRUE);
	tzset();
	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("stoa-test-log-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	log_path = g_build_filename(tmp_dir, "log.txt", NULL);
	stderr_path = g_build_filename(tmp_dir, "stderr.txt", NULL);

	g_test_add_func("/log/text_levels", test_text_levels);
	g_test_add_func("/log/text_timestamp", test_text_timestamp);
	g_test_add_func("/log/text_ids", test_text_ids);
	g_test_add_func("/log/text_colors", test_text_colors);
	g_test_add_func("/log/json_fields", test_json_fields);
	g_test_add_func("/log/json_escaping", test_json_escaping);
	g_test_add_func("/log/format_truncation", test_format_truncation);
	g_test_add_func("/log/write_levels", test_write_levels);
	g_test_add_func("/log/write_switches", test_write_switches);
	g_test_add_func("/log/write_json", test_write_json);
	g_test_add_func("/log/write_truncation", test_write_truncation);
	g_test_add_func("/log/write_concurrent", test_write_concurrent);
	g_test_add_func("/log/ratelimit", test_ratelimit);
	g_test_add_func("/log/ratelimit_macro", test_ratelimit_macro);
	g_test_add_func("/log/init_errors", test_init_errors);
	rc = g_test_run();

	g_unlink(log_path);
	g_unlink(stderr_path);
	g_rmdir(tmp_dir);
	g_free(log_path);
	g_free(stderr_path);
	g_free(tmp_dir);
	return rc;
}
