/*
 * twcc.h: transport-wide congestion control feedback, receive side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * A browser that negotiated transport-cc numbers every packet it sends on
 * the transport and estimates its bandwidth from our feedback: which of
 * those packets arrived, and when. Without feedback its estimate never
 * grows and video stays at the start bitrate, so a server that accepts the
 * extension must report. This records arrival times in a fixed window and
 * builds the feedback messages; no allocation after init.
 *
 * Thread: the owning peer connection's loop. Pure logic with injected
 * time, so it is unit-testable.
 */
#ifndef STOA_MEDIA_RTP_TWCC_H
#define STOA_MEDIA_RTP_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packets the window holds; older ones not yet reported are given up. */
#define STOA_TWCC_WINDOW 1024

typedef struct stoa_twcc_recorder {
	bool started;
	uint16_t base;		/* first sequence number not reported yet */
	uint16_t next;		/* one past the highest recorded */
	uint8_t fb_count;	/* feedback packet count, wrapping */
	int64_t arrival[STOA_TWCC_WINDOW]; /* µs, by seq % window; 0 = not received */
} stoa_twcc_recorder;

void stoa_twcc_init(stoa_twcc_recorder *r);

/* A packet with transport-wide sequence number `seq` arrived at now_us (> 0). */
void stoa_twcc_record(stoa_twcc_recorder *r, uint16_t seq, int64_t now_us);

/* True when something is waiting to be reported. */
bool stoa_twcc_pending(const stoa_twcc_recorder *r);

/*
 * Writes one feedback message (RTPFB FMT 15) for the oldest unreported
 * packets into buf and marks them reported. Returns its length, 0 when
 * nothing is pending, negative on error. Call again while it returns > 0
 * to drain (a message ends early where a delta would not fit 16 bits).
 */
int stoa_twcc_build(stoa_twcc_recorder *r, uint32_t sender_ssrc, uint32_t media_ssrc,
		    uint8_t *buf, size_t cap);

#endif
