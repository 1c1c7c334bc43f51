/*
 * peer.h: what publishers and viewers share: a Janus API client on its own
 * WebSocket (one session, one handle), living on one worker.
 *
 * A peer embeds a load_peer as its first member and gives it a table of
 * operations. Messages from the WebSocket thread are posted to the peer's
 * worker and reach ops->on_message there in order; so do the connection's
 * opening and closing. The worker's tick drives keepalives (a "keepalive"
 * per session every 25 s, as janus.js does) and the role's own timers.
 *
 * Ending: load_peer_fail() records the first reason and ends the peer
 * (while stopping it does nothing: the server tearing things down is then
 * expected); load_peer_finish() ends it cleanly. Both are idempotent, may be called
 * from inside libnice callbacks (the transport is released from a posted
 * job, never inline), and close the WebSocket, which makes the server
 * destroy the session if the peer did not. `done` then becomes 1.
 *
 * Lifetime: refcounted. The run holds one ref from creation to the end,
 * the WebSocket's handlers one until on_closed, each posted job one. The
 * last unref calls ops->free (memory only: the transport was released on
 * the worker by then). Fields marked "main reads" are relaxed atomics.
 */
#ifndef LOAD_PEER_H
#define LOAD_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "janus.h"
#include "load.h"
#include "worker.h"
#include "ws.h"

#define LOAD_KEEPALIVE_US (25 * G_USEC_PER_SEC)
#define LOAD_STOP_GRACE_US (3 * G_USEC_PER_SEC)

typedef struct load_peer load_peer;
typedef struct load_run load_run;

typedef struct load_peer_ops {
	const char *name;	/* "publisher", "viewer": for logs */
	/* The WebSocket is up: send the first request. */
	void (*on_open)(load_peer *p);
	/* A parsed Janus message (not a keepalive ack). */
	void (*on_message)(load_peer *p, const load_janus_msg *m);
	/* Every LOAD_TICK_MS while the peer runs. */
	void (*on_tick)(load_peer *p, int64_t now_us);
	/* The run is ending: leave cleanly, then call load_peer_finish(). */
	void (*on_stop)(load_peer *p);
	/* Optional: the peer is ending (failed or finished); what it sends
	 * now still goes out before its WebSocket closes. */
	void (*on_ending)(load_peer *p);
	/* Release the transport (worker thread, from a job). */
	void (*on_close)(load_peer *p);
	/* Free the memory (any thread). */
	void (*free)(load_peer *p);
} load_peer_ops;

struct load_peer {
	const load_peer_ops *ops;
	gint refs;
	load_run *run;
	load_worker *worker;
	load_wsconn *conn;
	int index;
	uint64_t session_id, handle_id;
	unsigned next_tx;
	int64_t next_keepalive_us;
	int64_t stop_deadline_us;	/* while stopping */
	bool stopping;
	bool ended;		/* finish/fail ran: ignore further input */
	int done;		/* main reads: fully ended */
	int fail;		/* main reads: load_fail */
};

/* Called by the role's constructor (main thread). */
void load_peer_init(load_peer *p, const load_peer_ops *ops, load_run *run, load_worker *w,
		    int index);

load_peer *load_peer_ref(load_peer *p);
void load_peer_unref(load_peer *p);

/* Main thread: opens the WebSocket; on_open follows on the worker. */
void load_peer_start(load_peer *p, load_ws *ws);

/* Main thread: asks the peer to leave (ops->on_stop on its worker). */
void load_peer_stop(load_peer *p);

/* Main thread: ends the peer now, whatever it was doing. */
void load_peer_kill(load_peer *p);

/* Worker: a request of this verb and kind with the peer's ids (the handle
 * id only if handle), to add fields to and give to load_peer_send_json. */
json_t *load_peer_request(load_peer *p, const char *verb, const char *kind, bool handle);
void load_peer_send_json(load_peer *p, json_t *req);

/* Worker: the two above in one, for requests without more fields. */
void load_peer_send(load_peer *p, const char *verb, const char *kind, bool handle);

/* Worker: sends a plugin message with body (stolen) and an optional jsep. */
void load_peer_send_message(load_peer *p, const char *kind, json_t *body, const char *jsep_type,
			    const char *sdp);

/* Worker: the session and handle setup every role shares. For a `create`
 * reply it keeps the session id and attaches to the VideoRoom; for an
 * `attach` reply it keeps the handle id. Returns true when `m` was one of
 * those, with *attached set once the handle is ready for the role's first
 * request; a reply without an id fails the peer. */
bool load_peer_on_setup_reply(load_peer *p, const load_janus_msg *m, bool *attached);

void load_peer_fail(load_peer *p, load_fail why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void load_peer_finish(load_peer *p);

/* Worker: counts the events every role treats alike (hangup, detached,
 * media, ...). Returns true if it was one of those. */
bool load_peer_common_event(load_peer *p, const load_janus_msg *m);

static inline load_fail load_peer_failure(load_peer *p)
{
	return (load_fail)LOAD_RD(p->fail);
}

static inline bool load_peer_done(load_peer *p)
{
	return LOAD_RD(p->done) != 0;
}

#endif
