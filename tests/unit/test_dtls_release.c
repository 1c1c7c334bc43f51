/*
 * test_dtls_release.c: a DTLS endpoint handed over to our own record layer
 * (stoa_dtls_release, media/dtls/record.c) still talks to OpenSSL.
 *
 * The other endpoint of each pair keeps its SSL, so every record we seal
 * is checked by OpenSSL's record layer (keys, nonces, sequence numbers,
 * tags) and every record OpenSSL sends must open with ours. Then the
 * hostile cases: forged, replayed, cut and stale records.
 */
#include <glib.h>
#include <openssl/ssl.h>
#include <string.h>

#include "core/log.h"
#include "media/dtls/cert.h"
#include "media/dtls/dtls.h"
#include "media/dtls/record.h"

#include "dtls_pair.h"

/* A pair whose client offers only `suites` (OpenSSL cipher list). */
static void pair_init_suites(pair *t, const char *suites)
{
	peer_init(&t->client, "client", NULL);
	peer_init(&t->server, "server", NULL);
	g_assert_cmpint(SSL_CTX_set_cipher_list(stoa_dtls_cert_ssl_ctx(t->client.cert), suites), ==, 1);
	pair_new_endpoints(t, NULL, NULL);
}

/* Sends `n` records of distinct contents each way and checks they arrive. */
static void exchange(pair *t, unsigned n)
{
	GByteArray *expect = g_byte_array_new();
	unsigned client_before = t->client.app_records, server_before = t->server.app_records;
	g_byte_array_set_size(t->client.app_rx, 0);
	g_byte_array_set_size(t->server.app_rx, 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[1100];
		size_t len = 1 + (i * 397) % sizeof(buf);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)(i * 31 + j);
		g_byte_array_append(expect, buf, (guint)len);
		g_assert_cmpint(stoa_dtls_send_app(t->client.dtls, buf, len), ==, 0);
		g_assert_cmpint(stoa_dtls_send_app(t->server.dtls, buf, len), ==, 0);
	}
	pump(t);
	g_assert_cmpuint(t->server.app_records - server_before, ==, n);
	g_assert_cmpuint(t->client.app_records - client_before, ==, n);
	g_assert_cmpmem(t->server.app_rx->data, t->server.app_rx->len, expect->data, expect->len);
	g_assert_cmpmem(t->client.app_rx->data, t->client.app_rx->len, expect->data, expect->len);
	g_byte_array_unref(expect);
}

static uint64_t dropped(const stoa_dtls *d)
{
	stoa_dtls_stats st;
	stoa_dtls_get_stats(d, &st);
	return st.dropped_records;
}

static void test_not_before_connected(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, -1);
	g_assert_false(stoa_dtls_released(t.server.dtls));
	g_assert_cmpint(stoa_dtls_start(t.server.dtls), ==, 0);
	g_assert_cmpint(stoa_dtls_start(t.client.dtls), ==, 0);
	deliver(&t.client, &t.server); /* ClientHello: the server is mid-handshake */
	g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, -1);
	pump(&t);
	assert_connected(&t);
	exchange(&t, 3);
	pair_clear(&t);
}

/* One side released, the other OpenSSL, in both roles. */
static void released_side(bool server)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	peer *rel = server ? &t.server : &t.client, *other = server ? &t.client : &t.server;
	size_t mtu = stoa_dtls_app_mtu(rel->dtls);
	exchange(&t, 2); /* OpenSSL sent records before the release: the sequence goes on */
	g_assert_cmpint(stoa_dtls_release(rel->dtls), ==, 0);
	g_assert_true(stoa_dtls_released(rel->dtls));
	g_assert_cmpint(stoa_dtls_release(rel->dtls), ==, 0); /* idempotent */
	g_assert_cmpint(stoa_dtls_get_state(rel->dtls), ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_cmpuint(stoa_dtls_app_mtu(rel->dtls), ==, mtu);
	g_assert_cmpint(stoa_dtls_timeout_us(rel->dtls), ==, -1);
	g_assert_cmpint(stoa_dtls_handle_timeout(rel->dtls), ==, 0);
	stoa_srtp_keys keys;
	g_assert_cmpint(stoa_dtls_srtp_keys(rel->dtls, &keys), ==, -1); /* taken at connect */
	exchange(&t, 20);
	g_assert_cmpint(stoa_dtls_send_app(rel->dtls, (const uint8_t *)"x", 0), ==, -1);
	g_assert_cmpuint(dropped(rel->dtls), ==, 0);
	/* The peer closes: its close_notify, sealed by OpenSSL, is read. */
	stoa_dtls_close(other->dtls);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(rel->dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpint(rel->last_state, ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpstr(rel->last_reason, ==, "DTLS alert");
	pair_clear(&t);
}

static void test_server_released(void)
{
	released_side(true);
}

static void test_client_released(void)
{
	released_side(false);
}

/* Our close_notify after the release is one OpenSSL accepts. */
static void test_own_close(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, 0);
	int calls = t.server.state_calls;
	stoa_dtls_close(t.server.dtls);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpint(t.server.state_calls, ==, calls);
	g_assert_cmpuint(t.server.sent.length, ==, 1);
	stoa_dtls_close(t.server.dtls);
	g_assert_cmpuint(t.server.sent.length, ==, 1);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS alert");
	pair_clear(&t);
}

static void test_both_released(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, 0);
	g_assert_cmpint(stoa_dtls_release(t.client.dtls), ==, 0);
	exchange(&t, 10);
	stoa_dtls_close(t.client.dtls);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpstr(t.server.last_reason, ==, "DTLS alert");
	pair_clear(&t);
}

/* Every AEAD suite we offer is released; a CBC suite keeps OpenSSL. */
static void test_suites(void)
{
	static const struct {
		const char *suite;
		bool aead;
	} cases[] = {
		{ "ECDHE-ECDSA-AES128-GCM-SHA256", true },
		{ "ECDHE-ECDSA-AES256-GCM-SHA384", true },
		{ "ECDHE-ECDSA-CHACHA20-POLY1305", true },
		{ "ECDHE-ECDSA-AES128-SHA", false },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		pair t;
		pair_init_suites(&t, cases[i].suite);
		connect_pair(&t);
		g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, cases[i].aead ? 0 : -1);
		g_assert_cmpint(stoa_dtls_released(t.server.dtls), ==, cases[i].aead);
		exchange(&t, 5);
		stoa_dtls_close(t.server.dtls);
		pump(&t);
		g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_CLOSED);
		pair_clear(&t);
	}
}

/* The next datagram the client would deliver, taken off its queue. */
static GBytes *take(peer *p)
{
	GBytes *b = g_queue_pop_head(&p->sent);
	g_assert_nonnull(b);
	return b;
}

static void feed(stoa_dtls *d, GBytes *b)
{
	gsize len;
	const uint8_t *data = g_bytes_get_data(b, &len);
	stoa_dtls_incoming(d, data, len);
}

static void test_forged_replayed_stale(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	g_assert_cmpint(stoa_dtls_release(t.server.dtls), ==, 0);
	const uint8_t msg[] = "hello";
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(stoa_dtls_send_app(t.client.dtls, msg, sizeof(msg)), ==, 0);
	GBytes *r1 = take(&t.client), *r2 = take(&t.client), *r3 = take(&t.client);

	/* A flipped bit anywhere (header, nonce, ciphertext, tag) fails. */
	gsize len;
	const uint8_t *good = g_bytes_get_data(r1, &len);
	for (size_t at = 3; at < len; at++) {
		uint8_t bad[256];
		g_assert_cmpuint(len, <=, sizeof(bad));
		memcpy(bad, good, len);
		bad[at] ^= 0x20;
		stoa_dtls_incoming(t.server.dtls, bad, len);
	}
	g_assert_cmpuint(t.server.app_records, ==, 0);
	g_assert_cmpuint(dropped(t.server.dtls), ==, len - 3);

	/* Out of order is fine; the same record twice is not. */
	feed(t.server.dtls, r3);
	feed(t.server.dtls, r1);
	feed(t.server.dtls, r2);
	g_assert_cmpuint(t.server.app_records, ==, 3);
	uint64_t before = dropped(t.server.dtls);
	feed(t.server.dtls, r1);
	feed(t.server.dtls, r3);
	g_assert_cmpuint(t.server.app_records, ==, 3);
	g_assert_cmpuint(dropped(t.server.dtls), ==, before + 2);

	/* Cut records, a stale epoch 0 (a retransmitted handshake) and a
	 * header alone are dropped without harm. */
	good = g_bytes_get_data(r2, &len);
	for (size_t cut = 0; cut < len; cut++)
		stoa_dtls_incoming(t.server.dtls, good, cut);
	uint8_t stale[64] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 51 };
	stoa_dtls_incoming(t.server.dtls, stale, sizeof(stale));
	g_assert_cmpuint(t.server.app_records, ==, 3);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CONNECTED);

	/* Random DTLS-looking datagrams change nothing either. */
	GRand *r = g_rand_new_with_seed(6347);
	for (int i = 0; i < 2000; i++) {
		uint8_t buf[200];
		size_t n = (size_t)g_rand_int_range(r, 0, sizeof(buf));
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)g_rand_int_range(r, 0, 256);
		if (n >= 13) {
			buf[0] = (uint8_t)g_rand_int_range(r, 20, 24);
			buf[1] = 0xfe;
			buf[2] = 0xfd;
			buf[3] = 0;
			buf[4] = 1; /* epoch 1: reaches the authentication */
		}
		stoa_dtls_incoming(t.server.dtls, buf, n);
	}
	g_rand_free(r);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CONNECTED);
	exchange(&t, 3);
	g_bytes_unref(r1);
	g_bytes_unref(r2);
	g_bytes_unref(r3);
	pair_clear(&t);
}

/* Released from inside its own app_data callback: it happens on return. */
static void on_app_release(void *ud, const uint8_t *buf, size_t len)
{
	peer *p = ud;
	bool was = stoa_dtls_released(p->dtls);
	g_assert_cmpint(stoa_dtls_release(p->dtls), ==, 0);
	g_assert_cmpint(stoa_dtls_released(p->dtls), ==, was); /* not yet, if not before */
	callbacks.app_data(ud, buf, len);
}

static void test_from_callback(void)
{
	pair t;
	peer_init(&t.client, "client", NULL);
	peer_init(&t.server, "server", NULL);
	stoa_dtls_callbacks cbs = callbacks;
	cbs.app_data = on_app_release;
	t.server.cbs = &cbs;
	pair_new_endpoints(&t, NULL, NULL);
	connect_pair(&t);
	/* Two records in one datagram would be the hard case for OpenSSL; here
	 * each is its own datagram, the second one read by the record layer. */
	g_assert_cmpint(stoa_dtls_send_app(t.client.dtls, (const uint8_t *)"a", 1), ==, 0);
	deliver(&t.client, &t.server);
	g_assert_true(stoa_dtls_released(t.server.dtls));
	exchange(&t, 4);
	pair_clear(&t);
}

/* The write sequence is learnt from what OpenSSL sent, record by record. */
static void test_next_seq(void)
{
	uint8_t dgram[3 * 20] = { 0 };
	/* epoch 0 seq 7, epoch 1 seq 4, epoch 1 seq 2; 7 octets of body each */
	const uint8_t hdr[3][13] = {
		{ 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 7, 0, 7 },
		{ 22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 4, 0, 7 },
		{ 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 2, 0, 7 },
	};
	for (int i = 0; i < 3; i++)
		memcpy(dgram + 20 * i, hdr[i], 13);
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, sizeof(dgram), 1, 0), ==, 5);
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, sizeof(dgram), 0, 0), ==, 8);
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, sizeof(dgram), 1, 9), ==, 9);
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, 12, 1, 3), ==, 3);
	/* A length running past the end stops the walk after that header. */
	dgram[11] = 0xff;
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, sizeof(dgram), 0, 0), ==, 8);
	g_assert_cmpuint(stoa_dtls_record_next_seq(dgram, sizeof(dgram), 1, 0), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stoa_log_options lo = { .level = g_test_verbose() ? STOA_LOG_DBG : STOA_LOG_ERR,
				.colors = false };
	stoa_log_init(&lo);
	g_test_add_func("/dtls/release/not-before-connected", test_not_before_connected);
	g_test_add_func("/dtls/release/server", test_server_released);
	g_test_add_func("/dtls/release/client", test_client_released);
	g_test_add_func("/dtls/release/own-close", test_own_close);
	g_test_add_func("/dtls/release/both", test_both_released);
	g_test_add_func("/dtls/release/suites", test_suites);
	g_test_add_func("/dtls/release/forged-replayed-stale", test_forged_replayed_stale);
	g_test_add_func("/dtls/release/from-callback", test_from_callback);
	g_test_add_func("/dtls/release/next-seq", test_next_seq);
	return g_test_run();
}
