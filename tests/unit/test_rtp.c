/*
 * test_rtp.c: RTP header parsing and in-place rewriting (media/rtp/rtp.c),
 * header extensions in both forms, RFC 7983 demultiplexing and sequence
 * number arithmetic. Vectors are assembled by hand from RFC 3550 5.1 and
 * RFC 8285 4.2/4.3.
 */
#include <glib.h>
#include <string.h>

#include "media/rtp/demux.h"
#include "media/rtp/ntp.h"
#include "media/rtp/rtp.h"
#include "media/rtp/seq.h"

/* V=2, M=1, PT=96, seq 0x1234, ts 0xdeadbeef, SSRC 0x11223344, payload "abc". */
static const uint8_t basic[] = {
	0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 'a', 'b', 'c',
};

static void test_basic(void)
{
	stoa_rtp_info i;
	g_assert_cmpint(stoa_rtp_parse(basic, sizeof(basic), &i), ==, 0);
	g_assert_cmpuint(i.version, ==, 2);
	g_assert_true(i.marker);
	g_assert_false(i.padding);
	g_assert_false(i.extension);
	g_assert_cmpuint(i.pt, ==, 96);
	g_assert_cmpuint(i.seq, ==, 0x1234);
	g_assert_cmpuint(i.ts, ==, 0xdeadbeef);
	g_assert_cmpuint(i.ssrc, ==, 0x11223344);
	g_assert_cmpuint(i.csrc_count, ==, 0);
	g_assert_cmpuint(i.header_len, ==, 12);
	g_assert_cmpuint(i.payload_off, ==, 12);
	g_assert_cmpuint(i.payload_len, ==, 3);
	g_assert_cmpuint(i.ext_profile, ==, 0);
	/* An empty payload is valid. */
	g_assert_cmpint(stoa_rtp_parse(basic, 12, &i), ==, 0);
	g_assert_cmpuint(i.payload_len, ==, 0);
}

static void test_bad(void)
{
	stoa_rtp_info i;
	uint8_t p[64];
	g_assert_cmpint(stoa_rtp_parse(basic, 11, &i), <, 0);
	g_assert_cmpint(stoa_rtp_parse(basic, 0, &i), <, 0);
	memcpy(p, basic, sizeof(basic));
	p[0] = 0x40; /* version 1 */
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(basic), &i), <, 0);
	p[0] = 0x00;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(basic), &i), <, 0);
	/* CC=15 claims 60 bytes of CSRC that are not there. */
	p[0] = 0x8f;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(basic), &i), <, 0);
	/* X set but fewer than 4 bytes follow. */
	p[0] = 0x90;
	g_assert_cmpint(stoa_rtp_parse(p, 15, &i), <, 0);
	/* Extension length (2 words) beyond the end. */
	memset(p, 0, sizeof(p));
	memcpy(p, basic, 12);
	p[0] = 0x90;
	p[12] = 0xbe, p[13] = 0xde, p[14] = 0x00, p[15] = 0x02;
	g_assert_cmpint(stoa_rtp_parse(p, 16 + 7, &i), <, 0);
	g_assert_cmpint(stoa_rtp_parse(p, 16 + 8, &i), ==, 0);
	/* Extension length 0xffff. */
	p[14] = 0xff, p[15] = 0xff;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), <, 0);
}

static void test_csrc(void)
{
	uint8_t p[12 + 8 + 2] = { 0x82, 0x08, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2,
				  0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02, 0x03, 0x04, 'x', 'y' };
	stoa_rtp_info i;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpuint(i.csrc_count, ==, 2);
	g_assert_cmpuint(stoa_rtp_csrc(p, 0), ==, 0xaabbccdd);
	g_assert_cmpuint(stoa_rtp_csrc(p, 1), ==, 0x01020304);
	g_assert_cmpuint(i.header_len, ==, 20);
	g_assert_cmpuint(i.payload_len, ==, 2);
	g_assert_false(i.marker);
	g_assert_cmpuint(i.pt, ==, 8);
	g_assert_cmpuint(i.seq, ==, 65535);
	/* One CSRC short. */
	g_assert_cmpint(stoa_rtp_parse(p, 19, &i), <, 0);
}

static void test_padding(void)
{
	/* 3 payload bytes and 4 bytes of padding (last octet 4). */
	uint8_t p[12 + 7] = { 0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 'a', 'b', 'c', 0, 0, 0, 4 };
	stoa_rtp_info i;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_true(i.padding);
	g_assert_cmpuint(i.padding_len, ==, 4);
	g_assert_cmpuint(i.payload_len, ==, 3);
	/* All padding: an empty payload (a probe). */
	p[18] = 7;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpuint(i.payload_len, ==, 0);
	/* More padding than bytes after the header, or a count of 0. */
	p[18] = 8;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), <, 0);
	p[18] = 0;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), <, 0);
	/* P set with nothing after the header. */
	g_assert_cmpint(stoa_rtp_parse(p, 12, &i), <, 0);
}

/*
 * One-byte form: id 1 len 1 (audio level 0x85), padding byte, id 3 len 3
 * (abs-send-time), id 5 len 2 (twcc seq 0x0102), then padding to a word.
 */
static const uint8_t one_byte[] = {
	0x90, 0x6f, 0x00, 0x10, 0, 0, 0, 100, 0xca, 0xfe, 0xba, 0xbe,
	0xbe, 0xde, 0x00, 0x03,
	0x10, 0x85, 0x00, 0x32, 0x12, 0x34, 0x56, 0x51, 0x01, 0x02, 0x00, 0x00,
	'p', 'a', 'y',
};

static void test_ext_one_byte(void)
{
	stoa_rtp_info i;
	const uint8_t *d;
	size_t l;
	g_assert_cmpint(stoa_rtp_parse(one_byte, sizeof(one_byte), &i), ==, 0);
	g_assert_true(i.extension);
	g_assert_cmpuint(i.ext_profile, ==, 0xbede);
	g_assert_cmpuint(i.ext_off, ==, 16);
	g_assert_cmpuint(i.ext_len, ==, 12);
	g_assert_cmpuint(i.header_len, ==, 28);
	g_assert_cmpuint(i.payload_len, ==, 3);

	g_assert_cmpint(stoa_rtp_ext_find(one_byte, &i, 1, &d, &l), ==, 0);
	bool voice = false;
	uint8_t level = 0;
	g_assert_cmpint(stoa_rtp_ext_audio_level(d, l, &voice, &level), ==, 0);
	g_assert_true(voice);
	g_assert_cmpuint(level, ==, 5);
	g_assert_cmpint(stoa_rtp_ext_find(one_byte, &i, 3, &d, &l), ==, 0);
	uint32_t ast = 0;
	g_assert_cmpint(stoa_rtp_ext_abs_send_time(d, l, &ast), ==, 0);
	g_assert_cmpuint(ast, ==, 0x123456);
	g_assert_cmpint(stoa_rtp_ext_find(one_byte, &i, 5, &d, &l), ==, 0);
	uint16_t tw = 0;
	g_assert_cmpint(stoa_rtp_ext_twcc_seq(d, l, &tw), ==, 0);
	g_assert_cmpuint(tw, ==, 0x0102);
	g_assert_cmpint(stoa_rtp_ext_twcc_seq(d, 3, &tw), <, 0);
	g_assert_cmpint(stoa_rtp_ext_find(one_byte, &i, 2, &d, &l), <, 0);
	g_assert_cmpint(stoa_rtp_ext_find(one_byte, &i, 0, &d, &l), <, 0);

	/* The walk sees the three elements in order. */
	size_t pos = 0;
	uint8_t id, ids[4];
	int n = 0;
	while (stoa_rtp_ext_next(one_byte, &i, &pos, &id, &d, &l) > 0 && n < 4)
		ids[n++] = id;
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpuint(ids[0], ==, 1);
	g_assert_cmpuint(ids[1], ==, 3);
	g_assert_cmpuint(ids[2], ==, 5);
}

static void test_ext_one_byte_edge(void)
{
	uint8_t p[sizeof(one_byte)];
	stoa_rtp_info i;
	const uint8_t *d;
	size_t l;
	memcpy(p, one_byte, sizeof(p));
	/* Id 15 stops the walk: id 3 and 5 are no longer seen. */
	p[18] = 0xf0;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 1, &d, &l), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 3, &d, &l), <, 0);
	/* An element longer than the block: the walk reports an error. */
	memcpy(p, one_byte, sizeof(p));
	p[23] = 0x5f; /* id 5, 16 bytes */
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 5, &d, &l), <, 0);
	size_t pos = 0;
	uint8_t id;
	g_assert_cmpint(stoa_rtp_ext_next(p, &i, &pos, &id, &d, &l), ==, 1);
	g_assert_cmpint(stoa_rtp_ext_next(p, &i, &pos, &id, &d, &l), ==, 1);
	g_assert_cmpint(stoa_rtp_ext_next(p, &i, &pos, &id, &d, &l), <, 0);
	g_assert_cmpint(stoa_rtp_ext_next(p, &i, &pos, &id, &d, &l), ==, 0);
	/* An unknown profile has no elements but the packet is valid. */
	memcpy(p, one_byte, sizeof(p));
	p[12] = 0x12;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 1, &d, &l), <, 0);
}

/*
 * Two-byte form (0x1000, appbits 0): id 1 len 0, id 20 len 3 "mid",
 * padding byte, id 200 len 2.
 */
static const uint8_t two_byte[] = {
	0x90, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2,
	0x10, 0x00, 0x00, 0x03,
	0x01, 0x00, 0x14, 0x03, 'm', 'i', 'd', 0x00, 0xc8, 0x02, 0xab, 0xcd,
	'x',
};

static void test_ext_two_byte(void)
{
	stoa_rtp_info i;
	const uint8_t *d;
	size_t l;
	g_assert_cmpint(stoa_rtp_parse(two_byte, sizeof(two_byte), &i), ==, 0);
	g_assert_cmpuint(i.ext_profile, ==, 0x1000);
	g_assert_cmpint(stoa_rtp_ext_find(two_byte, &i, 1, &d, &l), ==, 0);
	g_assert_cmpuint(l, ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(two_byte, &i, 20, &d, &l), ==, 0);
	g_assert_cmpuint(l, ==, 3);
	g_assert_cmpmem(d, 3, "mid", 3);
	g_assert_cmpint(stoa_rtp_ext_find(two_byte, &i, 200, &d, &l), ==, 0);
	g_assert_cmpuint(l, ==, 2);
	g_assert_cmpuint(stoa_be16(d), ==, 0xabcd);
	/* appbits in the low nibble of the profile are still the two-byte form */
	uint8_t p[sizeof(two_byte)];
	memcpy(p, two_byte, sizeof(p));
	p[13] = 0x0f;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 200, &d, &l), ==, 0);
	/* A length byte running past the block */
	p[25] = 0x09;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 200, &d, &l), <, 0);
	/* An id as the last byte, with no room for its length */
	memcpy(p, two_byte, sizeof(p));
	p[24] = 0x00, p[25] = 0x00, p[26] = 0x00, p[27] = 0x07;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 7, &d, &l), <, 0);
}

static void test_ext_set(void)
{
	uint8_t p[sizeof(one_byte)];
	memcpy(p, one_byte, sizeof(p));
	stoa_rtp_info i;
	const uint8_t *d;
	size_t l;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	const uint8_t seq[2] = { 0xbe, 0xef };
	g_assert_cmpint(stoa_rtp_ext_set_in_place(p, &i, 5, seq, 2), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(p, &i, 5, &d, &l), ==, 0);
	g_assert_cmpuint(stoa_be16(d), ==, 0xbeef);
	const uint8_t ast[3] = { 1, 2, 3 };
	g_assert_cmpint(stoa_rtp_ext_set_in_place(p, &i, 3, ast, 3), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_set_in_place(p, &i, 3, ast, 2), ==, -2);
	g_assert_cmpint(stoa_rtp_ext_set_in_place(p, &i, 9, ast, 3), ==, -1);
	/* Nothing else moved. */
	g_assert_cmpmem(p, 20, one_byte, 20);
	g_assert_cmpmem(p + 20, 3, ast, 3);
	g_assert_cmpuint(p[23], ==, one_byte[23]);
	g_assert_cmpmem(p + 26, sizeof(p) - 26, one_byte + 26, sizeof(p) - 26);

	uint8_t t[sizeof(two_byte)];
	memcpy(t, two_byte, sizeof(t));
	g_assert_cmpint(stoa_rtp_parse(t, sizeof(t), &i), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_set_in_place(t, &i, 20, (const uint8_t *)"abc", 3), ==, 0);
	g_assert_cmpint(stoa_rtp_ext_find(t, &i, 20, &d, &l), ==, 0);
	g_assert_cmpmem(d, l, "abc", 3);
}

static void test_setters(void)
{
	uint8_t p[sizeof(basic)];
	memcpy(p, basic, sizeof(p));
	g_assert_cmpint(stoa_rtp_set_seq(p, sizeof(p), 65535), ==, 0);
	g_assert_cmpint(stoa_rtp_set_ts(p, sizeof(p), 0xffffffff), ==, 0);
	g_assert_cmpint(stoa_rtp_set_ssrc(p, sizeof(p), 0x55667788), ==, 0);
	g_assert_cmpint(stoa_rtp_set_pt(p, sizeof(p), 111), ==, 0);
	g_assert_cmpint(stoa_rtp_set_pt(p, sizeof(p), 128), <, 0);
	g_assert_cmpint(stoa_rtp_set_seq(p, 11, 1), <, 0);
	stoa_rtp_info i;
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_cmpuint(i.seq, ==, 65535);
	g_assert_cmpuint(i.ts, ==, 0xffffffff);
	g_assert_cmpuint(i.ssrc, ==, 0x55667788);
	g_assert_cmpuint(i.pt, ==, 111);
	g_assert_true(i.marker); /* set_pt keeps the marker */
	g_assert_cmpint(stoa_rtp_set_marker(p, sizeof(p), false), ==, 0);
	g_assert_cmpint(stoa_rtp_parse(p, sizeof(p), &i), ==, 0);
	g_assert_false(i.marker);
	g_assert_cmpuint(i.pt, ==, 111);
	g_assert_cmpmem(p + 12, 3, "abc", 3);
}

static void test_demux(void)
{
	uint8_t stun[20] = { 0x00, 0x01 };
	uint8_t dtls[13] = { 22, 0xfe, 0xfd };
	uint8_t rtcp[8] = { 0x81, 201, 0, 1 };
	g_assert_cmpint(stoa_demux_classify(stun, sizeof(stun)), ==, STOA_DEMUX_STUN);
	g_assert_cmpint(stoa_demux_classify(stun, 19), ==, STOA_DEMUX_UNKNOWN);
	g_assert_cmpint(stoa_demux_classify(dtls, sizeof(dtls)), ==, STOA_DEMUX_DTLS);
	g_assert_cmpint(stoa_demux_classify(basic, sizeof(basic)), ==, STOA_DEMUX_RTP);
	g_assert_cmpint(stoa_demux_classify(basic, 11), ==, STOA_DEMUX_UNKNOWN);
	g_assert_cmpint(stoa_demux_classify(rtcp, sizeof(rtcp)), ==, STOA_DEMUX_RTCP);
	for (unsigned pt = 192; pt <= 223; pt++) {
		rtcp[1] = (uint8_t)pt;
		g_assert_cmpint(stoa_demux_classify(rtcp, sizeof(rtcp)), ==, STOA_DEMUX_RTCP);
	}
	/* PT 96 with the marker set is 224: RTP. */
	uint8_t m[12] = { 0x80, 0xe0 };
	g_assert_cmpint(stoa_demux_classify(m, sizeof(m)), ==, STOA_DEMUX_RTP);
	m[1] = 191;
	g_assert_cmpint(stoa_demux_classify(m, sizeof(m)), ==, STOA_DEMUX_RTP);
	uint8_t other[20] = { 17 };
	g_assert_cmpint(stoa_demux_classify(other, sizeof(other)), ==, STOA_DEMUX_UNKNOWN);
	other[0] = 64; /* TURN channel */
	g_assert_cmpint(stoa_demux_classify(other, sizeof(other)), ==, STOA_DEMUX_UNKNOWN);
	other[0] = 192; /* version 3 */
	g_assert_cmpint(stoa_demux_classify(other, sizeof(other)), ==, STOA_DEMUX_UNKNOWN);
	g_assert_cmpint(stoa_demux_classify(other, 0), ==, STOA_DEMUX_UNKNOWN);
}

static void test_seq(void)
{
	g_assert_true(stoa_seq_newer(0, 65535));
	g_assert_false(stoa_seq_newer(65535, 0));
	g_assert_cmpint(stoa_seq_diff(0, 65535), ==, 1);
	g_assert_cmpint(stoa_seq_diff(65535, 0), ==, -1);
	g_assert_cmpint(stoa_seq_diff(10, 65530), ==, 16);
	g_assert_cmpint(stoa_seq_diff(32767, 0), ==, 32767);
	/* Half the space apart: neither is newer. */
	g_assert_false(stoa_seq_newer(32768, 0));
	g_assert_false(stoa_seq_newer(0, 32768));
	g_assert_true(stoa_seq_newer_or_equal(5, 5));
	g_assert_cmpuint(stoa_seq_max(65535, 2), ==, 2);
	g_assert_cmpuint(stoa_seq_max(2, 65535), ==, 2);
	g_assert_true(stoa_ts_newer(5, 0xfffffff0u));
	g_assert_cmpint(stoa_ts_diff(5, 0xfffffff0u), ==, 21);
	g_assert_cmpint(stoa_ts_diff(0xfffffff0u, 5), ==, -21);

	g_assert_cmpuint(stoa_seq_extend(65535, 0), ==, 65536);
	g_assert_cmpuint(stoa_seq_extend(65536, 65535), ==, 65535);
	g_assert_cmpuint(stoa_seq_extend(3 * 65536 + 10, 5), ==, 3 * 65536 + 5);
	g_assert_cmpuint(stoa_seq_extend(2, 65534), ==, 65534); /* no cycle -1 */

	stoa_seq_unwrapper u = { 0 };
	g_assert_cmpuint(stoa_seq_unwrap(&u, 65534), ==, 65534);
	g_assert_cmpuint(stoa_seq_unwrap(&u, 65535), ==, 65535);
	g_assert_cmpuint(stoa_seq_unwrap(&u, 0), ==, 65536);
	g_assert_cmpuint(stoa_seq_unwrap(&u, 65533), ==, 65533); /* late, old cycle */
	g_assert_cmpuint(stoa_seq_unwrap(&u, 1), ==, 65537);
	g_assert_cmpuint(u.highest, ==, 65537);
}

static void test_ntp(void)
{
	/* 2001-09-09T01:46:40.5Z */
	int64_t us = INT64_C(1000000000) * 1000000 + 500000;
	uint64_t ntp = stoa_ntp_from_unix_us(us);
	g_assert_cmpuint(ntp >> 32, ==, 1000000000 + 2208988800u);
	g_assert_cmpuint(ntp & 0xffffffffu, ==, 0x80000000u);
	g_assert_cmpint(stoa_ntp_to_unix_us(ntp), ==, us);
	g_assert_cmpuint(stoa_ntp_mid(ntp), ==, (uint32_t)(((1000000000 + 2208988800u) & 0xffff) << 16 | 0x8000));
	g_assert_cmpuint(stoa_ntp_units_from_us(1000000), ==, 65536);
	g_assert_cmpuint(stoa_ntp_units_from_us(-5), ==, 0);
	g_assert_cmpint(stoa_ntp_units_to_us(32768), ==, 500000);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp/basic", test_basic);
	g_test_add_func("/rtp/bad", test_bad);
	g_test_add_func("/rtp/csrc", test_csrc);
	g_test_add_func("/rtp/padding", test_padding);
	g_test_add_func("/rtp/ext/one-byte", test_ext_one_byte);
	g_test_add_func("/rtp/ext/one-byte-edge", test_ext_one_byte_edge);
	g_test_add_func("/rtp/ext/two-byte", test_ext_two_byte);
	g_test_add_func("/rtp/ext/set-in-place", test_ext_set);
	g_test_add_func("/rtp/setters", test_setters);
	g_test_add_func("/rtp/demux", test_demux);
	g_test_add_func("/rtp/seq", test_seq);
	g_test_add_func("/rtp/ntp", test_ntp);
	return g_test_run();
}
