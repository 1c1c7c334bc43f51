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
 * replays). A second thread drains the receiving sockets, so every send
 * is delivered as a subscriber's would be (on loopback the delivery runs in
 * the sender's system time); only the sending thread's CPU is counted
 * (CLOCK_THREAD_CPUTIME_ID), so sleeping, being descheduled or the reader's
 * work does not count.
 *
 * --spread K sends round robin over K sessions and K sockets, as a server
 * with K subscribers does: the keys and socket state of K subscribers do
 * not all stay in the caches, which a single session hides. The issue's
 * floor is K = 1; the bench reports K = 300 too.
 *
 * NSS (Debian's libsrtp2 backend) is started as the server starts it, with
 * its session tables sized for speed (src/media/srtp/srtp_nss.h); with one
 * session it makes no difference, with K it does.
 *
 * Output: one line per profile, "profile us_per_packet", or with --json one
 * JSON object per line.
 *
 *   make tests/bench/bench_floor && ./tests/bench/bench_floor [--json] [--spread K] [packets]
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
#include <poll.h>
#include <pthread.h>

#include "media/srtp/srtp_nss.h"
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

#define MAX_SPREAD 4096

static int nsock;
static int tx[MAX_SPREAD], rx[MAX_SPREAD];
static volatile bool stopping;

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* A loopback UDP socket connected to another one, which the reader drains. */
static void make_pair(int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	rx[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	tx[i] = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx[i] < 0 || tx[i] < 0 || bind(rx[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(rx[i], (struct sockaddr *)&a, &alen) < 0 ||
	    connect(tx[i], (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("socket");
		exit(1);
	}
}

static void *reader(void *arg)
{
	static struct pollfd fds[MAX_SPREAD];
	uint8_t buf[2048];
	(void)arg;
	for (int i = 0; i < nsock; i++)
		fds[i] = (struct pollfd){ .fd = rx[i], .events = POLLIN };
	while (!stopping) {
		if (poll(fds, (nfds_t)nsock, 50) <= 0)
			continue;
		for (int i = 0; i < nsock; i++)
			if (fds[i].revents & POLLIN)
				while (recv(rx[i], buf, sizeof(buf), 0) > 0)
					;
	}
	return NULL;
}

static double run(const profile *p, int packets)
{
	static srtp_t sessions[MAX_SPREAD];
	uint8_t plain[PACKET], buf[PACKET + TRAILER];

	for (int k = 0; k < nsock; k++) {
		sessions[k] = make_session(p->id);
		if (sessions[k] == NULL) {
			fprintf(stderr, "%s: srtp_create failed\n", p->name);
			exit(1);
		}
	}
	memset(plain, 0xa5, sizeof(plain));
	plain[0] = 0x80;
	plain[1] = 96;
	memcpy(plain + 8, "\x12\x34\x56\x78", 4);
	double t0 = cpu_seconds();
	for (int i = 0; i < packets; i++) {
		int k = i % nsock, n = i / nsock, len = PACKET;
		memcpy(buf, plain, PACKET);
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		buf[4] = (uint8_t)(n >> 24); /* timestamps move too */
		if (srtp_protect(sessions[k], buf, &len) != srtp_err_status_ok) {
			fprintf(stderr, "%s: srtp_protect failed at %d\n", p->name, i);
			exit(1);
		}
		(void)send(tx[k], buf, (size_t)len, MSG_DONTWAIT);
	}
	double us = (cpu_seconds() - t0) * 1e6 / packets;
	for (int k = 0; k < nsock; k++)
		srtp_dealloc(sessions[k]);
	return us;
}

int main(int argc, char **argv)
{
	bool json = false;
	int packets = 200000;
	pthread_t rd;

	nsock = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--spread") == 0 && i + 1 < argc)
			nsock = atoi(argv[++i]);
		else if (atoi(argv[i]) > 0)
			packets = atoi(argv[i]);
		else
			nsock = 0;
		if (nsock < 1 || nsock > MAX_SPREAD) {
			fprintf(stderr, "usage: %s [--json] [--spread 1..%d] [packets]\n", argv[0], MAX_SPREAD);
			return 2;
		}
	}
	void *nss = stoa_srtp_nss_open();
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	for (int i = 0; i < nsock; i++)
		make_pair(i);
	pthread_create(&rd, NULL, reader, NULL);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		run(&profiles[i], packets / 10); /* warm-up: caches, branch predictors */
		double us = run(&profiles[i], packets);
		if (json)
			printf("{\"profile\":\"%s\",\"us_per_packet\":%.3f,\"packets\":%d,\"spread\":%d}\n",
			       profiles[i].name, us, packets, nsock);
		else
			printf("%-24s %.3f us per packet (protect + send, %d packets over %d session%s)\n",
			       profiles[i].name, us, packets, nsock, nsock == 1 ? "" : "s");
	}
	stopping = true;
	pthread_join(rd, NULL);
	for (int i = 0; i < nsock; i++) {
		close(tx[i]);
		close(rx[i]);
	}
	srtp_shutdown();
	stoa_srtp_nss_close(nss);
	return 0;
}
