/*
 * cert.h: the server's DTLS identity and the SSL_CTX every endpoint shares.
 *
 * One stoa_dtls_cert per server. It holds the certificate that peers see
 * in our a=fingerprint (RFC 8122, RFC 8827 §6.5), either an ECDSA P-256
 * self-signed certificate generated at start-up or a PEM certificate and key
 * loaded from `certificates.cert_pem` / `cert_key` (key optionally encrypted
 * with `cert_pwd`), and an SSL_CTX configured for DTLS-SRTP:
 *
 *  - DTLS 1.2 only (RFC 6347; WebRTC stacks have not all moved to 1.3);
 *  - use_srtp offering SRTP_AEAD_AES_128_GCM then SRTP_AES128_CM_SHA1_80
 *    (RFC 5764 §4.1.1, RFC 7714 §14.2); as DTLS server we choose by our order,
 *    so GCM wins whenever the peer offers it;
 *  - ECDHE only, with X25519, P-256 or P-384;
 *  - a certificate is required from the peer, but not checked against any
 *    CA: the endpoint compares its fingerprint with the SDP, which is what
 *    authenticates it (RFC 5763 §5, RFC 8827 §6.5);
 *  - no session resumption or renegotiation, so every handshake carries a
 *    certificate to check.
 *
 * Threads: created and configured on the main thread before any media loop
 * starts; afterwards read-only and shared by all loops (OpenSSL 3 allows
 * SSL_new() on a shared SSL_CTX from many threads). Freed on the main thread
 * after every endpoint using it has been freed.
 */
#ifndef STOA_MEDIA_DTLS_CERT_H
#define STOA_MEDIA_DTLS_CERT_H

#include <openssl/types.h>
#include <stddef.h>

#include "core/config.h"

/* Default and lowest DTLS MTU: the largest datagram a handshake flight may
 * use. OpenSSL refuses MTUs below 256 octets. */
#define STOA_DTLS_DEFAULT_MTU 1200
#define STOA_DTLS_MIN_MTU 256

/* SRTP profiles, best first, in OpenSSL's syntax. */
#define STOA_DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

typedef struct stoa_dtls_cert stoa_dtls_cert;

/*
 * With `cert_path` and `key_path` NULL, generates a key and a certificate;
 * otherwise loads both from PEM files (the certificate file may carry a
 * chain after the leaf). `passphrase` decrypts the key (NULL: unencrypted;
 * never prompts). Returns NULL with a message in `err` on failure.
 */
stoa_dtls_cert *stoa_dtls_cert_new(const char *cert_path, const char *key_path,
				   const char *passphrase, char *err, size_t errlen);

/* The same from the running configuration: certificates.cert_pem/cert_key/
 * cert_pwd and media.dtls_mtu. */
stoa_dtls_cert *stoa_dtls_cert_new_from_config(const stoa_config *cfg, char *err, size_t errlen);

void stoa_dtls_cert_free(stoa_dtls_cert *c);

/* Our sha-256 fingerprint, "AB:CD:...", for a=fingerprint:sha-256. */
const char *stoa_dtls_cert_fingerprint(const stoa_dtls_cert *c);

/* Replaces the offered SRTP profiles (OpenSSL syntax, e.g. "SRTP_AES128_CM_SHA1_80").
 * Only before the first endpoint is created. Returns 0, or -1 if OpenSSL
 * knows none of them. */
int stoa_dtls_cert_set_srtp_profiles(stoa_dtls_cert *c, const char *profiles);

/* Sets the DTLS MTU (clamped to STOA_DTLS_MIN_MTU). Before the first endpoint. */
void stoa_dtls_cert_set_mtu(stoa_dtls_cert *c, int mtu);
int stoa_dtls_cert_mtu(const stoa_dtls_cert *c);

/* The shared context, for dtls.c and tests. Borrowed; do not modify it once
 * endpoints exist. */
SSL_CTX *stoa_dtls_cert_ssl_ctx(const stoa_dtls_cert *c);

#endif
