/*
 * api_internal.h: what the Janus API and Admin API dispatchers share.
 *
 * A request is validated in Janus's order (shared/janus-api-compat.md §1.1),
 * then looked up in a verb table that says at which level (root, session,
 * handle) the verb is valid and which function handles it. Handlers return
 * the reply; they never send it themselves.
 */
#ifndef STOA_API_INTERNAL_H
#define STOA_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "api/errors.h"
#include "core/handle.h"
#include "core/session.h"

/* One request while it is being handled; lives on the handler's stack. */
typedef struct stoa_request {
	stoa_tconn *conn;
	json_t *root;		/* borrowed */
	const char *transaction;
	const char *verb;
	uint64_t session_id;	/* 0 if absent */
	uint64_t handle_id;	/* 0 if absent */
	bool has_handle;	/* handle_id present (even if < 1) */
	stoa_session *session;	/* +1 ref once looked up */
	stoa_handle *handle;	/* +1 ref once looked up */
} stoa_request;

enum {
	STOA_SCOPE_ROOT = 1 << 0,
	STOA_SCOPE_SESSION = 1 << 1,
	STOA_SCOPE_HANDLE = 1 << 2,
};

typedef json_t *(*stoa_verb_fn)(stoa_request *req);

typedef struct stoa_verb {
	const char *name;
	unsigned scopes;  /* where the verb is valid */
	bool open;	  /* needs no secret/token (info, ping) */
	stoa_verb_fn fn;
} stoa_verb;

/* The verb's table entry, matched case-insensitively, or NULL. */
const stoa_verb *stoa__api_verb_find(const stoa_verb *table, size_t n, const char *verb);

/* Validates transaction, janus, session_id, handle_id into `req`. Returns
 * NULL, or the error reply. */
json_t *stoa__api_envelope(stoa_request *req, stoa_tconn *conn, json_t *root);

/* {"janus":"success","session_id"?,"transaction"} */
json_t *stoa__api_success(const stoa_request *req);
/* {"janus":<kind>,"session_id"?,"transaction"} */
json_t *stoa__api_reply(const stoa_request *req, const char *kind);
/* An error for `req` (session_id and transaction as Janus includes them). */
json_t *stoa__api_req_error(const stoa_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Checks fields of the request root against a table; an error reply or NULL. */
#define STOA_API_CHECK(req, table) \
	stoa__api_check((req), (req)->root, (table), sizeof(table) / sizeof((table)[0]))
struct stoa_param;
json_t *stoa__api_check(const stoa_request *req, json_t *obj, const struct stoa_param *params,
			size_t n);

void stoa__api_request_clear(stoa_request *req);

/* Verbs both APIs share (janus_api.c). */
json_t *stoa__api_verb_destroy(stoa_request *req);
json_t *stoa__api_verb_detach(stoa_request *req);

/* The Admin API (admin_api.c). */
json_t *stoa__admin_api_handle(stoa_tconn *conn, json_t *root);
/* handle_info's `info` object for `h` (plugin, plugin_specific, flags and,
 * unless plugin_only, the peer connection's ICE/DTLS/media state and
 * stats). New ref. API or HTTP thread: it waits for the pc's media loop.
 * Shared with the REST API's GET /sessions/{session}. */
json_t *stoa__api_handle_info(stoa_handle *h, bool plugin_only);
/* The Admin API verb table's entry for `verb`, or NULL. */
const stoa_verb *stoa__admin_verb_find(const char *verb);

#endif
