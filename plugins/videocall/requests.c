/*
 * requests.c: the VideoCall requests (list, register, presence, call,
 * accept, set, hangup), how a call ends, and presence notifications.
 *
 * A call is negotiated twice, once per leg, with the server in the middle:
 *   call    the caller's offer (already applied to its pc by the core) ->
 *           the server offers the callee the same m-lines in the same order
 *           (generate_offer), each with the codec it prefers among those the
 *           caller offered, and the caller's payload type for it;
 *   accept  the callee's answer (applied to its pc by the core) -> the
 *           server answers the caller (generate_answer) keeping only the
 *           codecs the callee kept; the call's m-line table (payload type
 *           per leg) is built from the two answers and the relay starts.
 * A renegotiation (`set` with a JSEP) runs the same two steps with whichever
 * party offers: its offer becomes a server offer to the peer (`update`),
 * and the peer's answer (`set` with an answer) becomes the server's answer
 * to the offerer (`update` again).
 *
 * Every request runs on the worker thread. vc_lock is taken around state
 * and released around generate_offer/generate_answer (they wait for ICE
 * gathering); what may have changed meanwhile (a hangup, a pc that dropped,
 * a handle that went away) is checked again when the lock is retaken.
 * Events are pushed under vc_lock so that each client sees them in the
 * order the state changed.
 *
 * Presence (a Stoa extension, opt-in, so Janus clients see nothing new):
 * a user that registered with "presence": true, or sent {"request":
 * "presence", "enable": true}, gets the list of users and of those busy
 * (ringing or in a call) at once and on every change.
 */
#include <string.h>

#include "videocall.h"

/* username -> vc_user * (borrowed: a user is removed in vc_user_gone). */
static GHashTable *registry;

void vc_registry_init(void)
{
	registry = g_hash_table_new(g_str_hash, g_str_equal);
}

void vc_registry_destroy(void)
{
	g_hash_table_unref(registry);
	registry = NULL;
}

/* ---- helpers (vc_lock held) ---- */

static gint by_name(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The registered names (and the busy ones), sorted. */
static json_t *names(bool busy_only)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, registry);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!busy_only || ((vc_user *)v)->call != NULL)
			g_ptr_array_add(a, k);
	g_ptr_array_sort(a, by_name);
	json_t *list = json_array();
	for (guint i = 0; i < a->len; i++)
		json_array_append_new(list, json_string(a->pdata[i]));
	g_ptr_array_unref(a);
	return list;
}

static json_t *presence_result(const char *joined, const char *left)
{
	json_t *res = json_pack("{s:s,s:o,s:o}", "event", "presence", "list", names(false), "busy",
				names(true));
	if (joined != NULL)
		json_object_set_new(res, "joined", json_string(joined));
	if (left != NULL)
		json_object_set_new(res, "left", json_string(left));
	return res;
}

/* Tells every presence-enabled user what changed. */
static void presence_notify(const char *joined, const char *left)
{
	json_t *res = NULL;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, registry);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vc_user *u = v;
		if (!u->presence)
			continue;
		if (res == NULL)
			res = presence_result(joined, left);
		vc_notify(u, json_incref(res), NULL);
	}
	if (res != NULL)
		json_decref(res);
}

/* Without a username (a hangup before register) Janus leaves the field out. */
static json_t *hangup_result(const char *who, const char *reason)
{
	json_t *res = json_pack("{s:s,s:s}", "event", "hangup", "reason", reason);
	if (who != NULL)
		json_object_set_new(res, "username", json_string(who));
	return res;
}

/* Closes the user's current pc once vc_lock is released. The core does not
 * report a close we asked for (no hangup_media), and the handle lets go of
 * the pc at once, so the next call starts on a fresh one. */
static void close_leg(vc_user *u)
{
	if (u->gone || vc_core->media_loop(u->ps) < 0)
		return;
	vc_defer_close(u);
}

/* What `set` chose lasts for one call, as in Janus (which resets these
 * controls whenever a user's media goes): the next call relays audio and
 * video again, sends no REMB cap and starts at the top simulcast layer,
 * whatever the page last asked for in the call before. */
static void reset_settings(vc_user *u)
{
	g_atomic_int_set(&u->audio_on, 1);
	g_atomic_int_set(&u->video_on, 1);
	g_atomic_int_set(&u->bitrate, 0);
	g_atomic_int_set(&u->substream, -1);
	g_atomic_int_set(&u->temporal, -1);
	g_atomic_int_set(&u->fallback, 0);
}

void vc_call_end(vc_call *c, unsigned close_mask)
{
	if (c->state == VC_ENDED)
		return;
	c->state = VC_ENDED;
	c->reneg_from = -1;
	for (int s = 0; s < 2; s++) {
		vc_user *u = c->user[s];
		if (u->call == c) {
			u->call = NULL;
			vc_defer_unref_call(c);
		}
		vc_link_clear(u);
		reset_settings(u);
		if (close_mask & (1u << s))
			close_leg(u);
	}
}

static void end_and_tell(vc_call *c, unsigned close_mask)
{
	vc_call_end(c, close_mask);
	presence_notify(NULL, NULL);
}

void vc_user_gone(vc_user *u)
{
	u->gone = true;
	vc_call *c = u->call;
	if (c != NULL) {
		int side = vc_side_of(c, u);
		if (side == VC_CALLEE || c->rang)
			vc_notify(c->user[!side], hangup_result(u->username, "Remote WebRTC hangup"), NULL);
		vc_call_end(c, 1u << !side);
	}
	vc_link_clear(u);
	if (u->username != NULL) {
		g_hash_table_remove(registry, u->username);
		presence_notify(NULL, u->username);
	}
}

void vc_user_pc_closed(vc_user *u)
{
	u->media_up = false;
	vc_call *c = u->call;
	if (c == NULL)
		return;
	int side = vc_side_of(c, u);
	vc_core->log(STOA_LOG_INFO, u->ps, "%s's PeerConnection closed: the call ends",
		     u->username);
	if (side == VC_CALLEE || c->rang)
		vc_notify(c->user[!side], hangup_result(u->username, "Remote WebRTC hangup"), NULL);
	end_and_tell(c, 1u << !side);
}

/* A request whose handle is being detached (destroy_session ran while it
 * waited in the queue) must not register it or put it in a call. */
static bool alive(vc_req *r)
{
	if (!r->u->gone)
		return true;
	vc_error(r, VC_ERR_UNKNOWN, "The handle is going away");
	return false;
}

/* Only `call` (and Stoa's `presence`) need a name, as in Janus: `set` and
 * `hangup` work without one, and `accept` has no call to accept (481). */
static bool registered(vc_req *r)
{
	if (!alive(r))
		return false;
	if (r->u->username != NULL)
		return true;
	vc_error(r, VC_ERR_REGISTER_FIRST, "Register a username first");
	return false;
}

static bool is_type(json_t *jsep, const char *type)
{
	return jsep != NULL && g_strcmp0(json_string_value(json_object_get(jsep, "type")), type) == 0;
}

static const char *sdp_of(json_t *jsep)
{
	return json_string_value(json_object_get(jsep, "sdp"));
}

/* ---- negotiation (no lock) ---- */

/* A dynamic payload type no m-line of the offer uses: a rejected m-line
 * still names a format, and one that collides with another line's could
 * confuse a browser. */
static int unused_pt(GPtrArray *offer)
{
	for (int pt = 96; pt < 128; pt++) {
		bool used = false;
		for (guint i = 0; i < offer->len && !used; i++) {
			const stoa_scan_mline *m = offer->pdata[i];
			for (guint k = 0; k < m->fmts->len && !used; k++)
				used = ((const stoa_scan_fmt *)m->fmts->pdata[k])->pt == pt;
		}
		if (!used)
			return pt;
	}
	return 96;
}

/* The server's offer to the peer of whoever sent `offer`: one m-line per
 * m-line offered, same order and mids, with our preferred codec among those
 * offered. NULL with 483 set on r when there is nothing we can relay. */
static json_t *offer_desc(vc_req *r, const char *sdp)
{
	GPtrArray *offer = stoa_sdp_scan(sdp);
	json_t *media = json_array();
	int usable = 0;
	if (offer->len == 0 || offer->len > VC_MAX_MLINES)
		vc_error(r, VC_ERR_INVALID_SDP, "The offer has %u m-lines (1..%d supported)", offer->len,
			 VC_MAX_MLINES);
	for (guint i = 0; i < offer->len && r->code == 0; i++) {
		const stoa_scan_mline *m = offer->pdata[i];
		if (m->type == STOA_SCAN_OTHER) {
			vc_error(r, VC_ERR_INVALID_SDP, "Unsupported m-line %u (only audio, video and data)", i);
			break;
		}
		if (m->type == STOA_SCAN_DATA) {
			json_array_append_new(media, json_pack("{s:s,s:s,s:b}", "type", "data", "mid",
							       m->mid, "disabled", m->rejected));
			usable += !m->rejected;
			continue;
		}
		bool audio = m->type == STOA_SCAN_AUDIO;
		const stoa_scan_fmt *f = stoa_sdp_scan_choose(m);
		if (f == NULL) {
			/* Kept as a rejected m-line, so the mindexes of both legs
			 * match (PCMU's static type 0 means PCMU everywhere). */
			json_array_append_new(media, json_pack("{s:s,s:s,s:s,s:i,s:b}", "type",
							       audio ? "audio" : "video", "mid", m->mid,
							       "codec", audio ? "pcmu" : "vp8", "pt",
							       audio ? 0 : unused_pt(offer), "disabled", 1));
			continue;
		}
		json_t *d = json_pack("{s:s,s:s,s:s,s:i,s:b,s:b}", "type", audio ? "audio" : "video",
				      "mid", m->mid, "codec", f->name, "pt", f->pt, "send", 1, "recv", 1);
		if (f->fmtp != NULL)
			json_object_set_new(d, "fmtp", json_string(f->fmtp));
		if (!audio && f->rtx_pt > 0)
			json_object_set_new(d, "rtx_pt", json_integer(f->rtx_pt));
		json_array_append_new(media, d);
		usable++;
	}
	if (r->code == 0 && usable == 0)
		vc_error(r, VC_ERR_INVALID_SDP, "No m-line with a codec we can relay in the offer");
	stoa_sdp_scan_free(offer);
	if (r->code != 0) {
		json_decref(media);
		return NULL;
	}
	return json_pack("{s:o,s:s}", "media", media, "msid", "stoa-videocall");
}

static void add_codec(GString *list, const char *codec)
{
	char **have = g_strsplit(list->str, ",", -1);
	bool dup = g_strv_contains((const char *const *)have, codec);
	g_strfreev(have);
	if (dup)
		return;
	if (list->len > 0)
		g_string_append_c(list, ',');
	g_string_append(list, codec);
}

/* What the server's answer to the offerer may accept: the codecs the
 * answerer kept (as chosen from the offer, with the offer's VP9/H.264
 * profile), data if it kept data, no audio/video if it kept none. */
static json_t *answer_prefs(GPtrArray *offer, GPtrArray *answer)
{
	GString *ac = g_string_new(NULL), *vcs = g_string_new(NULL);
	bool data = false;
	char *vp9 = NULL, *h264 = NULL;
	for (guint i = 0; i < offer->len && i < answer->len; i++) {
		const stoa_scan_mline *om = offer->pdata[i], *am = answer->pdata[i];
		if (am->rejected)
			continue;
		if (om->type == STOA_SCAN_DATA) {
			data = true;
			continue;
		}
		const stoa_scan_fmt *f = stoa_sdp_scan_choose(om);
		if (f == NULL || stoa_sdp_scan_first(am) == NULL)
			continue;
		add_codec(om->type == STOA_SCAN_AUDIO ? ac : vcs, f->name);
		if (strcmp(f->name, "vp9") == 0 && vp9 == NULL)
			vp9 = stoa_fmtp_get(f->fmtp, "profile-id");
		if (strcmp(f->name, "h264") == 0 && h264 == NULL)
			h264 = stoa_fmtp_get(f->fmtp, "profile-level-id");
	}
	json_t *prefs = json_pack("{s:b,s:b,s:b}", "audio", ac->len > 0, "video", vcs->len > 0, "data",
				  data);
	if (ac->len > 0)
		json_object_set_new(prefs, "audiocodec", json_string(ac->str));
	if (vcs->len > 0)
		json_object_set_new(prefs, "videocodec", json_string(vcs->str));
	if (vp9 != NULL)
		json_object_set_new(prefs, "vp9_profile", json_string(vp9));
	if (h264 != NULL)
		json_object_set_new(prefs, "h264_profile", json_string(h264));
	g_string_free(ac, TRUE);
	g_string_free(vcs, TRUE);
	g_free(vp9);
	g_free(h264);
	return prefs;
}

/* The call's m-line table from the offer that was relayed and the two
 * answers (each leg's payload type is the one its answer settled on).
 * vc_lock held. */
static void build_table(vc_call *c, GPtrArray *offer, GPtrArray *peer_answer, GPtrArray *our_answer,
			int offerer)
{
	for (int i = 0; i < c->n; i++) {
		g_free(c->m[i].mid);
		g_free(c->m[i].codec);
	}
	memset(c->m, 0, sizeof(c->m));
	c->n = (int)MIN(offer->len, VC_MAX_MLINES);
	for (int i = 0; i < c->n; i++) {
		const stoa_scan_mline *om = offer->pdata[i];
		const stoa_scan_mline *pa = (guint)i < peer_answer->len ? peer_answer->pdata[i] : NULL;
		const stoa_scan_mline *oa = (guint)i < our_answer->len ? our_answer->pdata[i] : NULL;
		vc_mline *m = &c->m[i];
		m->type = (vc_media)om->type; /* the same numbering */
		m->mid = g_strdup(om->mid);
		if (om->type == STOA_SCAN_DATA) {
			m->active = pa != NULL && !pa->rejected && oa != NULL && !oa->rejected;
			continue;
		}
		const stoa_scan_fmt *fp = pa != NULL ? stoa_sdp_scan_first(pa) : NULL;
		const stoa_scan_fmt *fo = oa != NULL ? stoa_sdp_scan_first(oa) : NULL;
		if (fp == NULL || fo == NULL || om->type == STOA_SCAN_OTHER)
			continue;
		if (strcmp(fp->name, fo->name) != 0) {
			vc_core->log(STOA_LOG_WARN, NULL, "m-line %d: the legs settled on %s and %s: not relayed",
				     i, fo->name, fp->name);
			continue;
		}
		m->active = true;
		m->codec = g_strdup(fo->name);
		m->vcodec = om->type == STOA_SCAN_VIDEO ? vc_video_codec_of(fo->name) : 0;
		m->clock = fo->clock > 0 ? (uint32_t)fo->clock : (om->type == STOA_SCAN_VIDEO ? 90000 : 48000);
		m->pt[offerer] = fo->pt;
		m->pt[!offerer] = fp->pt;
	}
}

/* The answerer's answer came (accept, or set with an answer): answer the
 * offerer with what the answerer kept, build the m-line table, relay.
 * No lock held on entry or exit. 0, or an error code set on r. */
static int answer_step(vc_req *r, vc_call *c, int offerer, const char *offer_sdp, bool initial)
{
	GPtrArray *offer = stoa_sdp_scan(offer_sdp), *peer_answer = stoa_sdp_scan(sdp_of(r->jsep));
	json_t *prefs = answer_prefs(offer, peer_answer);
	vc_user *ou = c->user[offerer], *au = c->user[!offerer];
	char why[256] = "";
	json_t *jsep = vc_core->generate_answer(ou->ps, prefs, why, sizeof(why));
	json_decref(prefs);
	g_mutex_lock(&vc_lock);
	if (c->state == VC_ENDED) {
		vc_error(r, VC_ERR_NO_CALL, "The call is over");
	} else if (jsep == NULL) {
		vc_error(r, VC_ERR_INVALID_SDP, "Error answering %s's offer: %s", ou->username, why);
		vc_notify(ou, hangup_result(au->username, "Negotiation failed"), NULL);
		end_and_tell(c, 3);
	} else {
		GPtrArray *ours = stoa_sdp_scan(sdp_of(jsep));
		build_table(c, offer, peer_answer, ours, offerer);
		stoa_sdp_scan_free(ours);
		c->state = VC_IN_CALL;
		c->reneg_from = -1;
		for (int s = 0; s < 2; s++)
			if (c->relay[s] == NULL)
				c->relay[s] = vc_relay_new();
		vc_links_publish(c);
		if (initial) {
			vc_notify(ou, json_pack("{s:s,s:s}", "event", "accepted", "username", au->username),
				  jsep);
			vc_reply(r, json_pack("{s:s}", "event", "accepted"), NULL);
		} else {
			vc_notify(ou, json_pack("{s:s}", "event", "update"), jsep);
		}
		/* Both pcs may be up already (renegotiation): new keyframes for
		 * what may now be another codec. Otherwise setup_media asks. */
		vc_call_request_keyframes(c);
	}
	g_mutex_unlock(&vc_lock);
	if (jsep != NULL)
		json_decref(jsep);
	stoa_sdp_scan_free(offer);
	stoa_sdp_scan_free(peer_answer);
	return r->code;
}

/* ---- requests ---- */

int vc_req_list(vc_req *r)
{
	g_mutex_lock(&vc_lock);
	vc_reply(r, json_pack("{s:o}", "list", names(false)), NULL);
	g_mutex_unlock(&vc_lock);
	return 0;
}

int vc_req_register(vc_req *r)
{
	static const stoa_field fields[] = { { "username", STOA_FIELD_STRING, true },
					   { "presence", STOA_FIELD_BOOL, false } };
	vc_user *u = r->u;
	/* Janus says 477 before it looks at the fields. Only this (worker)
	 * thread writes u->username. */
	if (u->username != NULL)
		return vc_error(r, VC_ERR_ALREADY_REGISTERED, "Already registered (%s)", u->username);
	if (VC_CHECK(r, fields) != 0)
		return r->code;
	const char *name = json_string_value(json_object_get(r->body, "username"));
	if (*name == '\0')
		return vc_error(r, VC_ERR_INVALID_ELEMENT, "Invalid element (username should be a non-empty string)");
	g_mutex_lock(&vc_lock);
	if (!alive(r)) {
		/* error set */
	} else if (g_hash_table_contains(registry, name)) {
		vc_error(r, VC_ERR_USERNAME_TAKEN, "Username '%s' already taken", name);
	} else {
		u->username = g_strdup(name);
		u->presence = json_is_true(json_object_get(r->body, "presence"));
		g_hash_table_insert(registry, u->username, u);
		vc_reply(r, json_pack("{s:s,s:s}", "event", "registered", "username", name), NULL);
		presence_notify(name, NULL);
		vc_core->log(STOA_LOG_VERB, u->ps, "registered as '%s'", name);
	}
	g_mutex_unlock(&vc_lock);
	return r->code;
}

int vc_req_presence(vc_req *r)
{
	static const stoa_field fields[] = { { "enable", STOA_FIELD_BOOL, true } };
	if (VC_CHECK(r, fields) != 0)
		return r->code;
	g_mutex_lock(&vc_lock);
	if (registered(r)) {
		r->u->presence = json_is_true(json_object_get(r->body, "enable"));
		vc_reply(r, presence_result(NULL, NULL), NULL);
	}
	g_mutex_unlock(&vc_lock);
	return r->code;
}

/* call's checks, in Janus's order; the callee (borrowed) or NULL with an
 * error, or NULL with nothing set for a busy callee (already answered).
 * vc_lock held. */
static vc_user *call_check(vc_req *r)
{
	static const stoa_field fields[] = { { "username", STOA_FIELD_STRING, true } };
	vc_user *u = r->u;
	if (!registered(r))
		return NULL;
	if (u->call != NULL) {
		vc_error(r, VC_ERR_ALREADY_IN_CALL, "Already in a call");
		return NULL;
	}
	if (VC_CHECK(r, fields) != 0)
		return NULL;
	const char *name = json_string_value(json_object_get(r->body, "username"));
	if (strcmp(name, u->username) == 0) {
		vc_error(r, VC_ERR_USE_ECHO_TEST, "You can't call yourself (use the EchoTest for that)");
		return NULL;
	}
	vc_user *peer = g_hash_table_lookup(registry, name);
	if (peer == NULL) {
		vc_error(r, VC_ERR_NO_SUCH_USERNAME, "Username '%s' doesn't exist", name);
		return NULL;
	}
	if (peer->call != NULL) {
		/* Not an error in Janus: the caller is told the call is over. */
		vc_reply(r, hangup_result(u->username, "User busy"), NULL);
		return NULL;
	}
	if (r->jsep == NULL) {
		vc_error(r, VC_ERR_MISSING_SDP, "Missing SDP");
		return NULL;
	}
	if (!is_type(r->jsep, "offer")) {
		vc_error(r, VC_ERR_INVALID_SDP, "A call needs an SDP offer");
		return NULL;
	}
	return peer;
}

static vc_call *call_new(vc_user *caller, vc_user *callee, const char *offer_sdp)
{
	vc_call *c = g_new0(vc_call, 1);
	c->ref = 3; /* ours, and each user's */
	c->user[VC_CALLER] = vc_user_ref(caller);
	c->user[VC_CALLEE] = vc_user_ref(callee);
	c->state = VC_RINGING;
	c->reneg_from = VC_CALLER;
	c->offer_sdp = g_strdup(offer_sdp);
	caller->call = c;
	callee->call = c;
	return c;
}

int vc_req_call(vc_req *r)
{
	vc_user *u = r->u;
	g_mutex_lock(&vc_lock);
	vc_user *callee = call_check(r);
	json_t *desc = callee != NULL ? offer_desc(r, sdp_of(r->jsep)) : NULL;
	if (desc == NULL) {
		/* The core gave our pc the offer of a call that will not happen:
		 * close it, so that the next call starts from a fresh one. */
		if (is_type(r->jsep, "offer") && u->call == NULL)
			close_leg(u);
		g_mutex_unlock(&vc_lock);
		return r->code;
	}
	vc_call *c = call_new(u, callee, sdp_of(r->jsep));
	vc_user_ref(callee);
	vc_reply(r, json_pack("{s:s}", "event", "calling"), NULL);
	presence_notify(NULL, NULL);
	vc_core->log(STOA_LOG_INFO, u->ps, "%s calls %s", u->username, callee->username);
	g_mutex_unlock(&vc_lock);

	char why[256] = "";
	json_t *jsep = vc_core->generate_offer(callee->ps, desc, why, sizeof(why));
	json_decref(desc);

	g_mutex_lock(&vc_lock);
	if (c->state != VC_RINGING) {
		/* Ended while we offered (a pc dropped, a handle went away): the
		 * callee's pc may have been made after the end closed the legs. */
		if (jsep != NULL && callee->call == NULL)
			close_leg(callee);
	} else if (jsep == NULL) {
		vc_core->log(STOA_LOG_WARN, callee->ps, "cannot offer the call: %s", why);
		vc_notify(u, hangup_result(callee->username, "Negotiation failed"), NULL);
		end_and_tell(c, 3);
	} else {
		c->rang = true;
		vc_notify(callee, json_pack("{s:s,s:s}", "event", "incomingcall", "username", u->username),
			  jsep);
	}
	g_mutex_unlock(&vc_lock);
	if (jsep != NULL)
		json_decref(jsep);
	vc_user_unref(callee);
	vc_call_unref(c);
	return 0;
}

int vc_req_accept(vc_req *r)
{
	vc_user *u = r->u;
	g_mutex_lock(&vc_lock);
	vc_call *c = u->call;
	if (!alive(r)) {
		c = NULL;
	} else if (c == NULL || c->user[VC_CALLEE] != u || c->state != VC_RINGING || !c->rang ||
		   c->accepting) {
		vc_error(r, VC_ERR_NO_CALL, "No incoming call to accept");
		c = NULL;
	} else if (r->jsep == NULL) {
		vc_error(r, VC_ERR_MISSING_SDP, "Missing SDP");
		c = NULL;
	} else if (!is_type(r->jsep, "answer")) {
		vc_error(r, VC_ERR_INVALID_SDP, "Accepting a call needs an SDP answer");
		c = NULL;
	}
	char *offer_sdp = NULL;
	if (c != NULL) {
		c->accepting = true;
		vc_call_ref(c);
		offer_sdp = g_strdup(c->offer_sdp);
	}
	g_mutex_unlock(&vc_lock);
	if (c == NULL)
		return r->code;
	answer_step(r, c, VC_CALLER, offer_sdp, true);
	g_free(offer_sdp);
	vc_call_unref(c);
	return r->code;
}

static int check_layers(vc_req *r)
{
	const char *keys[] = { "substream", "temporal" };
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		json_t *v = json_object_get(r->body, keys[i]);
		if (v != NULL && json_integer_value(v) > 2)
			return vc_error(r, VC_ERR_INVALID_ELEMENT, "Invalid element (%s should be 0, 1 or 2)",
					keys[i]);
	}
	return 0;
}

/* set's media settings (atomics: the media path reads them). */
static void apply_settings(vc_user *u, json_t *body)
{
	json_t *v;
	if ((v = json_object_get(body, "audio")) != NULL)
		g_atomic_int_set(&u->audio_on, json_is_true(v));
	if ((v = json_object_get(body, "video")) != NULL)
		g_atomic_int_set(&u->video_on, json_is_true(v));
	if ((v = json_object_get(body, "bitrate")) != NULL)
		g_atomic_int_set(&u->bitrate, (gint)MIN(json_integer_value(v), G_MAXINT));
	if ((v = json_object_get(body, "substream")) != NULL)
		g_atomic_int_set(&u->substream, (gint)json_integer_value(v));
	if ((v = json_object_get(body, "temporal")) != NULL)
		g_atomic_int_set(&u->temporal, (gint)json_integer_value(v));
	if ((v = json_object_get(body, "fallback")) != NULL)
		g_atomic_int_set(&u->fallback, (gint)MIN(json_integer_value(v), G_MAXINT));
}

/* A `set` asking for the simulcast layer it already gets changes nothing on
 * the media path, so no `simulcast` event would come: tell it now, as
 * Janus does (the temporal layer only for VP8, where it is known). A new
 * layer is announced by call.c once the switch happens. vc_lock held. */
static void tell_current_layers(vc_user *u, json_t *body)
{
	vc_call *c = u->call;
	json_t *want_sub = json_object_get(body, "substream");
	json_t *want_tmp = json_object_get(body, "temporal");
	if (c == NULL || c->state != VC_IN_CALL || (want_sub == NULL && want_tmp == NULL))
		return;
	vc_relay *incoming = c->relay[!vc_side_of(c, u)];
	for (int i = 0; i < c->n; i++) {
		int sub, tmp;
		if (c->m[i].type != VC_VIDEO || !c->m[i].active ||
		    !vc_relay_layers(incoming, i, &sub, &tmp))
			continue;
		const char *codec = vc_video_codec_name(c->m[i].vcodec);
		if (want_sub != NULL && json_integer_value(want_sub) == sub)
			vc_notify(u, json_pack("{s:s,s:s,s:i}", "event", "simulcast", "videocodec", codec,
					       "substream", sub), NULL);
		if (want_tmp != NULL && json_integer_value(want_tmp) == tmp &&
		    g_strcmp0(c->m[i].codec, "vp8") == 0)
			vc_notify(u, json_pack("{s:s,s:s,s:i}", "event", "simulcast", "videocodec", codec,
					       "temporal", tmp), NULL);
	}
}

/* Recording is out of Stoa's scope. `record` and `filename` are accepted so
 * that Janus pages sending them keep working, and logged, at most once a
 * minute, so that an operator sees why no .mjr files appear. `restart` is
 * accepted and does nothing, as in Janus: an ICE restart is the new
 * credentials of the JSEP offer that comes with it. */
static void warn_no_recording(vc_req *r)
{
	static int64_t last_us; /* the worker thread only */
	if (!json_is_true(json_object_get(r->body, "record")) &&
	    json_object_get(r->body, "filename") == NULL)
		return;
	int64_t now = g_get_monotonic_time();
	if (last_us != 0 && now - last_us < 60 * G_USEC_PER_SEC)
		return;
	last_us = now;
	vc_core->log(STOA_LOG_WARN, r->ps, "set: recording is not supported, \"record\" and "
		     "\"filename\" are ignored");
}

/* A renegotiation offer from r's user: relayed to the peer as a server
 * offer (`update`). No lock held. 0 or an error code. */
static int reoffer(vc_req *r, vc_call *c, int side)
{
	json_t *desc = offer_desc(r, sdp_of(r->jsep));
	vc_user *peer = c->user[!side];
	char why[256] = "";
	json_t *jsep = desc != NULL ? vc_core->generate_offer(peer->ps, desc, why, sizeof(why)) : NULL;
	if (desc != NULL)
		json_decref(desc);
	g_mutex_lock(&vc_lock);
	if (c->state != VC_IN_CALL || c->reneg_from != side) {
		if (r->code == 0)
			vc_error(r, VC_ERR_NO_CALL, "The call is over");
	} else if (jsep == NULL) {
		c->reneg_from = -1;
		if (r->code == 0)
			vc_error(r, VC_ERR_UNKNOWN, "Cannot offer the update to %s: %s", peer->username, why);
	} else {
		vc_notify(peer, json_pack("{s:s}", "event", "update"), jsep);
	}
	g_mutex_unlock(&vc_lock);
	if (jsep != NULL)
		json_decref(jsep);
	return r->code;
}

int vc_req_set(vc_req *r)
{
	static const stoa_field fields[] = {
		{ "audio", STOA_FIELD_BOOL, false },	    { "video", STOA_FIELD_BOOL, false },
		{ "bitrate", STOA_FIELD_POSINT, false },   { "record", STOA_FIELD_BOOL, false },
		{ "filename", STOA_FIELD_STRING, false }, { "substream", STOA_FIELD_POSINT, false },
		{ "temporal", STOA_FIELD_POSINT, false }, { "fallback", STOA_FIELD_POSINT, false },
		{ "restart", STOA_FIELD_BOOL, false },
	};
	if (VC_CHECK(r, fields) != 0 || check_layers(r) != 0)
		return r->code;
	warn_no_recording(r);
	vc_user *u = r->u;
	vc_call *c = NULL;
	int side = 0;
	char *offer_sdp = NULL;
	g_mutex_lock(&vc_lock);
	if (alive(r) && r->jsep != NULL) {
		c = u->call;
		side = c != NULL ? vc_side_of(c, u) : 0;
		if (c == NULL || c->state != VC_IN_CALL) {
			vc_error(r, VC_ERR_NO_CALL, "Not in a call: nothing to renegotiate");
		} else if (is_type(r->jsep, "offer") && c->reneg_from >= 0) {
			vc_error(r, VC_ERR_UNKNOWN, "A renegotiation is already in progress");
		} else if (is_type(r->jsep, "answer") && c->reneg_from != !side) {
			vc_error(r, VC_ERR_INVALID_SDP, "No offer of ours to answer");
		} else if (is_type(r->jsep, "offer")) {
			c->reneg_from = side;
			g_free(c->offer_sdp);
			c->offer_sdp = g_strdup(sdp_of(r->jsep));
		} else {
			offer_sdp = g_strdup(c->offer_sdp);
		}
		if (r->code != 0)
			c = NULL;
		else
			vc_call_ref(c);
	}
	if (r->code == 0) {
		apply_settings(u, r->body);
		tell_current_layers(u, r->body);
	}
	g_mutex_unlock(&vc_lock);
	if (r->code != 0)
		return r->code;
	/* The cap goes out at once (then once a second from the media path).
	 * Lifting it (0) sends Janus's "no limit", so that the sender does not
	 * keep the last cap it was told. */
	json_t *br = json_object_get(r->body, "bitrate");
	if (br != NULL)
		vc_core->send_remb(u->ps, json_integer_value(br) > 0
						  ? (uint32_t)MIN(json_integer_value(br), G_MAXINT)
						  : VC_REMB_NO_CAP);
	if (c != NULL) {
		if (offer_sdp == NULL)
			reoffer(r, c, side);
		else
			answer_step(r, c, !side, offer_sdp, false);
		vc_call_unref(c);
		g_free(offer_sdp);
		if (r->code != 0)
			return r->code;
	}
	vc_reply(r, json_pack("{s:s}", "event", "set"), NULL);
	return 0;
}

int vc_req_hangup(vc_req *r)
{
	/* As in Janus: a reason that is not a string is ignored, and a hangup
	 * with no call (or before register) still succeeds and closes the
	 * handle's pc, if any: a page can always hang up. */
	json_t *why = json_object_get(r->body, "reason");
	const char *reason = json_is_string(why) ? json_string_value(why) : NULL;
	vc_user *u = r->u;
	g_mutex_lock(&vc_lock);
	vc_call *c = u->call;
	if (!alive(r)) {
		/* error set */
	} else if (c == NULL) {
		vc_reply(r, hangup_result(u->username, "Explicit hangup"), NULL);
		close_leg(u);
	} else {
		int side = vc_side_of(c, u);
		vc_reply(r, hangup_result(u->username, "Explicit hangup"), NULL);
		if (side == VC_CALLEE || c->rang)
			vc_notify(c->user[!side],
				  hangup_result(u->username, reason != NULL ? reason : "We did the hangup"),
				  NULL);
		vc_core->log(STOA_LOG_INFO, u->ps, "%s hangs up", u->username);
		end_and_tell(c, 3);
	}
	g_mutex_unlock(&vc_lock);
	return r->code;
}
