/*
 * pc_offer.c: the server offers, the client answers — what a VideoRoom
 * subscriber needs (Janus's plugins offer whenever they send media the
 * client did not ask for in an offer of its own).
 *
 * The plugin describes the m-lines it wants (stoa_pc_offer's `desc`); the
 * pc starts its ICE agent as the controlling side (we offered; an ICE-lite
 * server is always controlled), waits for the candidates like an answer
 * does, and writes an offer with a=setup:actpass. Our SSRCs stay the same
 * for a mid across re-offers, so a renegotiation never looks like a new
 * stream to the peer. Our offers list the mid and audio level extensions
 * (the latter unless the plugin says "audiolevel_ext": false), which
 * pc_rtp.c writes on forwarded packets. The client's answer then fixes the DTLS role (its
 * a=setup), the codecs and feedback it kept, and the header extension ids
 * it accepted; the streams are built from the pair.
 *
 * Threads: stoa_pc_offer waits for gathering on the caller's thread (a
 * plugin thread, never a media loop) and builds the SDP on the loop;
 * stoa_pc_set_remote_answer parses on the caller's thread and applies on
 * the loop.
 */
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "media/pc_internal.h"

#define STOA_LOG_MODULE "pc"

/* The header extensions we write on what we send from our own offers
 * (pc_rtp.c fills them): ids fixed here, the same in every offer. */
#define OFFER_EXT_MID 1
#define OFFER_EXT_AUDIO_LEVEL 2

static const stoa_sdp_extmap_desc audio_exts[] = {
	{ OFFER_EXT_MID, STOA_SDP_EXT_MID },
	{ OFFER_EXT_AUDIO_LEVEL, STOA_SDP_EXT_AUDIO_LEVEL },
};
/* For a room that does not use audio levels (`"audiolevel_ext": false`). */
static const stoa_sdp_extmap_desc audio_exts_no_level[] = {
	{ OFFER_EXT_MID, STOA_SDP_EXT_MID },
};
static const stoa_sdp_extmap_desc video_exts[] = {
	{ OFFER_EXT_MID, STOA_SDP_EXT_MID },
};

typedef struct offer_call {
	stoa_pc *pc;
	json_t *desc;
	char *sdp;
	char err[256];
} offer_call;

/* Our previous SSRCs for `mid`, if we already described it. */
static void previous_ssrcs(const stoa_pc *pc, const char *mid, stoa_sdp_media_type type,
			   uint32_t *ssrc, uint32_t *rtx)
{
	*ssrc = *rtx = 0;
	const stoa_sdp_media *m = pc->local != NULL ? stoa_sdp_media_by_mid(pc->local, mid) : NULL;
	if (m == NULL || m->type != type || m->ssrcs == NULL || m->ssrcs->len == 0)
		return;
	*ssrc = ((stoa_sdp_ssrc *)m->ssrcs->pdata[0])->ssrc;
	for (guint i = 0; m->ssrc_groups != NULL && i < m->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *g = m->ssrc_groups->pdata[i];
		if (strcmp(g->semantics, "FID") == 0 && g->ssrcs->len >= 2)
			*rtx = g_array_index(g->ssrcs, uint32_t, 1);
	}
}

static uint32_t fresh_ssrc(void)
{
	uint32_t v;
	do
		v = g_random_int();
	while (v == 0);
	return v;
}

static stoa_sdp_media_type media_type(const char *t)
{
	if (g_strcmp0(t, "audio") == 0)
		return STOA_SDP_AUDIO;
	if (g_strcmp0(t, "video") == 0)
		return STOA_SDP_VIDEO;
	if (g_strcmp0(t, "data") == 0)
		return STOA_SDP_APPLICATION;
	return (stoa_sdp_media_type)-1;
}

/* One m-line of the plugin's description into the offer builder's form.
 * Strings stay borrowed from `d` (alive for the call). */
static int describe(const stoa_pc *pc, json_t *d, bool audio_level, stoa_sdp_offer_media *m,
		    char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->type = media_type(json_string_value(json_object_get(d, "type")));
	m->mid = json_string_value(json_object_get(d, "mid"));
	if ((int)m->type < 0 || m->mid == NULL) {
		g_snprintf(err, errlen, "each m-line needs a type (audio, video, data) and a mid");
		return -1;
	}
	m->rejected = json_is_true(json_object_get(d, "disabled"));
	if (m->type == STOA_SDP_APPLICATION)
		return 0;
	m->codec = json_string_value(json_object_get(d, "codec"));
	m->pt = (int)json_integer_value(json_object_get(d, "pt"));
	m->fmtp = json_string_value(json_object_get(d, "fmtp"));
	json_t *rtx = json_object_get(d, "rtx_pt");
	m->rtx_pt = json_is_integer(rtx) ? (int)json_integer_value(rtx) : 0;
	bool send = !json_is_false(json_object_get(d, "send"));
	bool recv = json_is_true(json_object_get(d, "recv"));
	m->dir = send && recv ? STOA_SDP_SENDRECV
		 : send	      ? STOA_SDP_SENDONLY
		 : recv	      ? STOA_SDP_RECVONLY
			      : STOA_SDP_INACTIVE;
	m->msid_track = json_string_value(json_object_get(d, "msid"));
	previous_ssrcs(pc, m->mid, m->type, &m->ssrc, &m->rtx_ssrc);
	if (m->ssrc == 0)
		m->ssrc = fresh_ssrc();
	if (m->rtx_ssrc == 0 && m->rtx_pt > 0)
		m->rtx_ssrc = fresh_ssrc();
	if (m->type == STOA_SDP_AUDIO && audio_level) {
		m->extmaps = audio_exts;
		m->n_extmaps = G_N_ELEMENTS(audio_exts);
	} else if (m->type == STOA_SDP_AUDIO) {
		m->extmaps = audio_exts_no_level;
		m->n_extmaps = G_N_ELEMENTS(audio_exts_no_level);
	} else {
		m->extmaps = video_exts;
		m->n_extmaps = G_N_ELEMENTS(video_exts);
	}
	return 0;
}

/* Loop thread. */
static char *build_offer(stoa_pc *pc, json_t *desc, char *err, size_t errlen)
{
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED || pc->ice == NULL) {
		g_snprintf(err, errlen, "the peer connection closed");
		return NULL;
	}
	json_t *list = json_object_get(desc, "media");
	size_t n = json_array_size(list);
	if (n == 0 || n > 64) {
		g_snprintf(err, errlen, "an offer needs 1..64 m-lines");
		return NULL;
	}
	stoa_sdp_offer_media *media = g_new0(stoa_sdp_offer_media, n);
	for (size_t i = 0; i < n; i++) {
		if (describe(pc, json_array_get(list, i),
			     !json_is_false(json_object_get(desc, "audiolevel_ext")), &media[i], err,
			     errlen) < 0) {
			g_free(media);
			return NULL;
		}
	}
	GPtrArray *cands = stoa_ice_local_candidates(pc->ice);
	g_ptr_array_add(cands, NULL);
	stoa_sdp_offer_params p = {
		.ice_ufrag = stoa_ice_local_ufrag(pc->ice),
		.ice_pwd = stoa_ice_local_pwd(pc->ice),
		.fingerprint = stoa_media_fingerprint(),
		.ice_lite = stoa_config_get()->ice_lite,
		.cname = "stoa",
		.msid_stream = json_string_value(json_object_get(desc, "msid")),
		.media = media,
		.n_media = n,
		.candidates = (const char *const *)cands->pdata,
		.end_of_candidates = true,
		.session_version = pc->local != NULL ? pc->local->o_sess_version + 1 : 1,
	};
	if (pc->local != NULL && pc->local->o_sess_id != NULL)
		p.session_id = g_ascii_strtoull(pc->local->o_sess_id, NULL, 10);
	stoa_sdp *offer = stoa_sdp_offer(&p, err, errlen);
	g_free(media);
	g_ptr_array_unref(cands);
	if (offer == NULL)
		return NULL;
	if (pc->local != NULL)
		stoa_sdp_free(pc->local);
	pc->local = offer;
	pc->offer_pending = true;
	return stoa__pc_local_text(pc);
}

/* Loop thread: the agent exists (controlling, since we offer) and gathers;
 * an ICE restart gets new credentials first. */
static void prepare_on_loop(gpointer data)
{
	offer_call *c = data;
	stoa_pc *pc = c->pc;
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED)
		return;
	if (pc->ice != NULL && json_is_true(json_object_get(c->desc, "restart"))) {
		STOA_LOG_S(STOA_LOG_INFO, pc->session_id, pc->handle_id, "ICE restart (our offer)");
		pc->remote_trickle_done = false;
		stoa_ice_restart(pc->ice);
		return;
	}
	if (pc->ice == NULL && stoa__pc_ice_setup(pc, true) < 0)
		stoa__pc_close_now(pc, "ICE gathering error", true);
}

static void offer_on_loop(gpointer data)
{
	offer_call *c = data;
	c->sdp = build_offer(c->pc, c->desc, c->err, sizeof(c->err));
}

char *stoa_pc_offer(stoa_pc *pc, json_t *desc, char *err, size_t errlen)
{
	offer_call c = { .pc = pc, .desc = desc };
	stoa_loop_run_sync(pc->loop, prepare_on_loop, &c);
	stoa__pc_wait_gathered(pc);
	stoa_loop_run_sync(pc->loop, offer_on_loop, &c);
	if (c.sdp == NULL)
		g_strlcpy(err, c.err, errlen);
	return c.sdp;
}

/* ---- the answer ---- */

typedef struct answer_job {
	stoa_pc *pc;
	stoa_sdp *sdp;
} answer_job;

static gboolean answer_job_run(gpointer data)
{
	answer_job *j = data;
	stoa_pc *pc = j->pc;
	if (stoa_pc_get_state(pc) == STOA_PC_CLOSED)
		return G_SOURCE_REMOVE;
	if (!pc->offer_pending || pc->local == NULL ||
	    j->sdp->media->len != pc->local->media->len) {
		STOA_LOG_S(STOA_LOG_WARN, pc->session_id, pc->handle_id,
			   "an answer that does not match our offer: ignored");
		return G_SOURCE_REMOVE;
	}
	pc->offer_pending = false;
	stoa_sdp *sdp = j->sdp;
	j->sdp = NULL;
	if (stoa__pc_apply_remote(pc, sdp, true) < 0)
		return G_SOURCE_REMOVE;
	stoa__pc_build_streams(pc, true);
	if (stoa_pc_get_state(pc) == STOA_PC_READY && pc->data_mid != NULL)
		stoa__pc_data_start(pc);
	return G_SOURCE_REMOVE;
}

static void answer_job_free(gpointer data)
{
	answer_job *j = data;
	if (j->sdp != NULL)
		stoa_sdp_free(j->sdp);
	stoa_pc_unref(j->pc);
	g_free(j);
}

int stoa_pc_set_remote_answer(stoa_pc *pc, const char *sdp, char *err, size_t errlen)
{
	stoa_sdp *s = stoa_sdp_parse(sdp, strlen(sdp), err, errlen);
	if (s == NULL)
		return -1;
	const stoa_sdp_media *m = stoa__pc_bundle_media(s);
	if (m == NULL || stoa_sdp_media_ice_ufrag(s, m) == NULL ||
	    stoa_sdp_media_ice_pwd(s, m) == NULL || stoa_sdp_media_fingerprint(s, m, NULL) == NULL) {
		g_snprintf(err, errlen, "the answer has no ICE credentials or DTLS fingerprint");
		stoa_sdp_free(s);
		return -1;
	}
	g_mutex_lock(&pc->lock);
	g_free(pc->remote_sdp);
	pc->remote_sdp = g_strdup(sdp);
	g_mutex_unlock(&pc->lock);
	answer_job *j = g_new0(answer_job, 1);
	j->pc = stoa_pc_ref(pc);
	j->sdp = s;
	stoa_loop_post(pc->loop, answer_job_run, j, answer_job_free);
	return 0;
}
