/*
 * pc.h: the peer connection — one per handle that negotiates WebRTC. It owns
 * the ICE agent, the DTLS endpoint, the SRTP sessions, the SCTP association
 * and one stream per negotiated m-line (BUNDLE on one transport, rtcp-mux).
 *
 * State machine (stoa_pc_state), written only on the pc's media loop:
 *
 *   NEW --remote offer--> GATHERING --candidates gathered--> CONNECTING
 *   CONNECTING --ICE connected--> CONNECTED --DTLS done--> READY
 *   any --hangup, ICE failed, DTLS alert/error, consent lost--> CLOSED
 *
 * Threads: a pc lives on one media loop, chosen at creation; that loop's
 * thread is the only writer of its ICE/DTLS/SRTP/RTP state. Other threads
 * call the functions marked "any thread", which post to the loop (or, for
 * stoa_pc_answer and stoa_pc_info, post and wait, so they must not run on a
 * media loop). Owner callbacks run on the loop.
 *
 * Ownership: refcounted. The handle holds one ref from creation until it
 * hangs up; the pc holds a ref on its owner (through owner->ref/unref) until
 * it has closed and delivered its last callback, so callbacks never reach a
 * freed handle. stoa_pc_close() is idempotent.
 */
#ifndef STOA_MEDIA_PC_H
#define STOA_MEDIA_PC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

typedef struct stoa_pc stoa_pc;
typedef struct stoa_dtls_cert stoa_dtls_cert;

typedef enum stoa_pc_state {
	STOA_PC_NEW,
	STOA_PC_GATHERING,
	STOA_PC_CONNECTING,
	STOA_PC_CONNECTED,
	STOA_PC_READY,
	STOA_PC_CLOSED,
} stoa_pc_state;

/* What the pc tells its owner (the handle). All on the pc's loop. */
typedef struct stoa_pc_owner {
	void (*ref)(void *ud);
	void (*unref)(void *ud);
	/* DTLS completed: media can flow (webrtcup). */
	void (*ready)(void *ud);
	/* The pc closed; `reason` as in Janus's hangup events; `notify` false
	 * when the owner asked for the close without an event (detach). */
	void (*closed)(void *ud, stoa_pc *pc, const char *reason, bool notify);
	/* `substream`: the simulcast layer (0 = lowest), -1 if not simulcast. */
	void (*rtp)(void *ud, int mindex, const char *mid, bool video, int substream, uint8_t *buf,
		    size_t len, int audio_level, int vad);
	void (*rtcp)(void *ud, int mindex, const char *mid, bool video, uint8_t *buf, size_t len);
	void (*data)(void *ud, const char *label, const char *protocol, bool binary,
		     uint8_t *buf, size_t len);
	void (*data_ready)(void *ud);
	/* A stream (or one simulcast layer of it: `substream` >= 0) started or
	 * stopped receiving. */
	void (*media)(void *ud, const char *mid, bool video, int substream, bool receiving);
	/* A local candidate, only with full_trickle ("candidate:..." or NULL
	 * for end-of-candidates). */
	void (*local_candidate)(void *ud, const char *mid, const char *candidate);
} stoa_pc_owner;

/* Server-wide media set-up and tear-down (main thread): the DTLS certificate,
 * SRTP, SCTP and ICE settings from the main config. */
struct stoa_config;
int stoa_media_init(const struct stoa_config *cfg, char *err, size_t errlen);
/* Stops background work that posts to the media loops (TURN REST API
 * requests). Main thread, before the loops stop. */
void stoa_media_stop(void);
void stoa_media_cleanup(void);
/* The local DTLS fingerprint ("AB:CD:..."), for the Admin API. */
const char *stoa_media_fingerprint(void);

/* A new pc on the least loaded loop. Any thread. +1 ref. */
stoa_pc *stoa_pc_new(const stoa_pc_owner *owner, void *ud, uint64_t session_id,
		     uint64_t handle_id);
stoa_pc *stoa_pc_ref(stoa_pc *pc);
void stoa_pc_unref(stoa_pc *pc);

/* Validates a remote SDP; 0, or -1 with the parser's message. Any thread. */
int stoa_pc_check_sdp(const char *sdp, char *err, size_t errlen);

/* Applies a remote offer (client offered; we answer). `trickle` false means
 * the SDP carries all the client's candidates. Any thread; posts. Returns 0
 * or -1 with a message (SDP that does not parse, no BUNDLE-able m-line). */
int stoa_pc_set_remote_offer(stoa_pc *pc, const char *sdp, bool trickle, char *err, size_t errlen);

/* Builds our answer to the remote offer: waits (≤ ~5 s) for gathering, then
 * negotiates on the loop. `prefs` as in stoa_core_api.generate_answer.
 * Not on a media loop. Returns the SDP (g_free) or NULL with a message. */
char *stoa_pc_answer(stoa_pc *pc, json_t *prefs, char *err, size_t errlen);

/* Builds a server offer from the plugin's description (see
 * stoa_core_api.generate_offer): starts ICE as the offerer if needed (or
 * restarts it), waits (≤ ~5 s) for gathering, then writes the offer on the
 * loop. Not on a media loop. Returns the SDP (g_free) or NULL with a
 * message. */
char *stoa_pc_offer(stoa_pc *pc, json_t *desc, char *err, size_t errlen);

/* Applies the client's answer to our last offer. Any thread; posts.
 * Returns 0 or -1 with a message (SDP that does not parse, no ICE
 * credentials or fingerprint). */
int stoa_pc_set_remote_answer(stoa_pc *pc, const char *sdp, char *err, size_t errlen);

/* A trickled candidate: {candidate, sdpMid, sdpMLineIndex} or {completed:true}
 * (borrowed). Any thread; posts. */
void stoa_pc_trickle(stoa_pc *pc, json_t *candidate);

/* Sends plain RTP/RTCP/data to the peer. On the pc's loop the packet goes
 * out at once; from another thread it is copied and posted. */
/* `ext`: STOA_PC_EXT_KEEP sends the packet's header extensions as they
 * are; otherwise they are replaced by this session's own (mid, and the
 * RFC 6464 audio level byte `ext` (V bit and level) when >= 0). */
#define STOA_PC_EXT_KEEP (-2)
#define STOA_PC_EXT_OWN (-1)
/* `plugin_rtx`: the plugin keeps this stream's packets and answers its
 * NACKs (stoa_plugin_rtp.plugin_retransmits).
 * Returns what became of the packet: STOA_PC_SENT (handed to the kernel,
 * or copied and posted to the pc's loop, whose outcome nobody waits for),
 * STOA_PC_SEND_FULL (refused because the socket's send buffer is full:
 * the peer's path is congested), or -1 (not sent: no such stream, not
 * sending, not connected, malformed). */
#define STOA_PC_SENT 0
#define STOA_PC_SEND_FULL 1 /* = STOA_ICE_SEND_FULL */
int stoa_pc_send_rtp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int ext,
		     bool plugin_rtx);
/* A retransmission the plugin rebuilt for a NACK on a forwarded stream
 * (same `ext` rule); sent as RTX when negotiated. Any thread. */
void stoa_pc_resend_rtp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int ext);
void stoa_pc_send_rtcp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len);
void stoa_pc_send_data(stoa_pc *pc, const char *label, bool binary, const uint8_t *buf, size_t len);
void stoa_pc_send_pli(stoa_pc *pc, int mindex);
void stoa_pc_send_remb(stoa_pc *pc, uint32_t bitrate);

/* Closes the pc: close_notify, ICE torn down, owner->closed(reason, notify).
 * Any thread; idempotent. */
void stoa_pc_close(stoa_pc *pc, const char *reason, bool notify);

stoa_pc_state stoa_pc_get_state(const stoa_pc *pc);
/* The index of the media loop the pc lives on. Any thread. */
int stoa_pc_loop_index(const stoa_pc *pc);
const char *stoa_pc_state_name(stoa_pc_state s);

/* Per-stream statistics (the "media" object of handle_info). Any thread. */
json_t *stoa_pc_stats(stoa_pc *pc);

/* The Admin API's handle_info "webrtc" object (and sdps). Not on a media loop. */
json_t *stoa_pc_info(stoa_pc *pc);

#endif
