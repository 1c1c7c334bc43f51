/*
 * sdp_codecs.c: the codecs the server negotiates and the rules that decide
 * whether an offered payload type is one of them.
 *
 * Names are matched without regard to case (RFC 8866 §6.6 says encoding
 * names are case-insensitive). Beyond the name and clock rate:
 *  - H.264 (RFC 6184 §8.1): packetization-mode must be 1 (the server forwards
 *    FU-A/STAP-A; mode 0 is single NAL only), and the profile of
 *    profile-level-id must equal the wanted one when the server asks for one.
 *    The level may differ: the answer lowers the offered level to ours unless
 *    the offer says level-asymmetry-allowed=1 (§8.2.2).
 *  - VP9 (RFC 9628 §6): profile-id (default 0) must equal the wanted one.
 *  - Opus (RFC 7587 §7): the answer keeps the offered minptime, stereo and
 *    sprop-stereo. useinbandfec and usedtx are receiver preferences (§6.1):
 *    the caller either sets them (a VideoRoom's opus_fec/opus_dtx) or lets
 *    the answer echo the offer's, so FEC and DTX stay as the client asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/sdp/sdp.h"

static const stoa_sdp_codec_info codecs[] = {
	{ "opus", "opus", STOA_SDP_AUDIO, 48000, 2, -1, "minptime=10;useinbandfec=1" },
	{ "pcmu", "PCMU", STOA_SDP_AUDIO, 8000, 0, 0, NULL },
	{ "pcma", "PCMA", STOA_SDP_AUDIO, 8000, 0, 8, NULL },
	/* RFC 3551 §4.5.2: G.722 samples at 16 kHz but its RTP clock is 8000. */
	{ "g722", "G722", STOA_SDP_AUDIO, 8000, 0, 9, NULL },
	{ "vp8", "VP8", STOA_SDP_VIDEO, 90000, 0, -1, NULL },
	{ "vp9", "VP9", STOA_SDP_VIDEO, 90000, 0, -1, "profile-id=0" },
	{ "h264", "H264", STOA_SDP_VIDEO, 90000, 0, -1,
	  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
	{ "av1", "AV1", STOA_SDP_VIDEO, 90000, 0, -1, NULL },
};

/* Static payload types that browsers offer without an rtpmap (RFC 3551 §6). */
static const stoa_sdp_codec_info statics[] = {
	{ "pcmu", "PCMU", STOA_SDP_AUDIO, 8000, 0, 0, NULL },
	{ "gsm", "GSM", STOA_SDP_AUDIO, 8000, 0, 3, NULL },
	{ "pcma", "PCMA", STOA_SDP_AUDIO, 8000, 0, 8, NULL },
	{ "g722", "G722", STOA_SDP_AUDIO, 8000, 0, 9, NULL },
	{ "cn", "CN", STOA_SDP_AUDIO, 8000, 0, 13, NULL },
	{ "g729", "G729", STOA_SDP_AUDIO, 8000, 0, 18, NULL },
};

const stoa_sdp_codec_info *stoa_sdp_codec_info_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(codecs); i++)
		if (g_ascii_strcasecmp(name, codecs[i].name) == 0)
			return &codecs[i];
	return NULL;
}

const stoa_sdp_codec_info *stoa_sdp_codec_info_static(int pt)
{
	for (size_t i = 0; i < G_N_ELEMENTS(statics); i++)
		if (statics[i].static_pt == pt)
			return &statics[i];
	return NULL;
}

/* ---------------------------------------------------------------- fmtp */

/* Finds `key` in "k=v;k2=v2" and returns the start and length of its value. */
static const char *fmtp_find(const char *fmtp, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = fmtp;
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n > klen && p[klen] == '=' && g_ascii_strncasecmp(p, key, klen) == 0) {
			size_t v = n - klen - 1;
			while (v > 0 && p[klen + v] == ' ')
				v--;
			*vlen = v;
			return p + klen + 1;
		}
		p = end;
	}
	return NULL;
}

char *stoa_sdp_fmtp_get(const char *fmtp, const char *key)
{
	size_t n;
	const char *v = fmtp_find(fmtp, key, &n);
	return v != NULL ? g_strndup(v, n) : NULL;
}

long stoa_sdp_fmtp_int(const char *fmtp, const char *key, long dflt)
{
	char *v = stoa_sdp_fmtp_get(fmtp, key);
	long r = dflt;
	if (v != NULL && v[0] >= '0' && v[0] <= '9' && strlen(v) <= 9) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end == '\0')
			r = n;
	}
	g_free(v);
	return r;
}

/* Appends "key=value" to `out` when `fmtp` has `key`. */
static void fmtp_copy(GString *out, const char *fmtp, const char *key)
{
	char *v = stoa_sdp_fmtp_get(fmtp, key);
	if (v == NULL)
		return;
	g_string_append_printf(out, "%s%s=%s", out->len > 0 ? ";" : "", key, v);
	g_free(v);
}

/* An Opus receive preference: "key=1" when `want` > 0, nothing when < 0,
 * the offer's value when 0. */
static void opus_pref(GString *out, const char *fmtp, const char *key, int want)
{
	if (want == 0)
		fmtp_copy(out, fmtp, key);
	else if (want > 0)
		g_string_append_printf(out, "%s%s=1", out->len > 0 ? ";" : "", key);
}

/* ---------------------------------------------------------------- H.264 */

/* RFC 6184 Table 5: profile_idc, and the profile-iop bits that must be set
 * (`mask` selects the bits that count, `value` what they must be). Constrained
 * High (profile-iop 0x0c) is from H.264 Annex A (constraint_set4/5). */
static const struct {
	uint8_t idc, mask, value;
	stoa_sdp_h264_profile profile;
} h264_profiles[] = {
	{ 0x42, 0x4f, 0x40, STOA_SDP_H264_CONSTRAINED_BASELINE },
	{ 0x4d, 0x8f, 0x80, STOA_SDP_H264_CONSTRAINED_BASELINE },
	{ 0x58, 0xcf, 0xc0, STOA_SDP_H264_CONSTRAINED_BASELINE },
	{ 0x42, 0x4f, 0x00, STOA_SDP_H264_BASELINE },
	{ 0x58, 0xcf, 0x80, STOA_SDP_H264_BASELINE },
	{ 0x4d, 0xaf, 0x00, STOA_SDP_H264_MAIN },
	{ 0x58, 0xcf, 0x00, STOA_SDP_H264_EXTENDED },
	{ 0x64, 0xff, 0x0c, STOA_SDP_H264_CONSTRAINED_HIGH },
	{ 0x64, 0xff, 0x00, STOA_SDP_H264_HIGH },
	{ 0x6e, 0xef, 0x00, STOA_SDP_H264_HIGH10 },
	{ 0x7a, 0xef, 0x00, STOA_SDP_H264_HIGH422 },
	{ 0xf4, 0xef, 0x00, STOA_SDP_H264_HIGH444 },
};

int stoa_sdp_h264_plid_parse(const char *plid, stoa_sdp_h264_profile *profile, int *level)
{
	if (plid == NULL || strlen(plid) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		if (!g_ascii_isxdigit(plid[i]))
			return -1;
	unsigned long v = strtoul(plid, NULL, 16);
	uint8_t idc = (uint8_t)(v >> 16), iop = (uint8_t)(v >> 8), lvl = (uint8_t)v;
	for (size_t i = 0; i < G_N_ELEMENTS(h264_profiles); i++) {
		if (h264_profiles[i].idc != idc || (iop & h264_profiles[i].mask) != h264_profiles[i].value)
			continue;
		*profile = h264_profiles[i].profile;
		/* Level 1b: level_idc 11 with constraint_set3 in the Baseline,
		 * Main and Extended families (§8.1), or level_idc 9 elsewhere. */
		bool b = (lvl == 11 && (iop & 0x10) && idc != 0x64 && idc != 0x6e && idc != 0x7a
			  && idc != 0xf4) || lvl == 9;
		*level = b ? 105 : lvl * 10;
		return 0;
	}
	return -1;
}

static bool h264_matches(const stoa_sdp_codec *c, const stoa_sdp_codec_constraints *k)
{
	if (stoa_sdp_fmtp_int(c->fmtp, "packetization-mode", 0) != 1)
		return false;
	if (k == NULL || k->h264_plid == NULL)
		return true;
	stoa_sdp_h264_profile want, have;
	int wl, hl;
	char *plid = stoa_sdp_fmtp_get(c->fmtp, "profile-level-id");
	/* RFC 6184 §8.1: an absent profile-level-id means 420010 (Baseline 1). */
	int rc = stoa_sdp_h264_plid_parse(plid != NULL ? plid : "420010", &have, &hl);
	g_free(plid);
	if (rc < 0 || stoa_sdp_h264_plid_parse(k->h264_plid, &want, &wl) < 0)
		return false;
	return want == have;
}

/* The answer's profile-level-id: the offered one, with its level lowered to
 * the server's when levels must be symmetric. NULL: keep the offered text. */
static char *h264_answer_plid(const stoa_sdp_codec *c, const stoa_sdp_codec_constraints *k)
{
	if (k == NULL || k->h264_plid == NULL
	    || stoa_sdp_fmtp_int(c->fmtp, "level-asymmetry-allowed", 0) == 1)
		return NULL;
	char *plid = stoa_sdp_fmtp_get(c->fmtp, "profile-level-id");
	stoa_sdp_h264_profile pw, ph;
	int wl, hl;
	char *out = NULL;
	if (plid != NULL && stoa_sdp_h264_plid_parse(plid, &ph, &hl) == 0
	    && stoa_sdp_h264_plid_parse(k->h264_plid, &pw, &wl) == 0 && wl < hl)
		out = g_strdup_printf("%.4s%.2s", plid, k->h264_plid + 4);
	g_free(plid);
	return out;
}

static char *h264_answer_fmtp(const stoa_sdp_codec *c, const stoa_sdp_codec_constraints *k)
{
	char *plid = h264_answer_plid(c, k);
	if (plid == NULL)
		return g_strdup(c->fmtp);
	GString *out = g_string_new(NULL);
	fmtp_copy(out, c->fmtp, "level-asymmetry-allowed");
	fmtp_copy(out, c->fmtp, "packetization-mode");
	g_string_append_printf(out, "%sprofile-level-id=%s", out->len > 0 ? ";" : "", plid);
	g_free(plid);
	return g_string_free(out, FALSE);
}

/* ---------------------------------------------------------------- matching */

bool stoa_sdp_codec_matches(const stoa_sdp_codec *c, const char *name,
			    const stoa_sdp_codec_constraints *k)
{
	const stoa_sdp_codec_info *info = stoa_sdp_codec_info_find(name);
	if (info == NULL || c->name == NULL || g_ascii_strcasecmp(c->name, info->rtp_name) != 0
	    || c->clock != info->clock)
		return false;
	if (strcmp(info->name, "opus") == 0)
		return c->channels == 2; /* RFC 7587 §7: always opus/48000/2 */
	if (strcmp(info->name, "h264") == 0)
		return h264_matches(c, k);
	if (strcmp(info->name, "vp9") == 0 && k != NULL && k->vp9_profile >= 0)
		return stoa_sdp_fmtp_int(c->fmtp, "profile-id", 0) == k->vp9_profile;
	return true;
}

char *stoa_sdp_codec_answer_fmtp(const stoa_sdp_codec *c, const stoa_sdp_codec_constraints *k)
{
	if (c->name == NULL)
		return NULL;
	if (g_ascii_strcasecmp(c->name, "opus") == 0) {
		GString *out = g_string_new(NULL);
		fmtp_copy(out, c->fmtp, "minptime");
		opus_pref(out, c->fmtp, "useinbandfec", k != NULL ? k->opus_fec : 0);
		opus_pref(out, c->fmtp, "usedtx", k != NULL ? k->opus_dtx : 0);
		fmtp_copy(out, c->fmtp, "stereo");
		fmtp_copy(out, c->fmtp, "sprop-stereo");
		if (out->len == 0) {
			g_string_free(out, TRUE);
			return NULL;
		}
		return g_string_free(out, FALSE);
	}
	if (g_ascii_strcasecmp(c->name, "H264") == 0)
		return h264_answer_fmtp(c, k);
	/* VP8/VP9/AV1/rtx: the offered parameters describe the stream the
	 * client sends or can take (profile-id, max-fs, apt); echo them. */
	return g_strdup(c->fmtp);
}

bool stoa_sdp_rtcp_fb_supported(const char *fb)
{
	static const char *const supported[] = {
		"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(supported); i++)
		if (strcmp(fb, supported[i]) == 0)
			return true;
	return false;
}
