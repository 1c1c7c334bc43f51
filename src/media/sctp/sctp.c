/*
 * sctp.c: one SCTP association per peer connection, over usrsctp's AF_CONN
 * lower layer, carrying WebRTC data channels.
 *
 * Protocols. SCTP over DTLS (RFC 8261): usrsctp's packets go out through
 * the owner's send_lower and come in through stoa_sctp_incoming(). Data
 * channels (RFC 8831): one channel per stream id, both directions; messages
 * typed by PPID, empty ones sent as one zero byte with their own PPID
 * (§6.6); closing by resetting streams (RFC 6525, §6.7). DCEP (RFC 8832):
 * DATA_CHANNEL_OPEN on an unused stream of the opener's parity, answered by
 * DATA_CHANNEL_ACK; user messages ordered until the ACK (§6). Partial
 * reliability by PR-SCTP policies (RFC 3758): retransmission count or
 * lifetime. Message size limits from SDP (RFC 8841 §6).
 *
 * Connecting. We send an INIT as soon as we exist, whatever our DTLS role,
 * and usrsctp resolves crossing INITs (RFC 4960 §5.2.1), so this works with
 * every peer behaviour: a peer that also initiates meets ours half-way
 * (our own unit tests: both sides initiate); a peer that only
 * waits for an INIT (aiortc when ICE-controlled) answers ours; a peer that
 * only initiates (aiortc when ICE-controlling) has its INIT answered by
 * ours. The last two are tested against aiortc; Chromium is not tested
 * here. The DTLS role only picks the parity of our channel ids.
 *
 * Threads: the owner's thread is the only one that reads or writes an
 * association's state, and the only one on which the owner is called back.
 * usrsctp calls us from other threads too — conn_output (in
 * sctp_stack.c) and on_receive below run on whichever thread is inside
 * usrsctp: the owner's during stoa_sctp_incoming()/send(), the timer
 * context's for retransmissions and delayed SACKs — often with usrsctp's
 * locks held. Those callbacks therefore only queue: they copy the packet
 * (or take ownership of usrsctp's malloc()ed message) onto `work` under
 * `lock` and, unless the calling thread is already inside a call for this
 * association (the `in_call` thread-local), post one drain to the owner per
 * batch. The drain runs on the owner's thread, outside any usrsctp lock,
 * and is where send_lower, DCEP, notifications and the owner's callbacks
 * happen. Calls the owner makes (incoming, send, open, close_channel) drain
 * before returning, so what they cause is handled without a loop
 * iteration. Each call into usrsctp holds the stack-wide usrsctp lock
 * (stoa__sctp_enter/leave, see sctp_stack.c); the queueing callbacks run
 * under it, the drain never does.
 *
 * Lifetime (two-phase): the owner holds one reference; each posted drain
 * holds one; a usrsctp callback holds one while it queues. Lookups go
 * through the stack's registry by id, never through a pointer usrsctp
 * keeps. stoa_sctp_close() closes the usrsctp socket (usrsctp sends an
 * ABORT), removes the id from the registry and sets `closed` under `lock`:
 * from then on callbacks find nothing, nothing is posted, and queued work
 * is dropped. The memory goes with the last reference; freeing never calls
 * anyone.
 */
#define STOA_LOG_MODULE "sctp"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <usrsctp.h>

#include "core/log.h"
#include "media/sctp/dcep.h"
#include "media/sctp/sctp_internal.h"

/* RFC 8261 §5: the SCTP packet must fit in one DTLS record in one UDP
 * datagram; 1200 bytes leaves room for DTLS, UDP and IPv6 headers on a
 * 1280-byte path without path MTU discovery. */
#define PATH_MTU 1200
#define MIN_SOCKET_SPACE (1024 * 1024)

typedef enum work_kind {
	WORK_PACKET, /* an SCTP packet for send_lower; data is g_malloc()ed */
	WORK_RECV,   /* from on_receive; data is usrsctp's malloc()ed buffer, NULL at EOF */
} work_kind;

typedef struct work {
	work_kind kind;
	int flags; /* WORK_RECV: MSG_NOTIFICATION, MSG_EOR */
	struct sctp_rcvinfo rcv;
	void *data;
	size_t len;
} work;

/* A data channel; owned by its association's table, owner's thread. */
typedef struct channel {
	uint16_t id;
	char *label;
	char *protocol;
	bool ordered;
	stoa_sctp_pr pr;
	uint32_t pr_value;
	uint16_t priority;
	bool local;	/* we opened it */
	bool open_sent; /* local: DATA_CHANNEL_OPEN handed to usrsctp */
	bool acked;	/* ACK (or data) received, or the peer opened it */
	bool closing;	/* our outgoing stream is (being) reset */
	bool out_reset; /* ...and the reset is done */
	bool in_reset;	/* the peer reset its stream; on_close was reported */
} channel;

/* See the file head for who may touch what. */
struct stoa_sctp {
	gint refs;
	uint64_t id;
	stoa_sctp_config cfg;
	stoa_sctp_callbacks cb;
	void *ud;

	GMutex lock; /* guards work, drain_posted, closed */
	GQueue work;
	bool drain_posted;
	bool closed;

	/* Owner's thread only. */
	struct socket *sock;
	bool detached; /* stoa_sctp_close() ran */
	bool draining;
	stoa_sctp_state state;
	uint16_t n_out; /* negotiated stream counts */
	uint16_t n_in;
	GHashTable *channels; /* id -> channel */
	GArray *resets;	      /* uint16_t ids waiting for an outgoing reset */
	GByteArray *rx;	      /* a message being reassembled */
	uint16_t rx_sid;
	bool rx_skip; /* the rest of an oversized message is being dropped */
};

/* Log lines about one association carry its owner's session and handle. */
#define SLOG(s, level, ...) \
	STOA_LOG_S((level), (s)->cfg.session_id, (s)->cfg.handle_id, __VA_ARGS__)

/* The association whose call this thread is inside, if any: packets usrsctp
 * produces for it are drained by that call, so need no post. */
static __thread stoa_sctp *in_call;

static void drain(stoa_sctp *s);

/* ------------------------------------------------------------ references */

stoa_sctp *stoa_sctp_ref(stoa_sctp *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

bool stoa__sctp_try_ref(stoa_sctp *s)
{
	int r;

	do {
		r = g_atomic_int_get(&s->refs);
		if (r <= 0)
			return false;
	} while (!g_atomic_int_compare_and_exchange(&s->refs, r, r + 1));
	return true;
}

static void work_free(work *w)
{
	if (w->kind == WORK_RECV)
		free(w->data); /* usrsctp's allocation */
	else
		g_free(w->data);
	g_free(w);
}

static void channel_free(gpointer p)
{
	channel *ch = p;

	g_free(ch->label);
	g_free(ch->protocol);
	g_free(ch);
}

static void close_internal(stoa_sctp *s, bool deliver);

void stoa_sctp_unref(stoa_sctp *s)
{
	if (!s || !g_atomic_int_dec_and_test(&s->refs))
		return;
	if (!s->detached) {
		/* The owner forgot stoa_sctp_close(); its callbacks may be gone.
		 * From inside usrsctp (a callback's reference was the last) the
		 * socket cannot be closed: it leaks, and shutdown will say so. */
		SLOG(s, STOA_LOG_ERR, "association %" G_GUINT64_FORMAT " freed without close",
		     s->id);
		if (stoa__sctp_inside())
			stoa__sctp_stack_detach(s->id);
		else
			close_internal(s, false);
	}
	g_queue_clear_full(&s->work, (GDestroyNotify)work_free);
	g_hash_table_destroy(s->channels);
	g_array_free(s->resets, TRUE);
	g_byte_array_free(s->rx, TRUE);
	g_mutex_clear(&s->lock);
	g_free(s);
}

static void unref_cb(gpointer p)
{
	stoa_sctp_unref(p);
}

/* ------------------------------------------------- queue (any thread) */

static gboolean posted_drain(gpointer p)
{
	stoa_sctp *s = p;

	g_mutex_lock(&s->lock);
	s->drain_posted = false;
	g_mutex_unlock(&s->lock);
	drain(s);
	return G_SOURCE_REMOVE;
}

/* Queues work for the owner. Posting under `lock` is what lets close()
 * promise that `post` is never called after it returns. */
static void enqueue(stoa_sctp *s, work *w)
{
	g_mutex_lock(&s->lock);
	if (s->closed) {
		g_mutex_unlock(&s->lock);
		work_free(w);
		return;
	}
	g_queue_push_tail(&s->work, w);
	if (in_call != s && !s->drain_posted) {
		s->drain_posted = true;
		s->cb.post(s->ud, posted_drain, stoa_sctp_ref(s), unref_cb);
	}
	g_mutex_unlock(&s->lock);
}

void stoa__sctp_lower_packet(stoa_sctp *s, const void *buf, size_t len)
{
	work *w = g_new0(work, 1);

	w->kind = WORK_PACKET;
	w->data = g_malloc(len);
	memcpy(w->data, buf, len);
	w->len = len;
	enqueue(s, w);
}

/* usrsctp's receive callback: a message (part), a notification, or NULL
 * data once the association is gone. We own `data` and free() it. */
static int on_receive(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
		      struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
	stoa_sctp *s = stoa__sctp_stack_find(STOA_SCTP_ID(ulp_info));
	work *w;

	if (!s) {
		free(data);
		return 1;
	}
	w = g_new0(work, 1);
	w->kind = WORK_RECV;
	w->data = data;
	w->len = data ? len : 0;
	w->rcv = rcv;
	w->flags = flags;
	enqueue(s, w);
	stoa_sctp_unref(s);
	return 1;
}

/* ------------------------------------------------- usrsctp calls (owner) */

static int errno_to_rc(int err)
{
	if (err == EWOULDBLOCK || err == EAGAIN || err == ENOBUFS)
		return -EAGAIN;
	if (err == EMSGSIZE)
		return -EMSGSIZE;
	if (err == ENOTCONN || err == EPIPE || err == ECONNRESET || err == EINVAL)
		return -EPIPE;
	return -EIO;
}

/* One message on a stream; the caller drains afterwards. */
static int send_message(stoa_sctp *s, uint16_t sid, uint32_t ppid, bool ordered, stoa_sctp_pr pr,
			uint32_t pr_value, const void *buf, size_t len)
{
	struct sctp_sendv_spa spa;
	stoa_sctp *prev = in_call;
	ssize_t n;
	int err;

	memset(&spa, 0, sizeof(spa));
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid = sid;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_flags = ordered ? 0 : SCTP_UNORDERED;
	if (pr != STOA_SCTP_PR_NONE) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy =
			pr == STOA_SCTP_PR_RTX ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
		spa.sendv_prinfo.pr_value = pr_value;
	}
	in_call = s;
	stoa__sctp_enter();
	n = usrsctp_sendv(s->sock, buf, len, NULL, 0, &spa, (socklen_t)sizeof(spa), SCTP_SENDV_SPA,
			  0);
	err = errno;
	stoa__sctp_leave();
	in_call = prev;
	if (n >= 0)
		return 0;
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "send of %zu bytes on stream %u failed: %s", len,
			     sid, g_strerror(err));
	return errno_to_rc(err);
}

/* Resets our outgoing streams listed in `resets` (RFC 6525 §5.1.2). usrsctp
 * allows one request in flight; the rest wait for its event. */
static void request_resets(stoa_sctp *s)
{
	struct sctp_reset_streams *srs;
	stoa_sctp *prev = in_call;
	size_t size;
	int rc;
	int err;

	if (!s->resets->len || s->state != STOA_SCTP_OPEN || !s->sock)
		return;
	size = sizeof(*srs) + s->resets->len * sizeof(uint16_t);
	srs = g_malloc0(size);
	srs->srs_assoc_id = SCTP_FUTURE_ASSOC;
	srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
	srs->srs_number_streams = (uint16_t)s->resets->len;
	memcpy(srs->srs_stream_list, s->resets->data, s->resets->len * sizeof(uint16_t));
	in_call = s;
	stoa__sctp_enter();
	rc = usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)size);
	err = errno;
	stoa__sctp_leave();
	in_call = prev;
	g_free(srs);
	if (rc == 0) {
		g_array_set_size(s->resets, 0);
	} else if (err != EALREADY && err != EBUSY && err != EAGAIN) {
		SLOG(s, STOA_LOG_WARN, "stream reset of %u stream(s) failed: %s", s->resets->len,
			 g_strerror(err));
		g_array_set_size(s->resets, 0);
	}
}

static void queue_reset(stoa_sctp *s, uint16_t sid)
{
	for (guint i = 0; i < s->resets->len; i++)
		if (g_array_index(s->resets, uint16_t, i) == sid)
			return;
	g_array_append_val(s->resets, sid);
}

/* ------------------------------------------------------------- channels */

static channel *channel_find(stoa_sctp *s, uint16_t id)
{
	return g_hash_table_lookup(s->channels, GUINT_TO_POINTER(id));
}

static channel *channel_add(stoa_sctp *s, uint16_t id, const stoa_sctp_channel_info *info,
			    bool local)
{
	channel *ch = g_new0(channel, 1);

	ch->id = id;
	ch->label = g_strdup(info->label ? info->label : "");
	ch->protocol = g_strdup(info->protocol ? info->protocol : "");
	ch->ordered = info->ordered;
	ch->pr = info->pr;
	ch->pr_value = info->pr == STOA_SCTP_PR_NONE ? 0 : info->pr_value;
	/* The peer's value as sent; ours defaults to 256. */
	ch->priority = (info->priority || !local) ? info->priority : STOA_DCEP_DEFAULT_PRIORITY;
	ch->local = local;
	ch->acked = !local;
	g_hash_table_insert(s->channels, GUINT_TO_POINTER(id), ch);
	return ch;
}

static void channel_info(const channel *ch, stoa_sctp_channel_info *info)
{
	info->label = ch->label;
	info->protocol = ch->protocol;
	info->ordered = ch->ordered;
	info->pr = ch->pr;
	info->pr_value = ch->pr_value;
	info->priority = ch->priority;
	info->local = ch->local;
}

static void report_open(stoa_sctp *s, channel *ch)
{
	stoa_sctp_channel_info info;

	if (!s->cb.on_open)
		return;
	channel_info(ch, &info);
	s->cb.on_open(s->ud, ch->id, &info);
}

/* Closes our side of a channel; on_close follows the peer's reset. */
static void channel_start_close(stoa_sctp *s, channel *ch)
{
	if (ch->closing)
		return;
	ch->closing = true;
	queue_reset(s, ch->id);
}

static void channel_forget_if_done(stoa_sctp *s, channel *ch)
{
	/* The id is free again once both directions are reset. */
	if (ch->in_reset && ch->out_reset)
		g_hash_table_remove(s->channels, GUINT_TO_POINTER(ch->id));
}

static int send_open(stoa_sctp *s, channel *ch)
{
	stoa_dcep_open msg = {
		.ordered = ch->ordered,
		.pr = ch->pr,
		.pr_value = ch->pr_value,
		.priority = ch->priority,
		.label = (const uint8_t *)ch->label,
		.label_len = (uint16_t)strlen(ch->label),
		.protocol = (const uint8_t *)ch->protocol,
		.protocol_len = (uint16_t)strlen(ch->protocol),
	};
	size_t size = STOA_DCEP_OPEN_HEADER + msg.label_len + msg.protocol_len;
	uint8_t *buf = g_malloc(size);
	int rc;

	stoa_dcep_write_open(buf, size, &msg);
	/* RFC 8832 §6: DCEP messages are sent ordered and reliable. */
	rc = send_message(s, ch->id, STOA_DC_PPID_DCEP, true, STOA_SCTP_PR_NONE, 0, buf, size);
	g_free(buf);
	if (rc == 0)
		ch->open_sent = true;
	return rc;
}

/* ---------------------------------------------------------------- DCEP */

/* RFC 8832 §6: the peer's ids have the other parity than ours. */
static bool peer_parity(const stoa_sctp *s, uint16_t sid)
{
	return (sid % 2 == 0) != s->cfg.dtls_client;
}

static void refuse_open(stoa_sctp *s, uint16_t sid, const char *why)
{
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "refusing DATA_CHANNEL_OPEN on stream %u: %s", sid,
			     why);
	/* §6: close the channel by resetting the stream; no ACK. A stream
	 * already carrying a channel keeps it. */
	if (sid < s->n_out && !channel_find(s, sid))
		queue_reset(s, sid);
	request_resets(s);
}

static void on_dcep_open(stoa_sctp *s, uint16_t sid, const uint8_t *buf, size_t len)
{
	stoa_sctp_channel_info info = { 0 };
	static const uint8_t ack = STOA_DCEP_ACK;
	stoa_dcep_open msg;
	channel *ch;
	const char *why = NULL;

	if (stoa_dcep_parse_open(buf, len, &msg) < 0)
		why = "malformed";
	else if (channel_find(s, sid))
		why = "stream already in use";
	else if (sid >= s->n_out)
		why = "no such outgoing stream";
	/* RFC 8832 §6 gives the DTLS client even ids and the server odd ones,
	 * but aiortc 1.4 picks by ICE role, so a peer may open on "our" parity.
	 * Janus accepts that; so do we, as long as the id is free (our own
	 * opens skip ids in use). */
	if (why == NULL && !peer_parity(s, sid))
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 10, "peer opened channel %u with our id parity", sid);
	if (why) {
		refuse_open(s, sid, why);
		return;
	}
	info.label = g_strndup((const char *)msg.label, msg.label_len);
	info.protocol = g_strndup((const char *)msg.protocol, msg.protocol_len);
	info.ordered = msg.ordered;
	info.pr = msg.pr;
	info.pr_value = msg.pr_value;
	info.priority = msg.priority;
	ch = channel_add(s, sid, &info, false);
	g_free((char *)info.label);
	g_free((char *)info.protocol);
	if (send_message(s, sid, STOA_DC_PPID_DCEP, true, STOA_SCTP_PR_NONE, 0, &ack, 1) < 0) {
		channel_start_close(s, ch);
		request_resets(s);
		return;
	}
	SLOG(s, STOA_LOG_VERB, "channel %u opened by peer: label '%s' protocol '%s'%s", sid,
		 ch->label, ch->protocol, ch->ordered ? "" : ", unordered");
	report_open(s, ch);
}

static void channel_acked(stoa_sctp *s, channel *ch)
{
	ch->acked = true;
	SLOG(s, STOA_LOG_VERB, "channel %u acknowledged by peer", ch->id);
	report_open(s, ch);
}

static void on_dcep(stoa_sctp *s, uint16_t sid, const uint8_t *buf, size_t len)
{
	channel *ch;

	if (len == 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "empty DCEP message on stream %u", sid);
		return;
	}
	if (buf[0] == STOA_DCEP_OPEN) {
		on_dcep_open(s, sid, buf, len);
		return;
	}
	ch = channel_find(s, sid);
	if (buf[0] == STOA_DCEP_ACK && ch && ch->local && !ch->acked && !ch->in_reset) {
		channel_acked(s, ch);
		return;
	}
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "unexpected DCEP message 0x%02x on stream %u",
			     buf[0], sid);
}

/* ------------------------------------------------------------ receiving */

static void on_user_message(stoa_sctp *s, uint16_t sid, uint32_t ppid, const uint8_t *buf,
			    size_t len)
{
	bool binary;
	bool empty;
	channel *ch;

	if (ppid == STOA_DC_PPID_DCEP) {
		on_dcep(s, sid, buf, len);
		return;
	}
	if (stoa_dc_ppid_classify(ppid, &binary, &empty) < 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "message with unknown PPID %u on stream %u "
						       "dropped", ppid, sid);
		return;
	}
	ch = channel_find(s, sid);
	if (!ch || ch->in_reset) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "message on stream %u without a channel "
						       "dropped", sid);
		return;
	}
	/* Data from the peer means it has processed our OPEN. */
	if (ch->local && !ch->acked) {
		channel_acked(s, ch);
		if (s->detached)
			return;
	}
	if (s->cb.on_message)
		s->cb.on_message(s->ud, sid, binary, empty ? (const uint8_t *)"" : buf,
				 empty ? 0 : len);
}

static void drop_oversized(stoa_sctp *s, uint16_t sid, size_t len)
{
	STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "message of %zu+ bytes on stream %u exceeds our "
					       "max-message-size %zu: dropped",
			     len, sid, s->cfg.max_recv_size);
}

/* Messages larger than usrsctp's partial delivery point arrive in pieces
 * without MSG_EOR; with fragment interleaving off (a one-to-one socket) a
 * message completes before the next one starts. */
static void on_data(stoa_sctp *s, const work *w)
{
	uint16_t sid = w->rcv.rcv_sid;
	uint32_t ppid = ntohl(w->rcv.rcv_ppid);
	bool eor = (w->flags & MSG_EOR) != 0;

	if (s->rx->len == 0 && !s->rx_skip && eor) {
		if (w->len > s->cfg.max_recv_size)
			drop_oversized(s, sid, w->len);
		else
			on_user_message(s, sid, ppid, w->data, w->len);
		return;
	}
	if ((s->rx->len > 0 || s->rx_skip) && sid != s->rx_sid) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5,
				     "interleaved message pieces on streams %u and %u: "
				     "dropping the first", s->rx_sid, sid);
		g_byte_array_set_size(s->rx, 0);
		s->rx_skip = false;
	}
	if (s->rx->len == 0 && !s->rx_skip)
		SLOG(s, STOA_LOG_DBG, "reassembling a message on stream %u", sid);
	s->rx_sid = sid;
	if (!s->rx_skip && s->rx->len + w->len > s->cfg.max_recv_size) {
		drop_oversized(s, sid, s->rx->len + w->len);
		g_byte_array_set_size(s->rx, 0);
		s->rx_skip = true;
	}
	if (!s->rx_skip)
		g_byte_array_append(s->rx, w->data, (guint)w->len);
	if (!eor)
		return;
	if (!s->rx_skip)
		on_user_message(s, sid, ppid, s->rx->data, s->rx->len);
	if (!s->detached)
		g_byte_array_set_size(s->rx, 0);
	s->rx_skip = false;
}

/* --------------------------------------------------------- notifications */

static void set_state(stoa_sctp *s, stoa_sctp_state state)
{
	if (s->state == state)
		return;
	s->state = state;
	if (s->cb.on_state)
		s->cb.on_state(s->ud, state);
}

/* Ids of the channels matching `pick`, so callbacks may change the table. */
static GArray *channel_ids(stoa_sctp *s, bool (*pick)(const channel *ch))
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, s->channels);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (!pick || pick(value))
			g_array_append_val(ids, ((channel *)value)->id);
	return ids;
}

static bool not_reported_closed(const channel *ch)
{
	return !ch->in_reset;
}

/* Every channel ends with the association (or with the peer's restart,
 * which loses its streams): on_close for each not yet reported. */
static void drop_channels(stoa_sctp *s)
{
	GArray *ids = channel_ids(s, not_reported_closed);

	g_hash_table_remove_all(s->channels);
	g_array_set_size(s->resets, 0);
	for (guint i = 0; i < ids->len && !s->detached; i++)
		if (s->cb.on_close)
			s->cb.on_close(s->ud, g_array_index(ids, uint16_t, i));
	g_array_free(ids, TRUE);
}

static void association_gone(stoa_sctp *s, const char *why)
{
	if (s->state == STOA_SCTP_CLOSED)
		return;
	SLOG(s, STOA_LOG_INFO, "association %" G_GUINT64_FORMAT " %s", s->id, why);
	s->state = STOA_SCTP_CLOSED;
	drop_channels(s);
	if (!s->detached && s->cb.on_state)
		s->cb.on_state(s->ud, STOA_SCTP_CLOSED);
}

static bool open_pending(const channel *ch)
{
	return ch->local && !ch->open_sent && !ch->closing;
}

/* Channels opened before the association was up. */
static void send_pending_opens(stoa_sctp *s)
{
	GArray *ids = channel_ids(s, open_pending);

	for (guint i = 0; i < ids->len && !s->detached; i++) {
		uint16_t id = g_array_index(ids, uint16_t, i);
		channel *ch = channel_find(s, id);

		if (!ch)
			continue;
		if (id < MIN(s->n_out, s->n_in) && send_open(s, ch) == 0)
			continue;
		SLOG(s, STOA_LOG_WARN, "channel %u could not be opened", id);
		g_hash_table_remove(s->channels, GUINT_TO_POINTER(id));
		if (s->cb.on_close)
			s->cb.on_close(s->ud, id);
	}
	g_array_free(ids, TRUE);
}

/* The path MTU, our receive window and the peer's, for the log. */
static void log_status(stoa_sctp *s, const char *what)
{
	struct sctp_status st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	stoa__sctp_enter();
	if (usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0)
		memset(&st, 0, sizeof(st));
	stoa__sctp_leave();
	SLOG(s, STOA_LOG_VERB, "association %" G_GUINT64_FORMAT " %s: %u out, %u in streams, "
				"path MTU %u, peer window %u", s->id, what, s->n_out, s->n_in,
		 st.sstat_primary.spinfo_mtu, st.sstat_rwnd);
}

static void on_assoc_change(stoa_sctp *s, const struct sctp_assoc_change *ac)
{
	switch (ac->sac_state) {
	case SCTP_COMM_UP:
	case SCTP_RESTART:
		s->n_out = ac->sac_outbound_streams;
		s->n_in = ac->sac_inbound_streams;
		log_status(s, ac->sac_state == SCTP_RESTART ? "restarted" : "up");
		if (ac->sac_state == SCTP_RESTART)
			drop_channels(s);
		if (!s->detached)
			set_state(s, STOA_SCTP_OPEN);
		if (!s->detached)
			send_pending_opens(s);
		if (!s->detached)
			request_resets(s);
		break;
	case SCTP_COMM_LOST:
		association_gone(s, "lost");
		break;
	case SCTP_SHUTDOWN_COMP:
		association_gone(s, "shut down");
		break;
	case SCTP_CANT_STR_ASSOC:
		association_gone(s, "could not be established");
		break;
	default:
		break;
	}
}

static void on_incoming_reset(stoa_sctp *s, uint16_t sid)
{
	channel *ch = channel_find(s, sid);

	if (!ch || ch->in_reset)
		return;
	ch->in_reset = true;
	/* RFC 8831 §6.7: answer the peer's reset with ours. */
	channel_start_close(s, ch);
	SLOG(s, STOA_LOG_VERB, "channel %u closed", sid);
	channel_forget_if_done(s, ch);
	if (s->cb.on_close)
		s->cb.on_close(s->ud, sid);
}

static void on_outgoing_reset(stoa_sctp *s, uint16_t sid)
{
	channel *ch = channel_find(s, sid);

	if (!ch)
		return;
	ch->out_reset = true;
	channel_forget_if_done(s, ch);
}

static void on_stream_reset(stoa_sctp *s, const struct sctp_stream_reset_event *ev, size_t len)
{
	size_t n;

	if (len < sizeof(*ev) || ev->strreset_length > len)
		return;
	n = (ev->strreset_length - sizeof(*ev)) / sizeof(uint16_t);
	if (ev->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) {
		SLOG(s, STOA_LOG_WARN, "peer %s a stream reset",
			 ev->strreset_flags & SCTP_STREAM_RESET_DENIED ? "denied" : "failed");
	} else {
		for (size_t i = 0; i < n && !s->detached; i++) {
			uint16_t sid = ev->strreset_stream_list[i];

			if (ev->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)
				on_incoming_reset(s, sid);
			if (ev->strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN)
				on_outgoing_reset(s, sid);
		}
	}
	if (!s->detached)
		request_resets(s);
}

static void on_notification(stoa_sctp *s, const work *w)
{
	const union sctp_notification *n = w->data;

	if (w->len < sizeof(n->sn_header) || n->sn_header.sn_length > w->len)
		return;
	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		if (w->len >= sizeof(n->sn_assoc_change))
			on_assoc_change(s, &n->sn_assoc_change);
		break;
	case SCTP_STREAM_RESET_EVENT:
		on_stream_reset(s, &n->sn_strreset_event, w->len);
		break;
	case SCTP_SEND_FAILED_EVENT:
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 5, "a message on stream %u was abandoned",
				     n->sn_send_failed_event.ssfe_info.snd_sid);
		break;
	case SCTP_REMOTE_ERROR:
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "peer reported an SCTP error %u",
				     ntohs(n->sn_remote_error.sre_error));
		break;
	case SCTP_SHUTDOWN_EVENT:
		SLOG(s, STOA_LOG_VERB, "peer is shutting the association down");
		break;
	default:
		break;
	}
}

/* ----------------------------------------------------------------- drain */

static work *dequeue(stoa_sctp *s)
{
	work *w = NULL;

	g_mutex_lock(&s->lock);
	if (!s->closed)
		w = g_queue_pop_head(&s->work);
	g_mutex_unlock(&s->lock);
	return w;
}

static void handle(stoa_sctp *s, const work *w)
{
	if (w->kind == WORK_PACKET)
		s->cb.send_lower(s->ud, w->data, w->len);
	else if (!w->data)
		association_gone(s, "closed by usrsctp");
	else if (w->flags & MSG_NOTIFICATION)
		on_notification(s, w);
	else
		on_data(s, w);
}

/* Owner's thread. Re-entrant calls (a callback that calls us back) return
 * at once: the outer loop picks up what they queued. Callbacks may close
 * the association or drop the owner's reference, hence our own. */
static void drain(stoa_sctp *s)
{
	stoa_sctp *prev = in_call;
	work *w;

	if (s->draining)
		return;
	s->draining = true;
	stoa_sctp_ref(s);
	in_call = s;
	while ((w = dequeue(s)) != NULL) {
		handle(s, w);
		work_free(w);
	}
	in_call = prev;
	s->draining = false;
	stoa_sctp_unref(s);
}

/* ------------------------------------------------------------ lifecycle */

static void conn_address(struct sockaddr_conn *a, uint64_t id, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sconn_family = AF_CONN;
	a->sconn_port = htons(port);
	a->sconn_addr = STOA_SCTP_ADDR(id);
}

static int set_int(struct socket *sock, int level, int opt, int value)
{
	return usrsctp_setsockopt(sock, level, opt, &value, sizeof(value));
}

static int subscribe_events(struct socket *sock)
{
	static const uint16_t events[] = {
		SCTP_ASSOC_CHANGE,     SCTP_REMOTE_ERROR,	SCTP_SHUTDOWN_EVENT,
		SCTP_SEND_FAILED_EVENT, SCTP_STREAM_RESET_EVENT, SCTP_STREAM_CHANGE_EVENT,
	};
	struct sctp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.se_assoc_id = SCTP_FUTURE_ASSOC;
	ev.se_on = 1;
	for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
		ev.se_type = events[i];
		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0)
			return -1;
	}
	return 0;
}

static int configure_socket(stoa_sctp *s)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct sctp_assoc_value reset = { .assoc_id = SCTP_FUTURE_ASSOC,
					  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
	struct sctp_initmsg init = { .sinit_num_ostreams = STOA_SCTP_MAX_STREAMS,
				     .sinit_max_instreams = STOA_SCTP_MAX_STREAMS };
	/* Before connecting this sets the endpoint's default for the
	 * association to come: fixed MTU, no path MTU discovery. */
	struct sctp_paddrparams mtu = { .spp_assoc_id = SCTP_FUTURE_ASSOC,
					.spp_flags = SPP_PMTUD_DISABLE,
					.spp_pathmtu = PATH_MTU };
	/* usrsctp refuses a message larger than the send buffer. The receive
	 * buffer (our window) stays at the stack default: larger messages are
	 * delivered in pieces and reassembled. */
	int sndbuf = (int)MAX((size_t)MIN_SOCKET_SPACE, s->cfg.max_send_size + 64 * 1024);

	/* Closing aborts at once (RFC 4960 §9.1) rather than lingering. */
	if (usrsctp_set_non_blocking(s->sock, 1) < 0 ||
	    usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)) < 0 ||
	    usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0 ||
	    set_int(s->sock, IPPROTO_SCTP, SCTP_NODELAY, 1) < 0 ||
	    set_int(s->sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset,
			       sizeof(reset)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &mtu,
			       sizeof(mtu)) < 0 ||
	    subscribe_events(s->sock) < 0)
		return -1;
	return 0;
}

/* Socket, options, bind, connect, inside usrsctp. The INIT is queued and
 * posted. */
static int start_association_locked(stoa_sctp *s)
{
	struct sockaddr_conn local;
	struct sockaddr_conn remote;

	usrsctp_register_address(STOA_SCTP_ADDR(s->id));
	s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, on_receive, NULL, 0,
				 STOA_SCTP_ADDR(s->id));
	if (!s->sock) {
		SLOG(s, STOA_LOG_ERR, "usrsctp_socket failed: %s", g_strerror(errno));
		return -1;
	}
	if (configure_socket(s) < 0) {
		SLOG(s, STOA_LOG_ERR, "configuring the SCTP socket failed: %s", g_strerror(errno));
		return -1;
	}
	conn_address(&local, s->id, s->cfg.local_port);
	if (usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof(local)) < 0) {
		SLOG(s, STOA_LOG_ERR, "usrsctp_bind failed: %s", g_strerror(errno));
		return -1;
	}
	conn_address(&remote, s->id, s->cfg.remote_port);
	if (usrsctp_connect(s->sock, (struct sockaddr *)&remote, sizeof(remote)) < 0 &&
	    errno != EINPROGRESS) {
		SLOG(s, STOA_LOG_ERR, "usrsctp_connect failed: %s", g_strerror(errno));
		return -1;
	}
	return 0;
}

static int start_association(stoa_sctp *s)
{
	int rc;

	stoa__sctp_enter();
	rc = start_association_locked(s);
	stoa__sctp_leave();
	return rc;
}

static void normalize_config(stoa_sctp_config *c)
{
	if (!c->local_port)
		c->local_port = STOA_SCTP_DEFAULT_PORT;
	if (!c->remote_port)
		c->remote_port = STOA_SCTP_DEFAULT_PORT;
	if (!c->max_send_size || c->max_send_size > STOA_SCTP_HARD_MAX_MESSAGE_SIZE)
		c->max_send_size = STOA_SCTP_HARD_MAX_MESSAGE_SIZE;
	if (!c->max_recv_size)
		c->max_recv_size = STOA_SCTP_LOCAL_MAX_MESSAGE_SIZE;
	if (c->max_recv_size > STOA_SCTP_HARD_MAX_MESSAGE_SIZE)
		c->max_recv_size = STOA_SCTP_HARD_MAX_MESSAGE_SIZE;
}

stoa_sctp *stoa_sctp_new(const stoa_sctp_config *cfg, const stoa_sctp_callbacks *cb, void *ud)
{
	stoa_sctp *s;

	if (!cfg || !cb || !cb->post || !cb->send_lower)
		return NULL;
	s = g_new0(stoa_sctp, 1);
	s->refs = 1;
	s->cfg = *cfg;
	normalize_config(&s->cfg);
	s->cb = *cb;
	s->ud = ud;
	g_mutex_init(&s->lock);
	g_queue_init(&s->work);
	s->state = STOA_SCTP_CONNECTING;
	s->channels = g_hash_table_new_full(NULL, NULL, NULL, channel_free);
	s->resets = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	s->rx = g_byte_array_new();
	s->id = stoa__sctp_stack_attach(s);
	if (s->id == 0) {
		SLOG(s, STOA_LOG_ERR, "SCTP stack not initialised");
		s->detached = true;
		stoa_sctp_unref(s);
		return NULL;
	}
	if (start_association(s) < 0) {
		close_internal(s, false);
		stoa_sctp_unref(s);
		return NULL;
	}
	SLOG(s, STOA_LOG_VERB, "association %" G_GUINT64_FORMAT " connecting, ports %u -> %u, "
				"DTLS %s", s->id, s->cfg.local_port, s->cfg.remote_port,
		 s->cfg.dtls_client ? "client" : "server");
	return s;
}

/* Detaches from usrsctp and the registry; with `deliver`, hands the last
 * packets (the ABORT) to send_lower before returning. */
static void close_internal(stoa_sctp *s, bool deliver)
{
	stoa_sctp *prev = in_call;
	GQueue last = G_QUEUE_INIT;
	work *w;

	s->detached = true;
	in_call = s;
	stoa__sctp_enter();
	if (s->sock)
		usrsctp_close(s->sock);
	usrsctp_deregister_address(STOA_SCTP_ADDR(s->id));
	stoa__sctp_leave();
	s->sock = NULL;
	in_call = prev;
	stoa__sctp_stack_detach(s->id);
	g_mutex_lock(&s->lock);
	s->closed = true;
	last = s->work;
	g_queue_init(&s->work);
	g_mutex_unlock(&s->lock);
	while ((w = g_queue_pop_head(&last)) != NULL) {
		if (deliver && w->kind == WORK_PACKET)
			s->cb.send_lower(s->ud, w->data, w->len);
		work_free(w);
	}
	g_hash_table_remove_all(s->channels);
	g_array_set_size(s->resets, 0);
	s->state = STOA_SCTP_CLOSED;
}

void stoa_sctp_close(stoa_sctp *s)
{
	if (!s || s->detached)
		return;
	SLOG(s, STOA_LOG_VERB, "association %" G_GUINT64_FORMAT " closing", s->id);
	close_internal(s, true);
}

/* ---------------------------------------------------------- owner calls */

void stoa_sctp_incoming(stoa_sctp *s, const uint8_t *buf, size_t len)
{
	stoa_sctp *prev = in_call;

	if (s->detached || len == 0)
		return;
	in_call = s;
	stoa__sctp_enter();
	usrsctp_conninput(STOA_SCTP_ADDR(s->id), buf, len, 0);
	stoa__sctp_leave();
	in_call = prev;
	drain(s);
}

/* The lowest free id of our parity below the usable stream count. */
static int allocate_id(stoa_sctp *s, uint16_t *id)
{
	unsigned limit = STOA_SCTP_MAX_STREAMS;

	if (s->state == STOA_SCTP_OPEN)
		limit = MIN(s->n_out, s->n_in);
	for (unsigned i = s->cfg.dtls_client ? 0 : 1; i < limit; i += 2) {
		if (!channel_find(s, (uint16_t)i)) {
			*id = (uint16_t)i;
			return 0;
		}
	}
	return -ENOSPC;
}

static bool info_valid(const stoa_sctp_channel_info *info)
{
	if (info->label && strlen(info->label) > G_MAXUINT16)
		return false;
	if (info->protocol && strlen(info->protocol) > G_MAXUINT16)
		return false;
	return info->pr == STOA_SCTP_PR_NONE || info->pr == STOA_SCTP_PR_RTX ||
	       info->pr == STOA_SCTP_PR_TTL;
}

int stoa_sctp_open_channel(stoa_sctp *s, const stoa_sctp_channel_info *info, uint16_t *id)
{
	channel *ch;
	uint16_t sid;
	int rc;

	if (!info || !id || !info_valid(info))
		return -EINVAL;
	if (s->detached || s->state == STOA_SCTP_CLOSED)
		return -EPIPE;
	rc = allocate_id(s, &sid);
	if (rc < 0)
		return rc;
	ch = channel_add(s, sid, info, true);
	if (s->state == STOA_SCTP_OPEN) {
		rc = send_open(s, ch);
		if (rc < 0)
			g_hash_table_remove(s->channels, GUINT_TO_POINTER(sid));
	}
	if (rc == 0) {
		*id = sid;
		SLOG(s, STOA_LOG_VERB, "opening channel %u: label '%s'", sid, ch->label);
	}
	drain(s);
	return rc;
}

int stoa_sctp_close_channel(stoa_sctp *s, uint16_t id)
{
	channel *ch = s->detached ? NULL : channel_find(s, id);

	if (!ch)
		return -ENOENT;
	if (ch->local && !ch->open_sent) {
		/* Never announced: nothing to reset. */
		g_hash_table_remove(s->channels, GUINT_TO_POINTER(id));
		return 0;
	}
	channel_start_close(s, ch);
	request_resets(s);
	drain(s);
	return 0;
}

int stoa_sctp_send(stoa_sctp *s, uint16_t id, bool binary, const uint8_t *buf, size_t len)
{
	static const uint8_t zero = 0;
	channel *ch;
	bool ordered;
	int rc;

	if (s->detached || s->state == STOA_SCTP_CLOSED)
		return -EPIPE;
	if (len > s->cfg.max_send_size)
		return -EMSGSIZE;
	ch = channel_find(s, id);
	if (!ch)
		return -ENOENT;
	if (ch->closing || ch->in_reset)
		return -EPIPE;
	if (s->state != STOA_SCTP_OPEN || (!ch->acked && !ch->open_sent))
		return -ENOTCONN;
	/* RFC 8832 §6: ordered until the ACK, so the OPEN is seen first. */
	ordered = ch->ordered || !ch->acked;
	/* RFC 8831 §6.6: an empty message is one zero byte with its own PPID. */
	rc = send_message(s, id, stoa_dc_ppid_for(binary, len), ordered, ch->pr, ch->pr_value,
			  len ? buf : &zero, len ? len : 1);
	drain(s);
	return rc;
}

stoa_sctp_state stoa_sctp_get_state(const stoa_sctp *s)
{
	return s->state;
}

size_t stoa_sctp_max_send_size(const stoa_sctp *s)
{
	return s->cfg.max_send_size;
}
