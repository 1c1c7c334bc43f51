/*
 * run.h: one load test from start to summary, driven from the main
 * thread's GMainLoop: publishers first (each room created and published),
 * then the viewer ramp (--ramp joins a second), the steady part until
 * --duration, and the orderly end (sessions destroyed, rooms destroyed,
 * everything freed), then the summary.
 *
 * The run owns every object of the tool: options, media, workers, the
 * WebSocket client, peers and statistics. Peers hold a borrowed pointer
 * to it and read only `opts`, the media tracks and their own entries.
 */
#ifndef LOAD_RUN_H
#define LOAD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "load.h"
#include "media.h"
#include "options.h"
#include "worker.h"
#include "ws.h"

typedef struct load_publisher load_publisher;
typedef struct load_viewer load_viewer;
typedef struct load_stats load_stats;
typedef struct load_run load_run;

typedef enum load_phase {
	LOAD_PHASE_PUBLISHING,	/* waiting for every publisher to be up */
	LOAD_PHASE_RAMP,	/* starting viewers */
	LOAD_PHASE_RUNNING,	/* all viewers started */
	LOAD_PHASE_STOPPING,	/* peers leaving */
	LOAD_PHASE_DONE,
} load_phase;

struct load_run {
	load_opts *opts;
	load_track video, audio;
	bool have_audio;
	int n_workers;
	load_worker **workers;
	load_ws *ws;
	int n_rooms;
	uint64_t *rooms;
	int n_pubs;		/* rooms * publishers, room-major */
	load_publisher **pubs;
	int n_viewers;		/* requested */
	load_viewer **viewers;	/* NULL until started */
	load_fail *unstarted;	/* why a viewer never started */
	int viewers_started;
	load_stats *stats;
	GMainLoop *loop;
	load_phase phase;
	int64_t t_begin_us;	/* publishers started */
	int64_t t_ramp_us;	/* first viewer started */
	int64_t t_stop_us;	/* stopping began */
	int signals;
	bool dtls_ready, srtp_ready;	/* global set-up done, to undo */
};

/* Runs a whole test; returns the exit status. Main thread. */
int load_run_main(load_opts *o);

#endif
