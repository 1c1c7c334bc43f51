/*
 * test_sdp_negotiate.c: answers and offers built by media/sdp/ from real
 * browser and aiortc offers, codec preference and matching (H.264 profiles,
 * VP9 profile-id), DTLS roles, simulcast, rejections and errors.
 */
#include <glib.h>
#include <string.h>

#include "sdp_test_util.h"

/* ---------------------------------------------------------------- answers */

static const char *const audio_prefs[] = { "opus", "pcmu", NULL };
static const char *const video_prefs[] = { "vp8", "vp9", "h264", NULL };
static const char *const cands[] = { "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", NULL };

static stoa_sdp_answer_params answer_params(void)
{
	stoa_sdp_answer_params p = {
		.ice_ufrag = "st0a",
		.ice_pwd = "stoastoastoastoastoastoa",
		.fingerprint = FP,
		.audio_codecs = audio_prefs,
		.video_codecs = video_prefs,
		.constraints = { .vp9_profile = -1 },
		.accept_data = true,
		.cname = "stoacname",
		.msid_stream = "stoastream",
		.candidates = cands,
		.end_of_candidates = true,
	};
	return p;
}

/* Answers, then checks that the written answer parses to the same model. */
static stoa_sdp *answer_to(const stoa_sdp *offer, const stoa_sdp_answer_params *p)
{
	char err[256] = "";
	stoa_sdp *a = stoa_sdp_answer(offer, p, err, sizeof(err));
	if (a == NULL)
		g_error("answer failed: %s", err);
	char *text = stoa_sdp_write(a);
	stoa_sdp *b = parse_text(text);
	assert_sdp_equal(a, b);
	stoa_sdp_free(b);
	g_free(text);
	return a;
}

static stoa_sdp *answer_fixture(const char *name, const stoa_sdp_answer_params *p)
{
	stoa_sdp *o = fixture(name);
	stoa_sdp *a = answer_to(o, p);
	stoa_sdp_free(o);
	return a;
}

static stoa_sdp *answer_text(const char *text, const stoa_sdp_answer_params *p)
{
	stoa_sdp *o = parse_text(text);
	stoa_sdp *a = answer_to(o, p);
	stoa_sdp_free(o);
	return a;
}

static const stoa_sdp_codec *only_codec(const stoa_sdp_media *m)
{
	g_assert_cmpuint(m->codecs->len, >=, 1);
	return g_ptr_array_index(m->codecs, 0);
}

static void test_answer_chromium(void)
{
	stoa_sdp_answer_params p = answer_params();
	stoa_sdp *a = answer_fixture("chromium-offer-av-data.sdp", &p);
	g_assert_cmpuint(a->media->len, ==, 3);
	const stoa_sdp_group *g = stoa_sdp_group_find(a, "BUNDLE");
	g_assert_nonnull(g);
	g_assert_cmpuint(g->mids->len, ==, 3);
	g_assert_cmpstr(a->fingerprint, ==, FP);
	g_assert_cmpstr(a->fingerprint_alg, ==, "sha-256");
	g_assert_true(a->extmap_allow_mixed);
	g_assert_false(a->ice_lite);

	stoa_sdp_media *au = media(a, 0);
	g_assert_cmpint(au->port, ==, 9);
	g_assert_cmpstr(au->mid, ==, "0");
	g_assert_cmpint(au->setup, ==, STOA_SDP_SETUP_ACTIVE);
	g_assert_cmpstr(au->ice_ufrag, ==, "st0a");
	g_assert_cmpstr(au->ice_options, ==, "trickle");
	g_assert_true(au->rtcp_mux);
	g_assert_cmpint(au->dir, ==, STOA_SDP_SENDRECV);
	g_assert_cmpuint(au->codecs->len, ==, 1);
	g_assert_cmpint(only_codec(au)->pt, ==, 111);
	g_assert_cmpstr(only_codec(au)->fmtp, ==, "minptime=10;useinbandfec=1");
	g_assert_cmpstr(str_at(only_codec(au)->rtcp_fb, 0), ==, "transport-cc");
	g_assert_cmpint(stoa_sdp_media_extmap_id(au, STOA_SDP_EXT_AUDIO_LEVEL), ==, 1);
	g_assert_cmpint(stoa_sdp_media_extmap_id(au, STOA_SDP_EXT_MID), ==, 4);
	g_assert_cmpuint(au->candidates->len, ==, 1);
	g_assert_true(au->end_of_candidates);
	g_assert_cmpuint(au->ssrcs->len, ==, 1);
	const stoa_sdp_ssrc *ss = g_ptr_array_index(au->ssrcs, 0);
	g_assert_cmpstr(ss->cname, ==, "stoacname");
	g_assert_cmpstr(ss->msid, ==, "stoastream audio0");
	g_assert_cmpstr(au->msid, ==, "stoastream audio0");

	stoa_sdp_media *v = media(a, 1);
	g_assert_cmpuint(v->codecs->len, ==, 2);
	const stoa_sdp_codec *vp8 = only_codec(v);
	g_assert_cmpint(vp8->pt, ==, 96);
	g_assert_cmpint(vp8->rtx_pt, ==, 97);
	const stoa_sdp_codec *rtx = g_ptr_array_index(v->codecs, 1);
	g_assert_cmpint(rtx->pt, ==, 97);
	g_assert_cmpstr(rtx->fmtp, ==, "apt=96");
	for (guint i = 0; i < 5; i++) {
		static const char *const fbs[] = { "goog-remb", "transport-cc", "ccm fir", "nack",
						   "nack pli" };
		g_assert_true(has_str(vp8->rtcp_fb, fbs[i]));
	}
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RID), ==, 10);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_TWCC), ==, 3);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_PLAYOUT_DELAY), ==, 5);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, "urn:ietf:params:rtp-hdrext:toffset"), ==, 0);
	g_assert_cmpuint(v->candidates->len, ==, 0);
	g_assert_cmpuint(v->ssrcs->len, ==, 2);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
	const stoa_sdp_ssrc_group *fid = g_ptr_array_index(v->ssrc_groups, 0);
	g_assert_cmpstr(fid->semantics, ==, "FID");
	g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 0), ==,
			 ((stoa_sdp_ssrc *)g_ptr_array_index(v->ssrcs, 0))->ssrc);
	g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 1), ==,
			 ((stoa_sdp_ssrc *)g_ptr_array_index(v->ssrcs, 1))->ssrc);

	stoa_sdp_media *d = media(a, 2);
	g_assert_cmpint(d->port, ==, 9);
	g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
	g_assert_cmpstr(str_at(d->fmts, 0), ==, "webrtc-datachannel");
	g_assert_cmpint(d->sctp_port, ==, 5000);
	g_assert_cmpuint(d->max_message_size, ==, 262144);
	g_assert_null(d->sctpmap);
	stoa_sdp_free(a);
}

static int video_codec_pt(const char *offer_name, const char *const *prefs,
			  stoa_sdp_codec_constraints k)
{
	stoa_sdp_answer_params p = answer_params();
	p.video_codecs = prefs;
	p.constraints = k;
	stoa_sdp *a = answer_fixture(offer_name, &p);
	stoa_sdp_media *v = media(a, 1);
	int pt = v->port == 0 ? -1 : only_codec(v)->pt;
	if (v->port == 0) {
		g_assert_cmpstr(v->mid, ==, "1");
		g_assert_cmpint(v->dir, ==, STOA_SDP_INACTIVE);
		g_assert_false(has_str(stoa_sdp_group_find(a, "BUNDLE")->mids, "1"));
	}
	stoa_sdp_free(a);
	return pt;
}

static void test_answer_preference(void)
{
	static const char *const h264[] = { "h264", NULL };
	static const char *const vp9_first[] = { "vp9", "vp8", NULL };
	static const char *const av1[] = { "av1", "vp8", NULL };
	static const char *const none[] = { NULL };
	stoa_sdp_codec_constraints any = { .vp9_profile = -1 };
	const char *o = "chromium-offer-av-data.sdp";
	g_assert_cmpint(video_codec_pt(o, vp9_first, any), ==, 98);
	g_assert_cmpint(video_codec_pt(o, av1, any), ==, 45);
	g_assert_cmpint(video_codec_pt(o, none, any), ==, -1);
	/* H.264: the first offered with packetization-mode=1 (102, 42001f);
	 * 104 and 114 are mode 0 and never chosen. */
	g_assert_cmpint(video_codec_pt(o, h264, any), ==, 102);
	stoa_sdp_codec_constraints cb = { .vp9_profile = -1, .h264_plid = "42e01f" };
	g_assert_cmpint(video_codec_pt(o, h264, cb), ==, 108);
	stoa_sdp_codec_constraints mainp = { .vp9_profile = -1, .h264_plid = "4d0032" };
	g_assert_cmpint(video_codec_pt(o, h264, mainp), ==, 116);
	stoa_sdp_codec_constraints high = { .vp9_profile = -1, .h264_plid = "640c1f" };
	g_assert_cmpint(video_codec_pt(o, h264, high), ==, -1);
	/* VP9: profile-id 0 is 98, profile 2 is 100. */
	static const char *const vp9[] = { "vp9", NULL };
	stoa_sdp_codec_constraints p2 = { .vp9_profile = 2 };
	stoa_sdp_codec_constraints p0 = { .vp9_profile = 0 };
	stoa_sdp_codec_constraints p1 = { .vp9_profile = 1 };
	g_assert_cmpint(video_codec_pt(o, vp9, p2), ==, 100);
	g_assert_cmpint(video_codec_pt(o, vp9, p0), ==, 98);
	g_assert_cmpint(video_codec_pt(o, vp9, p1), ==, -1);
	/* aiortc offers H.264 42001f (99) then 42e01f (101). */
	g_assert_cmpint(video_codec_pt("aiortc-offer-av-data.sdp", h264, cb), ==, 101);
	g_assert_cmpint(video_codec_pt("aiortc-offer-av-data.sdp", h264, any), ==, 99);
	g_assert_cmpint(video_codec_pt("firefox-offer-av-data.sdp", vp9, any), ==, 121);
	g_assert_cmpint(video_codec_pt("firefox-offer-av-data.sdp", av1, any), ==, 99);
}

static void test_answer_audio_preference(void)
{
	static const char *const pcma[] = { "pcma", "opus", NULL };
	static const char *const g722[] = { "g722", NULL };
	stoa_sdp_answer_params p = answer_params();
	p.audio_codecs = pcma;
	stoa_sdp *a = answer_fixture("chromium-offer-av-data.sdp", &p);
	g_assert_cmpint(only_codec(media(a, 0))->pt, ==, 8);
	g_assert_null(only_codec(media(a, 0))->fmtp);
	stoa_sdp_free(a);
	p.audio_codecs = g722;
	a = answer_fixture("aiortc-offer-av-data.sdp", &p);
	g_assert_cmpint(media(a, 0)->port, ==, 0); /* aiortc has no G.722 */
	g_assert_cmpint(media(a, 1)->port, ==, 9);
	stoa_sdp_free(a);
}

static void test_answer_setup_roles(void)
{
	stoa_sdp_answer_params p = answer_params();
	char *offer = fixture_text("chromium-offer-av-data.sdp");
	static const struct {
		const char *offered;
		stoa_sdp_setup want;
	} cases[] = {
		{ "a=setup:actpass", STOA_SDP_SETUP_ACTIVE },
		{ "a=setup:passive", STOA_SDP_SETUP_ACTIVE },
		{ "a=setup:active", STOA_SDP_SETUP_PASSIVE },
		{ "a=x-no-setup:1", STOA_SDP_SETUP_ACTIVE },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = replace(offer, "a=setup:actpass", cases[i].offered);
		stoa_sdp *a = answer_text(text, &p);
		for (guint j = 0; j < a->media->len; j++)
			g_assert_cmpint(media(a, j)->setup, ==, cases[i].want);
		stoa_sdp *o = parse_text(text);
		g_assert_cmpint(stoa_sdp_answer_setup(o), ==, cases[i].want);
		stoa_sdp_free(o);
		stoa_sdp_free(a);
		g_free(text);
	}
	char *text = replace(offer, "a=setup:actpass", "a=setup:holdconn");
	stoa_sdp *o = parse_text(text);
	char err[128] = "";
	g_assert_null(stoa_sdp_answer(o, &p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "offer has a=setup:holdconn");
	stoa_sdp_free(o);
	g_free(text);
	g_free(offer);
}

static void test_answer_simulcast(void)
{
	stoa_sdp_answer_params p = answer_params();
	stoa_sdp *a = answer_fixture("chromium-offer-simulcast.sdp", &p);
	stoa_sdp_media *au = media(a, 0), *v = media(a, 1);
	g_assert_cmpint(au->dir, ==, STOA_SDP_RECVONLY);
	g_assert_cmpint(v->dir, ==, STOA_SDP_RECVONLY);
	g_assert_cmpuint(au->ssrcs->len, ==, 0);
	g_assert_cmpuint(v->ssrcs->len, ==, 0);
	g_assert_null(v->msid);
	g_assert_cmpstr(v->simulcast, ==, "recv h;m;l");
	g_assert_cmpuint(v->rids->len, ==, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_false(((stoa_sdp_rid *)g_ptr_array_index(v->rids, i))->send);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RID), ==, 10);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RRID), ==, 11);
	stoa_sdp_free(a);
}

static void test_answer_aiortc(void)
{
	stoa_sdp_answer_params p = answer_params();
	stoa_sdp *a = answer_fixture("aiortc-offer-av-data.sdp", &p);
	g_assert_cmpuint(stoa_sdp_group_find(a, "BUNDLE")->mids->len, ==, 3);
	g_assert_cmpint(only_codec(media(a, 0))->pt, ==, 96);
	g_assert_null(only_codec(media(a, 0))->fmtp);
	stoa_sdp_media *v = media(a, 1);
	g_assert_cmpint(only_codec(v)->pt, ==, 97);
	g_assert_cmpint(only_codec(v)->rtx_pt, ==, 98);
	g_assert_true(has_str(only_codec(v)->rtcp_fb, "goog-remb")); /* abs-send-time offered */
	g_assert_false(has_str(only_codec(v)->rtcp_fb, "transport-cc"));
	stoa_sdp_media *d = media(a, 2);
	g_assert_cmpstr(d->proto, ==, "DTLS/SCTP");
	g_assert_cmpstr(str_at(d->fmts, 0), ==, "5000");
	g_assert_cmpstr(d->sctpmap, ==, "5000 webrtc-datachannel 65535");
	stoa_sdp_free(a);
}

static void test_answer_firefox(void)
{
	stoa_sdp_answer_params p = answer_params();
	p.ice_lite = true;
	stoa_sdp *a = answer_fixture("firefox-offer-av-data.sdp", &p);
	g_assert_true(a->ice_lite);
	g_assert_true(a->extmap_allow_mixed); /* Firefox offers it per m-line */
	stoa_sdp_media *au = media(a, 0), *v = media(a, 1);
	g_assert_cmpint(only_codec(au)->pt, ==, 109);
	g_assert_cmpstr(only_codec(au)->fmtp, ==, "useinbandfec=1;stereo=1");
	g_assert_true(has_str(only_codec(au)->rtcp_fb, "transport-cc"));
	g_assert_cmpint(only_codec(v)->pt, ==, 120);
	g_assert_cmpint(only_codec(v)->rtx_pt, ==, 124);
	g_assert_cmpstr(only_codec(v)->fmtp, ==, "max-fs=12288;max-fr=60");
	/* a=extmap:6/recvonly playout-delay: the answer sends it. */
	const stoa_sdp_extmap *pd = NULL;
	for (guint i = 0; i < v->extmaps->len; i++) {
		const stoa_sdp_extmap *e = g_ptr_array_index(v->extmaps, i);
		if (strcmp(e->uri, STOA_SDP_EXT_PLAYOUT_DELAY) == 0)
			pd = e;
	}
	g_assert_nonnull(pd);
	g_assert_cmpint(pd->id, ==, 6);
	g_assert_cmpint(pd->dir, ==, STOA_SDP_SENDONLY);
	g_assert_cmpint(stoa_sdp_media_extmap_id(au, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), ==,
			0);
	g_assert_cmpint(media(a, 2)->sctp_port, ==, 5000);
	stoa_sdp_free(a);
}

static void test_answer_rejections(void)
{
	stoa_sdp_answer_params p = answer_params();
	char *offer = fixture_text("chromium-offer-av-data.sdp");
	/* No rtcp-mux: the RTP m-lines are rejected, data survives. */
	char *text = replace(offer, "a=rtcp-mux\r\n", "");
	stoa_sdp *a = answer_text(text, &p);
	g_assert_cmpint(media(a, 0)->port, ==, 0);
	g_assert_cmpint(media(a, 1)->port, ==, 0);
	g_assert_cmpstr(media(a, 1)->mid, ==, "1");
	g_assert_cmpint(media(a, 2)->port, ==, 9);
	const stoa_sdp_group *g = stoa_sdp_group_find(a, "BUNDLE");
	g_assert_cmpuint(g->mids->len, ==, 1);
	g_assert_cmpstr(str_at(g->mids, 0), ==, "2");
	g_assert_cmpuint(media(a, 2)->candidates->len, ==, 1); /* on the BUNDLE transport */
	stoa_sdp_free(a);
	g_free(text);
	/* Data not wanted. */
	p.accept_data = false;
	a = answer_text(offer, &p);
	g_assert_cmpint(media(a, 2)->port, ==, 0);
	g_assert_cmpstr(media(a, 2)->mid, ==, "2");
	g_assert_cmpstr(str_at(media(a, 2)->fmts, 0), ==, "webrtc-datachannel");
	stoa_sdp_free(a);
	p.accept_data = true;
	/* An m-line outside the BUNDLE group. */
	text = replace(offer, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 2");
	a = answer_text(text, &p);
	g_assert_cmpint(media(a, 1)->port, ==, 0);
	g_assert_cmpint(media(a, 0)->port, ==, 9);
	stoa_sdp_free(a);
	g_free(text);
	/* Plain RTP (no SRTP). */
	text = replace(offer, "UDP/TLS/RTP/SAVPF", "RTP/AVP");
	a = answer_text(text, &p);
	g_assert_cmpint(media(a, 0)->port, ==, 0);
	stoa_sdp_free(a);
	g_free(text);
	g_free(offer);
}

static int dir_cb(const stoa_sdp_media *m, unsigned index, void *user)
{
	(*(int *)user)++;
	if (m->type == STOA_SDP_VIDEO)
		return -1;
	return STOA_SDP_SENDRECV;
}

static void test_answer_direction_callback(void)
{
	stoa_sdp_answer_params p = answer_params();
	int calls = 0;
	p.direction = dir_cb;
	p.direction_user = &calls;
	stoa_sdp *a = answer_fixture("chromium-offer-simulcast.sdp", &p);
	g_assert_cmpint(calls, ==, 2);
	/* sendrecv asked for a sendonly offer: clamped to recvonly. */
	g_assert_cmpint(media(a, 0)->dir, ==, STOA_SDP_RECVONLY);
	g_assert_cmpint(media(a, 1)->port, ==, 0);
	stoa_sdp_free(a);
	/* Mirroring: recvonly offer -> we send, with SSRCs. */
	char *offer = fixture_text("chromium-offer-simulcast.sdp");
	char *text = replace(offer, "a=sendonly", "a=recvonly");
	p.direction = NULL;
	a = answer_text(text, &p);
	g_assert_cmpint(media(a, 0)->dir, ==, STOA_SDP_SENDONLY);
	g_assert_cmpuint(media(a, 0)->ssrcs->len, ==, 1);
	g_assert_null(media(a, 1)->simulcast);
	stoa_sdp_free(a);
	g_free(text);
	g_free(offer);
}

static void test_answer_errors(void)
{
	stoa_sdp_answer_params p = answer_params();
	char *offer = fixture_text("chromium-offer-av-data.sdp");
	char err[128] = "";
	char *text = replace(offer, "a=fingerprint:", "a=x-fingerprint:");
	stoa_sdp *o = parse_text(text);
	g_assert_null(stoa_sdp_answer(o, &p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "offer has no DTLS fingerprint (a=fingerprint)");
	stoa_sdp_free(o);
	g_free(text);
	text = replace(offer, "a=ice-pwd:", "a=x-ice-pwd:");
	o = parse_text(text);
	g_assert_null(stoa_sdp_answer(o, &p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)");
	stoa_sdp_free(o);
	g_free(text);
	o = parse_text(offer);
	stoa_sdp_answer_params bad = answer_params();
	bad.fingerprint = NULL;
	g_assert_null(stoa_sdp_answer(o, &bad, err, sizeof(err)));
	g_assert_cmpstr(err, !=, "");
	bad = answer_params();
	bad.setup = STOA_SDP_SETUP_ACTPASS;
	g_assert_null(stoa_sdp_answer(o, &bad, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "an answer must be a=setup:active or passive");
	stoa_sdp_free(o);
	g_free(offer);
	o = parse_text("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
	g_assert_null(stoa_sdp_answer(o, &p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "offer has no m-lines");
	stoa_sdp_free(o);
}

/* ---------------------------------------------------------------- codec rules */

static void test_h264_profiles(void)
{
	static const struct {
		const char *plid;
		stoa_sdp_h264_profile profile;
		int level;
	} cases[] = {
		{ "42e01f", STOA_SDP_H264_CONSTRAINED_BASELINE, 310 },
		{ "42C02A", STOA_SDP_H264_CONSTRAINED_BASELINE, 420 },
		{ "4de01f", STOA_SDP_H264_CONSTRAINED_BASELINE, 310 },
		{ "58f01f", STOA_SDP_H264_CONSTRAINED_BASELINE, 310 },
		{ "42001f", STOA_SDP_H264_BASELINE, 310 },
		{ "42a01f", STOA_SDP_H264_BASELINE, 310 },
		{ "58A01F", STOA_SDP_H264_BASELINE, 310 },
		{ "4d001f", STOA_SDP_H264_MAIN, 310 },
		{ "4D401f", STOA_SDP_H264_MAIN, 310 },
		{ "58001f", STOA_SDP_H264_EXTENDED, 310 },
		{ "64001f", STOA_SDP_H264_HIGH, 310 },
		{ "640c34", STOA_SDP_H264_CONSTRAINED_HIGH, 520 },
		{ "6e001f", STOA_SDP_H264_HIGH10, 310 },
		{ "42f00b", STOA_SDP_H264_CONSTRAINED_BASELINE, 105 },
		{ "42e00b", STOA_SDP_H264_CONSTRAINED_BASELINE, 110 },
		{ "42e00a", STOA_SDP_H264_CONSTRAINED_BASELINE, 100 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		stoa_sdp_h264_profile prof;
		int level;
		g_assert_cmpint(stoa_sdp_h264_plid_parse(cases[i].plid, &prof, &level), ==, 0);
		g_assert_cmpint(prof, ==, cases[i].profile);
		g_assert_cmpint(level, ==, cases[i].level);
	}
	static const char *const bad[] = { "", "42e01", "42e01f0", "zze01f", "ff001f", "64101f" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		stoa_sdp_h264_profile prof;
		int level;
		g_assert_cmpint(stoa_sdp_h264_plid_parse(bad[i], &prof, &level), ==, -1);
	}
}

static void test_codec_matching(void)
{
	stoa_sdp_codec *c = stoa_sdp_codec_new(100, "h264", 90000, 0);
	stoa_sdp_codec_constraints cb31 = { .vp9_profile = -1, .h264_plid = "42e01f" };
	stoa_sdp_codec_constraints cb13 = { .vp9_profile = -1, .h264_plid = "42e00d" };
	stoa_sdp_codec_constraints cb51 = { .vp9_profile = -1, .h264_plid = "42e033" };
	/* No fmtp: packetization-mode 0, not acceptable. */
	g_assert_false(stoa_sdp_codec_matches(c, "h264", NULL));
	c->fmtp = g_strdup("packetization-mode=1");
	g_assert_true(stoa_sdp_codec_matches(c, "H264", NULL));
	/* An absent profile-level-id means Baseline 1 (420010). */
	g_assert_false(stoa_sdp_codec_matches(c, "h264", &cb31));
	g_free(c->fmtp);
	c->fmtp = g_strdup("profile-level-id=42e01f; packetization-mode=1");
	g_assert_true(stoa_sdp_codec_matches(c, "h264", &cb31));
	g_assert_true(stoa_sdp_codec_matches(c, "h264", &cb13));
	g_assert_false(stoa_sdp_codec_matches(c, "vp8", NULL));
	/* Levels: lowered to ours without level-asymmetry-allowed, kept with it. */
	char *f = stoa_sdp_codec_answer_fmtp(c, &cb13);
	g_assert_cmpstr(f, ==, "packetization-mode=1;profile-level-id=42e00d");
	g_free(f);
	f = stoa_sdp_codec_answer_fmtp(c, &cb51);
	g_assert_cmpstr(f, ==, c->fmtp);
	g_free(f);
	g_free(c->fmtp);
	c->fmtp = g_strdup("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
	f = stoa_sdp_codec_answer_fmtp(c, &cb13);
	g_assert_cmpstr(f, ==, c->fmtp);
	g_free(f);
	stoa_sdp_codec_free(c);

	c = stoa_sdp_codec_new(111, "OPUS", 48000, 2);
	c->fmtp = g_strdup("minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=20000");
	g_assert_true(stoa_sdp_codec_matches(c, "opus", NULL));
	f = stoa_sdp_codec_answer_fmtp(c, NULL);
	g_assert_cmpstr(f, ==, "minptime=10;useinbandfec=1;usedtx=1");
	g_free(f);
	/* A VideoRoom's opus_fec/opus_dtx decide, whatever the offer said. */
	stoa_sdp_codec_constraints no_fec = { .vp9_profile = -1, .opus_fec = -1, .opus_dtx = -1 };
	f = stoa_sdp_codec_answer_fmtp(c, &no_fec);
	g_assert_cmpstr(f, ==, "minptime=10");
	g_free(f);
	g_free(c->fmtp);
	c->fmtp = g_strdup("minptime=10;stereo=1");
	stoa_sdp_codec_constraints fec_dtx = { .vp9_profile = -1, .opus_fec = 1, .opus_dtx = 1 };
	f = stoa_sdp_codec_answer_fmtp(c, &fec_dtx);
	g_assert_cmpstr(f, ==, "minptime=10;useinbandfec=1;usedtx=1;stereo=1");
	g_free(f);
	c->channels = 1;
	g_assert_false(stoa_sdp_codec_matches(c, "opus", NULL));
	stoa_sdp_codec_free(c);

	c = stoa_sdp_codec_new(98, "VP9", 90000, 0);
	stoa_sdp_codec_constraints p0 = { .vp9_profile = 0 }, p2 = { .vp9_profile = 2 };
	g_assert_true(stoa_sdp_codec_matches(c, "vp9", &p0)); /* default profile-id 0 */
	g_assert_false(stoa_sdp_codec_matches(c, "vp9", &p2));
	stoa_sdp_codec_free(c);

	f = stoa_sdp_fmtp_get("a=1; b=two ;c", "b");
	g_assert_cmpstr(f, ==, "two");
	g_free(f);
	g_assert_null(stoa_sdp_fmtp_get("a=1", "b"));
	g_assert_null(stoa_sdp_fmtp_get(NULL, "b"));
	g_assert_cmpint(stoa_sdp_fmtp_int("apt=96", "apt", -1), ==, 96);
	g_assert_cmpint(stoa_sdp_fmtp_int("apt=x", "apt", -1), ==, -1);
	g_assert_cmpint(stoa_sdp_fmtp_int("apt=99999999999999", "apt", -1), ==, -1);
	g_assert_true(stoa_sdp_rtcp_fb_supported("nack pli"));
	g_assert_false(stoa_sdp_rtcp_fb_supported("nack sli"));
}

/* ---------------------------------------------------------------- offers */

static void test_offer(void)
{
	static const stoa_sdp_extmap_desc aexts[] = { { 1, STOA_SDP_EXT_AUDIO_LEVEL },
						      { 4, STOA_SDP_EXT_MID } };
	static const stoa_sdp_extmap_desc vexts[] = { { 3, STOA_SDP_EXT_TWCC },
						      { 4, STOA_SDP_EXT_MID },
						      { 2, STOA_SDP_EXT_ABS_SEND_TIME } };
	const stoa_sdp_offer_media ms[] = {
		{ .type = STOA_SDP_AUDIO, .mid = "a0", .codec = "opus", .pt = 111,
		  .dir = STOA_SDP_SENDONLY, .ssrc = 1111, .extmaps = aexts, .n_extmaps = 2 },
		{ .type = STOA_SDP_VIDEO, .mid = "v1", .codec = "vp8", .pt = 96, .rtx_pt = 97,
		  .dir = STOA_SDP_SENDONLY, .ssrc = 2222, .rtx_ssrc = 3333, .extmaps = vexts,
		  .n_extmaps = 3 },
		{ .type = STOA_SDP_VIDEO, .mid = "v2", .codec = "h264", .pt = 102,
		  .dir = STOA_SDP_SENDONLY, .rejected = true },
		{ .type = STOA_SDP_APPLICATION, .mid = "d3" },
	};
	stoa_sdp_offer_params p = {
		.ice_ufrag = "st0a", .ice_pwd = "stoastoastoastoastoastoa", .fingerprint = FP,
		.media = ms, .n_media = G_N_ELEMENTS(ms), .candidates = cands,
		.end_of_candidates = true, .session_id = 42, .session_version = 3,
	};
	char err[128] = "";
	stoa_sdp *o = stoa_sdp_offer(&p, err, sizeof(err));
	g_assert_nonnull(o);
	char *text = stoa_sdp_write(o);
	stoa_sdp *b = parse_text(text);
	assert_sdp_equal(o, b);
	g_assert_cmpstr(b->o_sess_id, ==, "42");
	g_assert_cmpuint(b->o_sess_version, ==, 3);
	g_assert_cmpuint(stoa_sdp_group_find(b, "BUNDLE")->mids->len, ==, 3);
	stoa_sdp_media *a = media(b, 0), *v = media(b, 1), *r = media(b, 2), *d = media(b, 3);
	g_assert_cmpint(a->setup, ==, STOA_SDP_SETUP_ACTPASS);
	g_assert_cmpint(a->dir, ==, STOA_SDP_SENDONLY);
	assert_codec(a, 111, "opus", 48000, 2);
	g_assert_cmpstr(only_codec(a)->fmtp, ==, "minptime=10;useinbandfec=1");
	g_assert_cmpuint(a->candidates->len, ==, 1);
	g_assert_cmpstr(a->msid, ==, "stoa audioa0");
	assert_codec(v, 96, "VP8", 90000, 0);
	g_assert_cmpint(only_codec(v)->rtx_pt, ==, 97);
	g_assert_true(has_str(only_codec(v)->rtcp_fb, "goog-remb"));
	g_assert_true(has_str(only_codec(v)->rtcp_fb, "transport-cc"));
	g_assert_true(has_str(only_codec(v)->rtcp_fb, "nack pli"));
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_TWCC), ==, 3);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
	g_assert_cmpuint(v->ssrcs->len, ==, 2);
	g_assert_cmpint(r->port, ==, 0);
	g_assert_cmpint(d->sctp_port, ==, 5000);
	g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
	stoa_sdp_free(b);
	g_free(text);
	stoa_sdp_free(o);

	/* Mistakes in the description are errors, not broken SDP. */
	stoa_sdp_offer_media bad = ms[0];
	bad.codec = "vp8";
	p.media = &bad;
	p.n_media = 1;
	g_assert_null(stoa_sdp_offer(&p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "mid a0: unknown audio codec 'vp8'");
	bad = ms[1];
	bad.rtx_pt = 96;
	p.media = &bad;
	g_assert_null(stoa_sdp_offer(&p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "mid v1: bad payload types");
	stoa_sdp_offer_media dup[] = { ms[0], ms[0] };
	p.media = dup;
	p.n_media = 2;
	g_assert_null(stoa_sdp_offer(&p, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "m-line 1: duplicate mid 'a0'");
}

/* An answer to our own offer, as a client would build it, is something we parse. */
static void test_offer_answer_loop(void)
{
	static const stoa_sdp_extmap_desc exts[] = { { 4, STOA_SDP_EXT_MID } };
	const stoa_sdp_offer_media ms[] = {
		{ .type = STOA_SDP_VIDEO, .mid = "0", .codec = "vp8", .pt = 96, .rtx_pt = 97,
		  .dir = STOA_SDP_SENDONLY, .ssrc = 5, .rtx_ssrc = 6, .extmaps = exts, .n_extmaps = 1 },
	};
	stoa_sdp_offer_params op = {
		.ice_ufrag = "st0a", .ice_pwd = "stoastoastoastoastoastoa", .fingerprint = FP,
		.media = ms, .n_media = 1,
	};
	char err[128];
	stoa_sdp *o = stoa_sdp_offer(&op, err, sizeof(err));
	g_assert_nonnull(o);
	stoa_sdp_answer_params p = answer_params();
	stoa_sdp *a = answer_to(o, &p);
	g_assert_cmpint(media(a, 0)->dir, ==, STOA_SDP_RECVONLY);
	g_assert_cmpint(only_codec(media(a, 0))->pt, ==, 96);
	g_assert_cmpint(only_codec(media(a, 0))->rtx_pt, ==, 97);
	stoa_sdp_free(a);
	stoa_sdp_free(o);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp/answer/chromium", test_answer_chromium);
	g_test_add_func("/sdp/answer/preference", test_answer_preference);
	g_test_add_func("/sdp/answer/audio-preference", test_answer_audio_preference);
	g_test_add_func("/sdp/answer/setup-roles", test_answer_setup_roles);
	g_test_add_func("/sdp/answer/simulcast", test_answer_simulcast);
	g_test_add_func("/sdp/answer/aiortc", test_answer_aiortc);
	g_test_add_func("/sdp/answer/firefox", test_answer_firefox);
	g_test_add_func("/sdp/answer/rejections", test_answer_rejections);
	g_test_add_func("/sdp/answer/direction-callback", test_answer_direction_callback);
	g_test_add_func("/sdp/answer/errors", test_answer_errors);
	g_test_add_func("/sdp/codecs/h264-profiles", test_h264_profiles);
	g_test_add_func("/sdp/codecs/matching", test_codec_matching);
	g_test_add_func("/sdp/offer/build", test_offer);
	g_test_add_func("/sdp/offer/answer-loop", test_offer_answer_loop);
	return g_test_run();
}
