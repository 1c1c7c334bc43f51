/*
 * api.h: entry points of the Janus API and the Admin API for transports.
 *
 * A transport parses a request into JSON and either calls stoa_api_handle()
 * on its own thread and sends the reply itself (HTTP, one thread per
 * connection), or calls stoa_api_submit() and gets the reply through its
 * send() callback (WebSocket: the service thread must never block). Requests
 * submitted on one tconn run in order; different tconns run in parallel on
 * the API worker pool.
 */
#ifndef STOA_API_API_H
#define STOA_API_API_H

#include <jansson.h>
#include <glib.h>
#include <stdint.h>

#include "core/tconn.h"

/* Handles one request (borrowed) that arrived on `conn`, on the calling
 * thread. Returns the reply (new reference); never NULL. */
json_t *stoa_api_handle(stoa_tconn *conn, json_t *request);

/* Queues one request for ordered execution; steals the caller's ref to
 * `request`. The reply goes to conn->transport->send(). Any thread. */
void stoa_api_submit(stoa_tconn *conn, json_t *request);

/* Queues a reply the transport built itself (e.g. a parse error) behind the
 * requests already submitted on `conn`, so it does not overtake their
 * replies; steals the caller's ref. Any thread. */
void stoa_api_submit_reply(stoa_tconn *conn, json_t *reply);

/* Builds an error reply: {"janus":"error","session_id"?,"transaction"?,
 * "error":{"code","reason"}}. session_id 0 and transaction NULL are left out.
 * `fmt` NULL uses the code's default Janus reason. New reference. */
json_t *stoa_api_error(uint64_t session_id, const char *transaction, int code,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The `server_info` object (reply to `info` and GET /janus/info). New ref. */
json_t *stoa_api_server_info(void);

/* The reply to GET /stoa/client.json (client_config.c): RTCConfiguration-
 * shaped ICE servers for browser pages, TURN credentials minted at `now_s`
 * (Unix seconds) when pages.turn_secret is set. New ref. */
struct stoa_config;
json_t *stoa_client_config(const struct stoa_config *c, gint64 now_s);

/* coturn's use-auth-secret credential for `username`: base64(HMAC-SHA1). g_free it. */
char *stoa_turn_credential(const char *secret, const char *username);

/* Serialises a reply or event the way every transport sends it (compact). g_free the result. */
char *stoa_api_dump(json_t *msg);

/* Starts/stops the API worker pool. Main thread. */
int stoa_api_workers_start(int threads);
void stoa_api_workers_stop(void);

#endif
