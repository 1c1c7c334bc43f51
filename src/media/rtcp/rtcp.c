/*
 * rtcp.c: see rtcp.h. The compound walk, validation (RFC 3550 6.1 and
 * A.2), SR/RR/SDES/BYE (RFC 3550 6.4 to 6.6), compound building and SSRC
 * rewriting. Feedback messages live in rtcp_fb.c and rtcp_twcc.c.
 */
#include <string.h>

#include "media/rtcp/rtcp_internal.h"
#include "media/rtp/bytes.h"

#define HDR_LEN STOA__RTCP_HDR_LEN
#define SENDER_INFO_LEN 20

/* ------------------------------------------------------------ iteration */

void stoa_rtcp_iter_init(stoa_rtcp_iter *it, const uint8_t *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->off = 0;
}

int stoa_rtcp_iter_next(stoa_rtcp_iter *it, stoa_rtcp_hdr *out)
{
	if (it->off >= it->len)
		return 0;
	const uint8_t *p = it->buf + it->off;
	size_t rest = it->len - it->off;
	size_t len = rest >= HDR_LEN ? ((size_t)stoa_be16(p + 2) + 1) * 4 : 0;
	if (rest < HDR_LEN || (p[0] >> 6) != 2 || len > rest)
		goto bad;
	out->buf = p;
	out->len = len;
	out->body_len = len;
	out->padding = (p[0] & 0x20) != 0;
	out->count = p[0] & 0x1f;
	out->pt = p[1];
	if (out->padding) {
		/* The padding count is the last octet and counts itself. */
		uint8_t pad = p[len - 1];
		if (pad == 0 || pad > len - HDR_LEN)
			goto bad;
		out->body_len = len - pad;
	}
	it->off += len;
	return 1;
bad:
	it->off = it->len;
	return -1;
}

int stoa_rtcp_validate(const uint8_t *buf, size_t len, bool rsize)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	int rc, n = 0;
	bool padded = false;
	stoa_rtcp_iter_init(&it, buf, len);
	while ((rc = stoa_rtcp_iter_next(&it, &h)) > 0) {
		if (padded)
			return -1; /* padding only on the last sub-packet */
		if (n == 0 && !rsize && h.pt != STOA_RTCP_SR && h.pt != STOA_RTCP_RR)
			return -1;
		if (h.pt < 192 || h.pt > 223)
			return -1;
		padded = h.padding;
		n++;
	}
	return rc == 0 && n > 0 ? 0 : -1;
}

/* ------------------------------------------------------------ SR, RR */

void stoa_rtcp_rb_read(const uint8_t *blocks, unsigned i, stoa_rtcp_report_block *out)
{
	const uint8_t *p = blocks + (size_t)i * STOA_RTCP_RB_LEN;
	out->ssrc = stoa_be32(p);
	out->fraction_lost = p[4];
	uint32_t cl = stoa_be24(p + 5);
	/* Sign-extend the 24-bit cumulative count (it may go negative with
	 * duplicates, RFC 3550 6.4.1). */
	out->cum_lost = (cl & 0x800000) ? (int32_t)cl - 0x1000000 : (int32_t)cl;
	out->ext_high_seq = stoa_be32(p + 8);
	out->jitter = stoa_be32(p + 12);
	out->lsr = stoa_be32(p + 16);
	out->dlsr = stoa_be32(p + 20);
}

int stoa_rtcp_sr_parse(const stoa_rtcp_hdr *h, stoa_rtcp_sr *out)
{
	if (h->pt != STOA_RTCP_SR)
		return -1;
	size_t need = HDR_LEN + 4 + SENDER_INFO_LEN + (size_t)h->count * STOA_RTCP_RB_LEN;
	if (h->body_len < need)
		return -1;
	const uint8_t *p = h->buf + HDR_LEN;
	out->info.ssrc = stoa_be32(p);
	out->info.ntp = stoa_be64(p + 4);
	out->info.rtp_ts = stoa_be32(p + 12);
	out->info.packet_count = stoa_be32(p + 16);
	out->info.octet_count = stoa_be32(p + 20);
	out->rb_count = h->count;
	out->blocks = p + 4 + SENDER_INFO_LEN;
	return 0;
}

int stoa_rtcp_rr_parse(const stoa_rtcp_hdr *h, stoa_rtcp_rr *out)
{
	if (h->pt != STOA_RTCP_RR)
		return -1;
	if (h->body_len < HDR_LEN + 4 + (size_t)h->count * STOA_RTCP_RB_LEN)
		return -1;
	out->ssrc = stoa_be32(h->buf + HDR_LEN);
	out->rb_count = h->count;
	out->blocks = h->buf + HDR_LEN + 4;
	return 0;
}

/* ------------------------------------------------------------ SDES, BYE */

/*
 * One chunk at *off: SSRC, items, then a null item and zero padding to the
 * next 32-bit boundary (RFC 3550 6.5). Stops early when cb asks for it via
 * *stop (used by the CNAME lookup).
 */
static int sdes_chunk(const uint8_t *p, size_t end, size_t *off, stoa_rtcp_sdes_cb cb, void *ud)
{
	if (*off + 4 > end)
		return -1;
	uint32_t ssrc = stoa_be32(p + *off);
	size_t o = *off + 4;
	for (;;) {
		if (o >= end)
			return -1; /* no terminating null item */
		uint8_t type = p[o];
		if (type == 0)
			break;
		if (o + 2 > end || o + 2 + p[o + 1] > end)
			return -1;
		if (cb != NULL)
			cb(ud, ssrc, type, p + o + 2, p[o + 1]);
		o += 2 + (size_t)p[o + 1];
	}
	/* Skip the null octet and the padding to the boundary. */
	o = (o + 4) & ~(size_t)3;
	if (o > end)
		return -1;
	*off = o;
	return 0;
}

int stoa_rtcp_sdes_parse(const stoa_rtcp_hdr *h, stoa_rtcp_sdes_cb cb, void *ud)
{
	if (h->pt != STOA_RTCP_SDES)
		return -1;
	size_t off = HDR_LEN;
	for (unsigned i = 0; i < h->count; i++) {
		if (sdes_chunk(h->buf, h->body_len, &off, cb, ud) < 0)
			return -1;
	}
	return 0;
}

struct cname_find {
	bool found;
	uint32_t ssrc;
	const uint8_t *text;
	size_t len;
};

static void cname_cb(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *text, size_t len)
{
	struct cname_find *f = ud;
	if (f->found || type != STOA_RTCP_SDES_CNAME)
		return;
	f->found = true;
	f->ssrc = ssrc;
	f->text = text;
	f->len = len;
}

int stoa_rtcp_sdes_cname(const stoa_rtcp_hdr *h, uint32_t *ssrc, const uint8_t **cname,
			 size_t *len)
{
	struct cname_find f = { 0 };
	/* A fault after the CNAME does not hide it. */
	(void)stoa_rtcp_sdes_parse(h, cname_cb, &f);
	if (!f.found)
		return -1;
	*ssrc = f.ssrc;
	*cname = f.text;
	*len = f.len;
	return 0;
}

int stoa_rtcp_bye_parse(const stoa_rtcp_hdr *h, stoa_rtcp_bye *out)
{
	if (h->pt != STOA_RTCP_BYE)
		return -1;
	size_t off = HDR_LEN + (size_t)h->count * 4;
	if (off > h->body_len)
		return -1;
	out->count = h->count;
	out->ssrcs = h->buf + HDR_LEN;
	out->reason = NULL;
	out->reason_len = 0;
	if (off < h->body_len) {
		uint8_t rl = h->buf[off];
		if (off + 1 + rl > h->body_len)
			return -1;
		out->reason = h->buf + off + 1;
		out->reason_len = rl;
	}
	return 0;
}

uint32_t stoa_rtcp_bye_ssrc(const stoa_rtcp_bye *b, unsigned i)
{
	return stoa_be32(b->ssrcs + 4 * (size_t)i);
}

/* ------------------------------------------------------------ builders */

void stoa__rtcp_put_header(uint8_t *buf, uint8_t count, uint8_t pt, size_t len)
{
	buf[0] = (uint8_t)(0x80 | (count & 0x1f));
	buf[1] = pt;
	stoa_put_be16(buf + 2, (uint16_t)(len / 4 - 1));
}

static void put_rb(uint8_t *p, const stoa_rtcp_report_block *rb)
{
	int32_t cl = rb->cum_lost;
	/* Clamp to the 24-bit signed range (RFC 3550 A.3). */
	if (cl > 0x7fffff)
		cl = 0x7fffff;
	if (cl < -0x800000)
		cl = -0x800000;
	stoa_put_be32(p, rb->ssrc);
	p[4] = rb->fraction_lost;
	stoa_put_be24(p + 5, (uint32_t)cl & 0xffffff);
	stoa_put_be32(p + 8, rb->ext_high_seq);
	stoa_put_be32(p + 12, rb->jitter);
	stoa_put_be32(p + 16, rb->lsr);
	stoa_put_be32(p + 20, rb->dlsr);
}

int stoa_rtcp_build_sr(uint8_t *buf, size_t cap, const stoa_rtcp_sender_info *si,
		       const stoa_rtcp_report_block *rb, unsigned n)
{
	size_t len = HDR_LEN + 4 + SENDER_INFO_LEN + (size_t)n * STOA_RTCP_RB_LEN;
	if (n > STOA_RTCP_MAX_RB || len > cap)
		return -1;
	stoa__rtcp_put_header(buf, (uint8_t)n, STOA_RTCP_SR, len);
	uint8_t *p = buf + HDR_LEN;
	stoa_put_be32(p, si->ssrc);
	stoa_put_be64(p + 4, si->ntp);
	stoa_put_be32(p + 12, si->rtp_ts);
	stoa_put_be32(p + 16, si->packet_count);
	stoa_put_be32(p + 20, si->octet_count);
	for (unsigned i = 0; i < n; i++)
		put_rb(p + 4 + SENDER_INFO_LEN + (size_t)i * STOA_RTCP_RB_LEN, &rb[i]);
	return (int)len;
}

int stoa_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const stoa_rtcp_report_block *rb,
		       unsigned n)
{
	size_t len = HDR_LEN + 4 + (size_t)n * STOA_RTCP_RB_LEN;
	if (n > STOA_RTCP_MAX_RB || len > cap)
		return -1;
	stoa__rtcp_put_header(buf, (uint8_t)n, STOA_RTCP_RR, len);
	stoa_put_be32(buf + HDR_LEN, ssrc);
	for (unsigned i = 0; i < n; i++)
		put_rb(buf + HDR_LEN + 4 + (size_t)i * STOA_RTCP_RB_LEN, &rb[i]);
	return (int)len;
}

int stoa_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname,
			       size_t len)
{
	if (len > 255)
		return -1;
	/* header, SSRC, type, length, text, then 1..4 null octets to align */
	size_t total = (HDR_LEN + 4 + 2 + len + 4) & ~(size_t)3;
	if (total > cap)
		return -1;
	stoa__rtcp_put_header(buf, 1, STOA_RTCP_SDES, total);
	stoa_put_be32(buf + HDR_LEN, ssrc);
	buf[HDR_LEN + 4] = STOA_RTCP_SDES_CNAME;
	buf[HDR_LEN + 5] = (uint8_t)len;
	if (len > 0)
		memcpy(buf + HDR_LEN + 6, cname, len);
	size_t end = HDR_LEN + 6 + len;
	memset(buf + end, 0, total - end);
	return (int)total;
}

int stoa_rtcp_build_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, unsigned n,
			const char *reason, size_t reason_len)
{
	if (n > STOA_RTCP_MAX_RB || reason_len > 255)
		return -1;
	size_t body = HDR_LEN + 4 * (size_t)n;
	size_t total = reason != NULL ? (body + 1 + reason_len + 3) & ~(size_t)3 : body;
	if (total > cap)
		return -1;
	stoa__rtcp_put_header(buf, (uint8_t)n, STOA_RTCP_BYE, total);
	for (unsigned i = 0; i < n; i++)
		stoa_put_be32(buf + HDR_LEN + 4 * (size_t)i, ssrcs[i]);
	if (reason != NULL) {
		buf[body] = (uint8_t)reason_len;
		if (reason_len > 0)
			memcpy(buf + body + 1, reason, reason_len);
		memset(buf + body + 1 + reason_len, 0, total - body - 1 - reason_len);
	}
	return (int)total;
}

/* SR or RR with up to 31 blocks, then RRs for the rest (RFC 3550 6.4.2). */
static int build_reports(uint8_t *buf, size_t cap, const stoa_rtcp_report *rep)
{
	unsigned done = 0;
	size_t off = 0;
	do {
		unsigned n = rep->rb_count - done;
		if (n > STOA_RTCP_MAX_RB)
			n = STOA_RTCP_MAX_RB;
		int w;
		if (done == 0 && rep->sender != NULL)
			w = stoa_rtcp_build_sr(buf + off, cap - off, rep->sender, rep->rb, n);
		else
			w = stoa_rtcp_build_rr(buf + off, cap - off,
					       rep->sender != NULL ? rep->sender->ssrc : rep->ssrc,
					       rep->rb + done, n);
		if (w < 0)
			return -1;
		off += (size_t)w;
		done += n;
	} while (done < rep->rb_count);
	return (int)off;
}

int stoa_rtcp_build_compound(uint8_t *buf, size_t cap, const stoa_rtcp_report *rep,
			     const uint8_t *fb, size_t fb_len, bool rsize)
{
	size_t off = 0;
	if (rep == NULL && !rsize)
		return -1;
	if (rep != NULL) {
		int w = build_reports(buf, cap, rep);
		if (w < 0)
			return -1;
		off = (size_t)w;
		uint32_t ssrc = rep->sender != NULL ? rep->sender->ssrc : rep->ssrc;
		w = stoa_rtcp_build_sdes_cname(buf + off, cap - off, ssrc,
					       rep->cname != NULL ? rep->cname : "",
					       rep->cname != NULL ? rep->cname_len : 0);
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	if (fb_len > 0) {
		if (fb == NULL || fb_len % 4 != 0 || fb_len > cap - off)
			return -1;
		memcpy(buf + off, fb, fb_len);
		off += fb_len;
	}
	return off > 0 ? (int)off : -1;
}

/* ------------------------------------------------------------ rewriting */

static void rewrite_blocks(uint8_t *p, unsigned n, stoa_rtcp_ssrc_map map, void *ud)
{
	for (unsigned i = 0; i < n; i++)
		stoa__rtcp_map_at(p + (size_t)i * STOA_RTCP_RB_LEN, map, ud, STOA_RTCP_SSRC_MEDIA);
}

static int rewrite_sdes(uint8_t *p, const stoa_rtcp_hdr *h, stoa_rtcp_ssrc_map map, void *ud)
{
	size_t off = HDR_LEN;
	for (unsigned i = 0; i < h->count; i++) {
		size_t chunk = off;
		if (sdes_chunk(h->buf, h->body_len, &off, NULL, NULL) < 0)
			return -1;
		stoa__rtcp_map_at(p + chunk, map, ud, STOA_RTCP_SSRC_SENDER);
	}
	return 0;
}

static int rewrite_one(uint8_t *p, const stoa_rtcp_hdr *h, stoa_rtcp_ssrc_map map, void *ud)
{
	switch (h->pt) {
	case STOA_RTCP_SR: {
		stoa_rtcp_sr sr;
		if (stoa_rtcp_sr_parse(h, &sr) < 0)
			return -1;
		stoa__rtcp_map_at(p + HDR_LEN, map, ud, STOA_RTCP_SSRC_SENDER);
		rewrite_blocks(p + HDR_LEN + 4 + SENDER_INFO_LEN, sr.rb_count, map, ud);
		return 0;
	}
	case STOA_RTCP_RR: {
		stoa_rtcp_rr rr;
		if (stoa_rtcp_rr_parse(h, &rr) < 0)
			return -1;
		stoa__rtcp_map_at(p + HDR_LEN, map, ud, STOA_RTCP_SSRC_SENDER);
		rewrite_blocks(p + HDR_LEN + 4, rr.rb_count, map, ud);
		return 0;
	}
	case STOA_RTCP_SDES:
		return rewrite_sdes(p, h, map, ud);
	case STOA_RTCP_BYE: {
		stoa_rtcp_bye bye;
		if (stoa_rtcp_bye_parse(h, &bye) < 0)
			return -1;
		for (unsigned i = 0; i < bye.count; i++)
			stoa__rtcp_map_at(p + HDR_LEN + 4 * (size_t)i, map, ud,
					  STOA_RTCP_SSRC_SENDER);
		return 0;
	}
	case STOA_RTCP_RTPFB:
	case STOA_RTCP_PSFB:
		return stoa__rtcp_fb_rewrite(p, h, map, ud);
	default:
		/* APP, XR and unknown types: the first word after the header is
		 * the sender's SSRC in all of them that carry one. */
		if (h->body_len >= HDR_LEN + 4)
			stoa__rtcp_map_at(p + HDR_LEN, map, ud, STOA_RTCP_SSRC_SENDER);
		return 0;
	}
}

int stoa_rtcp_rewrite_ssrcs(uint8_t *buf, size_t len, stoa_rtcp_ssrc_map map, void *ud)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	int rc;
	stoa_rtcp_iter_init(&it, buf, len);
	while ((rc = stoa_rtcp_iter_next(&it, &h)) > 0) {
		if (rewrite_one(buf + (h.buf - buf), &h, map, ud) < 0)
			return -1;
	}
	return rc;
}
