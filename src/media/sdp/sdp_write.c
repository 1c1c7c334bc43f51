/*
 * sdp_write.c: the model of sdp.h to SDP text.
 *
 * Lines end in \r\n (RFC 8866 §5). Attributes come in the order browsers
 * write them, which is also the order people reading a dump expect:
 * session: v o s [c] [b] t, a=group, a=extmap-allow-mixed, a=msid-semantic,
 * a=ice-lite, transport attributes, the rest; per m-line: m c [b] a=rtcp,
 * ICE, a=fingerprint, a=setup, a=mid, a=extmap, a=<direction>, a=msid,
 * a=rtcp-mux, a=rtcp-rsize, then a=rtpmap/a=rtcp-fb/a=fmtp per payload type,
 * a=ssrc-group, a=ssrc, a=rid, a=simulcast, SCTP attributes, the attributes
 * kept verbatim, and last the candidates and a=end-of-candidates.
 * The writer trusts the model: it is built by the parser or by our own code.
 */
#include <stdarg.h>
#include <string.h>

#include "media/sdp/sdp.h"

static void line(GString *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(GString *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_string_append_vprintf(out, fmt, ap);
	va_end(ap);
	g_string_append(out, "\r\n");
}

static void write_strings(GString *out, const char *prefix, const GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++)
		line(out, "%s%s", prefix, (const char *)g_ptr_array_index(list, i));
}

static void write_transport(GString *out, const char *ufrag, const char *pwd, const char *opts,
			    const char *fp_alg, const char *fp, stoa_sdp_setup setup)
{
	if (ufrag != NULL)
		line(out, "a=ice-ufrag:%s", ufrag);
	if (pwd != NULL)
		line(out, "a=ice-pwd:%s", pwd);
	if (opts != NULL)
		line(out, "a=ice-options:%s", opts);
	if (fp != NULL)
		line(out, "a=fingerprint:%s %s", fp_alg != NULL ? fp_alg : "sha-256", fp);
	if (setup != STOA_SDP_SETUP_NONE)
		line(out, "a=setup:%s", stoa_sdp_setup_str(setup));
}

static void write_extmaps(GString *out, const GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		const stoa_sdp_extmap *e = g_ptr_array_index(list, i);
		g_string_append_printf(out, "a=extmap:%d", e->id);
		if (e->dir >= 0)
			g_string_append_printf(out, "/%s", stoa_sdp_dir_str((stoa_sdp_dir)e->dir));
		line(out, " %s%s%s", e->uri, e->attrs != NULL ? " " : "",
		     e->attrs != NULL ? e->attrs : "");
	}
}

static void write_codec(GString *out, const stoa_sdp_codec *c)
{
	if (c->name != NULL) {
		g_string_append_printf(out, "a=rtpmap:%d %s/%d", c->pt, c->name, c->clock);
		if (c->channels > 0)
			g_string_append_printf(out, "/%d", c->channels);
		line(out, "%s", "");
	}
	for (guint i = 0; i < c->rtcp_fb->len; i++)
		line(out, "a=rtcp-fb:%d %s", c->pt, (const char *)g_ptr_array_index(c->rtcp_fb, i));
	if (c->fmtp != NULL)
		line(out, "a=fmtp:%d %s", c->pt, c->fmtp);
}

static void write_ssrcs(GString *out, const stoa_sdp_media *m)
{
	for (guint i = 0; i < m->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *g = g_ptr_array_index(m->ssrc_groups, i);
		g_string_append_printf(out, "a=ssrc-group:%s", g->semantics);
		for (guint j = 0; j < g->ssrcs->len; j++)
			g_string_append_printf(out, " %u", g_array_index(g->ssrcs, uint32_t, j));
		line(out, "%s", "");
	}
	for (guint i = 0; i < m->ssrcs->len; i++) {
		const stoa_sdp_ssrc *s = g_ptr_array_index(m->ssrcs, i);
		if (s->cname != NULL)
			line(out, "a=ssrc:%u cname:%s", s->ssrc, s->cname);
		if (s->msid != NULL)
			line(out, "a=ssrc:%u msid:%s", s->ssrc, s->msid);
	}
}

static void write_rids(GString *out, const stoa_sdp_media *m)
{
	for (guint i = 0; i < m->rids->len; i++) {
		const stoa_sdp_rid *r = g_ptr_array_index(m->rids, i);
		line(out, "a=rid:%s %s%s%s", r->id, r->send ? "send" : "recv",
		     r->params != NULL ? " " : "", r->params != NULL ? r->params : "");
	}
	if (m->simulcast != NULL)
		line(out, "a=simulcast:%s", m->simulcast);
}

static void write_m_line(GString *out, const stoa_sdp_media *m)
{
	g_string_append_printf(out, "m=%s %d %s", m->type_str, m->port, m->proto);
	if (stoa_sdp_media_is_rtp(m) && m->codecs->len > 0) {
		for (guint i = 0; i < m->codecs->len; i++)
			g_string_append_printf(out, " %d",
					       ((stoa_sdp_codec *)g_ptr_array_index(m->codecs, i))->pt);
	} else {
		for (guint i = 0; i < m->fmts->len; i++)
			g_string_append_printf(out, " %s", (const char *)g_ptr_array_index(m->fmts, i));
	}
	line(out, "%s", "");
}

static void write_media(GString *out, const stoa_sdp_media *m)
{
	bool rtp = stoa_sdp_media_is_rtp(m);
	write_m_line(out, m);
	line(out, "c=%s", m->conn != NULL ? m->conn : "IN IP4 0.0.0.0");
	write_strings(out, "b=", m->bandwidths);
	if (m->rtcp != NULL)
		line(out, "a=rtcp:%s", m->rtcp);
	write_transport(out, m->ice_ufrag, m->ice_pwd, m->ice_options, m->fingerprint_alg,
			m->fingerprint, m->setup);
	if (m->mid != NULL)
		line(out, "a=mid:%s", m->mid);
	write_extmaps(out, m->extmaps);
	if (m->extmap_allow_mixed)
		line(out, "a=extmap-allow-mixed");
	if (rtp || m->dir != STOA_SDP_SENDRECV)
		line(out, "a=%s", stoa_sdp_dir_str(m->dir));
	if (m->msid != NULL)
		line(out, "a=msid:%s", m->msid);
	if (m->rtcp_mux)
		line(out, "a=rtcp-mux");
	if (m->rtcp_rsize)
		line(out, "a=rtcp-rsize");
	if (m->bundle_only)
		line(out, "a=bundle-only");
	for (guint i = 0; i < m->codecs->len; i++)
		write_codec(out, g_ptr_array_index(m->codecs, i));
	write_ssrcs(out, m);
	write_rids(out, m);
	if (m->sctpmap != NULL)
		line(out, "a=sctpmap:%s", m->sctpmap);
	else if (m->sctp_port > 0)
		line(out, "a=sctp-port:%d", m->sctp_port);
	if (m->max_message_size > 0)
		line(out, "a=max-message-size:%" G_GUINT64_FORMAT, m->max_message_size);
	write_strings(out, "a=", m->attrs);
	write_strings(out, "a=", m->candidates);
	if (m->end_of_candidates)
		line(out, "a=end-of-candidates");
}

static void write_groups(GString *out, const stoa_sdp *s)
{
	for (guint i = 0; i < s->groups->len; i++) {
		const stoa_sdp_group *g = g_ptr_array_index(s->groups, i);
		g_string_append_printf(out, "a=group:%s", g->semantics);
		for (guint j = 0; j < g->mids->len; j++)
			g_string_append_printf(out, " %s", (const char *)g_ptr_array_index(g->mids, j));
		line(out, "%s", "");
	}
}

static void write_session(GString *out, const stoa_sdp *s)
{
	line(out, "v=0");
	line(out, "o=%s %s %" G_GUINT64_FORMAT " %s %s %s", s->o_username ? s->o_username : "-",
	     s->o_sess_id != NULL ? s->o_sess_id : "0", s->o_sess_version,
	     s->o_nettype ? s->o_nettype : "IN", s->o_addrtype ? s->o_addrtype : "IP4",
	     s->o_addr ? s->o_addr : "127.0.0.1");
	line(out, "s=%s", s->name != NULL && s->name[0] != '\0' ? s->name : "-");
	if (s->conn != NULL)
		line(out, "c=%s", s->conn);
	write_strings(out, "b=", s->bandwidths);
	line(out, "t=%s", s->timing != NULL ? s->timing : "0 0");
	write_groups(out, s);
	if (s->extmap_allow_mixed)
		line(out, "a=extmap-allow-mixed");
	if (s->msid_semantic != NULL)
		line(out, "a=msid-semantic: %s", s->msid_semantic);
	if (s->ice_lite)
		line(out, "a=ice-lite");
	write_transport(out, s->ice_ufrag, s->ice_pwd, s->ice_options, s->fingerprint_alg,
			s->fingerprint, s->setup);
	if (s->dir >= 0)
		line(out, "a=%s", stoa_sdp_dir_str((stoa_sdp_dir)s->dir));
	write_extmaps(out, s->extmaps);
	write_strings(out, "a=", s->attrs);
}

char *stoa_sdp_write(const stoa_sdp *s)
{
	GString *out = g_string_sized_new(4096);
	write_session(out, s);
	for (guint i = 0; i < s->media->len; i++)
		write_media(out, g_ptr_array_index(s->media, i));
	return g_string_free(out, FALSE);
}
