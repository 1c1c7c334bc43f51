/*
 * rtcp_fb.c: feedback messages other than transport-wide CC. The common
 * format (RFC 4585 6.1), generic NACK (RFC 4585 6.2.1), PLI (RFC 4585
 * 6.3.1), FIR (RFC 5104 4.3.1) and REMB (draft-alvestrand-rmcat-remb-03
 * section 2.2), plus their SSRC rewriting.
 */
#include <string.h>

#include "media/rtcp/rtcp_internal.h"
#include "media/rtp/bytes.h"
#include "media/rtp/seq.h"

#define FB_HDR STOA__RTCP_FB_HDR_LEN
#define FIR_ENTRY_LEN 8
#define REMB_FIXED_LEN 8 /* 'REMB', count, exponent and mantissa */

void stoa__rtcp_put_fb_header(uint8_t *buf, uint8_t fmt, uint8_t pt, size_t len,
			      uint32_t sender, uint32_t media)
{
	stoa__rtcp_put_header(buf, fmt, pt, len);
	stoa_put_be32(buf + 4, sender);
	stoa_put_be32(buf + 8, media);
}

int stoa_rtcp_fb_parse(const stoa_rtcp_hdr *h, stoa_rtcp_fb *out)
{
	if ((h->pt != STOA_RTCP_RTPFB && h->pt != STOA_RTCP_PSFB) || h->body_len < FB_HDR)
		return -1;
	out->pt = h->pt;
	out->fmt = h->count;
	out->sender_ssrc = stoa_be32(h->buf + 4);
	out->media_ssrc = stoa_be32(h->buf + 8);
	out->fci = h->buf + FB_HDR;
	out->fci_len = h->body_len - FB_HDR;
	return 0;
}

/* ------------------------------------------------------------ NACK */

int stoa_rtcp_nack_parse(const stoa_rtcp_fb *fb, uint16_t *seqs, size_t cap)
{
	if (fb->pt != STOA_RTCP_RTPFB || fb->fmt != STOA_RTCP_RTPFB_NACK ||
	    fb->fci_len == 0 || fb->fci_len % 4 != 0)
		return -1;
	size_t n = 0;
	for (size_t off = 0; off < fb->fci_len && n < cap; off += 4) {
		uint16_t pid = stoa_be16(fb->fci + off);
		uint16_t blp = stoa_be16(fb->fci + off + 2);
		seqs[n++] = pid;
		/* Bit i of the BLP reports pid + i + 1 lost (LSB first). */
		for (unsigned i = 0; i < 16 && n < cap; i++) {
			if (blp & (1u << i))
				seqs[n++] = (uint16_t)(pid + i + 1);
		}
	}
	return (int)n;
}

int stoa_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			 const uint16_t *seqs, size_t n)
{
	size_t off = FB_HDR;
	size_t i = 0;
	if (n == 0 || cap < FB_HDR)
		return -1;
	while (i < n) {
		uint16_t pid = seqs[i];
		uint16_t blp = 0;
		size_t j = i + 1;
		for (; j < n; j++) {
			int32_t d = stoa_seq_diff(seqs[j], pid);
			if (d < 0 || d > 16)
				break;
			if (d > 0)
				blp |= (uint16_t)(1u << (d - 1));
		}
		if (off + 4 > cap || off + 4 > 4 * 65536)
			return -1;
		stoa_put_be16(buf + off, pid);
		stoa_put_be16(buf + off + 2, blp);
		off += 4;
		i = j;
	}
	stoa__rtcp_put_fb_header(buf, STOA_RTCP_RTPFB_NACK, STOA_RTCP_RTPFB, off, sender, media);
	return (int)off;
}

/* ------------------------------------------------------------ PLI, FIR */

int stoa_rtcp_pli_check(const stoa_rtcp_fb *fb)
{
	/* RFC 4585 6.3.1 says PLI has no FCI; anything there is ignored. */
	return fb->pt == STOA_RTCP_PSFB && fb->fmt == STOA_RTCP_PSFB_PLI ? 0 : -1;
}

int stoa_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media)
{
	if (cap < FB_HDR)
		return -1;
	stoa__rtcp_put_fb_header(buf, STOA_RTCP_PSFB_PLI, STOA_RTCP_PSFB, FB_HDR, sender, media);
	return FB_HDR;
}

int stoa_rtcp_fir_parse(const stoa_rtcp_fb *fb, stoa_rtcp_fir_entry *out, size_t cap)
{
	if (fb->pt != STOA_RTCP_PSFB || fb->fmt != STOA_RTCP_PSFB_FIR ||
	    fb->fci_len == 0 || fb->fci_len % FIR_ENTRY_LEN != 0)
		return -1;
	size_t n = 0;
	for (size_t off = 0; off < fb->fci_len && n < cap; off += FIR_ENTRY_LEN) {
		out[n].ssrc = stoa_be32(fb->fci + off);
		out[n].seq = fb->fci[off + 4];
		n++;
	}
	return (int)n;
}

int stoa_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			uint8_t seq)
{
	size_t len = FB_HDR + FIR_ENTRY_LEN;
	if (cap < len)
		return -1;
	stoa__rtcp_put_fb_header(buf, STOA_RTCP_PSFB_FIR, STOA_RTCP_PSFB, len, sender, 0);
	stoa_put_be32(buf + FB_HDR, media);
	buf[FB_HDR + 4] = seq;
	memset(buf + FB_HDR + 5, 0, 3);
	return (int)len;
}

/* ------------------------------------------------------------ REMB */

static bool is_remb(const stoa_rtcp_fb *fb)
{
	return fb->pt == STOA_RTCP_PSFB && fb->fmt == STOA_RTCP_PSFB_AFB &&
	       fb->fci_len >= REMB_FIXED_LEN && memcmp(fb->fci, "REMB", 4) == 0;
}

int stoa_rtcp_remb_parse(const stoa_rtcp_fb *fb, stoa_rtcp_remb *out)
{
	if (!is_remb(fb))
		return -1;
	const uint8_t *p = fb->fci;
	out->ssrc_count = p[4];
	out->exp = p[5] >> 2;
	out->mantissa = ((uint32_t)(p[5] & 0x03) << 16) | stoa_be16(p + 6);
	if (fb->fci_len < REMB_FIXED_LEN + 4 * (size_t)out->ssrc_count)
		return -1;
	out->ssrcs = p + REMB_FIXED_LEN;
	/* An 18-bit mantissa shifted by up to 63 can pass 64 bits: saturate. */
	if (out->exp > 46 && (out->mantissa >> (64 - out->exp)) != 0)
		out->bitrate = UINT64_MAX;
	else
		out->bitrate = (uint64_t)out->mantissa << out->exp;
	return 0;
}

uint32_t stoa_rtcp_remb_ssrc(const stoa_rtcp_remb *r, unsigned i)
{
	return stoa_be32(r->ssrcs + 4 * (size_t)i);
}

int stoa_rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bitrate,
			 const uint32_t *ssrcs, unsigned n)
{
	size_t len = FB_HDR + REMB_FIXED_LEN + 4 * (size_t)n;
	if (n > 255 || cap < len)
		return -1;
	uint8_t exp = 0;
	while (bitrate >= (UINT64_C(1) << 18)) {
		bitrate >>= 1;
		exp++;
	}
	/* The media source field is unused by REMB and set to 0. */
	stoa__rtcp_put_fb_header(buf, STOA_RTCP_PSFB_AFB, STOA_RTCP_PSFB, len, sender, 0);
	uint8_t *p = buf + FB_HDR;
	memcpy(p, "REMB", 4);
	p[4] = (uint8_t)n;
	p[5] = (uint8_t)((exp << 2) | (bitrate >> 16));
	stoa_put_be16(p + 6, (uint16_t)bitrate);
	for (unsigned i = 0; i < n; i++)
		stoa_put_be32(p + REMB_FIXED_LEN + 4 * (size_t)i, ssrcs[i]);
	return (int)len;
}

/* ------------------------------------------------------------ rewriting */

int stoa__rtcp_fb_rewrite(uint8_t *p, const stoa_rtcp_hdr *h, stoa_rtcp_ssrc_map map, void *ud)
{
	stoa_rtcp_fb fb;
	if (stoa_rtcp_fb_parse(h, &fb) < 0)
		return -1;
	stoa__rtcp_map_at(p + 4, map, ud, STOA_RTCP_SSRC_SENDER);
	uint8_t *fci = p + FB_HDR;
	if (fb.pt == STOA_RTCP_PSFB && fb.fmt == STOA_RTCP_PSFB_FIR) {
		/* The header's media SSRC is 0; the targets are in the entries. */
		for (size_t off = 0; off + FIR_ENTRY_LEN <= fb.fci_len; off += FIR_ENTRY_LEN)
			stoa__rtcp_map_at(fci + off, map, ud, STOA_RTCP_SSRC_MEDIA);
		return 0;
	}
	if (is_remb(&fb)) {
		stoa_rtcp_remb r;
		if (stoa_rtcp_remb_parse(&fb, &r) < 0)
			return -1;
		uint8_t *list = fci + REMB_FIXED_LEN;
		for (unsigned i = 0; i < r.ssrc_count; i++)
			stoa__rtcp_map_at(list + 4 * (size_t)i, map, ud, STOA_RTCP_SSRC_MEDIA);
		return 0;
	}
	stoa__rtcp_map_at(p + 8, map, ud, STOA_RTCP_SSRC_MEDIA);
	return 0;
}

struct fixed_ssrcs {
	uint32_t sender, media;
};

static uint32_t fixed_map(void *ud, uint32_t ssrc, stoa_rtcp_ssrc_role role)
{
	const struct fixed_ssrcs *f = ud;
	(void)ssrc;
	return role == STOA_RTCP_SSRC_SENDER ? f->sender : f->media;
}

int stoa_rtcp_fb_set_ssrcs(uint8_t *buf, size_t len, uint32_t sender, uint32_t media)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	struct fixed_ssrcs f = { sender, media };
	stoa_rtcp_iter_init(&it, buf, len);
	if (stoa_rtcp_iter_next(&it, &h) <= 0)
		return -1;
	return stoa__rtcp_fb_rewrite(buf, &h, fixed_map, &f);
}
