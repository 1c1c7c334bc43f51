/*
 * seq.h: arithmetic on 16-bit RTP sequence numbers and 32-bit timestamps,
 * which wrap (RFC 3550 section 5.1, appendix A.1).
 *
 * "a is newer than b" means a lies less than half the number space ahead of
 * b. Two values exactly half the space apart are neither newer nor older
 * than each other; callers that need a total order extend the value first.
 */
#ifndef STOA_MEDIA_RTP_SEQ_H
#define STOA_MEDIA_RTP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* Signed distance a - b, in [-32768, 32767]: 65535 -> 0 is +1. */
static inline int32_t stoa_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

static inline bool stoa_seq_newer(uint16_t a, uint16_t b)
{
	return stoa_seq_diff(a, b) > 0;
}

static inline bool stoa_seq_newer_or_equal(uint16_t a, uint16_t b)
{
	return stoa_seq_diff(a, b) >= 0;
}

/* The newer of the two (a on a tie). */
static inline uint16_t stoa_seq_max(uint16_t a, uint16_t b)
{
	return stoa_seq_newer(b, a) ? b : a;
}

static inline int64_t stoa_ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(uint32_t)(a - b);
}

static inline bool stoa_ts_newer(uint32_t a, uint32_t b)
{
	return stoa_ts_diff(a, b) > 0;
}

/*
 * The 32-bit extended sequence number of `seq` (cycles << 16 | seq) that
 * lies closest to the extended reference `ref`. Values before the first
 * cycle stay in it rather than going negative.
 */
static inline uint32_t stoa_seq_extend(uint32_t ref, uint16_t seq)
{
	int64_t ext = (int64_t)ref + stoa_seq_diff(seq, (uint16_t)ref);
	if (ext < 0)
		ext += 65536;
	return (uint32_t)ext;
}

/*
 * Unwrapper state for a stream of sequence numbers: keeps the highest
 * extended value seen so each new one is extended against it.
 * Owned by whoever owns the stream; no locking.
 */
typedef struct stoa_seq_unwrapper {
	uint32_t highest;
	bool started;
} stoa_seq_unwrapper;

static inline uint32_t stoa_seq_unwrap(stoa_seq_unwrapper *u, uint16_t seq)
{
	if (!u->started) {
		u->started = true;
		u->highest = seq;
		return seq;
	}
	uint32_t ext = stoa_seq_extend(u->highest, seq);
	if (ext > u->highest)
		u->highest = ext;
	return ext;
}

#endif
