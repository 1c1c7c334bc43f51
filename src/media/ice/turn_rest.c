/*
 * turn_rest.c: the TURN REST API client (see turn_rest.h).
 *
 * Design: no HTTP library. One request per fetch, HTTP/1.1 with
 * "Connection: close", written by hand on a GSocketClient connection (TLS
 * through GIO's TLS backend for https URLs); the reply is read up to
 * MAX_REPLY bytes, de-chunked if needed, and its JSON checked strictly.
 * Every blocking step is bounded by the configured timeout (the socket's
 * timeout plus a deadline checked between reads), and all of it runs on the
 * pool threads, never on a media loop.
 */
#include <gio/gio.h>
#include <jansson.h>
#include <string.h>

#include "core/log.h"
#include "media/ice/turn_rest.h"

#define STOA_LOG_MODULE "turn-rest"
#define MAX_REPLY (64 * 1024)
#define MAX_RELAYS 8
#define POOL_THREADS 4

/* Written on the main thread before the first fetch, read-only after. */
static struct {
	GUri *uri;
	char *key;
	bool post;
	int timeout;
	GThreadPool *pool;
	GCancellable *cancel;
} api;

/* The cache: one set of credentials for the whole server. */
static GMutex cache_lock;
static stoa_turn_creds *cache;
static int64_t cache_until_us;

typedef struct fetch_job {
	stoa_turn_rest_cb cb;
	void *ud;
} fetch_job;

stoa_turn_creds *stoa_turn_creds_ref(stoa_turn_creds *c)
{
	g_atomic_int_inc(&c->ref);
	return c;
}

void stoa_turn_creds_unref(stoa_turn_creds *c)
{
	if (c == NULL || !g_atomic_int_dec_and_test(&c->ref))
		return;
	for (int i = 0; i < c->n_relays; i++) {
		g_free(c->relays[i].ip);
		g_free(c->relays[i].user);
		g_free(c->relays[i].pwd);
	}
	g_free(c->relays);
	g_free(c);
}

/* ---- parsing ---- */

int stoa_turn_rest_parse_uri(const char *uri, char **host, int *port, stoa_ice_relay_type *type)
{
	*host = NULL;
	bool secure;
	const char *p;
	if (g_str_has_prefix(uri, "turn:")) {
		secure = false;
		p = uri + 5;
	} else if (g_str_has_prefix(uri, "turns:")) {
		secure = true;
		p = uri + 6;
	} else if (g_str_has_prefix(uri, "stun:") || g_str_has_prefix(uri, "stuns:")) {
		return 1;
	} else {
		return -1;
	}
	const char *query = strchr(p, '?');
	const char *end = query != NULL ? query : p + strlen(p);
	const char *host_end, *port_start = NULL;
	if (*p == '[') { /* RFC 7065: IPv6 literals in brackets */
		const char *close = memchr(p, ']', (size_t)(end - p));
		if (close == NULL || close == p + 1)
			return -1;
		host_end = close;
		if (close + 1 < end) {
			if (close[1] != ':')
				return -1;
			port_start = close + 2;
		}
		p++;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		host_end = colon != NULL ? colon : end;
		if (colon != NULL)
			port_start = colon + 1;
	}
	if (host_end == p)
		return -1;
	*port = secure ? 5349 : 3478;
	if (port_start != NULL) {
		char *e = NULL;
		long v = strtol(port_start, &e, 10);
		if (e == port_start || e != end || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	}
	*type = secure ? STOA_ICE_TURN_TLS : STOA_ICE_TURN_UDP;
	if (query != NULL) {
		const char *t = query + 1;
		if (!g_str_has_prefix(t, "transport="))
			return 1;
		t += strlen("transport=");
		if (g_ascii_strcasecmp(t, "udp") == 0) {
			if (secure) /* DTLS to the TURN server: libnice cannot */
				return 1;
		} else if (g_ascii_strcasecmp(t, "tcp") == 0) {
			*type = secure ? STOA_ICE_TURN_TLS : STOA_ICE_TURN_TCP;
		} else {
			return 1;
		}
	}
	*host = g_strndup(p, (size_t)(host_end - p));
	return 0;
}

static bool valid_credential(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 512)
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

stoa_turn_creds *stoa_turn_rest_parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		g_snprintf(err, errlen, "not JSON (%s)", je.text);
		return NULL;
	}
	stoa_turn_creds *c = NULL;
	json_t *user = json_object_get(root, "username");
	json_t *pwd = json_object_get(root, "password");
	json_t *ttl = json_object_get(root, "ttl");
	json_t *uris = json_object_get(root, "uris");
	if (!json_is_object(root)) {
		g_snprintf(err, errlen, "not a JSON object");
	} else if (!json_is_string(user) || !valid_credential(json_string_value(user))) {
		g_snprintf(err, errlen, "missing or invalid \"username\"");
	} else if (!json_is_string(pwd) || !valid_credential(json_string_value(pwd))) {
		g_snprintf(err, errlen, "missing or invalid \"password\"");
	} else if (!json_is_integer(ttl) || json_integer_value(ttl) <= 0 ||
		   json_integer_value(ttl) > 86400 * 365) {
		g_snprintf(err, errlen, "missing or invalid \"ttl\"");
	} else if (!json_is_array(uris) || json_array_size(uris) == 0) {
		g_snprintf(err, errlen, "missing or empty \"uris\"");
	} else {
		c = g_new0(stoa_turn_creds, 1);
		c->ref = 1;
		c->ttl = (int)json_integer_value(ttl);
		c->relays = g_new0(stoa_ice_relay, MAX_RELAYS);
		size_t i;
		json_t *u;
		json_array_foreach(uris, i, u) {
			char *host = NULL;
			int port = 0;
			stoa_ice_relay_type type = STOA_ICE_TURN_UDP;
			int rc = json_is_string(u) ? stoa_turn_rest_parse_uri(json_string_value(u), &host,
									      &port, &type)
						   : -1;
			if (rc < 0) {
				g_snprintf(err, errlen, "invalid entry in \"uris\"");
				stoa_turn_creds_unref(c);
				c = NULL;
				break;
			}
			if (rc > 0 || c->n_relays == MAX_RELAYS)
				continue;
			stoa_ice_relay *r = &c->relays[c->n_relays++];
			r->ip = host;
			r->port = port;
			r->type = type;
			r->user = g_strdup(json_string_value(user));
			r->pwd = g_strdup(json_string_value(pwd));
		}
		if (c != NULL && c->n_relays == 0) {
			g_snprintf(err, errlen, "no usable turn: or turns: URI in \"uris\"");
			stoa_turn_creds_unref(c);
			c = NULL;
		}
	}
	json_decref(root);
	return c;
}

/* ---- HTTP ---- */

static char *request_text(void)
{
	GString *params = g_string_new("service=turn&username=janus");
	if (api.key != NULL) {
		char *k = g_uri_escape_string(api.key, NULL, FALSE);
		g_string_append_printf(params, "&key=%s", k);
		g_free(k);
	}
	const char *path = g_uri_get_path(api.uri);
	const char *query = g_uri_get_query(api.uri);
	const char *host = g_uri_get_host(api.uri);
	int port = g_uri_get_port(api.uri);
	bool v6 = strchr(host, ':') != NULL;
	GString *req = g_string_new(NULL);
	g_string_append_printf(req, "%s %s", api.post ? "POST" : "GET", *path ? path : "/");
	if (!api.post || query != NULL)
		g_string_append_c(req, '?');
	if (query != NULL)
		g_string_append_printf(req, "%s%s", query, api.post ? "" : "&");
	if (!api.post)
		g_string_append(req, params->str);
	g_string_append_printf(req, " HTTP/1.1\r\nHost: %s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
	if (port > 0)
		g_string_append_printf(req, ":%d", port);
	g_string_append(req, "\r\nUser-Agent: Stoa\r\nAccept: application/json\r\nConnection: close\r\n");
	if (api.post)
		g_string_append_printf(req,
				       "Content-Type: application/x-www-form-urlencoded\r\n"
				       "Content-Length: %zu\r\n\r\n%s",
				       params->len, params->str);
	else
		g_string_append(req, "\r\n");
	g_string_free(params, TRUE);
	return g_string_free(req, FALSE);
}

/* Decodes a chunked body in place. Returns the decoded length or -1. */
static gssize dechunk(char *buf, size_t len)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *line_end = g_strstr_len(buf + in, (gssize)(len - in), "\r\n");
		if (line_end == NULL)
			return -1;
		char *e = NULL;
		unsigned long n = strtoul(buf + in, &e, 16);
		if (e == buf + in)
			return -1;
		in = (size_t)(line_end - buf) + 2;
		if (n == 0)
			return (gssize)out;
		if (n > len - in || len - in - n < 2)
			return -1;
		memmove(buf + out, buf + in, n);
		out += n;
		in += n + 2;
	}
}

/* The reply body (g_free) or NULL with a message. */
static char *http_fetch(size_t *body_len, char *err, size_t errlen)
{
	int64_t deadline = g_get_monotonic_time() + (int64_t)api.timeout * G_USEC_PER_SEC;
	GSocketClient *client = g_socket_client_new();
	g_socket_client_set_timeout(client, (guint)api.timeout);
	bool https = g_strcmp0(g_uri_get_scheme(api.uri), "https") == 0;
	g_socket_client_set_tls(client, https);
	int port = g_uri_get_port(api.uri);
	GError *e = NULL;
	char *out = NULL;
	GString *reply = NULL;
	GSocketConnectable *addr = g_network_address_new(g_uri_get_host(api.uri),
							 (guint16)(port > 0 ? port : https ? 443 : 80));
	GSocketConnection *conn = g_socket_client_connect(client, addr, api.cancel, &e);
	g_object_unref(addr);
	if (conn == NULL) {
		g_snprintf(err, errlen, "cannot connect: %s", e->message);
		goto done;
	}
	char *req = request_text();
	gboolean sent = g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
						  req, strlen(req), NULL, api.cancel, &e);
	g_free(req);
	if (!sent) {
		g_snprintf(err, errlen, "cannot send the request: %s", e->message);
		goto done;
	}
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	reply = g_string_sized_new(4096);
	char chunk[4096];
	for (;;) {
		if (g_get_monotonic_time() > deadline) {
			g_snprintf(err, errlen, "no complete reply within %d s", api.timeout);
			goto done;
		}
		gssize n = g_input_stream_read(in, chunk, sizeof(chunk), api.cancel, &e);
		if (n < 0) {
			g_snprintf(err, errlen, "cannot read the reply: %s", e->message);
			goto done;
		}
		if (n == 0)
			break;
		if (reply->len + (size_t)n > MAX_REPLY) {
			g_snprintf(err, errlen, "reply larger than %d bytes", MAX_REPLY);
			goto done;
		}
		g_string_append_len(reply, chunk, n);
	}
	char *head_end = g_strstr_len(reply->str, (gssize)reply->len, "\r\n\r\n");
	int status = 0;
	if (head_end == NULL || sscanf(reply->str, "HTTP/1.%*1[01] %d", &status) != 1) {
		g_snprintf(err, errlen, "not an HTTP/1.x reply");
		goto done;
	}
	if (status != 200) {
		g_snprintf(err, errlen, "HTTP status %d", status);
		goto done;
	}
	*head_end = '\0';
	char *head = g_ascii_strdown(reply->str, -1);
	bool chunked = strstr(head, "\r\ntransfer-encoding: chunked") != NULL;
	const char *cl = strstr(head, "\r\ncontent-length:");
	long content_length = cl != NULL ? strtol(cl + strlen("\r\ncontent-length:"), NULL, 10) : -1;
	g_free(head);
	char *body = head_end + 4;
	size_t len = reply->len - (size_t)(body - reply->str);
	if (chunked) {
		gssize d = dechunk(body, len);
		if (d < 0) {
			g_snprintf(err, errlen, "bad chunked body");
			goto done;
		}
		len = (size_t)d;
	} else if (content_length >= 0) {
		if ((size_t)content_length > len) {
			g_snprintf(err, errlen, "truncated body");
			goto done;
		}
		len = (size_t)content_length;
	}
	out = g_strndup(body, len);
	*body_len = len;
done:
	if (reply != NULL)
		g_string_free(reply, TRUE);
	g_clear_error(&e);
	if (conn != NULL) {
		g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
		g_object_unref(conn);
	}
	g_object_unref(client);
	return out;
}

/* Host names in the URIs -> numeric addresses for libnice (IPv4 first). */
static int resolve_relays(stoa_turn_creds *c, char *err, size_t errlen)
{
	GResolver *resolver = g_resolver_get_default();
	int kept = 0;
	for (int i = 0; i < c->n_relays; i++) {
		stoa_ice_relay *r = &c->relays[i];
		GInetAddress *literal = g_inet_address_new_from_string(r->ip);
		if (literal != NULL) {
			g_object_unref(literal);
			c->relays[kept++] = *r;
			continue;
		}
		GList *addrs = g_resolver_lookup_by_name(resolver, r->ip, api.cancel, NULL);
		char *ip = NULL;
		for (GList *l = addrs; l != NULL && ip == NULL; l = l->next)
			if (g_inet_address_get_family(l->data) == G_SOCKET_FAMILY_IPV4)
				ip = g_inet_address_to_string(l->data);
		if (ip == NULL && addrs != NULL)
			ip = g_inet_address_to_string(addrs->data);
		g_resolver_free_addresses(addrs);
		if (ip == NULL) {
			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "TURN server '%s' does not resolve", r->ip);
			g_free(r->ip);
			g_free(r->user);
			g_free(r->pwd);
			continue;
		}
		g_free(r->ip);
		r->ip = ip;
		c->relays[kept++] = *r;
	}
	c->n_relays = kept;
	g_object_unref(resolver);
	if (kept == 0)
		g_snprintf(err, errlen, "none of the TURN servers resolves");
	return kept > 0 ? 0 : -1;
}

static stoa_turn_creds *fetch_now(void)
{
	char err[256] = "";
	size_t len = 0;
	char *body = http_fetch(&len, err, sizeof(err));
	stoa_turn_creds *c = NULL;
	if (body != NULL)
		c = stoa_turn_rest_parse(body, len, err, sizeof(err));
	g_free(body);
	if (c != NULL && resolve_relays(c, err, sizeof(err)) < 0) {
		stoa_turn_creds_unref(c);
		c = NULL;
	}
	if (c == NULL) {
		if (!g_cancellable_is_cancelled(api.cancel))
			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10,
					     "TURN REST API %s: %s; gathering without it",
					     g_uri_get_host(api.uri), err);
		return NULL;
	}
	STOA_LOG(STOA_LOG_VERB, "TURN REST API: %d relay(s), ttl %d s", c->n_relays, c->ttl);
	g_mutex_lock(&cache_lock);
	if (cache != NULL)
		stoa_turn_creds_unref(cache);
	cache = stoa_turn_creds_ref(c);
	/* Half the ttl: credentials handed out now still have half their life
	 * left for the allocation refreshes that follow. */
	cache_until_us = g_get_monotonic_time() + (int64_t)c->ttl * G_USEC_PER_SEC / 2;
	g_mutex_unlock(&cache_lock);
	return c;
}

static void run_job(gpointer data, gpointer unused)
{
	fetch_job *j = data;
	stoa_turn_creds *c = NULL;
	if (!g_cancellable_is_cancelled(api.cancel)) {
		c = stoa_turn_rest_cached();
		if (c == NULL)
			c = fetch_now();
	}
	j->cb(c, j->ud);
	g_free(j);
}

/* ---- public ---- */

int stoa_turn_rest_configure(const char *url, const char *key, const char *method, int timeout,
			     char *err, size_t errlen)
{
	stoa_turn_rest_cleanup();
	if (url == NULL || *url == '\0')
		return 0;
	GError *e = NULL;
	GUri *uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, &e);
	if (uri == NULL) {
		g_snprintf(err, errlen, "nat.turn_rest_api: '%s': %s", url, e->message);
		g_clear_error(&e);
		return -1;
	}
	const char *scheme = g_uri_get_scheme(uri);
	if ((g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0) ||
	    g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0' ||
	    g_uri_get_userinfo(uri) != NULL) {
		g_snprintf(err, errlen, "nat.turn_rest_api: '%s' is not an http:// or https:// URL", url);
		g_uri_unref(uri);
		return -1;
	}
	if (method != NULL && *method && g_ascii_strcasecmp(method, "GET") != 0 &&
	    g_ascii_strcasecmp(method, "POST") != 0) {
		g_snprintf(err, errlen, "nat.turn_rest_api_method: '%s' is not GET or POST", method);
		g_uri_unref(uri);
		return -1;
	}
	api.uri = uri;
	api.key = key != NULL && *key ? g_strdup(key) : NULL;
	api.post = method != NULL && g_ascii_strcasecmp(method, "POST") == 0;
	api.timeout = timeout > 0 ? timeout : 10;
	api.cancel = g_cancellable_new();
	api.pool = g_thread_pool_new(run_job, NULL, POOL_THREADS, FALSE, NULL);
	STOA_LOG(STOA_LOG_INFO, "TURN REST API at %s://%s (%s, timeout %d s)", scheme,
		 g_uri_get_host(uri), api.post ? "POST" : "GET", api.timeout);
	return 0;
}

bool stoa_turn_rest_enabled(void)
{
	return api.pool != NULL;
}

int stoa_turn_rest_timeout(void)
{
	return api.timeout;
}

void stoa_turn_rest_stop(void)
{
	if (api.pool == NULL)
		return;
	g_cancellable_cancel(api.cancel);
	/* Queued jobs still run, and see the cancellation at once. */
	g_thread_pool_free(api.pool, FALSE, TRUE);
	api.pool = NULL;
}

void stoa_turn_rest_cleanup(void)
{
	stoa_turn_rest_stop();
	g_clear_pointer(&api.uri, g_uri_unref);
	g_clear_pointer(&api.key, g_free);
	g_clear_object(&api.cancel);
	g_mutex_lock(&cache_lock);
	g_clear_pointer(&cache, stoa_turn_creds_unref);
	g_mutex_unlock(&cache_lock);
}

stoa_turn_creds *stoa_turn_rest_cached(void)
{
	stoa_turn_creds *c = NULL;
	g_mutex_lock(&cache_lock);
	if (cache != NULL && g_get_monotonic_time() < cache_until_us)
		c = stoa_turn_creds_ref(cache);
	g_mutex_unlock(&cache_lock);
	return c;
}

int stoa_turn_rest_fetch(stoa_turn_rest_cb cb, void *ud)
{
	if (api.pool == NULL)
		return -1;
	fetch_job *j = g_new(fetch_job, 1);
	j->cb = cb;
	j->ud = ud;
	if (!g_thread_pool_push(api.pool, j, NULL)) {
		g_free(j);
		return -1;
	}
	return 0;
}
