/*
 * rtx_buffer.c: see rtx_buffer.h. RFC 4585 6.2.1 (what a NACK asks for),
 * RFC 4588 section 4 (the RTX packet format).
 */
#include <glib.h>
#include <string.h>

#include "media/rtp/rtp.h"
#include "media/rtp/rtx_buffer.h"
#include "media/rtp/seq.h"

#define DEFAULT_RTT_US 100000

typedef struct rtx_slot {
	int64_t sent_us;   /* 0: empty */
	int64_t resent_us; /* 0: never resent */
	uint16_t seq;
	uint16_t len;
} rtx_slot;

struct stoa_rtx_buffer {
	unsigned mask;
	size_t max_len;
	int64_t max_age_us;
	rtx_slot *slots;
	uint8_t *data; /* slots * max_len bytes; slot i at i * max_len */
};

static unsigned round_pow2(unsigned v)
{
	unsigned p = 1;
	while (p < v && p < (1u << 15))
		p <<= 1;
	return p;
}

stoa_rtx_buffer *stoa_rtx_buffer_new(const stoa_rtx_buffer_cfg *cfg)
{
	stoa_rtx_buffer_cfg c = { 0 };
	if (cfg != NULL)
		c = *cfg;
	if (c.slots == 0)
		c.slots = 512;
	if (c.max_len == 0)
		c.max_len = 1500;
	if (c.max_age_us <= 0)
		c.max_age_us = 1000000;
	if (c.max_len < STOA_RTP_HEADER_LEN || c.max_len > UINT16_MAX)
		return NULL;
	stoa_rtx_buffer *b = g_new0(stoa_rtx_buffer, 1);
	unsigned n = round_pow2(c.slots);
	b->mask = n - 1;
	b->max_len = c.max_len;
	b->max_age_us = c.max_age_us;
	b->slots = g_new0(rtx_slot, n);
	b->data = g_malloc((gsize)n * c.max_len);
	return b;
}

void stoa_rtx_buffer_free(stoa_rtx_buffer *b)
{
	if (b == NULL)
		return;
	g_free(b->slots);
	g_free(b->data);
	g_free(b);
}

void stoa_rtx_buffer_clear(stoa_rtx_buffer *b)
{
	memset(b->slots, 0, sizeof(rtx_slot) * ((size_t)b->mask + 1));
}

int stoa_rtx_buffer_store(stoa_rtx_buffer *b, const uint8_t *pkt, size_t len, int64_t now_us)
{
	if (len < STOA_RTP_HEADER_LEN || len > b->max_len || (pkt[0] >> 6) != STOA_RTP_VERSION)
		return -1;
	uint16_t seq = stoa_be16(pkt + 2);
	unsigned i = seq & b->mask;
	rtx_slot *s = &b->slots[i];
	memcpy(b->data + (size_t)i * b->max_len, pkt, len);
	s->seq = seq;
	s->len = (uint16_t)len;
	s->sent_us = now_us != 0 ? now_us : 1;
	s->resent_us = 0;
	return 0;
}

static rtx_slot *lookup(const stoa_rtx_buffer *b, uint16_t seq, int64_t now_us)
{
	rtx_slot *s = &b->slots[seq & b->mask];
	if (s->sent_us == 0 || s->seq != seq || now_us - s->sent_us > b->max_age_us)
		return NULL;
	return s;
}

const uint8_t *stoa_rtx_buffer_peek(const stoa_rtx_buffer *b, uint16_t seq, int64_t now_us,
				    size_t *len)
{
	rtx_slot *s = lookup(b, seq, now_us);
	if (s == NULL)
		return NULL;
	*len = s->len;
	return b->data + (size_t)(seq & b->mask) * b->max_len;
}

int stoa_rtx_buffer_get_for_resend(stoa_rtx_buffer *b, uint16_t seq, int64_t now_us,
				   uint32_t rtt_ms, const uint8_t **pkt, size_t *len)
{
	rtx_slot *s = lookup(b, seq, now_us);
	if (s == NULL)
		return -1;
	int64_t interval = rtt_ms != 0 ? (int64_t)rtt_ms * 1000 : DEFAULT_RTT_US;
	if (s->resent_us != 0 && now_us - s->resent_us < interval)
		return -2;
	s->resent_us = now_us != 0 ? now_us : 1;
	*len = s->len;
	*pkt = b->data + (size_t)(seq & b->mask) * b->max_len;
	return 0;
}

int stoa_rtx_wrap(const uint8_t *plain, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
		  uint16_t rtx_seq, uint8_t *out, size_t cap)
{
	stoa_rtp_info info;
	if (stoa_rtp_parse(plain, len, &info) < 0 || rtx_pt > 127)
		return -1;
	size_t total = info.header_len + 2 + info.payload_len;
	if (total > cap)
		return -1;
	memcpy(out, plain, info.header_len);
	out[0] &= (uint8_t)~0x20; /* the original's padding is not carried */
	stoa_rtp_set_pt(out, total, rtx_pt);
	stoa_rtp_set_seq(out, total, rtx_seq);
	stoa_rtp_set_ssrc(out, total, rtx_ssrc);
	stoa_put_be16(out + info.header_len, info.seq);
	memcpy(out + info.header_len + 2, plain + info.payload_off, info.payload_len);
	return (int)total;
}

int stoa_rtx_unwrap_in_place(uint8_t *buf, size_t *len, uint8_t orig_pt, uint32_t orig_ssrc)
{
	stoa_rtp_info info;
	if (stoa_rtp_parse(buf, *len, &info) < 0 || info.payload_len < 2 || orig_pt > 127)
		return -1;
	uint16_t osn = stoa_be16(buf + info.payload_off);
	memmove(buf + info.payload_off, buf + info.payload_off + 2, info.payload_len - 2);
	*len = info.header_len + info.payload_len - 2;
	buf[0] &= (uint8_t)~0x20;
	stoa_rtp_set_pt(buf, *len, orig_pt);
	stoa_rtp_set_seq(buf, *len, osn);
	stoa_rtp_set_ssrc(buf, *len, orig_ssrc);
	return 0;
}
