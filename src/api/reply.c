/*
 * reply.c: building replies and errors, and the checks every request's
 * envelope goes through (shared by the Janus and Admin APIs).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/params.h"

json_t *stoa_api_error(uint64_t session_id, const char *transaction, int code,
		       const char *fmt, ...)
{
	char reason[512];
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	} else {
		g_strlcpy(reason, stoa_api_error_reason(code), sizeof(reason));
	}
	json_t *e = json_pack("{s:s}", "janus", "error");
	if (session_id > 0)
		json_object_set_new(e, "session_id", json_integer((json_int_t)session_id));
	if (transaction != NULL)
		json_object_set_new(e, "transaction", json_string(transaction));
	json_object_set_new(e, "error", json_pack("{s:i,s:s}", "code", code, "reason", reason));
	return e;
}

char *stoa_api_dump(json_t *msg)
{
	/* jansson allocates with malloc; hand back GLib memory so callers use g_free. */
	char *s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *copy = g_strdup(s != NULL ? s : "{}");
	free(s);
	return copy;
}

json_t *stoa__api_reply(const stoa_request *req, const char *kind)
{
	json_t *r = json_pack("{s:s}", "janus", kind);
	if (req->session_id > 0)
		json_object_set_new(r, "session_id", json_integer((json_int_t)req->session_id));
	if (req->transaction != NULL)
		json_object_set_new(r, "transaction", json_string(req->transaction));
	return r;
}

json_t *stoa__api_success(const stoa_request *req)
{
	return stoa__api_reply(req, "success");
}

json_t *stoa__api_req_error(const stoa_request *req, int code, const char *fmt, ...)
{
	char reason[512];
	const char *text = NULL;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
		text = reason;
	}
	return text != NULL ? stoa_api_error(req->session_id, req->transaction, code, "%s", text)
			    : stoa_api_error(req->session_id, req->transaction, code, NULL);
}

json_t *stoa__api_check(const stoa_request *req, json_t *obj, const stoa_param *params, size_t n)
{
	char err[256];
	int code = stoa_params_check(obj, params, n, STOA_ERR_MISSING_MANDATORY_ELEMENT,
				     STOA_ERR_INVALID_ELEMENT_TYPE, err, sizeof(err));
	return code != 0 ? stoa__api_req_error(req, code, "%s", err) : NULL;
}

const stoa_verb *stoa__api_verb_find(const stoa_verb *table, size_t n, const char *verb)
{
	for (size_t i = 0; i < n; i++)
		if (g_ascii_strcasecmp(table[i].name, verb) == 0)
			return &table[i];
	return NULL;
}

/* A positive integer id, or 0 when absent or not an integer (Janus treats a
 * non-integer session_id as absent). */
static uint64_t id_field(json_t *root, const char *name, bool *present)
{
	json_t *v = json_object_get(root, name);
	*present = json_is_integer(v);
	if (!*present || json_integer_value(v) < 1)
		return 0;
	return (uint64_t)json_integer_value(v);
}

json_t *stoa__api_envelope(stoa_request *req, stoa_tconn *conn, json_t *root)
{
	memset(req, 0, sizeof(*req));
	req->conn = conn;
	req->root = root;
	bool present;
	req->session_id = id_field(root, "session_id", &present);
	req->handle_id = id_field(root, "handle_id", &req->has_handle);

	json_t *tr = json_object_get(root, "transaction");
	if (tr == NULL)
		return stoa__api_req_error(req, STOA_ERR_MISSING_MANDATORY_ELEMENT,
					   "Missing mandatory element (transaction)");
	if (!json_is_string(tr))
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (transaction should be a string)");
	json_t *verb = json_object_get(root, "janus");
	if (verb == NULL)
		return stoa__api_req_error(req, STOA_ERR_MISSING_MANDATORY_ELEMENT,
					   "Missing mandatory element (janus)");
	if (!json_is_string(verb))
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (janus should be a string)");
	json_t *id = json_object_get(root, "id");
	if (id != NULL && !(json_is_integer(id) && json_integer_value(id) >= 0))
		return stoa__api_req_error(req, STOA_ERR_INVALID_ELEMENT_TYPE,
					   "Invalid element type (id should be a positive integer)");
	req->transaction = json_string_value(tr);
	req->verb = json_string_value(verb);
	return NULL;
}

void stoa__api_request_clear(stoa_request *req)
{
	if (req->handle != NULL)
		stoa_handle_unref(req->handle);
	if (req->session != NULL)
		stoa_session_unref(req->session);
	req->handle = NULL;
	req->session = NULL;
}
