/*
 * tls_selfsigned.c: the self-signed HTTPS/WSS certificate (see tls_selfsigned.h).
 *
 * Design. The certificate is built with OpenSSL's X509 API rather than from
 * config-file syntax, so that no host name can smuggle in extra entries.
 * Afterwards only PEM text matters: libmicrohttpd and libwebsockets both take
 * PEM from memory and keep their own parsed copies, so no EVP_PKEY outlives
 * the call that made it. The X509 stays for the fingerprint and for the
 * checks a saved file must pass before it is reused.
 *
 * Every copy of the key this file makes (the PEM text, the file's contents)
 * is wiped with OPENSSL_cleanse() before it is freed: unlike a memset() right
 * before free(), the compiler may not drop it. OpenSSL's memory BIOs wipe
 * their own buffers when freed.
 *
 * Threads: see tls_selfsigned.h (main thread; `shared` is touched nowhere
 * else).
 *
 * RFC 5280 §4.2.1.3 (keyUsage), §4.2.1.6 (subjectAltName), §4.2.1.9
 * (basicConstraints), §4.2.1.12 (extKeyUsage); RFC 5480 (ECDSA P-256);
 * RFC 6125 §6.4.4 (clients match the subjectAltName, not the CN).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/tls_selfsigned.h"
#include "media/dtls/fingerprint.h"

#define STOA_LOG_MODULE "tls"
#include "core/log.h"

/* notBefore lies a day back, for clients whose clock is behind ours. */
#define BACKDATE_S (24L * 3600)
/* A saved certificate is replaced this long before it expires, so that a
 * server (re)started on it does not run into the expiry soon after. */
#define REUSE_MARGIN_S (7L * 24 * 3600)
/* A saved file is a certificate and a key: a few kilobytes at most. */
#define SAVED_MAX_BYTES (64 * 1024)
/* Longest host name put in the subject's CN (the CN allows 64 characters). */
#define CN_HOST_MAX 32

struct stoa_tls_selfsigned {
	X509 *x509;
	char *cert_pem;
	char *key_pem; /* wiped before it is freed */
	char fingerprint[STOA_FINGERPRINT_MAX_TEXT];
	char not_after[16];
};

/* The server's certificate: made by the first stoa_tls_selfsigned_shared(),
 * freed by stoa_tls_selfsigned_shared_free(). Main thread only. */
static stoa_tls_selfsigned *shared;

/* Writes "what: <OpenSSL's reason>" into err and empties the error queue. */
static void set_ssl_error(char *err, size_t errlen, const char *what)
{
	char reason[256] = "unknown error";
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	g_snprintf(err, errlen, "%s: %s", what, reason);
}

/* ---------------------------------------------------------------- names */

/* Letters, digits, '-' and '.': what a dNSName may hold (RFC 5280 §4.2.1.6
 * and RFC 1123 §2.1). Anything else is left out of the certificate. */
static bool is_dns_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static void add_name(GPtrArray *names, const char *name)
{
	for (guint i = 0; i < names->len; i++)
		if (g_ascii_strcasecmp(names->pdata[i], name) == 0)
			return;
	g_ptr_array_add(names, g_strdup(name));
}

static void add_interface_addresses(GPtrArray *names)
{
	struct ifaddrs *list = NULL;

	if (getifaddrs(&list) < 0) {
		STOA_LOG(STOA_LOG_WARN, "getifaddrs: %s; the self-signed certificate names "
					"loopback addresses only", g_strerror(errno));
		return;
	}
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
		char text[INET6_ADDRSTRLEN];
		const void *addr;

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			addr = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			addr = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(i->ifa_addr->sa_family, addr, text, sizeof(text)) != NULL)
			add_name(names, text);
	}
	freeifaddrs(list);
}

char **stoa_tls_selfsigned_local_names(void)
{
	GPtrArray *names = g_ptr_array_new();
	const char *host = g_get_host_name();

	add_name(names, "localhost");
	if (g_hostname_is_ip_address(host)) {
		add_name(names, host);
	} else if (is_dns_name(host)) {
		add_name(names, host);
		/* Phones on a LAN with mDNS reach a machine as <host>.local. */
		if (strchr(host, '.') == NULL) {
			char *local = g_strconcat(host, ".local", NULL);

			add_name(names, local);
			g_free(local);
		}
	}
	add_name(names, "127.0.0.1");
	add_name(names, "::1");
	add_interface_addresses(names);
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

/* The address someone on the LAN would type: the first IPv4 address that is
 * neither loopback nor link-local, else the first such IPv6 address. */
static const char *lan_address(char *const *names)
{
	const char *v6 = NULL;

	for (size_t i = 0; names[i] != NULL; i++) {
		struct in_addr a4;
		struct in6_addr a6;

		if (inet_pton(AF_INET, names[i], &a4) == 1) {
			uint32_t h = ntohl(a4.s_addr);

			if ((h >> 24) != 127 && (h >> 16) != 0xA9FE)
				return names[i];
		} else if (v6 == NULL && inet_pton(AF_INET6, names[i], &a6) == 1 &&
			   !IN6_IS_ADDR_LOOPBACK(&a6) && !IN6_IS_ADDR_LINKLOCAL(&a6)) {
			v6 = names[i];
		}
	}
	return v6;
}

static char *url_for(const char *bind_ip, int port, char *const *names)
{
	const char *host = NULL;

	if (bind_ip != NULL && bind_ip[0] != '\0' && strcmp(bind_ip, "0.0.0.0") != 0 &&
	    strcmp(bind_ip, "::") != 0)
		host = bind_ip;
	else
		host = lan_address(names);
	if (host == NULL)
		host = "localhost";
	if (strchr(host, ':') != NULL)
		return g_strdup_printf("https://[%s]:%d/", host, port);
	return g_strdup_printf("https://%s:%d/", host, port);
}

/* ---------------------------------------------------------------- building */

/* One subjectAltName entry, or NULL for a name we leave out. */
static GENERAL_NAME *general_name(const char *name)
{
	GENERAL_NAME *gn;

	if (g_hostname_is_ip_address(name)) {
		/* Refuses scoped IPv6 addresses ("fe80::1%eth0"); those are skipped. */
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);

		if (ip == NULL || (gn = GENERAL_NAME_new()) == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		return gn;
	}
	if (!is_dns_name(name))
		return NULL;
	ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

	if (dns == NULL || ASN1_STRING_set(dns, name, -1) != 1 || (gn = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(dns);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	return gn;
}

static int add_subject_alt_names(X509 *x, const char *const *names)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	bool ok = gens != NULL;

	for (size_t i = 0; ok && names[i] != NULL; i++) {
		GENERAL_NAME *gn = general_name(names[i]);

		if (gn != NULL && sk_GENERAL_NAME_push(gens, gn) <= 0) {
			GENERAL_NAME_free(gn);
			ok = false;
		}
	}
	ok = ok && sk_GENERAL_NAME_num(gens) > 0 &&
	     X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

/* An extension from a fixed value written in OpenSSL's v3 syntax. */
static int add_extension(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	bool ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Subject and issuer. The CN is for people looking at the certificate; it
 * carries the host and the time so that certificates from successive runs
 * differ, as Firefox expects of distinct certificates. */
static int set_names(X509 *x)
{
	X509_NAME *name = X509_get_subject_name(x);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	char *cn;
	int ok;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	cn = g_strdup_printf("Stoa %.*s %s", CN_HOST_MAX, g_get_host_name(), when);
	ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Stoa",
					-1, -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) == 1 &&
	     X509_set_issuer_name(x, name) == 1;
	g_free(cn);
	return ok ? 0 : -1;
}

static int add_extensions(X509 *x, const char *const *names)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	/* ECDSA keys sign; they never encipher (RFC 5480 §3). */
	if (add_extension(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_extension(x, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_extension(x, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_extension(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_subject_alt_names(x, names) < 0)
		return -1;
	return 0;
}

static X509 *build_x509(EVP_PKEY *key, const char *const *names, int days)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	/* A random positive serial below 2^127: unique without bookkeeping. */
	bool ok = x != NULL && serial != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
		  BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) != NULL &&
		  X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) != NULL &&
		  set_names(x) == 0 && X509_set_pubkey(x, key) == 1 &&
		  add_extensions(x, names) == 0 && X509_sign(x, key, EVP_sha256()) > 0;

	BN_free(serial);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A memory BIO's contents as a NUL-terminated string. */
static char *bio_text(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);

	return n > 0 ? g_strndup(data, (gsize)n) : NULL;
}

/* Fills the PEM texts, the fingerprint and the expiry from st->x509 and `key`. */
static int fill(stoa_tls_selfsigned *st, EVP_PKEY *key)
{
	BIO *cb = BIO_new(BIO_s_mem());
	BIO *kb = BIO_new(BIO_s_mem());
	struct tm tm;
	bool ok = cb != NULL && kb != NULL && PEM_write_bio_X509(cb, st->x509) == 1 &&
		  PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1;

	if (ok) {
		st->cert_pem = bio_text(cb);
		st->key_pem = bio_text(kb);
	}
	BIO_free(cb);
	BIO_free(kb);
	ok = ok && st->cert_pem != NULL && st->key_pem != NULL &&
	     stoa_fingerprint_of(st->x509, "sha-256", st->fingerprint, sizeof(st->fingerprint)) == 0 &&
	     ASN1_TIME_to_tm(X509_get0_notAfter(st->x509), &tm) == 1;
	if (ok)
		strftime(st->not_after, sizeof(st->not_after), "%Y-%m-%d", &tm);
	return ok ? 0 : -1;
}

stoa_tls_selfsigned *stoa_tls_selfsigned_new(const char *const *names, int days, char *err,
					     size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	stoa_tls_selfsigned *st = g_new0(stoa_tls_selfsigned, 1);

	st->x509 = key != NULL ? build_x509(key, names, days) : NULL;
	if (st->x509 == NULL || fill(st, key) < 0) {
		set_ssl_error(err, errlen, "generating the self-signed certificate");
		stoa_tls_selfsigned_free(st);
		st = NULL;
	}
	EVP_PKEY_free(key);
	return st;
}

void stoa_tls_selfsigned_free(stoa_tls_selfsigned *st)
{
	if (st == NULL)
		return;
	if (st->key_pem != NULL)
		OPENSSL_cleanse(st->key_pem, strlen(st->key_pem));
	g_free(st->key_pem);
	g_free(st->cert_pem);
	X509_free(st->x509);
	g_free(st);
}

const char *stoa_tls_selfsigned_cert_pem(const stoa_tls_selfsigned *st)
{
	return st->cert_pem;
}

const char *stoa_tls_selfsigned_key_pem(const stoa_tls_selfsigned *st)
{
	return st->key_pem;
}

const char *stoa_tls_selfsigned_fingerprint(const stoa_tls_selfsigned *st)
{
	return st->fingerprint;
}

const char *stoa_tls_selfsigned_not_after(const stoa_tls_selfsigned *st)
{
	return st->not_after;
}

/* ---------------------------------------------------------------- the saved file */

/* Never prompts: a saved key is not encrypted, and one that is was not ours. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Parses a certificate and its key from `text` (the file we save: the
 * certificate, then the key). */
static stoa_tls_selfsigned *from_pem(const char *text, size_t len, char *why, size_t whylen)
{
	BIO *cb = BIO_new_mem_buf(text, (int)len);
	BIO *kb = BIO_new_mem_buf(text, (int)len);
	X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *key = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	stoa_tls_selfsigned *st = NULL;

	BIO_free(cb);
	BIO_free(kb);
	if (x == NULL || key == NULL || X509_check_private_key(x, key) != 1) {
		set_ssl_error(why, whylen, "no certificate with its key");
		X509_free(x);
	} else {
		st = g_new0(stoa_tls_selfsigned, 1);
		st->x509 = x;
		if (fill(st, key) < 0) {
			set_ssl_error(why, whylen, "cannot use it");
			stoa_tls_selfsigned_free(st);
			st = NULL;
		}
	}
	EVP_PKEY_free(key);
	return st;
}

/* Is a saved certificate still good for this run: valid now and for a week
 * more, and naming this machine's host names and the LAN address the log
 * tells people to open? Other addresses are not required: IPv6 temporary
 * and link-local addresses come and go, and a certificate replaced each
 * time would make browsers ask again for nothing. Otherwise says why. */
static bool still_usable(X509 *x, char *const *names, char *why, size_t whylen)
{
	time_t later = time(NULL) + REUSE_MARGIN_S;
	const char *lan = lan_address(names);

	if (X509_cmp_time(X509_get0_notBefore(x), NULL) >= 0 ||
	    X509_cmp_time(X509_get0_notAfter(x), &later) <= 0) {
		g_snprintf(why, whylen, "it expires within a week or is not valid yet");
		return false;
	}
	for (size_t i = 0; names[i] != NULL; i++) {
		const char *n = names[i];
		int match;

		if (g_hostname_is_ip_address(n) && lan != NULL && strcmp(n, lan) == 0)
			match = X509_check_ip_asc(x, n, 0);
		else if (!g_hostname_is_ip_address(n) && is_dns_name(n))
			match = X509_check_host(x, n, 0, 0, NULL);
		else
			continue;
		if (match != 1) {
			g_snprintf(why, whylen, "it does not name %s", n);
			return false;
		}
	}
	return true;
}

/* Reads the saved file into *text, refusing one that other users may read:
 * its key would not be private any more. */
static int read_saved(const char *path, char **text, gsize *len, char *why, size_t whylen)
{
	GStatBuf sb;
	GError *gerr = NULL;

	if (g_stat(path, &sb) < 0) {
		g_snprintf(why, whylen, "%s", g_strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > SAVED_MAX_BYTES) {
		g_snprintf(why, whylen, "not a regular file of at most %d bytes", SAVED_MAX_BYTES);
		return -1;
	}
	if ((sb.st_mode & 077) != 0) {
		g_snprintf(why, whylen, "other users may read it");
		return -1;
	}
	if (!g_file_get_contents(path, text, len, &gerr)) {
		g_strlcpy(why, gerr->message, whylen);
		g_error_free(gerr);
		return -1;
	}
	return 0;
}

/* The saved certificate when there is one this run can use, else NULL
 * (logging why a file that is there was not used). */
static stoa_tls_selfsigned *load_saved(const char *path, char *const *names)
{
	char *text = NULL;
	gsize len = 0;
	char why[256] = "";
	stoa_tls_selfsigned *st = NULL;

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return NULL;
	if (read_saved(path, &text, &len, why, sizeof(why)) == 0) {
		st = from_pem(text, len, why, sizeof(why));
		OPENSSL_cleanse(text, len);
		g_free(text);
		if (st != NULL && !still_usable(st->x509, names, why, sizeof(why))) {
			stoa_tls_selfsigned_free(st);
			st = NULL;
		}
	}
	if (st == NULL)
		STOA_LOG(STOA_LOG_INFO, "not reusing %s (%s): generating a new certificate", path,
			 why);
	return st;
}

static bool write_all(int fd, const char *s)
{
	size_t left = strlen(s);

	while (left > 0) {
		ssize_t n = write(fd, s, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		left -= (size_t)n;
	}
	return true;
}

/* Writes the certificate and key to `path`, readable by us only. A
 * temporary file renamed into place means a crash never leaves half a file. */
static int save(const stoa_tls_selfsigned *st, const char *path, char *err, size_t errlen)
{
	char *tmp = g_strconcat(path, ".XXXXXX", NULL);
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	bool ok;
	int saved_errno;

	if (fd < 0) {
		g_snprintf(err, errlen, "%s", g_strerror(errno));
		g_free(tmp);
		return -1;
	}
	ok = write_all(fd, st->cert_pem) && write_all(fd, st->key_pem) && fsync(fd) == 0;
	saved_errno = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		saved_errno = errno;
	}
	if (ok && rename(tmp, path) < 0) {
		ok = false;
		saved_errno = errno;
	}
	if (!ok) {
		g_unlink(tmp);
		g_snprintf(err, errlen, "%s", g_strerror(saved_errno));
	}
	g_free(tmp);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- the server's */

static void announce(const stoa_tls_selfsigned *st, const char *how, const char *url,
		     char *const *names)
{
	char *list = g_strjoinv(", ", (char **)names);

	STOA_LOG(STOA_LOG_INFO,
		 "no certificate configured for HTTPS/WSS: %s, SHA-256 fingerprint %s. Open %s and "
		 "accept the browser's warning once: it is expected for a self-signed "
		 "certificate; check that the fingerprint the browser shows is this one.",
		 how, st->fingerprint, url);
	STOA_LOG(STOA_LOG_VERB, "the self-signed certificate names %s", list);
	g_free(list);
}

const stoa_tls_selfsigned *stoa_tls_selfsigned_shared(const char *configs_folder,
						      const char *bind_ip, int port, char *err,
						      size_t errlen)
{
	char **names;
	char *path, *how, *url;
	char why[256];

	if (shared != NULL)
		return shared;
	names = stoa_tls_selfsigned_local_names();
	path = configs_folder != NULL ? g_build_filename(configs_folder, STOA_TLS_SELFSIGNED_FILE,
							 NULL)
				      : NULL;
	shared = path != NULL ? load_saved(path, names) : NULL;
	if (shared != NULL) {
		how = g_strdup_printf("using the self-signed certificate saved in %s (valid until "
				      "%s)", path, shared->not_after);
	} else {
		shared = stoa_tls_selfsigned_new((const char *const *)names,
						 STOA_TLS_SELFSIGNED_DAYS, err, errlen);
		if (shared == NULL) {
			g_strfreev(names);
			g_free(path);
			return NULL;
		}
		if (path != NULL && save(shared, path, why, sizeof(why)) < 0) {
			STOA_LOG(STOA_LOG_VERB, "cannot save the certificate as %s (%s)", path, why);
			g_clear_pointer(&path, g_free);
		}
		how = g_strdup_printf("generated a self-signed certificate (ECDSA P-256, valid "
				      "until %s, %s%s)", shared->not_after,
				      path != NULL ? "saved in " : "in memory only",
				      path != NULL ? path : "");
	}
	url = url_for(bind_ip, port, names);
	announce(shared, how, url, names);
	g_free(url);
	g_free(how);
	g_free(path);
	g_strfreev(names);
	return shared;
}

void stoa_tls_selfsigned_shared_free(void)
{
	stoa_tls_selfsigned_free(shared);
	shared = NULL;
}
