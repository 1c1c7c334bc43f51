/*
 * handle.h: a handle is one plugin attachment inside a session; later it also
 * owns the peer connection.
 *
 * Ownership: refcounted. Its session's handle table holds one ref until
 * stoa_handle_detach(); the plugin may hold refs through core->session_ref().
 * The handle holds a ref on its session, so the session outlives it.
 */
#ifndef STOA_CORE_HANDLE_H
#define STOA_CORE_HANDLE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "stoa/plugin.h"

typedef struct stoa_session stoa_session;
typedef struct stoa_pc stoa_pc;

/* Queued trickle candidates are bounded so a client cannot grow memory. */
#define STOA_HANDLE_MAX_PENDING_TRICKLES 256

typedef struct stoa_handle {
	gint ref;
	uint64_t id;
	stoa_session *session;		/* ref held */
	const stoa_plugin *plugin;
	stoa_plugin_session ps;		/* the plugin's view; ps.core_handle == this */
	char *opaque_id;
	char *token;
	gint64 created;			/* monotonic µs */
	gint detached;			/* 0 -> 1 once */
	GMutex lock;			/* guards the fields below */
	bool got_offer;			/* the client sent an offer */
	bool sent_offer;		/* the plugin sent an offer */
	/* The last pc the plugin closed (close_pc): its close is not reported
	 * back to the plugin. Compared, never dereferenced. */
	const void *plugin_closed_pc;
	bool trickle;			/* the client trickles */
	GQueue pending_trickles;	/* json_t* candidates received before the PC */
	stoa_pc *pc;			/* the peer connection (ref held), or NULL */
} stoa_handle;

/* Creates a handle in `s` attached to `plugin`: calls the plugin's
 * create_session. Returns +1 ref, or NULL with *error set to a plugin error
 * (negative) or 1 if the session is gone. API thread. */
stoa_handle *stoa_handle_new(stoa_session *s, const stoa_plugin *plugin, const char *opaque_id,
			     const char *token, int *error);
stoa_handle *stoa_handle_ref(stoa_handle *h);
void stoa_handle_unref(stoa_handle *h);

static inline stoa_handle *stoa_handle_from_ps(const stoa_plugin_session *ps)
{
	return (stoa_handle *)ps->core_handle;
}

/* Detaches: the plugin's destroy_session runs, the handle leaves its session
 * and, when `notify`, the client gets `detached`. Idempotent; the caller
 * keeps its own ref. API thread or main thread. */
void stoa_handle_detach(stoa_handle *h, bool notify);

/* Closes the handle's peer connection (if any) and tells the plugin; the
 * client gets `hangup` with `reason` when there was one. */
/* Closes the handle's pc (the client gets `hangup` with `reason`); the
 * handle lets go of it at once. `by_plugin`: the plugin asked (close_pc),
 * so its hangup_media is not called for this pc. */
void stoa_handle_hangup(stoa_handle *h, const char *reason, bool by_plugin);

/* Queues a candidate (borrowed) while there is no peer connection. */
int stoa_handle_queue_trickle(stoa_handle *h, json_t *candidate);

/* A trickle candidate (borrowed): to the peer connection, or queued until
 * it exists. Returns 0, or -1 when the queue is full. */
int stoa_handle_trickle(stoa_handle *h, json_t *candidate);

/* A client offer (validated jsep): creates the peer connection if needed and
 * applies the SDP. Returns 0, or -1 with the SDP problem in err. */
/* The client's answer to the plugin's offer: given to the peer connection. */
int stoa_handle_remote_answer(stoa_handle *h, const char *sdp, char *err, size_t errlen);
int stoa_handle_remote_offer(stoa_handle *h, const char *sdp, bool trickle, char *err,
			     size_t errlen);

/* The handle's peer connection, +1 ref, or NULL. */
stoa_pc *stoa_handle_get_pc(stoa_handle *h);

/* Sends an event (borrowed) about this handle; adds session_id, sender and,
 * if configured, opaque_id. */
void stoa_handle_send(stoa_handle *h, json_t *event);

#endif
