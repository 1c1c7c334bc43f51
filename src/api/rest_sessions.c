/*
 * rest_sessions.c: the core's Janus API sessions.
 *
 *   GET    /sessions              every session, with its handle count
 *   GET    /sessions/{session}    one session and its handles, each as the
 *                                 Admin API's handle_info shows it (plugin,
 *                                 ICE/DTLS state, per-stream stats)
 *   DELETE /sessions/{session}    destroy it, as the Admin API's
 *                                 destroy_session: clients get `detached`
 *
 * Times are durations in seconds (age, idle), not timestamps: the core
 * keeps monotonic times, which mean nothing outside the process.
 *
 * Threads: the caller's. Sessions are looked up with a reference (so one
 * destroyed meanwhile is still safe to read); the handle details wait for
 * each peer connection's media loop, which is why this must not run on a
 * loop.
 */
#include <glib.h>

#include "api/api_internal.h"
#include "api/rest_internal.h"
#include "core/config.h"
#include "core/handle.h"
#include "core/log.h"
#include "core/session.h"

#define STOA_LOG_MODULE "rest"

static json_int_t seconds_since(gint64 then, gint64 now)
{
	return then > 0 && now > then ? (json_int_t)((now - then) / G_USEC_PER_SEC) : 0;
}

/* The session's summary; its handles (+1 ref each) go to `*handles` when
 * not NULL. */
static json_t *session_json(stoa_session *s, GPtrArray **handles)
{
	gint64 now = g_get_monotonic_time();
	GPtrArray *hs = stoa_session_handles(s);
	json_t *o;
	int timeout;
	bool orphaned;

	g_mutex_lock(&s->lock);
	timeout = s->timeout >= 0 ? s->timeout : stoa_config_session_timeout();
	orphaned = s->orphaned_since > 0;
	g_mutex_unlock(&s->lock);
	o = json_pack("{s:I,s:s,s:I,s:I,s:i,s:b,s:i}", "id", (json_int_t)s->id, "transport",
		      s->transport_pkg != NULL ? s->transport_pkg : "", "age_seconds",
		      seconds_since(s->created, now), "idle_seconds",
		      seconds_since(__atomic_load_n(&s->last_activity, __ATOMIC_RELAXED), now),
		      "timeout_seconds", timeout, "orphaned", orphaned, "num_handles", (int)hs->len);
	if (handles != NULL)
		*handles = hs;
	else
		g_ptr_array_unref(hs);
	return o;
}

void stoa__rest_sessions_list(stoa_rest_ctx *ctx)
{
	json_t *ids = stoa_sessions_list();
	json_t *list = json_array();
	size_t i;
	json_t *id;

	json_array_foreach(ids, i, id) {
		/* One destroyed since the list was taken is simply left out. */
		stoa_session *s = stoa_session_find((uint64_t)json_integer_value(id));
		if (s == NULL)
			continue;
		json_array_append_new(list, session_json(s, NULL));
		stoa_session_unref(s);
	}
	json_decref(ids);
	stoa__rest_reply(ctx, 200, json_pack("{s:o}", "sessions", list));
}

/* The session named by the path (+1 ref), or NULL with 404 set. */
static stoa_session *find_session(stoa_rest_ctx *ctx)
{
	stoa_session *s = stoa_session_find(ctx->ids[0]);

	if (s == NULL)
		stoa__rest_error(ctx, STOA_REST_ERR_SESSION_NOT_FOUND, NULL,
				 "no session %" G_GUINT64_FORMAT, ctx->ids[0]);
	return s;
}

void stoa__rest_session_get(stoa_rest_ctx *ctx)
{
	stoa_session *s = find_session(ctx);
	GPtrArray *hs;
	json_t *o, *handles;

	if (s == NULL)
		return;
	o = session_json(s, &hs);
	handles = json_array();
	for (guint i = 0; i < hs->len; i++) {
		json_t *info = stoa__api_handle_info(hs->pdata[i], false);
		/* The Janus API token the handle was attached with is a credential:
		 * the Admin API (admin_secret) shows it, as Janus does, but a REST
		 * token with only the read scope must not learn it. */
		json_object_del(info, "token");
		json_array_append_new(handles, info);
	}
	g_ptr_array_unref(hs);
	json_object_set_new(o, "handles", handles);
	stoa_session_unref(s);
	stoa__rest_reply(ctx, 200, o);
}

void stoa__rest_session_delete(stoa_rest_ctx *ctx)
{
	stoa_session *s = find_session(ctx);

	if (s == NULL)
		return;
	STOA_LOG_S(STOA_LOG_INFO, s->id, 0, "destroyed through the REST API (%s)",
		   ctx->req->peer != NULL ? ctx->req->peer : "?");
	stoa_session_destroy(s, STOA_SESSION_OVER_DESTROYED);
	stoa_session_unref(s);
	stoa__rest_reply(ctx, 204, NULL);
}
