/*
 * test_dtls.c: DTLS-SRTP end to end in memory (media/dtls, media/srtp).
 *
 * Two stoa_dtls endpoints, one ACTIVE and one PASSIVE, each with its own
 * certificate, are wired back to back: what one sends is queued for the
 * other and the test pumps the queues, so it can drop, reorder or corrupt
 * datagrams at will. The keys each side exports then feed two stoa_srtp
 * sessions and real RTP/RTCP packets cross between them.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "core/log.h"
#include "media/dtls/cert.h"
#include "media/dtls/dtls.h"
#include "media/dtls/fingerprint.h"
#include "media/srtp/srtp.h"

#include "dtls_pair.h"

/* ------------------------------------------------------------ RTP helpers */

#define PKT_CAP 1500

/* A 12-octet RTP header plus `payload` octets of a pattern. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
	buf[0] = 0x80;
	buf[1] = 96;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	uint32_t ts = (uint32_t)seq * 3000u;
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload; i++)
		buf[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + payload;
}

/* An RTCP receiver report with no report blocks (RFC 3550 §6.4.2). */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc)
{
	const uint8_t rr[8] = { 0x80, 201, 0x00, 0x01,
				(uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16),
				(uint8_t)(ssrc >> 8), (uint8_t)ssrc };
	memcpy(buf, rr, sizeof(rr));
	return sizeof(rr);
}

static void srtp_pair_from(pair *t, stoa_srtp **client, stoa_srtp **server,
			   stoa_srtp_profile expect)
{
	stoa_srtp_keys ck, sk;
	g_assert_cmpint(stoa_dtls_srtp_keys(t->client.dtls, &ck), ==, 0);
	g_assert_cmpint(stoa_dtls_srtp_keys(t->server.dtls, &sk), ==, 0);
	g_assert_cmpint(ck.profile, ==, expect);
	g_assert_cmpint(sk.profile, ==, expect);
	size_t n = ck.key_len + ck.salt_len;
	g_assert_cmpuint(n, ==, expect == STOA_SRTP_AEAD_AES_128_GCM ? 28 : 30);
	/* The client writes with the client key, which the server reads with. */
	g_assert_cmpmem(ck.local, n, sk.remote, n);
	g_assert_cmpmem(ck.remote, n, sk.local, n);
	g_assert_true(memcmp(ck.local, ck.remote, n) != 0);
	*client = stoa_srtp_new(&ck);
	*server = stoa_srtp_new(&sk);
	stoa_srtp_keys_wipe(&ck);
	stoa_srtp_keys_wipe(&sk);
	g_assert_nonnull(*client);
	g_assert_nonnull(*server);
	g_assert_cmpint(stoa_srtp_get_profile(*client), ==, expect);
}

/* One RTP and one RTCP packet each way, checking the wire size. */
static void check_media(stoa_srtp *a, stoa_srtp *b, size_t rtp_tag, size_t rtcp_trailer)
{
	stoa_srtp *dirs[2][2] = { { a, b }, { b, a } };
	for (int i = 0; i < 2; i++) {
		stoa_srtp *tx = dirs[i][0], *rx = dirs[i][1];
		uint8_t orig[PKT_CAP], buf[PKT_CAP];
		size_t olen = make_rtp(orig, (uint16_t)(100 + i), 0x1234 + (uint32_t)i, 1000);
		memcpy(buf, orig, olen);
		size_t len = olen;
		g_assert_cmpint(stoa_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), ==, STOA_SRTP_OK);
		g_assert_cmpuint(len, ==, olen + rtp_tag);
		g_assert_true(memcmp(buf + 12, orig + 12, 1000) != 0); /* encrypted */
		g_assert_cmpint(stoa_srtp_unprotect_rtp(rx, buf, &len), ==, STOA_SRTP_OK);
		g_assert_cmpmem(buf, len, orig, olen);

		olen = make_rtcp(orig, 0x1234 + (uint32_t)i);
		memcpy(buf, orig, olen);
		len = olen;
		g_assert_cmpint(stoa_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), ==, STOA_SRTP_OK);
		g_assert_cmpuint(len, ==, olen + rtcp_trailer);
		g_assert_cmpint(stoa_srtp_unprotect_rtcp(rx, buf, &len), ==, STOA_SRTP_OK);
		g_assert_cmpmem(buf, len, orig, olen);
	}
}

/* ------------------------------------------------------------ certificates */

static void assert_fingerprint_format(const char *fp, size_t octets)
{
	g_assert_cmpuint(strlen(fp), ==, octets * 3 - 1);
	for (size_t i = 0; i < octets * 3 - 1; i++) {
		if (i % 3 == 2)
			g_assert_cmpint(fp[i], ==, ':');
		else
			g_assert_true(g_ascii_isxdigit(fp[i]) && !g_ascii_islower(fp[i]));
	}
}

static void test_cert_generated(void)
{
	stoa_dtls_cert *c = new_cert(NULL), *c2 = new_cert(NULL);
	const char *fp = stoa_dtls_cert_fingerprint(c);
	assert_fingerprint_format(fp, 32);

	X509 *x = SSL_CTX_get0_certificate(stoa_dtls_cert_ssl_ctx(c));
	g_assert_nonnull(x);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	g_assert_cmpint(X509_digest(x, EVP_sha256(), md, &mdlen), ==, 1);
	g_assert_cmpuint(mdlen, ==, 32);
	char expect[STOA_FINGERPRINT_MAX_TEXT];
	for (unsigned i = 0; i < mdlen; i++)
		g_snprintf(expect + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
	g_assert_cmpstr(fp, ==, expect);

	/* ECDSA P-256, CN "stoa", valid now, self-signed, random serial. */
	EVP_PKEY *pub = X509_get0_pubkey(x);
	g_assert_true(EVP_PKEY_is_a(pub, "EC"));
	char group[32] = "";
	size_t glen = 0;
	g_assert_true(EVP_PKEY_get_group_name(pub, group, sizeof(group), &glen));
	g_assert_cmpstr(group, ==, "prime256v1");
	char cn[16] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	g_assert_cmpstr(cn, ==, "stoa");
	g_assert_cmpint(X509_cmp_current_time(X509_get0_notBefore(x)), <, 0);
	g_assert_cmpint(X509_cmp_current_time(X509_get0_notAfter(x)), >, 0);
	g_assert_cmpint(X509_check_issued(x, x), ==, X509_V_OK);
	g_assert_cmpint(X509_verify(x, pub), ==, 1);
	X509 *x2 = SSL_CTX_get0_certificate(stoa_dtls_cert_ssl_ctx(c2));
	g_assert_cmpint(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(x2)), !=, 0);
	g_assert_cmpstr(fp, !=, stoa_dtls_cert_fingerprint(c2));

	g_assert_cmpint(stoa_dtls_cert_mtu(c), ==, STOA_DTLS_DEFAULT_MTU);
	stoa_dtls_cert_set_mtu(c, 100);
	g_assert_cmpint(stoa_dtls_cert_mtu(c), ==, STOA_DTLS_MIN_MTU);
	g_assert_cmpint(stoa_dtls_cert_set_srtp_profiles(c, "SRTP_NOT_A_PROFILE"), ==, -1);
	stoa_dtls_cert_free(c);
	stoa_dtls_cert_free(c2);
}

/* Writes the generated certificate and its key (encrypted if `pass`). */
static void write_pem(stoa_dtls_cert *c, const char *cert_path, const char *key_path,
		      const char *pass)
{
	SSL_CTX *ctx = stoa_dtls_cert_ssl_ctx(c);
	FILE *f = fopen(cert_path, "w");
	g_assert_nonnull(f);
	g_assert_cmpint(PEM_write_X509(f, SSL_CTX_get0_certificate(ctx)), ==, 1);
	fclose(f);
	f = fopen(key_path, "w");
	g_assert_nonnull(f);
	g_assert_cmpint(PEM_write_PrivateKey(f, SSL_CTX_get0_privatekey(ctx),
					     pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
					     (void *)pass),
			==, 1);
	fclose(f);
}

static void test_cert_loaded(void)
{
	char *dir = g_dir_make_tmp("stoa-dtls-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *crt = g_build_filename(dir, "cert.pem", NULL);
	char *key = g_build_filename(dir, "key.pem", NULL);
	char *plain = g_build_filename(dir, "plain-key.pem", NULL);
	char *other = g_build_filename(dir, "other-key.pem", NULL);
	char *other_crt = g_build_filename(dir, "other-cert.pem", NULL);
	char *missing = g_build_filename(dir, "missing.pem", NULL);
	stoa_dtls_cert *gen = new_cert(NULL), *gen2 = new_cert(NULL);
	write_pem(gen, crt, key, "s3cret");
	write_pem(gen, crt, plain, NULL);
	write_pem(gen2, other_crt, other, NULL);
	char err[256];

	stoa_dtls_cert *c = stoa_dtls_cert_new(crt, key, "s3cret", err, sizeof(err));
	g_assert_nonnull(c);
	g_assert_cmpstr(stoa_dtls_cert_fingerprint(c), ==, stoa_dtls_cert_fingerprint(gen));
	stoa_dtls_cert_free(c);
	c = stoa_dtls_cert_new(crt, plain, NULL, err, sizeof(err));
	g_assert_nonnull(c);
	stoa_dtls_cert_free(c);

	/* From the config, as the server does. */
	stoa_config cfg;
	stoa_config_init(&cfg);
	cfg.cert_pem = g_strdup(crt);
	cfg.cert_key = g_strdup(key);
	cfg.cert_pwd = g_strdup("s3cret");
	cfg.dtls_mtu = 1000;
	c = stoa_dtls_cert_new_from_config(&cfg, err, sizeof(err));
	g_assert_nonnull(c);
	g_assert_cmpint(stoa_dtls_cert_mtu(c), ==, 1000);
	g_assert_cmpstr(stoa_dtls_cert_fingerprint(c), ==, stoa_dtls_cert_fingerprint(gen));
	stoa_dtls_cert_free(c);
	stoa_config_free(&cfg);

	/* Wrong or missing passphrase: an error, never a terminal prompt. */
	g_assert_null(stoa_dtls_cert_new(crt, key, "wrong", err, sizeof(err)));
	g_assert_nonnull(strstr(err, "cannot load key"));
	g_assert_null(stoa_dtls_cert_new(crt, key, NULL, err, sizeof(err)));
	/* Key of another certificate, missing files, half a configuration. */
	g_assert_null(stoa_dtls_cert_new(crt, other, NULL, err, sizeof(err)));
	g_assert_nonnull(strstr(err, "does not match"));
	g_assert_null(stoa_dtls_cert_new(missing, key, "s3cret", err, sizeof(err)));
	g_assert_nonnull(strstr(err, "cannot load certificate"));
	g_assert_null(stoa_dtls_cert_new(crt, missing, NULL, err, sizeof(err)));
	g_assert_null(stoa_dtls_cert_new(crt, NULL, NULL, err, sizeof(err)));
	g_assert_null(stoa_dtls_cert_new(NULL, key, NULL, err, sizeof(err)));
	/* A key file is not a certificate. */
	g_assert_null(stoa_dtls_cert_new(plain, plain, NULL, err, sizeof(err)));

	stoa_dtls_cert_free(gen);
	stoa_dtls_cert_free(gen2);
	const char *files[] = { crt, key, plain, other, other_crt };
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		g_unlink(files[i]);
	g_rmdir(dir);
	g_free(crt);
	g_free(key);
	g_free(plain);
	g_free(other);
	g_free(other_crt);
	g_free(missing);
	g_free(dir);
}

static void test_fingerprint_text(void)
{
	uint8_t md[STOA_FINGERPRINT_MAX_MD];
	char text[STOA_FINGERPRINT_MAX_TEXT];
	g_assert_cmpint(stoa_fingerprint_parse("ab:CD:0f", md), ==, 3);
	g_assert_cmpint(stoa_fingerprint_format(md, 3, text, sizeof(text)), ==, 0);
	g_assert_cmpstr(text, ==, "AB:CD:0F");
	g_assert_cmpint(stoa_fingerprint_format(md, 3, text, 8), ==, -1);
	g_assert_cmpint(stoa_fingerprint_parse("AB", md), ==, 1);
	const char *bad[] = { "", "A", "ABC", "AB:", ":AB", "AB::CD", "AB CD", "AB-CD",
			      "GG:00", "AB:C", "AB:CD:", NULL };
	for (int i = 0; i < (int)G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(stoa_fingerprint_parse(bad[i], md), ==, -1);
	/* 65 octets is one more than sha-512. */
	GString *s = g_string_new("00");
	for (int i = 1; i < 65; i++)
		g_string_append(s, ":00");
	g_assert_cmpint(stoa_fingerprint_parse(s->str, md), ==, -1);
	g_string_free(s, TRUE);

	g_assert_true(stoa_fingerprint_md("sha-256") == EVP_sha256());
	g_assert_true(stoa_fingerprint_md("SHA-256") == EVP_sha256());
	g_assert_nonnull(stoa_fingerprint_md("sha-1"));
	g_assert_nonnull(stoa_fingerprint_md("sha-384"));
	g_assert_nonnull(stoa_fingerprint_md("sha-512"));
	g_assert_null(stoa_fingerprint_md("md5"));
	g_assert_null(stoa_fingerprint_md("sha256"));
	g_assert_null(stoa_fingerprint_md(NULL));
}

/* ------------------------------------------------------------ handshakes */

static void handshake_with(const char *client_profiles, const char *server_profiles,
			   stoa_srtp_profile expect)
{
	pair t;
	pair_init(&t, client_profiles, server_profiles);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_NEW);
	g_assert_cmpint(stoa_dtls_timeout_us(t.client.dtls), ==, -1);
	connect_pair(&t);
	g_assert_cmpint(stoa_dtls_srtp_profile(t.client.dtls), ==, expect);
	g_assert_cmpint(stoa_dtls_srtp_profile(t.server.dtls), ==, expect);
	g_assert_cmpuint(stoa_dtls_retransmissions(t.client.dtls), ==, 0);
	g_assert_cmpuint(stoa_dtls_retransmissions(t.server.dtls), ==, 0);
	g_assert_cmpuint(t.client.max_datagram, <=, STOA_DTLS_DEFAULT_MTU);
	g_assert_cmpuint(t.server.max_datagram, <=, STOA_DTLS_DEFAULT_MTU);
	/* CONNECTING then CONNECTED, nothing else. */
	g_assert_cmpint(t.client.state_calls, ==, 2);
	g_assert_cmpint(t.server.state_calls, ==, 2);
	g_assert_null(stoa_dtls_get_reason(t.client.dtls));

	stoa_dtls_stats st;
	stoa_dtls_get_stats(t.client.dtls, &st);
	g_assert_cmpuint(st.out_packets, ==, t.client.datagrams);
	g_assert_cmpuint(st.in_packets, ==, t.server.datagrams);
	g_assert_cmpuint(st.in_bytes, >, 0);

	stoa_srtp *a, *b;
	srtp_pair_from(&t, &a, &b, expect);
	if (expect == STOA_SRTP_AEAD_AES_128_GCM)
		check_media(a, b, 16, 4 + 16);
	else
		check_media(a, b, 10, 4 + 10);
	stoa_srtp_free(a);
	stoa_srtp_free(b);
	pair_clear(&t);
}

static void test_handshake_default_prefers_gcm(void)
{
	handshake_with(NULL, NULL, STOA_SRTP_AEAD_AES_128_GCM);
}

static void test_handshake_server_order_wins(void)
{
	/* The client lists AES_CM first; as server we still pick GCM. */
	handshake_with("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", NULL,
		       STOA_SRTP_AEAD_AES_128_GCM);
}

static void test_handshake_only_aes_cm(void)
{
	handshake_with("SRTP_AES128_CM_SHA1_80", "SRTP_AES128_CM_SHA1_80",
		       STOA_SRTP_AES128_CM_SHA1_80);
	/* A peer that offers only AES_CM gets AES_CM from our default list. */
	handshake_with("SRTP_AES128_CM_SHA1_80", NULL, STOA_SRTP_AES128_CM_SHA1_80);
	handshake_with(NULL, "SRTP_AES128_CM_SHA1_80", STOA_SRTP_AES128_CM_SHA1_80);
}

static void test_handshake_only_gcm(void)
{
	handshake_with("SRTP_AEAD_AES_128_GCM", "SRTP_AEAD_AES_128_GCM",
		       STOA_SRTP_AEAD_AES_128_GCM);
}

static void test_handshake_no_common_profile(void)
{
	pair t;
	pair_init(&t, "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM");
	connect_pair(&t);
	/* DTLS is up (data channels could run) but there are no SRTP keys. */
	g_assert_cmpint(stoa_dtls_srtp_profile(t.client.dtls), ==, STOA_SRTP_PROFILE_NONE);
	stoa_srtp_keys k;
	g_assert_cmpint(stoa_dtls_srtp_keys(t.client.dtls, &k), ==, -1);
	g_assert_cmpint(stoa_dtls_srtp_keys(t.server.dtls, &k), ==, -1);
	pair_clear(&t);
}

static void test_handshake_small_mtu(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	/* The MTU is read when an endpoint is made: rebuild them. */
	stoa_dtls_free(t.client.dtls);
	stoa_dtls_free(t.server.dtls);
	stoa_dtls_cert_set_mtu(t.client.cert, 300);
	stoa_dtls_cert_set_mtu(t.server.cert, 300);
	t.client.dtls = stoa_dtls_new(t.client.cert, STOA_DTLS_ROLE_ACTIVE, "sha-256",
				      stoa_dtls_cert_fingerprint(t.server.cert), &callbacks,
				      &t.client);
	t.server.dtls = stoa_dtls_new(t.server.cert, STOA_DTLS_ROLE_PASSIVE, "sha-256",
				      stoa_dtls_cert_fingerprint(t.client.cert), &callbacks,
				      &t.server);
	connect_pair(&t);
	g_assert_cmpuint(t.client.max_datagram, <=, 300);
	g_assert_cmpuint(t.server.max_datagram, <=, 300);
	size_t app_mtu = stoa_dtls_app_mtu(t.client.dtls);
	g_assert_cmpuint(app_mtu, >, 200);
	g_assert_cmpuint(app_mtu, <, 300);
	pair_clear(&t);
}

/* ------------------------------------------------------------ fingerprints */

static const char *wrong_fp =
	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

static void assert_no_keys(peer *p)
{
	stoa_srtp_keys k;
	g_assert_cmpint(stoa_dtls_srtp_keys(p->dtls, &k), ==, -1);
	g_assert_cmpint(stoa_dtls_timeout_us(p->dtls), ==, -1);
	g_assert_cmpint(stoa_dtls_send_app(p->dtls, (const uint8_t *)"x", 1), ==, -1);
}

static void test_mismatch_seen_by_client(void)
{
	pair t;
	pair_init_full(&t, NULL, NULL, wrong_fp, NULL);
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpint(t.client.last_state, ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS fingerprint mismatch");
	g_assert_cmpstr(stoa_dtls_get_reason(t.client.dtls), ==, "DTLS fingerprint mismatch");
	g_assert_false(stoa_dtls_fingerprint_verified(t.client.dtls));
	/* The server got our bad_certificate alert. */
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.server.last_reason, ==, "DTLS error");
	assert_no_keys(&t.client);
	assert_no_keys(&t.server);
	pair_clear(&t);
}

static void test_mismatch_seen_by_server(void)
{
	pair t;
	pair_init_full(&t, NULL, NULL, NULL, wrong_fp);
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.server.last_reason, ==, "DTLS fingerprint mismatch");
	/* The client had sent its Finished but never got the server's. */
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS error");
	assert_no_keys(&t.client);
	assert_no_keys(&t.server);
	pair_clear(&t);
}

/* The peer names another hash function in its SDP. */
static void test_fingerprint_other_hashes(void)
{
	const char *algs[] = { "sha-1", "sha-384", "sha-512", "SHA-256" };
	for (size_t i = 0; i < G_N_ELEMENTS(algs); i++) {
		pair t;
		pair_init(&t, NULL, NULL);
		char fp[STOA_FINGERPRINT_MAX_TEXT];
		X509 *cx = SSL_CTX_get0_certificate(stoa_dtls_cert_ssl_ctx(t.client.cert));
		g_assert_cmpint(stoa_fingerprint_of(cx, algs[i], fp, sizeof(fp)), ==, 0);
		/* Lower-case hex is accepted too. */
		char *lower = g_ascii_strdown(fp, -1);
		g_assert_cmpint(stoa_dtls_set_remote_fingerprint(t.server.dtls, algs[i], lower), ==, 0);
		g_free(lower);
		const char *alg = NULL;
		g_assert_nonnull(stoa_dtls_remote_fingerprint(t.server.dtls, &alg));
		g_assert_cmpstr(alg, ==, algs[i]);
		connect_pair(&t);
		pair_clear(&t);
	}
}

static void test_fingerprint_rejected_at_new(void)
{
	stoa_dtls_cert *c = new_cert(NULL);
	peer p;
	memset(&p, 0, sizeof(p));
	const char *fp = stoa_dtls_cert_fingerprint(c);
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, "md5", fp, &callbacks, &p));
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, NULL, fp, &callbacks, &p));
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, "sha-1", fp, &callbacks, &p));
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, "sha-256", "AB:CD", &callbacks, &p));
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, "sha-256", "junk", &callbacks, &p));
	stoa_dtls_callbacks nosend = { 0 };
	g_assert_null(stoa_dtls_new(c, STOA_DTLS_ROLE_ACTIVE, "sha-256", fp, &nosend, &p));
	stoa_dtls_cert_free(c);
}

/* The endpoint exists before the answer; the fingerprint comes later. */
static void test_fingerprint_late(void)
{
	pair t;
	peer_init(&t.client, "client", NULL);
	peer_init(&t.server, "server", NULL);
	t.client.dtls = stoa_dtls_new(t.client.cert, STOA_DTLS_ROLE_ACTIVE, NULL, NULL,
				      &callbacks, &t.client);
	t.server.dtls = stoa_dtls_new(t.server.cert, STOA_DTLS_ROLE_PASSIVE, NULL, NULL,
				      &callbacks, &t.server);
	g_assert_nonnull(t.client.dtls);
	g_assert_cmpint(stoa_dtls_set_remote_fingerprint(t.client.dtls, "sha-256", "zz"), ==, -1);
	g_assert_cmpint(stoa_dtls_set_remote_fingerprint(t.client.dtls, "sha-256",
							 stoa_dtls_cert_fingerprint(t.server.cert)),
			==, 0);
	g_assert_cmpint(stoa_dtls_set_remote_fingerprint(t.server.dtls, "sha-256",
							 stoa_dtls_cert_fingerprint(t.client.cert)),
			==, 0);
	connect_pair(&t);
	/* Too late to change it now. */
	g_assert_cmpint(stoa_dtls_set_remote_fingerprint(t.client.dtls, "sha-256", wrong_fp), ==, -1);
	pair_clear(&t);

	/* Never given: the handshake fails rather than trusting anyone. */
	peer_init(&t.client, "client", NULL);
	peer_init(&t.server, "server", NULL);
	t.client.dtls = stoa_dtls_new(t.client.cert, STOA_DTLS_ROLE_ACTIVE, NULL, NULL,
				      &callbacks, &t.client);
	t.server.dtls = stoa_dtls_new(t.server.cert, STOA_DTLS_ROLE_PASSIVE, "sha-256",
				      stoa_dtls_cert_fingerprint(t.client.cert), &callbacks,
				      &t.server);
	stoa_dtls_start(t.client.dtls);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS fingerprint mismatch");
	pair_clear(&t);
}

/* ------------------------------------------------------------ loss */

/* Sleeps until the endpoint's timer is due and fires it. */
static int fire_timer(stoa_dtls *d)
{
	int64_t us = stoa_dtls_timeout_us(d);
	g_assert_cmpint(us, >=, 0);
	g_usleep((gulong)us + 2000);
	g_assert_cmpint(stoa_dtls_timeout_us(d), ==, 0);
	return stoa_dtls_handle_timeout(d);
}

static void test_lost_client_hello(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	stoa_dtls_set_retransmit_timeouts(t.client.dtls, 20, 60000);
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	g_assert_cmpuint(t.client.sent.length, ==, 1);
	drop(&t.client);
	int64_t us = stoa_dtls_timeout_us(t.client.dtls);
	g_assert_cmpint(us, >, 0);
	g_assert_cmpint(us, <=, 20000);
	/* Not yet due: nothing happens. */
	g_assert_cmpint(stoa_dtls_handle_timeout(t.client.dtls), ==, 0);
	g_assert_cmpint(fire_timer(t.client.dtls), ==, 1);
	g_assert_cmpuint(stoa_dtls_retransmissions(t.client.dtls), ==, 1);
	/* The timer doubles: about 40 ms now. */
	us = stoa_dtls_timeout_us(t.client.dtls);
	g_assert_cmpint(us, >, 20000);
	g_assert_cmpint(us, <=, 40000);
	pump(&t);
	assert_connected(&t);
	g_assert_cmpint(stoa_dtls_timeout_us(t.client.dtls), ==, -1);
	pair_clear(&t);
}

/* The server's last flight (ChangeCipherSpec, Finished) is lost: the client
 * retransmits its own, and the already connected server answers again. */
static void test_lost_server_finished(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	stoa_dtls_set_retransmit_timeouts(t.client.dtls, 20, 60000);
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	deliver(&t.client, &t.server); /* ClientHello */
	deliver(&t.server, &t.client); /* ServerHello .. ServerHelloDone */
	deliver(&t.client, &t.server); /* Certificate .. Finished */
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CONNECTED);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_CONNECTING);
	g_assert_cmpuint(t.server.sent.length, >, 0);
	drop(&t.server);
	g_assert_cmpint(fire_timer(t.client.dtls), ==, 1);
	pump(&t);
	assert_connected(&t);

	stoa_srtp *a, *b;
	srtp_pair_from(&t, &a, &b, STOA_SRTP_AEAD_AES_128_GCM);
	check_media(a, b, 16, 20);
	stoa_srtp_free(a);
	stoa_srtp_free(b);
	pair_clear(&t);
}

/* Nobody answers: after OpenSSL's retry limit the handshake fails. */
static void test_handshake_gives_up(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	stoa_dtls_set_retransmit_timeouts(t.client.dtls, 20, 20);
	stoa_dtls_start(t.client.dtls);
	int r = 0, tries = 0;
	while (r >= 0 && tries++ < 40) {
		drop(&t.client);
		r = fire_timer(t.client.dtls);
	}
	g_assert_cmpint(r, ==, -1);
	g_assert_cmpuint(stoa_dtls_retransmissions(t.client.dtls), ==, 12); /* then it gave up */
	g_assert_cmpint(tries, ==, 13);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_FAILED);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS timeout");
	g_assert_cmpint(stoa_dtls_timeout_us(t.client.dtls), ==, -1);
	g_assert_cmpint(stoa_dtls_handle_timeout(t.client.dtls), ==, 0);
	pair_clear(&t);
}

/* ------------------------------------------------------------ after the handshake */

static void test_close_notify(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	int client_calls = t.client.state_calls;
	stoa_dtls_close(t.client.dtls);
	g_assert_cmpint(stoa_dtls_get_state(t.client.dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpint(t.client.state_calls, ==, client_calls); /* no callback for our own close */
	g_assert_cmpuint(t.client.sent.length, ==, 1);		 /* the close_notify alert */
	stoa_dtls_close(t.client.dtls);				 /* idempotent */
	g_assert_cmpuint(t.client.sent.length, ==, 1);
	pump(&t);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpint(t.server.last_state, ==, STOA_DTLS_STATE_CLOSED);
	g_assert_cmpstr(t.server.last_reason, ==, "DTLS alert");
	g_assert_cmpstr(stoa_dtls_get_reason(t.server.dtls), ==, "DTLS alert");
	assert_no_keys(&t.client);
	assert_no_keys(&t.server);
	/* Datagrams after the end are ignored. */
	uint8_t junk[40] = { 23, 0xfe, 0xfd };
	stoa_dtls_incoming(t.server.dtls, junk, sizeof(junk));
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_CLOSED);
	pair_clear(&t);
}

static void test_app_data(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	connect_pair(&t);
	GByteArray *expect = g_byte_array_new();
	const size_t sizes[] = { 1, 28, 500, 1100 };
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		uint8_t buf[1100];
		for (size_t j = 0; j < sizes[i]; j++)
			buf[j] = (uint8_t)(i * 31 + j);
		g_byte_array_append(expect, buf, (guint)sizes[i]);
		g_assert_cmpint(stoa_dtls_send_app(t.client.dtls, buf, sizes[i]), ==, 0);
		g_assert_cmpint(stoa_dtls_send_app(t.server.dtls, buf, sizes[i]), ==, 0);
	}
	pump(&t);
	g_assert_cmpuint(t.server.app_records, ==, G_N_ELEMENTS(sizes));
	g_assert_cmpuint(t.client.app_records, ==, G_N_ELEMENTS(sizes));
	g_assert_cmpmem(t.server.app_rx->data, t.server.app_rx->len, expect->data, expect->len);
	g_assert_cmpmem(t.client.app_rx->data, t.client.app_rx->len, expect->data, expect->len);
	/* Each record is one datagram: none larger than the record plus overhead. */
	g_assert_cmpuint(t.client.max_datagram, <=, 1100 + 13 + 8 + 16);
	g_assert_cmpint(stoa_dtls_send_app(t.client.dtls, expect->data, 0), ==, -1);
	g_assert_cmpuint(stoa_dtls_app_mtu(t.client.dtls), >, 1100);
	g_byte_array_unref(expect);
	pair_clear(&t);
}

static void feed_garbage(stoa_dtls *d, GRand *r, int count, bool dtls_looking)
{
	for (int i = 0; i < count; i++) {
		uint8_t buf[300];
		size_t len = (size_t)g_rand_int_range(r, 0, sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)g_rand_int_range(r, 0, 256);
		if (dtls_looking && len >= 13) {
			buf[0] = (uint8_t)g_rand_int_range(r, 20, 26); /* a real content type */
			buf[1] = 0xfe;
			buf[2] = 0xfd; /* DTLS 1.2 */
			if (g_rand_boolean(r)) {
				/* Epoch 0 and a length that fits: the record reaches
				 * the handshake parser with random contents. */
				buf[3] = buf[4] = 0;
				buf[11] = (uint8_t)((len - 13) >> 8);
				buf[12] = (uint8_t)(len - 13);
			}
		}
		stoa_dtls_incoming(d, buf, len);
	}
}

static void test_garbage(void)
{
	GRand *r = g_rand_new_with_seed(7983);
	pair t;
	pair_init(&t, NULL, NULL);
	/* Not DTLS at all (RTP, STUN, empty): ignored, even before start. */
	uint8_t rtp[100] = { 0x80, 96 }, stun[20] = { 0x00, 0x01 };
	stoa_dtls_incoming(t.server.dtls, rtp, sizeof(rtp));
	stoa_dtls_incoming(t.server.dtls, stun, sizeof(stun));
	stoa_dtls_incoming(t.server.dtls, NULL, 0);
	g_assert_cmpint(stoa_dtls_get_state(t.server.dtls), ==, STOA_DTLS_STATE_NEW);

	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	/* Random bytes that do not parse as records mid-handshake are dropped. */
	feed_garbage(t.client.dtls, r, 200, false);
	feed_garbage(t.server.dtls, r, 200, false);
	pump(&t);
	assert_connected(&t);

	/* Records with a DTLS header but random contents: dropped, still up. */
	feed_garbage(t.client.dtls, r, 500, true);
	feed_garbage(t.server.dtls, r, 500, true);
	pump(&t);
	assert_connected(&t);
	g_assert_cmpint(stoa_dtls_send_app(t.client.dtls, (const uint8_t *)"ping", 4), ==, 0);
	pump(&t);
	g_assert_cmpmem(t.server.app_rx->data, t.server.app_rx->len, "ping", 4);
	pair_clear(&t);

	/* DTLS-looking garbage as the first thing a server sees: whatever
	 * happens to the handshake, nothing crashes or leaks. */
	for (int i = 0; i < 20; i++) {
		pair_init(&t, NULL, NULL);
		feed_garbage(t.server.dtls, r, 20, true);
		stoa_dtls_start(t.client.dtls);
		feed_garbage(t.client.dtls, r, 20, true);
		pump(&t);
		pair_clear(&t);
	}
	g_rand_free(r);
}

/* A state callback that frees the endpoint, as a peer connection hanging up
 * would: the free waits until the endpoint has returned. */
static void test_free_from_callback(void)
{
	pair t;
	pair_init(&t, NULL, NULL);
	t.client.free_on_final = true;
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	pump(&t);
	g_assert_null(t.client.dtls);
	g_assert_cmpint(t.client.last_state, ==, STOA_DTLS_STATE_CONNECTED);
	pair_clear(&t);

	pair_init_full(&t, NULL, NULL, wrong_fp, NULL);
	t.client.free_on_final = true;
	t.server.free_on_final = true;
	stoa_dtls_start(t.server.dtls);
	stoa_dtls_start(t.client.dtls);
	pump(&t);
	g_assert_null(t.client.dtls);
	g_assert_cmpstr(t.client.last_reason, ==, "DTLS fingerprint mismatch");
	pair_clear(&t);
}

static void test_names(void)
{
	stoa_dtls_role role;
	g_assert_cmpint(stoa_dtls_role_for_remote_setup("actpass", &role), ==, 0);
	g_assert_cmpint(role, ==, STOA_DTLS_ROLE_ACTIVE);
	g_assert_cmpint(stoa_dtls_role_for_remote_setup("passive", &role), ==, 0);
	g_assert_cmpint(role, ==, STOA_DTLS_ROLE_ACTIVE);
	g_assert_cmpint(stoa_dtls_role_for_remote_setup("active", &role), ==, 0);
	g_assert_cmpint(role, ==, STOA_DTLS_ROLE_PASSIVE);
	g_assert_cmpint(stoa_dtls_role_for_remote_setup("holdconn", &role), ==, -1);
	g_assert_cmpint(stoa_dtls_role_for_remote_setup(NULL, &role), ==, -1);
	g_assert_cmpstr(stoa_dtls_role_setup_name(STOA_DTLS_ROLE_ACTIVE), ==, "active");
	g_assert_cmpstr(stoa_dtls_role_setup_name(STOA_DTLS_ROLE_PASSIVE), ==, "passive");
	g_assert_cmpstr(stoa_dtls_state_name(STOA_DTLS_STATE_NEW), ==, "created");
	g_assert_cmpstr(stoa_dtls_state_name(STOA_DTLS_STATE_CONNECTING), ==, "trying");
	g_assert_cmpstr(stoa_dtls_state_name(STOA_DTLS_STATE_CONNECTED), ==, "connected");
	g_assert_cmpstr(stoa_dtls_state_name(STOA_DTLS_STATE_FAILED), ==, "failed");
	g_assert_cmpstr(stoa_srtp_profile_name(STOA_SRTP_AEAD_AES_128_GCM), ==,
			"SRTP_AEAD_AES_128_GCM");
	g_assert_cmpstr(stoa_srtp_profile_name(STOA_SRTP_AES128_CM_SHA1_80), ==,
			"SRTP_AES128_CM_SHA1_80");
	g_assert_cmpstr(stoa_srtp_profile_name(STOA_SRTP_PROFILE_NONE), ==, "none");
}

/* ------------------------------------------------------------ SRTP */

/* Connected SRTP sessions for `profile`; returns them through a and b. */
static void srtp_connected(const char *profile, stoa_srtp_profile expect, stoa_srtp **a,
			   stoa_srtp **b)
{
	pair t;
	pair_init(&t, profile, profile);
	connect_pair(&t);
	srtp_pair_from(&t, a, b, expect);
	pair_clear(&t);
}

static void srtp_tamper_and_replay(gconstpointer data)
{
	stoa_srtp_profile profile = GPOINTER_TO_INT(data);
	stoa_srtp *a, *b;
	srtp_connected(profile == STOA_SRTP_AEAD_AES_128_GCM ? "SRTP_AEAD_AES_128_GCM"
							      : "SRTP_AES128_CM_SHA1_80",
		       profile, &a, &b);
	uint8_t pkt[PKT_CAP], copy[PKT_CAP];
	size_t len = make_rtp(pkt, 1, 0xabc, 200);

	/* Not enough room for the trailer. */
	size_t l2 = len;
	g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &l2, len + STOA_SRTP_RTP_HEADROOM - 1), ==,
			STOA_SRTP_ERR_NOSPACE);
	g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &l2, len - 1), ==, STOA_SRTP_ERR_NOSPACE);
	l2 = 8;
	g_assert_cmpint(stoa_srtp_protect_rtcp(a, pkt, &l2, 8 + STOA_SRTP_RTCP_HEADROOM - 1), ==,
			STOA_SRTP_ERR_NOSPACE);

	g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &len, sizeof(pkt)), ==, STOA_SRTP_OK);
	memcpy(copy, pkt, len);
	/* Tampered payload, then tampered header: authentication fails. */
	size_t tl = len;
	copy[50] ^= 0x01;
	g_assert_cmpint(stoa_srtp_unprotect_rtp(b, copy, &tl), ==, STOA_SRTP_ERR_AUTH);
	memcpy(copy, pkt, len);
	tl = len;
	copy[1] ^= 0x01;
	g_assert_cmpint(stoa_srtp_unprotect_rtp(b, copy, &tl), ==, STOA_SRTP_ERR_AUTH);
	/* The genuine packet still passes after the forgeries, once. */
	memcpy(copy, pkt, len);
	tl = len;
	g_assert_cmpint(stoa_srtp_unprotect_rtp(b, copy, &tl), ==, STOA_SRTP_OK);
	memcpy(copy, pkt, len);
	tl = len;
	g_assert_cmpint(stoa_srtp_unprotect_rtp(b, copy, &tl), ==, STOA_SRTP_ERR_REPLAY);

	/* The same for RTCP. */
	len = make_rtcp(pkt, 0xabc);
	g_assert_cmpint(stoa_srtp_protect_rtcp(a, pkt, &len, sizeof(pkt)), ==, STOA_SRTP_OK);
	memcpy(copy, pkt, len);
	tl = len;
	copy[6] ^= 0x80;
	g_assert_cmpint(stoa_srtp_unprotect_rtcp(b, copy, &tl), ==, STOA_SRTP_ERR_AUTH);
	memcpy(copy, pkt, len);
	tl = len;
	g_assert_cmpint(stoa_srtp_unprotect_rtcp(b, copy, &tl), ==, STOA_SRTP_OK);
	memcpy(copy, pkt, len);
	tl = len;
	g_assert_cmpint(stoa_srtp_unprotect_rtcp(b, copy, &tl), ==, STOA_SRTP_ERR_REPLAY);

	/* Our own direction's keys do not open our own packets. */
	len = make_rtp(pkt, 2, 0xabc, 100);
	g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &len, sizeof(pkt)), ==, STOA_SRTP_OK);
	g_assert_cmpint(stoa_srtp_unprotect_rtp(a, pkt, &len), ==, STOA_SRTP_ERR_AUTH);

	/* Too short to be a packet. */
	len = 5;
	g_assert_cmpint(stoa_srtp_unprotect_rtp(b, pkt, &len), ==, STOA_SRTP_ERR);
	len = 5;
	g_assert_cmpint(stoa_srtp_unprotect_rtcp(b, pkt, &len), ==, STOA_SRTP_ERR);

	stoa_srtp_stats st;
	stoa_srtp_get_stats(b, &st);
	g_assert_cmpuint(st.auth_failures, ==, 3);
	g_assert_cmpuint(st.replays, ==, 2);
	stoa_srtp_get_stats(a, &st);
	g_assert_cmpuint(st.auth_failures, ==, 1);
	g_assert_cmpuint(st.protect_errors, ==, 0);

	/* A plain retransmission re-protects the same sequence number. */
	len = make_rtp(pkt, 2, 0xabc, 100);
	g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &len, sizeof(pkt)), ==, STOA_SRTP_OK);
	stoa_srtp_free(a);
	stoa_srtp_free(b);
}

/* 1000 packets, reordered in pairs and with some held back by up to 50
 * positions, all accepted; then the edges of the replay window. */
static void srtp_reorder(gconstpointer data)
{
	stoa_srtp_profile profile = GPOINTER_TO_INT(data);
	stoa_srtp *a, *b;
	srtp_connected(profile == STOA_SRTP_AEAD_AES_128_GCM ? "SRTP_AEAD_AES_128_GCM"
							      : "SRTP_AES128_CM_SHA1_80",
		       profile, &a, &b);
	enum { N = 1000 };
	const uint16_t base = 65000; /* wraps the 16-bit sequence number */
	GPtrArray *wire = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	for (int i = 0; i < N + 2100; i++) {
		uint8_t pkt[PKT_CAP];
		size_t len = make_rtp(pkt, (uint16_t)(base + i), 0x5555, 160);
		g_assert_cmpint(stoa_srtp_protect_rtp(a, pkt, &len, sizeof(pkt)), ==, STOA_SRTP_OK);
		g_ptr_array_add(wire, g_bytes_new(pkt, len));
	}
	int order[N];
	for (int i = 0; i < N; i++)
		order[i] = i;
	for (int i = 0; i + 1 < N; i += 7) { /* swap neighbours */
		int x = order[i];
		order[i] = order[i + 1];
		order[i + 1] = x;
	}
	for (int i = 100; i + 50 < N; i += 97) { /* one packet 50 places late */
		int late = order[i];
		memmove(&order[i], &order[i + 1], 50 * sizeof(int));
		order[i + 50] = late;
	}
	GRand *r = g_rand_new_with_seed(3711);
	uint8_t buf[PKT_CAP];
	for (int i = 0; i < N; i++) {
		gsize len;
		const uint8_t *p = g_bytes_get_data(g_ptr_array_index(wire, order[i]), &len);
		memcpy(buf, p, len);
		size_t l = len;
		g_assert_cmpint(stoa_srtp_unprotect_rtp(b, buf, &l), ==, STOA_SRTP_OK);
		g_assert_cmpuint(l, ==, 12 + 160);
		g_assert_cmpuint((uint16_t)(buf[2] << 8 | buf[3]), ==, (uint16_t)(base + order[i]));
		/* Now and then a duplicate of something already seen. */
		if (g_rand_int_range(r, 0, 10) == 0) {
			int j = order[g_rand_int_range(r, 0, i + 1)];
			p = g_bytes_get_data(g_ptr_array_index(wire, j), &len);
			memcpy(buf, p, len);
			l = len;
			g_assert_cmpint(stoa_srtp_unprotect_rtp(b, buf, &l), ==, STOA_SRTP_ERR_REPLAY);
		}
	}
	g_rand_free(r);

	/* Jump ahead to N+2099; then N+2099-1000 is inside the 1024-packet
	 * window (accepted once) and N (2099 behind) is outside it. */
	int ahead = N + 2099, inside = ahead - 1000, outside = N;
	int seq[] = { ahead, inside, inside, outside };
	int expect[] = { STOA_SRTP_OK, STOA_SRTP_OK, STOA_SRTP_ERR_REPLAY, STOA_SRTP_ERR_REPLAY };
	for (size_t i = 0; i < G_N_ELEMENTS(seq); i++) {
		gsize len;
		const uint8_t *p = g_bytes_get_data(g_ptr_array_index(wire, seq[i]), &len);
		memcpy(buf, p, len);
		size_t l = len;
		g_assert_cmpint(stoa_srtp_unprotect_rtp(b, buf, &l), ==, expect[i]);
	}
	stoa_srtp_stats st;
	stoa_srtp_get_stats(b, &st);
	g_assert_cmpuint(st.auth_failures, ==, 0);
	g_ptr_array_unref(wire);
	stoa_srtp_free(a);
	stoa_srtp_free(b);
}

static void test_srtp_bad_keys(void)
{
	stoa_srtp_keys k;
	memset(&k, 0, sizeof(k));
	g_assert_null(stoa_srtp_new(NULL));
	g_assert_null(stoa_srtp_new(&k)); /* no profile */
	k.profile = STOA_SRTP_AEAD_AES_128_GCM;
	k.key_len = 16;
	k.salt_len = 14; /* GCM salts are 12 octets */
	g_assert_null(stoa_srtp_new(&k));
	k.salt_len = 12;
	stoa_srtp *s = stoa_srtp_new(&k);
	g_assert_nonnull(s);
	stoa_srtp_free(s);
	stoa_srtp_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	stoa_log_options lo = { .level = g_test_verbose() ? STOA_LOG_DBG : STOA_LOG_ERR,
				.colors = 0, .to_stdout = false };
	stoa_log_init(&lo);
	g_assert_cmpint(stoa_srtp_init(), ==, 0);

	g_test_add_func("/dtls/cert/generated", test_cert_generated);
	g_test_add_func("/dtls/cert/loaded", test_cert_loaded);
	g_test_add_func("/dtls/fingerprint/text", test_fingerprint_text);
	g_test_add_func("/dtls/handshake/default-prefers-gcm", test_handshake_default_prefers_gcm);
	g_test_add_func("/dtls/handshake/server-order-wins", test_handshake_server_order_wins);
	g_test_add_func("/dtls/handshake/only-aes-cm", test_handshake_only_aes_cm);
	g_test_add_func("/dtls/handshake/only-gcm", test_handshake_only_gcm);
	g_test_add_func("/dtls/handshake/no-common-profile", test_handshake_no_common_profile);
	g_test_add_func("/dtls/handshake/small-mtu", test_handshake_small_mtu);
	g_test_add_func("/dtls/fingerprint/mismatch-client", test_mismatch_seen_by_client);
	g_test_add_func("/dtls/fingerprint/mismatch-server", test_mismatch_seen_by_server);
	g_test_add_func("/dtls/fingerprint/other-hashes", test_fingerprint_other_hashes);
	g_test_add_func("/dtls/fingerprint/rejected", test_fingerprint_rejected_at_new);
	g_test_add_func("/dtls/fingerprint/late", test_fingerprint_late);
	g_test_add_func("/dtls/loss/client-hello", test_lost_client_hello);
	g_test_add_func("/dtls/loss/server-finished", test_lost_server_finished);
	g_test_add_func("/dtls/loss/gives-up", test_handshake_gives_up);
	g_test_add_func("/dtls/close-notify", test_close_notify);
	g_test_add_func("/dtls/app-data", test_app_data);
	g_test_add_func("/dtls/garbage", test_garbage);
	g_test_add_func("/dtls/free-from-callback", test_free_from_callback);
	g_test_add_func("/dtls/names", test_names);
	g_test_add_data_func("/srtp/aes-cm/tamper-replay",
			     GINT_TO_POINTER(STOA_SRTP_AES128_CM_SHA1_80), srtp_tamper_and_replay);
	g_test_add_data_func("/srtp/gcm/tamper-replay",
			     GINT_TO_POINTER(STOA_SRTP_AEAD_AES_128_GCM), srtp_tamper_and_replay);
	g_test_add_data_func("/srtp/aes-cm/reorder", GINT_TO_POINTER(STOA_SRTP_AES128_CM_SHA1_80),
			     srtp_reorder);
	g_test_add_data_func("/srtp/gcm/reorder", GINT_TO_POINTER(STOA_SRTP_AEAD_AES_128_GCM),
			     srtp_reorder);
	g_test_add_func("/srtp/bad-keys", test_srtp_bad_keys);

	int rc = g_test_run();
	stoa_srtp_cleanup();
	stoa_log_close();
	return rc;
}
