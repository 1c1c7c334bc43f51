/*
 * rtcp_twcc.c: transport-wide congestion control feedback (RTPFB FMT 15,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1).
 *
 * After the feedback header come base sequence number, packet status count,
 * a 24-bit reference time (64 ms units) and a feedback packet count, then
 * 16-bit packet chunks covering `status count` packets, then one receive
 * delta (250 µs units) per received packet, then padding. A chunk is either
 * a run (T=0: 2-bit symbol, 13-bit length) or a status vector (T=1: S=0,
 * fourteen 1-bit symbols; S=1, seven 2-bit symbols). Symbols: 0 not
 * received, 1 received with a 1-byte unsigned delta, 2 received with a
 * 2-byte signed delta, 3 reserved.
 *
 * The deltas start where the chunks end, which is only known after reading
 * every chunk, so parsing walks the chunks twice: once to size and check,
 * once to decode.
 */
#include <string.h>

#include "media/rtcp/rtcp_internal.h"
#include "media/rtp/bytes.h"

#define FB_HDR STOA__RTCP_FB_HDR_LEN
#define TWCC_FIXED_LEN 8
#define RUN_MAX 0x1fff
#define SYM_NONE 0
#define SYM_SMALL 1
#define SYM_LARGE 2
#define SYM_RESERVED 3

/* How many symbols a chunk holds. */
static unsigned chunk_len(uint16_t chunk)
{
	if ((chunk & 0x8000) == 0)
		return chunk & RUN_MAX;
	return (chunk & 0x4000) ? 7 : 14;
}

/* Symbol k of a chunk (k < chunk_len). */
static unsigned chunk_symbol(uint16_t chunk, unsigned k)
{
	if ((chunk & 0x8000) == 0)
		return (chunk >> 13) & 3;
	if (chunk & 0x4000)
		return (chunk >> (12 - 2 * k)) & 3;
	return (chunk >> (13 - k)) & 1;
}

/* Pass one: where the deltas start and how many bytes they take. */
static int size_chunks(const uint8_t *fci, size_t len, unsigned count, size_t *delta_off,
		       size_t *delta_bytes)
{
	size_t off = TWCC_FIXED_LEN, bytes = 0;
	unsigned covered = 0;
	while (covered < count) {
		if (off + 2 > len)
			return -1;
		uint16_t chunk = stoa_be16(fci + off);
		off += 2;
		unsigned n = chunk_len(chunk);
		for (unsigned k = 0; k < n && covered < count; k++, covered++) {
			unsigned sym = chunk_symbol(chunk, k);
			if (sym == SYM_RESERVED)
				return -1;
			bytes += sym; /* the symbol value is the delta size */
		}
	}
	if (off + bytes > len)
		return -1;
	*delta_off = off;
	*delta_bytes = bytes;
	return 0;
}

int stoa_rtcp_twcc_parse(const stoa_rtcp_fb *fb, stoa_rtcp_twcc *out, stoa_rtcp_twcc_pkt *pkts,
			 size_t cap)
{
	if (fb->pt != STOA_RTCP_RTPFB || fb->fmt != STOA_RTCP_RTPFB_TWCC ||
	    fb->fci_len < TWCC_FIXED_LEN)
		return -1;
	const uint8_t *fci = fb->fci;
	out->base_seq = stoa_be16(fci);
	out->status_count = stoa_be16(fci + 2);
	out->ref_time = stoa_be24(fci + 4);
	out->fb_count = fci[7];
	size_t doff, dbytes;
	if (size_chunks(fci, fb->fci_len, out->status_count, &doff, &dbytes) < 0)
		return -1;

	/* Pass two: chunks again, now consuming deltas, storing up to cap. */
	size_t off = TWCC_FIXED_LEN, n = 0;
	unsigned covered = 0;
	while (covered < out->status_count && n < cap) {
		uint16_t chunk = stoa_be16(fci + off);
		off += 2;
		unsigned len = chunk_len(chunk);
		for (unsigned k = 0; k < len && covered < out->status_count && n < cap;
		     k++, covered++) {
			unsigned sym = chunk_symbol(chunk, k);
			stoa_rtcp_twcc_pkt *p = &pkts[n++];
			p->seq = (uint16_t)(out->base_seq + covered);
			p->received = sym != SYM_NONE;
			p->delta = 0;
			if (sym == SYM_SMALL)
				p->delta = fci[doff];
			else if (sym == SYM_LARGE)
				p->delta = (int32_t)stoa_be16(fci + doff) -
					   ((fci[doff] & 0x80) ? 0x10000 : 0);
			doff += sym;
		}
	}
	return (int)n;
}

/* ------------------------------------------------------------ building */

static int symbol_of(const stoa_rtcp_twcc_pkt *p)
{
	if (!p->received)
		return SYM_NONE;
	if (p->delta >= 0 && p->delta <= 255)
		return SYM_SMALL;
	if (p->delta >= INT16_MIN && p->delta <= INT16_MAX)
		return SYM_LARGE;
	return -1;
}

/* How many of pkts[i..n) share pkts[i]'s symbol, up to the run maximum. */
static size_t run_at(const stoa_rtcp_twcc_pkt *pkts, size_t i, size_t n)
{
	int s = symbol_of(&pkts[i]);
	size_t j = i + 1;
	while (j < n && j - i < RUN_MAX && symbol_of(&pkts[j]) == s)
		j++;
	return j - i;
}

/*
 * The next chunk for pkts[i..n): a run when at least seven share a symbol
 * (a vector would hold no more), a 1-bit vector when the next fourteen
 * need no large delta, otherwise a 2-bit vector of seven. Symbols past n
 * in a vector stay "not received", which readers ignore beyond the count.
 */
static uint16_t next_chunk(const stoa_rtcp_twcc_pkt *pkts, size_t i, size_t n, size_t *used)
{
	size_t run = run_at(pkts, i, n);
	if (run >= 7 || run == n - i) {
		*used = run;
		return (uint16_t)(((unsigned)symbol_of(&pkts[i]) << 13) | run);
	}
	bool one_bit = true;
	for (size_t k = i; k < n && k < i + 14; k++)
		one_bit = one_bit && symbol_of(&pkts[k]) != SYM_LARGE;
	uint16_t chunk;
	if (one_bit) {
		chunk = 0x8000;
		for (size_t k = 0; k < 14 && i + k < n; k++)
			chunk |= (uint16_t)(symbol_of(&pkts[i + k]) << (13 - k));
		*used = n - i < 14 ? n - i : 14;
	} else {
		chunk = 0xc000;
		for (size_t k = 0; k < 7 && i + k < n; k++)
			chunk |= (uint16_t)(symbol_of(&pkts[i + k]) << (12 - 2 * k));
		*used = n - i < 7 ? n - i : 7;
	}
	return chunk;
}

int stoa_rtcp_build_twcc(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			 const stoa_rtcp_twcc *hdr, const stoa_rtcp_twcc_pkt *pkts, size_t n)
{
	if (n == 0 || n > UINT16_MAX || cap < FB_HDR + TWCC_FIXED_LEN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (symbol_of(&pkts[i]) < 0)
			return -1;
	}
	uint8_t *fci = buf + FB_HDR;
	size_t room = cap - FB_HDR;
	stoa_put_be16(fci, hdr->base_seq);
	stoa_put_be16(fci + 2, (uint16_t)n);
	stoa_put_be24(fci + 4, hdr->ref_time & 0xffffff);
	fci[7] = hdr->fb_count;
	size_t off = TWCC_FIXED_LEN;
	for (size_t i = 0, used = 0; i < n; i += used) {
		if (off + 2 > room)
			return -1;
		stoa_put_be16(fci + off, next_chunk(pkts, i, n, &used));
		off += 2;
	}
	for (size_t i = 0; i < n; i++) {
		int sym = symbol_of(&pkts[i]);
		if ((size_t)sym > room - off)
			return -1;
		if (sym == SYM_SMALL)
			fci[off] = (uint8_t)pkts[i].delta;
		else if (sym == SYM_LARGE)
			stoa_put_be16(fci + off, (uint16_t)(int16_t)pkts[i].delta);
		off += (size_t)sym;
	}
	size_t len = FB_HDR + off;
	size_t pad = (4 - len % 4) % 4;
	if (len + pad > cap || len + pad > 4 * 65536)
		return -1;
	if (pad > 0) {
		memset(buf + len, 0, pad - 1);
		buf[len + pad - 1] = (uint8_t)pad;
	}
	stoa__rtcp_put_fb_header(buf, STOA_RTCP_RTPFB_TWCC, STOA_RTCP_RTPFB, len + pad, sender,
				 media);
	if (pad > 0)
		buf[0] |= 0x20;
	return (int)(len + pad);
}
