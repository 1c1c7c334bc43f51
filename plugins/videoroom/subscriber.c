/*
 * subscriber.c: subscriber handles (Janus's multistream subscriptions).
 *
 * A subscriber lists the feeds (and optionally their mids) it wants; the
 * server offers one m-line per stream (mids "0", "1", ... = mindex, as
 * Janus does; every feed's data shares one application m-line), the client
 * answers with `start`. When its pc is up (setup_media) each of its
 * streams is added to its source's fan-out snapshot; `switch` moves a
 * stream to another source without renegotiation; `subscribe`,
 * `unsubscribe` and `update` change the set and send a new offer (or, if
 * the previous offer is still unanswered, remember to once it is). When a
 * source goes away its m-line goes inactive and, with `autoupdate` (the
 * default), the subscriber gets a new offer.
 *
 * Threads: requests and offers on the worker thread (generate_offer waits
 * for ICE, so never under vr_lock); setup/hangup/RTCP on the subscriber's
 * media loop (taking vr_lock, rarely).
 */
#include <string.h>

#include "videoroom.h"

/* Our payload types per codec (the same in every offer we make). */
static const struct {
	const char *codec;
	int pt, rtx_pt;
} payload_types[] = {
	{ "opus", 111, 0 }, { "multiopus", 112, 0 }, { "pcmu", 0, 0 },	 { "pcma", 8, 0 },
	{ "g722", 9, 0 },   { "vp8", 96, 97 },	     { "vp9", 98, 99 },	 { "h264", 102, 103 },
	{ "av1", 45, 46 },  { "h265", 49, 50 },
};

vr_subscriber *vr_subscriber_ref(vr_subscriber *s)
{
	g_atomic_int_inc(&s->ref);
	return s;
}

void vr_subscriber_unref(vr_subscriber *s)
{
	if (s == NULL || !g_atomic_int_dec_and_test(&s->ref))
		return;
	for (int i = 0; i < s->nstreams; i++)
		vr_sstream_unref(s->streams[i]);
	g_ptr_array_unref(s->data_feeds);
	vr_core->session_unref(s->ps);
	vr_room_unref(s->room);
	g_free(s);
}

/* ---- streams ---- */

static vr_sstream *sstream_new(vr_subscriber *s, int mindex, vr_media type)
{
	vr_sstream *ss = g_new0(vr_sstream, 1);
	ss->ref = 1;
	vr_core->session_ref(s->ps);
	ss->ps = s->ps;
	ss->mindex = mindex;
	g_snprintf(ss->mid, sizeof(ss->mid), "%d", mindex);
	ss->type = type;
	ss->room_id = s->room->s.room;
	ss->send = 1;
	ss->paused = s->paused;
	ss->loop = s->loop;
	ss->substream = ss->temporal = 2;
	ss->fallback = 0;
	return ss;
}

/* Points `ss` at a new source (NULL: none). vr_lock held. */
static void set_source(vr_subscriber *s, vr_sstream *ss, vr_publisher *feed, vr_pstream *src)
{
	if (ss->src != NULL && s->registered)
		vr_fanout_remove(ss->src, ss);
	if (ss->feed != NULL)
		vr_publisher_unref(ss->feed);
	ss->feed = feed != NULL ? vr_publisher_ref(feed) : NULL;
	ss->src = src;
	g_atomic_int_set(&ss->rebase, 1);
	if (src != NULL && s->registered) {
		g_atomic_int_set(&ss->loop, s->loop);
		vr_fanout_add(src, ss);
		vr_pstream_request_keyframe(src);
	}
}

static void set_codec(vr_sstream *ss, const vr_pstream *src)
{
	g_free(ss->codec);
	ss->codec = g_strdup(src->codec);
	g_free(ss->fmtp);
	ss->fmtp = g_strdup(src->fmtp);
	ss->pt = src->pt;
	ss->rtx_pt = 0;
	for (size_t i = 0; src->codec != NULL && i < G_N_ELEMENTS(payload_types); i++)
		if (strcmp(payload_types[i].codec, src->codec) == 0) {
			ss->pt = payload_types[i].pt;
			ss->rtx_pt = payload_types[i].rtx_pt;
		}
}

static vr_pstream *find_pstream(vr_publisher *p, const char *mid)
{
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i] != NULL && strcmp(p->streams[i]->mid, mid) == 0)
			return p->streams[i];
	return NULL;
}

static vr_publisher *find_feed(vr_req *r, vr_room *room, json_t *jfeed)
{
	guint64 id = (guint64)json_integer_value(jfeed);
	vr_publisher *p = g_hash_table_lookup(room->participants, &id);
	if (p == NULL || !p->active) {
		vr_error(r, VR_ERR_NO_SUCH_FEED, "No such feed (%" G_GUINT64_FORMAT ")", id);
		return NULL;
	}
	return p;
}

static int check_layers(vr_req *r, json_t *o)
{
	const char *keys[] = { "substream", "temporal", "spatial_layer", "temporal_layer" };
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
				  json_integer_value(v) > 2))
			return vr_error(r, VR_ERR_INVALID_ELEMENT,
					"Invalid element (%s should be 0, 1 or 2)", keys[i]);
	}
	json_t *fb = json_object_get(o, "fallback");
	if (fb != NULL && (!json_is_integer(fb) || json_integer_value(fb) < 0))
		return vr_error(r, VR_ERR_INVALID_ELEMENT,
				"Invalid element type (fallback should be a positive integer)");
	json_t *send = json_object_get(o, "send");
	if (send != NULL && !json_is_boolean(send))
		return vr_error(r, VR_ERR_INVALID_ELEMENT,
				"Invalid element type (send should be a boolean)");
	return 0;
}

static void apply_layers(vr_sstream *ss, json_t *o)
{
	json_t *v;
	if ((v = json_object_get(o, "substream")) != NULL)
		g_atomic_int_set(&ss->substream, (gint)json_integer_value(v));
	if ((v = json_object_get(o, "temporal")) != NULL)
		g_atomic_int_set(&ss->temporal, (gint)json_integer_value(v));
	if ((v = json_object_get(o, "fallback")) != NULL)
		g_atomic_int_set(&ss->fallback, (gint)json_integer_value(v));
	if ((v = json_object_get(o, "send")) != NULL)
		g_atomic_int_set(&ss->send, json_is_true(v));
}

/* A slot for a new stream of `type`: an inactive m-line of that type, or a
 * new one. -1 when the subscriber has no room for more m-lines. */
static int free_slot(vr_subscriber *s, vr_media type)
{
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i]->type == type && type != VR_DATA && s->streams[i]->feed == NULL)
			return i;
	if (s->nstreams >= VR_MAX_STREAMS)
		return -1;
	s->streams[s->nstreams] = sstream_new(s, s->nstreams, type);
	return s->nstreams++;
}

static int data_slot(vr_subscriber *s)
{
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i]->type == VR_DATA)
			return i;
	return free_slot(s, VR_DATA);
}

/* Adds one source stream; 0 or an error code. vr_lock held. */
static int add_source(vr_req *r, vr_subscriber *s, vr_publisher *p, vr_pstream *src, json_t *o)
{
	if (src->disabled)
		return 0;
	if (src->type == VR_DATA) {
		for (guint i = 0; i < s->data_feeds->len; i++)
			if (((vr_sstream *)s->data_feeds->pdata[i])->feed == p)
				return 0;
		int slot = data_slot(s);
		if (slot < 0)
			return vr_error(r, VR_ERR_INVALID_ELEMENT, "Too many streams");
		vr_sstream *ds = sstream_new(s, slot, VR_DATA);
		g_ptr_array_add(s->data_feeds, ds);
		set_source(s, ds, p, src);
		return 0;
	}
	int slot = free_slot(s, src->type);
	if (slot < 0)
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Too many streams");
	vr_sstream *ss = s->streams[slot];
	set_codec(ss, src);
	apply_layers(ss, o);
	set_source(s, ss, p, src);
	return 0;
}

/* `streams` of join/subscribe: [{feed, mid?, ...}]. vr_lock held. */
static int add_streams(vr_req *r, vr_subscriber *s, json_t *list)
{
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		static const stoa_field fields[] = { { "feed", STOA_FIELD_POSINT, true },
						   { "mid", STOA_FIELD_STRING, false } };
		if (!json_is_object(o))
			return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (streams)");
		if (VR_CHECK(r, o, fields) != 0 || check_layers(r, o) != 0)
			return r->code;
		vr_publisher *p = find_feed(r, s->room, json_object_get(o, "feed"));
		if (p == NULL)
			return r->code;
		const char *mid = json_string_value(json_object_get(o, "mid"));
		if (mid != NULL) {
			vr_pstream *src = find_pstream(p, mid);
			if (src == NULL)
				return vr_error(r, VR_ERR_NO_SUCH_FEED,
						"No such mid '%s' in feed (%" G_GUINT64_FORMAT ")", mid, p->id);
			if (add_source(r, s, p, src, o) != 0)
				return r->code;
			continue;
		}
		for (int k = 0; k < p->nstreams; k++)
			if (p->streams[k] != NULL && add_source(r, s, p, p->streams[k], o) != 0)
				return r->code;
	}
	return 0;
}

/* Stops the streams matching {feed?, mid?, sub_mid?}. vr_lock held. */
static void remove_matching(vr_subscriber *s, json_t *o)
{
	json_t *jfeed = json_object_get(o, "feed");
	const char *mid = json_string_value(json_object_get(o, "mid"));
	const char *sub_mid = json_string_value(json_object_get(o, "sub_mid"));
	guint64 feed = json_is_integer(jfeed) ? (guint64)json_integer_value(jfeed) : 0;
	for (int i = 0; i < s->nstreams; i++) {
		vr_sstream *ss = s->streams[i];
		if (ss->feed == NULL || (sub_mid != NULL && strcmp(ss->mid, sub_mid) != 0) ||
		    (feed != 0 && ss->feed->id != feed) ||
		    (mid != NULL && strcmp(ss->src->mid, mid) != 0))
			continue;
		set_source(s, ss, NULL, NULL);
	}
	for (guint i = 0; i < s->data_feeds->len;) {
		vr_sstream *ds = s->data_feeds->pdata[i];
		if ((feed != 0 && ds->feed->id != feed) || (mid != NULL && strcmp(ds->src->mid, mid) != 0) ||
		    (sub_mid != NULL && strcmp(ds->mid, sub_mid) != 0)) {
			i++;
			continue;
		}
		set_source(s, ds, NULL, NULL);
		g_ptr_array_remove_index(s->data_feeds, i);
		vr_sstream_unref(ds);
	}
}

/* ---- descriptions ---- */

static json_t *sstream_json(vr_subscriber *s, vr_sstream *ss)
{
	static const char *const names[] = { "audio", "video", "data" };
	bool active = ss->type == VR_DATA ? s->data_feeds->len > 0 : ss->feed != NULL;
	json_t *o = json_pack("{s:s,s:b,s:i,s:s,s:b,s:b}", "type", names[ss->type], "active", active,
			      "mindex", ss->mindex, "mid", ss->mid, "ready", s->registered, "send",
			      g_atomic_int_get(&ss->send));
	if (ss->type == VR_DATA) {
		json_t *ids = json_array();
		for (guint i = 0; i < s->data_feeds->len; i++)
			json_array_append_new(
				ids, json_integer((json_int_t)((vr_sstream *)s->data_feeds->pdata[i])->feed->id));
		json_object_set_new(o, "sources", json_integer((json_int_t)s->data_feeds->len));
		json_object_set_new(o, "source_ids", ids);
		return o;
	}
	if (ss->feed == NULL)
		return o;
	json_object_set_new(o, "feed_id", json_integer((json_int_t)ss->feed->id));
	if (ss->feed->display != NULL)
		json_object_set_new(o, "feed_display", json_string(ss->feed->display));
	json_object_set_new(o, "feed_mid", json_string(ss->src->mid));
	if (ss->src->description != NULL)
		json_object_set_new(o, "feed_description", json_string(ss->src->description));
	if (ss->codec != NULL)
		json_object_set_new(o, "codec", json_string(ss->codec));
	if (ss->src->simulcast)
		json_object_set_new(
			o, "simulcast",
			json_pack("{s:i,s:i,s:i,s:i,s:i}", "substream", ss->sw_ready ? ss->sim.substream : -1,
				  "substream-target", g_atomic_int_get(&ss->substream), "temporal-layer",
				  ss->sw_ready ? ss->sim.temporal : -1, "temporal-layer-target",
				  g_atomic_int_get(&ss->temporal), "fallback",
				  g_atomic_int_get(&ss->fallback)));
	return o;
}

static json_t *streams_json(vr_subscriber *s)
{
	json_t *a = json_array();
	for (int i = 0; i < s->nstreams; i++)
		json_array_append_new(a, sstream_json(s, s->streams[i]));
	return a;
}

/* The m-lines for generate_offer. vr_lock held. */
static json_t *offer_desc(vr_subscriber *s, bool restart)
{
	json_t *media = json_array();
	for (int i = 0; i < s->nstreams; i++) {
		vr_sstream *ss = s->streams[i];
		json_t *m;
		/* A stream without a source is inactive, not rejected (port 0):
		 * a browser whose every m-line is rejected drops the transport,
		 * and the subscription could not get new sources later. */
		if (ss->type == VR_DATA) {
			m = json_pack("{s:s,s:s}", "type", "data", "mid", ss->mid);
		} else {
			m = json_pack("{s:s,s:s,s:s,s:i,s:b}", "type", ss->type == VR_AUDIO ? "audio" : "video",
				      "mid", ss->mid, "codec", ss->codec != NULL ? ss->codec : "opus", "pt",
				      ss->pt, "send", ss->feed != NULL);
			if (ss->rtx_pt > 0)
				json_object_set_new(m, "rtx_pt", json_integer(ss->rtx_pt));
			if (ss->fmtp != NULL)
				json_object_set_new(m, "fmtp", json_string(ss->fmtp));
			if (ss->feed != NULL) {
				char *track = g_strdup_printf("%s%" G_GUINT64_FORMAT "-%s",
							      ss->type == VR_AUDIO ? "audio" : "video",
							      ss->feed->id, ss->src->mid);
				json_object_set_new(m, "msid", json_string(track));
				g_free(track);
			}
		}
		json_array_append_new(media, m);
	}
	/* As in Janus, a room without audio levels offers none to subscribers either. */
	return json_pack("{s:o,s:b,s:s,s:b}", "media", media, "restart", restart, "msid", "janus",
			 "audiolevel_ext", s->room->s.audiolevel_ext);
}

/* Builds and sends an offer; returns the jsep or NULL with an error. No lock. */
static json_t *make_offer(vr_req *r, vr_subscriber *s, bool restart)
{
	g_mutex_lock(&vr_lock);
	json_t *desc = s->removed ? NULL : offer_desc(s, restart);
	if (desc != NULL)
		s->offer_pending = true;
	g_mutex_unlock(&vr_lock);
	if (desc == NULL) {
		vr_error(r, VR_ERR_NO_SUCH_ROOM, "Not in a room any more");
		return NULL;
	}
	char why[256];
	json_t *jsep = vr_core->generate_offer(s->ps, desc, why, sizeof(why));
	json_decref(desc);
	if (jsep == NULL) {
		g_mutex_lock(&vr_lock);
		s->offer_pending = false;
		g_mutex_unlock(&vr_lock);
		vr_error(r, VR_ERR_UNKNOWN, "Error generating the offer: %s", why);
	}
	return jsep;
}

static bool has_active(vr_subscriber *s)
{
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i]->feed != NULL)
			return true;
	return s->data_feeds->len > 0;
}

/* ---- requests ---- */

static vr_subscriber *subscriber_new(vr_req *r, vr_room *room)
{
	vr_subscriber *s = g_new0(vr_subscriber, 1);
	s->ref = 1;
	vr_core->session_ref(r->ps);
	s->ps = r->ps;
	s->room = vr_room_ref(room);
	s->loop = -1;
	s->autoupdate = !json_is_false(json_object_get(r->body, "autoupdate"));
	s->use_msid = json_is_true(json_object_get(r->body, "use_msid"));
	s->data_feeds = g_ptr_array_new();
	json_t *pvt = json_object_get(r->body, "private_id");
	s->pvt_id = json_is_integer(pvt) ? (guint64)json_integer_value(pvt) : 0;
	return s;
}

static int check_pvtid(vr_req *r, vr_room *room)
{
	if (!room->s.require_pvtid)
		return 0;
	json_t *pvt = json_object_get(r->body, "private_id");
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, room->participants);
	while (pvt != NULL && g_hash_table_iter_next(&it, NULL, &v))
		if (((vr_publisher *)v)->private_id == (guint64)json_integer_value(pvt))
			return 0;
	return vr_error(r, VR_ERR_UNAUTHORIZED, "Unauthorized (this room requires a valid private_id)");
}

/* Legacy form: {feed, offer_audio?, offer_video?, offer_data?}. */
static json_t *legacy_streams(json_t *body)
{
	json_t *feed = json_object_get(body, "feed");
	if (feed == NULL)
		return NULL;
	return json_pack("[{s:O}]", "feed", feed);
}

json_t *vr_sub_join(vr_req *r, json_t **jsep)
{
	static const stoa_field fields[] = {
		{ "streams", STOA_FIELD_ARRAY, false },    { "feed", STOA_FIELD_POSINT, false },
		{ "private_id", STOA_FIELD_POSINT, false }, { "autoupdate", STOA_FIELD_BOOL, false },
		{ "use_msid", STOA_FIELD_BOOL, false },    { "pin", STOA_FIELD_STRING, false },
	};
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	json_t *list = json_object_get(r->body, "streams");
	json_t *legacy = list == NULL ? legacy_streams(r->body) : NULL;
	if (list == NULL && legacy == NULL) {
		vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (streams)");
		return NULL;
	}
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_find(r, (guint64)json_integer_value(json_object_get(r->body, "room")));
	vr_subscriber *s = NULL;
	if (room != NULL && vr_room_check_pin(r, room) == 0 && check_pvtid(r, room) == 0) {
		s = subscriber_new(r, room);
		if (add_streams(r, s, list != NULL ? list : legacy) == 0 && !has_active(s))
			vr_error(r, VR_ERR_INVALID_SDP, "Can't offer an SDP with no stream");
		if (r->code != 0) {
			vr_subscriber_remove(s);
			vr_subscriber_unref(s);
			s = NULL;
		} else {
			r->h->ptype = VR_SUBSCRIBER;
			r->h->sub = vr_subscriber_ref(s);
			g_ptr_array_add(room->subscribers, s);
		}
	}
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	if (legacy != NULL)
		json_decref(legacy);
	if (s == NULL)
		return NULL;
	json_t *offer = make_offer(r, s, false);
	json_t *ev = NULL;
	if (offer != NULL) {
		g_mutex_lock(&vr_lock);
		ev = json_pack("{s:s,s:I,s:o}", "videoroom", "attached", "room", (json_int_t)s->room->s.room,
			       "streams", streams_json(s));
		g_mutex_unlock(&vr_lock);
		*jsep = offer;
	}
	vr_subscriber_unref(s);
	return ev;
}

static vr_subscriber *my_subscriber(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_subscriber *s = r->h->sub != NULL ? vr_subscriber_ref(r->h->sub) : NULL;
	g_mutex_unlock(&vr_lock);
	return s;
}

static void set_paused(vr_subscriber *s, bool paused)
{
	s->paused = paused;
	for (int i = 0; i < s->nstreams; i++)
		g_atomic_int_set(&s->streams[i]->paused, paused);
	for (guint i = 0; i < s->data_feeds->len; i++)
		g_atomic_int_set(&((vr_sstream *)s->data_feeds->pdata[i])->paused, paused);
}

static void request_keyframes(vr_subscriber *s)
{
	for (int i = 0; i < s->nstreams; i++)
		if (s->streams[i]->src != NULL)
			vr_pstream_request_keyframe(s->streams[i]->src);
}

json_t *vr_sub_start(vr_req *r, json_t **jsep)
{
	(void)jsep;
	if (r->jsep != NULL && g_strcmp0(json_string_value(json_object_get(r->jsep, "type")), "answer") != 0) {
		vr_error(r, VR_ERR_INVALID_SDP_TYPE, "Only publishers send offers");
		return NULL;
	}
	vr_subscriber *s = my_subscriber(r);
	g_mutex_lock(&vr_lock);
	bool update = false;
	if (r->jsep != NULL) {
		s->offer_pending = false;
		update = s->needs_update;
		s->needs_update = false;
	}
	s->started = true;
	if (s->paused) {
		set_paused(s, false);
		request_keyframes(s);
	}
	json_t *ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room", (json_int_t)s->room->s.room,
			       "started", "ok");
	g_mutex_unlock(&vr_lock);
	if (update)
		vr_worker_push_update(s);
	vr_subscriber_unref(s);
	return ev;
}

json_t *vr_sub_pause(vr_req *r)
{
	vr_subscriber *s = my_subscriber(r);
	g_mutex_lock(&vr_lock);
	set_paused(s, true);
	json_t *ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room", (json_int_t)s->room->s.room,
			       "paused", "ok");
	g_mutex_unlock(&vr_lock);
	vr_subscriber_unref(s);
	return ev;
}

/* configure's per-stream settings; 0 or an error code. vr_lock held. */
static int configure_streams(vr_req *r, vr_subscriber *s)
{
	json_t *list = json_object_get(r->body, "streams");
	if (list == NULL) {
		/* Top-level fields apply to every stream (videoroom.js does this). */
		if (check_layers(r, r->body) != 0)
			return r->code;
		for (int i = 0; i < s->nstreams; i++) {
			vr_sstream *ss = s->streams[i];
			apply_layers(ss, r->body);
			json_t *kind = json_object_get(r->body, ss->type == VR_AUDIO	 ? "audio"
								: ss->type == VR_VIDEO ? "video"
										       : "data");
			if (json_is_boolean(kind))
				g_atomic_int_set(&ss->send, json_is_true(kind));
		}
		return 0;
	}
	if (!json_is_array(list))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (streams should be an array)");
	size_t i;
	json_t *o;
	json_array_foreach(list, i, o) {
		const char *mid = json_string_value(json_object_get(o, "mid"));
		if (mid == NULL)
			return vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (mid)");
		if (check_layers(r, o) != 0)
			return r->code;
		vr_sstream *ss = NULL;
		for (int k = 0; k < s->nstreams && ss == NULL; k++)
			if (strcmp(s->streams[k]->mid, mid) == 0)
				ss = s->streams[k];
		if (ss == NULL)
			return vr_error(r, VR_ERR_NO_SUCH_FEED, "No such mid '%s'", mid);
		apply_layers(ss, o);
	}
	return 0;
}

json_t *vr_sub_configure(vr_req *r, json_t **jsep)
{
	static const stoa_field fields[] = { { "restart", STOA_FIELD_BOOL, false },
					   { "update", STOA_FIELD_BOOL, false } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	vr_subscriber *s = my_subscriber(r);
	g_mutex_lock(&vr_lock);
	int code = configure_streams(r, s);
	bool restart = json_is_true(json_object_get(r->body, "restart"));
	bool renegotiate = restart || json_is_true(json_object_get(r->body, "update"));
	bool pending = s->offer_pending;
	if (renegotiate && pending)
		s->needs_update = true;
	guint64 room = s->room->s.room;
	g_mutex_unlock(&vr_lock);
	json_t *ev = NULL;
	if (code == 0) {
		if (renegotiate && !pending)
			*jsep = make_offer(r, s, restart);
		if (!renegotiate || pending || *jsep != NULL)
			ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room", (json_int_t)room,
				       "configured", "ok");
	}
	vr_subscriber_unref(s);
	return ev;
}

/* One switch entry; 0 or an error code. vr_lock held. */
static int switch_one(vr_req *r, vr_subscriber *s, json_t *o, int *changes)
{
	static const stoa_field fields[] = { { "feed", STOA_FIELD_POSINT, true },
					   { "mid", STOA_FIELD_STRING, true },
					   { "sub_mid", STOA_FIELD_STRING, true } };
	if (!json_is_object(o))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (streams)");
	if (VR_CHECK(r, o, fields) != 0 || check_layers(r, o) != 0)
		return r->code;
	vr_publisher *p = find_feed(r, s->room, json_object_get(o, "feed"));
	if (p == NULL)
		return r->code;
	const char *mid = json_string_value(json_object_get(o, "mid"));
	vr_pstream *src = find_pstream(p, mid);
	if (src == NULL || src->disabled)
		return vr_error(r, VR_ERR_NO_SUCH_FEED, "No such mid '%s' in feed (%" G_GUINT64_FORMAT ")",
				mid, p->id);
	const char *sub_mid = json_string_value(json_object_get(o, "sub_mid"));
	vr_sstream *ss = NULL;
	for (int k = 0; k < s->nstreams && ss == NULL; k++)
		if (strcmp(s->streams[k]->mid, sub_mid) == 0)
			ss = s->streams[k];
	if (ss == NULL || ss->type == VR_DATA)
		return vr_error(r, VR_ERR_NO_SUCH_FEED, "No such mid '%s' in this subscription", sub_mid);
	if (ss->type != src->type || g_strcmp0(ss->codec, src->codec) != 0)
		return vr_error(r, VR_ERR_INVALID_ELEMENT,
				"Can't switch mid '%s' to a %s stream of another codec", sub_mid,
				src->type == VR_AUDIO ? "audio" : "video");
	if (ss->src == src)
		return 0;
	apply_layers(ss, o);
	set_source(s, ss, p, src);
	(*changes)++;
	return 0;
}

json_t *vr_sub_switch(vr_req *r)
{
	json_t *list = json_object_get(r->body, "streams");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		vr_error(r, list == NULL ? VR_ERR_MISSING_ELEMENT : VR_ERR_INVALID_ELEMENT,
			 "%s (streams)", list == NULL ? "Missing mandatory element" : "Invalid element");
		return NULL;
	}
	vr_subscriber *s = my_subscriber(r);
	g_mutex_lock(&vr_lock);
	int changes = 0;
	size_t i;
	json_t *o;
	json_t *ev = NULL;
	json_array_foreach(list, i, o)
		if (switch_one(r, s, o, &changes) != 0)
			break;
	if (r->code == 0)
		ev = json_pack("{s:s,s:s,s:I,s:i,s:o}", "videoroom", "event", "switched", "ok", "room",
			       (json_int_t)s->room->s.room, "changes", changes, "streams", streams_json(s));
	g_mutex_unlock(&vr_lock);
	vr_subscriber_unref(s);
	return ev;
}

/* subscribe / unsubscribe / update: change the set, then offer. */
json_t *vr_sub_update(vr_req *r, json_t **jsep)
{
	if (r->h->ptype != VR_SUBSCRIBER) {
		vr_error(r, r->h->ptype == VR_NONE ? VR_ERR_JOIN_FIRST : VR_ERR_INVALID_REQUEST,
			 r->h->ptype == VR_NONE ? "Invalid request on unconfigured participant"
						: "Subscription requests are for subscribers");
		return NULL;
	}
	const char *name = json_string_value(json_object_get(r->body, "request"));
	json_t *sub = json_object_get(r->body, strcmp(name, "unsubscribe") == 0 ? "unsubscribe_none"
							: strcmp(name, "update") == 0	 ? "subscribe"
											 : "streams");
	json_t *unsub = json_object_get(r->body, strcmp(name, "unsubscribe") == 0 ? "streams"
						 : strcmp(name, "update") == 0	  ? "unsubscribe"
										  : "unsubscribe_none");
	if ((sub != NULL && !json_is_array(sub)) || (unsub != NULL && !json_is_array(unsub))) {
		vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (streams should be an array)");
		return NULL;
	}
	if (json_array_size(sub) == 0 && json_array_size(unsub) == 0) {
		vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (%s)",
			 strcmp(name, "update") == 0 ? "subscribe or unsubscribe" : "streams");
		return NULL;
	}
	vr_subscriber *s = my_subscriber(r);
	g_mutex_lock(&vr_lock);
	size_t i;
	json_t *o;
	json_array_foreach(unsub, i, o)
		if (json_is_object(o))
			remove_matching(s, o);
	if (sub != NULL)
		add_streams(r, s, sub);
	bool pending = s->offer_pending;
	if (r->code == 0 && pending)
		s->needs_update = true;
	guint64 room = s->room->s.room;
	g_mutex_unlock(&vr_lock);
	json_t *ev = NULL;
	if (r->code == 0 && pending) {
		ev = json_pack("{s:s,s:I}", "videoroom", "updating", "room", (json_int_t)room);
	} else if (r->code == 0) {
		*jsep = make_offer(r, s, false);
		if (*jsep != NULL) {
			g_mutex_lock(&vr_lock);
			ev = json_pack("{s:s,s:I,s:o}", "videoroom", "updated", "room", (json_int_t)room,
				       "streams", streams_json(s));
			g_mutex_unlock(&vr_lock);
		}
	}
	vr_subscriber_unref(s);
	return ev;
}

json_t *vr_sub_leave(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_subscriber *s = r->h->sub;
	guint64 room = s->room->s.room;
	vr_subscriber_remove(s);
	vr_defer_close(r->ps);
	g_mutex_unlock(&vr_lock);
	return json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room", (json_int_t)room, "left", "ok");
}

/* ---- room events (vr_lock held) ---- */

void vr_subscriber_remove(vr_subscriber *s)
{
	if (s->removed)
		return;
	s->removed = true;
	for (int i = 0; i < s->nstreams; i++)
		set_source(s, s->streams[i], NULL, NULL);
	for (guint i = 0; i < s->data_feeds->len; i++) {
		set_source(s, s->data_feeds->pdata[i], NULL, NULL);
		vr_sstream_unref(s->data_feeds->pdata[i]);
	}
	g_ptr_array_set_size(s->data_feeds, 0);
	s->registered = false;
	g_ptr_array_remove(s->room->subscribers, s);
}

void vr_subscribers_feed_gone(vr_room *room, vr_publisher *p)
{
	for (guint k = 0; k < room->subscribers->len; k++) {
		vr_subscriber *s = room->subscribers->pdata[k];
		bool changed = false;
		for (int i = 0; i < s->nstreams; i++) {
			if (s->streams[i]->feed == p) {
				set_source(s, s->streams[i], NULL, NULL);
				changed = true;
			}
		}
		for (guint i = 0; i < s->data_feeds->len;) {
			vr_sstream *ds = s->data_feeds->pdata[i];
			if (ds->feed != p) {
				i++;
				continue;
			}
			set_source(s, ds, NULL, NULL);
			g_ptr_array_remove_index(s->data_feeds, i);
			vr_sstream_unref(ds);
			changed = true;
		}
		if (changed && s->autoupdate)
			vr_worker_push_update(s);
	}
}

/* Worker thread: an offer for changes the subscriber did not ask for. */
void vr_subscriber_push_update(vr_subscriber *s)
{
	g_mutex_lock(&vr_lock);
	bool skip = s->removed || g_atomic_int_get(&s->ps->stopped);
	if (!skip && s->offer_pending) {
		s->needs_update = true;
		skip = true;
	}
	g_mutex_unlock(&vr_lock);
	if (skip)
		return;
	vr_req r = { .ps = s->ps };
	json_t *jsep = make_offer(&r, s, false);
	if (jsep == NULL)
		return;
	g_mutex_lock(&vr_lock);
	json_t *ev = json_pack("{s:s,s:I,s:o}", "videoroom", "updated", "room", (json_int_t)s->room->s.room,
			       "streams", streams_json(s));
	g_mutex_unlock(&vr_lock);
	vr_core->push_event(s->ps, NULL, ev, jsep);
	json_decref(ev);
	json_decref(jsep);
}

/* ---- media (the subscriber's loop) ---- */

static void register_streams(vr_subscriber *s, int loop)
{
	s->loop = loop;
	s->registered = true;
	for (int i = 0; i < s->nstreams; i++) {
		vr_sstream *ss = s->streams[i];
		g_atomic_int_set(&ss->loop, loop);
		if (ss->src != NULL) {
			vr_fanout_add(ss->src, ss);
			vr_pstream_request_keyframe(ss->src);
		}
	}
	for (guint i = 0; i < s->data_feeds->len; i++) {
		vr_sstream *ds = s->data_feeds->pdata[i];
		g_atomic_int_set(&ds->loop, loop);
		vr_fanout_add(ds->src, ds);
	}
}

void vr_sub_setup_media(vr_handle *h)
{
	int loop = vr_core->current_loop();
	g_mutex_lock(&vr_lock);
	vr_subscriber *s = h->sub;
	if (s != NULL && !s->removed)
		register_streams(s, loop);
	g_mutex_unlock(&vr_lock);
}

void vr_sub_hangup_media(vr_handle *h)
{
	g_mutex_lock(&vr_lock);
	vr_subscriber *s = h->sub;
	if (s != NULL && s->registered) {
		for (int i = 0; i < s->nstreams; i++)
			if (s->streams[i]->src != NULL)
				vr_fanout_remove(s->streams[i]->src, s->streams[i]);
		for (guint i = 0; i < s->data_feeds->len; i++) {
			vr_sstream *ds = s->data_feeds->pdata[i];
			vr_fanout_remove(ds->src, ds);
		}
		s->registered = false;
		s->offer_pending = false;
	}
	g_mutex_unlock(&vr_lock);
}

void vr_sub_incoming_rtcp(vr_handle *h, stoa_plugin_rtcp *pkt)
{
	vr_subscriber *sub = h->sub; /* set before the pc existed; stays until destroy_session */
	if (!pkt->video || sub == NULL || pkt->mindex < 0 || pkt->mindex >= sub->nstreams)
		return;
	/* The core hands each NACK of a forwarded stream over on its own. */
	uint16_t probe;
	if (stoa_rtcp_nack_seqs(pkt->buffer, pkt->length, &probe, 1) > 0) {
		vr_fanout_nack(sub->streams[pkt->mindex], pkt->buffer, pkt->length);
		return;
	}
	if (!stoa_rtcp_wants_keyframe(pkt->buffer, pkt->length))
		return;
	g_mutex_lock(&vr_lock);
	vr_subscriber *s = h->sub;
	if (s != NULL && pkt->mindex >= 0 && pkt->mindex < s->nstreams &&
	    s->streams[pkt->mindex]->src != NULL)
		vr_pstream_request_keyframe(s->streams[pkt->mindex]->src);
	g_mutex_unlock(&vr_lock);
}

json_t *vr_subscriber_query(vr_subscriber *s)
{
	json_t *streams = streams_json(s);
	size_t i;
	json_t *o;
	json_array_foreach(streams, i, o) {
		if (i >= (size_t)s->nstreams)
			continue;
		const vr_sstream *ss = s->streams[i];
		json_object_set_new(o, "relayed", json_integer((json_int_t)ss->relayed));
		if (ss->type == VR_VIDEO) {
			/* Congestion (fanout.c): waits for a keyframe, packets dropped in them. */
			json_object_set_new(o, "keyframe_waits", json_integer((json_int_t)ss->kf_waits));
			json_object_set_new(o, "keyframe_wait_drops",
					    json_integer((json_int_t)ss->kf_wait_drops));
		}
	}
	return json_pack("{s:s,s:I,s:b,s:b,s:b,s:o}", "type", "subscriber", "room",
			 (json_int_t)s->room->s.room, "started", s->started, "paused", s->paused,
			 "registered", s->registered, "streams", streams);
}
