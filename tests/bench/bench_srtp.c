/*
 * bench_srtp.c: CPU cost of SRTP per packet for each profile (media/srtp).
 *
 * Protects and unprotects 1200-octet RTP packets (a full video packet) with
 * random keys and prints microseconds per packet, plus the cost of creating
 * and freeing a session pair. Not part of make check; build and run with
 *   make tests/bench/bench_srtp && ./tests/bench/bench_srtp [packets]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "media/srtp/srtp.h"

#define PAYLOAD 1188 /* 12-octet header + 1188 = 1200 */
#define CAP (12 + PAYLOAD + STOA_SRTP_RTP_HEADROOM)
#define STORED 4096

static void make_keys(stoa_srtp_keys *a, stoa_srtp_keys *b, stoa_srtp_profile profile)
{
	memset(a, 0, sizeof(*a));
	stoa_srtp_profile_lengths(profile, &a->key_len, &a->salt_len);
	a->profile = profile;
	stoa_random_bytes(a->local, sizeof(a->local));
	stoa_random_bytes(a->remote, sizeof(a->remote));
	*b = *a;
	memcpy(b->local, a->remote, sizeof(b->local));
	memcpy(b->remote, a->local, sizeof(b->remote));
}

static size_t make_rtp(uint8_t *buf, uint32_t seq)
{
	buf[0] = 0x80;
	buf[1] = 96;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	memset(buf + 4, 0x11, 8);
	memset(buf + 12, 0xa5, PAYLOAD);
	return 12 + PAYLOAD;
}

static void run(stoa_srtp_profile profile, int packets)
{
	stoa_srtp_keys ka, kb;
	make_keys(&ka, &kb, profile);

	int64_t t0 = g_get_monotonic_time();
	for (int i = 0; i < 200; i++) {
		stoa_srtp *s = stoa_srtp_new(&ka);
		stoa_srtp_free(s);
	}
	double setup_us = (double)(g_get_monotonic_time() - t0) / 200;

	/* Protect: one packet with increasing sequence numbers. */
	stoa_srtp *a = stoa_srtp_new(&ka);
	uint8_t buf[CAP];
	t0 = g_get_monotonic_time();
	for (int i = 0; i < packets; i++) {
		size_t len = make_rtp(buf, (uint32_t)i);
		if (stoa_srtp_protect_rtp(a, buf, &len, sizeof(buf)) != 0)
			abort();
	}
	int64_t dt = g_get_monotonic_time() - t0;
	/* make_rtp's memset is in the loop; time it alone to subtract it. */
	t0 = g_get_monotonic_time();
	for (int i = 0; i < packets; i++) {
		make_rtp(buf, (uint32_t)i);
		__asm__ __volatile__("" : : "r"(buf) : "memory");
	}
	int64_t fill = g_get_monotonic_time() - t0;
	double protect_us = (double)(dt - fill) / packets;
	stoa_srtp_free(a);

	/* Unprotect: batches of STORED packets from the start of a stream (a
	 * receiver assumes rollover counter 0), fresh sessions per batch. */
	uint8_t (*stored)[CAP] = g_malloc(STORED * sizeof(*stored));
	size_t *lens = g_new(size_t, STORED);
	int64_t unprotect_time = 0;
	int rounds = packets / STORED;
	for (int r = 0; r < rounds; r++) {
		stoa_srtp *tx = stoa_srtp_new(&ka), *rx = stoa_srtp_new(&kb);
		for (int i = 0; i < STORED; i++) {
			lens[i] = make_rtp(stored[i], (uint32_t)i);
			if (stoa_srtp_protect_rtp(tx, stored[i], &lens[i], CAP) != 0)
				abort();
		}
		t0 = g_get_monotonic_time();
		for (int i = 0; i < STORED; i++)
			if (stoa_srtp_unprotect_rtp(rx, stored[i], &lens[i]) != 0)
				abort();
		unprotect_time += g_get_monotonic_time() - t0;
		stoa_srtp_free(tx);
		stoa_srtp_free(rx);
	}
	double unprotect_us = (double)unprotect_time / (rounds * STORED);

	printf("%-24s protect %6.3f us/pkt  unprotect %6.3f us/pkt  (1200 B; %.0f MB/s)  "
	       "session pair new+free %7.1f us\n",
	       stoa_srtp_profile_name(profile), protect_us, unprotect_us,
	       1200.0 / protect_us, setup_us);
	g_free(stored);
	g_free(lens);
	stoa_srtp_keys_wipe(&ka);
	stoa_srtp_keys_wipe(&kb);
}

int main(int argc, char **argv)
{
	int packets = argc > 1 ? atoi(argv[1]) : 200000;
	if (packets < STORED)
		packets = STORED;
	if (stoa_srtp_init() < 0)
		return 1;
	run(STOA_SRTP_AES128_CM_SHA1_80, packets);
	run(STOA_SRTP_AEAD_AES_128_GCM, packets);
	stoa_srtp_cleanup();
	return 0;
}
