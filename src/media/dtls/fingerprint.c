/*
 * fingerprint.c: certificate fingerprints for SDP (see fingerprint.h).
 * RFC 8122 §5 (syntax), RFC 8827 §6.5 (sha-256 required for WebRTC).
 */
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "media/dtls/fingerprint.h"

const EVP_MD *stoa_fingerprint_md(const char *alg)
{
	if (alg == NULL)
		return NULL;
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

int stoa_fingerprint_digest(X509 *cert, const EVP_MD *md, uint8_t out[STOA_FINGERPRINT_MAX_MD])
{
	unsigned int n = 0;
	if (cert == NULL || md == NULL || EVP_MD_get_size(md) > STOA_FINGERPRINT_MAX_MD ||
	    X509_digest(cert, md, out, &n) != 1)
		return -1;
	return (int)n;
}

int stoa_fingerprint_format(const uint8_t *md, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	if (len == 0 || outlen < len * 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 0x0f];
		out[3 * i + 2] = i + 1 < len ? ':' : '\0';
	}
	return 0;
}

int stoa_fingerprint_of(X509 *cert, const char *alg, char *out, size_t outlen)
{
	uint8_t md[STOA_FINGERPRINT_MAX_MD];
	int n = stoa_fingerprint_digest(cert, stoa_fingerprint_md(alg), md);
	if (n <= 0)
		return -1;
	return stoa_fingerprint_format(md, (size_t)n, out, outlen);
}

int stoa_fingerprint_parse(const char *text, uint8_t out[STOA_FINGERPRINT_MAX_MD])
{
	size_t n = 0;
	const char *p = text;
	if (p == NULL)
		return -1;
	for (;;) {
		int hi = g_ascii_xdigit_value(p[0]);
		int lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[1]);
		if (lo < 0 || n == STOA_FINGERPRINT_MAX_MD)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (*p == '\0')
			return (int)n;
		if (*p++ != ':')
			return -1;
	}
}
