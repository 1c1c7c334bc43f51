/*
 * srtp.c: the libsrtp2 session pair of a peer connection (see srtp.h).
 *
 * Design: two srtp_t per peer connection rather than one with two policies,
 * so that the inbound and outbound directions can never share a stream and
 * so that each direction's wildcard template is obvious. libsrtp clones the
 * template into a stream per SSRC on first use; inbound streams are only
 * added once a packet authenticates, so forged packets cannot grow state.
 *
 * RFCs: 3711 (SRTP; replay list §3.3.2, SRTCP §3.4), 5764 §4.1.2 (profiles),
 * 7714 (AES-GCM for SRTP: 12-octet salt §8.1, 16-octet tag §14.2).
 */
#include <limits.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "media/srtp/srtp.h"
#include "media/srtp/srtp_nss.h"

#define STOA_LOG_MODULE "srtp"
#include "core/log.h"

_Static_assert(STOA_SRTP_RTP_HEADROOM == SRTP_MAX_TRAILER_LEN, "RTP headroom");
_Static_assert(STOA_SRTP_RTCP_HEADROOM == SRTP_MAX_TRAILER_LEN + 4, "RTCP headroom");

/* Owned by the media loop thread of its peer connection. */
struct stoa_srtp {
	srtp_t out; /* ssrc_any_outbound, keyed with our write key */
	srtp_t in;  /* ssrc_any_inbound, keyed with the peer's write key */
	stoa_srtp_profile profile;
	stoa_srtp_stats stats;
};

static bool srtp_ready; /* main thread only */

/* Our NSS context, from init to cleanup, when libsrtp2 is built on NSS:
 * it sizes NSS's session tables for speed and keeps NSS up between
 * sessions (srtp_nss.h). */
static void *nss_context;

int stoa_srtp_init(void)
{
	if (srtp_ready)
		return 0;
	nss_context = stoa_srtp_nss_open();
#ifdef STOA_SRTP_NSS
	if (nss_context == NULL)
		STOA_LOG(STOA_LOG_WARN, "NSS did not start with its tables sized for speed: "
					"SRTP will cost more per packet as peers are added");
#endif
	srtp_err_status_t st = srtp_init();
	if (st != srtp_err_status_ok) {
		STOA_LOG(STOA_LOG_FATAL, "libsrtp initialisation failed (error %d)", (int)st);
		stoa_srtp_nss_close(nss_context);
		nss_context = NULL;
		return -1;
	}
	srtp_ready = true;
	STOA_LOG(STOA_LOG_VERB, "%s initialised", srtp_get_version_string());
	return 0;
}

void stoa_srtp_cleanup(void)
{
	if (!srtp_ready)
		return;
	srtp_shutdown();
	stoa_srtp_nss_close(nss_context);
	nss_context = NULL;
	srtp_ready = false;
}

const char *stoa_srtp_profile_name(stoa_srtp_profile profile)
{
	switch (profile) {
	case STOA_SRTP_AES128_CM_SHA1_80:
		return "SRTP_AES128_CM_SHA1_80";
	case STOA_SRTP_AEAD_AES_128_GCM:
		return "SRTP_AEAD_AES_128_GCM";
	default:
		return "none";
	}
}

int stoa_srtp_profile_lengths(stoa_srtp_profile profile, size_t *key_len, size_t *salt_len)
{
	switch (profile) {
	case STOA_SRTP_AES128_CM_SHA1_80:
		*key_len = SRTP_AES_128_KEY_LEN;
		*salt_len = SRTP_SALT_LEN;
		return 0;
	case STOA_SRTP_AEAD_AES_128_GCM:
		*key_len = SRTP_AES_128_KEY_LEN;
		*salt_len = SRTP_AEAD_SALT_LEN;
		return 0;
	default:
		return -1;
	}
}

/* Fills the RTP and RTCP crypto policies of `profile`. For the _80 profile
 * SRTCP uses the same 80-bit HMAC tag as SRTP (RFC 5764 §4.1.2). */
static int set_crypto_policy(srtp_policy_t *p, stoa_srtp_profile profile)
{
	switch (profile) {
	case STOA_SRTP_AES128_CM_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		return 0;
	case STOA_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		return 0;
	default:
		return -1;
	}
}

/* One direction: `key` is master key then salt; libsrtp copies it. */
static int create_session(srtp_t *out, stoa_srtp_profile profile, const uint8_t *key,
			  srtp_ssrc_type_t direction)
{
	srtp_policy_t p;
	memset(&p, 0, sizeof(p));
	if (set_crypto_policy(&p, profile) < 0)
		return -1;
	p.ssrc.type = direction;
	p.key = (unsigned char *)key;
	p.window_size = STOA_SRTP_REPLAY_WINDOW;
	/* Only the sender side looks at allow_repeat_tx: it lets a packet be
	 * protected again with its original sequence number (retransmission
	 * without RTX). Repeats carry the same payload, so no keystream is
	 * reused on different plaintext. */
	p.allow_repeat_tx = direction == ssrc_any_outbound;
	p.next = NULL;
	srtp_err_status_t st = srtp_create(out, &p);
	if (st != srtp_err_status_ok) {
		STOA_LOG(STOA_LOG_ERR, "srtp_create failed (error %d)", (int)st);
		*out = NULL;
		return -1;
	}
	return 0;
}

stoa_srtp *stoa_srtp_new(const stoa_srtp_keys *keys)
{
	size_t key_len, salt_len;
	if (!srtp_ready) {
		STOA_LOG(STOA_LOG_ERR, "stoa_srtp_new before stoa_srtp_init");
		return NULL;
	}
	if (keys == NULL || stoa_srtp_profile_lengths(keys->profile, &key_len, &salt_len) < 0 ||
	    keys->key_len != key_len || keys->salt_len != salt_len)
		return NULL;
	stoa_srtp *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->profile = keys->profile;
	if (create_session(&s->out, keys->profile, keys->local, ssrc_any_outbound) < 0 ||
	    create_session(&s->in, keys->profile, keys->remote, ssrc_any_inbound) < 0) {
		stoa_srtp_free(s);
		return NULL;
	}
	return s;
}

void stoa_srtp_free(stoa_srtp *s)
{
	if (s == NULL)
		return;
	if (s->out != NULL)
		srtp_dealloc(s->out);
	if (s->in != NULL)
		srtp_dealloc(s->in);
	free(s);
}

/* Maps a libsrtp status of an unprotect call to our codes and counts it. */
static int unprotect_result(stoa_srtp *s, srtp_err_status_t st, const char *what)
{
	switch (st) {
	case srtp_err_status_ok:
		return STOA_SRTP_OK;
	case srtp_err_status_auth_fail:
		s->stats.auth_failures++;
		return STOA_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		s->stats.replays++;
		return STOA_SRTP_ERR_REPLAY;
	default:
		s->stats.unprotect_errors++;
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "%s failed (libsrtp error %d)", what,
				     (int)st);
		return STOA_SRTP_ERR;
	}
}

static int protect_result(stoa_srtp *s, srtp_err_status_t st, const char *what)
{
	if (st == srtp_err_status_ok)
		return STOA_SRTP_OK;
	s->stats.protect_errors++;
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "%s failed (libsrtp error %d)", what, (int)st);
	return st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old
		       ? STOA_SRTP_ERR_REPLAY
		       : STOA_SRTP_ERR;
}

/* libsrtp takes an int length; the extra room keeps the result in range. */
static bool len_ok(size_t len, size_t min)
{
	return len >= min && len <= (size_t)INT_MAX - STOA_SRTP_RTCP_HEADROOM;
}

int stoa_srtp_protect_rtp(stoa_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	if (!len_ok(*len, 12))
		return STOA_SRTP_ERR;
	if (cap < *len || cap - *len < STOA_SRTP_RTP_HEADROOM)
		return STOA_SRTP_ERR_NOSPACE;
	int n = (int)*len;
	int rc = protect_result(s, srtp_protect(s->out, buf, &n), "SRTP protect");
	if (rc == STOA_SRTP_OK)
		*len = (size_t)n;
	return rc;
}

int stoa_srtp_unprotect_rtp(stoa_srtp *s, uint8_t *buf, size_t *len)
{
	if (!len_ok(*len, 12))
		return STOA_SRTP_ERR;
	int n = (int)*len;
	int rc = unprotect_result(s, srtp_unprotect(s->in, buf, &n), "SRTP unprotect");
	if (rc == STOA_SRTP_OK)
		*len = (size_t)n;
	return rc;
}

int stoa_srtp_protect_rtcp(stoa_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	if (!len_ok(*len, 8))
		return STOA_SRTP_ERR;
	if (cap < *len || cap - *len < STOA_SRTP_RTCP_HEADROOM)
		return STOA_SRTP_ERR_NOSPACE;
	int n = (int)*len;
	int rc = protect_result(s, srtp_protect_rtcp(s->out, buf, &n), "SRTCP protect");
	if (rc == STOA_SRTP_OK)
		*len = (size_t)n;
	return rc;
}

int stoa_srtp_unprotect_rtcp(stoa_srtp *s, uint8_t *buf, size_t *len)
{
	if (!len_ok(*len, 8))
		return STOA_SRTP_ERR;
	int n = (int)*len;
	int rc = unprotect_result(s, srtp_unprotect_rtcp(s->in, buf, &n), "SRTCP unprotect");
	if (rc == STOA_SRTP_OK)
		*len = (size_t)n;
	return rc;
}

stoa_srtp_profile stoa_srtp_get_profile(const stoa_srtp *s)
{
	return s->profile;
}

void stoa_srtp_get_stats(const stoa_srtp *s, stoa_srtp_stats *out)
{
	*out = s->stats;
}

void stoa_srtp_keys_wipe(stoa_srtp_keys *keys)
{
	OPENSSL_cleanse(keys, sizeof(*keys));
}
