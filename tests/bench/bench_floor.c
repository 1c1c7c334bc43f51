/*
 * bench_floor.c: the floor for forwarding one video packet to one
 * subscriber on this machine: one libsrtp2 srtp_protect() of a 1,200-byte
 * RTP packet plus one sendto() on a loopback UDP socket, per SRTP profile.
 *
 * Issue 8 measures the server's CPU per forwarded packet against this
 * number, in the same run, because absolute times on shared machines move
 * from one hour to the next; the ratio is what we compare. It calls
 * libsrtp2 and the socket API directly, none of Stoa's code, so the floor
 * does not inherit our overheads.
 *
 * Each packet gets a fresh copy of the plaintext (a forwarder encrypts into
 * its own output buffer too) and a new sequence number (libsrtp2 refuses
 * replays). The receiving socket is never read: the kernel drops what
 * overflows its buffer after the send has been paid for, as the subscriber
 * side is not part of the server's cost.
 *
 * Output: one line per profile, "profile us_per_packet", or with --json one
 * JSON object per line. CPU time is the process's (CLOCK_PROCESS_CPUTIME_ID),
 * so sleeping or being descheduled does not count.
 *
 *   make tests/bench/bench_floor && ./tests/bench/bench_floor [--json] [packets]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET 1200
#define TRAILER 32 /* room for the auth tag (at most 16 for these profiles) */

typedef struct profile {
	const char *name;
	srtp_profile_t id;
} profile;

static const profile profiles[] = {
	{ "AES_CM_128_HMAC_SHA1_80", srtp_profile_aes128_cm_sha1_80 },
	{ "AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm },
};

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static srtp_t make_session(srtp_profile_t id)
{
	srtp_policy_t policy;
	unsigned char key[64];
	srtp_t session = NULL;

	memset(&policy, 0, sizeof(policy));
	if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, id) != srtp_err_status_ok ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, id) != srtp_err_status_ok)
		return NULL;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(rand() & 0xff);
	policy.key = key;
	policy.ssrc.type = ssrc_any_outbound;
	policy.window_size = 1024;
	if (srtp_create(&session, &policy) != srtp_err_status_ok)
		return NULL;
	return session;
}

/* A loopback UDP socket connected to another one that nobody reads. */
static int make_socket(int *sink)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);

	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(rx, (struct sockaddr *)&a, &alen) < 0 ||
	    connect(tx, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("socket");
		exit(1);
	}
	*sink = rx;
	return tx;
}

static double run(const profile *p, int packets, int fd)
{
	uint8_t plain[PACKET], buf[PACKET + TRAILER];
	srtp_t session = make_session(p->id);

	if (session == NULL) {
		fprintf(stderr, "%s: srtp_create failed\n", p->name);
		exit(1);
	}
	memset(plain, 0xa5, sizeof(plain));
	plain[0] = 0x80;
	plain[1] = 96;
	memcpy(plain + 8, "\x12\x34\x56\x78", 4);
	double t0 = cpu_seconds();
	for (int i = 0; i < packets; i++) {
		int len = PACKET;
		memcpy(buf, plain, PACKET);
		buf[2] = (uint8_t)(i >> 8);
		buf[3] = (uint8_t)i;
		buf[4] = (uint8_t)(i >> 24); /* timestamps move too */
		if (srtp_protect(session, buf, &len) != srtp_err_status_ok) {
			fprintf(stderr, "%s: srtp_protect failed at %d\n", p->name, i);
			exit(1);
		}
		(void)send(fd, buf, (size_t)len, MSG_DONTWAIT);
	}
	double us = (cpu_seconds() - t0) * 1e6 / packets;
	srtp_dealloc(session);
	return us;
}

int main(int argc, char **argv)
{
	bool json = false;
	int packets = 200000, sink;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (atoi(argv[i]) > 0)
			packets = atoi(argv[i]);
		else {
			fprintf(stderr, "usage: %s [--json] [packets]\n", argv[0]);
			return 2;
		}
	}
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	int fd = make_socket(&sink);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		run(&profiles[i], packets / 10, fd); /* warm-up: caches, branch predictors */
		double us = run(&profiles[i], packets, fd);
		if (json)
			printf("{\"profile\":\"%s\",\"us_per_packet\":%.3f,\"packets\":%d}\n",
			       profiles[i].name, us, packets);
		else
			printf("%-24s %.3f us per packet (protect + send, %d packets)\n",
			       profiles[i].name, us, packets);
	}
	close(fd);
	close(sink);
	srtp_shutdown();
	return 0;
}
