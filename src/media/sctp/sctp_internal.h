/*
 * sctp_internal.h: what sctp.c (associations) and sctp_stack.c (the
 * process-wide usrsctp stack) share. Not for other modules.
 *
 * usrsctp identifies an AF_CONN association by an opaque pointer, which it
 * passes back to the conn-output callback and which we also give it as the
 * socket's ulp_info. We never give it our object's address: we give it a
 * 64-bit id, and callbacks look the id up in the stack's registry, taking a
 * reference under the registry lock. Once an association is closed its id
 * is gone from the registry, so a late callback finds nothing and cannot
 * reach freed memory.
 */
#ifndef STOA_MEDIA_SCTP_SCTP_INTERNAL_H
#define STOA_MEDIA_SCTP_SCTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "media/sctp/sctp.h"

/* usrsctp's conn address for an id, and back. */
#define STOA_SCTP_ADDR(id) ((void *)(uintptr_t)(id))
#define STOA_SCTP_ID(addr) ((uint64_t)(uintptr_t)(addr))

/* usrsctp is entered by one thread at a time: every call into it is made
 * between these (see sctp_stack.c). The lock is never taken recursively,
 * because what usrsctp calls back (conn_output, the receive callback) only
 * queues work. */
void stoa__sctp_enter(void);
void stoa__sctp_leave(void);
/* True if this thread is inside usrsctp (between enter and leave). */
bool stoa__sctp_inside(void);

/* Registers `s` and keeps the stack's timers running; returns its id
 * (never 0), or 0 if the stack is not initialised. Any thread. */
uint64_t stoa__sctp_stack_attach(stoa_sctp *s);
/* Unregisters an id: from now on stoa__sctp_stack_find() fails for it. */
void stoa__sctp_stack_detach(uint64_t id);
/* The association registered under `id` with a new reference, or NULL. */
stoa_sctp *stoa__sctp_stack_find(uint64_t id);

/* Implemented by sctp.c for the stack. */
/* Takes a reference unless the count already reached zero. */
bool stoa__sctp_try_ref(stoa_sctp *s);
/* usrsctp produced an SCTP packet for `s` (any thread, usrsctp locks may
 * be held): copy it and queue it for the owner. */
void stoa__sctp_lower_packet(stoa_sctp *s, const void *buf, size_t len);

#endif
