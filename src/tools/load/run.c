/*
 * run.c: one load test, start to end; see run.h.
 *
 * The main thread runs a GMainLoop with three timers: a control tick
 * (CONTROL_MS) that moves the run through its phases and starts viewers at
 * the ramp rate, the statistics tick (once a second), and SIGINT/SIGTERM.
 * It never touches a peer's internals: it starts, stops and kills peers
 * through their workers and reads their counters.
 *
 * Ending, in order: viewers destroy their sessions; then publishers
 * destroy their rooms and sessions; a peer that does not finish in time is
 * killed (its WebSocket closed, which makes the server clean up); then
 * the WebSocket client stops, the workers run their last jobs and stop,
 * the summary is printed from the final counters, and everything is freed.
 */
#include "run.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib-unix.h>

#include "dtls.h"
#include "publisher.h"
#include "srtp_session.h"
#include "stats.h"
#include "viewer.h"

#define CONTROL_MS 20
#define PUBLISH_TIMEOUT_US (30 * G_USEC_PER_SEC)
#define VIEWER_LEAVE_US (4 * G_USEC_PER_SEC)
#define KILL_AFTER_US (8 * G_USEC_PER_SEC)
#define GIVE_UP_US (10 * G_USEC_PER_SEC)
#define DRAIN_US (3 * G_USEC_PER_SEC)

typedef struct run_timers {
	guint control, stats, sigint, sigterm;
	bool publishers_stopped;
} run_timers;

static run_timers timers;

/* ------------------------------------------------------------ set-up */

static void raise_fd_limit(void)
{
	/* Each viewer holds a UDP socket and a TCP connection. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int load_media(load_run *r)
{
	char err[256];
	if (load_ivf_read(r->opts->video, &r->video, err, sizeof(err)) < 0) {
		load_log("%s: %s", r->opts->video, err);
		return -1;
	}
	if (r->opts->audio != NULL) {
		if (load_ogg_opus_read(r->opts->audio, &r->audio, err, sizeof(err)) < 0) {
			load_log("%s: %s", r->opts->audio, err);
			return -1;
		}
		r->have_audio = true;
	}
	return 0;
}

static void pick_rooms(load_run *r)
{
	r->n_rooms = r->opts->rooms;
	r->rooms = g_new0(uint64_t, r->n_rooms);
	uint64_t base = r->opts->room_id;
	if (base == 0)
		base = (uint64_t)g_random_int_range(1, G_MAXINT32 - 1000000);
	for (int i = 0; i < r->n_rooms; i++)
		r->rooms[i] = base + (uint64_t)i;
}

static int setup(load_run *r)
{
	char err[256];
	raise_fd_limit();
	if (load_media(r) < 0)
		return -1;
	if (load_dtls_global_init(err, sizeof(err)) < 0) {
		load_log("%s", err);
		return -1;
	}
	r->dtls_ready = true;
	if (load_srtp_global_init() < 0) {
		load_log("srtp_init failed");
		return -1;
	}
	r->srtp_ready = true;
	r->ws = load_ws_new(r->opts->server, err, sizeof(err));
	if (r->ws == NULL) {
		load_log("%s", err);
		return -1;
	}
	r->n_workers = r->opts->threads;
	r->workers = g_new0(load_worker *, r->n_workers);
	for (int i = 0; i < r->n_workers; i++)
		r->workers[i] = load_worker_new(i);
	pick_rooms(r);
	r->n_viewers = r->opts->viewers;
	r->viewers = g_new0(load_viewer *, r->n_viewers > 0 ? r->n_viewers : 1);
	r->unstarted = g_new0(load_fail, r->n_viewers > 0 ? r->n_viewers : 1);
	r->stats = load_stats_new(r, err, sizeof(err));
	if (r->stats == NULL) {
		load_log("%s", err);
		return -1;
	}
	return 0;
}

static void start_publishers(load_run *r)
{
	int per_room = r->opts->publishers;
	r->n_pubs = r->n_rooms * per_room;
	r->pubs = g_new0(load_publisher *, r->n_pubs);
	for (int i = 0; i < r->n_pubs; i++) {
		int room = i / per_room;
		r->pubs[i] = load_publisher_new(r, r->workers[i % r->n_workers], i, room,
						r->rooms[room]);
		load_peer_start(&r->pubs[i]->peer, r->ws);
	}
	r->t_begin_us = g_get_monotonic_time();
}

/* ------------------------------------------------------------ phases */

/* The publisher viewer i watches: rooms round-robin, then the room's
 * publishers round-robin; another ready one of the room if it is down. */
static load_publisher *publisher_for(load_run *r, int i)
{
	int per_room = r->opts->publishers;
	int room = i % r->n_rooms;
	int k = (i / r->n_rooms) % per_room;
	for (int n = 0; n < per_room; n++) {
		load_publisher *p = r->pubs[room * per_room + (k + n) % per_room];
		if (LOAD_RD(p->ready) && load_peer_failure(&p->peer) == LOAD_FAIL_NONE)
			return p;
	}
	return NULL;
}

static void start_viewer(load_run *r, int i)
{
	load_publisher *p = publisher_for(r, i);
	if (p == NULL) {
		r->unstarted[i] = LOAD_FAIL_NO_PUBLISHER;
		return;
	}
	load_worker *w = r->workers[i % r->n_workers];
	load_viewer *v = load_viewer_new(r, w, i, p->room, LOAD_RD(p->feed_id));
	r->viewers[i] = v;
	load_peer_start(&v->peer, r->ws);
}

static void ramp(load_run *r, int64_t now)
{
	double secs = (double)(now - r->t_ramp_us) / G_USEC_PER_SEC;
	int target = (int)(secs * r->opts->ramp) + 1;
	if (target > r->n_viewers)
		target = r->n_viewers;
	while (r->viewers_started < target)
		start_viewer(r, r->viewers_started++);
	if (r->viewers_started >= r->n_viewers)
		r->phase = LOAD_PHASE_RUNNING;
}

static void begin_stop(load_run *r, const char *why)
{
	int64_t now = g_get_monotonic_time();
	if (r->phase >= LOAD_PHASE_STOPPING)
		return;
	if (why != NULL)
		load_log("stopping: %s", why);
	for (int i = r->viewers_started; i < r->n_viewers; i++)
		r->unstarted[i] = r->phase == LOAD_PHASE_PUBLISHING ? LOAD_FAIL_NO_PUBLISHER
								    : LOAD_FAIL_NOT_STARTED;
	load_stats_stop(r->stats, now);
	r->phase = LOAD_PHASE_STOPPING;
	r->t_stop_us = now;
	for (int i = 0; i < r->viewers_started; i++)
		if (r->viewers[i] != NULL)
			load_peer_stop(&r->viewers[i]->peer);
}

static bool viewers_done(load_run *r)
{
	for (int i = 0; i < r->n_viewers; i++)
		if (r->viewers[i] != NULL && !load_peer_done(&r->viewers[i]->peer))
			return false;
	return true;
}

static bool publishers_done(load_run *r)
{
	for (int i = 0; i < r->n_pubs; i++)
		if (!load_peer_done(&r->pubs[i]->peer))
			return false;
	return true;
}

static void kill_all(load_run *r)
{
	for (int i = 0; i < r->n_viewers; i++)
		if (r->viewers[i] != NULL && !load_peer_done(&r->viewers[i]->peer))
			load_peer_kill(&r->viewers[i]->peer);
	for (int i = 0; i < r->n_pubs; i++)
		if (!load_peer_done(&r->pubs[i]->peer))
			load_peer_kill(&r->pubs[i]->peer);
}

static void stopping(load_run *r, int64_t now)
{
	int64_t t = now - r->t_stop_us;
	if (!timers.publishers_stopped && (viewers_done(r) || t > VIEWER_LEAVE_US)) {
		timers.publishers_stopped = true;
		for (int i = 0; i < r->n_pubs; i++)
			load_peer_stop(&r->pubs[i]->peer);
	}
	if (timers.publishers_stopped && viewers_done(r) && publishers_done(r)) {
		r->phase = LOAD_PHASE_DONE;
		g_main_loop_quit(r->loop);
	} else if (t > GIVE_UP_US) {
		load_log("some peers did not end; giving up on them");
		r->phase = LOAD_PHASE_DONE;
		g_main_loop_quit(r->loop);
	} else if (t > KILL_AFTER_US) {
		kill_all(r);
	}
}

static void publishing(load_run *r, int64_t now)
{
	int ready = 0, failed = 0;
	for (int i = 0; i < r->n_pubs; i++) {
		if (load_peer_failure(&r->pubs[i]->peer) != LOAD_FAIL_NONE)
			failed++;
		else if (LOAD_RD(r->pubs[i]->ready))
			ready++;
	}
	if (ready + failed < r->n_pubs && now - r->t_begin_us < PUBLISH_TIMEOUT_US)
		return;
	if (ready == 0) {
		begin_stop(r, "no publisher came up");
		return;
	}
	load_stats_baseline(r->stats);
	r->phase = r->n_viewers > 0 ? LOAD_PHASE_RAMP : LOAD_PHASE_RUNNING;
	r->t_ramp_us = now;
}

static bool everyone_failed(load_run *r)
{
	if (r->phase != LOAD_PHASE_RUNNING || r->n_viewers == 0)
		return false;
	for (int i = 0; i < r->n_viewers; i++)
		if (r->viewers[i] != NULL && load_peer_failure(&r->viewers[i]->peer) == LOAD_FAIL_NONE)
			return false;
	return true;
}

static gboolean on_control(gpointer data)
{
	load_run *r = data;
	int64_t now = g_get_monotonic_time();
	switch (r->phase) {
	case LOAD_PHASE_PUBLISHING: publishing(r, now); break;
	case LOAD_PHASE_RAMP: ramp(r, now); break;
	case LOAD_PHASE_RUNNING: break;
	case LOAD_PHASE_STOPPING: stopping(r, now); return G_SOURCE_CONTINUE;
	case LOAD_PHASE_DONE: return G_SOURCE_CONTINUE;
	}
	if ((r->phase == LOAD_PHASE_RAMP || r->phase == LOAD_PHASE_RUNNING) &&
	    now - r->t_ramp_us >= (int64_t)(r->opts->duration * G_USEC_PER_SEC))
		begin_stop(r, NULL);
	else if (everyone_failed(r))
		begin_stop(r, "every viewer failed");
	return G_SOURCE_CONTINUE;
}

static gboolean on_stats(gpointer data)
{
	load_run *r = data;
	if (r->phase < LOAD_PHASE_STOPPING)
		load_stats_tick(r->stats, g_get_monotonic_time());
	return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
	load_run *r = data;
	if (++r->signals == 1) {
		begin_stop(r, "interrupted");
	} else {
		load_log("interrupted again: ending now");
		kill_all(r);
		r->phase = LOAD_PHASE_DONE;
		g_main_loop_quit(r->loop);
	}
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ tear-down */

/* Waits (briefly) until the kills posted to the workers have run. */
static void drain(load_run *r)
{
	int64_t end = g_get_monotonic_time() + DRAIN_US;
	kill_all(r);
	while (g_get_monotonic_time() < end && !(viewers_done(r) && publishers_done(r)))
		g_usleep(10000);
}

static void free_peers(load_run *r)
{
	for (int i = 0; i < r->n_viewers; i++)
		if (r->viewers[i] != NULL)
			load_peer_unref(&r->viewers[i]->peer);
	for (int i = 0; i < r->n_pubs; i++)
		load_peer_unref(&r->pubs[i]->peer);
	g_free(r->viewers);
	g_free(r->pubs);
	g_free(r->unstarted);
}

static void teardown(load_run *r)
{
	if (r->workers != NULL) {
		drain(r);
		/* Closes the remaining connections; their jobs reach the workers. */
		load_ws_free(r->ws);
		r->ws = NULL;
		for (int i = 0; i < r->n_workers; i++)
			load_worker_stop(r->workers[i]);
	}
	load_ws_free(r->ws);
}

static void free_run(load_run *r)
{
	free_peers(r);
	for (int i = 0; i < r->n_workers; i++)
		load_worker_free(r->workers[i]);
	g_free(r->workers);
	load_stats_free(r->stats);
	g_free(r->rooms);
	load_track_clear(&r->video);
	load_track_clear(&r->audio);
	if (r->dtls_ready)
		load_dtls_global_free();
	if (r->srtp_ready)
		load_srtp_global_free();
	g_free(r);
}

static void run_loop(load_run *r)
{
	r->loop = g_main_loop_new(NULL, FALSE);
	timers.control = g_timeout_add(CONTROL_MS, on_control, r);
	timers.stats = g_timeout_add(1000, on_stats, r);
	timers.sigint = g_unix_signal_add(SIGINT, on_signal, r);
	timers.sigterm = g_unix_signal_add(SIGTERM, on_signal, r);
	start_publishers(r);
	g_main_loop_run(r->loop);
	g_source_remove(timers.control);
	g_source_remove(timers.stats);
	g_source_remove(timers.sigint);
	g_source_remove(timers.sigterm);
	g_main_loop_unref(r->loop);
}

int load_run_main(load_opts *o)
{
	load_run *r = g_new0(load_run, 1);
	r->opts = o;
	load_set_quiet(o->quiet);
	int status = 1;
	if (setup(r) == 0) {
		run_loop(r);
		teardown(r);
		status = load_stats_summary(r->stats);
	} else {
		teardown(r);
	}
	free_run(r);
	return status;
}
