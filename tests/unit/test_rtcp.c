/*
 * test_rtcp.c: RTCP compound iteration, parsers and builders
 * (media/rtcp/rtcp*.c). Hand-assembled vectors follow RFC 3550 6.4 to
 * 6.6, RFC 4585 6.2.1/6.3.1, RFC 5104 4.3.1, draft-alvestrand-rmcat-remb
 * and draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1; everything
 * built is parsed back and compared.
 */
#include <glib.h>
#include <string.h>

#include "media/rtcp/rtcp.h"
#include "media/rtp/bytes.h"

/* The first sub-packet of buf, which must be well formed. */
static stoa_rtcp_hdr first(const uint8_t *buf, size_t len)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_rtcp_iter_init(&it, buf, len);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	return h;
}

static stoa_rtcp_fb first_fb(const uint8_t *buf, size_t len)
{
	stoa_rtcp_hdr h = first(buf, len);
	stoa_rtcp_fb fb;
	g_assert_cmpint(stoa_rtcp_fb_parse(&h, &fb), ==, 0);
	return fb;
}

static const stoa_rtcp_report_block rbs[2] = {
	{ 0x01020304, 25, 1000, 0x00015000, 77, 0xaabbccdd, 0x00010000 },
	{ 0x05060708, 255, -3, 65535, 0, 0, 0 },
};

static void assert_rb_eq(const stoa_rtcp_report_block *a, const stoa_rtcp_report_block *b)
{
	g_assert_cmpuint(a->ssrc, ==, b->ssrc);
	g_assert_cmpuint(a->fraction_lost, ==, b->fraction_lost);
	g_assert_cmpint(a->cum_lost, ==, b->cum_lost);
	g_assert_cmpuint(a->ext_high_seq, ==, b->ext_high_seq);
	g_assert_cmpuint(a->jitter, ==, b->jitter);
	g_assert_cmpuint(a->lsr, ==, b->lsr);
	g_assert_cmpuint(a->dlsr, ==, b->dlsr);
}

static void test_sr(void)
{
	uint8_t buf[256];
	stoa_rtcp_sender_info si = { 0xcafebabe, 0x0123456789abcdefull, 90000, 1000, 123456 };
	int n = stoa_rtcp_build_sr(buf, sizeof(buf), &si, rbs, 2);
	g_assert_cmpint(n, ==, 28 + 48);
	g_assert_cmpuint(buf[0], ==, 0x82);
	g_assert_cmpuint(buf[1], ==, 200);
	g_assert_cmpuint(stoa_be16(buf + 2), ==, (28 + 48) / 4 - 1);
	/* cum_lost -3 on the wire as 24-bit two's complement */
	g_assert_cmpuint(stoa_be24(buf + 28 + 24 + 5), ==, 0xfffffd);

	stoa_rtcp_hdr h = first(buf, (size_t)n);
	stoa_rtcp_sr sr;
	g_assert_cmpint(stoa_rtcp_sr_parse(&h, &sr), ==, 0);
	g_assert_cmpuint(sr.info.ssrc, ==, si.ssrc);
	g_assert_cmpuint(sr.info.ntp, ==, si.ntp);
	g_assert_cmpuint(sr.info.rtp_ts, ==, si.rtp_ts);
	g_assert_cmpuint(sr.info.packet_count, ==, si.packet_count);
	g_assert_cmpuint(sr.info.octet_count, ==, si.octet_count);
	g_assert_cmpuint(sr.rb_count, ==, 2);
	for (unsigned i = 0; i < 2; i++) {
		stoa_rtcp_report_block rb;
		stoa_rtcp_rb_read(sr.blocks, i, &rb);
		assert_rb_eq(&rb, &rbs[i]);
	}
	/* Not an RR; too short for its count. */
	stoa_rtcp_rr rr;
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), <, 0);
	buf[0] = 0x83;
	h = first(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_sr_parse(&h, &sr), <, 0);
	/* Capacity and count limits. */
	g_assert_cmpint(stoa_rtcp_build_sr(buf, (size_t)n - 1, &si, rbs, 2), <, 0);
	g_assert_cmpint(stoa_rtcp_build_sr(buf, sizeof(buf), &si, rbs, 32), <, 0);
}

static void test_rr(void)
{
	uint8_t buf[64];
	int n = stoa_rtcp_build_rr(buf, sizeof(buf), 0x11111111, rbs, 1);
	g_assert_cmpint(n, ==, 32);
	stoa_rtcp_hdr h = first(buf, (size_t)n);
	stoa_rtcp_rr rr;
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), ==, 0);
	g_assert_cmpuint(rr.ssrc, ==, 0x11111111);
	g_assert_cmpuint(rr.rb_count, ==, 1);
	stoa_rtcp_report_block rb;
	stoa_rtcp_rb_read(rr.blocks, 0, &rb);
	assert_rb_eq(&rb, &rbs[0]);
	/* An empty RR (8 bytes) */
	n = stoa_rtcp_build_rr(buf, sizeof(buf), 7, NULL, 0);
	g_assert_cmpint(n, ==, 8);
	h = first(buf, 8);
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), ==, 0);
	g_assert_cmpuint(rr.rb_count, ==, 0);
	/* Cumulative loss beyond 24 bits is clamped. */
	stoa_rtcp_report_block big = rbs[0];
	big.cum_lost = 50000000;
	n = stoa_rtcp_build_rr(buf, sizeof(buf), 1, &big, 1);
	h = first(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), ==, 0);
	stoa_rtcp_rb_read(rr.blocks, 0, &rb);
	g_assert_cmpint(rb.cum_lost, ==, 0x7fffff);
	big.cum_lost = -50000000;
	n = stoa_rtcp_build_rr(buf, sizeof(buf), 1, &big, 1);
	h = first(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), ==, 0);
	stoa_rtcp_rb_read(rr.blocks, 0, &rb);
	g_assert_cmpint(rb.cum_lost, ==, -0x800000);
}

static void test_iter(void)
{
	/* RR (8) + BYE (8), then garbage cases. */
	uint8_t buf[32] = { 0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 203, 0, 1, 0, 0, 0, 1 };
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_rtcp_iter_init(&it, buf, 16);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpuint(h.pt, ==, 201);
	g_assert_cmpuint(h.len, ==, 8);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpuint(h.pt, ==, 203);
	g_assert_cmpuint(h.count, ==, 1);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, 16, false), ==, 0);

	/* Truncated second packet: the first is handed out, then an error,
	 * then the walk stays stopped. */
	stoa_rtcp_iter_init(&it, buf, 14);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, 14, false), <, 0);
	/* Fewer than 4 bytes left */
	stoa_rtcp_iter_init(&it, buf, 11);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	/* Wrong version */
	buf[8] = 0x41;
	stoa_rtcp_iter_init(&it, buf, 16);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	buf[8] = 0x81;
	/* Length field 0xffff */
	buf[2] = 0xff, buf[3] = 0xff;
	stoa_rtcp_iter_init(&it, buf, 16);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	buf[2] = 0, buf[3] = 1;
	/* A compound must start with SR/RR unless reduced-size. */
	g_assert_cmpint(stoa_rtcp_validate(buf + 8, 8, false), <, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf + 8, 8, true), ==, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, 0, true), <, 0);
	/* An RTP packet type is not RTCP. */
	uint8_t rtp[8] = { 0x80, 96, 0, 1, 0, 0, 0, 0 };
	g_assert_cmpint(stoa_rtcp_validate(rtp, 8, true), <, 0);
}

static void test_padding(void)
{
	/* BYE for one SSRC with 4 bytes of padding, P set. */
	uint8_t p[12] = { 0xa1, 203, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4 };
	stoa_rtcp_hdr h = first(p, sizeof(p));
	g_assert_true(h.padding);
	g_assert_cmpuint(h.len, ==, 12);
	g_assert_cmpuint(h.body_len, ==, 8);
	stoa_rtcp_bye bye;
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), ==, 0);
	g_assert_null(bye.reason);
	g_assert_cmpint(stoa_rtcp_validate(p, sizeof(p), true), ==, 0);
	/* Padding count 0 or beyond the body is malformed. */
	stoa_rtcp_iter it;
	p[11] = 0;
	stoa_rtcp_iter_init(&it, p, sizeof(p));
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	p[11] = 9;
	stoa_rtcp_iter_init(&it, p, sizeof(p));
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), <, 0);
	/* Padding on a sub-packet that is not the last. */
	uint8_t two[20] = { 0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4, 0x80, 201, 0, 1 };
	g_assert_cmpint(stoa_rtcp_validate(two, sizeof(two), false), <, 0);
}

struct sdes_seen {
	int items;
	uint32_t ssrcs[4];
	uint8_t types[4];
	char text[4][32];
};

static void sdes_cb(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *text, size_t len)
{
	struct sdes_seen *s = ud;
	if (s->items >= 4)
		return;
	s->ssrcs[s->items] = ssrc;
	s->types[s->items] = type;
	memcpy(s->text[s->items], text, MIN(len, 31));
	s->text[s->items][MIN(len, 31)] = 0;
	s->items++;
}

static void test_sdes(void)
{
	uint8_t buf[64];
	int n = stoa_rtcp_build_sdes_cname(buf, sizeof(buf), 0x12345678, "user@host", 9);
	/* 4 + 4 + 2 + 9 = 19, plus a null octet -> 20 */
	g_assert_cmpint(n, ==, 20);
	stoa_rtcp_hdr h = first(buf, (size_t)n);
	uint32_t ssrc;
	const uint8_t *c;
	size_t cl;
	g_assert_cmpint(stoa_rtcp_sdes_cname(&h, &ssrc, &c, &cl), ==, 0);
	g_assert_cmpuint(ssrc, ==, 0x12345678);
	g_assert_cmpmem(c, cl, "user@host", 9);
	/* Length 10: 20 bytes exactly, then 4 null octets -> 24 */
	n = stoa_rtcp_build_sdes_cname(buf, sizeof(buf), 1, "0123456789", 10);
	g_assert_cmpint(n, ==, 24);
	g_assert_cmpmem(buf + 20, 4, "\0\0\0\0", 4);
	g_assert_cmpint(stoa_rtcp_build_sdes_cname(buf, 23, 1, "0123456789", 10), <, 0);

	/* Two chunks: (SSRC 1: NAME "a", CNAME "c1"), (SSRC 2: CNAME "c2"). */
	const uint8_t two[] = {
		0x82, 202, 0, 6,
		0, 0, 0, 1, 2, 1, 'a', 1, 2, 'c', '1', 0,
		0, 0, 0, 2, 1, 2, 'c', '2', 0, 0, 0, 0,
	};
	h = first(two, sizeof(two));
	struct sdes_seen seen = { 0 };
	g_assert_cmpint(stoa_rtcp_sdes_parse(&h, sdes_cb, &seen), ==, 0);
	g_assert_cmpint(seen.items, ==, 3);
	g_assert_cmpuint(seen.types[0], ==, 2);
	g_assert_cmpstr(seen.text[1], ==, "c1");
	g_assert_cmpuint(seen.ssrcs[2], ==, 2);
	g_assert_cmpstr(seen.text[2], ==, "c2");
	g_assert_cmpint(stoa_rtcp_sdes_cname(&h, &ssrc, &c, &cl), ==, 0);
	g_assert_cmpuint(ssrc, ==, 1);

	/* An item running past the packet; a chunk with no null item. */
	uint8_t bad[sizeof(two)];
	memcpy(bad, two, sizeof(bad));
	bad[21] = 9;
	h = first(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_sdes_parse(&h, NULL, NULL), <, 0);
	/* ... but the CNAME before the fault is still found. */
	g_assert_cmpint(stoa_rtcp_sdes_cname(&h, &ssrc, &c, &cl), ==, 0);
	const uint8_t nonull[] = { 0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b' };
	h = first(nonull, sizeof(nonull));
	g_assert_cmpint(stoa_rtcp_sdes_parse(&h, NULL, NULL), <, 0);
}

static void test_bye(void)
{
	uint8_t buf[64];
	uint32_t ssrcs[2] = { 0xa, 0xb };
	int n = stoa_rtcp_build_bye(buf, sizeof(buf), ssrcs, 2, "gone", 4);
	g_assert_cmpint(n, ==, 4 + 8 + 8);
	stoa_rtcp_hdr h = first(buf, (size_t)n);
	stoa_rtcp_bye bye;
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), ==, 0);
	g_assert_cmpuint(bye.count, ==, 2);
	g_assert_cmpuint(stoa_rtcp_bye_ssrc(&bye, 1), ==, 0xb);
	g_assert_cmpmem(bye.reason, bye.reason_len, "gone", 4);
	n = stoa_rtcp_build_bye(buf, sizeof(buf), ssrcs, 1, NULL, 0);
	g_assert_cmpint(n, ==, 8);
	h = first(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), ==, 0);
	g_assert_null(bye.reason);
	/* A reason length past the end */
	const uint8_t bad[] = { 0x81, 203, 0, 2, 0, 0, 0, 1, 7, 'a', 'b', 'c' };
	h = first(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), <, 0);
	/* SC larger than the packet */
	const uint8_t bad2[] = { 0x83, 203, 0, 1, 0, 0, 0, 1 };
	h = first(bad2, sizeof(bad2));
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), <, 0);
}

static size_t nack_roundtrip(const uint16_t *in, size_t n, uint16_t *out, size_t cap,
			     size_t *fci_count)
{
	uint8_t buf[512];
	int len = stoa_rtcp_build_nack(buf, sizeof(buf), 1, 2, in, n);
	g_assert_cmpint(len, >, 12);
	*fci_count = ((size_t)len - 12) / 4;
	stoa_rtcp_fb fb = first_fb(buf, (size_t)len);
	g_assert_cmpuint(fb.sender_ssrc, ==, 1);
	g_assert_cmpuint(fb.media_ssrc, ==, 2);
	int got = stoa_rtcp_nack_parse(&fb, out, cap);
	g_assert_cmpint(got, >=, 0);
	return (size_t)got;
}

static void test_nack(void)
{
	/* PID 100, BLP 0x8001: 100, 101 and 116. */
	const uint8_t v[] = { 0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 100, 0x80, 0x01 };
	stoa_rtcp_fb fb = first_fb(v, sizeof(v));
	uint16_t seqs[64];
	g_assert_cmpint(stoa_rtcp_nack_parse(&fb, seqs, 64), ==, 3);
	g_assert_cmpuint(seqs[0], ==, 100);
	g_assert_cmpuint(seqs[1], ==, 101);
	g_assert_cmpuint(seqs[2], ==, 116);
	/* Bounded output */
	g_assert_cmpint(stoa_rtcp_nack_parse(&fb, seqs, 2), ==, 2);
	g_assert_cmpint(stoa_rtcp_pli_check(&fb), <, 0);

	size_t fcis;
	uint16_t out[64];
	/* Gap of exactly 16: one FCI (bit 15). */
	const uint16_t g16[] = { 10, 26 };
	g_assert_cmpuint(nack_roundtrip(g16, 2, out, 64, &fcis), ==, 2);
	g_assert_cmpuint(fcis, ==, 1);
	g_assert_cmpuint(out[1], ==, 26);
	/* Gap of 17: two FCIs. */
	const uint16_t g17[] = { 10, 27 };
	g_assert_cmpuint(nack_roundtrip(g17, 2, out, 64, &fcis), ==, 2);
	g_assert_cmpuint(fcis, ==, 2);
	g_assert_cmpuint(out[1], ==, 27);
	/* 17 consecutive: one full FCI (BLP 0xffff). */
	uint16_t run[17];
	for (unsigned i = 0; i < 17; i++)
		run[i] = (uint16_t)(65530 + i); /* wraps through 0 */
	g_assert_cmpuint(nack_roundtrip(run, 17, out, 64, &fcis), ==, 17);
	g_assert_cmpuint(fcis, ==, 1);
	for (unsigned i = 0; i < 17; i++)
		g_assert_cmpuint(out[i], ==, run[i]);
	/* 18 consecutive: two FCIs. */
	uint16_t run18[18];
	for (unsigned i = 0; i < 18; i++)
		run18[i] = (uint16_t)(i + 1000);
	g_assert_cmpuint(nack_roundtrip(run18, 18, out, 64, &fcis), ==, 18);
	g_assert_cmpuint(fcis, ==, 2);
	/* Duplicates fold; out of order starts a new FCI. */
	const uint16_t dup[] = { 5, 5, 6, 3 };
	g_assert_cmpuint(nack_roundtrip(dup, 4, out, 64, &fcis), ==, 3);
	g_assert_cmpuint(fcis, ==, 2);
	g_assert_cmpuint(out[0], ==, 5);
	g_assert_cmpuint(out[1], ==, 6);
	g_assert_cmpuint(out[2], ==, 3);
	/* Nothing to NACK; no room. */
	uint8_t buf[16];
	g_assert_cmpint(stoa_rtcp_build_nack(buf, sizeof(buf), 1, 2, g17, 0), <, 0);
	g_assert_cmpint(stoa_rtcp_build_nack(buf, 15, 1, 2, g16, 2), <, 0);
	g_assert_cmpint(stoa_rtcp_build_nack(buf, 16, 1, 2, g17, 2), <, 0);
	/* FCI not a whole number of words */
	uint8_t odd[] = { 0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2 };
	fb = first_fb(odd, sizeof(odd));
	g_assert_cmpint(stoa_rtcp_nack_parse(&fb, seqs, 64), <, 0);
}

static void test_pli_fir(void)
{
	uint8_t buf[32];
	int n = stoa_rtcp_build_pli(buf, sizeof(buf), 0x10, 0x20);
	g_assert_cmpint(n, ==, 12);
	stoa_rtcp_fb fb = first_fb(buf, 12);
	g_assert_cmpint(stoa_rtcp_pli_check(&fb), ==, 0);
	g_assert_cmpuint(fb.media_ssrc, ==, 0x20);
	g_assert_cmpint(stoa_rtcp_build_pli(buf, 11, 1, 2), <, 0);

	n = stoa_rtcp_build_fir(buf, sizeof(buf), 0x10, 0x20, 7);
	g_assert_cmpint(n, ==, 20);
	fb = first_fb(buf, 20);
	g_assert_cmpuint(fb.fmt, ==, 4);
	g_assert_cmpuint(fb.media_ssrc, ==, 0);
	g_assert_cmpint(stoa_rtcp_pli_check(&fb), <, 0);
	stoa_rtcp_fir_entry e[2];
	g_assert_cmpint(stoa_rtcp_fir_parse(&fb, e, 2), ==, 1);
	g_assert_cmpuint(e[0].ssrc, ==, 0x20);
	g_assert_cmpuint(e[0].seq, ==, 7);
	g_assert_cmpint(stoa_rtcp_build_fir(buf, 19, 1, 2, 3), <, 0);
	/* Two entries, bounded to one */
	const uint8_t two[] = { 0x84, 206, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0,
				0, 0, 0, 5, 9, 0, 0, 0, 0, 0, 0, 6, 10, 0, 0, 0 };
	fb = first_fb(two, sizeof(two));
	g_assert_cmpint(stoa_rtcp_fir_parse(&fb, e, 2), ==, 2);
	g_assert_cmpuint(e[1].ssrc, ==, 6);
	g_assert_cmpuint(e[1].seq, ==, 10);
	g_assert_cmpint(stoa_rtcp_fir_parse(&fb, e, 1), ==, 1);
}

static stoa_rtcp_remb remb_of(const uint8_t *buf, size_t len)
{
	stoa_rtcp_fb fb = first_fb(buf, len);
	stoa_rtcp_remb r;
	g_assert_cmpint(stoa_rtcp_remb_parse(&fb, &r), ==, 0);
	return r;
}

static void test_remb(void)
{
	uint8_t buf[64];
	uint32_t ssrcs[2] = { 0x1234, 0x5678 };
	int n = stoa_rtcp_build_remb(buf, sizeof(buf), 9, 1000000, ssrcs, 2);
	g_assert_cmpint(n, ==, 12 + 8 + 8);
	stoa_rtcp_remb r = remb_of(buf, (size_t)n);
	/* 1,000,000 = 0x0F4240: 20 bits, so exp 2 and mantissa 250000. */
	g_assert_cmpuint(r.exp, ==, 2);
	g_assert_cmpuint(r.mantissa, ==, 250000);
	g_assert_cmpuint(r.bitrate, ==, 1000000);
	g_assert_cmpuint(r.ssrc_count, ==, 2);
	g_assert_cmpuint(stoa_rtcp_remb_ssrc(&r, 1), ==, 0x5678);
	/* The largest mantissa with exponent 0 */
	n = stoa_rtcp_build_remb(buf, sizeof(buf), 9, 0x3ffff, NULL, 0);
	r = remb_of(buf, (size_t)n);
	g_assert_cmpuint(r.exp, ==, 0);
	g_assert_cmpuint(r.bitrate, ==, 0x3ffff);
	/* Bits below the mantissa are dropped (rounded down). */
	n = stoa_rtcp_build_remb(buf, sizeof(buf), 9, 0x40001, NULL, 0);
	r = remb_of(buf, (size_t)n);
	g_assert_cmpuint(r.exp, ==, 1);
	g_assert_cmpuint(r.bitrate, ==, 0x40000);
	/* UINT64_MAX needs exponent 46. */
	n = stoa_rtcp_build_remb(buf, sizeof(buf), 9, UINT64_MAX, NULL, 0);
	r = remb_of(buf, (size_t)n);
	g_assert_cmpuint(r.exp, ==, 46);
	g_assert_cmpuint(r.mantissa, ==, 0x3ffff);
	g_assert_cmpuint(r.bitrate, ==, UINT64_C(0x3ffff) << 46);
	/* Exponent 63 on the wire saturates rather than overflowing. */
	buf[12 + 5] = (uint8_t)(63 << 2 | 3);
	r = remb_of(buf, (size_t)n);
	g_assert_cmpuint(r.exp, ==, 63);
	g_assert_cmpuint(r.bitrate, ==, UINT64_MAX);
	/* Exponent 63 with mantissa 1: 2^63 fits. */
	buf[12 + 5] = 63 << 2, buf[12 + 6] = 0, buf[12 + 7] = 1;
	r = remb_of(buf, (size_t)n);
	g_assert_cmpuint(r.bitrate, ==, UINT64_C(1) << 63);
	/* An SSRC count past the end; a different identifier. */
	n = stoa_rtcp_build_remb(buf, sizeof(buf), 9, 1000, ssrcs, 1);
	buf[12 + 4] = 2;
	stoa_rtcp_fb fb = first_fb(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_remb_parse(&fb, &r), <, 0);
	buf[12 + 4] = 1;
	buf[12] = 'X';
	fb = first_fb(buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_remb_parse(&fb, &r), <, 0);
	g_assert_cmpint(stoa_rtcp_build_remb(buf, 27, 9, 1, ssrcs, 2), <, 0);
}

/*
 * TWCC, hand-assembled: base 100, 26 packets, reference time 0x123456,
 * feedback count 7. Chunks:
 *   run of 5 small-delta packets             0x2005
 *   1-bit vector R R - - R R - - R R - - R R  0b1 0 11001100110011 = 0xB333
 *   2-bit vector S L - L S - -                0b11 01 10 00 10 01 00 00 = 0xD890
 *     (only 7 of 26-19 = 7 used)
 * Deltas: five 1-byte (1..5), eight 1-byte (10..17), then 1 byte 200,
 * 2 bytes -4, 2 bytes 1000, 1 byte 0. 5+8+1+2+2+1 = 19 bytes.
 */
static const uint8_t twcc_vec[] = {
	0x8f, 205, 0, 11, 0, 0, 0, 1, 0, 0, 0, 2,
	0, 100, 0, 26, 0x12, 0x34, 0x56, 7,
	0x20, 0x05, 0xb3, 0x33, 0xd8, 0x90,
	1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 200, 0xff, 0xfc, 0x03, 0xe8, 0,
	0, 0, 0,
};

static void test_twcc_parse(void)
{
	g_assert_cmpuint(sizeof(twcc_vec), ==, 48);
	stoa_rtcp_fb fb = first_fb(twcc_vec, sizeof(twcc_vec));
	stoa_rtcp_twcc t;
	stoa_rtcp_twcc_pkt p[32];
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), ==, 26);
	g_assert_cmpuint(t.base_seq, ==, 100);
	g_assert_cmpuint(t.status_count, ==, 26);
	g_assert_cmpuint(t.ref_time, ==, 0x123456);
	g_assert_cmpuint(t.fb_count, ==, 7);
	for (unsigned i = 0; i < 5; i++) {
		g_assert_cmpuint(p[i].seq, ==, 100 + i);
		g_assert_true(p[i].received);
		g_assert_cmpint(p[i].delta, ==, (int)i + 1);
	}
	static const bool rx1[14] = { 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1 };
	int d = 10;
	for (unsigned i = 0; i < 14; i++) {
		g_assert_cmpint(p[5 + i].received, ==, rx1[i]);
		g_assert_cmpint(p[5 + i].delta, ==, rx1[i] ? d++ : 0);
	}
	g_assert_cmpint(p[19].delta, ==, 200);
	g_assert_cmpint(p[20].delta, ==, -4);
	g_assert_false(p[21].received);
	g_assert_cmpint(p[22].delta, ==, 1000);
	g_assert_true(p[23].received);
	g_assert_cmpint(p[23].delta, ==, 0);
	g_assert_false(p[24].received);
	g_assert_false(p[25].received);
	g_assert_cmpuint(p[25].seq, ==, 125);
	/* A bounded array still validates the whole message. */
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 3), ==, 3);

	uint8_t bad[sizeof(twcc_vec)];
	/* Deltas truncated: the first run now needs 2-byte deltas, ten bytes
	 * instead of five, more than the packet has. */
	memcpy(bad, twcc_vec, sizeof(bad));
	bad[20] = 0x40;
	fb = first_fb(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), <, 0);
	/* Reserved symbol 11 in a used position */
	memcpy(bad, twcc_vec, sizeof(bad));
	bad[25] = 0x9c; /* ... 01 11 00 00: 6th symbol = 11 */
	bad[15] = 26;
	fb = first_fb(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), <, 0);
	/* ... but past the status count it is ignored. */
	bad[15] = 24;
	fb = first_fb(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), ==, 24);
	/* A large count that no chunk list covers */
	memcpy(bad, twcc_vec, sizeof(bad));
	bad[14] = 0xff;
	fb = first_fb(bad, sizeof(bad));
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), <, 0);
	/* Too short for the fixed fields; wrong FMT. */
	fb = first_fb(twcc_vec, sizeof(twcc_vec));
	fb.fci_len = 7;
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), <, 0);
	fb.fci_len = 32;
	fb.fmt = 1;
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, p, 32), <, 0);
}

static void twcc_roundtrip(const stoa_rtcp_twcc_pkt *in, size_t n, uint8_t *buf, size_t cap)
{
	stoa_rtcp_twcc hdr = { .base_seq = in[0].seq, .ref_time = 0xabcdef, .fb_count = 200 };
	int len = stoa_rtcp_build_twcc(buf, cap, 5, 6, &hdr, in, n);
	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(len % 4, ==, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, (size_t)len, true), ==, 0);
	stoa_rtcp_fb fb = first_fb(buf, (size_t)len);
	stoa_rtcp_twcc t;
	stoa_rtcp_twcc_pkt *out = g_new(stoa_rtcp_twcc_pkt, n);
	g_assert_cmpint(stoa_rtcp_twcc_parse(&fb, &t, out, n), ==, (int)n);
	g_assert_cmpuint(t.base_seq, ==, in[0].seq);
	g_assert_cmpuint(t.status_count, ==, n);
	g_assert_cmpuint(t.ref_time, ==, 0xabcdef);
	g_assert_cmpuint(t.fb_count, ==, 200);
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpuint(out[i].seq, ==, (uint16_t)(in[0].seq + i));
		g_assert_cmpint(out[i].received, ==, in[i].received);
		g_assert_cmpint(out[i].delta, ==, in[i].received ? in[i].delta : 0);
	}
	g_free(out);
}

static void test_twcc_build(void)
{
	uint8_t buf[65536];
	stoa_rtcp_twcc_pkt p[10000];
	/* Mixed small/large/negative/lost, wrapping sequence numbers */
	static const int32_t deltas[] = { 0, 255, 256, -1, 32767, -32768, 4, 4, 4, 4, 4, 4, 4, 4, 9 };
	for (unsigned i = 0; i < G_N_ELEMENTS(deltas); i++) {
		p[i].seq = (uint16_t)(65530 + i);
		p[i].received = (i % 5) != 3;
		p[i].delta = deltas[i];
	}
	twcc_roundtrip(p, G_N_ELEMENTS(deltas), buf, sizeof(buf));
	/* A single packet */
	twcc_roundtrip(p, 1, buf, sizeof(buf));
	/* Long runs past the 13-bit run length: lost, then received */
	for (unsigned i = 0; i < 10000; i++) {
		p[i].seq = (uint16_t)(7 + i);
		p[i].received = i >= 9000;
		p[i].delta = 1;
	}
	twcc_roundtrip(p, 10000, buf, sizeof(buf));
	/* Alternating, so vectors are chosen */
	for (unsigned i = 0; i < 100; i++) {
		p[i].received = (i & 1) != 0;
		p[i].delta = (i % 3 == 0) ? -7 : 3;
	}
	twcc_roundtrip(p, 100, buf, sizeof(buf));
	/* A delta beyond int16 cannot be encoded; no room; nothing to send */
	stoa_rtcp_twcc hdr = { 0 };
	p[0].received = true;
	p[0].delta = 40000;
	g_assert_cmpint(stoa_rtcp_build_twcc(buf, sizeof(buf), 1, 2, &hdr, p, 1), <, 0);
	p[0].delta = 1;
	g_assert_cmpint(stoa_rtcp_build_twcc(buf, 20, 1, 2, &hdr, p, 1), <, 0);
	g_assert_cmpint(stoa_rtcp_build_twcc(buf, 24, 1, 2, &hdr, p, 1), ==, 24);
	g_assert_cmpint(stoa_rtcp_build_twcc(buf, sizeof(buf), 1, 2, &hdr, p, 0), <, 0);
}

static void test_compound(void)
{
	uint8_t fb[64], buf[2048];
	int n1 = stoa_rtcp_build_pli(fb, sizeof(fb), 1, 2);
	const uint16_t seqs[] = { 3, 4 };
	int n2 = stoa_rtcp_build_nack(fb + n1, sizeof(fb) - (size_t)n1, 1, 2, seqs, 2);
	size_t fb_len = (size_t)(n1 + n2);
	stoa_rtcp_sender_info si = { .ssrc = 1, .ntp = 42 };
	stoa_rtcp_report rep = { .sender = &si, .rb = rbs, .rb_count = 2, .cname = "me",
				 .cname_len = 2 };
	int n = stoa_rtcp_build_compound(buf, sizeof(buf), &rep, fb, fb_len, false);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, (size_t)n, false), ==, 0);
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	static const uint8_t order[] = { 200, 202, 206, 205 };
	unsigned k = 0;
	stoa_rtcp_iter_init(&it, buf, (size_t)n);
	while (stoa_rtcp_iter_next(&it, &h) > 0) {
		g_assert_cmpuint(k, <, 4);
		g_assert_cmpuint(h.pt, ==, order[k++]);
	}
	g_assert_cmpuint(k, ==, 4);
	/* Every capacity short of the whole fails cleanly. */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		g_assert_cmpint(stoa_rtcp_build_compound(buf, cap, &rep, fb, fb_len, false), <, 0);

	/* 40 blocks: SR with 31, then an RR with 9, then SDES. */
	stoa_rtcp_report_block many[40];
	for (unsigned i = 0; i < 40; i++) {
		many[i] = rbs[0];
		many[i].ssrc = i;
	}
	rep.rb = many;
	rep.rb_count = 40;
	n = stoa_rtcp_build_compound(buf, sizeof(buf), &rep, NULL, 0, false);
	g_assert_cmpint(n, ==, 28 + 31 * 24 + 8 + 9 * 24 + 16);
	stoa_rtcp_iter_init(&it, buf, (size_t)n);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpuint(h.count, ==, 31);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	stoa_rtcp_rr rr;
	g_assert_cmpint(stoa_rtcp_rr_parse(&h, &rr), ==, 0);
	g_assert_cmpuint(rr.rb_count, ==, 9);
	g_assert_cmpuint(rr.ssrc, ==, 1);
	stoa_rtcp_report_block rb;
	stoa_rtcp_rb_read(rr.blocks, 8, &rb);
	g_assert_cmpuint(rb.ssrc, ==, 39);

	/* RR-based, no blocks */
	stoa_rtcp_report rr_rep = { .ssrc = 77, .cname = "x", .cname_len = 1 };
	n = stoa_rtcp_build_compound(buf, sizeof(buf), &rr_rep, fb, fb_len, true);
	g_assert_cmpint(n, ==, 8 + 12 + (int)fb_len);
	g_assert_cmpuint(buf[1], ==, 201);

	/* Reduced-size: the feedback alone; not allowed without rsize. */
	n = stoa_rtcp_build_compound(buf, sizeof(buf), NULL, fb, fb_len, true);
	g_assert_cmpint(n, ==, (int)fb_len);
	g_assert_cmpmem(buf, fb_len, fb, fb_len);
	g_assert_cmpint(stoa_rtcp_validate(buf, (size_t)n, true), ==, 0);
	g_assert_cmpint(stoa_rtcp_validate(buf, (size_t)n, false), <, 0);
	g_assert_cmpint(stoa_rtcp_build_compound(buf, sizeof(buf), NULL, fb, fb_len, false), <, 0);
	g_assert_cmpint(stoa_rtcp_build_compound(buf, sizeof(buf), NULL, NULL, 0, true), <, 0);
}

static uint32_t test_map(void *ud, uint32_t ssrc, stoa_rtcp_ssrc_role role)
{
	int *calls = ud;
	(*calls)++;
	return role == STOA_RTCP_SSRC_SENDER ? 0xaaaa0000u + (ssrc & 0xffff) : ssrc + 1000;
}

static void test_rewrite(void)
{
	uint8_t buf[1024];
	size_t off = 0;
	stoa_rtcp_sender_info si = { .ssrc = 1 };
	off += (size_t)stoa_rtcp_build_sr(buf + off, sizeof(buf) - off, &si, rbs, 2);
	off += (size_t)stoa_rtcp_build_sdes_cname(buf + off, sizeof(buf) - off, 1, "c", 1);
	const uint16_t seqs[] = { 9 };
	off += (size_t)stoa_rtcp_build_nack(buf + off, sizeof(buf) - off, 2, 3, seqs, 1);
	off += (size_t)stoa_rtcp_build_fir(buf + off, sizeof(buf) - off, 2, 4, 1);
	uint32_t rs[2] = { 5, 6 };
	off += (size_t)stoa_rtcp_build_remb(buf + off, sizeof(buf) - off, 2, 100000, rs, 2);
	uint32_t bs[1] = { 1 };
	off += (size_t)stoa_rtcp_build_bye(buf + off, sizeof(buf) - off, bs, 1, NULL, 0);
	int calls = 0;
	g_assert_cmpint(stoa_rtcp_rewrite_ssrcs(buf, off, test_map, &calls), ==, 0);
	/* SR sender + 2 blocks, SDES chunk, NACK 2, FIR 2, REMB 1 + 2, BYE 1 */
	g_assert_cmpint(calls, ==, 3 + 1 + 2 + 2 + 3 + 1);

	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_rtcp_iter_init(&it, buf, off);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	stoa_rtcp_sr sr;
	g_assert_cmpint(stoa_rtcp_sr_parse(&h, &sr), ==, 0);
	g_assert_cmpuint(sr.info.ssrc, ==, 0xaaaa0001u);
	stoa_rtcp_report_block rb;
	stoa_rtcp_rb_read(sr.blocks, 1, &rb);
	g_assert_cmpuint(rb.ssrc, ==, rbs[1].ssrc + 1000);
	g_assert_cmpuint(rb.cum_lost, ==, rbs[1].cum_lost); /* the rest untouched */
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	uint32_t ssrc;
	const uint8_t *c;
	size_t cl;
	g_assert_cmpint(stoa_rtcp_sdes_cname(&h, &ssrc, &c, &cl), ==, 0);
	g_assert_cmpuint(ssrc, ==, 0xaaaa0001u);
	stoa_rtcp_fb fb;
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_fb_parse(&h, &fb), ==, 0);
	g_assert_cmpuint(fb.sender_ssrc, ==, 0xaaaa0002u);
	g_assert_cmpuint(fb.media_ssrc, ==, 1003);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_fb_parse(&h, &fb), ==, 0);
	g_assert_cmpuint(fb.media_ssrc, ==, 0);
	stoa_rtcp_fir_entry e;
	g_assert_cmpint(stoa_rtcp_fir_parse(&fb, &e, 1), ==, 1);
	g_assert_cmpuint(e.ssrc, ==, 1004);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(stoa_rtcp_fb_parse(&h, &fb), ==, 0);
	stoa_rtcp_remb r;
	g_assert_cmpint(stoa_rtcp_remb_parse(&fb, &r), ==, 0);
	g_assert_cmpuint(stoa_rtcp_remb_ssrc(&r, 1), ==, 1006);
	g_assert_cmpuint(r.bitrate, ==, 100000);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	stoa_rtcp_bye bye;
	g_assert_cmpint(stoa_rtcp_bye_parse(&h, &bye), ==, 0);
	g_assert_cmpuint(stoa_rtcp_bye_ssrc(&bye, 0), ==, 0xaaaa0001u);

	/* One feedback message: set both SSRCs. */
	uint8_t pli[12];
	stoa_rtcp_build_pli(pli, sizeof(pli), 1, 2);
	g_assert_cmpint(stoa_rtcp_fb_set_ssrcs(pli, sizeof(pli), 10, 20), ==, 0);
	fb = first_fb(pli, sizeof(pli));
	g_assert_cmpuint(fb.sender_ssrc, ==, 10);
	g_assert_cmpuint(fb.media_ssrc, ==, 20);
	uint8_t fir[20];
	stoa_rtcp_build_fir(fir, sizeof(fir), 1, 2, 3);
	g_assert_cmpint(stoa_rtcp_fb_set_ssrcs(fir, sizeof(fir), 10, 20), ==, 0);
	fb = first_fb(fir, sizeof(fir));
	g_assert_cmpuint(fb.media_ssrc, ==, 0);
	g_assert_cmpint(stoa_rtcp_fir_parse(&fb, &e, 1), ==, 1);
	g_assert_cmpuint(e.ssrc, ==, 20);
	g_assert_cmpuint(e.seq, ==, 3);
	uint8_t rr[8];
	stoa_rtcp_build_rr(rr, sizeof(rr), 1, NULL, 0);
	g_assert_cmpint(stoa_rtcp_fb_set_ssrcs(rr, sizeof(rr), 10, 20), <, 0);
	/* A malformed compound stops the rewrite with an error. */
	calls = 0;
	g_assert_cmpint(stoa_rtcp_rewrite_ssrcs(buf, off - 1, test_map, &calls), <, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtcp/sr", test_sr);
	g_test_add_func("/rtcp/rr", test_rr);
	g_test_add_func("/rtcp/iter", test_iter);
	g_test_add_func("/rtcp/padding", test_padding);
	g_test_add_func("/rtcp/sdes", test_sdes);
	g_test_add_func("/rtcp/bye", test_bye);
	g_test_add_func("/rtcp/nack", test_nack);
	g_test_add_func("/rtcp/pli-fir", test_pli_fir);
	g_test_add_func("/rtcp/remb", test_remb);
	g_test_add_func("/rtcp/twcc/parse", test_twcc_parse);
	g_test_add_func("/rtcp/twcc/build", test_twcc_build);
	g_test_add_func("/rtcp/compound", test_compound);
	g_test_add_func("/rtcp/rewrite", test_rewrite);
	return g_test_run();
}
