/*
 * test_vr_config_save.c: rewriting the VideoRoom config file for permanent
 * rooms (plugins/videoroom/settings.c): a round trip of values that need
 * escaping, other sections kept, removal, no temporary file left behind on
 * success or failure, links followed and the file's mode kept.
 * Files live in a g_dir_make_tmp folder removed at the end; the suite runs
 * under LeakSanitizer in the sanitizer build.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vr_settings_util.h"

/* Settings full of values that need escaping in the file. */
static void tricky_settings(vr_settings *s, guint64 room)
{
	char err[256];

	g_assert_cmpint(apply_api(s, room,
				  "{\"description\":\"Sala \\\"ñ\\\" \\\\ #1\\n\\tend\\u0001\","
				  "\"secret\":\"\",\"pin\":\"12 34\",\"publishers\":20,"
				  "\"bitrate\":4000000000,\"fir_freq\":0,\"audiocodec\":\"pcmu,opus\","
				  "\"videocodec\":\"h264,vp8,vp9,av1,h265\",\"vp9_profile\":\"0\","
				  "\"h264_profile\":\"42e01f\",\"opus_fec\":true,\"opus_dtx\":true,"
				  "\"audiolevel_event\":true,\"audio_active_packets\":1,"
				  "\"audio_level_average\":0,\"record\":false,\"rec_dir\":\"/tmp/r d\","
				  "\"lock_record\":true,\"notify_joining\":true,\"is_private\":true,"
				  "\"require_pvtid\":true,\"require_e2ee\":true,"
				  "\"bitrate_cap\":true,\"audiolevel_ext\":false,"
				  "\"videoorient_ext\":false,\"playoutdelay_ext\":false,"
				  "\"transport_wide_cc_ext\":false}",
				  err, sizeof(err)), ==, 0);
}

static void test_save_round_trip(void)
{
	char *path = tmp_path("round.jcfg");
	vr_settings full, tricky, plain;
	struct stat st;
	vr_general g;
	char err[256];
	loaded l;

	full_settings(&full);
	tricky_settings(&tricky, 9007199254740991ull); /* 2^53 - 1 */
	vr_settings_init(&plain); /* a zero-config room: no description, no strings */
	plain.room = 3;
	g_assert_cmpint(vr_config_save_room(path, &full, err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(path, &tricky, err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(path, &plain, err, sizeof(err)), ==, 0);
	/* A new file may hold secrets: only its owner reads it. */
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);

	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.skipped->len, ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 3);
	assert_settings_equal(loaded_room(&l, 1234), &full);
	assert_settings_equal(loaded_room(&l, 9007199254740991ull), &tricky);
	/* Without a description the loaded room is named after its section. */
	g_assert_cmpstr(loaded_room(&l, 3)->description, ==, "room-3");
	g_free(plain.description);
	plain.description = g_strdup("room-3");
	assert_settings_equal(loaded_room(&l, 3), &plain);
	loaded_free(&l);
	vr_general_clear(&g);

	vr_settings_clear(&full);
	vr_settings_clear(&tricky);
	vr_settings_clear(&plain);
	g_unlink(path);
	g_free(path);
}

static void test_save_keeps_others(void)
{
	char *path = tmp_path("keep.jcfg");
	vr_settings s;
	vr_general g;
	char err[256];
	loaded l;

	write_file(path, "general: {\n\tadmin_key = \"adm\"\n\tlock_rtp_forward = true\n"
			 "\tevents = false\n\tstring_ids = false\n\tfuture_key = [1, 2]\n}\n"
			 "room-0042: { description = \"old forty-two\" }\n"
			 "room-1234: {\n\tdescription = \"Demo Room\"\n\tsecret = \"adminpwd\"\n"
			 "\tpublishers = 6\n\tbitrate = 128000\n\tfir_freq = 10\n\trecord = false\n}\n"
			 "room-99: { description = \"Other\"; pin = \"9\"; bitrate = 3000000000L }\n"
			 "notes: { who = \"ops\" }\n");

	/* Replace 1234 and 42 (spelled room-0042 in the file), add 555. */
	g_assert_cmpint(apply_api(&s, 1234, "{\"description\":\"New Demo\",\"publishers\":2}", err,
				  sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(path, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);
	g_assert_cmpint(apply_api(&s, 42, "{}", err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(path, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);
	g_assert_cmpint(apply_api(&s, 555, "{\"secret\":\"x\"}", err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(path, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);

	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(g.admin_key, ==, "adm");
	g_assert_true(g.lock_rtp_forward);
	g_assert_false(g.events);
	g_assert_cmpuint(l.rooms->len, ==, 4);
	g_assert_cmpstr(loaded_room(&l, 1234)->description, ==, "New Demo");
	g_assert_cmpint(loaded_room(&l, 1234)->publishers, ==, 2);
	g_assert_null(loaded_room(&l, 1234)->secret); /* the section was replaced, not merged */
	g_assert_cmpstr(loaded_room(&l, 42)->description, ==, "Room 42");
	g_assert_cmpstr(loaded_room(&l, 99)->description, ==, "Other");
	g_assert_cmpstr(loaded_room(&l, 99)->pin, ==, "9");
	g_assert_cmpuint(loaded_room(&l, 99)->bitrate, ==, 3000000000u); /* an int64 in the file */
	g_assert_cmpstr(loaded_room(&l, 555)->secret, ==, "x");
	/* The unknown section survives too (and is skipped as before). */
	g_assert_cmpuint(l.skipped->len, ==, 1);
	g_assert_true(g_str_has_prefix(l.skipped->pdata[0], "notes: "));
	loaded_free(&l);
	vr_general_clear(&g);
	{
		char *text = read_file(path);

		g_assert_nonnull(strstr(text, "future_key"));
		g_assert_nonnull(strstr(text, "who = \"ops\""));
		g_assert_null(strstr(text, "room-0042"));
		g_free(text);
	}
	g_unlink(path);
	g_free(path);
}

static void test_remove(void)
{
	char *path = tmp_path("remove.jcfg");
	char *missing = tmp_path("remove-missing.jcfg");
	char *before, *after;
	vr_settings s;
	vr_general g;
	char err[256];
	loaded l;

	write_file(path, sample_text);
	g_assert_cmpint(vr_config_remove_room(path, 1234, err, sizeof(err)), ==, 0);
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(g.admin_key, ==, "supersecret");
	g_assert_cmpuint(l.rooms->len, ==, 1);
	g_assert_null(loaded_room(&l, 1234));
	g_assert_nonnull(loaded_room(&l, 77));
	loaded_free(&l);
	vr_general_clear(&g);

	/* A room that is not there: the file is left as it is. */
	before = read_file(path);
	g_assert_cmpint(vr_config_remove_room(path, 1234, err, sizeof(err)), ==, 0);
	after = read_file(path);
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	/* No file: nothing to remove, and no file is created. */
	g_assert_cmpint(vr_config_remove_room(missing, 5, err, sizeof(err)), ==, 0);
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	/* Save then remove: the file written keeps the default's room 1234. */
	g_assert_cmpint(apply_api(&s, 5, "{}", err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(missing, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);
	g_assert_cmpint(vr_config_remove_room(missing, 5, err, sizeof(err)), ==, 0);
	g_assert_cmpint(load(missing, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 1);
	g_assert_nonnull(loaded_room(&l, 1234));
	loaded_free(&l);
	vr_general_clear(&g);
	g_assert_cmpint(vr_config_remove_room(path, 0, err, sizeof(err)), ==, -1);

	g_unlink(missing);
	g_unlink(path);
	g_free(missing);
	g_free(path);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in tmp_dir, sorted, joined by spaces. */
static char *listing(void)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(tmp_dir, 0, NULL);
	const char *n;
	GString *out = g_string_new(NULL);

	g_assert_nonnull(d);
	while ((n = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	qsort(names->pdata, names->len, sizeof(char *), cmp_names);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? " " : "", (char *)names->pdata[i]);
	g_ptr_array_free(names, TRUE);
	return g_string_free(out, FALSE);
}

static void test_no_temp_files(void)
{
	char *path = tmp_path("tmpfiles.jcfg");
	char *broken = tmp_path("broken-save.jcfg");
	char *nodir = g_build_filename(tmp_dir, "no-such-folder", "x.jcfg", NULL);
	char *dir = tmp_path("folder.jcfg");
	char *names, *text;
	vr_settings s;
	char err[256];

	g_assert_cmpint(apply_api(&s, 1, "{}", err, sizeof(err)), ==, 0);
	for (int i = 0; i < 5; i++) {
		s.room = (guint64)i + 1;
		g_assert_cmpint(vr_config_save_room(path, &s, err, sizeof(err)), ==, 0);
	}
	g_assert_cmpint(vr_config_remove_room(path, 2, err, sizeof(err)), ==, 0);
	names = listing();
	g_assert_cmpstr(names, ==, "tmpfiles.jcfg");
	g_free(names);

	/* A file that does not parse is not overwritten. */
	write_file(broken, "room-1: { description = \n");
	g_assert_cmpint(vr_config_save_room(broken, &s, err, sizeof(err)), ==, -1);
	g_assert_true(g_str_has_prefix(err, broken));
	g_assert_nonnull(strstr(err, "syntax error"));
	text = read_file(broken);
	g_assert_cmpstr(text, ==, "room-1: { description = \n");
	g_free(text);
	g_assert_cmpint(vr_config_remove_room(broken, 1, err, sizeof(err)), ==, -1);

	/* A folder that does not exist: no temporary file can be made. */
	g_assert_cmpint(vr_config_save_room(nodir, &s, err, sizeof(err)), ==, -1);
	g_assert_nonnull(strstr(err, "cannot create a temporary file"));
	/* A path that is a folder. */
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	g_assert_cmpint(vr_config_save_room(dir, &s, err, sizeof(err)), ==, -1);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	/* Room 0 cannot be written. */
	s.room = 0;
	g_assert_cmpint(vr_config_save_room(path, &s, err, sizeof(err)), ==, -1);

	names = listing();
	g_assert_cmpstr(names, ==, "broken-save.jcfg tmpfiles.jcfg");
	g_free(names);
	vr_settings_clear(&s);
	g_unlink(broken);
	g_unlink(path);
	g_free(dir);
	g_free(nodir);
	g_free(broken);
	g_free(path);
}

static void test_save_link_and_mode(void)
{
	char *target = tmp_path("target.jcfg");
	char *link = tmp_path("link.jcfg");
	struct stat st;
	vr_settings s;
	vr_general g;
	char err[256];
	loaded l;

	write_file(target, sample_text);
	g_assert_cmpint(g_chmod(target, 0640), ==, 0);
	g_assert_cmpint(symlink("target.jcfg", link), ==, 0);
	g_assert_cmpint(apply_api(&s, 8, "{}", err, sizeof(err)), ==, 0);
	g_assert_cmpint(vr_config_save_room(link, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);

	/* The link still links, the file it names was replaced, its mode kept. */
	g_assert_cmpint(g_lstat(link, &st), ==, 0);
	g_assert_true(S_ISLNK(st.st_mode));
	g_assert_cmpint(g_stat(target, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);
	g_assert_cmpint(load(target, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 3);
	g_assert_nonnull(loaded_room(&l, 8));
	loaded_free(&l);
	vr_general_clear(&g);

	g_unlink(link);
	g_unlink(target);
	g_free(link);
	g_free(target);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vr_config/save_round_trip", test_save_round_trip);
	g_test_add_func("/vr_config/save_keeps_others", test_save_keeps_others);
	g_test_add_func("/vr_config/remove", test_remove);
	g_test_add_func("/vr_config/no_temp_files", test_no_temp_files);
	g_test_add_func("/vr_config/save_link_and_mode", test_save_link_and_mode);
	return run_in_tmp_dir("stoa-test-vr-config-save-XXXXXX");
}
