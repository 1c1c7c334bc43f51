/*
 * rtp.c: RTP header, receive statistics, RTCP SR/RR and feedback; see
 * rtp.h. Loss follows RFC 3550 A.3: expected = highest extended sequence
 * number - first + 1; lost = expected - received. A late packet raises
 * "received" without moving the highest number, so reordering is not loss,
 * and duplicates are taken out so they cannot hide a loss.
 */
#include "rtp.h"

#include <string.h>

#include "load.h"

#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_RTPFB 205
#define RTCP_PSFB 206
#define NTP_EPOCH_OFFSET 2208988800ULL	/* 1900 to 1970, in seconds */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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

int load_rtp_parse(const uint8_t *buf, size_t len, load_rtp_hdr *h)
{
	if (len < LOAD_RTP_HEADER || (buf[0] >> 6) != 2)
		return -1;
	size_t hl = LOAD_RTP_HEADER + 4u * (buf[0] & 0x0f);
	if (hl > len)
		return -1;
	if (buf[0] & 0x10) {
		if (hl + 4 > len)
			return -1;
		hl += 4 + 4u * rd16(buf + hl + 2);
		if (hl > len)
			return -1;
	}
	h->marker = (buf[1] & 0x80) != 0;
	h->pt = buf[1] & 0x7f;
	h->seq = rd16(buf + 2);
	h->ts = rd32(buf + 4);
	h->ssrc = rd32(buf + 8);
	h->hdr_len = hl;
	return 0;
}

void load_rtp_write(uint8_t *buf, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
		    uint32_t ssrc)
{
	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	wr16(buf + 2, seq);
	wr32(buf + 4, ts);
	wr32(buf + 8, ssrc);
}

bool load_rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	/* RTCP packet types 192..223 land where RTP would have M=1 and a
	 * payload type of 64..95, which RFC 5761 keeps free for this. */
	return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

void load_rx_stream_update(load_rx_stream *s, uint16_t seq, size_t bytes)
{
	if (!s->started) {
		s->started = true;
		s->max_seq = seq;
		LOAD_WR(s->base, (uint64_t)seq);
		LOAD_WR(s->ext_max, (uint64_t)seq);
	} else {
		uint16_t delta = (uint16_t)(seq - s->max_seq);
		if (delta == 0) {
			LOAD_WR(s->duplicates, s->duplicates + 1);
		} else if (delta < 0x8000) {
			if (seq < s->max_seq)
				s->cycles += 65536;
			s->max_seq = seq;
			LOAD_WR(s->ext_max, s->cycles + seq);
		} else {
			s->reordered++;
		}
	}
	LOAD_WR(s->packets, s->packets + 1);
	LOAD_WR(s->bytes, s->bytes + bytes);
}

uint64_t load_rx_stream_expected(const load_rx_stream *s)
{
	uint64_t packets = LOAD_RD(s->packets);
	if (packets == 0)
		return 0;
	return LOAD_RD(s->ext_max) - LOAD_RD(s->base) + 1;
}

uint64_t load_rx_stream_lost(const load_rx_stream *s)
{
	uint64_t expected = load_rx_stream_expected(s);
	uint64_t got = LOAD_RD(s->packets) - LOAD_RD(s->duplicates);
	return expected > got ? expected - got : 0;
}

static void write_report_block(uint8_t *p, load_rx_stream *s)
{
	uint64_t expected = load_rx_stream_expected(s);
	uint64_t received = s->packets - s->duplicates;
	uint64_t exp_int = expected - s->expected_prior;
	uint64_t rec_int = received - s->received_prior;
	s->expected_prior = expected;
	s->received_prior = received;
	uint8_t fraction = 0;
	if (exp_int > 0 && exp_int > rec_int)
		fraction = (uint8_t)(((exp_int - rec_int) << 8) / exp_int);
	uint64_t lost = load_rx_stream_lost(s);
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	wr32(p, s->ssrc);
	wr32(p + 4, (uint32_t)fraction << 24 | (uint32_t)lost);
	wr32(p + 8, (uint32_t)s->ext_max);
	/* Jitter, LSR and DLSR: not measured (no clock read per packet). */
	memset(p + 12, 0, 12);
}

size_t load_rtcp_rr(uint8_t *buf, size_t cap, uint32_t ssrc, load_rx_stream *streams, int n)
{
	int blocks = 0;
	for (int i = 0; i < n; i++)
		blocks += streams[i].started ? 1 : 0;
	if (blocks > 31)
		blocks = 31;
	size_t len = 8 + 24u * (size_t)blocks;
	if (len > cap)
		return 0;
	buf[0] = (uint8_t)(0x80 | blocks);
	buf[1] = RTCP_RR;
	wr16(buf + 2, (uint16_t)(len / 4 - 1));
	wr32(buf + 4, ssrc);
	uint8_t *p = buf + 8;
	for (int i = 0, done = 0; i < n && done < blocks; i++) {
		if (!streams[i].started)
			continue;
		write_report_block(p, &streams[i]);
		p += 24;
		done++;
	}
	return len;
}

size_t load_rtcp_sr(uint8_t *buf, size_t cap, uint32_t ssrc, int64_t ntp_us, uint32_t rtp_ts,
		    uint32_t packets, uint32_t octets)
{
	if (cap < 28)
		return 0;
	uint64_t secs = (uint64_t)(ntp_us / 1000000) + NTP_EPOCH_OFFSET;
	uint64_t frac = ((uint64_t)(ntp_us % 1000000) << 32) / 1000000;
	buf[0] = 0x80;
	buf[1] = RTCP_SR;
	wr16(buf + 2, 6);
	wr32(buf + 4, ssrc);
	wr32(buf + 8, (uint32_t)secs);
	wr32(buf + 12, (uint32_t)frac);
	wr32(buf + 16, rtp_ts);
	wr32(buf + 20, packets);
	wr32(buf + 24, octets);
	return 28;
}

static void walk_nack(const uint8_t *p, size_t len, load_nack_fn nack, void *ud)
{
	uint32_t media = rd32(p + 8);
	for (size_t off = 12; off + 4 <= len; off += 4) {
		uint16_t pid = rd16(p + off), blp = rd16(p + off + 2);
		nack(ud, media, pid);
		for (int i = 0; i < 16; i++)
			if (blp & (1u << i))
				nack(ud, media, (uint16_t)(pid + i + 1));
	}
}

static void count_feedback(const uint8_t *p, size_t len, load_rtcp_counts *c, load_nack_fn nack,
			   void *ud)
{
	unsigned fmt = p[0] & 0x1f;
	if (p[1] == RTCP_PSFB) {
		if (fmt == 1)
			c->pli++;
		else if (fmt == 4)
			c->fir++;
		else if (fmt == 15)
			c->remb++;
	} else if (p[1] == RTCP_RTPFB && fmt == 1 && len >= 12) {
		/* RFC 4585 §6.2.1: one FCI of 4 bytes per PID/BLP pair. */
		c->nack += (unsigned)((len - 12) / 4);
		if (nack != NULL)
			walk_nack(p, len, nack, ud);
	}
}

int load_rtcp_scan(const uint8_t *buf, size_t len, load_rtcp_counts *c, load_nack_fn nack,
		   void *ud)
{
	size_t pos = 0;
	while (pos + 4 <= len) {
		const uint8_t *p = buf + pos;
		if ((p[0] >> 6) != 2)
			return -1;
		size_t plen = 4u * ((size_t)rd16(p + 2) + 1);
		if (plen > len - pos)
			return -1;
		count_feedback(p, plen, c, nack, ud);
		pos += plen;
	}
	return pos == len ? 0 : -1;
}
