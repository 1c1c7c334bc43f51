/*
 * fuzz_rtcp.c: arbitrary bytes as an RTCP compound packet. Walks it,
 * validates it, parses every sub-packet with every parser that applies
 * (SR, RR, SDES, BYE, NACK, PLI, FIR, REMB, transport-wide CC), rebuilds
 * what parsed and parses that again, and rewrites all SSRCs in a copy.
 * Invariants checked: sub-packets stay inside the buffer; what was built
 * from a parse parses back to the same values.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "media/rtcp/rtcp.h"
#include "media/rtp/ntp.h"
#include "media/rtp/rtp_stats.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			abort(); \
	} while (0)

static uint8_t out[4 * 65536 + 64];

static stoa_rtcp_hdr reparse(const uint8_t *buf, int len)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	CHECK(len > 0);
	stoa_rtcp_iter_init(&it, buf, (size_t)len);
	CHECK(stoa_rtcp_iter_next(&it, &h) == 1);
	CHECK(h.len == (size_t)len);
	return h;
}

static void blocks_of(const uint8_t *blocks, unsigned n, stoa_rtcp_report_block *rb)
{
	for (unsigned i = 0; i < n; i++)
		stoa_rtcp_rb_read(blocks, i, &rb[i]);
}

static void check_blocks(const uint8_t *blocks, unsigned n, const stoa_rtcp_report_block *rb)
{
	for (unsigned i = 0; i < n; i++) {
		stoa_rtcp_report_block b;
		stoa_rtcp_rb_read(blocks, i, &b);
		CHECK(b.ssrc == rb[i].ssrc && b.fraction_lost == rb[i].fraction_lost &&
		      b.cum_lost == rb[i].cum_lost && b.ext_high_seq == rb[i].ext_high_seq &&
		      b.jitter == rb[i].jitter && b.lsr == rb[i].lsr && b.dlsr == rb[i].dlsr);
	}
}

static void check_reports(const stoa_rtcp_hdr *h)
{
	stoa_rtcp_report_block rb[STOA_RTCP_MAX_RB];
	stoa_rtcp_sr sr, sr2;
	stoa_rtcp_rr rr, rr2;
	if (stoa_rtcp_sr_parse(h, &sr) == 0) {
		blocks_of(sr.blocks, sr.rb_count, rb);
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_sr(out, sizeof(out), &sr.info, rb,
								   sr.rb_count));
		CHECK(stoa_rtcp_sr_parse(&b, &sr2) == 0);
		CHECK(sr.info.ssrc == sr2.info.ssrc && sr.info.ntp == sr2.info.ntp &&
		      sr.info.rtp_ts == sr2.info.rtp_ts &&
		      sr.info.packet_count == sr2.info.packet_count &&
		      sr.info.octet_count == sr2.info.octet_count);
		check_blocks(sr2.blocks, sr2.rb_count, rb);
		stoa_rtp_recv_stats s;
		stoa_rtp_recv_stats_init(&s, 90000);
		stoa_rtp_recv_stats_on_sr(&s, &sr.info, 1);
		stoa_rtp_send_stats ss;
		stoa_rtp_send_stats_init(&ss, 90000);
		for (unsigned i = 0; i < sr.rb_count; i++)
			stoa_rtp_send_stats_on_report(&ss, &rb[i], stoa_ntp_mid(sr.info.ntp));
	}
	if (stoa_rtcp_rr_parse(h, &rr) == 0) {
		blocks_of(rr.blocks, rr.rb_count, rb);
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_rr(out, sizeof(out), rr.ssrc, rb,
								   rr.rb_count));
		CHECK(stoa_rtcp_rr_parse(&b, &rr2) == 0);
		CHECK(rr2.ssrc == rr.ssrc && rr2.rb_count == rr.rb_count);
		check_blocks(rr2.blocks, rr2.rb_count, rb);
	}
}

/* Touches every byte of every item, so ASan sees any read past the end. */
static volatile uint8_t sink;

static void sdes_item(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *text, size_t len)
{
	(void)ud;
	(void)ssrc;
	(void)type;
	for (size_t i = 0; i < len; i++)
		sink ^= text[i];
}

static void check_sdes_bye(const stoa_rtcp_hdr *h)
{
	uint32_t ssrc, ssrc2;
	const uint8_t *c, *c2;
	size_t cl, cl2;
	(void)stoa_rtcp_sdes_parse(h, sdes_item, NULL);
	if (stoa_rtcp_sdes_cname(h, &ssrc, &c, &cl) == 0) {
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_sdes_cname(out, sizeof(out), ssrc,
									   (const char *)c, cl));
		CHECK(stoa_rtcp_sdes_cname(&b, &ssrc2, &c2, &cl2) == 0);
		CHECK(ssrc == ssrc2 && cl == cl2 && memcmp(c, c2, cl) == 0);
	}
	stoa_rtcp_bye bye, bye2;
	if (stoa_rtcp_bye_parse(h, &bye) == 0) {
		uint32_t ssrcs[STOA_RTCP_MAX_RB];
		for (unsigned i = 0; i < bye.count; i++)
			ssrcs[i] = stoa_rtcp_bye_ssrc(&bye, i);
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_bye(out, sizeof(out), ssrcs, bye.count,
								   (const char *)bye.reason,
								   bye.reason_len));
		CHECK(stoa_rtcp_bye_parse(&b, &bye2) == 0);
		CHECK(bye2.count == bye.count && bye2.reason_len == bye.reason_len);
		for (unsigned i = 0; i < bye.count; i++)
			CHECK(stoa_rtcp_bye_ssrc(&bye2, i) == ssrcs[i]);
	}
}

static bool contains(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void check_nack(const stoa_rtcp_fb *fb)
{
	uint16_t seqs[256], again[256 * 17];
	int n = stoa_rtcp_nack_parse(fb, seqs, G_N_ELEMENTS(seqs));
	if (n <= 0)
		return;
	stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_nack(out, sizeof(out), fb->sender_ssrc,
							     fb->media_ssrc, seqs, (size_t)n));
	stoa_rtcp_fb fb2;
	CHECK(stoa_rtcp_fb_parse(&b, &fb2) == 0);
	int m = stoa_rtcp_nack_parse(&fb2, again, G_N_ELEMENTS(again));
	CHECK(m > 0 && m <= n);
	/* The same set: duplicates fold, nothing is lost or added. */
	for (int i = 0; i < n; i++)
		CHECK(contains(again, (size_t)m, seqs[i]));
	for (int i = 0; i < m; i++)
		CHECK(contains(seqs, (size_t)n, again[i]));
}

static void check_psfb(const stoa_rtcp_fb *fb)
{
	(void)stoa_rtcp_pli_check(fb);
	stoa_rtcp_fir_entry e[8], e2;
	int n = stoa_rtcp_fir_parse(fb, e, G_N_ELEMENTS(e));
	for (int i = 0; i < n; i++) {
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_fir(out, sizeof(out), fb->sender_ssrc,
								   e[i].ssrc, e[i].seq));
		stoa_rtcp_fb fb2;
		CHECK(stoa_rtcp_fb_parse(&b, &fb2) == 0);
		CHECK(stoa_rtcp_fir_parse(&fb2, &e2, 1) == 1);
		CHECK(e2.ssrc == e[i].ssrc && e2.seq == e[i].seq);
	}
	stoa_rtcp_remb r, r2;
	if (stoa_rtcp_remb_parse(fb, &r) == 0) {
		uint32_t ssrcs[255];
		for (unsigned i = 0; i < r.ssrc_count; i++)
			ssrcs[i] = stoa_rtcp_remb_ssrc(&r, i);
		stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_remb(out, sizeof(out), fb->sender_ssrc,
								    r.bitrate, ssrcs, r.ssrc_count));
		stoa_rtcp_fb fb2;
		CHECK(stoa_rtcp_fb_parse(&b, &fb2) == 0);
		CHECK(stoa_rtcp_remb_parse(&fb2, &r2) == 0);
		CHECK(r2.ssrc_count == r.ssrc_count);
		if (r.bitrate != UINT64_MAX)
			CHECK(r2.bitrate == r.bitrate);
		for (unsigned i = 0; i < r.ssrc_count; i++)
			CHECK(stoa_rtcp_remb_ssrc(&r2, i) == ssrcs[i]);
	}
}

static stoa_rtcp_twcc_pkt pkts[65536], pkts2[65536];

static void check_twcc(const stoa_rtcp_fb *fb)
{
	stoa_rtcp_twcc t, t2;
	int n = stoa_rtcp_twcc_parse(fb, &t, pkts, G_N_ELEMENTS(pkts));
	if (n <= 0)
		return;
	CHECK(n == t.status_count);
	stoa_rtcp_hdr b = reparse(out, stoa_rtcp_build_twcc(out, sizeof(out), fb->sender_ssrc,
							     fb->media_ssrc, &t, pkts, (size_t)n));
	stoa_rtcp_fb fb2;
	CHECK(stoa_rtcp_fb_parse(&b, &fb2) == 0);
	CHECK(stoa_rtcp_twcc_parse(&fb2, &t2, pkts2, G_N_ELEMENTS(pkts2)) == n);
	CHECK(t.base_seq == t2.base_seq && t.status_count == t2.status_count &&
	      t.ref_time == t2.ref_time && t.fb_count == t2.fb_count);
	for (int i = 0; i < n; i++)
		CHECK(pkts[i].seq == pkts2[i].seq && pkts[i].received == pkts2[i].received &&
		      pkts[i].delta == pkts2[i].delta);
}

static void check_feedback(const stoa_rtcp_hdr *h)
{
	stoa_rtcp_fb fb;
	if (stoa_rtcp_fb_parse(h, &fb) < 0)
		return;
	CHECK(fb.fci + fb.fci_len <= h->buf + h->len);
	if (fb.pt == STOA_RTCP_RTPFB) {
		check_nack(&fb);
		check_twcc(&fb);
	} else {
		check_psfb(&fb);
	}
}

static uint32_t flip(void *ud, uint32_t ssrc, stoa_rtcp_ssrc_role role)
{
	(void)ud;
	return role == STOA_RTCP_SSRC_SENDER ? ~ssrc : ssrc ^ 0x5a5a5a5a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t *buf = g_memdup2(data, size);
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	(void)stoa_rtcp_validate(buf, size, false);
	(void)stoa_rtcp_validate(buf, size, true);
	stoa_rtcp_iter_init(&it, buf, size);
	while (stoa_rtcp_iter_next(&it, &h) > 0) {
		CHECK(h.buf >= buf && h.buf + h.len <= buf + size && h.body_len <= h.len);
		check_reports(&h);
		check_sdes_bye(&h);
		check_feedback(&h);
	}
	/* Rewriting twice with an involution gives back the input. */
	uint8_t *copy = g_memdup2(buf, size);
	int rc = stoa_rtcp_rewrite_ssrcs(copy, size, flip, NULL);
	if (rc == 0) {
		CHECK(stoa_rtcp_rewrite_ssrcs(copy, size, flip, NULL) == 0);
		CHECK(memcmp(copy, buf, size) == 0);
	}
	if (size >= 12)
		(void)stoa_rtcp_fb_set_ssrcs(copy, size, 1, 2);
	g_free(copy);
	g_free(buf);
	return 0;
}
