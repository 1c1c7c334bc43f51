/*
 * publisher.c: publisher-type participants — join, publish, configure,
 * unpublish, leave — and what their media does: each packet goes to the
 * fan-out (fanout.c); the room's bitrate cap goes back as REMB; periodic
 * keyframe requests (fir_freq); talking detection from the audio level.
 *
 * A participant joins (it is then listed in the room and told who
 * publishes), then publishes with an offer: the core answers it (receive
 * only), and when DTLS is up (setup_media) the participant becomes active
 * and is announced to the room with its streams. Subscribers can only
 * subscribe to active publishers.
 *
 * Threads: requests on the worker thread, taking vr_lock around state and
 * never around generate_answer; media callbacks on the publisher's media
 * loop (setup/hangup take vr_lock; RTP does not).
 */
#include <string.h>

#include "media/rtp/keyframe.h"
#include "videoroom.h"

#define REMB_EVERY_US G_USEC_PER_SEC

vr_publisher *vr_publisher_ref(vr_publisher *p)
{
	g_atomic_int_inc(&p->ref);
	return p;
}

static void pstream_free(vr_pstream *s)
{
	vr_fanout_clear(s);
	vr_pstream_ring_clear(s);
	vr_forwarders_clear(s);
	g_mutex_clear(&s->subs_lock);
	g_mutex_clear(&s->ring_lock);
	g_mutex_clear(&s->fwd_lock);
	g_free(s->mid);
	g_free(s->codec);
	g_free(s->fmtp);
	g_free(s->description);
	g_free(s);
}

void vr_publisher_unref(vr_publisher *p)
{
	if (p == NULL || !g_atomic_int_dec_and_test(&p->ref))
		return;
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i] != NULL)
			pstream_free(p->streams[i]);
	vr_core->session_unref(p->ps);
	vr_room_unref(p->room);
	g_free(p->display);
	g_free(p->acodec);
	g_free(p->vcodec);
	if (p->metadata != NULL)
		json_decref(p->metadata);
	if (p->descriptions != NULL)
		json_decref(p->descriptions);
	g_free(p);
}

/* ---- descriptions ---- */

static const char *media_name(vr_media t)
{
	return t == VR_AUDIO ? "audio" : t == VR_VIDEO ? "video" : "data";
}

static json_t *pstream_json(const vr_pstream *s, bool own)
{
	json_t *o = json_pack("{s:s,s:i,s:s}", "type", media_name(s->type), "mindex", s->mindex,
			      "mid", s->mid);
	if (s->disabled) {
		json_object_set_new(o, "disabled", json_true());
		return o;
	}
	if (s->description != NULL)
		json_object_set_new(o, "description", json_string(s->description));
	if (s->codec != NULL)
		json_object_set_new(o, "codec", json_string(s->codec));
	if (s->simulcast)
		json_object_set_new(o, "simulcast", json_true());
	if (g_atomic_int_get(&s->moderated))
		json_object_set_new(o, "moderated", json_true());
	if (s->type == VR_AUDIO && s->fmtp != NULL && strstr(s->fmtp, "useinbandfec=1") != NULL)
		json_object_set_new(o, "fec", json_true());
	if (s->type == VR_AUDIO && s->pub->room->s.audiolevel_event)
		json_object_set_new(o, "talking", json_boolean(s->talking));
	if (own && s->type != VR_DATA)
		json_object_set_new(o, "pt", json_integer(s->pt));
	return o;
}

static json_t *streams_json(vr_publisher *p, bool own)
{
	json_t *a = json_array();
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i] != NULL)
			json_array_append_new(a, pstream_json(p->streams[i], own));
	return a;
}

json_t *vr_publisher_json(vr_publisher *p)
{
	json_t *o = json_pack("{s:I}", "id", (json_int_t)p->id);
	if (p->display != NULL)
		json_object_set_new(o, "display", json_string(p->display));
	if (p->metadata != NULL)
		json_object_set(o, "metadata", p->metadata);
	if (p->acodec != NULL)
		json_object_set_new(o, "audio_codec", json_string(p->acodec));
	if (p->vcodec != NULL)
		json_object_set_new(o, "video_codec", json_string(p->vcodec));
	json_object_set_new(o, "streams", streams_json(p, false));
	if (p->room->s.audiolevel_event)
		json_object_set_new(o, "talking", json_boolean(vr_publisher_talking(p)));
	return o;
}

/* Whether any of the publisher's audio streams is talking (Janus puts this
 * next to the streams, and in listparticipants). */
bool vr_publisher_talking(vr_publisher *p)
{
	for (int i = 0; i < p->nstreams; i++) {
		vr_pstream *s = p->streams[i];
		if (s != NULL && s->type == VR_AUDIO && !s->disabled && s->talking)
			return true;
	}
	return false;
}

json_t *vr_publishers_list(vr_room *room, vr_publisher *except)
{
	json_t *list = json_array();
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (v != except && ((vr_publisher *)v)->active)
			json_array_append_new(list, vr_publisher_json(v));
	return list;
}

static json_t *who(vr_publisher *p, const char *key, json_t *value)
{
	json_t *ev = json_pack("{s:s,s:I,s:o}", "videoroom", "event", "room", (json_int_t)p->room->s.room,
			       key, value);
	if (p->display != NULL)
		json_object_set_new(ev, "display", json_string(p->display));
	if (p->metadata != NULL)
		json_object_set(ev, "metadata", p->metadata);
	return ev;
}

/* `publishers` with this one publisher, to everyone else in the room: when
 * it becomes active, and again when what it publishes changes. vr_lock held. */
static void announce(vr_publisher *p)
{
	json_t *ev = json_pack("{s:s,s:I,s:[o]}", "videoroom", "event", "room",
			       (json_int_t)p->room->s.room, "publishers", vr_publisher_json(p));
	vr_notify_room(p->room, ev, p, false);
	json_decref(ev);
}

/* ---- leaving and stopping (vr_lock held) ---- */

void vr_publisher_stopped(vr_publisher *p)
{
	if (!p->publishing && !p->active)
		return;
	bool was_active = p->active;
	p->publishing = p->active = false;
	for (int i = 0; i < p->nstreams; i++) {
		if (p->streams[i] != NULL) {
			vr_fanout_clear(p->streams[i]);
			vr_pstream_ring_clear(p->streams[i]);
			vr_forwarders_clear(p->streams[i]);
		}
	}
	if (was_active && p->in_room) {
		json_t *ev = who(p, "unpublished", json_integer((json_int_t)p->id));
		vr_notify_room(p->room, ev, p, false);
		json_decref(ev);
	}
	vr_subscribers_feed_gone(p->room, p);
}

bool vr_publisher_remove(vr_publisher *p, const char *reason, bool quiet)
{
	bool close = p->publishing || p->active;
	vr_publisher_stopped(p);
	if (!p->in_room)
		return close;
	p->in_room = false;
	g_hash_table_remove(p->room->participants, &p->id);
	if (!quiet) {
		bool kicked = g_strcmp0(reason, "kicked") == 0;
		json_t *ev = who(p, kicked ? "kicked" : "leaving", json_integer((json_int_t)p->id));
		vr_notify_room(p->room, ev, p, false);
		json_decref(ev);
	}
	vr_publisher_unref(p); /* the participants table's */
	return close;
}

/* ---- join ---- */

static bool token_allowed(vr_room *room, json_t *body)
{
	if (room->allowed == NULL)
		return true;
	const char *token = json_string_value(json_object_get(body, "token"));
	return token != NULL && g_hash_table_contains(room->allowed, token);
}

static vr_publisher *publisher_new(vr_req *r, vr_room *room, guint64 id)
{
	vr_publisher *p = g_new0(vr_publisher, 1);
	p->ref = 2; /* the handle's and the participants table's */
	vr_core->session_ref(r->ps);
	p->ps = r->ps;
	p->room = vr_room_ref(room);
	p->id = id;
	p->private_id = vr_random_id();
	p->display = g_strdup(json_string_value(json_object_get(r->body, "display")));
	json_t *md = json_object_get(r->body, "metadata");
	p->metadata = md != NULL ? json_incref(md) : NULL;
	p->in_room = true;
	guint64 *key = g_new(guint64, 1);
	*key = id;
	g_hash_table_insert(room->participants, key, p);
	return p;
}

/* Checks and adds the participant; returns the `joined` event or NULL. */
static json_t *join_locked(vr_req *r, vr_room *room)
{
	if (vr_room_check_pin(r, room) != 0)
		return NULL;
	if (!token_allowed(room, r->body)) {
		vr_error(r, VR_ERR_UNAUTHORIZED, "Unauthorized (not in the allowed list)");
		return NULL;
	}
	json_t *jid = json_object_get(r->body, "id");
	guint64 id = jid != NULL ? (guint64)json_integer_value(jid) : 0;
	if (id != 0 && g_hash_table_contains(room->participants, &id)) {
		vr_error(r, VR_ERR_ID_EXISTS, "User ID %" G_GUINT64_FORMAT " already exists", id);
		return NULL;
	}
	while (id == 0 || g_hash_table_contains(room->participants, &id))
		id = vr_random_id();
	vr_publisher *p = publisher_new(r, room, id);
	r->h->ptype = VR_PUBLISHER;
	r->h->pub = p;
	json_t *joined = json_pack("{s:s,s:I,s:s,s:I,s:I,s:o}", "videoroom", "joined", "room",
				   (json_int_t)room->s.room, "description",
				   room->s.description != NULL ? room->s.description : "", "id",
				   (json_int_t)id, "private_id", (json_int_t)p->private_id,
				   "publishers", vr_publishers_list(room, p));
	if (room->s.notify_joining) {
		json_t *att = json_array();
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, room->participants);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			vr_publisher *o = v;
			if (o == p || o->active)
				continue;
			json_t *a = json_pack("{s:I}", "id", (json_int_t)o->id);
			if (o->display != NULL)
				json_object_set_new(a, "display", json_string(o->display));
			json_array_append_new(att, a);
		}
		json_object_set_new(joined, "attendees", att);
		json_t *j = json_pack("{s:I}", "id", (json_int_t)id);
		if (p->display != NULL)
			json_object_set_new(j, "display", json_string(p->display));
		json_t *ev = json_pack("{s:s,s:I,s:o}", "videoroom", "event", "room",
				       (json_int_t)room->s.room, "joining", j);
		vr_notify_room(room, ev, p, false);
		json_decref(ev);
	}
	if (room->s.audiolevel_event)
		json_object_set_new(joined, "audio_active_packets",
				    json_integer(room->s.audio_active_packets));
	return joined;
}

static json_t *publish(vr_req *r, vr_publisher *p, json_t **jsep);
static int check_descriptions(vr_req *r);

json_t *vr_pub_join(vr_req *r, json_t **jsep)
{
	static const stoa_field fields[] = {
		{ "id", STOA_FIELD_POSINT, false },	   { "display", STOA_FIELD_STRING, false },
		{ "metadata", STOA_FIELD_OBJECT, false }, { "token", STOA_FIELD_STRING, false },
		{ "pin", STOA_FIELD_STRING, false },	   { "descriptions", STOA_FIELD_ARRAY, false },
	};
	if (VR_CHECK(r, r->body, fields) != 0 || check_descriptions(r) != 0)
		return NULL;
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_find(r, (guint64)json_integer_value(json_object_get(r->body, "room")));
	json_t *joined = NULL;
	if (room != NULL) {
		joined = join_locked(r, room);
		vr_room_unref(room);
	}
	vr_publisher *p = joined != NULL ? vr_publisher_ref(r->h->pub) : NULL;
	g_mutex_unlock(&vr_lock);
	if (p == NULL)
		return NULL;
	const char *name = json_string_value(json_object_get(r->body, "request"));
	if (r->jsep != NULL && strcmp(name, "joinandconfigure") == 0) {
		json_t *conf = publish(r, p, jsep);
		if (conf == NULL) {
			/* Joined, but the publish part failed: the error is what the client sees. */
			json_decref(joined);
			vr_publisher_unref(p);
			return NULL;
		}
		const char *keys[] = { "audio_codec", "video_codec", "streams" };
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
			if (json_object_get(conf, keys[i]) != NULL)
				json_object_set(joined, keys[i], json_object_get(conf, keys[i]));
		json_decref(conf);
	}
	vr_publisher_unref(p);
	return joined;
}

/* ---- publish ---- */

static bool codec_allowed(char *const *list, const char *codec)
{
	for (int i = 0; list[i] != NULL; i++)
		if (g_ascii_strcasecmp(list[i], codec) == 0)
			return true;
	return false;
}

/* What the publisher's answer accepts: the room's codecs (or the ones the
 * request names), its profiles, and, as Janus's VideoRoom does, only the
 * header extensions the room enables and the Opus FEC/DTX it asks for. */
static json_t *answer_prefs(vr_req *r, vr_room *room)
{
	const char *ac = json_string_value(json_object_get(r->body, "audiocodec"));
	const char *vc = json_string_value(json_object_get(r->body, "videocodec"));
	char *alist = vr_settings_codecs(room->s.acodec), *vlist = vr_settings_codecs(room->s.vcodec);
	const vr_settings *s = &room->s;
	json_t *prefs = json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b}", "audiocodec",
				  ac != NULL ? ac : alist, "videocodec", vc != NULL ? vc : vlist,
				  "data", 1, "recvonly", 1, "opus_fec", s->opus_fec, "opus_dtx",
				  s->opus_dtx, "audiolevel_ext", s->audiolevel_ext, "videoorient_ext",
				  s->videoorient_ext, "playoutdelay_ext", s->playoutdelay_ext,
				  "transport_wide_cc_ext", s->transport_wide_cc_ext);
	g_free(alist);
	g_free(vlist);
	if (room->s.vp9_profile != NULL)
		json_object_set_new(prefs, "vp9_profile", json_string(room->s.vp9_profile));
	if (room->s.h264_profile != NULL)
		json_object_set_new(prefs, "h264_profile", json_string(room->s.h264_profile));
	return prefs;
}

static int video_codec_of(const char *name)
{
	if (name == NULL)
		return STOA_CODEC_UNKNOWN;
	if (strcmp(name, "vp8") == 0)
		return STOA_CODEC_VP8;
	if (strcmp(name, "vp9") == 0)
		return STOA_CODEC_VP9;
	if (strcmp(name, "h264") == 0)
		return STOA_CODEC_H264;
	if (strcmp(name, "av1") == 0)
		return STOA_CODEC_AV1;
	return STOA_CODEC_UNKNOWN;
}

/* `descriptions` of join/publish/configure: [{mid, description}], both
 * required in each entry, as in Janus. 0 or an error set on r. */
static int check_descriptions(vr_req *r)
{
	static const stoa_field fields[] = { { "mid", STOA_FIELD_STRING, true },
					   { "description", STOA_FIELD_STRING, true } };
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(r->body, "descriptions"), i, d) {
		if (!json_is_object(d))
			return vr_error(r, VR_ERR_INVALID_ELEMENT,
					"Invalid element type (descriptions should be an array of objects)");
		if (VR_CHECK(r, d, fields) != 0)
			return r->code;
	}
	return 0;
}

static const char *description_for(vr_publisher *p, json_t *body, const char *mid)
{
	json_t *list = json_object_get(body, "descriptions");
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d) {
		const char *m = json_string_value(json_object_get(d, "mid"));
		if (m != NULL && strcmp(m, mid) == 0)
			return json_string_value(json_object_get(d, "description"));
	}
	(void)p;
	return NULL;
}

/* The streams from our answer (codecs) and the client's offer (simulcast).
 * A renegotiation keeps the stream objects of m-lines already known (the
 * fan-out snapshots hang off them). vr_lock held. */
static void apply_streams(vr_publisher *p, json_t *body, const char *offer, const char *answer)
{
	GPtrArray *a = stoa_sdp_scan(answer), *o = stoa_sdp_scan(offer);
	g_clear_pointer(&p->acodec, g_free);
	g_clear_pointer(&p->vcodec, g_free);
	for (guint i = 0; i < a->len && i < VR_MAX_STREAMS; i++) {
		const stoa_scan_mline *m = a->pdata[i];
		const stoa_scan_mline *om = i < o->len ? o->pdata[i] : NULL;
		const stoa_scan_fmt *f = stoa_sdp_scan_first(m);
		if (m->type == STOA_SCAN_OTHER)
			continue;
		vr_pstream *s = p->streams[i];
		if (s == NULL) {
			s = g_new0(vr_pstream, 1);
			s->pub = p;
			s->mindex = (int)i;
			g_mutex_init(&s->subs_lock);
			g_mutex_init(&s->ring_lock);
			g_mutex_init(&s->fwd_lock);
			g_atomic_int_set(&s->relay, 1);
		}
		g_free(s->mid);
		s->mid = g_strdup(m->mid);
		s->type = (vr_media)m->type; /* the same numbering */
		g_free(s->codec);
		s->codec = m->type != STOA_SCAN_DATA && f != NULL ? g_strdup(f->name) : NULL;
		g_free(s->fmtp);
		s->fmtp = f != NULL ? g_strdup(f->fmtp) : NULL;
		s->pt = f != NULL ? f->pt : -1;
		s->disabled = m->rejected || (m->type != STOA_SCAN_DATA && f == NULL) ||
			      (om != NULL && !om->sends);
		s->simulcast = om != NULL && om->simulcast;
		s->video_codec = video_codec_of(s->codec);
		const char *d = description_for(p, body, s->mid);
		if (d != NULL) {
			g_free(s->description);
			s->description = g_strdup(d);
		}
		if (!s->disabled && s->type == VR_AUDIO && p->acodec == NULL)
			p->acodec = g_strdup(s->codec);
		if (!s->disabled && s->type == VR_VIDEO && p->vcodec == NULL)
			p->vcodec = g_strdup(s->codec);
		if (p->streams[i] == NULL) {
			g_atomic_pointer_set(&p->streams[i], s);
			p->nstreams = (int)i + 1;
		}
	}
	stoa_sdp_scan_free(a);
	stoa_sdp_scan_free(o);
}

/* configure without an offer: new descriptions for the streams already
 * published (an unknown mid is skipped, as Janus does). True when one
 * changed. vr_lock held. */
static bool apply_descriptions(vr_publisher *p, json_t *body)
{
	bool changed = false;
	for (int i = 0; i < p->nstreams; i++) {
		vr_pstream *s = p->streams[i];
		const char *d = s != NULL ? description_for(p, body, s->mid) : NULL;
		if (d == NULL || g_strcmp0(d, s->description) == 0)
			continue;
		g_free(s->description);
		s->description = g_strdup(d);
		changed = true;
	}
	return changed;
}

static int check_publish(vr_req *r, vr_publisher *p)
{
	const char *type = json_string_value(json_object_get(r->jsep, "type"));
	if (g_strcmp0(type, "offer") != 0)
		return vr_error(r, VR_ERR_INVALID_SDP_TYPE, "Unknown SDP type '%s'", type);
	if (!p->in_room)
		return vr_error(r, VR_ERR_NO_SUCH_ROOM, "Not in a room (left or destroyed)");
	vr_room *room = p->room;
	const char *ac = json_string_value(json_object_get(r->body, "audiocodec"));
	const char *vc = json_string_value(json_object_get(r->body, "videocodec"));
	if (ac != NULL && !codec_allowed(room->s.acodec, ac))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Audio codec unavailable in this room");
	if (vc != NULL && !codec_allowed(room->s.vcodec, vc))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Video codec unavailable in this room");
	if (!p->publishing && vr_room_count_publishers(room) >= room->s.publishers)
		return vr_error(r, VR_ERR_PUBLISHERS_FULL,
				"Maximum number of publishers (%d) already reached", room->s.publishers);
	if (room->s.require_e2ee && !json_is_true(json_object_get(r->jsep, "e2ee")))
		return vr_error(r, VR_ERR_UNAUTHORIZED, "Room requires end-to-end encrypted media");
	return 0;
}

/* Answers the publisher's offer (first publish or renegotiation). Returns
 * the `configured` event with the answer in *jsep, or NULL. */
static json_t *publish(vr_req *r, vr_publisher *p, json_t **jsep)
{
	g_mutex_lock(&vr_lock);
	int code = check_publish(r, p);
	bool renegotiation = p->publishing;
	json_t *prefs = code == 0 ? answer_prefs(r, p->room) : NULL;
	if (code == 0)
		p->publishing = true; /* holds the slot while we answer */
	g_mutex_unlock(&vr_lock);
	if (code != 0)
		return NULL;
	char why[256];
	json_t *answer = vr_core->generate_answer(r->ps, prefs, why, sizeof(why));
	json_decref(prefs);
	g_mutex_lock(&vr_lock);
	if (answer == NULL) {
		if (!renegotiation)
			p->publishing = false;
		g_mutex_unlock(&vr_lock);
		vr_error(r, VR_ERR_INVALID_SDP, "Error parsing offer: %s", why);
		return NULL;
	}
	apply_streams(p, r->body, json_string_value(json_object_get(r->jsep, "sdp")),
		      json_string_value(json_object_get(answer, "sdp")));
	json_t *ev = json_pack("{s:s,s:I,s:s,s:o}", "videoroom", "event", "room",
			       (json_int_t)p->room->s.room, "configured", "ok", "streams",
			       streams_json(p, true));
	if (p->acodec != NULL)
		json_object_set_new(ev, "audio_codec", json_string(p->acodec));
	if (p->vcodec != NULL)
		json_object_set_new(ev, "video_codec", json_string(p->vcodec));
	if (renegotiation && p->active)
		announce(p);
	g_mutex_unlock(&vr_lock);
	*jsep = answer;
	return ev;
}

static vr_publisher *my_publisher(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_publisher *p = r->h->pub != NULL ? vr_publisher_ref(r->h->pub) : NULL;
	g_mutex_unlock(&vr_lock);
	return p;
}

json_t *vr_pub_publish(vr_req *r, json_t **jsep)
{
	if (check_descriptions(r) != 0)
		return NULL;
	if (r->jsep == NULL) {
		vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (jsep)");
		return NULL;
	}
	vr_publisher *p = my_publisher(r);
	if (p == NULL)
		return NULL;
	g_mutex_lock(&vr_lock);
	bool already = p->publishing;
	g_mutex_unlock(&vr_lock);
	json_t *ev = NULL;
	if (already)
		vr_error(r, VR_ERR_ALREADY_PUBLISHED, "Can't publish, already published");
	else
		ev = publish(r, p, jsep);
	vr_publisher_unref(p);
	return ev;
}

/* The per-stream `send` flags of configure, and unknown mids. vr_lock held. */
static int configure_streams(vr_req *r, vr_publisher *p, json_t *streams)
{
	size_t i;
	json_t *s;
	json_array_foreach(streams, i, s) {
		const char *mid = json_string_value(json_object_get(s, "mid"));
		if (mid == NULL)
			return vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (mid)");
		vr_pstream *ps = NULL;
		for (int k = 0; k < p->nstreams && ps == NULL; k++)
			if (p->streams[k] != NULL && strcmp(p->streams[k]->mid, mid) == 0)
				ps = p->streams[k];
		if (ps == NULL)
			return vr_error(r, VR_ERR_NO_SUCH_FEED, "No such mid '%s' published", mid);
		json_t *send = json_object_get(s, "send");
		if (json_is_boolean(send))
			g_atomic_int_set(&ps->relay, json_is_true(send));
		if (json_is_true(json_object_get(s, "keyframe")))
			vr_pstream_request_keyframe(ps);
	}
	return 0;
}

static void configure_display(vr_req *r, vr_publisher *p)
{
	const char *display = json_string_value(json_object_get(r->body, "display"));
	if (display == NULL || g_strcmp0(display, p->display) == 0)
		return;
	bool had = p->display != NULL;
	g_free(p->display);
	p->display = g_strdup(display);
	if (had && p->active) {
		/* Janus's shape: no "room" in this one. */
		json_t *ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "id", (json_int_t)p->id,
				       "display", display);
		if (p->metadata != NULL)
			json_object_set(ev, "metadata", p->metadata);
		vr_notify_room(p->room, ev, p, false);
		json_decref(ev);
	}
}

/* Runs on the media loop too: the room's bitrate (`edit`) and the
 * publisher's (`configure`) are read atomically (videoroom.h). */
static uint32_t remb_for(vr_publisher *p)
{
	uint32_t room = __atomic_load_n(&p->room->s.bitrate, __ATOMIC_RELAXED);
	uint32_t own = __atomic_load_n(&p->bitrate, __ATOMIC_RELAXED);
	if (own == 0)
		return room;
	if (p->room->s.bitrate_cap && room > 0 && own > room)
		return room;
	return own;
}

json_t *vr_pub_configure(vr_req *r, json_t **jsep)
{
	static const stoa_field fields[] = {
		{ "bitrate", STOA_FIELD_POSINT, false },  { "keyframe", STOA_FIELD_BOOL, false },
		{ "display", STOA_FIELD_STRING, false },  { "metadata", STOA_FIELD_OBJECT, false },
		{ "streams", STOA_FIELD_ARRAY, false },   { "descriptions", STOA_FIELD_ARRAY, false },
		{ "audiocodec", STOA_FIELD_STRING, false }, { "videocodec", STOA_FIELD_STRING, false },
		{ "audio", STOA_FIELD_BOOL, false },	    { "video", STOA_FIELD_BOOL, false },
		{ "data", STOA_FIELD_BOOL, false },	    { "record", STOA_FIELD_BOOL, false },
	};
	if (VR_CHECK(r, r->body, fields) != 0 || check_descriptions(r) != 0)
		return NULL;
	vr_publisher *p = my_publisher(r);
	if (p == NULL)
		return NULL;
	json_t *ev = NULL;
	if (r->jsep != NULL) {
		ev = publish(r, p, jsep);
		if (ev == NULL) {
			vr_publisher_unref(p);
			return NULL;
		}
	}
	g_mutex_lock(&vr_lock);
	int code = configure_streams(r, p, json_object_get(r->body, "streams"));
	if (code == 0) {
		json_t *br = json_object_get(r->body, "bitrate");
		if (br != NULL)
			__atomic_store_n(&p->bitrate, (uint32_t)json_integer_value(br), __ATOMIC_RELAXED);
		json_t *md = json_object_get(r->body, "metadata");
		if (md != NULL) {
			if (p->metadata != NULL)
				json_decref(p->metadata);
			p->metadata = json_incref(md);
		}
		configure_display(r, p);
		/* With an offer, publish() took the descriptions and told the
		 * room; without one they change here and the room is told too. */
		if (r->jsep == NULL && apply_descriptions(p, r->body) && p->active)
			announce(p);
	}
	uint32_t remb = remb_for(p);
	bool publishing = p->publishing;
	g_mutex_unlock(&vr_lock);
	if (code != 0) {
		if (ev != NULL)
			json_decref(ev);
		vr_publisher_unref(p);
		return NULL;
	}
	if (publishing && json_object_get(r->body, "bitrate") != NULL && remb > 0)
		vr_core->send_remb(r->ps, remb);
	/* Through each stream's coalescing window, like every other keyframe
	 * request: a client repeating keyframe:true cannot make the publisher
	 * send keyframes faster than one a second per stream. */
	if (json_is_true(json_object_get(r->body, "keyframe")))
		for (int i = 0; i < p->nstreams; i++)
			vr_pstream_request_keyframe(g_atomic_pointer_get(&p->streams[i]));
	if (ev == NULL)
		ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room",
			       (json_int_t)p->room->s.room, "configured", "ok");
	vr_publisher_unref(p);
	return ev;
}

json_t *vr_pub_unpublish(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_publisher *p = r->h->pub;
	json_t *ev = NULL;
	if (p == NULL || !p->publishing) {
		vr_error(r, VR_ERR_NOT_PUBLISHED, "Can't unpublish, not published");
	} else {
		vr_publisher_stopped(p);
		vr_defer_close(r->ps);
		ev = json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room",
			       (json_int_t)p->room->s.room, "unpublished", "ok");
	}
	g_mutex_unlock(&vr_lock);
	return ev;
}

json_t *vr_pub_leave(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_publisher *p = r->h->pub;
	guint64 room = p->room->s.room;
	if (vr_publisher_remove(p, NULL, false))
		vr_defer_close(r->ps);
	g_mutex_unlock(&vr_lock);
	return json_pack("{s:s,s:I,s:s}", "videoroom", "event", "room", (json_int_t)room, "leaving",
			 "ok");
}

/* ---- media (the publisher's loop) ---- */

void vr_pub_setup_media(vr_handle *h)
{
	g_mutex_lock(&vr_lock);
	vr_publisher *p = h->pub;
	uint32_t remb = 0;
	if (p != NULL && p->publishing && p->in_room && !p->active) {
		p->active = true;
		announce(p);
		remb = remb_for(p);
		vr_core->log(STOA_LOG_INFO, h->ps, "publisher %" G_GUINT64_FORMAT " active in room %" G_GUINT64_FORMAT,
			     p->id, p->room->s.room);
	}
	g_mutex_unlock(&vr_lock);
	if (remb > 0)
		vr_core->send_remb(h->ps, remb);
}

void vr_pub_hangup_media(vr_handle *h)
{
	g_mutex_lock(&vr_lock);
	if (h->pub != NULL)
		vr_publisher_stopped(h->pub);
	g_mutex_unlock(&vr_lock);
}

/* RFC 6464 levels averaged over audio_active_packets packets; a change of
 * state is told to everyone in the room, the speaker included. */
static void talking(vr_publisher *p, vr_pstream *s, int level)
{
	const vr_settings *rs = &p->room->s;
	s->level_sum += level;
	if (++s->level_count < (rs->audio_active_packets > 0 ? rs->audio_active_packets : 100))
		return;
	double avg = (double)s->level_sum / s->level_count;
	s->level_sum = s->level_count = 0;
	bool now = avg < rs->audio_level_average;
	if (now == s->talking)
		return;
	s->talking = now;
	g_mutex_lock(&vr_lock);
	if (p->in_room) {
		json_t *ev = json_pack("{s:s,s:I,s:I,s:i,s:s,s:f}", "videoroom",
				       now ? "talking" : "stopped-talking", "room", (json_int_t)rs->room,
				       "id", (json_int_t)p->id, "mindex", s->mindex, "mid", s->mid,
				       "audio-level-dBov-avg", avg);
		vr_notify_room(p->room, ev, NULL, false);
		json_decref(ev);
	}
	g_mutex_unlock(&vr_lock);
}

/* The room's cap as REMB, once a second; keyframes every fir_freq s. */
static void periodic(vr_publisher *p, vr_pstream *s, int64_t now)
{
	if (now - p->remb_last_us >= REMB_EVERY_US) {
		p->remb_last_us = now;
		uint32_t remb = remb_for(p);
		if (remb > 0)
			vr_core->send_remb(p->ps, remb);
	}
	vr_pstream_keyframe_tick(s, now);
	int fir = __atomic_load_n(&p->room->s.fir_freq, __ATOMIC_RELAXED);
	if (fir > 0 && s->type == VR_VIDEO &&
	    now - __atomic_load_n(&s->last_pli_us, __ATOMIC_ACQUIRE) >= (int64_t)fir * G_USEC_PER_SEC)
		vr_pstream_request_keyframe(s);
}

void vr_pub_incoming_rtp(vr_handle *h, stoa_plugin_rtp *pkt)
{
	vr_publisher *p = h->pub;
	if (p == NULL || pkt->mindex < 0 || pkt->mindex >= VR_MAX_STREAMS)
		return;
	vr_pstream *s = g_atomic_pointer_get(&p->streams[pkt->mindex]);
	if (s == NULL || !p->active)
		return;
	int64_t now = g_get_monotonic_time();
	periodic(p, s, now);
	s->win_bytes += pkt->length;
	if (now - s->win_start_us >= G_USEC_PER_SEC) {
		if (s->win_start_us != 0)
			g_atomic_int_set(&s->bitrate,
					 (gint)(s->win_bytes * 8 * G_USEC_PER_SEC / (uint64_t)(now - s->win_start_us)));
		s->win_bytes = 0;
		s->win_start_us = now;
	}
	if (s->type == VR_AUDIO && pkt->audio_level >= 0 && p->room->s.audiolevel_event)
		talking(p, s, pkt->audio_level);
	if (g_atomic_int_get(&s->moderated) || !g_atomic_int_get(&s->relay))
		return;
	vr_fanout_rtp(s, pkt);
	vr_forward_rtp(s, pkt);
}

void vr_pub_incoming_data(vr_handle *h, stoa_plugin_data *msg)
{
	vr_publisher *p = h->pub;
	if (p == NULL || !p->active)
		return;
	for (int i = 0; i < p->nstreams; i++) {
		vr_pstream *s = g_atomic_pointer_get(&p->streams[i]);
		if (s != NULL && s->type == VR_DATA) {
			vr_fanout_data(s, msg);
			vr_forward_data(s, msg);
			return;
		}
	}
}

json_t *vr_publisher_query(vr_publisher *p)
{
	json_t *streams = json_array();
	for (int i = 0; i < p->nstreams; i++) {
		vr_pstream *s = p->streams[i];
		if (s == NULL)
			continue;
		json_t *o = pstream_json(s, true);
		json_object_set_new(o, "subscribers", json_integer(vr_fanout_count(s)));
		if (s->type != VR_DATA)
			json_object_set_new(o, "bitrate", json_integer(g_atomic_int_get(&s->bitrate)));
		json_array_append_new(streams, o);
	}
	json_t *o = json_pack("{s:s,s:I,s:I,s:b,s:b,s:b,s:o}", "type", "publisher", "room",
			      (json_int_t)p->room->s.room, "id", (json_int_t)p->id, "in_room",
			      p->in_room, "publishing", p->publishing, "active", p->active,
			      "streams", streams);
	if (p->display != NULL)
		json_object_set_new(o, "display", json_string(p->display));
	return o;
}
