/*
 * ids.h: random identifiers and secret comparison.
 *
 * Session and handle ids are random, non-zero and at most 53 bits, so that a
 * JavaScript Number holds them exactly (janus.js keys its maps by them).
 */
#ifndef STOA_CORE_IDS_H
#define STOA_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOA_ID_MAX ((UINT64_C(1) << 53) - 1)

/* A random id in [1, 2^53-1], from the kernel's CSPRNG. Any thread. */
uint64_t stoa_id_random(void);

/* A random non-zero 32-bit value. */
uint32_t stoa_id_random32(void);

/* Fills buf with `len` random bytes. */
void stoa_random_bytes(void *buf, size_t len);

/* Compares two secrets in time independent of where they differ.
 * NULL equals nothing. */
bool stoa_secret_equal(const char *a, const char *b);

#endif
