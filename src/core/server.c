/*
 * server.c: start-up, the main loop and an orderly shutdown.
 *
 * The main thread runs a GLib main loop that owns: signal handling (SIGINT,
 * SIGTERM via g_unix_signal_add, so handlers run as ordinary callbacks), the
 * session watchdog (every 2 s), and deferred work plugins post with
 * end_session. Transports run their own threads; see docs/threading.md.
 */
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "api/api.h"
#include "core/auth.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/plugins.h"
#include "core/server.h"
#include "core/session.h"
#include "core/tls_selfsigned.h"
#include "media/pc.h"
#include "transports/http/http.h"
#include "transports/websockets/ws.h"

#define STOA_LOG_MODULE "server"

static GMainLoop *loop;
static long long start_time;
static int stop_signals;

long long stoa_server_start_time(void)
{
	return start_time;
}

void stoa_server_request_stop(void)
{
	if (loop != NULL)
		g_main_loop_quit(loop);
}

static gboolean on_signal(gpointer data)
{
	stop_signals++;
	STOA_LOG(STOA_LOG_INFO, "stopping on %s", GPOINTER_TO_INT(data) == SIGINT ? "SIGINT" : "SIGTERM");
	if (stop_signals > 1) {
		/* A second signal means "now": the operator gave up waiting. */
		STOA_LOG(STOA_LOG_WARN, "second signal: exiting without cleanup");
		_exit(1);
	}
	stoa_server_request_stop();
	return G_SOURCE_CONTINUE;
}

static gboolean watchdog(gpointer data)
{
	stoa_sessions_check_timeouts(g_get_monotonic_time());
	return G_SOURCE_CONTINUE;
}

static bool transport_disabled(const stoa_config *cfg, const char *name)
{
	if (cfg->transports_disable == NULL)
		return false;
	char **items = g_strsplit(cfg->transports_disable, ",", -1);
	bool found = false;
	for (int i = 0; items[i] != NULL && !found; i++) {
		const char *it = g_strstrip(items[i]);
		found = g_str_has_prefix(it, name) || g_strrstr(it, name) != NULL;
	}
	g_strfreev(items);
	return found;
}

static int start_transports(const stoa_config *cfg, const stoa_transport_env *env)
{
	char err[512];
	if (!transport_disabled(cfg, "http") && stoa_http_start(env, err, sizeof(err)) < 0) {
		STOA_LOG(STOA_LOG_FATAL, "HTTP transport: %s", err);
		return -1;
	}
	if (!transport_disabled(cfg, "websockets") && stoa_ws_start(env, err, sizeof(err)) < 0) {
		STOA_LOG(STOA_LOG_FATAL, "WebSocket transport: %s", err);
		return -1;
	}
	return 0;
}

/* Drains idle callbacks (deferred detaches) so nothing is left half done. */
static void drain_main_context(void)
{
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void shutdown_server(void)
{
	stoa_config_set_accepting_sessions(false);
	/* Sessions first: clients get detached/hangup while transports still run. */
	stoa_sessions_destroy_all();
	drain_main_context();
	/* TURN REST requests in flight post to the loops: end them first. */
	stoa_media_stop();
	/* Peer connections close on their loops (plugins hear hangup_media),
	 * so the loops stop before the plugins go. */
	stoa_loops_stop();
	stoa_api_workers_stop();
	/* Transports flush what the session teardown queued, then close. */
	stoa_ws_stop();
	stoa_http_stop();
	/* Both transports borrowed it; both are gone now. */
	stoa_tls_selfsigned_shared_free();
	stoa_plugins_unload();
	drain_main_context();
	stoa_sessions_cleanup();
	stoa_media_cleanup();
	stoa_auth_cleanup();
	stoa_metrics_cleanup();
}

int stoa_server_run(stoa_config *cfg, const stoa_transport_env *env)
{
	int status = 0;
	start_time = g_get_monotonic_time();
	stoa_config_set_current(cfg);
	stoa_auth_init(cfg->api_secret, cfg->token_auth, cfg->token_auth_secret);
	stoa_sessions_init();
	loop = g_main_loop_new(NULL, FALSE);
	guint sig_int = g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
	guint sig_term = g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
	signal(SIGPIPE, SIG_IGN);

	char err[512];
	if (stoa_media_init(cfg, err, sizeof(err)) < 0) {
		STOA_LOG(STOA_LOG_FATAL, "media: %s", err);
		status = 1;
	} else if (stoa_loops_start(cfg->event_loops) < 0 || stoa_api_workers_start(cfg->api_workers) < 0) {
		status = 1;
	} else {
		int n = stoa_plugins_load(cfg->plugins_folder, cfg->configs_folder, cfg->plugins_disable);
		STOA_LOG(STOA_LOG_INFO, "%d plugin(s) loaded from %s", n, cfg->plugins_folder);
		if (start_transports(cfg, env) < 0) {
			status = 1;
		} else {
			guint wd = g_timeout_add_seconds(2, watchdog, NULL);
			STOA_LOG(STOA_LOG_INFO, "Stoa %s running", STOA_VERSION_STRING);
			g_main_loop_run(loop);
			g_source_remove(wd);
		}
	}
	shutdown_server();
	g_source_remove(sig_int);
	g_source_remove(sig_term);
	g_main_loop_unref(loop);
	loop = NULL;
	stoa_config_set_current(NULL);
	stoa_config_free(cfg);
	STOA_LOG(STOA_LOG_INFO, "bye");
	return status;
}
