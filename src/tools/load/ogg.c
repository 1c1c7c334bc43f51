/*
 * ogg.c: reads the Opus packets of an Ogg Opus file (RFC 3533 pages,
 * RFC 7845 mapping), the format ffmpeg, opusenc and PyAV write.
 *
 * Only the first logical stream is read; its first packet must be an
 * OpusHead, the second (OpusTags) is skipped, every further packet is one
 * RTP payload. Timestamps come from each packet's own duration (its TOC
 * byte, RFC 6716 §3.1), not from granule positions, so a file with odd
 * granules still plays at the right rate. Page CRCs are not checked: a
 * corrupt page gives odd audio, never a read out of bounds.
 */
#include "media.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "load.h"

#define OGG_PAGE_HEADER 27
#define OPUS_MAX_PACKET 8000	/* 120 ms of the highest bitrate fits easily */
#define OGG_MAX_PACKETS 2000000

typedef struct ogg_reader {
	load_track *t;
	GByteArray *out;	/* the packets, back to back */
	GArray *frames;
	uint8_t pkt[OPUS_MAX_PACKET];
	size_t pkt_len;
	bool pkt_too_big;	/* the packet being assembled overflowed: drop it */
	unsigned packets;	/* packets seen, headers included */
	unsigned bad;
	int64_t ts;
} ogg_reader;

unsigned load_opus_packet_samples(const uint8_t *p, size_t len)
{
	static const unsigned silk[4] = {480, 960, 1920, 2880};
	static const unsigned celt[4] = {120, 240, 480, 960};
	if (len < 1)
		return 0;
	unsigned config = p[0] >> 3;
	unsigned frame = config < 12 ? silk[config & 3]
			 : config < 16 ? ((config & 1) ? 960 : 480)
				       : celt[config & 3];
	unsigned frames;
	switch (p[0] & 3) {
	case 0: frames = 1; break;
	case 1:
	case 2: frames = 2; break;
	default:
		if (len < 2)
			return 0;
		frames = p[1] & 0x3f;
		break;
	}
	unsigned samples = frames * frame;
	/* RFC 6716 §3.2.5: a packet holds at most 120 ms. */
	return samples == 0 || samples > 5760 ? 0 : samples;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int take_packet(ogg_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->pkt;
	size_t len = r->pkt_len;
	unsigned index = r->packets++;
	if (index == 0) {
		/* RFC 7845 §5.1: magic, version (major 0), channels >= 1. */
		if (len < 19 || memcmp(p, "OpusHead", 8) != 0 || (p[8] & 0xf0) != 0 ||
		    p[9] == 0) {
			snprintf(err, errlen, "Ogg: the first stream is not Opus (no OpusHead)");
			return -1;
		}
		return 0;
	}
	if (index == 1)
		return 0;	/* OpusTags */
	unsigned samples = load_opus_packet_samples(p, len);
	if (samples == 0) {
		r->bad++;
		return 0;
	}
	if (r->frames->len >= OGG_MAX_PACKETS) {
		snprintf(err, errlen, "Ogg: more than %d packets", OGG_MAX_PACKETS);
		return -1;
	}
	load_frame f = {.off = r->out->len, .len = (uint32_t)len, .ts = r->ts};
	g_byte_array_append(r->out, p, (guint)len);
	g_array_append_val(r->frames, f);
	r->ts += samples;
	return 0;
}

static void add_segment(ogg_reader *r, const uint8_t *seg, size_t n)
{
	if (r->pkt_too_big || n > sizeof(r->pkt) - r->pkt_len) {
		r->pkt_too_big = true;
		return;
	}
	memcpy(r->pkt + r->pkt_len, seg, n);
	r->pkt_len += n;
}

static int end_packet(ogg_reader *r, char *err, size_t errlen)
{
	int rc = 0;
	if (r->pkt_too_big)
		r->bad++;
	else
		rc = take_packet(r, err, errlen);
	r->pkt_len = 0;
	r->pkt_too_big = false;
	return rc;
}

/* One page: its segments continue or end packets. Returns the page's size,
 * 0 at a truncated end, -1 on an error. */
static long read_page(ogg_reader *r, const uint8_t *d, size_t left, uint32_t *serial,
		      bool *have_serial, char *err, size_t errlen)
{
	if (left < OGG_PAGE_HEADER || memcmp(d, "OggS", 4) != 0 || d[4] != 0) {
		if (left < OGG_PAGE_HEADER)
			return 0;
		snprintf(err, errlen, "Ogg: bad page header");
		return -1;
	}
	unsigned nseg = d[26];
	if (left < OGG_PAGE_HEADER + (size_t)nseg)
		return 0;
	const uint8_t *lace = d + OGG_PAGE_HEADER;
	size_t body = 0;
	for (unsigned i = 0; i < nseg; i++)
		body += lace[i];
	size_t page = OGG_PAGE_HEADER + nseg + body;
	if (page > left)
		return 0;
	uint32_t s = rd32(d + 14);
	if (!*have_serial) {
		*serial = s;
		*have_serial = true;
	}
	if (s != *serial)
		return (long)page;	/* another logical stream */
	/* A page that does not continue a packet ends any half-read one. */
	if (!(d[5] & 0x01) && r->pkt_len > 0) {
		r->pkt_len = 0;
		r->bad++;
	}
	const uint8_t *seg = lace + nseg;
	for (unsigned i = 0; i < nseg; i++) {
		add_segment(r, seg, lace[i]);
		seg += lace[i];
		if (lace[i] < 255 && end_packet(r, err, errlen) < 0)
			return -1;
	}
	return (long)page;
}

static int read_pages(ogg_reader *r, const uint8_t *d, size_t len, char *err, size_t errlen)
{
	uint32_t serial = 0;
	bool have_serial = false;
	size_t pos = 0;
	while (pos < len) {
		long n = read_page(r, d + pos, len - pos, &serial, &have_serial, err, errlen);
		if (n < 0)
			return -1;
		if (n == 0) {
			load_warn("Ogg: truncated last page ignored");
			break;
		}
		pos += (size_t)n;
	}
	return 0;
}

int load_ogg_opus_read(const char *path, load_track *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	uint8_t *d;
	size_t len;
	if (load_read_file(path, LOAD_MEDIA_MAX_FILE, &d, &len, err, errlen) < 0)
		return -1;
	ogg_reader *r = g_new0(ogg_reader, 1);
	r->t = t;
	r->out = g_byte_array_new();
	r->frames = g_array_new(FALSE, FALSE, sizeof(load_frame));
	int rc = read_pages(r, d, len, err, errlen);
	g_free(d);
	if (rc == 0 && r->frames->len == 0) {
		snprintf(err, errlen, "Ogg: no Opus packets");
		rc = -1;
	}
	if (r->bad > 0)
		load_warn("Ogg: %u malformed packets skipped", r->bad);
	t->clock = 48000;
	t->n = r->frames->len;
	t->data_len = r->out->len;
	t->data = g_byte_array_free(r->out, FALSE);
	t->frames = (load_frame *)g_array_free(r->frames, FALSE);
	t->loop_len = r->ts;
	g_free(r);
	if (rc < 0)
		load_track_clear(t);
	return rc;
}
