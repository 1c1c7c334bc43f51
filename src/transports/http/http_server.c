/*
 * http_server.c: the listeners of the HTTP transport and request routing.
 *
 * Up to four libmicrohttpd daemons: the Janus API over HTTP and HTTPS, and
 * the Admin API over HTTP and HTTPS, each on its own port. HTTPS uses
 * certificates.cert_pem/cert_key, or without them the self-signed
 * certificate the server shares with WSS (core/tls_selfsigned.c). The REST admin
 * API (/api/v1, /metrics) is served on the admin ones, and on the API ones
 * when rest_api.on_main_port says so (http_rest.c). Every daemon runs
 * one thread per connection (MHD_USE_THREAD_PER_CONNECTION) so that a long
 * poll or a slow API request blocks only its own connection; the connection
 * limit (1024) bounds the number of threads.
 *
 * A request goes through the access handler three ways: once when its
 * headers are in (we check CORS, answer OPTIONS, pick the route and refuse
 * oversized bodies), once per body chunk (accumulated up to
 * max_request_size), and once at the end, where http_janus.c,
 * http_longpoll.c or http_static.c answer it. Every response carries the
 * CORS headers of janus-api-compat.md §4.4.
 *
 * Threads: start/stop on the main thread; everything else on connection
 * threads. Stop wakes pending long polls first, because MHD_stop_daemon()
 * joins the connection threads.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api.h"
#include "api/rest.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tls_selfsigned.h"
#include "stoa/version.h"
#include "transports/http/http.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

/* MHD renamed its constant for 413 between versions; the number is stable. */
#define HTTP_CONTENT_TOO_LARGE 413
#define CONNECTION_LIMIT 1024
/* Idle keep-alive connections are closed after this many seconds. */
#define CONNECTION_TIMEOUT 120

const stoa_transport stoa__http_transport = {
	.package = "janus.transport.http",
	.name = "Stoa HTTP transport",
	.description = "Janus API and Admin API over HTTP and HTTPS, with long polling",
	.author = "Stoa",
	.version_string = STOA_VERSION_STRING,
	.version = 1,
	.send = stoa__http_send,
	.session_source = stoa__http_session_source,
	.session_over = stoa__http_session_over,
	.conn_free = stoa__http_conn_free,
};

static stoa__http_listener listeners[] = {
	{ "API", false, false, NULL },
	{ "API (HTTPS)", false, true, NULL },
	{ "admin", true, false, NULL },
	{ "admin (HTTPS)", true, true, NULL },
};

static bool started;
static bool static_on;
/* PEM text of the certificate and key, kept while the HTTPS daemons run:
 * read from cert_pem/cert_key, or copied from the server's self-signed one. */
static char *tls_cert;
static char *tls_key;

/* ---------------------------------------------------------------- responses */

void stoa__http_add_cors(struct MHD_Connection *c, struct MHD_Response *resp)
{
	const char *allow = stoa__http_conf.allow_origin;
	const char *v;

	MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow != NULL ? allow : "*");
	if (allow != NULL) {
		MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	/* Echo what the preflight asks for: janus.js sends Content-Type, and
	 * we have no reason to restrict methods or headers further. */
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method");
	if (v != NULL)
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", v);
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
	if (v != NULL)
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", v);
}

STOA_MHD_RESULT stoa__http_queue(struct MHD_Connection *c, unsigned status,
				 struct MHD_Response *resp)
{
	STOA_MHD_RESULT ret;

	if (resp == NULL)
		return MHD_NO;
	stoa__http_add_cors(c, resp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

STOA_MHD_RESULT stoa__http_respond_empty(struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	return stoa__http_queue(c, status, resp);
}

static STOA_MHD_RESULT respond_json(struct MHD_Connection *c, json_t *msg, bool nocache)
{
	char *text = stoa_api_dump(msg);
	struct MHD_Response *resp;

	json_decref(msg);
	if (text == NULL)
		return MHD_NO;
	/* Copy so that MHD frees with its allocator and we with ours. */
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	g_free(text);
	if (resp != NULL) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		if (nocache)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	return stoa__http_queue(c, MHD_HTTP_OK, resp);
}

STOA_MHD_RESULT stoa__http_respond_json(struct MHD_Connection *c, json_t *msg)
{
	return respond_json(c, msg, false);
}

/* For replies that carry credentials minted per request. */
STOA_MHD_RESULT stoa__http_respond_json_nocache(struct MHD_Connection *c, json_t *msg)
{
	return respond_json(c, msg, true);
}

/* ---------------------------------------------------------------- routing */

/* With enforce_cors, the Origin (or the Referer when a browser sends no
 * Origin) must start with allow_origin. A request with neither is refused
 * too: enforcement is opt-in, and server-side clients can send an Origin. */
static bool cors_allowed(struct MHD_Connection *c)
{
	const char *allow = stoa__http_conf.allow_origin;
	const char *origin;

	if (!stoa__http_conf.enforce_cors || allow == NULL)
		return true;
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	if (origin == NULL)
		origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER);
	return origin != NULL && g_str_has_prefix(origin, allow);
}

/* True when `url` is `base` or below it; `rest` gets what follows. */
static bool under_base(const char *url, const char *base, const char **rest)
{
	size_t n = strlen(base);

	if (strncmp(url, base, n) != 0 || (url[n] != '\0' && url[n] != '/'))
		return false;
	*rest = url + n;
	return true;
}

static stoa__http_route route_of(const stoa__http_listener *l, const char *url,
				 const char **rest)
{
	/* Before the base paths: on the main port base_path may be "/". */
	if (stoa__http_rest_here(l, url)) {
		*rest = url;
		return STOA_HTTP_ROUTE_REST;
	}
	if (!l->admin && strcmp(url, STOA_HTTP_CLIENT_CONFIG) == 0)
		return STOA_HTTP_ROUTE_CLIENT;
	if (l->admin)
		return under_base(url, stoa__http_conf.admin_base_path, rest)
			       ? STOA_HTTP_ROUTE_ADMIN
			       : STOA_HTTP_ROUTE_NOT_FOUND;
	if (under_base(url, stoa__http_conf.base_path, rest))
		return STOA_HTTP_ROUTE_API;
	return static_on ? STOA_HTTP_ROUTE_STATIC : STOA_HTTP_ROUTE_NOT_FOUND;
}

static void peer_name(struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;
	socklen_t len = 0;

	g_strlcpy(out, "?", outlen);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (sa->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	if (len > 0)
		getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST);
	/* Dual-stack sockets see IPv4 clients as ::ffff:a.b.c.d; log a.b.c.d. */
	if (g_str_has_prefix(out, "::ffff:") && strchr(out + 7, '.') != NULL)
		memmove(out, out + 7, strlen(out + 7) + 1);
}

/* A Content-Length above the bound is refused before we read the body.
 * We answer 413 with an empty body rather than a Janus 454 error: there is
 * no request to quote, and HTTP clients understand 413 without parsing. */
static bool declared_too_large(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	guint64 n;

	if (v == NULL || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &n, NULL))
		return false;
	return n > stoa__http_conf.max_request_size;
}

/* Answers a body we refuse to read: right after the headers (MHD then
 * discards the body and closes the connection after the answer), or once
 * a chunked body that crossed the bound has ended. REST clients get the REST error body, everyone else
 * an empty one. */
static STOA_MHD_RESULT respond_early(struct MHD_Connection *c, stoa__http_request *req,
				     const char *method, unsigned status)
{
	req->responded = true;
	if (req->route == STOA_HTTP_ROUTE_REST)
		return stoa__http_rest_refuse(c, method, status);
	return stoa__http_respond_empty(c, status);
}

static STOA_MHD_RESULT request_begin(const stoa__http_listener *l, struct MHD_Connection *c,
				     const char *url, const char *method, void **con_cls)
{
	stoa__http_request *req = g_new0(stoa__http_request, 1);

	peer_name(c, req->peer, sizeof(req->peer));
	*con_cls = req;
	req->route = route_of(l, url, &req->subpath);
	/* These two are answered once the request is complete, so that the
	 * connection stays open for the next request (preflights come often). */
	if (!cors_allowed(c)) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "%s: %s %s refused by enforce_cors",
				     req->peer, method, url);
		req->status = MHD_HTTP_FORBIDDEN;
	} else if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
		req->status = MHD_HTTP_OK;
	}
	if (declared_too_large(c)) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "%s: %s %s: body over %zu bytes refused",
				     req->peer, method, url, stoa__http_conf.max_request_size);
		return respond_early(c, req, method, HTTP_CONTENT_TOO_LARGE);
	}
	return MHD_YES;
}

/* A chunked body (no Content-Length) can exceed the bound after its
 * headers were accepted. libmicrohttpd (0.9.75) lets the access handler
 * queue a response before the upload or after it, never in the middle, so
 * we keep reading and drop what comes, then answer 413 with the error body
 * when the body ends. Dropping is bounded too: a client that sends more
 * than DRAIN_MAX past the bound gets the connection closed instead. */
#define DRAIN_MAX (1024 * 1024)

static STOA_MHD_RESULT request_body(stoa__http_request *req, const char *data, size_t *size)
{
	size_t have = req->body != NULL ? req->body->len : 0;

	if (req->responded) {
		*size = 0;
		return MHD_YES;
	}
	if (!req->too_large && *size > stoa__http_conf.max_request_size - have) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "%s: body over %zu bytes refused",
				     req->peer, stoa__http_conf.max_request_size);
		req->too_large = true;
		req->discarded = have;
		if (req->body != NULL)
			g_byte_array_free(req->body, TRUE);
		req->body = NULL;
	}
	if (req->too_large) {
		req->discarded += *size;
		*size = 0;
		if (req->discarded - stoa__http_conf.max_request_size > DRAIN_MAX) {
			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "%s: body still coming %d bytes past "
					     "the limit, closing", req->peer, DRAIN_MAX);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (req->body == NULL)
		req->body = g_byte_array_new();
	g_byte_array_append(req->body, (const guint8 *)data, (guint)*size);
	*size = 0;
	return MHD_YES;
}

static STOA_MHD_RESULT request_end(stoa__http_request *req, struct MHD_Connection *c,
				   const char *url, const char *method)
{
	switch (req->route) {
	case STOA_HTTP_ROUTE_API:
	case STOA_HTTP_ROUTE_ADMIN:
		return stoa__http_janus_handle(c, req, method);
	case STOA_HTTP_ROUTE_REST:
		return stoa__http_rest_handle(c, req, url, method);
	case STOA_HTTP_ROUTE_CLIENT:
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
			return stoa__http_respond_json_nocache(
				c, stoa_client_config(stoa_config_get(), g_get_real_time() / G_USEC_PER_SEC));
		break;
	case STOA_HTTP_ROUTE_STATIC:
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
			return stoa__http_static_serve(c, url);
		break;
	case STOA_HTTP_ROUTE_NOT_FOUND:
		break;
	}
	return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
}

static STOA_MHD_RESULT on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	stoa__http_request *req = *con_cls;

	if (req == NULL)
		return request_begin(cls, c, url, method, con_cls);
	if (*upload_size > 0)
		return request_body(req, upload_data, upload_size);
	if (req->responded)
		return MHD_YES;
	if (req->too_large)
		return respond_early(c, req, method, HTTP_CONTENT_TOO_LARGE);
	if (req->status == MHD_HTTP_FORBIDDEN && req->route == STOA_HTTP_ROUTE_REST)
		return stoa__http_rest_refuse(c, method, req->status);
	if (req->status != 0) {
		/* A CORS preflight (OPTIONS) of the REST API counts as a REST request. */
		if (req->route == STOA_HTTP_ROUTE_REST)
			stoa_metrics_rest_request(method, req->status);
		return stoa__http_respond_empty(c, req->status);
	}
	return request_end(req, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	stoa__http_request *req = *con_cls;

	if (req == NULL)
		return;
	if (req->body != NULL)
		g_byte_array_free(req->body, TRUE);
	g_free(req);
	*con_cls = NULL;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %HH in paths and query values like MHD's default, except %00,
 * which stays as the three characters: a NUL would silently cut the path
 * (or a secret) short, and no legitimate request needs one. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		int hi = r[0] == '%' ? hexval(r[1]) : -1;
		int lo = hi >= 0 ? hexval(r[2]) : -1;

		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Routes libmicrohttpd's own errors (bind failures, TLS problems) to our log. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt,
							   va_list ap)
{
	char *line = g_strdup_vprintf(fmt, ap);

	g_strchomp(line);
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "libmicrohttpd: %s", line);
	g_free(line);
}

/* ---------------------------------------------------------------- daemons */

typedef union bind_addr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
} bind_addr;

static int parse_bind(const char *ip, int port, bind_addr *a, unsigned *flags)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->in4.sin_addr) == 1) {
		a->in4.sin_family = AF_INET;
		a->in4.sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -1;
}

static struct MHD_Daemon *start_daemon(stoa__http_listener *l, unsigned flags, int port,
				       const bind_addr *addr)
{
	struct MHD_OptionItem opts[6];
	size_t n = 0;

	if (addr != NULL)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)addr };
	if (l->tls) {
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key };
		/* The password is for the configured key; ours has none. */
		if (stoa__http_conf.cert_pwd != NULL && stoa__http_conf.cert_pem != NULL)
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_KEY_PASSWORD, 0,
							     stoa__http_conf.cert_pwd };
	}
	opts[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	/* The logger goes first so that MHD reports option errors through it. */
	return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, l,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/* Binds `ip` (or every address) and starts the daemon. With no ip we try a
 * dual-stack IPv6 socket first and fall back to IPv4, for hosts (or network
 * namespaces) where IPv6 is disabled. */
static int start_listener(stoa__http_listener *l, int port, const char *ip, char *err,
			  size_t errlen)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ERROR_LOG | (l->tls ? MHD_USE_TLS : 0);
	bind_addr addr;

	if (ip != NULL && ip[0] != '\0') {
		if (parse_bind(ip, port, &addr, &flags) < 0) {
			g_snprintf(err, errlen, "HTTP %s: '%s' is not an IP address", l->what, ip);
			return -1;
		}
		l->daemon = start_daemon(l, flags, port, &addr);
	} else {
		l->daemon = start_daemon(l, flags | MHD_USE_DUAL_STACK, port, NULL);
		if (l->daemon == NULL) {
			STOA_LOG(STOA_LOG_VERB, "%s: no dual-stack socket, trying IPv4 only", l->what);
			l->daemon = start_daemon(l, flags, port, NULL);
		}
	}
	if (l->daemon == NULL) {
		g_snprintf(err, errlen, "HTTP %s: cannot listen on %s:%d", l->what,
			   ip != NULL && ip[0] != '\0' ? ip : "*", port);
		return -1;
	}
	STOA_LOG(STOA_LOG_INFO, "%s listening on %s:%d%s", l->what,
		 ip != NULL && ip[0] != '\0' ? ip : "*", port,
		 l->admin ? stoa__http_conf.admin_base_path : stoa__http_conf.base_path);
	return 0;
}

/* The server's self-signed certificate, announced with the URL of the API
 * listener (where the demo pages are), or of the admin one without it. */
static int use_selfsigned(const stoa_transport_env *env, char *err, size_t errlen)
{
	const stoa__http_config *cfg = &stoa__http_conf;
	const stoa_tls_selfsigned *st = stoa_tls_selfsigned_shared(
		env->configs_folder, cfg->https ? cfg->secure_ip : cfg->admin_ip,
		cfg->https ? cfg->secure_port : cfg->admin_secure_port, err, errlen);

	if (st == NULL)
		return -1;
	/* Copies: the daemons need them until stop, and free_tls() wipes ours. */
	tls_cert = g_strdup(stoa_tls_selfsigned_cert_pem(st));
	tls_key = g_strdup(stoa_tls_selfsigned_key_pem(st));
	return 0;
}

static int load_tls(const stoa_transport_env *env, char *err, size_t errlen)
{
	const stoa__http_config *cfg = &stoa__http_conf;
	GError *gerr = NULL;

	if (!cfg->https && !cfg->admin_https)
		return 0;
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		g_snprintf(err, errlen, "HTTPS is on but libmicrohttpd was built without TLS");
		return -1;
	}
	if (cfg->cert_pem == NULL)
		return use_selfsigned(env, err, errlen);
	if (!g_file_get_contents(cfg->cert_pem, &tls_cert, NULL, &gerr) ||
	    !g_file_get_contents(cfg->cert_key, &tls_key, NULL, &gerr)) {
		g_snprintf(err, errlen, "HTTPS certificates: %s", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	return 0;
}

static void free_tls(void)
{
	g_free(tls_cert);
	tls_cert = NULL;
	if (tls_key != NULL)
		memset(tls_key, 0, strlen(tls_key)); /* do not leave the key in freed memory */
	g_free(tls_key);
	tls_key = NULL;
}

static int start_all(char *err, size_t errlen)
{
	const stoa__http_config *cfg = &stoa__http_conf;

	if (cfg->http && start_listener(&listeners[0], cfg->port, cfg->ip, err, errlen) < 0)
		return -1;
	if (cfg->https &&
	    start_listener(&listeners[1], cfg->secure_port, cfg->secure_ip, err, errlen) < 0)
		return -1;
	if (cfg->admin_http &&
	    start_listener(&listeners[2], cfg->admin_port, cfg->admin_ip, err, errlen) < 0)
		return -1;
	/* The admin HTTPS listener shares admin_ip: it has no address of its own. */
	if (cfg->admin_https &&
	    start_listener(&listeners[3], cfg->admin_secure_port, cfg->admin_ip, err, errlen) < 0)
		return -1;
	return 0;
}

static void stop_all(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(listeners); i++) {
		if (listeners[i].daemon != NULL)
			MHD_stop_daemon(listeners[i].daemon);
		listeners[i].daemon = NULL;
	}
}

static void free_all(void)
{
	stop_all();
	stoa__http_longpoll_free();
	stoa__http_static_free();
	static_on = false;
	free_tls();
	stoa__http_config_free(&stoa__http_conf);
}

int stoa_http_start(const stoa_transport_env *env, char *err, size_t errlen)
{
	if (started) {
		g_snprintf(err, errlen, "HTTP transport already started");
		return -1;
	}
	if (stoa__http_config_load(env, &stoa__http_conf, err, errlen) < 0)
		return -1;
	stoa__http_longpoll_init();
	if (stoa__http_conf.html)
		static_on = stoa__http_static_init(stoa__http_conf.html_folder) == 0;
	const char *run_token = stoa_rest_run_token_init();
	if (load_tls(env, err, errlen) < 0 || start_all(err, errlen) < 0) {
		stoa__http_longpoll_shutdown();
		free_all();
		stoa_rest_run_token_free();
		return -1;
	}
	if (listeners[0].daemon == NULL && listeners[1].daemon == NULL &&
	    listeners[2].daemon == NULL && listeners[3].daemon == NULL)
		STOA_LOG(STOA_LOG_INFO, "HTTP transport: every listener is disabled");
	started = true;
	stoa_transports_register(&stoa__http_transport);
	stoa__http_rest_announce(run_token);
	return 0;
}

void stoa_http_stop(void)
{
	if (!started)
		return;
	stoa_transports_unregister(&stoa__http_transport);
	/* Wake long polls before MHD joins their threads. */
	stoa__http_longpoll_shutdown();
	free_all();
	stoa_rest_run_token_free();
	started = false;
	STOA_LOG(STOA_LOG_INFO, "HTTP transport stopped");
}
