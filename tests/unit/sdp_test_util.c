/*
 * sdp_test_util.c: see sdp_test_util.h. The fixtures are read from
 * $STOA_TESTDATA/sdp (make check sets it), or tests/data/sdp under
 * $STOA_SRCDIR or the current folder.
 */
#include <string.h>

#include "sdp_test_util.h"


char *fixture_text(const char *name)
{
	const char *dir = g_getenv("STOA_TESTDATA");
	char *path;
	if (dir != NULL) {
		path = g_build_filename(dir, "sdp", name, NULL);
	} else {
		const char *src = g_getenv("STOA_SRCDIR");
		path = g_build_filename(src != NULL ? src : ".", "tests", "data", "sdp", name, NULL);
	}
	char *text = NULL;
	GError *e = NULL;
	if (!g_file_get_contents(path, &text, NULL, &e))
		g_error("cannot read fixture %s: %s", path, e->message);
	g_free(path);
	return text;
}

stoa_sdp *parse_text(const char *text)
{
	char err[256] = "";
	stoa_sdp *s = stoa_sdp_parse(text, strlen(text), err, sizeof(err));
	if (s == NULL)
		g_error("parse failed: %s", err);
	return s;
}

stoa_sdp *fixture(const char *name)
{
	char *text = fixture_text(name);
	stoa_sdp *s = parse_text(text);
	g_free(text);
	return s;
}

stoa_sdp_media *media(const stoa_sdp *s, guint i)
{
	g_assert_cmpuint(i, <, s->media->len);
	return g_ptr_array_index(s->media, i);
}

const char *str_at(const GPtrArray *a, guint i)
{
	g_assert_cmpuint(i, <, a->len);
	return g_ptr_array_index(a, i);
}

bool has_str(const GPtrArray *a, const char *v)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), v) == 0)
			return true;
	return false;
}

char *replace(const char *text, const char *from, const char *to)
{
	char **parts = g_strsplit(text, from, -1);
	char *out = g_strjoinv(to, parts);
	g_strfreev(parts);
	return out;
}

void assert_codec(const stoa_sdp_media *m, int pt, const char *name, int clock,
			 int channels)
{
	const stoa_sdp_codec *c = stoa_sdp_media_codec(m, pt);
	g_assert_nonnull(c);
	g_assert_cmpstr(c->name, ==, name);
	g_assert_cmpint(c->clock, ==, clock);
	g_assert_cmpint(c->channels, ==, channels);
}

/* ---------------------------------------------------------------- model equality */

void assert_strs_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++)
		g_assert_cmpstr(g_ptr_array_index(a, i), ==, g_ptr_array_index(b, i));
}

void assert_attrs_equal(const GPtrArray *a, const GPtrArray *b)
{
	/* Verbatim attributes may be reordered around known ones; as a set they match. */
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++)
		g_assert_true(has_str(b, g_ptr_array_index(a, i)));
}

void assert_extmaps_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++) {
		const stoa_sdp_extmap *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
		g_assert_cmpint(x->id, ==, y->id);
		g_assert_cmpint(x->dir, ==, y->dir);
		g_assert_cmpstr(x->uri, ==, y->uri);
		g_assert_cmpstr(x->attrs, ==, y->attrs);
	}
}

void assert_codecs_equal(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++) {
		const stoa_sdp_codec *x = g_ptr_array_index(a, i), *y = g_ptr_array_index(b, i);
		g_assert_cmpint(x->pt, ==, y->pt);
		g_assert_cmpstr(x->name, ==, y->name);
		g_assert_cmpint(x->clock, ==, y->clock);
		g_assert_cmpint(x->channels, ==, y->channels);
		g_assert_cmpstr(x->fmtp, ==, y->fmtp);
		assert_strs_equal(x->rtcp_fb, y->rtcp_fb);
		g_assert_cmpint(x->rtx_pt, ==, y->rtx_pt);
		g_assert_cmpint(x->apt, ==, y->apt);
	}
}

void assert_ssrcs_equal(const stoa_sdp_media *a, const stoa_sdp_media *b)
{
	g_assert_cmpuint(a->ssrcs->len, ==, b->ssrcs->len);
	for (guint i = 0; i < a->ssrcs->len; i++) {
		const stoa_sdp_ssrc *x = g_ptr_array_index(a->ssrcs, i);
		const stoa_sdp_ssrc *y = g_ptr_array_index(b->ssrcs, i);
		g_assert_cmpuint(x->ssrc, ==, y->ssrc);
		g_assert_cmpstr(x->cname, ==, y->cname);
		g_assert_cmpstr(x->msid, ==, y->msid);
	}
	g_assert_cmpuint(a->ssrc_groups->len, ==, b->ssrc_groups->len);
	for (guint i = 0; i < a->ssrc_groups->len; i++) {
		const stoa_sdp_ssrc_group *x = g_ptr_array_index(a->ssrc_groups, i);
		const stoa_sdp_ssrc_group *y = g_ptr_array_index(b->ssrc_groups, i);
		g_assert_cmpstr(x->semantics, ==, y->semantics);
		g_assert_cmpmem(x->ssrcs->data, x->ssrcs->len * 4, y->ssrcs->data, y->ssrcs->len * 4);
	}
	g_assert_cmpuint(a->rids->len, ==, b->rids->len);
	for (guint i = 0; i < a->rids->len; i++) {
		const stoa_sdp_rid *x = g_ptr_array_index(a->rids, i), *y = g_ptr_array_index(b->rids, i);
		g_assert_cmpstr(x->id, ==, y->id);
		g_assert_cmpint(x->send, ==, y->send);
		g_assert_cmpstr(x->params, ==, y->params);
	}
}

void assert_media_equal(const stoa_sdp_media *a, const stoa_sdp_media *b)
{
	g_assert_cmpint(a->type, ==, b->type);
	g_assert_cmpstr(a->type_str, ==, b->type_str);
	g_assert_cmpint(a->port, ==, b->port);
	g_assert_cmpstr(a->proto, ==, b->proto);
	assert_strs_equal(a->fmts, b->fmts);
	g_assert_cmpstr(a->conn, ==, b->conn);
	assert_strs_equal(a->bandwidths, b->bandwidths);
	g_assert_cmpstr(a->rtcp, ==, b->rtcp);
	g_assert_cmpstr(a->mid, ==, b->mid);
	g_assert_cmpint(a->dir, ==, b->dir);
	g_assert_cmpstr(a->msid, ==, b->msid);
	assert_codecs_equal(a->codecs, b->codecs);
	assert_extmaps_equal(a->extmaps, b->extmaps);
	g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
	assert_ssrcs_equal(a, b);
	g_assert_cmpstr(a->simulcast, ==, b->simulcast);
	g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
	g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
	g_assert_cmpstr(a->ice_options, ==, b->ice_options);
	assert_strs_equal(a->candidates, b->candidates);
	g_assert_cmpint(a->end_of_candidates, ==, b->end_of_candidates);
	g_assert_cmpstr(a->fingerprint_alg, ==, b->fingerprint_alg);
	g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
	g_assert_cmpint(a->setup, ==, b->setup);
	g_assert_cmpint(a->rtcp_mux, ==, b->rtcp_mux);
	g_assert_cmpint(a->rtcp_rsize, ==, b->rtcp_rsize);
	g_assert_cmpint(a->bundle_only, ==, b->bundle_only);
	g_assert_cmpint(a->sctp_port, ==, b->sctp_port);
	g_assert_cmpstr(a->sctpmap, ==, b->sctpmap);
	g_assert_cmpuint(a->max_message_size, ==, b->max_message_size);
	assert_attrs_equal(a->attrs, b->attrs);
}

void assert_sdp_equal(const stoa_sdp *a, const stoa_sdp *b)
{
	g_assert_cmpstr(a->o_username, ==, b->o_username);
	g_assert_cmpstr(a->o_sess_id, ==, b->o_sess_id);
	g_assert_cmpuint(a->o_sess_version, ==, b->o_sess_version);
	g_assert_cmpstr(a->o_addr, ==, b->o_addr);
	g_assert_cmpstr(a->name, ==, b->name);
	g_assert_cmpstr(a->timing, ==, b->timing);
	g_assert_cmpint(a->dir, ==, b->dir);
	g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
	g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
	g_assert_cmpstr(a->ice_options, ==, b->ice_options);
	g_assert_cmpint(a->ice_lite, ==, b->ice_lite);
	g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
	g_assert_cmpint(a->setup, ==, b->setup);
	g_assert_cmpuint(a->groups->len, ==, b->groups->len);
	for (guint i = 0; i < a->groups->len; i++) {
		const stoa_sdp_group *x = g_ptr_array_index(a->groups, i);
		const stoa_sdp_group *y = g_ptr_array_index(b->groups, i);
		g_assert_cmpstr(x->semantics, ==, y->semantics);
		assert_strs_equal(x->mids, y->mids);
	}
	g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
	g_assert_cmpstr(a->msid_semantic, ==, b->msid_semantic);
	assert_extmaps_equal(a->extmaps, b->extmaps);
	assert_attrs_equal(a->attrs, b->attrs);
	g_assert_cmpuint(a->media->len, ==, b->media->len);
	for (guint i = 0; i < a->media->len; i++)
		assert_media_equal(media(a, i), media(b, i));
}

/* ---------------------------------------------------------------- parsing fixtures */

