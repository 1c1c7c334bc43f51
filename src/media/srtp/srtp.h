/*
 * srtp.h: SRTP and SRTCP protection for one peer connection, on libsrtp2.
 *
 * A stoa_srtp is the pair of libsrtp sessions a peer connection needs once
 * DTLS-SRTP has finished: an outbound one keyed with our write key (any SSRC
 * we send, ssrc_any_outbound) and an inbound one keyed with the peer's write
 * key (any SSRC it sends, ssrc_any_inbound). Two profiles are supported, the
 * two that browsers offer and that DTLS can negotiate (RFC 5764 §4.1.2):
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM (RFC 7714), which
 * is cheaper per packet and preferred.
 *
 * Replay protection (RFC 3711 §3.3.2) is on, with a window of
 * STOA_SRTP_REPLAY_WINDOW packets so that late retransmissions that reuse
 * their original sequence number are still accepted; duplicates are not.
 * Outbound sessions allow a packet to be protected again with the same
 * sequence number, which plain (non-RTX) retransmission needs.
 *
 * Threads: stoa_srtp_init() and stoa_srtp_cleanup() run on the main thread,
 * before any media loop starts and after all have stopped. A stoa_srtp has
 * one owner, the media loop thread that owns the peer connection; it is not
 * locked and must only be used from that thread.
 */
#ifndef STOA_MEDIA_SRTP_H
#define STOA_MEDIA_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* SRTP protection profiles, as negotiated by the DTLS use_srtp extension. */
typedef enum stoa_srtp_profile {
	STOA_SRTP_PROFILE_NONE = 0,
	STOA_SRTP_AES128_CM_SHA1_80, /* RFC 5764 SRTP_AES128_CM_HMAC_SHA1_80 */
	STOA_SRTP_AEAD_AES_128_GCM,  /* RFC 7714 §14.2 */
} stoa_srtp_profile;

/* Longest master key plus master salt of the supported profiles (16 + 14). */
#define STOA_SRTP_MAX_MASTER_LEN 30

/* Packets the inbound replay window spans (libsrtp accepts 64..32767). */
#define STOA_SRTP_REPLAY_WINDOW 1024

/* The keys of one session: `local` protects what we send, `remote` unprotects
 * what we receive. Each holds the master key followed by the master salt, the
 * layout libsrtp expects. Caller's memory; wipe with stoa_srtp_keys_wipe(). */
typedef struct stoa_srtp_keys {
	stoa_srtp_profile profile;
	size_t key_len;	 /* master key octets: 16 for both profiles */
	size_t salt_len; /* master salt octets: 14 (AES_CM) or 12 (GCM) */
	uint8_t local[STOA_SRTP_MAX_MASTER_LEN];
	uint8_t remote[STOA_SRTP_MAX_MASTER_LEN];
} stoa_srtp_keys;

/* Returns of the protect/unprotect calls. */
enum {
	STOA_SRTP_OK = 0,
	STOA_SRTP_ERR = -1,	    /* malformed packet or other libsrtp failure */
	STOA_SRTP_ERR_NOSPACE = -2, /* the buffer cannot hold the SRTP trailer */
	STOA_SRTP_ERR_AUTH = -3,    /* authentication tag did not verify */
	STOA_SRTP_ERR_REPLAY = -4,  /* duplicate, or older than the replay window */
};

/* Room a buffer needs past the packet for protect_rtp / protect_rtcp. The
 * figures are libsrtp's documented worst case, not the tag of the profile. */
#define STOA_SRTP_RTP_HEADROOM 144  /* SRTP_MAX_TRAILER_LEN */
#define STOA_SRTP_RTCP_HEADROOM 148 /* SRTP_MAX_TRAILER_LEN + SRTCP index */

/* Counters for stats; all failures are counted, none are logged per packet. */
typedef struct stoa_srtp_stats {
	uint64_t auth_failures;	    /* unprotect_*: tag did not verify */
	uint64_t replays;	    /* unprotect_*: duplicate or too old */
	uint64_t unprotect_errors;  /* unprotect_*: anything else */
	uint64_t protect_errors;    /* protect_*: any failure */
} stoa_srtp_stats;

typedef struct stoa_srtp stoa_srtp;

/* Initialises libsrtp once per process (main thread). Returns 0 or -1. */
int stoa_srtp_init(void);
/* Releases libsrtp at exit, after every stoa_srtp has been freed. */
void stoa_srtp_cleanup(void);

/* "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM" (OpenSSL's and the Admin
 * API's spelling), or "none". */
const char *stoa_srtp_profile_name(stoa_srtp_profile profile);
/* Master key and salt lengths of `profile`. Returns 0, or -1 if unsupported. */
int stoa_srtp_profile_lengths(stoa_srtp_profile profile, size_t *key_len, size_t *salt_len);

/* Creates the session pair. libsrtp copies the keys: the caller may (and
 * should) wipe `keys` afterwards. Returns NULL if the keys are inconsistent
 * with the profile or libsrtp is not initialised. */
stoa_srtp *stoa_srtp_new(const stoa_srtp_keys *keys);
void stoa_srtp_free(stoa_srtp *s);

/*
 * In place. `*len` is the packet length on entry and the result length on
 * return; `cap` is the size of `buf`, which must be at least `*len` plus the
 * headroom above. Return STOA_SRTP_OK or one of the negative codes; on
 * failure `buf` and `*len` must be treated as garbage.
 */
int stoa_srtp_protect_rtp(stoa_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int stoa_srtp_unprotect_rtp(stoa_srtp *s, uint8_t *buf, size_t *len);
int stoa_srtp_protect_rtcp(stoa_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int stoa_srtp_unprotect_rtcp(stoa_srtp *s, uint8_t *buf, size_t *len);

stoa_srtp_profile stoa_srtp_get_profile(const stoa_srtp *s);
void stoa_srtp_get_stats(const stoa_srtp *s, stoa_srtp_stats *out);

/* Overwrites the key material in `keys` in a way the compiler keeps. */
void stoa_srtp_keys_wipe(stoa_srtp_keys *keys);

#endif
