/*
 * peer.c: the Janus client part of every peer; see peer.h.
 *
 * Everything that reaches a peer from another thread is a job on its
 * worker: the WebSocket's open, messages and close, and the main
 * thread's start, stop and kill. So a peer's fields are only ever touched
 * on its worker, except `done` and `fail`, which the main thread reads.
 */
#include "peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum job_kind {
	JOB_START,
	JOB_OPEN,
	JOB_MESSAGE,
	JOB_BAD_MESSAGE,
	JOB_CLOSED,
	JOB_STOP,
	JOB_KILL,
	JOB_RELEASE,
} job_kind;

typedef struct peer_job {
	load_peer *p;		/* one ref */
	job_kind kind;
	json_t *msg;
	load_ws *ws;
	char why[96];
} peer_job;

static void run_job(void *data);

void load_peer_init(load_peer *p, const load_peer_ops *ops, load_run *run, load_worker *w,
		    int index)
{
	p->ops = ops;
	p->refs = 1;
	p->run = run;
	p->worker = w;
	p->index = index;
}

load_peer *load_peer_ref(load_peer *p)
{
	g_atomic_int_inc(&p->refs);
	return p;
}

void load_peer_unref(load_peer *p)
{
	if (p != NULL && g_atomic_int_dec_and_test(&p->refs)) {
		load_wsconn_unref(p->conn);
		p->ops->free(p);
	}
}

static void post(load_peer *p, job_kind kind, json_t *msg, const char *why)
{
	peer_job *j = g_new0(peer_job, 1);
	j->p = load_peer_ref(p);
	j->kind = kind;
	j->msg = msg;
	if (why != NULL)
		g_strlcpy(j->why, why, sizeof(j->why));
	load_worker_post(p->worker, run_job, j);
}

/* ------------------------------------------------------------ WebSocket thread */

static void ws_open(void *ud)
{
	post(ud, JOB_OPEN, NULL, NULL);
}

static void ws_message(void *ud, json_t *msg)
{
	post(ud, JOB_MESSAGE, msg, NULL);
}

static void ws_bad_message(void *ud, const char *why)
{
	post(ud, JOB_BAD_MESSAGE, NULL, why);
}

static void ws_closed(void *ud, const char *why)
{
	/* The handlers' ref goes with this job (released in run_job). */
	post(ud, JOB_CLOSED, NULL, why);
}

static const load_ws_handlers ws_handlers = {
	.on_open = ws_open,
	.on_message = ws_message,
	.on_bad_message = ws_bad_message,
	.on_closed = ws_closed,
};

/* ------------------------------------------------------------ worker */

void load_peer_send_json(load_peer *p, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return;
	if (p->conn == NULL) {
		free(text);
		return;
	}
	/* json_dumps() uses malloc; the WebSocket client frees with g_free. */
	load_wsconn_send(p->conn, g_strdup(text));
	free(text);
}

bool load_peer_on_setup_reply(load_peer *p, const load_janus_msg *m, bool *attached)
{
	*attached = false;
	if (strcmp(m->kind, "create") == 0) {
		p->session_id = load_janus_id(m->data, "id");
		if (p->session_id == 0) {
			load_peer_fail(p, LOAD_FAIL_PROTOCOL, "create: no session id");
			return true;
		}
		p->next_keepalive_us = g_get_monotonic_time() + LOAD_KEEPALIVE_US;
		json_t *r = load_peer_request(p, "attach", "attach", false);
		json_object_set_new(r, "plugin", json_string(LOAD_VIDEOROOM));
		load_peer_send_json(p, r);
		return true;
	}
	if (strcmp(m->kind, "attach") == 0) {
		p->handle_id = load_janus_id(m->data, "id");
		if (p->handle_id == 0)
			load_peer_fail(p, LOAD_FAIL_PROTOCOL, "attach: no handle id");
		else
			*attached = true;
		return true;
	}
	return false;
}

json_t *load_peer_request(load_peer *p, const char *verb, const char *kind, bool handle)
{
	return load_janus_request(verb, kind, ++p->next_tx, p->session_id,
				  handle ? p->handle_id : 0);
}

void load_peer_send(load_peer *p, const char *verb, const char *kind, bool handle)
{
	load_peer_send_json(p, load_peer_request(p, verb, kind, handle));
}

void load_peer_send_message(load_peer *p, const char *kind, json_t *body, const char *jsep_type,
			    const char *sdp)
{
	unsigned n = ++p->next_tx;
	load_peer_send_json(p, load_janus_message(kind, n, p->session_id, p->handle_id, body,
						  jsep_type, sdp));
}

static void release_job(load_peer *p)
{
	p->ops->on_close(p);
	LOAD_WR(p->done, 1);
}

void load_peer_finish(load_peer *p)
{
	if (p->ended)
		return;
	p->ended = true;
	load_worker_tick_remove(p->worker, p);
	if (p->ops->on_ending != NULL)
		p->ops->on_ending(p);
	if (p->conn != NULL)
		load_wsconn_close(p->conn);
	/* Not inline: we may be inside a libnice callback of the agent that
	 * on_close frees. */
	post(p, JOB_RELEASE, NULL, NULL);
}

void load_peer_fail(load_peer *p, load_fail why, const char *fmt, ...)
{
	/* While leaving, the server closing things is what we asked for;
	 * the stop path (destroy reply, WebSocket close, deadline) ends us. */
	if (p->ended || p->stopping)
		return;
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	LOAD_WR(p->fail, (int)why);
	load_warn("%s %d: %s: %s", p->ops->name, p->index, load_fail_name(why), detail);
	load_peer_finish(p);
}

static void peer_tick(void *data, int64_t now)
{
	load_peer *p = data;
	if (p->ended)
		return;
	if (p->stopping && now > p->stop_deadline_us) {
		load_peer_finish(p);
		return;
	}
	if (p->session_id != 0 && now >= p->next_keepalive_us) {
		p->next_keepalive_us = now + LOAD_KEEPALIVE_US;
		load_peer_send(p, "keepalive", "keepalive", false);
	}
	p->ops->on_tick(p, now);
}

bool load_peer_common_event(load_peer *p, const load_janus_msg *m)
{
	const char *j = m->janus;
	if (strcmp(j, "ack") == 0)
		return true;
	if (strcmp(j, "media") == 0) {
		load_count(media);
	} else if (strcmp(j, "slowlink") == 0) {
		load_count(slowlink);
	} else if (strcmp(j, "hangup") == 0) {
		load_count(hangups);
		if (!p->stopping)
			load_peer_fail(p, LOAD_FAIL_HANGUP, "hangup (%s)",
				       load_janus_str(m->raw, "reason") ?: "no reason");
	} else if (strcmp(j, "detached") == 0) {
		load_count(detached);
		if (!p->stopping)
			load_peer_fail(p, LOAD_FAIL_HANGUP, "handle detached by the server");
	} else if (strcmp(j, "timeout") == 0) {
		load_count(timeouts);
		load_peer_fail(p, LOAD_FAIL_HANGUP, "session timed out");
	} else if (strcmp(j, "error") == 0) {
		load_count(errors);
		if (!p->stopping)
			load_peer_fail(p, LOAD_FAIL_JANUS, "%s: error %d (%s)", m->kind,
				       m->error_code, m->error ?: "no reason");
		else if (strcmp(m->kind, "destroy") == 0)
			load_peer_finish(p);
	} else {
		return false;
	}
	return true;
}

static void on_ws_message(load_peer *p, json_t *msg)
{
	load_janus_msg m;
	if (load_janus_parse(msg, &m) < 0) {
		load_count(bad_messages);
		load_peer_fail(p, LOAD_FAIL_PROTOCOL, "a message that is not a Janus message");
		return;
	}
	if (strcmp(m.kind, "keepalive") == 0)
		return;
	p->ops->on_message(p, &m);
}

static void on_ws_closed(load_peer *p, const char *why)
{
	if (p->stopping)
		load_peer_finish(p);
	else
		load_peer_fail(p, LOAD_FAIL_WS, "WebSocket: %s", why);
}

static void do_start(load_peer *p, load_ws *ws)
{
	if (p->ended)
		return;
	load_worker_tick_add(p->worker, peer_tick, p);
	/* The handlers' ref: released by the JOB_CLOSED that on_closed posts. */
	load_peer_ref(p);
	p->conn = load_ws_connect(ws, &ws_handlers, p);
}

static void do_stop(load_peer *p)
{
	if (p->ended || p->stopping)
		return;
	p->stopping = true;
	p->stop_deadline_us = g_get_monotonic_time() + LOAD_STOP_GRACE_US;
	p->ops->on_stop(p);
}

static void run_job(void *data)
{
	peer_job *j = data;
	load_peer *p = j->p;
	switch (j->kind) {
	case JOB_START: do_start(p, j->ws); break;
	case JOB_OPEN:
		if (!p->ended)
			p->ops->on_open(p);
		break;
	case JOB_MESSAGE:
		if (!p->ended)
			on_ws_message(p, j->msg);
		break;
	case JOB_BAD_MESSAGE:
		load_count(bad_messages);
		load_peer_fail(p, LOAD_FAIL_PROTOCOL, "%s", j->why);
		break;
	case JOB_CLOSED:
		on_ws_closed(p, j->why);
		load_peer_unref(p);
		break;
	case JOB_STOP: do_stop(p); break;
	case JOB_KILL: load_peer_finish(p); break;
	case JOB_RELEASE: release_job(p); break;
	}
	if (j->msg != NULL)
		json_decref(j->msg);
	load_peer_unref(p);
	g_free(j);
}

void load_peer_start(load_peer *p, load_ws *ws)
{
	peer_job *j = g_new0(peer_job, 1);
	j->p = load_peer_ref(p);
	j->kind = JOB_START;
	j->ws = ws;
	load_worker_post(p->worker, run_job, j);
}

void load_peer_stop(load_peer *p)
{
	post(p, JOB_STOP, NULL, NULL);
}

void load_peer_kill(load_peer *p)
{
	post(p, JOB_KILL, NULL, NULL);
}
