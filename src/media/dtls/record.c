/*
 * record.c: DTLS 1.2 AEAD records without the SSL object (see record.h).
 *
 * Wire format (RFC 6347 §4.1): type(1) version(2) epoch(2) sequence(6)
 * length(2), then the protected fragment. For AES-GCM (RFC 5288 §3) the
 * fragment is an 8-octet explicit nonce, the ciphertext and a 16-octet tag,
 * and the nonce is the 4-octet implicit IV followed by the explicit part;
 * like OpenSSL we send epoch||sequence as the explicit part, which is
 * unique per key. For ChaCha20-Poly1305 (RFC 7905 §2) there is no explicit
 * part: the nonce is the 12-octet IV XORed with epoch||sequence. In both the
 * additional data is epoch||sequence, type, version and the plaintext's
 * length (RFC 5246 §6.2.3.3, with DTLS's 64-bit sequence).
 *
 * The keys are the key block of RFC 5246 §6.3, PRF(master_secret,
 * "key expansion", server_random + client_random) with the suite's hash;
 * AEAD suites have no MAC keys, so it is client key, server key, client IV,
 * server IV.
 */
#include <glib.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

#include "media/dtls/record.h"

#define TAG_LEN 16
#define SEQ_MAX ((UINT64_C(1) << 48) - 1)
#define WINDOW 64
#define DTLS12_VERSION_WIRE 0xfefd
#define KEY_EXPANSION "key expansion"
#define RANDOM_LEN 32

struct stoa_dtls_record {
	EVP_CIPHER_CTX *seal, *open; /* keyed once; the nonce is set per record */
	size_t iv_len;		     /* 4: AES-GCM's implicit part; 12: ChaCha20 */
	size_t explicit_len;	     /* 8 for AES-GCM, 0 for ChaCha20 */
	uint8_t write_iv[12], read_iv[12];
	uint16_t epoch;
	uint64_t write_seq;
	uint64_t read_top;    /* highest authenticated sequence number */
	uint64_t read_bitmap; /* bit i: read_top - i was seen */
	bool read_any;
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static const EVP_CIPHER *aead_cipher(int nid, size_t *iv_len, size_t *explicit_len)
{
	*explicit_len = 8;
	*iv_len = 4;
	switch (nid) {
	case NID_aes_128_gcm:
		return EVP_aes_128_gcm();
	case NID_aes_256_gcm:
		return EVP_aes_256_gcm();
	case NID_chacha20_poly1305:
		*explicit_len = 0;
		*iv_len = 12;
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

/* The key block of RFC 5246 §6.3 for `ssl`'s session, `len` octets. */
static int key_block(SSL *ssl, const EVP_MD *md, uint8_t *out, size_t len)
{
	uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
	uint8_t seed[sizeof(KEY_EXPANSION) - 1 + 2 * RANDOM_LEN];
	size_t mlen = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master));
	memcpy(seed, KEY_EXPANSION, sizeof(KEY_EXPANSION) - 1);
	uint8_t *sr = seed + sizeof(KEY_EXPANSION) - 1, *cr = sr + RANDOM_LEN;
	int rc = -1;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
	EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	if (mlen > 0 && kctx != NULL && SSL_get_server_random(ssl, sr, RANDOM_LEN) == RANDOM_LEN &&
	    SSL_get_client_random(ssl, cr, RANDOM_LEN) == RANDOM_LEN) {
		/* "key expansion" is the PRF's label; the PRF hashes label and
		 * seed as one string, so they travel as one seed. */
		OSSL_PARAM params[] = {
			OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
			OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SECRET, master, mlen),
			OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed)),
			OSSL_PARAM_END,
		};
		rc = EVP_KDF_derive(kctx, out, len, params) == 1 ? 0 : -1;
	}
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(master, sizeof(master));
	return rc;
}

static EVP_CIPHER_CTX *keyed(const EVP_CIPHER *cipher, const uint8_t *key, bool encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx != NULL && EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, encrypt ? 1 : 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

stoa_dtls_record *stoa_dtls_record_new_keys(int suite, const uint8_t *write_key,
					    const uint8_t *write_iv, const uint8_t *read_key,
					    const uint8_t *read_iv, uint64_t next_write_seq)
{
	size_t iv_len, explicit_len;
	const EVP_CIPHER *cipher = aead_cipher(suite, &iv_len, &explicit_len);
	if (cipher == NULL)
		return NULL;
	stoa_dtls_record *r = g_new0(stoa_dtls_record, 1);
	r->iv_len = iv_len;
	r->explicit_len = explicit_len;
	memcpy(r->write_iv, write_iv, iv_len);
	memcpy(r->read_iv, read_iv, iv_len);
	r->seal = keyed(cipher, write_key, true);
	r->open = keyed(cipher, read_key, false);
	/* Without renegotiation (which we refuse) the handshake ends in epoch 1. */
	r->epoch = 1;
	r->write_seq = next_write_seq;
	if (r->seal == NULL || r->open == NULL) {
		stoa_dtls_record_free(r);
		return NULL;
	}
	return r;
}

stoa_dtls_record *stoa_dtls_record_new(SSL *ssl, bool server, uint64_t next_write_seq)
{
	const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
	if (suite == NULL || !SSL_is_init_finished(ssl))
		return NULL;
	int nid = SSL_CIPHER_get_cipher_nid(suite);
	size_t iv_len, explicit_len;
	const EVP_CIPHER *cipher = aead_cipher(nid, &iv_len, &explicit_len);
	const EVP_MD *md = SSL_CIPHER_get_handshake_digest(suite);
	if (cipher == NULL || md == NULL)
		return NULL;
	size_t key_len = (size_t)EVP_CIPHER_get_key_length(cipher);
	uint8_t kb[2 * 32 + 2 * 12];
	if (2 * key_len + 2 * iv_len > sizeof(kb) || key_block(ssl, md, kb, 2 * (key_len + iv_len)) < 0)
		return NULL;
	const uint8_t *client_key = kb, *server_key = kb + key_len;
	const uint8_t *client_iv = kb + 2 * key_len, *server_iv = client_iv + iv_len;
	stoa_dtls_record *r = server ? stoa_dtls_record_new_keys(nid, server_key, server_iv,
								 client_key, client_iv, next_write_seq)
				     : stoa_dtls_record_new_keys(nid, client_key, client_iv,
								 server_key, server_iv, next_write_seq);
	OPENSSL_cleanse(kb, sizeof(kb));
	return r;
}

void stoa_dtls_record_free(stoa_dtls_record *r)
{
	if (r == NULL)
		return;
	EVP_CIPHER_CTX_free(r->seal);
	EVP_CIPHER_CTX_free(r->open);
	OPENSSL_cleanse(r, sizeof(*r));
	g_free(r);
}

/* The per-record nonce from the IV and, for AES-GCM, the explicit part. */
static void make_nonce(const stoa_dtls_record *r, const uint8_t *iv, const uint8_t seq64[8],
		       const uint8_t *explicit_nonce, uint8_t nonce[12])
{
	if (r->explicit_len > 0) {
		memcpy(nonce, iv, 4);
		memcpy(nonce + 4, explicit_nonce, 8);
	} else {
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= seq64[i];
	}
}

static void make_aad(uint8_t aad[13], const uint8_t seq64[8], uint8_t type, uint16_t version,
		     size_t plain_len)
{
	memcpy(aad, seq64, 8);
	aad[8] = type;
	put_be(aad + 9, version, 2);
	put_be(aad + 11, plain_len, 2);
}

int stoa_dtls_record_seal(stoa_dtls_record *r, uint8_t type, const uint8_t *in, size_t len,
			  uint8_t *out, size_t cap)
{
	size_t frag = r->explicit_len + len + TAG_LEN;
	if (frag > UINT16_MAX || STOA_DTLS_RECORD_HEADER + frag > cap || r->write_seq > SEQ_MAX)
		return -1;
	uint8_t seq64[8], nonce[12], aad[13];
	put_be(seq64, (uint64_t)r->epoch << 48 | r->write_seq, 8);
	out[0] = type;
	put_be(out + 1, DTLS12_VERSION_WIRE, 2);
	memcpy(out + 3, seq64, 8);
	put_be(out + 11, frag, 2);
	uint8_t *p = out + STOA_DTLS_RECORD_HEADER;
	memcpy(p, seq64, r->explicit_len); /* AES-GCM's explicit nonce: epoch||sequence */
	make_nonce(r, r->write_iv, seq64, seq64, nonce);
	make_aad(aad, seq64, type, DTLS12_VERSION_WIRE, len);
	p += r->explicit_len;
	int n = 0, fin = 0;
	if (EVP_EncryptInit_ex(r->seal, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(r->seal, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_EncryptUpdate(r->seal, p, &n, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(r->seal, p + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(r->seal, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, p + len) != 1)
		return -1;
	r->write_seq++;
	return (int)(STOA_DTLS_RECORD_HEADER + frag);
}

/* RFC 6347 §4.1.2.6: a record older than the window, or seen, is dropped. */
static bool replayed(const stoa_dtls_record *r, uint64_t seq)
{
	if (!r->read_any || seq > r->read_top)
		return false;
	uint64_t age = r->read_top - seq;
	return age >= WINDOW || (r->read_bitmap >> age & 1);
}

static void mark_read(stoa_dtls_record *r, uint64_t seq)
{
	if (!r->read_any) {
		r->read_any = true;
		r->read_top = seq;
		r->read_bitmap = 1;
	} else if (seq > r->read_top) {
		uint64_t shift = seq - r->read_top;
		r->read_bitmap = shift >= WINDOW ? 1 : r->read_bitmap << shift | 1;
		r->read_top = seq;
	} else {
		r->read_bitmap |= UINT64_C(1) << (r->read_top - seq);
	}
}

size_t stoa_dtls_record_open(stoa_dtls_record *r, uint8_t *buf, size_t len, uint8_t *type,
			     uint8_t **plain, size_t *plain_len)
{
	*plain = NULL;
	*plain_len = 0;
	if (len < STOA_DTLS_RECORD_HEADER)
		return 0;
	size_t frag = (size_t)get_be(buf + 11, 2);
	size_t total = STOA_DTLS_RECORD_HEADER + frag;
	*type = buf[0];
	if (total > len)
		return len; /* cut short: the rest of the datagram is garbage */
	const uint8_t *seq64 = buf + 3;
	uint64_t seq = get_be(buf + 5, 6);
	if (get_be(buf + 3, 2) != r->epoch || frag < r->explicit_len + TAG_LEN || replayed(r, seq))
		return total;
	uint8_t *p = buf + STOA_DTLS_RECORD_HEADER;
	size_t clen = frag - r->explicit_len - TAG_LEN;
	uint8_t nonce[12], aad[13];
	make_nonce(r, r->read_iv, seq64, p, nonce);
	make_aad(aad, seq64, buf[0], (uint16_t)get_be(buf + 1, 2), clen);
	uint8_t *c = p + r->explicit_len;
	int n = 0, fin = 0;
	if (EVP_DecryptInit_ex(r->open, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(r->open, NULL, &n, aad, sizeof(aad)) != 1 ||
	    EVP_DecryptUpdate(r->open, c, &n, c, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(r->open, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, c + clen) != 1 ||
	    EVP_DecryptFinal_ex(r->open, c + n, &fin) != 1)
		return total; /* forged or corrupted */
	mark_read(r, seq);
	*plain = c;
	*plain_len = clen;
	return total;
}

uint64_t stoa_dtls_record_next_seq(const uint8_t *buf, size_t len, uint16_t epoch, uint64_t next)
{
	while (len >= STOA_DTLS_RECORD_HEADER) {
		size_t total = STOA_DTLS_RECORD_HEADER + (size_t)get_be(buf + 11, 2);
		if (get_be(buf + 3, 2) == epoch && get_be(buf + 5, 6) + 1 > next)
			next = get_be(buf + 5, 6) + 1;
		if (total > len)
			break;
		buf += total;
		len -= total;
	}
	return next;
}
