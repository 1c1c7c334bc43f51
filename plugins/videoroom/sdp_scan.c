/*
 * sdp_scan.c: the few facts the VideoRoom reads from SDP text — per m-line
 * its kind, mid, whether it is rejected, the first codec with its payload
 * type and fmtp, whether it is simulcast, whether it sends.
 *
 * The core negotiated and validated both descriptions already (plugins do
 * not link the core's parser), so this is a line scan that takes what it
 * needs and ignores the rest; malformed lines just leave fields unset.
 */
#include <stdlib.h>
#include <string.h>

#include "videoroom.h"

static void mline_free(gpointer p)
{
	vr_sdp_mline *m = p;
	g_free(m->mid);
	g_free(m->codec);
	g_free(m->fmtp);
	g_free(m);
}

void vr_sdp_mlines_free(GPtrArray *a)
{
	if (a != NULL)
		g_ptr_array_unref(a);
}

/* "m=video 9 UDP/TLS/RTP/SAVPF 96 97" */
static vr_sdp_mline *mline_new(const char *line, int index)
{
	vr_sdp_mline *m = g_new0(vr_sdp_mline, 1);
	m->mindex = index;
	m->pt = -1;
	m->sends = true;
	m->type = g_str_has_prefix(line, "m=audio") ? VR_AUDIO
		  : g_str_has_prefix(line, "m=video") ? VR_VIDEO
						      : VR_DATA;
	char **f = g_strsplit(line + 2, " ", -1);
	if (g_strv_length(f) >= 4) {
		m->rejected = strcmp(f[1], "0") == 0;
		if (m->type != VR_DATA)
			m->pt = atoi(f[3]);
	}
	g_strfreev(f);
	return m;
}

static void attribute(vr_sdp_mline *m, const char *a)
{
	if (g_str_has_prefix(a, "mid:")) {
		g_free(m->mid);
		m->mid = g_strdup(a + 4);
	} else if (g_str_has_prefix(a, "rtpmap:") && m->codec == NULL && atoi(a + 7) == m->pt) {
		const char *sp = strchr(a, ' ');
		const char *slash = sp != NULL ? strchr(sp, '/') : NULL;
		if (sp != NULL && slash != NULL)
			m->codec = g_ascii_strdown(sp + 1, slash - sp - 1);
	} else if (g_str_has_prefix(a, "fmtp:") && m->fmtp == NULL && atoi(a + 5) == m->pt) {
		const char *sp = strchr(a, ' ');
		if (sp != NULL)
			m->fmtp = g_strdup(sp + 1);
	} else if (g_str_has_prefix(a, "simulcast:") || g_str_has_prefix(a, "ssrc-group:SIM ")) {
		m->simulcast = true;
	} else if (strcmp(a, "recvonly") == 0 || strcmp(a, "inactive") == 0) {
		m->sends = false;
	} else if (strcmp(a, "sendrecv") == 0 || strcmp(a, "sendonly") == 0) {
		m->sends = true;
	}
}

GPtrArray *vr_sdp_scan(const char *sdp)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(mline_free);
	if (sdp == NULL)
		return out;
	char **lines = g_strsplit(sdp, "\n", -1);
	vr_sdp_mline *cur = NULL;
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
		vr_sdp_mline *m = out->pdata[i];
		if (m->mid == NULL)
			m->mid = g_strdup_printf("%u", i);
	}
	return out;
}
