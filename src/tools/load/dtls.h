/*
 * dtls.h: DTLS-SRTP for stoa-load (RFC 5764, RFC 8842).
 *
 * One self-signed ECDSA P-256 certificate and one SSL_CTX for the whole
 * process (load_dtls_global_init, main thread, before any worker starts);
 * OpenSSL allows SSL_new() on a shared context from any thread. Each peer
 * owns one load_dtls endpoint: an SSL over two memory BIOs, fed with the
 * datagrams ICE delivers and drained into datagrams of at most 1200 bytes,
 * cut at record boundaries (a memory BIO runs a flight's records together).
 *
 * The peer's certificate is not checked against any CA: WebRTC identifies
 * it by the fingerprint in the signalling, and load_dtls_verify() compares
 * exactly that. SRTP keys come from SSL_export_keying_material with the
 * "EXTRACTOR-dtls_srtp" label (RFC 5764 §4.2).
 *
 * Thread: an endpoint is used only on its peer's worker thread.
 */
#ifndef LOAD_DTLS_H
#define LOAD_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_DTLS_MTU 1200

int load_dtls_global_init(char *err, size_t errlen);
void load_dtls_global_free(void);

/* "sha-256 AB:CD:..." of our certificate, for our SDPs. */
const char *load_dtls_local_fingerprint(void);

/* Sends one datagram; called from inside load_dtls_* calls. */
typedef void (*load_dtls_send_fn)(void *ud, const uint8_t *buf, size_t len);

typedef struct load_dtls load_dtls;

typedef enum load_dtls_state {
	LOAD_DTLS_HANDSHAKING,
	LOAD_DTLS_CONNECTED,
	LOAD_DTLS_FAILED,
	LOAD_DTLS_CLOSED,	/* the peer sent close_notify */
} load_dtls_state;

/* client: we send the ClientHello (we answered or were answered "active"
 * by the other side's "passive"). */
load_dtls *load_dtls_new(bool client, load_dtls_send_fn send, void *ud);
void load_dtls_free(load_dtls *d);

/* Starts the handshake (a client sends its ClientHello). */
load_dtls_state load_dtls_start(load_dtls *d);

/* Feeds one received DTLS datagram; returns the state after it. */
load_dtls_state load_dtls_incoming(load_dtls *d, const uint8_t *buf, size_t len);

/* Milliseconds until the retransmission timer fires, -1 if none runs. */
int load_dtls_timeout_ms(load_dtls *d);

/* The retransmission timer fired; returns the state (FAILED after too
 * many tries). */
load_dtls_state load_dtls_on_timeout(load_dtls *d);

/* Compares the peer's certificate with the fingerprint from its SDP
 * (algorithm "sha-256", "sha-1", "sha-384" or "sha-512"; hex with colons,
 * any case). Returns 0 on a match. */
int load_dtls_verify(load_dtls *d, const char *alg, const char *fp);

/* The negotiated SRTP profile and keys for our side and the peer's. */
typedef struct load_srtp_keys {
	bool gcm;		/* SRTP_AEAD_AES_128_GCM, else AES_CM_128_HMAC_SHA1_80 */
	uint8_t local[30];	/* key then salt */
	uint8_t remote[30];
	size_t len;		/* 28 (GCM: 16 + 12) or 30 (CM: 16 + 14) */
} load_srtp_keys;

int load_dtls_export_keys(load_dtls *d, load_srtp_keys *k);

/* A short description of the last OpenSSL error, for logs. */
const char *load_dtls_error(load_dtls *d);

#endif
