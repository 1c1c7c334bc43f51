/*
 * bench_rtp.c: CPU cost per packet of the RTP/RTCP forwarding-path helpers
 * (media/rtp, media/rtcp): RTP parse, extension lookup and rewrite, the
 * NACK generator's per-packet update (in order, and with 1% loss plus a
 * poll per packet), receive statistics, RTX buffer store, and parsing a
 * compound RTCP packet and a transport-wide CC feedback. Prints ns per
 * operation. Not part of make check; build and run with
 *   make tests/bench/bench_rtp && ./tests/bench/bench_rtp [iterations]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtcp/rtcp.h"
#include "media/rtp/nack_gen.h"
#include "media/rtp/rtp.h"
#include "media/rtp/rtp_stats.h"
#include "media/rtp/rtx_buffer.h"

/* Keeps results alive so the compiler cannot drop the measured work. */
static volatile uint64_t sink;

/* A 1200-byte video packet with abs-send-time (id 3), twcc (id 5) and
 * a mid (id 9) in the one-byte form. */
static size_t make_video(uint8_t *p, uint16_t seq)
{
	static const uint8_t ext[] = { 0xbe, 0xde, 0, 3, 0x32, 1, 2, 3, 0x51, 0, 0, 0x90, '0', 0, 0, 0 };
	memset(p, 0xa5, 1200);
	p[0] = 0x90;
	p[1] = 96;
	stoa_put_be16(p + 2, seq);
	stoa_put_be32(p + 4, seq * 3000u);
	stoa_put_be32(p + 8, 0x11223344);
	memcpy(p + 12, ext, sizeof(ext));
	return 1200;
}

static double ns_per(int64_t t0, long n)
{
	return (double)(g_get_monotonic_time() - t0) * 1000.0 / (double)n;
}

static void bench_parse(long n)
{
	uint8_t p[1200];
	size_t len = make_video(p, 1);
	stoa_rtp_info info;
	int64_t t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		p[3] = (uint8_t)i;
		if (stoa_rtp_parse(p, len, &info) == 0)
			sink += info.seq + info.payload_len;
	}
	printf("rtp parse                       %8.1f ns\n", ns_per(t0, n));

	const uint8_t *d;
	size_t l;
	t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		if (stoa_rtp_ext_find(p, &info, 5, &d, &l) == 0)
			sink += d[0];
	}
	printf("rtp ext find (2nd of 3)         %8.1f ns\n", ns_per(t0, n));

	t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		uint8_t v[2] = { (uint8_t)(i >> 8), (uint8_t)i };
		stoa_rtp_parse(p, len, &info);
		stoa_rtp_set_seq(p, len, (uint16_t)i);
		stoa_rtp_set_ssrc(p, len, 0x55667788);
		sink += (uint64_t)stoa_rtp_ext_set_in_place(p, &info, 5, v, 2);
	}
	printf("rtp parse + rewrite seq/ssrc/twcc %6.1f ns\n", ns_per(t0, n));
}

static void bench_nack(long n)
{
	stoa_nack_gen *g = g_new(stoa_nack_gen, 1);
	uint16_t out[64];
	stoa_nack_gen_init(g, NULL);
	int64_t t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++)
		sink += stoa_nack_gen_received(g, (uint16_t)i, false, i * 1000);
	printf("nack_gen update, in order       %8.1f ns\n", ns_per(t0, n));

	stoa_nack_gen_init(g, NULL);
	t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		if (i % 100 == 50)
			continue; /* 1% loss, never recovered */
		sink += stoa_nack_gen_received(g, (uint16_t)i, false, i * 1000);
		sink += stoa_nack_gen_poll(g, i * 1000, 50, out, 64);
	}
	printf("nack_gen update + poll, 1%% loss %8.1f ns\n", ns_per(t0, n));
	g_free(g);
}

static void bench_stats_rtx(long n)
{
	stoa_rtp_recv_stats s;
	stoa_rtp_recv_stats_init(&s, 90000);
	int64_t t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++)
		sink += (uint64_t)stoa_rtp_recv_stats_update(&s, (uint16_t)i, (uint32_t)i * 3000, 1200,
							    i * 33000);
	printf("recv stats update               %8.1f ns\n", ns_per(t0, n));

	stoa_rtx_buffer *b = stoa_rtx_buffer_new(NULL);
	uint8_t p[1200];
	size_t len = make_video(p, 0);
	t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		stoa_put_be16(p + 2, (uint16_t)i);
		sink += (uint64_t)stoa_rtx_buffer_store(b, p, len, i + 1);
	}
	printf("rtx buffer store (1200 B copy)  %8.1f ns\n", ns_per(t0, n));
	stoa_rtx_buffer_free(b);
}

static void bench_rtcp(long n)
{
	uint8_t buf[1500], fb[256];
	stoa_rtcp_report_block rb[2] = { { .ssrc = 1 }, { .ssrc = 2 } };
	stoa_rtcp_sender_info si = { .ssrc = 9 };
	stoa_rtcp_report rep = { .sender = &si, .rb = rb, .rb_count = 2, .cname = "abcdefgh",
				 .cname_len = 8 };
	const uint16_t seqs[] = { 1, 2, 5, 30 };
	int f = stoa_rtcp_build_nack(fb, sizeof(fb), 9, 1, seqs, 4);
	f += stoa_rtcp_build_pli(fb + f, sizeof(fb) - (size_t)f, 9, 1);
	int len = stoa_rtcp_build_compound(buf, sizeof(buf), &rep, fb, (size_t)f, false);
	int64_t t0 = g_get_monotonic_time();
	for (long i = 0; i < n; i++) {
		stoa_rtcp_iter it;
		stoa_rtcp_hdr h;
		stoa_rtcp_iter_init(&it, buf, (size_t)len);
		while (stoa_rtcp_iter_next(&it, &h) > 0) {
			stoa_rtcp_sr sr;
			stoa_rtcp_fb x;
			uint16_t out[32];
			if (stoa_rtcp_sr_parse(&h, &sr) == 0)
				sink += sr.rb_count;
			else if (stoa_rtcp_fb_parse(&h, &x) == 0 && x.fmt == STOA_RTCP_RTPFB_NACK)
				sink += (uint64_t)stoa_rtcp_nack_parse(&x, out, 32);
		}
	}
	printf("rtcp compound SR+SDES+NACK+PLI  %8.1f ns\n", ns_per(t0, n));

	stoa_rtcp_twcc_pkt pk[100];
	for (unsigned i = 0; i < 100; i++) {
		pk[i].seq = (uint16_t)i;
		pk[i].received = i % 10 != 0;
		pk[i].delta = (int32_t)(i % 7) * 20;
	}
	stoa_rtcp_twcc th = { 0 };
	len = stoa_rtcp_build_twcc(buf, sizeof(buf), 1, 2, &th, pk, 100);
	t0 = g_get_monotonic_time();
	for (long i = 0; i < n / 10; i++) {
		stoa_rtcp_iter it;
		stoa_rtcp_hdr h;
		stoa_rtcp_fb x;
		stoa_rtcp_iter_init(&it, buf, (size_t)len);
		stoa_rtcp_iter_next(&it, &h);
		stoa_rtcp_fb_parse(&h, &x);
		sink += (uint64_t)stoa_rtcp_twcc_parse(&x, &th, pk, 100);
	}
	printf("twcc parse, 100 packets         %8.1f ns\n", ns_per(t0, n / 10));
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	if (n < 10)
		n = 10;
	bench_parse(n);
	bench_nack(n);
	bench_stats_rtx(n);
	bench_rtcp(n);
	return 0;
}
