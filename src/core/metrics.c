/*
 * metrics.c: the server's counters and gauges, and their Prometheus text
 * exposition (format 0.0.4), served by GET /metrics on the admin port and by
 * the Admin API's `metrics` verb.
 *
 * Design, by where a number comes from:
 *
 *  - Media counters (RTP packets and bytes, NACKs, retransmissions, PLIs,
 *    FIRs, losses, DTLS/ICE failures) are counted on the media loops, per
 *    packet for some, and the loss peers report in their RTCP receiver
 *    reports on what we send. Each loop has one stoa_metrics_media block, aligned
 *    and padded to STOA_METRICS_LINE so no two loops' blocks share a cache
 *    line, and only that loop's thread writes it: a peer connection caches
 *    its loop's block when it is created (it runs only on that loop), and
 *    counting is a relaxed atomic load and store, which compiles to a plain
 *    load/add/store — no lock, no allocation, no lock-prefixed instruction,
 *    no cache line bouncing between cores. A scrape reads every block with
 *    relaxed loads and sums them; a value may be a few packets behind, never
 *    torn.
 *  - Loop load: the number of peer connections attached to each loop
 *    (g_atomic, on attach/detach), and each loop thread's CPU time, read at
 *    scrape time from the thread's CPU clock (pthread_getcpuclockid): it
 *    costs the loop nothing, counts the time spent in callbacks and the
 *    syscalls they make (sends), and not the time asleep in poll().
 *  - Peer connections by state: one shared g_atomic gauge per state, moved
 *    on each state change (a handful per connection's life).
 *  - API requests by api, verb and error code: counted once per request in
 *    the Janus/Admin dispatcher (janus_api.c) and in the REST API's entry
 *    and early refusals (rest.c), with shared atomic adds (API threads, not
 *    a media path). Verbs the tables do not know count as "unknown" and
 *    codes outside the API's list as "other", so the label set stays
 *    bounded: REST requests are labelled by HTTP method and status, never
 *    by path.
 *  - Sessions and handles come from the session registry, and rooms,
 *    publishers and subscribers from the VideoRoom's admin "stats" request,
 *    at scrape time.
 *
 * Threads: counting functions may be called from any thread (the media ones
 * from the loop that owns the block); stoa_metrics_render from any thread.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <jansson.h>

#include "api/errors.h"
#include "core/metrics.h"
#include "core/plugins.h"
#include "core/session.h"
#include "media/pc.h"

#define VIDEOROOM_PACKAGE "janus.plugin.videoroom"

/* ---- per-loop blocks ---- */

/* What other threads touch about a loop, kept apart from its hot block. */
typedef struct loop_info {
	gint pcs;		/* peer connections attached */
	gint clock_valid;	/* 1 while the thread runs and `clock` names it */
	clockid_t clock;	/* the loop thread's CPU clock */
	uint64_t final_ns;	/* the thread's CPU time when it left */
	uint64_t reported_ns;	/* the largest value reported: keeps the counter monotonic */
} loop_info;

static stoa_metrics_media *media; /* [nloops], aligned */
static loop_info *loops;
static int nloops;
/* For an index out of range, which a correct caller never passes. */
static stoa_metrics_media spare;

int stoa_metrics_loops_init(int n)
{
	if (n <= nloops)
		return 0;
	void *mem = NULL;
	if (posix_memalign(&mem, STOA_METRICS_LINE, sizeof(stoa_metrics_media) * (size_t)n) != 0)
		return -1;
	memset(mem, 0, sizeof(stoa_metrics_media) * (size_t)n);
	if (media != NULL)
		memcpy(mem, media, sizeof(stoa_metrics_media) * (size_t)nloops);
	free(media);
	media = mem;
	loops = g_renew(loop_info, loops, n);
	memset(loops + nloops, 0, sizeof(loop_info) * (size_t)(n - nloops));
	nloops = n;
	return 0;
}

void stoa_metrics_cleanup(void)
{
	free(media);
	media = NULL;
	g_free(loops);
	loops = NULL;
	nloops = 0;
}

stoa_metrics_media *stoa_metrics_loop_media(int index)
{
	return index >= 0 && index < nloops ? &media[index] : &spare;
}

static uint64_t clock_ns(clockid_t c, bool *ok)
{
	struct timespec ts;
	*ok = clock_gettime(c, &ts) == 0;
	return *ok ? (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec : 0;
}

void stoa_metrics_loop_enter(int index)
{
	if (index < 0 || index >= nloops)
		return;
	loop_info *l = &loops[index];
	if (pthread_getcpuclockid(pthread_self(), &l->clock) == 0)
		g_atomic_int_set(&l->clock_valid, 1);
}

void stoa_metrics_loop_leave(int index)
{
	if (index < 0 || index >= nloops)
		return;
	loop_info *l = &loops[index];
	bool ok;
	uint64_t ns = clock_ns(CLOCK_THREAD_CPUTIME_ID, &ok);
	if (ok)
		__atomic_store_n(&l->final_ns, ns, __ATOMIC_RELAXED);
	g_atomic_int_set(&l->clock_valid, 0);
}

void stoa_metrics_loop_pcs(int index, int delta)
{
	if (index >= 0 && index < nloops)
		g_atomic_int_add(&loops[index].pcs, delta);
}

/* The loop thread's CPU time, never less than what was reported before. */
static uint64_t loop_cpu_ns(loop_info *l)
{
	bool ok = false;
	uint64_t ns = 0;
	if (g_atomic_int_get(&l->clock_valid))
		ns = clock_ns(l->clock, &ok);
	if (!ok) /* not started, or the thread has just gone */
		ns = __atomic_load_n(&l->final_ns, __ATOMIC_RELAXED);
	uint64_t prev = __atomic_load_n(&l->reported_ns, __ATOMIC_RELAXED);
	while (prev < ns && !__atomic_compare_exchange_n(&l->reported_ns, &prev, ns, false,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return prev > ns ? prev : ns;
}

/* ---- peer connections by state ---- */

static gint pc_states[STOA_PC_CLOSED + 1];

void stoa_metrics_pc_state(int from, int to)
{
	if (from >= 0 && from <= STOA_PC_CLOSED)
		g_atomic_int_add(&pc_states[from], -1);
	if (to >= 0 && to <= STOA_PC_CLOSED)
		g_atomic_int_inc(&pc_states[to]);
}

/* ---- API requests ---- */

/* Janus's error codes (errors.h), 0 for success; anything else is "other". */
static const int janus_codes[] = {
	STOA_OK,
	STOA_ERR_UNAUTHORIZED,
	STOA_ERR_UNAUTHORIZED_PLUGIN,
	STOA_ERR_TRANSPORT_SPECIFIC,
	STOA_ERR_MISSING_REQUEST,
	STOA_ERR_UNKNOWN_REQUEST,
	STOA_ERR_INVALID_JSON,
	STOA_ERR_INVALID_JSON_OBJECT,
	STOA_ERR_MISSING_MANDATORY_ELEMENT,
	STOA_ERR_INVALID_REQUEST_PATH,
	STOA_ERR_SESSION_NOT_FOUND,
	STOA_ERR_HANDLE_NOT_FOUND,
	STOA_ERR_PLUGIN_NOT_FOUND,
	STOA_ERR_PLUGIN_ATTACH,
	STOA_ERR_PLUGIN_MESSAGE,
	STOA_ERR_PLUGIN_DETACH,
	STOA_ERR_JSEP_UNKNOWN_TYPE,
	STOA_ERR_JSEP_INVALID_SDP,
	STOA_ERR_TRICKLE_INVALID_STREAM,
	STOA_ERR_INVALID_ELEMENT_TYPE,
	STOA_ERR_SESSION_CONFLICT,
	STOA_ERR_UNEXPECTED_ANSWER,
	STOA_ERR_TOKEN_NOT_FOUND,
	STOA_ERR_WEBRTC_STATE,
	STOA_ERR_NOT_ACCEPTING_SESSIONS,
	STOA_ERR_UNKNOWN,
};

/* The HTTP statuses the REST API answers with (api/rest_errors.c, plus
 * the transport's preflight 200); anything else is "other". */
static const int http_codes[] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 500, 501, 503,
};

/* HTTP methods are labelled by these static spellings (the request's own
 * string belongs to the connection); other methods count as "unknown". */
static const char *const http_methods[] = {
	"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS",
};

/* One row per API: its label and the codes its counters are kept for. */
typedef struct api_kind {
	const char *label;
	const int *codes;
	unsigned ncodes;
} api_kind;

static const api_kind api_kinds[STOA_METRICS_API_COUNT] = {
	[STOA_METRICS_API_JANUS] = { "janus", janus_codes, G_N_ELEMENTS(janus_codes) },
	[STOA_METRICS_API_ADMIN] = { "admin", janus_codes, G_N_ELEMENTS(janus_codes) },
	[STOA_METRICS_API_REST] = { "rest", http_codes, G_N_ELEMENTS(http_codes) },
};

/* The longer code list, + "other". */
#define API_CODES (MAX(G_N_ELEMENTS(janus_codes), G_N_ELEMENTS(http_codes)) + 1)

/* Room for both verb tables with margin; slot 0 is "unknown". */
#define API_VERBS 48

typedef struct api_verb {
	const char *name; /* set once, by compare-and-swap from NULL */
	uint64_t count[API_CODES];
} api_verb;

static api_verb api_verbs[STOA_METRICS_API_COUNT][API_VERBS] = {
	{ [0] = { .name = "unknown" } },
	{ [0] = { .name = "unknown" } },
	{ [0] = { .name = "unknown" } },
};

/* The code's index in the API's list; the last slot ("other") if absent. */
static unsigned code_index(const api_kind *k, int code)
{
	for (unsigned i = 0; i < k->ncodes; i++)
		if (k->codes[i] == code)
			return i;
	return API_CODES - 1;
}

/* The verb's slot, claimed on first use. Every thread scans in the same
 * order and a name is only ever written into the first empty slot, so one
 * verb never gets two slots. */
static api_verb *verb_slot(api_verb *table, const char *verb)
{
	if (verb == NULL)
		return &table[0];
	for (int i = 1; i < API_VERBS; i++) {
		const char *name = __atomic_load_n(&table[i].name, __ATOMIC_ACQUIRE);
		if (name == NULL) {
			const char *expected = NULL;
			if (__atomic_compare_exchange_n(&table[i].name, &expected, verb, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return &table[i];
			name = expected;
		}
		if (strcmp(name, verb) == 0)
			return &table[i];
	}
	return &table[0];
}

static void count_api(stoa_metrics_api api, const char *verb, int code)
{
	api_verb *v = verb_slot(api_verbs[api], verb);
	__atomic_fetch_add(&v->count[code_index(&api_kinds[api], code)], 1, __ATOMIC_RELAXED);
}

void stoa_metrics_api_request(bool admin, const char *verb, int code)
{
	count_api(admin ? STOA_METRICS_API_ADMIN : STOA_METRICS_API_JANUS, verb, code);
}

void stoa_metrics_rest_request(const char *method, unsigned status)
{
	const char *verb = NULL;
	for (size_t i = 0; method != NULL && i < G_N_ELEMENTS(http_methods); i++)
		if (strcmp(method, http_methods[i]) == 0)
			verb = http_methods[i];
	count_api(STOA_METRICS_API_REST, verb, (int)status);
}

/* ---- rendering ---- */

static void family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(GString *out, const char *name, const char *labels, uint64_t value)
{
	g_string_append_printf(out, "%s%s%s%s %" G_GUINT64_FORMAT "\n", name,
			       labels != NULL ? "{" : "", labels != NULL ? labels : "",
			       labels != NULL ? "}" : "", value);
}

static void gauge(GString *out, const char *name, const char *help, uint64_t value)
{
	family(out, name, "gauge", help);
	sample(out, name, NULL, value);
}

/* A media counter: its offset in stoa_metrics_media and whether it is a
 * [audio, video] pair. */
typedef struct media_family {
	const char *name;
	const char *help;
	size_t off;
	bool per_kind;
} media_family;

#define MF(field) offsetof(stoa_metrics_media, field)

static const media_family media_families[] = {
	{ "stoa_rtp_received_packets_total",
	  "RTP packets received from peers and decrypted, retransmissions included.",
	  MF(rtp_in_packets), true },
	{ "stoa_rtp_received_bytes_total",
	  "Bytes of the RTP packets received (header and payload, after SRTP).",
	  MF(rtp_in_bytes), true },
	{ "stoa_rtp_sent_packets_total",
	  "RTP packets sent to peers, retransmissions included.",
	  MF(rtp_out_packets), true },
	{ "stoa_rtp_sent_bytes_total",
	  "Bytes of the RTP packets sent (header and payload, before SRTP).",
	  MF(rtp_out_bytes), true },
	{ "stoa_nacks_sent_total",
	  "Packets asked for again in NACKs sent to peers (one per sequence number).",
	  MF(nacks_sent), true },
	{ "stoa_nacks_received_total",
	  "Packets peers asked for again in the NACKs they sent (one per sequence number).",
	  MF(nacks_received), true },
	{ "stoa_retransmissions_sent_total",
	  "Packets sent again to peers in answer to their NACKs.",
	  MF(rtx_sent), true },
	{ "stoa_retransmissions_received_total",
	  "Retransmitted packets (RTX) received from peers.",
	  MF(rtx_received), true },
	{ "stoa_rtp_lost_packets_total",
	  "Packets missing from what peers sent (RFC 3550 cumulative lost, counted once a second; "
	  "includes packets later repaired by retransmission).",
	  MF(lost), true },
	{ "stoa_rtp_remote_lost_packets_total",
	  "Packets of what the server sent that peers reported lost in their RTCP receiver "
	  "reports (RFC 3550 cumulative lost, counted as it rises; includes packets later "
	  "repaired by retransmission).",
	  MF(remote_lost), true },
	{ "stoa_plis_sent_total", "Picture Loss Indications sent to peers.", MF(plis_sent), false },
	{ "stoa_plis_received_total", "Picture Loss Indications received from peers.",
	  MF(plis_received), false },
	{ "stoa_firs_sent_total", "Full Intra Requests sent to peers.", MF(firs_sent), false },
	{ "stoa_firs_received_total", "Full Intra Requests received from peers.",
	  MF(firs_received), false },
	{ "stoa_dtls_handshake_failures_total",
	  "Peer connections closed because the DTLS handshake failed (timeout, fingerprint "
	  "mismatch, error) or gave no SRTP keys.",
	  MF(dtls_handshake_failures), false },
	{ "stoa_ice_failures_total", "Peer connections closed because ICE failed.",
	  MF(ice_failures), false },
	{ "stoa_ice_consent_losses_total",
	  "Peer connections closed because the peer was silent for nat.consent_timeout seconds.",
	  MF(consent_losses), false },
};

#define MEDIA_WORDS (MF(consent_losses) / sizeof(uint64_t) + 1)

static void render_media(GString *out)
{
	uint64_t sum[MEDIA_WORDS] = { 0 };
	for (int i = 0; i < nloops; i++) {
		const uint64_t *w = (const uint64_t *)&media[i];
		for (size_t k = 0; k < MEDIA_WORDS; k++)
			sum[k] += __atomic_load_n(&w[k], __ATOMIC_RELAXED);
	}
	for (size_t f = 0; f < G_N_ELEMENTS(media_families); f++) {
		const media_family *m = &media_families[f];
		const uint64_t *v = &sum[m->off / sizeof(uint64_t)];
		family(out, m->name, "counter", m->help);
		if (m->per_kind) {
			sample(out, m->name, "kind=\"audio\"", v[STOA_METRICS_AUDIO]);
			sample(out, m->name, "kind=\"video\"", v[STOA_METRICS_VIDEO]);
		} else {
			sample(out, m->name, NULL, v[0]);
		}
	}
}

static void render_loops(GString *out)
{
	char labels[32];
	family(out, "stoa_media_loop_peer_connections", "gauge",
	       "Peer connections attached to each media loop.");
	for (int i = 0; i < nloops; i++) {
		g_snprintf(labels, sizeof(labels), "loop=\"%d\"", i);
		sample(out, "stoa_media_loop_peer_connections", labels,
		       (uint64_t)MAX(g_atomic_int_get(&loops[i].pcs), 0));
	}
	family(out, "stoa_media_loop_cpu_seconds_total", "counter",
	       "CPU time (user and system) each media loop's thread has used running its "
	       "callbacks; time waiting for events is not counted.");
	for (int i = 0; i < nloops; i++) {
		uint64_t ns = loop_cpu_ns(&loops[i]);
		g_string_append_printf(out, "stoa_media_loop_cpu_seconds_total{loop=\"%d\"} %" G_GUINT64_FORMAT
				       ".%09" G_GUINT64_FORMAT "\n",
				       i, ns / 1000000000u, ns % 1000000000u);
	}
}

static void render_pcs(GString *out)
{
	char labels[32];
	family(out, "stoa_peer_connections", "gauge",
	       "Peer connections that exist, by state (closed ones until their handle lets go).");
	for (int s = STOA_PC_NEW; s <= STOA_PC_CLOSED; s++) {
		g_snprintf(labels, sizeof(labels), "state=\"%s\"", stoa_pc_state_name(s));
		sample(out, "stoa_peer_connections", labels,
		       (uint64_t)MAX(g_atomic_int_get(&pc_states[s]), 0));
	}
}

static void render_api(GString *out)
{
	family(out, "stoa_api_requests_total", "counter",
	       "Requests the Janus API (api=\"janus\"), the Admin API (api=\"admin\") and the "
	       "REST API (api=\"rest\") answered, by verb (the HTTP method for REST) and error "
	       "code (code \"0\": no error; the HTTP status for REST).");
	for (int a = 0; a < STOA_METRICS_API_COUNT; a++) {
		const api_kind *k = &api_kinds[a];
		for (int i = 0; i < API_VERBS; i++) {
			api_verb *v = &api_verbs[a][i];
			const char *name = __atomic_load_n(&v->name, __ATOMIC_ACQUIRE);
			for (unsigned c = 0; name != NULL && c < API_CODES; c++) {
				uint64_t n = __atomic_load_n(&v->count[c], __ATOMIC_RELAXED);
				if (n == 0)
					continue;
				char code[16];
				if (c < k->ncodes)
					g_snprintf(code, sizeof(code), "%d", k->codes[c]);
				else
					g_strlcpy(code, "other", sizeof(code));
				char *labels = g_strdup_printf("api=\"%s\",verb=\"%s\",code=\"%s\"",
							       k->label, name, code);
				sample(out, "stoa_api_requests_total", labels, n);
				g_free(labels);
			}
		}
	}
}

/* The VideoRoom's counts through its admin "stats" request; nothing when
 * the plugin is not loaded or does not know the request. */
static void render_videoroom(GString *out)
{
	const stoa_plugin *p = stoa_plugins_find(VIDEOROOM_PACKAGE);
	if (p == NULL || p->handle_admin_message == NULL)
		return;
	json_t *req = json_pack("{s:s}", "request", "stats");
	json_t *r = p->handle_admin_message(req);
	json_decref(req);
	if (r == NULL)
		return;
	if (g_strcmp0(json_string_value(json_object_get(r, "videoroom")), "stats") == 0) {
		static const struct {
			const char *field, *name, *help;
		} f[] = {
			{ "rooms", "stoa_videoroom_rooms", "VideoRoom rooms." },
			{ "participants", "stoa_videoroom_participants",
			  "Participants (publisher handles that joined) in VideoRoom rooms." },
			{ "publishers", "stoa_videoroom_publishers",
			  "VideoRoom participants that are publishing." },
			{ "subscribers", "stoa_videoroom_subscribers", "VideoRoom subscriber handles." },
		};
		for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
			json_t *v = json_object_get(r, f[i].field);
			if (json_is_integer(v) && json_integer_value(v) >= 0)
				gauge(out, f[i].name, f[i].help, (uint64_t)json_integer_value(v));
		}
		static const struct {
			const char *field, *name, *help;
		} c[] = {
			{ "keyframe_waits", "stoa_videoroom_keyframe_waits_total",
			  "Times a congested VideoRoom subscriber stream started dropping video up "
			  "to the next keyframe." },
			{ "keyframe_wait_drops", "stoa_videoroom_keyframe_wait_dropped_packets_total",
			  "Video packets VideoRoom subscriber streams dropped while waiting for a "
			  "keyframe." },
		};
		for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
			json_t *v = json_object_get(r, c[i].field);
			if (json_is_integer(v) && json_integer_value(v) >= 0) {
				family(out, c[i].name, "counter", c[i].help);
				sample(out, c[i].name, NULL, (uint64_t)json_integer_value(v));
			}
		}
	}
	json_decref(r);
}

char *stoa_metrics_render(void)
{
	GString *out = g_string_sized_new(8192);
	gauge(out, "stoa_sessions", "Janus API sessions that exist.", stoa_sessions_count());
	gauge(out, "stoa_handles", "Handles (plugin attachments) in those sessions.",
	      stoa_handles_count());
	render_pcs(out);
	render_videoroom(out);
	render_media(out);
	render_loops(out);
	render_api(out);
	return g_string_free(out, FALSE);
}
