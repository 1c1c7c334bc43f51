/*
 * videocall.c: janus.plugin.videocall — the vtable, the users (one per
 * handle), the worker thread and the work deferred past vc_lock.
 *
 * A user registers a name; a caller sends `call` with its offer, the server
 * offers the callee the same m-lines (generate_offer) and, once the callee
 * accepts with its answer, answers the caller (generate_answer) with the
 * codecs the callee kept. From then on call.c relays each party's media to
 * the other. Every request is asynchronous, as Janus's VideoCall is: the
 * client gets an `ack`, then an event with the request's transaction
 * (errors included). Requests are answered by one "videocall" worker thread
 * because generate_offer/generate_answer wait for ICE gathering and API
 * threads must not.
 *
 * Threads: create_session, handle_message, destroy_session, query_session on
 * API threads (handle_message only queues); the worker for requests; media
 * callbacks on media loops (call.c). See videocall.h for locks and refs.
 */
#include <stdarg.h>
#include <string.h>

#include "videocall.h"

const stoa_core_api *vc_core;
GMutex vc_lock;

/* ---- refcounts ---- */

vc_user *vc_user_ref(vc_user *u)
{
	g_atomic_int_inc(&u->ref);
	return u;
}

void vc_user_unref(vc_user *u)
{
	if (u == NULL || !g_atomic_int_dec_and_test(&u->ref))
		return;
	/* The last ref: no call, no link (vc_call_end cleared them). */
	vc_core->session_unref(u->ps);
	g_mutex_clear(&u->link_lock);
	g_free(u->username);
	g_free(u);
}

vc_call *vc_call_ref(vc_call *c)
{
	g_atomic_int_inc(&c->ref);
	return c;
}

void vc_call_unref(vc_call *c)
{
	if (c == NULL || !g_atomic_int_dec_and_test(&c->ref))
		return;
	for (int s = 0; s < 2; s++) {
		vc_user_unref(c->user[s]);
		if (c->relay[s] != NULL)
			vc_relay_unref(c->relay[s]);
	}
	for (int i = 0; i < c->n; i++) {
		g_free(c->m[i].mid);
		g_free(c->m[i].codec);
	}
	g_free(c->offer_sdp);
	g_free(c);
}

/* ---- replies ---- */

int vc_error(vc_req *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->code = code;
	return code;
}

static json_t *wrap(json_t *result)
{
	return json_pack("{s:s,s:o}", "videocall", "event", "result", result);
}

void vc_reply(vc_req *r, json_t *result, json_t *jsep)
{
	json_t *ev = wrap(result);
	vc_core->push_event(r->ps, r->transaction, ev, jsep);
	json_decref(ev);
	r->replied = true;
}

void vc_notify(vc_user *u, json_t *result, json_t *jsep)
{
	json_t *ev = wrap(result);
	if (!g_atomic_int_get(&u->ps->stopped))
		vc_core->push_event(u->ps, NULL, ev, jsep);
	json_decref(ev);
}

int vc_check(vc_req *r, const stoa_field *f, size_t n)
{
	char err[256];
	switch (stoa_fields_check(r->body, f, n, NULL, err, sizeof(err))) {
	case STOA_FIELDS_MISSING: return vc_error(r, VC_ERR_MISSING_ELEMENT, "%s", err);
	case STOA_FIELDS_INVALID: return vc_error(r, VC_ERR_INVALID_ELEMENT, "%s", err);
	default: return 0;
	}
}

/* ---- deferred work ---- */

typedef enum { DEFER_CLOSE, DEFER_CALL, DEFER_LINK } defer_kind;

typedef struct vc_deferred {
	defer_kind kind;
	void *ptr;
} vc_deferred;

static GArray *deferred; /* vc_deferred, under vc_lock */

static void defer(defer_kind kind, void *ptr)
{
	vc_deferred d = { kind, ptr };
	g_array_append_val(deferred, d);
}

void vc_defer_close(vc_user *u)
{
	defer(DEFER_CLOSE, vc_user_ref(u));
}

void vc_defer_unref_call(vc_call *c)
{
	defer(DEFER_CALL, c);
}

void vc_defer_unref_link(vc_link *l)
{
	if (l != NULL)
		defer(DEFER_LINK, l);
}

void vc_run_deferred(void)
{
	g_mutex_lock(&vc_lock);
	GArray *list = deferred;
	deferred = g_array_new(FALSE, FALSE, sizeof(vc_deferred));
	g_mutex_unlock(&vc_lock);
	for (guint i = 0; i < list->len; i++) {
		vc_deferred *d = &g_array_index(list, vc_deferred, i);
		switch (d->kind) {
		case DEFER_CLOSE:
			vc_core->close_pc(((vc_user *)d->ptr)->ps);
			vc_user_unref(d->ptr);
			break;
		case DEFER_CALL:
			vc_call_unref(d->ptr);
			break;
		case DEFER_LINK:
			vc_link_unref(d->ptr);
			break;
		}
	}
	g_array_unref(list);
}

/* ---- users ---- */

/* The handle's user with a ref, or NULL once destroy_session ran. */
static vc_user *user_get(stoa_plugin_session *ps)
{
	g_mutex_lock(&vc_lock);
	vc_user *u = ps->plugin_data;
	if (u != NULL)
		vc_user_ref(u);
	g_mutex_unlock(&vc_lock);
	return u;
}

/* ---- the worker ---- */

typedef struct vc_job {
	vc_user *u;		/* ref; NULL for the stop sentinel */
	stoa_plugin_session *ps; /* ref */
	char *transaction;
	json_t *body, *jsep;
} vc_job;

static GAsyncQueue *jobs;
static GThread *worker;

typedef int (*vc_handler)(vc_req *r);

static const struct {
	const char *name;
	vc_handler fn;
} requests[] = {
	{ "list", vc_req_list },	 { "register", vc_req_register }, { "presence", vc_req_presence },
	{ "call", vc_req_call },	 { "accept", vc_req_accept },	  { "set", vc_req_set },
	{ "hangup", vc_req_hangup },
};

static void job_free(vc_job *j)
{
	if (j->u != NULL)
		vc_user_unref(j->u);
	if (j->ps != NULL)
		vc_core->session_unref(j->ps);
	g_free(j->transaction);
	if (j->body != NULL)
		json_decref(j->body);
	if (j->jsep != NULL)
		json_decref(j->jsep);
	g_free(j);
}

/* Which handler, or NULL with an error set on r. */
static vc_handler find_handler(vc_req *r)
{
	if (r->body == NULL) {
		vc_error(r, VC_ERR_NO_MESSAGE, "No message??");
		return NULL;
	}
	if (!json_is_object(r->body)) {
		vc_error(r, VC_ERR_INVALID_JSON, "JSON error: not an object");
		return NULL;
	}
	json_t *req = json_object_get(r->body, "request");
	if (req == NULL) {
		vc_error(r, VC_ERR_MISSING_ELEMENT, "Missing mandatory element (request)");
		return NULL;
	}
	if (!json_is_string(req)) {
		vc_error(r, VC_ERR_INVALID_ELEMENT, "Invalid element type (request should be a string)");
		return NULL;
	}
	/* Janus matches request names without regard to case. */
	for (size_t i = 0; i < G_N_ELEMENTS(requests); i++)
		if (g_ascii_strcasecmp(requests[i].name, json_string_value(req)) == 0)
			return requests[i].fn;
	vc_error(r, VC_ERR_INVALID_REQUEST, "Unknown request '%s'", json_string_value(req));
	return NULL;
}

static void run_request(vc_job *j)
{
	if (g_atomic_int_get(&j->ps->stopped))
		return;
	vc_req r = { .u = j->u, .ps = j->ps, .transaction = j->transaction, .body = j->body,
		     .jsep = j->jsep };
	vc_handler fn = find_handler(&r);
	if (fn != NULL && fn(&r) != 0 && r.code == 0)
		vc_error(&r, VC_ERR_UNKNOWN, "Internal error");
	vc_run_deferred();
	if (r.code == 0 && !r.replied)
		vc_error(&r, VC_ERR_UNKNOWN, "Internal error (no reply)");
	if (r.code == 0)
		return;
	vc_core->log(STOA_LOG_VERB, j->ps, "error %d: %s", r.code, r.err);
	json_t *ev = json_pack("{s:s,s:i,s:s}", "videocall", "event", "error_code", r.code, "error",
			       r.err);
	vc_core->push_event(j->ps, j->transaction, ev, NULL);
	json_decref(ev);
}

static gpointer worker_main(gpointer data)
{
	(void)data;
	for (;;) {
		vc_job *j = g_async_queue_pop(jobs);
		if (j->u == NULL) {
			job_free(j);
			break;
		}
		run_request(j);
		job_free(j);
	}
	return NULL;
}

/* ---- the vtable ---- */

static int vc_init(const stoa_core_api *api, const char *config_path)
{
	vc_core = api;
	deferred = g_array_new(FALSE, FALSE, sizeof(vc_deferred));
	vc_registry_init();
	jobs = g_async_queue_new();
	worker = g_thread_new("videocall", worker_main, NULL);
	vc_core->log(STOA_LOG_INFO, NULL, "%s initialised (config %s, optional: no settings yet)",
		     VC_PACKAGE, config_path);
	return 0;
}

static void vc_destroy(void)
{
	g_async_queue_push(jobs, g_new0(vc_job, 1));
	g_thread_join(worker);
	/* Anything queued after the sentinel belongs to sessions already gone. */
	vc_job *j;
	while ((j = g_async_queue_try_pop(jobs)) != NULL)
		job_free(j);
	g_async_queue_unref(jobs);
	jobs = NULL;
	vc_run_deferred();
	vc_registry_destroy();
	g_array_unref(deferred);
	deferred = NULL;
}

static int vc_create_session(stoa_plugin_session *ps)
{
	vc_user *u = g_new0(vc_user, 1);
	u->ref = 1;
	vc_core->session_ref(ps);
	u->ps = ps;
	u->audio_on = u->video_on = 1;
	u->substream = u->temporal = -1;
	g_mutex_init(&u->link_lock);
	g_mutex_lock(&vc_lock);
	ps->plugin_data = u;
	g_mutex_unlock(&vc_lock);
	return 0;
}

static stoa_plugin_result *vc_handle_message(stoa_plugin_session *ps, const char *transaction,
					     json_t *body, json_t *jsep)
{
	vc_user *u = user_get(ps);
	if (u == NULL)
		return stoa_plugin_result_new(STOA_PLUGIN_ERROR, "No session associated with this handle",
					      NULL);
	vc_job *j = g_new0(vc_job, 1);
	j->u = u;
	vc_core->session_ref(ps);
	j->ps = ps;
	j->transaction = g_strdup(transaction);
	j->body = body != NULL ? json_incref(body) : NULL;
	j->jsep = jsep != NULL ? json_incref(jsep) : NULL;
	g_async_queue_push(jobs, j);
	return stoa_plugin_result_new(STOA_PLUGIN_OK_WAIT, NULL, NULL);
}

static void vc_destroy_session(stoa_plugin_session *ps)
{
	g_mutex_lock(&vc_lock);
	vc_user *u = ps->plugin_data;
	ps->plugin_data = NULL;
	if (u != NULL)
		vc_user_gone(u);
	g_mutex_unlock(&vc_lock);
	vc_run_deferred();
	vc_user_unref(u);
}

static json_t *vc_query_session(stoa_plugin_session *ps)
{
	vc_user *u = user_get(ps);
	if (u == NULL)
		return NULL;
	g_mutex_lock(&vc_lock);
	vc_call *c = u->call;
	json_t *info = json_pack("{s:s?,s:b,s:b,s:b,s:i,s:i,s:i}", "username", u->username,
				 "presence", u->presence, "audio_active",
				 g_atomic_int_get(&u->audio_on), "video_active",
				 g_atomic_int_get(&u->video_on), "bitrate", g_atomic_int_get(&u->bitrate),
				 "substream", g_atomic_int_get(&u->substream), "temporal",
				 g_atomic_int_get(&u->temporal));
	if (c != NULL) {
		int side = vc_side_of(c, u);
		vc_user *peer = c->user[!side];
		json_object_set_new(info, "state", json_string(c->state == VC_RINGING ? "ringing"
							       : c->state == VC_IN_CALL ? "incall"
											: "ended"));
		json_object_set_new(info, "role", json_string(side == VC_CALLER ? "caller" : "callee"));
		json_object_set_new(info, "peer", json_string(peer->username != NULL ? peer->username : ""));
	} else {
		json_object_set_new(info, "state", json_string(u->username != NULL ? "idle" : "unregistered"));
	}
	g_mutex_unlock(&vc_lock);
	vc_user_unref(u);
	json_t *media = vc_core->media_stats(ps);
	if (media != NULL)
		json_object_set_new(info, "media", media);
	return info;
}

static const stoa_plugin videocall = {
	.api_version = STOA_PLUGIN_API_VERSION,
	.package = VC_PACKAGE,
	.name = "Stoa VideoCall plugin",
	.description = "One-to-one calls between registered users, media relayed by the server "
		       "(Janus-compatible VideoCall).",
	.author = "Stoa",
	.version_string = "0.0.6",
	.version = 6,
	.init = vc_init,
	.destroy = vc_destroy,
	.create_session = vc_create_session,
	.handle_message = vc_handle_message,
	.destroy_session = vc_destroy_session,
	.query_session = vc_query_session,
	.setup_media = vc_setup_media,
	.hangup_media = vc_hangup_media,
	.incoming_rtp = vc_incoming_rtp,
	.incoming_rtcp = vc_incoming_rtcp,
	.incoming_data = vc_incoming_data,
};

STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void);
STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void)
{
	return &videocall;
}
