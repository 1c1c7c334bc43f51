/*
 * fuzz_api.c: arbitrary bytes as a Janus API or Admin API request, through
 * the same path a transport uses (json_loadb, then stoa_api_handle). The
 * first byte picks the API and whether a session and handle exist, so the
 * fuzzer reaches session- and handle-level verbs with valid ids.
 * Invariant checked: every request gets exactly one well-formed reply.
 */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/session.h"
#include "core/handle.h"
#include "core/log.h"
#include "fuzz.h"

static void fake_send(stoa_tconn *c, json_t *msg)
{
	(void)c;
	(void)msg;
}

static stoa_tconn *fake_source(stoa_tconn *c, uint64_t sid)
{
	(void)sid;
	return stoa_tconn_ref(c);
}

static const stoa_transport fake = {
	.package = "fuzz",
	.send = fake_send,
	.session_source = fake_source,
};

static stoa_config cfg;

static void setup_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	stoa_log_options lo = { .level = STOA_LOG_NONE };
	stoa_log_init(&lo);
	stoa_config_init(&cfg);
	stoa_config_set_current(&cfg);
	stoa_auth_init(NULL, true, NULL); /* stored tokens: exercises the token verbs */
	stoa_sessions_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	json_error_t err;
	json_t *req = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, &err);
	if (req == NULL)
		return 0;
	stoa_tconn *conn = stoa_tconn_new(&fake, NULL, (mode & 1) != 0, "fuzz");
	/* With bit 1 set, a live session (id 1) exists so ids in the input can hit it. */
	stoa_session *s = (mode & 2) ? stoa_session_create(1, conn) : NULL;
	json_t *reply = stoa_api_handle(conn, req);
	if (reply == NULL || !json_is_string(json_object_get(reply, "janus")))
		abort();
	json_decref(reply);
	json_decref(req);
	if (s != NULL) {
		stoa_session_destroy(s, STOA_SESSION_OVER_DESTROYED);
		stoa_session_unref(s);
	}
	stoa_sessions_destroy_all();
	stoa_tconn_gone(conn);
	stoa_tconn_unref(conn);
	return 0;
}
