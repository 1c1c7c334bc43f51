/*
 * sdp.c: SDP parsing and the two SDPs stoa-load writes; see sdp.h.
 *
 * The parser reads line by line from a bounded copy; unknown lines are
 * skipped, lines it needs are checked and copied with their length
 * checked. For BUNDLE the first ICE credentials, fingerprint and setup
 * found (session level or any m-line) hold for all m-lines, and the
 * candidates of all m-lines are pooled (Janus puts them in the first).
 */
#include "sdp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#define MAX_LINE 4096

typedef struct parser {
	load_sdp *out;
	load_sdp_media *m;	/* current m-line, NULL at session level */
	char *err;
	size_t errlen;
	int line_no;
} parser;

static int fail(parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "SDP line %d: %s", p->line_no, what);
	return -1;
}

static int copy_str(parser *p, char *dst, size_t cap, const char *src, const char *what)
{
	size_t n = strlen(src);
	if (n == 0 || n >= cap) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%s is empty or too long", what);
		return fail(p, msg);
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/* The first value wins: BUNDLE means one transport for all m-lines. */
static int copy_once(parser *p, char *dst, size_t cap, const char *src, const char *what)
{
	return dst[0] != '\0' ? 0 : copy_str(p, dst, cap, src, what);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out, const char **end)
{
	char *e;
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long v = strtoul(s, &e, 10);
	if (v > max)
		return -1;
	*out = v;
	if (end != NULL)
		*end = e;
	return 0;
}

static int fmt_index(const load_sdp_media *m, int pt)
{
	for (int i = 0; i < m->n_fmts; i++)
		if (m->fmts[i] == pt)
			return i;
	return -1;
}

static int parse_fmts(parser *p, load_sdp_media *m, const char *s)
{
	if (copy_str(p, m->fmt_list, sizeof(m->fmt_list), s, "format list") < 0)
		return -1;
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		unsigned long pt;
		const char *e;
		if (*s == '\0')
			break;
		if (parse_uint(s, 127, &pt, &e) < 0 || (*e != ' ' && *e != '\0')) {
			while (*s != ' ' && *s != '\0')	/* "webrtc-datachannel" etc. */
				s++;
			continue;
		}
		if (m->n_fmts >= LOAD_SDP_MAX_FMTS)
			return fail(p, "too many payload types");
		m->fmts[m->n_fmts++] = (int)pt;
		s = e;
	}
	return 0;
}

static int parse_m_line(parser *p, const char *v)
{
	load_sdp *o = p->out;
	if (o->n_media >= LOAD_SDP_MAX_MEDIA)
		return fail(p, "too many m-lines");
	load_sdp_media *m = &o->media[o->n_media++];
	memset(m, 0, sizeof(*m));
	m->pt = -1;
	p->m = m;
	char kind[16], port[16], proto[40];
	int used = 0;
	if (sscanf(v, "%15s %15s %39s %n", kind, port, proto, &used) != 3)
		return fail(p, "malformed m-line");
	unsigned long port_v;
	if (parse_uint(port, 65535, &port_v, NULL) < 0)
		return fail(p, "bad port in m-line");
	memcpy(m->kind, kind, sizeof(kind));
	memcpy(m->proto, proto, sizeof(proto));
	m->port = (unsigned)port_v;
	return parse_fmts(p, m, v + used);
}

/* "a=rtpmap:96 VP8/90000" and "a=fmtp:96 ..." for a payload type of the
 * current m-line. */
static int parse_pt_attr(parser *p, const char *v, bool rtpmap)
{
	unsigned long pt;
	const char *e;
	if (p->m == NULL)
		return 0;
	if (parse_uint(v, 127, &pt, &e) < 0 || *e != ' ')
		return fail(p, rtpmap ? "malformed rtpmap" : "malformed fmtp");
	int i = fmt_index(p->m, (int)pt);
	if (i < 0)
		return 0;
	if (rtpmap)
		return copy_str(p, p->m->fmt_codec[i], sizeof(p->m->fmt_codec[i]), e + 1,
				"rtpmap");
	return copy_str(p, p->m->fmt_params[i], sizeof(p->m->fmt_params[i]), e + 1, "fmtp");
}

static int parse_ssrc(parser *p, const char *v)
{
	unsigned long ssrc;
	if (p->m == NULL || parse_uint(v, 0xffffffffUL, &ssrc, NULL) < 0)
		return p->m == NULL ? 0 : fail(p, "malformed ssrc");
	if (p->m->ssrc == 0)
		p->m->ssrc = (uint32_t)ssrc;
	return 0;
}

static int parse_ssrc_group(parser *p, const char *v)
{
	unsigned long a, b;
	const char *e;
	if (p->m == NULL || strncmp(v, "FID ", 4) != 0)
		return 0;
	if (parse_uint(v + 4, 0xffffffffUL, &a, &e) < 0 || *e != ' ' ||
	    parse_uint(e + 1, 0xffffffffUL, &b, NULL) < 0)
		return fail(p, "malformed ssrc-group");
	p->m->ssrc = (uint32_t)a;
	p->m->rtx_ssrc = (uint32_t)b;
	return 0;
}

static int parse_extmap(parser *p, const char *v)
{
	unsigned long id;
	const char *e;
	if (p->m == NULL)
		return 0;
	if (parse_uint(v, 255, &id, &e) < 0)
		return fail(p, "malformed extmap");
	const char *uri = strchr(e, ' ');
	if (uri != NULL && strcmp(uri + 1, "urn:ietf:params:rtp-hdrext:sdes:mid") == 0 &&
	    id >= 1 && id <= 14)
		p->m->mid_ext = (int)id;
	return 0;
}

static int parse_candidate(parser *p, const char *line)
{
	load_sdp *o = p->out;
	for (int i = 0; i < o->n_cands; i++)
		if (strcmp(o->cands[i], line) == 0)
			return 0;
	if (o->n_cands >= LOAD_SDP_MAX_CANDS)
		return fail(p, "too many candidates");
	return copy_str(p, o->cands[o->n_cands++], LOAD_SDP_CAND_LEN, line, "candidate");
}

static int parse_fingerprint(parser *p, const char *v)
{
	load_sdp *o = p->out;
	if (o->fp[0] != '\0')
		return 0;
	const char *sp = strchr(v, ' ');
	if (sp == NULL || sp == v || (size_t)(sp - v) >= sizeof(o->fp_alg))
		return fail(p, "malformed fingerprint");
	for (const char *c = sp + 1; *c != '\0'; c++)
		if (!isxdigit((unsigned char)*c) && *c != ':')
			return fail(p, "malformed fingerprint");
	memcpy(o->fp_alg, v, (size_t)(sp - v));
	o->fp_alg[sp - v] = '\0';
	return copy_str(p, o->fp, sizeof(o->fp), sp + 1, "fingerprint");
}

static int parse_setup(parser *p, const char *v)
{
	load_setup s = strcmp(v, "actpass") == 0   ? LOAD_SETUP_ACTPASS
		       : strcmp(v, "active") == 0  ? LOAD_SETUP_ACTIVE
		       : strcmp(v, "passive") == 0 ? LOAD_SETUP_PASSIVE
						   : LOAD_SETUP_NONE;
	if (s == LOAD_SETUP_NONE)
		return fail(p, "unknown a=setup");
	if (p->out->setup == LOAD_SETUP_NONE)
		p->out->setup = s;
	return 0;
}

static bool set_dir(parser *p, const char *a)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(a, names[i]) == 0) {
			if (p->m != NULL)
				p->m->dir = (load_dir)i;
			return true;
		}
	}
	return false;
}

static int parse_attr(parser *p, const char *a)
{
	load_sdp *o = p->out;
	if (strncmp(a, "candidate:", 10) == 0)
		return parse_candidate(p, a);
	if (strncmp(a, "ice-ufrag:", 10) == 0)
		return copy_once(p, o->ufrag, sizeof(o->ufrag), a + 10, "ice-ufrag");
	if (strncmp(a, "ice-pwd:", 8) == 0)
		return copy_once(p, o->pwd, sizeof(o->pwd), a + 8, "ice-pwd");
	if (strncmp(a, "fingerprint:", 12) == 0)
		return parse_fingerprint(p, a + 12);
	if (strncmp(a, "setup:", 6) == 0)
		return parse_setup(p, a + 6);
	if (strncmp(a, "mid:", 4) == 0)
		return p->m == NULL ? 0 : copy_str(p, p->m->mid, sizeof(p->m->mid), a + 4, "mid");
	if (strncmp(a, "rtpmap:", 7) == 0)
		return parse_pt_attr(p, a + 7, true);
	if (strncmp(a, "fmtp:", 5) == 0)
		return parse_pt_attr(p, a + 5, false);
	if (strncmp(a, "ssrc:", 5) == 0)
		return parse_ssrc(p, a + 5);
	if (strncmp(a, "ssrc-group:", 11) == 0)
		return parse_ssrc_group(p, a + 11);
	if (strncmp(a, "extmap:", 7) == 0)
		return parse_extmap(p, a + 7);
	if (strcmp(a, "end-of-candidates") == 0)
		o->end_of_candidates = true;
	else if (strcmp(a, "ice-lite") == 0)
		o->ice_lite = true;
	else
		set_dir(p, a);
	return 0;
}

static int parse_line(parser *p, const char *line)
{
	if (p->line_no == 1)
		return strcmp(line, "v=0") == 0 ? 0 : fail(p, "does not start with v=0");
	if (line[0] == '\0')
		return 0;
	if (line[1] != '=')
		return fail(p, "not a type=value line");
	if (line[0] == 'm')
		return parse_m_line(p, line + 2);
	if (line[0] == 'a')
		return parse_attr(p, line + 2);
	return 0;
}

static bool is_helper_codec(const char *codec)
{
	static const char *const helpers[] = {"rtx/", "red/", "ulpfec/", "flexfec", NULL};
	for (int i = 0; helpers[i] != NULL; i++)
		if (g_ascii_strncasecmp(codec, helpers[i], strlen(helpers[i])) == 0)
			return true;
	return false;
}

/* The first payload type of each m-line that carries media itself. */
static void choose_pts(load_sdp *o)
{
	for (int i = 0; i < o->n_media; i++) {
		load_sdp_media *m = &o->media[i];
		for (int k = 0; k < m->n_fmts && m->pt < 0; k++) {
			const char *c = m->fmt_codec[k];
			if ((c[0] != '\0' && !is_helper_codec(c)) || (c[0] == '\0' && m->fmts[k] < 96))
				m->pt = m->fmts[k];
		}
	}
}

static int check_complete(parser *p)
{
	load_sdp *o = p->out;
	p->line_no = 0;
	if (o->n_media == 0)
		return fail(p, "no m-line");
	if (o->ufrag[0] == '\0' || o->pwd[0] == '\0')
		return fail(p, "no ICE credentials");
	if (o->fp[0] == '\0')
		return fail(p, "no DTLS fingerprint");
	choose_pts(o);
	return 0;
}

int load_sdp_parse(const char *sdp, load_sdp *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	parser p = {.out = out, .err = err, .errlen = errlen};
	if (strlen(sdp) > LOAD_SDP_MAX_LEN)
		return fail(&p, "SDP too long");
	char line[MAX_LINE];
	const char *s = sdp;
	while (*s != '\0') {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		p.line_no++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= sizeof(line))
			return fail(&p, "line too long");
		memcpy(line, s, n);
		line[n] = '\0';
		if (parse_line(&p, line) < 0)
			return -1;
		s += (nl != NULL ? (size_t)(nl - s) + 1 : strlen(s));
	}
	if (p.line_no == 0)
		return fail(&p, "empty");
	return check_complete(&p);
}

const char *load_sdp_codec(const load_sdp_media *m, int pt)
{
	int i = fmt_index(m, pt);
	return i >= 0 && m->fmt_codec[i][0] != '\0' ? m->fmt_codec[i] : NULL;
}

/* ------------------------------------------------------------ writing */

static void write_session(GString *s, const load_sdp_local *l, const char *bundle)
{
	g_string_append_printf(s,
			       "v=0\r\n"
			       "o=- %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " IN IP4 127.0.0.1\r\n"
			       "s=stoa-load\r\n"
			       "t=0 0\r\n"
			       "a=group:BUNDLE%s\r\n"
			       "a=msid-semantic: WMS *\r\n",
			       l->session_version, l->session_version, bundle);
}

static void write_transport(GString *s, const load_sdp_local *l, bool with_candidates)
{
	g_string_append_printf(s,
			       "c=IN IP4 0.0.0.0\r\n"
			       "a=ice-ufrag:%s\r\n"
			       "a=ice-pwd:%s\r\n"
			       "a=fingerprint:%s\r\n"
			       "a=setup:%s\r\n",
			       l->ufrag, l->pwd, l->fingerprint, l->setup);
	if (with_candidates)
		g_string_append(s, l->candidates);
	g_string_append(s, "a=end-of-candidates\r\n");
}

char *load_sdp_publisher_offer(const load_sdp_local *l, uint32_t video_ssrc, uint32_t audio_ssrc)
{
	GString *s = g_string_sized_new(2048);
	write_session(s, l, audio_ssrc != 0 ? " 0 1" : " 0");
	g_string_append_printf(s, "m=video 9 UDP/TLS/RTP/SAVPF %d\r\n", LOAD_VP8_PT);
	write_transport(s, l, true);
	g_string_append_printf(s,
			       "a=mid:0\r\n"
			       "a=sendonly\r\n"
			       "a=rtcp-mux\r\n"
			       "a=rtpmap:%d VP8/90000\r\n"
			       "a=rtcp-fb:%d ccm fir\r\n"
			       "a=rtcp-fb:%d nack\r\n"
			       "a=rtcp-fb:%d nack pli\r\n"
			       "a=ssrc:%u cname:stoa-load\r\n"
			       "a=ssrc:%u msid:stoa-load stoa-load-video\r\n",
			       LOAD_VP8_PT, LOAD_VP8_PT, LOAD_VP8_PT, LOAD_VP8_PT, video_ssrc,
			       video_ssrc);
	if (audio_ssrc != 0) {
		g_string_append_printf(s, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", LOAD_OPUS_PT);
		write_transport(s, l, false);
		g_string_append_printf(s,
				       "a=mid:1\r\n"
				       "a=sendonly\r\n"
				       "a=rtcp-mux\r\n"
				       "a=rtpmap:%d opus/48000/2\r\n"
				       "a=fmtp:%d minptime=10;useinbandfec=1\r\n"
				       "a=ssrc:%u cname:stoa-load\r\n"
				       "a=ssrc:%u msid:stoa-load stoa-load-audio\r\n",
				       LOAD_OPUS_PT, LOAD_OPUS_PT, audio_ssrc, audio_ssrc);
	}
	return g_string_free(s, FALSE);
}

bool load_sdp_media_accepted(const load_sdp_media *m)
{
	return (strcmp(m->kind, "audio") == 0 || strcmp(m->kind, "video") == 0) && m->port != 0 &&
	       m->pt >= 0 && m->mid[0] != '\0' && strstr(m->proto, "SAVP") != NULL;
}

static void write_accepted(GString *s, const load_sdp_local *l, const load_sdp_media *m,
			   bool first)
{
	g_string_append_printf(s, "m=%s 9 %s %d\r\n", m->kind, m->proto, m->pt);
	write_transport(s, l, first);
	g_string_append_printf(s, "a=mid:%s\r\n", m->mid);
	/* Real browsers take the mid extension; it costs the server a header
	 * extension per packet, as in production. */
	if (m->mid_ext > 0)
		g_string_append_printf(s, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
				       m->mid_ext);
	bool sends = m->dir == LOAD_DIR_SENDONLY || m->dir == LOAD_DIR_SENDRECV;
	g_string_append_printf(s, "a=%s\r\na=rtcp-mux\r\n", sends ? "recvonly" : "inactive");
	const char *codec = load_sdp_codec(m, m->pt);
	int i = fmt_index(m, m->pt);
	if (codec != NULL)
		g_string_append_printf(s, "a=rtpmap:%d %s\r\n", m->pt, codec);
	if (i >= 0 && m->fmt_params[i][0] != '\0')
		g_string_append_printf(s, "a=fmtp:%d %s\r\n", m->pt, m->fmt_params[i]);
}

static void write_rejected(GString *s, const load_sdp_media *m)
{
	g_string_append_printf(s, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind, m->proto,
			       m->fmt_list[0] != '\0' ? m->fmt_list : "0");
	if (m->mid[0] != '\0')
		g_string_append_printf(s, "a=mid:%s\r\n", m->mid);
	g_string_append(s, "a=inactive\r\n");
}

char *load_sdp_viewer_answer(const load_sdp_local *l, const load_sdp *offer, char *err,
			     size_t errlen)
{
	GString *bundle = g_string_new(NULL);
	for (int i = 0; i < offer->n_media; i++)
		if (load_sdp_media_accepted(&offer->media[i]))
			g_string_append_printf(bundle, " %s", offer->media[i].mid);
	if (bundle->len == 0) {
		g_string_free(bundle, TRUE);
		snprintf(err, errlen, "the offer has no audio or video m-line we can take");
		return NULL;
	}
	GString *s = g_string_sized_new(2048);
	write_session(s, l, bundle->str);
	g_string_free(bundle, TRUE);
	bool first = true;
	for (int i = 0; i < offer->n_media; i++) {
		const load_sdp_media *m = &offer->media[i];
		if (load_sdp_media_accepted(m)) {
			write_accepted(s, l, m, first);
			first = false;
		} else {
			write_rejected(s, m);
		}
	}
	return g_string_free(s, FALSE);
}
