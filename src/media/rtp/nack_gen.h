/*
 * nack_gen.h: decides which packets of a received RTP stream to ask for
 * again with generic NACKs (RFC 4585 6.2.1), and when.
 *
 * Design: the generator keeps the highest sequence number seen and a
 * fixed ring of STOA_NACK_GEN_SLOTS slots indexed by sequence number, one
 * per number in the window behind the highest. A gap marks its numbers
 * missing; an arrival (late, reordered or retransmitted) clears its slot.
 * stoa_nack_gen_poll() returns the numbers due now: never asked, or asked
 * at least one RTT ago, and not yet asked max_retries times nor older
 * than max_age. A forward jump too large for the window, or a confirmed
 * backward jump (two consecutive packets, as RFC 3550 A.1 confirms a
 * restart), resets the state; the caller should then ask for a keyframe.
 *
 * Time is passed in (µs, any monotonic clock) so the logic is testable.
 * Owned by one receive stream on one thread; no locking, no allocation.
 */
#ifndef STOA_MEDIA_RTP_NACK_GEN_H
#define STOA_MEDIA_RTP_NACK_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOA_NACK_GEN_SLOTS 512 /* a power of two */

typedef struct stoa_nack_gen_cfg {
	unsigned max_retries;    /* NACKs per packet; default 10 */
	int64_t max_age_us;      /* give up on a packet missing this long; default 1 s */
	int64_t min_interval_us; /* floor for the retry interval; default 10 ms */
	uint32_t default_rtt_ms; /* when the caller knows none; default 100 */
} stoa_nack_gen_cfg;

typedef enum stoa_nack_gen_result {
	STOA_NACK_GEN_IN_ORDER = 0, /* the next or a later packet (gaps marked) */
	STOA_NACK_GEN_RECOVERED,    /* filled a gap: reordered or retransmitted */
	STOA_NACK_GEN_OLD,          /* duplicate, or too old to matter */
	STOA_NACK_GEN_RESET,        /* a jump reset the window: ask for a keyframe */
} stoa_nack_gen_result;

typedef struct stoa_nack_gen_slot {
	int64_t missing_since_us; /* 0: slot not missing */
	int64_t sent_us;          /* last NACK; 0: never */
	uint16_t seq;
	uint8_t retries;
} stoa_nack_gen_slot;

typedef struct stoa_nack_gen {
	stoa_nack_gen_cfg cfg;
	bool started;
	uint16_t highest;
	uint16_t bad_seq;       /* the packet that would confirm a backward jump */
	bool bad_seq_set;
	unsigned missing;       /* slots currently missing */
	/* What the last poll left behind, so a poll with nothing due returns
	 * without walking the window: any entry not yet NACKed, and the
	 * earliest NACK and earliest loss among the rest. */
	bool any_unsent;
	int64_t min_sent_us;
	int64_t min_since_us;
	/* Counters for statistics. */
	uint64_t nacked;        /* sequence numbers put in NACKs, retries included */
	uint64_t recovered;     /* missing packets that later arrived */
	uint64_t abandoned;     /* given up after max_retries or max_age */
	stoa_nack_gen_slot slots[STOA_NACK_GEN_SLOTS];
} stoa_nack_gen;

/* cfg NULL, or zero fields, take the defaults. */
void stoa_nack_gen_init(stoa_nack_gen *g, const stoa_nack_gen_cfg *cfg);

/* Forgets all state (keeps cfg and counters). */
void stoa_nack_gen_reset(stoa_nack_gen *g);

/*
 * A packet arrived. `rtx` marks one recovered through RTX (RFC 4588),
 * already unwrapped to its original sequence number: it only ever fills a
 * gap, never moves the window.
 */
stoa_nack_gen_result stoa_nack_gen_received(stoa_nack_gen *g, uint16_t seq, bool rtx,
					    int64_t now_us);

/*
 * Writes into out[cap], oldest first, the sequence numbers to NACK now and
 * records them as sent. rtt_ms 0 means unknown. Returns how many.
 */
size_t stoa_nack_gen_poll(stoa_nack_gen *g, int64_t now_us, uint32_t rtt_ms, uint16_t *out,
			  size_t cap);

/* How many sequence numbers are currently missing. */
static inline unsigned stoa_nack_gen_missing(const stoa_nack_gen *g)
{
	return g->missing;
}

#endif
