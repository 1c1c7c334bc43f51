/*
 * ivf.c: reads VP8 in an IVF file (the container libvpx's tools and
 * ffmpeg write): a 32-byte file header, then per frame a 12-byte header
 * (little-endian size and pts) and the frame.
 *
 * Everything is checked against the real file length; timestamps must
 * increase, so a publisher's RTP timestamps do too. A truncated last frame
 * is dropped with a warning (a file being written while read), anything
 * else wrong is an error.
 */
#include "media.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "load.h"

#define IVF_HEADER 32
#define IVF_FRAME_HEADER 12
#define IVF_MAX_FRAMES 1000000

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int load_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err,
		   size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
		return -1;
	}
	gchar *buf = NULL;
	gsize n = 0;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &buf, &n, &gerr)) {
		snprintf(err, errlen, "%s", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	if (n > max) {
		g_free(buf);
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		return -1;
	}
	*out = (uint8_t *)buf;
	*len = n;
	return 0;
}

static int check_header(const uint8_t *d, size_t len, uint32_t *rate, uint32_t *scale,
			size_t *first, load_track *t, char *err, size_t errlen)
{
	if (len < IVF_HEADER || memcmp(d, "DKIF", 4) != 0) {
		snprintf(err, errlen, "not an IVF file (no DKIF header)");
		return -1;
	}
	uint16_t hlen = rd16(d + 6);
	if (hlen < IVF_HEADER || hlen > len) {
		snprintf(err, errlen, "IVF header length %u is invalid", hlen);
		return -1;
	}
	if (memcmp(d + 8, "VP80", 4) != 0) {
		snprintf(err, errlen, "IVF codec is '%.4s', stoa-load sends VP8 (VP80) only",
			 (const char *)(d + 8));
		return -1;
	}
	t->width = rd16(d + 12);
	t->height = rd16(d + 14);
	*rate = rd32(d + 16);	/* time base denominator */
	*scale = rd32(d + 20);	/* time base numerator */
	if (*rate == 0 || *scale == 0) {
		snprintf(err, errlen, "IVF time base %u/%u is invalid", *scale, *rate);
		return -1;
	}
	*first = hlen;
	return 0;
}

/* Turns pts (in scale/rate seconds) into 90 kHz ticks from the first frame. */
static int64_t to_90k(uint64_t pts, uint64_t pts0, uint32_t rate, uint32_t scale)
{
	double secs = (double)(pts - pts0) * (double)scale / (double)rate;
	return (int64_t)llround(secs * 90000.0);
}

static int add_frame(load_track *t, GArray *frames, const uint8_t *d, size_t off, uint32_t size,
		     int64_t ts, char *err, size_t errlen)
{
	if (frames->len > 0) {
		const load_frame *prev = &g_array_index(frames, load_frame, frames->len - 1);
		if (ts <= prev->ts) {
			snprintf(err, errlen, "IVF frame %u: timestamp does not increase",
				 frames->len);
			return -1;
		}
	}
	load_frame f = {.off = off, .len = size, .ts = ts};
	/* RFC 6386 §9.1: bit 0 of the first byte is 0 on a keyframe. */
	f.key = (d[off] & 0x01) == 0;
	if (f.key)
		t->keyframes++;
	g_array_append_val(frames, f);
	return 0;
}

static int read_frames(load_track *t, const uint8_t *d, size_t len, size_t pos, uint32_t rate,
		       uint32_t scale, GArray *frames, char *err, size_t errlen)
{
	uint64_t pts0 = 0;
	while (pos < len) {
		if (len - pos < IVF_FRAME_HEADER) {
			load_warn("IVF: %zu stray bytes at the end ignored", len - pos);
			break;
		}
		uint32_t size = rd32(d + pos);
		uint64_t pts = rd64(d + pos + 4);
		pos += IVF_FRAME_HEADER;
		if (size == 0 || size > LOAD_MEDIA_MAX_FRAME) {
			snprintf(err, errlen, "IVF frame %u: size %u is out of range", frames->len,
				 size);
			return -1;
		}
		if (size > len - pos) {
			load_warn("IVF: last frame truncated (%u bytes announced, %zu there); "
				  "dropped", size, len - pos);
			break;
		}
		if (frames->len >= IVF_MAX_FRAMES) {
			snprintf(err, errlen, "IVF: more than %d frames", IVF_MAX_FRAMES);
			return -1;
		}
		if (frames->len == 0)
			pts0 = pts;
		if (pts < pts0) {
			snprintf(err, errlen, "IVF frame %u: pts goes backwards", frames->len);
			return -1;
		}
		if (add_frame(t, frames, d, pos, size, to_90k(pts, pts0, rate, scale), err,
			      errlen) < 0)
			return -1;
		pos += size;
	}
	return 0;
}

static void set_loop_len(load_track *t)
{
	int64_t last = t->frames[t->n - 1].ts;
	/* One pass lasts until the last frame's slot ends: the average frame
	 * duration past the last timestamp (1/30 s for a single frame). */
	int64_t step = t->n > 1 ? last / (int64_t)(t->n - 1) : 3000;
	t->loop_len = last + (step > 0 ? step : 1);
}

int load_ivf_read(const char *path, load_track *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	uint8_t *d;
	size_t len;
	if (load_read_file(path, LOAD_MEDIA_MAX_FILE, &d, &len, err, errlen) < 0)
		return -1;
	uint32_t rate, scale;
	size_t pos;
	GArray *frames = g_array_new(FALSE, FALSE, sizeof(load_frame));
	t->data = d;
	t->data_len = len;
	t->clock = 90000;
	if (check_header(d, len, &rate, &scale, &pos, t, err, errlen) < 0 ||
	    read_frames(t, d, len, pos, rate, scale, frames, err, errlen) < 0) {
		g_array_free(frames, TRUE);
		load_track_clear(t);
		return -1;
	}
	t->n = frames->len;
	t->frames = (load_frame *)g_array_free(frames, FALSE);
	if (t->n == 0) {
		snprintf(err, errlen, "IVF file has no frames");
		load_track_clear(t);
		return -1;
	}
	if (!t->frames[0].key)
		load_warn("IVF: the first frame is not a keyframe; viewers wait for one");
	set_loop_len(t);
	return 0;
}

void load_track_clear(load_track *t)
{
	g_free(t->data);
	g_free(t->frames);
	memset(t, 0, sizeof(*t));
}
