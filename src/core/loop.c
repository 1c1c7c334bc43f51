/*
 * loop.c: the media loops (see loop.h).
 */
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"

#define STOA_LOG_MODULE "loop"

struct stoa_loop {
	int index;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	gint pcs; /* peer connections attached */
};

static stoa_loop **loops;
static int nloops;
static guint next_pick;
/* `loops` once every loop runs; NULL from the start of stoa_loops_stop. */
static stoa_loop **published;
/* The index of the loop this thread runs, -1 on other threads. */
static __thread int current_index = -1;

static gpointer loop_main(gpointer data)
{
	stoa_loop *l = data;
	current_index = l->index;
	stoa_metrics_loop_enter(l->index);
	g_main_context_push_thread_default(l->ctx);
	g_main_loop_run(l->loop);
	/* Run what was posted before the quit (peer connection closes, agent
	 * releases) so nothing leaks. Bounded: a source that stays ready (a
	 * library timer rescheduling itself) must not keep shutdown waiting. */
	gint64 end = g_get_monotonic_time() + 500 * 1000;
	int n = 0;
	while (g_main_context_iteration(l->ctx, FALSE) && g_get_monotonic_time() < end)
		n++;
	if (g_get_monotonic_time() >= end)
		STOA_LOG(STOA_LOG_WARN, "media loop %d: sources still ready after %d iterations at stop",
			 l->index, n);
	g_main_context_pop_thread_default(l->ctx);
	stoa_metrics_loop_leave(l->index);
	return NULL;
}

int stoa_loops_start(int n)
{
	if (n <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (int)cpus : 1;
	}
	if (stoa_metrics_loops_init(n) < 0)
		return -1;
	loops = g_new0(stoa_loop *, n);
	nloops = n;
	for (int i = 0; i < n; i++) {
		stoa_loop *l = g_new0(stoa_loop, 1);
		l->index = i;
		l->ctx = g_main_context_new();
		l->loop = g_main_loop_new(l->ctx, FALSE);
		char name[16];
		g_snprintf(name, sizeof(name), "media-%d", i);
		l->thread = g_thread_new(name, loop_main, l);
		loops[i] = l;
	}
	g_atomic_pointer_set(&published, loops);
	STOA_LOG(STOA_LOG_INFO, "%d media loop(s) running", n);
	return 0;
}

static gboolean quit_cb(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void stoa_loops_stop(void)
{
	/* Every loop quits and is joined before any is freed: a loop still
	 * running may post to one that already stopped (a plugin handing a
	 * packet to another loop), and that post must land in a live context,
	 * whose unref below then frees it. */
	g_atomic_pointer_set(&published, NULL);
	for (int i = 0; i < nloops; i++) {
		g_main_context_invoke(loops[i]->ctx, quit_cb, loops[i]->loop);
		g_thread_join(loops[i]->thread);
	}
	for (int i = 0; i < nloops; i++) {
		stoa_loop *l = loops[i];
		g_main_loop_unref(l->loop);
		g_main_context_unref(l->ctx);
		g_free(l);
	}
	g_free(loops);
	loops = NULL;
	nloops = 0;
}

stoa_loop *stoa_loops_get(int index)
{
	stoa_loop **all = g_atomic_pointer_get(&published);
	return all != NULL && index >= 0 && index < nloops ? all[index] : NULL;
}

int stoa_loops_current(void)
{
	return current_index;
}

stoa_loop *stoa_loops_pick(void)
{
	if (nloops == 0)
		return NULL;
	guint start = g_atomic_int_add(&next_pick, 1);
	stoa_loop *best = loops[start % (guint)nloops];
	for (int i = 0; i < nloops; i++) {
		stoa_loop *l = loops[(start + (guint)i) % (guint)nloops];
		if (g_atomic_int_get(&l->pcs) < g_atomic_int_get(&best->pcs))
			best = l;
	}
	return best;
}

int stoa_loops_count(void)
{
	return nloops;
}

void stoa_loop_attach(stoa_loop *l)
{
	g_atomic_int_inc(&l->pcs);
	stoa_metrics_loop_pcs(l->index, 1);
}

void stoa_loop_detach(stoa_loop *l)
{
	g_atomic_int_add(&l->pcs, -1);
	stoa_metrics_loop_pcs(l->index, -1);
}

GMainContext *stoa_loop_context(stoa_loop *l)
{
	return l->ctx;
}

int stoa_loop_index(stoa_loop *l)
{
	return l->index;
}

gboolean stoa_loop_is_current(stoa_loop *l)
{
	return g_main_context_is_owner(l->ctx);
}

void stoa_loop_post(stoa_loop *l, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	GSource *src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, fn, data, destroy);
	g_source_attach(src, l->ctx);
	g_source_unref(src);
}

typedef struct sync_call {
	void (*fn)(gpointer data);
	gpointer data;
	GMutex lock;
	GCond cond;
	gboolean done;
} sync_call;

static gboolean sync_cb(gpointer p)
{
	sync_call *c = p;
	c->fn(c->data);
	g_mutex_lock(&c->lock);
	c->done = TRUE;
	g_cond_signal(&c->cond);
	g_mutex_unlock(&c->lock);
	return G_SOURCE_REMOVE;
}

void stoa_loop_run_sync(stoa_loop *l, void (*fn)(gpointer data), gpointer data)
{
	g_return_if_fail(!stoa_loop_is_current(l));
	sync_call c = { .fn = fn, .data = data };
	g_mutex_init(&c.lock);
	g_cond_init(&c.cond);
	stoa_loop_post(l, sync_cb, &c, NULL);
	g_mutex_lock(&c.lock);
	while (!c.done)
		g_cond_wait(&c.cond, &c.lock);
	g_mutex_unlock(&c.lock);
	g_mutex_clear(&c.lock);
	g_cond_clear(&c.cond);
}
