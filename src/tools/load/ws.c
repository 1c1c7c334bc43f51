/*
 * ws.c: the libwebsockets client and its service thread; see ws.h.
 *
 * The service thread maps each wsi to its connection in `live`; a callback
 * for a wsi that is not there (any callback after on_closed) is ignored,
 * so a connection is never reached through a stale user pointer. While
 * lws_client_connect_via_info() runs, callbacks find the connection
 * through `connecting` instead, because the wsi is not in `live` yet.
 */
#include "ws.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <libwebsockets.h>

#include "load.h"

#define JANUS_PROTOCOL "janus-protocol"

struct load_wsconn {
	gint refs;
	load_ws *ws;
	const load_ws_handlers *h;
	void *ud;
	/* Guarded by ws->lock. */
	GQueue out;		/* of char *, to send */
	bool queued;		/* in ws->pending (holding a ref) */
	bool need_connect;
	bool close_requested;
	bool finished;		/* on_closed has run (or is running) */
	/* Service thread only. */
	struct lws *wsi;
	bool lws_ref;		/* the service thread's ref is held */
	GByteArray *rx;		/* a message being reassembled */
	bool rx_overflow;
};

struct load_ws {
	struct lws_context *ctx;
	GThread *thread;
	gint stop;
	GMutex lock;
	GQueue pending;		/* of load_wsconn*, guarded by lock */
	GHashTable *live;	/* struct lws* -> load_wsconn*; service thread */
	load_wsconn *connecting;	/* service thread */
	char host[256];
	char host_header[300];
	char path[512];
	int port;
};

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len);

static const struct lws_protocols protocols[] = {
	{JANUS_PROTOCOL, ws_callback, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static load_wsconn *conn_ref(load_wsconn *c)
{
	g_atomic_int_inc(&c->refs);
	return c;
}

static void free_queue(GQueue *q)
{
	char *t;
	while ((t = g_queue_pop_head(q)) != NULL)
		g_free(t);
}

void load_wsconn_unref(load_wsconn *c)
{
	if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
		return;
	free_queue(&c->out);
	if (c->rx != NULL)
		g_byte_array_free(c->rx, TRUE);
	g_free(c);
}

/* Puts c in the pending queue (with a ref) and wakes the service thread if
 * the queue was empty. Called with ws->lock held; returns whether to wake. */
static bool enqueue_locked(load_ws *ws, load_wsconn *c)
{
	if (c->queued)
		return false;
	if (g_atomic_int_get(&ws->stop)) {
		/* Too late: load_ws_free() reports it closed. */
		c->queued = true;
		g_queue_push_tail(&ws->pending, conn_ref(c));
		return false;
	}
	c->queued = true;
	bool was_empty = g_queue_is_empty(&ws->pending);
	g_queue_push_tail(&ws->pending, conn_ref(c));
	return was_empty;
}

load_wsconn *load_ws_connect(load_ws *ws, const load_ws_handlers *h, void *ud)
{
	load_wsconn *c = g_new0(load_wsconn, 1);
	c->refs = 1;
	c->ws = ws;
	c->h = h;
	c->ud = ud;
	g_queue_init(&c->out);
	c->need_connect = true;
	g_mutex_lock(&ws->lock);
	bool wake = enqueue_locked(ws, c);
	g_mutex_unlock(&ws->lock);
	if (wake)
		lws_cancel_service(ws->ctx);
	return c;
}

void load_wsconn_send(load_wsconn *c, char *text)
{
	load_ws *ws = c->ws;
	g_mutex_lock(&ws->lock);
	if (c->finished || c->close_requested) {
		g_mutex_unlock(&ws->lock);
		g_free(text);
		return;
	}
	g_queue_push_tail(&c->out, text);
	bool wake = enqueue_locked(ws, c);
	g_mutex_unlock(&ws->lock);
	if (wake)
		lws_cancel_service(ws->ctx);
}

void load_wsconn_close(load_wsconn *c)
{
	load_ws *ws = c->ws;
	g_mutex_lock(&ws->lock);
	bool wake = false;
	if (!c->finished && !c->close_requested) {
		c->close_requested = true;
		wake = enqueue_locked(ws, c);
	}
	g_mutex_unlock(&ws->lock);
	if (wake)
		lws_cancel_service(ws->ctx);
}

/* ------------------------------------------------------------ service thread */

/* The end of a connection: exactly once. */
static void finish(load_wsconn *c, const char *why)
{
	load_ws *ws = c->ws;
	g_mutex_lock(&ws->lock);
	bool already = c->finished;
	c->finished = true;
	free_queue(&c->out);
	g_mutex_unlock(&ws->lock);
	if (already)
		return;
	if (c->wsi != NULL && g_hash_table_lookup(ws->live, c->wsi) == c)
		g_hash_table_remove(ws->live, c->wsi);
	c->wsi = NULL;
	c->h->on_closed(c->ud, why);
	if (c->lws_ref) {
		c->lws_ref = false;
		load_wsconn_unref(c);
	}
}

static void do_connect(load_ws *ws, load_wsconn *c)
{
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof(i));
	i.context = ws->ctx;
	i.address = ws->host;
	i.port = ws->port;
	i.path = ws->path;
	i.host = ws->host_header;
	i.origin = ws->host_header;
	i.protocol = JANUS_PROTOCOL;
	i.userdata = c;
	c->lws_ref = true;
	conn_ref(c);
	ws->connecting = c;
	struct lws *wsi = lws_client_connect_via_info(&i);
	ws->connecting = NULL;
	if (wsi == NULL) {
		finish(c, "could not start connecting");
		return;
	}
	c->wsi = wsi;
	if (!c->finished)
		g_hash_table_insert(ws->live, wsi, c);
}

static void run_pending(load_ws *ws)
{
	g_mutex_lock(&ws->lock);
	GQueue batch = ws->pending;
	g_queue_init(&ws->pending);
	g_mutex_unlock(&ws->lock);
	load_wsconn *c;
	while ((c = g_queue_pop_head(&batch)) != NULL) {
		g_mutex_lock(&ws->lock);
		c->queued = false;
		bool connect = c->need_connect && !c->finished;
		bool close_early = c->need_connect && c->close_requested;
		c->need_connect = false;
		bool finished = c->finished;
		g_mutex_unlock(&ws->lock);
		if (close_early)
			finish(c, "closed before connecting");
		else if (connect)
			do_connect(ws, c);
		else if (!finished && c->wsi != NULL)
			lws_callback_on_writable(c->wsi);
		load_wsconn_unref(c);
	}
}

static load_wsconn *find_conn(load_ws *ws, struct lws *wsi)
{
	load_wsconn *c = g_hash_table_lookup(ws->live, wsi);
	if (c == NULL && ws->connecting != NULL && lws_wsi_user(wsi) == ws->connecting)
		c = ws->connecting;
	return c;
}

static void deliver(load_wsconn *c)
{
	const char *buf = (const char *)c->rx->data;
	size_t len = c->rx->len, off = 0;
	while (off < len) {
		while (off < len && g_ascii_isspace(buf[off]))
			off++;
		if (off >= len)
			break;
		json_error_t e;
		/* Several JSON values may share one frame; position says where
		 * each one ended. */
		json_t *j = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK, &e);
		if (j == NULL) {
			c->h->on_bad_message(c->ud, "not JSON");
			break;
		}
		off += e.position > 0 ? (size_t)e.position : len - off;
		c->h->on_message(c->ud, j);
	}
	g_byte_array_set_size(c->rx, 0);
}

static void on_receive(load_wsconn *c, struct lws *wsi, const void *in, size_t len)
{
	if (c->rx == NULL)
		c->rx = g_byte_array_new();
	if (!c->rx_overflow && c->rx->len + len <= LOAD_WS_MAX_MESSAGE)
		g_byte_array_append(c->rx, in, (guint)len);
	else
		c->rx_overflow = true;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return;
	if (c->rx_overflow) {
		c->rx_overflow = false;
		g_byte_array_set_size(c->rx, 0);
		c->h->on_bad_message(c->ud, "message too large");
		return;
	}
	deliver(c);
}

/* Sends one queued message; returns -1 to close the connection. */
static int on_writable(load_wsconn *c, struct lws *wsi)
{
	load_ws *ws = c->ws;
	g_mutex_lock(&ws->lock);
	char *text = g_queue_pop_head(&c->out);
	bool more = !g_queue_is_empty(&c->out);
	bool close = c->close_requested;
	g_mutex_unlock(&ws->lock);
	if (text == NULL) {
		if (close)
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return close ? -1 : 0;
	}
	size_t len = strlen(text);
	unsigned char *buf = g_malloc(LWS_PRE + len);
	memcpy(buf + LWS_PRE, text, len);
	int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
	g_free(buf);
	g_free(text);
	if (n < (int)len)
		return -1;
	if (more || close)
		lws_callback_on_writable(wsi);
	return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	load_ws *ws = ctx != NULL ? lws_context_user(ctx) : NULL;
	if (ws == NULL)
		return 0;
	if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
		run_pending(ws);
		return 0;
	}
	load_wsconn *c = find_conn(ws, wsi);
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->h->on_open(c->ud);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		on_receive(c, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writable(c, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[128];
		g_snprintf(why, sizeof(why), "connection failed: %.*s", in != NULL ? (int)len : 7,
			   in != NULL ? (const char *)in : "unknown");
		finish(c, why);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		finish(c, "closed by the server");
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		finish(c, "connection destroyed");
		return 0;
	default:
		return 0;
	}
}

static gpointer service_main(gpointer data)
{
	load_ws *ws = data;
	while (!g_atomic_int_get(&ws->stop))
		lws_service(ws->ctx, 0);
	return NULL;
}

static int parse_url(load_ws *ws, const char *url, char *err, size_t errlen)
{
	char *copy = g_strdup(url);
	const char *prot = NULL, *ads = NULL, *path = NULL;
	int port = 0;
	int rc = lws_parse_uri(copy, &prot, &ads, &port, &path);
	if (rc != 0 || strcmp(prot, "ws") != 0 || ads[0] == '\0' ||
	    strlen(ads) >= sizeof(ws->host) || strlen(path) + 2 > sizeof(ws->path)) {
		snprintf(err, errlen, "cannot use the URL '%s' (ws://host:port/path)", url);
		g_free(copy);
		return -1;
	}
	g_strlcpy(ws->host, ads, sizeof(ws->host));
	g_snprintf(ws->path, sizeof(ws->path), "/%s", path);
	ws->port = port > 0 ? port : 80;
	g_snprintf(ws->host_header, sizeof(ws->host_header), "%s:%d", ws->host, ws->port);
	g_free(copy);
	return 0;
}

load_ws *load_ws_new(const char *url, char *err, size_t errlen)
{
	load_ws *ws = g_new0(load_ws, 1);
	if (parse_url(ws, url, err, errlen) < 0) {
		g_free(ws);
		return NULL;
	}
	g_mutex_init(&ws->lock);
	g_queue_init(&ws->pending);
	ws->live = g_hash_table_new(g_direct_hash, g_direct_equal);
	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = protocols;
	ci.gid = -1;
	ci.uid = -1;
	ci.user = ws;
	ci.connect_timeout_secs = 10;
	ws->ctx = lws_create_context(&ci);
	if (ws->ctx == NULL) {
		snprintf(err, errlen, "lws_create_context failed");
		g_hash_table_destroy(ws->live);
		g_mutex_clear(&ws->lock);
		g_free(ws);
		return NULL;
	}
	ws->thread = g_thread_new("load-ws", service_main, ws);
	return ws;
}

void load_ws_free(load_ws *ws)
{
	if (ws == NULL)
		return;
	g_mutex_lock(&ws->lock);
	g_atomic_int_set(&ws->stop, 1);
	g_mutex_unlock(&ws->lock);
	lws_cancel_service(ws->ctx);
	g_thread_join(ws->thread);
	/* The service thread is gone, so this thread may use lws now.
	 * Destroying the context closes every wsi: their on_closed run here. */
	lws_context_destroy(ws->ctx);
	ws->ctx = NULL;
	/* Connections still queued never reached the service thread. */
	load_wsconn *c;
	while ((c = g_queue_pop_head(&ws->pending)) != NULL) {
		c->queued = false;
		if (!c->finished) {
			c->finished = true;
			c->h->on_closed(c->ud, "client shutting down");
		}
		load_wsconn_unref(c);
	}
	g_hash_table_destroy(ws->live);
	g_mutex_clear(&ws->lock);
	g_free(ws);
}
