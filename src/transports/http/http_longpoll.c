/*
 * http_longpoll.c: per-session event queues and the GET long poll
 * (janus-api-compat.md §4.3).
 *
 * Over HTTP a reply travels back on the request that asked, but events
 * (plugin events, webrtcup, hangup, ...) have nowhere to go until the client
 * polls. So each session created or claimed over HTTP gets a queue, and that
 * queue is the session's source tconn: the core send()s events to it, and
 * GET <base>/<session> takes them out, waiting up to 30 s for the first one.
 *
 * Ownership: a queue lives in the `data` of its own stoa_tconn and is freed
 * by conn_free() when the last ref goes. Refs are held by the registry below
 * (while the queue is the session's current queue), by the session (given by
 * session_source, dropped by the core after session_over), and by each poll
 * while it waits. Events in a queue hold one json ref each.
 *
 * Threads: send() and session_over() come from any thread; session_source()
 * and the polls run on libmicrohttpd connection threads, and a waiting poll
 * blocks only its own thread. One mutex guards the registry and every queue:
 * HTTP events are few (a handful per call per second) and a single lock makes
 * claim and stop races easy to reason about. The lock is never held while
 * calling the core or freeing a tconn.
 */
#include <string.h>

#include "api/api.h"
#include "api/errors.h"
#include "core/log.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

typedef struct lp_queue {
	uint64_t session_id;	/* also the registry key */
	GQueue events;		/* json_t *, oldest first */
	GCond cond;		/* signalled on new events, close and stop */
	guint64 takes;		/* bumped each time a poll takes events */
	bool closed;		/* no longer the session's queue: drop new events */
	bool superseded;	/* claimed away: waiting polls return at once */
	int waiters;		/* polls waiting on it now */
} lp_queue;

static GMutex lock;
static GHashTable *queues;	/* &session_id -> stoa_tconn * (the registry's ref) */
static bool stopping;
/* Closed queues that polls still wait on (a ref each), so stop can wake them. */
static GList *orphans;

void stoa__http_longpoll_init(void)
{
	g_mutex_lock(&lock);
	queues = g_hash_table_new(g_int64_hash, g_int64_equal);
	stopping = false;
	g_mutex_unlock(&lock);
}

void stoa__http_longpoll_shutdown(void)
{
	GHashTableIter it;
	gpointer value;

	g_mutex_lock(&lock);
	stopping = true;
	if (queues != NULL) {
		g_hash_table_iter_init(&it, queues);
		while (g_hash_table_iter_next(&it, NULL, &value))
			g_cond_broadcast(&((lp_queue *)((stoa_tconn *)value)->data)->cond);
	}
	for (GList *l = orphans; l != NULL; l = l->next)
		g_cond_broadcast(&((lp_queue *)((stoa_tconn *)l->data)->data)->cond);
	g_mutex_unlock(&lock);
}

void stoa__http_longpoll_free(void)
{
	GHashTable *table;
	GHashTableIter it;
	gpointer value;

	g_mutex_lock(&lock);
	table = queues;
	queues = NULL;
	GList *left = orphans;
	orphans = NULL;
	if (table != NULL) {
		/* Sessions may outlive us by a moment; their events are dropped. */
		g_hash_table_iter_init(&it, table);
		while (g_hash_table_iter_next(&it, NULL, &value))
			((lp_queue *)((stoa_tconn *)value)->data)->closed = true;
	}
	g_mutex_unlock(&lock);
	g_list_free_full(left, (GDestroyNotify)stoa_tconn_unref);
	if (table == NULL)
		return;
	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, NULL, &value))
		stoa_tconn_unref(value);
	g_hash_table_destroy(table);
}

/* ---------------------------------------------------------------- vtable */

void stoa__http_send(stoa_tconn *conn, json_t *msg)
{
	lp_queue *q = conn->data;
	json_t *dropped = NULL;
	bool closed;

	if (q == NULL) {
		/* Replies to HTTP requests are returned by stoa_api_handle(). */
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "%s: message for a plain HTTP request dropped",
				     conn->peer);
		return;
	}
	g_mutex_lock(&lock);
	closed = q->closed;
	if (!closed) {
		g_queue_push_tail(&q->events, json_incref(msg));
		if (q->events.length > STOA_HTTP_QUEUE_MAX)
			dropped = g_queue_pop_head(&q->events);
		g_cond_broadcast(&q->cond);
	}
	g_mutex_unlock(&lock);
	if (dropped != NULL) {
		json_decref(dropped);
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10,
				     "session %" G_GUINT64_FORMAT ": nobody polls, dropping old events",
				     q->session_id);
	}
	if (closed)
		STOA_LOG_S(STOA_LOG_DBG, q->session_id, 0, "event after the queue closed, dropped");
}

/* Marks `q` closed. Lock held. Only a claim wakes the polls waiting on it:
 * after a destroy a waiting poll stays until its timeout, as with Janus,
 * because waking it would make janus.js poll again, get 404s and report
 * "Lost connection" before it has even read the destroy reply. */
static void close_queue(lp_queue *q, bool superseded)
{
	q->closed = true;
	if (superseded) {
		q->superseded = true;
		g_cond_broadcast(&q->cond);
	}
}

static stoa_tconn *queue_new(uint64_t session_id)
{
	lp_queue *q = g_new0(lp_queue, 1);

	q->session_id = session_id;
	g_queue_init(&q->events);
	g_cond_init(&q->cond);
	return stoa_tconn_new(&stoa__http_transport, q, false, "long poll");
}

/*
 * Always makes a fresh queue. A second call for a session (a claim over
 * HTTP) replaces the old queue: polls waiting on it return a keepalive at
 * once, and events nobody fetched yet move to the new queue so a client
 * that reconnects does not lose them. This works whether the core tells the
 * old source session_over() before or after calling us.
 */
stoa_tconn *stoa__http_session_source(stoa_tconn *conn, uint64_t session_id)
{
	stoa_tconn *qc = queue_new(session_id);
	lp_queue *q = qc->data;
	stoa_tconn *old = NULL;

	g_mutex_lock(&lock);
	if (queues == NULL || stopping) {
		/* Stopping: a queue nobody will poll, so the core still gets a source. */
		q->closed = true;
		g_mutex_unlock(&lock);
		return qc;
	}
	old = g_hash_table_lookup(queues, &session_id);
	if (old != NULL) {
		lp_queue *oq = old->data;

		while (!g_queue_is_empty(&oq->events))
			g_queue_push_tail(&q->events, g_queue_pop_head(&oq->events));
		close_queue(oq, true);
		g_hash_table_remove(queues, &session_id);
	}
	g_hash_table_insert(queues, &q->session_id, qc);
	stoa_tconn_ref(qc); /* the session's */
	g_mutex_unlock(&lock);
	if (old != NULL)
		stoa_tconn_unref(old); /* the registry's */
	STOA_LOG_S(STOA_LOG_VERB, session_id, 0, "long-poll queue %s", old ? "replaced" : "created");
	return qc;
}

/* New GETs get 404. Events already queued (a `timeout` event, say) are
 * still handed to polls; see close_queue() for who wakes up. */
void stoa__http_session_over(stoa_tconn *source, uint64_t session_id,
			     stoa_session_over_reason why)
{
	lp_queue *q = source->data;
	bool registered = false;

	if (q == NULL)
		return;
	g_mutex_lock(&lock);
	close_queue(q, why == STOA_SESSION_OVER_CLAIMED);
	if (queues != NULL && g_hash_table_lookup(queues, &session_id) == source) {
		g_hash_table_remove(queues, &session_id);
		registered = true;
	}
	if (q->waiters > 0 && !q->superseded && g_list_find(orphans, source) == NULL)
		orphans = g_list_prepend(orphans, stoa_tconn_ref(source));
	g_mutex_unlock(&lock);
	if (registered)
		stoa_tconn_unref(source);
	STOA_LOG_S(STOA_LOG_VERB, session_id, 0, "long-poll queue closed (%s)",
		   why == STOA_SESSION_OVER_CLAIMED   ? "claimed"
		   : why == STOA_SESSION_OVER_TIMEOUT ? "timeout"
						      : "destroyed");
}

void stoa__http_conn_free(stoa_tconn *conn)
{
	lp_queue *q = conn->data;

	if (q == NULL)
		return;
	g_queue_clear_full(&q->events, (GDestroyNotify)json_decref);
	g_cond_clear(&q->cond);
	g_free(q);
	conn->data = NULL;
}

/* ---------------------------------------------------------------- polls */

/* The registered queue of a session, +1 ref, or NULL. */
static stoa_tconn *queue_find(uint64_t session_id)
{
	stoa_tconn *qc = NULL;

	g_mutex_lock(&lock);
	if (queues != NULL)
		qc = g_hash_table_lookup(queues, &session_id);
	if (qc != NULL)
		stoa_tconn_ref(qc);
	g_mutex_unlock(&lock);
	return qc;
}

/* Takes up to `maxev` events: one object when maxev is 1, else an array.
 * Lock held. */
static json_t *take_events(lp_queue *q, int maxev)
{
	json_t *arr;

	q->takes++;
	if (maxev == 1)
		return g_queue_pop_head(&q->events);
	arr = json_array();
	for (int i = 0; i < maxev && !g_queue_is_empty(&q->events); i++)
		json_array_append_new(arr, g_queue_pop_head(&q->events));
	return arr;
}

/*
 * Waits until `end_us` (monotonic) for events. Returns them, or NULL for a
 * keepalive: on timeout, when the queue closed or the transport stops, or
 * when another poll on the same session took the events that woke us.
 */
static json_t *wait_events(stoa_tconn *qc, int maxev, gint64 end_us)
{
	lp_queue *q = qc->data;
	json_t *events = NULL;
	bool timed_out = false;
	guint64 takes_at_start;

	g_mutex_lock(&lock);
	takes_at_start = q->takes;
	q->waiters++;
	for (;;) {
		if (!g_queue_is_empty(&q->events)) {
			events = take_events(q, maxev);
			break;
		}
		if (timed_out || q->superseded || stopping || q->takes != takes_at_start)
			break;
		timed_out = !g_cond_wait_until(&q->cond, &lock, end_us);
	}
	q->waiters--;
	GList *orphan = q->waiters == 0 ? g_list_find(orphans, qc) : NULL;
	if (orphan != NULL)
		orphans = g_list_delete_link(orphans, orphan);
	g_mutex_unlock(&lock);
	if (orphan != NULL)
		stoa_tconn_unref(qc);
	return events;
}

static json_t *keepalive_reply(int maxev)
{
	json_t *ka = json_pack("{s:s}", "janus", "keepalive");

	return maxev > 1 ? json_pack("[o]", ka) : ka;
}

/* The long poll refreshes the session like a keepalive request, with the
 * credentials in the query string. Returns 0, or the HTTP status to answer
 * with: 403 for bad credentials, 404 for an unknown session. */
static unsigned inject_keepalive(struct MHD_Connection *c, const stoa__http_request *req,
				 uint64_t session_id)
{
	const char *secret = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "apisecret");
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	char transaction[24];
	json_t *request, *reply;
	json_int_t code;

	g_snprintf(transaction, sizeof(transaction), "lp%08x%08x", g_random_int(), g_random_int());
	request = json_pack("{s:s, s:I, s:s}", "janus", "keepalive", "session_id",
			    (json_int_t)session_id, "transaction", transaction);
	if (secret != NULL)
		json_object_set_new(request, "apisecret", json_string(secret));
	if (token != NULL)
		json_object_set_new(request, "token", json_string(token));
	reply = stoa__http_api_call(req, false, request);
	json_decref(request);
	code = json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
	json_decref(reply);
	if (code == STOA_ERR_UNAUTHORIZED)
		return MHD_HTTP_FORBIDDEN;
	if (code == STOA_ERR_SESSION_NOT_FOUND)
		return MHD_HTTP_NOT_FOUND;
	return 0;
}

static int parse_maxev(struct MHD_Connection *c)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "maxev");
	guint64 v;

	/* Missing, < 1 or not a number means 1; no point in more than we keep. */
	if (s == NULL || !g_ascii_string_to_unsigned(s, 10, 1, G_MAXUINT64, &v, NULL))
		return 1;
	return v > STOA_HTTP_QUEUE_MAX ? STOA_HTTP_QUEUE_MAX : (int)v;
}

STOA_MHD_RESULT stoa__http_longpoll(struct MHD_Connection *c, const stoa__http_request *req,
				    uint64_t session_id)
{
	int maxev = parse_maxev(c);
	unsigned status = inject_keepalive(c, req, session_id);
	stoa_tconn *qc;
	json_t *events;

	if (status != 0)
		return stoa__http_respond_empty(c, status);
	/* A session created on another transport has no queue here. */
	qc = queue_find(session_id);
	if (qc == NULL)
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	events = wait_events(qc, maxev,
			     g_get_monotonic_time() +
				     (gint64)stoa__http_conf.longpoll_seconds * G_USEC_PER_SEC);
	stoa_tconn_unref(qc);
	return stoa__http_respond_json(c, events != NULL ? events : keepalive_reply(maxev));
}
