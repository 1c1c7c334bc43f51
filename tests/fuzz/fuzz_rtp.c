/*
 * fuzz_rtp.c: arbitrary bytes as an RTP packet, through everything that
 * reads one: the parser, the extension walk and lookup for every id, the
 * in-place extension rewrite, the keyframe detectors, RTX wrapping and
 * unwrapping. The same bytes, read as a list of (sequence number, flags)
 * records, also drive the NACK generator and the receive statistics, so
 * their state machines see wraps, jumps and reordering the fuzzer picks.
 * Invariants checked: parse results stay inside the buffer; an extension
 * found is found again with the same bytes; wrap then unwrap gives back
 * the original packet.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "media/rtp/demux.h"
#include "media/rtp/keyframe.h"
#include "media/rtp/nack_gen.h"
#include "media/rtp/rtp.h"
#include "media/rtp/rtp_stats.h"
#include "media/rtp/rtx_buffer.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			abort(); \
	} while (0)

static void check_extensions(const uint8_t *buf, size_t len, const stoa_rtp_info *info)
{
	size_t pos = 0;
	uint8_t id;
	const uint8_t *d;
	size_t l;
	int rc;
	while ((rc = stoa_rtp_ext_next(buf, info, &pos, &id, &d, &l)) > 0) {
		CHECK(d >= buf && d + l <= buf + info->header_len);
		CHECK(pos <= info->ext_len);
	}
	for (unsigned i = 1; i < 256; i++) {
		if (stoa_rtp_ext_find(buf, info, (uint8_t)i, &d, &l) == 0) {
			CHECK(d >= buf + info->ext_off && d + l <= buf + info->ext_off + info->ext_len);
			/* Rewriting with its own value changes nothing. */
			uint8_t *copy = g_memdup2(buf, len);
			CHECK(stoa_rtp_ext_set_in_place(copy, info, (uint8_t)i, d, l) == 0);
			CHECK(memcmp(copy, buf, len) == 0);
			g_free(copy);
		}
	}
}

static void check_rtx(const uint8_t *buf, size_t len, const stoa_rtp_info *info)
{
	uint8_t out[2048];
	int n = stoa_rtx_wrap(buf, len, 97, 0x1234, 7, out, sizeof(out));
	if (n < 0)
		return;
	CHECK((size_t)n == info->header_len + 2 + info->payload_len);
	size_t l = (size_t)n;
	CHECK(stoa_rtx_unwrap_in_place(out, &l, info->pt, info->ssrc) == 0);
	CHECK(l == info->header_len + info->payload_len);
	CHECK(memcmp(out + 1, buf + 1, l - 1) == 0);
	CHECK((out[0] & ~0x20) == (buf[0] & ~0x20));
}

static void check_packet(const uint8_t *buf, size_t len)
{
	stoa_rtp_info info;
	(void)stoa_demux_classify(buf, len);
	if (stoa_rtp_parse(buf, len, &info) < 0)
		return;
	CHECK(info.header_len <= len);
	CHECK(info.payload_off + info.payload_len + info.padding_len == len);
	check_extensions(buf, len, &info);
	const uint8_t *pl = buf + info.payload_off;
	for (int c = STOA_CODEC_VP8; c <= STOA_CODEC_AV1; c++)
		(void)stoa_is_keyframe((stoa_video_codec)c, pl, info.payload_len);
	check_rtx(buf, len, &info);

	/* One buffer for the whole run: creating one per input would dominate. */
	static stoa_rtx_buffer *rb;
	if (rb == NULL)
		rb = stoa_rtx_buffer_new(NULL);
	stoa_rtx_buffer_clear(rb);
	if (stoa_rtx_buffer_store(rb, buf, len, 1) == 0) {
		size_t l;
		const uint8_t *p = stoa_rtx_buffer_peek(rb, info.seq, 2, &l);
		CHECK(p != NULL && l == len && memcmp(p, buf, len) == 0);
	}
}

/* Records of 3 bytes: sequence number, then flags (bit 0: RTX, bits 1-7:
 * milliseconds to advance the clock). Polls after every record. */
static void drive_streams(const uint8_t *data, size_t size)
{
	static stoa_nack_gen g;
	stoa_rtp_recv_stats s;
	stoa_nack_gen_init(&g, NULL);
	stoa_rtp_recv_stats_init(&s, 90000);
	int64_t now = 0;
	uint16_t out[STOA_NACK_GEN_SLOTS];
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint16_t seq = (uint16_t)(data[i] << 8 | data[i + 1]);
		bool rtx = data[i + 2] & 1;
		now += (int64_t)(data[i + 2] >> 1) * 1000;
		(void)stoa_nack_gen_received(&g, seq, rtx, now);
		CHECK(stoa_nack_gen_missing(&g) < STOA_NACK_GEN_SLOTS);
		size_t n = stoa_nack_gen_poll(&g, now, data[i + 2], out, G_N_ELEMENTS(out));
		CHECK(n <= G_N_ELEMENTS(out));
		if (!rtx)
			(void)stoa_rtp_recv_stats_update(&s, seq, (uint32_t)(now * 90), 100, now);
	}
	stoa_rtcp_report_block rb;
	(void)stoa_rtp_recv_stats_report(&s, 1, now, &rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* Copy so that ASan sees reads past the real length. */
	uint8_t *buf = g_memdup2(data, size);
	check_packet(buf, size);
	drive_streams(buf, size);
	g_free(buf);
	return 0;
}
