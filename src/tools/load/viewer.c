/*
 * viewer.c: the VideoRoom subscriber; see viewer.h.
 *
 * Signalling: create -> attach -> message join (ptype subscriber) ->
 * event "attached" with the offer -> gather -> message start with our
 * answer -> event "started". Media: ICE (controlled, unless the server is
 * ICE-lite), DTLS as client (server "actpass") with the certificate
 * checked against the offer's fingerprint, SRTP, then packets.
 */
#include "viewer.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "run.h"

#define RR_INTERVAL_US G_USEC_PER_SEC

static load_viewer *from_peer(load_peer *p)
{
	return (load_viewer *)p;
}

/* ------------------------------------------------------------ media */

static load_rx_stream *find_stream(load_viewer *v, const load_rtp_hdr *h)
{
	for (int i = 0; i < v->n_streams; i++)
		if (v->streams[i].ssrc == h->ssrc)
			return &v->streams[i];
	/* An offer without a=ssrc: the first packet of a payload type names
	 * the stream's SSRC. */
	for (int i = 0; i < v->n_streams; i++)
		if (v->streams[i].ssrc == 0 && v->streams[i].pt == h->pt) {
			v->streams[i].ssrc = h->ssrc;
			return &v->streams[i];
		}
	return NULL;
}

/* srtp_unprotect on a copy. Returns false if the packet must not count. */
static bool authenticate(load_viewer *v, load_rx_stream *s, const uint8_t *buf, size_t len)
{
	uint8_t *plain;
	size_t plain_len;
	int rc = load_transport_unprotect(&v->tr, buf, len, false, &plain, &plain_len);
	if (rc == srtp_err_status_ok) {
		s->verified = true;
		return true;
	}
	if (rc == srtp_err_status_replay_fail)
		return true;	/* a duplicate: the sequence accounting sees it */
	load_count(srtp_auth_fail);
	if (!s->verified)
		load_peer_fail(&v->peer, LOAD_FAIL_SRTP, "the first packet of SSRC %u failed "
			       "srtp_unprotect (%d)", s->ssrc, rc);
	return false;
}

static void on_rtp(void *ud, uint8_t *buf, size_t len)
{
	load_viewer *v = ud;
	load_rtp_hdr h;
	if (v->peer.ended || load_rtp_parse(buf, len, &h) < 0)
		return;
	load_rx_stream *s = find_stream(v, &h);
	if (s == NULL) {
		load_count(unknown_ssrc);
		return;
	}
	if ((!s->verified || v->peer.run->opts->verify) && !authenticate(v, s, buf, len))
		return;
	load_rx_stream_update(s, h.seq, len);
	if (v->t_first_us == 0)
		LOAD_WR(v->t_first_us, g_get_monotonic_time());
}

static void on_rtcp(void *ud, uint8_t *buf, size_t len)
{
	/* Sender Reports from the server: nothing the summary needs. */
}

static void on_ready(void *ud)
{
	load_viewer *v = ud;
	LOAD_WR(v->t_media_us, g_get_monotonic_time());
	LOAD_WR(v->media_up, 1);
	v->next_rr_us = g_get_monotonic_time() + g_random_int_range(0, RR_INTERVAL_US);
}

static void on_failed(void *ud, load_fail why, const char *detail)
{
	load_viewer *v = ud;
	load_peer_fail(&v->peer, why, "%s", detail);
}

static void send_rr(load_viewer *v)
{
	uint8_t buf[8 + 24 * LOAD_VIEWER_MAX_STREAMS + LOAD_SRTP_SPARE];
	size_t len = load_rtcp_rr(buf, sizeof(buf) - LOAD_SRTP_SPARE, v->rr_ssrc, v->streams,
				  v->n_streams);
	if (len > 0)
		load_transport_send_srtp(&v->tr, buf, len, sizeof(buf), true);
}

/* ------------------------------------------------------------ negotiation */

static bool we_are_dtls_client(const load_sdp *offer)
{
	/* RFC 8842 §5.3: an actpass offer is answered active. */
	return offer->setup != LOAD_SETUP_ACTIVE;
}

static void send_answer(load_viewer *v)
{
	char err[160];
	load_sdp *offer = v->offer;
	bool client = we_are_dtls_client(offer);
	if (load_transport_set_remote(&v->tr, offer, client, err, sizeof(err)) < 0) {
		load_peer_fail(&v->peer, LOAD_FAIL_ICE, "%s", err);
		return;
	}
	char *ufrag, *pwd, *cands;
	load_transport_local(&v->tr, &ufrag, &pwd, &cands);
	load_sdp_local l = {
		.ufrag = ufrag, .pwd = pwd, .fingerprint = load_dtls_local_fingerprint(),
		.setup = client ? "active" : "passive", .candidates = cands,
		.session_version = g_random_int(),
	};
	char *answer = load_sdp_viewer_answer(&l, offer, err, sizeof(err));
	g_free(ufrag);
	g_free(pwd);
	g_free(cands);
	g_free(v->offer);
	v->offer = NULL;
	if (answer == NULL) {
		load_peer_fail(&v->peer, LOAD_FAIL_SDP, "%s", err);
		return;
	}
	LOAD_WR(v->t_start_us, g_get_monotonic_time());
	load_peer_send_message(&v->peer, "start", json_pack("{s:s}", "request", "start"), "answer",
			       answer);
	g_free(answer);
}

static void on_gathered(void *ud)
{
	load_viewer *v = ud;
	if (v->offer != NULL && !v->peer.ended)
		send_answer(v);
}

static const load_transport_ops transport_ops = {
	.on_gathered = on_gathered,
	.on_ready = on_ready,
	.on_failed = on_failed,
	.on_rtp = on_rtp,
	.on_rtcp = on_rtcp,
};

/* The test of the test: with --test-bad-fingerprint the fingerprint we
 * expect is changed, so a real check must fail every viewer. */
static void spoil_fingerprint(load_sdp *offer)
{
	char *c = &offer->fp[0];
	*c = *c == '0' ? '1' : '0';
}

static int take_streams(load_viewer *v, const load_sdp *offer)
{
	int n = 0;
	for (int i = 0; i < offer->n_media && n < LOAD_VIEWER_MAX_STREAMS; i++) {
		const load_sdp_media *m = &offer->media[i];
		if (!load_sdp_media_accepted(m) || m->dir == LOAD_DIR_INACTIVE ||
		    m->dir == LOAD_DIR_RECVONLY)
			continue;
		load_rx_stream *s = &v->streams[n++];
		memset(s, 0, sizeof(*s));
		s->ssrc = m->ssrc;
		s->pt = (uint8_t)m->pt;
		s->video = strcmp(m->kind, "video") == 0;
	}
	/* The main thread reads the streams once it sees the count. */
	__atomic_store_n(&v->n_streams, n, __ATOMIC_RELEASE);
	return n;
}

static void on_offer(load_viewer *v, json_t *jsep)
{
	const load_opts *o = v->peer.run->opts;
	const char *type = load_janus_str(jsep, "type");
	const char *sdp = load_janus_str(jsep, "sdp");
	char err[160];
	if (v->t_offer_us == 0)
		LOAD_WR(v->t_offer_us, g_get_monotonic_time());
	if (v->offer != NULL || v->n_streams > 0) {
		load_count(updated);	/* a renegotiation: not answered */
		return;
	}
	if (type == NULL || strcmp(type, "offer") != 0 || sdp == NULL) {
		load_peer_fail(&v->peer, LOAD_FAIL_PROTOCOL, "\"attached\" without an SDP offer");
		return;
	}
	v->offer = g_new(load_sdp, 1);
	if (load_sdp_parse(sdp, v->offer, err, sizeof(err)) < 0) {
		load_peer_fail(&v->peer, LOAD_FAIL_SDP, "offer: %s", err);
		return;
	}
	if (o->bad_fingerprint)
		spoil_fingerprint(v->offer);
	if (take_streams(v, v->offer) == 0) {
		load_peer_fail(&v->peer, LOAD_FAIL_SDP, "the offer has no audio or video to receive");
		return;
	}
	if (load_transport_start(&v->tr, v->peer.worker, o->ice_ip, v->offer->ice_lite,
				 &transport_ops, v, err, sizeof(err)) < 0)
		load_peer_fail(&v->peer, LOAD_FAIL_ICE, "%s", err);
}

/* ------------------------------------------------------------ Janus messages */

static void send_join(load_viewer *v)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:[{s:I}]}", "request", "join", "ptype",
				 "subscriber", "room", (json_int_t)v->room, "streams", "feed",
				 (json_int_t)v->feed);
	LOAD_WR(v->t_join_us, g_get_monotonic_time());
	load_peer_send_message(&v->peer, "join", body, NULL, NULL);
}

static void on_success(load_viewer *v, const load_janus_msg *m)
{
	load_peer *p = &v->peer;
	bool attached;
	if (load_peer_on_setup_reply(p, m, &attached)) {
		if (attached)
			send_join(v);
	} else if (strcmp(m->kind, "destroy") == 0) {
		load_peer_finish(p);
	} else if (m->error_code != 0 && !p->stopping) {
		/* The VideoRoom answers some errors synchronously. */
		load_count(errors);
		load_peer_fail(p, LOAD_FAIL_JANUS, "%s: error %d (%s)", m->kind, m->error_code,
			       m->error ?: "no reason");
	}
}

static void on_plugin_event(load_viewer *v, const load_janus_msg *m)
{
	load_peer *p = &v->peer;
	const char *r = m->plugin_result;
	if (m->error_code != 0) {
		load_count(errors);
		if (!p->stopping)
			load_peer_fail(p, LOAD_FAIL_JANUS, "%s: error %d (%s)", m->kind,
				       m->error_code, m->error ?: "no reason");
	} else if (r != NULL && strcmp(r, "attached") == 0) {
		on_offer(v, m->jsep);
	} else if (r != NULL && strcmp(r, "updated") == 0) {
		load_count(updated);
	} else if (r != NULL && strcmp(r, "destroyed") == 0) {
		if (!p->stopping)
			load_peer_fail(p, LOAD_FAIL_HANGUP, "the room was destroyed");
	} else if (json_object_get(m->plugin, "started") != NULL) {
		LOAD_WR(v->t_started_us, g_get_monotonic_time());
		LOAD_WR(v->joined, 1);
	}
}

static void on_trickle(load_viewer *v, const load_janus_msg *m)
{
	json_t *c = json_object_get(m->raw, "candidate");
	load_count(trickles);
	if (!json_is_object(c) || v->tr.agent == NULL)
		return;
	if (json_is_true(json_object_get(c, "completed")))
		load_transport_add_candidate(&v->tr, NULL);
	else if (load_janus_str(c, "candidate") != NULL)
		load_transport_add_candidate(&v->tr, load_janus_str(c, "candidate"));
}

static void v_on_message(load_peer *p, const load_janus_msg *m)
{
	load_viewer *v = from_peer(p);
	if (strcmp(m->janus, "success") == 0)
		on_success(v, m);
	else if (strcmp(m->janus, "event") == 0)
		on_plugin_event(v, m);
	else if (strcmp(m->janus, "webrtcup") == 0)
		load_count(webrtcup);
	else if (strcmp(m->janus, "trickle") == 0)
		on_trickle(v, m);
	else
		load_peer_common_event(p, m);
}

static void v_on_open(load_peer *p)
{
	load_peer_send(p, "create", "create", false);
}

static void v_on_tick(load_peer *p, int64_t now)
{
	load_viewer *v = from_peer(p);
	if (v->t_first_us == 0 && now > v->deadline_us) {
		load_peer_fail(p, LOAD_FAIL_TIMEOUT, "no media %.0f s after joining",
			       p->run->opts->join_timeout);
		return;
	}
	if (v->media_up && !p->stopping && now >= v->next_rr_us) {
		v->next_rr_us = now + RR_INTERVAL_US;
		send_rr(v);
	}
}

static void v_on_stop(load_peer *p)
{
	if (p->session_id != 0)
		load_peer_send(p, "destroy", "destroy", false);
	else
		load_peer_finish(p);
}

static void v_on_close(load_peer *p)
{
	load_viewer *v = from_peer(p);
	load_transport_close(&v->tr);
	g_free(v->offer);
	v->offer = NULL;
}

static void v_free(load_peer *p)
{
	g_free(from_peer(p));
}

static const load_peer_ops viewer_ops = {
	.name = "viewer",
	.on_open = v_on_open,
	.on_message = v_on_message,
	.on_tick = v_on_tick,
	.on_stop = v_on_stop,
	.on_close = v_on_close,
	.free = v_free,
};

load_viewer *load_viewer_new(load_run *run, load_worker *w, int index, uint64_t room,
			     uint64_t feed)
{
	load_viewer *v = g_new0(load_viewer, 1);
	load_peer_init(&v->peer, &viewer_ops, run, w, index);
	v->room = room;
	v->feed = feed;
	v->rr_ssrc = g_random_int() | 1;
	v->t_begin_us = g_get_monotonic_time();
	v->deadline_us = v->t_begin_us + (int64_t)(run->opts->join_timeout * G_USEC_PER_SEC);
	return v;
}

int load_viewer_streams_started(load_viewer *v, int *total)
{
	int n = __atomic_load_n(&v->n_streams, __ATOMIC_ACQUIRE);
	int started = 0;
	for (int i = 0; i < n; i++)
		started += LOAD_RD(v->streams[i].packets) > 0 ? 1 : 0;
	*total = n;
	return started;
}
