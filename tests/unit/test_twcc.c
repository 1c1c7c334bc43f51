/*
 * test_twcc.c: the transport-wide CC feedback recorder (media/rtp/twcc.c),
 * checked by parsing what it builds with the RTCP parser.
 */
#include <glib.h>

#include "media/rtcp/rtcp.h"
#include "media/rtp/twcc.h"

/* Parses one built message back into pkts; returns the entry count. */
static int parse_back(const uint8_t *buf, int len, stoa_rtcp_twcc *hdr, stoa_rtcp_twcc_pkt *pkts,
		      size_t cap)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_rtcp_iter_init(&it, buf, (size_t)len);
	g_assert_cmpint(stoa_rtcp_iter_next(&it, &h), ==, 1);
	g_assert_cmpint(h.pt, ==, STOA_RTCP_RTPFB);
	stoa_rtcp_fb fb;
	g_assert_cmpint(stoa_rtcp_fb_parse(&h, &fb), ==, 0);
	g_assert_cmpint(fb.fmt, ==, STOA_RTCP_RTPFB_TWCC);
	g_assert_cmpuint(fb.sender_ssrc, ==, 0x11111111);
	g_assert_cmpuint(fb.media_ssrc, ==, 0x22222222);
	return stoa_rtcp_twcc_parse(&fb, hdr, pkts, cap);
}

static void test_nothing(void)
{
	stoa_twcc_recorder r;
	stoa_twcc_init(&r);
	uint8_t buf[1500];
	g_assert_false(stoa_twcc_pending(&r));
	g_assert_cmpint(stoa_twcc_build(&r, 1, 2, buf, sizeof(buf)), ==, 0);
}

static void test_loss_and_deltas(void)
{
	stoa_twcc_recorder r;
	stoa_twcc_init(&r);
	/* seqs 100..109 at 5 ms spacing, 103 and 107 lost. */
	int64_t t0 = 10 * 1000 * 1000;
	for (int i = 0; i < 10; i++)
		if (i != 3 && i != 7)
			stoa_twcc_record(&r, (uint16_t)(100 + i), t0 + i * 5000);
	uint8_t buf[1500];
	int len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	g_assert_cmpint(len, >, 0);
	stoa_rtcp_twcc hdr;
	stoa_rtcp_twcc_pkt pkts[32];
	int n = parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts));
	g_assert_cmpint(n, ==, 10);
	g_assert_cmpuint(hdr.base_seq, ==, 100);
	g_assert_cmpuint(hdr.fb_count, ==, 0);
	int64_t ref_us = (int64_t)hdr.ref_time * STOA_RTCP_TWCC_US_PER_REF;
	int64_t at = ref_us;
	for (int i = 0; i < 10; i++) {
		g_assert_cmpint(pkts[i].received, ==, i != 3 && i != 7);
		if (!pkts[i].received)
			continue;
		at += (int64_t)pkts[i].delta * STOA_RTCP_TWCC_US_PER_DELTA;
		/* Arrival times come back within one 250 µs tick. */
		g_assert_cmpint(llabs(at - (t0 + i * 5000)), <, STOA_RTCP_TWCC_US_PER_DELTA);
	}
	g_assert_false(stoa_twcc_pending(&r));
	/* The next message continues the sequence and counts up. */
	stoa_twcc_record(&r, 110, t0 + 60000);
	len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	n = parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpuint(hdr.base_seq, ==, 110);
	g_assert_cmpuint(hdr.fb_count, ==, 1);
}

static void test_wrap_and_old(void)
{
	stoa_twcc_recorder r;
	stoa_twcc_init(&r);
	for (int i = 0; i < 6; i++)
		stoa_twcc_record(&r, (uint16_t)(65533 + i), 5000000 + i * 1000);
	uint8_t buf[1500];
	int len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	stoa_rtcp_twcc hdr;
	stoa_rtcp_twcc_pkt pkts[16];
	g_assert_cmpint(parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts)), ==, 6);
	g_assert_cmpuint(hdr.base_seq, ==, 65533);
	/* A late packet already reported is ignored. */
	stoa_twcc_record(&r, 65534, 6000000);
	g_assert_false(stoa_twcc_pending(&r));
}

static void test_long_gap_splits(void)
{
	stoa_twcc_recorder r;
	stoa_twcc_init(&r);
	/* 20 s between two packets does not fit a 16-bit delta (8.2 s max). */
	stoa_twcc_record(&r, 1, 1000000);
	stoa_twcc_record(&r, 2, 21000000);
	uint8_t buf[1500];
	stoa_rtcp_twcc hdr;
	stoa_rtcp_twcc_pkt pkts[8];
	int len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	g_assert_cmpint(parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts)), ==, 1);
	len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	g_assert_cmpint(parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts)), ==, 1);
	g_assert_cmpuint(hdr.base_seq, ==, 2);
	g_assert_false(stoa_twcc_pending(&r));
}

static void test_jump_resets(void)
{
	stoa_twcc_recorder r;
	stoa_twcc_init(&r);
	stoa_twcc_record(&r, 10, 1000000);
	stoa_twcc_record(&r, (uint16_t)(10 + 3 * STOA_TWCC_WINDOW), 1001000);
	uint8_t buf[1500];
	stoa_rtcp_twcc hdr;
	stoa_rtcp_twcc_pkt pkts[8];
	int len = stoa_twcc_build(&r, 0x11111111, 0x22222222, buf, sizeof(buf));
	g_assert_cmpint(parse_back(buf, len, &hdr, pkts, G_N_ELEMENTS(pkts)), ==, 1);
	g_assert_cmpuint(hdr.base_seq, ==, (uint16_t)(10 + 3 * STOA_TWCC_WINDOW));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/twcc/nothing", test_nothing);
	g_test_add_func("/twcc/loss_and_deltas", test_loss_and_deltas);
	g_test_add_func("/twcc/wrap_and_old", test_wrap_and_old);
	g_test_add_func("/twcc/long_gap_splits", test_long_gap_splits);
	g_test_add_func("/twcc/jump_resets", test_jump_resets);
	return g_test_run();
}
