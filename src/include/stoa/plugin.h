/*
 * stoa/plugin.h: the plugin ABI.
 *
 * A plugin is a shared object in the plugins folder that exports one symbol,
 * `stoa_plugin_create`, returning a pointer to a static `stoa_plugin` vtable.
 * The core checks `api_version` against STOA_PLUGIN_API_VERSION and refuses a
 * plugin whose mandatory callbacks are NULL (see each callback's "mandatory").
 *
 * Clients see plugins by their Janus package names (`janus.plugin.echotest`,
 * ...), so existing Janus clients attach to them unchanged.
 *
 * Threads and ownership are stated per callback. In short:
 *  - init/destroy run on the main thread, once.
 *  - create_session, handle_message, handle_admin_message, destroy_session and
 *    query_session run on an API thread (a transport's or the API worker pool),
 *    possibly several at once for different handles: plugins lock their own state.
 *  - setup_media, hangup_media and (later) media callbacks run on the media loop
 *    that owns the handle's peer connection.
 *  - Core callbacks (stoa_core_api) may be called from any thread.
 *
 * A `stoa_plugin_session` is the plugin's view of one handle. The core owns it
 * and keeps it alive while the handle exists; a plugin that keeps the pointer
 * beyond the callback that gave it (to answer from its own thread, say) takes a
 * reference with core->session_ref() and drops it with core->session_unref().
 * `stopped` is set just before destroy_session is called; from then on core
 * calls on the session fail harmlessly.
 */
#ifndef STOA_PLUGIN_H
#define STOA_PLUGIN_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "stoa/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What handle_message did with a request. */
typedef enum stoa_plugin_result_type {
	/* Failed: the core answers the request with error 462 and `text`. */
	STOA_PLUGIN_ERROR = -1,
	/* Done synchronously: `content` goes to the client in a `success` reply. */
	STOA_PLUGIN_OK = 0,
	/* Accepted: the client gets an `ack` (with `text` as hint, if set) and the
	 * plugin answers later with push_event() and the same transaction. */
	STOA_PLUGIN_OK_WAIT = 1,
} stoa_plugin_result_type;

/* Returned by handle_message; allocated with stoa_plugin_result_new(), freed by the core. */
typedef struct stoa_plugin_result {
	stoa_plugin_result_type type;
	char *text;	   /* error text or ack hint; owned by the result */
	json_t *content;   /* OK: the synchronous reply data; the result holds one ref */
} stoa_plugin_result;

/* The plugin's view of one handle. Owned by the core; see the file comment. */
typedef struct stoa_plugin_session {
	void *core_handle;	/* the core's handle; opaque to plugins */
	void *plugin_data;	/* the plugin's per-handle state, set by create_session */
	volatile int stopped;	/* set (atomically) just before destroy_session */
} stoa_plugin_session;

/*
 * Media handed between the core and a plugin. The buffer belongs to the
 * core and is valid only during the call that carries it; a plugin may
 * modify it in place before relaying it (to rewrite headers, say) but must
 * copy it to keep it. Packets are plain (decrypted) RTP/RTCP.
 */
typedef struct stoa_plugin_rtp {
	int mindex;		/* m-line index */
	const char *mid;	/* its mid */
	int video;		/* 1 video, 0 audio */
	uint8_t *buffer;
	uint16_t length;
	int substream;		/* simulcast layer 0..2 from rid/ssrc, -1 if not simulcast */
	int audio_level;	/* RFC 6464 level (0..127, -dBov), -1 if absent */
	int voice_activity;	/* RFC 6464 V bit, -1 if absent */
	/* relay_rtp only (API version 3). 1 when the packet comes from another
	 * peer (a VideoRoom publisher, the other party of a call): the core
	 * replaces its header extensions with this session's own (mid, and the
	 * audio level from audio_level/voice_activity), since the source's
	 * extension ids mean other things here. 0 (an echo): sent as it is. */
	int forwarded;
	/* relay_rtp only (API version 3). 1: the plugin keeps the packets of
	 * this stream (once for every receiver, as the VideoRoom does) and
	 * answers its NACKs with resend_rtp; the core then keeps no copy and
	 * hands the stream's NACKs to incoming_rtcp. 0: the core keeps a copy
	 * of what it sends and answers NACKs itself. */
	int plugin_retransmits;
} stoa_plugin_rtp;

typedef struct stoa_plugin_rtcp {
	int mindex;
	const char *mid;
	int video;
	uint8_t *buffer;
	uint16_t length;
} stoa_plugin_rtcp;

typedef struct stoa_plugin_data {
	const char *label;	/* the data channel's label */
	const char *protocol;	/* its subprotocol, "" if none */
	int binary;		/* 1 binary, 0 text */
	uint8_t *buffer;
	uint32_t length;
} stoa_plugin_data;

/* What relay_rtp did with a packet (API version 4). */
typedef enum stoa_relay_result {
	/* Not sent: no peer connection, the m-line does not send, not
	 * connected yet, or a packet that is not RTP. */
	STOA_RELAY_NOT_SENT = -1,
	/* Handed to the kernel (or libnice), or copied and posted to the
	 * handle's media loop when called from another thread. */
	STOA_RELAY_SENT = 0,
	/* Refused for lack of room: the peer's socket send buffer is full
	 * (sendto said EAGAIN/ENOBUFS/ENOMEM; a TCP/TURN pair took less than
	 * the packet). The packet is lost: the path to this peer is congested
	 * and the plugin may choose to drop more (video up to a keyframe). */
	STOA_RELAY_CONGESTED = 1,
} stoa_relay_result;

/* Log levels, as Janus numbers them (`debug_level`, `-d`). */
enum {
	STOA_LOG_NONE = 0,
	STOA_LOG_FATAL = 1,
	STOA_LOG_ERR = 2,
	STOA_LOG_WARN = 3,
	STOA_LOG_INFO = 4,
	STOA_LOG_VERB = 5,
	STOA_LOG_HUGE = 6,
	STOA_LOG_DBG = 7,
};

/*
 * What the core offers plugins. A pointer to one static instance is given to
 * init(); it stays valid until destroy() returns. Every function may be called
 * from any thread.
 */
typedef struct stoa_core_api {
	/* Sends an event to the handle's client: {"janus":"event", "plugindata":
	 * {"plugin": <package>, "data": message}, "jsep"?}. `transaction` is the
	 * request's (NULL for unsolicited events). The core takes no reference:
	 * the caller keeps and releases its own refs to `message` and `jsep`.
	 * A jsep offer/answer is first given to the handle's peer connection.
	 * Returns 0, or a negative value if the session is gone or jsep is invalid. */
	int (*push_event)(stoa_plugin_session *ps, const char *transaction,
			  json_t *message, json_t *jsep);

	/* Closes the handle's peer connection (the client gets `hangup` with
	 * reason "Close PC"); the handle stays attached and lets go of the pc at
	 * once, so a new offer gets a fresh one. hangup_media is NOT called for
	 * a pc closed this way: the plugin already knows. */
	void (*close_pc)(stoa_plugin_session *ps);

	/* Ends the handle as if the client had detached it (the client gets
	 * `detached`). destroy_session() is called on an API thread later. */
	void (*end_session)(stoa_plugin_session *ps);

	/* Keeps `ps` alive beyond the current callback; pair with session_unref. */
	void (*session_ref)(stoa_plugin_session *ps);
	void (*session_unref)(stoa_plugin_session *ps);

	/* Logs a line at `level` tagged with the plugin's package and, when `ps`
	 * is not NULL, its session and handle ids. */
	void (*log)(int level, const stoa_plugin_session *ps, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* True when `level` would be printed (skip building expensive lines). */
	int (*log_enabled)(int level);

	/* The folder that holds the configuration files (`-F`). */
	const char *configs_folder;

	/* ---- media ---- */

	/* Builds the SDP answer to the offer the client sent with the request
	 * being handled (the `jsep` handle_message received). `prefs` (borrowed,
	 * may be NULL) chooses what to accept: {"audiocodec": "opus,pcmu",
	 * "videocodec": "vp8,vp9,h264", "vp9_profile": "0", "h264_profile":
	 * "42e01f", "data": true, "audio": true, "video": true, "recvonly":
	 * false (true: receive only, as for a publisher)}. Also (optional, so
	 * plugins that leave them out keep the old answers, no API version
	 * change): "audiolevel_ext", "videoorient_ext", "playoutdelay_ext",
	 * "transport_wide_cc_ext": false refuses that header extension even
	 * when offered (absent or true: accepted when offered); "opus_fec",
	 * "opus_dtx": true writes useinbandfec=1 / usedtx=1 in the Opus fmtp,
	 * false leaves it out (absent: the offer's value is echoed). Waits (up to
	 * about 5 s) for the server's ICE candidates so the answer carries them
	 * all. Call it from a plugin thread, never from a media loop. Returns a
	 * new jsep object {"type":"answer","sdp":...} to pass to push_event, or
	 * NULL with a reason in err. */
	json_t *(*generate_answer)(stoa_plugin_session *ps, json_t *prefs, char *err, size_t errlen);

	/* Sends RTP/RTCP/data to this handle's peer. From the handle's own media
	 * loop (inside incoming_* callbacks) the packet goes out at once; from any
	 * other thread it is copied and handed to that loop. The buffer is only
	 * borrowed. RTP is sent on the m-line `pkt->mindex` of this handle, with
	 * this handle's SSRC for it.
	 * relay_rtp returns (API version 4) a stoa_relay_result: whether the
	 * kernel took the packet. Only a send made inline (on the handle's own
	 * loop) can tell; a posted one says STOA_RELAY_SENT. */
	int (*relay_rtp)(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
	void (*relay_rtcp)(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt);
	void (*relay_data)(stoa_plugin_session *ps, stoa_plugin_data *msg);

	/* Asks the peer for a keyframe on m-line `mindex` (rate-limited). */
	void (*send_pli)(stoa_plugin_session *ps, int mindex);
	/* Tells the peer to keep its video under `bitrate` bit/s (REMB). */
	void (*send_remb)(stoa_plugin_session *ps, uint32_t bitrate);

	/* Per-stream statistics of the handle's peer connection, keyed by mid:
	 * SSRCs, direction, payload types and stats {in, out: {packets, bytes,
	 * nacks, retransmissions}}, rtcp {rtt, lost, jitter} — the "media"
	 * object of the Admin API's handle_info. Any thread (on the handle's
	 * own media loop it reads directly; elsewhere it asks the loop and
	 * waits). New reference, or NULL without a peer connection. */
	json_t *(*media_stats)(stoa_plugin_session *ps);

	/* ---- API version 3: server offers and fan-out ---- */

	/* Builds an SDP offer from the server (the client answers in a later
	 * message's jsep, which the core applies before handle_message sees
	 * it). `desc` (borrowed) lists the m-lines in order:
	 *   {"media": [{"type": "audio"|"video"|"data", "mid": "0",
	 *               "codec": "opus", "pt": 111, "fmtp": "...",
	 *               "rtx_pt": 96 (0/absent: no RTX), "send": true,
	 *               "recv": false, "disabled": false (port 0),
	 *               "msid": "track id"}, ...],
	 *    "msid": "stream id", "restart": false (ICE restart),
	 *    "audiolevel_ext": true (false: no audio level extension)}
	 * The core keeps the SSRCs of a mid across offers; the offer lists the
	 * mid and audio level header extensions (see stoa_plugin_rtp.forwarded). Waits
	 * for ICE gathering like generate_answer: call it from a plugin thread,
	 * never from a media loop. Returns a new jsep {"type":"offer","sdp"}
	 * for push_event, or NULL with a reason in err. */
	json_t *(*generate_offer)(stoa_plugin_session *ps, json_t *desc, char *err, size_t errlen);

	/* The index of the media loop running the handle's peer connection,
	 * or -1 without one. Any thread. */
	int (*media_loop)(stoa_plugin_session *ps);
	/* The index of the media loop running the caller, -1 off the loops. */
	int (*current_loop)(void);
	/* Runs fn(data) on media loop `loop` (one wakeup, however much work
	 * `fn` does: post one batch per loop, not one call per handle), then
	 * free_fn(data) (may be NULL). From a media loop only. If the loop is
	 * gone (shutdown) free_fn runs at once and -1 is returned. */
	int (*loop_post)(int loop, void (*fn)(void *data), void *data, void (*free_fn)(void *data));

	/* Streams relayed with pkt->plugin_retransmits keep no copies in the
	 * core: NACKs for them reach incoming_rtcp, one NACK message per call
	 * with the m-line it is about, and the plugin answers each lost packet,
	 * rebuilt as first sent (same sequence number), with resend_rtp. The
	 * core sends it as RTX when negotiated. Any thread. */
	void (*resend_rtp)(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);

	/* ---- API version 4 ---- */

	/* True when the two strings are equal, compared in time that does not
	 * depend on where they differ (only their lengths may show): for room
	 * secrets, PINs and admin keys a client supplies. NULL equals nothing.
	 * Any thread. */
	int (*secret_equal)(const char *a, const char *b);
} stoa_core_api;

/*
 * The vtable a plugin exports. Strings are static and owned by the plugin.
 */
typedef struct stoa_plugin {
	int api_version;	/* STOA_PLUGIN_API_VERSION at build time; mandatory */
	const char *package;	/* e.g. "janus.plugin.echotest"; mandatory */
	const char *name;	/* human name, e.g. "Stoa EchoTest plugin" */
	const char *description;
	const char *author;
	const char *version_string; /* e.g. "0.0.7" */
	int version;		     /* e.g. 7 */

	/* Mandatory. Called once on the main thread before any other callback.
	 * `core` stays valid until destroy() returns. `config_path` is the path
	 * of the plugin's config file (<configs folder>/<package>.jcfg), which
	 * may not exist: then the plugin runs on its embedded defaults.
	 * Returns 0, or negative to refuse loading (the core then skips it). */
	int (*init)(const stoa_core_api *core, const char *config_path);

	/* Mandatory. Called once on the main thread at shutdown, after every
	 * session has been destroyed. Must join the plugin's threads and free
	 * everything. */
	void (*destroy)(void);

	/* Mandatory. A client attached a handle. API thread. `ps` is borrowed
	 * (see the file comment). Set ps->plugin_data and return 0, or return a
	 * negative error (the client gets 461 with that number). */
	int (*create_session)(stoa_plugin_session *ps);

	/* Mandatory. A `message` request. API thread. `transaction`, `body` and
	 * `jsep` are borrowed for the call's duration: take refs (json_incref,
	 * g_strdup) to keep them. `jsep` is NULL, or an already validated
	 * {"type","sdp",...} object. Returns a result from stoa_plugin_result_new. */
	stoa_plugin_result *(*handle_message)(stoa_plugin_session *ps,
					      const char *transaction,
					      json_t *body, json_t *jsep);

	/* Optional. Admin API `message_plugin`. API thread. `request` is
	 * borrowed. Returns a new reference to the response object, or NULL. */
	json_t *(*handle_admin_message)(json_t *request);

	/* Optional. The handle's peer connection is up (DTLS done). Media loop. */
	void (*setup_media)(stoa_plugin_session *ps);

	/* Optional. The handle's peer connection closed by itself (ICE/DTLS
	 * failure, consent lost, a DTLS close from the peer) or by the client's
	 * `hangup`; not for closes the plugin asked for with close_pc, nor for
	 * an old pc once a newer one took over. Media loop or API thread. */
	void (*hangup_media)(stoa_plugin_session *ps);

	/* Mandatory. The handle is going away. API thread or main thread. After
	 * this returns the plugin must not call the core with `ps` unless it
	 * holds a reference, and then only to release it. */
	void (*destroy_session)(stoa_plugin_session *ps);

	/* Optional. Plugin-specific state for the Admin API's handle_info.
	 * API thread. Returns a new reference, or NULL. */
	json_t *(*query_session)(stoa_plugin_session *ps);

	/* Optional. Media from the handle's peer, on the handle's media loop.
	 * See stoa_plugin_rtp for buffer ownership. */
	void (*incoming_rtp)(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
	void (*incoming_rtcp)(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt);
	void (*incoming_data)(stoa_plugin_session *ps, stoa_plugin_data *msg);
	/* Optional. A data channel opened and can be written to. Media loop. */
	void (*data_ready)(stoa_plugin_session *ps);
} stoa_plugin;

/* The one symbol a plugin exports; mark its definition with STOA_PLUGIN_EXPORT
 * (plugins may be built with -fvisibility=hidden). */
#define STOA_PLUGIN_CREATE_SYMBOL "stoa_plugin_create"
#define STOA_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef const stoa_plugin *(*stoa_plugin_create_fn)(void);

/* Builds a handle_message result. `text` is copied; `content` is stolen
 * (the result takes over the caller's reference). Inline, so plugins need
 * no symbol from the core binary. */
static inline stoa_plugin_result *stoa_plugin_result_new(stoa_plugin_result_type type,
							  const char *text, json_t *content)
{
	stoa_plugin_result *r = (stoa_plugin_result *)calloc(1, sizeof(*r));
	if (r == NULL) {
		if (content != NULL)
			json_decref(content);
		return NULL;
	}
	r->type = type;
	r->text = text != NULL ? strdup(text) : NULL;
	r->content = content;
	return r;
}

static inline void stoa_plugin_result_free(stoa_plugin_result *r)
{
	if (r == NULL)
		return;
	free(r->text);
	if (r->content != NULL)
		json_decref(r->content);
	free(r);
}

#ifdef __cplusplus
}
#endif

#endif /* STOA_PLUGIN_H */
