/*
 * http_internal.h: what the files of the HTTP transport share.
 *
 *   http_config.c    janus.transport.http.jcfg and the command-line overrides
 *   http_server.c    libmicrohttpd daemons, request state, routing, CORS, the vtable
 *   http_janus.c     Janus API and Admin API requests (POST, GET info/ping)
 *   http_rest.c      the REST admin API (/api/v1, /metrics) on top of src/api/rest.c
 *   http_longpoll.c  per-session event queues and the GET long poll
 *   http_static.c    the html folder at /
 *
 * Threads: stoa_http_start/stop run on the main thread. Every request runs on
 * its own libmicrohttpd connection thread (MHD_USE_THREAD_PER_CONNECTION), so
 * a handler may block: API requests call stoa_api_handle() there and long
 * polls wait there. The core calls the vtable's send/session_over from any
 * thread and session_source from the connection thread of the request.
 */
#ifndef STOA_TRANSPORTS_HTTP_INTERNAL_H
#define STOA_TRANSPORTS_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>
#include <sys/types.h>
#include <microhttpd.h>

#include "core/server.h"
#include "core/tconn.h"

/* Access handlers return `enum MHD_Result` from 0.9.71 on, `int` before. */
#if MHD_VERSION >= 0x00097002
#define STOA_MHD_RESULT enum MHD_Result
#else
#define STOA_MHD_RESULT int
#endif

/* How long a long poll waits for an event before answering with a keepalive.
 * janus.js and aiortc expect an answer within about 30 s. */
#define STOA_HTTP_LONGPOLL_SECONDS 30
/* Tests set this environment variable (1..300) to shorten the wait. */
#define STOA_HTTP_LONGPOLL_ENV "STOA_TEST_LONGPOLL_SECONDS"
/* Events kept per session while nobody polls; older ones are dropped. */
#define STOA_HTTP_QUEUE_MAX 1000
/* Used when the server gives no max_request_size. */
#define STOA_HTTP_DEFAULT_MAX_REQUEST (1024 * 1024)

/*
 * The transport's settings. Filled by stoa__http_config_load() on the main
 * thread before any listener starts; read-only while listeners run; freed
 * by stoa__http_config_free() after they stopped. Owns its strings.
 */
typedef struct stoa__http_config {
	/* general */
	char *base_path;	/* normalised: leading '/', no trailing '/' ("" = root) */
	bool http;
	int port;
	char *interface;	/* accepted for Janus configs, ignored */
	char *ip;		/* bind address, NULL or "" = all */
	bool https;
	int secure_port;
	char *secure_ip;
	char *threads;		/* accepted for Janus configs, ignored */
	char *json;		/* accepted for Janus configs, ignored (output is compact) */
	bool html;
	char *html_folder;
	/* admin */
	char *admin_base_path;	/* normalised like base_path */
	bool admin_http;
	int admin_port;
	char *admin_ip;
	bool admin_https;
	int admin_secure_port;
	/* cors */
	char *allow_origin;	/* NULL = "*" */
	bool enforce_cors;
	/* certificates: both set, or both NULL for the server's self-signed one */
	char *cert_pem;
	char *cert_key;
	char *cert_pwd;

	/* Not from the file. */
	size_t max_request_size; /* POST bodies larger than this are refused */
	int longpoll_seconds;
} stoa__http_config;

/* The running configuration (see stoa__http_config for when it is valid). */
extern stoa__http_config stoa__http_conf;

/* The vtable every tconn of this transport points to (http_server.c). */
extern const stoa_transport stoa__http_transport;

/* Reads <configs_folder>/janus.transport.http.jcfg over the embedded
 * defaults and applies `env`. Returns 0, or -1 with a message. Main thread. */
int stoa__http_config_load(const stoa_transport_env *env, stoa__http_config *cfg,
			   char *err, size_t errlen);
void stoa__http_config_free(stoa__http_config *cfg);

/* One listening daemon. Static storage in http_server.c; `daemon` is NULL
 * when the listener is disabled. */
typedef struct stoa__http_listener {
	const char *what; /* "API", "API (HTTPS)", "admin", "admin (HTTPS)" */
	bool admin;
	bool tls;
	struct MHD_Daemon *daemon;
} stoa__http_listener;

/* Where a request goes, decided once its headers are in. */
typedef enum stoa__http_route {
	STOA_HTTP_ROUTE_NOT_FOUND,
	STOA_HTTP_ROUTE_API,	/* under base_path on an API listener */
	STOA_HTTP_ROUTE_ADMIN,	/* under admin_base_path on an admin listener */
	STOA_HTTP_ROUTE_STATIC,	/* anything else on an API listener with html on */
	STOA_HTTP_ROUTE_REST,	/* /api/v1 and /metrics where the REST API is served */
	STOA_HTTP_ROUTE_CLIENT,	/* /stoa/client.json on an API listener */
} stoa__http_route;

/*
 * One HTTP request. Created on the first call of the access handler, freed
 * by the request-completed callback; only its connection thread touches it.
 * `route` and `subpath` are set when its headers are in.
 */
typedef struct stoa__http_request {
	stoa__http_route route;
	const char *subpath;	/* url after the base path (points into MHD's url) */
	GByteArray *body;	/* POST body so far */
	bool responded;		/* a response was queued before the body was read */
	bool too_large;		/* a chunked body crossed max_request_size: 413 at the end */
	size_t discarded;	/* body bytes dropped since (bounded: see request_body) */
	unsigned status;	/* non-zero: answer with this empty response (403, OPTIONS) */
	char peer[64];
} stoa__http_request;

/* ---- http_server.c: responses (all carry the CORS headers) ---- */

/* Adds the CORS headers of §4.4 to `resp` (they depend on the request). */
void stoa__http_add_cors(struct MHD_Connection *c, struct MHD_Response *resp);
/* Queues `resp` with `status` after adding CORS headers; drops our ref. */
STOA_MHD_RESULT stoa__http_queue(struct MHD_Connection *c, unsigned status,
				 struct MHD_Response *resp);
/* An empty response with `status`. */
STOA_MHD_RESULT stoa__http_respond_empty(struct MHD_Connection *c, unsigned status);
/* HTTP 200 application/json with stoa_api_dump(msg). Steals the ref to `msg`. */
STOA_MHD_RESULT stoa__http_respond_json(struct MHD_Connection *c, json_t *msg);
STOA_MHD_RESULT stoa__http_respond_json_nocache(struct MHD_Connection *c, json_t *msg);

/* Where pages get their ICE servers (api/client_config.c). */
#define STOA_HTTP_CLIENT_CONFIG "/stoa/client.json"


/* ---- http_janus.c ---- */

/* Serves a request routed to the Janus or Admin API, once its body is in. */
STOA_MHD_RESULT stoa__http_janus_handle(struct MHD_Connection *c, stoa__http_request *req,
					const char *method);
/* Parses a path id: decimal, 1..2^64-1. Returns 0 or -1. */
int stoa__http_parse_id(const char *s, uint64_t *out);
/* Runs one request on a fresh request tconn; returns the reply (new ref). */
json_t *stoa__http_api_call(const stoa__http_request *req, bool admin, json_t *request);

/* ---- http_rest.c ---- */

/* Does the REST API serve `url` on listener `l`? (rest_api.enabled, the
 * path, and the admin listener or rest_api.on_main_port.) */
bool stoa__http_rest_here(const stoa__http_listener *l, const char *url);
/* Logs where the REST API is served, and warns when no token can open it.
 * Main thread, at start. */
void stoa__http_rest_announce(const char *run_token);
/* Serves a REST request once its body is in. */
STOA_MHD_RESULT stoa__http_rest_handle(struct MHD_Connection *c, const stoa__http_request *req,
				       const char *url, const char *method);
/* A REST error answered before the body is read (413, or 403 for CORS),
 * in the REST error shape. */
STOA_MHD_RESULT stoa__http_rest_refuse(struct MHD_Connection *c, const char *method,
				       unsigned status);

/* ---- http_longpoll.c ---- */

void stoa__http_longpoll_init(void);
/* Wakes every waiting poll and makes new ones return at once (stop, step 1). */
void stoa__http_longpoll_shutdown(void);
/* Drops the transport's refs to the queues (stop, after the daemons are gone). */
void stoa__http_longpoll_free(void);
/* GET <base>/<session>: the long poll of §4.3. Blocks this connection thread. */
STOA_MHD_RESULT stoa__http_longpoll(struct MHD_Connection *c, const stoa__http_request *req,
				    uint64_t session_id);

/* The vtable callbacks (see core/tconn.h for their contracts). */
void stoa__http_send(stoa_tconn *conn, json_t *msg);
stoa_tconn *stoa__http_session_source(stoa_tconn *conn, uint64_t session_id);
void stoa__http_session_over(stoa_tconn *source, uint64_t session_id,
			     stoa_session_over_reason why);
void stoa__http_conn_free(stoa_tconn *conn);

/* ---- http_static.c ---- */

/* Resolves the html folder once. Returns 0, or -1 (static files then off). */
int stoa__http_static_init(const char *folder);
void stoa__http_static_free(void);
/* GET/HEAD of a path outside the base paths. */
STOA_MHD_RESULT stoa__http_static_serve(struct MHD_Connection *c, const char *url);

/*
 * Maps a decoded URL path to a file under `root_real` (a realpath()ed
 * folder). "/" and directories map to their index.html. Refuses paths with
 * "..", ".", empty or hidden components, backslashes or NUL, and any file
 * whose real path (symlinks resolved) leaves the folder. Returns 0 with the
 * real path in `out`, or a negative value when the request must get a 404.
 * Pure apart from stat()/realpath(); exposed for unit tests.
 */
int stoa_http_static_resolve(const char *root_real, const char *url_path, char *out,
			     size_t outlen);

#endif
