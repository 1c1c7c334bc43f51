/*
 * publisher.c: the VideoRoom publisher and its media pacing; see
 * publisher.h.
 *
 * Pacing: frame i of pass k is due at t0 + (k * loop_len + ts[i]) / clock,
 * and carries RTP timestamp ts_base + k * loop_len + ts[i], so timestamps
 * keep increasing across loops. One GLib source with a ready time wakes
 * the publisher for the next due frame of either track; a late wakeup
 * sends everything due at once. If the worker falls more than
 * STALL_US behind, the clock origin moves forward instead of sending a
 * burst (counted as a stall).
 */
#include "publisher.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "rtp.h"
#include "run.h"
#include "sdp.h"

#define MAX_RTP LOAD_PUB_MAX_RTP
#define SR_INTERVAL_US G_USEC_PER_SEC
#define STALL_US (500 * 1000)
#define READY_TIMEOUT_US (20 * G_USEC_PER_SEC)

static load_publisher *from_peer(load_peer *p)
{
	return (load_publisher *)p;
}

/* ------------------------------------------------------------ pacing */

static int64_t track_pos(const load_tx_track *k)
{
	return k->pass * k->t->loop_len + k->t->frames[k->next].ts;
}

static int64_t track_due_us(const load_publisher *p, const load_tx_track *k)
{
	return p->t0_us + track_pos(k) * G_USEC_PER_SEC / (int64_t)k->t->clock;
}

static void track_advance(load_tx_track *k)
{
	if (++k->next >= k->t->n) {
		k->next = 0;
		k->pass++;
	}
}

static void remember(load_publisher *p, uint16_t seq, const uint8_t *buf, size_t len)
{
	load_sent *s = &p->ring[seq % LOAD_PUB_RING];
	s->seq = seq;
	s->len = (uint16_t)len;
	memcpy(s->data, buf, len);
}

static void send_packet(load_publisher *p, load_tx_track *k, uint8_t *buf, size_t payload,
			size_t cap, bool marker, uint32_t ts)
{
	load_rtp_write(buf, k->pt, marker, k->seq, ts, k->ssrc);
	if (k == &p->video)
		remember(p, k->seq, buf, LOAD_RTP_HEADER + payload);
	k->seq++;
	if (load_transport_send_srtp(&p->tr, buf, LOAD_RTP_HEADER + payload, cap, false) < 0)
		LOAD_WR(p->send_errors, p->send_errors + 1);
	LOAD_WR(k->packets, k->packets + 1);
	LOAD_WR(k->octets, k->octets + payload);
}

static void send_video_frame(load_publisher *p)
{
	load_tx_track *k = &p->video;
	const load_frame *f = &k->t->frames[k->next];
	uint32_t ts = k->ts_base + (uint32_t)track_pos(k);
	uint8_t buf[MAX_RTP + LOAD_SRTP_SPARE];
	bool last = false;
	size_t n;
	load_vp8_begin(&p->vp8, k->t->data + f->off, f->len, MAX_RTP - LOAD_RTP_HEADER);
	while ((n = load_vp8_next(&p->vp8, buf + LOAD_RTP_HEADER, &last)) > 0)
		send_packet(p, k, buf, n, sizeof(buf), last, ts);
	LOAD_WR(p->frames, p->frames + 1);
	if (f->key)
		LOAD_WR(p->keyframes, p->keyframes + 1);
}

static void send_audio_packet(load_publisher *p)
{
	load_tx_track *k = &p->audio;
	const load_frame *f = &k->t->frames[k->next];
	uint8_t buf[MAX_RTP + LOAD_SRTP_SPARE];
	if (f->len > MAX_RTP - LOAD_RTP_HEADER)
		return;		/* cannot be one packet: skipped */
	memcpy(buf + LOAD_RTP_HEADER, k->t->data + f->off, f->len);
	send_packet(p, k, buf, f->len, sizeof(buf), false, k->ts_base + (uint32_t)track_pos(k));
}

/* Sends what is due on one track; returns when its next frame is due. */
static int64_t pace_track(load_publisher *p, load_tx_track *k, bool video, int64_t now)
{
	int64_t due = track_due_us(p, k);
	if (now - due > STALL_US) {
		p->t0_us += now - due;
		LOAD_WR(p->stalls, p->stalls + 1);
		due = now;
	}
	while (due <= now) {
		if (video)
			send_video_frame(p);
		else
			send_audio_packet(p);
		track_advance(k);
		due = track_due_us(p, k);
	}
	return due;
}

static gboolean on_pace(gpointer data)
{
	load_publisher *p = data;
	int64_t now = g_get_monotonic_time();
	int64_t next = pace_track(p, &p->video, true, now);
	if (p->has_audio) {
		int64_t a = pace_track(p, &p->audio, false, now);
		next = a < next ? a : next;
	}
	g_source_set_ready_time(p->pacer, next);
	return G_SOURCE_CONTINUE;
}

static gboolean pacer_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	return cb(data);
}

static GSourceFuncs pacer_funcs = {.dispatch = pacer_dispatch};

static void start_pacing(load_publisher *p)
{
	p->t0_us = g_get_monotonic_time();
	p->next_sr_us = p->t0_us + SR_INTERVAL_US;
	p->pacer = g_source_new(&pacer_funcs, sizeof(GSource));
	g_source_set_callback(p->pacer, on_pace, p, NULL);
	g_source_set_ready_time(p->pacer, p->t0_us);
	g_source_attach(p->pacer, load_worker_context(p->peer.worker));
}

static void stop_pacing(load_publisher *p)
{
	if (p->pacer == NULL)
		return;
	g_source_destroy(p->pacer);
	g_source_unref(p->pacer);
	p->pacer = NULL;
}

static void send_sr(load_publisher *p, load_tx_track *k, int64_t now)
{
	uint8_t buf[28 + LOAD_SRTP_SPARE];
	/* The RTP time of "now" on this track's clock. */
	int64_t elapsed = (now - p->t0_us) * (int64_t)k->t->clock / G_USEC_PER_SEC;
	size_t len = load_rtcp_sr(buf, sizeof(buf), k->ssrc, g_get_real_time(),
				  k->ts_base + (uint32_t)elapsed, (uint32_t)k->packets,
				  (uint32_t)k->octets);
	load_transport_send_srtp(&p->tr, buf, len, sizeof(buf), true);
}

/* ------------------------------------------------------------ transport */

static void update_ready(load_publisher *p)
{
	if (p->dtls_up && p->webrtcup && !p->ready)
		LOAD_WR(p->ready, 1);
}

static void on_ready(void *ud)
{
	load_publisher *p = ud;
	p->dtls_up = true;
	start_pacing(p);
	update_ready(p);
}

static void on_failed(void *ud, load_fail why, const char *detail)
{
	load_publisher *p = ud;
	load_peer_fail(&p->peer, why, "%s", detail);
}

static void on_rtp(void *ud, uint8_t *buf, size_t len)
{
	/* A sendonly publisher receives no RTP. */
}

static void on_nack(void *ud, uint32_t ssrc, uint16_t seq)
{
	load_publisher *p = ud;
	const load_sent *s = &p->ring[seq % LOAD_PUB_RING];
	uint8_t buf[MAX_RTP + LOAD_SRTP_SPARE];
	if (ssrc != p->video.ssrc || s->len == 0 || s->seq != seq)
		return;
	memcpy(buf, s->data, s->len);
	/* The same packet again: libsrtp allows it (allow_repeat_tx). */
	if (load_transport_send_srtp(&p->tr, buf, s->len, sizeof(buf), false) == 0)
		LOAD_WR(p->retransmits, p->retransmits + 1);
}

static void on_rtcp(void *ud, uint8_t *buf, size_t len)
{
	load_publisher *p = ud;
	uint8_t *plain;
	size_t plain_len;
	load_rtcp_counts c = {0};
	if (load_transport_unprotect(&p->tr, buf, len, true, &plain, &plain_len) != 0)
		return;
	/* on_nack resends from a buffer of its own, so plain (in the
	 * worker's scratch buffer) stays intact during the walk. */
	load_rtcp_scan(plain, plain_len, &c, on_nack, p);
	if (c.pli + c.fir > 0)
		__atomic_add_fetch(&load_ev.pli_in, c.pli + c.fir, __ATOMIC_RELAXED);
	if (c.nack > 0)
		__atomic_add_fetch(&load_ev.nack_in, c.nack, __ATOMIC_RELAXED);
}

static void on_gathered(void *ud)
{
	load_publisher *p = ud;
	if (p->peer.ended)
		return;
	char *ufrag, *pwd, *cands;
	load_transport_local(&p->tr, &ufrag, &pwd, &cands);
	load_sdp_local l = {
		.ufrag = ufrag, .pwd = pwd, .fingerprint = load_dtls_local_fingerprint(),
		.setup = "actpass", .candidates = cands, .session_version = g_random_int(),
	};
	char *offer = load_sdp_publisher_offer(&l, p->video.ssrc, p->has_audio ? p->audio.ssrc : 0);
	load_peer_send_message(&p->peer, "publish", json_pack("{s:s}", "request", "publish"),
			       "offer", offer);
	g_free(offer);
	g_free(ufrag);
	g_free(pwd);
	g_free(cands);
}

static const load_transport_ops transport_ops = {
	.on_gathered = on_gathered,
	.on_ready = on_ready,
	.on_failed = on_failed,
	.on_rtp = on_rtp,
	.on_rtcp = on_rtcp,
};

/* ------------------------------------------------------------ negotiation */

static void on_answer(load_publisher *p, json_t *jsep)
{
	const char *type = load_janus_str(jsep, "type");
	const char *sdp = load_janus_str(jsep, "sdp");
	char err[160];
	if (type == NULL || strcmp(type, "answer") != 0 || sdp == NULL) {
		load_peer_fail(&p->peer, LOAD_FAIL_PROTOCOL, "\"configured\" without an SDP answer");
		return;
	}
	load_sdp *answer = g_new(load_sdp, 1);
	if (load_sdp_parse(sdp, answer, err, sizeof(err)) < 0) {
		load_peer_fail(&p->peer, LOAD_FAIL_SDP, "answer: %s", err);
	} else if (answer->media[0].port == 0) {
		load_peer_fail(&p->peer, LOAD_FAIL_SDP, "the server rejected our video");
	} else {
		/* RFC 4145 §4.1: an answer without a=setup means active. */
		bool client = answer->setup == LOAD_SETUP_PASSIVE;
		if (load_transport_set_remote(&p->tr, answer, client, err, sizeof(err)) < 0)
			load_peer_fail(&p->peer, LOAD_FAIL_ICE, "%s", err);
	}
	g_free(answer);
}

static void on_joined(load_publisher *p, const load_janus_msg *m)
{
	char err[160];
	LOAD_WR(p->feed_id, load_janus_id(m->plugin, "id"));
	if (p->feed_id == 0) {
		load_peer_fail(&p->peer, LOAD_FAIL_PROTOCOL, "joined without an id");
		return;
	}
	if (load_transport_start(&p->tr, p->peer.worker, p->peer.run->opts->ice_ip, true,
				 &transport_ops, p, err, sizeof(err)) < 0)
		load_peer_fail(&p->peer, LOAD_FAIL_ICE, "%s", err);
}

static void send_create_room(load_publisher *p)
{
	const load_opts *o = p->peer.run->opts;
	char desc[64];
	snprintf(desc, sizeof(desc), "stoa-load room %d", p->room_index);
	json_t *body = json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:b}", "request", "create", "room",
				 (json_int_t)p->room, "publishers", o->publishers + 1, "videocodec",
				 "vp8", "audiocodec", "opus", "description", desc, "is_private", 0);
	load_peer_send_message(&p->peer, "room", body, NULL, NULL);
}

static void send_join(load_publisher *p)
{
	char display[48];
	snprintf(display, sizeof(display), "stoa-load publisher %d", p->peer.index);
	json_t *body = json_pack("{s:s, s:s, s:I, s:s}", "request", "join", "ptype", "publisher",
				 "room", (json_int_t)p->room, "display", display);
	load_peer_send_message(&p->peer, "join", body, NULL, NULL);
}

/* The synchronous reply to "create" (room): created, or already there. */
static void on_room_reply(load_publisher *p, const load_janus_msg *m)
{
	if (m->plugin_result != NULL && strcmp(m->plugin_result, "created") == 0) {
		p->created_room = true;
		send_join(p);
	} else if (m->error_code == 427) {
		send_join(p);	/* another publisher of the room made it */
	} else {
		load_count(errors);
		load_peer_fail(&p->peer, LOAD_FAIL_JANUS, "create room %" G_GUINT64_FORMAT
			       ": error %d (%s)", p->room, m->error_code, m->error ?: "no reason");
	}
}

static void on_success(load_publisher *p, const load_janus_msg *m)
{
	load_peer *peer = &p->peer;
	bool attached;
	if (load_peer_on_setup_reply(peer, m, &attached)) {
		if (attached)
			send_create_room(p);
	} else if (strcmp(m->kind, "room") == 0) {
		on_room_reply(p, m);
	} else if (strcmp(m->kind, "destroy") == 0) {
		load_peer_finish(peer);
	} else if (m->error_code != 0 && !peer->stopping) {
		load_count(errors);
		load_peer_fail(peer, LOAD_FAIL_JANUS, "%s: error %d (%s)", m->kind, m->error_code,
			       m->error ?: "no reason");
	}
}

static void on_plugin_event(load_publisher *p, const load_janus_msg *m)
{
	const char *r = m->plugin_result;
	if (m->error_code != 0) {
		load_count(errors);
		if (!p->peer.stopping)
			load_peer_fail(&p->peer, LOAD_FAIL_JANUS, "%s: error %d (%s)", m->kind,
				       m->error_code, m->error ?: "no reason");
	} else if (r != NULL && strcmp(r, "joined") == 0 && strcmp(m->kind, "join") == 0) {
		on_joined(p, m);
	} else if (strcmp(m->kind, "publish") == 0 && m->jsep != NULL) {
		on_answer(p, m->jsep);
	} else if (r != NULL && strcmp(r, "destroyed") == 0 && !p->peer.stopping) {
		load_peer_fail(&p->peer, LOAD_FAIL_HANGUP, "the room was destroyed");
	}
}

static void p_on_message(load_peer *peer, const load_janus_msg *m)
{
	load_publisher *p = from_peer(peer);
	if (strcmp(m->janus, "success") == 0) {
		on_success(p, m);
	} else if (strcmp(m->janus, "event") == 0) {
		on_plugin_event(p, m);
	} else if (strcmp(m->janus, "webrtcup") == 0) {
		load_count(webrtcup);
		p->webrtcup = true;
		update_ready(p);
	} else if (strcmp(m->janus, "trickle") == 0) {
		json_t *c = json_object_get(m->raw, "candidate");
		load_count(trickles);
		if (p->tr.agent != NULL && json_is_object(c))
			load_transport_add_candidate(&p->tr, load_janus_str(c, "candidate"));
	} else {
		load_peer_common_event(peer, m);
	}
}

static void p_on_open(load_peer *peer)
{
	load_peer_send(peer, "create", "create", false);
}

static void p_on_tick(load_peer *peer, int64_t now)
{
	load_publisher *p = from_peer(peer);
	if (!p->ready && now > p->deadline_us) {
		load_peer_fail(peer, LOAD_FAIL_TIMEOUT, "not publishing %d s after starting",
			       (int)(READY_TIMEOUT_US / G_USEC_PER_SEC));
		return;
	}
	if (p->pacer != NULL && now >= p->next_sr_us) {
		p->next_sr_us = now + SR_INTERVAL_US;
		send_sr(p, &p->video, now);
		if (p->has_audio)
			send_sr(p, &p->audio, now);
	}
}

static void destroy_room(load_publisher *p)
{
	if (!p->created_room || p->room_destroyed || p->peer.handle_id == 0)
		return;
	p->room_destroyed = true;
	load_peer_send_message(&p->peer, "roomdestroy",
			       json_pack("{s:s, s:I}", "request", "destroy", "room",
					 (json_int_t)p->room),
			       NULL, NULL);
}

static void p_on_stop(load_peer *peer)
{
	load_publisher *p = from_peer(peer);
	stop_pacing(p);
	destroy_room(p);
	if (peer->session_id != 0)
		load_peer_send(peer, "destroy", "destroy", false);
	else
		load_peer_finish(peer);
}

/* A publisher that fails still removes the room it made. */
static void p_on_ending(load_peer *peer)
{
	destroy_room(from_peer(peer));
}

static void p_on_close(load_peer *peer)
{
	load_publisher *p = from_peer(peer);
	stop_pacing(p);
	load_transport_close(&p->tr);
}

static void p_free(load_peer *peer)
{
	load_publisher *p = from_peer(peer);
	g_free(p->ring);
	g_free(p);
}

static const load_peer_ops publisher_ops = {
	.name = "publisher",
	.on_open = p_on_open,
	.on_message = p_on_message,
	.on_tick = p_on_tick,
	.on_stop = p_on_stop,
	.on_ending = p_on_ending,
	.on_close = p_on_close,
	.free = p_free,
};

static void init_track(load_tx_track *k, const load_track *t, uint8_t pt)
{
	k->t = t;
	k->pt = pt;
	k->ssrc = g_random_int() | 1;
	k->seq = (uint16_t)g_random_int();
	k->ts_base = g_random_int();
}

load_publisher *load_publisher_new(load_run *run, load_worker *w, int index, int room_index,
				   uint64_t room)
{
	load_publisher *p = g_new0(load_publisher, 1);
	load_peer_init(&p->peer, &publisher_ops, run, w, index);
	p->room_index = room_index;
	p->room = room;
	init_track(&p->video, &run->video, LOAD_VP8_PT);
	p->has_audio = run->have_audio;
	if (p->has_audio)
		init_track(&p->audio, &run->audio, LOAD_OPUS_PT);
	load_vp8_init(&p->vp8, (uint16_t)g_random_int());
	p->ring = g_new0(load_sent, LOAD_PUB_RING);
	p->deadline_us = g_get_monotonic_time() + READY_TIMEOUT_US;
	return p;
}
