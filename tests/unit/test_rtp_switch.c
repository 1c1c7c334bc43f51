/*
 * test_rtp_switch.c: the plugins' simulcast helpers (plugins/common): the
 * RTP rewriter that keeps an outgoing stream continuous across source
 * switches (sequence numbers, timestamps, VP8 PictureID/TL0PICIDX), and the
 * layer selector (keyframe-gated switches, fallback, temporal filtering),
 * with synthetic packets and injected time.
 */
#include <glib.h>
#include <string.h>

#include "common/rtp_switch.h"
#include "common/simulcast.h"

/* A VP8 RTP packet: 12-byte header, then the descriptor X|S, I L T, a
 * 15-bit PictureID, TL0PICIDX, TID|Y, then a frame tag (keyframe or not). */
static size_t vp8_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, bool start,
			 uint16_t pid, uint8_t tl0, int tid, bool sync, bool keyframe)
{
	memset(buf, 0, 64);
	buf[0] = 0x80;
	buf[1] = 96;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	uint8_t *p = buf + 12;
	p[0] = (uint8_t)(0x80 | (start ? 0x10 : 0));
	p[1] = 0xe0; /* I L T */
	p[2] = (uint8_t)(0x80 | (pid >> 8));
	p[3] = (uint8_t)pid;
	p[4] = tl0;
	p[5] = (uint8_t)(((tid & 3) << 6) | (sync ? 0x20 : 0));
	/* frame tag: P = 0 for a keyframe, then the start code 9d 01 2a */
	p[6] = keyframe ? 0x00 : 0x01;
	p[9] = 0x9d;
	p[10] = 0x01;
	p[11] = 0x2a;
	return 12 + 20;
}

static uint16_t seq_of(const uint8_t *b)
{
	return (uint16_t)((b[2] << 8) | b[3]);
}

static uint32_t ts_of(const uint8_t *b)
{
	return ((uint32_t)b[4] << 24) | ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
}

static uint16_t pid_of(const uint8_t *b)
{
	stoa_vp8_desc d;
	size_t off, plen;
	g_assert_cmpint(stoa_rtp_switch_payload(b, 32, &off, &plen), ==, 0);
	g_assert_cmpint(stoa_vp8_desc_parse(b + off, plen, &d), ==, 0);
	g_assert_true(d.pid_15);
	return d.pid;
}

static uint8_t tl0_of(const uint8_t *b)
{
	return b[12 + 4];
}

/* Sequence numbers and timestamps continue across switches, across the
 * 16- and 32-bit wrap, and the source's own spacing is kept. */
static void test_seq_ts_continuity(void)
{
	stoa_rtp_switch sw;
	stoa_rtp_switch_init(&sw, 90000, false);
	uint8_t b[64];
	int64_t now = 1000000;
	/* Source A near both wraps. */
	uint16_t seq = 65533;
	uint32_t ts = 0xfffffc00u;
	uint16_t last_seq = 0;
	uint32_t last_ts = 0;
	for (int i = 0; i < 5; i++) {
		vp8_packet(b, 0xaaaa, (uint16_t)(seq + i), ts + (uint32_t)i * 3000, true, 1, 0, 0, false,
			   false);
		g_assert_cmpint(stoa_rtp_switch_rewrite(&sw, b, 32, now + i * 33333), ==, 0);
		if (i > 0) {
			g_assert_cmpuint(seq_of(b), ==, (uint16_t)(last_seq + 1));
			g_assert_cmpuint(ts_of(b) - last_ts, ==, 3000);
		}
		last_seq = seq_of(b);
		last_ts = ts_of(b);
	}
	g_assert_cmpuint(last_seq, ==, 1); /* wrapped, untouched for the first source */
	/* Switch to source B, 100 ms later, with unrelated numbers. */
	now += 4 * 33333 + 100000;
	vp8_packet(b, 0xbbbb, 40000, 123456789, true, 1, 0, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, now);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(last_seq + 1));
	g_assert_cmpuint(ts_of(b) - last_ts, ==, 9000); /* 100 ms at 90 kHz */
	last_seq = seq_of(b);
	last_ts = ts_of(b);
	/* B's own spacing, including a reordered packet. */
	vp8_packet(b, 0xbbbb, 40002, 123456789 + 3000, true, 2, 0, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, now + 33333);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(last_seq + 2));
	g_assert_cmpuint(ts_of(b) - last_ts, ==, 3000);
	vp8_packet(b, 0xbbbb, 40001, 123456789, false, 1, 0, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, now + 34000);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(last_seq + 1));
	/* A switch back right away still moves the timestamp forward. */
	vp8_packet(b, 0xaaaa, 7, 5, true, 9, 0, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, now + 33333);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(last_seq + 3));
	g_assert_cmpuint(ts_of(b) - (last_ts + 3000), ==, 1);
	g_assert_cmpuint(sw.switches, ==, 2);
	/* An explicit source change with the same SSRC rebases too. */
	uint16_t s0 = seq_of(b);
	stoa_rtp_switch_source_changed(&sw);
	vp8_packet(b, 0xaaaa, 30000, 5, true, 100, 0, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, now + 70000);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s0 + 1));
}

/* Skipped packets (a filtered temporal layer) leave no gap. */
static void test_skip(void)
{
	stoa_rtp_switch sw;
	stoa_rtp_switch_init(&sw, 90000, true);
	uint8_t b[64];
	vp8_packet(b, 1, 100, 0, true, 10, 3, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, 0);
	uint16_t s = seq_of(b), p = pid_of(b);
	vp8_packet(b, 1, 101, 3000, true, 11, 3, 1, false, false);
	stoa_rtp_switch_skip(&sw, b, 32);
	vp8_packet(b, 1, 102, 3000, false, 11, 3, 1, false, false);
	stoa_rtp_switch_skip(&sw, b, 32);
	vp8_packet(b, 1, 103, 6000, true, 12, 4, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 66666);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 1));
	g_assert_cmpuint(pid_of(b), ==, (uint16_t)(p + 1));
	/* An old packet skipped changes nothing. */
	vp8_packet(b, 1, 99, 0, false, 10, 3, 1, false, false);
	stoa_rtp_switch_skip(&sw, b, 32);
	vp8_packet(b, 1, 104, 6000, false, 12, 4, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 66666);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 2));
}

/* A refused send taken back, then the run up to the next keyframe
 * skipped: the keyframe continues the sequence numbers and PictureIDs the
 * receiver saw, its timestamp stays the source's. */
static void test_unsend(void)
{
	stoa_rtp_switch sw;
	stoa_rtp_switch_init(&sw, 90000, true);
	uint8_t b[64];
	vp8_packet(b, 1, 200, 1000, true, 50, 3, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, 0);
	uint16_t s = seq_of(b), p = pid_of(b);
	uint32_t ts0 = ts_of(b);
	/* 201 starts picture 51 and is refused. */
	vp8_packet(b, 1, 201, 4000, true, 51, 4, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 33333);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 1));
	vp8_packet(b, 1, 201, 4000, true, 51, 4, 0, false, false);
	g_assert_cmpint(stoa_rtp_switch_unsend(&sw, b, 32), ==, 0);
	/* Taking back twice changes nothing more. */
	stoa_rtp_switch_unsend(&sw, b, 32);
	/* The rest of 51 and all of 52 are dropped. */
	vp8_packet(b, 1, 202, 4000, false, 51, 4, 0, false, false);
	stoa_rtp_switch_skip(&sw, b, 32);
	vp8_packet(b, 1, 203, 7000, true, 52, 5, 0, false, false);
	stoa_rtp_switch_skip(&sw, b, 32);
	vp8_packet(b, 1, 204, 10000, true, 53, 6, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, 100000);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 1));
	g_assert_cmpuint(pid_of(b), ==, (uint16_t)(p + 1));
	g_assert_cmpuint(ts_of(b), ==, ts0 + 9000);
	/* A refused packet in the middle of a picture keeps that PictureID. */
	vp8_packet(b, 1, 205, 10000, false, 53, 6, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 100000);
	vp8_packet(b, 1, 205, 10000, false, 53, 6, 0, false, false);
	stoa_rtp_switch_unsend(&sw, b, 32);
	vp8_packet(b, 1, 206, 13000, true, 54, 7, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, 133333);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 2));
	g_assert_cmpuint(pid_of(b), ==, (uint16_t)(p + 2));
	/* Only the newest packet can be taken back. */
	vp8_packet(b, 1, 205, 10000, false, 53, 6, 0, false, false);
	stoa_rtp_switch_unsend(&sw, b, 32);
	vp8_packet(b, 1, 207, 13000, false, 54, 7, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 133333);
	g_assert_cmpuint(seq_of(b), ==, (uint16_t)(s + 3));
}

/* VP8 PictureID and TL0PICIDX continue across a switch, with 15-bit wrap. */
static void test_vp8_picture_id(void)
{
	stoa_rtp_switch sw;
	stoa_rtp_switch_init(&sw, 90000, true);
	uint8_t b[64];
	uint16_t pid = 0x7ffe;
	uint8_t tl0 = 254;
	for (int i = 0; i < 3; i++) {
		vp8_packet(b, 1, (uint16_t)(10 + i), (uint32_t)i * 3000, true, (uint16_t)((pid + i) & 0x7fff),
			   (uint8_t)(tl0 + i), 0, false, i == 0);
		stoa_rtp_switch_rewrite(&sw, b, 32, i * 33333);
		g_assert_cmpuint(pid_of(b), ==, (uint16_t)((pid + i) & 0x7fff));
	}
	g_assert_cmpuint(pid_of(b), ==, 0); /* wrapped */
	g_assert_cmpuint(tl0_of(b), ==, 0);
	/* Another layer: its own counters, rebased. */
	vp8_packet(b, 2, 5000, 777, true, 1234, 77, 0, false, true);
	stoa_rtp_switch_rewrite(&sw, b, 32, 100000);
	g_assert_cmpuint(pid_of(b), ==, 1);
	g_assert_cmpuint(tl0_of(b), ==, 1);
	vp8_packet(b, 2, 5001, 777, false, 1234, 77, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 100000);
	g_assert_cmpuint(pid_of(b), ==, 1); /* same picture */
	vp8_packet(b, 2, 5002, 3777, true, 1235, 77, 1, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 133333);
	g_assert_cmpuint(pid_of(b), ==, 2);
	g_assert_cmpuint(tl0_of(b), ==, 1);
	vp8_packet(b, 2, 5003, 6777, true, 1236, 78, 0, false, false);
	stoa_rtp_switch_rewrite(&sw, b, 32, 166666);
	g_assert_cmpuint(pid_of(b), ==, 3);
	g_assert_cmpuint(tl0_of(b), ==, 2);
}

static int feed(stoa_simulcast *sc, int layer, bool key, int64_t now)
{
	return stoa_simulcast_process(sc, layer, key, -1, false, now);
}

/* Switches wait for a keyframe of the new layer; the old one flows meanwhile. */
static void test_keyframe_gated(void)
{
	stoa_simulcast sc;
	stoa_simulcast_init(&sc);
	int64_t t = 0;
	/* Start: the target (2) is wanted; nothing goes out before its keyframe. */
	int f = feed(&sc, 0, true, t);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_KEYFRAME);
	f = feed(&sc, 2, false, t + 1000);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_false(f & STOA_SIMULCAST_KEYFRAME); /* asked already */
	f = feed(&sc, 2, true, t + 2000);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_CHANGED);
	g_assert_cmpint(sc.substream, ==, 2);
	/* Down to 0: 2 keeps flowing until 0 sends a keyframe. */
	stoa_simulcast_set_target(&sc, 0, -1, 0);
	t = 600000;
	f = feed(&sc, 2, false, t);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_KEYFRAME);
	f = feed(&sc, 0, false, t + 10);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	f = feed(&sc, 1, true, t + 20);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	f = feed(&sc, 0, true, t + 30);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_CHANGED);
	g_assert_cmpint(sc.substream, ==, 0);
	f = feed(&sc, 2, true, t + 40);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_false(f & STOA_SIMULCAST_CHANGED);
	/* Keyframe requests repeat at most every 500 ms while a switch waits. */
	stoa_simulcast_set_target(&sc, 1, -1, 0);
	f = feed(&sc, 1, false, t + 599990);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_KEYFRAME);
	g_assert_true(feed(&sc, 0, false, t + 600000) & STOA_SIMULCAST_RELAY);
	feed(&sc, 1, false, t + 899990);
	g_assert_false(feed(&sc, 0, false, t + 900000) & STOA_SIMULCAST_KEYFRAME);
	g_assert_true(feed(&sc, 0, false, t + 1100001) & STOA_SIMULCAST_KEYFRAME);
	g_assert_cmpuint(sc.switches, ==, 2);
}

/* The target stops: after `fallback` µs the next lower layer takes over, at
 * its keyframe; when the target returns, it is switched back to. */
static void test_fallback(void)
{
	stoa_simulcast sc;
	stoa_simulcast_init(&sc);
	stoa_simulcast_set_target(&sc, 2, -1, 100000);
	int64_t t = 0;
	for (int i = 0; i < 10; i++, t += 60000) {
		feed(&sc, 0, i == 0, t);
		feed(&sc, 1, i == 0, t + 1);
		feed(&sc, 2, i == 0, t + 2);
	}
	g_assert_cmpint(sc.substream, ==, 2);
	int64_t stop = t - 60000 + 2; /* the last packet of layer 2 */
	/* Layer 2 goes quiet; within the fallback time nothing changes. */
	for (; t - stop <= 100000; t += 10000) {
		int f = feed(&sc, 1, true, t);
		g_assert_false(f & STOA_SIMULCAST_RELAY);
		feed(&sc, 0, false, t + 1);
	}
	g_assert_cmpint(sc.substream, ==, 2);
	/* Past it: the first keyframe of layer 1 switches down. */
	int f = feed(&sc, 1, false, t);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_KEYFRAME);
	f = feed(&sc, 1, true, t + 10);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_CHANGED);
	g_assert_cmpint(sc.substream, ==, 1);
	/* Layer 2 returns: back up at its keyframe. */
	t += 50000;
	f = feed(&sc, 2, false, t);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_true(feed(&sc, 1, false, t + 1) & STOA_SIMULCAST_RELAY);
	f = feed(&sc, 2, true, t + 2);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_cmpint(sc.substream, ==, 2);
}

/* VP8 temporal layers: filtered down at once, up at a sync or keyframe. */
static void test_temporal(void)
{
	stoa_simulcast sc;
	stoa_simulcast_init(&sc);
	stoa_simulcast_set_target(&sc, 0, 0, 0);
	int f = stoa_simulcast_process(&sc, 0, true, 0, false, 0);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_cmpint(sc.temporal, ==, 0);
	g_assert_false(stoa_simulcast_process(&sc, 0, false, 1, false, 10) & STOA_SIMULCAST_RELAY);
	g_assert_true(stoa_simulcast_process(&sc, 0, false, 0, false, 20) & STOA_SIMULCAST_RELAY);
	stoa_simulcast_set_target(&sc, -1, 2, 0);
	g_assert_false(stoa_simulcast_process(&sc, 0, false, 1, false, 30) & STOA_SIMULCAST_RELAY);
	f = stoa_simulcast_process(&sc, 0, false, 1, true, 40);
	g_assert_true(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_CHANGED);
	g_assert_cmpint(sc.temporal, ==, 1);
	stoa_simulcast_set_target(&sc, -1, 0, 0);
	f = stoa_simulcast_process(&sc, 0, false, 1, false, 50);
	g_assert_false(f & STOA_SIMULCAST_RELAY);
	g_assert_true(f & STOA_SIMULCAST_CHANGED);
	/* Not simulcast: always relayed. */
	g_assert_cmpint(stoa_simulcast_process(&sc, -1, false, 2, false, 60), ==, STOA_SIMULCAST_RELAY);
}

static void test_malformed(void)
{
	stoa_rtp_switch sw;
	stoa_rtp_switch_init(&sw, 0, true);
	uint8_t b[64] = { 0x80 };
	g_assert_cmpint(stoa_rtp_switch_rewrite(&sw, b, 11, 0), ==, -1);
	size_t off, plen;
	b[0] = 0x90; /* extension header past the end */
	g_assert_cmpint(stoa_rtp_switch_payload(b, 12, &off, &plen), ==, -1);
	b[0] = 0xa0; /* padding longer than the packet */
	b[19] = 40;
	g_assert_cmpint(stoa_rtp_switch_payload(b, 20, &off, &plen), ==, -1);
	stoa_vp8_desc d;
	uint8_t p[2] = { 0x80, 0x80 }; /* I set, no PictureID byte */
	g_assert_cmpint(stoa_vp8_desc_parse(p, 2, &d), ==, -1);
	/* A rewrite of a packet whose descriptor is cut short leaves the payload. */
	b[0] = 0x80;
	b[12] = 0x80;
	b[13] = 0x80;
	g_assert_cmpint(stoa_rtp_switch_rewrite(&sw, b, 14, 0), ==, 0);
	g_assert_cmpuint(b[13], ==, 0x80);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp_switch/seq_ts_continuity", test_seq_ts_continuity);
	g_test_add_func("/rtp_switch/skip", test_skip);
	g_test_add_func("/rtp_switch/unsend", test_unsend);
	g_test_add_func("/rtp_switch/vp8_picture_id", test_vp8_picture_id);
	g_test_add_func("/rtp_switch/malformed", test_malformed);
	g_test_add_func("/simulcast/keyframe_gated", test_keyframe_gated);
	g_test_add_func("/simulcast/fallback", test_fallback);
	g_test_add_func("/simulcast/temporal", test_temporal);
	return g_test_run();
}
