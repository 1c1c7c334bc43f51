/*
 * dtls.c: the certificate, the shared SSL_CTX and the per-peer DTLS
 * endpoint over memory BIOs; see dtls.h.
 */
#include "dtls.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/srtp.h>
#include <openssl/x509.h>

#define DTLS_RECORD_HEADER 13
#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

struct load_dtls {
	SSL *ssl;
	BIO *rbio, *wbio;	/* owned by ssl */
	load_dtls_state state;
	load_dtls_send_fn send;
	void *ud;
	char err[160];
};

static SSL_CTX *dtls_ctx;
static EVP_PKEY *dtls_key;
static X509 *dtls_cert;
static char local_fp[8 + 3 * EVP_MAX_MD_SIZE];

/* WebRTC peers use self-signed certificates; the fingerprint check after
 * the handshake is what authenticates them. */
static int accept_any_certificate(int preverify_ok, X509_STORE_CTX *store)
{
	return 1;
}

static void hex_colon(const unsigned char *md, unsigned len, char *out, size_t cap)
{
	size_t pos = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < len && pos + 4 <= cap; i++)
		pos += (size_t)snprintf(out + pos, cap - pos, i == 0 ? "%02X" : ":%02X", md[i]);
}

static X509 *make_certificate(EVP_PKEY *key)
{
	X509 *x = X509_new();
	if (x == NULL)
		return NULL;
	X509_NAME *name = X509_get_subject_name(x);
	bool ok = X509_set_version(x, 2) == 1 &&
		  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)g_random_int_range(1, G_MAXINT32)) == 1 &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
		  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) != NULL &&
		  X509_set_pubkey(x, key) == 1 &&
		  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					     (const unsigned char *)"stoa-load", -1, -1, 0) == 1 &&
		  X509_set_issuer_name(x, name) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int make_context(void)
{
	dtls_ctx = SSL_CTX_new(DTLS_method());
	if (dtls_ctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(dtls_ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(dtls_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   accept_any_certificate);
	SSL_CTX_set_read_ahead(dtls_ctx, 1);
	SSL_CTX_set_session_cache_mode(dtls_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(dtls_ctx, SSL_OP_NO_QUERY_MTU);
	/* Returns 0 on success, unlike most of OpenSSL. */
	if (SSL_CTX_set_tlsext_use_srtp(dtls_ctx, SRTP_PROFILES) != 0)
		return -1;
	if (SSL_CTX_use_certificate(dtls_ctx, dtls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(dtls_ctx, dtls_key) != 1 ||
	    SSL_CTX_check_private_key(dtls_ctx) != 1)
		return -1;
	return 0;
}

int load_dtls_global_init(char *err, size_t errlen)
{
	dtls_key = EVP_EC_gen("P-256");
	if (dtls_key != NULL)
		dtls_cert = make_certificate(dtls_key);
	if (dtls_cert == NULL || make_context() < 0) {
		char e[128];
		ERR_error_string_n(ERR_get_error(), e, sizeof(e));
		snprintf(err, errlen, "DTLS set-up failed: %s", e);
		load_dtls_global_free();
		return -1;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	X509_digest(dtls_cert, EVP_sha256(), md, &len);
	memcpy(local_fp, "sha-256 ", 8);
	hex_colon(md, len, local_fp + 8, sizeof(local_fp) - 8);
	return 0;
}

void load_dtls_global_free(void)
{
	SSL_CTX_free(dtls_ctx);
	X509_free(dtls_cert);
	EVP_PKEY_free(dtls_key);
	dtls_ctx = NULL;
	dtls_cert = NULL;
	dtls_key = NULL;
}

const char *load_dtls_local_fingerprint(void)
{
	return local_fp;
}

load_dtls *load_dtls_new(bool client, load_dtls_send_fn send, void *ud)
{
	load_dtls *d = g_new0(load_dtls, 1);
	d->ssl = SSL_new(dtls_ctx);
	d->rbio = BIO_new(BIO_s_mem());
	d->wbio = BIO_new(BIO_s_mem());
	if (d->ssl == NULL || d->rbio == NULL || d->wbio == NULL) {
		BIO_free(d->rbio);
		BIO_free(d->wbio);
		SSL_free(d->ssl);
		g_free(d);
		return NULL;
	}
	/* An empty read BIO means "wait for more", not end of file. */
	BIO_set_mem_eof_return(d->rbio, -1);
	SSL_set_bio(d->ssl, d->rbio, d->wbio);
	SSL_set_mtu(d->ssl, LOAD_DTLS_MTU);
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	d->send = send;
	d->ud = ud;
	d->state = LOAD_DTLS_HANDSHAKING;
	return d;
}

void load_dtls_free(load_dtls *d)
{
	if (d == NULL)
		return;
	SSL_free(d->ssl);
	g_free(d);
}

/* Sends what OpenSSL wrote, as datagrams of whole records up to the MTU. */
static void flush(load_dtls *d)
{
	uint8_t buf[16384];
	for (;;) {
		int n = BIO_read(d->wbio, buf, sizeof(buf));
		if (n <= 0)
			return;
		size_t pos = 0, start = 0;
		while (pos + DTLS_RECORD_HEADER <= (size_t)n) {
			size_t rec = DTLS_RECORD_HEADER + ((size_t)buf[pos + 11] << 8 | buf[pos + 12]);
			if (pos + rec > (size_t)n)
				break;
			if (pos > start && pos + rec - start > LOAD_DTLS_MTU) {
				d->send(d->ud, buf + start, pos - start);
				start = pos;
			}
			pos += rec;
		}
		/* A partial record cannot happen with a memory BIO; send it
		 * whole rather than lose it. */
		if ((size_t)n > start)
			d->send(d->ud, buf + start, (size_t)n - start);
	}
}

static void note_error(load_dtls *d, const char *what)
{
	char e[120];
	unsigned long code = ERR_get_error();
	ERR_error_string_n(code, e, sizeof(e));
	snprintf(d->err, sizeof(d->err), "%s: %s", what, code != 0 ? e : "no detail");
	ERR_clear_error();
}

static void drain_records(load_dtls *d)
{
	uint8_t buf[2048];
	int r;
	/* No application data is expected; reading processes alerts and
	 * retransmitted handshake records. */
	while ((r = SSL_read(d->ssl, buf, sizeof(buf))) > 0)
		;
	int e = SSL_get_error(d->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN || (SSL_get_shutdown(d->ssl) & SSL_RECEIVED_SHUTDOWN))
		d->state = LOAD_DTLS_CLOSED;
	ERR_clear_error();
}

static load_dtls_state step(load_dtls *d)
{
	if (d->state == LOAD_DTLS_HANDSHAKING) {
		int r = SSL_do_handshake(d->ssl);
		flush(d);
		if (r == 1) {
			d->state = LOAD_DTLS_CONNECTED;
		} else {
			int e = SSL_get_error(d->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				note_error(d, "handshake");
				d->state = LOAD_DTLS_FAILED;
			}
		}
	}
	if (d->state == LOAD_DTLS_CONNECTED) {
		drain_records(d);
		flush(d);
	}
	return d->state;
}

load_dtls_state load_dtls_start(load_dtls *d)
{
	return step(d);
}

load_dtls_state load_dtls_incoming(load_dtls *d, const uint8_t *buf, size_t len)
{
	if (d->state == LOAD_DTLS_FAILED || d->state == LOAD_DTLS_CLOSED)
		return d->state;
	if (BIO_write(d->rbio, buf, (int)len) != (int)len) {
		note_error(d, "BIO_write");
		d->state = LOAD_DTLS_FAILED;
		return d->state;
	}
	return step(d);
}

int load_dtls_timeout_ms(load_dtls *d)
{
	struct timeval tv;
	if (d->state != LOAD_DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return -1;
	return (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

load_dtls_state load_dtls_on_timeout(load_dtls *d)
{
	if (d->state != LOAD_DTLS_HANDSHAKING)
		return d->state;
	if (DTLSv1_handle_timeout(d->ssl) < 0) {
		note_error(d, "too many retransmissions");
		d->state = LOAD_DTLS_FAILED;
	}
	flush(d);
	return d->state;
}

static const EVP_MD *digest_by_name(const char *alg)
{
	if (g_ascii_strcasecmp(alg, "sha-256") == 0)
		return EVP_sha256();
	if (g_ascii_strcasecmp(alg, "sha-1") == 0)
		return EVP_sha1();
	if (g_ascii_strcasecmp(alg, "sha-384") == 0)
		return EVP_sha384();
	if (g_ascii_strcasecmp(alg, "sha-512") == 0)
		return EVP_sha512();
	return NULL;
}

int load_dtls_verify(load_dtls *d, const char *alg, const char *fp)
{
	const EVP_MD *md = digest_by_name(alg);
	X509 *peer = SSL_get0_peer_certificate(d->ssl);
	if (md == NULL || peer == NULL) {
		snprintf(d->err, sizeof(d->err), "%s", md == NULL ? "unsupported fingerprint "
				 "algorithm" : "no peer certificate");
		return -1;
	}
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char hex[3 * EVP_MAX_MD_SIZE + 1];
	if (X509_digest(peer, md, buf, &len) != 1)
		return -1;
	hex_colon(buf, len, hex, sizeof(hex));
	if (strcasecmp(hex, fp) != 0) {
		snprintf(d->err, sizeof(d->err), "certificate %s %.40s... is not the %.40s... "
			 "of the SDP", alg, hex, fp);
		return -1;
	}
	return 0;
}

int load_dtls_export_keys(load_dtls *d, load_srtp_keys *k)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
	if (p == NULL) {
		snprintf(d->err, sizeof(d->err), "no SRTP profile negotiated");
		return -1;
	}
	k->gcm = p->id == SRTP_AEAD_AES_128_GCM;
	if (!k->gcm && p->id != SRTP_AES128_CM_SHA1_80) {
		snprintf(d->err, sizeof(d->err), "unexpected SRTP profile %s", p->name);
		return -1;
	}
	size_t key = 16, salt = k->gcm ? 12 : 14;
	uint8_t m[2 * (16 + 14)];
	if (SSL_export_keying_material(d->ssl, m, 2 * (key + salt), EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
		note_error(d, "key export");
		return -1;
	}
	/* RFC 5764 §4.2: client key, server key, client salt, server salt. */
	bool client = !SSL_is_server(d->ssl);
	const uint8_t *ck = m, *sk = m + key, *cs = m + 2 * key, *ss = m + 2 * key + salt;
	memcpy(k->local, client ? ck : sk, key);
	memcpy(k->local + key, client ? cs : ss, salt);
	memcpy(k->remote, client ? sk : ck, key);
	memcpy(k->remote + key, client ? ss : cs, salt);
	k->len = key + salt;
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}

const char *load_dtls_error(load_dtls *d)
{
	return d->err[0] != '\0' ? d->err : "unknown";
}
