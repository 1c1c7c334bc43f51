/*
 * load.h: what every file of stoa-load shares: the reasons a peer fails,
 * the run-wide event counters, and relaxed-atomic helpers for the counters
 * a worker thread writes and the main thread reads once a second.
 *
 * stoa-load is a client of the Janus API and deliberately shares no code
 * with the server in src/: a server bug must not hide behind the same bug
 * in the tool. See docs/load-testing.md.
 */
#ifndef LOAD_LOAD_H
#define LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a peer gave up. One counter per reason in the summary. */
typedef enum load_fail {
	LOAD_FAIL_NONE = 0,
	LOAD_FAIL_WS,		/* WebSocket could not connect or closed */
	LOAD_FAIL_JANUS,	/* the server answered with a Janus or plugin error */
	LOAD_FAIL_PROTOCOL,	/* a reply that is not JSON or lacks what it must carry */
	LOAD_FAIL_SDP,		/* an SDP we cannot use */
	LOAD_FAIL_ICE,		/* ICE failed or could not start */
	LOAD_FAIL_DTLS,		/* DTLS handshake failed or timed out */
	LOAD_FAIL_FINGERPRINT,	/* the server's certificate is not the one in its SDP */
	LOAD_FAIL_SRTP,		/* SRTP keys could not be set, or authentication failed */
	LOAD_FAIL_HANGUP,	/* the server hung up, detached or timed the session out */
	LOAD_FAIL_TIMEOUT,	/* no media within --join-timeout */
	LOAD_FAIL_NO_PUBLISHER,	/* the room's publisher never came up */
	LOAD_FAIL_NOT_STARTED,	/* the run ended before the ramp reached it */
	LOAD_FAIL_COUNT
} load_fail;

const char *load_fail_name(load_fail f);

/* Counters of things the server told us, summed over all peers. Written by
 * any worker thread with load_count(), read by the main thread. */
typedef struct load_events {
	uint64_t hangups;	/* "hangup" events */
	uint64_t detached;	/* "detached" events */
	uint64_t errors;	/* Janus "error" replies and plugin error_code events */
	uint64_t webrtcup;	/* "webrtcup" events */
	uint64_t media;		/* "media" events */
	uint64_t slowlink;	/* "slowlink" events */
	uint64_t timeouts;	/* session "timeout" events */
	uint64_t trickles;	/* server "trickle" candidates */
	uint64_t updated;	/* VideoRoom "updated" offers we did not answer */
	uint64_t bad_messages;	/* messages we could not parse */
	uint64_t srtp_auth_fail; /* SRTP packets that failed authentication */
	uint64_t pli_in;	/* PLI/FIR the publishers got */
	uint64_t nack_in;	/* NACKs the publishers got (not answered) */
	uint64_t unknown_ssrc;	/* RTP packets on no stream we know */
} load_events;

extern load_events load_ev;

#define load_count(field) __atomic_add_fetch(&load_ev.field, 1, __ATOMIC_RELAXED)
#define load_get(field) __atomic_load_n(&load_ev.field, __ATOMIC_RELAXED)

/* A counter owned by one writer thread and read by others: the writer
 * stores with relaxed order (on x86 a plain mov), readers load likewise. */
#define LOAD_RD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define LOAD_WR(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Logging: stoa-load prints to stderr; per-peer problems go through
 * load_warn(), which stops printing after a few hundred lines so a
 * thousand failing viewers do not drown the summary. */
void load_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void load_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void load_set_quiet(bool quiet);

#endif
