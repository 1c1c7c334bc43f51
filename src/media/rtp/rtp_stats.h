/*
 * rtp_stats.h: per-stream RTP statistics and what RTCP reports carry.
 *
 * Receive side, RFC 3550 appendix A: sequence number validation with
 * probation, cycles and the extended highest sequence number (A.1),
 * expected/lost packets, cumulative and as a fraction since the previous
 * report (A.3), interarrival jitter in timestamp units (A.8), and the last
 * SR's NTP middle bits and arrival time for LSR/DLSR (6.4.1).
 *
 * Send side: packet and octet counts and the RTP timestamp to put in an SR
 * (6.4.1), and what the receiver's report blocks tell us back: loss,
 * jitter and round-trip time (A - LSR - DLSR, 6.4.1).
 *
 * Plain structs owned by the stream; one thread; no allocation. Times are
 * passed in as µs on a monotonic clock, except NTP values, which the caller
 * derives from the wall clock (ntp.h).
 */
#ifndef STOA_MEDIA_RTP_RTP_STATS_H
#define STOA_MEDIA_RTP_RTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtcp/rtcp.h"

typedef struct stoa_rtp_recv_stats {
	uint32_t clock_rate;
	bool started;
	/* A.1 */
	uint16_t max_seq;
	uint32_t cycles;   /* count of wraps, << 16 */
	uint32_t base_seq;
	uint32_t bad_seq;
	unsigned probation;
	uint64_t received; /* valid packets since the source was confirmed */
	/* A.3 */
	uint64_t expected_prior;
	uint64_t received_prior;
	/* A.8: jitter scaled by 16, transit in timestamp units */
	uint32_t jitter_q4;
	int64_t transit;
	bool have_transit;
	int64_t first_arrival_us;
	/* The last SR */
	bool have_sr;
	uint32_t sr_ntp_mid;
	int64_t sr_arrival_us;
	uint64_t sr_ntp;
	uint32_t sr_rtp_ts;
	/* Every packet handed to update, valid or not */
	uint64_t packets;
	uint64_t bytes;
} stoa_rtp_recv_stats;

#define STOA_RTP_STATS_PROBATION (-1) /* source not yet confirmed */
#define STOA_RTP_STATS_BAD_SEQ (-2)   /* a jump, until the next packet confirms it */

void stoa_rtp_recv_stats_init(stoa_rtp_recv_stats *s, uint32_t clock_rate);

/*
 * A packet arrived (not a retransmission: those would distort jitter).
 * Returns 0 when it counts as valid, or STOA_RTP_STATS_PROBATION /
 * STOA_RTP_STATS_BAD_SEQ; packets and bytes are counted either way.
 */
int stoa_rtp_recv_stats_update(stoa_rtp_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
			       size_t bytes, int64_t arrival_us);

/* An SR about this stream's sender arrived. */
void stoa_rtp_recv_stats_on_sr(stoa_rtp_recv_stats *s, const stoa_rtcp_sender_info *si,
			       int64_t arrival_us);

/*
 * Fills a report block about this stream and starts a new report interval
 * (the fraction lost covers the time since the previous call). Returns 0,
 * or negative when no valid packet has arrived yet (send no block).
 */
int stoa_rtp_recv_stats_report(stoa_rtp_recv_stats *s, uint32_t ssrc, int64_t now_us,
			       stoa_rtcp_report_block *rb);

uint32_t stoa_rtp_recv_stats_ext_max(const stoa_rtp_recv_stats *s);
uint64_t stoa_rtp_recv_stats_expected(const stoa_rtp_recv_stats *s);
/* Cumulative lost; negative with duplicates. */
int64_t stoa_rtp_recv_stats_lost(const stoa_rtp_recv_stats *s);
/* Interarrival jitter in timestamp units. */
uint32_t stoa_rtp_recv_stats_jitter(const stoa_rtp_recv_stats *s);

typedef struct stoa_rtp_send_stats {
	uint32_t clock_rate;
	uint64_t packets;
	uint64_t octets;     /* payload octets, as the SR counts them */
	bool sent;
	uint32_t last_rtp_ts;
	int64_t last_send_us;
	/* From the latest report block about this stream */
	bool have_report;
	uint8_t fraction_lost;
	int32_t cum_lost;
	uint32_t jitter;
	int32_t rtt_ms;      /* -1 until known */
} stoa_rtp_send_stats;

void stoa_rtp_send_stats_init(stoa_rtp_send_stats *s, uint32_t clock_rate);

void stoa_rtp_send_stats_update(stoa_rtp_send_stats *s, uint32_t rtp_ts, size_t payload_len,
				int64_t now_us);

/*
 * The sender info of an SR sent now: `ntp_now` is the wall clock as NTP,
 * the RTP timestamp is the last one sent advanced by the time since at the
 * clock rate. Returns 0, or negative when nothing was sent yet.
 */
int stoa_rtp_send_stats_sender_info(const stoa_rtp_send_stats *s, uint32_t ssrc, int64_t now_us,
				    uint64_t ntp_now, stoa_rtcp_sender_info *out);

/* A report block about this stream arrived at ntp_mid_now (stoa_ntp_mid). */
void stoa_rtp_send_stats_on_report(stoa_rtp_send_stats *s, const stoa_rtcp_report_block *rb,
				   uint32_t ntp_mid_now);

/*
 * Round-trip time from a report block: A - LSR - DLSR, in ms. Negative
 * when the block echoes no SR (LSR 0); a result below 0 (clock skew) is 0.
 */
int32_t stoa_rtp_rtt_ms(const stoa_rtcp_report_block *rb, uint32_t ntp_mid_now);

#endif
