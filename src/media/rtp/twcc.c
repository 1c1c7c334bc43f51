/*
 * twcc.c: see twcc.h.
 */
#include <string.h>

#include "media/rtcp/rtcp.h"
#include "media/rtp/seq.h"
#include "media/rtp/twcc.h"

/* Packets per message: keeps one message well under the MTU. */
#define MAX_PER_MESSAGE 400

void stoa_twcc_init(stoa_twcc_recorder *r)
{
	memset(r, 0, sizeof(*r));
}

static int64_t *slot(stoa_twcc_recorder *r, uint16_t seq)
{
	return &r->arrival[seq % STOA_TWCC_WINDOW];
}

void stoa_twcc_record(stoa_twcc_recorder *r, uint16_t seq, int64_t now_us)
{
	if (!r->started) {
		r->started = true;
		r->base = seq;
		r->next = seq;
	}
	int diff = stoa_seq_diff(seq, r->base);
	if (diff < 0)
		return; /* already reported */
	if (diff >= STOA_TWCC_WINDOW) {
		/* A jump past the window: what was pending cannot be reported any
		 * more; start again from here. */
		memset(r->arrival, 0, sizeof(r->arrival));
		r->base = seq;
		r->next = seq;
	}
	*slot(r, seq) = now_us > 0 ? now_us : 1;
	if (stoa_seq_diff(seq, r->next) >= 0)
		r->next = (uint16_t)(seq + 1);
}

bool stoa_twcc_pending(const stoa_twcc_recorder *r)
{
	return r->started && r->next != r->base;
}

/* The first received packet from base decides the reference time. */
static int64_t first_arrival(stoa_twcc_recorder *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int64_t t = *slot(r, (uint16_t)(r->base + i));
		if (t != 0)
			return t;
	}
	return 0;
}

int stoa_twcc_build(stoa_twcc_recorder *r, uint32_t sender_ssrc, uint32_t media_ssrc,
		    uint8_t *buf, size_t cap)
{
	if (!stoa_twcc_pending(r))
		return 0;
	unsigned n = (uint16_t)(r->next - r->base);
	if (n > MAX_PER_MESSAGE)
		n = MAX_PER_MESSAGE;
	int64_t first = first_arrival(r, n);
	if (first == 0) {
		/* Nothing in range arrived: there is nothing to time; skip it. */
		r->base = (uint16_t)(r->base + n);
		return 0;
	}
	stoa_rtcp_twcc_pkt pkts[MAX_PER_MESSAGE];
	uint32_t ref = (uint32_t)(first / STOA_RTCP_TWCC_US_PER_REF);
	int64_t prev = (int64_t)ref * STOA_RTCP_TWCC_US_PER_REF;
	unsigned count = 0;
	for (; count < n; count++) {
		int64_t *t = slot(r, (uint16_t)(r->base + count));
		pkts[count].received = *t != 0;
		pkts[count].delta = 0;
		if (*t == 0)
			continue;
		int64_t d = (*t - prev) / STOA_RTCP_TWCC_US_PER_DELTA;
		if (d < INT16_MIN || d > INT16_MAX)
			break; /* the next message starts here, with its own reference */
		pkts[count].delta = (int32_t)d;
		prev += d * STOA_RTCP_TWCC_US_PER_DELTA;
	}
	if (count == 0)
		count = 1;
	stoa_rtcp_twcc hdr = { .base_seq = r->base, .status_count = (uint16_t)count,
			       .ref_time = ref & 0xFFFFFF, .fb_count = r->fb_count };
	int len = stoa_rtcp_build_twcc(buf, cap, sender_ssrc, media_ssrc, &hdr, pkts, count);
	if (len < 0)
		return len;
	for (unsigned i = 0; i < count; i++)
		*slot(r, (uint16_t)(r->base + i)) = 0;
	r->base = (uint16_t)(r->base + count);
	r->fb_count++;
	return len;
}
