/*
 * echotest.c: janus.plugin.echotest — Janus's EchoTest requests.
 *
 * Every message is answered asynchronously, as Janus's EchoTest does: the
 * client gets an `ack` with the hint "I'm taking my time!" and then an event
 * {"echotest":"event","result":"ok"} carrying the same transaction. The
 * settings (audio/video on/off, bitrate, simulcast targets, codecs, ...) are
 * validated and kept per handle. An offer is answered through the core
 * (generate_answer), and once DTLS is up every RTP packet from the peer is
 * relayed straight back on the same m-line (audio/video can be switched
 * off), keyframe requests for the echo are passed on to the peer, and text
 * data channel messages come back prefixed, as Janus's EchoTest does.
 *
 * Simulcast: when the peer sends a video m-line as simulcast layers, only
 * one layer is echoed. A selector (plugins/common/simulcast.h) picks it
 * from the client's `substream`/`temporal`/`fallback` targets, switching
 * at keyframes, and a rewriter (plugins/common/rtp_switch.h) keeps the
 * echoed stream's sequence numbers, timestamps and VP8 picture ids
 * continuous across switches; each packet sent is rewritten in a copy (the
 * layers' own packets stay untouched). The client is told when the layer
 * changes. This state belongs to the media loop alone; the targets come
 * from the worker thread through atomics.
 *
 * Threads: handle_message runs on an API thread and only queues; one plugin
 * thread ("echotest") works through the queue and pushes the events, so a
 * slow client never blocks the API. Per-handle state is guarded by its own
 * mutex because query_session (admin) reads it from another API thread.
 */
#include <glib.h>
#include <string.h>

#include "common/fields.h"
#include "common/rtp_switch.h"
#include "common/simulcast.h"
#include "media/rtp/keyframe.h"
#include "stoa/plugin.h"

#define ECHOTEST_PACKAGE "janus.plugin.echotest"

enum {
	ERR_NO_MESSAGE = 411,
	ERR_INVALID_JSON = 412,
	ERR_INVALID_ELEMENT = 413,
	ERR_INVALID_SDP = 414,
};

/* Per-handle state. Refcounted: ps->plugin_data holds one ref until
 * destroy_session, and each queued message holds one, so the worker never
 * touches freed state. `state_lock` guards reading ps->plugin_data. */
typedef struct echo_session {
	gint ref;
	GMutex lock;
	gboolean audio, video;
	gint64 bitrate;
	gint substream, temporal, fallback; /* targets; atomics (the media loop reads them) */
	gint vcodec;		/* stoa_video_codec of the answer's first video m-line; atomic */
	/* Simulcast echo, media loop only: one simulcast video m-line. */
	int sim_mindex;		/* -1 until a simulcast packet arrives */
	stoa_simulcast sim;
	stoa_rtp_switch sw;
	uint8_t sim_buf[1500];
	char *audiocodec, *videocodec, *videoprofile;
	gboolean record;
	char *filename;
	guint64 messages;
} echo_session;

typedef struct echo_msg {
	stoa_plugin_session *ps; /* ref held */
	struct echo_session *es; /* ref held */
	char *transaction;
	json_t *body;
	json_t *jsep;
} echo_msg;

static const stoa_core_api *core;
static GAsyncQueue *queue;
static GThread *worker;
static echo_msg shutdown_msg; /* sentinel */
static gint sessions;
static GMutex state_lock;

static void es_unref(echo_session *es)
{
	if (!g_atomic_int_dec_and_test(&es->ref))
		return;
	g_mutex_clear(&es->lock);
	g_free(es->audiocodec);
	g_free(es->videocodec);
	g_free(es->videoprofile);
	g_free(es->filename);
	g_free(es);
}

/* The handle's state with a ref, or NULL once destroy_session ran. */
static echo_session *es_get(stoa_plugin_session *ps)
{
	g_mutex_lock(&state_lock);
	echo_session *es = ps->plugin_data;
	if (es != NULL)
		g_atomic_int_inc(&es->ref);
	g_mutex_unlock(&state_lock);
	return es;
}

static void msg_free(echo_msg *m)
{
	if (m->es != NULL)
		es_unref(m->es);
	core->session_unref(m->ps);
	g_free(m->transaction);
	json_decref(m->body);
	if (m->jsep != NULL)
		json_decref(m->jsep);
	g_free(m);
}

/* The body fields EchoTest understands, with their types. */
static const stoa_field fields[] = {
	{ "audio", STOA_FIELD_BOOL, false },	     { "video", STOA_FIELD_BOOL, false },
	{ "bitrate", STOA_FIELD_POSINT, false },     { "record", STOA_FIELD_BOOL, false },
	{ "filename", STOA_FIELD_STRING, false },    { "substream", STOA_FIELD_POSINT, false },
	{ "temporal", STOA_FIELD_POSINT, false },    { "fallback", STOA_FIELD_POSINT, false },
	{ "svc", STOA_FIELD_BOOL, false },	     { "spatial_layer", STOA_FIELD_POSINT, false },
	{ "temporal_layer", STOA_FIELD_POSINT, false }, { "audiocodec", STOA_FIELD_STRING, false },
	{ "videocodec", STOA_FIELD_STRING, false },  { "videoprofile", STOA_FIELD_STRING, false },
	{ "opusred", STOA_FIELD_BOOL, false },	     { "min_delay", STOA_FIELD_INT, false },
	{ "max_delay", STOA_FIELD_INT, false },	     { "keyframe", STOA_FIELD_BOOL, false },
};

/* Returns 0 and how many known fields are present, or an error code with text. */
static int validate(json_t *body, int *present, char *err, size_t errlen)
{
	if (stoa_fields_check(body, fields, G_N_ELEMENTS(fields), present, err, errlen) != 0)
		return ERR_INVALID_ELEMENT;
	return 0;
}

static void set_str(char **field, json_t *v)
{
	if (v == NULL)
		return;
	g_free(*field);
	*field = g_strdup(json_string_value(v));
}

static void apply(echo_session *es, json_t *body)
{
	json_t *v;
	g_mutex_lock(&es->lock);
	if ((v = json_object_get(body, "audio")) != NULL)
		es->audio = json_is_true(v);
	if ((v = json_object_get(body, "video")) != NULL)
		es->video = json_is_true(v);
	if ((v = json_object_get(body, "bitrate")) != NULL)
		es->bitrate = json_integer_value(v);
	if ((v = json_object_get(body, "substream")) != NULL)
		g_atomic_int_set(&es->substream, (gint)MIN(json_integer_value(v), 2));
	if ((v = json_object_get(body, "temporal")) != NULL)
		g_atomic_int_set(&es->temporal, (gint)MIN(json_integer_value(v), 2));
	if ((v = json_object_get(body, "fallback")) != NULL)
		g_atomic_int_set(&es->fallback, (gint)MIN(json_integer_value(v), G_MAXINT));
	if ((v = json_object_get(body, "record")) != NULL)
		es->record = json_is_true(v);
	set_str(&es->filename, json_object_get(body, "filename"));
	set_str(&es->audiocodec, json_object_get(body, "audiocodec"));
	set_str(&es->videocodec, json_object_get(body, "videocodec"));
	set_str(&es->videoprofile, json_object_get(body, "videoprofile"));
	es->messages++;
	g_mutex_unlock(&es->lock);
}

/* What the answer may accept: the codecs asked for with audiocodec /
 * videocodec / videoprofile (on the first negotiation, as Janus does). */
static json_t *answer_prefs(echo_session *es)
{
	json_t *prefs = json_object();
	g_mutex_lock(&es->lock);
	if (es->audiocodec != NULL)
		json_object_set_new(prefs, "audiocodec", json_string(es->audiocodec));
	if (es->videocodec != NULL)
		json_object_set_new(prefs, "videocodec", json_string(es->videocodec));
	if (es->videoprofile != NULL && es->videocodec != NULL) {
		const char *key = g_str_has_prefix(es->videocodec, "vp9") ? "vp9_profile" : "h264_profile";
		json_object_set_new(prefs, key, json_string(es->videoprofile));
	}
	g_mutex_unlock(&es->lock);
	return prefs;
}

/* The codec of the first video m-line of an SDP we generated: the first
 * format on its m= line, named by its a=rtpmap. */
static int sdp_video_codec(const char *sdp)
{
	const char *m = sdp != NULL ? strstr(sdp, "\nm=video ") : NULL;
	if (m == NULL)
		return STOA_CODEC_UNKNOWN;
	int port, pt;
	char proto[64];
	if (sscanf(m + 1, "m=video %d %63s %d", &port, proto, &pt) != 3)
		return STOA_CODEC_UNKNOWN;
	char key[32];
	g_snprintf(key, sizeof(key), "a=rtpmap:%d ", pt);
	const char *r = strstr(m, key);
	if (r == NULL)
		return STOA_CODEC_UNKNOWN;
	r += strlen(key);
	static const struct {
		const char *name;
		int codec;
	} names[] = { { "VP8/", STOA_CODEC_VP8 }, { "VP9/", STOA_CODEC_VP9 },
		      { "H264/", STOA_CODEC_H264 }, { "AV1/", STOA_CODEC_AV1 } };
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strncasecmp(r, names[i].name, strlen(names[i].name)) == 0)
			return names[i].codec;
	return STOA_CODEC_UNKNOWN;
}

/* Asks the peer for keyframes on every m-line (the core skips non-video). */
static void request_keyframes(stoa_plugin_session *ps)
{
	for (int mindex = 0; mindex < 8; mindex++)
		core->send_pli(ps, mindex);
}

static void push_error(echo_msg *m, int code, const char *text)
{
	json_t *ev = json_pack("{s:s,s:i,s:s}", "echotest", "event", "error_code", code, "error", text);
	core->push_event(m->ps, m->transaction, ev, NULL);
	json_decref(ev);
}

static void process(echo_msg *m)
{
	echo_session *es = m->es;
	if (es == NULL || g_atomic_int_get(&m->ps->stopped))
		return;
	char err[256];
	int present = 0;
	if (!json_is_object(m->body)) {
		push_error(m, ERR_INVALID_JSON, "JSON error: not an object");
		return;
	}
	int code = validate(m->body, &present, err, sizeof(err));
	if (code != 0) {
		push_error(m, code, err);
		return;
	}
	if (present == 0 && m->jsep == NULL) {
		push_error(m, ERR_INVALID_ELEMENT, "Message error: no supported attributes found");
		return;
	}
	apply(es, m->body);
	if (json_is_true(json_object_get(m->body, "keyframe")))
		request_keyframes(m->ps);
	json_t *answer = NULL;
	if (m->jsep != NULL) {
		const char *type = json_string_value(json_object_get(m->jsep, "type"));
		if (g_strcmp0(type, "offer") != 0) {
			push_error(m, ERR_INVALID_SDP, "Error parsing offer: not an offer");
			return;
		}
		char why[256];
		json_t *prefs = answer_prefs(es);
		answer = core->generate_answer(m->ps, prefs, why, sizeof(why));
		json_decref(prefs);
		if (answer == NULL) {
			char text[300];
			g_snprintf(text, sizeof(text), "Error parsing offer: %s", why);
			push_error(m, ERR_INVALID_SDP, text);
			return;
		}
		g_atomic_int_set(&es->vcodec,
				 sdp_video_codec(json_string_value(json_object_get(answer, "sdp"))));
	}
	json_t *ev = json_pack("{s:s,s:s}", "echotest", "event", "result", "ok");
	core->push_event(m->ps, m->transaction, ev, answer);
	json_decref(ev);
	if (answer != NULL)
		json_decref(answer);
}

static gpointer worker_main(gpointer data)
{
	for (;;) {
		echo_msg *m = g_async_queue_pop(queue);
		if (m == &shutdown_msg)
			break;
		process(m);
		msg_free(m);
	}
	return NULL;
}

static int echo_init(const stoa_core_api *api, const char *config_path)
{
	core = api;
	queue = g_async_queue_new();
	worker = g_thread_new("echotest", worker_main, NULL);
	core->log(STOA_LOG_INFO, NULL, "%s initialised (config %s, optional)", ECHOTEST_PACKAGE,
		  config_path);
	return 0;
}

static void echo_destroy(void)
{
	g_async_queue_push(queue, &shutdown_msg);
	g_thread_join(worker);
	/* Anything queued after the sentinel belongs to sessions already destroyed. */
	echo_msg *m;
	while ((m = g_async_queue_try_pop(queue)) != NULL)
		if (m != &shutdown_msg)
			msg_free(m);
	g_async_queue_unref(queue);
	queue = NULL;
}

static int echo_create_session(stoa_plugin_session *ps)
{
	echo_session *es = g_new0(echo_session, 1);
	es->ref = 1;
	g_mutex_init(&es->lock);
	es->audio = es->video = TRUE;
	es->substream = es->temporal = es->fallback = -1;
	es->sim_mindex = -1;
	ps->plugin_data = es;
	g_atomic_int_inc(&sessions);
	return 0;
}

static stoa_plugin_result *echo_handle_message(stoa_plugin_session *ps, const char *transaction,
					       json_t *body, json_t *jsep)
{
	echo_msg *m = g_new0(echo_msg, 1);
	core->session_ref(ps);
	m->ps = ps;
	m->es = es_get(ps);
	m->transaction = g_strdup(transaction);
	m->body = json_incref(body);
	m->jsep = jsep != NULL ? json_incref(jsep) : NULL;
	g_async_queue_push(queue, m);
	return stoa_plugin_result_new(STOA_PLUGIN_OK_WAIT, "I'm taking my time!", NULL);
}

static void echo_destroy_session(stoa_plugin_session *ps)
{
	g_mutex_lock(&state_lock);
	echo_session *es = ps->plugin_data;
	ps->plugin_data = NULL;
	g_mutex_unlock(&state_lock);
	if (es == NULL)
		return;
	es_unref(es);
	g_atomic_int_dec_and_test(&sessions);
}

static json_t *echo_query_session(stoa_plugin_session *ps)
{
	echo_session *es = es_get(ps);
	if (es == NULL)
		return NULL;
	g_mutex_lock(&es->lock);
	json_t *info = json_pack("{s:b,s:b,s:I,s:i,s:i,s:I}", "audio_active", es->audio,
				 "video_active", es->video, "bitrate", (json_int_t)es->bitrate,
				 "substream", g_atomic_int_get(&es->substream),
				 "temporal", g_atomic_int_get(&es->temporal),
				 "messages", (json_int_t)es->messages);
	g_mutex_unlock(&es->lock);
	es_unref(es);
	/* What the echo carries, as the core counts it (query_session runs on
	 * an API thread, so asking the media loop is fine). */
	json_t *media = core->media_stats(ps);
	if (media != NULL)
		json_object_set_new(info, "media", media);
	return info;
}

static json_t *echo_handle_admin_message(json_t *request)
{
	return json_pack("{s:s,s:i}", "echotest", "success", "sessions", g_atomic_int_get(&sessions));
}

/* ---- media (the handle's media loop) ---- */

static void echo_setup_media(stoa_plugin_session *ps)
{
	core->log(STOA_LOG_VERB, ps, "WebRTC up: echoing");
}

static void echo_hangup_media(stoa_plugin_session *ps)
{
	echo_session *es = ps->plugin_data;
	if (es != NULL)
		es->sim_mindex = -1; /* a new PeerConnection starts its simulcast over */
	if (g_atomic_int_get(&ps->stopped))
		return;
	json_t *ev = json_pack("{s:s,s:s}", "echotest", "event", "result", "done");
	core->push_event(ps, NULL, ev, NULL);
	json_decref(ev);
}

static const char *codec_name(int codec)
{
	switch (codec) {
	case STOA_CODEC_VP8: return "vp8";
	case STOA_CODEC_VP9: return "vp9";
	case STOA_CODEC_H264: return "h264";
	case STOA_CODEC_AV1: return "av1";
	default: return "unknown";
	}
}

/* One packet of a simulcast layer (media loop): echo it only if it belongs
 * to the layer being forwarded, rewritten into the session's buffer. */
static void echo_simulcast(stoa_plugin_session *ps, echo_session *es, stoa_plugin_rtp *pkt)
{
	if (es->sim_mindex != pkt->mindex) {
		/* The first simulcast packet (or another m-line: start over). */
		int codec = g_atomic_int_get(&es->vcodec);
		es->sim_mindex = pkt->mindex;
		stoa_simulcast_init(&es->sim);
		stoa_rtp_switch_init(&es->sw, 90000, codec == STOA_CODEC_VP8);
	}
	stoa_simulcast_set_target(&es->sim, g_atomic_int_get(&es->substream),
				  g_atomic_int_get(&es->temporal), g_atomic_int_get(&es->fallback));
	int codec = g_atomic_int_get(&es->vcodec);
	size_t off, plen;
	if (stoa_rtp_switch_payload(pkt->buffer, pkt->length, &off, &plen) < 0)
		return;
	const uint8_t *payload = pkt->buffer + off;
	bool keyframe = stoa_is_keyframe((stoa_video_codec)codec, payload, plen);
	int tid = -1;
	bool sync = false;
	stoa_vp8_desc d;
	if (codec == STOA_CODEC_VP8 && stoa_vp8_desc_parse(payload, plen, &d) == 0) {
		tid = d.tid;
		sync = d.layer_sync;
	}
	int64_t now = g_get_monotonic_time();
	int flags = stoa_simulcast_process(&es->sim, pkt->substream, keyframe, tid, sync, now);
	if (flags & STOA_SIMULCAST_KEYFRAME)
		core->send_pli(ps, pkt->mindex);
	if (flags & STOA_SIMULCAST_CHANGED) {
		json_t *ev = json_pack("{s:s,s:s,s:i,s:i}", "echotest", "event", "videocodec",
				       codec_name(codec), "substream", es->sim.substream,
				       "temporal", es->sim.temporal);
		core->push_event(ps, NULL, ev, NULL);
		json_decref(ev);
	}
	if (!(flags & STOA_SIMULCAST_RELAY)) {
		if (pkt->substream == es->sim.substream)
			stoa_rtp_switch_skip(&es->sw, pkt->buffer, pkt->length);
		return;
	}
	if (pkt->length > sizeof(es->sim_buf))
		return;
	memcpy(es->sim_buf, pkt->buffer, pkt->length);
	stoa_rtp_switch_rewrite(&es->sw, es->sim_buf, pkt->length, now);
	stoa_plugin_rtp out = *pkt;
	out.buffer = es->sim_buf;
	core->relay_rtp(ps, &out);
}

static void echo_incoming_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt)
{
	/* plugin_data is only cleared by destroy_session, which runs after the
	 * core stopped delivering media to this handle; reading it without the
	 * state lock is safe here, and the flags are plain gbooleans. */
	echo_session *es = ps->plugin_data;
	if (es == NULL || (pkt->video ? !es->video : !es->audio))
		return;
	if (pkt->substream >= 0) {
		echo_simulcast(ps, es, pkt);
		return;
	}
	core->relay_rtp(ps, pkt);
}

static void echo_incoming_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt)
{
	echo_session *es = ps->plugin_data;
	if (es == NULL)
		return;
	/* The peer asks us for a keyframe of the echo: only the peer itself can make one. */
	if (stoa_rtcp_wants_keyframe(pkt->buffer, pkt->length))
		core->send_pli(ps, pkt->mindex);
	if (es->bitrate > 0)
		core->send_remb(ps, (uint32_t)es->bitrate);
}

static void echo_incoming_data(stoa_plugin_session *ps, stoa_plugin_data *msg)
{
	static const char prefix[] = "Janus EchoTest here! You wrote: ";
	if (msg->binary) {
		core->relay_data(ps, msg);
		return;
	}
	size_t n = sizeof(prefix) - 1 + msg->length;
	uint8_t *text = g_malloc(n);
	memcpy(text, prefix, sizeof(prefix) - 1);
	memcpy(text + sizeof(prefix) - 1, msg->buffer, msg->length);
	stoa_plugin_data reply = *msg;
	reply.buffer = text;
	reply.length = (uint32_t)n;
	core->relay_data(ps, &reply);
	g_free(text);
}

static const stoa_plugin echotest = {
	.api_version = STOA_PLUGIN_API_VERSION,
	.package = ECHOTEST_PACKAGE,
	.name = "Stoa EchoTest plugin",
	.description = "Echoes audio, video and data back to the sender (Janus-compatible EchoTest).",
	.author = "Stoa",
	.version_string = "0.0.7",
	.version = 7,
	.init = echo_init,
	.destroy = echo_destroy,
	.create_session = echo_create_session,
	.handle_message = echo_handle_message,
	.handle_admin_message = echo_handle_admin_message,
	.destroy_session = echo_destroy_session,
	.query_session = echo_query_session,
	.setup_media = echo_setup_media,
	.hangup_media = echo_hangup_media,
	.incoming_rtp = echo_incoming_rtp,
	.incoming_rtcp = echo_incoming_rtcp,
	.incoming_data = echo_incoming_data,
};

STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void);
STOA_PLUGIN_EXPORT const stoa_plugin *stoa_plugin_create(void)
{
	return &echotest;
}
