/*
 * keyframe.c: see keyframe.h for the request limiter's rules and the
 * payload formats the detectors read.
 */
#include "media/rtp/keyframe.h"

#define DEFAULT_INTERVAL_US 1000000

void stoa_keyframe_limiter_init(stoa_keyframe_limiter *k, int64_t interval_us)
{
	k->interval_us = interval_us > 0 ? interval_us : DEFAULT_INTERVAL_US;
	k->last_us = 0;
	k->pending = false;
	k->fir_seq = 0;
	k->requests = 0;
	k->sent = 0;
}

static bool interval_over(const stoa_keyframe_limiter *k, int64_t now_us)
{
	return k->sent == 0 || now_us - k->last_us >= k->interval_us;
}

static void let_through(stoa_keyframe_limiter *k, int64_t now_us)
{
	k->last_us = now_us;
	k->pending = false;
	k->sent++;
}

bool stoa_keyframe_limiter_request(stoa_keyframe_limiter *k, int64_t now_us)
{
	k->requests++;
	if (interval_over(k, now_us)) {
		let_through(k, now_us);
		return true;
	}
	k->pending = true;
	return false;
}

bool stoa_keyframe_limiter_poll(stoa_keyframe_limiter *k, int64_t now_us)
{
	if (!k->pending || !interval_over(k, now_us))
		return false;
	let_through(k, now_us);
	return true;
}

void stoa_keyframe_limiter_on_keyframe(stoa_keyframe_limiter *k)
{
	k->pending = false;
}

uint8_t stoa_keyframe_limiter_next_fir_seq(stoa_keyframe_limiter *k)
{
	return ++k->fir_seq;
}

/* ------------------------------------------------------------ VP8 */

bool stoa_vp8_is_keyframe(const uint8_t *p, size_t len)
{
	if (len < 1)
		return false;
	/* Only the first packet of partition 0 (S=1, PID=0) has the frame tag. */
	bool start = (p[0] & 0x10) != 0;
	if (!start || (p[0] & 0x07) != 0)
		return false;
	size_t off = 1;
	if (p[0] & 0x80) { /* X: extension byte I L T K */
		if (len < 2)
			return false;
		uint8_t x = p[1];
		off = 2;
		if (x & 0x80) { /* I: PictureID, 15 bits when M is set */
			if (off >= len)
				return false;
			off += (p[off] & 0x80) ? 2 : 1;
		}
		if (x & 0x40) /* L: TL0PICIDX */
			off++;
		if (x & 0x30) /* T or K: TID/Y/KEYIDX */
			off++;
	}
	/* The frame tag (3 bytes) and, for a keyframe, the start code
	 * 9d 01 2a and dimensions: 10 bytes (RFC 6386 9.1). */
	if (off + 10 > len)
		return false;
	if (p[off] & 0x01) /* P: 0 for keyframes */
		return false;
	return p[off + 3] == 0x9d && p[off + 4] == 0x01 && p[off + 5] == 0x2a;
}

/* ------------------------------------------------------------ VP9 */

bool stoa_vp9_is_keyframe(const uint8_t *p, size_t len)
{
	if (len < 1)
		return false;
	uint8_t b = p[0];
	bool predicted = (b & 0x40) != 0; /* P */
	bool begins = (b & 0x08) != 0;    /* B */
	if (predicted || !begins)
		return false;
	size_t off = 1;
	if (b & 0x80) { /* I: picture ID, 15 bits when M is set */
		if (off >= len)
			return false;
		off += (p[off] & 0x80) ? 2 : 1;
	}
	if (b & 0x20) { /* L: TID U SID D; only spatial layer 0 starts a keyframe */
		if (off >= len)
			return false;
		return ((p[off] >> 1) & 0x07) == 0;
	}
	return true;
}

/* ------------------------------------------------------------ H.264 */

#define H264_IDR 5
#define H264_SPS 7
#define H264_STAP_A 24
#define H264_FU_A 28

static bool h264_key_nal(uint8_t type)
{
	return type == H264_IDR || type == H264_SPS;
}

bool stoa_h264_is_keyframe(const uint8_t *p, size_t len)
{
	if (len < 1)
		return false;
	uint8_t type = p[0] & 0x1f;
	if (type >= 1 && type <= 23)
		return h264_key_nal(type);
	if (type == H264_STAP_A) {
		/* NAL units each preceded by a 16-bit size (RFC 6184 5.7.1). */
		size_t off = 1;
		while (off + 2 < len) {
			size_t sz = ((size_t)p[off] << 8) | p[off + 1];
			off += 2;
			if (sz == 0 || off + sz > len)
				return false;
			if (h264_key_nal(p[off] & 0x1f))
				return true;
			off += sz;
		}
		return false;
	}
	if (type == H264_FU_A) {
		/* FU header: S E R type; only the start fragment counts (5.8). */
		return len >= 2 && (p[1] & 0x80) && h264_key_nal(p[1] & 0x1f);
	}
	return false;
}

/* ------------------------------------------------------------ AV1 */

#define AV1_OBU_SEQUENCE_HEADER 1

bool stoa_av1_is_keyframe(const uint8_t *p, size_t len)
{
	if (len < 2)
		return false;
	uint8_t agg = p[0];
	if (agg & 0x08) /* N: first packet of a coded video sequence */
		return true;
	if (agg & 0x80) /* Z: the first element continues an earlier OBU */
		return false;
	size_t off = 1;
	unsigned w = (agg >> 4) & 0x03;
	if (w != 1) {
		/* A LEB128 length precedes the first element unless it is the
		 * only one (W=1). */
		unsigned i = 0;
		while (off < len && (p[off] & 0x80) && i < 8) {
			off++;
			i++;
		}
		off++;
	}
	if (off >= len)
		return false;
	return ((p[off] >> 3) & 0x0f) == AV1_OBU_SEQUENCE_HEADER;
}

bool stoa_is_keyframe(stoa_video_codec codec, const uint8_t *payload, size_t len)
{
	switch (codec) {
	case STOA_CODEC_VP8:
		return stoa_vp8_is_keyframe(payload, len);
	case STOA_CODEC_VP9:
		return stoa_vp9_is_keyframe(payload, len);
	case STOA_CODEC_H264:
		return stoa_h264_is_keyframe(payload, len);
	case STOA_CODEC_AV1:
		return stoa_av1_is_keyframe(payload, len);
	default:
		return false;
	}
}
