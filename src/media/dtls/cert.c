/*
 * cert.c: the server's DTLS certificate and shared SSL_CTX (see cert.h).
 *
 * The generated certificate is X.509 v3, ECDSA P-256 signed with SHA-256,
 * CN "stoa", a random 64-bit serial, valid from a day ago (peers with a
 * slow clock) for a year: it lives as long as the process, and peers check
 * its fingerprint, not its dates, but some stacks do reject expired ones.
 *
 * SSL_CTX_set_read_ahead() is not called: OpenSSL documents it as having no
 * effect on DTLS, where a read always takes one whole datagram.
 *
 * RFCs: 6347 (DTLS 1.2), 5764 §4.1 (use_srtp), 7714 §14.2 (GCM profile),
 * 5763 §5 and 8827 §6.5 (self-signed certificates, fingerprint checks).
 */
#include <glib.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "media/dtls/cert.h"
#include "media/dtls/fingerprint.h"

#define STOA_LOG_MODULE "dtls"
#include "core/log.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "Stoa's DTLS needs OpenSSL 3.0 or later"
#endif

#define CERT_BACKDATE_S (24L * 3600)
#define CERT_LIFETIME_S (365L * 24 * 3600)

/* ECDHE with AEAD first; the CBC suites are for older gateways. */
#define DTLS_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" \
	"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA"
#define DTLS_GROUPS "X25519:P-256:P-384"

/* Owned by the server (main thread); read-only while media loops run. */
struct stoa_dtls_cert {
	SSL_CTX *ctx;
	int mtu;
	char fingerprint[STOA_FINGERPRINT_MAX_TEXT];
};

static void set_error(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		g_strlcpy(err, msg, errlen);
}

/* Writes "what: <OpenSSL's reason>" into err and empties the error queue. */
static void set_ssl_error(char *err, size_t errlen, const char *what, const char *arg)
{
	char reason[256] = "unknown error";
	unsigned long e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", reason);
}

/* Peers authenticate by fingerprint, not by a CA: accept any chain here.
 * Each endpoint installs its own callback that checks the fingerprint. */
static int accept_any_certificate(int preverify_ok, X509_STORE_CTX *store)
{
	return 1;
}

static SSL_CTX *new_ssl_ctx(char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
	if (ctx == NULL) {
		set_ssl_error(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
					 SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   accept_any_certificate);
	/* SSL_CTX_set_tlsext_use_srtp() returns 0 on success. */
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, DTLS_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, DTLS_GROUPS) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, STOA_DTLS_SRTP_PROFILES) != 0) {
		set_ssl_error(err, errlen, "DTLS context setup", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A self-signed certificate for `key`. */
static X509 *generate_x509(EVP_PKEY *key)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name = x != NULL ? X509_get_subject_name(x) : NULL;
	int ok = x != NULL && serial != NULL && name != NULL &&
		 X509_set_version(x, X509_VERSION_3) == 1 &&
		 BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD) == 1 &&
		 BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_S) != NULL &&
		 X509_gmtime_adj(X509_getm_notAfter(x), CERT_LIFETIME_S) != NULL &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					    (const unsigned char *)"stoa", -1, -1, 0) == 1 &&
		 X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key) == 1 &&
		 X509_sign(x, key, EVP_sha256()) > 0;
	BN_free(serial);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int use_generated(SSL_CTX *ctx, char *err, size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = key != NULL ? generate_x509(key) : NULL;
	int ok = x != NULL && SSL_CTX_use_certificate(ctx, x) == 1 &&
		 SSL_CTX_use_PrivateKey(ctx, key) == 1;
	if (!ok)
		set_ssl_error(err, errlen, "generating the DTLS certificate", NULL);
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

/* Supplies cert_pwd without ever falling back to a terminal prompt. */
static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n = pass != NULL ? strlen(pass) : 0;
	if (n == 0 || n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

static EVP_PKEY *read_key(const char *path, const char *passphrase)
{
	BIO *b = BIO_new_file(path, "r");
	if (b == NULL)
		return NULL;
	EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, passphrase_cb, (void *)passphrase);
	BIO_free(b);
	return key;
}

static int use_files(SSL_CTX *ctx, const char *cert_path, const char *key_path,
		     const char *passphrase, char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		set_ssl_error(err, errlen, "cannot load certificate", cert_path);
		return -1;
	}
	EVP_PKEY *key = read_key(key_path, passphrase);
	if (key == NULL) {
		set_ssl_error(err, errlen, "cannot load key (wrong cert_pwd?)", key_path);
		return -1;
	}
	int ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(key);
	if (!ok) {
		set_ssl_error(err, errlen, "key does not match certificate", key_path);
		return -1;
	}
	return 0;
}

stoa_dtls_cert *stoa_dtls_cert_new(const char *cert_path, const char *key_path,
				   const char *passphrase, char *err, size_t errlen)
{
	if ((cert_path == NULL) != (key_path == NULL)) {
		set_error(err, errlen, "cert_pem and cert_key must be set together");
		return NULL;
	}
	SSL_CTX *ctx = new_ssl_ctx(err, errlen);
	if (ctx == NULL)
		return NULL;
	int rc = cert_path == NULL ? use_generated(ctx, err, errlen)
				   : use_files(ctx, cert_path, key_path, passphrase, err, errlen);
	stoa_dtls_cert *c = g_new0(stoa_dtls_cert, 1);
	c->ctx = ctx;
	c->mtu = STOA_DTLS_DEFAULT_MTU;
	if (rc < 0 || stoa_fingerprint_of(SSL_CTX_get0_certificate(ctx), "sha-256",
					  c->fingerprint, sizeof(c->fingerprint)) < 0) {
		if (rc == 0)
			set_error(err, errlen, "cannot compute the certificate fingerprint");
		stoa_dtls_cert_free(c);
		return NULL;
	}
	STOA_LOG(STOA_LOG_INFO, "DTLS certificate %s, fingerprint sha-256 %s",
		 cert_path ? cert_path : "generated (ECDSA P-256)", c->fingerprint);
	return c;
}

stoa_dtls_cert *stoa_dtls_cert_new_from_config(const stoa_config *cfg, char *err, size_t errlen)
{
	const char *pem = cfg->cert_pem, *key = cfg->cert_key;
	if (pem != NULL && *pem == '\0')
		pem = NULL;
	if (key != NULL && *key == '\0')
		key = NULL;
	stoa_dtls_cert *c = stoa_dtls_cert_new(pem, key, cfg->cert_pwd, err, errlen);
	if (c != NULL)
		stoa_dtls_cert_set_mtu(c, cfg->dtls_mtu);
	return c;
}

void stoa_dtls_cert_free(stoa_dtls_cert *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	g_free(c);
}

const char *stoa_dtls_cert_fingerprint(const stoa_dtls_cert *c)
{
	return c->fingerprint;
}

int stoa_dtls_cert_set_srtp_profiles(stoa_dtls_cert *c, const char *profiles)
{
	if (SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles) != 0) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

void stoa_dtls_cert_set_mtu(stoa_dtls_cert *c, int mtu)
{
	if (mtu < STOA_DTLS_MIN_MTU) {
		STOA_LOG(STOA_LOG_WARN, "dtls_mtu %d is below %d, using %d", mtu,
			 STOA_DTLS_MIN_MTU, STOA_DTLS_MIN_MTU);
		mtu = STOA_DTLS_MIN_MTU;
	}
	c->mtu = mtu;
}

int stoa_dtls_cert_mtu(const stoa_dtls_cert *c)
{
	return c->mtu;
}

SSL_CTX *stoa_dtls_cert_ssl_ctx(const stoa_dtls_cert *c)
{
	return c->ctx;
}
