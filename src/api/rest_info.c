/*
 * rest_info.c: what the server is and whether it works.
 *
 *   GET /api/v1/info     server_info (as the Janus API's `info`) plus uptime
 *   GET /api/v1/health   liveness: the process answers HTTP. Nothing else is
 *                        checked, so a busy server is not restarted for it
 *   GET /api/v1/ready    readiness: plugins loaded, every media loop
 *                        answering, transports listening, new sessions
 *                        accepted. 200, or 503 with the same report (and the
 *                        error object) so a load balancer stops sending
 *                        clients — e.g. while the Admin API's
 *                        accept_new_sessions is false, or during shutdown
 *   GET /metrics         the Prometheus text of core/metrics.c
 *
 * The media-loop check posts a no-op to each loop and waits up to
 * READY_WAIT_US for all of them: a loop stuck in a callback shows as not
 * ready instead of hanging the probe.
 *
 * Threads: the caller's (an HTTP connection thread, never a media loop).
 */
#include <glib.h>

#include "api/api.h"
#include "api/rest_internal.h"
#include "core/config.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/plugins.h"
#include "core/server.h"
#include "core/tconn.h"

#define READY_WAIT_US (1 * G_USEC_PER_SEC)
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

static json_int_t uptime_seconds(void)
{
	long long start = stoa_server_start_time();

	return start > 0 ? (json_int_t)((g_get_monotonic_time() - start) / G_USEC_PER_SEC) : 0;
}

void stoa__rest_info(stoa_rest_ctx *ctx)
{
	json_t *info = stoa_api_server_info();

	json_object_set_new(info, "uptime_seconds", json_integer(uptime_seconds()));
	stoa__rest_reply(ctx, 200, info);
}

void stoa__rest_health(stoa_rest_ctx *ctx)
{
	stoa__rest_reply(ctx, 200, json_pack("{s:s,s:I}", "status", "ok", "uptime_seconds",
					     uptime_seconds()));
}

/* ---- readiness ---- */

/* Shared by the prober and every loop it posted to: whoever is last frees
 * it, so a loop that answers after the prober gave up is still safe. */
typedef struct loop_probe {
	gint ref;
	GMutex lock;
	GCond cond;
	int answered;
} loop_probe;

static void probe_unref(gpointer data)
{
	loop_probe *p = data;

	if (!g_atomic_int_dec_and_test(&p->ref))
		return;
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->cond);
	g_free(p);
}

/* Media loop thread. */
static gboolean probe_answer(gpointer data)
{
	loop_probe *p = data;

	g_mutex_lock(&p->lock);
	p->answered++;
	g_cond_signal(&p->cond);
	g_mutex_unlock(&p->lock);
	return G_SOURCE_REMOVE;
}

/* How many of the `total` media loops answered within READY_WAIT_US. */
static int loops_answering(int total)
{
	loop_probe *p = g_new0(loop_probe, 1);
	gint64 deadline = g_get_monotonic_time() + READY_WAIT_US;
	int answered;

	p->ref = 1;
	g_mutex_init(&p->lock);
	g_cond_init(&p->cond);
	for (int i = 0; i < total; i++) {
		stoa_loop *l = stoa_loops_get(i);
		if (l == NULL)
			continue;
		g_atomic_int_inc(&p->ref);
		stoa_loop_post(l, probe_answer, p, probe_unref);
	}
	g_mutex_lock(&p->lock);
	while (p->answered < total && g_cond_wait_until(&p->cond, &p->lock, deadline))
		;
	answered = p->answered;
	g_mutex_unlock(&p->lock);
	probe_unref(p);
	return answered;
}

static void add_plugin(const stoa_plugin *p, void *ud)
{
	json_array_append_new(ud, json_string(p->package));
}

static void add_transport(const stoa_transport *t, void *ud)
{
	json_array_append_new(ud, json_string(t->package));
}

/* One check: {"ok": ok, ...fields}; records its name in `failed`. */
static void check(json_t *checks, const char *name, bool ok, json_t *fields, GString *failed)
{
	json_object_set_new(fields, "ok", json_boolean(ok));
	json_object_set_new(checks, name, fields);
	if (!ok)
		g_string_append_printf(failed, "%s%s", failed->len > 0 ? ", " : "", name);
}

void stoa__rest_ready(stoa_rest_ctx *ctx)
{
	json_t *checks = json_object(), *plugins = json_array(), *transports = json_array();
	GString *failed = g_string_new(NULL);
	int total = stoa_loops_count();
	int running = total > 0 ? loops_answering(total) : 0;
	bool accepting = stoa_config_accepting_sessions();
	json_t *report;

	stoa_plugins_foreach(add_plugin, plugins);
	stoa_transports_foreach(add_transport, transports);
	check(checks, "plugins", json_array_size(plugins) > 0, json_pack("{s:O}", "loaded", plugins),
	      failed);
	check(checks, "media_loops", total > 0 && running == total,
	      json_pack("{s:i,s:i}", "running", running, "total", total), failed);
	check(checks, "transports", json_array_size(transports) > 0,
	      json_pack("{s:O}", "listening", transports), failed);
	check(checks, "sessions", accepting, json_pack("{s:b}", "accepting", accepting), failed);
	json_decref(plugins);
	json_decref(transports);
	report = json_pack("{s:s,s:o}", "status", failed->len == 0 ? "ready" : "not_ready",
			   "checks", checks);
	if (failed->len == 0) {
		stoa__rest_reply(ctx, 200, report);
	} else {
		/* The error object like every error, and the report beside it:
		 * probes look at the status, people at what failed. */
		char *message = g_strdup_printf("not ready: %s", failed->str);
		json_t *body = stoa__rest_error_body(STOA_REST_ERR_NOT_READY, NULL, message);
		json_object_update(body, report);
		json_decref(report);
		g_free(message);
		stoa__rest_reply(ctx, stoa__rest_err_status(STOA_REST_ERR_NOT_READY), body);
	}
	g_string_free(failed, TRUE);
}

/* ---- metrics ---- */

void stoa__rest_metrics(stoa_rest_ctx *ctx)
{
	char *text = stoa_metrics_render();

	if (text == NULL) {
		stoa__rest_error(ctx, STOA_REST_ERR_UNAVAILABLE, NULL, "metrics are not available");
		return;
	}
	stoa__rest_reply(ctx, 200, NULL);
	ctx->resp->text = text;
	ctx->resp->content_type = METRICS_CONTENT_TYPE;
}
