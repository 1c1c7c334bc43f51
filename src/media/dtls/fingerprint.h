/*
 * fingerprint.h: certificate fingerprints as SDP carries them.
 *
 * A fingerprint is a hash of the DER certificate, written as upper-case hex
 * octets separated by colons and named by its hash function (RFC 8122 §5,
 * formerly RFC 4572): "a=fingerprint:sha-256 AB:CD:...". WebRTC requires
 * sha-256 support (RFC 8827 §6.5); we also accept sha-1, sha-384 and sha-512
 * when the peer names them. Hash names and hex digits are matched without
 * regard to case.
 *
 * Pure functions; any thread.
 */
#ifndef STOA_MEDIA_DTLS_FINGERPRINT_H
#define STOA_MEDIA_DTLS_FINGERPRINT_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

/* Octets of the longest digest (sha-512), and its text with a NUL. */
#define STOA_FINGERPRINT_MAX_MD 64
#define STOA_FINGERPRINT_MAX_TEXT (STOA_FINGERPRINT_MAX_MD * 3)

/* The digest named `alg` ("sha-256", ...), or NULL if not accepted. */
const EVP_MD *stoa_fingerprint_md(const char *alg);

/* Hashes `cert` with `md`. Returns the digest length, or -1. */
int stoa_fingerprint_digest(X509 *cert, const EVP_MD *md, uint8_t out[STOA_FINGERPRINT_MAX_MD]);

/* Formats `len` octets as "AB:CD:..." into `out` (at least 3 * len bytes).
 * Returns 0, or -1 if `out` is too small. */
int stoa_fingerprint_format(const uint8_t *md, size_t len, char *out, size_t outlen);

/* The fingerprint of `cert` with the hash named `alg`, formatted. Returns 0
 * or -1 (unknown hash, `out` too small). */
int stoa_fingerprint_of(X509 *cert, const char *alg, char *out, size_t outlen);

/* Parses "ab:CD:..." into octets. Returns the number of octets, or -1 if the
 * text is malformed or longer than STOA_FINGERPRINT_MAX_MD octets. */
int stoa_fingerprint_parse(const char *text, uint8_t out[STOA_FINGERPRINT_MAX_MD]);

#endif
