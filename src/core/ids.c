/*
 * ids.c: random ids from getrandom(2), and constant-time secret comparison.
 * Ids name sessions and handles to clients, so they must not be guessable:
 * anyone who knows a session id can act on it unless an api_secret is set.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/random.h>

#include "core/ids.h"

void stoa_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* getrandom cannot fail on Linux >= 3.17 once the pool is
			 * initialised; there is no safe fallback, so stop here. */
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

uint64_t stoa_id_random(void)
{
	uint64_t v;
	do {
		stoa_random_bytes(&v, sizeof(v));
		v &= STOA_ID_MAX;
	} while (v == 0);
	return v;
}

uint32_t stoa_id_random32(void)
{
	uint32_t v;
	do
		stoa_random_bytes(&v, sizeof(v));
	while (v == 0);
	return v;
}

bool stoa_secret_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	size_t la = strlen(a), lb = strlen(b);
	/* Compare against `a` itself when lengths differ so the time taken does
	 * not depend on the secret's content; the length may leak, which is
	 * acceptable (and unavoidable without padding). */
	const char *other = la == lb ? b : a;
	return CRYPTO_memcmp(a, other, la) == 0 && la == lb;
}
