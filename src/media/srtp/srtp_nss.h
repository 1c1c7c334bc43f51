/*
 * srtp_nss.h: NSS started with its session tables sized for speed, for
 * programs whose libsrtp2 does its crypto with NSS (Debian's does; then
 * configure adds -DSTOA_SRTP_NSS and NSS's flags to SRTP_CFLAGS/SRTP_LIBS).
 *
 * Why. libsrtp2 opens an NSS context per cipher with NSS_INIT_OPTIMIZESPACE,
 * and the first context started decides how NSS's software token sizes its
 * tables: for space, 32 hash buckets of sessions behind one lock. Every
 * SRTP key holds a session of its own (four per peer connection), and every
 * packet's PK11_Encrypt opens and closes one more, walking a chain of ~N/8
 * sessions: the cost per packet grew with the number of viewers, to 38 % of
 * the server's CPU at 900. Started first without that flag, NSS sizes its
 * tables for time (1,024 buckets, many locks). Holding the context also
 * keeps NSS up while no cipher exists, so the first session after a quiet
 * spell does not pay for starting NSS again.
 *
 * Header-only so that stoa-load and bench_floor, which share no code with
 * the server, start NSS the same way. Open before srtp_init(); close after
 * srtp_shutdown(). Without NSS both are no-ops.
 */
#ifndef STOA_MEDIA_SRTP_SRTP_NSS_H
#define STOA_MEDIA_SRTP_SRTP_NSS_H

#ifdef STOA_SRTP_NSS
#include <nss.h>

static inline void *stoa_srtp_nss_open(void)
{
	return NSS_InitContext("", "", "", "", NULL,
			       NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
				       NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT);
}

static inline void stoa_srtp_nss_close(void *ctx)
{
	if (ctx != NULL)
		NSS_ShutdownContext(ctx);
}
#else
static inline void *stoa_srtp_nss_open(void)
{
	return NULL;
}

static inline void stoa_srtp_nss_close(void *ctx)
{
	(void)ctx;
}
#endif

#endif
