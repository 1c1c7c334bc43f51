/*
 * rtp.c: see rtp.h. RFC 3550 section 5.1 (header), section 5.3.1 and
 * appendix A.1 (validity checks), RFC 8285 sections 4.2 and 4.3 (one-byte
 * and two-byte extension elements).
 */
#include <string.h>

#include "media/rtp/rtp.h"

/* The extension block: a 4-byte header (profile, length in words), then data. */
static int parse_extension(const uint8_t *buf, size_t len, size_t *off, stoa_rtp_info *out)
{
	if (*off + 4 > len)
		return -1;
	out->ext_profile = stoa_be16(buf + *off);
	size_t words = stoa_be16(buf + *off + 2);
	out->ext_off = *off + 4;
	out->ext_len = words * 4;
	if (out->ext_off + out->ext_len > len)
		return -1;
	*off = out->ext_off + out->ext_len;
	return 0;
}

int stoa_rtp_parse(const uint8_t *buf, size_t len, stoa_rtp_info *out)
{
	if (len < STOA_RTP_HEADER_LEN)
		return -1;
	memset(out, 0, sizeof(*out));
	out->version = buf[0] >> 6;
	if (out->version != STOA_RTP_VERSION)
		return -1;
	out->padding = (buf[0] & 0x20) != 0;
	out->extension = (buf[0] & 0x10) != 0;
	out->csrc_count = buf[0] & 0x0f;
	out->marker = (buf[1] & 0x80) != 0;
	out->pt = buf[1] & 0x7f;
	out->seq = stoa_be16(buf + 2);
	out->ts = stoa_be32(buf + 4);
	out->ssrc = stoa_be32(buf + 8);

	size_t off = STOA_RTP_HEADER_LEN + 4 * (size_t)out->csrc_count;
	if (off > len)
		return -1;
	if (out->extension && parse_extension(buf, len, &off, out) < 0)
		return -1;
	out->header_len = off;
	out->payload_off = off;
	size_t rest = len - off;
	if (out->padding) {
		/* The last octet counts the padding, itself included (5.1). */
		if (rest == 0 || buf[len - 1] == 0 || buf[len - 1] > rest)
			return -1;
		out->padding_len = buf[len - 1];
	}
	out->payload_len = rest - out->padding_len;
	return 0;
}

/* One-byte form: 4-bit id, 4-bit length-minus-one; id 0 is a padding byte. */
static int next_one_byte(const uint8_t *p, size_t end, size_t *pos, uint8_t *id,
			 const uint8_t **data, size_t *len)
{
	while (*pos < end && p[*pos] == 0)
		(*pos)++;
	if (*pos >= end)
		return 0;
	uint8_t b = p[*pos];
	if ((b >> 4) == 15) {
		/* Reserved id: stop processing the block (RFC 8285 4.2). */
		*pos = end;
		return 0;
	}
	size_t l = (size_t)(b & 0x0f) + 1;
	if (*pos + 1 + l > end) {
		*pos = end;
		return -1;
	}
	*id = b >> 4;
	*data = p + *pos + 1;
	*len = l;
	*pos += 1 + l;
	return 1;
}

/* Two-byte form: 8-bit id, 8-bit length (may be 0); id 0 is a padding byte. */
static int next_two_byte(const uint8_t *p, size_t end, size_t *pos, uint8_t *id,
			 const uint8_t **data, size_t *len)
{
	while (*pos < end && p[*pos] == 0)
		(*pos)++;
	if (*pos >= end)
		return 0;
	if (*pos + 2 > end) {
		*pos = end;
		return -1;
	}
	size_t l = p[*pos + 1];
	if (*pos + 2 + l > end) {
		*pos = end;
		return -1;
	}
	*id = p[*pos];
	*data = p + *pos + 2;
	*len = l;
	*pos += 2 + l;
	return 1;
}

int stoa_rtp_ext_next(const uint8_t *buf, const stoa_rtp_info *info, size_t *pos,
		      uint8_t *id, const uint8_t **data, size_t *len)
{
	if (!info->extension)
		return 0;
	const uint8_t *p = buf + info->ext_off;
	if (info->ext_profile == STOA_RTP_EXT_ONE_BYTE)
		return next_one_byte(p, info->ext_len, pos, id, data, len);
	if ((info->ext_profile & STOA_RTP_EXT_TWO_BYTE_MASK) == STOA_RTP_EXT_TWO_BYTE)
		return next_two_byte(p, info->ext_len, pos, id, data, len);
	return 0;
}

int stoa_rtp_ext_find(const uint8_t *buf, const stoa_rtp_info *info, uint8_t id,
		      const uint8_t **data, size_t *len)
{
	size_t pos = 0;
	uint8_t eid;
	const uint8_t *d;
	size_t l;
	if (id == 0)
		return -1;
	while (stoa_rtp_ext_next(buf, info, &pos, &eid, &d, &l) > 0) {
		if (eid == id) {
			*data = d;
			*len = l;
			return 0;
		}
	}
	return -1;
}

int stoa_rtp_ext_set_in_place(uint8_t *buf, const stoa_rtp_info *info, uint8_t id,
			      const uint8_t *data, size_t len)
{
	const uint8_t *d;
	size_t l;
	if (stoa_rtp_ext_find(buf, info, id, &d, &l) < 0)
		return -1;
	if (l != len)
		return -2;
	/* d points into buf: write through the caller's mutable pointer. */
	memcpy(buf + (d - buf), data, len);
	return 0;
}
