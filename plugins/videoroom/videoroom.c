/*
 * videoroom.c: janus.plugin.videoroom — the vtable, the handles, the request
 * tables and the worker thread.
 *
 * Requests come in two tables, as Janus splits them: room requests (create,
 * list, kick, ...) are answered synchronously inside the `success` reply;
 * participant requests (join, publish, start, ...) get an `ack` and are
 * answered by an event from the "videoroom" worker thread, because they may
 * wait for the core (ICE gathering for an SDP) and the API thread must not.
 * A missing or unknown request name is answered synchronously whatever it
 * is, as Janus does.
 *
 * Threads: handle_message on API threads; one worker thread for the async
 * table and for offers the plugin sends on its own (subscriber updates);
 * media callbacks on media loops (publisher.c, subscriber.c, fanout.c).
 * See videoroom.h for the locking rules.
 */
#include <stdarg.h>
#include <string.h>

#include "videoroom.h"

const stoa_core_api *vr_core;
GMutex vr_lock;
vr_general vr_conf;
char *vr_config_path;

/* Handles whose pc must be closed once vr_lock is released. */
static GPtrArray *deferred_close;

typedef enum { JOB_REQUEST, JOB_UPDATE, JOB_STOP } job_kind;

typedef struct vr_job {
	job_kind kind;
	vr_handle *h;		/* ref */
	stoa_plugin_session *ps; /* ref */
	char *transaction;
	json_t *body, *jsep;
	vr_subscriber *sub;	/* JOB_UPDATE: ref */
} vr_job;

static GAsyncQueue *jobs;
static GThread *worker;

/* ---- helpers shared by the other files ---- */

int vr_error(vr_req *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->code = code;
	return code;
}

json_t *vr_error_json(int code, const char *text)
{
	return json_pack("{s:s,s:i,s:s}", "videoroom", "event", "error_code", code, "error", text);
}

void vr_notify(stoa_plugin_session *ps, json_t *ev)
{
	if (ps != NULL && !g_atomic_int_get(&ps->stopped))
		vr_core->push_event(ps, NULL, ev, NULL);
}

void vr_notify_room(vr_room *room, json_t *ev, vr_publisher *except, bool subscribers_too)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (v != except)
			vr_notify(((vr_publisher *)v)->ps, ev);
	for (guint i = 0; subscribers_too && i < room->subscribers->len; i++)
		vr_notify(((vr_subscriber *)room->subscribers->pdata[i])->ps, ev);
}

int vr_check(vr_req *r, json_t *obj, const stoa_field *f, size_t n)
{
	switch (stoa_fields_check(obj, f, n, NULL, r->err, sizeof(r->err))) {
	case STOA_FIELDS_MISSING: return r->code = VR_ERR_MISSING_ELEMENT;
	case STOA_FIELDS_INVALID: return r->code = VR_ERR_INVALID_ELEMENT;
	default: return 0;
	}
}

guint64 vr_random_id(void)
{
	/* Janus's ids are positive and fit a JavaScript number (53 bits). */
	guint64 v;
	do
		v = ((guint64)g_random_int() << 21 ^ g_random_int()) & ((G_GUINT64_CONSTANT(1) << 53) - 1);
	while (v == 0);
	return v;
}

void vr_defer_close(stoa_plugin_session *ps)
{
	vr_core->session_ref(ps);
	g_ptr_array_add(deferred_close, ps);
}

/* vr_lock NOT held. */
static void run_deferred(void)
{
	g_mutex_lock(&vr_lock);
	GPtrArray *list = deferred_close;
	deferred_close = g_ptr_array_new();
	g_mutex_unlock(&vr_lock);
	for (guint i = 0; i < list->len; i++) {
		stoa_plugin_session *ps = list->pdata[i];
		vr_core->close_pc(ps);
		vr_core->session_unref(ps);
	}
	g_ptr_array_unref(list);
}

/* ---- handles ---- */

static vr_handle *handle_ref(vr_handle *h)
{
	g_atomic_int_inc(&h->ref);
	return h;
}

static void handle_unref(vr_handle *h)
{
	if (h != NULL && g_atomic_int_dec_and_test(&h->ref))
		g_free(h);
}

/* The handle's state with a ref, or NULL once destroy_session ran. */
static vr_handle *handle_get(stoa_plugin_session *ps)
{
	g_mutex_lock(&vr_lock);
	vr_handle *h = ps->plugin_data;
	if (h != NULL)
		handle_ref(h);
	g_mutex_unlock(&vr_lock);
	return h;
}

/* ---- request tables ---- */

typedef json_t *(*sync_fn)(vr_req *r);
typedef json_t *(*async_fn)(vr_req *r, json_t **jsep);

static const struct {
	const char *name;
	sync_fn fn;
} sync_table[] = {
	{ "create", vr_req_create },
	{ "edit", vr_req_edit },
	{ "destroy", vr_req_destroy },
	{ "exists", vr_req_exists },
	{ "list", vr_req_list },
	{ "allowed", vr_req_allowed },
	{ "kick", vr_req_kick },
	{ "moderate", vr_req_moderate },
	{ "listparticipants", vr_req_listparticipants },
	{ "listforwarders", vr_req_listforwarders },
	{ "rtp_forward", vr_req_rtp_forward },
	{ "stop_rtp_forward", vr_req_stop_rtp_forward },
	{ "participant_info", vr_req_participant_info },
	{ "stats", vr_req_stats },
};

/* Async requests by participant type: publisher, subscriber, unconfigured. */
static json_t *req_join(vr_req *r, json_t **jsep);
static json_t *req_configure(vr_req *r, json_t **jsep);
static json_t *req_leave(vr_req *r, json_t **jsep);
static json_t *req_start(vr_req *r, json_t **jsep);
static json_t *req_pause(vr_req *r, json_t **jsep);
static json_t *req_switch(vr_req *r, json_t **jsep);
static json_t *req_unpublish(vr_req *r, json_t **jsep);

static const struct {
	const char *name;
	async_fn fn;
} async_table[] = {
	{ "join", req_join },
	{ "joinandconfigure", req_join },
	{ "configure", req_configure },
	{ "publish", req_configure },
	{ "unpublish", req_unpublish },
	{ "leave", req_leave },
	{ "start", req_start },
	{ "pause", req_pause },
	{ "switch", req_switch },
	{ "subscribe", vr_sub_update },
	{ "unsubscribe", vr_sub_update },
	{ "update", vr_sub_update },
};

static vr_ptype ptype_of(vr_handle *h)
{
	g_mutex_lock(&vr_lock);
	vr_ptype t = h->ptype;
	g_mutex_unlock(&vr_lock);
	return t;
}

static json_t *req_join(vr_req *r, json_t **jsep)
{
	static const stoa_field fields[] = { { "room", STOA_FIELD_POSINT, true },
					   { "ptype", STOA_FIELD_STRING, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	const char *ptype = json_string_value(json_object_get(r->body, "ptype"));
	bool publisher = strcmp(ptype, "publisher") == 0;
	if (!publisher && strcmp(ptype, "subscriber") != 0 && strcmp(ptype, "listener") != 0) {
		vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element (ptype)");
		return NULL;
	}
	vr_ptype t = ptype_of(r->h);
	if (t != VR_NONE) {
		vr_error(r, VR_ERR_ALREADY_JOINED, "Already in as a %s on this handle",
			 t == VR_PUBLISHER ? "publisher" : "subscriber");
		return NULL;
	}
	if (!publisher && r->jsep != NULL) {
		vr_error(r, VR_ERR_INVALID_REQUEST, "Can't send an offer to create subscribers");
		return NULL;
	}
	return publisher ? vr_pub_join(r, jsep) : vr_sub_join(r, jsep);
}

static json_t *not_joined(vr_req *r)
{
	vr_error(r, VR_ERR_JOIN_FIRST, "Invalid request on unconfigured participant");
	return NULL;
}

static json_t *req_configure(vr_req *r, json_t **jsep)
{
	const char *name = json_string_value(json_object_get(r->body, "request"));
	switch (ptype_of(r->h)) {
	case VR_PUBLISHER:
		return strcmp(name, "publish") == 0 ? vr_pub_publish(r, jsep) : vr_pub_configure(r, jsep);
	case VR_SUBSCRIBER:
		if (strcmp(name, "publish") == 0) {
			vr_error(r, VR_ERR_INVALID_REQUEST, "Unknown request 'publish' for a subscriber");
			return NULL;
		}
		return vr_sub_configure(r, jsep);
	default:
		return not_joined(r);
	}
}

static json_t *req_unpublish(vr_req *r, json_t **jsep)
{
	(void)jsep;
	if (ptype_of(r->h) != VR_PUBLISHER)
		return ptype_of(r->h) == VR_NONE ? not_joined(r)
						 : (vr_error(r, VR_ERR_INVALID_REQUEST,
							     "Unknown request 'unpublish' for a subscriber"),
						    NULL);
	return vr_pub_unpublish(r);
}

static json_t *req_leave(vr_req *r, json_t **jsep)
{
	(void)jsep;
	switch (ptype_of(r->h)) {
	case VR_PUBLISHER: return vr_pub_leave(r);
	case VR_SUBSCRIBER: return vr_sub_leave(r);
	default: return not_joined(r);
	}
}

static json_t *sub_only(vr_req *r, const char *name)
{
	if (ptype_of(r->h) == VR_NONE)
		return not_joined(r);
	vr_error(r, VR_ERR_INVALID_REQUEST, "Unknown request '%s' for a publisher", name);
	return NULL;
}

static json_t *req_start(vr_req *r, json_t **jsep)
{
	if (ptype_of(r->h) != VR_SUBSCRIBER)
		return sub_only(r, "start");
	return vr_sub_start(r, jsep);
}

static json_t *req_pause(vr_req *r, json_t **jsep)
{
	(void)jsep;
	if (ptype_of(r->h) != VR_SUBSCRIBER)
		return sub_only(r, "pause");
	return vr_sub_pause(r);
}

static json_t *req_switch(vr_req *r, json_t **jsep)
{
	(void)jsep;
	if (ptype_of(r->h) != VR_SUBSCRIBER)
		return sub_only(r, "switch");
	return vr_sub_switch(r);
}

static async_fn async_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(async_table); i++)
		if (strcmp(async_table[i].name, name) == 0)
			return async_table[i].fn;
	return NULL;
}

static sync_fn sync_find(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sync_table); i++)
		if (strcmp(sync_table[i].name, name) == 0)
			return sync_table[i].fn;
	return NULL;
}

/* ---- the worker ---- */

static void job_free(vr_job *j)
{
	if (j->h != NULL)
		handle_unref(j->h);
	if (j->ps != NULL)
		vr_core->session_unref(j->ps);
	if (j->sub != NULL)
		vr_subscriber_unref(j->sub);
	g_free(j->transaction);
	if (j->body != NULL)
		json_decref(j->body);
	if (j->jsep != NULL)
		json_decref(j->jsep);
	g_free(j);
}

/* A kicked participant keeps its handle, but as in Janus every further
 * participant request on it (join again included) is refused with 433;
 * so is one on a subscription its kick cut (require_pvtid rooms). */
static bool was_kicked(vr_handle *h)
{
	g_mutex_lock(&vr_lock);
	bool kicked = (h->pub != NULL && h->pub->kicked) || (h->sub != NULL && h->sub->kicked);
	g_mutex_unlock(&vr_lock);
	return kicked;
}

static void run_request(vr_job *j)
{
	if (g_atomic_int_get(&j->ps->stopped))
		return;
	vr_req r = { .h = j->h, .ps = j->ps, .transaction = j->transaction, .body = j->body,
		     .jsep = j->jsep };
	const char *name = json_string_value(json_object_get(j->body, "request"));
	async_fn fn = async_find(name);
	json_t *jsep = NULL;
	json_t *reply = NULL;
	if (was_kicked(j->h))
		vr_error(&r, VR_ERR_UNAUTHORIZED, "Unauthorized, you have been kicked");
	else
		reply = fn(&r, &jsep);
	run_deferred();
	if (reply == NULL) {
		if (r.code == 0)
			vr_error(&r, VR_ERR_UNKNOWN, "Internal error");
		reply = vr_error_json(r.code, r.err);
		vr_core->log(STOA_LOG_VERB, j->ps, "%s: error %d: %s", name, r.code, r.err);
	}
	vr_core->push_event(j->ps, j->transaction, reply, jsep);
	json_decref(reply);
	if (jsep != NULL)
		json_decref(jsep);
}

static gpointer worker_main(gpointer data)
{
	(void)data;
	for (;;) {
		vr_job *j = g_async_queue_pop(jobs);
		if (j->kind == JOB_STOP) {
			job_free(j);
			break;
		}
		if (j->kind == JOB_REQUEST)
			run_request(j);
		else
			vr_subscriber_push_update(j->sub);
		job_free(j);
	}
	return NULL;
}

void vr_worker_push_update(vr_subscriber *s)
{
	vr_job *j = g_new0(vr_job, 1);
	j->kind = JOB_UPDATE;
	j->sub = vr_subscriber_ref(s);
	g_async_queue_push(jobs, j);
}

/* ---- the vtable ---- */

static void skip_room(const char *section, const char *reason, void *user)
{
	(void)user;
	vr_core->log(STOA_LOG_WARN, NULL, "config: skipping %s: %s", section, reason);
}

static int vr_init(const stoa_core_api *api, const char *config_path)
{
	vr_core = api;
	vr_config_path = g_strdup(config_path);
	deferred_close = g_ptr_array_new();
	vr_rooms_init();
	memset(&vr_conf, 0, sizeof(vr_conf));
	vr_conf.events = true;
	char err[512];
	if (vr_config_load(config_path, &vr_conf, vr_rooms_add_configured, skip_room, NULL, err,
			   sizeof(err)) < 0) {
		vr_core->log(STOA_LOG_ERR, NULL, "%s", err);
		vr_rooms_destroy();
		g_ptr_array_unref(deferred_close);
		g_free(vr_config_path);
		return -1;
	}
	jobs = g_async_queue_new();
	worker = g_thread_new("videoroom", worker_main, NULL);
	vr_core->log(STOA_LOG_INFO, NULL, "%s initialised (config %s)", VR_PACKAGE, config_path);
	return 0;
}

static void vr_destroy(void)
{
	vr_job *stop = g_new0(vr_job, 1);
	stop->kind = JOB_STOP;
	g_async_queue_push(jobs, stop);
	g_thread_join(worker);
	vr_job *j;
	while ((j = g_async_queue_try_pop(jobs)) != NULL)
		job_free(j);
	g_async_queue_unref(jobs);
	jobs = NULL;
	vr_rooms_destroy();
	run_deferred();
	g_ptr_array_unref(deferred_close);
	deferred_close = NULL;
	vr_general_clear(&vr_conf);
	g_free(vr_config_path);
	vr_config_path = NULL;
}

static int vr_create_session(stoa_plugin_session *ps)
{
	vr_handle *h = g_new0(vr_handle, 1);
	h->ref = 1;
	h->ps = ps;
	g_mutex_lock(&vr_lock);
	ps->plugin_data = h;
	g_mutex_unlock(&vr_lock);
	return 0;
}

static stoa_plugin_result *sync_reply(json_t *content)
{
	return stoa_plugin_result_new(STOA_PLUGIN_OK, NULL, content);
}

static stoa_plugin_result *run_sync(vr_handle *h, stoa_plugin_session *ps, sync_fn fn, json_t *body)
{
	vr_req r = { .h = h, .ps = ps, .body = body };
	json_t *reply = fn(&r);
	run_deferred();
	if (reply == NULL)
		reply = vr_error_json(r.code != 0 ? r.code : VR_ERR_UNKNOWN, r.err);
	return sync_reply(reply);
}

static stoa_plugin_result *dispatch(stoa_plugin_session *ps, const char *transaction, json_t *body,
				    json_t *jsep);

static stoa_plugin_result *vr_handle_message(stoa_plugin_session *ps, const char *transaction,
					     json_t *body, json_t *jsep)
{
	if (!json_is_object(body))
		return sync_reply(vr_error_json(VR_ERR_INVALID_JSON, "JSON error: not an object"));
	json_t *req = json_object_get(body, "request");
	if (req == NULL)
		return sync_reply(vr_error_json(VR_ERR_MISSING_ELEMENT, "Missing element (request)"));
	if (!json_is_string(req))
		return sync_reply(vr_error_json(VR_ERR_INVALID_ELEMENT,
						"Invalid element type (request should be a string)"));
	/* Janus matches request names without regard to case. */
	char *lower = g_ascii_strdown(json_string_value(req), -1);
	body = json_copy(body);
	json_object_set_new(body, "request", json_string(lower));
	g_free(lower);
	stoa_plugin_result *res = dispatch(ps, transaction, body, jsep);
	json_decref(body);
	return res;
}

static stoa_plugin_result *dispatch(stoa_plugin_session *ps, const char *transaction, json_t *body,
				    json_t *jsep)
{
	const char *name = json_string_value(json_object_get(body, "request"));
	vr_handle *h = handle_get(ps);
	if (h == NULL)
		return stoa_plugin_result_new(STOA_PLUGIN_ERROR, "No session associated with this handle",
					      NULL);
	sync_fn sfn = sync_find(name);
	if (sfn != NULL) {
		stoa_plugin_result *res = run_sync(h, ps, sfn, body);
		handle_unref(h);
		return res;
	}
	if (async_find(name) == NULL) {
		handle_unref(h);
		char text[300];
		g_snprintf(text, sizeof(text), "Unknown request '%s'", name);
		return sync_reply(vr_error_json(VR_ERR_INVALID_REQUEST, text));
	}
	vr_job *j = g_new0(vr_job, 1);
	j->kind = JOB_REQUEST;
	j->h = h;
	vr_core->session_ref(ps);
	j->ps = ps;
	j->transaction = g_strdup(transaction);
	j->body = json_incref(body);
	j->jsep = jsep != NULL ? json_incref(jsep) : NULL;
	g_async_queue_push(jobs, j);
	return stoa_plugin_result_new(STOA_PLUGIN_OK_WAIT, NULL, NULL);
}

static json_t *vr_handle_admin_message(json_t *request)
{
	json_t *req = json_object_get(request, "request");
	char *lower = json_is_string(req) ? g_ascii_strdown(json_string_value(req), -1) : NULL;
	sync_fn fn = lower != NULL ? sync_find(lower) : NULL;
	g_free(lower);
	if (fn == NULL)
		return vr_error_json(VR_ERR_INVALID_REQUEST, "Unknown request");
	vr_req r = { .body = request, .admin = true };
	json_t *reply = fn(&r);
	run_deferred();
	return reply != NULL ? reply : vr_error_json(r.code != 0 ? r.code : VR_ERR_UNKNOWN, r.err);
}

static void vr_destroy_session(stoa_plugin_session *ps)
{
	g_mutex_lock(&vr_lock);
	vr_handle *h = ps->plugin_data;
	ps->plugin_data = NULL;
	if (h == NULL) {
		g_mutex_unlock(&vr_lock);
		return;
	}
	h->destroyed = true;
	vr_publisher *pub = h->pub;
	vr_subscriber *sub = h->sub;
	h->pub = NULL;
	h->sub = NULL;
	if (pub != NULL)
		vr_publisher_remove(pub, NULL, false);
	if (sub != NULL)
		vr_subscriber_remove(sub);
	g_mutex_unlock(&vr_lock);
	run_deferred();
	if (pub != NULL)
		vr_publisher_unref(pub);
	if (sub != NULL)
		vr_subscriber_unref(sub);
	handle_unref(h);
}

static json_t *vr_query_session(stoa_plugin_session *ps)
{
	vr_handle *h = handle_get(ps);
	if (h == NULL)
		return NULL;
	g_mutex_lock(&vr_lock);
	json_t *info = h->pub != NULL	? vr_publisher_query(h->pub)
		       : h->sub != NULL ? vr_subscriber_query(h->sub)
					: json_pack("{s:s}", "type", "none");
	g_mutex_unlock(&vr_lock);
	handle_unref(h);
	json_t *media = vr_core->media_stats(ps);
	if (media != NULL)
		json_object_set_new(info, "media", media);
	return info;
}

/* ---- media callbacks: by participant type (the media loop) ---- */

/* ps->plugin_data is cleared only by destroy_session, which runs after the
 * core stopped delivering media to the handle; ptype is set once. */
static vr_handle *media_handle(stoa_plugin_session *ps)
{
	return ps->plugin_data;
}

static void vr_setup_media(stoa_plugin_session *ps)
{
	vr_handle *h = handle_get(ps);
	if (h == NULL)
		return;
	vr_ptype t = ptype_of(h);
	if (t == VR_PUBLISHER)
		vr_pub_setup_media(h);
	else if (t == VR_SUBSCRIBER)
		vr_sub_setup_media(h);
	handle_unref(h);
}

static void vr_hangup_media(stoa_plugin_session *ps)
{
	vr_handle *h = handle_get(ps);
	if (h == NULL)
		return;
	vr_ptype t = ptype_of(h);
	if (t == VR_PUBLISHER)
		vr_pub_hangup_media(h);
	else if (t == VR_SUBSCRIBER)
		vr_sub_hangup_media(h);
	run_deferred();
	handle_unref(h);
}

static void vr_incoming_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt)
{
	vr_handle *h = media_handle(ps);
	if (h != NULL && h->ptype == VR_PUBLISHER)
		vr_pub_incoming_rtp(h, pkt);
}

static void vr_incoming_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt)
{
	vr_handle *h = media_handle(ps);
	if (h == NULL)
		return;
	if (h->ptype == VR_SUBSCRIBER)
		vr_sub_incoming_rtcp(h, pkt);
}

static void vr_incoming_data(stoa_plugin_session *ps, stoa_plugin_data *msg)
{
	vr_handle *h = media_handle(ps);
	if (h != NULL && h->ptype == VR_PUBLISHER)
		vr_pub_incoming_data(h, msg);
}

static const stoa_plugin videoroom = {
	.api_version = STOA_PLUGIN_API_VERSION,
	.package = VR_PACKAGE,
	.name = "Stoa VideoRoom plugin",
	.description = "An SFU: rooms where publishers send once and the server forwards to every "
		       "subscriber (Janus-compatible VideoRoom).",
	.author = "Stoa",
	.version_string = "0.0.10",
	.version = 10,
	.init = vr_init,
	.destroy = vr_destroy,
	.create_session = vr_create_session,
	.handle_message = vr_handle_message,
	.handle_admin_message = vr_handle_admin_message,
	.destroy_session = vr_destroy_session,
	.query_session = vr_query_session,
	.setup_media = vr_setup_media,
	.hangup_media = vr_hangup_media,
	.incoming_rtp = vr_incoming_rtp,
	.incoming_rtcp = vr_incoming_rtcp,
	.incoming_data = vr_incoming_data,
};

STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void);
STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void)
{
	return &videoroom;
}
