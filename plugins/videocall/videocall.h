/*
 * videocall.h: what the VideoCall plugin's files share.
 *
 *   videocall.c   the vtable, users (one per handle), the worker thread that
 *                 answers every request, deferred work, admin queries
 *   requests.c    list, register, presence, call, accept, set, hangup; how
 *                 a call ends; presence notifications
 *   call.c        the media relay between the two parties of a call: links,
 *                 payload type mapping, simulcast layer choice, keyframe
 *                 requests, REMB; setup_media/hangup_media
 *   (SDP facts come from plugins/common/sdp_scan.h)
 *
 * Locking. One plugin-wide mutex, `vc_lock`, guards the username registry
 * and every field of users and calls marked "vc_lock". It is never held
 * across a core call that waits for a media loop (generate_offer,
 * generate_answer, media_stats) or that may call back into the plugin
 * (close_pc: queued with vc_defer_close and run by vc_run_deferred once the
 * lock is released). push_event, send_pli, send_remb and media_loop do not
 * wait, so they may be called under it. Lock order: vc_lock, then a user's
 * link_lock; core locks come after both (the core holds none of its own
 * when it calls us).
 *
 * The media path takes no vc_lock per packet. Each user has a `link`: an
 * immutable, refcounted description of where its packets go (the peer's
 * session, payload types per m-line) plus the relay state of that direction.
 * Signalling swaps it under the user's small `link_lock`; the sender's media
 * loop holds that lock only long enough to take a reference.
 *
 * Ownership. Refcounted (g_atomic): vc_user (ps->plugin_data holds one until
 * destroy_session; each call, link and queued job holds one), vc_call (each
 * of its two users holds one while the call lasts; jobs in flight hold one),
 * vc_link (its sender's `link` field; each packet in flight), vc_relay (each
 * link of that direction). Cycles user -> call -> user and user -> link ->
 * peer user are cut when the call ends (vc_call_end), which every ending
 * path goes through: hangup, a pc that drops, a handle that goes away.
 * A vc_user holds a session ref on its handle for its whole life, so anyone
 * holding a user may use user->ps (calls fail harmlessly once it stopped).
 *
 * PeerConnection closes. A pc we close (close_pc) leaves the handle at
 * once and its close is not reported back (plugin.h), so every
 * hangup_media is a real drop (or the client's own hangup) of the current
 * pc, and the next call starts on a fresh pc.
 */
#ifndef STOA_VIDEOCALL_H
#define STOA_VIDEOCALL_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/rtp_switch.h"
#include "common/fields.h"
#include "common/sdp_scan.h"
#include "common/simulcast.h"
#include "stoa/plugin.h"

#define VC_PACKAGE "janus.plugin.videocall"
#define VC_MAX_MLINES 16
/* The REMB Janus sends for "no cap" (bitrate 0): 10 Mbit/s. */
#define VC_REMB_NO_CAP 10000000

/* Janus's VideoCall error codes. */
enum {
	VC_ERR_NO_MESSAGE = 470,
	VC_ERR_INVALID_JSON = 471,
	VC_ERR_INVALID_REQUEST = 472,
	VC_ERR_REGISTER_FIRST = 473,
	VC_ERR_INVALID_ELEMENT = 474,
	VC_ERR_MISSING_ELEMENT = 475,
	VC_ERR_USERNAME_TAKEN = 476,
	VC_ERR_ALREADY_REGISTERED = 477,
	VC_ERR_NO_SUCH_USERNAME = 478,
	VC_ERR_USE_ECHO_TEST = 479,
	VC_ERR_ALREADY_IN_CALL = 480,
	VC_ERR_NO_CALL = 481,
	VC_ERR_MISSING_SDP = 482,
	VC_ERR_INVALID_SDP = 483,
	VC_ERR_UNKNOWN = 499,
};

extern const stoa_core_api *vc_core;
extern GMutex vc_lock;

typedef enum { VC_AUDIO = 0, VC_VIDEO = 1, VC_DATA = 2, VC_OTHER = 3 } vc_media;

/* The two parties of a call, as indexes. */
enum { VC_CALLER = 0, VC_CALLEE = 1 };

typedef struct vc_user vc_user;
typedef struct vc_call vc_call;
typedef struct vc_link vc_link;
typedef struct vc_relay vc_relay;

/* One handle attached to the plugin. Created by create_session; freed with
 * the last ref, after destroy_session and the end of any call it was in. */
struct vc_user {
	gint ref;
	stoa_plugin_session *ps; /* session ref held until freed */
	/* vc_lock */
	char *username;		/* NULL until register; the registry's key */
	bool presence;		/* gets presence events */
	bool gone;		/* destroy_session ran */
	bool media_up;		/* its pc is up (setup_media .. hangup_media) */
	vc_call *call;		/* ref: ringing or in a call, else NULL */
	/* atomics: `set` writes them, the media path reads them, and the end
	 * of a call puts them back to these defaults (Janus does the same) */
	gint audio_on, video_on; /* relay what this user sends */
	gint bitrate;		/* REMB cap for what this user sends, 0 = none */
	gint substream, temporal, fallback; /* simulcast layer this user receives; -1 default */
	/* the sending half of the media path (call.c) */
	GMutex link_lock;
	vc_link *link;		/* ref, swapped under link_lock (and vc_lock) */
};

/* One m-line of a call: the same mindex and mid on both legs (the callee's
 * offer mirrors the caller's m-lines in order). */
typedef struct vc_mline {
	vc_media type;
	char *mid;
	bool active;		/* both legs kept it */
	char *codec;		/* "opus", "vp8", ...; NULL for data */
	int vcodec;		/* stoa_video_codec, for keyframe detection */
	uint32_t clock;
	int pt[2];		/* its payload type on each leg (VC_CALLER, VC_CALLEE) */
} vc_mline;

typedef enum { VC_RINGING = 0, VC_IN_CALL, VC_ENDED } vc_call_state;

/* A call between two users, from `call` until it ends (vc_call_end); freed
 * once both users and any request in flight let go of it. */
struct vc_call {
	gint ref;
	vc_user *user[2];	/* refs */
	/* vc_lock */
	vc_call_state state;
	bool rang;		/* the callee got incomingcall */
	bool accepting;		/* an accept is being answered */
	int reneg_from;		/* side whose offer awaits the peer's answer, or -1 */
	char *offer_sdp;	/* that offer (the caller's, or a renegotiation's) */
	int n;
	vc_mline m[VC_MAX_MLINES];
	vc_relay *relay[2];	/* refs: relay state of what each side sends, set in a call */
};

/* A request handed to a handler (worker thread). */
typedef struct vc_req {
	vc_user *u;		/* ref held by the job */
	stoa_plugin_session *ps;
	const char *transaction;
	json_t *body;
	json_t *jsep;		/* may be NULL */
	char err[512];
	int code;
	bool replied;
} vc_req;

/* ---- videocall.c ---- */
vc_user *vc_user_ref(vc_user *u);
void vc_user_unref(vc_user *u);
vc_call *vc_call_ref(vc_call *c);
void vc_call_unref(vc_call *c);
/* Sets an error on r; returns its code. */
int vc_error(vc_req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Pushes {"videocall":"event","result":result} (result stolen) to r's
 * client with r's transaction, `jsep` borrowed. */
void vc_reply(vc_req *r, json_t *result, json_t *jsep);
/* An unsolicited {"videocall":"event","result":result} (stolen). */
void vc_notify(vc_user *u, json_t *result, json_t *jsep);
/* Field checks: 0 or an error set on r (returns its code). */
int vc_check(vc_req *r, const stoa_field *f, size_t n);
#define VC_CHECK(r, table) vc_check((r), (table), G_N_ELEMENTS(table))
/* Work for after vc_lock is released (vc_lock held when queuing). */
void vc_defer_close(vc_user *u);	   /* close_pc on the user's handle */
void vc_defer_unref_call(vc_call *c);
void vc_defer_unref_link(vc_link *l);
/* Runs the queued work; vc_lock NOT held. */
void vc_run_deferred(void);

/* ---- requests.c ---- */
void vc_registry_init(void);
void vc_registry_destroy(void);
/* Handlers: 0 when replied (vc_reply), or an error code set on r. */
int vc_req_list(vc_req *r);
int vc_req_register(vc_req *r);
int vc_req_presence(vc_req *r);
int vc_req_call(vc_req *r);
int vc_req_accept(vc_req *r);
int vc_req_set(vc_req *r);
int vc_req_hangup(vc_req *r);
/* The handle went away: unregister, end its call. vc_lock held. */
void vc_user_gone(vc_user *u);
/* The user's pc closed (hangup_media): a drop ends its call. vc_lock held. */
void vc_user_pc_closed(vc_user *u);
/* Ends a call: both users back to idle, links cleared, pcs of `close_mask`
 * sides (bit 1 << side) closed. vc_lock held; the caller tells presence. */
void vc_call_end(vc_call *c, unsigned close_mask);
/* The other party's side index. */
static inline int vc_side_of(const vc_call *c, const vc_user *u)
{
	return c->user[VC_CALLER] == u ? VC_CALLER : VC_CALLEE;
}

/* ---- call.c ---- */
vc_link *vc_link_ref(vc_link *l);
void vc_link_unref(vc_link *l);
vc_relay *vc_relay_new(void);
void vc_relay_unref(vc_relay *r);
/* The simulcast layers the relay forwards on m-line `mindex` right now;
 * false before it forwarded any simulcast packet there. Any thread. */
bool vc_relay_layers(vc_relay *r, int mindex, int *substream, int *temporal);
/* Points both users' media at each other from the call's m-line table
 * (call in VC_IN_CALL), or clears them (the old links are unreffed after
 * the lock). vc_lock held. */
void vc_links_publish(vc_call *c);
void vc_link_clear(vc_user *u);
/* Keyframe requests to both parties of a call for every video m-line. */
void vc_call_request_keyframes(vc_call *c);
void vc_setup_media(stoa_plugin_session *ps);
void vc_hangup_media(stoa_plugin_session *ps);
void vc_incoming_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
void vc_incoming_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt);
void vc_incoming_data(stoa_plugin_session *ps, stoa_plugin_data *msg);
const char *vc_video_codec_name(int vcodec);
int vc_video_codec_of(const char *name);

#endif
