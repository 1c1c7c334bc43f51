/*
 * sctp.h: WebRTC data channels — one SCTP association per peer connection,
 * carried over DTLS (RFC 8261), with channels opened by DCEP (RFC 8832) and
 * messages framed by PPID (RFC 8831). Built on usrsctp's AF_CONN "lower
 * layer": usrsctp never touches a socket; we hand it the decrypted DTLS
 * payloads and it hands us SCTP packets to encrypt.
 *
 * Threads. The stack is process-wide: stoa_sctp_init() and
 * stoa_sctp_shutdown() run on the main thread. An association belongs to
 * one owner (a peer connection) that lives on one thread (its media loop);
 * every stoa_sctp_* call on an association must come from that thread, and
 * every callback into the owner happens on that thread, never while usrsctp
 * holds a lock. Work that usrsctp produces elsewhere (its timers, which we
 * run on the context given to stoa_sctp_init()) reaches the owner through
 * the owner's `post` function. Calls into usrsctp are serialised across
 * the whole process (sctp_stack.c says why). See sctp.c for the design.
 *
 * Lifetime. stoa_sctp_new() returns the owner's reference. The owner calls
 * stoa_sctp_close() (idempotent; no callback runs after it returns) and then
 * stoa_sctp_unref(). Posted work and usrsctp callbacks in progress hold
 * their own references, so the memory goes with whichever reference is
 * dropped last, possibly on another thread; freeing calls no one.
 */
#ifndef STOA_MEDIA_SCTP_SCTP_H
#define STOA_MEDIA_SCTP_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define STOA_SCTP_DEFAULT_PORT 5000
/* RFC 8841 §6: an endpoint that sends no a=max-message-size accepts 64 KiB. */
#define STOA_SCTP_DEFAULT_MAX_MESSAGE_SIZE 65536
/* What we advertise and accept by default (the value Chromium advertises). */
#define STOA_SCTP_LOCAL_MAX_MESSAGE_SIZE 262144
/* Largest message we will ever send or reassemble, whatever the SDP says. */
#define STOA_SCTP_HARD_MAX_MESSAGE_SIZE (16 * 1024 * 1024)
/* Streams we offer in each direction; channel ids are below this. */
#define STOA_SCTP_MAX_STREAMS 1024

typedef struct stoa_sctp stoa_sctp;

/* Partial reliability of a channel (RFC 8832 §5.1 channel types, RFC 3758). */
typedef enum stoa_sctp_pr {
	STOA_SCTP_PR_NONE = 0, /* reliable */
	STOA_SCTP_PR_RTX,      /* pr_value = maximum number of retransmissions */
	STOA_SCTP_PR_TTL,      /* pr_value = lifetime in milliseconds */
} stoa_sctp_pr;

/* A channel's parameters: given to stoa_sctp_open_channel(), reported by
 * on_open. Strings are UTF-8 and NUL-terminated; in on_open they are
 * borrowed for the duration of the call. */
typedef struct stoa_sctp_channel_info {
	const char *label;
	const char *protocol;
	bool ordered;
	stoa_sctp_pr pr;
	uint32_t pr_value;
	uint16_t priority; /* RFC 8832 §5.1; 0 means the default, 256 */
	bool local;	   /* on_open: true if we opened it and its ACK arrived */
} stoa_sctp_channel_info;

typedef enum stoa_sctp_state {
	STOA_SCTP_CONNECTING = 0,
	STOA_SCTP_OPEN,	  /* association established */
	STOA_SCTP_CLOSED, /* lost, aborted or shut down by the peer */
} stoa_sctp_state;

/*
 * The owner's side. All but `post` are called on the owner's thread, only
 * from work the owner ran through `post` or from inside a stoa_sctp_* call
 * the owner made; buffers are borrowed for the duration of the call. A
 * callback may call back into stoa_sctp, including stoa_sctp_close().
 */
typedef struct stoa_sctp_callbacks {
	/* Queue fn(arg) to run later on the owner's thread, then destroy(arg);
	 * if the owner's thread is gone, run only destroy(arg), on any thread.
	 * Called from any thread (usrsctp's timer context included), never
	 * after stoa_sctp_close() has returned, while the SCTP stack's lock is
	 * held: it must not run fn inline, must not call into stoa_sctp, and
	 * must not wait for a lock the owner holds while calling stoa_sctp.
	 * stoa_loop_post() has this contract. */
	void (*post)(void *ud, GSourceFunc fn, void *arg, GDestroyNotify destroy);
	/* An SCTP packet to send as DTLS application data. Required. */
	void (*send_lower)(void *ud, const uint8_t *buf, size_t len);
	/* The association came up or went down. Optional. */
	void (*on_state)(void *ud, stoa_sctp_state state);
	/* A channel opened: the peer's DATA_CHANNEL_OPEN was accepted and
	 * acknowledged (info->local false), or the peer acknowledged ours
	 * (info->local true; data arriving first counts as the ACK).
	 * Optional. */
	void (*on_open)(void *ud, uint16_t id, const stoa_sctp_channel_info *info);
	/* A whole message; binary false means UTF-8 text. len may be 0. */
	void (*on_message)(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len);
	/* The channel is closed: the peer reset its stream (RFC 8831 §6.7),
	 * whoever started, or the association ended or restarted. Not called
	 * for what stoa_sctp_close() ends. Optional. */
	void (*on_close)(void *ud, uint16_t id);
} stoa_sctp_callbacks;

typedef struct stoa_sctp_config {
	uint16_t local_port;  /* our a=sctp-port; 0 = 5000 */
	uint16_t remote_port; /* the peer's a=sctp-port; 0 = 5000 */
	/* Our DTLS role picks the parity of the channel ids we allocate
	 * (RFC 8832 §6): the DTLS client uses even ids, the server odd. */
	bool dtls_client;
	/* The peer's a=max-message-size: the largest message we may send
	 * (0 = the peer set no limit; we still stop at the hard maximum). */
	size_t max_send_size;
	/* Our a=max-message-size: larger incoming messages are dropped
	 * (0 = STOA_SCTP_LOCAL_MAX_MESSAGE_SIZE). */
	size_t max_recv_size;
	/* Tags for log lines about this association (0 = none). */
	uint64_t session_id;
	uint64_t handle_id;
} stoa_sctp_config;

/* Starts the process-wide usrsctp stack. Its timers run on `timer_ctx`
 * (NULL = the global default context), which someone must iterate. Main
 * thread, before any association. 0 or negative. */
int stoa_sctp_init(GMainContext *timer_ctx);
/* Stops the stack: every association must be closed by now. Waits (at most
 * a few seconds, running the stack's timers) until usrsctp has released
 * every socket, then calls usrsctp_finish(). Main thread. 0 or negative. */
int stoa_sctp_shutdown(void);

/* Creates an association and starts connecting (the INIT goes out through
 * `post`, not from inside this call). Owner's thread. The callbacks are
 * copied; `ud` is passed back to them and must stay valid until the last
 * reference is gone. NULL on failure. */
stoa_sctp *stoa_sctp_new(const stoa_sctp_config *cfg, const stoa_sctp_callbacks *cb, void *ud);
/* Ends the association (an ABORT, sent through send_lower before this
 * returns) and detaches it from usrsctp: no callback runs afterwards and
 * `post` is not called again. Owner's thread; idempotent. */
void stoa_sctp_close(stoa_sctp *s);
stoa_sctp *stoa_sctp_ref(stoa_sctp *s);
/* Any thread; the last reference closes (if needed) and frees. */
void stoa_sctp_unref(stoa_sctp *s);

/* A decrypted DTLS application-data record from the peer. Owner's thread.
 * Callbacks may run before it returns. */
void stoa_sctp_incoming(stoa_sctp *s, const uint8_t *buf, size_t len);

/* Opens a channel with DCEP; the id (of our parity) goes to *id. May be
 * called before the association is up: the OPEN is sent when it is.
 * Messages may be sent at once (ordered until the ACK, RFC 8832 §6).
 * Owner's thread. 0, or -EINVAL, -ENOSPC (no free id), -EPIPE (closed). */
int stoa_sctp_open_channel(stoa_sctp *s, const stoa_sctp_channel_info *info, uint16_t *id);
/* Closes a channel by resetting our outgoing stream (RFC 8831 §6.7);
 * on_close follows when the peer resets its own. Owner's thread. 0 or
 * -ENOENT. */
int stoa_sctp_close_channel(stoa_sctp *s, uint16_t id);
/* Sends one message with the channel's ordering and reliability. Owner's
 * thread. 0, or -EMSGSIZE (over the peer's limit), -ENOENT (no such
 * channel), -ENOTCONN (association not up yet), -EPIPE (channel closing or
 * association gone), -EAGAIN (send buffer full: the message is dropped),
 * -EIO. */
int stoa_sctp_send(stoa_sctp *s, uint16_t id, bool binary, const uint8_t *buf, size_t len);

stoa_sctp_state stoa_sctp_get_state(const stoa_sctp *s);
/* The largest message stoa_sctp_send() accepts. */
size_t stoa_sctp_max_send_size(const stoa_sctp *s);

#endif
