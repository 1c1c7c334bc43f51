/*
 * worker.h: the threads the peers live on. Each worker is a thread running
 * a GMainLoop on its own GMainContext; a peer's ICE agent, DTLS, SRTP and
 * Janus state machine belong to one worker and are touched only there, so
 * none of them needs a lock.
 *
 * Other threads reach a peer by posting a job to its worker: jobs run in
 * the order they were posted, in batches (one wakeup however many are
 * queued). Every worker also runs a tick every LOAD_TICK_MS for its peers'
 * timers (keepalives, RTCP reports, timeouts): one GLib source per worker
 * instead of one per peer, because GLib walks every source on every loop
 * iteration.
 *
 * Owner: the run (run.c) creates and frees the workers on the main thread.
 */
#ifndef LOAD_WORKER_H
#define LOAD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define LOAD_TICK_MS 250

typedef struct load_worker load_worker;

typedef void (*load_job_fn)(void *data);
typedef void (*load_tick_fn)(void *data, int64_t now_us);

load_worker *load_worker_new(int index);

/* Any thread: runs fn(data) on the worker, after every job posted before.
 * Must not be called once load_worker_stop() has begun. */
void load_worker_post(load_worker *w, load_job_fn fn, void *data);

/* Worker thread only: calls fn(data, now) every LOAD_TICK_MS until
 * removed. A tick may remove itself or others. */
void load_worker_tick_add(load_worker *w, load_tick_fn fn, void *data);
void load_worker_tick_remove(load_worker *w, void *data);

GMainContext *load_worker_context(load_worker *w);
int load_worker_index(load_worker *w);

/* A buffer for per-packet work (SRTP checks, RTCP) on the worker's own
 * thread: no allocation per packet. */
uint8_t *load_worker_scratch(load_worker *w, size_t *cap);

/* Runs every job already posted, then stops the loop and joins the
 * thread. Sources still attached (ICE agents' timers) are destroyed with
 * the context in load_worker_free(). */
void load_worker_stop(load_worker *w);
void load_worker_free(load_worker *w);

#endif
