/*
 * vp8.c: RFC 7741 packetization; see vp8.h.
 *
 * The descriptor (RFC 7741 §4.2) is always the extended form:
 *   byte 0: X=1, R=0, N=0, S (start of partition), R=0, PID=0
 *   byte 1: I=1 (PictureID present), L=T=K=0
 *   bytes 2-3: M=1 and the 15-bit PictureID
 * Every packet of a frame carries the same PictureID; S is set only on the
 * first one, since the tool does not split partitions.
 */
#include "vp8.h"

#include <string.h>

void load_vp8_init(load_vp8 *v, uint16_t first_picture_id)
{
	memset(v, 0, sizeof(*v));
	v->picture_id = first_picture_id & 0x7fff;
}

unsigned load_vp8_begin(load_vp8 *v, const uint8_t *frame, size_t len, size_t max_payload)
{
	size_t room = max_payload - LOAD_VP8_DESCRIPTOR;
	size_t n = (len + room - 1) / room;
	if (n == 0)
		n = 1;
	v->frame = frame;
	v->len = len;
	v->off = 0;
	/* Equal packets rather than full ones and a runt: the same count,
	 * and no tiny last packet to be lost on its own. */
	v->chunk = (len + n - 1) / n;
	return (unsigned)n;
}

size_t load_vp8_next(load_vp8 *v, uint8_t *out, bool *last)
{
	if (v->frame == NULL || v->off >= v->len)
		return 0;
	size_t n = v->len - v->off;
	if (n > v->chunk)
		n = v->chunk;
	out[0] = 0x80 | (v->off == 0 ? 0x10 : 0x00);
	out[1] = 0x80;
	out[2] = (uint8_t)(0x80 | (v->picture_id >> 8));
	out[3] = (uint8_t)(v->picture_id & 0xff);
	memcpy(out + LOAD_VP8_DESCRIPTOR, v->frame + v->off, n);
	v->off += n;
	*last = v->off >= v->len;
	if (*last) {
		v->picture_id = (v->picture_id + 1) & 0x7fff;
		v->frame = NULL;
	}
	return n + LOAD_VP8_DESCRIPTOR;
}
