/*
 * test_vr_create.c: a VideoRoom room's settings from a `create` body
 * (plugins/videoroom/settings.c): Janus's defaults, a full body, the room id
 * and description, every type error (430 with the field named, the room left
 * as it was), codec lists, the bitrate floor and opus_fec without opus.
 */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "vr_settings_util.h"

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vr_settings/defaults", test_defaults);
	g_test_add_func("/vr_settings/apply_full", test_apply_full);
	g_test_add_func("/vr_settings/apply_room_and_description", test_apply_room_and_description);
	g_test_add_func("/vr_settings/type_errors", test_type_errors);
	g_test_add_func("/vr_settings/codecs", test_codecs);
	g_test_add_func("/vr_settings/bitrate_raise", test_bitrate_raise);
	g_test_add_func("/vr_settings/opus_fec_forced_off", test_opus_fec_forced_off);
	return g_test_run();
}
