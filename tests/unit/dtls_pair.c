/* dtls_pair.c: the back-to-back DTLS harness (see dtls_pair.h). */
#include <string.h>

#include "dtls_pair.h"

static void on_send(void *ud, const uint8_t *buf, size_t len)
{
	peer *p = ud;
	p->datagrams++;
	if (len > p->max_datagram)
		p->max_datagram = len;
	g_queue_push_tail(&p->sent, g_bytes_new(buf, len));
}

static void on_state(void *ud, stoa_dtls_state state, const char *reason)
{
	peer *p = ud;
	p->state_calls++;
	p->last_state = state;
	g_free(p->last_reason);
	p->last_reason = g_strdup(reason);
	if (p->free_on_final && (state == STOA_DTLS_STATE_FAILED || state == STOA_DTLS_STATE_CLOSED ||
				 state == STOA_DTLS_STATE_CONNECTED)) {
		stoa_dtls_free(p->dtls);
		p->dtls = NULL;
	}
}

static void on_app(void *ud, const uint8_t *buf, size_t len)
{
	peer *p = ud;
	p->app_records++;
	g_byte_array_append(p->app_rx, buf, (guint)len);
}

const stoa_dtls_callbacks callbacks = {
	.send = on_send, .state = on_state, .app_data = on_app,
};

stoa_dtls_cert *new_cert(const char *profiles)
{
	char err[256] = "";
	stoa_dtls_cert *c = stoa_dtls_cert_new(NULL, NULL, NULL, err, sizeof(err));
	g_assert_nonnull(c);
	if (profiles != NULL)
		g_assert_cmpint(stoa_dtls_cert_set_srtp_profiles(c, profiles), ==, 0);
	return c;
}

void peer_init(peer *p, const char *name, const char *profiles)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->cert = new_cert(profiles);
	g_queue_init(&p->sent);
	p->app_rx = g_byte_array_new();
}

void peer_clear(peer *p)
{
	stoa_dtls_free(p->dtls);
	stoa_dtls_cert_free(p->cert);
	g_queue_clear_full(&p->sent, (GDestroyNotify)g_bytes_unref);
	g_byte_array_unref(p->app_rx);
	g_free(p->last_reason);
}

void pair_new_endpoints(pair *t, const char *client_expects, const char *server_expects)
{
	const char *cfp = stoa_dtls_cert_fingerprint(t->client.cert);
	const char *sfp = stoa_dtls_cert_fingerprint(t->server.cert);
	t->client.dtls = stoa_dtls_new(t->client.cert, STOA_DTLS_ROLE_ACTIVE, "sha-256",
				       client_expects ? client_expects : sfp,
				       t->client.cbs ? t->client.cbs : &callbacks, &t->client);
	t->server.dtls = stoa_dtls_new(t->server.cert, STOA_DTLS_ROLE_PASSIVE, "sha-256",
				       server_expects ? server_expects : cfp,
				       t->server.cbs ? t->server.cbs : &callbacks, &t->server);
	g_assert_nonnull(t->client.dtls);
	g_assert_nonnull(t->server.dtls);
}

void pair_init_full(pair *t, const char *client_profiles, const char *server_profiles,
		    const char *client_expects, const char *server_expects)
{
	peer_init(&t->client, "client", client_profiles);
	peer_init(&t->server, "server", server_profiles);
	pair_new_endpoints(t, client_expects, server_expects);
}

void pair_init(pair *t, const char *client_profiles, const char *server_profiles)
{
	pair_init_full(t, client_profiles, server_profiles, NULL, NULL);
}

void pair_clear(pair *t)
{
	peer_clear(&t->client);
	peer_clear(&t->server);
}

/* Delivers everything `from` has sent to `to`; returns how many datagrams. */
unsigned deliver(peer *from, peer *to)
{
	unsigned n = 0;
	GBytes *b;
	while ((b = g_queue_pop_head(&from->sent)) != NULL) {
		gsize len;
		const uint8_t *data = g_bytes_get_data(b, &len);
		if (to->dtls != NULL)
			stoa_dtls_incoming(to->dtls, data, len);
		g_bytes_unref(b);
		n++;
	}
	return n;
}

void drop(peer *from)
{
	g_queue_clear_full(&from->sent, (GDestroyNotify)g_bytes_unref);
}

/* Pumps both ways until nobody has anything to send. */
void pump(pair *t)
{
	for (int i = 0; i < 100; i++) {
		unsigned n = deliver(&t->client, &t->server) + deliver(&t->server, &t->client);
		if (n == 0)
			return;
	}
	g_assert_not_reached();
}

void assert_connected(pair *t)
{
	g_assert_cmpint(stoa_dtls_get_state(t->client.dtls), ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_cmpint(stoa_dtls_get_state(t->server.dtls), ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_cmpint(t->client.last_state, ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_cmpint(t->server.last_state, ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_true(stoa_dtls_fingerprint_verified(t->client.dtls));
	g_assert_true(stoa_dtls_fingerprint_verified(t->server.dtls));
}

void connect_pair(pair *t)
{
	g_assert_cmpint(stoa_dtls_start(t->server.dtls), ==, 0);
	g_assert_cmpint(stoa_dtls_start(t->client.dtls), ==, 0);
	pump(t);
	assert_connected(t);
}

