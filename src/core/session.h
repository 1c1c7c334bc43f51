/*
 * session.h: Janus API sessions.
 *
 * A session is what a client creates first; handles attach to it. Its events
 * go to its "source" tconn (the connection that created or last claimed it).
 *
 * Ownership: refcounted. The registry holds one ref from create until
 * stoa_session_destroy(); lookups (stoa_session_find) return +1 ref and fail
 * once the session is destroyed (checked under the registry lock). The
 * session holds a ref on each of its handles and on its source tconn.
 *
 * Lock order: registry lock, then session->lock. Neither is held while
 * calling a plugin or a transport.
 */
#ifndef STOA_CORE_SESSION_H
#define STOA_CORE_SESSION_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/tconn.h"

typedef struct stoa_handle stoa_handle;

typedef struct stoa_session {
	gint ref;
	uint64_t id;
	gint destroyed;		/* 0 -> 1 once, by stoa_session_destroy */
	GMutex lock;		/* guards handles, source, orphaned_since, timeout */
	GHashTable *handles;	/* &handle->id -> stoa_handle* (ref held) */
	stoa_tconn *source;	/* where events go (ref held); NULL while orphaned */
	gint64 last_activity;	/* monotonic µs; atomic */
	gint64 orphaned_since;	/* monotonic µs when the source closed; 0 if not */
	gint64 created;		/* monotonic µs */
	int timeout;		/* seconds; -1 = the global session_timeout */
	char *transport_pkg;	/* package of the transport that created it */
} stoa_session;

void stoa_sessions_init(void);
/* Frees the registry; every session must have been destroyed. */
void stoa_sessions_cleanup(void);

/* Creates and registers a session with `id` (0 = random). Returns +1 ref, or
 * NULL if `id` is taken. `source` gets a ref. */
stoa_session *stoa_session_create(uint64_t id, stoa_tconn *source);
stoa_session *stoa_session_find(uint64_t id);
stoa_session *stoa_session_ref(stoa_session *s);
void stoa_session_unref(stoa_session *s);

void stoa_session_touch(stoa_session *s);

/* Makes `source` (ref taken) the session's event destination; the previous
 * source is told the session is over for it (claimed). */
void stoa_session_set_source(stoa_session *s, stoa_tconn *source);
/* Returns the current source, +1 ref, or NULL. */
stoa_tconn *stoa_session_get_source(stoa_session *s);

/* Sends an event (borrowed) to the session's source, if it has one. */
void stoa_session_send(stoa_session *s, json_t *msg);

/* Closes the session: unregisters it, detaches every handle (clients get
 * `detached`), sends `timeout` first when why is TIMEOUT, and tells the
 * source. Idempotent; the caller keeps its own ref. Any API thread or main. */
void stoa_session_destroy(stoa_session *s, stoa_session_over_reason why);
/* The client's `destroy` verb: the same, without per-handle `detached`. */
void stoa_session_destroy_by_client(stoa_session *s);

/* Handles of a session. */
int stoa_session_add_handle(stoa_session *s, stoa_handle *h); /* takes a ref; -1 if destroyed */
void stoa_session_remove_handle(stoa_session *s, stoa_handle *h);
stoa_handle *stoa_session_find_handle(stoa_session *s, uint64_t handle_id); /* +1 ref */
/* Handle ids as a new JSON array. */
json_t *stoa_session_handle_ids(stoa_session *s);
/* +1 ref'd handles in a new GPtrArray (free with g_ptr_array_unref). */
GPtrArray *stoa_session_handles(stoa_session *s);

/* Session ids as a new JSON array. */
json_t *stoa_sessions_list(void);
unsigned stoa_sessions_count(void);
/* Handles in every session's table (attached, not yet detached). Any thread. */
unsigned stoa_handles_count(void);

/* The transport closed `source`: destroy its sessions, or orphan them for
 * reclaim_session_timeout. Transport thread. */
void stoa_sessions_source_gone(stoa_tconn *source);

/* Watchdog pass (main thread, every 2 s): expire idle and orphaned sessions. */
void stoa_sessions_check_timeouts(gint64 now);

/* Shutdown: destroys every session. Main thread. */
void stoa_sessions_destroy_all(void);

#endif
