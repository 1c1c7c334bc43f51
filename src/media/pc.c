/*
 * pc.c: peer connection lifecycle, the state machine, and the ICE and DTLS
 * glue (see pc.h). Incoming datagrams are told apart by their first byte
 * (RFC 7983): DTLS goes to the DTLS endpoint, SRTP/SRTCP to pc_rtp.c; STUN
 * never reaches us (libnice consumes it).
 */
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "media/dtls/cert.h"
#include "media/ice/turn_rest.h"
#include "media/pc_internal.h"
#include "media/rtp/demux.h"

#define STOA_LOG_MODULE "pc"
#define TICK_MS STOA_LOOP_TICK_MS
/* How long an ICE failure after a connection may last before the pc closes. */
#define ICE_FAILED_GRACE_US (5 * G_USEC_PER_SEC)

/* ---- server-wide media state (main thread at start and stop) ---- */

static stoa_dtls_cert *cert;

static int parse_port_range(const char *range, int *lo, int *hi)
{
	*lo = *hi = 0;
	if (range == NULL || *range == '\0')
		return 0;
	char *end = NULL;
	long a = strtol(range, &end, 10);
	if (end == range || *end != '-')
		return -1;
	const char *b_start = end + 1;
	long b = strtol(b_start, &end, 10);
	if (end == b_start || *end != '\0' || a < 1 || b > 65535 || a > b)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

int stoa_media_init(const stoa_config *cfg, char *err, size_t errlen)
{
	stoa_ice_config ic = {
		.enforce_list = cfg->ice_enforce_list,
		.ignore_list = cfg->ice_ignore_list,
		.stun_server = cfg->stun_server,
		.stun_port = cfg->stun_port,
		.nat_1_1 = cfg->nat_1_1_mapping,
		.ice_lite = cfg->ice_lite,
		.ice_tcp = cfg->ice_tcp,
		.ipv6 = cfg->ipv6,
		.turn_server = cfg->turn_server,
		.turn_port = cfg->turn_port,
		.turn_type = cfg->turn_type,
		.turn_user = cfg->turn_user,
		.turn_pwd = cfg->turn_pwd,
		/* Tests prove media goes through the relay by hiding the rest. */
		.force_relay = g_strcmp0(g_getenv("STOA_ICE_FORCE_RELAY"), "1") == 0,
	};
	if (parse_port_range(cfg->rtp_port_range, &ic.min_port, &ic.max_port) < 0) {
		g_snprintf(err, errlen, "media.rtp_port_range: '%s' is not MIN-MAX", cfg->rtp_port_range);
		return -1;
	}
	if (stoa_ice_configure(&ic, err, errlen) < 0)
		return -1;
	if (stoa_turn_rest_configure(cfg->turn_rest_api, cfg->turn_rest_api_key,
				     cfg->turn_rest_api_method, cfg->turn_rest_api_timeout, err,
				     errlen) < 0)
		return -1;
	if (stoa_srtp_init() < 0) {
		g_snprintf(err, errlen, "cannot initialise libsrtp2");
		return -1;
	}
	if (stoa_sctp_init(NULL) < 0) {
		g_snprintf(err, errlen, "cannot initialise usrsctp");
		return -1;
	}
	cert = stoa_dtls_cert_new_from_config(cfg, err, errlen);
	if (cert == NULL)
		return -1;
	const char *profiles = g_getenv("STOA_SRTP_PROFILES"); /* tests force one profile */
	if (profiles != NULL && *profiles && stoa_dtls_cert_set_srtp_profiles(cert, profiles) < 0) {
		g_snprintf(err, errlen, "STOA_SRTP_PROFILES: unknown profile list '%s'", profiles);
		return -1;
	}
	stoa_dtls_cert_set_mtu(cert, cfg->dtls_mtu);
	STOA_LOG(STOA_LOG_INFO, "DTLS fingerprint sha-256 %s", stoa_dtls_cert_fingerprint(cert));
	return 0;
}

void stoa_media_stop(void)
{
	stoa_turn_rest_stop();
}

void stoa_media_cleanup(void)
{
	stoa_turn_rest_cleanup();
	if (cert != NULL)
		stoa_dtls_cert_free(cert);
	cert = NULL;
	if (stoa_sctp_shutdown() < 0)
		STOA_LOG(STOA_LOG_WARN, "usrsctp did not shut down cleanly");
	stoa_srtp_cleanup();
	stoa_ice_cleanup();
}

const char *stoa_media_fingerprint(void)
{
	return cert != NULL ? stoa_dtls_cert_fingerprint(cert) : NULL;
}

stoa_dtls_cert *stoa__media_cert(void)
{
	return cert;
}

/* ---- lifecycle ---- */

stoa_pc *stoa_pc_new(const stoa_pc_owner *owner, void *ud, uint64_t session_id,
		     uint64_t handle_id)
{
	stoa_loop *loop = stoa_loops_pick();
	if (loop == NULL)
		return NULL;
	stoa_pc *pc = g_new0(stoa_pc, 1);
	pc->ref = 1;
	pc->loop = loop;
	pc->owner = owner;
	pc->ud = ud;
	owner->ref(ud);
	pc->session_id = session_id;
	pc->handle_id = handle_id;
	pc->streams = g_ptr_array_new();
	g_mutex_init(&pc->lock);
	g_cond_init(&pc->cond);
	pc->metrics = stoa_metrics_loop_media(stoa_loop_index(loop));
	stoa_metrics_pc_state(-1, STOA_PC_NEW);
	stoa_loop_attach(loop);
	return pc;
}

stoa_pc *stoa_pc_ref(stoa_pc *pc)
{
	g_atomic_int_inc(&pc->ref);
	return pc;
}

void stoa_pc_unref(stoa_pc *pc)
{
	if (pc == NULL || !g_atomic_int_dec_and_test(&pc->ref))
		return;
	/* Closed on its loop before the last ref could go (see stoa_pc_close). */
	stoa__pc_streams_free(pc);
	g_ptr_array_unref(pc->streams);
	if (pc->remote != NULL)
		stoa_sdp_free(pc->remote);
	if (pc->local != NULL)
		stoa_sdp_free(pc->local);
	g_free(pc->remote_sdp);
	g_free(pc->local_sdp);
	g_free(pc->data_mid);
	g_free(pc->close_reason);
	g_free(pc->twcc);
	g_mutex_clear(&pc->lock);
	g_cond_clear(&pc->cond);
	stoa_metrics_pc_state(stoa_pc_get_state(pc), -1);
	stoa_loop_detach(pc->loop);
	g_free(pc);
}

const char *stoa_pc_state_name(stoa_pc_state s)
{
	static const char *names[] = { "new", "gathering", "connecting", "connected", "ready", "closed" };
	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

int stoa_pc_loop_index(const stoa_pc *pc)
{
	return stoa_loop_index(pc->loop);
}

stoa_pc_state stoa_pc_get_state(const stoa_pc *pc)
{
	return (stoa_pc_state)g_atomic_int_get(&pc->state);
}

void stoa__pc_set_state(stoa_pc *pc, stoa_pc_state s)
{
	stoa_pc_state old = stoa_pc_get_state(pc);
	if (old == s || old == STOA_PC_CLOSED)
		return;
	g_atomic_int_set(&pc->state, s);
	stoa_metrics_pc_state(old, s);
	STOA_LOG_S(STOA_LOG_VERB, pc->session_id, pc->handle_id, "pc %s -> %s",
		   stoa_pc_state_name(old), stoa_pc_state_name(s));
}

static void stop_timers(stoa_pc *pc)
{
	if (pc->dtls_timer != NULL) {
		g_source_destroy(pc->dtls_timer);
		g_source_unref(pc->dtls_timer);
		pc->dtls_timer = NULL;
	}
	if (pc->tick != NULL) {
		stoa_loop_tick_remove(pc->loop, pc->tick);
		pc->tick = NULL;
	}
}

void stoa__pc_close_now(stoa_pc *pc, const char *reason, bool notify)
{
	stoa_pc_state old = stoa_pc_get_state(pc);
	if (old == STOA_PC_CLOSED)
		return;
	STOA_LOG_S(STOA_LOG_INFO, pc->session_id, pc->handle_id, "closing peer connection: %s", reason);
	g_free(pc->close_reason);
	pc->close_reason = g_strdup(reason);
	g_atomic_int_set(&pc->state, STOA_PC_CLOSED);
	stoa_metrics_pc_state(old, STOA_PC_CLOSED);
	stoa__pc_count_lost(pc);
	stop_timers(pc);
	/* SCTP first: its ABORT goes out over DTLS, which must still be there. */
	stoa__pc_data_close(pc);
	if (pc->dtls != NULL) {
		stoa_dtls_close(pc->dtls); /* close_notify, when connected */
		stoa_dtls_free(pc->dtls);
		pc->dtls = NULL;
	}
	if (pc->srtp != NULL) {
		stoa_srtp_free(pc->srtp);
		pc->srtp = NULL;
	}
	if (pc->ice != NULL) {
		stoa_ice_free(pc->ice);
		pc->ice = NULL;
	}
	g_mutex_lock(&pc->lock);
	pc->closed_flag = true;
	g_cond_broadcast(&pc->cond);
	g_mutex_unlock(&pc->lock);
	/* `closed` may drop the last ref to pc (the handle's): read it first. */
	const stoa_pc_owner *owner = pc->owner;
	void *ud = pc->ud;
	owner->closed(ud, pc, reason, notify);
	owner->unref(ud);
}

/* ---- DTLS glue ---- */

static gboolean dtls_timer_cb(gpointer data);

static void arm_dtls_timer(stoa_pc *pc)
{
	if (pc->dtls_timer != NULL) {
		g_source_destroy(pc->dtls_timer);
		g_source_unref(pc->dtls_timer);
		pc->dtls_timer = NULL;
	}
	if (pc->dtls == NULL)
		return;
	int64_t us = stoa_dtls_timeout_us(pc->dtls);
	if (us < 0)
		return;
	pc->dtls_timer = g_timeout_source_new((guint)(us / 1000 + 1));
	g_source_set_callback(pc->dtls_timer, dtls_timer_cb, pc, NULL);
	g_source_attach(pc->dtls_timer, stoa_loop_context(pc->loop));
}

static gboolean dtls_timer_cb(gpointer data)
{
	stoa_pc *pc = data;
	g_source_unref(pc->dtls_timer);
	pc->dtls_timer = NULL;
	if (pc->dtls != NULL && stoa_dtls_handle_timeout(pc->dtls) >= 0)
		arm_dtls_timer(pc);
	return G_SOURCE_REMOVE;
}

static void on_dtls_send(void *ud, const uint8_t *buf, size_t len)
{
	stoa_pc *pc = ud;
	pc->dtls_out_packets++;
	pc->dtls_out_bytes += len;
	stoa__pc_send_raw(pc, buf, len);
}

/* DTLS callbacks may close the pc; closing frees pc->dtls, which the DTLS
 * module allows from inside its own callbacks (it defers the free). */
static void on_dtls_state(void *ud, stoa_dtls_state st, const char *reason)
{
	stoa_pc *pc = ud;
	if (st == STOA_DTLS_STATE_CONNECTED) {
		stoa_srtp_keys keys;
		if (stoa_dtls_srtp_keys(pc->dtls, &keys) < 0 || (pc->srtp = stoa_srtp_new(&keys)) == NULL) {
			stoa_srtp_keys_wipe(&keys);
			stoa_metrics_add(&pc->metrics->dtls_handshake_failures, 1);
			stoa__pc_close_now(pc, "DTLS-SRTP stack error", true);
			return;
		}
		stoa_srtp_keys_wipe(&keys);
		pc->ready_us = g_get_monotonic_time();
		stoa__pc_set_state(pc, STOA_PC_READY);
		STOA_LOG_S(STOA_LOG_INFO, pc->session_id, pc->handle_id, "DTLS up (%s)",
			   stoa_srtp_profile_name(stoa_dtls_srtp_profile(pc->dtls)));
		pc->owner->ready(pc->ud);
		stoa__pc_data_start(pc);
	} else if (st == STOA_DTLS_STATE_FAILED || st == STOA_DTLS_STATE_CLOSED) {
		if (st == STOA_DTLS_STATE_FAILED && stoa_pc_get_state(pc) < STOA_PC_READY)
			stoa_metrics_add(&pc->metrics->dtls_handshake_failures, 1);
		stoa__pc_close_now(pc, reason != NULL ? reason : "DTLS error", true);
	}
}

static void on_dtls_app_data(void *ud, const uint8_t *buf, size_t len)
{
	stoa__pc_dtls_release(ud); /* the peer is past its handshake */
	stoa__pc_data_incoming(ud, buf, len);
}

/* Called when the peer proves it finished the DTLS handshake (its first
 * authenticated SRTP, SRTCP or DTLS application record): from then on no
 * flight of ours needs retransmitting and OpenSSL's per-peer state (~50 KB)
 * can go (dtls.h). Once per pc; media.dtls_release = false keeps it. */
void stoa__pc_dtls_release(stoa_pc *pc)
{
	if (pc->dtls_release_tried || pc->dtls == NULL)
		return;
	pc->dtls_release_tried = true;
	if (stoa_config_get()->dtls_release)
		stoa_dtls_release(pc->dtls);
}

static const stoa_dtls_callbacks dtls_cbs = {
	.send = on_dtls_send,
	.state = on_dtls_state,
	.app_data = on_dtls_app_data,
};

/* Creates the DTLS endpoint once the remote fingerprint and our role are known. */
int stoa__pc_dtls_setup(stoa_pc *pc, stoa_dtls_role role, const char *fp_alg, const char *fp);
int stoa__pc_dtls_setup(stoa_pc *pc, stoa_dtls_role role, const char *fp_alg, const char *fp)
{
	if (pc->dtls != NULL) {
		/* A renegotiation (an ICE restart, say) keeps the DTLS session; the
		 * fingerprint may only be repeated. A new one would need a new
		 * handshake, which we do not do mid-session. */
		const char *old_alg = NULL;
		const char *old = stoa_dtls_remote_fingerprint(pc->dtls, &old_alg);
		if (old != NULL && fp != NULL && g_ascii_strcasecmp(old, fp) == 0 &&
		    (fp_alg == NULL || old_alg == NULL || g_ascii_strcasecmp(old_alg, fp_alg) == 0))
			return 0;
		if (stoa_dtls_get_state(pc->dtls) == STOA_DTLS_STATE_NEW)
			return stoa_dtls_set_remote_fingerprint(pc->dtls, fp_alg, fp);
		STOA_LOG_S(STOA_LOG_WARN, pc->session_id, pc->handle_id,
			   "the peer changed its DTLS fingerprint mid-session");
		return -1;
	}
	pc->role = role;
	pc->dtls = stoa_dtls_new(cert, role, fp_alg, fp, &dtls_cbs, pc);
	if (pc->dtls == NULL)
		return -1;
	stoa_dtls_set_log_ids(pc->dtls, pc->session_id, pc->handle_id);
	return 0;
}

/* ---- ICE glue ---- */

static void on_ice_state(void *ud, stoa_ice_state s)
{
	stoa_pc *pc = ud;
	if (s == STOA_ICE_FAILED) {
		stoa_metrics_add(&pc->metrics->ice_failures, 1);
		if (pc->connected_us == 0) {
			stoa__pc_close_now(pc, "ICE failed", true);
		} else if (pc->ice_failed_us == 0) {
			/* It had connected: during an ICE restart the checks can all
			 * fail before the peer applied our answer (a loaded peer),
			 * and its own checks then bring the agent back. Give it
			 * ICE_FAILED_GRACE_US (the tick closes the pc after that). */
			STOA_LOG_S(STOA_LOG_INFO, pc->session_id, pc->handle_id,
				   "ICE failed after it had connected: waiting %d s for it to recover",
				   (int)(ICE_FAILED_GRACE_US / G_USEC_PER_SEC));
			pc->ice_failed_us = g_get_monotonic_time();
		}
		return;
	}
	if (s == STOA_ICE_CONNECTED || s == STOA_ICE_READY)
		pc->ice_failed_us = 0;
	if ((s == STOA_ICE_CONNECTED || s == STOA_ICE_READY) && stoa_pc_get_state(pc) < STOA_PC_CONNECTED) {
		pc->connected_us = g_get_monotonic_time();
		stoa__pc_set_state(pc, STOA_PC_CONNECTED);
		if (pc->dtls != NULL && pc->role == STOA_DTLS_ROLE_ACTIVE) {
			stoa_dtls_start(pc->dtls);
			arm_dtls_timer(pc);
		}
	} else if (s == STOA_ICE_CONNECTING && stoa_pc_get_state(pc) < STOA_PC_CONNECTING) {
		stoa__pc_set_state(pc, STOA_PC_CONNECTING);
	}
}

static void on_ice_gathered(void *ud)
{
	stoa_pc *pc = ud;
	g_mutex_lock(&pc->lock);
	pc->gathered = true;
	g_cond_broadcast(&pc->cond);
	g_mutex_unlock(&pc->lock);
	if (stoa_pc_get_state(pc) == STOA_PC_GATHERING)
		stoa__pc_set_state(pc, STOA_PC_CONNECTING);
	if (pc->owner->local_candidate != NULL && stoa_config_get()->full_trickle)
		pc->owner->local_candidate(pc->ud, NULL, NULL);
}

static void on_ice_candidate(void *ud, const char *candidate)
{
	stoa_pc *pc = ud;
	/* BUNDLE: every candidate belongs to the first m-line (Janus sends the
	 * first mid with sdpMLineIndex 0). */
	if (pc->owner->local_candidate != NULL && stoa_config_get()->full_trickle)
		pc->owner->local_candidate(pc->ud, stoa__pc_first_mid(pc), candidate);
}

static void on_ice_datagram(stoa_pc *pc, uint8_t *buf, size_t len);

static void on_ice_recv(void *ud, uint8_t *buf, size_t len)
{
	/* A DTLS alert closes the pc from in here, and the close can drop the
	 * handle's ref: keep the pc alive until this datagram is done. */
	stoa_pc *pc = stoa_pc_ref(ud);
	on_ice_datagram(pc, buf, len);
	stoa_pc_unref(pc);
}

static void on_ice_datagram(stoa_pc *pc, uint8_t *buf, size_t len)
{
	pc->last_rx_us = g_get_monotonic_time();
	switch (stoa_demux_classify(buf, len)) {
	case STOA_DEMUX_DTLS:
		pc->dtls_in_packets++;
		pc->dtls_in_bytes += len;
		if (pc->dtls != NULL) {
			stoa_dtls_incoming(pc->dtls, buf, len);
			if (stoa_pc_get_state(pc) != STOA_PC_CLOSED)
				arm_dtls_timer(pc);
		}
		break;
	case STOA_DEMUX_RTP:
		stoa__pc_incoming_srtp(pc, buf, len, false);
		break;
	case STOA_DEMUX_RTCP:
		stoa__pc_incoming_srtp(pc, buf, len, true);
		break;
	default:
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 10, "unclassified datagram (%zu bytes) dropped", len);
		break;
	}
}

static const stoa_ice_callbacks ice_cbs = {
	.on_candidate = on_ice_candidate,
	.on_gathering_done = on_ice_gathered,
	.on_state = on_ice_state,
	.on_recv = on_ice_recv,
};

/* The loop's shared timer, every TICK_MS (loop.h). */
static void tick_cb(gpointer data, gint64 now)
{
	stoa_pc *pc = data;
	static const int report_every = 1000 / TICK_MS;
	bool report = (now / (TICK_MS * 1000)) % report_every == 0;
	/* Consent (RFC 7675): a live browser sends RTCP and consent checks every
	 * few seconds, so silence this long means the peer is gone. libnice's
	 * own consent expiry is fixed at 30 s; ours is configurable. */
	int consent = stoa_config_get()->consent_timeout;
	int64_t since = pc->last_rx_us > 0 ? pc->last_rx_us : pc->connected_us;
	if (consent > 0 && since > 0 && now - since > (int64_t)consent * G_USEC_PER_SEC) {
		STOA_LOG_S(STOA_LOG_WARN, pc->session_id, pc->handle_id,
			   "nothing from the peer for %d s: consent lost", consent);
		stoa_metrics_add(&pc->metrics->consent_losses, 1);
		stoa__pc_close_now(pc, "ICE failed", true);
		return;
	}
	if (pc->ice_failed_us > 0 && now - pc->ice_failed_us > ICE_FAILED_GRACE_US) {
		stoa__pc_close_now(pc, "ICE failed", true);
		return;
	}
	stoa__pc_tick(pc, now, report);
}

static void add_relays(stoa_pc *pc, stoa_turn_creds *c)
{
	for (int i = 0; i < c->n_relays; i++)
		stoa_ice_add_relay(pc->ice, &c->relays[i]);
}

typedef struct turn_job {
	stoa_pc *pc;
	stoa_turn_creds *creds;
} turn_job;

static void turn_job_free(gpointer p)
{
	turn_job *j = p;
	stoa_turn_creds_unref(j->creds);
	stoa_pc_unref(j->pc);
	g_free(j);
}

/* Loop thread: the TURN REST API answered (or failed): gather now. */
static gboolean turn_job_run(gpointer p)
{
	turn_job *j = p;
	stoa_pc *pc = j->pc;
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED || pc->ice == NULL)
		return G_SOURCE_REMOVE;
	if (j->creds != NULL)
		add_relays(pc, j->creds);
	if (stoa_ice_gather(pc->ice) < 0)
		stoa__pc_close_now(pc, "ICE gathering error", true);
	return G_SOURCE_REMOVE;
}

/* Pool thread (turn_rest.c): hand the credentials to the pc's loop. */
static void on_turn_creds(stoa_turn_creds *creds, void *ud)
{
	turn_job *j = g_new(turn_job, 1);
	j->pc = ud; /* the ref taken for the fetch */
	j->creds = creds;
	stoa_loop_post(j->pc->loop, turn_job_run, j, turn_job_free);
}

/* Creates the agent (first offer) and starts gathering, at once or, when
 * TURN REST credentials must be fetched first, once they are here. Loop
 * thread. */
int stoa__pc_ice_setup(stoa_pc *pc, bool controlling)
{
	if (pc->ice != NULL)
		return 0;
	pc->ice = stoa_ice_new(stoa_loop_context(pc->loop), controlling, &ice_cbs, pc);
	stoa__pc_set_state(pc, STOA_PC_GATHERING);
	pc->tick = stoa_loop_tick_add(pc->loop, tick_cb, pc);
	if (stoa_turn_rest_enabled()) {
		stoa_turn_creds *c = stoa_turn_rest_cached();
		if (c == NULL && stoa_turn_rest_fetch(on_turn_creds, stoa_pc_ref(pc)) == 0)
			return 0;
		if (c == NULL)
			stoa_pc_unref(pc); /* the fetch was refused */
		else
			add_relays(pc, c);
		stoa_turn_creds_unref(c);
	}
	return stoa_ice_gather(pc->ice);
}

stoa_ice *stoa__pc_ice(stoa_pc *pc);
stoa_ice *stoa__pc_ice(stoa_pc *pc)
{
	return pc->ice;
}

int stoa__pc_send_raw(stoa_pc *pc, const uint8_t *buf, size_t len)
{
	G_STATIC_ASSERT(STOA_PC_SEND_FULL == STOA_ICE_SEND_FULL);
	if (pc->ice == NULL)
		return -1;
	return stoa_ice_send(pc->ice, buf, len);
}

/* ---- any-thread entry points: post to the loop ---- */

typedef struct pc_job {
	stoa_pc *pc;
	int mindex;
	bool flag;
	uint32_t value;
	char *text, *text2;
	json_t *json;
	size_t len;
	uint8_t buf[];
} pc_job;

static pc_job *job_new(stoa_pc *pc, const uint8_t *buf, size_t len)
{
	pc_job *j = g_malloc0(sizeof(*j) + len);
	j->pc = stoa_pc_ref(pc);
	if (buf != NULL)
		memcpy(j->buf, buf, len);
	j->len = len;
	return j;
}

static void job_free(gpointer p)
{
	pc_job *j = p;
	stoa_pc_unref(j->pc);
	g_free(j->text);
	g_free(j->text2);
	if (j->json != NULL)
		json_decref(j->json);
	g_free(j);
}

static bool open_pc(stoa_pc *pc)
{
	return stoa_pc_get_state(pc) != STOA_PC_CLOSED;
}

static gboolean job_close(gpointer p)
{
	pc_job *j = p;
	stoa__pc_close_now(j->pc, j->text, j->flag);
	return G_SOURCE_REMOVE;
}

void stoa_pc_close(stoa_pc *pc, const char *reason, bool notify)
{
	pc_job *j = job_new(pc, NULL, 0);
	j->text = g_strdup(reason);
	j->flag = notify;
	stoa_loop_post(pc->loop, job_close, j, job_free);
}

static gboolean job_rtp(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_send_rtp_now(j->pc, j->mindex, j->buf, j->len, (int)j->value - 1, j->flag);
	return G_SOURCE_REMOVE;
}

int stoa_pc_send_rtp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int level,
		     bool plugin_rtx)
{
	if (stoa_loop_is_current(pc->loop))
		return stoa__pc_send_rtp_now(pc, mindex, buf, len, level, plugin_rtx);
	pc_job *j = job_new(pc, buf, len);
	j->mindex = mindex;
	j->flag = plugin_rtx;
	j->value = (uint32_t)(level + 1);
	stoa_loop_post(pc->loop, job_rtp, j, job_free);
	return STOA_PC_SENT;
}

static gboolean job_resend(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_resend_rtp_now(j->pc, j->mindex, j->buf, j->len, (int)j->value - 1);
	return G_SOURCE_REMOVE;
}

void stoa_pc_resend_rtp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int ext)
{
	if (stoa_loop_is_current(pc->loop)) {
		stoa__pc_resend_rtp_now(pc, mindex, buf, len, ext);
		return;
	}
	pc_job *j = job_new(pc, buf, len);
	j->mindex = mindex;
	j->value = (uint32_t)(ext + 1);
	stoa_loop_post(pc->loop, job_resend, j, job_free);
}

static gboolean job_rtcp(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_send_rtcp_now(j->pc, j->buf, j->len);
	return G_SOURCE_REMOVE;
}

void stoa_pc_send_rtcp(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len)
{
	if (stoa_loop_is_current(pc->loop)) {
		stoa__pc_send_rtcp_now(pc, buf, len);
		return;
	}
	stoa_loop_post(pc->loop, job_rtcp, job_new(pc, buf, len), job_free);
}

static gboolean job_data(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_send_data_now(j->pc, j->text, j->flag, j->buf, j->len);
	return G_SOURCE_REMOVE;
}

void stoa_pc_send_data(stoa_pc *pc, const char *label, bool binary, const uint8_t *buf, size_t len)
{
	if (stoa_loop_is_current(pc->loop)) {
		stoa__pc_send_data_now(pc, label, binary, buf, len);
		return;
	}
	pc_job *j = job_new(pc, buf, len);
	j->text = g_strdup(label);
	j->flag = binary;
	stoa_loop_post(pc->loop, job_data, j, job_free);
}

static gboolean job_pli(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_send_pli_now(j->pc, j->mindex);
	return G_SOURCE_REMOVE;
}

void stoa_pc_send_pli(stoa_pc *pc, int mindex)
{
	if (stoa_loop_is_current(pc->loop)) {
		stoa__pc_send_pli_now(pc, mindex);
		return;
	}
	pc_job *j = job_new(pc, NULL, 0);
	j->mindex = mindex;
	stoa_loop_post(pc->loop, job_pli, j, job_free);
}

static gboolean job_remb(gpointer p)
{
	pc_job *j = p;
	if (open_pc(j->pc))
		stoa__pc_send_remb_now(j->pc, j->value);
	return G_SOURCE_REMOVE;
}

void stoa_pc_send_remb(stoa_pc *pc, uint32_t bitrate)
{
	if (stoa_loop_is_current(pc->loop)) {
		stoa__pc_send_remb_now(pc, bitrate);
		return;
	}
	pc_job *j = job_new(pc, NULL, 0);
	j->value = bitrate;
	stoa_loop_post(pc->loop, job_remb, j, job_free);
}

/* ---- Admin API ---- */

typedef struct info_call {
	stoa_pc *pc;
	json_t *out;
} info_call;

static json_t *dtls_info(stoa_pc *pc)
{
	json_t *d = json_pack("{s:s}", "fingerprint", stoa_media_fingerprint());
	if (pc->dtls == NULL) {
		json_object_set_new(d, "dtls-state", json_string("created"));
		return d;
	}
	const char *rfp = stoa_dtls_remote_fingerprint(pc->dtls, NULL);
	if (rfp != NULL)
		json_object_set_new(d, "remote-fingerprint", json_string(rfp));
	json_object_set_new(d, "dtls-role", json_string(stoa_dtls_role_setup_name(pc->role)));
	json_object_set_new(d, "dtls-state", json_string(stoa_dtls_state_name(stoa_dtls_get_state(pc->dtls))));
	json_object_set_new(d, "retransmissions", json_integer(stoa_dtls_retransmissions(pc->dtls)));
	json_object_set_new(d, "valid", json_boolean(stoa_dtls_fingerprint_verified(pc->dtls)));
	json_object_set_new(d, "srtp-profile", json_string(stoa_srtp_profile_name(stoa_dtls_srtp_profile(pc->dtls))));
	json_object_set_new(d, "ready", json_boolean(pc->srtp != NULL));
	/* Stoa: OpenSSL's state was freed after the handshake (dtls.h). */
	json_object_set_new(d, "released", json_boolean(stoa_dtls_released(pc->dtls)));
	json_object_set_new(d, "stats", json_pack("{s:{s:I,s:I},s:{s:I,s:I}}",
		"in", "packets", (json_int_t)pc->dtls_in_packets, "bytes", (json_int_t)pc->dtls_in_bytes,
		"out", "packets", (json_int_t)pc->dtls_out_packets, "bytes", (json_int_t)pc->dtls_out_bytes));
	return d;
}

static json_t *ice_info(stoa_pc *pc)
{
	if (pc->ice == NULL)
		return json_pack("{s:s}", "state", "disconnected");
	json_t *i = json_pack("{s:s,s:b}", "state", stoa_ice_state_name(stoa_ice_get_state(pc->ice)),
			      "gathered", stoa_ice_gathering_done(pc->ice));
	json_t *local = json_array();
	GPtrArray *cands = stoa_ice_local_candidates(pc->ice);
	for (guint k = 0; k < cands->len; k++)
		json_array_append_new(local, json_string(cands->pdata[k]));
	g_ptr_array_unref(cands);
	json_object_set_new(i, "local-candidates", local);
	char *pair = stoa_ice_selected_pair(pc->ice);
	if (pair != NULL)
		json_object_set_new(i, "selected-pair", json_string(pair));
	g_free(pair);
	return i;
}

static void info_on_loop(gpointer p)
{
	info_call *c = p;
	stoa_pc *pc = c->pc;
	json_t *w = json_pack("{s:s}", "state", stoa_pc_state_name(stoa_pc_get_state(pc)));
	json_object_set_new(w, "ice", ice_info(pc));
	json_object_set_new(w, "dtls", dtls_info(pc));
	json_object_set_new(w, "media", stoa__pc_streams_info(pc));
	c->out = w;
}

static void stats_on_loop(gpointer p)
{
	info_call *c = p;
	c->out = stoa__pc_streams_info(c->pc);
}

json_t *stoa_pc_stats(stoa_pc *pc)
{
	info_call c = { .pc = pc };
	if (stoa_loop_is_current(pc->loop))
		stats_on_loop(&c);
	else
		stoa_loop_run_sync(pc->loop, stats_on_loop, &c);
	return c.out;
}

json_t *stoa_pc_info(stoa_pc *pc)
{
	info_call c = { .pc = pc };
	stoa_loop_run_sync(pc->loop, info_on_loop, &c);
	g_mutex_lock(&pc->lock);
	json_t *sdps = json_pack("{s:s}", "profile", "UDP/TLS/RTP/SAVPF");
	if (pc->local_sdp != NULL)
		json_object_set_new(sdps, "local", json_string(pc->local_sdp));
	if (pc->remote_sdp != NULL)
		json_object_set_new(sdps, "remote", json_string(pc->remote_sdp));
	g_mutex_unlock(&pc->lock);
	json_object_set_new(c.out, "sdps", sdps);
	return c.out;
}
