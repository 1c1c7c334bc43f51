/*
 * session.c: the session registry and session lifecycle (see session.h).
 *
 * Design: one global hash table of sessions under `registry_lock`. Lookups
 * take a ref under that lock and refuse destroyed sessions, so once
 * stoa_session_destroy() has unregistered a session nobody new can reach it;
 * the memory goes when the last in-flight request drops its ref. Timeouts are
 * checked by the main thread's watchdog every 2 s (Janus's cadence).
 */
#include "core/session.h"

#include "core/config.h"
#include "core/handle.h"
#include "core/ids.h"
#include "core/log.h"

#define STOA_LOG_MODULE "session"

static GMutex registry_lock;
static GHashTable *registry; /* &session->id -> session (registry's ref) */
static gint nhandles;	     /* entries of every session's handle table (metrics) */

void stoa_sessions_init(void)
{
	registry = g_hash_table_new(g_int64_hash, g_int64_equal);
}

void stoa_sessions_cleanup(void)
{
	g_mutex_lock(&registry_lock);
	g_warn_if_fail(registry == NULL || g_hash_table_size(registry) == 0);
	g_clear_pointer(&registry, g_hash_table_unref);
	g_mutex_unlock(&registry_lock);
}

static stoa_session *session_alloc(uint64_t id, stoa_tconn *source)
{
	stoa_session *s = g_new0(stoa_session, 1);
	s->ref = 2; /* the registry's and the caller's */
	s->id = id;
	g_mutex_init(&s->lock);
	s->handles = g_hash_table_new(g_int64_hash, g_int64_equal);
	s->source = source != NULL ? stoa_tconn_ref(source) : NULL;
	s->created = s->last_activity = g_get_monotonic_time();
	s->timeout = -1;
	s->transport_pkg = g_strdup(source != NULL && source->transport != NULL
					    ? source->transport->package
					    : "");
	return s;
}

stoa_session *stoa_session_create(uint64_t id, stoa_tconn *source)
{
	g_mutex_lock(&registry_lock);
	if (id == 0) {
		do
			id = stoa_id_random();
		while (g_hash_table_contains(registry, &id));
	} else if (g_hash_table_contains(registry, &id)) {
		g_mutex_unlock(&registry_lock);
		return NULL;
	}
	stoa_session *s = session_alloc(id, source);
	g_hash_table_insert(registry, &s->id, s);
	g_mutex_unlock(&registry_lock);
	return s;
}

stoa_session *stoa_session_find(uint64_t id)
{
	g_mutex_lock(&registry_lock);
	stoa_session *s = registry != NULL ? g_hash_table_lookup(registry, &id) : NULL;
	if (s != NULL && !g_atomic_int_get(&s->destroyed))
		stoa_session_ref(s);
	else
		s = NULL;
	g_mutex_unlock(&registry_lock);
	return s;
}

stoa_session *stoa_session_ref(stoa_session *s)
{
	g_atomic_int_inc(&s->ref);
	return s;
}

void stoa_session_unref(stoa_session *s)
{
	if (s == NULL || !g_atomic_int_dec_and_test(&s->ref))
		return;
	g_warn_if_fail(g_hash_table_size(s->handles) == 0);
	g_hash_table_unref(s->handles);
	if (s->source != NULL)
		stoa_tconn_unref(s->source);
	g_mutex_clear(&s->lock);
	g_free(s->transport_pkg);
	g_free(s);
}

void stoa_session_touch(stoa_session *s)
{
	__atomic_store_n(&s->last_activity, g_get_monotonic_time(), __ATOMIC_RELAXED);
}

stoa_tconn *stoa_session_get_source(stoa_session *s)
{
	g_mutex_lock(&s->lock);
	stoa_tconn *src = s->source != NULL ? stoa_tconn_ref(s->source) : NULL;
	g_mutex_unlock(&s->lock);
	return src;
}

static void notify_over(stoa_tconn *source, uint64_t id, stoa_session_over_reason why)
{
	if (source == NULL)
		return;
	if (source->transport->session_over != NULL)
		source->transport->session_over(source, id, why);
	stoa_tconn_unref(source);
}

void stoa_session_set_source(stoa_session *s, stoa_tconn *source)
{
	g_mutex_lock(&s->lock);
	stoa_tconn *old = s->source;
	s->source = stoa_tconn_ref(source);
	s->orphaned_since = 0;
	g_mutex_unlock(&s->lock);
	if (old == source) {
		stoa_tconn_unref(old);
		return;
	}
	notify_over(old, s->id, STOA_SESSION_OVER_CLAIMED);
}

void stoa_session_send(stoa_session *s, json_t *msg)
{
	stoa_tconn *src = stoa_session_get_source(s);
	if (src == NULL)
		return;
	stoa_tconn_send(src, msg);
	stoa_tconn_unref(src);
}

int stoa_session_add_handle(stoa_session *s, stoa_handle *h)
{
	g_mutex_lock(&s->lock);
	int rc = -1;
	if (!g_atomic_int_get(&s->destroyed)) {
		g_hash_table_insert(s->handles, &h->id, stoa_handle_ref(h));
		g_atomic_int_inc(&nhandles);
		rc = 0;
	}
	g_mutex_unlock(&s->lock);
	return rc;
}

void stoa_session_remove_handle(stoa_session *s, stoa_handle *h)
{
	g_mutex_lock(&s->lock);
	bool removed = g_hash_table_remove(s->handles, &h->id);
	g_mutex_unlock(&s->lock);
	if (removed) {
		g_atomic_int_add(&nhandles, -1);
		stoa_handle_unref(h);
	}
}

stoa_handle *stoa_session_find_handle(stoa_session *s, uint64_t handle_id)
{
	g_mutex_lock(&s->lock);
	stoa_handle *h = g_hash_table_lookup(s->handles, &handle_id);
	if (h != NULL && !g_atomic_int_get(&h->detached))
		stoa_handle_ref(h);
	else
		h = NULL;
	g_mutex_unlock(&s->lock);
	return h;
}

GPtrArray *stoa_session_handles(stoa_session *s)
{
	GPtrArray *arr = g_ptr_array_new_with_free_func((GDestroyNotify)stoa_handle_unref);
	g_mutex_lock(&s->lock);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, s->handles);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_ptr_array_add(arr, stoa_handle_ref(v));
	g_mutex_unlock(&s->lock);
	return arr;
}

json_t *stoa_session_handle_ids(stoa_session *s)
{
	json_t *ids = json_array();
	GPtrArray *hs = stoa_session_handles(s);
	for (guint i = 0; i < hs->len; i++)
		json_array_append_new(ids, json_integer((json_int_t)((stoa_handle *)hs->pdata[i])->id));
	g_ptr_array_unref(hs);
	return ids;
}

static void destroy(stoa_session *s, stoa_session_over_reason why, bool notify_handles)
{
	if (!g_atomic_int_compare_and_exchange(&s->destroyed, 0, 1))
		return;
	g_mutex_lock(&registry_lock);
	bool registered = registry != NULL && g_hash_table_remove(registry, &s->id);
	g_mutex_unlock(&registry_lock);

	STOA_LOG_S(STOA_LOG_INFO, s->id, 0, "destroying (%s)",
		   why == STOA_SESSION_OVER_TIMEOUT ? "timeout" : "destroy");
	GPtrArray *hs = stoa_session_handles(s);
	for (guint i = 0; i < hs->len; i++)
		stoa_handle_detach(hs->pdata[i], notify_handles);
	g_ptr_array_unref(hs);

	if (why == STOA_SESSION_OVER_TIMEOUT) {
		json_t *ev = json_pack("{s:s,s:I}", "janus", "timeout", "session_id",
				       (json_int_t)s->id);
		stoa_session_send(s, ev);
		json_decref(ev);
	}
	g_mutex_lock(&s->lock);
	stoa_tconn *source = s->source;
	s->source = NULL;
	g_mutex_unlock(&s->lock);
	notify_over(source, s->id, why);
	if (registered)
		stoa_session_unref(s);
}

void stoa_session_destroy(stoa_session *s, stoa_session_over_reason why)
{
	destroy(s, why, true);
}

/* The client's own `destroy`: no `detached` per handle, since it asked for
 * the whole session to go (Janus drops them too). Over HTTP such an event
 * wakes the client's pending long poll, whose next polls meet the closed
 * queue (404) before the destroy reply arrives, and janus.js then reports
 * "Lost connection" (seen in the browser tests). */
void stoa_session_destroy_by_client(stoa_session *s)
{
	destroy(s, STOA_SESSION_OVER_DESTROYED, false);
}

/* Refs of every registered session matching `pred`, taken under the lock so
 * the caller can act on them without it. */
static GPtrArray *collect(gboolean (*pred)(stoa_session *s, gpointer ud), gpointer ud)
{
	GPtrArray *arr = g_ptr_array_new_with_free_func((GDestroyNotify)stoa_session_unref);
	g_mutex_lock(&registry_lock);
	if (registry != NULL) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, registry);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (pred == NULL || pred(v, ud))
				g_ptr_array_add(arr, stoa_session_ref(v));
	}
	g_mutex_unlock(&registry_lock);
	return arr;
}

json_t *stoa_sessions_list(void)
{
	json_t *ids = json_array();
	GPtrArray *all = collect(NULL, NULL);
	for (guint i = 0; i < all->len; i++)
		json_array_append_new(ids, json_integer((json_int_t)((stoa_session *)all->pdata[i])->id));
	g_ptr_array_unref(all);
	return ids;
}

unsigned stoa_sessions_count(void)
{
	g_mutex_lock(&registry_lock);
	unsigned n = registry != NULL ? g_hash_table_size(registry) : 0;
	g_mutex_unlock(&registry_lock);
	return n;
}

unsigned stoa_handles_count(void)
{
	return (unsigned)MAX(g_atomic_int_get(&nhandles), 0);
}

static gboolean sourced_by(stoa_session *s, gpointer conn)
{
	g_mutex_lock(&s->lock);
	gboolean match = s->source == conn;
	g_mutex_unlock(&s->lock);
	return match;
}

void stoa_sessions_source_gone(stoa_tconn *source)
{
	GPtrArray *mine = collect(sourced_by, source);
	int reclaim = stoa_config_get()->reclaim_session_timeout;
	for (guint i = 0; i < mine->len; i++) {
		stoa_session *s = mine->pdata[i];
		if (reclaim <= 0) {
			stoa_session_destroy(s, STOA_SESSION_OVER_DESTROYED);
			continue;
		}
		/* Keep it for a claim from another connection; events meanwhile are lost. */
		g_mutex_lock(&s->lock);
		stoa_tconn *old = s->source == source ? s->source : NULL;
		if (old != NULL) {
			s->source = NULL;
			s->orphaned_since = g_get_monotonic_time();
		}
		g_mutex_unlock(&s->lock);
		notify_over(old, s->id, STOA_SESSION_OVER_DESTROYED);
		STOA_LOG_S(STOA_LOG_INFO, s->id, 0, "transport gone; waiting %d s for a claim",
			   reclaim);
	}
	g_ptr_array_unref(mine);
}

/* Why `s` must go at `now`, or -1 if it may stay. */
static int expiry_reason(stoa_session *s, gint64 now)
{
	g_mutex_lock(&s->lock);
	int timeout = s->timeout >= 0 ? s->timeout : stoa_config_session_timeout();
	gint64 orphaned = s->orphaned_since;
	g_mutex_unlock(&s->lock);
	int reclaim = stoa_config_get()->reclaim_session_timeout;
	if (orphaned > 0 && now - orphaned >= (gint64)reclaim * G_USEC_PER_SEC)
		return STOA_SESSION_OVER_DESTROYED;
	gint64 last = __atomic_load_n(&s->last_activity, __ATOMIC_RELAXED);
	if (timeout > 0 && now - last >= (gint64)timeout * G_USEC_PER_SEC)
		return STOA_SESSION_OVER_TIMEOUT;
	return -1;
}

void stoa_sessions_check_timeouts(gint64 now)
{
	GPtrArray *all = collect(NULL, NULL);
	for (guint i = 0; i < all->len; i++) {
		stoa_session *s = all->pdata[i];
		int why = expiry_reason(s, now);
		if (why < 0)
			continue;
		STOA_LOG_S(STOA_LOG_INFO, s->id, 0, "expired");
		stoa_session_destroy(s, (stoa_session_over_reason)why);
	}
	g_ptr_array_unref(all);
}

void stoa_sessions_destroy_all(void)
{
	GPtrArray *all = collect(NULL, NULL);
	for (guint i = 0; i < all->len; i++)
		stoa_session_destroy(all->pdata[i], STOA_SESSION_OVER_DESTROYED);
	g_ptr_array_unref(all);
}
