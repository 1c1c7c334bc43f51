/*
 * record.h: the DTLS 1.2 record layer of one established association,
 * for AEAD cipher suites, without OpenSSL's SSL object.
 *
 * Why. After the handshake an association needs only its record keys, yet
 * OpenSSL's SSL keeps ~50 KB per peer resident (a 16 KiB handshake buffer
 * kept for retransmissions, 16 KiB read and write buffers, the session and
 * the peer's certificate). A server with thousands of viewers pays that for
 * nothing: media goes through SRTP, and DTLS carries only the rare alert and
 * data channel records. stoa_dtls hands the association over to this module
 * once the peer has proven it finished the handshake (dtls.h), and frees
 * the SSL.
 *
 * What. Epoch-1 records protected with AES-GCM (RFC 5288) or
 * ChaCha20-Poly1305 (RFC 7905), the keys taken from the TLS 1.2 key block
 * (RFC 5246 §6.3) of the master secret OpenSSL negotiated. Outgoing records
 * continue the sequence numbers OpenSSL used; incoming ones are
 * authenticated and checked against a 64-record replay window (RFC 6347
 * §4.1.2.6). Only AEAD suites: for the others stoa_dtls_record_new() says
 * no and the SSL stays.
 *
 * Threads: none of its own; used by the owner of its stoa_dtls.
 */
#ifndef STOA_MEDIA_DTLS_RECORD_H
#define STOA_MEDIA_DTLS_RECORD_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOA_DTLS_RECORD_HEADER 13
/* Worst case added to a plaintext: header, explicit nonce and tag. */
#define STOA_DTLS_RECORD_OVERHEAD (STOA_DTLS_RECORD_HEADER + 8 + 16)

#define STOA_DTLS_CT_ALERT 21
#define STOA_DTLS_CT_HANDSHAKE 22
#define STOA_DTLS_CT_APPLICATION_DATA 23

typedef struct stoa_dtls_record stoa_dtls_record;

/* The record layer of `ssl`'s current epoch (1 after a full handshake), or
 * NULL when the suite is not AEAD or a key cannot be derived. `server` is
 * our role in the handshake; `next_write_seq` is the sequence number of
 * the next record we send in that epoch. */
stoa_dtls_record *stoa_dtls_record_new(SSL *ssl, bool server, uint64_t next_write_seq);
/* The same from the keys themselves: `suite` is NID_aes_128_gcm,
 * NID_aes_256_gcm or NID_chacha20_poly1305, the keys are the suite's
 * length and the IVs 4 octets (AES-GCM's implicit part) or 12 (ChaCha20).
 * For stoa_dtls_record_new(), unit tests and the fuzz target. */
stoa_dtls_record *stoa_dtls_record_new_keys(int suite, const uint8_t *write_key,
					    const uint8_t *write_iv, const uint8_t *read_key,
					    const uint8_t *read_iv, uint64_t next_write_seq);
void stoa_dtls_record_free(stoa_dtls_record *r);

/* Protects `len` bytes of content type `type` into one record in `out`
 * (`cap` bytes). Returns the record's length, or -1 if it does not fit. */
int stoa_dtls_record_seal(stoa_dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap);

/* Opens the record at the start of `buf` in place. Returns the record's
 * length on the wire (where the next record starts), 0 if `buf` holds no
 * whole record header. Sets the content and its length in `plain` and
 * `plain_len`, and its type in `type`;
 * `plain` is NULL when the record is dropped: another epoch, a
 * failed authentication or a replay. */
size_t stoa_dtls_record_open(stoa_dtls_record *r, uint8_t *buf, size_t len, uint8_t *type,
			     uint8_t **plain, size_t *plain_len);

/* For a datagram we sent through OpenSSL: the sequence number after the
 * last record of `epoch` in it, or `next` unchanged. Lets the owner learn
 * where OpenSSL's write sequence stands (it has no API for that). */
uint64_t stoa_dtls_record_next_seq(const uint8_t *buf, size_t len, uint16_t epoch, uint64_t next);

#endif
