/*
 * sdp_negotiate.c: the server's side of offer/answer (RFC 8829 JSEP §5.3 and
 * §5.2, RFC 3264): answers to client offers, and offers the server makes.
 *
 * Answer rules, per offered m-line, in offer order (an answer must keep the
 * order, the mids, the payload types and the extmap ids of the offer):
 *  - Rejected (port 0, mid kept, a=inactive, one format) when: the offer
 *    rejected it; it has no mid; it is outside the offer's BUNDLE group (the
 *    server runs one transport per peer); an RTP line lacks a=rtcp-mux (we
 *    reject the line rather than fail the answer, as a browser would) or is
 *    not SRTP; no offered codec is in our preference list; it is a second
 *    data channel line, or data is not wanted; the direction callback says so.
 *  - Otherwise: one codec, the first of OUR preference list that the offer
 *    has (sdp_codecs.c decides matches), plus its RTX payload type; the
 *    rtcp-fb values of the offer we implement (transport-cc only with the
 *    transport-wide-cc extension, goog-remb only with abs-send-time); the
 *    offered extmaps whose URI we accept, with the offer's ids; the mirrored
 *    direction (limited by the callback); random SSRCs (and an RTX SSRC in an
 *    FID group) with a=ssrc cname/msid lines where we send; rid/simulcast
 *    "recv" where the offer sends simulcast; a=sctp-port:5000 and
 *    a=max-message-size on the data channel.
 *  - Session: a=group:BUNDLE over the accepted mids, the fingerprint at
 *    session level, a=ice-options:trickle per m-line, a=extmap-allow-mixed
 *    when offered, a=ice-lite when asked, candidates on the first accepted
 *    m-line (the BUNDLE transport).
 *  - DTLS role (Janus's rule): active, or passive when the offer is active.
 */
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "media/sdp/sdp.h"

#define DEFAULT_MAX_MESSAGE_SIZE 262144
#define SCTP_PORT 5000

static const char *const default_exts[] = {
	STOA_SDP_EXT_MID, STOA_SDP_EXT_RID, STOA_SDP_EXT_RRID, STOA_SDP_EXT_ABS_SEND_TIME,
	STOA_SDP_EXT_TWCC, STOA_SDP_EXT_AUDIO_LEVEL, STOA_SDP_EXT_VIDEO_ORIENTATION,
	STOA_SDP_EXT_PLAYOUT_DELAY, NULL,
};

static bool in_list(const char *const *list, const char *v)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, v) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- shared building blocks */

/* v=, o=, s=, t= and the transport attributes every server SDP has. */
static stoa_sdp *session_new(const char *name, uint64_t id, uint64_t version,
			     const char *fingerprint, bool ice_lite)
{
	stoa_sdp *s = stoa_sdp_new();
	s->o_username = g_strdup("-");
	s->o_sess_id = g_strdup_printf("%" G_GUINT64_FORMAT, id != 0 ? id : stoa_id_random());
	s->o_sess_version = version != 0 ? version : 1;
	s->o_nettype = g_strdup("IN");
	s->o_addrtype = g_strdup("IP4");
	s->o_addr = g_strdup("127.0.0.1");
	s->name = g_strdup(name != NULL ? name : "Stoa");
	s->timing = g_strdup("0 0");
	s->fingerprint_alg = g_strdup("sha-256");
	s->fingerprint = g_strdup(fingerprint);
	s->ice_lite = ice_lite;
	s->msid_semantic = g_strdup("WMS *");
	return s;
}

static void media_transport(stoa_sdp_media *m, const char *ufrag, const char *pwd,
			    stoa_sdp_setup setup)
{
	m->port = 9;
	m->conn = g_strdup("IN IP4 0.0.0.0");
	m->ice_ufrag = g_strdup(ufrag);
	m->ice_pwd = g_strdup(pwd);
	m->ice_options = g_strdup("trickle");
	m->setup = setup;
}

static void add_ssrc(stoa_sdp_media *m, uint32_t ssrc, const char *cname, const char *msid)
{
	stoa_sdp_ssrc *s = g_new0(stoa_sdp_ssrc, 1);
	s->ssrc = ssrc;
	s->cname = g_strdup(cname);
	s->msid = g_strdup(msid);
	g_ptr_array_add(m->ssrcs, s);
}

/* a=msid and a=ssrc lines for what we send, with an FID group for RTX. */
static void add_sender(stoa_sdp_media *m, uint32_t ssrc, uint32_t rtx_ssrc, const char *cname,
		       const char *stream, const char *track)
{
	m->msid = g_strdup_printf("%s %s", stream, track);
	if (ssrc == 0)
		return;
	if (rtx_ssrc != 0) {
		stoa_sdp_ssrc_group *g = g_new0(stoa_sdp_ssrc_group, 1);
		g->semantics = g_strdup("FID");
		g->ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
		g_array_append_val(g->ssrcs, ssrc);
		g_array_append_val(g->ssrcs, rtx_ssrc);
		g_ptr_array_add(m->ssrc_groups, g);
	}
	add_ssrc(m, ssrc, cname, m->msid);
	if (rtx_ssrc != 0)
		add_ssrc(m, rtx_ssrc, cname, m->msid);
}

static void add_extmap(stoa_sdp_media *m, int id, int dir, const char *uri)
{
	stoa_sdp_extmap *e = g_new0(stoa_sdp_extmap, 1);
	e->id = id;
	e->dir = dir;
	e->uri = g_strdup(uri);
	g_ptr_array_add(m->extmaps, e);
}

static void data_channel(stoa_sdp_media *m, bool legacy, uint64_t max_message_size)
{
	m->sctp_port = SCTP_PORT;
	m->max_message_size = max_message_size != 0 ? max_message_size : DEFAULT_MAX_MESSAGE_SIZE;
	if (legacy) {
		/* Pre-RFC 8841 form (aiortc still offers it): "DTLS/SCTP 5000"
		 * with a=sctpmap; the answer must use the same form. */
		g_ptr_array_add(m->fmts, g_strdup_printf("%d", SCTP_PORT));
		m->sctpmap = g_strdup_printf("%d webrtc-datachannel 65535", SCTP_PORT);
	} else {
		g_ptr_array_add(m->fmts, g_strdup("webrtc-datachannel"));
	}
}

static void add_candidates(stoa_sdp_media *m, const char *const *cands, bool eoc)
{
	for (; cands != NULL && *cands != NULL; cands++)
		g_ptr_array_add(m->candidates, g_strdup(*cands));
	m->end_of_candidates = eoc;
}

/* ---------------------------------------------------------------- answers */

typedef struct answer_ctx {
	const stoa_sdp *offer;
	const stoa_sdp_answer_params *p;
	const stoa_sdp_group *bundle;	/* the offer's first BUNDLE group, or NULL */
	stoa_sdp_setup setup;
	const char *const *exts;
	bool data_taken;
	GArray *used_ssrcs;		/* uint32_t: offered and assigned */
} answer_ctx;

stoa_sdp_setup stoa_sdp_answer_setup(const stoa_sdp *offer)
{
	const stoa_sdp_media *first = offer->media->len > 0 ? g_ptr_array_index(offer->media, 0)
							   : NULL;
	return stoa_sdp_media_setup(offer, first) == STOA_SDP_SETUP_ACTIVE ? STOA_SDP_SETUP_PASSIVE
									  : STOA_SDP_SETUP_ACTIVE;
}

static uint32_t fresh_ssrc(answer_ctx *c)
{
	for (;;) {
		uint32_t v = stoa_id_random32();
		bool used = false;
		for (guint i = 0; i < c->used_ssrcs->len && !used; i++)
			used = g_array_index(c->used_ssrcs, uint32_t, i) == v;
		if (!used) {
			g_array_append_val(c->used_ssrcs, v);
			return v;
		}
	}
}

static bool in_bundle(const answer_ctx *c, const stoa_sdp_media *om)
{
	if (c->offer->media->len == 1 && c->bundle == NULL)
		return true;
	if (c->bundle == NULL || om->mid == NULL)
		return false;
	for (guint i = 0; i < c->bundle->mids->len; i++)
		if (strcmp(g_ptr_array_index(c->bundle->mids, i), om->mid) == 0)
			return true;
	return false;
}

/* Our direction: what the callback wants, within what the offer allows. */
static int answer_dir(const answer_ctx *c, const stoa_sdp_media *om, unsigned index)
{
	stoa_sdp_dir mirror = stoa_sdp_dir_reverse(om->dir);
	if (c->p->direction == NULL)
		return mirror;
	int want = c->p->direction(om, index, c->p->direction_user);
	if (want < 0 || want > STOA_SDP_INACTIVE)
		return -1;
	bool send = (want == STOA_SDP_SENDRECV || want == STOA_SDP_SENDONLY)
		    && (mirror == STOA_SDP_SENDRECV || mirror == STOA_SDP_SENDONLY);
	bool recv = (want == STOA_SDP_SENDRECV || want == STOA_SDP_RECVONLY)
		    && (mirror == STOA_SDP_SENDRECV || mirror == STOA_SDP_RECVONLY);
	return send ? (recv ? STOA_SDP_SENDRECV : STOA_SDP_SENDONLY)
		    : (recv ? STOA_SDP_RECVONLY : STOA_SDP_INACTIVE);
}

/* The first codec of our preference list that the offer has, or NULL. */
static const stoa_sdp_codec *pick_codec(const answer_ctx *c, const stoa_sdp_media *om)
{
	const char *const *prefs = om->type == STOA_SDP_AUDIO ? c->p->audio_codecs
			       : om->type == STOA_SDP_VIDEO ? c->p->video_codecs : NULL;
	for (; prefs != NULL && *prefs != NULL; prefs++) {
		for (guint i = 0; i < om->codecs->len; i++) {
			const stoa_sdp_codec *oc = g_ptr_array_index(om->codecs, i);
			if (stoa_sdp_codec_matches(oc, *prefs, &c->p->constraints))
				return oc;
		}
	}
	return NULL;
}

static stoa_sdp_codec *answer_codec(const answer_ctx *c, const stoa_sdp_codec *oc,
				    const stoa_sdp_media *am)
{
	stoa_sdp_codec *ac = stoa_sdp_codec_new(oc->pt, oc->name, oc->clock, oc->channels);
	ac->fmtp = stoa_sdp_codec_answer_fmtp(oc, &c->p->constraints);
	bool twcc = stoa_sdp_media_extmap_id(am, STOA_SDP_EXT_TWCC) > 0;
	bool abs = stoa_sdp_media_extmap_id(am, STOA_SDP_EXT_ABS_SEND_TIME) > 0;
	for (guint i = 0; i < oc->rtcp_fb->len; i++) {
		const char *fb = g_ptr_array_index(oc->rtcp_fb, i);
		if (!stoa_sdp_rtcp_fb_supported(fb) || (strcmp(fb, "transport-cc") == 0 && !twcc)
		    || (strcmp(fb, "goog-remb") == 0 && !abs))
			continue;
		g_ptr_array_add(ac->rtcp_fb, g_strdup(fb));
	}
	return ac;
}

/* rid/simulcast (RFC 8853 §5.3): the offer sends layers, we receive them. */
static void answer_simulcast(stoa_sdp_media *am, const stoa_sdp_media *om)
{
	if (om->simulcast == NULL || (am->dir != STOA_SDP_SENDRECV && am->dir != STOA_SDP_RECVONLY))
		return;
	char **parts = g_strsplit(om->simulcast, " ", -1);
	for (guint i = 0; parts[i] != NULL && parts[i + 1] != NULL; i++) {
		if (strcmp(parts[i], "send") != 0)
			continue;
		am->simulcast = g_strdup_printf("recv %s", parts[i + 1]);
		break;
	}
	g_strfreev(parts);
	if (am->simulcast == NULL)
		return;
	for (guint i = 0; i < om->rids->len; i++) {
		const stoa_sdp_rid *or = g_ptr_array_index(om->rids, i);
		if (!or->send)
			continue;
		stoa_sdp_rid *r = g_new0(stoa_sdp_rid, 1);
		r->id = g_strdup(or->id);
		r->send = false;
		g_ptr_array_add(am->rids, r);
	}
}

static void answer_rtp(answer_ctx *c, stoa_sdp_media *am, const stoa_sdp_media *om,
		       const stoa_sdp_codec *oc)
{
	const stoa_sdp_answer_params *p = c->p;
	for (guint i = 0; i < om->extmaps->len; i++) {
		const stoa_sdp_extmap *e = g_ptr_array_index(om->extmaps, i);
		if (in_list(c->exts, e->uri))
			add_extmap(am, e->id, e->dir >= 0 ? (int)stoa_sdp_dir_reverse(e->dir) : -1,
				   e->uri);
	}
	am->rtcp_mux = true;
	am->rtcp_rsize = om->rtcp_rsize;
	stoa_sdp_codec *ac = answer_codec(c, oc, am);
	g_ptr_array_add(am->codecs, ac);
	const stoa_sdp_codec *orx = oc->rtx_pt >= 0 ? stoa_sdp_media_codec(om, oc->rtx_pt) : NULL;
	if (orx != NULL) {
		stoa_sdp_codec *rx = stoa_sdp_codec_new(orx->pt, orx->name, orx->clock, orx->channels);
		rx->fmtp = g_strdup_printf("apt=%d", oc->pt);
		rx->apt = oc->pt;
		ac->rtx_pt = orx->pt;
		g_ptr_array_add(am->codecs, rx);
	}
	if (am->dir == STOA_SDP_SENDRECV || am->dir == STOA_SDP_SENDONLY) {
		char *track = g_strdup_printf("%s%s", am->type_str, am->mid);
		uint32_t ssrc = fresh_ssrc(c);
		add_sender(am, ssrc, orx != NULL ? fresh_ssrc(c) : 0, p->cname ? p->cname : "stoa",
			   p->msid_stream != NULL ? p->msid_stream : "stoa", track);
		g_free(track);
	}
	answer_simulcast(am, om);
}

/* A rejected m-line: port 0, the mid kept, one format of the offer. */
static stoa_sdp_media *reject(const stoa_sdp_media *om)
{
	stoa_sdp_media *am = stoa_sdp_media_new(om->type_str);
	am->proto = g_strdup(om->proto);
	am->conn = g_strdup("IN IP4 0.0.0.0");
	am->mid = g_strdup(om->mid);
	am->dir = STOA_SDP_INACTIVE;
	if (om->codecs->len > 0) {
		const stoa_sdp_codec *oc = g_ptr_array_index(om->codecs, 0);
		g_ptr_array_add(am->codecs, stoa_sdp_codec_new(oc->pt, oc->name, oc->clock,
							       oc->channels));
	} else {
		for (guint i = 0; i < om->fmts->len; i++)
			g_ptr_array_add(am->fmts, g_strdup(g_ptr_array_index(om->fmts, i)));
	}
	if (stoa_sdp_media_is_rtp(am) && am->codecs->len == 0)
		g_ptr_array_add(am->codecs, stoa_sdp_codec_new(0, "PCMU", 8000, 0));
	if (!stoa_sdp_media_is_rtp(am) && am->fmts->len == 0)
		g_ptr_array_add(am->fmts, g_strdup("0"));
	return am;
}

static bool is_sctp(const stoa_sdp_media *om)
{
	return om->type == STOA_SDP_APPLICATION && om->proto != NULL
	       && strstr(om->proto, "SCTP") != NULL;
}

/* The pre-RFC 8841 form: "DTLS/SCTP 5000" with a=sctpmap, no a=sctp-port. */
static bool is_legacy_sctp(const stoa_sdp_media *om)
{
	return om->sctpmap != NULL || om->fmts->len == 0
	       || strcmp(g_ptr_array_index(om->fmts, 0), "webrtc-datachannel") != 0;
}

/* One answered m-line, accepted or rejected. Sets *accepted. */
static stoa_sdp_media *answer_media(answer_ctx *c, const stoa_sdp_media *om, unsigned index,
				    bool *accepted)
{
	const stoa_sdp_answer_params *p = c->p;
	*accepted = false;
	if ((om->port == 0 && !om->bundle_only) || om->mid == NULL || !in_bundle(c, om))
		return reject(om);
	bool rtp = stoa_sdp_media_is_rtp(om) && om->type != STOA_SDP_APPLICATION;
	const stoa_sdp_codec *oc = NULL;
	if (rtp) {
		if (!om->rtcp_mux || strstr(om->proto, "SAVP") == NULL
		    || (oc = pick_codec(c, om)) == NULL)
			return reject(om);
	} else if (!is_sctp(om) || !p->accept_data || c->data_taken) {
		return reject(om);
	}
	int dir = answer_dir(c, om, index);
	if (dir < 0)
		return reject(om);
	stoa_sdp_media *am = stoa_sdp_media_new(om->type_str);
	am->proto = g_strdup(om->proto);
	am->mid = g_strdup(om->mid);
	media_transport(am, p->ice_ufrag, p->ice_pwd, c->setup);
	if (rtp) {
		am->dir = (stoa_sdp_dir)dir;
		answer_rtp(c, am, om, oc);
	} else {
		c->data_taken = true;
		data_channel(am, is_legacy_sctp(om), p->max_message_size);
	}
	*accepted = true;
	return am;
}

/* The transport of the BUNDLE group is the first accepted m-line's. */
static int check_offer_transport(const stoa_sdp *offer, const stoa_sdp_media *om, char *err,
				 size_t errlen)
{
	const char *alg = NULL;
	if (stoa_sdp_media_ice_ufrag(offer, om) == NULL || stoa_sdp_media_ice_pwd(offer, om) == NULL) {
		snprintf(err, errlen, "offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)");
		return -1;
	}
	if (stoa_sdp_media_fingerprint(offer, om, &alg) == NULL) {
		snprintf(err, errlen, "offer has no DTLS fingerprint (a=fingerprint)");
		return -1;
	}
	if (stoa_sdp_media_setup(offer, om) == STOA_SDP_SETUP_HOLDCONN) {
		snprintf(err, errlen, "offer has a=setup:holdconn");
		return -1;
	}
	return 0;
}

static int check_answer_params(const stoa_sdp *offer, const stoa_sdp_answer_params *p, char *err,
			       size_t errlen)
{
	if (p == NULL || p->ice_ufrag == NULL || p->ice_pwd == NULL || p->fingerprint == NULL) {
		snprintf(err, errlen, "answer needs local ICE credentials and a fingerprint");
		return -1;
	}
	if (p->setup == STOA_SDP_SETUP_ACTPASS || p->setup == STOA_SDP_SETUP_HOLDCONN) {
		snprintf(err, errlen, "an answer must be a=setup:active or passive");
		return -1;
	}
	if (offer == NULL || offer->media->len == 0) {
		snprintf(err, errlen, "offer has no m-lines");
		return -1;
	}
	return 0;
}

static bool offer_mixed(const stoa_sdp *offer)
{
	for (guint i = 0; i < offer->media->len && !offer->extmap_allow_mixed; i++)
		if (((stoa_sdp_media *)g_ptr_array_index(offer->media, i))->extmap_allow_mixed)
			return true;
	return offer->extmap_allow_mixed;
}

static void collect_ssrcs(const stoa_sdp *offer, GArray *out)
{
	for (guint i = 0; i < offer->media->len; i++) {
		const stoa_sdp_media *m = g_ptr_array_index(offer->media, i);
		for (guint j = 0; j < m->ssrcs->len; j++)
			g_array_append_val(out, ((stoa_sdp_ssrc *)g_ptr_array_index(m->ssrcs, j))->ssrc);
	}
}

/* Answers every m-line; returns the first accepted one (BUNDLE tag) in *tag. */
static stoa_sdp *answer_all(answer_ctx *c, const stoa_sdp_media **otag, stoa_sdp_media **atag)
{
	const stoa_sdp_answer_params *p = c->p;
	stoa_sdp *a = session_new(p->session_name, p->session_id, p->session_version,
				  p->fingerprint, p->ice_lite);
	a->extmap_allow_mixed = offer_mixed(c->offer);
	stoa_sdp_group *g = g_new0(stoa_sdp_group, 1);
	g->semantics = g_strdup("BUNDLE");
	g->mids = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < c->offer->media->len; i++) {
		const stoa_sdp_media *om = g_ptr_array_index(c->offer->media, i);
		bool accepted;
		stoa_sdp_media *am = answer_media(c, om, i, &accepted);
		g_ptr_array_add(a->media, am);
		if (!accepted)
			continue;
		g_ptr_array_add(g->mids, g_strdup(am->mid));
		if (*atag == NULL) {
			*otag = om;
			*atag = am;
		}
	}
	if (g->mids->len > 0 && c->bundle != NULL) {
		g_ptr_array_add(a->groups, g);
	} else {
		g_ptr_array_free(g->mids, TRUE);
		g_free(g->semantics);
		g_free(g);
	}
	return a;
}

stoa_sdp *stoa_sdp_answer(const stoa_sdp *offer, const stoa_sdp_answer_params *p, char *err,
			  size_t errlen)
{
	if (check_answer_params(offer, p, err, errlen) < 0)
		return NULL;
	answer_ctx c = {
		.offer = offer,
		.p = p,
		.bundle = stoa_sdp_group_find(offer, "BUNDLE"),
		.setup = p->setup != STOA_SDP_SETUP_NONE ? p->setup : stoa_sdp_answer_setup(offer),
		.exts = p->extmaps != NULL ? p->extmaps : default_exts,
		.used_ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t)),
	};
	collect_ssrcs(offer, c.used_ssrcs);
	const stoa_sdp_media *otag = NULL;
	stoa_sdp_media *atag = NULL;
	stoa_sdp *a = answer_all(&c, &otag, &atag);
	g_array_free(c.used_ssrcs, TRUE);
	if (otag != NULL && check_offer_transport(offer, otag, err, errlen) < 0) {
		stoa_sdp_free(a);
		return NULL;
	}
	if (atag != NULL)
		add_candidates(atag, p->candidates, p->end_of_candidates);
	return a;
}

/* ---------------------------------------------------------------- offers */

static int offer_check(const stoa_sdp_offer_params *p, char *err, size_t errlen)
{
	if (p == NULL || p->ice_ufrag == NULL || p->ice_pwd == NULL || p->fingerprint == NULL) {
		snprintf(err, errlen, "offer needs local ICE credentials and a fingerprint");
		return -1;
	}
	if (p->n_media == 0 || p->n_media > STOA_SDP_MAX_MEDIA || p->media == NULL) {
		snprintf(err, errlen, "offer needs 1..%d m-lines", STOA_SDP_MAX_MEDIA);
		return -1;
	}
	for (size_t i = 0; i < p->n_media; i++) {
		const stoa_sdp_offer_media *d = &p->media[i];
		if (d->mid == NULL || d->mid[0] == '\0' || strchr(d->mid, ' ') != NULL) {
			snprintf(err, errlen, "m-line %zu: bad mid", i);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->media[j].mid, d->mid) == 0) {
				snprintf(err, errlen, "m-line %zu: duplicate mid '%s'", i, d->mid);
				return -1;
			}
		}
	}
	return 0;
}

static int offer_codecs(stoa_sdp_media *m, const stoa_sdp_offer_media *d, char *err,
			size_t errlen)
{
	const stoa_sdp_codec_info *info = stoa_sdp_codec_info_find(d->codec);
	if (info == NULL || info->type != d->type) {
		snprintf(err, errlen, "mid %s: unknown %s codec '%s'", d->mid, m->type_str,
			 d->codec != NULL ? d->codec : "(none)");
		return -1;
	}
	if (d->pt < 0 || d->pt > 127 || d->rtx_pt < 0 || d->rtx_pt > 127 || d->rtx_pt == d->pt) {
		snprintf(err, errlen, "mid %s: bad payload types", d->mid);
		return -1;
	}
	stoa_sdp_codec *c = stoa_sdp_codec_new(d->pt, info->rtp_name, info->clock, info->channels);
	c->fmtp = g_strdup(d->fmtp != NULL ? d->fmtp : info->fmtp);
	g_ptr_array_add(m->codecs, c);
	if (stoa_sdp_media_extmap_id(m, STOA_SDP_EXT_ABS_SEND_TIME) > 0 && d->type == STOA_SDP_VIDEO)
		g_ptr_array_add(c->rtcp_fb, g_strdup("goog-remb"));
	if (stoa_sdp_media_extmap_id(m, STOA_SDP_EXT_TWCC) > 0)
		g_ptr_array_add(c->rtcp_fb, g_strdup("transport-cc"));
	if (d->type == STOA_SDP_VIDEO) {
		static const char *const fbs[] = { "ccm fir", "nack", "nack pli" };
		for (size_t i = 0; i < G_N_ELEMENTS(fbs); i++)
			g_ptr_array_add(c->rtcp_fb, g_strdup(fbs[i]));
	}
	if (d->rtx_pt > 0) {
		stoa_sdp_codec *rx = stoa_sdp_codec_new(d->rtx_pt, "rtx", info->clock, 0);
		rx->fmtp = g_strdup_printf("apt=%d", d->pt);
		rx->apt = d->pt;
		c->rtx_pt = d->rtx_pt;
		g_ptr_array_add(m->codecs, rx);
	}
	return 0;
}

static int offer_extmaps(stoa_sdp_media *m, const stoa_sdp_offer_media *d, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < d->n_extmaps; i++) {
		const stoa_sdp_extmap_desc *e = &d->extmaps[i];
		bool dup = false;
		for (guint j = 0; j < m->extmaps->len && !dup; j++)
			dup = ((stoa_sdp_extmap *)g_ptr_array_index(m->extmaps, j))->id == e->id;
		if (e->id < 1 || e->id > 255 || e->uri == NULL || dup) {
			snprintf(err, errlen, "mid %s: bad extmap %d", d->mid, e->id);
			return -1;
		}
		add_extmap(m, e->id, -1, e->uri);
	}
	return 0;
}

static stoa_sdp_media *offer_media(const stoa_sdp_offer_params *p, const stoa_sdp_offer_media *d,
				   char *err, size_t errlen)
{
	static const char *const types[] = { "audio", "video", "application" };
	if (d->type > STOA_SDP_APPLICATION) {
		snprintf(err, errlen, "mid %s: bad media type", d->mid);
		return NULL;
	}
	stoa_sdp_media *m = stoa_sdp_media_new(types[d->type]);
	m->mid = g_strdup(d->mid);
	media_transport(m, p->ice_ufrag, p->ice_pwd, STOA_SDP_SETUP_ACTPASS);
	if (d->rejected)
		m->port = 0;
	if (d->type == STOA_SDP_APPLICATION) {
		m->proto = g_strdup("UDP/DTLS/SCTP");
		data_channel(m, false, p->max_message_size);
		return m;
	}
	m->proto = g_strdup("UDP/TLS/RTP/SAVPF");
	m->dir = d->rejected ? STOA_SDP_INACTIVE : d->dir;
	m->rtcp_mux = true;
	m->rtcp_rsize = true;
	if (offer_extmaps(m, d, err, errlen) < 0 || offer_codecs(m, d, err, errlen) < 0) {
		stoa_sdp_media_free(m);
		return NULL;
	}
	if (!d->rejected && (d->dir == STOA_SDP_SENDRECV || d->dir == STOA_SDP_SENDONLY)) {
		char *track = d->msid_track != NULL ? g_strdup(d->msid_track)
						    : g_strdup_printf("%s%s", m->type_str, d->mid);
		add_sender(m, d->ssrc, d->ssrc != 0 && d->rtx_pt > 0 ? d->rtx_ssrc : 0,
			   p->cname != NULL ? p->cname : "stoa",
			   p->msid_stream != NULL ? p->msid_stream : "stoa", track);
		g_free(track);
	}
	return m;
}

stoa_sdp *stoa_sdp_offer(const stoa_sdp_offer_params *p, char *err, size_t errlen)
{
	if (offer_check(p, err, errlen) < 0)
		return NULL;
	stoa_sdp *o = session_new(p->session_name, p->session_id, p->session_version,
				  p->fingerprint, p->ice_lite);
	o->extmap_allow_mixed = true;
	stoa_sdp_group *g = g_new0(stoa_sdp_group, 1);
	g->semantics = g_strdup("BUNDLE");
	g->mids = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(o->groups, g);
	stoa_sdp_media *first = NULL;
	for (size_t i = 0; i < p->n_media; i++) {
		stoa_sdp_media *m = offer_media(p, &p->media[i], err, errlen);
		if (m == NULL) {
			stoa_sdp_free(o);
			return NULL;
		}
		g_ptr_array_add(o->media, m);
		if (p->media[i].rejected)
			continue;
		g_ptr_array_add(g->mids, g_strdup(m->mid));
		if (first == NULL)
			first = m;
	}
	if (first != NULL)
		add_candidates(first, p->candidates, p->end_of_candidates);
	return o;
}
