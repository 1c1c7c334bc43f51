/*
 * http.h: the HTTP transport (janus.transport.http), on libmicrohttpd.
 * Serves the Janus API at /janus (POST requests, GET long poll), the Admin
 * API at /admin on its own port, and the html folder at /.
 */
#ifndef STOA_TRANSPORTS_HTTP_H
#define STOA_TRANSPORTS_HTTP_H

#include <stddef.h>

#include "core/server.h"

/* Reads <configs>/janus.transport.http.jcfg (optional), applies `env`, and
 * starts the listeners. Main thread. Returns 0 or -1 with a message. */
int stoa_http_start(const stoa_transport_env *env, char *err, size_t errlen);

/* Stops the listeners, completes pending long polls and frees everything.
 * Main thread; idempotent. */
void stoa_http_stop(void);

#endif
