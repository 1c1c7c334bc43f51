/*
 * janus.h: Janus API messages, built and taken apart. Only documented
 * Janus API is used (janus-api-compat.md §1, §2, §8.2), so the tool works
 * against Stoa and Janus alike.
 *
 * A transaction is "<kind>-<n>": the kind says which request a reply
 * answers ("create", "attach", "join", ...), so a peer needs no table of
 * outstanding requests.
 *
 * Pure functions on jansson values; no thread of their own.
 */
#ifndef LOAD_JANUS_H
#define LOAD_JANUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define LOAD_VIDEOROOM "janus.plugin.videoroom"

/* A message from the server, borrowed from its json_t. */
typedef struct load_janus_msg {
	json_t *raw;		/* the whole message */
	const char *janus;	/* "success", "ack", "event", "error", "hangup", ... */
	char kind[16];		/* the transaction's kind, "" without one */
	uint64_t session_id;
	uint64_t sender;
	json_t *data;		/* "data" of a success (create, attach) */
	json_t *plugin;		/* plugindata.data */
	json_t *jsep;
	const char *plugin_result;	/* plugindata.data.videoroom */
	int error_code;		/* error.code or plugindata.data.error_code; 0 if none */
	const char *error;	/* its text */
} load_janus_msg;

/* Returns 0, or -1 when msg is not a Janus message (not an object, or no
 * "janus" string). */
int load_janus_parse(json_t *msg, load_janus_msg *m);

/* {"janus": verb, "transaction": "<kind>-<n>"} plus session_id / handle_id
 * when non-zero. */
json_t *load_janus_request(const char *verb, const char *kind, unsigned n, uint64_t session_id,
			   uint64_t handle_id);

/* A message request carrying body (stolen) and, when sdp is not NULL, a
 * jsep {type, sdp, trickle:false}. */
json_t *load_janus_message(const char *kind, unsigned n, uint64_t session_id, uint64_t handle_id,
			   json_t *body, const char *jsep_type, const char *sdp);

/* An unsigned integer field (ids), 0 if missing or not a positive integer. */
uint64_t load_janus_id(json_t *obj, const char *key);

/* A string field of jsep ("type", "sdp"), or NULL. */
const char *load_janus_str(json_t *obj, const char *key);

#endif
