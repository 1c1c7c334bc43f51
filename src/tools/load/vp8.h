/*
 * vp8.h: the VP8 RTP packetizer (RFC 7741). One frame becomes packets of
 * about equal size, each with a 4-byte payload descriptor carrying a 15-bit
 * PictureID (the field SFUs rewrite when they switch sources), S=1 and
 * partition index 0 on the first packet of the frame, so a receiver finds
 * the frame start and, from the VP8 header right after it, the keyframes.
 *
 * Owner: one publisher; used on its worker thread only. No allocation.
 */
#ifndef LOAD_VP8_H
#define LOAD_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_VP8_DESCRIPTOR 4

typedef struct load_vp8 {
	uint16_t picture_id;	/* 15 bits, one per frame */
	const uint8_t *frame;	/* the frame being cut (borrowed) */
	size_t len, off;
	size_t chunk;		/* payload bytes per packet for this frame */
} load_vp8;

void load_vp8_init(load_vp8 *v, uint16_t first_picture_id);

/* Starts cutting a frame into packets whose payload (descriptor included)
 * is at most max_payload bytes. Returns the number of packets. */
unsigned load_vp8_begin(load_vp8 *v, const uint8_t *frame, size_t len, size_t max_payload);

/* Writes the next payload (descriptor + bytes) into out (at least
 * max_payload bytes). Returns its length, 0 when the frame is done; *last
 * is set on the frame's final packet (the RTP marker goes there). */
size_t load_vp8_next(load_vp8 *v, uint8_t *out, bool *last);

#endif
