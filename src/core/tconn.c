/*
 * tconn.c: transport connections (see tconn.h) and the registry of running
 * transports that server_info lists.
 *
 * Any thread may ref, unref or send. stoa_tconn_gone() runs on the
 * transport's thread and hands the session clean-up to the session module.
 */
#include <string.h>

#include "core/session.h"
#include "core/tconn.h"

stoa_tconn *stoa_tconn_new(const stoa_transport *t, void *data, bool admin, const char *peer)
{
	stoa_tconn *c = g_new0(stoa_tconn, 1);
	c->ref = 1;
	c->transport = t;
	c->data = data;
	c->admin = admin;
	g_strlcpy(c->peer, peer != NULL ? peer : "", sizeof(c->peer));
	g_mutex_init(&c->lock);
	g_queue_init(&c->pending);
	return c;
}

stoa_tconn *stoa_tconn_ref(stoa_tconn *c)
{
	g_atomic_int_inc(&c->ref);
	return c;
}

void stoa_tconn_unref(stoa_tconn *c)
{
	if (c == NULL || !g_atomic_int_dec_and_test(&c->ref))
		return;
	/* The worker holds a ref while requests are queued, so nothing is pending here. */
	g_assert(g_queue_is_empty(&c->pending));
	if (c->transport != NULL && c->transport->conn_free != NULL)
		c->transport->conn_free(c);
	g_mutex_clear(&c->lock);
	g_free(c);
}

void stoa_tconn_send(stoa_tconn *c, json_t *msg)
{
	if (c == NULL || msg == NULL || g_atomic_int_get(&c->gone))
		return;
	c->transport->send(c, msg);
}

void stoa_tconn_gone(stoa_tconn *c)
{
	if (!g_atomic_int_compare_and_exchange(&c->gone, 0, 1))
		return;
	if (!c->admin)
		stoa_sessions_source_gone(c);
}

/* ---- registry of running transports ---- */

static GMutex registry_lock;
static GList *registry; /* const stoa_transport *, in start order */

void stoa_transports_register(const stoa_transport *t)
{
	g_mutex_lock(&registry_lock);
	if (g_list_find(registry, t) == NULL)
		registry = g_list_append(registry, (gpointer)t);
	g_mutex_unlock(&registry_lock);
}

void stoa_transports_unregister(const stoa_transport *t)
{
	g_mutex_lock(&registry_lock);
	registry = g_list_remove(registry, t);
	g_mutex_unlock(&registry_lock);
}

void stoa_transports_foreach(void (*fn)(const stoa_transport *t, void *ud), void *ud)
{
	g_mutex_lock(&registry_lock);
	for (GList *l = registry; l != NULL; l = l->next)
		fn(l->data, ud);
	g_mutex_unlock(&registry_lock);
}
