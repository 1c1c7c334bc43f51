/*
 * forwarder.c: RTP forwarders (Janus's rtp_forward) — a published stream's
 * plain RTP, or its data channel messages, sent as UDP to a host and port,
 * for a recorder, a transcoder or another media server.
 *
 * Each forwarder is one connected, non-blocking UDP socket. Packets go out
 * on the publisher's media loop right after the fan-out, with the SSRC and
 * payload type the request asked for; a full socket drops the packet (a
 * forwarder must never slow the room). A simulcast stream forwards one
 * layer per forwarder (`port` the lowest, `port_2`/`port_3` the others, as
 * Janus does). Forwarders end with stop_rtp_forward or when the publisher
 * stops publishing. SRTP forwarders are not supported yet (refused).
 *
 * Threads: requests under vr_lock on API threads; sending on the
 * publisher's loop. Each published stream's list is guarded by its own
 * fwd_lock, taken per packet only when the stream has forwarders (an
 * atomic count says so).
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "videoroom.h"

struct vr_forwarder {
	guint32 id;
	int fd;
	char *host;
	int port;
	vr_media type;
	uint32_t ssrc;		/* 0: the publisher's */
	int pt;			/* -1: the publisher's */
	int substream;		/* simulcast: the layer sent, else -1 */
	uint64_t packets, dropped;
};

static void forwarder_free(gpointer p)
{
	vr_forwarder *f = p;
	if (f->fd >= 0)
		close(f->fd);
	g_free(f->host);
	g_free(f);
}

/* A connected non-blocking UDP socket to host:port, or -1 with err set. */
static int open_socket(vr_req *r, const char *host, const char *family, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
	hints.ai_family = g_strcmp0(family, "ipv6") == 0 ? AF_INET6
			  : g_strcmp0(family, "ipv4") == 0 ? AF_INET
							   : AF_UNSPEC;
	char service[8];
	g_snprintf(service, sizeof(service), "%d", port);
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL) {
		vr_error(r, VR_ERR_INVALID_ELEMENT, "Could not resolve address (%s)", host);
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		vr_error(r, VR_ERR_UNKNOWN, "Could not open a socket to %s:%d (%s)", host, port,
			 g_strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int check_family(vr_req *r, json_t *o)
{
	json_t *fam = json_object_get(o, "host_family");
	if (fam == NULL)
		return 0;
	if (!json_is_string(fam) || (strcmp(json_string_value(fam), "ipv4") != 0 &&
				     strcmp(json_string_value(fam), "ipv6") != 0))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Unsupported protocol family (host_family)");
	return 0;
}

static guint32 new_id(vr_pstream *s)
{
	guint32 id;
	bool taken;
	do {
		id = g_random_int_range(1, G_MAXINT32);
		taken = false;
		for (guint i = 0; s->forwarders != NULL && i < s->forwarders->len; i++)
			taken = taken || ((vr_forwarder *)s->forwarders->pdata[i])->id == id;
	} while (taken);
	return id;
}

static void add_forwarder(vr_pstream *s, vr_forwarder *f)
{
	g_mutex_lock(&s->fwd_lock);
	if (s->forwarders == NULL)
		s->forwarders = g_ptr_array_new_with_free_func(forwarder_free);
	f->id = new_id(s);
	g_ptr_array_add(s->forwarders, f);
	g_atomic_int_set(&s->nfwd, (gint)s->forwarders->len);
	g_mutex_unlock(&s->fwd_lock);
}

static json_t *forwarder_json(const vr_pstream *s, const vr_forwarder *f)
{
	static const char *const names[] = { "audio", "video", "data" };
	json_t *o = json_pack("{s:I,s:s,s:i,s:s,s:s,s:I}", "stream_id", (json_int_t)f->id, "host",
			      f->host, "port", f->port, "type", names[f->type], "mid", s->mid,
			      "packets", (json_int_t)f->packets);
	if (f->pt >= 0)
		json_object_set_new(o, "pt", json_integer(f->pt));
	if (f->ssrc != 0)
		json_object_set_new(o, "ssrc", json_integer(f->ssrc));
	if (f->substream >= 0)
		json_object_set_new(o, "substream", json_integer(f->substream));
	return o;
}

/* One entry of `streams`; appends the forwarders made to `out`. vr_lock held. */
static int forward_stream(vr_req *r, vr_publisher *p, json_t *o, const char *host,
			  const char *family, json_t *out)
{
	static const stoa_field fields[] = {
		{ "mid", STOA_FIELD_STRING, true },	 { "port", STOA_FIELD_POSINT, true },
		{ "host", STOA_FIELD_STRING, false },	 { "ssrc", STOA_FIELD_POSINT, false },
		{ "pt", STOA_FIELD_POSINT, false },	 { "port_2", STOA_FIELD_POSINT, false },
		{ "port_3", STOA_FIELD_POSINT, false }, { "srtp_suite", STOA_FIELD_INT, false },
	};
	if (!json_is_object(o))
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element type (streams)");
	if (VR_CHECK(r, o, fields) != 0 || check_family(r, o) != 0)
		return r->code;
	if (json_object_get(o, "srtp_suite") != NULL || json_object_get(o, "srtp_crypto") != NULL)
		return vr_error(r, VR_ERR_INVALID_ELEMENT, "SRTP forwarders are not supported yet");
	const char *mid = json_string_value(json_object_get(o, "mid"));
	vr_pstream *s = NULL;
	for (int i = 0; i < p->nstreams && s == NULL; i++)
		if (p->streams[i] != NULL && strcmp(p->streams[i]->mid, mid) == 0)
			s = p->streams[i];
	if (s == NULL || s->disabled)
		return vr_error(r, VR_ERR_NO_SUCH_FEED, "No such stream (%s)", mid);
	const char *h = json_string_value(json_object_get(o, "host"));
	if (h == NULL)
		h = host;
	if (h == NULL)
		return vr_error(r, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (host)");
	const char *fam = json_string_value(json_object_get(o, "host_family"));
	const char *ports[] = { "port", "port_2", "port_3" };
	for (int layer = 0; layer < (s->simulcast ? 3 : 1); layer++) {
		json_t *jp = json_object_get(o, ports[layer]);
		if (jp == NULL)
			continue;
		int port = (int)json_integer_value(jp);
		if (port < 1 || port > 65535)
			return vr_error(r, VR_ERR_INVALID_ELEMENT, "Invalid element (%s)", ports[layer]);
		int fd = open_socket(r, h, fam != NULL ? fam : family, port);
		if (fd < 0)
			return r->code;
		vr_forwarder *f = g_new0(vr_forwarder, 1);
		f->fd = fd;
		f->host = g_strdup(h);
		f->port = port;
		f->type = s->type;
		json_t *v = json_object_get(o, "ssrc");
		f->ssrc = v != NULL ? (uint32_t)json_integer_value(v) + (uint32_t)layer : 0;
		v = json_object_get(o, "pt");
		f->pt = v != NULL ? (int)(json_integer_value(v) & 0x7f) : -1;
		f->substream = s->simulcast ? layer : -1;
		add_forwarder(s, f);
		json_array_append_new(out, forwarder_json(s, f));
	}
	return 0;
}

/* The publisher a forwarder request names. vr_lock held; borrowed. */
static vr_publisher *forward_target(vr_req *r, vr_room **room_out)
{
	static const stoa_field fields[] = { { "publisher_id", STOA_FIELD_POSINT, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	if (vr_conf.lock_rtp_forward && vr_check_admin_key(r) != 0)
		return NULL;
	vr_room *room = vr_room_for_request(r, true);
	if (room == NULL)
		return NULL;
	guint64 id = (guint64)json_integer_value(json_object_get(r->body, "publisher_id"));
	vr_publisher *p = g_hash_table_lookup(room->participants, &id);
	if (p == NULL || !p->active) {
		vr_error(r, VR_ERR_NO_SUCH_FEED, "No such feed (%" G_GUINT64_FORMAT ")", id);
		vr_room_unref(room);
		return NULL;
	}
	*room_out = room;
	return p;
}

json_t *vr_req_rtp_forward(vr_req *r)
{
	static const stoa_field fields[] = { { "streams", STOA_FIELD_ARRAY, true },
					   { "host", STOA_FIELD_STRING, false } };
	if (VR_CHECK(r, r->body, fields) != 0 || check_family(r, r->body) != 0)
		return NULL;
	if (json_object_get(r->body, "srtp_suite") != NULL ||
	    json_object_get(r->body, "srtp_crypto") != NULL) {
		vr_error(r, VR_ERR_INVALID_ELEMENT, "SRTP forwarders are not supported yet");
		return NULL;
	}
	const char *host = json_string_value(json_object_get(r->body, "host"));
	const char *family = json_string_value(json_object_get(r->body, "host_family"));
	g_mutex_lock(&vr_lock);
	vr_room *room = NULL;
	vr_publisher *p = forward_target(r, &room);
	json_t *reply = NULL;
	if (p != NULL) {
		json_t *made = json_array();
		size_t i;
		json_t *o;
		json_array_foreach(json_object_get(r->body, "streams"), i, o)
			if (forward_stream(r, p, o, host, family, made) != 0)
				break;
		if (r->code == 0)
			reply = json_pack("{s:s,s:I,s:I,s:o}", "videoroom", "rtp_forward", "room",
					  (json_int_t)room->s.room, "publisher_id", (json_int_t)p->id,
					  "forwarders", made);
		else
			json_decref(made); /* the ones made before the error stay, as in Janus */
		vr_room_unref(room);
	}
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_req_stop_rtp_forward(vr_req *r)
{
	static const stoa_field fields[] = { { "stream_id", STOA_FIELD_POSINT, true } };
	if (VR_CHECK(r, r->body, fields) != 0)
		return NULL;
	guint32 id = (guint32)json_integer_value(json_object_get(r->body, "stream_id"));
	g_mutex_lock(&vr_lock);
	vr_room *room = NULL;
	vr_publisher *p = forward_target(r, &room);
	json_t *reply = NULL;
	bool found = false;
	for (int i = 0; p != NULL && i < p->nstreams && !found; i++) {
		vr_pstream *s = p->streams[i];
		if (s == NULL)
			continue;
		g_mutex_lock(&s->fwd_lock);
		for (guint k = 0; s->forwarders != NULL && k < s->forwarders->len && !found; k++) {
			if (((vr_forwarder *)s->forwarders->pdata[k])->id == id) {
				g_ptr_array_remove_index(s->forwarders, k);
				g_atomic_int_set(&s->nfwd, (gint)s->forwarders->len);
				found = true;
			}
		}
		g_mutex_unlock(&s->fwd_lock);
	}
	if (p != NULL && !found)
		vr_error(r, VR_ERR_NO_SUCH_FEED, "No such stream (%u)", id);
	if (found)
		reply = json_pack("{s:s,s:I,s:I,s:I}", "videoroom", "stop_rtp_forward", "room",
				  (json_int_t)room->s.room, "publisher_id", (json_int_t)p->id,
				  "stream_id", (json_int_t)id);
	if (room != NULL)
		vr_room_unref(room);
	g_mutex_unlock(&vr_lock);
	return reply;
}

json_t *vr_forwarders_json(vr_publisher *p)
{
	json_t *list = json_array();
	for (int i = 0; i < p->nstreams; i++) {
		vr_pstream *s = p->streams[i];
		if (s == NULL)
			continue;
		g_mutex_lock(&s->fwd_lock);
		for (guint k = 0; s->forwarders != NULL && k < s->forwarders->len; k++)
			json_array_append_new(list, forwarder_json(s, s->forwarders->pdata[k]));
		g_mutex_unlock(&s->fwd_lock);
	}
	return list;
}

void vr_forwarders_clear(vr_pstream *s)
{
	g_mutex_lock(&s->fwd_lock);
	GPtrArray *all = s->forwarders;
	s->forwarders = NULL;
	g_atomic_int_set(&s->nfwd, 0);
	g_mutex_unlock(&s->fwd_lock);
	if (all != NULL)
		g_ptr_array_unref(all);
}

static void send_one(vr_forwarder *f, const uint8_t *buf, size_t len)
{
	if (send(f->fd, buf, len, MSG_DONTWAIT) < 0)
		f->dropped++;
	else
		f->packets++;
}

void vr_forward_rtp(vr_pstream *s, const stoa_plugin_rtp *pkt)
{
	if (g_atomic_int_get(&s->nfwd) == 0 || pkt->length < 12)
		return;
	uint8_t buf[1500];
	g_mutex_lock(&s->fwd_lock);
	for (guint i = 0; s->forwarders != NULL && i < s->forwarders->len; i++) {
		vr_forwarder *f = s->forwarders->pdata[i];
		if (f->substream >= 0 && pkt->substream >= 0 && f->substream != pkt->substream)
			continue;
		if ((f->ssrc == 0 && f->pt < 0) || pkt->length > sizeof(buf)) {
			send_one(f, pkt->buffer, pkt->length);
			continue;
		}
		memcpy(buf, pkt->buffer, pkt->length);
		if (f->pt >= 0)
			buf[1] = (uint8_t)((buf[1] & 0x80) | f->pt);
		if (f->ssrc != 0) {
			buf[8] = (uint8_t)(f->ssrc >> 24);
			buf[9] = (uint8_t)(f->ssrc >> 16);
			buf[10] = (uint8_t)(f->ssrc >> 8);
			buf[11] = (uint8_t)f->ssrc;
		}
		send_one(f, buf, pkt->length);
	}
	g_mutex_unlock(&s->fwd_lock);
}

void vr_forward_data(vr_pstream *s, const stoa_plugin_data *msg)
{
	if (g_atomic_int_get(&s->nfwd) == 0)
		return;
	g_mutex_lock(&s->fwd_lock);
	for (guint i = 0; s->forwarders != NULL && i < s->forwarders->len; i++)
		send_one(s->forwarders->pdata[i], msg->buffer, msg->length);
	g_mutex_unlock(&s->fwd_lock);
}
