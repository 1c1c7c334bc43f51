/*
 * nack_gen.c: see nack_gen.h. RFC 4585 6.2.1 (generic NACK), RFC 3550
 * A.1 (how to tell a restart from a stray packet).
 */
#include <string.h>

#include "media/rtp/nack_gen.h"
#include "media/rtp/seq.h"

#define MASK (STOA_NACK_GEN_SLOTS - 1)

void stoa_nack_gen_init(stoa_nack_gen *g, const stoa_nack_gen_cfg *cfg)
{
	memset(g, 0, sizeof(*g));
	if (cfg != NULL)
		g->cfg = *cfg;
	if (g->cfg.max_retries == 0)
		g->cfg.max_retries = 10;
	if (g->cfg.max_retries > UINT8_MAX)
		g->cfg.max_retries = UINT8_MAX;
	if (g->cfg.max_age_us <= 0)
		g->cfg.max_age_us = 1000000;
	if (g->cfg.min_interval_us <= 0)
		g->cfg.min_interval_us = 10000;
	if (g->cfg.default_rtt_ms == 0)
		g->cfg.default_rtt_ms = 100;
}

void stoa_nack_gen_reset(stoa_nack_gen *g)
{
	g->started = false;
	g->bad_seq_set = false;
	g->missing = 0;
	memset(g->slots, 0, sizeof(g->slots));
}

static void clear_slot(stoa_nack_gen *g, stoa_nack_gen_slot *s)
{
	if (s->missing_since_us != 0) {
		s->missing_since_us = 0;
		g->missing--;
	}
}

static void mark_missing(stoa_nack_gen *g, uint16_t seq, int64_t now_us)
{
	stoa_nack_gen_slot *s = &g->slots[seq & MASK];
	/* The slot's previous owner is a window behind: it is lost for good. */
	if (s->missing_since_us != 0)
		g->abandoned++;
	else
		g->missing++;
	s->seq = seq;
	/* 0 means "not missing", so a clock that starts at 0 still marks. */
	s->missing_since_us = now_us != 0 ? now_us : 1;
	s->sent_us = 0;
	s->retries = 0;
	g->any_unsent = true;
}

static void start_at(stoa_nack_gen *g, uint16_t seq)
{
	stoa_nack_gen_reset(g);
	g->started = true;
	g->highest = seq;
}

/* seq is ahead of highest by d (1 <= d < SLOTS): mark the gap, advance. */
static void advance(stoa_nack_gen *g, uint16_t seq, int32_t d, int64_t now_us)
{
	for (int32_t i = 1; i < d; i++)
		mark_missing(g, (uint16_t)(g->highest + i), now_us);
	/* The arriving packet's own slot may hold an old missing entry. */
	stoa_nack_gen_slot *s = &g->slots[seq & MASK];
	if (s->missing_since_us != 0) {
		g->abandoned++;
		clear_slot(g, s);
	}
	g->highest = seq;
}

/* seq is at or behind highest, within the window. */
static stoa_nack_gen_result fill(stoa_nack_gen *g, uint16_t seq)
{
	stoa_nack_gen_slot *s = &g->slots[seq & MASK];
	if (s->missing_since_us == 0 || s->seq != seq)
		return STOA_NACK_GEN_OLD;
	clear_slot(g, s);
	g->recovered++;
	return STOA_NACK_GEN_RECOVERED;
}

stoa_nack_gen_result stoa_nack_gen_received(stoa_nack_gen *g, uint16_t seq, bool rtx,
					    int64_t now_us)
{
	if (!g->started) {
		if (rtx)
			return STOA_NACK_GEN_OLD;
		start_at(g, seq);
		return STOA_NACK_GEN_IN_ORDER;
	}
	int32_t d = stoa_seq_diff(seq, g->highest);
	if (d <= 0 && d > -STOA_NACK_GEN_SLOTS)
		return fill(g, seq);
	if (rtx)
		return STOA_NACK_GEN_OLD;
	if (d > 0 && d < STOA_NACK_GEN_SLOTS) {
		g->bad_seq_set = false;
		advance(g, seq, d, now_us);
		return STOA_NACK_GEN_IN_ORDER;
	}
	/* A jump the window cannot span. Forward: nothing in between can be
	 * recovered, so start over. Backward: a stray old packet, unless the
	 * next one follows it, which confirms the sender restarted. */
	if (d > 0 || (g->bad_seq_set && seq == g->bad_seq)) {
		start_at(g, seq);
		return STOA_NACK_GEN_RESET;
	}
	g->bad_seq = (uint16_t)(seq + 1);
	g->bad_seq_set = true;
	return STOA_NACK_GEN_OLD;
}

/* Whether slot s is due, dropping it when it has run out of chances. */
static bool due(stoa_nack_gen *g, stoa_nack_gen_slot *s, int64_t now_us, int64_t interval_us)
{
	if (s->retries >= g->cfg.max_retries ||
	    now_us - s->missing_since_us >= g->cfg.max_age_us) {
		clear_slot(g, s);
		g->abandoned++;
		return false;
	}
	return s->sent_us == 0 || now_us - s->sent_us >= interval_us;
}

/* Folds a slot still missing after the poll into the early-exit state. */
static void note_pending(stoa_nack_gen *g, const stoa_nack_gen_slot *s)
{
	if (s->missing_since_us == 0)
		return;
	if (s->sent_us == 0)
		g->any_unsent = true;
	else if (s->sent_us < g->min_sent_us)
		g->min_sent_us = s->sent_us;
	if (s->missing_since_us < g->min_since_us)
		g->min_since_us = s->missing_since_us;
}

size_t stoa_nack_gen_poll(stoa_nack_gen *g, int64_t now_us, uint32_t rtt_ms, uint16_t *out,
			  size_t cap)
{
	if (!g->started || g->missing == 0)
		return 0;
	int64_t interval = (int64_t)(rtt_ms != 0 ? rtt_ms : g->cfg.default_rtt_ms) * 1000;
	if (interval < g->cfg.min_interval_us)
		interval = g->cfg.min_interval_us;
	if (!g->any_unsent && now_us - g->min_sent_us < interval &&
	    now_us - g->min_since_us < g->cfg.max_age_us)
		return 0;
	g->any_unsent = false;
	g->min_sent_us = INT64_MAX;
	g->min_since_us = INT64_MAX;
	size_t n = 0;
	unsigned left = g->missing;
	/* Walk the window oldest first so the NACK packs into few PID+BLPs. */
	for (int32_t back = STOA_NACK_GEN_SLOTS - 1; back >= 1 && left > 0; back--) {
		uint16_t seq = (uint16_t)(g->highest - back);
		stoa_nack_gen_slot *s = &g->slots[seq & MASK];
		if (s->missing_since_us == 0 || s->seq != seq)
			continue;
		left--;
		if (due(g, s, now_us, interval) && n < cap) {
			out[n++] = seq;
			s->sent_us = now_us != 0 ? now_us : 1;
			s->retries++;
			g->nacked++;
		}
		note_pending(g, s);
	}
	return n;
}
