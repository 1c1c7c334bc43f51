/*
 * sdp_scan.h: the few facts a plugin reads from SDP text — per m-line its
 * kind, mid, whether it is rejected, whether it sends, whether it is
 * simulcast (a=simulcast or a=ssrc-group:SIM), and its formats (payload
 * type, encoding name, clock rate, fmtp, and which RTX format repairs it,
 * from RFC 4588's a=fmtp:<rtx> apt=<pt>).
 *
 * The core has parsed and validated every SDP before a plugin sees it, and
 * plugins do not link the core's parser, so this is a line scan that takes
 * what it needs; a malformed line just leaves a field unset. Pure functions
 * on strings: any thread. Linked into plugins (libstoa_plugin_common).
 */
#ifndef STOA_PLUGIN_COMMON_SDP_SCAN_H
#define STOA_PLUGIN_COMMON_SDP_SCAN_H

#include <glib.h>
#include <stdbool.h>

typedef enum {
	STOA_SCAN_AUDIO = 0,
	STOA_SCAN_VIDEO = 1,
	STOA_SCAN_DATA = 2,	/* m=application */
	STOA_SCAN_OTHER = 3,
} stoa_scan_media;

typedef struct stoa_scan_fmt {
	int pt;
	char *name;		/* rtpmap encoding name, lower case */
	int clock;
	char *fmtp;		/* or NULL */
	int rtx_pt;		/* the RTX format repairing this one, 0 if none */
} stoa_scan_fmt;

typedef struct stoa_scan_mline {
	stoa_scan_media type;
	int mindex;
	char *mid;		/* "<mindex>" when the SDP has none */
	bool rejected;		/* port 0 */
	bool sends;		/* sendrecv/sendonly (the default) */
	bool simulcast;		/* a=simulcast or a=ssrc-group:SIM */
	GPtrArray *fmts;	/* stoa_scan_fmt *, in m= line order */
} stoa_scan_mline;

/* The m-lines of an SDP (an empty array for NULL); free with
 * stoa_sdp_scan_free. */
GPtrArray *stoa_sdp_scan(const char *sdp);
void stoa_sdp_scan_free(GPtrArray *mlines);

/* The format an answer's m-line settled on (its first one), or NULL. */
const stoa_scan_fmt *stoa_sdp_scan_first(const stoa_scan_mline *m);

/* Our preferred codec among those an offer's m-line lists (audio: opus,
 * pcmu, pcma, g722; video: vp8, vp9, h264, preferring packetization-mode 1
 * and constrained baseline). NULL when none is acceptable. */
const stoa_scan_fmt *stoa_sdp_scan_choose(const stoa_scan_mline *m);

/* The value of `key` in an fmtp ("a=1;b=2"), or NULL. g_free. */
char *stoa_fmtp_get(const char *fmtp, const char *key);

#endif
