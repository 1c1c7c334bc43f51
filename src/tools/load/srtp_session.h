/*
 * srtp_session.h: the two libsrtp2 sessions of one peer (RFC 3711, RFC
 * 7714 for AEAD GCM): `tx` protects what we send with our key (any
 * outbound SSRC), `rx` checks what we receive with the peer's (any inbound
 * SSRC). libsrtp cannot put both wildcards in one session.
 *
 * Owner: one peer's transport; used on its worker thread only. Buffers
 * given to the protect calls need SRTP_MAX_TRAILER_LEN + 4 spare bytes.
 */
#ifndef LOAD_SRTP_SESSION_H
#define LOAD_SRTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <srtp2/srtp.h>

#include "dtls.h"

#define LOAD_SRTP_SPARE (SRTP_MAX_TRAILER_LEN + 4)

typedef struct load_srtp {
	srtp_t rx, tx;
} load_srtp;

int load_srtp_global_init(void);
void load_srtp_global_free(void);

int load_srtp_init(load_srtp *s, const load_srtp_keys *k, char *err, size_t errlen);
void load_srtp_clear(load_srtp *s);

/* In place; *len grows by the trailer. Return 0 or a srtp_err_status_t. */
int load_srtp_protect(load_srtp *s, uint8_t *buf, size_t *len, bool rtcp);
/* In place; *len shrinks. Returns 0 or a srtp_err_status_t. */
int load_srtp_unprotect(load_srtp *s, uint8_t *buf, size_t *len, bool rtcp);

#endif
