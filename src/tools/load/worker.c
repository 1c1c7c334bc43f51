/*
 * worker.c: worker threads, their job inbox and tick; see worker.h.
 *
 * The inbox is a mutex-protected queue. Posting to an empty inbox attaches
 * one idle source; it drains the whole queue when it runs, so a burst of
 * posts costs one wakeup.
 */
#include "worker.h"

#include <stdbool.h>
#include <string.h>

#define SCRATCH_SIZE 2048
/* After each pass over what is ready the thread naps this long, so the next
 * poll() finds many datagrams waiting. GLib's poll() costs O(sockets) per
 * wakeup, and a thread with hundreds of viewers woke once per packet: the
 * wakeups cost more than the packets. A packet's arrival time moves by at
 * most this much, well under the join times and gaps we measure. */
#define BATCH_US 500

typedef struct job {
	load_job_fn fn;
	void *data;
} job;

typedef struct ticker {
	load_tick_fn fn;	/* NULL once removed, until compacted */
	void *data;
} ticker;

struct load_worker {
	int index;
	GThread *thread;
	GMainContext *ctx;
	bool quit;		/* set by quit_job, on the worker thread */
	GMutex lock;		/* guards inbox and scheduled */
	GQueue inbox;		/* of job* */
	bool scheduled;
	GArray *tickers;	/* of ticker; worker thread only */
	bool ticking;
	bool removed_while_ticking;
	GSource *tick;
	uint8_t scratch[SCRATCH_SIZE];
};

static gboolean run_inbox(gpointer data)
{
	load_worker *w = data;
	GQueue batch = G_QUEUE_INIT;
	g_mutex_lock(&w->lock);
	batch = w->inbox;
	g_queue_init(&w->inbox);
	w->scheduled = false;
	g_mutex_unlock(&w->lock);
	job *j;
	while ((j = g_queue_pop_head(&batch)) != NULL) {
		j->fn(j->data);
		g_free(j);
	}
	return G_SOURCE_REMOVE;
}

void load_worker_post(load_worker *w, load_job_fn fn, void *data)
{
	job *j = g_new(job, 1);
	j->fn = fn;
	j->data = data;
	bool wake = false;
	g_mutex_lock(&w->lock);
	g_queue_push_tail(&w->inbox, j);
	if (!w->scheduled) {
		w->scheduled = true;
		wake = true;
	}
	g_mutex_unlock(&w->lock);
	if (wake) {
		GSource *s = g_idle_source_new();
		g_source_set_priority(s, G_PRIORITY_DEFAULT);
		g_source_set_callback(s, run_inbox, w, NULL);
		g_source_attach(s, w->ctx);
		g_source_unref(s);
	}
}

static void compact_tickers(load_worker *w)
{
	guint out = 0;
	for (guint i = 0; i < w->tickers->len; i++) {
		ticker t = g_array_index(w->tickers, ticker, i);
		if (t.fn != NULL)
			g_array_index(w->tickers, ticker, out++) = t;
	}
	g_array_set_size(w->tickers, out);
}

static gboolean on_tick(gpointer data)
{
	load_worker *w = data;
	int64_t now = g_get_monotonic_time();
	w->ticking = true;
	/* Ticks added during the walk wait for the next one (len is read once). */
	guint n = w->tickers->len;
	for (guint i = 0; i < n; i++) {
		ticker *t = &g_array_index(w->tickers, ticker, i);
		if (t->fn != NULL)
			t->fn(t->data, now);
	}
	w->ticking = false;
	if (w->removed_while_ticking) {
		w->removed_while_ticking = false;
		compact_tickers(w);
	}
	return G_SOURCE_CONTINUE;
}

void load_worker_tick_add(load_worker *w, load_tick_fn fn, void *data)
{
	ticker t = {.fn = fn, .data = data};
	g_array_append_val(w->tickers, t);
}

void load_worker_tick_remove(load_worker *w, void *data)
{
	for (guint i = 0; i < w->tickers->len; i++) {
		ticker *t = &g_array_index(w->tickers, ticker, i);
		if (t->data == data && t->fn != NULL) {
			t->fn = NULL;
			if (w->ticking)
				w->removed_while_ticking = true;
			else
				compact_tickers(w);
			return;
		}
	}
}

static gpointer thread_main(gpointer data)
{
	load_worker *w = data;
	g_main_context_push_thread_default(w->ctx);
	while (!w->quit) {
		g_main_context_iteration(w->ctx, TRUE);
		g_usleep(BATCH_US);
	}
	g_main_context_pop_thread_default(w->ctx);
	return NULL;
}

load_worker *load_worker_new(int index)
{
	load_worker *w = g_new0(load_worker, 1);
	w->index = index;
	w->ctx = g_main_context_new();
	g_mutex_init(&w->lock);
	g_queue_init(&w->inbox);
	w->tickers = g_array_new(FALSE, FALSE, sizeof(ticker));
	w->tick = g_timeout_source_new(LOAD_TICK_MS);
	g_source_set_callback(w->tick, on_tick, w, NULL);
	g_source_attach(w->tick, w->ctx);
	char name[16];
	g_snprintf(name, sizeof(name), "load-w%d", index);
	w->thread = g_thread_new(name, thread_main, w);
	return w;
}

GMainContext *load_worker_context(load_worker *w)
{
	return w->ctx;
}

int load_worker_index(load_worker *w)
{
	return w->index;
}

uint8_t *load_worker_scratch(load_worker *w, size_t *cap)
{
	*cap = sizeof(w->scratch);
	return w->scratch;
}

static void quit_job(void *data)
{
	load_worker *w = data;
	w->quit = true;
}

void load_worker_stop(load_worker *w)
{
	if (w->thread == NULL)
		return;
	load_worker_post(w, quit_job, w);
	g_thread_join(w->thread);
	w->thread = NULL;
}

void load_worker_free(load_worker *w)
{
	if (w == NULL)
		return;
	load_worker_stop(w);
	/* Jobs posted after the quit (there should be none) run here, on
	 * this thread, now that the worker's is gone: they release their data. */
	run_inbox(w);
	g_source_destroy(w->tick);
	g_source_unref(w->tick);
	g_array_free(w->tickers, TRUE);
	g_main_context_unref(w->ctx);
	g_mutex_clear(&w->lock);
	g_free(w);
}
