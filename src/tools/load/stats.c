/*
 * stats.c: per-second collection, the progress line and the JSON lines;
 * see stats.h. The summary is in summary.c.
 */
#include "stats.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "publisher.h"
#include "viewer.h"

#define RECEIVING_WINDOW_US (2 * G_USEC_PER_SEC)
#define SETTLE_US (10 * G_USEC_PER_SEC)

/* The server's figures; not ok without --server-pid. */
static void read_server(load_stats *s, load_proc *p)
{
	if (s->run->opts->server_pid > 0)
		load_proc_read(s->run->opts->server_pid, p);
	else
		memset(p, 0, sizeof(*p));
}

load_stats *load_stats_new(load_run *r, char *err, size_t errlen)
{
	load_stats *s = g_new0(load_stats, 1);
	s->run = r;
	if (r->opts->json != NULL) {
		s->json = fopen(r->opts->json, "w");
		if (s->json == NULL) {
			snprintf(err, errlen, "%s: %s", r->opts->json, strerror(errno));
			g_free(s);
			return NULL;
		}
	}
	s->last_packets = g_new0(uint64_t, r->n_viewers > 0 ? r->n_viewers : 1);
	s->last_change_us = g_new0(int64_t, r->n_viewers > 0 ? r->n_viewers : 1);
	s->t0_us = g_get_monotonic_time();
	s->prev_us = s->t0_us;
	read_server(s, &s->prev_server);
	load_proc_read(0, &s->prev_self);
	return s;
}

void load_stats_free(load_stats *s)
{
	if (s == NULL)
		return;
	if (s->json != NULL)
		fclose(s->json);
	g_free(s->last_packets);
	g_free(s->last_change_us);
	g_free(s);
}

static void add_viewer(load_stats *s, int i, load_viewer *v, int64_t now, load_totals *t)
{
	load_fail f = load_peer_failure(&v->peer);
	int streams;
	int started = load_viewer_streams_started(v, &streams);
	uint64_t packets = 0;
	t->started++;
	if (f != LOAD_FAIL_NONE) {
		t->failed++;
		t->fail_by[f]++;
	}
	t->joined += LOAD_RD(v->joined) ? 1 : 0;
	t->media_up += LOAD_RD(v->media_up) ? 1 : 0;
	for (int k = 0; k < streams; k++) {
		const load_rx_stream *st = &v->streams[k];
		packets += LOAD_RD(st->packets);
		t->bytes += LOAD_RD(st->bytes);
		t->expected += load_rx_stream_expected(st);
		t->lost += load_rx_stream_lost(st);
	}
	t->packets += packets;
	if (packets < t->min_packets)
		t->min_packets = packets;
	if (packets != s->last_packets[i]) {
		s->last_packets[i] = packets;
		s->last_change_us[i] = now;
	}
	if (f == LOAD_FAIL_NONE && streams > 0 && started == streams &&
	    now - s->last_change_us[i] <= RECEIVING_WINDOW_US)
		t->receiving++;
}

void load_stats_collect(load_stats *s, int64_t now, load_totals *t)
{
	load_run *r = s->run;
	memset(t, 0, sizeof(*t));
	t->min_packets = UINT64_MAX;
	for (int i = 0; i < r->n_viewers; i++) {
		if (r->viewers[i] != NULL) {
			add_viewer(s, i, r->viewers[i], now, t);
		} else if (r->unstarted[i] != LOAD_FAIL_NONE) {
			t->failed++;
			t->fail_by[r->unstarted[i]]++;
			t->min_packets = 0;
		}
	}
	if (t->min_packets == UINT64_MAX)
		t->min_packets = 0;
	for (int i = 0; i < r->n_pubs; i++)
		t->pubs_ready += LOAD_RD(r->pubs[i]->ready) ? 1 : 0;
}

void load_stats_baseline(load_stats *s)
{
	load_proc p;
	read_server(s, &p);
	s->rss_before_kb = p.ok ? p.rss_kb : 0;
	s->have_before = p.ok;
}

static bool settled(load_stats *s, const load_totals *t, int64_t now)
{
	load_run *r = s->run;
	if (r->phase != LOAD_PHASE_RUNNING)
		return false;
	int resolved = t->receiving + t->failed;
	return resolved >= r->n_viewers || now - r->t_ramp_us >
		       (int64_t)(r->n_viewers / r->opts->ramp * G_USEC_PER_SEC) + SETTLE_US;
}

static void open_steady(load_stats *s, const load_totals *t, int64_t now,
			const load_proc *server, const load_proc *self)
{
	s->steady_open = true;
	s->steady_start_us = now;
	s->steady_packets0 = t->packets;
	s->steady_server0 = *server;
	s->steady_self0 = *self;
	s->rss_after_kb = server->ok ? server->rss_kb : 0;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static double cpu_pct(const load_proc *a, const load_proc *b, int64_t dt_us)
{
	if (!a->ok || !b->ok || dt_us <= 0)
		return -1;
	return 100.0 * (double)(b->cpu_us - a->cpu_us) / (double)dt_us;
}

static const char *phase_name(load_phase p)
{
	static const char *const names[] = {"publishing", "ramp", "running", "stopping", "done"};
	return names[p];
}

static void write_json_line(load_stats *s, const load_totals *t, double secs, double pps,
			    double mbps, double loss, double scpu, long srss, double tcpu)
{
	json_t *o = json_pack("{s:f, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:f, s:f, s:f, s:f}", "t",
			      secs, "phase", phase_name(s->run->phase), "started", t->started,
			      "joined", t->joined, "receiving", t->receiving, "failed", t->failed,
			      "publishers_ready", t->pubs_ready, "rx_packets",
			      (json_int_t)t->packets, "rx_pps", pps, "rx_mbps", mbps, "loss_pct",
			      loss, "tool_cpu_pct", tcpu);
	json_object_set_new(o, "server_cpu_pct", scpu >= 0 ? json_real(scpu) : json_null());
	json_object_set_new(o, "server_rss_kb", srss >= 0 ? json_integer(srss) : json_null());
	json_dumpf(o, s->json, JSON_COMPACT);
	fputc('\n', s->json);
	fflush(s->json);
	json_decref(o);
}

static void print_line(load_stats *s, const load_totals *t, double secs, double pps, double mbps,
		       double loss, double scpu, long srss, double tcpu)
{
	char server[64] = "";
	if (scpu >= 0)
		snprintf(server, sizeof(server), " | server %.0f%% %ld MB", scpu, srss / 1024);
	fprintf(stderr, "[%5.0fs] %-10s joined %d/%d receiving %d failed %d | rx %.0f pkt/s "
			"%.1f Mbit/s loss %.2f%%%s | tool %.0f%%\n",
		secs, phase_name(s->run->phase), t->joined, s->run->n_viewers, t->receiving,
		t->failed, pps, mbps, loss, server, tcpu);
}

void load_stats_tick(load_stats *s, int64_t now)
{
	load_totals t;
	load_proc server, self;
	load_stats_collect(s, now, &t);
	read_server(s, &server);
	load_proc_read(0, &self);
	int64_t dt = now - s->prev_us;
	double secs = (double)(now - s->t0_us) / G_USEC_PER_SEC;
	double pps = dt > 0 ? (double)(t.packets - s->prev_packets) * G_USEC_PER_SEC / dt : 0;
	double mbps = dt > 0 ? (double)(t.bytes - s->prev_bytes) * 8.0 / dt : 0;
	uint64_t de = t.expected - s->prev_expected;
	uint64_t dl = t.lost >= s->prev_lost ? t.lost - s->prev_lost : 0;
	double loss = pct(dl, de);
	double scpu = cpu_pct(&s->prev_server, &server, dt);
	double tcpu = cpu_pct(&s->prev_self, &self, dt);
	long srss = server.ok ? server.rss_kb : -1;
	if (server.ok && server.rss_kb > s->rss_peak_kb)
		s->rss_peak_kb = server.rss_kb;
	if (!s->steady_open && !s->steady_closed && settled(s, &t, now))
		open_steady(s, &t, now, &server, &self);
	if (!s->run->opts->quiet)
		print_line(s, &t, secs, pps, mbps, loss, scpu, srss, tcpu);
	if (s->json != NULL)
		write_json_line(s, &t, secs, pps, mbps, loss, scpu, srss, tcpu);
	s->now = t;
	s->prev_us = now;
	s->prev_packets = t.packets;
	s->prev_bytes = t.bytes;
	s->prev_expected = t.expected;
	s->prev_lost = t.lost;
	s->prev_server = server;
	s->prev_self = self;
}

void load_stats_stop(load_stats *s, int64_t now)
{
	load_stats_collect(s, now, &s->final);
	if (!s->steady_open)
		return;
	s->steady_open = false;
	s->steady_closed = true;
	s->steady_end_us = now;
	s->steady_packets1 = s->final.packets;
	read_server(s, &s->steady_server1);
	load_proc_read(0, &s->steady_self1);
}
