/*
 * test_vr_edit.c: what happens to a VideoRoom room's settings after
 * `create` (plugins/videoroom/settings.c): `edit` with its new_* keys and
 * its errors, the entry `list` shows, and a deep copy.
 */
#include <glib.h>
#include <jansson.h>

#include "vr_settings_util.h"

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vr_settings/edit", test_edit);
	g_test_add_func("/vr_settings/list_entry", test_list_entry);
	g_test_add_func("/vr_settings/copy", test_copy);
	return g_test_run();
}
