/*
 * server.h: the server's lifecycle — start, run the main loop, stop.
 *
 * Start order: log, config, API workers, plugins, transports, watchdog.
 * Stop order (SIGINT/SIGTERM): stop accepting sessions, destroy every session
 * (clients get hangup/detached), let transports flush, destroy plugins, stop
 * transports, free everything. See docs/architecture.md.
 */
#ifndef STOA_CORE_SERVER_H
#define STOA_CORE_SERVER_H

#include <stdbool.h>

#include "core/config.h"

/* What the command line overrides in the transports' own config files. */
typedef struct stoa_transport_env {
	const char *configs_folder;
	const char *html_folder; /* --html-folder, or NULL for the config/default */
	int http_port;		 /* -1 means "as configured" */
	int admin_http_port;
	int ws_port;
	int admin_ws_port;
	bool https;		 /* --https: HTTPS and WSS on as well, on their configured ports */
	int max_request_size;	 /* bytes */
} stoa_transport_env;

/* Runs the server until a signal stops it; returns the exit status.
 * Takes ownership of `cfg`. */
int stoa_server_run(stoa_config *cfg, const stoa_transport_env *env);

/* Asks the main loop to stop (async-signal-safe is not required: GLib's
 * unix signal source calls it on the main thread). */
void stoa_server_request_stop(void);

/* Monotonic time of server start, in µs. */
long long stoa_server_start_time(void);

#endif
