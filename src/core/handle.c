/*
 * handle.c: handle lifecycle (see handle.h).
 *
 * Detach is two-phase: the `detached` flag flips once (so concurrent detach,
 * session destroy and plugin end_session agree on one winner), the plugin is
 * told and the handle leaves its session's table; the memory goes with the
 * last ref, which may be a plugin thread's.
 */
#include "core/handle.h"

#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/session.h"
#include "media/pc.h"

#define STOA_LOG_MODULE "handle"

static stoa_handle *handle_alloc(stoa_session *s, const stoa_plugin *plugin,
				 const char *opaque_id, const char *token)
{
	stoa_handle *h = g_new0(stoa_handle, 1);
	h->ref = 1;
	h->id = stoa_id_random();
	h->session = stoa_session_ref(s);
	h->plugin = plugin;
	h->ps.core_handle = h;
	h->opaque_id = g_strdup(opaque_id);
	h->token = g_strdup(token);
	h->created = g_get_monotonic_time();
	g_mutex_init(&h->lock);
	g_queue_init(&h->pending_trickles);
	return h;
}

stoa_handle *stoa_handle_new(stoa_session *s, const stoa_plugin *plugin, const char *opaque_id,
			     const char *token, int *error)
{
	stoa_handle *h = handle_alloc(s, plugin, opaque_id, token);
	/* Ids are random 53-bit values; a clash inside one session is
	 * astronomically unlikely, but retrying costs nothing. */
	stoa_handle *clash;
	while ((clash = stoa_session_find_handle(s, h->id)) != NULL) {
		stoa_handle_unref(clash);
		h->id = stoa_id_random();
	}
	int rc = plugin->create_session(&h->ps);
	if (rc < 0) {
		*error = rc;
		g_atomic_int_set(&h->ps.stopped, 1);
		stoa_handle_unref(h);
		return NULL;
	}
	if (stoa_session_add_handle(s, h) < 0) {
		/* The session was destroyed while the plugin was setting up. */
		*error = 1;
		g_atomic_int_set(&h->detached, 1);
		g_atomic_int_set(&h->ps.stopped, 1);
		plugin->destroy_session(&h->ps);
		stoa_handle_unref(h);
		return NULL;
	}
	STOA_LOG_S(STOA_LOG_INFO, s->id, h->id, "attached to %s", plugin->package);
	return h;
}

stoa_handle *stoa_handle_ref(stoa_handle *h)
{
	g_atomic_int_inc(&h->ref);
	return h;
}

void stoa_handle_unref(stoa_handle *h)
{
	if (h == NULL || !g_atomic_int_dec_and_test(&h->ref))
		return;
	g_queue_clear_full(&h->pending_trickles, (GDestroyNotify)json_decref);
	g_mutex_clear(&h->lock);
	g_free(h->opaque_id);
	g_free(h->token);
	stoa_session_unref(h->session);
	g_free(h);
}

void stoa_handle_send(stoa_handle *h, json_t *event)
{
	json_object_set_new(event, "session_id", json_integer((json_int_t)h->session->id));
	json_object_set_new(event, "sender", json_integer((json_int_t)h->id));
	if (h->opaque_id != NULL && stoa_config_get()->opaqueid_in_api)
		json_object_set_new(event, "opaque_id", json_string(h->opaque_id));
	stoa_session_send(h->session, event);
}

void stoa_handle_detach(stoa_handle *h, bool notify)
{
	if (!g_atomic_int_compare_and_exchange(&h->detached, 0, 1))
		return;
	/* Stop the plugin's pushes first, then let it tear down. The peer
	 * connection closes without a hangup event: the client detached. */
	g_atomic_int_set(&h->ps.stopped, 1);
	stoa_pc *pc = stoa_handle_get_pc(h);
	if (pc != NULL) {
		stoa_pc_close(pc, "Detach", false);
		stoa_pc_unref(pc);
	}
	/* A media loop may be inside incoming_rtp for this handle right now
	 * (it saw `stopped` clear a moment ago); the plugin must not free what
	 * that call uses. Once every loop has moved on, no callback can start
	 * (they all check `stopped`), so destroying is safe. */
	stoa_loops_barrier();
	h->plugin->destroy_session(&h->ps);
	stoa_session_remove_handle(h->session, h);
	STOA_LOG_S(STOA_LOG_INFO, h->session->id, h->id, "detached");
	if (notify) {
		json_t *ev = json_pack("{s:s}", "janus", "detached");
		stoa_handle_send(h, ev);
		json_decref(ev);
	}
}

void stoa_handle_hangup(stoa_handle *h, const char *reason, bool by_plugin)
{
	/* The pc leaves the handle now (its ref comes with it), so an offer
	 * that follows at once gets a fresh pc instead of landing on one that
	 * is closing; the old pc's closed callback still sends `hangup` and
	 * tells the plugin. Without a pc there is nothing to close and, as in
	 * Janus, no event. */
	g_mutex_lock(&h->lock);
	stoa_pc *pc = h->pc;
	h->pc = NULL;
	h->got_offer = h->sent_offer = false;
	if (by_plugin && pc != NULL)
		h->plugin_closed_pc = pc;
	g_queue_clear_full(&h->pending_trickles, (GDestroyNotify)json_decref);
	g_mutex_unlock(&h->lock);
	if (pc != NULL) {
		stoa_pc_close(pc, reason, true);
		stoa_pc_unref(pc);
	}
}

int stoa_handle_queue_trickle(stoa_handle *h, json_t *candidate)
{
	g_mutex_lock(&h->lock);
	int rc = -1;
	if (g_queue_get_length(&h->pending_trickles) < STOA_HANDLE_MAX_PENDING_TRICKLES) {
		g_queue_push_tail(&h->pending_trickles, json_incref(candidate));
		rc = 0;
	}
	h->trickle = true;
	g_mutex_unlock(&h->lock);
	return rc;
}
