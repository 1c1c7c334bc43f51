/*
 * turn_rest.h: a client for the TURN REST API (draft-uberti-behave-turn-rest-00):
 * time-limited TURN credentials fetched over HTTP(S) from
 * <url>?service=turn&username=janus[&key=<api key>], answered with JSON
 * {"username", "password", "ttl", "uris": ["turn:host:port?transport=udp", ...]}.
 *
 * Threads: configure/stop/cleanup on the main thread. Fetches run on a small
 * pool of their own (blocking socket I/O with a timeout, name resolution
 * included) so that no media loop ever waits; the callback runs on a pool
 * thread and must post the result to wherever it is needed. A good answer
 * is cached, server-wide, until half its ttl has passed.
 */
#ifndef STOA_MEDIA_ICE_TURN_REST_H
#define STOA_MEDIA_ICE_TURN_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/ice/ice.h"

/* Credentials and the relays they are for. Immutable once built; shared
 * between the cache and the peer connections using them by refcount. */
typedef struct stoa_turn_creds {
	int ref;
	stoa_ice_relay *relays;	/* every relay carries username/password */
	int n_relays;
	int ttl;		/* seconds */
} stoa_turn_creds;

stoa_turn_creds *stoa_turn_creds_ref(stoa_turn_creds *c);
void stoa_turn_creds_unref(stoa_turn_creds *c);

/* Sets the API up (url NULL or empty: disabled). `method` is "GET" (default)
 * or "POST"; `timeout` is in seconds and bounds a whole request. Main
 * thread. 0 or -1 with a message. */
int stoa_turn_rest_configure(const char *url, const char *key, const char *method, int timeout,
			     char *err, size_t errlen);
bool stoa_turn_rest_enabled(void);
int stoa_turn_rest_timeout(void);
/* Cancels the requests in flight and waits for the pool (their callbacks run,
 * with NULL). Main thread, before the media loops stop. Idempotent. */
void stoa_turn_rest_stop(void);
void stoa_turn_rest_cleanup(void);

/* Valid cached credentials (+1 ref), or NULL. Any thread. */
stoa_turn_creds *stoa_turn_rest_cached(void);

/* Called on a pool thread with the credentials (the callee owns that ref)
 * or NULL when the API failed or the client is stopping. */
typedef void (*stoa_turn_rest_cb)(stoa_turn_creds *creds, void *ud);
/* Queues a fetch (or answers from the cache, still on a pool thread).
 * Any thread. Returns -1 (and never calls cb) if the API is not enabled. */
int stoa_turn_rest_fetch(stoa_turn_rest_cb cb, void *ud);

/* ---- parsing, exposed for the unit tests ---- */

/* Parses one reply body; relays keep host names unresolved. NULL with a
 * message when it is not a valid answer. */
stoa_turn_creds *stoa_turn_rest_parse(const char *body, size_t len, char *err, size_t errlen);
/* "turn:host[:port][?transport=udp|tcp]" or "turns:..." -> host (g_free),
 * port, type. 0, 1 for a URI to skip (stun:, unknown transport), -1 if
 * malformed. */
int stoa_turn_rest_parse_uri(const char *uri, char **host, int *port, stoa_ice_relay_type *type);

#endif
