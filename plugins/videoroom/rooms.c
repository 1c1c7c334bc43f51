/*
 * rooms.c: the VideoRoom's rooms — the registry (rooms from the config file
 * and from `create`), and the synchronous room requests.
 *
 * Threads: everything here runs under vr_lock, on API threads (and the
 * main thread at init/destroy). Handlers that end participants' peer
 * connections defer the close until vr_lock is released (vr_defer_close).
 * `permanent` changes rewrite the config file under vr_lock, which also
 * serialises the writers of that file.
 */
#include <string.h>

#include "videoroom.h"

static GHashTable *rooms; /* guint64 * -> vr_room * (ref) */

vr_room *vr_room_ref(vr_room *room)
{
	g_atomic_int_inc(&room->ref);
	return room;
}

void vr_room_unref(vr_room *room)
{
	if (room == NULL || !g_atomic_int_dec_and_test(&room->ref))
		return;
	vr_settings_clear(&room->s);
	if (room->allowed != NULL)
		g_hash_table_unref(room->allowed);
	g_hash_table_unref(room->participants);
	g_ptr_array_unref(room->subscribers);
	g_free(room);
}

static vr_room *room_new(const vr_settings *s)
{
	vr_room *room = g_new0(vr_room, 1);
	room->ref = 1;
	vr_settings_copy(&room->s, s);
	room->participants = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	room->subscribers = g_ptr_array_new();
	return room;
}

static void room_insert(vr_room *room)
{
	guint64 *key = g_new(guint64, 1);
	*key = room->s.room;
	g_hash_table_insert(rooms, key, room);
}

void vr_rooms_add_configured(const vr_settings *s, void *user)
{
	(void)user;
	g_mutex_lock(&vr_lock);
	if (g_hash_table_lookup(rooms, &s->room) == NULL)
		room_insert(room_new(s));
	g_mutex_unlock(&vr_lock);
}

void vr_rooms_init(void)
{
	rooms = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
				      (GDestroyNotify)vr_room_unref);
}

void vr_rooms_destroy(void)
{
	g_mutex_lock(&vr_lock);
	GHashTable *all = rooms;
	rooms = NULL;
	g_mutex_unlock(&vr_lock);
	if (all != NULL)
		g_hash_table_unref(all);
}

vr_room *vr_room_find(vr_req *r, guint64 id)
{
	vr_room *room = rooms != NULL ? g_hash_table_lookup(rooms, &id) : NULL;
	if (room == NULL || room->destroyed) {
		vr_error(r, VR_ERR_NO_SUCH_ROOM, "No such room (%" G_GUINT64_FORMAT ")", id);
		return NULL;
	}
	return vr_room_ref(room);
}

static int check_word(vr_req *r, const char *name, const char *expected)
{
	if (expected == NULL || r->admin)
		return 0;
	json_t *v = json_object_get(r->body, name);
	if (v == NULL)
		return vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (%s)", name);
	if (!json_is_string(v))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (%s should be a string)",
				name);
	/* In constant time: a timing difference would let a client guess a
	 * secret or PIN a byte at a time. */
	if (!vr_core->secret_equal(json_string_value(v), expected))
		return vr_error(r, VR_ERR_UNAUTHORIZED, "Unauthorized (wrong %s)", name);
	return 0;
}

int vr_room_check_secret(vr_req *r, vr_room *room)
{
	return check_word(r, "secret", room->s.secret);
}

int vr_room_check_pin(vr_req *r, vr_room *room)
{
	return check_word(r, "pin", room->s.pin);
}

int vr_room_count_publishers(vr_room *room)
{
	int n = 0;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((vr_publisher *)v)->publishing)
			n++;
	return n;
}

/* The room a request names, with its secret checked. +1 ref or NULL. */
vr_room *vr_room_for_request(vr_req *r, bool secret)
{
	static const stoa_field fields[] = { { "room", STOA_FIELD_POSINT, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	vr_room *room = vr_room_find(r, (guint64)json_integer_value(json_object_get(r->body, "room")));
	if (room != NULL && secret && vr_room_check_secret(r, room) != 0) {
		vr_room_unref(room);
		return NULL;
	}
	return room;
}

int vr_check_admin_key(vr_req *r)
{
	return check_word(r, "admin_key", vr_conf.admin_key);
}

static bool persist(vr_req *r, const vr_settings *s, bool remove)
{
	char err[256];
	int rc = remove ? vr_config_remove_room(vr_config_path, s->room, err, sizeof(err))
			: vr_config_save_room(vr_config_path, s, err, sizeof(err));
	if (rc < 0) {
		vr_error(r, VR_ERR_UNKNOWN, "Error saving the room permanently: %s", err);
		return false;
	}
	return true;
}

static void set_allowed(vr_room *room, json_t *list)
{
	if (room->allowed == NULL)
		room->allowed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (json_is_string(v))
			g_hash_table_add(room->allowed, g_strdup(json_string_value(v)));
}

static int check_token_list(vr_req *r, json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (!json_is_string(v))
			return vr_error(r, VR_ERR_INVALID_ELEMENT,
					"Invalid element type (allowed should be an array of strings)");
	return 0;
}

json_t *vr_req_create(vr_req *r)
{
	static const stoa_field fields[] = { { "room", STOA_FIELD_POSINT, false },
					   { "permanent", STOA_FIELD_BOOL, false },
					   { "allowed", STOA_FIELD_ARRAY, false } };
	if (VR_CHECK(r, r->body, fields) != 0 || vr_check_admin_key(r) != 0)
		return NULL;
	json_t *allowed = json_object_get(r->body, "allowed");
	if (allowed != NULL && check_token_list(r, allowed) != 0)
		return NULL;
	bool permanent = json_is_true(json_object_get(r->body, "permanent"));
	vr_settings s;
	vr_settings_init(&s);
	g_mutex_lock(&vr_lock);
	json_t *id = json_object_get(r->body, "room");
	s.room = id != NULL ? (guint64)json_integer_value(id) : 0;
	while (s.room == 0 || (rooms != NULL && g_hash_table_lookup(rooms, &s.room) != NULL && id == NULL))
		s.room = vr_random_id();
	json_t *reply = NULL;
	int code = vr_settings_apply(&s, r->body, false, NULL, r->err, sizeof(r->err));
	if (code != 0) {
		r->code = code;
	} else if (rooms == NULL || g_hash_table_lookup(rooms, &s.room) != NULL) {
		vr_error(r, VR_ERR_ROOM_EXISTS, "Room %" G_GUINT64_FORMAT " already exists", s.room);
	} else if (!permanent || persist(r, &s, false)) {
		vr_room *room = room_new(&s);
		if (allowed != NULL)
			set_allowed(room, allowed);
		room_insert(room);
		reply = json_pack("{s:s,s:I,s:b}", "videoroom", "created", "room", (json_int_t)s.room,
				  "permanent", permanent);
		vr_core->log(STOA_LOG_INFO, r->ps, "room %" G_GUINT64_FORMAT " created", s.room);
	}
	g_mutex_unlock(&vr_lock);
	vr_settings_clear(&s);
	return reply;
}

static void swap_str(char **a, char **b)
{
	char *t = *a;
	*a = *b;
	*b = t;
}

/* Makes the edited copy `s` the room's settings, field by field, for the
 * fields `edit` can change (settings.c's edit_keys). The room's struct is
 * never cleared on the way: media loops read some fields of it without
 * vr_lock (videoroom.h), so those are stored atomically; the strings and
 * the other fields are read only under vr_lock, which we hold. `s` gets
 * the old strings, for the caller to free. */
static void room_commit(vr_room *room, vr_settings *s)
{
	vr_settings *rs = &room->s;
	swap_str(&rs->description, &s->description);
	swap_str(&rs->secret, &s->secret);
	swap_str(&rs->pin, &s->pin);
	swap_str(&rs->rec_dir, &s->rec_dir);
	rs->is_private = s->is_private;
	rs->require_pvtid = s->require_pvtid;
	rs->publishers = s->publishers;
	rs->lock_record = s->lock_record;
	__atomic_store_n(&rs->bitrate, s->bitrate, __ATOMIC_RELAXED);
	__atomic_store_n(&rs->fir_freq, s->fir_freq, __ATOMIC_RELAXED);
}

json_t *vr_req_edit(vr_req *r)
{
	static const stoa_field fields[] = { { "permanent", STOA_FIELD_BOOL, false } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	bool permanent = json_is_true(json_object_get(r->body, "permanent"));
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	json_t *reply = NULL;
	if (room != NULL) {
		vr_settings s;
		vr_settings_copy(&s, &room->s);
		int code = vr_settings_edit(&s, r->body, r->err, sizeof(r->err));
		if (code != 0) {
			r->code = code;
		} else if (!permanent || persist(r, &s, false)) {
			room_commit(room, &s);
			reply = json_pack("{s:s,s:I,s:b}", "videoroom", "edited", "room",
					  (json_int_t)s.room, "permanent", permanent);
		}
		vr_settings_clear(&s);
		vr_room_unref(room);
	}
	g_mutex_unlock(&vr_lock);
	return reply;
}

/* Everyone in the room is told, their pcs closed, the room emptied. */
static void room_empty(vr_room *room)
{
	json_t *ev = json_pack("{s:s,s:I}", "videoroom", "destroyed", "room", (json_int_t)room->s.room);
	vr_notify_room(room, ev, NULL, true);
	json_decref(ev);
	/* Janus hangs up every participant's pc, subscribers' included: a
	 * subscriber left with an open pc would keep its ICE/DTLS (and the
	 * client would wait for media that never comes). */
	while (room->subscribers->len > 0) {
		vr_subscriber *s = room->subscribers->pdata[0];
		vr_defer_close(s->ps);
		vr_subscriber_remove(s);
	}
	GList *pubs = g_hash_table_get_values(room->participants);
	for (GList *l = pubs; l != NULL; l = l->next) {
		vr_publisher *p = l->data;
		if (p->publishing || p->active)
			vr_defer_close(p->ps);
		vr_publisher_remove(p, NULL, true);
	}
	g_list_free(pubs);
}

json_t *vr_req_destroy(vr_req *r)
{
	static const stoa_field fields[] = { { "permanent", STOA_FIELD_BOOL, false } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	bool permanent = json_is_true(json_object_get(r->body, "permanent"));
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	json_t *reply = NULL;
	if (room != NULL && (!permanent || persist(r, &room->s, true))) {
		room->destroyed = true;
		room_empty(room);
		g_hash_table_remove(rooms, &room->s.room);
		reply = json_pack("{s:s,s:I,s:b}", "videoroom", "destroyed", "room",
				  (json_int_t)room->s.room, "permanent", permanent);
	}
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_exists(vr_req *r)
{
	static const stoa_field fields[] = { { "room", STOA_FIELD_POSINT, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	guint64 id = (guint64)json_integer_value(json_object_get(r->body, "room"));
	g_mutex_lock(&vr_lock);
	vr_room *room = rooms != NULL ? g_hash_table_lookup(rooms, &id) : NULL;
	bool exists = room != NULL && !room->destroyed;
	g_mutex_unlock(&vr_lock);
	return json_pack("{s:s,s:I,s:b}", "videoroom", "success", "room", (json_int_t)id, "exists",
			 exists);
}

json_t *vr_req_list(vr_req *r)
{
	json_t *key = json_object_get(r->body, "admin_key");
	bool show_private = r->admin && json_is_true(json_object_get(r->body, "include_private"));
	if (key != NULL && vr_conf.admin_key != NULL) {
		if (!json_is_string(key) || !vr_core->secret_equal(json_string_value(key), vr_conf.admin_key)) {
			vr_error(r, VR_ERR_UNAUTHORIZED, "Unauthorized (wrong admin_key)");
			return NULL;
		}
		show_private = true;
	}
	json_t *list = json_array();
	g_mutex_lock(&vr_lock);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vr_room *room = v;
		if (room->s.is_private && !show_private)
			continue;
		json_t *e = vr_settings_list_entry(&room->s);
		json_object_set_new(e, "num_participants",
				    json_integer(g_hash_table_size(room->participants)));
		json_array_append_new(list, e);
	}
	g_mutex_unlock(&vr_lock);
	return json_pack("{s:s,s:o}", "videoroom", "success", "list", list);
}

static json_t *allowed_list(vr_room *room)
{
	json_t *list = json_array();
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, room->allowed);
	while (g_hash_table_iter_next(&it, &k, NULL))
		json_array_append_new(list, json_string(k));
	return list;
}

json_t *vr_req_allowed(vr_req *r)
{
	static const stoa_field fields[] = { { "action", STOA_FIELD_STRING, true },
					   { "allowed", STOA_FIELD_ARRAY, false } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	const char *action = json_string_value(json_object_get(r->body, "action"));
	json_t *list = json_object_get(r->body, "allowed");
	if (strcmp(action, "enable") != 0 && strcmp(action, "disable") != 0 &&
	    strcmp(action, "add") != 0 && strcmp(action, "remove") != 0) {
		vr_error(r, VR_ERR_INVALID_ELEMENT, "Unsupported action '%s' (allowed)", action);
		return NULL;
	}
	if ((strcmp(action, "add") == 0 || strcmp(action, "remove") == 0) && list == NULL) {
		vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing element (allowed)");
		return NULL;
	}
	if (list != NULL && check_token_list(r, list) != 0)
		return NULL;
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	json_t *reply = NULL;
	if (room != NULL) {
		if (strcmp(action, "disable") == 0) {
			g_clear_pointer(&room->allowed, g_hash_table_unref);
		} else if (strcmp(action, "remove") == 0) {
			size_t i;
			json_t *v;
			json_array_foreach(list, i, v)
				if (room->allowed != NULL)
					g_hash_table_remove(room->allowed, json_string_value(v));
		} else {
			if (strcmp(action, "enable") == 0 && room->allowed == NULL)
				room->allowed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
			if (list != NULL)
				set_allowed(room, list);
		}
		reply = json_pack("{s:s,s:I}", "videoroom", "success", "room", (json_int_t)room->s.room);
		if (room->allowed != NULL)
			json_object_set_new(reply, "allowed", allowed_list(room));
		vr_room_unref(room);
	}
	g_mutex_unlock(&vr_lock);
	return reply;
}

static vr_publisher *participant(vr_req *r, vr_room *room)
{
	static const stoa_field fields[] = { { "id", STOA_FIELD_POSINT, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	guint64 id = (guint64)json_integer_value(json_object_get(r->body, "id"));
	vr_publisher *p = g_hash_table_lookup(room->participants, &id);
	if (p == NULL)
		vr_error(r, VR_ERR_NO_SUCH_FEED, "No such user %" G_GUINT64_FORMAT " in room %" G_GUINT64_FORMAT,
			 id, room->s.room);
	return p;
}

/* The subscriptions the kicked user made with its private_id end too, as
 * in Janus: in a require_pvtid room a private_id is what ties a subscriber
 * handle to a participant, so only there do we know they are its. */
static void kick_subscriptions(vr_room *room, vr_publisher *p)
{
	for (guint i = 0; i < room->subscribers->len;) {
		vr_subscriber *s = room->subscribers->pdata[i];
		if (s->pvt_id != p->private_id) {
			i++;
			continue;
		}
		s->kicked = true;
		vr_defer_close(s->ps);
		vr_subscriber_remove(s); /* removes it from room->subscribers */
	}
}

json_t *vr_req_kick(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	vr_publisher *p = room != NULL ? participant(r, room) : NULL;
	json_t *reply = NULL;
	if (p != NULL) {
		json_t *own = json_pack("{s:s,s:I,s:s,s:s}", "videoroom", "event", "room",
					(json_int_t)room->s.room, "leaving", "ok", "reason", "kicked");
		vr_notify(p->ps, own);
		json_decref(own);
		p->kicked = true;
		vr_defer_close(p->ps); /* Janus closes a kicked user's pc even if not publishing */
		if (room->s.require_pvtid)
			kick_subscriptions(room, p);
		vr_publisher_remove(p, "kicked", false);
		reply = json_pack("{s:s}", "videoroom", "success");
	}
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_moderate(vr_req *r)
{
	static const stoa_field fields[] = { { "mid", STOA_FIELD_STRING, true }, { "mute", STOA_FIELD_BOOL, true } };
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	vr_publisher *p = room != NULL && VR_CHECK(r, r->body, fields) == 0 ? participant(r, room) : NULL;
	json_t *reply = NULL;
	if (p != NULL) {
		const char *mid = json_string_value(json_object_get(r->body, "mid"));
		bool mute = json_is_true(json_object_get(r->body, "mute"));
		vr_pstream *ps = NULL;
		for (int i = 0; i < p->nstreams && ps == NULL; i++)
			if (p->streams[i] != NULL && strcmp(p->streams[i]->mid, mid) == 0)
				ps = p->streams[i];
		if (ps == NULL) {
			vr_error(r, VR_ERR_NO_SUCH_FEED, "No such stream %s", mid);
		} else {
			g_atomic_int_set(&ps->moderated, mute);
			json_t *ev = json_pack("{s:s,s:I,s:I,s:s,s:s}", "videoroom", "event", "room",
					       (json_int_t)room->s.room, "id", (json_int_t)p->id, "mid",
					       mid, "moderation", mute ? "muted" : "unmuted");
			vr_notify_room(room, ev, NULL, false);
			json_decref(ev);
			reply = json_pack("{s:s}", "videoroom", "success");
		}
	}
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_listparticipants(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, false);
	json_t *reply = NULL;
	if (room != NULL) {
		json_t *list = json_array();
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, room->participants);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			vr_publisher *p = v;
			json_t *e = json_pack("{s:I,s:b}", "id", (json_int_t)p->id, "publisher", p->active);
			if (p->display != NULL)
				json_object_set_new(e, "display", json_string(p->display));
			if (p->metadata != NULL)
				json_object_set(e, "metadata", p->metadata);
			if (room->s.audiolevel_event && p->active)
				json_object_set_new(e, "talking", json_boolean(vr_publisher_talking(p)));
			json_array_append_new(list, e);
		}
		/* "subscribers" (Stoa): subscriber handles in the room, what a
		 * broadcast page shows as its viewer count. Janus clients ignore it. */
		reply = json_pack("{s:s,s:I,s:o,s:i}", "videoroom", "participants", "room",
				  (json_int_t)room->s.room, "participants", list, "subscribers",
				  (int)room->subscribers->len);
		vr_room_unref(room);
	}
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_listforwarders(vr_req *r)
{
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, true);
	json_t *reply = NULL;
	if (room != NULL) {
		json_t *list = json_array();
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, room->participants);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			vr_publisher *p = v;
			json_t *fwd = p->active ? vr_forwarders_json(p) : NULL;
			if (json_array_size(fwd) == 0) {
				/* Janus lists only publishers that forward something. */
				if (fwd != NULL)
					json_decref(fwd);
				continue;
			}
			json_t *e = json_pack("{s:I,s:o}", "publisher_id", (json_int_t)p->id, "forwarders", fwd);
			if (p->display != NULL)
				json_object_set_new(e, "display", json_string(p->display));
			json_array_append_new(list, e);
		}
		reply = json_pack("{s:s,s:I,s:o}", "videoroom", "forwarders", "room",
				  (json_int_t)room->s.room, "publishers", list);
		vr_room_unref(room);
	}
	g_mutex_unlock(&vr_lock);
	return reply;
}

/* ---- Stoa extensions (Admin API only) ---- */

static json_t *admin_only(vr_req *r)
{
	vr_error(r, VR_ERR_INVALID_REQUEST, "Unknown request '%s'",
		 json_string_value(json_object_get(r->body, "request")));
	return NULL;
}

json_t *vr_req_participant_info(vr_req *r)
{
	if (!r->admin)
		return admin_only(r);
	g_mutex_lock(&vr_lock);
	vr_room *room = vr_room_for_request(r, false);
	vr_publisher *p = room != NULL ? participant(r, room) : NULL;
	json_t *reply = NULL;
	if (p != NULL) {
		reply = vr_publisher_query(p);
		json_object_del(reply, "type");
		json_object_set_new(reply, "videoroom", json_string("participant"));
		json_object_set_new(reply, "publisher", json_boolean(p->active));
		if (p->metadata != NULL)
			json_object_set(reply, "metadata", p->metadata);
	}
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_stats(vr_req *r)
{
	if (!r->admin)
		return admin_only(r);
	int nrooms = 0, participants = 0, publishers = 0, subscribers = 0;
	g_mutex_lock(&vr_lock);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, rooms);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		vr_room *room = v;
		nrooms++;
		participants += (int)g_hash_table_size(room->participants);
		subscribers += (int)room->subscribers->len;
		GHashTableIter pit;
		gpointer pv;
		g_hash_table_iter_init(&pit, room->participants);
		while (g_hash_table_iter_next(&pit, NULL, &pv))
			publishers += ((vr_publisher *)pv)->active ? 1 : 0;
	}
	g_mutex_unlock(&vr_lock);
	uint64_t waits, drops;
	vr_fanout_congestion_totals(&waits, &drops);
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:I,s:I}", "videoroom", "stats", "rooms", nrooms,
			 "participants", participants, "publishers", publishers, "subscribers",
			 subscribers, "keyframe_waits", (json_int_t)waits, "keyframe_wait_drops",
			 (json_int_t)drops);
}
