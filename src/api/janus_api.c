/*
 * janus_api.c: the Janus API — sessions, handles, messages, trickles —
 * dispatched from a verb table in the order of checks Janus applies
 * (shared/janus-api-compat.md §1.1), so a bad request gets the same error
 * code it would get from Janus.
 *
 * Runs on whichever thread the transport hands the request to (an HTTP
 * connection thread or an API worker); everything it touches is thread-safe.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/params.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/plugins.h"
#include "media/pc.h"

#define STOA_LOG_MODULE "api"

static json_t *verb_info(stoa_request *req)
{
	json_t *info = stoa_api_server_info();
	json_object_set_new(info, "janus", json_string("server_info"));
	json_object_set_new(info, "transaction", json_string(req->transaction));
	return info;
}

static json_t *verb_ping(stoa_request *req)
{
	return json_pack("{s:s,s:s}", "janus", "pong", "transaction", req->transaction);
}

static json_t *verb_create(stoa_request *req)
{
	uint64_t id = (uint64_t)json_integer_value(json_object_get(req->root, "id"));
	stoa_session *s = stoa_session_create(id, NULL);
	if (s == NULL)
		return stoa__api_req_error(req, STOA_ERR_SESSION_CONFLICT, NULL);
	stoa_tconn *src = req->conn->transport->session_source(req->conn, s->id);
	if (src != NULL) {
		stoa_session_set_source(s, src);
		stoa_tconn_unref(src);
	}
	g_free(s->transport_pkg);
	s->transport_pkg = g_strdup(req->conn->transport->package);
	STOA_LOG_S(STOA_LOG_INFO, s->id, 0, "created over %s (%s)", s->transport_pkg,
		   req->conn->peer);
	json_t *reply = stoa__api_success(req);
	json_object_set_new(reply, "data", json_pack("{s:I}", "id", (json_int_t)s->id));
	stoa_session_unref(s);
	return reply;
}

static json_t *verb_keepalive(stoa_request *req)
{
	return stoa__api_reply(req, "ack");
}

static json_t *verb_claim(stoa_request *req)
{
	stoa_tconn *current = stoa_session_get_source(req->session);
	bool same = current == req->conn;
	if (current != NULL)
		stoa_tconn_unref(current);
	if (!same) {
		stoa_tconn *src = req->conn->transport->session_source(req->conn, req->session->id);
		if (src != NULL) {
			stoa_session_set_source(req->session, src);
			stoa_tconn_unref(src);
		}
		STOA_LOG_S(STOA_LOG_INFO, req->session->id, 0, "claimed over %s",
			   req->conn->transport->package);
	}
	return stoa__api_success(req);
}

static json_t *verb_attach(stoa_request *req)
{
	static const stoa_param params[] = {
		{ "plugin", STOA_PARAM_STRING, 1 },
		{ "opaque_id", STOA_PARAM_STRING, 0 },
		{ "loop_index", STOA_PARAM_POSITIVE, 0 },
	};
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	const char *pkg = json_string_value(json_object_get(req->root, "plugin"));
	const stoa_plugin *p = stoa_plugins_find(pkg);
	if (p == NULL)
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_NOT_FOUND, "No such plugin '%s'", pkg);
	const char *token = json_string_value(json_object_get(req->root, "token"));
	if (!stoa_auth_check_plugin(token, pkg))
		return stoa__api_req_error(req, STOA_ERR_UNAUTHORIZED_PLUGIN,
					   "Provided token can't access plugin '%s'", pkg);
	int error = 0;
	const char *opaque = json_string_value(json_object_get(req->root, "opaque_id"));
	stoa_handle *h = stoa_handle_new(req->session, p, opaque, token, &error);
	if (h == NULL)
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_ATTACH,
					   "Couldn't attach to plugin: error '%d'", error);
	json_t *reply = stoa__api_success(req);
	json_object_set_new(reply, "data", json_pack("{s:I}", "id", (json_int_t)h->id));
	stoa_handle_unref(h);
	return reply;
}

/* Shared with the Admin API's destroy_session, which behaves the same. */
json_t *stoa__api_verb_destroy(stoa_request *req)
{
	stoa_session_destroy_by_client(req->session);
	return stoa__api_success(req);
}

/* Shared with the Admin API's detach_handle. */
json_t *stoa__api_verb_detach(stoa_request *req)
{
	stoa_handle_detach(req->handle, true);
	return stoa__api_success(req);
}

static json_t *verb_hangup(stoa_request *req)
{
	stoa_handle_hangup(req->handle, "Janus API", false);
	return stoa__api_success(req);
}

/* A JSEP error text: Janus lower-cases the generic templates after "JSEP error: ". */
static json_t *jsep_error(stoa_request *req, int code, const char *text)
{
	char *lower = g_strdup(text);
	lower[0] = g_ascii_tolower(lower[0]);
	json_t *e = stoa__api_req_error(req, code, "JSEP error: %s", lower);
	g_free(lower);
	return e;
}

/* Validates the optional jsep of a message; NULL when fine (or absent). */
static json_t *check_jsep(stoa_request *req, json_t *jsep)
{
	static const stoa_param params[] = {
		{ "type", STOA_PARAM_STRING, 1 },
		{ "sdp", STOA_PARAM_STRING, 1 },
		{ "trickle", STOA_PARAM_BOOL, 0 },
		{ "e2ee", STOA_PARAM_BOOL, 0 },
	};
	if (!json_is_object(jsep))
		return stoa__api_req_error(req, STOA_ERR_INVALID_JSON_OBJECT, "Invalid jsep object");
	char err[256];
	int code = STOA_PARAMS_CHECK(jsep, params, STOA_ERR_MISSING_MANDATORY_ELEMENT,
				     STOA_ERR_INVALID_ELEMENT_TYPE, err, sizeof(err));
	if (code != 0)
		return jsep_error(req, code, err);
	const char *type = json_string_value(json_object_get(jsep, "type"));
	bool offer = g_ascii_strcasecmp(type, "offer") == 0;
	if (!offer && g_ascii_strcasecmp(type, "answer") != 0)
		return stoa__api_req_error(req, STOA_ERR_JSEP_UNKNOWN_TYPE,
					   "JSEP error: unknown message type '%s'", type);
	const char *sdp = json_string_value(json_object_get(jsep, "sdp"));
	char sdperr[256];
	if (stoa_pc_check_sdp(sdp, sdperr, sizeof(sdperr)) < 0)
		return stoa__api_req_error(req, STOA_ERR_JSEP_INVALID_SDP, "JSEP error: invalid SDP (%s)",
					   sdperr);
	stoa_handle *h = req->handle;
	g_mutex_lock(&h->lock);
	bool unexpected = !offer && !h->sent_offer;
	if (offer)
		h->got_offer = true;
	json_t *trickle = json_object_get(jsep, "trickle");
	if (trickle != NULL)
		h->trickle = json_is_true(trickle);
	g_mutex_unlock(&h->lock);
	if (unexpected)
		return stoa__api_req_error(req, STOA_ERR_UNEXPECTED_ANSWER,
					   "Unexpected ANSWER (did we offer?)");
	if (offer && stoa_handle_remote_offer(h, sdp, trickle == NULL || json_is_true(trickle), sdperr,
					      sizeof(sdperr)) < 0)
		return stoa__api_req_error(req, STOA_ERR_JSEP_INVALID_SDP, "JSEP error: %s", sdperr);
	if (!offer && stoa_handle_remote_answer(h, sdp, sdperr, sizeof(sdperr)) < 0)
		return stoa__api_req_error(req, STOA_ERR_JSEP_INVALID_SDP, "JSEP error: %s", sdperr);
	return NULL;
}

/* What the plugin sees: only the fields a plugin may act on. */
static json_t *clean_jsep(json_t *jsep)
{
	json_t *clean = json_object();
	const char *keys[] = { "type", "sdp", "trickle", "e2ee", "rid_order", "force_relay", "svc" };
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		json_t *v = json_object_get(jsep, keys[i]);
		if (v != NULL)
			json_object_set(clean, keys[i], v);
	}
	const char *type = json_string_value(json_object_get(jsep, "type"));
	json_object_set_new(clean, "type",
			    json_string(g_ascii_strcasecmp(type, "offer") == 0 ? "offer" : "answer"));
	return clean;
}

static json_t *plugin_reply(stoa_request *req, stoa_plugin_result *res)
{
	const stoa_plugin *p = req->handle->plugin;
	if (res == NULL || res->type == STOA_PLUGIN_ERROR)
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_MESSAGE, "%s",
					   res != NULL && res->text != NULL
						   ? res->text
						   : "Plugin returned a severe (unknown) error");
	if (res->type == STOA_PLUGIN_OK_WAIT) {
		json_t *ack = stoa__api_reply(req, "ack");
		if (res->text != NULL)
			json_object_set_new(ack, "hint", json_string(res->text));
		return ack;
	}
	if (!json_is_object(res->content))
		return stoa__api_req_error(req, STOA_ERR_PLUGIN_MESSAGE,
					   "Plugin didn't provide any content for this synchronous response");
	json_t *ok = stoa__api_success(req);
	json_object_set_new(ok, "sender", json_integer((json_int_t)req->handle->id));
	if (req->handle->opaque_id != NULL && stoa_config_get()->opaqueid_in_api)
		json_object_set_new(ok, "opaque_id", json_string(req->handle->opaque_id));
	json_object_set_new(ok, "plugindata",
			    json_pack("{s:s,s:O}", "plugin", p->package, "data", res->content));
	return ok;
}

static json_t *verb_message(stoa_request *req)
{
	static const stoa_param params[] = { { "body", STOA_PARAM_OBJECT, 1 } };
	json_t *err = STOA_API_CHECK(req, params);
	if (err != NULL)
		return err;
	json_t *jsep = json_object_get(req->root, "jsep");
	json_t *clean = NULL;
	if (jsep != NULL) {
		if ((err = check_jsep(req, jsep)) != NULL)
			return err;
		clean = clean_jsep(jsep);
	}
	stoa_plugin_result *res = req->handle->plugin->handle_message(
		&req->handle->ps, req->transaction, json_object_get(req->root, "body"), clean);
	json_t *reply = plugin_reply(req, res);
	stoa_plugin_result_free(res);
	if (clean != NULL)
		json_decref(clean);
	return reply;
}

/* One trickle candidate object: {candidate, sdpMid|sdpMLineIndex} or {completed:true}. */
static json_t *check_candidate(stoa_request *req, json_t *c)
{
	if (!json_is_object(c) || json_is_true(json_object_get(c, "completed")))
		return NULL;
	static const stoa_param params[] = { { "candidate", STOA_PARAM_STRING, 1 } };
	json_t *err = stoa__api_check(req, c, params, G_N_ELEMENTS(params));
	if (err != NULL)
		return err;
	json_t *mid = json_object_get(c, "sdpMid"), *idx = json_object_get(c, "sdpMLineIndex");
	if (mid == NULL && idx == NULL)
		return stoa__api_req_error(req, STOA_ERR_MISSING_MANDATORY_ELEMENT,
					   "Trickle error: missing mandatory element (sdpMid or sdpMLineIndex)");
	if ((mid != NULL && !json_is_string(mid) && !json_is_null(mid)) ||
	    (idx != NULL && !(json_is_integer(idx) && json_integer_value(idx) >= 0) && !json_is_null(idx)))
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Trickle error: invalid element type (sdpMid should be a string, sdpMLineIndex a positive integer)");
	return NULL;
}

static json_t *verb_trickle(stoa_request *req)
{
	json_t *one = json_object_get(req->root, "candidate");
	json_t *many = json_object_get(req->root, "candidates");
	if (one != NULL && many != NULL)
		return stoa__api_req_error(req, STOA_ERR_INVALID_JSON,
					   "Can't have both candidate and candidates");
	if (one == NULL && many == NULL)
		return stoa__api_req_error(req, STOA_ERR_MISSING_MANDATORY_ELEMENT,
					   "Missing mandatory element (candidate|candidates)");
	if (many != NULL && !json_is_array(many))
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (candidates should be an array)");
	json_t *err;
	if (one != NULL && (err = check_candidate(req, one)) != NULL)
		return err;
	/* To the peer connection, or queued until the SDP creates it, as Janus
	 * does for trickles that arrive early. Bad entries of an array are
	 * dropped silently, as Janus does. */
	if (one != NULL) {
		stoa_handle_trickle(req->handle, one);
	} else {
		size_t i;
		json_t *c;
		json_array_foreach(many, i, c) {
			json_t *bad = check_candidate(req, c);
			if (bad != NULL)
				json_decref(bad);
			else
				stoa_handle_trickle(req->handle, c);
		}
	}
	return stoa__api_reply(req, "ack");
}

static const stoa_verb janus_verbs[] = {
	{ "info", STOA_SCOPE_ROOT, true, verb_info },
	{ "ping", STOA_SCOPE_ROOT, true, verb_ping },
	{ "create", STOA_SCOPE_ROOT, false, verb_create },
	{ "claim", STOA_SCOPE_SESSION | STOA_SCOPE_HANDLE, false, verb_claim },
	{ "keepalive", STOA_SCOPE_SESSION | STOA_SCOPE_HANDLE, false, verb_keepalive },
	{ "attach", STOA_SCOPE_SESSION, false, verb_attach },
	{ "destroy", STOA_SCOPE_SESSION, false, stoa__api_verb_destroy },
	{ "detach", STOA_SCOPE_HANDLE, false, stoa__api_verb_detach },
	{ "hangup", STOA_SCOPE_HANDLE, false, verb_hangup },
	{ "message", STOA_SCOPE_HANDLE, false, verb_message },
	{ "trickle", STOA_SCOPE_HANDLE, false, verb_trickle },
};

static bool authorized(stoa_request *req)
{
	return stoa_auth_check(json_string_value(json_object_get(req->root, "apisecret")),
			       json_string_value(json_object_get(req->root, "token")));
}

/* Root level (no session, no handle): only info, ping and create. */
static json_t *dispatch_root(stoa_request *req, const stoa_verb *v)
{
	if (v == NULL || !(v->scopes & STOA_SCOPE_ROOT))
		return stoa__api_req_error(req, STOA_ERR_INVALID_REQUEST_PATH,
					   "Unhandled request '%s' at this path", req->verb);
	if (v->fn == verb_create) {
		if (!stoa_config_accepting_sessions())
			return stoa__api_req_error(req, STOA_ERR_NOT_ACCEPTING_SESSIONS, NULL);
		if (!authorized(req))
			return stoa__api_req_error(req, STOA_ERR_UNAUTHORIZED, NULL);
	}
	return v->fn(req);
}

static json_t *dispatch_session(stoa_request *req, const stoa_verb *v)
{
	if (req->session_id == 0)
		return stoa__api_req_error(req, STOA_ERR_SESSION_NOT_FOUND, "Invalid session");
	if (req->has_handle && req->handle_id == 0)
		return stoa__api_req_error(req, STOA_ERR_HANDLE_NOT_FOUND, "Invalid handle");
	if (!authorized(req))
		return stoa__api_req_error(req, STOA_ERR_UNAUTHORIZED, NULL);
	req->session = stoa_session_find(req->session_id);
	if (req->session == NULL)
		return stoa__api_req_error(req, STOA_ERR_SESSION_NOT_FOUND, "No such session %" G_GUINT64_FORMAT,
					   req->session_id);
	stoa_session_touch(req->session);
	if (req->handle_id != 0) {
		req->handle = stoa_session_find_handle(req->session, req->handle_id);
		if (req->handle == NULL)
			return stoa__api_req_error(req, STOA_ERR_HANDLE_NOT_FOUND,
						   "No such handle %" G_GUINT64_FORMAT " in session %" G_GUINT64_FORMAT,
						   req->handle_id, req->session_id);
	}
	if (v == NULL || (v->scopes & (STOA_SCOPE_SESSION | STOA_SCOPE_HANDLE)) == 0)
		return stoa__api_req_error(req, STOA_ERR_UNKNOWN_REQUEST, "Unknown request '%s'",
					   req->verb);
	unsigned scope = req->handle != NULL ? STOA_SCOPE_HANDLE : STOA_SCOPE_SESSION;
	if (!(v->scopes & scope))
		return stoa__api_req_error(req, STOA_ERR_INVALID_REQUEST_PATH,
					   "Unhandled request '%s' at this path", req->verb);
	return v->fn(req);
}

static json_t *janus_api_handle(stoa_tconn *conn, json_t *root)
{
	stoa_request req;
	json_t *reply = stoa__api_envelope(&req, conn, root);
	if (reply != NULL)
		return reply;
	const stoa_verb *v = stoa__api_verb_find(janus_verbs, G_N_ELEMENTS(janus_verbs), req.verb);
	if (req.session_id == 0 && !req.has_handle)
		reply = dispatch_root(&req, v);
	else
		reply = dispatch_session(&req, v);
	stoa__api_request_clear(&req);
	return reply;
}

/* Counts a request by the table's spelling of its verb and the code of its
 * reply (0 unless it is an error): the one place every reply passes. */
static void count_request(bool admin, json_t *root, json_t *reply)
{
	const char *verb = json_string_value(json_object_get(root, "janus"));
	const stoa_verb *v = NULL;
	if (verb != NULL)
		v = admin ? stoa__admin_verb_find(verb)
			  : stoa__api_verb_find(janus_verbs, G_N_ELEMENTS(janus_verbs), verb);
	int code = 0;
	if (g_strcmp0(json_string_value(json_object_get(reply, "janus")), "error") == 0)
		code = (int)json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
	stoa_metrics_api_request(admin, v != NULL ? v->name : NULL, code);
}

json_t *stoa_api_handle(stoa_tconn *conn, json_t *root)
{
	json_t *reply;
	if (!json_is_object(root))
		reply = stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON_OBJECT, NULL);
	else if (conn->admin)
		reply = stoa__admin_api_handle(conn, root);
	else
		reply = janus_api_handle(conn, root);
	count_request(conn->admin, root, reply);
	return reply;
}
