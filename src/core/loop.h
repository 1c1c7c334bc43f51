/*
 * loop.h: media loops — N threads, each running a GLib main loop on its own
 * GMainContext (Janus calls them event_loops).
 *
 * A peer connection is assigned to one loop for its whole life; that loop's
 * thread is the only writer of its ICE/DTLS/SRTP/RTP state. Other threads
 * hand it work with stoa_loop_post(): posts go to one queue per loop, run in
 * order, and a burst of posts costs one wakeup, not one GSource each.
 * Periodic per-connection work runs from one timer per loop
 * (stoa_loop_tick_add): a timer per peer connection would mean thousands of
 * sources for GLib to scan and as many wakeups a second.
 *
 * Ownership: the loops are created by stoa_loops_start() on the main thread
 * and live until stoa_loops_stop(), which runs what is still posted, quits
 * each loop and joins its thread.
 */
#ifndef STOA_CORE_LOOP_H
#define STOA_CORE_LOOP_H

#include <glib.h>
#include <stdbool.h>

typedef struct stoa_loop stoa_loop;

/* Starts `n` loops (0 = one per online CPU). Main thread. */
int stoa_loops_start(int n);
/* Stops and joins every loop. Main thread; idempotent. */
void stoa_loops_stop(void);

/* The loop with the fewest peer connections (ties: round robin). Any thread.
 * The caller counts its attachment with stoa_loop_attach/detach. */
stoa_loop *stoa_loops_pick(void);
int stoa_loops_count(void);

/* The loop with that index, or NULL (no such loop, or stopping). Any thread. */
stoa_loop *stoa_loops_get(int index);
/* The index of the loop running the calling thread, or -1. */
int stoa_loops_current(void);

void stoa_loop_attach(stoa_loop *l);
void stoa_loop_detach(stoa_loop *l);

GMainContext *stoa_loop_context(stoa_loop *l);
int stoa_loop_index(stoa_loop *l);
/* True on the loop's own thread. */
gboolean stoa_loop_is_current(stoa_loop *l);

/* Runs fn(data) once on the loop's thread, in posting order (fn's return
 * value is ignored); destroy(data) runs after it, or alone if the loop
 * stops first. Returns false (after destroy(data)) when the loop's thread
 * has already left. Any thread. */
bool stoa_loop_post(stoa_loop *l, GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* Runs fn(data) on the loop's thread and waits for it to return. Never call
 * it from a loop thread. */
void stoa_loop_run_sync(stoa_loop *l, void (*fn)(gpointer data), gpointer data);

/* Returns once every loop has finished what it was running when this was
 * called: a job runs on each loop and we wait for it. Lets a thread that
 * has just flagged a handle as stopped know that no media callback still
 * uses it. Not on a loop thread (returns at once there; loops never wait
 * for each other). */
void stoa_loops_barrier(void);

/* Every STOA_LOOP_TICK_MS the loop calls each ticker's fn(data, now_us).
 * Add and remove on the loop's own thread only; removing inside a tick
 * (a connection closing itself) is allowed. */
#define STOA_LOOP_TICK_MS 100
typedef struct stoa_loop_ticker stoa_loop_ticker;
stoa_loop_ticker *stoa_loop_tick_add(stoa_loop *l, void (*fn)(gpointer data, gint64 now_us),
				     gpointer data);
void stoa_loop_tick_remove(stoa_loop *l, stoa_loop_ticker *t);

#endif
