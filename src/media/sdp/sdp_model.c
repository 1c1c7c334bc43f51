/*
 * sdp_model.c: constructors, destructor and lookups of the SDP model (see
 * sdp.h). Every list is a GPtrArray whose free function releases its
 * elements, so freeing a stoa_sdp releases the whole tree in one call.
 */
#include <string.h>

#include "media/sdp/sdp.h"

static void extmap_free(gpointer p)
{
	stoa_sdp_extmap *e = p;
	g_free(e->uri);
	g_free(e->attrs);
	g_free(e);
}

static void ssrc_free(gpointer p)
{
	stoa_sdp_ssrc *s = p;
	g_free(s->cname);
	g_free(s->msid);
	g_free(s);
}

static void ssrc_group_free(gpointer p)
{
	stoa_sdp_ssrc_group *g = p;
	g_free(g->semantics);
	g_array_free(g->ssrcs, TRUE);
	g_free(g);
}

static void rid_free(gpointer p)
{
	stoa_sdp_rid *r = p;
	g_free(r->id);
	g_free(r->params);
	g_free(r);
}

static void group_free(gpointer p)
{
	stoa_sdp_group *g = p;
	g_free(g->semantics);
	g_ptr_array_free(g->mids, TRUE);
	g_free(g);
}

static void codec_free_cb(gpointer p)
{
	stoa_sdp_codec_free(p);
}

static void media_free_cb(gpointer p)
{
	stoa_sdp_media_free(p);
}

stoa_sdp *stoa_sdp_new(void)
{
	stoa_sdp *s = g_new0(stoa_sdp, 1);
	s->dir = -1;
	s->bandwidths = g_ptr_array_new_with_free_func(g_free);
	s->groups = g_ptr_array_new_with_free_func(group_free);
	s->extmaps = g_ptr_array_new_with_free_func(extmap_free);
	s->media = g_ptr_array_new_with_free_func(media_free_cb);
	s->attrs = g_ptr_array_new_with_free_func(g_free);
	return s;
}

stoa_sdp_media *stoa_sdp_media_new(const char *type_str)
{
	stoa_sdp_media *m = g_new0(stoa_sdp_media, 1);
	m->type = stoa_sdp_media_type_from(type_str);
	m->type_str = g_strdup(type_str);
	m->fmts = g_ptr_array_new_with_free_func(g_free);
	m->bandwidths = g_ptr_array_new_with_free_func(g_free);
	m->codecs = g_ptr_array_new_with_free_func(codec_free_cb);
	m->extmaps = g_ptr_array_new_with_free_func(extmap_free);
	m->ssrcs = g_ptr_array_new_with_free_func(ssrc_free);
	m->ssrc_groups = g_ptr_array_new_with_free_func(ssrc_group_free);
	m->rids = g_ptr_array_new_with_free_func(rid_free);
	m->candidates = g_ptr_array_new_with_free_func(g_free);
	m->attrs = g_ptr_array_new_with_free_func(g_free);
	return m;
}

stoa_sdp_codec *stoa_sdp_codec_new(int pt, const char *name, int clock, int channels)
{
	stoa_sdp_codec *c = g_new0(stoa_sdp_codec, 1);
	c->pt = pt;
	c->name = g_strdup(name);
	c->clock = clock;
	c->channels = channels;
	c->rtcp_fb = g_ptr_array_new_with_free_func(g_free);
	c->rtx_pt = -1;
	c->apt = -1;
	return c;
}

void stoa_sdp_codec_free(stoa_sdp_codec *c)
{
	if (c == NULL)
		return;
	g_free(c->name);
	g_free(c->fmtp);
	g_ptr_array_free(c->rtcp_fb, TRUE);
	g_free(c);
}

void stoa_sdp_media_free(stoa_sdp_media *m)
{
	if (m == NULL)
		return;
	g_free(m->type_str);
	g_free(m->proto);
	g_ptr_array_free(m->fmts, TRUE);
	g_free(m->conn);
	g_ptr_array_free(m->bandwidths, TRUE);
	g_free(m->rtcp);
	g_free(m->mid);
	g_free(m->msid);
	g_ptr_array_free(m->codecs, TRUE);
	g_ptr_array_free(m->extmaps, TRUE);
	g_ptr_array_free(m->ssrcs, TRUE);
	g_ptr_array_free(m->ssrc_groups, TRUE);
	g_ptr_array_free(m->rids, TRUE);
	g_free(m->simulcast);
	g_free(m->ice_ufrag);
	g_free(m->ice_pwd);
	g_free(m->ice_options);
	g_ptr_array_free(m->candidates, TRUE);
	g_free(m->fingerprint_alg);
	g_free(m->fingerprint);
	g_free(m->sctpmap);
	g_ptr_array_free(m->attrs, TRUE);
	g_free(m);
}

void stoa_sdp_free(stoa_sdp *s)
{
	if (s == NULL)
		return;
	g_free(s->o_username);
	g_free(s->o_sess_id);
	g_free(s->o_nettype);
	g_free(s->o_addrtype);
	g_free(s->o_addr);
	g_free(s->name);
	g_free(s->timing);
	g_free(s->conn);
	g_ptr_array_free(s->bandwidths, TRUE);
	g_free(s->ice_ufrag);
	g_free(s->ice_pwd);
	g_free(s->ice_options);
	g_free(s->fingerprint_alg);
	g_free(s->fingerprint);
	g_ptr_array_free(s->groups, TRUE);
	g_free(s->msid_semantic);
	g_ptr_array_free(s->extmaps, TRUE);
	g_ptr_array_free(s->media, TRUE);
	g_ptr_array_free(s->attrs, TRUE);
	g_free(s);
}

stoa_sdp_media_type stoa_sdp_media_type_from(const char *type_str)
{
	if (type_str == NULL)
		return STOA_SDP_OTHER;
	if (strcmp(type_str, "audio") == 0)
		return STOA_SDP_AUDIO;
	if (strcmp(type_str, "video") == 0)
		return STOA_SDP_VIDEO;
	if (strcmp(type_str, "application") == 0)
		return STOA_SDP_APPLICATION;
	return STOA_SDP_OTHER;
}

bool stoa_sdp_media_is_rtp(const stoa_sdp_media *m)
{
	return m->proto != NULL && strstr(m->proto, "RTP/") != NULL;
}

const char *stoa_sdp_dir_str(stoa_sdp_dir dir)
{
	switch (dir) {
	case STOA_SDP_SENDRECV: return "sendrecv";
	case STOA_SDP_SENDONLY: return "sendonly";
	case STOA_SDP_RECVONLY: return "recvonly";
	case STOA_SDP_INACTIVE: return "inactive";
	}
	return "sendrecv";
}

const char *stoa_sdp_setup_str(stoa_sdp_setup setup)
{
	switch (setup) {
	case STOA_SDP_SETUP_NONE: return NULL;
	case STOA_SDP_SETUP_ACTPASS: return "actpass";
	case STOA_SDP_SETUP_ACTIVE: return "active";
	case STOA_SDP_SETUP_PASSIVE: return "passive";
	case STOA_SDP_SETUP_HOLDCONN: return "holdconn";
	}
	return NULL;
}

stoa_sdp_dir stoa_sdp_dir_reverse(stoa_sdp_dir dir)
{
	if (dir == STOA_SDP_SENDONLY)
		return STOA_SDP_RECVONLY;
	if (dir == STOA_SDP_RECVONLY)
		return STOA_SDP_SENDONLY;
	return dir;
}

const char *stoa_sdp_media_ice_ufrag(const stoa_sdp *s, const stoa_sdp_media *m)
{
	return m != NULL && m->ice_ufrag != NULL ? m->ice_ufrag : s->ice_ufrag;
}

const char *stoa_sdp_media_ice_pwd(const stoa_sdp *s, const stoa_sdp_media *m)
{
	return m != NULL && m->ice_pwd != NULL ? m->ice_pwd : s->ice_pwd;
}

const char *stoa_sdp_media_fingerprint(const stoa_sdp *s, const stoa_sdp_media *m,
				       const char **alg)
{
	bool media = m != NULL && m->fingerprint != NULL;
	if (alg != NULL)
		*alg = media ? m->fingerprint_alg : s->fingerprint_alg;
	return media ? m->fingerprint : s->fingerprint;
}

stoa_sdp_setup stoa_sdp_media_setup(const stoa_sdp *s, const stoa_sdp_media *m)
{
	return m != NULL && m->setup != STOA_SDP_SETUP_NONE ? m->setup : s->setup;
}

static int extmap_id_in(const GPtrArray *list, const char *uri)
{
	for (guint i = 0; i < list->len; i++) {
		const stoa_sdp_extmap *e = g_ptr_array_index(list, i);
		if (strcmp(e->uri, uri) == 0)
			return e->id;
	}
	return 0;
}

int stoa_sdp_media_extmap_id(const stoa_sdp_media *m, const char *uri)
{
	return extmap_id_in(m->extmaps, uri);
}

stoa_sdp_codec *stoa_sdp_media_codec(const stoa_sdp_media *m, int pt)
{
	for (guint i = 0; i < m->codecs->len; i++) {
		stoa_sdp_codec *c = g_ptr_array_index(m->codecs, i);
		if (c->pt == pt)
			return c;
	}
	return NULL;
}

stoa_sdp_media *stoa_sdp_media_by_mid(const stoa_sdp *s, const char *mid)
{
	for (guint i = 0; i < s->media->len; i++) {
		stoa_sdp_media *m = g_ptr_array_index(s->media, i);
		if (m->mid != NULL && strcmp(m->mid, mid) == 0)
			return m;
	}
	return NULL;
}

stoa_sdp_group *stoa_sdp_group_find(const stoa_sdp *s, const char *semantics)
{
	for (guint i = 0; i < s->groups->len; i++) {
		stoa_sdp_group *g = g_ptr_array_index(s->groups, i);
		if (strcmp(g->semantics, semantics) == 0)
			return g;
	}
	return NULL;
}
