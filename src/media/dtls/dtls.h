/*
 * dtls.h: one DTLS-SRTP endpoint of a peer connection.
 *
 * A stoa_dtls runs the DTLS 1.2 handshake (RFC 6347) over the ICE pair the
 * peer connection selected, checks the peer's certificate against the
 * a=fingerprint of its SDP (RFC 5763 §5, RFC 8122), exports SRTP keys
 * (RFC 5764 §4.2) and afterwards carries DTLS application data for SCTP
 * (RFC 8261). It owns no socket, thread or timer:
 *
 *  - the ICE layer hands it each datagram whose first octet says DTLS
 *    (RFC 7983 §7) with stoa_dtls_incoming();
 *  - every datagram it wants to send goes to the `send` callback, one
 *    record-layer datagram per call, never larger than the DTLS MTU for
 *    handshake flights;
 *  - the owner arms one timer on its GLib context for
 *    stoa_dtls_timeout_us() and calls stoa_dtls_handle_timeout() when it
 *    fires, for handshake retransmissions (RFC 6347 §4.2.4). Re-read the
 *    timeout after every call into the endpoint.
 *
 * Roles (RFC 8842 §5, RFC 5763 §5): ACTIVE is the DTLS client and sends the
 * ClientHello in stoa_dtls_start(); PASSIVE is the server and waits for it.
 * stoa_dtls_role_for_remote_setup() picks ours from the peer's a=setup.
 *
 * States: NEW -> CONNECTING -> CONNECTED, and from CONNECTING or CONNECTED
 * to FAILED or CLOSED. FAILED and CLOSED are final. The state callback
 * reports every change except the one stoa_dtls_close() makes, with a reason
 * in Janus's hangup wording for FAILED and CLOSED:
 *   "DTLS alert"               the peer sent close_notify;
 *   "DTLS fingerprint mismatch" its certificate does not match the SDP;
 *   "DTLS timeout"             the handshake gave up retransmitting;
 *   "DTLS error"               any other handshake or record failure,
 *                              including a fatal alert from the peer.
 *
 * Threads and ownership: the peer connection owns the endpoint; create it on
 * any thread, then use it from one thread only, the media loop that owns the
 * peer connection. Callbacks run synchronously on that thread, inside the
 * stoa_dtls_* call that caused them. From the state and app_data callbacks
 * the owner may call stoa_dtls_send_app(), stoa_dtls_close() and even
 * stoa_dtls_free() (the free is deferred until the endpoint returns); the
 * send callback must not call back into the endpoint. The stoa_dtls_cert
 * must outlive every endpoint made from it.
 */
#ifndef STOA_MEDIA_DTLS_H
#define STOA_MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/dtls/cert.h"
#include "media/srtp/srtp.h"

typedef enum stoa_dtls_role {
	STOA_DTLS_ROLE_ACTIVE,	/* DTLS client; a=setup:active */
	STOA_DTLS_ROLE_PASSIVE, /* DTLS server; a=setup:passive */
} stoa_dtls_role;

typedef enum stoa_dtls_state {
	STOA_DTLS_STATE_NEW,
	STOA_DTLS_STATE_CONNECTING,
	STOA_DTLS_STATE_CONNECTED,
	STOA_DTLS_STATE_FAILED,
	STOA_DTLS_STATE_CLOSED,
} stoa_dtls_state;

/* `ud` is the pointer given to stoa_dtls_new(). Buffers are borrowed for the
 * duration of the call. */
typedef struct stoa_dtls_callbacks {
	/* Sends one datagram to the peer over the selected ICE pair. Required. */
	void (*send)(void *ud, const uint8_t *buf, size_t len);
	/* The state changed; `reason` is NULL except for FAILED and CLOSED. */
	void (*state)(void *ud, stoa_dtls_state state, const char *reason);
	/* One decrypted application-data record (an SCTP packet). */
	void (*app_data)(void *ud, const uint8_t *buf, size_t len);
} stoa_dtls_callbacks;

/* Datagram and byte counts for the Admin API. */
typedef struct stoa_dtls_stats {
	uint64_t in_packets, in_bytes;
	uint64_t out_packets, out_bytes;
	uint64_t dropped_records; /* after the release: wrong epoch, forged, replayed */
} stoa_dtls_stats;

typedef struct stoa_dtls stoa_dtls;

/*
 * Creates an endpoint in state NEW. `remote_fingerprint_alg` and
 * `remote_fingerprint` come from the peer's a=fingerprint ("sha-256",
 * "AB:CD:..."); they may be NULL here and given later with
 * stoa_dtls_set_remote_fingerprint(), but must be known before the peer's
 * certificate arrives or the handshake fails. `cbs` is copied. Returns NULL
 * if the fingerprint is malformed or names an unsupported hash, or on
 * allocation failure.
 */
stoa_dtls *stoa_dtls_new(const stoa_dtls_cert *cert, stoa_dtls_role role,
			 const char *remote_fingerprint_alg, const char *remote_fingerprint,
			 const stoa_dtls_callbacks *cbs, void *ud);

/* Sets or replaces the expected peer fingerprint. Returns 0 or -1 (malformed,
 * unsupported hash, or the peer's certificate was already checked). */
int stoa_dtls_set_remote_fingerprint(stoa_dtls *d, const char *alg, const char *fingerprint);

/* Session and handle ids to tag log lines with (0 when unknown). */
void stoa_dtls_set_log_ids(stoa_dtls *d, uint64_t session_id, uint64_t handle_id);

/* Retransmission timer (RFC 6347 §4.2.4.1): the first timeout, doubled
 * after each retransmission up to `max_ms`. Defaults 1000 and 60000 ms, the
 * RFC's values; tests and lossy links may want a smaller first timeout.
 * Both are raised to at least STOA_DTLS_MIN_TIMEOUT_MS. Before
 * stoa_dtls_start(). OpenSSL gives up after 12 retransmissions of a flight. */
#define STOA_DTLS_MIN_TIMEOUT_MS 20u
void stoa_dtls_set_retransmit_timeouts(stoa_dtls *d, unsigned initial_ms, unsigned max_ms);

/* NEW -> CONNECTING; an ACTIVE endpoint sends its ClientHello. Call once the
 * ICE pair is selected. Returns 0, or -1 if not NEW or the handshake failed
 * at once. A datagram arriving in state NEW starts the endpoint implicitly. */
int stoa_dtls_start(stoa_dtls *d);

/* Feeds one received datagram: advances the handshake, or decrypts records
 * and hands them to app_data. Datagrams that are not DTLS, arrive after the
 * end, or fail record checks are dropped (counted, never fatal). */
void stoa_dtls_incoming(stoa_dtls *d, const uint8_t *buf, size_t len);

/* Microseconds until stoa_dtls_handle_timeout() is due (0: now), or -1 if no
 * retransmission timer is running. */
int64_t stoa_dtls_timeout_us(const stoa_dtls *d);

/* Retransmits the last flight if the timer expired. Returns 1 if it did, 0
 * if nothing was due, -1 if the handshake failed (too many retries). */
int stoa_dtls_handle_timeout(stoa_dtls *d);

/* Encrypts and sends one application-data record (CONNECTED only). The
 * caller keeps records under the MTU minus DTLS overhead. Returns 0 or -1. */
int stoa_dtls_send_app(stoa_dtls *d, const uint8_t *buf, size_t len);

/*
 * Hands a CONNECTED association to our own record layer (record.h) and
 * frees OpenSSL's state, ~50 KB per peer. Alerts, application data and
 * close_notify work as before, the same on the wire. Call it once the peer
 * has proven it finished the handshake (an authenticated SRTP or SRTCP
 * packet from it): until then it may need a flight of ours again, which
 * only OpenSSL can retransmit. Application data from it proves the same.
 * Returns 0 when released (or already),
 * -1 when the state stays: not CONNECTED, or a suite that is not AEAD.
 * From inside a callback the release happens when the call returns.
 */
int stoa_dtls_release(stoa_dtls *d);
/* True once stoa_dtls_release() took effect. */
bool stoa_dtls_released(const stoa_dtls *d);

/* Ends the association: sends close_notify if CONNECTED, moves to CLOSED
 * without calling the state callback. Idempotent; FAILED stays FAILED. */
void stoa_dtls_close(stoa_dtls *d);

/* Frees the endpoint without sending anything (call stoa_dtls_close() first
 * for a polite end). NULL is ignored. */
void stoa_dtls_free(stoa_dtls *d);

/*
 * The negotiated profile and the SRTP master keys for our role (RFC 5764
 * §4.2): the client protects with the client write key, the server with the
 * server write key. CONNECTED only. Returns 0, or -1 (not connected, no
 * profile negotiated, export failure). Wipe `out` after use.
 */
int stoa_dtls_srtp_keys(const stoa_dtls *d, stoa_srtp_keys *out);

stoa_dtls_state stoa_dtls_get_state(const stoa_dtls *d);
stoa_dtls_role stoa_dtls_get_role(const stoa_dtls *d);
/* The reason of the last FAILED/CLOSED transition, or NULL. */
const char *stoa_dtls_get_reason(const stoa_dtls *d);
/* True once the peer's certificate matched the expected fingerprint. */
bool stoa_dtls_fingerprint_verified(const stoa_dtls *d);
/* Negotiated SRTP profile (NONE until CONNECTED, or if the peer offered none). */
stoa_srtp_profile stoa_dtls_srtp_profile(const stoa_dtls *d);
/* Largest application-data record that fits the MTU once CONNECTED (with
 * the negotiated cipher's overhead), for sizing SCTP packets; 0 before. */
size_t stoa_dtls_app_mtu(const stoa_dtls *d);
/* Handshake flights retransmitted after their timer expired. */
unsigned stoa_dtls_retransmissions(const stoa_dtls *d);
void stoa_dtls_get_stats(const stoa_dtls *d, stoa_dtls_stats *out);
/* The expected peer fingerprint as given, or NULL. */
const char *stoa_dtls_remote_fingerprint(const stoa_dtls *d, const char **alg);

/* Admin API wording: "created", "trying", "connected", "failed", "closed". */
const char *stoa_dtls_state_name(stoa_dtls_state state);
/* a=setup value for a role: "active" or "passive". */
const char *stoa_dtls_role_setup_name(stoa_dtls_role role);
/* Our role when the peer's SDP says a=setup:`remote` (RFC 8842 §5.3): its
 * "passive" makes us active, its "active" makes us passive, and "actpass"
 * makes us active (RFC 5763 §5 recommends it; Janus does the same). Returns 0,
 * or -1 for a missing or unknown value ("holdconn" included). */
int stoa_dtls_role_for_remote_setup(const char *remote, stoa_dtls_role *out);

#endif
