/*
 * rtx_buffer.h: the recently sent packets of one outgoing RTP stream, kept
 * so NACKed ones can be sent again (RFC 4585 6.2.1), either as they were or
 * wrapped as RTX (RFC 4588) when the receiver negotiated it.
 *
 * Design: a ring of `slots` entries (a power of two) indexed by sequence
 * number, each a copy of the packet exactly as it was sent (before SRTP)
 * in one block allocated at creation, so storing never allocates. A lookup
 * checks the stored sequence number and age, so a slot overwritten or
 * left over from long ago never answers for the wrong packet. Each entry
 * remembers when it was last resent, so a burst of NACKs for the same
 * packet (several receivers, or retries inside one RTT) costs one resend
 * per RTT.
 *
 * Owned by the send stream; used only on the thread that sends on it.
 * Freed with stoa_rtx_buffer_free() by that owner.
 */
#ifndef STOA_MEDIA_RTP_RTX_BUFFER_H
#define STOA_MEDIA_RTP_RTX_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct stoa_rtx_buffer stoa_rtx_buffer;

typedef struct stoa_rtx_buffer_cfg {
	unsigned slots;     /* rounded up to a power of two; default 512 */
	size_t max_len;     /* longest packet kept; default 1500 */
	int64_t max_age_us; /* older packets are not resent; default 1 s */
} stoa_rtx_buffer_cfg;

/* cfg NULL, or zero fields, take the defaults. NULL on failure. */
stoa_rtx_buffer *stoa_rtx_buffer_new(const stoa_rtx_buffer_cfg *cfg);
void stoa_rtx_buffer_free(stoa_rtx_buffer *b);

/*
 * Copies a sent RTP packet (its sequence number is read from it). Returns 0,
 * or negative when it is not RTP or longer than max_len (not stored).
 */
int stoa_rtx_buffer_store(stoa_rtx_buffer *b, const uint8_t *pkt, size_t len, int64_t now_us);

/* The stored packet `seq`, or NULL. Borrowed until the next store. */
const uint8_t *stoa_rtx_buffer_peek(const stoa_rtx_buffer *b, uint16_t seq, int64_t now_us,
				    size_t *len);

/*
 * The packet to answer a NACK for `seq` with: 0 with the packet (borrowed
 * until the next store) and the resend time recorded; -1 when it is not
 * (or no longer) stored; -2 when it was resent less than an RTT ago
 * (rtt_ms 0: 100 ms is assumed).
 */
int stoa_rtx_buffer_get_for_resend(stoa_rtx_buffer *b, uint16_t seq, int64_t now_us,
				   uint32_t rtt_ms, const uint8_t **pkt, size_t *len);

/* Forgets every packet (after an SSRC change, say). */
void stoa_rtx_buffer_clear(stoa_rtx_buffer *b);

/*
 * Builds the RTX form of a plain RTP packet (RFC 4588 4): same header
 * fields, CSRCs and extensions, but payload type, sequence number and SSRC
 * of the RTX stream, the original sequence number (OSN) in the first two
 * payload bytes, then the original payload without its padding. Returns
 * the length written into out, or negative.
 */
int stoa_rtx_wrap(const uint8_t *plain, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
		  uint16_t rtx_seq, uint8_t *out, size_t cap);

/*
 * The reverse, in place, for RTX received from a sender: restores the
 * original sequence number, payload type and SSRC and drops the OSN (and
 * any padding). *len is updated. Returns 0, or negative when malformed or
 * without an OSN (a padding-only probe, to be dropped).
 */
int stoa_rtx_unwrap_in_place(uint8_t *buf, size_t *len, uint8_t orig_pt, uint32_t orig_ssrc);

#endif
