/*
 * videoroom.h: what the VideoRoom plugin's files share.
 *
 *   videoroom.c   the vtable, handles, the request tables and the worker
 *   rooms.c       the room registry and the room requests (create, edit,
 *                 destroy, exists, list, allowed, kick, moderate,
 *                 listparticipants, listforwarders)
 *   publisher.c   publisher-type participants: join, publish, configure,
 *                 unpublish, leave; what their media does
 *   subscriber.c  subscriber handles: join, start, pause, configure,
 *                 switch, subscribe/unsubscribe/update, leave; their offers
 *   fanout.c      one publisher packet to every subscriber (docs/fanout.md)
 *   (SDP facts come from plugins/common/sdp_scan.h)
 *   settings.c    room settings, defaults, validation, the config file
 *
 * Locking. One plugin-wide mutex, `vr_lock`, guards all signalling state:
 * the rooms table, each room's participants and subscribers, each
 * participant's and subscriber's fields except those marked "media loop"
 * or "atomic". Requests are rare and short, so one lock is simple and cheap.
 * Rules: never call a core function that waits for a media loop
 * (generate_offer, generate_answer, media_stats) or that may call back into
 * the plugin (close_pc, end_session) while holding vr_lock; push_event is
 * fine. The media path does not take vr_lock per packet: it reads each
 * published stream's fan-out snapshot (fanout.c), which has its own small
 * lock. Media-loop callbacks take vr_lock for events (webrtcup, hangup,
 * keyframe requests, talking changes) and, on a subscriber's loop, once
 * per NACK message it receives (vr_fanout_nack holds the source's
 * publisher while it answers from the ring): not per media packet, but
 * as often as subscribers report loss.
 *
 * Room settings (room->s) read on media loops. `edit` never clears the
 * struct: it changes the fields it can in place, under vr_lock. Of those,
 * `bitrate` and `fir_freq` are read by the publisher's loop (REMB, periodic
 * keyframes), so edit stores them with __atomic_store_n and the loop loads
 * them with __atomic_load_n; `bitrate_cap`, `audiolevel_event`,
 * `audio_active_packets`, `audio_level_average` and `room` are set when
 * the room is created and never change, so the loop reads them plainly.
 * Every other field (strings included) is read only under vr_lock. A
 * publisher's own `bitrate` (configure) follows the same atomic rule.
 *
 * Ownership. Refcounted (g_atomic): vr_room (the registry holds one ref,
 * each participant/subscriber one), vr_publisher (its handle holds one;
 * each subscriber stream fed by it holds one), vr_sstream (its subscriber
 * holds one; each fan-out snapshot listing it holds one). A published
 * stream (vr_pstream) belongs to its publisher. Cycles (publisher ->
 * snapshot -> sstream -> publisher) are broken explicitly when a publisher
 * stops publishing (vr_fanout_clear) or a subscriber stream ends.
 */
#ifndef STOA_VIDEOROOM_H
#define STOA_VIDEOROOM_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/rtp_switch.h"
#include "common/fields.h"
#include "common/sdp_scan.h"
#include "common/simulcast.h"
#include "settings.h"
#include "stoa/plugin.h"

#define VR_PACKAGE "janus.plugin.videoroom"
#define VR_MAX_STREAMS 16	/* m-lines per publisher, and per subscriber */
#define VR_RING 512		/* packets a published video stream keeps for NACKs */
#define VR_SENT 256		/* what a subscriber stream remembers of what it sent */

struct vr_pkt;

extern const stoa_core_api *vr_core;
extern GMutex vr_lock;
extern vr_general vr_conf;
extern char *vr_config_path;

typedef enum { VR_AUDIO = 0, VR_VIDEO = 1, VR_DATA = 2 } vr_media;

typedef struct vr_room vr_room;
typedef struct vr_publisher vr_publisher;
typedef struct vr_subscriber vr_subscriber;
typedef struct vr_sstream vr_sstream;
typedef struct vr_fanout vr_fanout;
typedef struct vr_forwarder vr_forwarder;

struct vr_room {
	gint ref;
	vr_settings s;		/* see "Room settings" above for who reads what */
	GHashTable *allowed;	/* token set when the ACL is on, else NULL */
	GHashTable *participants; /* guint64 id -> vr_publisher * (ref) */
	GPtrArray *subscribers;	/* vr_subscriber * (borrowed; each holds a room ref) */
	bool destroyed;
};

/* One m-line a publisher sends. Fields are set when it publishes and read
 * by the media loop afterwards; `moderated` is atomic. */
typedef struct vr_pstream {
	vr_publisher *pub;	/* owner (back pointer) */
	int mindex;
	char *mid;
	vr_media type;
	char *codec;		/* "opus", "vp8", ...; NULL for data */
	int pt;			/* the publisher's payload type */
	char *fmtp;		/* the answer's fmtp for that codec, or NULL */
	char *description;
	bool disabled;
	bool simulcast;
	int video_codec;	/* stoa_video_codec, for keyframe detection */
	gint moderated;		/* atomic: muted by `moderate` */
	gint relay;		/* atomic: 0 when the publisher's configure said send:false */
	/* fan-out (fanout.c) */
	GMutex subs_lock;
	vr_fanout *subs;	/* immutable snapshot, swapped under subs_lock */
	gint64 last_pli_us;	/* atomic: coalesces keyframe requests */
	gint pli_pending;	/* atomic: a request came inside the window */
	/* Recent packets, for subscribers' NACKs: one copy per publisher,
	 * not one per subscriber (video only; refs on vr_pkt). */
	GMutex ring_lock;
	struct vr_pkt *ring[VR_RING];
	/* RTP forwarders (forwarder.c): the list under fwd_lock, its length
	 * in nfwd (atomic) so the media path skips the lock when empty. */
	GMutex fwd_lock;
	GPtrArray *forwarders;
	gint nfwd;
	/* received bitrate: counted on the media loop, published each second */
	uint64_t win_bytes;
	int64_t win_start_us;
	gint bitrate;		/* atomic, bit/s */
	/* talking detection, media loop */
	int level_sum, level_count;
	bool talking;
} vr_pstream;

/* A publisher-type participant (one per handle that joined as publisher). */
struct vr_publisher {
	gint ref;
	stoa_plugin_session *ps; /* ref held until freed */
	vr_room *room;		/* ref held */
	guint64 id, private_id;
	char *display;
	json_t *metadata;
	bool in_room;		/* listed in room->participants */
	bool publishing;	/* answered an offer, pc not closed */
	bool active;		/* webrtcup done: announced, subscribable */
	bool kicked;
	char *acodec, *vcodec;	/* negotiated: first audio/video codec */
	uint32_t bitrate;	/* REMB cap asked with configure (0 = room's); atomic */
	gint64 remb_last_us;	/* media loop */
	vr_pstream *streams[VR_MAX_STREAMS]; /* by mindex; atomic pointers */
	int nstreams;
	json_t *descriptions;	/* {mid: description} from publish/configure */
};

/* One m-line of a subscriber. `feed`/`src` change only under vr_lock; the
 * media-loop state is touched only on the subscriber's loop. */
struct vr_sstream {
	gint ref;
	stoa_plugin_session *ps; /* the subscriber's handle (ref held) */
	int mindex;
	char mid[8];
	vr_media type;
	guint64 room_id;
	vr_publisher *feed;	/* ref held, NULL when the source went away */
	vr_pstream *src;	/* feed's stream (valid while feed is held) */
	char *codec;
	int pt;			/* our payload type in the offer */
	int rtx_pt;
	char *fmtp;
	bool offered_active;	/* what the last offer said */
	gint send;		/* atomic: configure send */
	gint paused;		/* atomic: the whole subscriber is paused */
	gint loop;		/* atomic: media loop index of the subscriber, -1 unknown */
	gint substream, temporal, fallback; /* atomic simulcast targets */
	gint rebase;		/* atomic: start the next packet as a new source */
	/* media loop */
	stoa_rtp_switch sw;
	stoa_simulcast sim;
	bool sw_ready;
	uint64_t relayed, resent;
	/* Congestion (fanout.c): a video packet the kernel refused puts the
	 * stream in "waiting for a keyframe" until one of its source/layer
	 * comes; what it drops meanwhile never goes out. Counters are read
	 * (racily, like relayed) by queries. */
	bool kf_wait;
	int64_t kf_asked_us;	/* when the wait last asked for a keyframe */
	uint64_t kf_waits, kf_wait_drops;
	/* What went out under each sequence number (by seq_out % VR_SENT):
	 * the source packet and the offsets, so a NACK is answered from the
	 * publisher's ring with exactly the packet sent. */
	struct vr_sent {
		const vr_pstream *src;	/* compared, never dereferenced */
		uint16_t seq_in;
		stoa_rtp_offsets o;
	} sent[VR_SENT];
};

struct vr_subscriber {
	gint ref;
	stoa_plugin_session *ps; /* ref held */
	vr_room *room;		/* ref held */
	guint64 pvt_id;
	vr_sstream *streams[VR_MAX_STREAMS]; /* by mindex (ref each) */
	int nstreams;
	bool autoupdate;
	bool use_msid;
	bool registered;	/* its streams are in the publishers' snapshots */
	bool offer_pending;	/* sent an offer, no answer yet */
	bool needs_update;	/* something changed while an offer was pending */
	bool paused;
	bool started;
	bool removed;		/* left the room: no more offers */
	bool kicked;		/* its participant was kicked (require_pvtid rooms) */
	int loop;		/* media loop of its pc, -1 before webrtcup */
	/* Data: one application m-line (a VR_DATA slot in streams[], without
	 * a feed) carries every feed's data; one stream per feed here (ref). */
	GPtrArray *data_feeds;
};

/* What a handle is. */
typedef enum { VR_NONE = 0, VR_PUBLISHER, VR_SUBSCRIBER } vr_ptype;

typedef struct vr_handle {
	gint ref;
	stoa_plugin_session *ps; /* borrowed: valid until destroy_session */
	vr_ptype ptype;		/* under vr_lock */
	vr_publisher *pub;	/* ref, under vr_lock */
	vr_subscriber *sub;	/* ref, under vr_lock */
	bool destroyed;
} vr_handle;

/* A request handed to a handler. */
typedef struct vr_req {
	vr_handle *h;
	stoa_plugin_session *ps;
	const char *transaction;
	json_t *body;
	json_t *jsep;		/* may be NULL */
	char err[512];
	int code;		/* error code, 0 = none */
	/* From the Admin API (message_plugin, the REST API): trusted, so the
	 * room secret, pin and the plugin's admin_key are not asked for. */
	bool admin;
} vr_req;

/* ---- videoroom.c ---- */
int vr_error(vr_req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
json_t *vr_error_json(int code, const char *text);
/* Events to a handle / to everyone in a room except `except`. vr_lock held. */
void vr_notify(stoa_plugin_session *ps, json_t *ev);
void vr_notify_room(vr_room *room, json_t *ev, vr_publisher *except, bool subscribers_too);
/* Field checks: 0 or an error set on r (returns its code). */
int vr_check(vr_req *r, json_t *obj, const stoa_field *f, size_t n);
#define VR_CHECK(r, obj, table) vr_check((r), (obj), (table), G_N_ELEMENTS(table))
guint64 vr_random_id(void);
/* Closes the handle's pc once vr_lock is released (vr_lock held). */
void vr_defer_close(stoa_plugin_session *ps);

/* ---- rooms.c ---- */
void vr_rooms_init(void);
/* Config file rooms at init (vr_config_load's callback). */
void vr_rooms_add_configured(const vr_settings *s, void *user);
void vr_rooms_destroy(void);
/* +1 ref, or NULL with 426 set on r. vr_lock held. */
vr_room *vr_room_find(vr_req *r, guint64 id);
void vr_room_unref(vr_room *room);
vr_room *vr_room_ref(vr_room *room);
/* The secret/pin checks: 0, or 429/433 set on r. */
int vr_room_check_secret(vr_req *r, vr_room *room);
int vr_room_check_pin(vr_req *r, vr_room *room);
int vr_room_count_publishers(vr_room *room);
/* The room a request names (`room`), its secret checked when `secret`.
 * +1 ref or NULL with the error set. vr_lock held. */
vr_room *vr_room_for_request(vr_req *r, bool secret);
/* The plugin's admin_key, when configured: 0, or 429/433 set on r. */
int vr_check_admin_key(vr_req *r);
/* Sync room requests: a reply object, or NULL with an error set on r. */
json_t *vr_req_create(vr_req *r);
json_t *vr_req_edit(vr_req *r);
json_t *vr_req_destroy(vr_req *r);
json_t *vr_req_exists(vr_req *r);
json_t *vr_req_list(vr_req *r);
json_t *vr_req_allowed(vr_req *r);
json_t *vr_req_kick(vr_req *r);
json_t *vr_req_moderate(vr_req *r);
json_t *vr_req_listparticipants(vr_req *r);
json_t *vr_req_listforwarders(vr_req *r);
json_t *vr_req_rtp_forward(vr_req *r);
json_t *vr_req_stop_rtp_forward(vr_req *r);
/* Stoa extensions, Admin API only. */
json_t *vr_req_participant_info(vr_req *r);
json_t *vr_req_stats(vr_req *r);

/* ---- publisher.c ---- */
vr_publisher *vr_publisher_ref(vr_publisher *p);
void vr_publisher_unref(vr_publisher *p);
/* The <publisher> object of `publishers` lists. vr_lock held. */
bool vr_publisher_talking(vr_publisher *p);
json_t *vr_publisher_json(vr_publisher *p);
json_t *vr_publishers_list(vr_room *room, vr_publisher *except);
/* Async publisher requests: reply event (and *jsep), or NULL with error. */
json_t *vr_pub_join(vr_req *r, json_t **jsep);
json_t *vr_pub_publish(vr_req *r, json_t **jsep);
json_t *vr_pub_configure(vr_req *r, json_t **jsep);
json_t *vr_pub_unpublish(vr_req *r);
json_t *vr_pub_leave(vr_req *r);
/* The participant leaves its room (leave, kick, detach, room destroyed):
 * others are told (`leaving` unless quiet), subscribers lose its streams.
 * vr_lock held; returns true when the caller must close the pc. */
bool vr_publisher_remove(vr_publisher *p, const char *reason, bool quiet);
/* Its pc closed / it unpublished: `unpublished` to the room, fan-outs
 * emptied, subscribers updated. vr_lock held. */
void vr_publisher_stopped(vr_publisher *p);
void vr_pub_setup_media(vr_handle *h);
void vr_pub_hangup_media(vr_handle *h);
void vr_pub_incoming_rtp(vr_handle *h, stoa_plugin_rtp *pkt);
void vr_pub_incoming_data(vr_handle *h, stoa_plugin_data *msg);
json_t *vr_publisher_query(vr_publisher *p);

/* ---- subscriber.c ---- */
vr_subscriber *vr_subscriber_ref(vr_subscriber *s);
void vr_subscriber_unref(vr_subscriber *s);
json_t *vr_sub_join(vr_req *r, json_t **jsep);
json_t *vr_sub_start(vr_req *r, json_t **jsep);
json_t *vr_sub_pause(vr_req *r);
json_t *vr_sub_configure(vr_req *r, json_t **jsep);
json_t *vr_sub_switch(vr_req *r);
json_t *vr_sub_update(vr_req *r, json_t **jsep);
json_t *vr_sub_leave(vr_req *r);
/* The publisher `p` stopped: streams it fed go inactive; with autoupdate
 * the subscriber gets a new offer (from the worker). vr_lock held. */
void vr_subscribers_feed_gone(vr_room *room, vr_publisher *p);
/* Leaves the room (leave, detach, room destroyed). vr_lock held. */
void vr_subscriber_remove(vr_subscriber *s);
void vr_sub_setup_media(vr_handle *h);
void vr_sub_hangup_media(vr_handle *h);
void vr_sub_incoming_rtcp(vr_handle *h, stoa_plugin_rtcp *pkt);
json_t *vr_subscriber_query(vr_subscriber *s);
/* Sends the offer a subscriber needs after a change (worker thread, no lock). */
void vr_subscriber_push_update(vr_subscriber *s);

/* ---- worker (videoroom.c): runs jobs off the API and media threads ---- */
void vr_worker_push_update(vr_subscriber *s);

/* ---- fanout.c ---- */
vr_sstream *vr_sstream_ref(vr_sstream *ss);
void vr_sstream_unref(vr_sstream *ss);
/* Adds/removes a subscriber stream to/from its source's snapshot. */
void vr_fanout_add(vr_pstream *src, vr_sstream *ss);
void vr_fanout_remove(vr_pstream *src, vr_sstream *ss);
void vr_fanout_clear(vr_pstream *src);
int vr_fanout_count(vr_pstream *src);
/* Publisher's media loop: one packet to every subscriber of `src`. */
void vr_fanout_rtp(vr_pstream *src, stoa_plugin_rtp *pkt);
/* Subscriber's media loop: answers a NACK for `ss` from its source's ring. */
void vr_fanout_nack(vr_sstream *ss, const uint8_t *buf, size_t len);
/* Drops the packets a published stream keeps (it stopped, or is freed). */
void vr_pstream_ring_clear(vr_pstream *src);
void vr_fanout_data(vr_pstream *src, stoa_plugin_data *msg);
/* A keyframe request for `src`, at most one per second whoever asks; one
 * that comes inside the window is sent when it ends (never dropped). */
void vr_pstream_request_keyframe(vr_pstream *src);
/* Publisher's loop, per packet: sends a deferred request when due. */
void vr_pstream_keyframe_tick(vr_pstream *src, int64_t now);
/* Plugin-wide totals of the keyframe waits of congested subscriber streams
 * and of the video packets they dropped (never decrease). Any thread. */
void vr_fanout_congestion_totals(uint64_t *waits, uint64_t *drops);

/* ---- forwarder.c ---- */
/* The forwarders of a publisher's streams, for listforwarders. */
json_t *vr_forwarders_json(vr_publisher *p);
void vr_forwarders_clear(vr_pstream *s);
/* Publisher's media loop. */
void vr_forward_rtp(vr_pstream *s, const stoa_plugin_rtp *pkt);
void vr_forward_data(vr_pstream *s, const stoa_plugin_data *msg);


#endif
