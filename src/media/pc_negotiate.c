/*
 * pc_negotiate.c: remote offers in, local answers out, and the streams they
 * produce. Parsing happens on the caller's thread (so garbage SDP is refused
 * before anything is posted); everything that touches the agent or the
 * streams runs on the pc's loop.
 *
 * BUNDLE and rtcp-mux: one transport for every m-line, whose ICE credentials,
 * candidates and fingerprint are those of the first accepted m-line (RFC 8843
 * §7: candidates for other m-lines of the bundle are ignored, as Janus does).
 */
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "media/ice/turn_rest.h"
#include "media/pc_internal.h"
#include "media/rtp/rtx_buffer.h"

#define STOA_LOG_MODULE "pc"

#define EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

/* How long an answer waits for our candidates (Janus waits about 5 s too). */
#define GATHER_WAIT_US (5 * G_USEC_PER_SEC)

int stoa__pc_dtls_setup(stoa_pc *pc, stoa_dtls_role role, const char *fp_alg, const char *fp);
stoa_ice *stoa__pc_ice(stoa_pc *pc);

int stoa_pc_check_sdp(const char *sdp, char *err, size_t errlen)
{
	stoa_sdp *s = stoa_sdp_parse(sdp, strlen(sdp), err, errlen);
	if (s == NULL)
		return -1;
	stoa_sdp_free(s);
	return 0;
}

/* The first m-line that is not rejected: its transport is the bundle's. */
const stoa_sdp_media *stoa__pc_bundle_media(const stoa_sdp *s)
{
	for (guint i = 0; i < s->media->len; i++) {
		const stoa_sdp_media *m = s->media->pdata[i];
		if (m->port != 0 || m->bundle_only)
			return m;
	}
	return NULL;
}

static void add_remote_candidates(stoa_pc *pc, const stoa_sdp_media *m)
{
	for (guint i = 0; m->candidates != NULL && i < m->candidates->len; i++)
		stoa_ice_add_remote_candidate(pc->ice, m->candidates->pdata[i]);
	if (m->end_of_candidates && !pc->remote_trickle_done) {
		pc->remote_trickle_done = true;
		stoa_ice_remote_gathering_done(pc->ice);
	}
}

static bool credentials_changed(const stoa_sdp *old, const stoa_sdp *now)
{
	if (old == NULL)
		return false;
	const stoa_sdp_media *a = stoa__pc_bundle_media(old), *b = stoa__pc_bundle_media(now);
	return a != NULL && b != NULL &&
	       g_strcmp0(stoa_sdp_media_ice_ufrag(old, a), stoa_sdp_media_ice_ufrag(now, b)) != 0;
}

/* Our DTLS role for a remote offer. Janus answers actpass with active
 * (DTLS client); we answer passive, so that as DTLS server our SRTP profile
 * order (AEAD_AES_128_GCM first, ~5x cheaper per packet) decides, since the
 * server picks the profile (RFC 5764 §4.1.1). */
static stoa_sdp_setup answer_setup(const stoa_sdp *offer)
{
	const stoa_sdp_media *m = stoa__pc_bundle_media(offer);
	return stoa_sdp_media_setup(offer, m) == STOA_SDP_SETUP_PASSIVE ? STOA_SDP_SETUP_ACTIVE
									 : STOA_SDP_SETUP_PASSIVE;
}

/* Loop thread. Takes ownership of `sdp`, an offer, or the answer to our
 * offer (`answer`: an ICE restart then was ours, and already done). */
int stoa__pc_apply_remote(stoa_pc *pc, stoa_sdp *sdp, bool answer)
{
	const stoa_sdp_media *m = stoa__pc_bundle_media(sdp);
	bool restart = credentials_changed(pc->remote, sdp);
	if (pc->remote != NULL)
		stoa_sdp_free(pc->remote);
	pc->remote = sdp;
	if (stoa__pc_ice_setup(pc, false) < 0) {
		stoa__pc_close_now(pc, "ICE gathering error", true);
		return -1;
	}
	if (restart) {
		STOA_LOG_S(STOA_LOG_INFO, pc->session_id, pc->handle_id, "ICE restart");
		pc->remote_trickle_done = false;
		if (!answer)
			stoa_ice_restart(pc->ice);
	}
	stoa_ice_set_remote_credentials(pc->ice, stoa_sdp_media_ice_ufrag(sdp, m),
					stoa_sdp_media_ice_pwd(sdp, m));
	add_remote_candidates(pc, m);
	const char *alg = NULL;
	const char *fp = stoa_sdp_media_fingerprint(sdp, m, &alg);
	stoa_dtls_role role = answer_setup(sdp) == STOA_SDP_SETUP_PASSIVE
				      ? STOA_DTLS_ROLE_PASSIVE
				      : STOA_DTLS_ROLE_ACTIVE;
	if (stoa__pc_dtls_setup(pc, role, alg, fp) < 0) {
		stoa__pc_close_now(pc, "DTLS error", true);
		return -1;
	}
	return 0;
}

typedef struct remote_job {
	stoa_pc *pc;
	stoa_sdp *sdp;
	bool trickle;
} remote_job;

static gboolean remote_job_run(gpointer p)
{
	remote_job *j = p;
	if (stoa_pc_get_state(j->pc) != STOA_PC_CLOSED) {
		stoa__pc_apply_remote(j->pc, j->sdp, false);
		j->sdp = NULL;
		if (!j->trickle && j->pc->ice != NULL && !j->pc->remote_trickle_done) {
			/* Non-trickle offer: every candidate is in the SDP. */
			j->pc->remote_trickle_done = true;
			stoa_ice_remote_gathering_done(j->pc->ice);
		}
	}
	return G_SOURCE_REMOVE;
}

static void remote_job_free(gpointer p)
{
	remote_job *j = p;
	if (j->sdp != NULL)
		stoa_sdp_free(j->sdp);
	stoa_pc_unref(j->pc);
	g_free(j);
}

int stoa_pc_set_remote_offer(stoa_pc *pc, const char *sdp, bool trickle, char *err, size_t errlen)
{
	stoa_sdp *s = stoa_sdp_parse(sdp, strlen(sdp), err, errlen);
	if (s == NULL)
		return -1;
	const stoa_sdp_media *m = stoa__pc_bundle_media(s);
	if (m == NULL || stoa_sdp_media_ice_ufrag(s, m) == NULL || stoa_sdp_media_ice_pwd(s, m) == NULL) {
		g_snprintf(err, errlen, "no m-line with ICE credentials");
		stoa_sdp_free(s);
		return -1;
	}
	if (stoa_sdp_media_fingerprint(s, m, NULL) == NULL) {
		g_snprintf(err, errlen, "no DTLS fingerprint");
		stoa_sdp_free(s);
		return -1;
	}
	/* An ICE restart keeps the gathered candidates (libnice restarts the
	 * stream with new credentials), so `gathered` stays as it is. */
	g_mutex_lock(&pc->lock);
	g_free(pc->remote_sdp);
	pc->remote_sdp = g_strdup(sdp);
	g_mutex_unlock(&pc->lock);
	remote_job *j = g_new0(remote_job, 1);
	j->pc = stoa_pc_ref(pc);
	j->sdp = s;
	j->trickle = trickle;
	stoa_loop_post(pc->loop, remote_job_run, j, remote_job_free);
	return 0;
}

/* ---- trickle ---- */

typedef struct trickle_job {
	stoa_pc *pc;
	json_t *cand;
} trickle_job;

const char *stoa__pc_first_mid(const stoa_pc *pc)
{
	/* Before the answer to our own offer, the offer's first m-line. */
	const stoa_sdp *s = pc->remote != NULL ? pc->remote : pc->local;
	const stoa_sdp_media *m = s != NULL ? stoa__pc_bundle_media(s) : NULL;
	return m != NULL ? m->mid : NULL;
}

static gboolean trickle_run(gpointer p)
{
	trickle_job *j = p;
	stoa_pc *pc = j->pc;
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED || pc->ice == NULL)
		return G_SOURCE_REMOVE;
	json_t *c = j->cand;
	if (!json_is_object(c) || json_is_true(json_object_get(c, "completed"))) {
		if (!pc->remote_trickle_done) {
			pc->remote_trickle_done = true;
			stoa_ice_remote_gathering_done(pc->ice);
		}
		return G_SOURCE_REMOVE;
	}
	const char *mid = json_string_value(json_object_get(c, "sdpMid"));
	json_t *idx = json_object_get(c, "sdpMLineIndex");
	/* BUNDLE: only the first m-line's candidates count. */
	if ((mid != NULL && g_strcmp0(mid, stoa__pc_first_mid(pc)) != 0) ||
	    (mid == NULL && json_is_integer(idx) && json_integer_value(idx) > 0))
		return G_SOURCE_REMOVE;
	const char *text = json_string_value(json_object_get(c, "candidate"));
	if (text != NULL && *text != '\0')
		stoa_ice_add_remote_candidate(pc->ice, text);
	return G_SOURCE_REMOVE;
}

static void trickle_free(gpointer p)
{
	trickle_job *j = p;
	json_decref(j->cand);
	stoa_pc_unref(j->pc);
	g_free(j);
}

void stoa_pc_trickle(stoa_pc *pc, json_t *candidate)
{
	trickle_job *j = g_new0(trickle_job, 1);
	j->pc = stoa_pc_ref(pc);
	j->cand = json_incref(candidate != NULL ? candidate : json_null());
	stoa_loop_post(pc->loop, trickle_run, j, trickle_free);
}

/* ---- answers ---- */

static void stream_free(stoa_pc_stream *s)
{
	if (s == NULL)
		return;
	if (s->rtxbuf != NULL)
		stoa_rtx_buffer_free(s->rtxbuf);
	for (int i = 0; i < STOA_PC_MAX_LAYERS; i++) {
		g_free(s->rl[i].rid);
		g_free(s->rl[i].nackgen);
	}
	g_free(s->mid);
	g_free(s);
}

void stoa__pc_streams_free(stoa_pc *pc)
{
	for (guint i = 0; i < pc->streams->len; i++)
		stream_free(pc->streams->pdata[i]);
	g_ptr_array_set_size(pc->streams, 0);
}

static bool codec_has_fb(const stoa_sdp_codec *c, const char *fb)
{
	for (guint i = 0; c->rtcp_fb != NULL && i < c->rtcp_fb->len; i++)
		if (strcmp(c->rtcp_fb->pdata[i], fb) == 0)
			return true;
	return false;
}

/* The media SSRC and its RTX SSRC: from an FID group, else the first a=ssrc. */
static void media_ssrcs(const stoa_sdp_media *m, uint32_t *media, uint32_t *rtx)
{
	*media = *rtx = 0;
	for (guint i = 0; m->ssrc_groups != NULL && i < m->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *g = m->ssrc_groups->pdata[i];
		if (strcmp(g->semantics, "FID") == 0 && g->ssrcs->len >= 2) {
			*media = g_array_index(g->ssrcs, uint32_t, 0);
			*rtx = g_array_index(g->ssrcs, uint32_t, 1);
			return;
		}
	}
	if (m->ssrcs != NULL && m->ssrcs->len > 0)
		*media = ((stoa_sdp_ssrc *)m->ssrcs->pdata[0])->ssrc;
}

/* The RTX SSRC paired with `ssrc` by an FID group, or 0. */
static uint32_t fid_of(const stoa_sdp_media *m, uint32_t ssrc)
{
	for (guint i = 0; m->ssrc_groups != NULL && i < m->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *g = m->ssrc_groups->pdata[i];
		if (strcmp(g->semantics, "FID") == 0 && g->ssrcs->len >= 2 &&
		    g_array_index(g->ssrcs, uint32_t, 0) == ssrc)
			return g_array_index(g->ssrcs, uint32_t, 1);
	}
	return 0;
}

/*
 * Simulcast layers the offer sends, by substream (0 = lowest quality).
 * rid-based (RFC 8853, what Chromium and janus.js do): the offer's a=rid
 * "send" lines, which janus.js lists highest first ("h", "m", "l": rid
 * order "hml", Janus's default) unless the client said "lmh"; their SSRCs
 * are learned from the rid/repaired-rid header extensions. SSRC-based
 * (a=ssrc-group:SIM, listed lowest first): the SSRCs are known now, their
 * RTX SSRCs come from the FID groups. Returns the number of layers, 0 when
 * the stream is not simulcast.
 */
static int simulcast_layers(const stoa_sdp_media *offer, const stoa_sdp_media *answer,
			    bool rid_lmh, stoa_pc_rlayer *rl)
{
	if (offer->type != STOA_SDP_VIDEO)
		return 0;
	if (offer->simulcast != NULL && answer->rids != NULL && answer->rids->len > 0) {
		const char *ids[STOA_PC_MAX_LAYERS];
		int n = 0;
		for (guint i = 0; i < offer->rids->len && n < STOA_PC_MAX_LAYERS; i++) {
			const stoa_sdp_rid *r = offer->rids->pdata[i];
			if (r->send)
				ids[n++] = r->id;
		}
		for (int i = 0; i < n; i++)
			rl[rid_lmh ? i : n - 1 - i].rid = g_strdup(ids[i]);
		return n;
	}
	for (guint i = 0; offer->ssrc_groups != NULL && i < offer->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *g = offer->ssrc_groups->pdata[i];
		if (strcmp(g->semantics, "SIM") != 0 || g->ssrcs->len < 2)
			continue;
		int n = MIN((int)g->ssrcs->len, STOA_PC_MAX_LAYERS);
		for (int k = 0; k < n; k++) {
			rl[k].ssrc = g_array_index(g->ssrcs, uint32_t, k);
			rl[k].rtx_ssrc = fid_of(offer, rl[k].ssrc);
		}
		return n;
	}
	return 0;
}

/* The remote codec with payload type `pt`, or NULL. */
static const stoa_sdp_codec *codec_by_pt(const stoa_sdp_media *m, int pt)
{
	for (guint i = 0; m->codecs != NULL && i < m->codecs->len; i++) {
		const stoa_sdp_codec *c = m->codecs->pdata[i];
		if (c->pt == pt)
			return c;
	}
	return NULL;
}

static bool dir_sends(stoa_sdp_dir d)
{
	return d == STOA_SDP_SENDRECV || d == STOA_SDP_SENDONLY;
}

static bool dir_receives(stoa_sdp_dir d)
{
	return d == STOA_SDP_SENDRECV || d == STOA_SDP_RECVONLY;
}

/*
 * One stream from the remote and local descriptions of an m-line. When we
 * answered, `local` is the answer and already holds only what both sides
 * agreed. When we offered (`offerer`), `local` is our offer and the remote
 * answer narrows it: the codec must be in the answer, feedback counts only
 * if the answer kept it, the directions are what both allow, and the
 * header extension ids are those the answer accepted.
 */
static stoa_pc_stream *stream_from(const stoa_sdp_media *remote, const stoa_sdp_media *local,
				   int mindex, bool rid_lmh, bool offerer, stoa_pc_stream *old)
{
	const stoa_sdp_codec *c = local->codecs->len > 0 ? local->codecs->pdata[0] : NULL;
	if (c == NULL)
		return NULL;
	const stoa_sdp_codec *peer_codec = offerer ? codec_by_pt(remote, c->pt) : c;
	if (peer_codec == NULL)
		return NULL;
	const stoa_sdp_media *offer = remote, *answer = offerer ? remote : local;
	stoa_pc_stream *s = g_new0(stoa_pc_stream, 1);
	s->mindex = mindex;
	s->mid = g_strdup(local->mid);
	s->video = local->type == STOA_SDP_VIDEO;
	s->send = dir_sends(local->dir) && (!offerer || dir_receives(remote->dir));
	s->recv = dir_receives(local->dir) && (!offerer || dir_sends(remote->dir));
	s->pt = c->pt;
	s->rtx_pt = offerer && codec_by_pt(remote, c->rtx_pt) == NULL ? -1 : c->rtx_pt;
	s->clock = c->clock > 0 ? c->clock : 90000;
	s->red_pt = -1;
	s->nack = codec_has_fb(c, "nack") && codec_has_fb(peer_codec, "nack");
	s->nrl = offerer ? 0 : simulcast_layers(offer, answer, rid_lmh, s->rl);
	s->simulcast = s->nrl > 0;
	if (!s->simulcast) {
		s->nrl = 1;
		media_ssrcs(offer, &s->rl[0].ssrc, &s->rl[0].rtx_ssrc);
	}
	media_ssrcs(local, &s->local_ssrc, &s->local_rtx_ssrc);
	s->ext_mid = stoa_sdp_media_extmap_id(answer, EXT_MID);
	s->ext_audio_level = stoa_sdp_media_extmap_id(answer, EXT_AUDIO_LEVEL);
	s->ext_rid = stoa_sdp_media_extmap_id(answer, EXT_RID);
	s->ext_rrid = stoa_sdp_media_extmap_id(answer, EXT_RRID);
	s->ext_twcc = stoa_sdp_media_extmap_id(answer, STOA_SDP_EXT_TWCC);
	for (int i = 0; i < s->nrl; i++) {
		stoa_rtp_recv_stats_init(&s->rl[i].rstats, (uint32_t)s->clock);
	}
	stoa_rtp_send_stats_init(&s->sstats, (uint32_t)s->clock);
	if (old != NULL) {
		/* A renegotiation keeps what was learned about the same stream
		 * (and the same layers: same rid, or no rid on either side). */
		for (int i = 0; i < s->nrl && s->simulcast == old->simulcast; i++) {
			stoa_pc_rlayer *l = &s->rl[i], *o = &old->rl[i];
			if (l->ssrc != 0 || g_strcmp0(l->rid, o->rid) != 0)
				continue;
			l->ssrc = o->ssrc;
			if (l->rtx_ssrc == 0)
				l->rtx_ssrc = o->rtx_ssrc;
		}
		s->rtx_seq = old->rtx_seq;
		if (old->local_ssrc == s->local_ssrc) {
			/* Same outgoing stream: its statistics and the packets the
			 * peer may still NACK carry over. */
			stoa_rtx_buffer *fresh = s->rtxbuf;
			s->rtxbuf = old->rtxbuf;
			old->rtxbuf = fresh;
			s->sstats = old->sstats;
			s->out_packets = old->out_packets;
			s->out_bytes = old->out_bytes;
			s->nacks_received = old->nacks_received;
			s->retransmissions_out = old->retransmissions_out;
			s->plugin_rtx = old->plugin_rtx;
		}
	}
	return s;
}

void stoa__pc_build_streams(stoa_pc *pc, bool offerer)
{
	GPtrArray *old = g_ptr_array_new_with_free_func((GDestroyNotify)stream_free);
	for (guint i = 0; i < pc->streams->len; i++)
		g_ptr_array_add(old, pc->streams->pdata[i]);
	g_ptr_array_set_size(pc->streams, 0);
	g_clear_pointer(&pc->data_mid, g_free);
	for (guint i = 0; i < pc->local->media->len; i++) {
		const stoa_sdp_media *a = pc->local->media->pdata[i];
		const stoa_sdp_media *o = i < pc->remote->media->len ? pc->remote->media->pdata[i] : NULL;
		stoa_pc_stream *s = NULL;
		if (a->port != 0 && o != NULL && (!offerer || o->port != 0) && stoa_sdp_media_is_rtp(a))
			s = stream_from(o, a, (int)i, pc->rid_lmh, offerer,
					i < old->len ? old->pdata[i] : NULL);
		else if (a->port != 0 && a->type == STOA_SDP_APPLICATION)
			pc->data_mid = g_strdup(a->mid);
		g_ptr_array_add(pc->streams, s);
	}
	g_ptr_array_unref(old);
}

static uint32_t map_ssrc(uint32_t ssrc, uint32_t from_media, uint32_t from_rtx, uint32_t to_media,
			 uint32_t to_rtx)
{
	if (ssrc == from_media && to_media != 0)
		return to_media;
	if (ssrc == from_rtx && from_rtx != 0 && to_rtx != 0)
		return to_rtx;
	return ssrc;
}

/* A renegotiation (an ICE restart, a direction change) must not change the
 * SSRCs we send with: the peer would see a new stream, reset its decoder
 * and ask for a keyframe. The answer builder picks fresh ones, so the
 * previous answer's are put back, m-line by m-line (by mid). */
static void keep_local_ssrcs(const stoa_sdp *old, stoa_sdp *answer)
{
	for (guint i = 0; i < answer->media->len; i++) {
		stoa_sdp_media *m = answer->media->pdata[i];
		const stoa_sdp_media *o = m->mid != NULL ? stoa_sdp_media_by_mid(old, m->mid) : NULL;
		if (o == NULL || m->ssrcs == NULL || m->ssrcs->len == 0)
			continue;
		uint32_t om, orx, nm, nrx;
		media_ssrcs(o, &om, &orx);
		media_ssrcs(m, &nm, &nrx);
		if (om == 0)
			continue;
		for (guint k = 0; k < m->ssrcs->len; k++) {
			stoa_sdp_ssrc *x = m->ssrcs->pdata[k];
			x->ssrc = map_ssrc(x->ssrc, nm, nrx, om, orx);
		}
		for (guint k = 0; m->ssrc_groups != NULL && k < m->ssrc_groups->len; k++) {
			stoa_sdp_ssrc_group *g = m->ssrc_groups->pdata[k];
			for (guint j = 0; j < g->ssrcs->len; j++) {
				uint32_t *v = &g_array_index(g->ssrcs, uint32_t, j);
				*v = map_ssrc(*v, nm, nrx, om, orx);
			}
		}
	}
}

static char **split_codecs(json_t *prefs, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(prefs, key));
	char **list = g_strsplit(v != NULL && *v ? v : dflt, ",", -1);
	for (char **p = list; *p != NULL; p++)
		g_strstrip(*p);
	return list;
}

static int direction_cb(const stoa_sdp_media *offered, unsigned index, void *user)
{
	json_t *prefs = user;
	if (offered->type == STOA_SDP_AUDIO && json_is_false(json_object_get(prefs, "audio")))
		return -1;
	if (offered->type == STOA_SDP_VIDEO && json_is_false(json_object_get(prefs, "video")))
		return -1;
	/* A publisher's stream: we only receive (Janus's VideoRoom answers
	 * recvonly even to a sendrecv offer). */
	if (json_is_true(json_object_get(prefs, "recvonly")) && offered->type != STOA_SDP_APPLICATION)
		return dir_sends(offered->dir) ? STOA_SDP_RECVONLY : STOA_SDP_INACTIVE;
	return (int)stoa_sdp_dir_reverse(offered->dir);
}

/* The header extensions an answer accepts when offered. Those with a
 * `pref` are dropped when the answer preferences set that key to false
 * (Janus's VideoRoom room options, same names); the others are always
 * accepted, as the core needs them (mid, simulcast rids) or they cost
 * nothing. */
static const struct {
	const char *uri, *pref;
} answer_exts[] = {
	{ STOA_SDP_EXT_MID, NULL },
	{ STOA_SDP_EXT_RID, NULL },
	{ STOA_SDP_EXT_RRID, NULL },
	{ STOA_SDP_EXT_ABS_SEND_TIME, NULL },
	{ STOA_SDP_EXT_TWCC, "transport_wide_cc_ext" },
	{ STOA_SDP_EXT_AUDIO_LEVEL, "audiolevel_ext" },
	{ STOA_SDP_EXT_VIDEO_ORIENTATION, "videoorient_ext" },
	{ STOA_SDP_EXT_PLAYOUT_DELAY, "playoutdelay_ext" },
};

/* Fills `out` (room for every entry and a NULL) with the URIs `prefs` accepts. */
static void accepted_exts(json_t *prefs, const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(answer_exts); i++)
		if (answer_exts[i].pref == NULL ||
		    !json_is_false(json_object_get(prefs, answer_exts[i].pref)))
			out[n++] = answer_exts[i].uri;
	out[n] = NULL;
}

/* An Opus preference key: 1 true, -1 false, 0 absent (echo the offer). */
static int opus_pref(json_t *prefs, const char *key)
{
	json_t *v = json_object_get(prefs, key);
	return json_is_true(v) ? 1 : json_is_false(v) ? -1 : 0;
}

typedef struct answer_call {
	stoa_pc *pc;
	json_t *prefs;
	char *sdp;
	char err[256];
} answer_call;

char *stoa__pc_build_answer(stoa_pc *pc, json_t *prefs, char *err, size_t errlen)
{
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED) {
		g_snprintf(err, errlen, "the peer connection closed (%s)",
			   pc->close_reason != NULL ? pc->close_reason : "hangup");
		return NULL;
	}
	if (pc->remote == NULL || pc->ice == NULL) {
		g_snprintf(err, errlen, "no remote offer to answer");
		return NULL;
	}
	char **audio = split_codecs(prefs, "audiocodec", "opus,pcmu,pcma,g722");
	char **video = split_codecs(prefs, "videocodec", "vp8,vp9,h264,av1");
	GPtrArray *cands = stoa_ice_local_candidates(pc->ice);
	g_ptr_array_add(cands, NULL);
	const char *vp9 = json_string_value(json_object_get(prefs, "vp9_profile"));
	const char *exts[G_N_ELEMENTS(answer_exts) + 1];
	accepted_exts(prefs, exts);
	stoa_sdp_answer_params p = {
		.ice_ufrag = stoa_ice_local_ufrag(pc->ice),
		.ice_pwd = stoa_ice_local_pwd(pc->ice),
		.fingerprint = stoa_media_fingerprint(),
		/* The agent runs in lite mode (ice.c): the peer must know (RFC 8445 §5.1.1). */
		.ice_lite = stoa_config_get()->ice_lite,
		.setup = answer_setup(pc->remote),
		.audio_codecs = (const char *const *)audio,
		.video_codecs = (const char *const *)video,
		.constraints = { .vp9_profile = vp9 != NULL ? atoi(vp9) : -1,
				 .h264_plid = json_string_value(json_object_get(prefs, "h264_profile")),
				 .opus_fec = opus_pref(prefs, "opus_fec"),
				 .opus_dtx = opus_pref(prefs, "opus_dtx") },
		.extmaps = exts,
		.accept_data = !json_is_false(json_object_get(prefs, "data")),
		.cname = "stoa",
		.direction = direction_cb,
		.direction_user = prefs,
		.candidates = (const char *const *)cands->pdata,
		.end_of_candidates = true,
	};
	stoa_sdp *answer = stoa_sdp_answer(pc->remote, &p, err, errlen);
	g_strfreev(audio);
	g_strfreev(video);
	g_ptr_array_unref(cands);
	if (answer == NULL)
		return NULL;
	if (pc->local != NULL) {
		keep_local_ssrcs(pc->local, answer);
		stoa_sdp_free(pc->local);
	}
	pc->local = answer;
	stoa__pc_build_streams(pc, false);
	return stoa__pc_local_text(pc);
}

char *stoa__pc_local_text(stoa_pc *pc)
{
	char *text = stoa_sdp_write(pc->local);
	g_mutex_lock(&pc->lock);
	g_free(pc->local_sdp);
	pc->local_sdp = g_strdup(text);
	g_mutex_unlock(&pc->lock);
	return text;
}

static void answer_on_loop(gpointer p)
{
	answer_call *c = p;
	c->sdp = stoa__pc_build_answer(c->pc, c->prefs, c->err, sizeof(c->err));
}

void stoa__pc_wait_gathered(stoa_pc *pc)
{
	/* With the TURN REST API, gathering starts only once it answered. */
	gint64 end = g_get_monotonic_time() + GATHER_WAIT_US +
		     (stoa_turn_rest_enabled() ? (gint64)stoa_turn_rest_timeout() * G_USEC_PER_SEC : 0);
	g_mutex_lock(&pc->lock);
	while (!pc->gathered && !pc->closed_flag && g_cond_wait_until(&pc->cond, &pc->lock, end))
		;
	bool gathered = pc->gathered;
	g_mutex_unlock(&pc->lock);
	if (!gathered)
		STOA_LOG_S(STOA_LOG_WARN, pc->session_id, pc->handle_id,
			   "writing SDP before gathering finished");
}

char *stoa_pc_answer(stoa_pc *pc, json_t *prefs, char *err, size_t errlen)
{
	stoa__pc_wait_gathered(pc);
	answer_call c = { .pc = pc, .prefs = prefs != NULL ? json_incref(prefs) : json_object() };
	stoa_loop_run_sync(pc->loop, answer_on_loop, &c);
	json_decref(c.prefs);
	if (c.sdp == NULL)
		g_strlcpy(err, c.err, errlen);
	return c.sdp;
}
