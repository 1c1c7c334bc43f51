/*
 * sdp.h: the SDP stoa-load reads and writes (RFC 8866, RFC 8829 for the
 * WebRTC attributes, RFC 8843 BUNDLE, RFC 8842 DTLS setup).
 *
 * load_sdp is the parsed form of a server SDP: ICE credentials, the DTLS
 * fingerprint and role, candidates, and per m-line the mid, kind, the
 * first real payload type (not rtx/red/fec), its SSRC and the RTX SSRC.
 * Every field has a fixed size and every copy is bounded: an SDP with a
 * longer value, more m-lines or more candidates than fit is refused, never
 * truncated silently. A load_sdp is big (about 110 KB): allocate it on the
 * heap for the time of one negotiation, keep only what you need.
 *
 * The builders write a publisher's sendonly offer and a subscriber's
 * recvonly answer; both put all candidates in the SDP (no trickle).
 */
#ifndef LOAD_SDP_H
#define LOAD_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_SDP_MAX_LEN (256 * 1024)
#define LOAD_SDP_MAX_MEDIA 16
#define LOAD_SDP_MAX_FMTS 32
#define LOAD_SDP_MAX_CANDS 32
#define LOAD_SDP_CAND_LEN 256

typedef enum load_setup {
	LOAD_SETUP_NONE = 0,
	LOAD_SETUP_ACTPASS,
	LOAD_SETUP_ACTIVE,
	LOAD_SETUP_PASSIVE,
} load_setup;

typedef enum load_dir {
	LOAD_DIR_SENDRECV = 0,
	LOAD_DIR_SENDONLY,
	LOAD_DIR_RECVONLY,
	LOAD_DIR_INACTIVE,
} load_dir;

typedef struct load_sdp_media {
	char kind[16];		/* audio, video, application, ... */
	char proto[40];
	char fmt_list[200];	/* the m-line's format list as written */
	char mid[32];
	unsigned port;
	load_dir dir;
	int n_fmts;
	int fmts[LOAD_SDP_MAX_FMTS];
	char fmt_codec[LOAD_SDP_MAX_FMTS][32];	/* rtpmap encoding, "" if none */
	char fmt_params[LOAD_SDP_MAX_FMTS][160];	/* fmtp, "" if none */
	int pt;			/* the chosen payload type, -1 if none */
	uint32_t ssrc, rtx_ssrc;
	int mid_ext;		/* extmap id of the sdes:mid extension, 0 if none */
} load_sdp_media;

typedef struct load_sdp {
	char ufrag[256], pwd[256];
	char fp_alg[16];	/* "sha-256" ... */
	char fp[200];		/* "AB:CD:..." */
	load_setup setup;
	bool ice_lite;
	bool end_of_candidates;
	int n_media;
	load_sdp_media media[LOAD_SDP_MAX_MEDIA];
	int n_cands;
	char cands[LOAD_SDP_MAX_CANDS][LOAD_SDP_CAND_LEN];	/* "candidate:..." */
} load_sdp;

/* Parses sdp (NUL-terminated). Returns 0, or -1 with the reason in err. */
int load_sdp_parse(const char *sdp, load_sdp *out, char *err, size_t errlen);

/* A payload type's codec in an m-line ("VP8/90000"), or NULL. */
const char *load_sdp_codec(const load_sdp_media *m, int pt);

/* What our side puts in an SDP. */
typedef struct load_sdp_local {
	const char *ufrag, *pwd;
	const char *fingerprint;	/* "sha-256 AB:CD:..." */
	const char *setup;		/* "actpass", "active", "passive" */
	const char *candidates;		/* "a=candidate:...\r\n" lines */
	uint64_t session_version;
} load_sdp_local;

#define LOAD_VP8_PT 96
#define LOAD_OPUS_PT 111

/* A sendonly VP8 offer (and Opus when audio_ssrc != 0). g_free() it. */
char *load_sdp_publisher_offer(const load_sdp_local *l, uint32_t video_ssrc,
			       uint32_t audio_ssrc);

/* A recvonly answer to a server offer: audio and video m-lines with a
 * usable payload type are accepted, the rest rejected (port 0). Returns
 * NULL (with err) when nothing could be accepted. g_free() it. */
char *load_sdp_viewer_answer(const load_sdp_local *l, const load_sdp *offer, char *err,
			     size_t errlen);

/* True if an accepted (by load_sdp_viewer_answer) m-line. */
bool load_sdp_media_accepted(const load_sdp_media *m);

#endif
