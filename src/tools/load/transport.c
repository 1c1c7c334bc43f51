/*
 * transport.c: libnice + DTLS + SRTP for one peer; see transport.h.
 *
 * Datagrams that are not STUN (libnice keeps those) are told apart by
 * their first byte (RFC 7983 §7): 20..63 DTLS, 128..191 RTP or RTCP.
 * Nothing here allocates per packet; SRTP checks use the worker's
 * scratch buffer.
 */
#include "transport.h"

#include <stdio.h>
#include <string.h>

#include "rtp.h"

static void fail(load_transport *t, load_fail why, const char *detail);

static void disarm_timer(load_transport *t)
{
	if (t->dtls_timer == NULL)
		return;
	g_source_destroy(t->dtls_timer);
	g_source_unref(t->dtls_timer);
	t->dtls_timer = NULL;
}

static void dtls_step(load_transport *t, load_dtls_state s);

static gboolean on_dtls_timer(gpointer data)
{
	load_transport *t = data;
	g_source_unref(t->dtls_timer);
	t->dtls_timer = NULL;
	if (!t->dead && t->dtls != NULL)
		dtls_step(t, load_dtls_on_timeout(t->dtls));
	return G_SOURCE_REMOVE;
}

static void arm_timer(load_transport *t)
{
	disarm_timer(t);
	int ms = load_dtls_timeout_ms(t->dtls);
	if (ms < 0)
		return;
	t->dtls_timer = g_timeout_source_new((guint)(ms > 0 ? ms : 1));
	g_source_set_callback(t->dtls_timer, on_dtls_timer, t, NULL);
	g_source_attach(t->dtls_timer, load_worker_context(t->w));
}

static void dtls_connected(load_transport *t)
{
	char err[128];
	load_srtp_keys keys;
	disarm_timer(t);
	if (load_dtls_verify(t->dtls, t->fp_alg, t->fp) < 0) {
		fail(t, LOAD_FAIL_FINGERPRINT, load_dtls_error(t->dtls));
		return;
	}
	if (load_dtls_export_keys(t->dtls, &keys) < 0) {
		fail(t, LOAD_FAIL_SRTP, load_dtls_error(t->dtls));
		return;
	}
	t->gcm = keys.gcm;
	int rc = load_srtp_init(&t->srtp, &keys, err, sizeof(err));
	memset(&keys, 0, sizeof(keys));
	if (rc < 0) {
		fail(t, LOAD_FAIL_SRTP, err);
		return;
	}
	t->ready = true;
	t->ops->on_ready(t->ud);
}

static void dtls_step(load_transport *t, load_dtls_state s)
{
	switch (s) {
	case LOAD_DTLS_HANDSHAKING:
		arm_timer(t);
		break;
	case LOAD_DTLS_CONNECTED:
		if (!t->ready)
			dtls_connected(t);
		break;
	case LOAD_DTLS_FAILED:
		fail(t, LOAD_FAIL_DTLS, load_dtls_error(t->dtls));
		break;
	case LOAD_DTLS_CLOSED:
		fail(t, LOAD_FAIL_HANGUP, "the server closed DTLS (close_notify)");
		break;
	}
}

static void fail(load_transport *t, load_fail why, const char *detail)
{
	if (t->dead)
		return;
	t->dead = true;
	disarm_timer(t);
	t->ops->on_failed(t->ud, why, detail);
}

static void dtls_send(void *ud, const uint8_t *buf, size_t len)
{
	load_transport *t = ud;
	if (t->agent != NULL)
		nice_agent_send(t->agent, t->stream, 1, (guint)len, (const gchar *)buf);
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
		    gpointer data)
{
	load_transport *t = data;
	uint8_t *b = (uint8_t *)buf;
	if (t->dead || len == 0)
		return;
	if (b[0] >= 20 && b[0] <= 63) {
		/* A DTLS record before we know our role (the answer is still on
		 * its way) is dropped; the other side retransmits it. */
		if (t->dtls != NULL)
			dtls_step(t, load_dtls_incoming(t->dtls, b, len));
	} else if (b[0] >= 128 && b[0] <= 191 && t->ready) {
		if (load_rtp_is_rtcp(b, len))
			t->ops->on_rtcp(t->ud, b, len);
		else
			t->ops->on_rtp(t->ud, b, len);
	}
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
	load_transport *t = data;
	if (t->dead || t->gathered)
		return;
	t->gathered = true;
	t->ops->on_gathered(t->ud);
}

static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
	load_transport *t = data;
	if (t->dead)
		return;
	if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
		if (t->ice_connected)
			return;
		t->ice_connected = true;
		if (t->dtls != NULL && t->dtls_client)
			dtls_step(t, load_dtls_start(t->dtls));
	} else if (state == NICE_COMPONENT_STATE_FAILED) {
		fail(t, LOAD_FAIL_ICE, "ICE failed");
	}
}

static int make_agent(load_transport *t, const char *ice_ip, bool controlling, char *err,
		      size_t errlen)
{
	NiceAddress addr;
	nice_address_init(&addr);
	if (!nice_address_set_from_string(&addr, ice_ip)) {
		snprintf(err, errlen, "--ice-ip %s is not an IP address", ice_ip);
		return -1;
	}
	t->agent = nice_agent_new_full(load_worker_context(t->w), NICE_COMPATIBILITY_RFC5245,
				       NICE_AGENT_OPTION_ICE_TRICKLE);
	g_object_set(t->agent, "ice-tcp", FALSE, "controlling-mode", controlling, "upnp", FALSE,
		     NULL);
	/* libnice leaves loopback out of its own interface list. */
	nice_agent_add_local_address(t->agent, &addr);
	t->stream = nice_agent_add_stream(t->agent, 1);
	if (t->stream == 0) {
		snprintf(err, errlen, "nice_agent_add_stream failed");
		return -1;
	}
	nice_agent_attach_recv(t->agent, t->stream, 1, load_worker_context(t->w), on_recv, t);
	g_signal_connect(t->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), t);
	g_signal_connect(t->agent, "component-state-changed", G_CALLBACK(on_state), t);
	return 0;
}

int load_transport_start(load_transport *t, load_worker *w, const char *ice_ip, bool controlling,
			 const load_transport_ops *ops, void *ud, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->ud = ud;
	t->w = w;
	if (make_agent(t, ice_ip, controlling, err, errlen) < 0) {
		load_transport_close(t);
		return -1;
	}
	/* May report on_gathered before it returns (host candidates only). */
	if (!nice_agent_gather_candidates(t->agent, t->stream)) {
		snprintf(err, errlen, "gathering on %s failed", ice_ip);
		load_transport_close(t);
		return -1;
	}
	return 0;
}

void load_transport_local(load_transport *t, char **ufrag, char **pwd, char **candidates)
{
	*ufrag = *pwd = NULL;
	nice_agent_get_local_credentials(t->agent, t->stream, ufrag, pwd);
	GString *s = g_string_new(NULL);
	GSList *list = nice_agent_get_local_candidates(t->agent, t->stream, 1);
	for (GSList *l = list; l != NULL; l = l->next) {
		gchar *line = nice_agent_generate_local_candidate_sdp(t->agent, l->data);
		if (line != NULL)
			g_string_append_printf(s, "%s\r\n", line);
		g_free(line);
	}
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	*candidates = g_string_free(s, FALSE);
}

static NiceCandidate *parse_candidate(load_transport *t, const char *line)
{
	char buf[LOAD_SDP_CAND_LEN + 8];
	/* libnice wants the attribute form. */
	snprintf(buf, sizeof(buf), "a=%s", line);
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(t->agent, t->stream, buf);
	if (c != NULL && (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || c->component_id != 1)) {
		nice_candidate_free(c);
		c = NULL;
	}
	return c;
}

int load_transport_set_remote(load_transport *t, const load_sdp *sdp, bool dtls_client, char *err,
			      size_t errlen)
{
	g_strlcpy(t->fp_alg, sdp->fp_alg, sizeof(t->fp_alg));
	g_strlcpy(t->fp, sdp->fp, sizeof(t->fp));
	if (!nice_agent_set_remote_credentials(t->agent, t->stream, sdp->ufrag, sdp->pwd)) {
		snprintf(err, errlen, "libnice refused the ICE credentials");
		return -1;
	}
	GSList *cands = NULL;
	for (int i = 0; i < sdp->n_cands; i++) {
		NiceCandidate *c = parse_candidate(t, sdp->cands[i]);
		if (c != NULL)
			cands = g_slist_prepend(cands, c);
	}
	if (cands != NULL)
		nice_agent_set_remote_candidates(t->agent, t->stream, 1, cands);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	if (sdp->end_of_candidates)
		nice_agent_peer_candidate_gathering_done(t->agent, t->stream);
	t->dtls_client = dtls_client;
	t->dtls = load_dtls_new(dtls_client, dtls_send, t);
	if (t->dtls == NULL) {
		snprintf(err, errlen, "SSL_new failed");
		return -1;
	}
	if (t->ice_connected && dtls_client)
		dtls_step(t, load_dtls_start(t->dtls));
	return 0;
}

void load_transport_add_candidate(load_transport *t, const char *line)
{
	if (t->agent == NULL || t->dead)
		return;
	if (line == NULL || line[0] == '\0') {
		nice_agent_peer_candidate_gathering_done(t->agent, t->stream);
		return;
	}
	if (strlen(line) >= LOAD_SDP_CAND_LEN)
		return;
	NiceCandidate *c = parse_candidate(t, line);
	if (c == NULL)
		return;
	GSList one = {.data = c, .next = NULL};
	nice_agent_set_remote_candidates(t->agent, t->stream, 1, &one);
	nice_candidate_free(c);
}

int load_transport_send_srtp(load_transport *t, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
	if (!t->ready || t->dead || len + LOAD_SRTP_SPARE > cap)
		return -1;
	if (load_srtp_protect(&t->srtp, buf, &len, rtcp) != 0)
		return -1;
	return nice_agent_send(t->agent, t->stream, 1, (guint)len, (const gchar *)buf) == (gint)len
		       ? 0
		       : -1;
}

int load_transport_unprotect(load_transport *t, const uint8_t *buf, size_t len, bool rtcp,
			     uint8_t **out, size_t *out_len)
{
	size_t cap;
	uint8_t *scratch = load_worker_scratch(t->w, &cap);
	if (!t->ready || len > cap)
		return -1;
	memcpy(scratch, buf, len);
	int rc = load_srtp_unprotect(&t->srtp, scratch, &len, rtcp);
	*out = scratch;
	*out_len = len;
	return rc;
}

void load_transport_close(load_transport *t)
{
	t->dead = true;
	disarm_timer(t);
	if (t->agent != NULL) {
		if (t->stream != 0)
			nice_agent_attach_recv(t->agent, t->stream, 1, load_worker_context(t->w), NULL,
					       NULL);
		g_signal_handlers_disconnect_by_data(t->agent, t);
		g_object_unref(t->agent);
		t->agent = NULL;
	}
	load_dtls_free(t->dtls);
	t->dtls = NULL;
	load_srtp_clear(&t->srtp);
	t->ready = false;
}
