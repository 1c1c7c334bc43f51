/*
 * admin_api.c: the Admin/Monitor API (shared/janus-api-compat.md §6) —
 * global, session-level and handle-level verbs, each level with its own
 * table. Every verb but info and ping needs `admin_secret` when one is
 * configured; the Janus API's apisecret/token do not apply here.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/params.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/plugins.h"
#include "media/pc.h"

#define STOA_LOG_MODULE "admin"

/* ---- global verbs ---- */

static json_t *admin_info(stoa_request *req)
{
	json_t *info = stoa_api_server_info();
	json_object_set_new(info, "janus", json_string("server_info"));
	json_object_set_new(info, "transaction", json_string(req->transaction));
	return info;
}

static json_t *admin_ping(stoa_request *req)
{
	return json_pack("{s:s,s:s}", "janus", "pong", "transaction", req->transaction);
}

static json_t *admin_get_status(stoa_request *req)
{
	const stoa_config *c = stoa_config_get();
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "status", json_pack(
		"{s:b,s:i,s:i,s:i,s:i,s:b,s:b,s:b,s:b,s:i,s:b,s:i,s:i}",
		"token_auth", stoa_auth_token_enabled(),
		"session_timeout", stoa_config_session_timeout(),
		"reclaim_session_timeout", c->reclaim_session_timeout,
		"candidates_timeout", c->candidates_timeout,
		"log_level", stoa_log_get_level(),
		"log_timestamps", stoa_log_get_timestamps(),
		"log_colors", stoa_log_get_colors(),
		"locking_debug", 0, "refcount_debug", 0,
		"min_nack_queue", c->min_nack_queue,
		"nack-optimizations", 0,
		"no_media_timer", c->no_media_timer,
		"slowlink_threshold", c->slowlink_threshold));
	return r;
}

static json_t *admin_set_log_level(stoa_request *req)
{
	static const stoa_param params[] = { { "level", STOA_PARAM_POSITIVE, 1 } };
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	json_int_t level = json_integer_value(json_object_get(req->root, "level"));
	if (level > STOA_LOG_DBG)
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (level should be between 0 and 7)");
	stoa_log_set_level((int)level);
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "level", json_integer(level));
	return r;
}

/* A verb that sets one boolean and echoes it: set_log_timestamps, set_log_colors, accept_new_sessions. */
static json_t *set_bool(stoa_request *req, const char *field, const char *echo, void (*set)(bool))
{
	stoa_param params[] = { { field, STOA_PARAM_BOOL, 1 } };
	json_t *err = stoa__api_check(req, req->root, params, 1);
	if (err != NULL)
		return err;
	bool on = json_is_true(json_object_get(req->root, field));
	set(on);
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, echo, json_boolean(on));
	return r;
}

static json_t *admin_set_log_timestamps(stoa_request *req)
{
	return set_bool(req, "timestamps", "log_timestamps", stoa_log_set_timestamps);
}

static json_t *admin_set_log_colors(stoa_request *req)
{
	return set_bool(req, "colors", "log_colors", stoa_log_set_colors);
}

static json_t *admin_accept_new_sessions(stoa_request *req)
{
	return set_bool(req, "accept", "accept", stoa_config_set_accepting_sessions);
}

static json_t *admin_set_session_timeout(stoa_request *req)
{
	static const stoa_param params[] = { { "timeout", STOA_PARAM_INTEGER, 1 } };
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	json_int_t t = json_integer_value(json_object_get(req->root, "timeout"));
	json_int_t lowest = req->session != NULL ? -1 : 0;
	if (t < lowest || t > G_MAXINT)
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (timeout should be a positive integer)");
	if (req->session != NULL) {
		g_mutex_lock(&req->session->lock);
		req->session->timeout = (int)t;
		g_mutex_unlock(&req->session->lock);
	} else {
		stoa_config_set_session_timeout((int)t);
	}
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "timeout", json_integer(t));
	return r;
}

static json_t *admin_list_sessions(stoa_request *req)
{
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "sessions", stoa_sessions_list());
	return r;
}

static json_t *admin_message_plugin(stoa_request *req)
{
	static const stoa_param params[] = {
		{ "plugin", STOA_PARAM_STRING, 1 },
		{ "request", STOA_PARAM_OBJECT, 1 },
	};
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	const char *pkg = json_string_value(json_object_get(req->root, "plugin"));
	const stoa_plugin *p = stoa_plugins_find(pkg);
	if (p == NULL)
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_NOT_FOUND, "Invalid plugin");
	if (p->handle_admin_message == NULL)
		return stoa__api_req_error(req, STOA_ERR_UNKNOWN,
					   "Plugin doesn't support Admin API messages");
	json_t *response = p->handle_admin_message(json_object_get(req->root, "request"));
	if (response == NULL)
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_MESSAGE,
					   "Plugin didn't provide any response");
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "response", response);
	return r;
}

/* Stoa's extension: the Prometheus text of GET /metrics, for clients that
 * only speak the Admin API. */
static json_t *admin_metrics(stoa_request *req)
{
	char *text = stoa_metrics_render();
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "metrics", json_string(text));
	g_free(text);
	return r;
}

/* ---- stored tokens ---- */

static json_t *tokens_disabled(stoa_request *req)
{
	return stoa__api_req_error(req, STOA_ERR_UNKNOWN,
				   "Stored-Token based authentication disabled");
}

static json_t *token_reply(stoa_request *req, const char *token)
{
	json_t *r = stoa__api_success(req);
	json_t *plugins = stoa_auth_token_plugins(token);
	json_object_set_new(r, "data", json_pack("{s:o}", "plugins", plugins != NULL ? plugins : json_array()));
	return r;
}

/* Plugins named in a token request must exist (allow/disallow); unknown names
 * are skipped for add_token, as Janus does. */
static json_t *known_plugins(json_t *plugins)
{
	json_t *out = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(plugins, i, p) {
		if (json_is_string(p) && stoa_plugins_find(json_string_value(p)) != NULL)
			json_array_append(out, p);
	}
	return out;
}

static void add_all_plugins(const stoa_plugin *p, void *ud)
{
	json_array_append_new(ud, json_string(p->package));
}

static json_t *admin_add_token(stoa_request *req)
{
	static const stoa_param params[] = {
		{ "token", STOA_PARAM_NONEMPTY_STRING, 1 },
		{ "plugins", STOA_PARAM_ARRAY, 0 },
	};
	if (!stoa_auth_stored_tokens())
		return tokens_disabled(req);
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	const char *token = json_string_value(json_object_get(req->root, "token"));
	json_t *requested = json_object_get(req->root, "plugins");
	json_t *plugins;
	if (requested != NULL) {
		plugins = known_plugins(requested);
	} else {
		plugins = json_array();
		stoa_plugins_foreach(add_all_plugins, plugins);
	}
	stoa_auth_token_add(token, plugins);
	json_decref(plugins);
	return token_reply(req, token);
}

static json_t *change_token(stoa_request *req, int (*change)(const char *, json_t *))
{
	static const stoa_param params[] = {
		{ "token", STOA_PARAM_NONEMPTY_STRING, 1 },
		{ "plugins", STOA_PARAM_ARRAY, 1 },
	};
	if (!stoa_auth_stored_tokens())
		return tokens_disabled(req);
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	json_t *plugins = json_object_get(req->root, "plugins");
	json_t *known = known_plugins(plugins);
	bool bad = json_array_size(plugins) == 0 || json_array_size(known) != json_array_size(plugins);
	json_decref(known);
	if (bad)
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (plugins should be a non-empty array of plugin names)");
	const char *token = json_string_value(json_object_get(req->root, "token"));
	if (change(token, plugins) < 0)
		return stoa__api_req_error(req, STOA_ERR_TOKEN_NOT_FOUND, NULL);
	return token_reply(req, token);
}

static json_t *admin_allow_token(stoa_request *req)
{
	return change_token(req, stoa_auth_token_allow);
}

static json_t *admin_disallow_token(stoa_request *req)
{
	return change_token(req, stoa_auth_token_disallow);
}

static json_t *admin_list_tokens(stoa_request *req)
{
	if (!stoa_auth_stored_tokens())
		return tokens_disabled(req);
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "data", json_pack("{s:o}", "tokens", stoa_auth_token_list()));
	return r;
}

static json_t *admin_remove_token(stoa_request *req)
{
	static const stoa_param params[] = { { "token", STOA_PARAM_NONEMPTY_STRING, 1 } };
	if (!stoa_auth_stored_tokens())
		return tokens_disabled(req);
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	/* Janus answers 490 here (not 470 as allow/disallow do); clients match on it. */
	if (stoa_auth_token_remove(json_string_value(json_object_get(req->root, "token"))) < 0)
		return stoa__api_req_error(req, STOA_ERR_UNKNOWN, "Error removing token");
	return stoa__api_success(req);
}

/* ---- session and handle verbs ---- */

static json_t *admin_list_handles(stoa_request *req)
{
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "handles", stoa_session_handle_ids(req->session));
	return r;
}

static json_t *admin_hangup_webrtc(stoa_request *req)
{
	stoa_handle_hangup(req->handle, "Admin API", false);
	return stoa__api_success(req);
}

/* Janus's "loop-running": whether the thread that serves the handle's
 * media runs. Stoa's handles have no loop of their own: it is the media
 * loop of the handle's peer connection, so false while there is none. */
static bool handle_loop_running(stoa_handle *h)
{
	stoa_pc *pc = stoa_handle_get_pc(h);
	bool running = pc != NULL && stoa_loops_get(stoa_pc_loop_index(pc)) != NULL;
	if (pc != NULL)
		stoa_pc_unref(pc);
	return running;
}

json_t *stoa__api_handle_info(stoa_handle *h, bool plugin_only)
{
	stoa_session *s = h->session;
	gint64 now = g_get_monotonic_time();
	json_t *info = json_pack("{s:I,s:I,s:i,s:s,s:I,s:b,s:I,s:I,s:s}",
		"session_id", (json_int_t)s->id,
		"session_last_activity", (json_int_t)__atomic_load_n(&s->last_activity, __ATOMIC_RELAXED),
		"session_timeout", s->timeout >= 0 ? s->timeout : stoa_config_session_timeout(),
		"session_transport", s->transport_pkg,
		"handle_id", (json_int_t)h->id,
		"loop-running", handle_loop_running(h),
		"created", (json_int_t)h->created,
		"current_time", (json_int_t)now,
		"plugin", h->plugin->package);
	if (h->opaque_id != NULL)
		json_object_set_new(info, "opaque_id", json_string(h->opaque_id));
	if (h->token != NULL)
		json_object_set_new(info, "token", json_string(h->token));
	json_t *ps = h->plugin->query_session != NULL ? h->plugin->query_session(&h->ps) : NULL;
	json_object_set_new(info, "plugin_specific", ps != NULL ? ps : json_object());
	if (plugin_only)
		return info;
	g_mutex_lock(&h->lock);
	json_object_set_new(info, "flags", json_pack("{s:b,s:b,s:b}",
		"got-offer", h->got_offer, "got-answer", h->sent_offer && h->got_offer,
		"trickle", h->trickle));
	json_object_set_new(info, "pending-trickles",
			    json_integer(g_queue_get_length(&h->pending_trickles)));
	g_mutex_unlock(&h->lock);
	stoa_pc *pc = stoa_handle_get_pc(h);
	if (pc != NULL) {
		json_t *w = stoa_pc_info(pc);
		json_t *sdps = json_object_get(w, "sdps");
		if (sdps != NULL)
			json_object_set(info, "sdps", sdps);
		json_object_del(w, "sdps");
		json_object_set_new(info, "webrtc", w);
		stoa_pc_unref(pc);
	}
	return info;
}

static json_t *admin_handle_info(stoa_request *req)
{
	static const stoa_param params[] = { { "plugin_only", STOA_PARAM_BOOL, 0 } };
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	bool plugin_only = json_is_true(json_object_get(req->root, "plugin_only"));
	json_t *r = stoa__api_success(req);
	json_object_set_new(r, "handle_id", json_integer((json_int_t)req->handle->id));
	json_object_set_new(r, "info", stoa__api_handle_info(req->handle, plugin_only));
	return r;
}

static const stoa_verb admin_verbs[] = {
	{ "info", STOA_SCOPE_ROOT, true, admin_info },
	{ "ping", STOA_SCOPE_ROOT, true, admin_ping },
	{ "get_status", STOA_SCOPE_ROOT, false, admin_get_status },
	{ "set_log_level", STOA_SCOPE_ROOT, false, admin_set_log_level },
	{ "set_log_timestamps", STOA_SCOPE_ROOT, false, admin_set_log_timestamps },
	{ "set_log_colors", STOA_SCOPE_ROOT, false, admin_set_log_colors },
	{ "accept_new_sessions", STOA_SCOPE_ROOT, false, admin_accept_new_sessions },
	{ "set_session_timeout", STOA_SCOPE_ROOT | STOA_SCOPE_SESSION, false, admin_set_session_timeout },
	{ "list_sessions", STOA_SCOPE_ROOT, false, admin_list_sessions },
	{ "message_plugin", STOA_SCOPE_ROOT, false, admin_message_plugin },
	{ "metrics", STOA_SCOPE_ROOT, false, admin_metrics },
	{ "add_token", STOA_SCOPE_ROOT, false, admin_add_token },
	{ "allow_token", STOA_SCOPE_ROOT, false, admin_allow_token },
	{ "disallow_token", STOA_SCOPE_ROOT, false, admin_disallow_token },
	{ "list_tokens", STOA_SCOPE_ROOT, false, admin_list_tokens },
	{ "remove_token", STOA_SCOPE_ROOT, false, admin_remove_token },
	{ "list_handles", STOA_SCOPE_SESSION, false, admin_list_handles },
	{ "destroy_session", STOA_SCOPE_SESSION, false, stoa__api_verb_destroy },
	{ "handle_info", STOA_SCOPE_HANDLE, false, admin_handle_info },
	{ "detach_handle", STOA_SCOPE_HANDLE, false, stoa__api_verb_detach },
	{ "hangup_webrtc", STOA_SCOPE_HANDLE, false, admin_hangup_webrtc },
};

const stoa_verb *stoa__admin_verb_find(const char *verb)
{
	return stoa__api_verb_find(admin_verbs, G_N_ELEMENTS(admin_verbs), verb);
}

static bool admin_authorized(stoa_request *req)
{
	const char *secret = stoa_config_get()->admin_secret;
	if (secret == NULL || *secret == '\0')
		return true;
	return stoa_secret_equal(json_string_value(json_object_get(req->root, "admin_secret")),
				 secret);
}

static json_t *admin_lookup(stoa_request *req)
{
	if (req->session_id == 0)
		return stoa__api_req_error(req, STOA_ERR_SESSION_NOT_FOUND, "Invalid session");
	req->session = stoa_session_find(req->session_id);
	if (req->session == NULL)
		return stoa__api_req_error(req, STOA_ERR_SESSION_NOT_FOUND,
					   "No such session %" G_GUINT64_FORMAT, req->session_id);
	if (!req->has_handle)
		return NULL;
	if (req->handle_id == 0)
		return stoa__api_req_error(req, STOA_ERR_SESSION_NOT_FOUND, "Invalid handle");
	req->handle = stoa_session_find_handle(req->session, req->handle_id);
	if (req->handle == NULL)
		return stoa__api_req_error(req, STOA_ERR_HANDLE_NOT_FOUND,
					   "No such handle %" G_GUINT64_FORMAT " in session %" G_GUINT64_FORMAT,
					   req->handle_id, req->session_id);
	return NULL;
}

static json_t *admin_dispatch(stoa_request *req)
{
	const stoa_verb *v = stoa__admin_verb_find(req->verb);
	bool root = req->session_id == 0 && !req->has_handle;
	unsigned scope = root ? STOA_SCOPE_ROOT : req->has_handle ? STOA_SCOPE_HANDLE : STOA_SCOPE_SESSION;
	if (v == NULL || !(v->scopes & scope))
		return stoa__api_req_error(req, STOA_ERR_INVALID_REQUEST_PATH,
					   "Unhandled request '%s' at this path", req->verb);
	if (!v->open && !admin_authorized(req))
		return stoa__api_req_error(req, STOA_ERR_UNAUTHORIZED, NULL);
	json_t *err = root ? NULL : admin_lookup(req);
	return err != NULL ? err : v->fn(req);
}

json_t *stoa__admin_api_handle(stoa_tconn *conn, json_t *root)
{
	stoa_request req;
	json_t *reply = stoa__api_envelope(&req, conn, root);
	if (reply != NULL)
		return reply;
	reply = admin_dispatch(&req);
	if (strcmp(req.verb, "info") != 0 && strcmp(req.verb, "ping") != 0)
		STOA_LOG(STOA_LOG_VERB, "%s -> %s", req.verb,
			 json_string_value(json_object_get(reply, "janus")));
	stoa__api_request_clear(&req);
	return reply;
}
