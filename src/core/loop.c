/*
 * loop.c: the media loops (see loop.h).
 */
#include <stdbool.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"

#define STOA_LOG_MODULE "loop"

/* One posted call. Jobs are recycled through the loop's free list, so a
 * steady stream of posts allocates nothing. */
typedef struct loop_job {
	struct loop_job *next;
	GSourceFunc fn;
	gpointer data;
	GDestroyNotify destroy;
} loop_job;

struct stoa_loop_ticker {
	void (*fn)(gpointer data, gint64 now_us); /* NULL once removed */
	gpointer data;
};

struct stoa_loop {
	int index;
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	gint pcs; /* peer connections attached */
	/* The post queue: any thread appends under qlock; the loop takes the
	 * whole list at once. `head` is also read without the lock (atomic)
	 * by the source's prepare/check, which only need a hint. */
	GMutex qlock;
	loop_job *head, *tail, *spare;
	bool closed;	/* the thread has left: posts are refused (qlock) */
	GSource *jobs;
	/* Tickers: loop thread only. */
	GPtrArray *tickers;
	GSource *tick;
	bool ticking;	/* inside run_tickers: removals are deferred */
	bool tick_dirty;
};

/* ---- the post queue, a GSource that is ready while jobs wait ---- */

typedef struct jobs_source {
	GSource base;
	stoa_loop *loop;
} jobs_source;

static gboolean jobs_ready(GSource *s)
{
	return g_atomic_pointer_get(&((jobs_source *)s)->loop->head) != NULL;
}

static gboolean jobs_prepare(GSource *s, gint *timeout)
{
	*timeout = -1;
	return jobs_ready(s);
}

static gboolean jobs_dispatch(GSource *s, GSourceFunc cb, gpointer ud)
{
	stoa_loop *l = ((jobs_source *)s)->loop;
	g_mutex_lock(&l->qlock);
	loop_job *list = l->head;
	g_atomic_pointer_set(&l->head, NULL);
	l->tail = NULL;
	g_mutex_unlock(&l->qlock);
	loop_job *last = NULL;
	for (loop_job *j = list; j != NULL; j = j->next) {
		j->fn(j->data);
		if (j->destroy != NULL)
			j->destroy(j->data);
		last = j;
	}
	if (last != NULL) {
		g_mutex_lock(&l->qlock);
		last->next = l->spare;
		l->spare = list;
		g_mutex_unlock(&l->qlock);
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs jobs_funcs = { jobs_prepare, jobs_ready, jobs_dispatch, NULL, NULL, NULL };

/* Jobs nobody will run (the loop stopped): destroy their data, free them. */
static void jobs_free_all(stoa_loop *l)
{
	loop_job *lists[2] = { l->head, l->spare };
	l->head = l->tail = l->spare = NULL;
	for (int i = 0; i < 2; i++) {
		for (loop_job *j = lists[i], *next; j != NULL; j = next) {
			next = j->next;
			if (i == 0 && j->destroy != NULL)
				j->destroy(j->data);
			g_free(j);
		}
	}
}

/* ---- tickers ---- */

static gboolean run_tickers(gpointer data)
{
	stoa_loop *l = data;
	gint64 now = g_get_monotonic_time();
	l->ticking = true;
	/* Tickers added during this pass wait for the next one. */
	guint n = l->tickers->len;
	for (guint i = 0; i < n; i++) {
		stoa_loop_ticker *t = l->tickers->pdata[i];
		if (t->fn != NULL)
			t->fn(t->data, now);
	}
	l->ticking = false;
	if (l->tick_dirty) {
		for (guint i = l->tickers->len; i-- > 0;) {
			stoa_loop_ticker *t = l->tickers->pdata[i];
			if (t->fn == NULL) {
				g_ptr_array_remove_index_fast(l->tickers, i);
				g_free(t);
			}
		}
		l->tick_dirty = false;
	}
	return G_SOURCE_CONTINUE;
}

stoa_loop_ticker *stoa_loop_tick_add(stoa_loop *l, void (*fn)(gpointer data, gint64 now_us),
				     gpointer data)
{
	stoa_loop_ticker *t = g_new(stoa_loop_ticker, 1);
	t->fn = fn;
	t->data = data;
	g_ptr_array_add(l->tickers, t);
	return t;
}

void stoa_loop_tick_remove(stoa_loop *l, stoa_loop_ticker *t)
{
	if (t == NULL)
		return;
	if (l->ticking) {
		t->fn = NULL;
		l->tick_dirty = true;
		return;
	}
	g_ptr_array_remove_fast(l->tickers, t);
	g_free(t);
}

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
	/* From now on nobody runs this loop's jobs: refuse new ones (their
	 * posters hear it at once instead of waiting forever) and drop what
	 * came in after the last iteration. */
	g_mutex_lock(&l->qlock);
	l->closed = true;
	loop_job *late = l->head;
	g_atomic_pointer_set(&l->head, NULL);
	l->tail = NULL;
	g_mutex_unlock(&l->qlock);
	for (loop_job *j = late, *next; j != NULL; j = next) {
		next = j->next;
		if (j->destroy != NULL)
			j->destroy(j->data);
		g_free(j);
	}
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
		g_mutex_init(&l->qlock);
		l->jobs = g_source_new(&jobs_funcs, sizeof(jobs_source));
		((jobs_source *)l->jobs)->loop = l;
		g_source_set_priority(l->jobs, G_PRIORITY_DEFAULT);
		g_source_attach(l->jobs, l->ctx);
		l->tickers = g_ptr_array_new();
		l->tick = g_timeout_source_new(STOA_LOOP_TICK_MS);
		g_source_set_callback(l->tick, run_tickers, l, NULL);
		g_source_attach(l->tick, l->ctx);
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
		g_source_destroy(l->tick);
		g_source_unref(l->tick);
		g_source_destroy(l->jobs);
		g_source_unref(l->jobs);
		g_main_loop_unref(l->loop);
		g_main_context_unref(l->ctx);
		jobs_free_all(l);
		g_mutex_clear(&l->qlock);
		/* Every peer connection removed its ticker when it closed. */
		g_warn_if_fail(l->tickers->len == 0);
		for (guint t = 0; t < l->tickers->len; t++)
			g_free(l->tickers->pdata[t]);
		g_ptr_array_unref(l->tickers);
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

bool stoa_loop_post(stoa_loop *l, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	g_mutex_lock(&l->qlock);
	if (l->closed) {
		g_mutex_unlock(&l->qlock);
		if (destroy != NULL)
			destroy(data);
		return false;
	}
	loop_job *j = l->spare;
	if (j != NULL)
		l->spare = j->next;
	else
		j = g_new(loop_job, 1);
	j->next = NULL;
	j->fn = fn;
	j->data = data;
	j->destroy = destroy;
	bool was_empty = l->head == NULL;
	if (was_empty)
		g_atomic_pointer_set(&l->head, j);
	else
		l->tail->next = j;
	l->tail = j;
	g_mutex_unlock(&l->qlock);
	/* Only the first job of a burst needs to wake the loop; a loop posting
	 * to itself is awake already. */
	if (was_empty && !g_main_context_is_owner(l->ctx))
		g_main_context_wakeup(l->ctx);
	return true;
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
	if (!stoa_loop_post(l, sync_cb, &c, NULL))
		c.done = TRUE; /* the loop has stopped: nothing of it runs any more */
	g_mutex_lock(&c.lock);
	while (!c.done)
		g_cond_wait(&c.cond, &c.lock);
	g_mutex_unlock(&c.lock);
	g_mutex_clear(&c.lock);
	g_cond_clear(&c.cond);
}

static void barrier_noop(gpointer data)
{
	(void)data;
}

void stoa_loops_barrier(void)
{
	if (current_index >= 0)
		return;
	for (int i = 0; i < nloops; i++) {
		stoa_loop *l = stoa_loops_get(i);
		if (l != NULL)
			stoa_loop_run_sync(l, barrier_noop, NULL);
	}
}
