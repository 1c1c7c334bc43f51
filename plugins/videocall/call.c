/*
 * call.c: the media of a call — each party's packets relayed to the other.
 *
 * DESIGN
 *  - A user in a call has a `link` (immutable once published, refcounted):
 *    the peer to send to, and per m-line whether it is relayed, the codec,
 *    and the payload types of the two legs. Signalling builds new links
 *    when a call starts or is renegotiated and clears them when it ends,
 *    swapping the pointer under the user's small `link_lock`; the media
 *    path holds that lock only to take a reference, so no lock is held
 *    while sending and vc_lock is never taken per packet.
 *  - What changes per packet lives in a `relay` (one per direction per
 *    call, shared by the links of successive renegotiations): per m-line an
 *    RTP rewriter (plugins/common/rtp_switch.h) and a simulcast layer
 *    selector (plugins/common/simulcast.h). It is touched only by the
 *    sender's media loop (a call keeps one pc per party, and a pc lives on
 *    one loop).
 *  - A packet from A (incoming_rtp on A's loop): relayed? (A's `set`
 *    audio/video), simulcast layer wanted by B (B's `set`
 *    substream/temporal: the receiver chooses, as in Janus), payload type
 *    of B's leg, sequence/timestamp continuity across pauses and layer
 *    switches, then core->relay_rtp to B with `forwarded` so that the core
 *    writes B's own header extensions. From A's loop to B's pc the core
 *    copies and posts when B's pc lives on another loop.
 *  - Keyframes: a PLI/FIR from B (incoming_rtcp) becomes a PLI to A on the
 *    same m-line; when both pcs of a call are up, both parties are asked;
 *    after A's video resumes (set video:true) nothing is relayed until a
 *    keyframe, which A is asked for. NACKs are the core's: each pc answers
 *    from its own retransmission buffer.
 *  - REMB: a user's `set` bitrate is sent to it once a second from its own
 *    media path (and at once by the request).
 *  - Data channel messages go to the peer on a channel of the same label.
 *
 * Threads: incoming_* on the sending (or, for RTCP, receiving) user's media
 * loop; setup_media/hangup_media on the user's loop (they take vc_lock);
 * vc_links_publish/vc_link_clear under vc_lock on any thread.
 */
#include <string.h>

#include "media/rtp/keyframe.h"
#include "videocall.h"

#define REMB_EVERY_US G_USEC_PER_SEC
#define RESUME_PLI_EVERY_US (300 * 1000)

/* The state of one relayed m-line of one direction (sender's loop only). */
typedef struct vc_stream {
	bool ready;
	int vcodec;
	uint32_t clock;
	bool paused;		/* set audio/video false: nothing relayed */
	bool want_keyframe;	/* video resumed: wait for a keyframe */
	int64_t last_pli_us;
	stoa_rtp_switch sw;
	stoa_simulcast sim;
	uint64_t relayed;
} vc_stream;

struct vc_relay {
	gint ref;
	int64_t remb_last_us;	/* sender's loop */
	vc_stream s[VC_MAX_MLINES];
	/* Atomics, written by the sender's loop, read by the receiver's `set`:
	 * the simulcast substream and temporal layer being relayed per m-line,
	 * plus one (0: no simulcast packet relayed yet). */
	gint shown_sub[VC_MAX_MLINES], shown_tmp[VC_MAX_MLINES];
};

struct vc_link {
	gint ref;
	vc_user *peer;		/* ref: the receiver */
	vc_relay *relay;	/* ref */
	int n;
	struct {
		vc_media type;
		bool active;
		int vcodec;
		uint32_t clock;
		int pt_in, pt_out;	/* the sender's leg, the receiver's leg */
	} m[VC_MAX_MLINES];
};

/* ---- codecs ---- */

int vc_video_codec_of(const char *name)
{
	if (g_strcmp0(name, "vp8") == 0)
		return STOA_CODEC_VP8;
	if (g_strcmp0(name, "vp9") == 0)
		return STOA_CODEC_VP9;
	if (g_strcmp0(name, "h264") == 0)
		return STOA_CODEC_H264;
	if (g_strcmp0(name, "av1") == 0)
		return STOA_CODEC_AV1;
	return STOA_CODEC_UNKNOWN;
}

const char *vc_video_codec_name(int vcodec)
{
	switch (vcodec) {
	case STOA_CODEC_VP8: return "vp8";
	case STOA_CODEC_VP9: return "vp9";
	case STOA_CODEC_H264: return "h264";
	case STOA_CODEC_AV1: return "av1";
	default: return "unknown";
	}
}

/* ---- relays and links ---- */

vc_relay *vc_relay_new(void)
{
	vc_relay *r = g_new0(vc_relay, 1);
	r->ref = 1;
	return r;
}

void vc_relay_unref(vc_relay *r)
{
	if (r != NULL && g_atomic_int_dec_and_test(&r->ref))
		g_free(r);
}

bool vc_relay_layers(vc_relay *r, int mindex, int *substream, int *temporal)
{
	if (r == NULL || mindex < 0 || mindex >= VC_MAX_MLINES)
		return false;
	int sub = g_atomic_int_get(&r->shown_sub[mindex]);
	*substream = sub - 1;
	*temporal = g_atomic_int_get(&r->shown_tmp[mindex]) - 1;
	return sub > 0;
}

vc_link *vc_link_ref(vc_link *l)
{
	g_atomic_int_inc(&l->ref);
	return l;
}

void vc_link_unref(vc_link *l)
{
	if (l == NULL || !g_atomic_int_dec_and_test(&l->ref))
		return;
	vc_relay_unref(l->relay);
	vc_user_unref(l->peer);
	g_free(l);
}

/* What `side` sends, as the call's table says. vc_lock held. */
static vc_link *link_new(vc_call *c, int side)
{
	vc_link *l = g_new0(vc_link, 1);
	l->ref = 1;
	l->peer = vc_user_ref(c->user[!side]);
	l->relay = c->relay[side];
	g_atomic_int_inc(&l->relay->ref);
	l->n = c->n;
	for (int i = 0; i < c->n; i++) {
		const vc_mline *m = &c->m[i];
		l->m[i].type = m->type;
		l->m[i].active = m->active;
		l->m[i].vcodec = m->vcodec;
		l->m[i].clock = m->clock;
		l->m[i].pt_in = m->pt[side];
		l->m[i].pt_out = m->pt[!side];
	}
	return l;
}

static void link_set(vc_user *u, vc_link *l)
{
	g_mutex_lock(&u->link_lock);
	vc_link *old = u->link;
	u->link = l;
	g_mutex_unlock(&u->link_lock);
	vc_defer_unref_link(old);
}

void vc_links_publish(vc_call *c)
{
	for (int s = 0; s < 2; s++)
		link_set(c->user[s], link_new(c, s));
}

void vc_link_clear(vc_user *u)
{
	link_set(u, NULL);
}

/* The user's link with a ref, or NULL (not in a call). Any thread. */
static vc_link *link_get(vc_user *u)
{
	g_mutex_lock(&u->link_lock);
	vc_link *l = u->link != NULL ? vc_link_ref(u->link) : NULL;
	g_mutex_unlock(&u->link_lock);
	return l;
}

void vc_call_request_keyframes(vc_call *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->m[i].type == VC_VIDEO && c->m[i].active)
			for (int s = 0; s < 2; s++)
				vc_core->send_pli(c->user[s]->ps, i);
}

/* ---- setup and hangup (the user's media loop) ---- */

void vc_setup_media(stoa_plugin_session *ps)
{
	g_mutex_lock(&vc_lock);
	vc_user *u = ps->plugin_data;
	if (u != NULL) {
		u->media_up = true;
		vc_call *c = u->call;
		/* The second pc of a call is up: both parties start with a keyframe. */
		if (c != NULL && c->state == VC_IN_CALL && c->user[!vc_side_of(c, u)]->media_up)
			vc_call_request_keyframes(c);
	}
	uint32_t bitrate = u != NULL ? (uint32_t)g_atomic_int_get(&u->bitrate) : 0;
	g_mutex_unlock(&vc_lock);
	if (bitrate > 0)
		vc_core->send_remb(ps, bitrate);
}

void vc_hangup_media(stoa_plugin_session *ps)
{
	g_mutex_lock(&vc_lock);
	vc_user *u = ps->plugin_data;
	if (u != NULL)
		vc_user_pc_closed(u);
	g_mutex_unlock(&vc_lock);
	vc_run_deferred();
}

/* ---- RTP (the sender's media loop) ---- */

static void simulcast_event(vc_user *rx, int vcodec, const char *key, int value)
{
	vc_notify(rx, json_pack("{s:s,s:s,s:i}", "event", "simulcast", "videocodec",
				vc_video_codec_name(vcodec), key, value),
		  NULL);
}

/* The receiver's layer choice for one simulcast packet: true to relay it. */
static bool simulcast_pass(vc_user *tx, vc_link *l, vc_stream *st, stoa_plugin_rtp *pkt,
			   bool keyframe, int tid, bool sync, int64_t now)
{
	vc_user *rx = l->peer;
	stoa_simulcast_set_target(&st->sim, g_atomic_int_get(&rx->substream),
				  g_atomic_int_get(&rx->temporal), (int64_t)g_atomic_int_get(&rx->fallback));
	int old_sub = st->sim.substream, old_tmp = st->sim.temporal;
	int flags = stoa_simulcast_process(&st->sim, pkt->substream, keyframe, tid, sync, now);
	if (flags & STOA_SIMULCAST_KEYFRAME)
		vc_core->send_pli(tx->ps, pkt->mindex);
	g_atomic_int_set(&l->relay->shown_sub[pkt->mindex], st->sim.substream + 1);
	g_atomic_int_set(&l->relay->shown_tmp[pkt->mindex], st->sim.temporal + 1);
	if (flags & STOA_SIMULCAST_CHANGED) {
		if (st->sim.substream != old_sub)
			simulcast_event(rx, st->vcodec, "substream", st->sim.substream);
		if (st->sim.temporal != old_tmp)
			simulcast_event(rx, st->vcodec, "temporal", st->sim.temporal);
	}
	if (flags & STOA_SIMULCAST_RELAY)
		return true;
	if (pkt->substream == st->sim.substream)
		stoa_rtp_switch_skip(&st->sw, pkt->buffer, pkt->length);
	return false;
}

static void periodic_remb(vc_user *tx, vc_relay *rl, int64_t now)
{
	uint32_t bitrate = (uint32_t)g_atomic_int_get(&tx->bitrate);
	if (bitrate == 0 || now - rl->remb_last_us < REMB_EVERY_US)
		return;
	rl->remb_last_us = now;
	vc_core->send_remb(tx->ps, bitrate);
}

static void stream_init(vc_stream *st, int vcodec, uint32_t clock)
{
	memset(st, 0, sizeof(*st));
	st->ready = true;
	st->vcodec = vcodec;
	st->clock = clock;
	stoa_rtp_switch_init(&st->sw, clock, vcodec == STOA_CODEC_VP8);
	stoa_simulcast_init(&st->sim);
}

/* After a pause, video waits for a keyframe (asked for, at most every
 * 300 ms): a decoder fed delta frames against a stale picture shows
 * garbage. True to relay this packet. */
static bool resume_pass(vc_user *tx, vc_stream *st, stoa_plugin_rtp *pkt, bool keyframe, int64_t now)
{
	if (!st->want_keyframe)
		return true;
	if (keyframe) {
		st->want_keyframe = false;
		return true;
	}
	if (now - st->last_pli_us >= RESUME_PLI_EVERY_US) {
		st->last_pli_us = now;
		vc_core->send_pli(tx->ps, pkt->mindex);
	}
	return false;
}

static void relay(vc_user *tx, vc_link *l, stoa_plugin_rtp *pkt)
{
	int i = pkt->mindex;
	if (i < 0 || i >= l->n || !l->m[i].active || l->m[i].type != (pkt->video ? VC_VIDEO : VC_AUDIO))
		return;
	int64_t now = g_get_monotonic_time();
	periodic_remb(tx, l->relay, now);
	vc_stream *st = &l->relay->s[i];
	if (!st->ready || st->vcodec != l->m[i].vcodec || st->clock != l->m[i].clock)
		stream_init(st, l->m[i].vcodec, l->m[i].clock);
	if (!g_atomic_int_get(pkt->video ? &tx->video_on : &tx->audio_on)) {
		st->paused = true;
		return;
	}
	if (st->paused) {
		/* Resume where the receiver's stream left off. */
		st->paused = false;
		stoa_rtp_switch_source_changed(&st->sw);
		if (pkt->video) {
			stoa_simulcast_init(&st->sim);
			st->want_keyframe = true;
			st->last_pli_us = 0;
		}
	}
	bool keyframe = false, sync = false;
	int tid = -1;
	size_t off, plen;
	if (pkt->video && stoa_rtp_switch_payload(pkt->buffer, pkt->length, &off, &plen) == 0) {
		keyframe = stoa_is_keyframe((stoa_video_codec)st->vcodec, pkt->buffer + off, plen);
		stoa_vp8_desc d;
		if (st->vcodec == STOA_CODEC_VP8 && stoa_vp8_desc_parse(pkt->buffer + off, plen, &d) == 0) {
			tid = d.tid;
			sync = d.layer_sync;
		}
	}
	if (pkt->video && pkt->substream >= 0 &&
	    !simulcast_pass(tx, l, st, pkt, keyframe, tid, sync, now))
		return;
	if (pkt->video && !resume_pass(tx, st, pkt, keyframe, now))
		return;
	/* Rewritten in a copy: the core's buffer stays as it came. */
	uint8_t buf[1500];
	if (pkt->length > sizeof(buf) || pkt->length < 12)
		return;
	memcpy(buf, pkt->buffer, pkt->length);
	if ((buf[1] & 0x7f) == l->m[i].pt_in)
		buf[1] = (uint8_t)((buf[1] & 0x80) | (l->m[i].pt_out & 0x7f));
	if (stoa_rtp_switch_rewrite(&st->sw, buf, pkt->length, now) < 0)
		return;
	stoa_plugin_rtp out = *pkt;
	out.buffer = buf;
	out.substream = -1;
	out.forwarded = 1;
	vc_core->relay_rtp(l->peer->ps, &out);
	st->relayed++;
}

void vc_incoming_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt)
{
	/* plugin_data is cleared only by destroy_session, which runs after the
	 * core stopped delivering media to this handle. */
	vc_user *u = ps->plugin_data;
	if (u == NULL)
		return;
	vc_link *l = link_get(u);
	if (l == NULL)
		return;
	relay(u, l, pkt);
	vc_link_unref(l);
}

/* ---- RTCP and data ---- */

void vc_incoming_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt)
{
	vc_user *u = ps->plugin_data;
	if (u == NULL || !pkt->video || !stoa_rtcp_wants_keyframe(pkt->buffer, pkt->length))
		return;
	/* This user wants a keyframe of what its peer sends: only the peer can make one. */
	vc_link *l = link_get(u);
	if (l == NULL)
		return;
	if (pkt->mindex >= 0 && pkt->mindex < l->n && l->m[pkt->mindex].active)
		vc_core->send_pli(l->peer->ps, pkt->mindex);
	vc_link_unref(l);
}

void vc_incoming_data(stoa_plugin_session *ps, stoa_plugin_data *msg)
{
	vc_user *u = ps->plugin_data;
	if (u == NULL)
		return;
	vc_link *l = link_get(u);
	if (l == NULL)
		return;
	vc_core->relay_data(l->peer->ps, msg);
	vc_link_unref(l);
}
