/*
 * sdp_parse.c: SDP text to the model of sdp.h (RFC 8866 syntax, with the
 * attributes of RFC 8829 JSEP, 8839 ICE, 8842 DTLS setup, 8843 BUNDLE, 8841
 * SCTP, 8851 rid, 8853 simulcast, 8285 extmap, 5576 ssrc, 4588 RTX).
 *
 * Design: one pass over the lines of a caller's buffer. Each line is copied
 * into a bounded stack buffer, split in place, checked and stored. The input
 * comes from clients, so everything is bounded (see the STOA_SDP_MAX_*
 * limits), numbers are range-checked, and the first problem stops the parse
 * with a message naming the line. The parser is strict where a mistake would
 * matter later (numbers, payload types, ids, fingerprints, duplicate mids)
 * and keeps attributes it does not know verbatim.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "media/sdp/sdp.h"

#define MAX_FMTS	128	/* formats on one m= line */
#define MAX_SSRCS	64	/* distinct SSRCs in one m-line */
#define MAX_RIDS	16
#define MAX_CANDIDATES	128
#define MAX_GROUP_IDS	64	/* mids in a group, SSRCs in an ssrc-group */
#define MAX_FB		32	/* rtcp-fb values of one payload type */

typedef struct parser {
	stoa_sdp *s;
	stoa_sdp_media *m;	/* the m-line being read, NULL in the session part */
	unsigned line;		/* number of the current line, from 1 */
	unsigned n_codecs;	/* over all m-lines */
	unsigned n_attrs;	/* in the current section */
	bool have_o, have_s, have_t;
	char *err;
	size_t errlen;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser *p, const char *fmt, ...)
{
	if (p->errlen == 0)
		return -1;
	int n = p->line > 0 ? snprintf(p->err, p->errlen, "line %u: ", p->line) : 0;
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- small helpers */

/* Decimal digits only (no sign, no space), at most `max`. */
static bool parse_u64(const char *t, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (t == NULL || *t == '\0')
		return false;
	for (; *t != '\0'; t++) {
		if (*t < '0' || *t > '9')
			return false;
		unsigned d = (unsigned)(*t - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_int(const char *t, int max, int *out)
{
	uint64_t v;
	if (!parse_u64(t, (uint64_t)max, &v))
		return false;
	*out = (int)v;
	return true;
}

/* The next blank-separated token of *cur, NUL-terminated in place, or NULL. */
static char *token(char **cur)
{
	char *t = *cur;
	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '\0') {
		*cur = t;
		return NULL;
	}
	char *e = t;
	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	if (*e != '\0')
		*e++ = '\0';
	*cur = e;
	return t;
}

/* What is left of *cur without surrounding blanks, or NULL when empty. */
static char *rest(char **cur)
{
	char *t = *cur;
	while (*t == ' ' || *t == '\t')
		t++;
	size_t n = strlen(t);
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	*cur = t + n;
	return n > 0 ? t : NULL;
}

static bool is_token(const char *t, size_t max)
{
	size_t n = t != NULL ? strlen(t) : 0;
	if (n == 0 || n > max)
		return false;
	for (; *t != '\0'; t++)
		if (*t == ' ' || *t == '\t')
			return false;
	return true;
}

static void set_str(char **dst, const char *v)
{
	g_free(*dst);
	*dst = g_strdup(v);
}

/* ---------------------------------------------------------------- shared attributes */

static int parse_dir(const char *name)
{
	static const char *const words[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, words[i]) == 0)
			return i;
	return -1;
}

static int parse_setup(parser *p, const char *v, stoa_sdp_setup *out)
{
	static const char *const words[] = { "actpass", "active", "passive", "holdconn" };
	for (int i = 0; v != NULL && i < 4; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = (stoa_sdp_setup)(STOA_SDP_SETUP_ACTPASS + i);
			return 0;
		}
	}
	return fail(p, "bad a=setup value");
}

/* "sha-256 AB:CD:..." (RFC 8122): 1..64 bytes as colon-separated hex pairs. */
static int parse_fingerprint(parser *p, char *v, char **alg_out, char **fp_out)
{
	char *cur = v;
	char *alg = token(&cur), *fp = token(&cur);
	if (alg == NULL || fp == NULL || token(&cur) != NULL || strlen(alg) > 32)
		return fail(p, "bad a=fingerprint");
	size_t n = strlen(fp);
	if (n < 2 || n > 64 * 3 - 1 || (n + 1) % 3 != 0)
		return fail(p, "bad a=fingerprint value");
	for (size_t i = 0; i < n; i++) {
		bool colon = i % 3 == 2;
		if (colon ? fp[i] != ':' : !g_ascii_isxdigit(fp[i]))
			return fail(p, "bad a=fingerprint value");
	}
	set_str(alg_out, alg);
	set_str(fp_out, fp);
	return 0;
}

/* ICE ufrag/pwd (RFC 8839 §5.4): ice-chars only, at most 256. */
static int parse_ice_cred(parser *p, const char *name, const char *v, char **dst)
{
	size_t n = v != NULL ? strlen(v) : 0;
	if (n == 0 || n > 256)
		return fail(p, "bad a=%s", name);
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(v[i]) && v[i] != '+' && v[i] != '/')
			return fail(p, "bad a=%s", name);
	set_str(dst, v);
	return 0;
}

/* a=extmap:<id>[/<direction>] <uri> [<extension attributes>] (RFC 8285 §7). */
static int parse_extmap(parser *p, char *v, GPtrArray *list)
{
	char *cur = v;
	char *idt = token(&cur), *uri = token(&cur), *attrs = rest(&cur);
	if (idt == NULL || uri == NULL || strlen(uri) > 256)
		return fail(p, "bad a=extmap");
	int dir = -1;
	char *slash = strchr(idt, '/');
	if (slash != NULL) {
		*slash = '\0';
		dir = parse_dir(slash + 1);
		if (dir < 0)
			return fail(p, "bad a=extmap direction");
	}
	int id;
	if (!parse_int(idt, 255, &id) || id < 1)
		return fail(p, "a=extmap id must be 1..255");
	for (guint i = 0; i < list->len; i++)
		if (((stoa_sdp_extmap *)g_ptr_array_index(list, i))->id == id)
			return fail(p, "duplicate a=extmap id %d", id);
	stoa_sdp_extmap *e = g_new0(stoa_sdp_extmap, 1);
	e->id = id;
	e->dir = dir;
	e->uri = g_strdup(uri);
	e->attrs = g_strdup(attrs);
	g_ptr_array_add(list, e);
	return 0;
}

/* ---------------------------------------------------------------- session attributes */

static int parse_group(parser *p, char *v)
{
	char *cur = v;
	char *sem = token(&cur);
	if (sem == NULL || strlen(sem) > 32)
		return fail(p, "bad a=group");
	if (p->s->groups->len >= 16)
		return fail(p, "too many a=group lines");
	stoa_sdp_group *g = g_new0(stoa_sdp_group, 1);
	g->semantics = g_strdup(sem);
	g->mids = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(p->s->groups, g);
	char *mid;
	while ((mid = token(&cur)) != NULL) {
		if (g->mids->len >= MAX_GROUP_IDS || strlen(mid) > 64)
			return fail(p, "a=group too long");
		g_ptr_array_add(g->mids, g_strdup(mid));
	}
	return 0;
}

/* Attributes valid at session level. Returns 1 when `name` is not one. */
static int session_attr(parser *p, const char *name, char *v)
{
	stoa_sdp *s = p->s;
	int dir = parse_dir(name);
	if (dir >= 0) {
		s->dir = dir;
		return 0;
	}
	if (strcmp(name, "group") == 0)
		return v != NULL ? parse_group(p, v) : fail(p, "a=group without a value");
	if (strcmp(name, "extmap-allow-mixed") == 0) {
		s->extmap_allow_mixed = true;
		return 0;
	}
	if (strcmp(name, "msid-semantic") == 0) {
		char *cur = v;
		char *r = v != NULL ? rest(&cur) : NULL;
		if (r == NULL)
			return fail(p, "bad a=msid-semantic");
		set_str(&s->msid_semantic, r);
		return 0;
	}
	if (strcmp(name, "ice-lite") == 0) {
		s->ice_lite = true;
		return 0;
	}
	if (strcmp(name, "ice-ufrag") == 0)
		return parse_ice_cred(p, name, v, &s->ice_ufrag);
	if (strcmp(name, "ice-pwd") == 0)
		return parse_ice_cred(p, name, v, &s->ice_pwd);
	if (strcmp(name, "ice-options") == 0) {
		char *cur = v;
		char *r = v != NULL ? rest(&cur) : NULL;
		if (r == NULL)
			return fail(p, "bad a=ice-options");
		set_str(&s->ice_options, r);
		return 0;
	}
	if (strcmp(name, "fingerprint") == 0)
		return v != NULL ? parse_fingerprint(p, v, &s->fingerprint_alg, &s->fingerprint)
				 : fail(p, "a=fingerprint without a value");
	if (strcmp(name, "setup") == 0)
		return parse_setup(p, v, &s->setup);
	if (strcmp(name, "extmap") == 0)
		return v != NULL ? parse_extmap(p, v, s->extmaps) : fail(p, "a=extmap without a value");
	return 1;
}

/* ---------------------------------------------------------------- RTP attributes */

/* "<pt> <rest>": the payload type of an rtpmap/fmtp/rtcp-fb line. Returns the
 * codec, or NULL with *rc set: 0 when the line is kept verbatim (wildcard, or a
 * pt the m= line does not list), -1 on error. */
static stoa_sdp_codec *pt_codec(parser *p, const char *name, char **cur, int *rc)
{
	char *ptt = token(cur);
	*rc = 0;
	if (ptt == NULL) {
		*rc = fail(p, "bad a=%s", name);
		return NULL;
	}
	if (strcmp(ptt, "*") == 0)
		return NULL;
	int pt;
	if (!parse_int(ptt, 127, &pt)) {
		*rc = fail(p, "a=%s: bad payload type '%s'", name, ptt);
		return NULL;
	}
	return stoa_sdp_media_codec(p->m, pt);
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static int parse_rtpmap(parser *p, stoa_sdp_codec *c, char *cur)
{
	char *enc = token(&cur);
	if (enc == NULL || token(&cur) != NULL)
		return fail(p, "bad a=rtpmap");
	char *parts[4] = { NULL };
	int n = 0;
	for (char *t = enc; n < 4; n++) {
		parts[n] = t;
		char *slash = strchr(t, '/');
		if (slash == NULL) {
			n++;
			break;
		}
		*slash = '\0';
		t = slash + 1;
	}
	if (n < 2 || n > 3 || strlen(parts[0]) == 0 || strlen(parts[0]) > 32)
		return fail(p, "bad a=rtpmap");
	int clock, channels = 0;
	if (!parse_int(parts[1], 100000000, &clock) || clock == 0)
		return fail(p, "a=rtpmap: bad clock rate");
	if (n == 3 && (!parse_int(parts[2], 255, &channels) || channels == 0))
		return fail(p, "a=rtpmap: bad channel count");
	set_str(&c->name, parts[0]);
	c->clock = clock;
	c->channels = channels;
	return 0;
}

static int rtp_attr(parser *p, const char *name, char *v, const char *raw)
{
	char *cur = v;
	int rc;
	stoa_sdp_codec *c = pt_codec(p, name, &cur, &rc);
	if (c == NULL) {
		if (rc == 0)
			g_ptr_array_add(p->m->attrs, g_strdup(raw));
		return rc;
	}
	if (strcmp(name, "rtpmap") == 0)
		return parse_rtpmap(p, c, cur);
	char *val = rest(&cur);
	if (val == NULL)
		return fail(p, "bad a=%s", name);
	if (strcmp(name, "fmtp") == 0) {
		set_str(&c->fmtp, val);
		return 0;
	}
	if (c->rtcp_fb->len >= MAX_FB)
		return fail(p, "too many a=rtcp-fb for payload type %d", c->pt);
	g_ptr_array_add(c->rtcp_fb, g_strdup(val));
	return 0;
}

/* ---------------------------------------------------------------- SSRCs, rids */

static stoa_sdp_ssrc *ssrc_get(parser *p, uint32_t ssrc)
{
	GPtrArray *l = p->m->ssrcs;
	for (guint i = 0; i < l->len; i++) {
		stoa_sdp_ssrc *s = g_ptr_array_index(l, i);
		if (s->ssrc == ssrc)
			return s;
	}
	if (l->len >= MAX_SSRCS)
		return NULL;
	stoa_sdp_ssrc *s = g_new0(stoa_sdp_ssrc, 1);
	s->ssrc = ssrc;
	g_ptr_array_add(l, s);
	return s;
}

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1). */
static int parse_ssrc(parser *p, char *v, const char *raw)
{
	char *cur = v;
	char *idt = token(&cur), *attr = rest(&cur);
	uint64_t id;
	if (idt == NULL || attr == NULL || !parse_u64(idt, UINT32_MAX, &id))
		return fail(p, "bad a=ssrc");
	stoa_sdp_ssrc *s = ssrc_get(p, (uint32_t)id);
	if (s == NULL)
		return fail(p, "too many SSRCs");
	char *colon = strchr(attr, ':');
	if (colon != NULL && colon - attr == 5 && strncmp(attr, "cname", 5) == 0)
		set_str(&s->cname, colon + 1);
	else if (colon != NULL && colon - attr == 4 && strncmp(attr, "msid", 4) == 0)
		set_str(&s->msid, colon + 1);
	else
		g_ptr_array_add(p->m->attrs, g_strdup(raw));
	return 0;
}

/* a=ssrc-group:<semantics> <ssrc> ... (RFC 5576 §4.2). */
static int parse_ssrc_group(parser *p, char *v)
{
	char *cur = v;
	char *sem = token(&cur);
	if (sem == NULL || strlen(sem) > 32)
		return fail(p, "bad a=ssrc-group");
	if (p->m->ssrc_groups->len >= MAX_SSRCS)
		return fail(p, "too many a=ssrc-group lines");
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	char *t;
	while ((t = token(&cur)) != NULL) {
		uint64_t id;
		if (ids->len >= MAX_GROUP_IDS || !parse_u64(t, UINT32_MAX, &id)) {
			g_array_free(ids, TRUE);
			return fail(p, "bad a=ssrc-group");
		}
		uint32_t v32 = (uint32_t)id;
		g_array_append_val(ids, v32);
	}
	if (ids->len == 0) {
		g_array_free(ids, TRUE);
		return fail(p, "a=ssrc-group without SSRCs");
	}
	stoa_sdp_ssrc_group *g = g_new0(stoa_sdp_ssrc_group, 1);
	g->semantics = g_strdup(sem);
	g->ssrcs = ids;
	g_ptr_array_add(p->m->ssrc_groups, g);
	return 0;
}

/* a=rid:<id> send|recv [<params>] (RFC 8851 §10). */
static int parse_rid(parser *p, char *v)
{
	char *cur = v;
	char *id = token(&cur), *dir = token(&cur), *params = rest(&cur);
	if (id == NULL || dir == NULL || strlen(id) > 32)
		return fail(p, "bad a=rid");
	for (const char *c = id; *c != '\0'; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
			return fail(p, "bad a=rid id");
	if (strcmp(dir, "send") != 0 && strcmp(dir, "recv") != 0)
		return fail(p, "a=rid direction must be send or recv");
	GPtrArray *l = p->m->rids;
	if (l->len >= MAX_RIDS)
		return fail(p, "too many a=rid lines");
	for (guint i = 0; i < l->len; i++)
		if (strcmp(((stoa_sdp_rid *)g_ptr_array_index(l, i))->id, id) == 0)
			return fail(p, "duplicate a=rid '%s'", id);
	stoa_sdp_rid *r = g_new0(stoa_sdp_rid, 1);
	r->id = g_strdup(id);
	r->send = dir[0] == 's';
	r->params = g_strdup(params);
	g_ptr_array_add(l, r);
	return 0;
}

/* ---------------------------------------------------------------- media attributes */

static int parse_mid(parser *p, const char *v)
{
	if (!is_token(v, 64))
		return fail(p, "bad a=mid");
	if (p->m->mid != NULL)
		return fail(p, "second a=mid in one m-line");
	for (guint i = 0; i < p->s->media->len; i++) {
		stoa_sdp_media *o = g_ptr_array_index(p->s->media, i);
		if (o != p->m && o->mid != NULL && strcmp(o->mid, v) == 0)
			return fail(p, "duplicate mid '%s'", v);
	}
	p->m->mid = g_strdup(v);
	return 0;
}

/* a=sctp-port, a=max-message-size (RFC 8841) and the legacy a=sctpmap. */
static int sctp_attr(parser *p, const char *name, char *v)
{
	stoa_sdp_media *m = p->m;
	if (strcmp(name, "sctp-port") == 0) {
		if (!parse_int(v, 65535, &m->sctp_port) || m->sctp_port == 0)
			return fail(p, "bad a=sctp-port");
		return 0;
	}
	if (strcmp(name, "max-message-size") == 0) {
		if (!parse_u64(v, UINT64_MAX / 2, &m->max_message_size))
			return fail(p, "bad a=max-message-size");
		return 0;
	}
	char *copy = g_strdup(v);
	char *cur = v;
	int port;
	if (!parse_int(token(&cur), 65535, &port) || port == 0 || token(&cur) == NULL) {
		g_free(copy);
		return fail(p, "bad a=sctpmap");
	}
	m->sctp_port = port;
	g_free(m->sctpmap);
	m->sctpmap = copy;
	return 0;
}

/* Flags and single values of an m-line. Returns 1 when `name` is not one. */
static int media_simple_attr(parser *p, const char *name, char *v)
{
	stoa_sdp_media *m = p->m;
	int dir = parse_dir(name);
	if (dir >= 0) {
		m->dir = dir;
		return 0;
	}
	static const struct {
		const char *name;
		size_t offset;
	} flags[] = {
		{ "rtcp-mux", G_STRUCT_OFFSET(stoa_sdp_media, rtcp_mux) },
		{ "rtcp-rsize", G_STRUCT_OFFSET(stoa_sdp_media, rtcp_rsize) },
		{ "bundle-only", G_STRUCT_OFFSET(stoa_sdp_media, bundle_only) },
		{ "end-of-candidates", G_STRUCT_OFFSET(stoa_sdp_media, end_of_candidates) },
		{ "extmap-allow-mixed", G_STRUCT_OFFSET(stoa_sdp_media, extmap_allow_mixed) },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(flags); i++) {
		if (strcmp(name, flags[i].name) == 0) {
			G_STRUCT_MEMBER(bool, m, flags[i].offset) = true;
			return 0;
		}
	}
	static const struct {
		const char *name;
		size_t offset;
	} values[] = {
		{ "msid", G_STRUCT_OFFSET(stoa_sdp_media, msid) },
		{ "simulcast", G_STRUCT_OFFSET(stoa_sdp_media, simulcast) },
		{ "ice-options", G_STRUCT_OFFSET(stoa_sdp_media, ice_options) },
		{ "rtcp", G_STRUCT_OFFSET(stoa_sdp_media, rtcp) },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		if (strcmp(name, values[i].name) == 0) {
			char *cur = v;
			char *r = v != NULL ? rest(&cur) : NULL;
			if (r == NULL)
				return fail(p, "a=%s without a value", name);
			set_str(&G_STRUCT_MEMBER(char *, m, values[i].offset), r);
			return 0;
		}
	}
	return 1;
}

/* Media attributes that need a value. */
static bool needs_value(const char *name)
{
	static const char *const names[] = {
		"mid", "rtpmap", "fmtp", "rtcp-fb", "extmap", "ssrc", "ssrc-group", "rid",
		"ice-ufrag", "ice-pwd", "fingerprint", "setup", "candidate", "sctp-port",
		"max-message-size", "sctpmap",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static int media_attr(parser *p, const char *name, char *v, const char *raw)
{
	stoa_sdp_media *m = p->m;
	int rc = media_simple_attr(p, name, v);
	if (rc <= 0)
		return rc;
	if (v == NULL) {
		if (needs_value(name))
			return fail(p, "a=%s without a value", name);
		g_ptr_array_add(m->attrs, g_strdup(raw));
		return 0;
	}
	if (strcmp(name, "mid") == 0)
		return parse_mid(p, v);
	if (stoa_sdp_media_is_rtp(m) && (strcmp(name, "rtpmap") == 0 || strcmp(name, "fmtp") == 0
					|| strcmp(name, "rtcp-fb") == 0))
		return rtp_attr(p, name, v, raw);
	if (strcmp(name, "extmap") == 0)
		return parse_extmap(p, v, m->extmaps);
	if (strcmp(name, "ssrc") == 0)
		return parse_ssrc(p, v, raw);
	if (strcmp(name, "ssrc-group") == 0)
		return parse_ssrc_group(p, v);
	if (strcmp(name, "rid") == 0)
		return parse_rid(p, v);
	if (strcmp(name, "ice-ufrag") == 0)
		return parse_ice_cred(p, name, v, &m->ice_ufrag);
	if (strcmp(name, "ice-pwd") == 0)
		return parse_ice_cred(p, name, v, &m->ice_pwd);
	if (strcmp(name, "fingerprint") == 0)
		return parse_fingerprint(p, v, &m->fingerprint_alg, &m->fingerprint);
	if (strcmp(name, "setup") == 0)
		return parse_setup(p, v, &m->setup);
	if (strcmp(name, "candidate") == 0) {
		if (m->candidates->len >= MAX_CANDIDATES)
			return fail(p, "too many a=candidate lines");
		g_ptr_array_add(m->candidates, g_strdup(raw));
		return 0;
	}
	if (strcmp(name, "sctp-port") == 0 || strcmp(name, "max-message-size") == 0
	    || strcmp(name, "sctpmap") == 0)
		return sctp_attr(p, name, v);
	g_ptr_array_add(m->attrs, g_strdup(raw));
	return 0;
}

/* a=<name>[:<value>] in either part. `a` is the text after "a=". */
static int parse_attr(parser *p, char *a)
{
	if (++p->n_attrs > STOA_SDP_MAX_ATTRS)
		return fail(p, "too many attributes");
	char *raw = g_strdup(a);
	char *colon = strchr(a, ':');
	char *v = NULL;
	if (colon != NULL) {
		*colon = '\0';
		v = colon + 1;
	}
	int rc;
	if (!is_token(a, 64))
		rc = fail(p, "bad attribute name");
	else if (p->m != NULL)
		rc = media_attr(p, a, v, raw);
	else if ((rc = session_attr(p, a, v)) == 1) {
		g_ptr_array_add(p->s->attrs, g_strdup(raw));
		rc = 0;
	}
	g_free(raw);
	return rc;
}

/* ---------------------------------------------------------------- lines */

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int parse_m(parser *p, char *v)
{
	if (p->s->media->len >= STOA_SDP_MAX_MEDIA)
		return fail(p, "too many m-lines (at most %d)", STOA_SDP_MAX_MEDIA);
	char *cur = v;
	char *type = token(&cur), *port = token(&cur), *proto = token(&cur);
	if (type == NULL || port == NULL || proto == NULL || strlen(type) > 32 || strlen(proto) > 64)
		return fail(p, "bad m= line");
	char *slash = strchr(port, '/');
	int n_ports = 1;
	if (slash != NULL) {
		*slash = '\0';
		if (!parse_int(slash + 1, 65535, &n_ports) || n_ports == 0)
			return fail(p, "bad m= port count");
	}
	stoa_sdp_media *m = stoa_sdp_media_new(type);
	g_ptr_array_add(p->s->media, m);
	p->m = m;
	p->n_attrs = 0;
	m->dir = p->s->dir >= 0 ? (stoa_sdp_dir)p->s->dir : STOA_SDP_SENDRECV;
	m->proto = g_strdup(proto);
	if (!parse_int(port, 65535, &m->port))
		return fail(p, "bad m= port");
	bool rtp = stoa_sdp_media_is_rtp(m);
	char *f;
	unsigned n = 0;
	while ((f = token(&cur)) != NULL) {
		if (++n > MAX_FMTS)
			return fail(p, "too many formats on the m= line");
		if (!rtp) {
			if (strlen(f) > 64)
				return fail(p, "bad m= format");
			g_ptr_array_add(m->fmts, g_strdup(f));
			continue;
		}
		int pt;
		if (!parse_int(f, 127, &pt))
			return fail(p, "bad payload type '%s' (0..127)", f);
		if (stoa_sdp_media_codec(m, pt) != NULL)
			return fail(p, "payload type %d listed twice", pt);
		if (++p->n_codecs > STOA_SDP_MAX_CODECS)
			return fail(p, "too many payload types (at most %d)", STOA_SDP_MAX_CODECS);
		g_ptr_array_add(m->codecs, stoa_sdp_codec_new(pt, NULL, 0, 0));
	}
	if (n == 0)
		return fail(p, "m= line has no formats");
	return 0;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int parse_o(parser *p, char *v)
{
	stoa_sdp *s = p->s;
	char *cur = v;
	char *f[6];
	for (int i = 0; i < 6; i++)
		if ((f[i] = token(&cur)) == NULL || strlen(f[i]) > 256)
			return fail(p, "bad o= line");
	if (token(&cur) != NULL || p->have_o)
		return fail(p, "bad o= line");
	uint64_t id;
	if (!parse_u64(f[1], UINT64_MAX, &id) || !parse_u64(f[2], UINT64_MAX, &s->o_sess_version))
		return fail(p, "bad o= session id or version");
	s->o_username = g_strdup(f[0]);
	s->o_sess_id = g_strdup(f[1]);
	s->o_nettype = g_strdup(f[3]);
	s->o_addrtype = g_strdup(f[4]);
	s->o_addr = g_strdup(f[5]);
	p->have_o = true;
	return 0;
}

/* c=<nettype> <addrtype> <address> */
static int parse_c(parser *p, char *v)
{
	char *copy = g_strdup(v), *cur = v;
	if (token(&cur) == NULL || token(&cur) == NULL || token(&cur) == NULL
	    || token(&cur) != NULL) {
		g_free(copy);
		return fail(p, "bad c= line");
	}
	char **dst = p->m != NULL ? &p->m->conn : &p->s->conn;
	g_free(*dst);
	*dst = copy;
	return 0;
}

/* b=<bwtype>:<bandwidth> */
static int parse_b(parser *p, const char *v)
{
	const char *colon = strchr(v, ':');
	uint64_t bw;
	if (colon == NULL || colon == v || !parse_u64(colon + 1, UINT32_MAX, &bw))
		return fail(p, "bad b= line");
	GPtrArray *l = p->m != NULL ? p->m->bandwidths : p->s->bandwidths;
	if (l->len >= 8)
		return fail(p, "too many b= lines");
	g_ptr_array_add(l, g_strdup(v));
	return 0;
}

static int parse_line(parser *p, char type, char *v)
{
	switch (type) {
	case 'v':
		return fail(p, "second v= line");
	case 'o':
		return p->m == NULL ? parse_o(p, v) : fail(p, "o= inside an m-line");
	case 's':
		if (p->m != NULL || p->have_s)
			return fail(p, "misplaced s= line");
		p->have_s = true;
		p->s->name = g_strdup(v);
		return 0;
	case 't': {
		char *cur = v;
		uint64_t a, b;
		if (p->m != NULL || p->have_t || !parse_u64(token(&cur), UINT64_MAX, &a)
		    || !parse_u64(token(&cur), UINT64_MAX, &b) || token(&cur) != NULL)
			return fail(p, "bad t= line");
		p->have_t = true;
		p->s->timing = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, a, b);
		return 0;
	}
	case 'c': return parse_c(p, v);
	case 'b': return parse_b(p, v);
	case 'm': return parse_m(p, v);
	case 'a': return parse_attr(p, v);
	case 'i': case 'u': case 'e': case 'p': case 'r': case 'z': case 'k':
		return 0; /* informational lines: not used in WebRTC, dropped */
	}
	return fail(p, "unknown line type '%c='", type);
}

/* Copies the next line of `buf` (without its \r\n or \n) into `line`. */
static int next_line(parser *p, const char *buf, size_t len, size_t *pos, char *line)
{
	const char *start = buf + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl != NULL ? (size_t)(nl - start) : len - *pos;
	*pos += n + (nl != NULL ? 1 : 0);
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n > STOA_SDP_MAX_LINE)
		return fail(p, "line too long");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)start[i] < 0x20 && start[i] != '\t')
			return fail(p, "control character in line");
	memcpy(line, start, n);
	line[n] = '\0';
	return 0;
}

/* Checks the whole buffer before reading it: size, NUL bytes, UTF-8. */
static int check_buffer(parser *p, const char *buf, size_t len)
{
	if (len == 0)
		return fail(p, "empty SDP");
	if (len > STOA_SDP_MAX_LEN)
		return fail(p, "SDP too large (%zu bytes, at most %d)", len, STOA_SDP_MAX_LEN);
	const char *bad = memchr(buf, '\0', len);
	const char *end = NULL;
	if (bad == NULL && !g_utf8_validate(buf, (gssize)len, &end))
		bad = end;
	if (bad == NULL)
		return 0;
	p->line = 1;
	for (const char *c = buf; c < bad; c++)
		if (*c == '\n')
			p->line++;
	return fail(p, *bad == '\0' ? "NUL byte" : "invalid UTF-8");
}

/* ---------------------------------------------------------------- after the last line */

/* Fills static payload names and links RTX payload types to what they repair. */
static void finish_codecs(stoa_sdp_media *m)
{
	for (guint i = 0; i < m->codecs->len; i++) {
		stoa_sdp_codec *c = g_ptr_array_index(m->codecs, i);
		const stoa_sdp_codec_info *st = c->name == NULL ? stoa_sdp_codec_info_static(c->pt)
							      : NULL;
		if (st != NULL) {
			c->name = g_strdup(st->rtp_name);
			c->clock = st->clock;
			c->channels = st->channels;
		}
		c->apt = (int)stoa_sdp_fmtp_int(c->fmtp, "apt", -1);
		if (c->apt > 127)
			c->apt = -1;
	}
	for (guint i = 0; i < m->codecs->len; i++) {
		stoa_sdp_codec *c = g_ptr_array_index(m->codecs, i);
		stoa_sdp_codec *t = c->apt >= 0 && c->name != NULL
					    && g_ascii_strcasecmp(c->name, "rtx") == 0
				    ? stoa_sdp_media_codec(m, c->apt) : NULL;
		if (t != NULL && t != c && t->rtx_pt < 0)
			t->rtx_pt = c->pt;
	}
}

/* Whole-document checks; their errors name no line. */
static int finish(parser *p)
{
	p->line = 0;
	if (!p->have_o)
		return fail(p, "missing o= line");
	if (!p->have_s)
		return fail(p, "missing s= line");
	if (!p->have_t)
		return fail(p, "missing t= line");
	for (guint i = 0; i < p->s->media->len; i++)
		finish_codecs(g_ptr_array_index(p->s->media, i));
	for (guint i = 0; i < p->s->groups->len; i++) {
		stoa_sdp_group *g = g_ptr_array_index(p->s->groups, i);
		for (guint j = 0; j < g->mids->len; j++) {
			const char *mid = g_ptr_array_index(g->mids, j);
			if (stoa_sdp_media_by_mid(p->s, mid) == NULL)
				return fail(p, "a=group:%s names mid '%s' that no m-line has",
					    g->semantics, mid);
		}
	}
	return 0;
}

static int parse_all(parser *p, const char *buf, size_t len)
{
	char line[STOA_SDP_MAX_LINE + 1];
	size_t pos = 0;
	bool have_v = false;
	if (check_buffer(p, buf, len) < 0)
		return -1;
	while (pos < len) {
		p->line++;
		if (p->line > STOA_SDP_MAX_LINES)
			return fail(p, "too many lines (at most %d)", STOA_SDP_MAX_LINES);
		if (next_line(p, buf, len, &pos, line) < 0)
			return -1;
		if (line[0] == '\0')
			continue;
		if (!g_ascii_islower(line[0]) || line[1] != '=')
			return fail(p, "expected <letter>=<value>");
		if (!have_v) {
			if (strcmp(line, "v=0") != 0)
				return fail(p, "expected v=0 first");
			have_v = true;
			continue;
		}
		if (parse_line(p, line[0], line + 2) < 0)
			return -1;
	}
	if (!have_v)
		return fail(p, "no v= line");
	return finish(p);
}

stoa_sdp *stoa_sdp_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	char dummy[1];
	parser p = {
		.s = stoa_sdp_new(),
		.err = err != NULL ? err : dummy,
		.errlen = err != NULL ? errlen : sizeof(dummy),
	};
	if (errlen > 0 && err != NULL)
		err[0] = '\0';
	if (buf == NULL && len > 0) {
		stoa_sdp_free(p.s);
		snprintf(p.err, p.errlen, "no SDP");
		return NULL;
	}
	if (parse_all(&p, buf, len) < 0) {
		stoa_sdp_free(p.s);
		return NULL;
	}
	return p.s;
}
