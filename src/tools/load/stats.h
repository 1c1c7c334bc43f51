/*
 * stats.h: what the run measures, on the main thread only.
 *
 * Once a second load_stats_tick() sums every viewer's counters (relaxed
 * atomic reads of what the workers write), samples the server's and the
 * tool's CPU and RSS, prints the progress line and writes a JSON line.
 *
 * The steady window is where "server CPU per forwarded packet" is measured:
 * it opens at the first tick at which every viewer has started and is
 * either receiving or failed (or 10 s after the last one started), and
 * closes when the run begins to stop. RSS "after" is taken when it opens,
 * RSS "before" just before the first viewer starts.
 *
 * A viewer is "receiving" when every stream of its offer has had a packet
 * and its packet count grew within the last 2 s, and it has not failed.
 */
#ifndef LOAD_STATS_H
#define LOAD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "load.h"
#include "procstat.h"
#include "run.h"

typedef struct load_totals {
	int started, joined, media_up, receiving, failed;
	int fail_by[LOAD_FAIL_COUNT];
	uint64_t packets, bytes, expected, lost, reordered;
	uint64_t min_packets;	/* fewest packets of any started viewer */
	int pubs_ready;
} load_totals;

struct load_stats {
	load_run *run;
	FILE *json;
	uint64_t *last_packets;	/* per viewer */
	int64_t *last_change_us;
	load_totals now;	/* the latest tick */
	load_totals final;	/* when stopping began */
	int64_t t0_us;
	/* Previous tick, for rates. */
	int64_t prev_us;
	uint64_t prev_packets, prev_bytes, prev_expected, prev_lost;
	load_proc prev_server, prev_self;
	/* Steady window. */
	bool steady_open, steady_closed;
	int64_t steady_start_us, steady_end_us;
	uint64_t steady_packets0, steady_packets1;
	load_proc steady_server0, steady_server1, steady_self0, steady_self1;
	/* Memory. */
	long rss_before_kb, rss_after_kb, rss_peak_kb;
	bool have_before;
};

load_stats *load_stats_new(load_run *r, char *err, size_t errlen);
void load_stats_free(load_stats *s);

/* Just before the first viewer starts: the server's RSS "before". */
void load_stats_baseline(load_stats *s);

void load_stats_tick(load_stats *s, int64_t now_us);

/* The run begins to stop: closes the steady window, keeps the totals. */
void load_stats_stop(load_stats *s, int64_t now_us);

/* Prints the summary (stdout, and the JSON file); returns the exit status. */
int load_stats_summary(load_stats *s);

/* Sums the viewers' counters as of now (also used by the run). */
void load_stats_collect(load_stats *s, int64_t now_us, load_totals *t);

#endif
