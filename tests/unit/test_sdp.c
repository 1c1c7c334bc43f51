/*
 * test_sdp.c: the SDP parser, writer and offer/answer (media/sdp/) against
 * real SDPs captured from Chromium, Firefox and aiortc (tests/data/sdp), and
 * against hostile input.
 *
 * The fixtures are read from $STOA_TESTDATA/sdp (make check sets it), or
 * tests/data/sdp under $STOA_SRCDIR or the current folder.
 */
#include <glib.h>
#include <string.h>

#include "media/sdp/sdp.h"

#define FP "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static const char *const fixtures[] = {
	"chromium-offer-av-data.sdp", "chromium-offer-simulcast.sdp",
	"chromium-answer-av-data.sdp", "aiortc-offer-av-data.sdp", "firefox-offer-av-data.sdp",
};

/* ---------------------------------------------------------------- helpers */

static char *fixture_text(const char *name)
{
	const char *dir = g_getenv("STOA_TESTDATA");
	char *path;
	if (dir != NULL) {
		path = g_build_filename(dir, "sdp", name, NULL);
	} else {
		const char *src = g_getenv("STOA_SRCDIR");
		path = g_build_filename(src != NULL ? src : ".", "tests", "data", "sdp", name, NULL);
	}
	char *text = NULL;
	GError *e = NULL;
	if (!g_file_get_contents(path, &text, NULL, &e))
		g_error("cannot read fixture %s: %s", path, e->message);
	g_free(path);
	return text;
}

static stoa_sdp *parse_text(const char *text)
{
	char err[256] = "";
	stoa_sdp *s = stoa_sdp_parse(text, strlen(text), err, sizeof(err));
	if (s == NULL)
		g_error("parse failed: %s", err);
	return s;
}

static stoa_sdp *fixture(const char *name)
{
	char *text = fixture_text(name);
	stoa_sdp *s = parse_text(text);
	g_free(text);
	return s;
}

static stoa_sdp_media *media(const stoa_sdp *s, guint i)
{
	g_assert_cmpuint(i, <, s->media->len);
	return g_ptr_array_index(s->media, i);
}

static const char *str_at(const GPtrArray *a, guint i)
{
	g_assert_cmpuint(i, <, a->len);
	return g_ptr_array_index(a, i);
}

static bool has_str(const GPtrArray *a, const char *v)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), v) == 0)
			return true;
	return false;
}

static char *replace(const char *text, const char *from, const char *to)
{
	char **parts = g_strsplit(text, from, -1);
	char *out = g_strjoinv(to, parts);
	g_strfreev(parts);
	return out;
}

static void assert_codec(const stoa_sdp_media *m, int pt, const char *name, int clock,
			 int channels)
{
	const stoa_sdp_codec *c = stoa_sdp_media_codec(m, pt);
	g_assert_nonnull(c);
	g_assert_cmpstr(c->name, ==, name);
	g_assert_cmpint(c->clock, ==, clock);
	g_assert_cmpint(c->channels, ==, channels);
}

/* ---------------------------------------------------------------- model equality */

static void assert_strs_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++)
		g_assert_cmpstr(g_ptr_array_index(a, i), ==, g_ptr_array_index(b, i));
}

static void assert_attrs_equal(const GPtrArray *a, const GPtrArray *b)
{
	/* Verbatim attributes may be reordered around known ones; as a set they match. */
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++)
		g_assert_true(has_str(b, g_ptr_array_index(a, i)));
}

static void assert_extmaps_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++) {
		const stoa_sdp_extmap *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
		g_assert_cmpint(x->id, ==, y->id);
		g_assert_cmpint(x->dir, ==, y->dir);
		g_assert_cmpstr(x->uri, ==, y->uri);
		g_assert_cmpstr(x->attrs, ==, y->attrs);
	}
}

static void assert_codecs_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++) {
		const stoa_sdp_codec *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
		g_assert_cmpint(x->pt, ==, y->pt);
		g_assert_cmpstr(x->name, ==, y->name);
		g_assert_cmpint(x->clock, ==, y->clock);
		g_assert_cmpint(x->channels, ==, y->channels);
		g_assert_cmpstr(x->fmtp, ==, y->fmtp);
		assert_strs_equal(x->rtcp_fb, y->rtcp_fb);
		g_assert_cmpint(x->rtx_pt, ==, y->rtx_pt);
		g_assert_cmpint(x->apt, ==, y->apt);
	}
}

static void assert_ssrcs_equal(const stoa_sdp_media *a, const stoa_sdp_media *b)
{
	g_assert_cmpuint(a->ssrcs->len, ==, b->ssrcs->len);
	for (guint i = 0; i < a->ssrcs->len; i++) {
		const stoa_sdp_ssrc *x = g_ptr_array_index(a->ssrcs, i);
		const stoa_sdp_ssrc *y = g_ptr_array_index(b->ssrcs, i);
		g_assert_cmpuint(x->ssrc, ==, y->ssrc);
		g_assert_cmpstr(x->cname, ==, y->cname);
		g_assert_cmpstr(x->msid, ==, y->msid);
	}
	g_assert_cmpuint(a->ssrc_groups->len, ==, b->ssrc_groups->len);
	for (guint i = 0; i < a->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *x = g_ptr_array_index(a->ssrc_groups, i);
		const stoa_sdp_ssrc_group *y = g_ptr_array_index(b->ssrc_groups, i);
		g_assert_cmpstr(x->semantics, ==, y->semantics);
		g_assert_cmpmem(x->ssrcs->data, x->ssrcs->len * 4, y->ssrcs->data, y->ssrcs->len * 4);
	}
	g_assert_cmpuint(a->rids->len, ==, b->rids->len);
	for (guint i = 0; i < a->rids->len; i++) {
		const stoa_sdp_rid *x = g_ptr_array_index(a->rids, i), *y = g_ptr_array_index(b->rids, i);
		g_assert_cmpstr(x->id, ==, y->id);
		g_assert_cmpint(x->send, ==, y->send);
		g_assert_cmpstr(x->params, ==, y->params);
	}
}

static void assert_media_equal(const stoa_sdp_media *a, const stoa_sdp_media *b)
{
	g_assert_cmpint(a->type, ==, b->type);
	g_assert_cmpstr(a->type_str, ==, b->type_str);
	g_assert_cmpint(a->port, ==, b->port);
	g_assert_cmpstr(a->proto, ==, b->proto);
	assert_strs_equal(a->fmts, b->fmts);
	g_assert_cmpstr(a->conn, ==, b->conn);
	assert_strs_equal(a->bandwidths, b->bandwidths);
	g_assert_cmpstr(a->rtcp, ==, b->rtcp);
	g_assert_cmpstr(a->mid, ==, b->mid);
	g_assert_cmpint(a->dir, ==, b->dir);
	g_assert_cmpstr(a->msid, ==, b->msid);
	assert_codecs_equal(a->codecs, b->codecs);
	assert_extmaps_equal(a->extmaps, b->extmaps);
	g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
	assert_ssrcs_equal(a, b);
	g_assert_cmpstr(a->simulcast, ==, b->simulcast);
	g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
	g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
	g_assert_cmpstr(a->ice_options, ==, b->ice_options);
	assert_strs_equal(a->candidates, b->candidates);
	g_assert_cmpint(a->end_of_candidates, ==, b->end_of_candidates);
	g_assert_cmpstr(a->fingerprint_alg, ==, b->fingerprint_alg);
	g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
	g_assert_cmpint(a->setup, ==, b->setup);
	g_assert_cmpint(a->rtcp_mux, ==, b->rtcp_mux);
	g_assert_cmpint(a->rtcp_rsize, ==, b->rtcp_rsize);
	g_assert_cmpint(a->bundle_only, ==, b->bundle_only);
	g_assert_cmpint(a->sctp_port, ==, b->sctp_port);
	g_assert_cmpstr(a->sctpmap, ==, b->sctpmap);
	g_assert_cmpuint(a->max_message_size, ==, b->max_message_size);
	assert_attrs_equal(a->attrs, b->attrs);
}

static void assert_sdp_equal(const stoa_sdp *a, const stoa_sdp *b)
{
	g_assert_cmpstr(a->o_username, ==, b->o_username);
	g_assert_cmpstr(a->o_sess_id, ==, b->o_sess_id);
	g_assert_cmpuint(a->o_sess_version, ==, b->o_sess_version);
	g_assert_cmpstr(a->o_addr, ==, b->o_addr);
	g_assert_cmpstr(a->name, ==, b->name);
	g_assert_cmpstr(a->timing, ==, b->timing);
	g_assert_cmpint(a->dir, ==, b->dir);
	g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
	g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
	g_assert_cmpstr(a->ice_options, ==, b->ice_options);
	g_assert_cmpint(a->ice_lite, ==, b->ice_lite);
	g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
	g_assert_cmpint(a->setup, ==, b->setup);
	g_assert_cmpuint(a->groups->len, ==, b->groups->len);
	for (guint i = 0; i < a->groups->len; i++) {
		const stoa_sdp_group *x = g_ptr_array_index(a->groups, i);
		const stoa_sdp_group *y = g_ptr_array_index(b->groups, i);
		g_assert_cmpstr(x->semantics, ==, y->semantics);
		assert_strs_equal(x->mids, y->mids);
	}
	g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
	g_assert_cmpstr(a->msid_semantic, ==, b->msid_semantic);
	assert_extmaps_equal(a->extmaps, b->extmaps);
	assert_attrs_equal(a->attrs, b->attrs);
	g_assert_cmpuint(a->media->len, ==, b->media->len);
	for (guint i = 0; i < a->media->len; i++)
		assert_media_equal(media(a, i), media(b, i));
}

/* ---------------------------------------------------------------- parsing fixtures */

static void test_parse_chromium_offer(void)
{
	stoa_sdp *s = fixture("chromium-offer-av-data.sdp");
	g_assert_cmpuint(s->media->len, ==, 3);
	const stoa_sdp_group *g = stoa_sdp_group_find(s, "BUNDLE");
	g_assert_nonnull(g);
	g_assert_cmpuint(g->mids->len, ==, 3);
	g_assert_cmpstr(str_at(g->mids, 2), ==, "2");
	g_assert_true(s->extmap_allow_mixed);
	g_assert_true(g_str_has_prefix(s->msid_semantic, "WMS "));
	g_assert_cmpuint(s->o_sess_version, ==, 2);

	stoa_sdp_media *a = media(s, 0);
	g_assert_cmpint(a->type, ==, STOA_SDP_AUDIO);
	g_assert_cmpstr(a->mid, ==, "0");
	g_assert_cmpint(a->port, ==, 53921);
	g_assert_cmpstr(a->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_cmpuint(a->codecs->len, ==, 8);
	assert_codec(a, 111, "opus", 48000, 2);
	assert_codec(a, 0, "PCMU", 8000, 0);
	assert_codec(a, 9, "G722", 8000, 0);
	g_assert_cmpstr(stoa_sdp_media_codec(a, 111)->fmtp, ==, "minptime=10;useinbandfec=1");
	g_assert_cmpstr(str_at(stoa_sdp_media_codec(a, 111)->rtcp_fb, 0), ==, "transport-cc");
	g_assert_cmpint(stoa_sdp_media_extmap_id(a, STOA_SDP_EXT_AUDIO_LEVEL), ==, 1);
	g_assert_cmpint(stoa_sdp_media_extmap_id(a, STOA_SDP_EXT_TWCC), ==, 3);
	g_assert_cmpint(stoa_sdp_media_extmap_id(a, STOA_SDP_EXT_MID), ==, 4);
	g_assert_cmpint(stoa_sdp_media_extmap_id(a, STOA_SDP_EXT_RID), ==, 0);
	g_assert_cmpuint(a->candidates->len, ==, 4);
	g_assert_true(g_str_has_prefix(str_at(a->candidates, 0), "candidate:2646564760 1 udp"));
	g_assert_cmpstr(stoa_sdp_media_ice_ufrag(s, a), ==, "TlMJ");
	g_assert_cmpstr(stoa_sdp_media_ice_pwd(s, a), ==, "agZBiIAFR3DjEnI+Eh2cgAy0");
	const char *alg;
	g_assert_true(g_str_has_prefix(stoa_sdp_media_fingerprint(s, a, &alg), "A1:4E:CC"));
	g_assert_cmpstr(alg, ==, "sha-256");
	g_assert_cmpint(stoa_sdp_media_setup(s, a), ==, STOA_SDP_SETUP_ACTPASS);
	g_assert_cmpint(a->dir, ==, STOA_SDP_SENDRECV);
	g_assert_true(a->rtcp_mux && a->rtcp_rsize);
	g_assert_cmpstr(a->rtcp, ==, "9 IN IP4 0.0.0.0");
	g_assert_cmpuint(a->ssrcs->len, ==, 1);
	g_assert_cmpuint(((stoa_sdp_ssrc *)g_ptr_array_index(a->ssrcs, 0))->ssrc, ==, 414335400);
	g_assert_true(has_str(a->attrs, "rtcp-xr:rcvr-rtt=all"));

	stoa_sdp_media *v = media(s, 1);
	g_assert_cmpint(v->type, ==, STOA_SDP_VIDEO);
	g_assert_cmpuint(v->codecs->len, ==, 23);
	assert_codec(v, 96, "VP8", 90000, 0);
	g_assert_cmpint(stoa_sdp_media_codec(v, 96)->rtx_pt, ==, 97);
	g_assert_cmpint(stoa_sdp_media_codec(v, 97)->apt, ==, 96);
	g_assert_cmpint(stoa_sdp_media_codec(v, 102)->rtx_pt, ==, 103);
	g_assert_cmpint(stoa_sdp_media_codec(v, 118)->rtx_pt, ==, 119); /* red */
	g_assert_cmpint(stoa_sdp_media_codec(v, 120)->rtx_pt, ==, -1);  /* ulpfec */
	g_assert_cmpuint(stoa_sdp_media_codec(v, 96)->rtcp_fb->len, ==, 5);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RID), ==, 10);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RRID), ==, 11);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_VIDEO_ORIENTATION), ==, 13);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_PLAYOUT_DELAY), ==, 5);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
	const stoa_sdp_ssrc_group *fid = g_ptr_array_index(v->ssrc_groups, 0);
	g_assert_cmpstr(fid->semantics, ==, "FID");
	g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 0), ==, 8337717);
	g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 1), ==, 2399393907u);
	g_assert_cmpuint(v->ssrcs->len, ==, 2);
	g_assert_true(g_str_has_prefix(v->msid, "0c78455c-d91e-4dec-a189-2dd7fa0a5ced "));

	stoa_sdp_media *d = media(s, 2);
	g_assert_cmpint(d->type, ==, STOA_SDP_APPLICATION);
	g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
	g_assert_cmpstr(str_at(d->fmts, 0), ==, "webrtc-datachannel");
	g_assert_cmpuint(d->codecs->len, ==, 0);
	g_assert_cmpint(d->sctp_port, ==, 5000);
	g_assert_cmpuint(d->max_message_size, ==, 262144);
	stoa_sdp_free(s);
}

static void test_parse_chromium_simulcast(void)
{
	stoa_sdp *s = fixture("chromium-offer-simulcast.sdp");
	g_assert_cmpuint(s->media->len, ==, 2);
	stoa_sdp_media *v = media(s, 1);
	g_assert_cmpint(v->dir, ==, STOA_SDP_SENDONLY);
	g_assert_cmpuint(v->rids->len, ==, 3);
	const char *ids[] = { "h", "m", "l" };
	for (guint i = 0; i < 3; i++) {
		const stoa_sdp_rid *r = g_ptr_array_index(v->rids, i);
		g_assert_cmpstr(r->id, ==, ids[i]);
		g_assert_true(r->send);
		g_assert_null(r->params);
	}
	g_assert_cmpstr(v->simulcast, ==, "send h;m;l");
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_RID), ==, 10);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 0); /* rids, not SIM groups */
	g_assert_cmpint(media(s, 0)->dir, ==, STOA_SDP_SENDONLY);
	stoa_sdp_free(s);
}

static void test_parse_chromium_answer(void)
{
	stoa_sdp *s = fixture("chromium-answer-av-data.sdp");
	g_assert_cmpuint(s->media->len, ==, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_cmpint(stoa_sdp_media_setup(s, media(s, i)), ==, STOA_SDP_SETUP_ACTIVE);
	g_assert_cmpint(media(s, 1)->port, ==, 9);
	g_assert_cmpstr(media(s, 1)->conn, ==, "IN IP4 0.0.0.0");
	g_assert_cmpuint(media(s, 0)->candidates->len, ==, 2);
	stoa_sdp_free(s);
}

static void test_parse_aiortc_offer(void)
{
	stoa_sdp *s = fixture("aiortc-offer-av-data.sdp");
	g_assert_cmpuint(s->media->len, ==, 3);
	g_assert_cmpstr(s->msid_semantic, ==, "WMS *");
	stoa_sdp_media *a = media(s, 0), *v = media(s, 1), *d = media(s, 2);
	assert_codec(a, 96, "opus", 48000, 2);
	assert_codec(a, 8, "PCMA", 8000, 0);
	g_assert_cmpstr(stoa_sdp_media_ice_ufrag(s, a), ==, "edUu");
	g_assert_cmpstr(stoa_sdp_media_ice_ufrag(s, v), ==, "ULdC"); /* one per m-line */
	g_assert_true(a->end_of_candidates);
	g_assert_cmpuint(a->candidates->len, ==, 1);
	g_assert_cmpint(stoa_sdp_media_codec(v, 97)->rtx_pt, ==, 98);
	g_assert_cmpint(stoa_sdp_media_codec(v, 99)->rtx_pt, ==, 100);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
	g_assert_cmpint(stoa_sdp_media_extmap_id(v, STOA_SDP_EXT_ABS_SEND_TIME), ==, 2);
	g_assert_cmpstr(d->proto, ==, "DTLS/SCTP");
	g_assert_cmpstr(str_at(d->fmts, 0), ==, "5000");
	g_assert_cmpstr(d->sctpmap, ==, "5000 webrtc-datachannel 65535");
	g_assert_cmpint(d->sctp_port, ==, 5000);
	g_assert_cmpuint(d->max_message_size, ==, 65536);
	g_assert_cmpint(stoa_sdp_media_setup(s, d), ==, STOA_SDP_SETUP_ACTPASS);
	stoa_sdp_free(s);
}

static void test_parse_firefox_offer(void)
{
	stoa_sdp *s = fixture("firefox-offer-av-data.sdp");
	g_assert_cmpuint(s->media->len, ==, 3);
	g_assert_cmpint(s->dir, ==, STOA_SDP_SENDRECV);
	g_assert_cmpstr(s->ice_options, ==, "trickle");
	g_assert_nonnull(s->fingerprint);
	stoa_sdp_media *a = media(s, 0), *v = media(s, 1), *d = media(s, 2);
	g_assert_null(a->fingerprint);
	g_assert_cmpstr(stoa_sdp_media_fingerprint(s, a, NULL), ==, s->fingerprint);
	g_assert_true(a->extmap_allow_mixed);
	assert_codec(a, 109, "opus", 48000, 2);
	assert_codec(a, 9, "G722", 8000, 1);
	const stoa_sdp_extmap *e = g_ptr_array_index(a->extmaps, 1);
	g_assert_cmpint(e->id, ==, 2);
	g_assert_cmpint(e->dir, ==, STOA_SDP_RECVONLY);
	g_assert_cmpint(stoa_sdp_media_codec(v, 120)->rtx_pt, ==, 124);
	g_assert_cmpint(stoa_sdp_media_codec(v, 121)->rtx_pt, ==, 125);
	g_assert_cmpint(stoa_sdp_media_codec(v, 99)->rtx_pt, ==, 100);
	assert_codec(v, 99, "AV1", 90000, 0);
	g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
	g_assert_cmpuint(a->candidates->len, ==, 0);
	g_assert_cmpint(d->sctp_port, ==, 5000);
	g_assert_cmpuint(d->max_message_size, ==, 1073741823);
	g_assert_cmpint(d->dir, ==, STOA_SDP_SENDRECV);
	stoa_sdp_free(s);
}

/* ---------------------------------------------------------------- round trips */

static void test_round_trip(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fixtures); i++) {
		stoa_sdp *a = fixture(fixtures[i]);
		char *t1 = stoa_sdp_write(a);
		g_assert_true(g_str_has_prefix(t1, "v=0\r\no="));
		g_assert_true(g_str_has_suffix(t1, "\r\n"));
		stoa_sdp *b = parse_text(t1);
		assert_sdp_equal(a, b);
		char *t2 = stoa_sdp_write(b);
		g_assert_cmpstr(t1, ==, t2);
		stoa_sdp_free(a);
		stoa_sdp_free(b);
		g_free(t1);
		g_free(t2);
	}
}

static void test_lf_only(void)
{
	char *crlf = fixture_text("chromium-offer-av-data.sdp");
	char *lf = replace(crlf, "\r\n", "\n");
	stoa_sdp *a = parse_text(crlf), *b = parse_text(lf);
	assert_sdp_equal(a, b);
	stoa_sdp_free(a);
	stoa_sdp_free(b);
	g_free(crlf);
	g_free(lf);
}

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

/* ---------------------------------------------------------------- hostile input */

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"

static char *repeat(const char *unit, unsigned n)
{
	GString *s = g_string_new(NULL);
	for (unsigned i = 0; i < n; i++)
		g_string_append(s, unit);
	return g_string_free(s, FALSE);
}

static void expect_error(const char *text, size_t len, const char *want)
{
	char err[256] = "";
	stoa_sdp *s = stoa_sdp_parse(text, len, err, sizeof(err));
	if (s != NULL)
		g_error("parsed what should not: %.200s", text);
	g_assert_cmpstr(err, !=, "");
	if (want != NULL)
		g_assert_cmpstr(err, ==, want);
}

static void expect_error_str(const char *text, const char *want)
{
	expect_error(text, strlen(text), want);
}

static void test_garbage(void)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "empty SDP" },
		{ "x", "line 1: expected <letter>=<value>" },
		{ "hello world\r\n", "line 1: expected <letter>=<value>" },
		{ "v=0", "missing o= line" },
		{ "v=1\r\n", "line 1: expected v=0 first" },
		{ "V=0\r\n", "line 1: expected <letter>=<value>" },
		{ "o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "line 1: expected v=0 first" },
		{ "v=0\r\ns=-\r\nt=0 0\r\n", "missing o= line" },
		{ "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nt=0 0\r\n", "missing s= line" },
		{ "v=0\r\no=- 1 2 IN IP4\r\ns=-\r\nt=0 0\r\n", "line 2: bad o= line" },
		{ "v=0\r\no=- 1 99999999999999999999999 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
		  "line 2: bad o= session id or version" },
		{ HEAD "v=0\r\n", "line 5: second v= line" },
		{ HEAD "q=what\r\n", "line 5: unknown line type 'q='" },
		{ HEAD "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", "line 5: m= line has no formats" },
		{ HEAD "m=audio 9\r\n", "line 5: bad m= line" },
		{ HEAD "m=audio 99999999999999999999 UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad m= port" },
		{ HEAD "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", "line 5: bad m= port" },
		{ HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 300\r\n", "line 5: bad payload type '300' (0..127)" },
		{ HEAD "m=audio 9 UDP/TLS/RTP/SAVPF -1\r\n", "line 5: bad payload type '-1' (0..127)" },
		{ HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 96 96\r\n", "line 5: payload type 96 listed twice" },
		{ HEAD AUDIO "a=rtpmap:300 opus/48000/2\r\n", "line 7: a=rtpmap: bad payload type '300'" },
		{ HEAD AUDIO "a=rtpmap:111 opus\r\n", "line 7: bad a=rtpmap" },
		{ HEAD AUDIO "a=rtpmap:111 opus/4294967296/2\r\n", "line 7: a=rtpmap: bad clock rate" },
		{ HEAD AUDIO "a=rtpmap:111 opus/48000/0\r\n", "line 7: a=rtpmap: bad channel count" },
		{ HEAD AUDIO "a=mid:0\r\n" AUDIO "a=mid:0\r\n", "line 10: duplicate mid '0'" },
		{ HEAD AUDIO "a=mid:0\r\na=mid:1\r\n", "line 8: second a=mid in one m-line" },
		{ HEAD AUDIO "a=mid:\r\n", "line 7: bad a=mid" },
		{ HEAD AUDIO "a=mid\r\n", "line 7: a=mid without a value" },
		{ HEAD AUDIO "a=extmap:0 urn:x\r\n", "line 7: a=extmap id must be 1..255" },
		{ HEAD AUDIO "a=extmap:256 urn:x\r\n", "line 7: a=extmap id must be 1..255" },
		{ HEAD AUDIO "a=extmap:1\r\n", "line 7: bad a=extmap" },
		{ HEAD AUDIO "a=extmap:1/sideways urn:x\r\n", "line 7: bad a=extmap direction" },
		{ HEAD AUDIO "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", "line 8: duplicate a=extmap id 1" },
		{ HEAD AUDIO "a=ssrc:4294967296 cname:x\r\n", "line 7: bad a=ssrc" },
		{ HEAD AUDIO "a=ssrc:abc cname:x\r\n", "line 7: bad a=ssrc" },
		{ HEAD AUDIO "a=ssrc-group:FID\r\n", "line 7: a=ssrc-group without SSRCs" },
		{ HEAD AUDIO "a=ssrc-group:FID 1 x\r\n", "line 7: bad a=ssrc-group" },
		{ HEAD AUDIO "a=rid:h sideways\r\n", "line 7: a=rid direction must be send or recv" },
		{ HEAD AUDIO "a=rid:h! send\r\n", "line 7: bad a=rid id" },
		{ HEAD AUDIO "a=rid:h send\r\na=rid:h send\r\n", "line 8: duplicate a=rid 'h'" },
		{ HEAD AUDIO "a=fingerprint:sha-256 ZZ:YY\r\n", "line 7: bad a=fingerprint value" },
		{ HEAD AUDIO "a=fingerprint:sha-256 A1:4E:C\r\n", "line 7: bad a=fingerprint value" },
		{ HEAD AUDIO "a=fingerprint:sha-256\r\n", "line 7: bad a=fingerprint" },
		{ HEAD AUDIO "a=setup:bogus\r\n", "line 7: bad a=setup value" },
		{ HEAD AUDIO "a=ice-ufrag:bad ufrag!\r\n", "line 7: bad a=ice-ufrag" },
		{ HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:70000\r\n",
		  "line 6: bad a=sctp-port" },
		{ HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=max-message-size:-5\r\n",
		  "line 6: bad a=max-message-size" },
		{ HEAD "m=application 9 DTLS/SCTP 5000\r\na=sctpmap:x webrtc-datachannel\r\n",
		  "line 6: bad a=sctpmap" },
		{ HEAD "c=IN IP4\r\n", "line 5: bad c= line" },
		{ HEAD "b=AS:x\r\n", "line 5: bad b= line" },
		{ "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=zero\r\n", "line 4: bad t= line" },
		{ HEAD "a=group:BUNDLE 0 7\r\n" AUDIO "a=mid:0\r\n",
		  "a=group:BUNDLE names mid '7' that no m-line has" },
		{ HEAD "a=setup:\r\n", "line 5: bad a=setup value" },
		{ HEAD "a=fingerprint\r\n", "line 5: a=fingerprint without a value" },
		{ HEAD "a=group\r\n", "line 5: a=group without a value" },
		{ HEAD "a=ice-options: \r\n", "line 5: bad a=ice-options" },
		{ HEAD "a= x\r\n", "line 5: bad attribute name" },
		{ HEAD "a=ok\rb=x\r\n", "line 5: control character in line" },
		{ HEAD "a=x\x01y\r\n", "line 5: control character in line" },
		{ HEAD "a=x\xff\xfe\r\n", "line 5: invalid UTF-8" },
		{ HEAD "a=x\xc3\r\n", "line 5: invalid UTF-8" },
		{ "\r\n\r\n", "line 2: no v= line" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		expect_error_str(cases[i].text, cases[i].err);
}

static void test_garbage_truncated(void)
{
	char *offer = fixture_text("chromium-offer-av-data.sdp");
	static const char *const cuts[] = {
		"m=audio 53921 UDP/TLS/RT", "a=fingerprint:sha-256 A1:4E:C", "a=ssrc-group:FID",
		"a=extmap:1", "a=rtpmap:111 opus", "o=- 1577381658597165942",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
		const char *at = strstr(offer, cuts[i]);
		g_assert_nonnull(at);
		expect_error(offer, (size_t)(at - offer) + strlen(cuts[i]), NULL);
	}
	/* A NUL byte in the middle of a real offer. */
	size_t len = strlen(offer);
	char *nul = g_memdup2(offer, len);
	nul[len / 2] = '\0';
	expect_error(nul, len, NULL);
	g_free(nul);
	g_free(offer);
}

static void test_garbage_limits(void)
{
	/* Too large. */
	char *big = g_strnfill(STOA_SDP_MAX_LEN + 1, 'a');
	expect_error(big, strlen(big), "SDP too large (65537 bytes, at most 65536)");
	g_free(big);
	/* 10,000 attributes. */
	char *attrs = repeat("a=x\r\n", 10000);
	char *text = g_strconcat(HEAD, attrs, NULL);
	expect_error_str(text, "line 517: too many attributes");
	g_free(text);
	g_free(attrs);
	/* More lines than allowed (i= lines are read and dropped). */
	char *many = repeat("i=x\r\n", 4100);
	text = g_strconcat(HEAD, many, NULL);
	expect_error_str(text, "line 4097: too many lines (at most 4096)");
	g_free(text);
	g_free(many);
	/* 65 m-lines. */
	char *ms = repeat("m=audio 9 RTP/AVP 0\r\n", 65);
	text = g_strconcat(HEAD, ms, NULL);
	expect_error_str(text, "line 69: too many m-lines (at most 64)");
	g_free(text);
	g_free(ms);
	/* 640 payload types over 5 m-lines. */
	GString *pts = g_string_new(NULL);
	for (int m = 0; m < 5; m++) {
		g_string_append(pts, "m=video 9 UDP/TLS/RTP/SAVPF");
		for (int pt = 0; pt < 128; pt++)
			g_string_append_printf(pts, " %d", pt);
		g_string_append(pts, "\r\n");
	}
	text = g_strconcat(HEAD, pts->str, NULL);
	expect_error_str(text, "line 9: too many payload types (at most 512)");
	g_free(text);
	g_string_free(pts, TRUE);
	/* One line longer than 4 KiB. */
	char *longv = g_strnfill(5000, 'x');
	text = g_strconcat(HEAD "a=", longv, "\r\n", NULL);
	expect_error_str(text, "line 5: line too long");
	g_free(text);
	g_free(longv);
	/* 200 candidates in one m-line. */
	char *cs = repeat("a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", 200);
	text = g_strconcat(HEAD AUDIO, cs, NULL);
	expect_error_str(text, "line 135: too many a=candidate lines");
	g_free(text);
	g_free(cs);
	/* NULL buffer. */
	char err[64] = "";
	g_assert_null(stoa_sdp_parse(NULL, 0, err, sizeof(err)));
	g_assert_cmpstr(err, ==, "empty SDP");
	g_assert_null(stoa_sdp_parse("x", 1, NULL, 0));
}

/* Attributes the parser does not know survive a round trip verbatim. */
static void test_unknown_attributes(void)
{
	const char *text = HEAD "a=x-session:1\r\n" AUDIO "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
			   "a=x-media:abc def\r\na=rtcp-fb:* nack\r\na=ssrc:5 label:foo\r\n"
			   "a=fmtp:112 apt=111\r\ni=info\r\n";
	stoa_sdp *s = parse_text(text);
	g_assert_true(has_str(s->attrs, "x-session:1"));
	stoa_sdp_media *m = media(s, 0);
	g_assert_true(has_str(m->attrs, "x-media:abc def"));
	g_assert_true(has_str(m->attrs, "rtcp-fb:* nack"));
	g_assert_true(has_str(m->attrs, "ssrc:5 label:foo"));
	g_assert_true(has_str(m->attrs, "fmtp:112 apt=111")); /* pt 112 is not on the m= line */
	char *out = stoa_sdp_write(s);
	g_assert_nonnull(strstr(out, "a=x-media:abc def\r\n"));
	g_assert_nonnull(strstr(out, "a=x-session:1\r\n"));
	stoa_sdp *b = parse_text(out);
	assert_sdp_equal(s, b);
	stoa_sdp_free(b);
	g_free(out);
	stoa_sdp_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp/parse/chromium-offer", test_parse_chromium_offer);
	g_test_add_func("/sdp/parse/chromium-simulcast", test_parse_chromium_simulcast);
	g_test_add_func("/sdp/parse/chromium-answer", test_parse_chromium_answer);
	g_test_add_func("/sdp/parse/aiortc-offer", test_parse_aiortc_offer);
	g_test_add_func("/sdp/parse/firefox-offer", test_parse_firefox_offer);
	g_test_add_func("/sdp/parse/unknown-attributes", test_unknown_attributes);
	g_test_add_func("/sdp/write/round-trip", test_round_trip);
	g_test_add_func("/sdp/parse/lf-only", test_lf_only);
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
	g_test_add_func("/sdp/garbage/lines", test_garbage);
	g_test_add_func("/sdp/garbage/truncated", test_garbage_truncated);
	g_test_add_func("/sdp/garbage/limits", test_garbage_limits);
	return g_test_run();
}
