/*
 * viewer.h: a VideoRoom subscriber (janus-api-compat.md §8.2.4): create a
 * session, attach to the VideoRoom, join as subscriber to one feed, answer
 * the server's offer (recvonly, a=setup:active), send "start", then count
 * every RTP packet per stream: packets, bytes, loss, reordering, and the
 * time from "start" to the first packet.
 *
 * Counting reads the RTP header only, which SRTP leaves in the clear; the
 * first packet of each stream is always authenticated with srtp_unprotect
 * (so every viewer proves its keys), every packet with --verify. Once a
 * second the viewer sends an SRTCP Receiver Report, as browsers do (and as
 * servers that watch for silent peers expect).
 *
 * Owner: the run (main thread) holds the first ref; the viewer lives on
 * its worker. The main thread reads only the fields marked so, with
 * LOAD_RD.
 */
#ifndef LOAD_VIEWER_H
#define LOAD_VIEWER_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"
#include "rtp.h"
#include "transport.h"

#define LOAD_VIEWER_MAX_STREAMS 8

typedef struct load_viewer {
	load_peer peer;		/* first: a load_viewer is a load_peer */
	load_transport tr;
	uint64_t room, feed;
	load_sdp *offer;	/* between "attached" and our answer */
	uint32_t rr_ssrc;
	int64_t next_rr_us;
	int64_t deadline_us;	/* first packet by then, or fail */
	/* Main reads these. */
	int n_streams;
	load_rx_stream streams[LOAD_VIEWER_MAX_STREAMS];
	int64_t t_begin_us;	/* connect */
	int64_t t_join_us;	/* "join" sent */
	int64_t t_offer_us;	/* "attached" with the offer received */
	int64_t t_start_us;	/* "start" with our answer sent */
	int64_t t_started_us;	/* "started" received */
	int64_t t_media_us;	/* DTLS done, SRTP keyed */
	int64_t t_first_us;	/* first RTP packet */
	int joined;		/* "started" received */
	int media_up;		/* DTLS done, SRTP keyed */
} load_viewer;

/* Main thread. The viewer subscribes to `feed` in `room`. */
load_viewer *load_viewer_new(load_run *run, load_worker *w, int index, uint64_t room,
			     uint64_t feed);

/* Main thread: how many of its streams have had a packet, and in total. */
int load_viewer_streams_started(load_viewer *v, int *total);

#endif
