/*
 * ws_server.c: the WebSocket transport (janus.transport.websockets) on
 * libwebsockets (lws).
 *
 * Design. One lws_context with one vhost per listener: ws and admin_ws
 * (plain), wss and admin_wss (TLS, with certificates.cert_pem/cert_key or,
 * without them, the self-signed certificate the server shares with HTTPS,
 * which lws copies into the vhost). Each vhost offers two protocols. The
 * first is a gatekeeper: lws binds it to plain HTTP requests (answered 403)
 * and to upgrades that name no subprotocol (refused). The second is the real
 * one, janus-protocol or janus-admin-protocol; an upgrade asking only for
 * other names is refused by lws itself. A text message may hold several
 * JSON objects back to back; each goes to stoa_api_submit() in order.
 *
 * Threads.
 *  - main thread: stoa_ws_start() and stoa_ws_stop().
 *  - service thread ("ws-service"): lws_service() and therefore every lws
 *    callback and every use of a `struct lws *`. It parses requests and
 *    queues them with stoa_api_submit(), which never blocks.
 *  - any thread: the vtable's send(), session_over() and conn_free(), called
 *    by API workers, plugins and media loops.
 *  Once stop has joined the service thread, lws_context_destroy() runs the
 *  CLOSED callbacks of connections that were still closing on the main
 *  thread; nothing else runs lws by then.
 *
 * Outbound path. send() serialises the message, appends it to the
 * connection's outbox under the connection's lock and, unless it is already
 * there, puts the connection on the "wants write" list; the first entry of a
 * batch wakes the service thread with lws_cancel_service(). There,
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED empties the list into
 * lws_callback_on_writable(), and each SERVER_WRITEABLE writes one message
 * and asks for another callback while more remain.
 *
 * Lifetime. lws frees a wsi right after LWS_CALLBACK_CLOSED, while other
 * threads may still hold the connection's stoa_tconn (sessions, queued
 * requests) and call send(). So the per-connection state (ws_conn) belongs
 * to the tconn (conn->data) and is freed by conn_free() when the last tconn
 * ref goes. Its `closed` flag, set under its lock in CLOSED, tells senders
 * the wsi is gone; the wsi pointer is only read on the service thread. The
 * lws per-session data holds the transport's ref on the tconn, dropped in
 * CLOSED after stoa_tconn_gone(); each "wants write" entry holds a ref too.
 *
 * Lock order: ws_conn.lock, then srv.lock. Neither is held while calling the
 * core, nor lws except lws_cancel_service() (a pipe write), which runs under
 * srv.lock so that stop cannot destroy the context underneath it.
 *
 * RFC 6455 (WebSocket); framing, fragmentation, ping/pong and the closing
 * handshake are lws's.
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "api/api.h"
#include "api/errors.h"
#include "core/log.h"
#include "core/tconn.h"
#include "core/tls_selfsigned.h"
#include "transports/websockets/ws.h"
#include "transports/websockets/ws_internal.h"

#define STOA_LOG_MODULE "websockets"

/* How long stop waits for outboxes to drain, then for sockets to close. */
#define FLUSH_WAIT_US (1000 * 1000)
#define CLOSE_WAIT_US (500 * 1000)

/* One serialised outbound message, with the headroom lws_write() needs.
 * Owned by the outbox that holds it; freed once written or dropped. */
typedef struct ws_msg {
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes, then `len` bytes of JSON text */
} ws_msg;

/* One listening vhost. Lives in srv.listeners from start to stop. */
typedef struct ws_listener {
	const char *name; /* config spelling, for logs: "ws", "admin_wss", ... */
	bool enabled;
	bool admin;
	bool tls;
	int port;
	const char *ip; /* borrowed from srv.cfg; NULL or "" = all addresses */
	struct lws_vhost *vhost;
} ws_listener;

/*
 * One WebSocket connection. Owned by its stoa_tconn (conn->data): created in
 * ESTABLISHED, freed by conn_free() when the last tconn ref goes, which is
 * never before CLOSED because the transport holds a ref until then.
 */
typedef struct ws_conn {
	GMutex lock;
	/* Under `lock`, any thread. */
	bool closed;	     /* lws reported CLOSED: the wsi is gone */
	bool listed;	     /* on srv.wants_write */
	bool overflow;	     /* the outbox hit its bound: drop the connection */
	GQueue outbox;	     /* ws_msg *, oldest first */
	size_t outbox_bytes;
	/* Service thread only. */
	struct lws *wsi;     /* NULL after CLOSED */
	bool refused;	     /* sent "Request too large": ignore input, close when flushed */
	uint8_t *rx;	     /* reassembly of a fragmented message */
	size_t rx_len, rx_cap;
} ws_conn;

/* lws's per-session data (lws allocates it before ESTABLISHED and frees it
 * after CLOSED): the transport's ref on the connection, NULL once dropped. */
typedef struct ws_pss {
	stoa_tconn *conn;
} ws_pss;

enum { L_WS, L_WSS, L_ADMIN_WS, L_ADMIN_WSS, L_COUNT };

/* The running transport. Written by the main thread around the service
 * thread's life; the atomics and `lock` coordinate the threads meanwhile. */
static struct {
	stoa__ws_config cfg;
	ws_listener listeners[L_COUNT];
	lws_retry_bo_t pingpong;
	struct lws_context *ctx;
	GThread *thread;
	bool started;

	GMutex lock;		/* protects the two fields below */
	GQueue wants_write;	/* stoa_tconn *, one ref each */
	bool ctx_alive;		/* lws_cancel_service() may be called */

	gint stopping;		/* close every connection, accept none */
	gint quit;		/* the service thread returns */
	gint live;		/* established connections */
	gint queued;		/* messages in all outboxes */
	bool closing_all;	/* service thread: close_all() has run */
} srv;

static int gate_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);
static int janus_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

/* The gatekeeper comes first: lws falls back to protocols[0].
 * Each connection keeps an rx buffer of rx_buffer_size for its whole life
 * (lws's default is 4 KiB). Most Janus messages are keepalives and
 * trickles of a few hundred octets, and larger ones arrive in pieces that
 * on_receive() reassembles, so 1 KiB saves 3 KiB per viewer. Sends are
 * not cut to it: tx_packet_size is its own. */
#define WS_RX_BUFFER 1024
#define WS_TX_PACKET 65536
static const struct lws_protocols janus_protocols[] = {
	{ "stoa-gate", gate_cb, 0, WS_RX_BUFFER, 0, NULL, WS_TX_PACKET },
	{ STOA_WS_PROTOCOL, janus_cb, sizeof(ws_pss), WS_RX_BUFFER, 0, NULL, WS_TX_PACKET },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
static const struct lws_protocols admin_protocols[] = {
	{ "stoa-gate", gate_cb, 0, WS_RX_BUFFER, 0, NULL, WS_TX_PACKET },
	{ STOA_WS_ADMIN_PROTOCOL, janus_cb, sizeof(ws_pss), WS_RX_BUFFER, 0, NULL, WS_TX_PACKET },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void ws_send(stoa_tconn *conn, json_t *msg);
static stoa_tconn *ws_session_source(stoa_tconn *conn, uint64_t session_id);
static void ws_session_over(stoa_tconn *source, uint64_t session_id,
			    stoa_session_over_reason why);
static void ws_conn_free(stoa_tconn *conn);

static const stoa_transport ws_transport = {
	.package = "janus.transport.websockets",
	.name = "JSON WebSockets transport plugin",
	.description = "Janus API and Admin API over WebSockets (libwebsockets), "
		       "on the janus-protocol and janus-admin-protocol subprotocols.",
	.author = "Stoa",
	.version_string = "0.0.1",
	.version = 1,
	.send = ws_send,
	.session_source = ws_session_source,
	.session_over = ws_session_over,
	.conn_free = ws_conn_free,
};

/* ---- outbound: any thread ---- */

/* Puts `conn` on the wants-write list unless it is there. Caller holds
 * c->lock (this is what makes `listed` and `closed` consistent with the
 * list). Only the first entry of a batch wakes the service thread: a
 * non-empty list means a wakeup is already on its way. */
static void want_write(stoa_tconn *conn, ws_conn *c)
{
	if (c->listed)
		return;
	g_mutex_lock(&srv.lock);
	if (srv.ctx_alive) {
		bool wake = g_queue_is_empty(&srv.wants_write);

		c->listed = true;
		g_queue_push_tail(&srv.wants_write, stoa_tconn_ref(conn));
		if (wake)
			lws_cancel_service(srv.ctx);
	}
	g_mutex_unlock(&srv.lock);
}

/* Appends `m` (owned) to the outbox, or drops it when the connection is
 * closed or over its bound. */
static void outbox_push(stoa_tconn *conn, ws_msg *m)
{
	ws_conn *c = conn->data;
	bool full = false;
	unsigned msgs = 0;

	g_mutex_lock(&c->lock);
	if (c->closed || c->overflow) {
		g_mutex_unlock(&c->lock);
		g_free(m);
		return;
	}
	if (c->outbox.length >= STOA_WS_OUTBOX_MAX_MSGS ||
	    c->outbox_bytes + m->len > STOA_WS_OUTBOX_MAX_BYTES) {
		/* The client is not reading. Growing further would let one
		 * stalled socket exhaust memory; the writeable callback closes it. */
		c->overflow = true;
		full = true;
		msgs = c->outbox.length;
	} else {
		g_queue_push_tail(&c->outbox, m);
		c->outbox_bytes += m->len;
		g_atomic_int_inc(&srv.queued);
		m = NULL;
	}
	want_write(conn, c);
	g_mutex_unlock(&c->lock);
	g_free(m);
	if (full)
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5,
				     "%s: client does not read (%u messages queued), dropping it",
				     conn->peer, msgs);
}

static void ws_send(stoa_tconn *conn, json_t *msg)
{
	ws_conn *c = conn->data;
	char *text;
	size_t len;
	ws_msg *m;
	bool closed;

	/* Cheap early exit: events keep coming for a while after a close. */
	g_mutex_lock(&c->lock);
	closed = c->closed || c->overflow;
	g_mutex_unlock(&c->lock);
	if (closed)
		return;
	text = stoa_api_dump(msg);
	if (text == NULL)
		return;
	len = strlen(text);
	m = g_malloc(sizeof(*m) + LWS_PRE + len);
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	g_free(text);
	outbox_push(conn, m);
}

static stoa_tconn *ws_session_source(stoa_tconn *conn, uint64_t session_id)
{
	(void)session_id;
	/* Events go to the socket that created or claimed the session. */
	return stoa_tconn_ref(conn);
}

static const char *over_reason(stoa_session_over_reason why)
{
	switch (why) {
	case STOA_SESSION_OVER_DESTROYED:
		return "destroyed";
	case STOA_SESSION_OVER_TIMEOUT:
		return "timed out";
	case STOA_SESSION_OVER_CLAIMED:
		return "claimed elsewhere";
	}
	return "?";
}

static void ws_session_over(stoa_tconn *source, uint64_t session_id,
			    stoa_session_over_reason why)
{
	/* Nothing to undo: the socket only stops receiving the session's
	 * events, and like Janus we tell the client nothing. */
	STOA_LOG_S(STOA_LOG_DBG, session_id, 0, "%s: session %s", source->peer,
		   over_reason(why));
}

static void free_msgs(GQueue *q)
{
	ws_msg *m;

	while ((m = g_queue_pop_head(q)) != NULL)
		g_free(m);
}

static void ws_conn_free(stoa_tconn *conn)
{
	ws_conn *c = conn->data;

	if (c == NULL)
		return;
	/* CLOSED emptied the outbox and nothing is added after it; this is
	 * for safety only. */
	g_atomic_int_add(&srv.queued, -(gint)c->outbox.length);
	free_msgs(&c->outbox);
	g_mutex_clear(&c->lock);
	g_free(c->rx);
	g_free(c);
	conn->data = NULL;
}

/* ---- service thread: wake-ups ---- */

/* Asks every connection for a writeable callback, which closes it. */
static void close_all(void)
{
	if (srv.closing_all)
		return;
	srv.closing_all = true;
	lws_callback_on_writable_all_protocol(srv.ctx, &janus_protocols[1]);
	lws_callback_on_writable_all_protocol(srv.ctx, &admin_protocols[1]);
}

/* lws_cancel_service() was called: serve the wants-write list. lws
 * broadcasts this to every protocol of every vhost, so it runs several times
 * per wakeup; the later runs find the list empty. */
static void on_wait_cancelled(void)
{
	GQueue batch;
	stoa_tconn *conn;

	g_mutex_lock(&srv.lock);
	batch = srv.wants_write;
	g_queue_init(&srv.wants_write);
	g_mutex_unlock(&srv.lock);

	while ((conn = g_queue_pop_head(&batch)) != NULL) {
		ws_conn *c = conn->data;
		bool closed;

		g_mutex_lock(&c->lock);
		c->listed = false;
		closed = c->closed;
		g_mutex_unlock(&c->lock);
		if (!closed)
			lws_callback_on_writable(c->wsi);
		stoa_tconn_unref(conn);
	}
	if (g_atomic_int_get(&srv.stopping))
		close_all();
}

/* ---- service thread: connections ---- */

static void close_with(struct lws *wsi, enum lws_close_status status, const char *why)
{
	lws_close_reason(wsi, status, (unsigned char *)why, strlen(why));
}

static void peer_name(struct lws *wsi, char *buf, size_t size)
{
	const char *p = lws_get_peer_simple(wsi, buf, size);

	if (p == NULL) {
		g_strlcpy(buf, "unknown", size);
		return;
	}
	/* IPv4 clients of a dual-stack socket show up as ::ffff:a.b.c.d. */
	if (g_str_has_prefix(buf, "::ffff:") && strchr(buf, '.') != NULL)
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

/* Decides whether to accept an upgrade that asked for our subprotocol.
 * Returns 0 to accept. */
static int filter_upgrade(struct lws *wsi)
{
	const char *allow = srv.cfg.allow_origin;
	char origin[512];
	int n;

	if (g_atomic_int_get(&srv.stopping))
		return -1;
	if (!srv.cfg.enforce_cors || allow == NULL || allow[0] == '\0' || strcmp(allow, "*") == 0)
		return 0;
	n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	if (n > 0 && g_str_has_prefix(origin, allow))
		return 0;
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 1, "refused a WebSocket from origin '%s' (not %s)",
			     n > 0 ? origin : "(none)", allow);
	return -1;
}

static int on_established(struct lws *wsi, ws_pss *pss)
{
	const ws_listener *l = lws_vhost_user(lws_get_vhost(wsi));
	char peer[64];
	ws_conn *c;

	if (g_atomic_int_get(&srv.stopping))
		return -1;
	peer_name(wsi, peer, sizeof(peer));
	c = g_new0(ws_conn, 1);
	g_mutex_init(&c->lock);
	g_queue_init(&c->outbox);
	c->wsi = wsi;
	pss->conn = stoa_tconn_new(&ws_transport, c, l->admin, peer);
	g_atomic_int_inc(&srv.live);
	STOA_LOG(STOA_LOG_VERB, "%s: new connection from %s", l->name, peer);
	return 0;
}

static void on_closed(ws_pss *pss)
{
	stoa_tconn *conn = pss->conn;
	ws_conn *c;
	GQueue dropped;

	if (conn == NULL)
		return;
	pss->conn = NULL;
	c = conn->data;
	g_mutex_lock(&c->lock);
	c->closed = true;
	dropped = c->outbox;
	g_queue_init(&c->outbox);
	c->outbox_bytes = 0;
	g_mutex_unlock(&c->lock);
	g_atomic_int_add(&srv.queued, -(gint)dropped.length);
	free_msgs(&dropped);
	c->wsi = NULL;
	g_clear_pointer(&c->rx, g_free);
	c->rx_len = c->rx_cap = 0;
	g_atomic_int_add(&srv.live, -1);
	STOA_LOG(STOA_LOG_VERB, "connection from %s closed", conn->peer);
	/* The core destroys (or parks, with reclaim_session_timeout) the
	 * sessions this socket created or claimed. */
	stoa_tconn_gone(conn);
	stoa_tconn_unref(conn);
}

/* Writes one queued message. Returns -1 to close the connection. */
static int on_writeable(struct lws *wsi, ws_pss *pss)
{
	stoa_tconn *conn = pss->conn;
	ws_conn *c;
	ws_msg *m = NULL;
	bool more, overflow;

	if (conn == NULL)
		return -1;
	if (g_atomic_int_get(&srv.stopping)) {
		close_with(wsi, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
		return -1;
	}
	c = conn->data;
	g_mutex_lock(&c->lock);
	overflow = c->overflow;
	if (!overflow && (m = g_queue_pop_head(&c->outbox)) != NULL)
		c->outbox_bytes -= m->len;
	more = !g_queue_is_empty(&c->outbox);
	g_mutex_unlock(&c->lock);

	if (overflow) {
		close_with(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
		return -1;
	}
	if (m != NULL) {
		size_t len = m->len;
		int n;

		g_atomic_int_add(&srv.queued, -1);
		/* lws keeps whatever the socket does not take now and sends it
		 * before the next writeable callback. */
		n = lws_write(wsi, m->buf + LWS_PRE, len, LWS_WRITE_TEXT);
		g_free(m);
		if (n < 0 || (size_t)n < len) {
			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 1, "%s: write failed, closing",
					     conn->peer);
			return -1;
		}
	}
	if (more)
		lws_callback_on_writable(wsi);
	else if (c->refused) {
		close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "request too large");
		return -1;
	}
	return 0;
}

/* ---- service thread: incoming messages ---- */

static void send_error(stoa_tconn *conn, const char *reason)
{
	/* Through the request queue, so it follows the replies to the requests
	 * that came before it in the same message. */
	stoa_api_submit_reply(conn, stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON, "%s", reason));
}

static bool is_json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Hands every JSON object of one complete message to the core, in order.
 * The first one that does not parse gets a 454 and ends the message: after
 * a syntax error we cannot tell where the next object would start. */
static void process_message(stoa_tconn *conn, const char *buf, size_t len)
{
	size_t off = 0;

	for (;;) {
		json_error_t jerr;
		json_t *req;

		while (off < len && is_json_space(buf[off]))
			off++;
		if (off >= len)
			return;
		req = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK, &jerr);
		if (req == NULL) {
			char reason[256];

			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 1, "%s: invalid JSON: %s",
					     conn->peer, jerr.text);
			g_snprintf(reason, sizeof(reason), "Invalid Janus API request - %s",
				   jerr.text);
			send_error(conn, reason);
			return;
		}
		/* With JSON_DISABLE_EOF_CHECK, position is the number of bytes
		 * the parser consumed. */
		if (jerr.position <= 0 || (size_t)jerr.position > len - off) {
			json_decref(req);
			return;
		}
		off += (size_t)jerr.position;
		stoa_api_submit(conn, req);
	}
}

/* The client sent more than max_request_size in one message: answer once,
 * then close when the answer has gone out; ignore what else it sends. */
static void refuse_message(stoa_tconn *conn, ws_conn *c)
{
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 1, "%s: message larger than %zu bytes, closing",
			     conn->peer, srv.cfg.max_request_size);
	c->refused = true;
	g_clear_pointer(&c->rx, g_free);
	c->rx_len = c->rx_cap = 0;
	/* Straight to the outbox, not through the request queue: the close
	 * waits for the outbox to drain, so the error must already be in it. */
	json_t *e = stoa_api_error(0, NULL, STOA_ERR_INVALID_JSON, "Request too large");
	ws_send(conn, e);
	json_decref(e);
}

static void rx_append(ws_conn *c, const void *in, size_t len)
{
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap > 0 ? c->rx_cap : 4096;

		while (cap < c->rx_len + len)
			cap *= 2;
		cap = MIN(cap, srv.cfg.max_request_size);
		c->rx = g_realloc(c->rx, cap);
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
}

static int on_receive(struct lws *wsi, ws_pss *pss, const void *in, size_t len)
{
	stoa_tconn *conn = pss->conn;
	ws_conn *c;
	bool complete;

	if (conn == NULL)
		return -1;
	c = conn->data;
	if (c->refused)
		return 0;
	if (len > srv.cfg.max_request_size - c->rx_len) {
		refuse_message(conn, c);
		return 0;
	}
	/* lws hands a message over in pieces: one per fragment, and a large
	 * fragment in several reads. */
	complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
	if (complete && c->rx_len == 0) {
		process_message(conn, in, len);
		return 0;
	}
	if (len > 0)
		rx_append(c, in, len);
	if (!complete)
		return 0;
	process_message(conn, (const char *)c->rx, c->rx_len);
	c->rx_len = 0;
	/* Keep a small buffer for the next fragmented message, not a large one. */
	if (c->rx_cap > 64 * 1024) {
		g_clear_pointer(&c->rx, g_free);
		c->rx_cap = 0;
	}
	return 0;
}

/* ---- lws callbacks ---- */

/* protocols[0] of every vhost: plain HTTP requests and upgrades without a
 * subprotocol land here, and are refused. */
static int gate_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 1,
				     "refused a WebSocket upgrade without a Janus subprotocol");
		return -1;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* janus-protocol and janus-admin-protocol. */
static int janus_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	ws_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_upgrade(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(wsi, pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(wsi, pss);
	case LWS_CALLBACK_CLOSED:
		on_closed(pss);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		on_wait_cancelled();
		return 0;
	default:
		return 0;
	}
}

/* lws's own log lines, minus its timestamp and level prefix. Only errors
 * and warnings are enabled; clients can trigger them, hence the limit. */
static void lws_log_emit(int level, const char *line)
{
	char buf[512];
	const char *p = line;
	const char *q;

	if (p[0] == '[' && (q = strstr(p, "] ")) != NULL)
		p = q + 2;
	if (p[0] != '\0' && p[1] == ':' && p[2] == ' ')
		p += 3;
	g_strlcpy(buf, p, sizeof(buf));
	g_strchomp(buf);
	if (level & LLL_ERR)
		STOA_LOG_RATELIMITED(STOA_LOG_ERR, 1, "libwebsockets: %s", buf);
	else
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 1, "libwebsockets: %s", buf);
}

/* ---- start and stop: main thread ---- */

static gpointer service_main(gpointer unused)
{
	(void)unused;
	while (!g_atomic_int_get(&srv.quit)) {
		if (lws_service(srv.ctx, 0) < 0) {
			STOA_LOG(STOA_LOG_ERR, "lws_service failed; the WebSocket transport stops");
			break;
		}
	}
	return NULL;
}

static void wake_service(void)
{
	g_mutex_lock(&srv.lock);
	if (srv.ctx_alive)
		lws_cancel_service(srv.ctx);
	g_mutex_unlock(&srv.lock);
}

static void setup_listeners(const stoa__ws_config *cfg)
{
	static const char *const names[L_COUNT] = { "ws", "wss", "admin_ws", "admin_wss" };
	ws_listener *l = srv.listeners;

	for (int i = 0; i < L_COUNT; i++)
		l[i] = (ws_listener){ .name = names[i], .admin = i >= L_ADMIN_WS,
				      .tls = i == L_WSS || i == L_ADMIN_WSS };
	l[L_WS].enabled = cfg->ws;
	l[L_WS].port = cfg->ws_port;
	l[L_WS].ip = cfg->ws_ip;
	l[L_WSS].enabled = cfg->wss;
	l[L_WSS].port = cfg->wss_port;
	l[L_WSS].ip = cfg->wss_ip;
	l[L_ADMIN_WS].enabled = cfg->admin_ws;
	l[L_ADMIN_WS].port = cfg->admin_ws_port;
	l[L_ADMIN_WS].ip = cfg->admin_ws_ip;
	l[L_ADMIN_WSS].enabled = cfg->admin_wss;
	l[L_ADMIN_WSS].port = cfg->admin_wss_port;
	l[L_ADMIN_WSS].ip = cfg->admin_wss_ip;

	/* lws pings a connection idle for secs_since_valid_ping and hangs up
	 * one with no valid traffic (a pong counts) for secs_since_valid_hangup. */
	memset(&srv.pingpong, 0, sizeof(srv.pingpong));
	if (cfg->pingpong_trigger > 0) {
		int timeout = cfg->pingpong_timeout > 0 ? cfg->pingpong_timeout
							: cfg->pingpong_trigger;

		srv.pingpong.secs_since_valid_ping = (uint16_t)cfg->pingpong_trigger;
		srv.pingpong.secs_since_valid_hangup = (uint16_t)(cfg->pingpong_trigger + timeout);
	}
}

/* `st` is the self-signed certificate for TLS vhosts when none is configured. */
static int create_vhost(ws_listener *l, const stoa_tls_selfsigned *st, char *err, size_t errlen)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = l->port;
	info.iface = l->ip != NULL && l->ip[0] != '\0' ? l->ip : NULL;
	info.protocols = l->admin ? admin_protocols : janus_protocols;
	info.vhost_name = l->name;
	info.user = l;
	/* lws 4.1 binds an IPv6 socket to :: when given an IPv4 literal, that
	 * is to every address; an IPv4-only vhost binds the literal itself. */
	if (info.iface != NULL && strchr(info.iface, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (srv.pingpong.secs_since_valid_ping > 0)
		info.retry_and_idle_policy = &srv.pingpong;
	if (l->tls) {
		/* lws enables TLS on a vhost only with this option and a cert. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (st != NULL) {
			/* lws parses these into the vhost's SSL_CTX here and keeps
			 * no pointer to them. */
			info.server_ssl_cert_mem = stoa_tls_selfsigned_cert_pem(st);
			info.server_ssl_cert_mem_len = (unsigned)strlen(stoa_tls_selfsigned_cert_pem(st));
			info.server_ssl_private_key_mem = stoa_tls_selfsigned_key_pem(st);
			info.server_ssl_private_key_mem_len =
				(unsigned)strlen(stoa_tls_selfsigned_key_pem(st));
		} else {
			info.ssl_cert_filepath = srv.cfg.cert_pem;
			info.ssl_private_key_filepath = srv.cfg.cert_key;
			info.ssl_private_key_password = srv.cfg.cert_pwd;
		}
	}
	l->vhost = lws_create_vhost(srv.ctx, &info);
	if (l->vhost == NULL) {
		g_snprintf(err, errlen, "WebSockets: cannot listen on %s:%d (%s): %s",
			   info.iface != NULL ? info.iface : "*", l->port, l->name,
			   l->tls ? "is the port in use, are the certificates readable?"
				  : "is the port in use?");
		return -1;
	}
	STOA_LOG(STOA_LOG_INFO, "%s: listening on %s:%d (%s)", l->name,
		 info.iface != NULL ? info.iface : "*", l->port,
		 l->admin ? STOA_WS_ADMIN_PROTOCOL : STOA_WS_PROTOCOL);
	return 0;
}

static int create_context(const stoa_tls_selfsigned *st, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	bool tls = srv.listeners[L_WSS].enabled || srv.listeners[L_ADMIN_WSS].enabled;

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = -1;
	info.uid = -1;
	srv.ctx = lws_create_context(&info);
	if (srv.ctx == NULL) {
		g_snprintf(err, errlen, "WebSockets: cannot create the libwebsockets context");
		return -1;
	}
	for (int i = 0; i < L_COUNT; i++) {
		if (srv.listeners[i].enabled && create_vhost(&srv.listeners[i], st, err, errlen) < 0) {
			lws_context_destroy(srv.ctx);
			srv.ctx = NULL;
			return -1;
		}
	}
	return 0;
}

static bool any_listener(void)
{
	for (int i = 0; i < L_COUNT; i++)
		if (srv.listeners[i].enabled)
			return true;
	return false;
}

/* Sets *st to the server's self-signed certificate when a TLS listener has
 * none configured (announced with the wss listener's address, or the admin
 * one's without it), else to NULL. Returns 0, or -1 with a message. */
static int get_selfsigned(const stoa_transport_env *env, const stoa_tls_selfsigned **st,
			  char *err, size_t errlen)
{
	const ws_listener *l = srv.listeners[L_WSS].enabled ? &srv.listeners[L_WSS]
							    : &srv.listeners[L_ADMIN_WSS];

	*st = NULL;
	if (!l->enabled || srv.cfg.cert_pem != NULL)
		return 0;
	*st = stoa_tls_selfsigned_shared(env->configs_folder, l->ip, l->port, err, errlen);
	return *st != NULL ? 0 : -1;
}

int stoa_ws_start(const stoa_transport_env *env, char *err, size_t errlen)
{
	GError *gerr = NULL;
	const stoa_tls_selfsigned *st;

	if (srv.started) {
		g_snprintf(err, errlen, "WebSockets: already started");
		return -1;
	}
	if (stoa__ws_config_load(env, &srv.cfg, err, errlen) < 0)
		return -1;
	setup_listeners(&srv.cfg);
	if (!any_listener()) {
		STOA_LOG(STOA_LOG_INFO, "no WebSocket listener enabled");
		stoa__ws_config_free(&srv.cfg);
		return 0;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	if (get_selfsigned(env, &st, err, errlen) < 0 || create_context(st, err, errlen) < 0) {
		stoa__ws_config_free(&srv.cfg);
		return -1;
	}
	g_atomic_int_set(&srv.stopping, 0);
	g_atomic_int_set(&srv.quit, 0);
	srv.closing_all = false;
	g_mutex_lock(&srv.lock);
	g_queue_init(&srv.wants_write);
	srv.ctx_alive = true;
	g_mutex_unlock(&srv.lock);
	srv.thread = g_thread_try_new("ws-service", service_main, NULL, &gerr);
	if (srv.thread == NULL) {
		g_snprintf(err, errlen, "WebSockets: cannot start the service thread: %s",
			   gerr->message);
		g_error_free(gerr);
		g_mutex_lock(&srv.lock);
		srv.ctx_alive = false;
		g_mutex_unlock(&srv.lock);
		lws_context_destroy(srv.ctx);
		srv.ctx = NULL;
		stoa__ws_config_free(&srv.cfg);
		return -1;
	}
	srv.started = true;
	stoa_transports_register(&ws_transport);
	return 0;
}

/* Waits up to `us` for *counter to reach 0, waking the service thread each
 * round so it notices state changes even when no socket is active. */
static void wait_for_zero(gint *counter, gint64 us, bool wake)
{
	gint64 deadline = g_get_monotonic_time() + us;

	while (g_atomic_int_get(counter) > 0 && g_get_monotonic_time() < deadline) {
		if (wake)
			wake_service();
		g_usleep(10 * 1000);
	}
}

void stoa_ws_stop(void)
{
	GQueue leftover;
	stoa_tconn *conn;

	if (!srv.started)
		return;
	stoa_transports_unregister(&ws_transport);
	/* Let replies and the last events (hangup, detached) reach clients. */
	wait_for_zero(&srv.queued, FLUSH_WAIT_US, false);
	g_atomic_int_set(&srv.stopping, 1);
	wait_for_zero(&srv.live, CLOSE_WAIT_US, true);
	g_atomic_int_set(&srv.quit, 1);
	wake_service();
	g_thread_join(srv.thread);
	srv.thread = NULL;

	g_mutex_lock(&srv.lock);
	srv.ctx_alive = false;
	leftover = srv.wants_write;
	g_queue_init(&srv.wants_write);
	g_mutex_unlock(&srv.lock);
	/* Connections that did not finish their closing handshake in time get
	 * their CLOSED callback here, on this thread; the service thread is gone. */
	lws_context_destroy(srv.ctx);
	srv.ctx = NULL;
	while ((conn = g_queue_pop_head(&leftover)) != NULL)
		stoa_tconn_unref(conn);

	if (g_atomic_int_get(&srv.live) != 0 || g_atomic_int_get(&srv.queued) != 0)
		STOA_LOG(STOA_LOG_WARN, "stopped with %d connections and %d messages unaccounted",
			 g_atomic_int_get(&srv.live), g_atomic_int_get(&srv.queued));
	g_atomic_int_set(&srv.live, 0);
	g_atomic_int_set(&srv.queued, 0);
	stoa__ws_config_free(&srv.cfg);
	memset(srv.listeners, 0, sizeof(srv.listeners));
	srv.started = false;
	STOA_LOG(STOA_LOG_INFO, "WebSockets transport stopped");
}
