/*
 * rtp_switch.c: sequence number, timestamp and VP8 picture-id continuity
 * across source switches. See rtp_switch.h for the design. RFC 3550 5.1
 * (header), RFC 7741 4.2 (VP8 payload descriptor).
 */
#include "rtp_switch.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void stoa_rtp_switch_init(stoa_rtp_switch *sw, uint32_t clock, bool vp8)
{
	memset(sw, 0, sizeof(*sw));
	sw->clock = clock > 0 ? clock : 90000;
	sw->vp8 = vp8;
}

void stoa_rtp_switch_source_changed(stoa_rtp_switch *sw)
{
	sw->rebase = true;
}

int stoa_rtp_switch_payload(const uint8_t *buf, size_t len, size_t *off, size_t *plen)
{
	if (len < 12 || (buf[0] >> 6) != 2)
		return -1;
	size_t o = 12 + 4u * (buf[0] & 0x0f);
	if (buf[0] & 0x10) { /* X: extension header, then its words */
		if (o + 4 > len)
			return -1;
		o += 4 + 4u * rd16(buf + o + 2);
	}
	size_t end = len;
	if (buf[0] & 0x20) { /* P: the last byte counts the padding */
		if (buf[len - 1] == 0 || buf[len - 1] > len)
			return -1;
		end = len - buf[len - 1];
	}
	if (o > end)
		return -1;
	*off = o;
	*plen = end - o;
	return 0;
}

int stoa_vp8_desc_parse(const uint8_t *p, size_t len, stoa_vp8_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->pid_off = d->tl0_off = d->tid = -1;
	if (len < 1)
		return -1;
	d->start = (p[0] & 0x10) != 0 && (p[0] & 0x07) == 0;
	size_t off = 1;
	if (p[0] & 0x80) { /* X: I L T K */
		if (len < 2)
			return -1;
		uint8_t x = p[1];
		off = 2;
		if (x & 0x80) {
			if (off >= len)
				return -1;
			d->pid_off = (int)off;
			d->pid_15 = (p[off] & 0x80) != 0;
			if (d->pid_15) {
				if (off + 2 > len)
					return -1;
				d->pid = (uint16_t)(((p[off] & 0x7f) << 8) | p[off + 1]);
				off += 2;
			} else {
				d->pid = p[off] & 0x7f;
				off++;
			}
		}
		if (x & 0x40) {
			if (off >= len)
				return -1;
			d->tl0_off = (int)off;
			d->tl0 = p[off];
			off++;
		}
		if (x & 0x30) {
			if (off >= len)
				return -1;
			if (x & 0x20) { /* T: TID and Y are meaningful */
				d->tid = p[off] >> 6;
				d->layer_sync = (p[off] & 0x20) != 0;
			}
			off++;
		}
	}
	d->size = off;
	return 0;
}

/* True when a is newer than b on a circle of 2^bits. */
static bool pid_newer(uint16_t a, uint16_t b, bool wide)
{
	uint16_t mask = wide ? 0x7fff : 0x7f;
	uint16_t diff = (uint16_t)((a - b) & mask);
	return diff != 0 && diff <= mask / 2;
}

static void vp8_rewrite(stoa_rtp_switch *sw, uint8_t *payload, size_t plen)
{
	stoa_vp8_desc d;
	if (stoa_vp8_desc_parse(payload, plen, &d) < 0)
		return;
	if (d.pid_off >= 0) {
		uint16_t mask = d.pid_15 ? 0x7fff : 0x7f;
		if (sw->pid_rebase || !sw->have_pid) {
			/* The new source's first picture follows the last one sent. */
			sw->pid_off = sw->have_pid ? (uint16_t)(sw->last_pid + 1 - d.pid) : 0;
			sw->pid_rebase = false;
			sw->have_pid = true;
			sw->last_pid = (uint16_t)((d.pid + sw->pid_off - 1) & mask);
			sw->src_last_pid = (uint16_t)((d.pid - 1) & mask);
		}
		uint16_t out = (uint16_t)((d.pid + sw->pid_off) & mask);
		if (pid_newer(out, sw->last_pid, d.pid_15))
			sw->last_pid = out;
		if (pid_newer(d.pid, sw->src_last_pid, d.pid_15))
			sw->src_last_pid = d.pid;
		uint8_t *f = payload + d.pid_off;
		if (d.pid_15) {
			f[0] = (uint8_t)(0x80 | ((out >> 8) & 0x7f));
			f[1] = (uint8_t)out;
		} else {
			f[0] = (uint8_t)(out & 0x7f);
		}
	}
	if (d.tl0_off >= 0) {
		if (sw->tl0_rebase || !sw->have_tl0) {
			sw->tl0_off = sw->have_tl0 ? (uint8_t)(sw->last_tl0 + 1 - d.tl0) : 0;
			sw->tl0_rebase = false;
			sw->have_tl0 = true;
		}
		uint8_t out = (uint8_t)(d.tl0 + sw->tl0_off);
		if ((int8_t)(out - sw->last_tl0) > 0 || !sw->started)
			sw->last_tl0 = out;
		payload[d.tl0_off] = out;
	}
}

int stoa_rtp_switch_rewrite(stoa_rtp_switch *sw, uint8_t *buf, size_t len, int64_t now_us)
{
	if (len < 12 || (buf[0] >> 6) != 2)
		return -1;
	uint16_t seq = rd16(buf + 2);
	uint32_t ts = rd32(buf + 4);
	uint32_t ssrc = rd32(buf + 8);
	if (!sw->started || sw->rebase || ssrc != sw->src_ssrc) {
		if (sw->started) {
			/* Advance by the wall time since the last new timestamp went
			 * out (at least one tick), so the receiver's jitter and
			 * playout clocks see the pause there really was. */
			int64_t elapsed = now_us - sw->last_us;
			uint64_t delta = elapsed > 0 ? (uint64_t)elapsed * sw->clock / 1000000u : 0;
			if (delta == 0)
				delta = 1;
			sw->seq_off = (uint16_t)(sw->last_seq + 1 - seq);
			sw->ts_off = (uint32_t)(sw->last_ts + (uint32_t)delta - ts);
			sw->pid_rebase = sw->tl0_rebase = true;
			sw->switches++;
		}
		sw->src_ssrc = ssrc;
		sw->rebase = false;
	}
	uint16_t oseq = (uint16_t)(seq + sw->seq_off);
	uint32_t ots = ts + sw->ts_off;
	wr16(buf + 2, oseq);
	wr32(buf + 4, ots);
	sw->can_unsend = !sw->started || (int16_t)(oseq - sw->last_seq) > 0;
	sw->unsend_seq = seq;
	if (sw->can_unsend)
		sw->last_seq = oseq;
	if (!sw->started || (int32_t)(ots - sw->last_ts) > 0) {
		sw->last_ts = ots;
		sw->last_us = now_us;
	}
	if (sw->vp8) {
		size_t off, plen;
		if (stoa_rtp_switch_payload(buf, len, &off, &plen) == 0)
			vp8_rewrite(sw, buf + off, plen);
	}
	sw->started = true;
	return 0;
}

int stoa_rtp_switch_skip(stoa_rtp_switch *sw, const uint8_t *buf, size_t len)
{
	if (len < 12 || (buf[0] >> 6) != 2)
		return -1;
	if (!sw->started || sw->rebase || rd32(buf + 8) != sw->src_ssrc)
		return 0; /* the next packet sent is rebased anyway */
	uint16_t oseq = (uint16_t)(rd16(buf + 2) + sw->seq_off);
	if ((int16_t)(oseq - sw->last_seq) <= 0)
		return 0;
	/* Close the gap: the next packet takes this one's number. */
	sw->seq_off--;
	sw->can_unsend = false;
	size_t off, plen;
	stoa_vp8_desc d;
	if (sw->vp8 && sw->have_pid && !sw->pid_rebase &&
	    stoa_rtp_switch_payload(buf, len, &off, &plen) == 0 &&
	    stoa_vp8_desc_parse(buf + off, plen, &d) == 0 && d.pid_off >= 0 && d.start &&
	    pid_newer(d.pid, sw->src_last_pid, d.pid_15)) {
		/* A whole picture dropped: the next one takes its PictureID. */
		sw->src_last_pid = d.pid;
		sw->pid_off--;
	}
	return 0;
}

int stoa_rtp_switch_unsend(stoa_rtp_switch *sw, const uint8_t *buf, size_t len)
{
	if (len < 12 || (buf[0] >> 6) != 2)
		return -1;
	if (!sw->started || !sw->can_unsend || rd32(buf + 8) != sw->src_ssrc ||
	    rd16(buf + 2) != sw->unsend_seq)
		return 0;
	sw->can_unsend = false;
	sw->last_seq--;
	sw->seq_off--;
	size_t off, plen;
	stoa_vp8_desc d;
	if (!sw->vp8 || !sw->have_pid || stoa_rtp_switch_payload(buf, len, &off, &plen) < 0 ||
	    stoa_vp8_desc_parse(buf + off, plen, &d) < 0 || d.pid_off < 0 || !d.start)
		return 0;
	/* It began a picture none of which was sent: the next picture takes
	 * its PictureID. src_last_pid stays, so skipping the rest of this
	 * picture does not count it twice. */
	uint16_t mask = d.pid_15 ? 0x7fff : 0x7f;
	if (((d.pid + sw->pid_off) & mask) == sw->last_pid) {
		sw->last_pid = (uint16_t)((sw->last_pid - 1) & mask);
		sw->pid_off--;
	}
	return 0;
}

bool stoa_rtcp_wants_keyframe(const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off + 4 <= len) {
		uint8_t fmt = buf[off] & 0x1f, pt = buf[off + 1];
		size_t plen = ((size_t)((buf[off + 2] << 8) | buf[off + 3]) + 1) * 4;
		if (pt == 206 && (fmt == 1 || fmt == 4))
			return true;
		off += plen;
	}
	return false;
}

size_t stoa_rtcp_nack_seqs(const uint8_t *buf, size_t len, uint16_t *out, size_t max)
{
	size_t off = 0, n = 0;
	while (off + 4 <= len) {
		uint8_t fmt = buf[off] & 0x1f, pt = buf[off + 1];
		size_t plen = ((size_t)((buf[off + 2] << 8) | buf[off + 3]) + 1) * 4;
		if (off + plen > len)
			break;
		/* RTPFB (205), FMT 1: after the 12-byte header, 4-byte FCIs. */
		for (size_t f = off + 12; pt == 205 && fmt == 1 && f + 4 <= off + plen; f += 4) {
			uint16_t pid = rd16(buf + f), blp = rd16(buf + f + 2);
			if (n < max)
				out[n++] = pid;
			for (int b = 0; b < 16 && n < max; b++)
				if (blp & (1u << b))
					out[n++] = (uint16_t)(pid + b + 1);
		}
		off += plen;
	}
	return n;
}

void stoa_rtp_switch_offsets(const stoa_rtp_switch *sw, const uint8_t *sent, size_t len,
			     stoa_rtp_offsets *o)
{
	o->ts_off = sw->ts_off;
	o->seq_out = len >= 12 ? rd16(sent + 2) : 0;
	o->pid_off = sw->pid_off;
	o->tl0_off = sw->tl0_off;
}

int stoa_rtp_switch_apply(const stoa_rtp_offsets *o, bool vp8, uint8_t *buf, size_t len)
{
	if (len < 12 || (buf[0] >> 6) != 2)
		return -1;
	wr16(buf + 2, o->seq_out);
	wr32(buf + 4, rd32(buf + 4) + o->ts_off);
	size_t off, plen;
	stoa_vp8_desc d;
	if (!vp8 || stoa_rtp_switch_payload(buf, len, &off, &plen) < 0 ||
	    stoa_vp8_desc_parse(buf + off, plen, &d) < 0)
		return 0;
	uint8_t *payload = buf + off;
	if (d.pid_off >= 0) {
		uint16_t pid = (uint16_t)((d.pid + o->pid_off) & (d.pid_15 ? 0x7fff : 0x7f));
		uint8_t *f = payload + d.pid_off;
		if (d.pid_15) {
			f[0] = (uint8_t)(0x80 | ((pid >> 8) & 0x7f));
			f[1] = (uint8_t)pid;
		} else {
			f[0] = (uint8_t)(pid & 0x7f);
		}
	}
	if (d.tl0_off >= 0)
		payload[d.tl0_off] = (uint8_t)(d.tl0 + o->tl0_off);
	return 0;
}
