/*
 * ice.h: one ICE agent (libnice) per peer connection, for BUNDLE + rtcp-mux:
 * one stream, one component.
 *
 * Thread: everything runs on the media loop that owns the peer connection;
 * the agent is created on that loop's GMainContext, so libnice's signals and
 * the receive callback fire there too. No other thread may call these.
 *
 * Candidate gathering is limited to the addresses the operator allows:
 * ice_enforce_list (interface names or address prefixes), minus
 * ice_ignore_list. Loopback interfaces are used only when the enforce list
 * names them, because a real deployment must never advertise 127.0.0.1,
 * while tests run in a namespace that has nothing else. RFC 8445, 8838
 * (trickle), 7675 (consent freshness).
 *
 * TURN (RFC 8656) for our side: each agent allocates relayed candidates on
 * the relays it is given before gathering: the static nat.turn_server,
 * resolved once at start-up, unless the peer connection gave it relays of
 * its own (credentials from the TURN REST API, see turn_rest.h).
 */
#ifndef STOA_MEDIA_ICE_H
#define STOA_MEDIA_ICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct stoa_ice stoa_ice;

typedef enum stoa_ice_state {
	STOA_ICE_NEW,
	STOA_ICE_GATHERING,
	STOA_ICE_CONNECTING,
	STOA_ICE_CONNECTED,
	STOA_ICE_READY,
	STOA_ICE_FAILED,
	STOA_ICE_CLOSED,
} stoa_ice_state;

typedef enum stoa_ice_relay_type {
	STOA_ICE_TURN_UDP,
	STOA_ICE_TURN_TCP,
	STOA_ICE_TURN_TLS,
} stoa_ice_relay_type;

/* One TURN server with its credentials. `ip` is a numeric address (libnice
 * does not resolve names). Owned by whoever built it. */
typedef struct stoa_ice_relay {
	char *ip;
	int port;
	char *user, *pwd;
	stoa_ice_relay_type type;
} stoa_ice_relay;

/* "udp", "tcp", "tls" -> type; -1 if unknown. */
int stoa_ice_relay_type_parse(const char *s);

/* Server-wide ICE settings, from the main config (nat/media sections). */
typedef struct stoa_ice_config {
	const char *enforce_list;   /* comma-separated interfaces or address prefixes */
	const char *ignore_list;
	const char *stun_server;    /* host or IP, may be NULL */
	int stun_port;
	const char *nat_1_1;	    /* public IP to advertise instead of host addresses */
	int min_port, max_port;	    /* 0 = any */
	bool ice_lite;
	bool ice_tcp;
	bool ipv6;
	const char *turn_server;    /* host or IP, may be NULL: resolved by stoa_ice_configure */
	int turn_port;
	const char *turn_type;	    /* "udp" (default), "tcp", "tls" */
	const char *turn_user, *turn_pwd;
	bool force_relay;	    /* advertise and use relayed candidates only (tests) */
} stoa_ice_config;

typedef struct stoa_ice_callbacks {
	/* A local candidate ("candidate:..." without "a=") was gathered. */
	void (*on_candidate)(void *ud, const char *candidate);
	void (*on_gathering_done)(void *ud);
	void (*on_state)(void *ud, stoa_ice_state state);
	/* A datagram that is not STUN (DTLS, SRTP, SRTCP). `buf` is libnice's;
	 * it may be modified in place but not kept. */
	void (*on_recv)(void *ud, uint8_t *buf, size_t len);
} stoa_ice_callbacks;

/* Parses the ICE settings once at start-up, main thread: resolves the TURN
 * server's name (blocking). Returns 0 or -1 with a message. */
int stoa_ice_configure(const stoa_ice_config *cfg, char *err, size_t errlen);
void stoa_ice_cleanup(void);

/* A new agent on `ctx`; `controlling` is true when we offered (full ICE). */
stoa_ice *stoa_ice_new(GMainContext *ctx, bool controlling, const stoa_ice_callbacks *cb,
		       void *ud);
/* Adds a TURN server for this agent's gathering (before stoa_ice_gather).
 * Once one is added the static nat.turn_server is not used. 0 or negative. */
int stoa_ice_add_relay(stoa_ice *ice, const stoa_ice_relay *relay);
/* Starts gathering on the allowed addresses (and the relays). 0 or negative. */
int stoa_ice_gather(stoa_ice *ice);
bool stoa_ice_gathering_done(const stoa_ice *ice);
/* Local ufrag/pwd (owned by the agent wrapper). */
const char *stoa_ice_local_ufrag(const stoa_ice *ice);
const char *stoa_ice_local_pwd(const stoa_ice *ice);
/* Local candidates gathered so far, "candidate:..." strings, new array. */
GPtrArray *stoa_ice_local_candidates(stoa_ice *ice);

int stoa_ice_set_remote_credentials(stoa_ice *ice, const char *ufrag, const char *pwd);
/* Adds one remote candidate ("candidate:..." with or without "a="). Returns
 * 0, 1 if it was skipped (unsupported transport, mDNS name), negative if
 * it does not parse. */
int stoa_ice_add_remote_candidate(stoa_ice *ice, const char *candidate);
void stoa_ice_remote_gathering_done(stoa_ice *ice);

/* ICE restart: new local credentials, candidates kept. 0 or negative. */
int stoa_ice_restart(stoa_ice *ice);

/* Sends one datagram on the selected pair (non-blocking). Returns 0 when
 * the kernel (or libnice) took it, STOA_ICE_SEND_FULL when it was refused
 * for lack of room (a socket send buffer that is full: EAGAIN/EWOULDBLOCK,
 * ENOBUFS, ENOMEM; or a TCP/TURN pair whose libnice send took less than
 * the packet), -1 on any other failure (not connected, unreachable). */
#define STOA_ICE_SEND_FULL 1
int stoa_ice_send(stoa_ice *ice, const uint8_t *buf, size_t len);
stoa_ice_state stoa_ice_get_state(const stoa_ice *ice);
/* "<ip>:<port> [host,udp] <-> <ip>:<port> [prflx,udp]" or NULL; g_free. */
char *stoa_ice_selected_pair(stoa_ice *ice);
const char *stoa_ice_state_name(stoa_ice_state s);

void stoa_ice_free(stoa_ice *ice);

#endif
