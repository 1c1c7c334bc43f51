/*
 * fanout.c: one publisher packet to every subscriber of that stream.
 *
 * DESIGN (docs/fanout.md has the long version)
 *  - Each published stream keeps an immutable, refcounted snapshot of the
 *    subscriber streams it feeds, sorted by the media loop their peer
 *    connection lives on. Joins, leaves and switches build a new snapshot
 *    and swap it in under the stream's small lock; the media path only
 *    takes that lock long enough to take a ref on the current snapshot, so
 *    no lock is held while sending and a reader never sees a half-built
 *    list.
 *  - The publisher's packet arrives decrypted on the publisher's loop. It
 *    is copied once into a refcounted packet (with what every subscriber
 *    needs precomputed: keyframe, VP8 temporal layer and sync bit), then
 *    handed to each loop that has subscribers: inline for the publisher's
 *    own loop, one posted job per other loop. So a packet costs at most
 *    one wakeup per loop, never one per subscriber.
 *  - Per subscriber stream, on the subscriber's loop: the simulcast layer
 *    choice, the payload type of the subscriber's offer, the sequence
 *    number/timestamp/VP8 picture id rewrite (so the stream stays
 *    continuous across switches and publisher restarts), into a stack
 *    copy that the core then encrypts into its own buffer and sends. No
 *    allocation per subscriber.
 *  - A slow subscriber never blocks anyone: sends are non-blocking. When
 *    the kernel refuses a video packet (its socket is full: the path to
 *    that subscriber is congested), the subscriber stream drops its video
 *    up to the next keyframe of what it receives, asks the publisher for
 *    one (coalesced) and takes the refused packet and the dropped run out
 *    of its sequence numbers, so the subscriber has no gap to NACK and
 *    never sees a frame whose references it lacks. Audio and data are
 *    left alone (a lost audio packet hurts nobody after it).
 *
 * Threads: vr_fanout_add/remove/clear run on any thread (under vr_lock,
 * which they do not need); vr_fanout_rtp/data on the publisher's media
 * loop; deliveries on each subscriber's loop.
 */
#include <string.h>

#include "media/rtp/keyframe.h"
#include "videoroom.h"

struct vr_fanout {
	gint ref;
	int n;
	int ngroups;
	struct {
		int loop, start, count;
	} *groups;
	vr_sstream *items[];
};

/* A publisher packet shared by every delivery and kept in its stream's
 * ring. Immutable once built. `src` is valid while a delivery holds a
 * ref on its publisher (the batch does; inline deliveries run inside the
 * publisher's own callback). */
typedef struct vr_pkt {
	gint ref;
	vr_pstream *src;
	uint16_t seq;		/* the publisher's sequence number */
	bool video;
	int substream;
	int audio_level, vad;
	bool keyframe;
	int tid;
	bool layer_sync;
	uint16_t len;
	uint8_t buf[];
} vr_pkt;

typedef struct vr_batch {
	vr_publisher *pub;	/* ref: its streams outlive the delivery */
	vr_pkt *pkt;
	vr_fanout *fo;
	int group;
} vr_batch;

/* ---- subscriber streams ---- */

vr_sstream *vr_sstream_ref(vr_sstream *ss)
{
	g_atomic_int_inc(&ss->ref);
	return ss;
}

void vr_sstream_unref(vr_sstream *ss)
{
	if (ss == NULL || !g_atomic_int_dec_and_test(&ss->ref))
		return;
	if (ss->feed != NULL)
		vr_publisher_unref(ss->feed);
	vr_core->session_unref(ss->ps);
	g_free(ss->codec);
	g_free(ss->fmtp);
	g_free(ss);
}

/* ---- snapshots ---- */

static vr_fanout *fanout_ref(vr_fanout *fo)
{
	g_atomic_int_inc(&fo->ref);
	return fo;
}

static void fanout_unref(vr_fanout *fo)
{
	if (fo == NULL || !g_atomic_int_dec_and_test(&fo->ref))
		return;
	for (int i = 0; i < fo->n; i++)
		vr_sstream_unref(fo->items[i]);
	g_free(fo->groups);
	g_free(fo);
}

static int by_loop(const void *a, const void *b)
{
	const vr_sstream *x = *(vr_sstream *const *)a, *y = *(vr_sstream *const *)b;
	return g_atomic_int_get(&x->loop) - g_atomic_int_get(&y->loop);
}

/* A snapshot of `old` without `drop` and with `add` (either may be NULL). */
static vr_fanout *fanout_build(const vr_fanout *old, vr_sstream *drop, vr_sstream *add)
{
	int n = 0, cap = (old != NULL ? old->n : 0) + 1;
	vr_fanout *fo = g_malloc0(sizeof(*fo) + (size_t)cap * sizeof(vr_sstream *));
	fo->ref = 1;
	for (int i = 0; old != NULL && i < old->n; i++)
		if (old->items[i] != drop && old->items[i] != add)
			fo->items[n++] = vr_sstream_ref(old->items[i]);
	if (add != NULL)
		fo->items[n++] = vr_sstream_ref(add);
	fo->n = n;
	qsort(fo->items, (size_t)n, sizeof(vr_sstream *), by_loop);
	fo->groups = g_malloc0(sizeof(*fo->groups) * (size_t)(n > 0 ? n : 1));
	for (int i = 0; i < n; i++) {
		int loop = g_atomic_int_get(&fo->items[i]->loop);
		if (fo->ngroups == 0 || fo->groups[fo->ngroups - 1].loop != loop) {
			fo->groups[fo->ngroups].loop = loop;
			fo->groups[fo->ngroups].start = i;
			fo->ngroups++;
		}
		fo->groups[fo->ngroups - 1].count++;
	}
	return fo;
}

static void fanout_swap(vr_pstream *src, vr_sstream *drop, vr_sstream *add)
{
	g_mutex_lock(&src->subs_lock);
	vr_fanout *old = src->subs;
	src->subs = fanout_build(old, drop, add);
	g_mutex_unlock(&src->subs_lock);
	fanout_unref(old);
}

void vr_fanout_add(vr_pstream *src, vr_sstream *ss)
{
	fanout_swap(src, NULL, ss);
}

void vr_fanout_remove(vr_pstream *src, vr_sstream *ss)
{
	fanout_swap(src, ss, NULL);
}

void vr_fanout_clear(vr_pstream *src)
{
	g_mutex_lock(&src->subs_lock);
	vr_fanout *old = src->subs;
	src->subs = NULL;
	g_mutex_unlock(&src->subs_lock);
	fanout_unref(old);
}

int vr_fanout_count(vr_pstream *src)
{
	g_mutex_lock(&src->subs_lock);
	int n = src->subs != NULL ? src->subs->n : 0;
	g_mutex_unlock(&src->subs_lock);
	return n;
}

static vr_fanout *fanout_get(vr_pstream *src)
{
	g_mutex_lock(&src->subs_lock);
	vr_fanout *fo = src->subs != NULL && src->subs->n > 0 ? fanout_ref(src->subs) : NULL;
	g_mutex_unlock(&src->subs_lock);
	return fo;
}

/* ---- keyframes ---- */

#define KEYFRAME_COALESCE_US G_USEC_PER_SEC

/* Sends the request if the window allows; true when sent. */
static bool keyframe_now(vr_pstream *src, gint64 now)
{
	gint64 last = __atomic_load_n(&src->last_pli_us, __ATOMIC_ACQUIRE);
	if (last != 0 && now - last < KEYFRAME_COALESCE_US)
		return false;
	/* One winner per interval among the loops asking at once. */
	if (!__atomic_compare_exchange_n(&src->last_pli_us, &last, now, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	g_atomic_int_set(&src->pli_pending, 0);
	vr_core->send_pli(src->pub->ps, src->mindex);
	return true;
}

void vr_pstream_request_keyframe(vr_pstream *src)
{
	if (src == NULL || src->type != VR_VIDEO)
		return;
	if (!keyframe_now(src, g_get_monotonic_time()))
		g_atomic_int_set(&src->pli_pending, 1);
}

void vr_pstream_keyframe_tick(vr_pstream *src, int64_t now)
{
	if (g_atomic_int_get(&src->pli_pending))
		keyframe_now(src, now);
}

/* ---- congestion: drop video up to the next keyframe ---- */

/* While waiting, ask again this often: the first request may be lost, or
 * the keyframe it brought refused in turn. */
#define KEYFRAME_WAIT_ASK_US G_USEC_PER_SEC

/* Plugin-wide totals for the stats request (Prometheus). Touched only when
 * a subscriber's path is congested, so a shared atomic costs nothing on
 * the normal path. */
static uint64_t congestion_waits, congestion_drops;

void vr_fanout_congestion_totals(uint64_t *waits, uint64_t *drops)
{
	*waits = __atomic_load_n(&congestion_waits, __ATOMIC_RELAXED);
	*drops = __atomic_load_n(&congestion_drops, __ATOMIC_RELAXED);
}

/* The send of `p` to `ss` was refused: its picture cannot be completed, and
 * the pictures after it refer to it. Subscriber's loop. */
static void keyframe_wait_start(vr_sstream *ss, const vr_pkt *p, int64_t now)
{
	stoa_rtp_switch_unsend(&ss->sw, p->buf, p->len);
	if (ss->kf_wait)
		return;
	ss->kf_wait = true;
	ss->kf_waits++;
	__atomic_fetch_add(&congestion_waits, 1, __ATOMIC_RELAXED);
	ss->kf_asked_us = now;
	vr_pstream_request_keyframe(p->src);
}

/* While waiting: true when `p` (already past the simulcast choice, so of
 * the layer the stream is on) is a keyframe, which ends the wait; else it
 * is dropped without leaving a gap. Subscriber's loop. */
static bool keyframe_wait_pass(vr_sstream *ss, const vr_pkt *p, int64_t now)
{
	if (p->keyframe) {
		ss->kf_wait = false;
		return true;
	}
	stoa_rtp_switch_skip(&ss->sw, p->buf, p->len);
	ss->kf_wait_drops++;
	__atomic_fetch_add(&congestion_drops, 1, __ATOMIC_RELAXED);
	if (now - ss->kf_asked_us >= KEYFRAME_WAIT_ASK_US) {
		ss->kf_asked_us = now;
		vr_pstream_request_keyframe(p->src);
	}
	return false;
}

/* ---- delivery (subscriber's loop) ---- */

static uint32_t clock_of(const vr_sstream *ss)
{
	if (ss->type == VR_VIDEO)
		return 90000;
	if (ss->codec != NULL && (strcmp(ss->codec, "pcmu") == 0 || strcmp(ss->codec, "pcma") == 0 ||
				  strcmp(ss->codec, "g722") == 0))
		return 8000;
	return 48000;
}

static void layer_event(vr_sstream *ss, const char *key, int value)
{
	json_t *ev = json_pack("{s:s,s:I,s:s,s:i}", "videoroom", "event", "room",
			       (json_int_t)ss->room_id, "mid", ss->mid, key, value);
	vr_core->push_event(ss->ps, NULL, ev, NULL);
	json_decref(ev);
}

/* The simulcast choice for one packet: true to relay it. */
static bool simulcast_pass(vr_sstream *ss, const vr_pkt *p, int64_t now)
{
	stoa_simulcast_set_target(&ss->sim, g_atomic_int_get(&ss->substream),
				  g_atomic_int_get(&ss->temporal),
				  (int64_t)g_atomic_int_get(&ss->fallback));
	int old_sub = ss->sim.substream, old_tmp = ss->sim.temporal;
	int flags = stoa_simulcast_process(&ss->sim, p->substream, p->keyframe, p->tid,
					   p->layer_sync, now);
	if (flags & STOA_SIMULCAST_KEYFRAME)
		vr_pstream_request_keyframe(p->src);
	if (flags & STOA_SIMULCAST_CHANGED) {
		if (ss->sim.substream != old_sub)
			layer_event(ss, "substream", ss->sim.substream);
		if (ss->sim.temporal != old_tmp)
			layer_event(ss, "temporal", ss->sim.temporal);
	}
	if (flags & STOA_SIMULCAST_RELAY)
		return true;
	if (p->substream == ss->sim.substream)
		stoa_rtp_switch_skip(&ss->sw, p->buf, p->len);
	return false;
}

static void deliver(vr_sstream *ss, const vr_pkt *p, int64_t now)
{
	if (!g_atomic_int_get(&ss->send) || g_atomic_int_get(&ss->paused)) {
		g_atomic_int_set(&ss->rebase, 1);
		return;
	}
	if (!ss->sw_ready) {
		stoa_rtp_switch_init(&ss->sw, clock_of(ss), ss->codec != NULL && strcmp(ss->codec, "vp8") == 0);
		stoa_simulcast_init(&ss->sim);
		ss->sw_ready = true;
	}
	if (g_atomic_int_compare_and_exchange(&ss->rebase, 1, 0)) {
		stoa_rtp_switch_source_changed(&ss->sw);
		stoa_simulcast_init(&ss->sim);
	}
	if (p->video && p->substream >= 0 && !simulcast_pass(ss, p, now))
		return;
	if (G_UNLIKELY(ss->kf_wait) && p->video && !keyframe_wait_pass(ss, p, now))
		return;
	uint8_t buf[1500];
	if (p->len > sizeof(buf))
		return;
	memcpy(buf, p->buf, p->len);
	buf[1] = (uint8_t)((buf[1] & 0x80) | (ss->pt & 0x7f));
	if (stoa_rtp_switch_rewrite(&ss->sw, buf, p->len, now) < 0)
		return;
	struct vr_sent *e = NULL;
	if (p->video) {
		stoa_rtp_offsets o;
		stoa_rtp_switch_offsets(&ss->sw, buf, p->len, &o);
		e = &ss->sent[o.seq_out % VR_SENT];
		e->src = p->src;
		e->seq_in = p->seq;
		e->o = o;
	}
	stoa_plugin_rtp out = { .mindex = ss->mindex, .mid = ss->mid, .video = p->video,
				.buffer = buf, .length = p->len, .substream = -1,
				.audio_level = p->audio_level, .voice_activity = p->vad,
				.forwarded = 1, .plugin_retransmits = 1 };
	if (G_UNLIKELY(vr_core->relay_rtp(ss->ps, &out) == STOA_RELAY_CONGESTED) && e != NULL) {
		e->src = NULL; /* its number goes to the next packet sent */
		keyframe_wait_start(ss, p, now);
		return;
	}
	ss->relayed++;
}

static void deliver_group(vr_fanout *fo, int g, const vr_pkt *p)
{
	int64_t now = g_get_monotonic_time();
	for (int i = fo->groups[g].start; i < fo->groups[g].start + fo->groups[g].count; i++)
		deliver(fo->items[i], p, now);
}

static void pkt_unref(vr_pkt *p)
{
	if (p != NULL && g_atomic_int_dec_and_test(&p->ref))
		g_free(p);
}

static void batch_run(void *data)
{
	vr_batch *b = data;
	deliver_group(b->fo, b->group, b->pkt);
}

static void batch_free(void *data)
{
	vr_batch *b = data;
	pkt_unref(b->pkt);
	fanout_unref(b->fo);
	vr_publisher_unref(b->pub);
	g_free(b);
}

static vr_pkt *pkt_new(vr_pstream *src, const stoa_plugin_rtp *in)
{
	vr_pkt *p = g_malloc(sizeof(*p) + in->length);
	p->ref = 1;
	p->src = src;
	p->seq = (uint16_t)((in->buffer[2] << 8) | in->buffer[3]);
	p->video = in->video;
	p->substream = in->substream;
	p->audio_level = in->audio_level;
	p->vad = in->voice_activity;
	p->keyframe = false;
	p->tid = -1;
	p->layer_sync = false;
	p->len = in->length;
	memcpy(p->buf, in->buffer, in->length);
	size_t off, plen;
	if (in->video && stoa_rtp_switch_payload(p->buf, p->len, &off, &plen) == 0) {
		p->keyframe = stoa_is_keyframe((stoa_video_codec)src->video_codec, p->buf + off, plen);
		stoa_vp8_desc d;
		if (src->video_codec == STOA_CODEC_VP8 && stoa_vp8_desc_parse(p->buf + off, plen, &d) == 0) {
			p->tid = d.tid;
			p->layer_sync = d.layer_sync;
		}
	}
	return p;
}

/* ---- the ring (NACKs) ---- */

static void ring_store(vr_pstream *src, vr_pkt *p)
{
	g_atomic_int_inc(&p->ref);
	g_mutex_lock(&src->ring_lock);
	vr_pkt **slot = &src->ring[p->seq % VR_RING];
	vr_pkt *old = *slot;
	*slot = p;
	g_mutex_unlock(&src->ring_lock);
	pkt_unref(old);
}

static vr_pkt *ring_find(vr_pstream *src, uint16_t seq)
{
	g_mutex_lock(&src->ring_lock);
	vr_pkt *p = src->ring[seq % VR_RING];
	if (p != NULL && p->seq == seq)
		g_atomic_int_inc(&p->ref);
	else
		p = NULL;
	g_mutex_unlock(&src->ring_lock);
	return p;
}

void vr_pstream_ring_clear(vr_pstream *src)
{
	vr_pkt *all[VR_RING];
	g_mutex_lock(&src->ring_lock);
	memcpy(all, src->ring, sizeof(all));
	memset(src->ring, 0, sizeof(src->ring));
	g_mutex_unlock(&src->ring_lock);
	for (int i = 0; i < VR_RING; i++)
		pkt_unref(all[i]);
}

/* The packet sent as `seq`, rebuilt from the source's copy with the same
 * offsets, sent again (as RTX when negotiated). */
static void resend_one(vr_sstream *ss, vr_pstream *src, uint16_t seq)
{
	const struct vr_sent *e = &ss->sent[seq % VR_SENT];
	if (e->src != src || e->o.seq_out != seq)
		return;
	vr_pkt *p = ring_find(src, e->seq_in);
	if (p == NULL)
		return;
	uint8_t buf[1500];
	if (p->len <= sizeof(buf)) {
		memcpy(buf, p->buf, p->len);
		buf[1] = (uint8_t)((buf[1] & 0x80) | (ss->pt & 0x7f));
		if (stoa_rtp_switch_apply(&e->o, ss->sw.vp8, buf, p->len) == 0) {
			stoa_plugin_rtp out = { .mindex = ss->mindex, .mid = ss->mid, .video = true,
						.buffer = buf, .length = p->len, .substream = -1,
						.audio_level = -1, .voice_activity = -1,
						.forwarded = 1 };
			vr_core->resend_rtp(ss->ps, &out);
			ss->resent++;
		}
	}
	pkt_unref(p);
}

void vr_fanout_nack(vr_sstream *ss, const uint8_t *buf, size_t len)
{
	uint16_t seqs[128];
	size_t n = stoa_rtcp_nack_seqs(buf, len, seqs, G_N_ELEMENTS(seqs));
	if (n == 0)
		return;
	/* The source may change (switch) on an API thread: hold its publisher. */
	g_mutex_lock(&vr_lock);
	vr_pstream *src = ss->src;
	vr_publisher *pub = ss->feed != NULL ? vr_publisher_ref(ss->feed) : NULL;
	g_mutex_unlock(&vr_lock);
	if (pub == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		resend_one(ss, src, seqs[i]);
	vr_publisher_unref(pub);
}

void vr_fanout_rtp(vr_pstream *src, stoa_plugin_rtp *in)
{
	vr_fanout *fo = fanout_get(src);
	if (fo == NULL)
		return;
	vr_pkt *p = pkt_new(src, in);
	if (p->video)
		ring_store(src, p);
	int here = vr_core->current_loop();
	for (int g = 0; g < fo->ngroups; g++) {
		if (fo->groups[g].loop == here) {
			deliver_group(fo, g, p);
			continue;
		}
		vr_batch *b = g_new(vr_batch, 1);
		b->pub = vr_publisher_ref(src->pub);
		b->pkt = p;
		g_atomic_int_inc(&p->ref);
		b->fo = fanout_ref(fo);
		b->group = g;
		vr_core->loop_post(fo->groups[g].loop, batch_run, b, batch_free);
	}
	pkt_unref(p);
	fanout_unref(fo);
}

void vr_fanout_data(vr_pstream *src, stoa_plugin_data *msg)
{
	vr_fanout *fo = fanout_get(src);
	if (fo == NULL)
		return;
	for (int i = 0; i < fo->n; i++)
		if (g_atomic_int_get(&fo->items[i]->send) && !g_atomic_int_get(&fo->items[i]->paused))
			vr_core->relay_data(fo->items[i]->ps, msg);
	fanout_unref(fo);
}
