/*
 * test_vr_settings.c: unit tests for plugins/videoroom/settings.c, a
 * VideoRoom room's settings and the plugin's config file.
 *
 * Covers Janus's defaults, a full `create` body, every type error (430 with
 * the field named), codec lists, the bitrate floor, opus_fec without opus,
 * `edit`, the `list` entry, and the config file: loading (general, rooms,
 * skipped sections, parse errors) and the atomic rewrite (round trip, other
 * sections kept, removal, no temporary files left, links and permissions).
 * Files live in a g_dir_make_tmp folder removed at the end; the suite runs
 * under LeakSanitizer in the sanitizer build.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "settings.h"

static char *tmp_dir;

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);

	if (v == NULL)
		g_error("bad JSON in test: %s: %s", text, e.text);
	return v;
}

/* Applies the `create` body `text` over fresh defaults with room id `room`. */
static int apply_api(vr_settings *s, guint64 room, const char *text, char *err, size_t errlen)
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

static char *tmp_path(const char *name)
{
	return g_build_filename(tmp_dir, name, NULL);
}

static void write_file(const char *path, const char *text)
{
	GError *e = NULL;

	if (!g_file_set_contents(path, text, -1, &e))
		g_error("%s: %s", path, e->message);
}

static char *read_file(const char *path)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* The room's list entry must equal the JSON `want`. */
static void assert_entry(const vr_settings *s, const char *want)
{
	json_t *got = vr_settings_list_entry(s), *w = js(want);

	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *x = json_dumps(w, JSON_SORT_KEYS);

		g_test_message("got  %s\nwant %s", g, x);
		free(g);
		free(x);
		g_test_fail();
	}
	json_decref(got);
	json_decref(w);
}

static void assert_codecs(char *const *list, const char *want)
{
	char *got = vr_settings_codecs(list);

	g_assert_cmpstr(got, ==, want);
	g_free(got);
}

static void assert_settings_equal(const vr_settings *a, const vr_settings *b)
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
 * when true, see test_unsupported). */
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

static void full_settings(vr_settings *s)
{
	char err[256];

	g_assert_cmpint(apply_api(s, 0, full_body, err, sizeof(err)), ==, 0);
}

/* ---------------------------------------------------------------- settings */

static void test_defaults(void)
{
	vr_settings s;

	vr_settings_init(&s);
	g_assert_cmpuint(s.room, ==, 0);
	g_assert_null(s.description);
	g_assert_null(s.secret);
	g_assert_null(s.pin);
	g_assert_false(s.is_private);
	g_assert_false(s.require_pvtid);
	g_assert_false(s.signed_tokens);
	g_assert_false(s.require_e2ee);
	g_assert_false(s.notify_joining);
	g_assert_cmpint(s.publishers, ==, 3);
	g_assert_cmpuint(s.bitrate, ==, 0);
	g_assert_false(s.bitrate_cap);
	g_assert_cmpint(s.fir_freq, ==, 0);
	assert_codecs(s.acodec, "opus");
	assert_codecs(s.vcodec, "vp8");
	g_assert_null(s.acodec[1]);
	g_assert_null(s.vcodec[1]);
	g_assert_null(s.vp9_profile);
	g_assert_null(s.h264_profile);
	g_assert_true(s.opus_fec);
	g_assert_false(s.opus_dtx);
	g_assert_true(s.audiolevel_ext);
	g_assert_false(s.audiolevel_event);
	g_assert_cmpint(s.audio_active_packets, ==, 100);
	g_assert_cmpint(s.audio_level_average, ==, 25);
	g_assert_true(s.videoorient_ext);
	g_assert_true(s.playoutdelay_ext);
	g_assert_true(s.transport_wide_cc_ext);
	g_assert_false(s.record);
	g_assert_false(s.lock_record);
	g_assert_null(s.rec_dir);
	g_assert_false(s.dummy_publisher);
	vr_settings_clear(&s);
	vr_settings_clear(&s); /* clearing twice is harmless */
}

static void test_apply_full(void)
{
	vr_settings s;

	full_settings(&s);
	g_assert_cmpuint(s.room, ==, 1234);
	g_assert_cmpstr(s.description, ==, "Demo");
	g_assert_true(s.is_private);
	g_assert_cmpstr(s.secret, ==, "s3");
	g_assert_cmpstr(s.pin, ==, "p1");
	g_assert_true(s.require_pvtid);
	g_assert_false(s.signed_tokens);
	g_assert_true(s.require_e2ee);
	g_assert_true(s.notify_joining);
	g_assert_cmpint(s.publishers, ==, 6);
	g_assert_cmpuint(s.bitrate, ==, 128000);
	g_assert_true(s.bitrate_cap);
	g_assert_cmpint(s.fir_freq, ==, 10);
	assert_codecs(s.acodec, "opus,pcmu");
	assert_codecs(s.vcodec, "vp9,h264");
	g_assert_cmpstr(s.vp9_profile, ==, "2");
	g_assert_cmpstr(s.h264_profile, ==, "42e01f");
	g_assert_false(s.opus_fec);
	g_assert_true(s.opus_dtx);
	g_assert_false(s.audiolevel_ext);
	g_assert_true(s.audiolevel_event);
	g_assert_cmpint(s.audio_active_packets, ==, 50);
	g_assert_cmpint(s.audio_level_average, ==, 40);
	g_assert_false(s.videoorient_ext);
	g_assert_false(s.playoutdelay_ext);
	g_assert_false(s.transport_wide_cc_ext);
	g_assert_false(s.record);
	g_assert_cmpstr(s.rec_dir, ==, "/var/rec");
	g_assert_true(s.lock_record);
	g_assert_false(s.dummy_publisher);
	vr_settings_clear(&s);
}

static void test_apply_room_and_description(void)
{
	vr_settings s;
	char err[256];
	json_t *obj;

	/* No room in the body: the id the caller picked stays, and names the room. */
	g_assert_cmpint(apply_api(&s, 99, "{}", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(s.room, ==, 99);
	g_assert_cmpstr(s.description, ==, "Room 99");
	vr_settings_clear(&s);
	/* Room 0 means "pick one", as in Janus. */
	g_assert_cmpint(apply_api(&s, 99, "{\"room\":0}", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(s.room, ==, 99);
	vr_settings_clear(&s);
	g_assert_cmpint(apply_api(&s, 99, "{\"room\":42,\"description\":\"\"}", err, sizeof(err)),
			==, 0);
	g_assert_cmpuint(s.room, ==, 42);
	g_assert_cmpstr(s.description, ==, "Room 42");
	vr_settings_clear(&s);

	/* From the config: the section name, and room/permanent/allowed are not read. */
	obj = js("{\"room\":\"x\",\"permanent\":\"x\",\"allowed\":5,\"publishers\":2}");
	vr_settings_init(&s);
	s.room = 7;
	g_assert_cmpint(vr_settings_apply(&s, obj, true, "room-7", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(s.room, ==, 7);
	g_assert_cmpstr(s.description, ==, "room-7");
	g_assert_cmpint(s.publishers, ==, 2);
	json_decref(obj);
	obj = js("{\"description\":\"Lobby\"}");
	g_assert_cmpint(vr_settings_apply(&s, obj, true, "room-7", err, sizeof(err)), ==, 0);
	g_assert_cmpstr(s.description, ==, "Lobby");
	json_decref(obj);
	/* Applying over existing settings changes only what the body names. */
	g_assert_cmpint(s.publishers, ==, 2);

	/* A body that is not an object. */
	obj = js("[1]");
	g_assert_cmpint(vr_settings_apply(&s, obj, false, NULL, err, sizeof(err)), ==,
			VR_ERR_INVALID_JSON);
	json_decref(obj);
	g_assert_cmpstr(s.description, ==, "Lobby");
	vr_settings_clear(&s);
}

/* Every bad value gives 430, names the field, and leaves `s` untouched. */
static void expect_invalid(const char *body, const char *field, const char *want)
{
	vr_settings s, before;
	char err[256];
	json_t *obj = js(body);

	full_settings(&s);
	vr_settings_copy(&before, &s);
	err[0] = '\0';
	g_assert_cmpint(vr_settings_apply(&s, obj, false, NULL, err, sizeof(err)), ==,
			VR_ERR_INVALID_ELEMENT);
	if (strstr(err, field) == NULL)
		g_error("%s: error \"%s\" does not name %s", body, err, field);
	if (want != NULL)
		g_assert_cmpstr(err, ==, want);
	assert_settings_equal(&s, &before);
	vr_settings_clear(&before);
	vr_settings_clear(&s);
	json_decref(obj);
}

static void test_type_errors(void)
{
	static const char *const bools[] = {
		"is_private",	   "require_pvtid",    "signed_tokens",	      "require_e2ee",
		"notify_joining",  "bitrate_cap",      "opus_fec",	      "opus_dtx",
		"audiolevel_ext",  "audiolevel_event", "videoorient_ext",     "playoutdelay_ext",
		"transport_wide_cc_ext", "record",     "lock_record",	      "dummy_publisher",
		"permanent",
	};
	static const char *const ints[] = {
		"room", "publishers", "bitrate", "fir_freq", "audio_active_packets",
		"audio_level_average",
	};
	static const char *const strings[] = {
		"description", "secret", "pin", "vp9_profile", "h264_profile", "rec_dir",
		"audiocodec",  "videocodec",
	};
	static const char *const not_bools[] = { "\"true\"", "1", "0", "null", "[]", "{}" };
	static const char *const not_ints[] = { "\"6\"", "-1", "1.5", "true", "null", "[6]" };
	static const char *const not_strings[] = { "5", "true", "null", "[\"opus\"]", "{}" };

	for (size_t i = 0; i < G_N_ELEMENTS(bools); i++)
		for (size_t j = 0; j < G_N_ELEMENTS(not_bools); j++) {
			char *body = g_strdup_printf("{\"%s\":%s}", bools[i], not_bools[j]);
			char *want = g_strdup_printf("Invalid element type (%s should be a boolean)",
						     bools[i]);

			expect_invalid(body, bools[i], want);
			g_free(body);
			g_free(want);
		}
	for (size_t i = 0; i < G_N_ELEMENTS(ints); i++)
		for (size_t j = 0; j < G_N_ELEMENTS(not_ints); j++) {
			char *body = g_strdup_printf("{\"%s\":%s}", ints[i], not_ints[j]);
			char *want = g_strdup_printf(
				"Invalid element type (%s should be a positive integer)", ints[i]);

			expect_invalid(body, ints[i], want);
			g_free(body);
			g_free(want);
		}
	for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
		for (size_t j = 0; j < G_N_ELEMENTS(not_strings); j++) {
			char *body = g_strdup_printf("{\"%s\":%s}", strings[i], not_strings[j]);
			char *want = g_strdup_printf("Invalid element type (%s should be a string)",
						     strings[i]);

			expect_invalid(body, strings[i], want);
			g_free(body);
			g_free(want);
		}

	/* The brief's example, verbatim. */
	expect_invalid("{\"publishers\":\"6\"}", "publishers",
		       "Invalid element type (publishers should be a positive integer)");
	/* Values of the right type out of range. */
	expect_invalid("{\"publishers\":0}", "publishers",
		       "Invalid value (publishers should be at least 1)");
	expect_invalid("{\"publishers\":2147483648}", "publishers",
		       "Invalid value (publishers should be at most 2147483647)");
	expect_invalid("{\"bitrate\":4294967296}", "bitrate",
		       "Invalid value (bitrate should be at most 4294967295)");
	expect_invalid("{\"fir_freq\":2147483648}", "fir_freq", NULL);
	expect_invalid("{\"audio_active_packets\":0}", "audio_active_packets", NULL);
	expect_invalid("{\"audio_level_average\":128}", "audio_level_average",
		       "Invalid value (audio_level_average should be at most 127)");
	expect_invalid("{\"secret\":\"a\\u0000b\"}", "secret",
		       "Invalid value (secret contains a NUL character)");
	expect_invalid("{\"allowed\":\"t1\"}", "allowed",
		       "Invalid element type (allowed should be an array)");
	expect_invalid("{\"allowed\":[\"t1\",2]}", "allowed",
		       "Invalid element type (allowed should be an array of strings)");
	/* The first bad key in table order is reported, and the good key before it
	 * (publishers) is not applied either. */
	expect_invalid("{\"record\":1,\"publishers\":9,\"bitrate\":\"x\"}", "bitrate",
		       "Invalid element type (bitrate should be a positive integer)");
}

static void expect_codecs(const char *key, const char *value, const char *want)
{
	char *body = g_strdup_printf("{\"%s\":\"%s\"}", key, value);
	vr_settings s;
	char err[256];

	g_assert_cmpint(apply_api(&s, 1, body, err, sizeof(err)), ==, 0);
	assert_codecs(strcmp(key, "audiocodec") == 0 ? s.acodec : s.vcodec, want);
	vr_settings_clear(&s);
	g_free(body);
}

static void test_codecs(void)
{
	expect_codecs("audiocodec", "OPUS, PCMU", "opus,pcmu");
	expect_codecs("audiocodec", " pcma ,\\tg722 ", "pcma,g722");
	expect_codecs("audiocodec", "opus,opus,pcmu", "opus,pcmu");
	expect_codecs("audiocodec", "opus,,pcmu,", "opus,pcmu");
	expect_codecs("audiocodec", "L16-48,l16,multiopus,isac32,isac16",
		      "l16-48,l16,multiopus,isac32,isac16");
	expect_codecs("audiocodec", "pcmu,pcma,g722,isac16,isac32,pcmu", "pcmu,pcma,g722,isac16,isac32");
	expect_codecs("videocodec", "VP9,h264,AV1,h265,vp8", "vp9,h264,av1,h265,vp8");
	expect_codecs("videocodec", "h264", "h264");

	expect_invalid("{\"audiocodec\":\"opus,pcmu,pcma,g722,isac16,isac32\"}", "audiocodec",
		       "Invalid element (audiocodec has more than 5 codecs)");
	expect_invalid("{\"videocodec\":\"vp8,vp9,h264,av1,h265,vp8x\"}", "videocodec",
		       "Invalid element (videocodec)");
	expect_invalid("{\"audiocodec\":\"opus,speex\"}", "audiocodec",
		       "Invalid element (audiocodec)");
	expect_invalid("{\"audiocodec\":\"vp8\"}", "audiocodec", "Invalid element (audiocodec)");
	expect_invalid("{\"videocodec\":\"opus\"}", "videocodec", "Invalid element (videocodec)");
	expect_invalid("{\"videocodec\":\"vp8 vp9\"}", "videocodec",
		       "Invalid element (videocodec)");
	expect_invalid("{\"audiocodec\":\"\"}", "audiocodec", "Invalid element (audiocodec)");
	expect_invalid("{\"audiocodec\":\" , \"}", "audiocodec", "Invalid element (audiocodec)");
	expect_invalid("{\"audiocodec\":\"opus\\u0000pcmu\"}", "audiocodec",
		       "Invalid element (audiocodec)");

	/* The printed form. */
	{
		char *none[] = { NULL };
		char *two[] = { (char *)"opus", (char *)"pcmu", NULL };

		assert_codecs(none, "");
		assert_codecs(two, "opus,pcmu");
		assert_codecs(NULL, "");
	}
}

static void test_bitrate_raise(void)
{
	static const struct {
		const char *body;
		uint32_t want;
	} cases[] = {
		{ "{\"bitrate\":0}", 0 },	  { "{\"bitrate\":1}", 64000 },
		{ "{\"bitrate\":63999}", 64000 }, { "{\"bitrate\":64000}", 64000 },
		{ "{\"bitrate\":64001}", 64001 }, { "{\"bitrate\":4294967295}", 4294967295u },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		vr_settings s;
		char err[256];

		g_assert_cmpint(apply_api(&s, 1, cases[i].body, err, sizeof(err)), ==, 0);
		g_assert_cmpuint(s.bitrate, ==, cases[i].want);
		vr_settings_clear(&s);
	}
}

static void test_opus_fec_forced_off(void)
{
	vr_settings s;
	char err[256];

	g_assert_cmpint(apply_api(&s, 1, "{\"audiocodec\":\"pcmu\",\"opus_fec\":true}", err,
				  sizeof(err)), ==, 0);
	g_assert_false(s.opus_fec);
	vr_settings_clear(&s);
	g_assert_cmpint(apply_api(&s, 1, "{\"audiocodec\":\"multiopus\"}", err, sizeof(err)), ==,
			0);
	g_assert_false(s.opus_fec);
	vr_settings_clear(&s);
	/* opus anywhere in the list keeps the default (on). */
	g_assert_cmpint(apply_api(&s, 1, "{\"audiocodec\":\"pcmu,Opus\"}", err, sizeof(err)), ==,
			0);
	g_assert_true(s.opus_fec);
	vr_settings_clear(&s);
	g_assert_cmpint(apply_api(&s, 1, "{\"opus_fec\":false}", err, sizeof(err)), ==, 0);
	g_assert_false(s.opus_fec);
	vr_settings_clear(&s);
}

static void test_edit(void)
{
	vr_settings s, before;
	char err[256];
	json_t *body;

	full_settings(&s);
	body = js("{\"room\":1234,\"secret\":\"s3\",\"permanent\":false,"
		  "\"new_description\":\"Renamed\",\"new_is_private\":false,"
		  "\"new_secret\":\"s4\",\"new_pin\":\"p2\",\"new_require_pvtid\":false,"
		  "\"new_bitrate\":100,\"new_fir_freq\":3,\"new_publishers\":12,"
		  "\"new_lock_record\":false,\"new_rec_dir\":\"/srv/rec\","
		  "\"publishers\":99,\"description\":\"ignored\"}");
	g_assert_cmpint(vr_settings_edit(&s, body, err, sizeof(err)), ==, 0);
	json_decref(body);
	g_assert_cmpstr(s.description, ==, "Renamed");
	g_assert_false(s.is_private);
	g_assert_cmpstr(s.secret, ==, "s4");
	g_assert_cmpstr(s.pin, ==, "p2");
	g_assert_false(s.require_pvtid);
	g_assert_cmpuint(s.bitrate, ==, 64000); /* raised, as on create */
	g_assert_cmpint(s.fir_freq, ==, 3);
	g_assert_cmpint(s.publishers, ==, 12);
	g_assert_false(s.lock_record);
	g_assert_cmpstr(s.rec_dir, ==, "/srv/rec");
	/* Untouched keys. */
	g_assert_cmpuint(s.room, ==, 1234);
	g_assert_true(s.opus_dtx);
	assert_codecs(s.acodec, "opus,pcmu");

	/* An empty new_description keeps the old one; an empty body changes nothing. */
	body = js("{\"new_description\":\"\"}");
	g_assert_cmpint(vr_settings_edit(&s, body, err, sizeof(err)), ==, 0);
	json_decref(body);
	g_assert_cmpstr(s.description, ==, "Renamed");

	/* Errors leave the room as it was. */
	vr_settings_copy(&before, &s);
	{
		static const struct {
			const char *body, *want;
		} bad[] = {
			{ "{\"new_publishers\":\"x\"}",
			  "Invalid element type (new_publishers should be a positive integer)" },
			{ "{\"new_publishers\":0}",
			  "Invalid value (new_publishers should be at least 1)" },
			{ "{\"new_bitrate\":-5}",
			  "Invalid element type (new_bitrate should be a positive integer)" },
			{ "{\"new_fir_freq\":1.5}",
			  "Invalid element type (new_fir_freq should be a positive integer)" },
			{ "{\"new_is_private\":\"yes\"}",
			  "Invalid element type (new_is_private should be a boolean)" },
			{ "{\"new_require_pvtid\":1}",
			  "Invalid element type (new_require_pvtid should be a boolean)" },
			{ "{\"new_lock_record\":null}",
			  "Invalid element type (new_lock_record should be a boolean)" },
			{ "{\"new_secret\":1}", "Invalid element type (new_secret should be a string)" },
			{ "{\"new_pin\":false}", "Invalid element type (new_pin should be a string)" },
			{ "{\"new_description\":[]}",
			  "Invalid element type (new_description should be a string)" },
			{ "{\"new_rec_dir\":{}}", "Invalid element type (new_rec_dir should be a string)" },
			{ "{\"new_pin\":\"x\",\"new_publishers\":-1}",
			  "Invalid element type (new_publishers should be a positive integer)" },
		};

		for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
			body = js(bad[i].body);
			g_assert_cmpint(vr_settings_edit(&s, body, err, sizeof(err)), ==,
					VR_ERR_INVALID_ELEMENT);
			g_assert_cmpstr(err, ==, bad[i].want);
			json_decref(body);
			assert_settings_equal(&s, &before);
		}
	}
	body = js("\"x\"");
	g_assert_cmpint(vr_settings_edit(&s, body, err, sizeof(err)), ==, VR_ERR_INVALID_JSON);
	json_decref(body);
	vr_settings_clear(&before);
	vr_settings_clear(&s);
}

static void test_list_entry(void)
{
	vr_settings s;
	char err[256];

	full_settings(&s);
	assert_entry(&s, "{\"room\":1234,\"description\":\"Demo\",\"pin_required\":true,"
			 "\"is_private\":true,\"max_publishers\":6,\"bitrate\":128000,"
			 "\"bitrate_cap\":true,\"fir_freq\":10,\"require_pvtid\":true,"
			 "\"require_e2ee\":true,\"dummy_publisher\":false,\"notify_joining\":true,"
			 "\"audiocodec\":\"opus,pcmu\",\"videocodec\":\"vp9,h264\","
			 "\"opus_dtx\":true,\"record\":false,\"rec_dir\":\"/var/rec\","
			 "\"lock_record\":true,\"audiolevel_ext\":false,\"audiolevel_event\":true,"
			 "\"audio_active_packets\":50,\"audio_level_average\":40,"
			 "\"videoorient_ext\":false,\"playoutdelay_ext\":false,"
			 "\"transport_wide_cc_ext\":false}");
	vr_settings_clear(&s);

	/* The optional fields go away when off or unset; opus_fec shows when on. */
	g_assert_cmpint(apply_api(&s, 1234, "{\"description\":\"Demo Room\",\"secret\":\"x\"}", err,
				  sizeof(err)), ==, 0);
	assert_entry(&s, "{\"room\":1234,\"description\":\"Demo Room\",\"pin_required\":false,"
			 "\"is_private\":false,\"max_publishers\":3,\"bitrate\":0,\"fir_freq\":0,"
			 "\"require_pvtid\":false,\"require_e2ee\":false,"
			 "\"dummy_publisher\":false,\"notify_joining\":false,"
			 "\"audiocodec\":\"opus\",\"videocodec\":\"vp8\",\"opus_fec\":true,"
			 "\"record\":false,\"lock_record\":false,\"audiolevel_ext\":true,"
			 "\"audiolevel_event\":false,\"videoorient_ext\":true,"
			 "\"playoutdelay_ext\":true,\"transport_wide_cc_ext\":true}");
	vr_settings_clear(&s);
}

static void test_copy(void)
{
	vr_settings a, b;
	json_t *ea, *eb;

	full_settings(&a);
	vr_settings_copy(&b, &a);
	g_assert_true(a.description != b.description);
	g_assert_true(a.acodec[0] != b.acodec[0]);
	ea = vr_settings_list_entry(&a);
	vr_settings_clear(&a);
	eb = vr_settings_list_entry(&b);
	g_assert_true(json_equal(ea, eb));
	g_assert_cmpstr(b.secret, ==, "s3");
	g_assert_cmpstr(b.h264_profile, ==, "42e01f");
	json_decref(ea);
	json_decref(eb);
	vr_settings_clear(&b);
}

/* ---------------------------------------------------------------- config file */

/* What a load handed over: copies of the rooms and "section: reason" skips. */
typedef struct loaded {
	GArray *rooms; /* vr_settings */
	GPtrArray *skipped;
} loaded;

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

static void loaded_free(loaded *l)
{
	for (guint i = 0; i < l->rooms->len; i++)
		vr_settings_clear(&g_array_index(l->rooms, vr_settings, i));
	g_array_free(l->rooms, TRUE);
	g_ptr_array_free(l->skipped, TRUE);
}

static const vr_settings *loaded_room(const loaded *l, guint64 id)
{
	for (guint i = 0; i < l->rooms->len; i++)
		if (g_array_index(l->rooms, vr_settings, i).room == id)
			return &g_array_index(l->rooms, vr_settings, i);
	return NULL;
}

static int load(const char *path, vr_general *g, loaded *l, char *err, size_t errlen)
{
	loaded_init(l);
	err[0] = '\0';
	return vr_config_load(path, g, on_room, on_skip, l, err, errlen);
}

static const char sample_text[] =
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

static void test_config_load(void)
{
	char *path = tmp_path("load.jcfg");
	const vr_settings *r;
	vr_general g;
	char err[256];
	loaded l;

	write_file(path, sample_text);
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(g.admin_key, ==, "supersecret");
	g_assert_true(g.lock_rtp_forward);
	g_assert_false(g.events);
	g_assert_false(g.string_ids);

	g_assert_cmpuint(l.rooms->len, ==, 2);
	g_assert_cmpuint(g_array_index(l.rooms, vr_settings, 0).room, ==, 1234); /* file order */
	r = loaded_room(&l, 1234);
	g_assert_cmpstr(r->description, ==, "Demo Room");
	g_assert_cmpstr(r->secret, ==, "adminpwd");
	g_assert_null(r->pin);
	g_assert_cmpint(r->publishers, ==, 6);
	g_assert_cmpuint(r->bitrate, ==, 128000);
	g_assert_cmpint(r->fir_freq, ==, 10);
	g_assert_false(r->record);
	assert_codecs(r->acodec, "opus");
	g_assert_true(r->opus_fec);
	r = loaded_room(&l, 77);
	g_assert_cmpstr(r->description, ==, "room-77");
	assert_codecs(r->acodec, "pcmu,pcma");
	assert_codecs(r->vcodec, "h264");
	g_assert_false(r->opus_fec);
	g_assert_cmpuint(r->bitrate, ==, 64000);
	g_assert_true(r->notify_joining);

	g_assert_cmpuint(l.skipped->len, ==, 1);
	g_assert_cmpstr(l.skipped->pdata[0], ==,
			"room-abc: not a room section (expected room-<id> with a positive decimal id)");
	loaded_free(&l);
	vr_general_clear(&g);

	/* room_cb and skip_cb may be NULL. */
	g_assert_cmpint(vr_config_load(path, &g, NULL, NULL, NULL, err, sizeof(err)), ==, 0);
	vr_general_clear(&g);
	g_unlink(path);
	g_free(path);
}

static void test_config_bad_rooms(void)
{
	char *path = tmp_path("bad-rooms.jcfg");
	vr_general g;
	char err[256];
	loaded l;
	static const char *const want[] = {
		"room-0: not a room section (expected room-<id> with a positive decimal id)",
		"room-: not a room section (expected room-<id> with a positive decimal id)",
		"room--5: not a room section (expected room-<id> with a positive decimal id)",
		"room-99999999999999999999: not a room section (expected room-<id> with a positive "
		"decimal id)",
		"lobby: not a room section (expected room-<id> with a positive decimal id)",
		"room-5: Invalid element type (publishers should be a positive integer)",
		"room-6: Invalid element type (is_private should be a boolean)",
		"room-7: Invalid element (audiocodec)",
		"room-8: Invalid element type (bitrate should be a positive integer)",
		"room-9: not a section",
		"room-010: room 10 is defined twice",
		"room-11: Invalid element type (fir_freq should be a positive integer)",
	};

	write_file(path, "room-0: { }\n"
			 "room-: { }\n"
			 "room--5: { }\n"
			 "room-99999999999999999999: { }\n"
			 "lobby: { x = 1 }\n"
			 "room-5: { publishers = \"six\" }\n"
			 "room-6: { is_private = \"maybe\" }\n"
			 "room-7: { audiocodec = \"speex\" }\n"
			 "room-8: { bitrate = 1.5 }\n"
			 "room-9 = 5\n"
			 "room-10: { description = \"ten\" }\n"
			 "room-010: { description = \"ten again\" }\n"
			 "room-11: { fir_freq = -1 }\n"
			 "room-12: { }\n");
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	/* Defaults of the general section when there is none. */
	g_assert_null(g.admin_key);
	g_assert_false(g.lock_rtp_forward);
	g_assert_true(g.events);
	g_assert_false(g.string_ids);
	g_assert_cmpuint(l.rooms->len, ==, 2);
	g_assert_cmpstr(loaded_room(&l, 10)->description, ==, "ten");
	g_assert_cmpstr(loaded_room(&l, 12)->description, ==, "room-12");
	g_assert_cmpuint(l.skipped->len, ==, G_N_ELEMENTS(want));
	for (guint i = 0; i < l.skipped->len; i++)
		g_assert_cmpstr(l.skipped->pdata[i], ==, want[i]);
	loaded_free(&l);
	vr_general_clear(&g);
	g_unlink(path);
	g_free(path);
}

static void test_config_missing(void)
{
	char *path = tmp_path("missing.jcfg");
	vr_general g;
	char err[256];
	loaded l;

	/* A missing file reads as the built-in default: Janus's demo room
	 * (test_vr_config_default.c compares it with the sample). */
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 1);
	g_assert_cmpstr(loaded_room(&l, 1234)->description, ==, "Demo Room");
	g_assert_cmpuint(l.skipped->len, ==, 0);
	g_assert_null(g.admin_key);
	g_assert_true(g.events);
	loaded_free(&l);
	vr_general_clear(&g);
	g_free(path);
}

static void expect_load_error(const char *text, const char *want_suffix)
{
	char *path = tmp_path("broken.jcfg");
	char *want = g_strdup_printf("%s:%s", path, want_suffix);
	vr_general g;
	char err[256];
	loaded l;

	write_file(path, text);
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpuint(l.rooms->len, ==, 0);
	loaded_free(&l);
	vr_general_clear(&g); /* always safe after a load */
	g_unlink(path);
	g_free(want);
	g_free(path);
}

static void test_config_parse_error(void)
{
	char *dir = tmp_path("a-folder.jcfg");
	vr_general g;
	char err[256], *want;

	/* (libconfig 1.5 leaks a string token that a syntax error follows, e.g.
	 * `admin_key "x"`; these inputs avoid that so LeakSanitizer stays quiet.) */
	expect_load_error("general: {\n\tevents = true\n\tadmin_key = = \"x\"\n}\n",
			  "3: syntax error");
	expect_load_error("room-1: {\n\tdescription = \"a\"\n}\nroom-2: {\n\tpublishers = = 2\n}\n",
			  "5: syntax error");
	expect_load_error("room-1: { a = 1; a = 2; }\n", "1: duplicate setting name");
	/* A wrong type in the general section stops the load: a number where the
	 * admin_key string belongs would otherwise leave `create` open. */
	expect_load_error("general: {\n\tadmin_key = 1234\n}\n",
			  "2: general.admin_key: must be a string");
	expect_load_error("general: {\n\n\tevents = \"off\"\n}\n", "3: general.events: must be a boolean");
	expect_load_error("general = true\n",
			  "1: general: must be a section (general: { ... })");

	/* A folder is not a config file. */
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	want = g_strdup_printf("%s: cannot read: %s", dir, g_strerror(EISDIR));
	g_assert_cmpint(vr_config_load(dir, &g, NULL, NULL, NULL, err, sizeof(err)), ==, -1);
	g_assert_cmpstr(err, ==, want);
	vr_general_clear(&g);
	g_rmdir(dir);
	g_free(want);
	g_free(dir);
}

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

/* The shipped sample loads and holds Janus's demo room. */
static void test_sample_config(void)
{
	const char *srcdir = g_getenv("STOA_SRCDIR");
	char *here = g_path_get_dirname(__FILE__);
	char *path;
	const vr_settings *r;
	vr_general g;
	char err[256];
	loaded l;

	if (srcdir != NULL)
		path = g_build_filename(srcdir, "conf", "janus.plugin.videoroom.jcfg.sample", NULL);
	else
		path = g_build_filename(here, "..", "..", "conf", "janus.plugin.videoroom.jcfg.sample",
					NULL);
	g_free(here);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_test_skip("the sample config is not reachable (set STOA_SRCDIR)");
		g_free(path);
		return;
	}
	g_assert_cmpint(load(path, &g, &l, err, sizeof(err)), ==, 0);
	g_assert_null(g.admin_key);
	g_assert_false(g.lock_rtp_forward);
	g_assert_true(g.events);
	g_assert_false(g.string_ids);
	g_assert_cmpuint(l.skipped->len, ==, 0);
	g_assert_cmpuint(l.rooms->len, ==, 1);
	r = loaded_room(&l, 1234);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->description, ==, "Demo Room");
	g_assert_cmpstr(r->secret, ==, "adminpwd");
	g_assert_cmpint(r->publishers, ==, 6);
	g_assert_cmpuint(r->bitrate, ==, 128000);
	g_assert_cmpint(r->fir_freq, ==, 10);
	g_assert_false(r->record);
	assert_codecs(r->acodec, "opus");
	assert_codecs(r->vcodec, "vp8");
	loaded_free(&l);
	vr_general_clear(&g);
	g_free(path);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("stoa-test-vr-settings-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);

	g_test_add_func("/vr_settings/defaults", test_defaults);
	g_test_add_func("/vr_settings/apply_full", test_apply_full);
	g_test_add_func("/vr_settings/apply_room_and_description", test_apply_room_and_description);
	g_test_add_func("/vr_settings/type_errors", test_type_errors);
	g_test_add_func("/vr_settings/codecs", test_codecs);
	g_test_add_func("/vr_settings/bitrate_raise", test_bitrate_raise);
	g_test_add_func("/vr_settings/opus_fec_forced_off", test_opus_fec_forced_off);
	g_test_add_func("/vr_settings/edit", test_edit);
	g_test_add_func("/vr_settings/list_entry", test_list_entry);
	g_test_add_func("/vr_settings/copy", test_copy);
	g_test_add_func("/vr_config/load", test_config_load);
	g_test_add_func("/vr_config/bad_rooms", test_config_bad_rooms);
	g_test_add_func("/vr_config/missing", test_config_missing);
	g_test_add_func("/vr_config/parse_error", test_config_parse_error);
	g_test_add_func("/vr_config/save_round_trip", test_save_round_trip);
	g_test_add_func("/vr_config/save_keeps_others", test_save_keeps_others);
	g_test_add_func("/vr_config/remove", test_remove);
	g_test_add_func("/vr_config/no_temp_files", test_no_temp_files);
	g_test_add_func("/vr_config/save_link_and_mode", test_save_link_and_mode);
	g_test_add_func("/vr_config/sample", test_sample_config);
	rc = g_test_run();

	/* Every test removes its own files; this catches what one forgot. */
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
	}
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	return rc;
}
