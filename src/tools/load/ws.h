/*
 * ws.h: the WebSocket client (libwebsockets), one connection per peer with
 * the "janus-protocol" subprotocol, as a browser running janus.js has.
 *
 * Threads: libwebsockets is not thread-safe, so one service thread owns
 * the lws context and every wsi. Other threads ask it to connect, send and
 * close through a queue under one mutex and one lws_cancel_service()
 * wakeup per batch. Handlers run on the service thread and must only hand
 * the work on (peers post it to their worker); they must not block.
 *
 * Lifetime: a load_wsconn is refcounted: the caller of load_ws_connect()
 * holds one ref, the service thread another until on_closed. on_closed is
 * called exactly once per connection, whatever happened (connect failure,
 * server close, our close, load_ws_free), and no handler runs after it.
 */
#ifndef LOAD_WS_H
#define LOAD_WS_H

#include <stddef.h>

#include <jansson.h>

#define LOAD_WS_MAX_MESSAGE (1024 * 1024)

typedef struct load_ws load_ws;
typedef struct load_wsconn load_wsconn;

typedef struct load_ws_handlers {
	void (*on_open)(void *ud);
	/* One JSON value per call; the handler owns msg. */
	void (*on_message)(void *ud, json_t *msg);
	/* A message that is not JSON or is too large. */
	void (*on_bad_message)(void *ud, const char *why);
	void (*on_closed)(void *ud, const char *why);
} load_ws_handlers;

/* Parses url (ws://host[:port][/path]) and starts the service thread. */
load_ws *load_ws_new(const char *url, char *err, size_t errlen);

/* Any thread. The handlers and ud must stay valid until on_closed. */
load_wsconn *load_ws_connect(load_ws *ws, const load_ws_handlers *h, void *ud);

/* Any thread; takes ownership of text. Dropped once the connection is
 * closing or closed. */
void load_wsconn_send(load_wsconn *c, char *text);

/* Any thread; idempotent. Queued messages are sent first. */
void load_wsconn_close(load_wsconn *c);

void load_wsconn_unref(load_wsconn *c);

/* Closes every connection (their on_closed run), stops the service
 * thread and frees the context. Main thread, after every peer is done
 * with the client. */
void load_ws_free(load_ws *ws);

#endif
