/*
 * test_rtp_streams.c: the per-stream machinery: receive and send
 * statistics (RFC 3550 A.1, A.3, A.8, 6.4.1), the NACK generator, the
 * retransmission buffer with RTX (RFC 4588), and keyframe requests and
 * detection (RFC 7741, RFC 9628, RFC 6184, AV1 RTP).
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "media/rtp/keyframe.h"
#include "media/rtp/nack_gen.h"
#include "media/rtp/ntp.h"
#include "media/rtp/rtp.h"
#include "media/rtp/rtp_stats.h"
#include "media/rtp/rtx_buffer.h"

#define MS 1000

/* ------------------------------------------------------------ stats */

static void test_stats_probation_loss(void)
{
	stoa_rtp_recv_stats s;
	stoa_rtp_recv_stats_init(&s, 90000);
	stoa_rtcp_report_block rb;
	g_assert_cmpint(stoa_rtp_recv_stats_report(&s, 1, 0, &rb), <, 0);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 100, 0, 10, 1), ==, STOA_RTP_STATS_PROBATION);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 101, 0, 10, 2), ==, 0);
	for (uint16_t q = 102; q <= 110; q++)
		g_assert_cmpint(stoa_rtp_recv_stats_update(&s, q, 0, 10, q), ==, 0);
	g_assert_cmpuint(stoa_rtp_recv_stats_expected(&s), ==, 10);
	g_assert_cmpint(stoa_rtp_recv_stats_lost(&s), ==, 0);
	g_assert_cmpuint(s.packets, ==, 11);
	g_assert_cmpuint(s.bytes, ==, 110);
	g_assert_cmpint(stoa_rtp_recv_stats_report(&s, 0x77, 0, &rb), ==, 0);
	g_assert_cmpuint(rb.ssrc, ==, 0x77);
	g_assert_cmpuint(rb.fraction_lost, ==, 0);
	g_assert_cmpuint(rb.ext_high_seq, ==, 110);
	g_assert_cmpuint(rb.lsr, ==, 0);

	/* Lose 111 and 112, then 8 more: 2 of 10 lost in this interval. */
	for (uint16_t q = 113; q <= 120; q++)
		stoa_rtp_recv_stats_update(&s, q, 0, 10, q);
	g_assert_cmpint(stoa_rtp_recv_stats_lost(&s), ==, 2);
	g_assert_cmpint(stoa_rtp_recv_stats_report(&s, 0x77, 0, &rb), ==, 0);
	g_assert_cmpuint(rb.fraction_lost, ==, (2 << 8) / 10);
	g_assert_cmpint(rb.cum_lost, ==, 2);
	/* A late 111 makes the next interval negative: reported as 0. */
	stoa_rtp_recv_stats_update(&s, 111, 0, 10, 1);
	g_assert_cmpint(stoa_rtp_recv_stats_report(&s, 0x77, 0, &rb), ==, 0);
	g_assert_cmpuint(rb.fraction_lost, ==, 0);
	g_assert_cmpint(rb.cum_lost, ==, 1);
	/* Duplicates push the cumulative count negative. */
	stoa_rtp_recv_stats_update(&s, 120, 0, 10, 1);
	stoa_rtp_recv_stats_update(&s, 120, 0, 10, 1);
	g_assert_cmpint(stoa_rtp_recv_stats_lost(&s), ==, -1);
	/* Probation restarts when a packet is out of sequence. */
	stoa_rtp_recv_stats t;
	stoa_rtp_recv_stats_init(&t, 48000);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&t, 5, 0, 1, 1), ==, STOA_RTP_STATS_PROBATION);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&t, 9, 0, 1, 1), ==, STOA_RTP_STATS_PROBATION);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&t, 10, 0, 1, 1), ==, 0);
}

static void test_stats_wrap_jump(void)
{
	stoa_rtp_recv_stats s;
	stoa_rtp_recv_stats_init(&s, 90000);
	uint16_t q = 65530;
	for (int i = 0; i < 12; i++, q++)
		stoa_rtp_recv_stats_update(&s, q, 0, 1, i);
	/* 65531 was the base (65530 was probation); last is 65541 = 5 + 2^16 */
	g_assert_cmpuint(stoa_rtp_recv_stats_ext_max(&s), ==, 65536 + 5);
	g_assert_cmpuint(stoa_rtp_recv_stats_expected(&s), ==, 11);
	g_assert_cmpint(stoa_rtp_recv_stats_lost(&s), ==, 0);
	/* A jump of 5000: held back until the next one confirms it. */
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 5006, 0, 1, 1), ==, STOA_RTP_STATS_BAD_SEQ);
	g_assert_cmpuint(stoa_rtp_recv_stats_ext_max(&s), ==, 65536 + 5);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 5007, 0, 1, 1), ==, 0);
	g_assert_cmpuint(stoa_rtp_recv_stats_ext_max(&s), ==, 5007);
	g_assert_cmpuint(stoa_rtp_recv_stats_expected(&s), ==, 1);
	/* A stray jump that is not confirmed changes nothing. */
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 30000, 0, 1, 1), ==, STOA_RTP_STATS_BAD_SEQ);
	g_assert_cmpint(stoa_rtp_recv_stats_update(&s, 5008, 0, 1, 1), ==, 0);
	g_assert_cmpuint(stoa_rtp_recv_stats_ext_max(&s), ==, 5008);
}

static void test_stats_jitter(void)
{
	/* 8 kHz audio, 20 ms packets (160 units); arrivals wander. */
	static const int arrival_ms[] = { 0, 20, 45, 60, 80, 95, 130, 140, 160, 181, 200, 220 };
	stoa_rtp_recv_stats s;
	stoa_rtp_recv_stats_init(&s, 8000);
	double j = 0, prev_transit = 0;
	uint32_t ts0 = 0xfffffd00u; /* the timestamp wraps on the way */
	for (unsigned i = 0; i < G_N_ELEMENTS(arrival_ms); i++) {
		uint32_t ts = ts0 + 160 * i;
		stoa_rtp_recv_stats_update(&s, (uint16_t)(1000 + i), ts, 160,
					   1000000 + arrival_ms[i] * MS);
		/* The reference: A.8 in floating point, from the second valid
		 * packet on (the first went to probation). */
		double transit = arrival_ms[i] * 8.0 - 160.0 * i;
		if (i >= 2)
			j += (fabs(transit - prev_transit) - j) / 16;
		prev_transit = transit;
	}
	double got = stoa_rtp_recv_stats_jitter(&s);
	g_assert_cmpfloat(fabs(got - j), <=, 1.0);
	g_assert_cmpuint(stoa_rtp_recv_stats_jitter(&s), >, 0);
	/* A steady stream drives it back toward 0. */
	for (unsigned i = 12; i < 400; i++)
		stoa_rtp_recv_stats_update(&s, (uint16_t)(1000 + i), ts0 + 160 * i, 160,
					   1000000 + (int64_t)i * 20 * MS);
	g_assert_cmpuint(stoa_rtp_recv_stats_jitter(&s), ==, 0);
}

static void test_stats_sr_rtt(void)
{
	stoa_rtp_recv_stats s;
	stoa_rtp_recv_stats_init(&s, 90000);
	stoa_rtp_recv_stats_update(&s, 1, 0, 1, 1);
	stoa_rtp_recv_stats_update(&s, 2, 0, 1, 2);
	stoa_rtcp_sender_info si = { .ssrc = 5, .ntp = 0x1122334455667788ull, .rtp_ts = 9 };
	stoa_rtp_recv_stats_on_sr(&s, &si, 10 * 1000000);
	stoa_rtcp_report_block rb;
	g_assert_cmpint(stoa_rtp_recv_stats_report(&s, 5, 10 * 1000000 + 500000, &rb), ==, 0);
	g_assert_cmpuint(rb.lsr, ==, 0x33445566);
	g_assert_cmpuint(rb.dlsr, ==, 32768);

	/* The sender's side: the block comes back 100 ms + DLSR after the SR. */
	uint32_t now = rb.lsr + rb.dlsr + 6554;
	g_assert_cmpint(stoa_rtp_rtt_ms(&rb, now), ==, 100);
	/* Clock skew does not go negative; no LSR, no RTT. */
	g_assert_cmpint(stoa_rtp_rtt_ms(&rb, rb.lsr), ==, 0);
	rb.lsr = 0;
	g_assert_cmpint(stoa_rtp_rtt_ms(&rb, now), <, 0);
	/* LSR + DLSR across the 2^32 wrap */
	rb.lsr = 0xffff0000u;
	rb.dlsr = 0x20000;
	g_assert_cmpint(stoa_rtp_rtt_ms(&rb, 0x10000 + 65536 / 4), ==, 250);
}

static void test_send_stats(void)
{
	stoa_rtp_send_stats s;
	stoa_rtp_send_stats_init(&s, 90000);
	stoa_rtcp_sender_info si;
	g_assert_cmpint(stoa_rtp_send_stats_sender_info(&s, 1, 0, 0, &si), <, 0);
	g_assert_cmpint(s.rtt_ms, ==, -1);
	stoa_rtp_send_stats_update(&s, 1000, 100, 1000000);
	stoa_rtp_send_stats_update(&s, 4000, 200, 1033000);
	stoa_rtp_send_stats_update(&s, 1000, 100, 1040000); /* an old one again */
	uint64_t ntp = stoa_ntp_from_unix_us(1700000000000000);
	g_assert_cmpint(stoa_rtp_send_stats_sender_info(&s, 9, 1533000, ntp, &si), ==, 0);
	g_assert_cmpuint(si.ssrc, ==, 9);
	g_assert_cmpuint(si.ntp, ==, ntp);
	g_assert_cmpuint(si.rtp_ts, ==, 4000 + 45000);
	g_assert_cmpuint(si.packet_count, ==, 3);
	g_assert_cmpuint(si.octet_count, ==, 400);
	/* Timestamps wrap. */
	stoa_rtp_send_stats w;
	stoa_rtp_send_stats_init(&w, 48000);
	stoa_rtp_send_stats_update(&w, 0xffffff00u, 1, 2000000);
	stoa_rtp_send_stats_update(&w, 0x100, 1, 2000000);
	stoa_rtp_send_stats_update(&w, 0xffffff80u, 1, 2000000);
	g_assert_cmpint(stoa_rtp_send_stats_sender_info(&w, 9, 2010000, ntp, &si), ==, 0);
	g_assert_cmpuint(si.rtp_ts, ==, 0x100 + 480);

	stoa_rtcp_report_block rb = { .fraction_lost = 10, .cum_lost = 4, .jitter = 30,
				      .lsr = 0x10000, .dlsr = 0x8000 };
	stoa_rtp_send_stats_on_report(&s, &rb, 0x10000 + 0x8000 + 3277);
	g_assert_cmpint(s.rtt_ms, ==, 50);
	g_assert_cmpuint(s.fraction_lost, ==, 10);
	g_assert_cmpint(s.cum_lost, ==, 4);
}

/* ------------------------------------------------------------ NACK generator */

static size_t poll(stoa_nack_gen *g, int64_t now, uint16_t *out)
{
	return stoa_nack_gen_poll(g, now, 50, out, 64);
}

static void test_nack_basic(void)
{
	stoa_nack_gen g;
	uint16_t out[64];
	stoa_nack_gen_init(&g, NULL);
	g_assert_cmpint(stoa_nack_gen_received(&g, 1, false, 0), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpint(stoa_nack_gen_received(&g, 2, false, 0), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpuint(poll(&g, 0, out), ==, 0);
	g_assert_cmpint(stoa_nack_gen_received(&g, 5, false, 1000), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 2);
	g_assert_cmpuint(poll(&g, 1000, out), ==, 2);
	g_assert_cmpuint(out[0], ==, 3);
	g_assert_cmpuint(out[1], ==, 4);
	/* Not again within an RTT (50 ms) */
	g_assert_cmpuint(poll(&g, 1000 + 49 * MS, out), ==, 0);
	g_assert_cmpuint(poll(&g, 1000 + 50 * MS, out), ==, 2);
	/* 3 arrives late, 4 as RTX */
	g_assert_cmpint(stoa_nack_gen_received(&g, 3, false, 2000), ==, STOA_NACK_GEN_RECOVERED);
	g_assert_cmpint(stoa_nack_gen_received(&g, 3, false, 2000), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpuint(poll(&g, 1000 + 100 * MS, out), ==, 1);
	g_assert_cmpuint(out[0], ==, 4);
	g_assert_cmpint(stoa_nack_gen_received(&g, 4, true, 2000), ==, STOA_NACK_GEN_RECOVERED);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 0);
	g_assert_cmpuint(poll(&g, 1000 + 200 * MS, out), ==, 0);
	g_assert_cmpuint(g.recovered, ==, 2);
	g_assert_cmpuint(g.nacked, ==, 5);
	/* Duplicates of the highest and RTX that fills no gap are old. */
	g_assert_cmpint(stoa_nack_gen_received(&g, 5, false, 0), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpint(stoa_nack_gen_received(&g, 2, true, 0), ==, STOA_NACK_GEN_OLD);
	/* RTX ahead of the window does not move it. */
	g_assert_cmpint(stoa_nack_gen_received(&g, 9, true, 0), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpuint(g.highest, ==, 5);
	/* RTX before any media */
	stoa_nack_gen h;
	stoa_nack_gen_init(&h, NULL);
	g_assert_cmpint(stoa_nack_gen_received(&h, 9, true, 0), ==, STOA_NACK_GEN_OLD);
	g_assert_false(h.started);
}

static void test_nack_limits(void)
{
	stoa_nack_gen_cfg cfg = { .max_retries = 2, .max_age_us = 300 * MS };
	stoa_nack_gen g;
	uint16_t out[128];
	stoa_nack_gen_init(&g, &cfg);
	stoa_nack_gen_received(&g, 10, false, 0);
	stoa_nack_gen_received(&g, 12, false, 0);
	g_assert_cmpuint(poll(&g, 0, out), ==, 1);
	g_assert_cmpuint(poll(&g, 60 * MS, out), ==, 1);
	/* Two retries spent: dropped. */
	g_assert_cmpuint(poll(&g, 120 * MS, out), ==, 0);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 0);
	g_assert_cmpuint(g.abandoned, ==, 1);
	/* Too old: dropped without being asked again. */
	stoa_nack_gen_received(&g, 14, false, 200 * MS);
	g_assert_cmpuint(poll(&g, 200 * MS, out), ==, 1);
	g_assert_cmpuint(poll(&g, 500 * MS, out), ==, 0);
	g_assert_cmpuint(g.abandoned, ==, 2);
	/* The poll output is bounded, oldest first; the rest stay due. */
	stoa_nack_gen_received(&g, 100, false, 1000 * MS);
	g_assert_cmpuint(stoa_nack_gen_poll(&g, 1000 * MS, 50, out, 10), ==, 10);
	g_assert_cmpuint(out[0], ==, 15);
	g_assert_cmpuint(out[9], ==, 24);
	g_assert_cmpuint(stoa_nack_gen_poll(&g, 1000 * MS, 50, out, 100), ==, 75);
	g_assert_cmpuint(out[0], ==, 25);
	g_assert_cmpuint(out[74], ==, 99);
	/* A tiny RTT still waits min_interval (10 ms) between retries. */
	g_assert_cmpuint(stoa_nack_gen_poll(&g, 1005 * MS, 1, out, 100), ==, 0);
	g_assert_cmpuint(stoa_nack_gen_poll(&g, 1010 * MS, 1, out, 100), ==, 85);
}

static void test_nack_wrap_jumps(void)
{
	stoa_nack_gen g;
	uint16_t out[64];
	stoa_nack_gen_init(&g, NULL);
	stoa_nack_gen_received(&g, 65534, false, 1);
	stoa_nack_gen_received(&g, 65535, false, 1);
	stoa_nack_gen_received(&g, 2, false, 1);
	g_assert_cmpuint(poll(&g, 1, out), ==, 2);
	g_assert_cmpuint(out[0], ==, 0);
	g_assert_cmpuint(out[1], ==, 1);
	/* The largest jump the window spans marks 3..512 missing; 0 and 1
	 * fall out of the window (it holds the 511 numbers behind 513). */
	g_assert_cmpint(stoa_nack_gen_received(&g, 2 + 511, false, 1), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 510);
	g_assert_cmpuint(g.abandoned, ==, 2);
	g_assert_cmpint(stoa_nack_gen_received(&g, 2 + 512, false, 1), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 510);
	/* 515 goes missing and takes 3's slot; 516 arrives in 4's. */
	g_assert_cmpint(stoa_nack_gen_received(&g, 2 + 514, false, 1), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 509);
	g_assert_cmpuint(g.abandoned, ==, 4);
	g_assert_cmpuint(poll(&g, 1, out), ==, 64);
	g_assert_cmpuint(out[0], ==, 5);
	/* A forward jump past the window resets. */
	g_assert_cmpint(stoa_nack_gen_received(&g, 2000, false, 1), ==, STOA_NACK_GEN_RESET);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 0);
	g_assert_cmpuint(g.highest, ==, 2000);
	/* A stray old packet is ignored; two in a row are a restart. */
	g_assert_cmpint(stoa_nack_gen_received(&g, 100, false, 1), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpuint(g.highest, ==, 2000);
	g_assert_cmpint(stoa_nack_gen_received(&g, 2001, false, 1), ==, STOA_NACK_GEN_IN_ORDER);
	g_assert_cmpint(stoa_nack_gen_received(&g, 101, false, 1), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpint(stoa_nack_gen_received(&g, 300, false, 1), ==, STOA_NACK_GEN_OLD);
	g_assert_cmpint(stoa_nack_gen_received(&g, 301, false, 1), ==, STOA_NACK_GEN_RESET);
	g_assert_cmpuint(g.highest, ==, 301);
	/* Reordering within the window is not a jump. */
	stoa_nack_gen_received(&g, 305, false, 1);
	g_assert_cmpint(stoa_nack_gen_received(&g, 303, false, 1), ==, STOA_NACK_GEN_RECOVERED);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 2);
	stoa_nack_gen_reset(&g);
	g_assert_cmpuint(poll(&g, 1, out), ==, 0);
}

static void test_nack_window_eviction(void)
{
	stoa_nack_gen g;
	stoa_nack_gen_init(&g, NULL);
	stoa_nack_gen_received(&g, 1, false, 1);
	stoa_nack_gen_received(&g, 12, false, 1); /* 2..11 missing */
	for (uint16_t q = 13; q < 13 + 520; q++)
		stoa_nack_gen_received(&g, q, false, 1);
	g_assert_cmpuint(stoa_nack_gen_missing(&g), ==, 0);
	g_assert_cmpuint(g.abandoned, ==, 10);
	/* Too late for a slot now reused */
	g_assert_cmpint(stoa_nack_gen_received(&g, 5, false, 1), ==, STOA_NACK_GEN_OLD);
}

/* ------------------------------------------------------------ RTX buffer */

static size_t make_rtp(uint8_t *p, uint16_t seq, size_t payload, uint8_t fill)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = 0x11;
	memset(p + 12, fill, payload);
	return 12 + payload;
}

static void test_rtx_buffer(void)
{
	stoa_rtx_buffer_cfg cfg = { .slots = 500, .max_len = 200 }; /* 512 slots */
	stoa_rtx_buffer *b = stoa_rtx_buffer_new(&cfg);
	uint8_t p[256];
	const uint8_t *got;
	size_t len;
	for (unsigned i = 0; i < 600; i++) {
		uint16_t seq = (uint16_t)(65500 + i);
		size_t l = make_rtp(p, seq, 20 + i % 50, (uint8_t)i);
		g_assert_cmpint(stoa_rtx_buffer_store(b, p, l, 1000 + i), ==, 0);
	}
	/* The last 512 are there (across the wrap), the first 88 are gone. */
	got = stoa_rtx_buffer_peek(b, (uint16_t)(65500 + 599), 2000, &len);
	g_assert_nonnull(got);
	g_assert_cmpuint(len, ==, 12 + 20 + 599 % 50);
	g_assert_cmpuint(got[12], ==, (uint8_t)599);
	g_assert_nonnull(stoa_rtx_buffer_peek(b, (uint16_t)(65500 + 88), 2000, &len));
	g_assert_null(stoa_rtx_buffer_peek(b, (uint16_t)(65500 + 87), 2000, &len));
	g_assert_null(stoa_rtx_buffer_peek(b, 65500, 2000, &len));
	g_assert_nonnull(stoa_rtx_buffer_peek(b, 100, 2000, &len)); /* across the wrap */
	/* Too old */
	g_assert_null(stoa_rtx_buffer_peek(b, 100, 3000000, &len));
	/* Too long, not RTP */
	size_t l = make_rtp(p, 7, 189, 0);
	g_assert_cmpint(stoa_rtx_buffer_store(b, p, l, 1), <, 0);
	l = make_rtp(p, 7, 10, 0);
	p[0] = 0x40;
	g_assert_cmpint(stoa_rtx_buffer_store(b, p, l, 1), <, 0);
	g_assert_cmpint(stoa_rtx_buffer_store(b, p, 11, 1), <, 0);

	/* Once per RTT */
	uint16_t seq = (uint16_t)(65500 + 500);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 10000, 40, &got, &len), ==, 0);
	g_assert_cmpuint(stoa_be16(got + 2), ==, seq);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 10000 + 39 * MS, 40, &got, &len), ==, -2);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 10000 + 40 * MS, 40, &got, &len), ==, 0);
	/* Unknown RTT: 100 ms */
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 10000 + 139 * MS, 0, &got, &len), ==, -2);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 10000 + 140 * MS, 0, &got, &len), ==, 0);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, 12345, 10000, 0, &got, &len), ==, -1);
	/* Storing the seq again resets its resend time. */
	l = make_rtp(p, seq, 10, 0);
	stoa_rtx_buffer_store(b, p, l, 20000);
	g_assert_cmpint(stoa_rtx_buffer_get_for_resend(b, seq, 20000, 40, &got, &len), ==, 0);
	stoa_rtx_buffer_clear(b);
	g_assert_null(stoa_rtx_buffer_peek(b, seq, 20000, &len));
	stoa_rtx_buffer_free(b);
	stoa_rtx_buffer_free(NULL);
	/* Bad configuration */
	stoa_rtx_buffer_cfg bad = { .max_len = 8 };
	g_assert_null(stoa_rtx_buffer_new(&bad));
	b = stoa_rtx_buffer_new(NULL);
	g_assert_nonnull(b);
	stoa_rtx_buffer_free(b);
}

static void test_rtx_wrap(void)
{
	/* M=1 PT 100 seq 0x0102 ts 5 SSRC 0x10, one CSRC, a one-byte extension
	 * (id 3 = abs-send-time), payload "hello", 3 bytes of padding. */
	const uint8_t plain[] = {
		0xb1, 0xe4, 0x01, 0x02, 0, 0, 0, 5, 0, 0, 0, 0x10,
		0xc0, 0xc1, 0xc2, 0xc3,
		0xbe, 0xde, 0, 1, 0x32, 1, 2, 3,
		'h', 'e', 'l', 'l', 'o', 0, 0, 3,
	};
	uint8_t out[64];
	int n = stoa_rtx_wrap(plain, sizeof(plain), 97, 0x20, 0x7777, out, sizeof(out));
	g_assert_cmpint(n, ==, 24 + 2 + 5);
	stoa_rtp_info i;
	g_assert_cmpint(stoa_rtp_parse(out, (size_t)n, &i), ==, 0);
	g_assert_cmpuint(i.pt, ==, 97);
	g_assert_cmpuint(i.seq, ==, 0x7777);
	g_assert_cmpuint(i.ssrc, ==, 0x20);
	g_assert_true(i.marker);
	g_assert_false(i.padding);
	g_assert_cmpuint(i.ts, ==, 5);
	g_assert_cmpuint(i.csrc_count, ==, 1);
	g_assert_cmpuint(stoa_rtp_csrc(out, 0), ==, 0xc0c1c2c3);
	const uint8_t *d;
	size_t l;
	g_assert_cmpint(stoa_rtp_ext_find(out, &i, 3, &d, &l), ==, 0);
	g_assert_cmpuint(stoa_be24(d), ==, 0x010203);
	g_assert_cmpuint(i.payload_len, ==, 7);
	g_assert_cmpuint(stoa_be16(out + i.payload_off), ==, 0x0102);
	g_assert_cmpmem(out + i.payload_off + 2, 5, "hello", 5);
	g_assert_cmpint(stoa_rtx_wrap(plain, sizeof(plain), 97, 0x20, 1, out, (size_t)n - 1), <, 0);
	g_assert_cmpint(stoa_rtx_wrap(plain, 11, 97, 0x20, 1, out, sizeof(out)), <, 0);

	/* And back */
	size_t len = (size_t)n;
	g_assert_cmpint(stoa_rtx_unwrap_in_place(out, &len, 100, 0x10), ==, 0);
	g_assert_cmpuint(len, ==, 24 + 5);
	g_assert_cmpuint(out[0], ==, plain[0] & ~0x20);
	g_assert_cmpmem(out + 1, len - 1, plain + 1, len - 1);
	/* A padding-only probe on the RTX stream has no OSN. */
	uint8_t probe[16] = { 0xa0, 97, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 4 };
	len = sizeof(probe);
	g_assert_cmpint(stoa_rtx_unwrap_in_place(probe, &len, 100, 0x10), <, 0);
}

/* ------------------------------------------------------------ keyframes */

static void test_keyframe_limiter(void)
{
	stoa_keyframe_limiter k;
	stoa_keyframe_limiter_init(&k, 0);
	g_assert_cmpint(k.interval_us, ==, 1000000);
	g_assert_true(stoa_keyframe_limiter_request(&k, 0));
	g_assert_false(stoa_keyframe_limiter_request(&k, 500 * MS));
	g_assert_false(stoa_keyframe_limiter_request(&k, 600 * MS));
	g_assert_false(stoa_keyframe_limiter_poll(&k, 900 * MS));
	g_assert_true(stoa_keyframe_limiter_poll(&k, 1000 * MS));
	g_assert_false(stoa_keyframe_limiter_poll(&k, 3000 * MS));
	g_assert_cmpuint(k.requests, ==, 3);
	g_assert_cmpuint(k.sent, ==, 2);
	/* A keyframe in the meantime cancels the refused request. */
	g_assert_false(stoa_keyframe_limiter_request(&k, 1500 * MS));
	stoa_keyframe_limiter_on_keyframe(&k);
	g_assert_false(stoa_keyframe_limiter_poll(&k, 2500 * MS));
	g_assert_true(stoa_keyframe_limiter_request(&k, 2500 * MS));
	/* FIR sequence numbers advance and wrap. */
	stoa_keyframe_limiter_init(&k, 200 * MS);
	g_assert_cmpuint(stoa_keyframe_limiter_next_fir_seq(&k), ==, 1);
	k.fir_seq = 255;
	g_assert_cmpuint(stoa_keyframe_limiter_next_fir_seq(&k), ==, 0);
	g_assert_true(stoa_keyframe_limiter_request(&k, 5));
	g_assert_false(stoa_keyframe_limiter_request(&k, 199 * MS));
	g_assert_true(stoa_keyframe_limiter_request(&k, 200 * MS + 5));
}

static void test_keyframe_vp8(void)
{
	/* S=1 PID=0; frame tag with P=0; start code; dimensions */
	const uint8_t key[] = { 0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
	g_assert_true(stoa_vp8_is_keyframe(key, sizeof(key)));
	g_assert_false(stoa_vp8_is_keyframe(key, sizeof(key) - 1));
	uint8_t p[sizeof(key)];
	memcpy(p, key, sizeof(p));
	p[1] |= 1; /* P=1: interframe */
	g_assert_false(stoa_vp8_is_keyframe(p, sizeof(p)));
	memcpy(p, key, sizeof(p));
	p[0] = 0x00; /* S=0: not the start */
	g_assert_false(stoa_vp8_is_keyframe(p, sizeof(p)));
	p[0] = 0x11; /* PID 1 */
	g_assert_false(stoa_vp8_is_keyframe(p, sizeof(p)));
	memcpy(p, key, sizeof(p));
	p[5] = 0; /* no start code */
	g_assert_false(stoa_vp8_is_keyframe(p, sizeof(p)));
	/* X with I (15-bit picture id), L, T and K */
	const uint8_t ext[] = { 0x90, 0xf0, 0x81, 0x23, 0x05, 0x40,
				0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
	g_assert_true(stoa_vp8_is_keyframe(ext, sizeof(ext)));
	/* 7-bit picture id only */
	const uint8_t ext7[] = { 0x90, 0x80, 0x23,
				 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
	g_assert_true(stoa_vp8_is_keyframe(ext7, sizeof(ext7)));
	for (size_t l = 0; l < sizeof(ext); l++)
		g_assert_false(stoa_vp8_is_keyframe(ext, l));
	g_assert_false(stoa_vp8_is_keyframe(ext, 2));
	g_assert_true(stoa_is_keyframe(STOA_CODEC_VP8, key, sizeof(key)));
}

static void test_keyframe_vp9(void)
{
	const uint8_t b[] = { 0x08 }; /* B, not P */
	g_assert_true(stoa_vp9_is_keyframe(b, 1));
	const uint8_t p[] = { 0x48 }; /* P */
	g_assert_false(stoa_vp9_is_keyframe(p, 1));
	const uint8_t mid[] = { 0x00 }; /* not the beginning of a frame */
	g_assert_false(stoa_vp9_is_keyframe(mid, 1));
	/* I (15-bit id), L with SID 0 and 1 */
	const uint8_t sid0[] = { 0xa8, 0x80, 0x01, 0x00, 0x00 };
	g_assert_true(stoa_vp9_is_keyframe(sid0, sizeof(sid0)));
	const uint8_t sid1[] = { 0xa8, 0x80, 0x01, 0x02, 0x00 };
	g_assert_false(stoa_vp9_is_keyframe(sid1, sizeof(sid1)));
	g_assert_false(stoa_vp9_is_keyframe(sid0, 3));
	g_assert_false(stoa_vp9_is_keyframe(sid0, 0));
	g_assert_true(stoa_is_keyframe(STOA_CODEC_VP9, sid0, sizeof(sid0)));
}

static void test_keyframe_h264(void)
{
	const uint8_t idr[] = { 0x65, 0x88 };
	const uint8_t sps[] = { 0x67, 0x42 };
	const uint8_t non[] = { 0x41, 0x9a };
	g_assert_true(stoa_h264_is_keyframe(idr, sizeof(idr)));
	g_assert_true(stoa_h264_is_keyframe(sps, sizeof(sps)));
	g_assert_false(stoa_h264_is_keyframe(non, sizeof(non)));
	g_assert_false(stoa_h264_is_keyframe(idr, 0));
	/* STAP-A: SPS (2 bytes), PPS (1 byte) */
	const uint8_t stap[] = { 0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68 };
	g_assert_true(stoa_h264_is_keyframe(stap, sizeof(stap)));
	const uint8_t stap_p[] = { 0x78, 0, 1, 0x68, 0, 2, 0x41, 0x9a };
	g_assert_false(stoa_h264_is_keyframe(stap_p, sizeof(stap_p)));
	/* A size past the end, and a PPS before a truncated IDR */
	const uint8_t stap_bad[] = { 0x78, 0, 1, 0x68, 0, 9, 0x65 };
	g_assert_false(stoa_h264_is_keyframe(stap_bad, sizeof(stap_bad)));
	/* FU-A: start of an IDR; middle of one; start of a non-IDR */
	const uint8_t fu_s[] = { 0x7c, 0x85, 0 };
	const uint8_t fu_m[] = { 0x7c, 0x05, 0 };
	const uint8_t fu_n[] = { 0x5c, 0x81, 0 };
	g_assert_true(stoa_h264_is_keyframe(fu_s, sizeof(fu_s)));
	g_assert_false(stoa_h264_is_keyframe(fu_m, sizeof(fu_m)));
	g_assert_false(stoa_h264_is_keyframe(fu_n, sizeof(fu_n)));
	g_assert_false(stoa_h264_is_keyframe(fu_s, 1));
	g_assert_true(stoa_is_keyframe(STOA_CODEC_H264, idr, sizeof(idr)));
	g_assert_false(stoa_is_keyframe(STOA_CODEC_UNKNOWN, idr, sizeof(idr)));
}

static void test_keyframe_av1(void)
{
	const uint8_t n_bit[] = { 0x18, 0x0a, 0 };
	g_assert_true(stoa_av1_is_keyframe(n_bit, sizeof(n_bit)));
	/* W=1: one element, no length; OBU type 1 (sequence header) */
	const uint8_t w1[] = { 0x10, 0x0a, 0 };
	g_assert_true(stoa_av1_is_keyframe(w1, sizeof(w1)));
	/* W=0: a LEB128 length (2 bytes here) before the element */
	const uint8_t w0[] = { 0x00, 0x85, 0x01, 0x0a, 0 };
	g_assert_true(stoa_av1_is_keyframe(w0, sizeof(w0)));
	g_assert_false(stoa_av1_is_keyframe(w0, 3));
	/* W=2: a frame OBU (type 6) first */
	const uint8_t frame[] = { 0x20, 0x05, 0x32, 0 };
	g_assert_false(stoa_av1_is_keyframe(frame, sizeof(frame)));
	/* Z: continuation of an earlier OBU */
	const uint8_t z[] = { 0x90, 0x0a };
	g_assert_false(stoa_av1_is_keyframe(z, sizeof(z)));
	/* A LEB128 that never ends */
	const uint8_t leb[] = { 0x00, 0x80, 0x80, 0x80 };
	g_assert_false(stoa_av1_is_keyframe(leb, sizeof(leb)));
	g_assert_true(stoa_is_keyframe(STOA_CODEC_AV1, w1, sizeof(w1)));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stats/probation-loss", test_stats_probation_loss);
	g_test_add_func("/stats/wrap-jump", test_stats_wrap_jump);
	g_test_add_func("/stats/jitter", test_stats_jitter);
	g_test_add_func("/stats/sr-rtt", test_stats_sr_rtt);
	g_test_add_func("/stats/send", test_send_stats);
	g_test_add_func("/nack/basic", test_nack_basic);
	g_test_add_func("/nack/limits", test_nack_limits);
	g_test_add_func("/nack/wrap-jumps", test_nack_wrap_jumps);
	g_test_add_func("/nack/window-eviction", test_nack_window_eviction);
	g_test_add_func("/rtx/buffer", test_rtx_buffer);
	g_test_add_func("/rtx/wrap", test_rtx_wrap);
	g_test_add_func("/keyframe/limiter", test_keyframe_limiter);
	g_test_add_func("/keyframe/vp8", test_keyframe_vp8);
	g_test_add_func("/keyframe/vp9", test_keyframe_vp9);
	g_test_add_func("/keyframe/h264", test_keyframe_h264);
	g_test_add_func("/keyframe/av1", test_keyframe_av1);
	return g_test_run();
}
