/*
 * rtp_switch.h: keeps one outgoing RTP stream continuous while its source
 * changes (another simulcast layer, another publisher).
 *
 * A receiver treats a jump in sequence number as loss and a jump in
 * timestamp as a long pause or a clock glitch, so a relay that switches
 * sources rewrites both: the first packet after a switch gets the sequence
 * number after the last one sent, and a timestamp that advances on the
 * last one sent by the wall time elapsed since (× the clock rate), at least
 * one tick. Later packets of the same source keep the same offsets, so the
 * source's own spacing (and reordering) is preserved. Packets the relay
 * decides not to send (a temporal layer filtered out) can be skipped
 * without leaving a gap.
 *
 * VP8 (RFC 7741 4.2): the payload descriptor's PictureID and TL0PICIDX are
 * counters of the source's encoder; a decoder that sees them jump at a
 * switch waits for pictures that will never come. They are rebased the same
 * way, in place (the field keeps its 7- or 15-bit width).
 *
 * Plain data and pure functions on buffers: one owner (the thread that
 * relays the stream), time passed in, no allocation. Linked into plugins
 * (libstoa_plugin_common), so it uses nothing from the core.
 */
#ifndef STOA_PLUGIN_COMMON_RTP_SWITCH_H
#define STOA_PLUGIN_COMMON_RTP_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct stoa_rtp_switch {
	uint32_t clock;		/* RTP clock rate of the stream (90000 for video) */
	bool vp8;		/* rewrite VP8 PictureID/TL0PICIDX too */
	bool started;		/* something was sent */
	bool rebase;		/* the next packet starts a new source */
	uint32_t src_ssrc;	/* the current source */
	uint16_t seq_off;	/* out = in + off (mod 2^16) */
	uint32_t ts_off;
	uint16_t last_seq;	/* highest sequence number sent */
	uint32_t last_ts;	/* timestamp of the newest packet sent */
	int64_t last_us;	/* when it was sent */
	/* The source sequence number of the packet rewritten last, while it
	 * can still be taken back (stoa_rtp_switch_unsend). */
	bool can_unsend;
	uint16_t unsend_seq;
	/* VP8 */
	bool pid_rebase, tl0_rebase;
	bool have_pid, have_tl0;
	uint16_t pid_off, last_pid, src_last_pid;
	uint8_t tl0_off, last_tl0;
	uint64_t switches;	/* counters */
} stoa_rtp_switch;

/* clock 0 takes 90000. `vp8` turns on the payload descriptor rewrite. */
void stoa_rtp_switch_init(stoa_rtp_switch *sw, uint32_t clock, bool vp8);

/* The next packet comes from a new source even if its SSRC is the same
 * (a publisher that renegotiated, say). A new SSRC is noticed on its own. */
void stoa_rtp_switch_source_changed(stoa_rtp_switch *sw);

/* Rewrites an RTP packet in place: sequence number, timestamp and, for VP8,
 * the payload descriptor. The SSRC is left alone (the core sets its own).
 * Returns 0, or -1 for a packet too short to be RTP (left untouched). */
int stoa_rtp_switch_rewrite(stoa_rtp_switch *sw, uint8_t *buf, size_t len, int64_t now_us);

/* A packet of the current source that will not be sent: later packets
 * close the gap it leaves (sequence number, and for VP8 the PictureID of a
 * picture dropped whole). Only packets newer than the last one sent count.
 * Returns 0 or -1 as above. */
int stoa_rtp_switch_skip(stoa_rtp_switch *sw, const uint8_t *buf, size_t len);

/* The packet rewritten last never reached the receiver (its send was
 * refused): take it back as if it had been skipped, so the next packet
 * sent takes its sequence number and, when it began a picture, its VP8
 * PictureID; the receiver sees no gap to NACK. `buf` is the source's
 * packet (before the rewrite). Only the newest packet sent can be taken
 * back; anything else is left alone. Timestamps are not touched. Returns
 * 0 or -1 as above. */
int stoa_rtp_switch_unsend(stoa_rtp_switch *sw, const uint8_t *buf, size_t len);

/* ---- RTP/VP8 helpers on buffers (for plugins, which cannot use the core's) ---- */

/* Offset and length of the RTP payload (after CSRCs, extension, without
 * padding). Returns 0, or -1 if malformed. */
int stoa_rtp_switch_payload(const uint8_t *buf, size_t len, size_t *off, size_t *plen);

/* What a VP8 payload descriptor says. Offsets are from the payload start,
 * -1 when the field is absent. */
typedef struct stoa_vp8_desc {
	bool start;		/* S bit and partition 0: the first packet of a picture */
	int pid_off;		/* PictureID */
	bool pid_15;		/* M bit: 15-bit PictureID */
	uint16_t pid;
	int tl0_off;		/* TL0PICIDX */
	uint8_t tl0;
	int tid;		/* temporal layer, -1 if absent */
	bool layer_sync;	/* Y bit */
	size_t size;		/* bytes of the descriptor */
} stoa_vp8_desc;

int stoa_vp8_desc_parse(const uint8_t *payload, size_t len, stoa_vp8_desc *d);

/* True when a compound RTCP packet holds a PLI or FIR (RFC 4585, 5104):
 * the receiver wants a keyframe. */
bool stoa_rtcp_wants_keyframe(const uint8_t *buf, size_t len);

/* The sequence numbers a compound RTCP packet NACKs (RFC 4585 6.2.1:
 * generic NACK, PID + BLP), at most `max`. Returns how many. */
size_t stoa_rtcp_nack_seqs(const uint8_t *buf, size_t len, uint16_t *out, size_t max);

/* The offsets a packet was sent with, to send it again exactly as it was
 * (a retransmission): stoa_rtp_switch_offsets() after the rewrite, then
 * stoa_rtp_switch_apply() on a fresh copy of the source packet. */
typedef struct stoa_rtp_offsets {
	uint32_t ts_off;
	uint16_t seq_out;	/* the sequence number it went out with */
	uint16_t pid_off;
	uint8_t tl0_off;
} stoa_rtp_offsets;

void stoa_rtp_switch_offsets(const stoa_rtp_switch *sw, const uint8_t *sent, size_t len,
			     stoa_rtp_offsets *o);
int stoa_rtp_switch_apply(const stoa_rtp_offsets *o, bool vp8, uint8_t *buf, size_t len);

#endif
