/*
 * test_vr_config_janus.c: the VideoRoom config file as Janus writes it, the
 * built-in default when there is none, and the room options Stoa refuses.
 *
 * The Janus file below is byte for byte what Debian's janus 1.1.2 wrote
 * after `create` with "permanent": true (rooms 4321 with every key it saves
 * set away from its default, 4322 with defaults then `edit`, 4323 with
 * record and dummy_publisher): every value a string ("yes", "6"). 4324 is
 * 4323 without the two options Stoa refuses.
 */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "vr_settings_util.h"

static const char janus_written[] =
	"#\n"
	"# File automatically generated on Sat Nov 21 09:53:33 2026\n"
	"#\n"
	"\n"
	"general : \n"
	"{\n"
	"};\n"
	"room-4321 : \n"
	"{\n"
	"  description = \"All keys\";\n"
	"  is_private = \"yes\";\n"
	"  require_pvtid = \"yes\";\n"
	"  require_e2ee = \"yes\";\n"
	"  bitrate = \"128000\";\n"
	"  bitrate_cap = \"yes\";\n"
	"  publishers = \"6\";\n"
	"  fir_freq = \"10\";\n"
	"  audiocodec = \"opus,pcmu\";\n"
	"  videocodec = \"vp8,h264\";\n"
	"  h264_profile = \"42e01f\";\n"
	"  opus_dtx = \"yes\";\n"
	"  secret = \"s3\";\n"
	"  pin = \"p1\";\n"
	"  audiolevel_ext = \"no\";\n"
	"  videoorient_ext = \"no\";\n"
	"  playoutdelay_ext = \"no\";\n"
	"  transport_wide_cc_ext = \"no\";\n"
	"  notify_joining = \"yes\";\n"
	"  rec_dir = \"/tmp/rec\";\n"
	"  lock_record = \"yes\";\n"
	"};\n"
	"room-4322 : \n"
	"{\n"
	"  description = \"edited\";\n"
	"  bitrate = \"256000\";\n"
	"  publishers = \"3\";\n"
	"  audiocodec = \"opus\";\n"
	"  videocodec = \"vp8\";\n"
	"  opus_fec = \"yes\";\n"
	"  audiolevel_ext = \"yes\";\n"
	"  videoorient_ext = \"yes\";\n"
	"  playoutdelay_ext = \"yes\";\n"
	"  transport_wide_cc_ext = \"yes\";\n"
	"};\n"
	"room-4323 : \n"
	"{\n"
	"  description = \"Room 4323\";\n"
	"  dummy_publisher = \"yes\";\n"
	"  bitrate = \"0\";\n"
	"  publishers = \"3\";\n"
	"  audiocodec = \"pcmu\";\n"
	"  videocodec = \"vp9,vp8\";\n"
	"  vp9_profile = \"2\";\n"
	"  audiolevel_ext = \"yes\";\n"
	"  audiolevel_event = \"yes\";\n"
	"  audio_active_packets = \"50\";\n"
	"  audio_level_average = \"40\";\n"
	"  videoorient_ext = \"yes\";\n"
	"  playoutdelay_ext = \"yes\";\n"
	"  transport_wide_cc_ext = \"yes\";\n"
	"  record = \"yes\";\n"
	"  rec_dir = \"/tmp/rec\";\n"
	"};\n"
	/* 4323 as Janus would write it without record and dummy_publisher. */
	"room-4324 : \n"
	"{\n"
	"  description = \"Room 4324\";\n"
	"  bitrate = \"0\";\n"
	"  publishers = \"3\";\n"
	"  audiocodec = \"pcmu\";\n"
	"  videocodec = \"vp9,vp8\";\n"
	"  vp9_profile = \"2\";\n"
	"  audiolevel_ext = \"yes\";\n"
	"  audiolevel_event = \"yes\";\n"
	"  audio_active_packets = \"50\";\n"
	"  audio_level_average = \"40\";\n"
	"  videoorient_ext = \"yes\";\n"
	"  playoutdelay_ext = \"yes\";\n"
	"  transport_wide_cc_ext = \"yes\";\n"
	"};\n";

static char *temp_file(const char *text)
{
	GError *e = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("vr-janus-XXXXXX.jcfg", &path, &e);

	g_assert_no_error(e);
	close(fd);
	if (text != NULL)
		g_assert_true(g_file_set_contents(path, text, -1, NULL));
	else
		g_unlink(path);
	return path;
}

/* Every key Janus writes is read with the value Janus meant. */
static void test_janus_written(void)
{
	char *path = temp_file(janus_written);
	const vr_settings *r;
	char *codecs;
	vr_general g;
	char err[256];
	loaded l;

	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 3);
	r = loaded_room(&l, 4321);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->description, ==, "All keys");
	g_assert_true(r->is_private && r->require_pvtid && r->require_e2ee && r->bitrate_cap);
	g_assert_true(r->notify_joining && r->lock_record && r->opus_dtx);
	g_assert_cmpuint(r->bitrate, ==, 128000);
	g_assert_cmpint(r->publishers, ==, 6);
	g_assert_cmpint(r->fir_freq, ==, 10);
	codecs = vr_settings_codecs(r->acodec);
	g_assert_cmpstr(codecs, ==, "opus,pcmu");
	g_free(codecs);
	codecs = vr_settings_codecs(r->vcodec);
	g_assert_cmpstr(codecs, ==, "vp8,h264");
	g_free(codecs);
	g_assert_cmpstr(r->h264_profile, ==, "42e01f");
	g_assert_cmpstr(r->secret, ==, "s3");
	g_assert_cmpstr(r->pin, ==, "p1");
	g_assert_cmpstr(r->rec_dir, ==, "/tmp/rec");
	/* Janus leaves out opus_fec when it is off, and the default is on. */
	g_assert_true(r->opus_fec);
	g_assert_false(r->audiolevel_ext || r->videoorient_ext || r->playoutdelay_ext ||
		       r->transport_wide_cc_ext);
	r = loaded_room(&l, 4322);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->description, ==, "edited");
	g_assert_cmpuint(r->bitrate, ==, 256000);
	g_assert_cmpint(r->publishers, ==, 3);
	g_assert_true(r->opus_fec && r->audiolevel_ext && r->transport_wide_cc_ext);
	r = loaded_room(&l, 4324);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->vp9_profile, ==, "2");
	g_assert_true(r->audiolevel_event);
	g_assert_cmpint(r->audio_active_packets, ==, 50);
	g_assert_cmpint(r->audio_level_average, ==, 40);
	g_assert_cmpuint(r->bitrate, ==, 0);
	g_assert_false(r->opus_fec); /* no opus in the room */
	/* Record and a dummy publisher are refused, with the reason. */
	g_assert_cmpuint(l.skipped->len, ==, 1);
	g_assert_cmpstr(l.skipped->pdata[0], ==,
			"room-4323: Invalid value (record = true is not supported: this server "
			"does not record)");
	loaded_free(&l);
	vr_general_clear(&g);
	g_unlink(path);
	g_free(path);
}

/* The string forms: any case, 1/0, and the general section too; what is
 * not one of them is still refused. */
static void test_string_forms(void)
{
	char *path = temp_file("general: { string_ids = \"No\"; lock_rtp_forward = \"TRUE\"; }\n"
			       "room-1: { is_private = \"True\"; notify_joining = \"1\"; "
			       "audio_level_average = \"0\"; audiolevel_event = \"YES\"; }\n"
			       "room-2: { publishers = \"-1\"; }\n"
			       "room-3: { publishers = \" 6\"; }\n"
			       "room-4: { bitrate_cap = \"on\"; }\n"
			       "room-5: { audio_level_average = \"128\"; }\n");
	const vr_settings *r;
	vr_general g;
	char err[256];
	loaded l;

	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_false(g.string_ids);
	g_assert_true(g.lock_rtp_forward);
	g_assert_cmpuint(l.rooms->len, ==, 1);
	r = loaded_room(&l, 1);
	g_assert_true(r->is_private && r->notify_joining && r->audiolevel_event);
	g_assert_cmpint(r->audio_level_average, ==, 0);
	g_assert_cmpuint(l.skipped->len, ==, 4);
	g_assert_cmpstr(l.skipped->pdata[0], ==,
			"room-2: Invalid element type (publishers should be a positive integer)");
	g_assert_cmpstr(l.skipped->pdata[1], ==,
			"room-3: Invalid element type (publishers should be a positive integer)");
	g_assert_cmpstr(l.skipped->pdata[2], ==,
			"room-4: Invalid element type (bitrate_cap should be a boolean)");
	g_assert_cmpstr(l.skipped->pdata[3], ==,
			"room-5: Invalid value (audio_level_average should be at most 127)");
	loaded_free(&l);
	vr_general_clear(&g);
	g_unlink(path);
	g_free(path);
}

/* The API keeps strict JSON types: "yes" is not a boolean there. */
static void test_api_strict(void)
{
	json_t *body = json_loads("{\"is_private\":\"yes\"}", 0, NULL);
	char err[256];
	vr_settings s;

	vr_settings_init(&s);
	g_assert_cmpint(vr_settings_apply(&s, body, false, NULL, err, sizeof(err)), ==,
			VR_ERR_INVALID_ELEMENT);
	g_assert_cmpstr(err, ==, "Invalid element type (is_private should be a boolean)");
	json_decref(body);
	vr_settings_clear(&s);
}

/* signed_tokens, record and dummy_publisher: true is refused with the
 * reason, false (their default) is accepted. */
static void test_unsupported(void)
{
	static const struct {
		const char *body, *err;
	} cases[] = {
		{ "{\"signed_tokens\":true}",
		  "Invalid value (signed_tokens = true is not supported: room tokens are not "
		  "checked by this server; use pin, allowed or the core's token_auth)" },
		{ "{\"record\":true,\"rec_dir\":\"/tmp\"}",
		  "Invalid value (record = true is not supported: this server does not record)" },
		{ "{\"dummy_publisher\":true}",
		  "Invalid value (dummy_publisher = true is not supported: this server has no "
		  "dummy publishers)" },
		{ "{\"signed_tokens\":false,\"record\":false,\"dummy_publisher\":false,"
		  "\"lock_record\":true,\"rec_dir\":\"/tmp\"}", NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_t *body = json_loads(cases[i].body, 0, NULL);
		char err[256] = "";
		vr_settings s;
		int rc;

		vr_settings_init(&s);
		s.room = 9;
		rc = vr_settings_apply(&s, body, false, NULL, err, sizeof(err));
		if (cases[i].err == NULL) {
			g_assert_cmpint(rc, ==, 0);
			g_assert_true(s.lock_record);
		} else {
			g_assert_cmpint(rc, ==, VR_ERR_INVALID_ELEMENT);
			g_assert_cmpstr(err, ==, cases[i].err);
			/* A refused body leaves the settings as they were. */
			g_assert_null(s.rec_dir);
		}
		json_decref(body);
		vr_settings_clear(&s);
	}
}

/* No file reads as the shipped sample; a permanent room saved with no file
 * keeps room 1234 in the file it creates. */
static void test_default_is_sample(void)
{
	const char *srcdir = g_getenv("STOA_SRCDIR");
	char *here = g_path_get_dirname(__FILE__);
	char *sample = srcdir != NULL
			       ? g_build_filename(srcdir, "conf", "janus.plugin.videoroom.jcfg.sample",
						  NULL)
			       : g_build_filename(here, "..", "..", "conf",
						  "janus.plugin.videoroom.jcfg.sample", NULL);
	char *missing = temp_file(NULL), *err_text;
	json_t *a, *b;
	vr_general g;
	loaded ls, lm;
	char err[256];
	vr_settings s;

	g_free(here);
	if (!g_file_test(sample, G_FILE_TEST_EXISTS)) {
		g_test_skip("the sample config is not reachable (set STOA_SRCDIR)");
		g_free(sample);
		g_free(missing);
		return;
	}
	g_assert_cmpint(load(sample, &g, &ls, err, sizeof(err)), ==, 0);
	vr_general_clear(&g);
	g_assert_cmpint(load(missing, &g, &lm, err, sizeof(err)), ==, 0);
	vr_general_clear(&g);
	g_assert_cmpuint(ls.rooms->len, ==, lm.rooms->len);
	for (guint i = 0; i < ls.rooms->len; i++) {
		a = vr_settings_list_entry(&g_array_index(ls.rooms, vr_settings, i));
		b = vr_settings_list_entry(&g_array_index(lm.rooms, vr_settings, i));
		err_text = json_dumps(b, JSON_SORT_KEYS);
		g_assert_true(json_equal(a, b) || (g_printerr("# %s\n", err_text), FALSE));
		g_free(err_text);
		json_decref(a);
		json_decref(b);
	}
	g_assert_nonnull(loaded_room(&lm, 1234));
	loaded_free(&ls);
	loaded_free(&lm);

	vr_settings_init(&s);
	s.room = 77;
	s.description = g_strdup("saved");
	g_assert_cmpint(vr_config_save_room(missing, &s, err, sizeof(err)), ==, 0);
	vr_settings_clear(&s);
	g_assert_cmpint(load(missing, &g, &lm, err, sizeof(err)), ==, 0);
	vr_general_clear(&g);
	g_assert_nonnull(loaded_room(&lm, 77));
	g_assert_nonnull(loaded_room(&lm, 1234));
	loaded_free(&lm);
	/* Destroying room 1234 for good with no file writes a file without it. */
	g_unlink(missing);
	g_assert_cmpint(vr_config_remove_room(missing, 1234, err, sizeof(err)), ==, 0);
	g_assert_cmpint(load(missing, &g, &lm, err, sizeof(err)), ==, 0);
	vr_general_clear(&g);
	g_assert_cmpuint(lm.rooms->len, ==, 0);
	loaded_free(&lm);
	g_unlink(missing);
	g_free(missing);
	g_free(sample);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vr_config/janus_written", test_janus_written);
	g_test_add_func("/vr_config/string_forms", test_string_forms);
	g_test_add_func("/vr_settings/api_strict", test_api_strict);
	g_test_add_func("/vr_settings/unsupported", test_unsupported);
	g_test_add_func("/vr_config/default_is_sample", test_default_is_sample);
	return g_test_run();
}
