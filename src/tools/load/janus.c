/*
 * janus.c: Janus API requests and replies; see janus.h. Every field read
 * from the server is type-checked: a message of the wrong shape reads as
 * missing fields, never as a crash.
 */
#include "janus.h"

#include <stdio.h>
#include <string.h>

uint64_t load_janus_id(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return 0;
	return (uint64_t)json_integer_value(v);
}

const char *load_janus_str(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void parse_kind(const char *tx, char *kind, size_t cap)
{
	kind[0] = '\0';
	if (tx == NULL)
		return;
	const char *dash = strchr(tx, '-');
	size_t n = dash != NULL ? (size_t)(dash - tx) : 0;
	if (n > 0 && n < cap) {
		memcpy(kind, tx, n);
		kind[n] = '\0';
	}
}

static void parse_plugin(json_t *msg, load_janus_msg *m)
{
	json_t *pd = json_object_get(msg, "plugindata");
	json_t *data = json_is_object(pd) ? json_object_get(pd, "data") : NULL;
	if (!json_is_object(data))
		return;
	m->plugin = data;
	m->plugin_result = load_janus_str(data, "videoroom");
	json_t *code = json_object_get(data, "error_code");
	if (json_is_integer(code)) {
		m->error_code = (int)json_integer_value(code);
		m->error = load_janus_str(data, "error");
	}
}

int load_janus_parse(json_t *msg, load_janus_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->raw = msg;
	m->janus = load_janus_str(msg, "janus");
	if (m->janus == NULL)
		return -1;
	parse_kind(load_janus_str(msg, "transaction"), m->kind, sizeof(m->kind));
	m->session_id = load_janus_id(msg, "session_id");
	m->sender = load_janus_id(msg, "sender");
	json_t *data = json_object_get(msg, "data");
	m->data = json_is_object(data) ? data : NULL;
	json_t *jsep = json_object_get(msg, "jsep");
	m->jsep = json_is_object(jsep) ? jsep : NULL;
	parse_plugin(msg, m);
	json_t *err = json_object_get(msg, "error");
	if (json_is_object(err)) {
		json_t *code = json_object_get(err, "code");
		m->error_code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
		m->error = load_janus_str(err, "reason");
	}
	if (strcmp(m->janus, "error") == 0 && m->error_code == 0)
		m->error_code = -1;
	return 0;
}

json_t *load_janus_request(const char *verb, const char *kind, unsigned n, uint64_t session_id,
			   uint64_t handle_id)
{
	char tx[32];
	snprintf(tx, sizeof(tx), "%s-%u", kind, n);
	json_t *r = json_pack("{s:s, s:s}", "janus", verb, "transaction", tx);
	if (session_id != 0)
		json_object_set_new(r, "session_id", json_integer((json_int_t)session_id));
	if (handle_id != 0)
		json_object_set_new(r, "handle_id", json_integer((json_int_t)handle_id));
	return r;
}

json_t *load_janus_message(const char *kind, unsigned n, uint64_t session_id, uint64_t handle_id,
			   json_t *body, const char *jsep_type, const char *sdp)
{
	json_t *r = load_janus_request("message", kind, n, session_id, handle_id);
	json_object_set_new(r, "body", body);
	if (sdp != NULL)
		json_object_set_new(r, "jsep", json_pack("{s:s, s:s, s:b}", "type", jsep_type,
							 "sdp", sdp, "trickle", 0));
	return r;
}
