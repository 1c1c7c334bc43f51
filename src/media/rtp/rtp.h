/*
 * rtp.h: RTP packets read and rewritten where they lie (RFC 3550 section
 * 5.1), with header extensions in both the one-byte and the two-byte form
 * (RFC 8285, which obsoletes RFC 5285).
 *
 * Design: stoa_rtp_parse() validates the fixed header, the CSRC list, the
 * extension block and the padding once, and records offsets into the
 * caller's buffer in a stoa_rtp_info. Nothing is allocated or copied; the
 * info is only meaningful together with the buffer it was parsed from.
 * Every later accessor takes both and stays inside the bounds the parse
 * established, so a forwarding path can parse once and then rewrite
 * sequence number, timestamp, SSRC, payload type or an extension value in
 * place. Pure functions on buffers: any thread.
 */
#ifndef STOA_MEDIA_RTP_RTP_H
#define STOA_MEDIA_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtp/bytes.h"

#define STOA_RTP_VERSION 2
#define STOA_RTP_HEADER_LEN 12
/* "defined by profile" values of the extension block (RFC 8285 4.2, 4.3). */
#define STOA_RTP_EXT_ONE_BYTE 0xBEDE
#define STOA_RTP_EXT_TWO_BYTE 0x1000
#define STOA_RTP_EXT_TWO_BYTE_MASK 0xFFF0

/* What stoa_rtp_parse() found. Offsets count from the start of the buffer. */
typedef struct stoa_rtp_info {
	uint8_t version;
	bool padding;      /* the P bit */
	bool extension;    /* the X bit */
	bool marker;
	uint8_t csrc_count;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t header_len;  /* fixed header + CSRCs + extension block */
	size_t payload_off; /* == header_len */
	size_t payload_len; /* without padding */
	size_t padding_len; /* 0 unless the P bit is set */
	uint16_t ext_profile; /* 0 when there is no extension block */
	size_t ext_off;     /* first byte after the 4-byte extension header */
	size_t ext_len;     /* bytes of extension data (a multiple of 4) */
} stoa_rtp_info;

/*
 * Parses and validates an RTP packet. Returns 0, or negative when the
 * version is not 2, the header, CSRC list or extension block runs past the
 * end, or the padding count is 0 or larger than what follows the header.
 * A packet whose payload is empty (all padding, as in probing) is valid.
 */
int stoa_rtp_parse(const uint8_t *buf, size_t len, stoa_rtp_info *out);

/* The i-th CSRC; i < info->csrc_count. */
static inline uint32_t stoa_rtp_csrc(const uint8_t *buf, unsigned i)
{
	return stoa_be32(buf + STOA_RTP_HEADER_LEN + 4 * i);
}

/*
 * Walks the elements of the extension block. Start with *pos = 0; each call
 * returns 1 with the next element's id, data and length, 0 at the end, or
 * negative when an element runs past the block (the walk then stops).
 * Padding bytes are skipped; in the one-byte form id 15 ends the walk
 * (RFC 8285 4.2). Blocks of other profiles have no elements.
 */
int stoa_rtp_ext_next(const uint8_t *buf, const stoa_rtp_info *info, size_t *pos,
		      uint8_t *id, const uint8_t **data, size_t *len);

/* Finds extension element `id`: 0 with its data and length, or negative. */
int stoa_rtp_ext_find(const uint8_t *buf, const stoa_rtp_info *info, uint8_t id,
		      const uint8_t **data, size_t *len);

/*
 * Overwrites the value of extension element `id` with `len` bytes, which
 * must be its current length (as when rewriting abs-send-time or a
 * transport-wide sequence number). Returns 0; -1 when absent, -2 when the
 * lengths differ.
 */
int stoa_rtp_ext_set_in_place(uint8_t *buf, const stoa_rtp_info *info, uint8_t id,
			      const uint8_t *data, size_t len);

/*
 * Rewriters of the fixed header. They need only the 12 fixed bytes, so they
 * check `len` against that and return 0, or -1 for a shorter buffer.
 */
static inline int stoa_rtp_set_seq(uint8_t *buf, size_t len, uint16_t seq)
{
	if (len < STOA_RTP_HEADER_LEN)
		return -1;
	stoa_put_be16(buf + 2, seq);
	return 0;
}

static inline int stoa_rtp_set_ts(uint8_t *buf, size_t len, uint32_t ts)
{
	if (len < STOA_RTP_HEADER_LEN)
		return -1;
	stoa_put_be32(buf + 4, ts);
	return 0;
}

static inline int stoa_rtp_set_ssrc(uint8_t *buf, size_t len, uint32_t ssrc)
{
	if (len < STOA_RTP_HEADER_LEN)
		return -1;
	stoa_put_be32(buf + 8, ssrc);
	return 0;
}

static inline int stoa_rtp_set_pt(uint8_t *buf, size_t len, uint8_t pt)
{
	if (len < STOA_RTP_HEADER_LEN || pt > 127)
		return -1;
	buf[1] = (uint8_t)((buf[1] & 0x80) | pt);
	return 0;
}

static inline int stoa_rtp_set_marker(uint8_t *buf, size_t len, bool marker)
{
	if (len < STOA_RTP_HEADER_LEN)
		return -1;
	buf[1] = (uint8_t)((buf[1] & 0x7f) | (marker ? 0x80 : 0));
	return 0;
}

/*
 * Values of common extensions, from the data stoa_rtp_ext_find() returned.
 * Each returns 0, or -1 when the length is not the one the extension uses.
 */
/* abs-send-time: 24 bits, 6.18 fixed-point seconds. */
static inline int stoa_rtp_ext_abs_send_time(const uint8_t *d, size_t len, uint32_t *v)
{
	if (len != 3)
		return -1;
	*v = stoa_be24(d);
	return 0;
}

/* Transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 section 2): 16 bits. */
static inline int stoa_rtp_ext_twcc_seq(const uint8_t *d, size_t len, uint16_t *v)
{
	if (len != 2)
		return -1;
	*v = stoa_be16(d);
	return 0;
}

/* Client-to-mixer audio level (RFC 6464 section 3): V flag and -dBov. */
static inline int stoa_rtp_ext_audio_level(const uint8_t *d, size_t len, bool *voice,
					   uint8_t *level)
{
	if (len < 1)
		return -1;
	*voice = (d[0] & 0x80) != 0;
	*level = d[0] & 0x7f;
	return 0;
}

#endif
