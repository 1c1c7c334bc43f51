/*
 * test_sdp.c: the SDP parser and writer (media/sdp/) against real SDPs
 * captured from Chromium, Firefox and aiortc (tests/data/sdp), and against
 * hostile input. Answers and offers: test_sdp_negotiate.c.
 */
#include <glib.h>
#include <string.h>

#include "sdp_test_util.h"

static const char *const fixtures[] = {
	"chromium-offer-av-data.sdp", "chromium-offer-simulcast.sdp",
	"chromium-answer-av-data.sdp", "aiortc-offer-av-data.sdp", "firefox-offer-av-data.sdp",
};

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
	g_test_add_func("/sdp/garbage/lines", test_garbage);
	g_test_add_func("/sdp/garbage/truncated", test_garbage_truncated);
	g_test_add_func("/sdp/garbage/limits", test_garbage_limits);
	return g_test_run();
}
