/*
 * media.h: the pre-encoded media the publishers send, read once at start-up
 * into memory and then shared read-only by every publisher on every thread.
 *
 * A track is a list of frames (video: one VP8 picture; audio: one Opus
 * packet) with timestamps in the RTP clock of the codec (90 kHz for VP8,
 * 48 kHz for Opus), counted from the first frame. `loop_len` is the length
 * of one pass in the same clock, so a publisher that loops keeps its RTP
 * timestamps running on: pass k, frame i has k * loop_len + ts[i].
 *
 * Readers (ivf.c, ogg.c) check every header and size against the file's
 * real length and against fixed limits; a bad file is an error, never a
 * read out of bounds.
 */
#ifndef LOAD_MEDIA_H
#define LOAD_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_MEDIA_MAX_FILE (512u * 1024 * 1024)
#define LOAD_MEDIA_MAX_FRAME (4u * 1024 * 1024)

typedef struct load_frame {
	size_t off;	/* into load_track.data */
	uint32_t len;
	int64_t ts;	/* RTP clock units from the first frame */
	bool key;	/* VP8 keyframe (always false for audio) */
} load_frame;

typedef struct load_track {
	uint8_t *data;		/* owned */
	size_t data_len;
	load_frame *frames;	/* owned, n of them */
	size_t n;
	size_t keyframes;
	uint32_t clock;		/* 90000 or 48000 */
	int64_t loop_len;	/* clock units of one pass; > last ts */
	int width, height;	/* video only */
} load_track;

/* VP8 in IVF. Returns 0, or -1 with a message in err. */
int load_ivf_read(const char *path, load_track *t, char *err, size_t errlen);

/* The first Opus stream of an Ogg file (RFC 7845). Returns 0 or -1. */
int load_ogg_opus_read(const char *path, load_track *t, char *err, size_t errlen);

/* Samples at 48 kHz in one Opus packet, from its TOC (RFC 6716 §3.1);
 * 0 if the packet is malformed. */
unsigned load_opus_packet_samples(const uint8_t *p, size_t len);

/* Reads a whole file, refusing one larger than max. g_free() the result. */
int load_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err,
		   size_t errlen);

void load_track_clear(load_track *t);

#endif
