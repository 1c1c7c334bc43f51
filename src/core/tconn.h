/*
 * tconn.h: transports and their connections, as the core sees them.
 *
 * A transport (HTTP, WebSocket) is built into the binary and described by a
 * `stoa_transport` vtable. Each client connection it serves — a WebSocket, or
 * for HTTP one request, or one session's long-poll queue — is a `stoa_tconn`.
 *
 * The core never writes to a socket. It hands replies and events to
 * tconn->transport->send(), which may be called from any thread and must not
 * block: transports queue and wake their own thread.
 *
 * Ownership: a tconn is refcounted. The transport holds one ref while the
 * connection lives; each session whose events go to the tconn (its "source")
 * holds one; so does each queued API request. The last unref calls the
 * transport's conn_free() and frees the struct.
 */
#ifndef STOA_CORE_TCONN_H
#define STOA_CORE_TCONN_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct stoa_tconn stoa_tconn;

/* Why a session stopped sending its events to a source tconn. */
typedef enum stoa_session_over_reason {
	STOA_SESSION_OVER_DESTROYED, /* destroy request, or shutdown */
	STOA_SESSION_OVER_TIMEOUT,   /* no activity for session_timeout */
	STOA_SESSION_OVER_CLAIMED,   /* another connection claimed it */
} stoa_session_over_reason;

typedef struct stoa_transport {
	const char *package; /* Janus name, e.g. "janus.transport.http" */
	const char *name;
	const char *description;
	const char *author;
	const char *version_string;
	int version;

	/* Delivers a reply or an event. Any thread; must not block. `msg` is
	 * borrowed: serialize it or take a ref before returning. Callers must
	 * not change `msg` afterwards (HTTP keeps a ref and serialises it later,
	 * on the long-poll thread). */
	void (*send)(stoa_tconn *conn, json_t *msg);

	/* A session was created or claimed by a request that came on `conn`.
	 * Returns the tconn that will receive the session's events from now on,
	 * with a reference for the session (for WebSocket, `conn` itself; for
	 * HTTP, the session's long-poll queue). API thread. */
	stoa_tconn *(*session_source)(stoa_tconn *conn, uint64_t session_id);

	/* The session no longer sends events to `source`. Any thread. Optional. */
	void (*session_over)(stoa_tconn *source, uint64_t session_id,
			     stoa_session_over_reason why);

	/* The last reference to `conn` is gone: free conn->data. Any thread. Optional. */
	void (*conn_free)(stoa_tconn *conn);
} stoa_transport;

struct stoa_tconn {
	gint ref;
	const stoa_transport *transport;
	void *data;	/* the transport's own state for this connection */
	bool admin;	/* Admin API (admin requests only) rather than Janus API */
	gint gone;	/* 1 once the transport closed the connection */
	char peer[64];	/* remote address, for logs */

	/* Ordered execution of submitted requests (owned by api/worker.c). */
	GMutex lock;
	GQueue pending;
	bool scheduled;
};

/* +1 ref for the caller. `peer` may be NULL. */
stoa_tconn *stoa_tconn_new(const stoa_transport *t, void *data, bool admin, const char *peer);
stoa_tconn *stoa_tconn_ref(stoa_tconn *c);
void stoa_tconn_unref(stoa_tconn *c);

/* Sends `msg` (borrowed) unless the connection is gone. */
void stoa_tconn_send(stoa_tconn *c, json_t *msg);

/* The transport tells the core the connection closed: sessions it sources are
 * destroyed (or kept for reclaim_session_timeout). Call once, from the
 * transport's thread; the transport still drops its own ref afterwards. */
void stoa_tconn_gone(stoa_tconn *c);

/* Registry of running transports, for server_info. Main thread. */
void stoa_transports_register(const stoa_transport *t);
void stoa_transports_unregister(const stoa_transport *t);
/* Calls fn for each registered transport, under the registry lock. */
void stoa_transports_foreach(void (*fn)(const stoa_transport *t, void *ud), void *ud);

#endif
