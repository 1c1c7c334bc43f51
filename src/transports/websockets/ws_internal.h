/*
 * ws_internal.h: what the files of the WebSocket transport share.
 *
 *   ws_config.c   janus.transport.websockets.jcfg and the command-line overrides
 *   ws_server.c   the libwebsockets context, its service thread, connections,
 *                 message reassembly and the outbound queues; the vtable
 *
 * Threads: stoa_ws_start/stop and the config run on the main thread. All of
 * libwebsockets runs on one service thread (see ws_server.c). The core calls
 * the vtable's send/session_over/conn_free from any thread.
 */
#ifndef STOA_TRANSPORTS_WS_INTERNAL_H
#define STOA_TRANSPORTS_WS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/server.h"

/* Used when the server gives no max_request_size. */
#define STOA_WS_DEFAULT_MAX_REQUEST (1024 * 1024)

/* Bounds of one connection's outbound queue. A client that stops reading
 * must not make the server buffer without limit; past either bound the
 * connection is dropped. */
#define STOA_WS_OUTBOX_MAX_BYTES (4 * 1024 * 1024)
#define STOA_WS_OUTBOX_MAX_MSGS 10000

#define STOA_WS_PROTOCOL "janus-protocol"
#define STOA_WS_ADMIN_PROTOCOL "janus-admin-protocol"

/*
 * The transport's settings. Filled by stoa__ws_config_load() on the main
 * thread before the service thread starts; read-only while it runs; freed by
 * stoa__ws_config_free() after it stopped. Owns its strings.
 */
typedef struct stoa__ws_config {
	/* general */
	char *json;		/* accepted for Janus configs, ignored (output is compact) */
	bool ws;
	int ws_port;
	char *ws_interface;	/* accepted for Janus configs, ignored */
	char *ws_ip;		/* bind address, NULL or "" = all */
	bool wss;
	int wss_port;
	char *wss_interface;	/* ignored */
	char *wss_ip;
	char *ws_logging;	/* ignored: lws logs only errors and warnings, to our log */
	char *ws_acl;		/* not implemented: warned about */
	char *ws_unix;		/* not implemented: warned about */
	char *wss_unix;
	int pingpong_trigger;	/* seconds idle before the server pings; 0 = never */
	int pingpong_timeout;	/* seconds to wait for the pong after that */
	/* admin */
	bool admin_ws;
	int admin_ws_port;
	char *admin_ws_interface; /* ignored */
	char *admin_ws_ip;
	bool admin_wss;
	int admin_wss_port;
	char *admin_wss_interface; /* ignored */
	char *admin_wss_ip;
	char *admin_ws_acl;	/* not implemented: warned about */
	char *admin_ws_unix;	/* not implemented: warned about */
	char *admin_wss_unix;
	/* cors */
	char *allow_origin;	/* NULL = any */
	bool enforce_cors;	/* refuse upgrades whose Origin does not start with allow_origin */
	/* certificates: both set, or both NULL for the server's self-signed one */
	char *cert_pem;
	char *cert_key;
	char *cert_pwd;
	/* Not from the file: from stoa_transport_env. */
	size_t max_request_size; /* bytes of one (reassembled) message */
} stoa__ws_config;

/* Reads <configs_folder>/janus.transport.websockets.jcfg if present, applies
 * `env`, and checks the result. Returns 0, or -1 with a message in `err`
 * (and `cfg` freed). Main thread. */
int stoa__ws_config_load(const stoa_transport_env *env, stoa__ws_config *cfg, char *err,
			 size_t errlen);

/* Frees the strings of `cfg`. Idempotent. */
void stoa__ws_config_free(stoa__ws_config *cfg);

#endif
