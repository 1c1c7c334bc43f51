/*
 * handle_media.c: what ties a handle to its peer connection — the pc's
 * owner callbacks (turning pc events into Janus events and plugin calls) and
 * the media half of the core API offered to plugins.
 *
 * Threads: the owner callbacks run on the pc's media loop; the core API
 * functions may be called from any thread (relay_* from the loop itself is
 * the fast path: the packet goes out inline).
 */
#include <string.h>

#include "core/handle.h"
#include "core/log.h"
#include "core/session.h"
#include "core/loop.h"
#include "media/pc.h"

#define STOA_LOG_MODULE "handle"

static void send_event(stoa_handle *h, json_t *ev)
{
	stoa_handle_send(h, ev);
	json_decref(ev);
}

static bool plugin_live(stoa_handle *h)
{
	return !g_atomic_int_get(&h->ps.stopped);
}

/* ---- pc owner callbacks (media loop) ---- */

static void own_ref(void *ud)
{
	stoa_handle_ref(ud);
}

static void own_unref(void *ud)
{
	stoa_handle_unref(ud);
}

static void own_ready(void *ud)
{
	stoa_handle *h = ud;
	STOA_LOG_S(STOA_LOG_INFO, h->session->id, h->id, "WebRTC media is up");
	if (plugin_live(h) && h->plugin->setup_media != NULL)
		h->plugin->setup_media(&h->ps);
	send_event(h, json_pack("{s:s}", "janus", "webrtcup"));
}

static void own_closed(void *ud, stoa_pc *pc, const char *reason, bool notify)
{
	stoa_handle *h = ud;
	g_mutex_lock(&h->lock);
	bool current = h->pc == pc;
	if (current) {
		h->pc = NULL;
		h->got_offer = h->sent_offer = false;
	}
	/* The plugin asked for this close, or a newer pc already took over
	 * (an offer right after a hangup): either way the close is old news
	 * for the plugin, which must not tear down what it does next. */
	bool asked = h->plugin_closed_pc == pc;
	if (asked)
		h->plugin_closed_pc = NULL;
	bool newer = !current && h->pc != NULL;
	g_mutex_unlock(&h->lock);
	if (plugin_live(h) && !asked && !newer && h->plugin->hangup_media != NULL)
		h->plugin->hangup_media(&h->ps);
	if (notify && plugin_live(h))
		send_event(h, json_pack("{s:s,s:s}", "janus", "hangup", "reason", reason));
	if (current)
		stoa_pc_unref(pc); /* the handle's ref */
}

static void own_rtp(void *ud, int mindex, const char *mid, bool video, int substream, uint8_t *buf,
		    size_t len, int level, int vad)
{
	stoa_handle *h = ud;
	if (!plugin_live(h) || h->plugin->incoming_rtp == NULL)
		return;
	stoa_plugin_rtp pkt = { .mindex = mindex, .mid = mid, .video = video, .buffer = buf,
				.length = (uint16_t)len, .substream = substream, .audio_level = level,
				.voice_activity = vad };
	h->plugin->incoming_rtp(&h->ps, &pkt);
}

static void own_rtcp(void *ud, int mindex, const char *mid, bool video, uint8_t *buf, size_t len)
{
	stoa_handle *h = ud;
	if (!plugin_live(h) || h->plugin->incoming_rtcp == NULL)
		return;
	stoa_plugin_rtcp pkt = { .mindex = mindex, .mid = mid, .video = video, .buffer = buf,
				 .length = (uint16_t)len };
	h->plugin->incoming_rtcp(&h->ps, &pkt);
}

static void own_data(void *ud, const char *label, const char *protocol, bool binary, uint8_t *buf,
		     size_t len)
{
	stoa_handle *h = ud;
	if (!plugin_live(h) || h->plugin->incoming_data == NULL)
		return;
	stoa_plugin_data msg = { .label = label, .protocol = protocol != NULL ? protocol : "",
				 .binary = binary, .buffer = buf, .length = (uint32_t)len };
	h->plugin->incoming_data(&h->ps, &msg);
}

static void own_data_ready(void *ud)
{
	stoa_handle *h = ud;
	if (plugin_live(h) && h->plugin->data_ready != NULL)
		h->plugin->data_ready(&h->ps);
}

static void own_media(void *ud, const char *mid, bool video, int substream, bool receiving)
{
	stoa_handle *h = ud;
	json_t *ev = json_pack("{s:s,s:s,s:s}", "janus", "media", "mid", mid, "type",
			       video ? "video" : "audio");
	if (substream >= 0)
		json_object_set_new(ev, "substream", json_integer(substream));
	json_object_set_new(ev, "receiving", json_boolean(receiving));
	send_event(h, ev);
}

static void own_local_candidate(void *ud, const char *mid, const char *candidate)
{
	stoa_handle *h = ud;
	json_t *c = candidate != NULL
			    ? json_pack("{s:s,s:i,s:s}", "sdpMid", mid != NULL ? mid : "0",
					"sdpMLineIndex", 0, "candidate", candidate)
			    : json_pack("{s:b}", "completed", 1);
	send_event(h, json_pack("{s:s,s:o}", "janus", "trickle", "candidate", c));
}

static const stoa_pc_owner handle_owner = {
	.ref = own_ref,
	.unref = own_unref,
	.ready = own_ready,
	.closed = own_closed,
	.rtp = own_rtp,
	.rtcp = own_rtcp,
	.data = own_data,
	.data_ready = own_data_ready,
	.media = own_media,
	.local_candidate = own_local_candidate,
};

/* ---- handle side ---- */

stoa_pc *stoa_handle_get_pc(stoa_handle *h)
{
	g_mutex_lock(&h->lock);
	stoa_pc *pc = h->pc != NULL ? stoa_pc_ref(h->pc) : NULL;
	g_mutex_unlock(&h->lock);
	return pc;
}

/* The handle's pc, created if it has none (+1 ref), with the candidates
 * that came before any SDP moved to `queued`. NULL without a media loop. */
static stoa_pc *ensure_pc(stoa_handle *h, GQueue *queued, char *err, size_t errlen)
{
	stoa_pc *stale = NULL;
	g_mutex_lock(&h->lock);
	if (h->pc != NULL && stoa_pc_get_state(h->pc) == STOA_PC_CLOSED) {
		/* It closed on its own (ICE failed, DTLS alert) and its closed
		 * callback has not run yet: start afresh. */
		stale = h->pc;
		h->pc = NULL;
	}
	if (h->pc == NULL) {
		h->pc = stoa_pc_new(&handle_owner, h, h->session->id, h->id);
		if (h->pc == NULL) {
			g_mutex_unlock(&h->lock);
			if (stale != NULL)
				stoa_pc_unref(stale);
			g_snprintf(err, errlen, "no media loop");
			return NULL;
		}
	}
	stoa_pc *pc = stoa_pc_ref(h->pc);
	*queued = h->pending_trickles;
	g_queue_init(&h->pending_trickles);
	g_mutex_unlock(&h->lock);
	if (stale != NULL)
		stoa_pc_unref(stale); /* the handle's ref */
	return pc;
}

/* Candidates that came before the SDP follow it, in order. */
static void flush_trickles(stoa_pc *pc, GQueue *queued, bool apply)
{
	json_t *c;
	while ((c = g_queue_pop_head(queued)) != NULL) {
		if (apply)
			stoa_pc_trickle(pc, c);
		json_decref(c);
	}
}

int stoa_handle_remote_offer(stoa_handle *h, const char *sdp, bool trickle, char *err,
			     size_t errlen)
{
	GQueue queued;
	stoa_pc *pc = ensure_pc(h, &queued, err, errlen);
	if (pc == NULL)
		return -1;
	int rc = stoa_pc_set_remote_offer(pc, sdp, trickle, err, errlen);
	flush_trickles(pc, &queued, rc == 0);
	stoa_pc_unref(pc);
	return rc;
}

int stoa_handle_remote_answer(stoa_handle *h, const char *sdp, char *err, size_t errlen)
{
	stoa_pc *pc = stoa_handle_get_pc(h);
	if (pc == NULL) {
		g_snprintf(err, errlen, "no offer of ours to answer (the peer connection closed)");
		return -1;
	}
	int rc = stoa_pc_set_remote_answer(pc, sdp, err, errlen);
	stoa_pc_unref(pc);
	return rc;
}

int stoa_handle_trickle(stoa_handle *h, json_t *candidate)
{
	stoa_pc *pc = stoa_handle_get_pc(h);
	if (pc != NULL) {
		stoa_pc_trickle(pc, candidate);
		stoa_pc_unref(pc);
		g_mutex_lock(&h->lock);
		h->trickle = true;
		g_mutex_unlock(&h->lock);
		return 0;
	}
	return stoa_handle_queue_trickle(h, candidate);
}

/* ---- core API, media half ---- */

json_t *stoa__core_generate_answer(stoa_plugin_session *ps, json_t *prefs, char *err, size_t errlen);
json_t *stoa__core_generate_answer(stoa_plugin_session *ps, json_t *prefs, char *err, size_t errlen)
{
	stoa_handle *h = stoa_handle_from_ps(ps);
	stoa_pc *pc = g_atomic_int_get(&ps->stopped) ? NULL : stoa_handle_get_pc(h);
	if (pc == NULL) {
		g_snprintf(err, errlen, "no offer to answer");
		return NULL;
	}
	char *sdp = stoa_pc_answer(pc, prefs, err, errlen);
	stoa_pc_unref(pc);
	if (sdp == NULL)
		return NULL;
	json_t *jsep = json_pack("{s:s,s:s}", "type", "answer", "sdp", sdp);
	g_free(sdp);
	return jsep;
}

json_t *stoa__core_generate_offer(stoa_plugin_session *ps, json_t *desc, char *err, size_t errlen);
json_t *stoa__core_generate_offer(stoa_plugin_session *ps, json_t *desc, char *err, size_t errlen)
{
	if (g_atomic_int_get(&ps->stopped)) {
		g_snprintf(err, errlen, "the handle is going away");
		return NULL;
	}
	stoa_handle *h = stoa_handle_from_ps(ps);
	GQueue queued;
	stoa_pc *pc = ensure_pc(h, &queued, err, errlen);
	if (pc == NULL)
		return NULL;
	/* Trickles before any SDP of ours cannot be for this offer. */
	flush_trickles(pc, &queued, false);
	char *sdp = stoa_pc_offer(pc, desc, err, errlen);
	stoa_pc_unref(pc);
	if (sdp == NULL)
		return NULL;
	json_t *jsep = json_pack("{s:s,s:s}", "type", "offer", "sdp", sdp);
	g_free(sdp);
	return jsep;
}

int stoa__core_media_loop(stoa_plugin_session *ps);
int stoa__core_media_loop(stoa_plugin_session *ps)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return -1;
	int index = stoa_pc_loop_index(pc);
	stoa_pc_unref(pc);
	return index;
}

int stoa__core_current_loop(void);
int stoa__core_current_loop(void)
{
	return stoa_loops_current();
}

typedef struct loop_call {
	void (*fn)(void *data);
	void *data;
	void (*free_fn)(void *data);
} loop_call;

static gboolean loop_call_run(gpointer p)
{
	loop_call *c = p;
	c->fn(c->data);
	return G_SOURCE_REMOVE;
}

static void loop_call_free(gpointer p)
{
	loop_call *c = p;
	if (c->free_fn != NULL)
		c->free_fn(c->data);
	g_free(c);
}

int stoa__core_loop_post(int loop, void (*fn)(void *data), void *data, void (*free_fn)(void *data));
int stoa__core_loop_post(int loop, void (*fn)(void *data), void *data, void (*free_fn)(void *data))
{
	stoa_loop *l = stoa_loops_get(loop);
	if (l == NULL || fn == NULL) {
		if (free_fn != NULL)
			free_fn(data);
		return -1;
	}
	loop_call *c = g_new(loop_call, 1);
	c->fn = fn;
	c->data = data;
	c->free_fn = free_fn;
	stoa_loop_post(l, loop_call_run, c, loop_call_free);
	return 0;
}

static int ext_of(const stoa_plugin_rtp *pkt)
{
	if (!pkt->forwarded)
		return STOA_PC_EXT_KEEP;
	if (pkt->audio_level < 0)
		return STOA_PC_EXT_OWN;
	return (pkt->audio_level & 0x7f) | (pkt->voice_activity > 0 ? 0x80 : 0);
}

int stoa__core_relay_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
int stoa__core_relay_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt)
{
	G_STATIC_ASSERT(STOA_PC_SENT == STOA_RELAY_SENT && STOA_PC_SEND_FULL == STOA_RELAY_CONGESTED);
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return STOA_RELAY_NOT_SENT;
	int rc = stoa_pc_send_rtp(pc, pkt->mindex, pkt->buffer, pkt->length, ext_of(pkt),
				  pkt->plugin_retransmits != 0);
	stoa_pc_unref(pc);
	return rc < 0 ? STOA_RELAY_NOT_SENT : rc;
}

void stoa__core_resend_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
void stoa__core_resend_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return;
	stoa_pc_resend_rtp(pc, pkt->mindex, pkt->buffer, pkt->length, ext_of(pkt));
	stoa_pc_unref(pc);
}

void stoa__core_relay_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt);
void stoa__core_relay_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return;
	stoa_pc_send_rtcp(pc, pkt->mindex, pkt->buffer, pkt->length);
	stoa_pc_unref(pc);
}

void stoa__core_relay_data(stoa_plugin_session *ps, stoa_plugin_data *msg);
void stoa__core_relay_data(stoa_plugin_session *ps, stoa_plugin_data *msg)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return;
	stoa_pc_send_data(pc, msg->label, msg->binary, msg->buffer, msg->length);
	stoa_pc_unref(pc);
}

void stoa__core_send_pli(stoa_plugin_session *ps, int mindex);
void stoa__core_send_pli(stoa_plugin_session *ps, int mindex)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return;
	stoa_pc_send_pli(pc, mindex);
	stoa_pc_unref(pc);
}

void stoa__core_send_remb(stoa_plugin_session *ps, uint32_t bitrate);
void stoa__core_send_remb(stoa_plugin_session *ps, uint32_t bitrate)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return;
	stoa_pc_send_remb(pc, bitrate);
	stoa_pc_unref(pc);
}

json_t *stoa__core_media_stats(stoa_plugin_session *ps);
json_t *stoa__core_media_stats(stoa_plugin_session *ps)
{
	stoa_pc *pc = stoa_handle_get_pc(stoa_handle_from_ps(ps));
	if (pc == NULL)
		return NULL;
	json_t *stats = stoa_pc_stats(pc);
	stoa_pc_unref(pc);
	return stats;
}
