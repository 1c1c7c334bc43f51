/*
 * summary.c: the end-of-run summary (a table on stdout, an object in the
 * JSON file) and the exit status; see docs/load-testing.md for what each
 * figure means. Main thread, after every worker has stopped, so the
 * counters are final.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "publisher.h"
#include "stats.h"
#include "viewer.h"

typedef struct join_times {
	int n;
	double p50, p99, max;	/* milliseconds */
} join_times;

/* One interval of a viewer's join, between two of its timestamps. */
typedef struct join_step {
	const char *name;	/* JSON key */
	const char *label;	/* summary table */
	size_t from, to;	/* offsetof(load_viewer, t_..._us) */
} join_step;

static const join_step join_steps[] = {
	{"join_to_offer_ms", "join -> server offer", offsetof(load_viewer, t_join_us),
	 offsetof(load_viewer, t_offer_us)},
	{"start_to_started_ms", "start -> \"started\"", offsetof(load_viewer, t_start_us),
	 offsetof(load_viewer, t_started_us)},
	{"start_to_media_ms", "start -> DTLS up", offsetof(load_viewer, t_start_us),
	 offsetof(load_viewer, t_media_us)},
	{"connect_to_first_rtp_ms", "connect -> 1st RTP", offsetof(load_viewer, t_begin_us),
	 offsetof(load_viewer, t_first_us)},
};

typedef struct steady {
	bool ok;
	double secs, pps;
	double server_cpu_pct, tool_cpu_pct;	/* < 0: unknown */
	double us_per_packet;			/* < 0: unknown */
} steady;

typedef struct pub_totals {
	int ready;
	uint64_t frames, keyframes, packets, stalls, send_errors, retransmits;
} pub_totals;

static json_t *num_or_null(double v, bool ok)
{
	return ok && !isnan(v) ? json_real(v) : json_null();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, int n, double p)
{
	int i = (int)ceil(p / 100.0 * n) - 1;
	return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static int64_t viewer_time(const load_viewer *v, size_t off)
{
	const int64_t *t = (const int64_t *)(const void *)((const char *)v + off);
	return LOAD_RD(*t);
}

/* Percentiles of to - from over the viewers that reached both. */
static void percentiles_between(load_run *r, size_t from, size_t to, join_times *j)
{
	double *ms = g_new(double, r->n_viewers > 0 ? r->n_viewers : 1);
	int n = 0;
	for (int i = 0; i < r->n_viewers; i++) {
		load_viewer *v = r->viewers[i];
		int64_t a = v != NULL ? viewer_time(v, from) : 0;
		int64_t b = v != NULL ? viewer_time(v, to) : 0;
		if (a > 0 && b > 0)
			ms[n++] = (double)(b - a) / 1000.0;
	}
	memset(j, 0, sizeof(*j));
	j->n = n;
	if (n > 0) {
		qsort(ms, (size_t)n, sizeof(double), cmp_double);
		j->p50 = percentile(ms, n, 50);
		j->p99 = percentile(ms, n, 99);
		j->max = ms[n - 1];
	}
	g_free(ms);
}

static void join_percentiles(load_run *r, join_times *j)
{
	percentiles_between(r, offsetof(load_viewer, t_start_us), offsetof(load_viewer, t_first_us),
			    j);
}

static json_t *times_json(const join_times *j)
{
	return json_pack("{s:i, s:o, s:o, s:o}", "n", j->n, "p50", num_or_null(j->p50, j->n > 0),
			 "p99", num_or_null(j->p99, j->n > 0), "max", num_or_null(j->max, j->n > 0));
}

static void print_steps(load_run *r)
{
	for (size_t i = 0; i < G_N_ELEMENTS(join_steps); i++) {
		join_times j;
		percentiles_between(r, join_steps[i].from, join_steps[i].to, &j);
		if (j.n > 0)
			printf("    %-22s p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", join_steps[i].label,
			       j.p50, j.p99, j.max);
	}
}

static json_t *steps_json(load_run *r)
{
	json_t *o = json_object();
	for (size_t i = 0; i < G_N_ELEMENTS(join_steps); i++) {
		join_times j;
		percentiles_between(r, join_steps[i].from, join_steps[i].to, &j);
		json_object_set_new(o, join_steps[i].name, times_json(&j));
	}
	return o;
}

static void steady_figures(load_stats *s, steady *w)
{
	memset(w, 0, sizeof(*w));
	w->server_cpu_pct = w->tool_cpu_pct = w->us_per_packet = -1;
	if (!s->steady_closed || s->steady_end_us <= s->steady_start_us)
		return;
	w->ok = true;
	int64_t dt = s->steady_end_us - s->steady_start_us;
	uint64_t packets = s->steady_packets1 - s->steady_packets0;
	w->secs = (double)dt / G_USEC_PER_SEC;
	w->pps = (double)packets / w->secs;
	if (s->steady_server0.ok && s->steady_server1.ok) {
		double cpu = (double)(s->steady_server1.cpu_us - s->steady_server0.cpu_us);
		w->server_cpu_pct = 100.0 * cpu / (double)dt;
		if (packets > 0)
			w->us_per_packet = cpu / (double)packets;
	}
	if (s->steady_self0.ok && s->steady_self1.ok)
		w->tool_cpu_pct = 100.0 * (double)(s->steady_self1.cpu_us - s->steady_self0.cpu_us) /
				  (double)dt;
}

static void publisher_totals(load_run *r, pub_totals *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < r->n_pubs; i++) {
		load_publisher *pub = r->pubs[i];
		p->ready += LOAD_RD(pub->ready) ? 1 : 0;
		p->frames += LOAD_RD(pub->frames);
		p->keyframes += LOAD_RD(pub->keyframes);
		p->packets += LOAD_RD(pub->video.packets) + LOAD_RD(pub->audio.packets);
		p->stalls += LOAD_RD(pub->stalls);
		p->send_errors += LOAD_RD(pub->send_errors);
		p->retransmits += LOAD_RD(pub->retransmits);
	}
}

static double rss_growth(load_stats *s, const load_totals *t)
{
	if (!s->have_before || s->rss_after_kb <= 0 || t->joined <= 0)
		return NAN;
	return (double)(s->rss_after_kb - s->rss_before_kb) / t->joined;
}

static void print_failures(const load_totals *t)
{
	bool any = false;
	printf("    by reason              ");
	for (int f = 1; f < LOAD_FAIL_COUNT; f++) {
		if (t->fail_by[f] == 0)
			continue;
		printf("%s%s %d", any ? ", " : "", load_fail_name((load_fail)f), t->fail_by[f]);
		any = true;
	}
	printf("\n");
}

/* The SRTP profile most viewers negotiated (bench_floor's names), or NULL. */
static const char *srtp_profile(load_run *r)
{
	int gcm = 0, cm = 0;
	for (int i = 0; i < r->n_viewers; i++) {
		load_viewer *v = r->viewers[i];
		if (v != NULL && v->t_media_us > 0)
			*(v->tr.gcm ? &gcm : &cm) += 1;
	}
	if (gcm + cm == 0)
		return NULL;
	return gcm >= cm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
}

static void print_table(load_stats *s, const load_totals *t, const join_times *j, const steady *w,
			const pub_totals *p, double loss, bool pass)
{
	load_run *r = s->run;
	printf("\nstoa-load summary: %s, %d room(s) x %d publisher(s), %d viewers\n",
	       r->opts->server, r->n_rooms, r->opts->publishers, r->n_viewers);
	printf("  viewers requested        %d\n", r->n_viewers);
	printf("  joined                   %d\n", t->joined);
	printf("  receiving                %d\n", t->receiving);
	printf("  failed                   %d\n", t->failed);
	if (t->failed > 0)
		print_failures(t);
	printf("  packets received         %" G_GUINT64_FORMAT " (%.1f MB), fewest per viewer %"
	       G_GUINT64_FORMAT "\n", t->packets, (double)t->bytes / 1e6, t->min_packets);
	printf("  loss                     %.3f %% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
	       " expected)\n", loss, t->lost, t->expected);
	if (j->n > 0) {
		printf("  join (start -> 1st RTP)  p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d viewers)\n",
		       j->p50, j->p99, j->max, j->n);
		print_steps(r);
	}
	if (srtp_profile(r) != NULL)
		printf("  SRTP profile             %s\n", srtp_profile(r));
	if (w->ok)
		printf("  steady window            %.1f s, %.0f packets/s received\n", w->secs, w->pps);
	else
		printf("  steady window            none (the run ended before every viewer settled)\n");
	if (w->server_cpu_pct >= 0)
		printf("  server CPU               %.1f %%, %.2f us per forwarded packet\n",
		       w->server_cpu_pct, w->us_per_packet);
	if (s->have_before)
		printf("  server RSS               %.1f MB before, %.1f MB after all joined, %.1f MB "
		       "peak, %.1f KB per viewer\n", s->rss_before_kb / 1024.0,
		       s->rss_after_kb / 1024.0, s->rss_peak_kb / 1024.0, rss_growth(s, t));
	if (w->tool_cpu_pct >= 0)
		printf("  stoa-load CPU, RSS       %.1f %%, %.1f MB\n", w->tool_cpu_pct,
		       s->steady_self1.rss_kb / 1024.0);
	printf("  publishers               %d/%d up, %" G_GUINT64_FORMAT " frames (%" G_GUINT64_FORMAT
	       " keyframes), %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT " resent, %"
	       G_GUINT64_FORMAT " stalls\n", p->ready, r->n_pubs, p->frames, p->keyframes,
	       p->packets, p->retransmits, p->stalls);
	printf("  server events            webrtcup %" G_GUINT64_FORMAT ", hangup %" G_GUINT64_FORMAT
	       ", detached %" G_GUINT64_FORMAT ", errors %" G_GUINT64_FORMAT ", PLI/FIR %"
	       G_GUINT64_FORMAT ", NACK %" G_GUINT64_FORMAT "\n", load_get(webrtcup),
	       load_get(hangups), load_get(detached), load_get(errors), load_get(pli_in),
	       load_get(nack_in));
	printf("  result                   %s\n", pass ? "PASS" : "FAIL");
	fflush(stdout);
}

static json_t *events_json(void)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "webrtcup", (json_int_t)load_get(webrtcup), "hangup",
			 (json_int_t)load_get(hangups), "detached", (json_int_t)load_get(detached),
			 "errors", (json_int_t)load_get(errors), "media",
			 (json_int_t)load_get(media), "slowlink", (json_int_t)load_get(slowlink),
			 "timeout", (json_int_t)load_get(timeouts), "trickle",
			 (json_int_t)load_get(trickles), "updated", (json_int_t)load_get(updated),
			 "bad_messages", (json_int_t)load_get(bad_messages), "srtp_auth_fail",
			 (json_int_t)load_get(srtp_auth_fail), "pli_fir_in",
			 (json_int_t)load_get(pli_in), "nack_in", (json_int_t)load_get(nack_in),
			 "unknown_ssrc", (json_int_t)load_get(unknown_ssrc));
}

static json_t *failures_json(const load_totals *t)
{
	json_t *o = json_object();
	for (int f = 1; f < LOAD_FAIL_COUNT; f++)
		if (t->fail_by[f] > 0)
			json_object_set_new(o, load_fail_name((load_fail)f),
					    json_integer(t->fail_by[f]));
	return o;
}

static void write_json(load_stats *s, const load_totals *t, const join_times *j,
		       const steady *w, const pub_totals *p, double loss, bool pass)
{
	load_run *r = s->run;
	json_t *o = json_pack("{s:b, s:i, s:i, s:i, s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:f}",
			      "summary", 1, "viewers_requested", r->n_viewers, "joined", t->joined,
			      "receiving", t->receiving, "failed", t->failed, "failed_by",
			      failures_json(t), "packets", (json_int_t)t->packets, "bytes",
			      (json_int_t)t->bytes, "expected", (json_int_t)t->expected, "lost",
			      (json_int_t)t->lost, "viewer_packets_min", (json_int_t)t->min_packets,
			      "loss_pct", loss);
	json_object_set_new(o, "join_ms", times_json(j));
	json_object_set_new(o, "join_steps", steps_json(r));
	json_object_set_new(o, "steady_s", num_or_null(w->secs, w->ok));
	json_object_set_new(o, "steady_pps", num_or_null(w->pps, w->ok));
	json_object_set_new(o, "server_cpu_pct", num_or_null(w->server_cpu_pct, w->server_cpu_pct >= 0));
	json_object_set_new(o, "server_cpu_us_per_packet",
			    num_or_null(w->us_per_packet, w->us_per_packet >= 0));
	json_object_set_new(o, "tool_cpu_pct", num_or_null(w->tool_cpu_pct, w->tool_cpu_pct >= 0));
	json_object_set_new(o, "tool_rss_kb", s->steady_self1.ok ? json_integer(s->steady_self1.rss_kb)
								  : json_null());
	json_object_set_new(o, "server_rss_kb_before", s->have_before ? json_integer(s->rss_before_kb)
								     : json_null());
	json_object_set_new(o, "server_rss_kb_after", s->rss_after_kb > 0 ? json_integer(s->rss_after_kb)
									   : json_null());
	json_object_set_new(o, "server_rss_kb_peak", s->rss_peak_kb > 0 ? json_integer(s->rss_peak_kb)
									 : json_null());
	json_object_set_new(o, "rss_growth_kb_per_viewer", num_or_null(rss_growth(s, t), true));
	json_object_set_new(o, "publishers",
			    json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "requested",
				      r->n_pubs, "ready", p->ready, "frames", (json_int_t)p->frames,
				      "keyframes", (json_int_t)p->keyframes, "packets",
				      (json_int_t)p->packets, "retransmits",
				      (json_int_t)p->retransmits, "stalls", (json_int_t)p->stalls,
				      "send_errors", (json_int_t)p->send_errors));
	json_object_set_new(o, "events", events_json());
	const char *profile = srtp_profile(r);
	json_object_set_new(o, "srtp_profile", profile != NULL ? json_string(profile) : json_null());
	json_object_set_new(o, "pass", json_boolean(pass));
	json_object_set_new(o, "exit_status", json_integer(pass ? 0 : 1));
	json_dumpf(o, s->json, JSON_COMPACT);
	fputc('\n', s->json);
	fflush(s->json);
	json_decref(o);
}

static json_t *ms_since(const load_viewer *v, int64_t t)
{
	return t > 0 ? json_real((double)(t - v->t_begin_us) / 1000.0) : json_null();
}

/* One line per viewer: when each step happened (ms from its connect). */
static void write_viewer_lines(load_stats *s)
{
	load_run *r = s->run;
	for (int i = 0; i < r->n_viewers; i++) {
		load_viewer *v = r->viewers[i];
		if (v == NULL)
			continue;
		uint64_t packets = 0, lost = 0;
		for (int k = 0; k < v->n_streams; k++) {
			packets += v->streams[k].packets;
			lost += load_rx_stream_lost(&v->streams[k]);
		}
		json_t *o = json_pack("{s:i, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "viewer", i,
				      "fail", load_fail_name(load_peer_failure(&v->peer)), "packets",
				      (json_int_t)packets, "lost", (json_int_t)lost, "join_ms",
				      ms_since(v, v->t_join_us), "offer_ms", ms_since(v, v->t_offer_us),
				      "start_ms", ms_since(v, v->t_start_us), "started_ms",
				      ms_since(v, v->t_started_us), "media_ms",
				      ms_since(v, v->t_media_us), "first_rtp_ms",
				      ms_since(v, v->t_first_us));
		json_dumpf(o, s->json, JSON_COMPACT);
		fputc('\n', s->json);
		json_decref(o);
	}
}

int load_stats_summary(load_stats *s)
{
	load_run *r = s->run;
	const load_totals *t = &s->final;
	join_times j;
	steady w;
	pub_totals p;
	join_percentiles(r, &j);
	steady_figures(s, &w);
	publisher_totals(r, &p);
	double loss = t->expected > 0 ? 100.0 * (double)t->lost / (double)t->expected : 0.0;
	bool pass = t->receiving == r->n_viewers && loss < r->opts->max_loss &&
		    (r->n_viewers > 0 || p.ready == r->n_pubs);
	print_table(s, t, &j, &w, &p, loss, pass);
	if (s->json != NULL && r->opts->json_viewers)
		write_viewer_lines(s);
	if (s->json != NULL)
		write_json(s, t, &j, &w, &p, loss, pass);
	return pass ? 0 : 1;
}
