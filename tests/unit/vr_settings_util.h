/*
 * vr_settings_util.h: fixtures and helpers shared by the unit tests of
 * plugins/videoroom/settings.c (test_vr_create.c: defaults and `create`
 * validation; test_vr_edit.c: `edit`, the list entry and copies;
 * test_vr_config_load.c and test_vr_config_save.c: reading and rewriting
 * the config file).
 *
 * Everything here belongs to the one test thread. Files are made in
 * tmp_dir, which run_in_tmp_dir() creates before the tests and empties and
 * removes after them.
 */
#ifndef STOA_TEST_VR_SETTINGS_UTIL_H
#define STOA_TEST_VR_SETTINGS_UTIL_H

#include <glib.h>
#include <jansson.h>

#include "settings.h"

/* The test's private folder; NULL before tmp_dir_make(). */
extern char *tmp_dir;

/* Runs the added tests with tmp_dir made from `tmpl` (g_dir_make_tmp);
 * returns g_test_run()'s result. */
int run_in_tmp_dir(const char *tmpl);
char *tmp_path(const char *name);
void write_file(const char *path, const char *text);
char *read_file(const char *path);

json_t *js(const char *text);
int apply_api(vr_settings *s, guint64 room, const char *text, char *err, size_t errlen);
void full_settings(vr_settings *s);
void assert_codecs(char *const *list, const char *want);
void assert_settings_equal(const vr_settings *a, const vr_settings *b);

/* What a load handed over: copies of the rooms and "section: reason" skips.
 * Owned by the test that called load(); loaded_free() releases it. */
typedef struct loaded {
	GArray *rooms; /* vr_settings */
	GPtrArray *skipped;
} loaded;

int load(const char *path, vr_general *g, loaded *l, char *err, size_t errlen);
void loaded_free(loaded *l);
const vr_settings *loaded_room(const loaded *l, guint64 id);

/* A config file with a general section, rooms 1234 and 77, and one section
 * that is not a room. */
extern const char sample_text[];

#endif
