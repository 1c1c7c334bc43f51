/*
 * vr_settings_util.c: see vr_settings_util.h.
 */
#include <glib/gstdio.h>

#include "vr_settings_util.h"

char *tmp_dir;

/* Every test removes its own files; this catches what one forgot. */
static void tmp_dir_remove(void)
{
	GDir *d = g_dir_open(tmp_dir, 0, NULL);
	const char *n;

	while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(tmp_dir, n, NULL);

		g_printerr("# left behind: %s\n", n);
		g_unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	tmp_dir = NULL;
}

int run_in_tmp_dir(const char *tmpl)
{
	int rc;

	tmp_dir = g_dir_make_tmp(tmpl, NULL);
	g_assert_nonnull(tmp_dir);
	rc = g_test_run();
	tmp_dir_remove();
	return rc;
}

json_t *js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);

	if (v == NULL)
		g_error("bad JSON in test: %s: %s", text, e.text);
	return v;
}

/* Applies the `create` body `text` over fresh defaults with room id `room`. */
int apply_api(vr_settings *s, guint64 room, const char *text, char *err, size_t errlen)
{
	json_t *body = js(text);
	int rc;

	vr_settings_init(s);
	s->room = room;
	err[0] = '\0';
	rc = vr_settings_apply(s, body, false, NULL, err, errlen);
	json_decref(body);
	return rc;
}

char *tmp_path(const char *name)
{
	return g_build_filename(tmp_dir, name, NULL);
}

void write_file(const char *path, const char *text)
{
	GError *e = NULL;

	if (!g_file_set_contents(path, text, -1, &e))
		g_error("%s: %s", path, e->message);
}

char *read_file(const char *path)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

void assert_codecs(char *const *list, const char *want)
{
	char *got = vr_settings_codecs(list);

	g_assert_cmpstr(got, ==, want);
	g_free(got);
}

void assert_settings_equal(const vr_settings *a, const vr_settings *b)
{
	g_assert_cmpuint(a->room, ==, b->room);
	g_assert_cmpstr(a->description, ==, b->description);
	g_assert_cmpstr(a->secret, ==, b->secret);
	g_assert_cmpstr(a->pin, ==, b->pin);
	g_assert_cmpint(a->is_private, ==, b->is_private);
	g_assert_cmpint(a->require_pvtid, ==, b->require_pvtid);
	g_assert_cmpint(a->signed_tokens, ==, b->signed_tokens);
	g_assert_cmpint(a->require_e2ee, ==, b->require_e2ee);
	g_assert_cmpint(a->notify_joining, ==, b->notify_joining);
	g_assert_cmpint(a->publishers, ==, b->publishers);
	g_assert_cmpuint(a->bitrate, ==, b->bitrate);
	g_assert_cmpint(a->bitrate_cap, ==, b->bitrate_cap);
	g_assert_cmpint(a->fir_freq, ==, b->fir_freq);
	for (int i = 0; i <= VR_MAX_CODECS; i++) {
		g_assert_cmpstr(a->acodec[i], ==, b->acodec[i]);
		g_assert_cmpstr(a->vcodec[i], ==, b->vcodec[i]);
	}
	g_assert_cmpstr(a->vp9_profile, ==, b->vp9_profile);
	g_assert_cmpstr(a->h264_profile, ==, b->h264_profile);
	g_assert_cmpint(a->opus_fec, ==, b->opus_fec);
	g_assert_cmpint(a->opus_dtx, ==, b->opus_dtx);
	g_assert_cmpint(a->audiolevel_ext, ==, b->audiolevel_ext);
	g_assert_cmpint(a->audiolevel_event, ==, b->audiolevel_event);
	g_assert_cmpint(a->audio_active_packets, ==, b->audio_active_packets);
	g_assert_cmpint(a->audio_level_average, ==, b->audio_level_average);
	g_assert_cmpint(a->videoorient_ext, ==, b->videoorient_ext);
	g_assert_cmpint(a->playoutdelay_ext, ==, b->playoutdelay_ext);
	g_assert_cmpint(a->transport_wide_cc_ext, ==, b->transport_wide_cc_ext);
	g_assert_cmpint(a->record, ==, b->record);
	g_assert_cmpint(a->lock_record, ==, b->lock_record);
	g_assert_cmpstr(a->rec_dir, ==, b->rec_dir);
	g_assert_cmpint(a->dummy_publisher, ==, b->dummy_publisher);
}

/* A `create` body with every room key set away from its default, but for
 * the unsupported ones (signed_tokens, record, dummy_publisher: refused
 * when true, see test_unsupported in test_vr_config_janus.c). */
static const char full_body[] =
	"{\"room\":1234,\"permanent\":true,\"description\":\"Demo\",\"is_private\":true,"
	"\"secret\":\"s3\",\"pin\":\"p1\",\"allowed\":[\"t1\",\"t2\"],\"require_pvtid\":true,"
	"\"signed_tokens\":false,\"require_e2ee\":true,\"notify_joining\":true,"
	"\"publishers\":6,\"bitrate\":128000,\"bitrate_cap\":true,\"fir_freq\":10,"
	"\"audiocodec\":\"opus,pcmu\",\"videocodec\":\"vp9,h264\",\"vp9_profile\":\"2\","
	"\"h264_profile\":\"42e01f\",\"opus_fec\":false,\"opus_dtx\":true,"
	"\"audiolevel_ext\":false,\"audiolevel_event\":true,\"audio_active_packets\":50,"
	"\"audio_level_average\":40,\"videoorient_ext\":false,\"playoutdelay_ext\":false,"
	"\"transport_wide_cc_ext\":false,\"record\":false,\"rec_dir\":\"/var/rec\","
	"\"lock_record\":true,\"dummy_publisher\":false,\"threads\":2,\"no_such_key\":[1]}";

void full_settings(vr_settings *s)
{
	char err[256];

	g_assert_cmpint(apply_api(s, 0, full_body, err, sizeof(err)), ==, 0);
}

static void on_room(const vr_settings *s, void *user)
{
	loaded *l = user;
	vr_settings copy;

	vr_settings_copy(&copy, s);
	g_array_append_val(l->rooms, copy);
}

static void on_skip(const char *section, const char *reason, void *user)
{
	loaded *l = user;

	g_ptr_array_add(l->skipped, g_strdup_printf("%s: %s", section, reason));
}

static void loaded_init(loaded *l)
{
	l->rooms = g_array_new(FALSE, TRUE, sizeof(vr_settings));
	l->skipped = g_ptr_array_new_with_free_func(g_free);
}

void loaded_free(loaded *l)
{
	for (guint i = 0; i < l->rooms->len; i++)
		vr_settings_clear(&g_array_index(l->rooms, vr_settings, i));
	g_array_free(l->rooms, TRUE);
	g_ptr_array_free(l->skipped, TRUE);
}

const vr_settings *loaded_room(const loaded *l, guint64 id)
{
	for (guint i = 0; i < l->rooms->len; i++)
		if (g_array_index(l->rooms, vr_settings, i).room == id)
			return &g_array_index(l->rooms, vr_settings, i);
	return NULL;
}

int load(const char *path, vr_general *g, loaded *l, char *err, size_t errlen)
{
	loaded_init(l);
	err[0] = '\0';
	return vr_config_load(path, g, on_room, on_skip, l, err, errlen);
}

const char sample_text[] =
	"# a comment\n"
	"general: {\n"
	"\tadmin_key = \"supersecret\"\n"
	"\tlock_rtp_forward = true\n"
	"\tevents = false\n"
	"\tstring_ids = false\n"
	"}\n"
	"room-1234: {\n"
	"\tdescription = \"Demo Room\"\n"
	"\tsecret = \"adminpwd\"\n"
	"\tpublishers = 6\n"
	"\tbitrate = 128000\n"
	"\tfir_freq = 10\n"
	"\trecord = false\n"
	"}\n"
	"room-abc: {\n"
	"\tdescription = \"not a number\"\n"
	"}\n"
	"room-77: {\n"
	"\taudiocodec = \"PCMU, pcma\"\n"
	"\tvideocodec = \"h264\"\n"
	"\tbitrate = 1000\n"
	"\tnotify_joining = true\n"
	"}\n";
