/*
 * sdp_scan.c: SDP facts for plugins, by line scan (see sdp_scan.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/sdp_scan.h"

static void fmt_free(gpointer p)
{
	stoa_scan_fmt *f = p;
	g_free(f->name);
	g_free(f->fmtp);
	g_free(f);
}

static void mline_free(gpointer p)
{
	stoa_scan_mline *m = p;
	g_free(m->mid);
	g_ptr_array_unref(m->fmts);
	g_free(m);
}

void stoa_sdp_scan_free(GPtrArray *mlines)
{
	if (mlines != NULL)
		g_ptr_array_unref(mlines);
}

static stoa_scan_fmt *fmt_find(const stoa_scan_mline *m, int pt)
{
	for (guint i = 0; i < m->fmts->len; i++) {
		stoa_scan_fmt *f = m->fmts->pdata[i];
		if (f->pt == pt)
			return f;
	}
	return NULL;
}

/* "m=video 9 UDP/TLS/RTP/SAVPF 96 97" */
static stoa_scan_mline *mline_new(const char *line, int mindex)
{
	stoa_scan_mline *m = g_new0(stoa_scan_mline, 1);
	m->mindex = mindex;
	m->sends = true;
	m->fmts = g_ptr_array_new_with_free_func(fmt_free);
	m->type = g_str_has_prefix(line, "m=audio ")	   ? STOA_SCAN_AUDIO
		  : g_str_has_prefix(line, "m=video ")	   ? STOA_SCAN_VIDEO
		  : g_str_has_prefix(line, "m=application ") ? STOA_SCAN_DATA
							     : STOA_SCAN_OTHER;
	char **f = g_strsplit(line + 2, " ", -1);
	guint n = g_strv_length(f);
	if (n >= 2)
		m->rejected = strcmp(f[1], "0") == 0;
	for (guint i = 3; m->type != STOA_SCAN_DATA && i < n; i++) {
		char *end;
		long pt = strtol(f[i], &end, 10);
		if (*f[i] == '\0' || *end != '\0' || pt < 0 || pt > 127 || fmt_find(m, (int)pt) != NULL)
			continue;
		stoa_scan_fmt *fmt = g_new0(stoa_scan_fmt, 1);
		fmt->pt = (int)pt;
		g_ptr_array_add(m->fmts, fmt);
	}
	g_strfreev(f);
	return m;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] and a=fmtp:<pt> <params> */
static void attribute(stoa_scan_mline *m, const char *a)
{
	if (g_str_has_prefix(a, "mid:")) {
		g_free(m->mid);
		m->mid = g_strdup(a + 4);
		return;
	}
	if (g_str_has_prefix(a, "simulcast:") || g_str_has_prefix(a, "ssrc-group:SIM ")) {
		m->simulcast = true;
		return;
	}
	if (strcmp(a, "recvonly") == 0 || strcmp(a, "inactive") == 0 || strcmp(a, "sendrecv") == 0 ||
	    strcmp(a, "sendonly") == 0) {
		m->sends = a[0] == 's';
		return;
	}
	bool rtpmap = g_str_has_prefix(a, "rtpmap:");
	if (!rtpmap && !g_str_has_prefix(a, "fmtp:"))
		return;
	const char *num = a + (rtpmap ? 7 : 5);
	stoa_scan_fmt *f = fmt_find(m, atoi(num));
	const char *sp = strchr(num, ' ');
	if (f == NULL || sp == NULL)
		return;
	if (!rtpmap) {
		if (f->fmtp == NULL)
			f->fmtp = g_strdup(sp + 1);
		return;
	}
	const char *slash = strchr(sp, '/');
	if (slash == NULL || f->name != NULL)
		return;
	f->name = g_ascii_strdown(sp + 1, slash - sp - 1);
	f->clock = atoi(slash + 1);
}

char *stoa_fmtp_get(const char *fmtp, const char *key)
{
	if (fmtp == NULL)
		return NULL;
	char *out = NULL;
	char **parts = g_strsplit(fmtp, ";", -1);
	size_t klen = strlen(key);
	for (char **p = parts; *p != NULL && out == NULL; p++) {
		const char *s = *p;
		while (*s == ' ')
			s++;
		if (g_ascii_strncasecmp(s, key, klen) == 0 && s[klen] == '=')
			out = g_strstrip(g_strdup(s + klen + 1));
	}
	g_strfreev(parts);
	return out;
}

/* RFC 4588: each "rtx" format names the format it repairs with apt=. */
static void link_rtx(stoa_scan_mline *m)
{
	for (guint i = 0; i < m->fmts->len; i++) {
		stoa_scan_fmt *f = m->fmts->pdata[i];
		if (g_strcmp0(f->name, "rtx") != 0)
			continue;
		char *apt = stoa_fmtp_get(f->fmtp, "apt");
		stoa_scan_fmt *base = apt != NULL ? fmt_find(m, atoi(apt)) : NULL;
		if (base != NULL && base->rtx_pt == 0)
			base->rtx_pt = f->pt;
		g_free(apt);
	}
}

GPtrArray *stoa_sdp_scan(const char *sdp)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(mline_free);
	if (sdp == NULL)
		return out;
	char **lines = g_strsplit(sdp, "\n", -1);
	stoa_scan_mline *cur = NULL;
	for (char **l = lines; *l != NULL; l++) {
		g_strchomp(*l);
		if (g_str_has_prefix(*l, "m=")) {
			cur = mline_new(*l, (int)out->len);
			g_ptr_array_add(out, cur);
		} else if (cur != NULL && g_str_has_prefix(*l, "a=")) {
			attribute(cur, *l + 2);
		}
	}
	g_strfreev(lines);
	for (guint i = 0; i < out->len; i++) {
		stoa_scan_mline *m = out->pdata[i];
		if (m->mid == NULL)
			m->mid = g_strdup_printf("%u", i);
		link_rtx(m);
	}
	return out;
}

/* H.264: a packetization-mode=1 format is what every browser decodes;
 * among those, constrained baseline 42e01f is the most widely supported. */
static int h264_score(const stoa_scan_fmt *f)
{
	char *mode = stoa_fmtp_get(f->fmtp, "packetization-mode");
	char *plid = stoa_fmtp_get(f->fmtp, "profile-level-id");
	int score = (g_strcmp0(mode, "1") == 0 ? 2 : 0) +
		    (plid != NULL && g_ascii_strcasecmp(plid, "42e01f") == 0 ? 1 : 0);
	g_free(mode);
	g_free(plid);
	return score;
}

const stoa_scan_fmt *stoa_sdp_scan_choose(const stoa_scan_mline *m)
{
	static const char *const audio[] = { "opus", "pcmu", "pcma", "g722" };
	static const char *const video[] = { "vp8", "vp9", "h264" };
	const char *const *prefs = m->type == STOA_SCAN_AUDIO ? audio : video;
	size_t n = m->type == STOA_SCAN_AUDIO ? G_N_ELEMENTS(audio) : G_N_ELEMENTS(video);
	if (m->rejected || (m->type != STOA_SCAN_AUDIO && m->type != STOA_SCAN_VIDEO))
		return NULL;
	for (size_t k = 0; k < n; k++) {
		const stoa_scan_fmt *best = NULL;
		int best_score = -1;
		for (guint i = 0; i < m->fmts->len; i++) {
			const stoa_scan_fmt *f = m->fmts->pdata[i];
			if (g_strcmp0(f->name, prefs[k]) != 0)
				continue;
			int score = strcmp(prefs[k], "h264") == 0 ? h264_score(f) : 0;
			if (score > best_score) {
				best = f;
				best_score = score;
			}
		}
		if (best != NULL)
			return best;
	}
	return NULL;
}

const stoa_scan_fmt *stoa_sdp_scan_first(const stoa_scan_mline *m)
{
	if (m->rejected || m->fmts->len == 0)
		return NULL;
	const stoa_scan_fmt *f = m->fmts->pdata[0];
	return f->name != NULL ? f : NULL;
}
