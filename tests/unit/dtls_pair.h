/*
 * dtls_pair.h: two stoa_dtls endpoints wired back to back, for the DTLS
 * unit tests (test_dtls.c, test_dtls_release.c).
 *
 * What one endpoint sends is queued for the other and the test pumps the
 * queues, so it can drop, reorder or corrupt datagrams at will.
 */
#ifndef STOA_TESTS_DTLS_PAIR_H
#define STOA_TESTS_DTLS_PAIR_H

#include <glib.h>

#include "media/dtls/cert.h"
#include "media/dtls/dtls.h"

typedef struct peer {
	const char *name;
	stoa_dtls_cert *cert;
	stoa_dtls *dtls;
	GQueue sent;	      /* GBytes this peer sent, not yet delivered */
	size_t max_datagram;  /* largest datagram this peer sent */
	unsigned datagrams;   /* how many it sent */
	int state_calls;
	stoa_dtls_state last_state;
	char *last_reason;
	GByteArray *app_rx;   /* application data received, concatenated */
	unsigned app_records; /* records received */
	bool free_on_final;   /* the state callback frees the endpoint */
	const stoa_dtls_callbacks *cbs; /* NULL: `callbacks` below */
} peer;

typedef struct pair {
	peer client; /* ACTIVE */
	peer server; /* PASSIVE */
} pair;

/* send, state and app_data callbacks that fill a `peer` (the user data). */
extern const stoa_dtls_callbacks callbacks;

stoa_dtls_cert *new_cert(const char *profiles);
void peer_init(peer *p, const char *name, const char *profiles);
void peer_clear(peer *p);
/* Each side expects the other's real fingerprint unless told otherwise. */
void pair_init_full(pair *t, const char *client_profiles, const char *server_profiles,
		    const char *client_expects, const char *server_expects);
void pair_init(pair *t, const char *client_profiles, const char *server_profiles);
/* The endpoints of pair_init_full(), for peers made with peer_init(). */
void pair_new_endpoints(pair *t, const char *client_expects, const char *server_expects);
void pair_clear(pair *t);
/* Delivers everything `from` has sent to `to`; returns how many datagrams. */
unsigned deliver(peer *from, peer *to);
void drop(peer *from);
/* Pumps both ways until nobody has anything to send. */
void pump(pair *t);
void assert_connected(pair *t);
void connect_pair(pair *t);

#endif
