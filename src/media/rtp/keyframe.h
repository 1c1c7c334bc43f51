/*
 * keyframe.h: keyframe requests and keyframe detection.
 *
 * The limiter lets a stream's PLI/FIR requests (RFC 4585 6.3.1, RFC 5104
 * 4.3.1) through at most once per interval: every subscriber of a
 * publisher may ask after a loss or a layer switch, and the publisher
 * should see one request, not one per subscriber. A request refused inside
 * the interval is remembered and let through when the interval ends,
 * unless a keyframe arrived meanwhile. FIR carries a sequence number that
 * increases per new request (RFC 5104 4.3.1.1); the limiter owns it.
 *
 * Detection looks at the first bytes of an RTP payload and says whether
 * the packet starts a keyframe:
 *   VP8   RFC 7741 4.2 (payload descriptor) and 4.3 (P bit of the frame tag)
 *   VP9   RFC 9628 4.2 (P and B bits, spatial layer 0)
 *   H.264 RFC 6184 5.6 to 5.8 (IDR or SPS NAL, in a STAP-A or a FU-A start)
 *   AV1   AV1 RTP payload format, aggregation header (N bit) or a leading
 *         sequence header OBU
 *
 * Plain data and pure functions: the limiter is owned by its stream's
 * thread, detection runs anywhere.
 */
#ifndef STOA_MEDIA_RTP_KEYFRAME_H
#define STOA_MEDIA_RTP_KEYFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct stoa_keyframe_limiter {
	int64_t interval_us;
	int64_t last_us;  /* when a request last went out (if sent > 0) */
	bool pending;     /* one was refused and is still wanted */
	uint8_t fir_seq;  /* of the last FIR sent */
	uint64_t requests, sent; /* counters: asked for, let through */
} stoa_keyframe_limiter;

/* interval_us <= 0 takes the default of one second. */
void stoa_keyframe_limiter_init(stoa_keyframe_limiter *k, int64_t interval_us);

/* Someone wants a keyframe: true when the request should be sent now. */
bool stoa_keyframe_limiter_request(stoa_keyframe_limiter *k, int64_t now_us);

/* Call periodically: true when a refused request is now due. */
bool stoa_keyframe_limiter_poll(stoa_keyframe_limiter *k, int64_t now_us);

/* A keyframe arrived: a refused request is no longer needed. */
void stoa_keyframe_limiter_on_keyframe(stoa_keyframe_limiter *k);

/* The sequence number for the FIR about to be sent (advances it). */
uint8_t stoa_keyframe_limiter_next_fir_seq(stoa_keyframe_limiter *k);

typedef enum stoa_video_codec {
	STOA_CODEC_UNKNOWN = 0,
	STOA_CODEC_VP8,
	STOA_CODEC_VP9,
	STOA_CODEC_H264,
	STOA_CODEC_AV1,
} stoa_video_codec;

bool stoa_vp8_is_keyframe(const uint8_t *payload, size_t len);
bool stoa_vp9_is_keyframe(const uint8_t *payload, size_t len);
bool stoa_h264_is_keyframe(const uint8_t *payload, size_t len);
bool stoa_av1_is_keyframe(const uint8_t *payload, size_t len);
bool stoa_is_keyframe(stoa_video_codec codec, const uint8_t *payload, size_t len);

#endif
