/*
 * worker.c: the API worker pool that runs requests submitted by transports
 * whose own thread must not block (WebSocket).
 *
 * Requests of one connection run in arrival order — clients pipeline
 * dependent requests in one frame — while different connections run in
 * parallel. Each tconn keeps its own queue; a connection is pushed to the
 * pool only when its queue goes from idle to busy, and the worker that takes
 * it drains the queue. So there is one wakeup per burst, not per request.
 */
#include "api/api.h"
#include "core/log.h"

#define STOA_LOG_MODULE "api"

static GThreadPool *pool;
/* Guards `pool` between a transport thread submitting and stop(): at
 * shutdown the WebSocket transport still reads (and flushes) for a moment
 * after the workers are gone. Taken before a connection's lock. */
static GMutex pool_lock;

/* One queued item: a request to run, or a reply the transport already built
 * (a parse error) that must not overtake replies to earlier requests. */
typedef struct api_job {
	json_t *request;
	json_t *reply;
} api_job;

static void run_conn(gpointer data, gpointer user_data)
{
	stoa_tconn *conn = data;
	for (;;) {
		g_mutex_lock(&conn->lock);
		api_job *job = g_queue_pop_head(&conn->pending);
		if (job == NULL)
			conn->scheduled = false;
		g_mutex_unlock(&conn->lock);
		if (job == NULL)
			break;
		json_t *reply = job->reply != NULL ? job->reply : stoa_api_handle(conn, job->request);
		stoa_tconn_send(conn, reply);
		json_decref(reply);
		if (job->request != NULL)
			json_decref(job->request);
		g_free(job);
	}
	stoa_tconn_unref(conn); /* the ref taken when scheduled */
}

static void enqueue(stoa_tconn *conn, json_t *request, json_t *reply)
{
	g_mutex_lock(&pool_lock);
	if (pool == NULL) {
		/* Stopped: nobody would run it, and the server is going away. */
		g_mutex_unlock(&pool_lock);
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 5, "request from %s after the API stopped: dropped",
				 conn->peer);
		if (request != NULL)
			json_decref(request);
		if (reply != NULL)
			json_decref(reply);
		return;
	}
	api_job *job = g_new(api_job, 1);
	job->request = request;
	job->reply = reply;
	g_mutex_lock(&conn->lock);
	g_queue_push_tail(&conn->pending, job);
	bool schedule = !conn->scheduled;
	conn->scheduled = true;
	g_mutex_unlock(&conn->lock);
	if (schedule)
		g_thread_pool_push(pool, stoa_tconn_ref(conn), NULL);
	g_mutex_unlock(&pool_lock);
}

void stoa_api_submit(stoa_tconn *conn, json_t *request)
{
	enqueue(conn, request, NULL);
}

void stoa_api_submit_reply(stoa_tconn *conn, json_t *reply)
{
	enqueue(conn, NULL, reply);
}

int stoa_api_workers_start(int threads)
{
	GError *error = NULL;
	pool = g_thread_pool_new(run_conn, NULL, threads > 0 ? threads : 4, FALSE, &error);
	if (pool == NULL) {
		STOA_LOG(STOA_LOG_FATAL, "cannot start API workers: %s", error->message);
		g_error_free(error);
		return -1;
	}
	return 0;
}

void stoa_api_workers_stop(void)
{
	g_mutex_lock(&pool_lock);
	GThreadPool *p = pool;
	pool = NULL;
	g_mutex_unlock(&pool_lock);
	if (p == NULL)
		return;
	/* Finish what is queued: those are replies clients are waiting for.
	 * Workers never submit, so waiting here cannot deadlock on pool_lock. */
	g_thread_pool_free(p, FALSE, TRUE);
}
