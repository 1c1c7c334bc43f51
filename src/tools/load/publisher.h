/*
 * publisher.h: a VideoRoom publisher (janus-api-compat.md §8.2.2-8.2.3):
 * create the room (an existing one is fine), join as publisher, offer
 * VP8 (and Opus) sendonly, complete ICE (controlling) and DTLS (either
 * role: Stoa answers passive, Janus active), then send the media file at
 * its real rate, looping, with an RTCP Sender Report per stream each
 * second. Keyframes come from the file (one a second from make-media.py):
 * PLI/FIR from the server are counted, not acted on. NACKed video packets
 * are sent again from a ring of the last LOAD_PUB_RING.
 *
 * Owner: the run (main thread) holds the first ref; the publisher lives on
 * its worker. The main thread reads `ready`, `feed_id` and the counters
 * with LOAD_RD.
 */
#ifndef LOAD_PUBLISHER_H
#define LOAD_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>

#include "media.h"
#include "peer.h"
#include "transport.h"
#include "vp8.h"

/* What one outgoing RTP stream has reached. */
typedef struct load_tx_track {
	const load_track *t;	/* the shared media (borrowed from the run) */
	uint8_t pt;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts_base;	/* random start (RFC 3550 §5.1) */
	size_t next;		/* frame to send next */
	int64_t pass;		/* loops done */
	uint64_t packets, octets;	/* main reads */
} load_tx_track;

/* The last video packets sent, as they were before SRTP, to answer
 * NACKs as a browser would (the same SSRC and sequence number: no RTX is
 * negotiated). */
#define LOAD_PUB_RING 512
#define LOAD_PUB_MAX_RTP 1200	/* RTP packet before the SRTP trailer */

typedef struct load_sent {
	uint16_t seq;
	uint16_t len;		/* 0: empty */
	uint8_t data[LOAD_PUB_MAX_RTP];
} load_sent;

typedef struct load_publisher {
	load_peer peer;		/* first: a load_publisher is a load_peer */
	load_transport tr;
	int room_index;
	uint64_t room;
	bool created_room;	/* our create succeeded: we destroy it at the end */
	bool room_destroyed;	/* the destroy request went out */
	bool dtls_up, webrtcup;
	load_tx_track video, audio;
	bool has_audio;
	load_vp8 vp8;
	int64_t t0_us;		/* media clock origin */
	GSource *pacer;
	int64_t next_sr_us;
	int64_t deadline_us;
	load_sent *ring;	/* LOAD_PUB_RING entries, owned */
	/* Main reads these. */
	int ready;		/* media flowing and the server said webrtcup */
	uint64_t feed_id;
	uint64_t frames, keyframes, stalls, send_errors, retransmits;
} load_publisher;

load_publisher *load_publisher_new(load_run *run, load_worker *w, int index, int room_index,
				   uint64_t room);

#endif
