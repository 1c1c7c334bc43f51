/*
 * fuzz_dtls_record.c: arbitrary bytes as a datagram of DTLS records reaching
 * a released endpoint's record layer (media/dtls/record.c), for each AEAD
 * suite. The first octet picks the suite and whether the datagram is
 * opened as it is or first sealed by a peer holding the mirror keys.
 *
 * Invariants: every record opened lies inside the datagram and the walk
 * ends; what a peer seals opens to the same type and bytes, once (the
 * second time it is a replay); a sealed record with one octet flipped
 * never opens. stoa_dtls_record_next_seq() walks the same bytes without
 * leaving them.
 */
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "media/dtls/record.h"

#define CHECK(x) \
	do { \
		if (!(x)) \
			abort(); \
	} while (0)

#define MAX_IN 2048

static const int suites[] = { NID_aes_128_gcm, NID_aes_256_gcm, NID_chacha20_poly1305 };

/* Fixed keys: A writes with k1/iv1 and reads with k2/iv2, B the mirror. */
static const uint8_t k1[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t k2[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
static const uint8_t iv1[12] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
static const uint8_t iv2[12] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5 };

/* Opens every record of `buf`; returns how many authenticated. */
static unsigned open_all(stoa_dtls_record *r, uint8_t *buf, size_t len)
{
	unsigned ok = 0;
	uint8_t *end = buf + len;
	while (len > 0) {
		uint8_t type, *plain;
		size_t plain_len, used = stoa_dtls_record_open(r, buf, len, &type, &plain, &plain_len);
		if (used == 0)
			break;
		CHECK(used <= len);
		if (plain != NULL) {
			CHECK(plain >= buf && plain + plain_len <= end);
			ok++;
		}
		buf += used;
		len -= used;
	}
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MAX_IN)
		return 0;
	int suite = suites[data[0] % 3];
	bool seal_first = data[0] & 0x80;
	data++;
	size--;
	stoa_dtls_record *a = stoa_dtls_record_new_keys(suite, k1, iv1, k2, iv2, 1);
	stoa_dtls_record *b = stoa_dtls_record_new_keys(suite, k2, iv2, k1, iv1, 1);
	CHECK(a != NULL && b != NULL);

	uint8_t buf[MAX_IN + STOA_DTLS_RECORD_OVERHEAD];
	memcpy(buf, data, size);
	(void)stoa_dtls_record_next_seq(buf, size, 1, 0);
	(void)open_all(a, buf, size);

	if (seal_first && size > 0) {
		uint8_t type = data[0];
		int n = stoa_dtls_record_seal(b, type, data, size, buf, sizeof(buf));
		CHECK(n == (int)(size + STOA_DTLS_RECORD_OVERHEAD) ||
		      (n > 0 && suite == NID_chacha20_poly1305 &&
		       n == (int)(size + STOA_DTLS_RECORD_OVERHEAD - 8)));
		uint8_t copy[sizeof(buf)];
		memcpy(copy, buf, (size_t)n);
		/* One octet flipped, anywhere: never opens. */
		size_t at = data[size / 2] % (size_t)n;
		copy[at] ^= 0x01;
		CHECK(open_all(a, copy, (size_t)n) == 0);
		/* Intact: opens to what was sealed, once. */
		memcpy(copy, buf, (size_t)n);
		uint8_t t, *plain;
		size_t plain_len;
		CHECK(stoa_dtls_record_open(a, buf, (size_t)n, &t, &plain, &plain_len) == (size_t)n);
		CHECK(plain != NULL && t == type && plain_len == size && memcmp(plain, data, size) == 0);
		CHECK(open_all(a, copy, (size_t)n) == 0);
	}
	stoa_dtls_record_free(a);
	stoa_dtls_record_free(b);
	return 0;
}
