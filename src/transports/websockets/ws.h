/*
 * ws.h: the WebSocket transport (janus.transport.websockets), on
 * libwebsockets. Subprotocol janus-protocol (default port 8188) and
 * janus-admin-protocol (default port 7188).
 */
#ifndef STOA_TRANSPORTS_WS_H
#define STOA_TRANSPORTS_WS_H

#include <stddef.h>

#include "core/server.h"

/* Reads <configs>/janus.transport.websockets.jcfg (optional), applies `env`,
 * and starts the service thread. Main thread. Returns 0 or -1 with a message. */
int stoa_ws_start(const stoa_transport_env *env, char *err, size_t errlen);

/* Flushes queued messages (bounded by ~1 s), closes every connection, joins
 * the service thread and frees everything. Main thread; idempotent. */
void stoa_ws_stop(void);

#endif
