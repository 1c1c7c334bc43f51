/*
 * rtp_stats.c: see rtp_stats.h. RFC 3550 appendix A.1 (sequence
 * validation), A.3 (loss), A.8 (jitter), section 6.4.1 (SR and report
 * block fields, round-trip time).
 */
#include <string.h>

#include "media/rtp/ntp.h"
#include "media/rtp/rtp_stats.h"
#include "media/rtp/seq.h"

#define SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define MIN_SEQUENTIAL 2

void stoa_rtp_recv_stats_init(stoa_rtp_recv_stats *s, uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->clock_rate = clock_rate;
}

/* (Re)start counting at seq: a confirmed new source or restart (A.1). */
static void restart_at(stoa_rtp_recv_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1; /* matches no 16-bit value */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

/* RFC 3550 A.1: 0 when seq counts, negative while unconfirmed. */
static int update_seq(stoa_rtp_recv_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (s->probation > 0) {
		/* A new source is valid after MIN_SEQUENTIAL packets in a row. */
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				restart_at(s, seq);
				s->received++;
				return 0;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return STOA_RTP_STATS_PROBATION;
	}
	if (udelta < MAX_DROPOUT) {
		/* In order, possibly with a gap; a wrap starts a new cycle. */
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		/* A large jump: believe it only when the next packet follows. */
		if (seq == s->bad_seq) {
			restart_at(s, seq);
		} else {
			s->bad_seq = (uint16_t)(seq + 1);
			return STOA_RTP_STATS_BAD_SEQ;
		}
	}
	/* Otherwise a duplicate or reordered packet: counted, no move. */
	s->received++;
	return 0;
}

/* RFC 3550 A.8, with the jitter kept scaled by 16 to stay in integers. */
static void update_jitter(stoa_rtp_recv_stats *s, uint32_t rtp_ts, int64_t arrival_us)
{
	if (s->clock_rate == 0)
		return;
	int64_t arrival = (arrival_us - s->first_arrival_us) * s->clock_rate / 1000000;
	/* Transit time modulo 2^32: only differences matter. */
	int64_t transit = (int32_t)(uint32_t)((uint32_t)arrival - rtp_ts);
	if (s->have_transit) {
		int64_t d = (int32_t)(uint32_t)((uint32_t)transit - (uint32_t)s->transit);
		if (d < 0)
			d = -d;
		int64_t j = (int64_t)s->jitter_q4 + d - (((int64_t)s->jitter_q4 + 8) >> 4);
		s->jitter_q4 = j < 0 ? 0 : j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
	}
	s->transit = transit;
	s->have_transit = true;
}

int stoa_rtp_recv_stats_update(stoa_rtp_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
			       size_t bytes, int64_t arrival_us)
{
	s->packets++;
	s->bytes += bytes;
	if (!s->started) {
		s->started = true;
		restart_at(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = MIN_SEQUENTIAL;
		s->first_arrival_us = arrival_us;
	}
	int rc = update_seq(s, seq);
	if (rc == 0)
		update_jitter(s, rtp_ts, arrival_us);
	return rc;
}

void stoa_rtp_recv_stats_on_sr(stoa_rtp_recv_stats *s, const stoa_rtcp_sender_info *si,
			       int64_t arrival_us)
{
	s->have_sr = true;
	s->sr_ntp = si->ntp;
	s->sr_ntp_mid = stoa_ntp_mid(si->ntp);
	s->sr_rtp_ts = si->rtp_ts;
	s->sr_arrival_us = arrival_us;
}

uint32_t stoa_rtp_recv_stats_ext_max(const stoa_rtp_recv_stats *s)
{
	return s->cycles + s->max_seq;
}

uint64_t stoa_rtp_recv_stats_expected(const stoa_rtp_recv_stats *s)
{
	if (s->received == 0)
		return 0;
	return (uint64_t)stoa_rtp_recv_stats_ext_max(s) - s->base_seq + 1;
}

int64_t stoa_rtp_recv_stats_lost(const stoa_rtp_recv_stats *s)
{
	return (int64_t)stoa_rtp_recv_stats_expected(s) - (int64_t)s->received;
}

uint32_t stoa_rtp_recv_stats_jitter(const stoa_rtp_recv_stats *s)
{
	return s->jitter_q4 >> 4;
}

int stoa_rtp_recv_stats_report(stoa_rtp_recv_stats *s, uint32_t ssrc, int64_t now_us,
			       stoa_rtcp_report_block *rb)
{
	if (s->received == 0)
		return -1;
	uint64_t expected = stoa_rtp_recv_stats_expected(s);
	int64_t lost = stoa_rtp_recv_stats_lost(s);
	/* 24-bit signed field (A.3). */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	int64_t expected_interval = (int64_t)(expected - s->expected_prior);
	int64_t received_interval = (int64_t)(s->received - s->received_prior);
	int64_t lost_interval = expected_interval - received_interval;
	s->expected_prior = expected;
	s->received_prior = s->received;

	memset(rb, 0, sizeof(*rb));
	rb->ssrc = ssrc;
	if (expected_interval > 0 && lost_interval > 0)
		rb->fraction_lost = (uint8_t)((lost_interval << 8) / expected_interval);
	rb->cum_lost = (int32_t)lost;
	rb->ext_high_seq = stoa_rtp_recv_stats_ext_max(s);
	rb->jitter = stoa_rtp_recv_stats_jitter(s);
	if (s->have_sr) {
		rb->lsr = s->sr_ntp_mid;
		rb->dlsr = stoa_ntp_units_from_us(now_us - s->sr_arrival_us);
	}
	return 0;
}

/* ------------------------------------------------------------ send side */

void stoa_rtp_send_stats_init(stoa_rtp_send_stats *s, uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->clock_rate = clock_rate;
	s->rtt_ms = -1;
}

void stoa_rtp_send_stats_update(stoa_rtp_send_stats *s, uint32_t rtp_ts, size_t payload_len,
				int64_t now_us)
{
	s->packets++;
	s->octets += payload_len;
	/* Keep the newest timestamp as the anchor; a reordered or
	 * retransmitted older one would make the SR's timestamp run back. */
	if (!s->sent || stoa_ts_newer(rtp_ts, s->last_rtp_ts)) {
		s->last_rtp_ts = rtp_ts;
		s->last_send_us = now_us;
	}
	s->sent = true;
}

int stoa_rtp_send_stats_sender_info(const stoa_rtp_send_stats *s, uint32_t ssrc, int64_t now_us,
				    uint64_t ntp_now, stoa_rtcp_sender_info *out)
{
	if (!s->sent)
		return -1;
	int64_t elapsed = now_us - s->last_send_us;
	if (elapsed < 0)
		elapsed = 0;
	out->ssrc = ssrc;
	out->ntp = ntp_now;
	out->rtp_ts = s->last_rtp_ts + (uint32_t)(elapsed * s->clock_rate / 1000000);
	/* Both counts wrap at 32 bits on the wire (6.4.1). */
	out->packet_count = (uint32_t)s->packets;
	out->octet_count = (uint32_t)s->octets;
	return 0;
}

int32_t stoa_rtp_rtt_ms(const stoa_rtcp_report_block *rb, uint32_t ntp_mid_now)
{
	if (rb->lsr == 0)
		return -1;
	/* All three in 1/65536 s, modulo 2^32. */
	int64_t rtt = (int32_t)(ntp_mid_now - rb->lsr - rb->dlsr);
	if (rtt < 0)
		return 0;
	return (int32_t)((rtt * 1000) >> 16);
}

void stoa_rtp_send_stats_on_report(stoa_rtp_send_stats *s, const stoa_rtcp_report_block *rb,
				   uint32_t ntp_mid_now)
{
	s->have_report = true;
	s->fraction_lost = rb->fraction_lost;
	s->cum_lost = rb->cum_lost;
	s->jitter = rb->jitter;
	int32_t rtt = stoa_rtp_rtt_ms(rb, ntp_mid_now);
	if (rtt >= 0)
		s->rtt_ms = rtt;
}
