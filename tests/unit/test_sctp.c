/*
 * test_sctp.c: unit tests for src/media/sctp (stoa_sctp and DCEP).
 *
 * Two associations talk back to back in memory: A's send_lower copies the
 * packet and posts it to B's loop, which feeds it to stoa_sctp_incoming(),
 * and the other way round. Each side's `post` queues on its owner's
 * GMainContext, which the test pumps. The SCTP stack's timers run on a
 * context of their own, iterated by a separate thread, so timer-driven work
 * (delayed SACKs, retransmissions) really arrives from a foreign thread;
 * every callback checks that it runs on its owner's thread. The last test
 * runs two pairs on two loop threads at once.
 *
 * Covered: association set-up; DCEP open and ACK in both directions
 * (label, protocol, even/odd ids); a channel opened before the association
 * is up; text and binary messages both ways, empty ones and large ones;
 * max-message-size on both ends; unordered and partially reliable channels;
 * channel close seen on both sides and id reuse; closing an association
 * (the peer sees the ABORT); stoa_sctp_shutdown() succeeding at the end,
 * which it only does once usrsctp has released every socket. Run it under
 * --enable-sanitizers for leaks.
 */
#define _GNU_SOURCE /* memmem */
#define STOA_LOG_MODULE "test"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/log.h"
#include "media/sctp/dcep.h"
#include "media/sctp/sctp.h"

#define WAIT_MS 5000

typedef struct opened {
	uint16_t id;
	char *label;
	char *protocol;
	bool ordered;
	stoa_sctp_pr pr;
	uint32_t pr_value;
	uint16_t priority;
	bool local;
} opened;

typedef struct message {
	uint16_t id;
	bool binary;
	GBytes *data;
} message;

/* One side of a pair; lives on `ctx`'s thread. */
typedef struct peer {
	const char *name;
	GMainContext *ctx;
	GThread *owner;
	stoa_sctp *sctp;
	struct peer *other;
	stoa_sctp_state state;
	bool closed_seen; /* on_state(CLOSED) */
	GPtrArray *opens;    /* opened */
	GPtrArray *messages; /* message */
	GArray *closes;	     /* uint16_t */
	gint wrong_thread;
	gint posts;
	gint in_flight; /* packets posted to the other side, not yet delivered */
	const char *drop_marker; /* drop the next packet we send that holds it */
	int dropped;
} peer;

typedef struct delivery {
	peer *to;
	GBytes *packet;
} delivery;

static GMainContext *timer_ctx;
static GMainLoop *timer_loop;
static GThread *timer_thread;

/* ------------------------------------------------------------ plumbing */

static void check_thread(peer *p)
{
	if (g_thread_self() != p->owner)
		g_atomic_int_inc(&p->wrong_thread);
}

static void test_post(void *ud, GSourceFunc fn, void *arg, GDestroyNotify destroy)
{
	peer *p = ud;
	GSource *src = g_idle_source_new();

	g_atomic_int_inc(&p->posts);
	g_source_set_callback(src, fn, arg, destroy);
	g_source_attach(src, p->ctx);
	g_source_unref(src);
}

static gboolean deliver(gpointer data)
{
	delivery *d = data;
	gsize len;
	const uint8_t *buf = g_bytes_get_data(d->packet, &len);

	if (d->to->sctp)
		stoa_sctp_incoming(d->to->sctp, buf, len);
	return G_SOURCE_REMOVE;
}

static void delivery_free(gpointer data)
{
	delivery *d = data;

	g_atomic_int_dec_and_test(&d->to->in_flight);
	g_bytes_unref(d->packet);
	g_free(d);
}

static void on_send_lower(void *ud, const uint8_t *buf, size_t len)
{
	peer *p = ud;
	delivery *d = g_new0(delivery, 1);
	GSource *src = g_idle_source_new();

	check_thread(p);
	if (p->drop_marker && memmem(buf, len, p->drop_marker, strlen(p->drop_marker))) {
		p->drop_marker = NULL;
		p->dropped++;
		g_free(d);
		g_source_unref(src);
		return;
	}
	d->to = p->other;
	d->packet = g_bytes_new(buf, len);
	g_atomic_int_inc(&d->to->in_flight);
	g_source_set_callback(src, deliver, d, delivery_free);
	g_source_attach(src, d->to->ctx);
	g_source_unref(src);
}

static void on_state(void *ud, stoa_sctp_state state)
{
	peer *p = ud;

	check_thread(p);
	p->state = state;
	if (state == STOA_SCTP_CLOSED)
		p->closed_seen = true;
}

static void on_open(void *ud, uint16_t id, const stoa_sctp_channel_info *info)
{
	peer *p = ud;
	opened *o = g_new0(opened, 1);

	check_thread(p);
	o->id = id;
	o->label = g_strdup(info->label);
	o->protocol = g_strdup(info->protocol);
	o->ordered = info->ordered;
	o->pr = info->pr;
	o->pr_value = info->pr_value;
	o->priority = info->priority;
	o->local = info->local;
	g_ptr_array_add(p->opens, o);
}

static void on_message(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len)
{
	peer *p = ud;
	message *m = g_new0(message, 1);

	check_thread(p);
	g_assert_nonnull(buf);
	m->id = id;
	m->binary = binary;
	m->data = g_bytes_new(buf, len);
	g_ptr_array_add(p->messages, m);
}

static void on_close(void *ud, uint16_t id)
{
	peer *p = ud;

	check_thread(p);
	g_array_append_val(p->closes, id);
}

static const stoa_sctp_callbacks callbacks = {
	.post = test_post,
	.send_lower = on_send_lower,
	.on_state = on_state,
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

static void opened_free(gpointer data)
{
	opened *o = data;

	g_free(o->label);
	g_free(o->protocol);
	g_free(o);
}

static void message_free(gpointer data)
{
	message *m = data;

	g_bytes_unref(m->data);
	g_free(m);
}

static peer *peer_new(const char *name, GMainContext *ctx)
{
	peer *p = g_new0(peer, 1);

	p->name = name;
	p->ctx = g_main_context_ref(ctx);
	p->owner = g_thread_self();
	p->opens = g_ptr_array_new_with_free_func(opened_free);
	p->messages = g_ptr_array_new_with_free_func(message_free);
	p->closes = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	return p;
}

static void peer_free(peer *p)
{
	g_assert_cmpint(g_atomic_int_get(&p->wrong_thread), ==, 0);
	g_ptr_array_free(p->opens, TRUE);
	g_ptr_array_free(p->messages, TRUE);
	g_array_free(p->closes, TRUE);
	g_main_context_unref(p->ctx);
	g_free(p);
}

/* Runs `ctx` until cond(arg) holds; false after WAIT_MS. */
static bool pump_until(GMainContext *ctx, bool (*cond)(void *), void *arg)
{
	int64_t deadline = g_get_monotonic_time() + WAIT_MS * 1000;

	while (!cond(arg)) {
		if (g_get_monotonic_time() > deadline)
			return false;
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(500);
	}
	return true;
}

/* Runs `ctx` for `ms` milliseconds. */
static void pump_for(GMainContext *ctx, int ms)
{
	int64_t until = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < until)
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(500);
}

/* ---------------------------------------------------------------- pairs */

typedef struct pair {
	GMainContext *ctx;
	peer *a; /* DTLS client: even ids */
	peer *b; /* DTLS server: odd ids */
} pair;

static bool both_open(void *arg)
{
	pair *pr = arg;

	return pr->a->state == STOA_SCTP_OPEN && pr->b->state == STOA_SCTP_OPEN;
}

/* B uses `cb_b` if given, else the recording callbacks. */
static pair *pair_new_cfg(GMainContext *ctx, const stoa_sctp_config *ca, const stoa_sctp_config *cb,
			  const stoa_sctp_callbacks *cb_b, bool wait_up)
{
	pair *pr = g_new0(pair, 1);

	pr->ctx = ctx;
	pr->a = peer_new("A", ctx);
	pr->b = peer_new("B", ctx);
	pr->a->other = pr->b;
	pr->b->other = pr->a;
	pr->a->sctp = stoa_sctp_new(ca, &callbacks, pr->a);
	pr->b->sctp = stoa_sctp_new(cb, cb_b ? cb_b : &callbacks, pr->b);
	g_assert_nonnull(pr->a->sctp);
	g_assert_nonnull(pr->b->sctp);
	if (wait_up)
		g_assert_true(pump_until(ctx, both_open, pr));
	return pr;
}

static pair *pair_new(GMainContext *ctx)
{
	stoa_sctp_config ca = { .dtls_client = true };
	stoa_sctp_config cb = { .dtls_client = false };

	return pair_new_cfg(ctx, &ca, &cb, NULL, true);
}

static bool nothing_in_flight(void *arg)
{
	pair *pr = arg;

	return g_atomic_int_get(&pr->a->in_flight) == 0 &&
	       g_atomic_int_get(&pr->b->in_flight) == 0;
}

static void pair_free(pair *pr)
{
	stoa_sctp_close(pr->a->sctp);
	stoa_sctp_close(pr->b->sctp);
	stoa_sctp_unref(pr->a->sctp);
	stoa_sctp_unref(pr->b->sctp);
	pr->a->sctp = NULL;
	pr->b->sctp = NULL;
	/* Let posted deliveries and drains run: they only drop references. */
	g_assert_true(pump_until(pr->ctx, nothing_in_flight, pr));
	while (g_main_context_iteration(pr->ctx, FALSE))
		;
	peer_free(pr->a);
	peer_free(pr->b);
	g_free(pr);
}

static bool has_open(peer *p, uint16_t id, bool local)
{
	for (guint i = 0; i < p->opens->len; i++) {
		opened *o = g_ptr_array_index(p->opens, i);

		if (o->id == id && o->local == local)
			return true;
	}
	return false;
}

static opened *find_open(peer *p, uint16_t id)
{
	for (guint i = 0; i < p->opens->len; i++) {
		opened *o = g_ptr_array_index(p->opens, i);

		if (o->id == id)
			return o;
	}
	return NULL;
}

static bool has_close(peer *p, uint16_t id)
{
	for (guint i = 0; i < p->closes->len; i++)
		if (g_array_index(p->closes, uint16_t, i) == id)
			return true;
	return false;
}

typedef struct wait_channel {
	pair *pr;
	uint16_t id;
} wait_channel;

static bool channel_open_both(void *arg)
{
	wait_channel *w = arg;
	peer *opener = w->id % 2 == 0 ? w->pr->a : w->pr->b;
	peer *acceptor = opener->other;

	return has_open(acceptor, w->id, false) && has_open(opener, w->id, true);
}

static uint16_t open_channel(pair *pr, peer *from, const stoa_sctp_channel_info *info)
{
	wait_channel w = { .pr = pr };

	g_assert_cmpint(stoa_sctp_open_channel(from->sctp, info, &w.id), ==, 0);
	g_assert_true(pump_until(pr->ctx, channel_open_both, &w));
	return w.id;
}

typedef struct wait_count {
	peer *p;
	guint n;
} wait_count;

static bool has_messages(void *arg)
{
	wait_count *w = arg;

	return w->p->messages->len >= w->n;
}

static void wait_messages(pair *pr, peer *p, guint n)
{
	wait_count w = { .p = p, .n = n };

	g_assert_true(pump_until(pr->ctx, has_messages, &w));
}

static void assert_message(peer *p, guint i, uint16_t id, bool binary, const void *data,
			   size_t len)
{
	message *m;
	gsize got_len;
	const void *got;

	g_assert_cmpuint(i, <, p->messages->len);
	m = g_ptr_array_index(p->messages, i);
	got = g_bytes_get_data(m->data, &got_len);
	g_assert_cmpuint(m->id, ==, id);
	g_assert_cmpint(m->binary, ==, binary);
	g_assert_cmpmem(got, got_len, data, len);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *buf = g_malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 31 + seed) ^ (i >> 8));
	return buf;
}

/* ---------------------------------------------------------------- DCEP */

static void test_dcep_roundtrip(void)
{
	stoa_dcep_open in = {
		.ordered = false, .pr = STOA_SCTP_PR_RTX, .pr_value = 3, .priority = 512,
		.label = (const uint8_t *)"chat", .label_len = 4,
		.protocol = (const uint8_t *)"x-proto", .protocol_len = 7,
	};
	/* RFC 8832 §5.1 layout: 0x03, type 0x81, priority, reliability,
	 * label length, protocol length, label, protocol. */
	static const uint8_t want[] = { 0x03, 0x81, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
					0x00, 0x04, 0x00, 0x07, 'c', 'h', 'a', 't',
					'x', '-', 'p', 'r', 'o', 't', 'o' };
	uint8_t buf[64];
	stoa_dcep_open out;
	size_t n = stoa_dcep_write_open(buf, sizeof(buf), &in);

	g_assert_cmpmem(buf, n, want, sizeof(want));
	g_assert_cmpint(stoa_dcep_parse_open(buf, n, &out), ==, 0);
	g_assert_false(out.ordered);
	g_assert_cmpint(out.pr, ==, STOA_SCTP_PR_RTX);
	g_assert_cmpuint(out.pr_value, ==, 3);
	g_assert_cmpuint(out.priority, ==, 512);
	g_assert_cmpmem(out.label, out.label_len, "chat", 4);
	g_assert_cmpmem(out.protocol, out.protocol_len, "x-proto", 7);

	/* Too small a buffer, truncated input, unknown channel type. */
	g_assert_cmpuint(stoa_dcep_write_open(buf, sizeof(want) - 1, &in), ==, 0);
	g_assert_cmpint(stoa_dcep_parse_open(buf, n - 1, &out), <, 0);
	g_assert_cmpint(stoa_dcep_parse_open(buf, 11, &out), <, 0);
	buf[1] = 0x03;
	g_assert_cmpint(stoa_dcep_parse_open(buf, n, &out), <, 0);
	buf[1] = 0x82;
	g_assert_cmpint(stoa_dcep_parse_open(buf, n, &out), ==, 0);
	g_assert_cmpint(out.pr, ==, STOA_SCTP_PR_TTL);
	buf[0] = STOA_DCEP_ACK;
	g_assert_cmpint(stoa_dcep_parse_open(buf, n, &out), <, 0);
}

static void test_dcep_ppids(void)
{
	bool binary;
	bool empty;

	g_assert_cmpuint(stoa_dc_ppid_for(false, 1), ==, 51);
	g_assert_cmpuint(stoa_dc_ppid_for(true, 1), ==, 53);
	g_assert_cmpuint(stoa_dc_ppid_for(false, 0), ==, 56);
	g_assert_cmpuint(stoa_dc_ppid_for(true, 0), ==, 57);
	g_assert_cmpint(stoa_dc_ppid_classify(57, &binary, &empty), ==, 0);
	g_assert_true(binary && empty);
	g_assert_cmpint(stoa_dc_ppid_classify(51, &binary, &empty), ==, 0);
	g_assert_true(!binary && !empty);
	g_assert_cmpint(stoa_dc_ppid_classify(50, &binary, &empty), <, 0);
	g_assert_cmpint(stoa_dc_ppid_classify(52, &binary, &empty), <, 0);
}

/* --------------------------------------------------------- associations */

static void test_connect(void)
{
	pair *pr = pair_new(g_main_context_default());

	g_assert_cmpint(stoa_sctp_get_state(pr->a->sctp), ==, STOA_SCTP_OPEN);
	g_assert_cmpint(stoa_sctp_get_state(pr->b->sctp), ==, STOA_SCTP_OPEN);
	/* The INIT went out through post, and timer work arrived by post. */
	g_assert_cmpint(g_atomic_int_get(&pr->a->posts), >, 0);
	pair_free(pr);
}

static void test_open_both_ways(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info chat = { .label = "chat", .protocol = "x-chat", .ordered = true };
	stoa_sctp_channel_info back = { .label = "back", .ordered = true, .priority = 512 };
	uint16_t a_id = open_channel(pr, pr->a, &chat);
	uint16_t b_id = open_channel(pr, pr->b, &back);
	opened *o;

	/* RFC 8832 §6: the DTLS client picks even ids, the server odd. */
	g_assert_cmpuint(a_id % 2, ==, 0);
	g_assert_cmpuint(b_id % 2, ==, 1);
	o = find_open(pr->b, a_id);
	g_assert_nonnull(o);
	g_assert_false(o->local);
	g_assert_cmpstr(o->label, ==, "chat");
	g_assert_cmpstr(o->protocol, ==, "x-chat");
	g_assert_true(o->ordered);
	g_assert_cmpint(o->pr, ==, STOA_SCTP_PR_NONE);
	g_assert_cmpuint(o->priority, ==, 256); /* RFC 8832 §5.1 default, as sent */
	o = find_open(pr->a, a_id); /* the ACK came back */
	g_assert_nonnull(o);
	g_assert_true(o->local);
	g_assert_cmpstr(o->label, ==, "chat");
	o = find_open(pr->a, b_id);
	g_assert_nonnull(o);
	g_assert_cmpstr(o->label, ==, "back");
	g_assert_cmpstr(o->protocol, ==, "");
	g_assert_cmpuint(o->priority, ==, 512);
	pair_free(pr);
}

static void test_open_before_up(void)
{
	stoa_sctp_config ca = { .dtls_client = true };
	stoa_sctp_config cb = { .dtls_client = false };
	pair *pr = pair_new_cfg(g_main_context_default(), &ca, &cb, NULL, false);
	stoa_sctp_channel_info info = { .label = "early", .ordered = true };
	wait_channel w = { .pr = pr };

	g_assert_cmpint(stoa_sctp_get_state(pr->a->sctp), ==, STOA_SCTP_CONNECTING);
	g_assert_cmpint(stoa_sctp_open_channel(pr->a->sctp, &info, &w.id), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, w.id, false, (const uint8_t *)"x", 1), ==,
			-ENOTCONN);
	g_assert_true(pump_until(pr->ctx, channel_open_both, &w));
	g_assert_cmpstr(find_open(pr->b, w.id)->label, ==, "early");
	pair_free(pr);
}

static void test_messages(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info info = { .label = "data", .ordered = true };
	uint16_t id = open_channel(pr, pr->a, &info);
	uint8_t *big = pattern(64 * 1024, 7);
	uint8_t *big2 = pattern(64 * 1024 + 1, 9);
	static const char text[] = "héllo, wörld";

	/* A -> B: text, binary, empty text, empty binary, 64 KiB. */
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)text,
				       strlen(text)), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, (const uint8_t *)"\0\1\2", 3), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, NULL, 0), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, NULL, 0), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, big, 64 * 1024), ==, 0);
	wait_messages(pr, pr->b, 5);
	assert_message(pr->b, 0, id, false, text, strlen(text));
	assert_message(pr->b, 1, id, true, "\0\1\2", 3);
	assert_message(pr->b, 2, id, false, "", 0);
	assert_message(pr->b, 3, id, true, "", 0);
	assert_message(pr->b, 4, id, true, big, 64 * 1024);

	/* B -> A on the same channel. */
	g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id, false, (const uint8_t *)"pong", 4), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id, true, big2, 64 * 1024 + 1), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id, false, NULL, 0), ==, 0);
	wait_messages(pr, pr->a, 3);
	assert_message(pr->a, 0, id, false, "pong", 4);
	assert_message(pr->a, 1, id, true, big2, 64 * 1024 + 1);
	assert_message(pr->a, 2, id, false, "", 0);

	/* Errors. */
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, (uint16_t)(id + 2), false,
				       (const uint8_t *)"x", 1), ==, -ENOENT);
	g_free(big);
	g_free(big2);
	pair_free(pr);
}

/* Many messages in a row arrive complete and in order. */
static void test_message_burst(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info info = { .label = "burst", .ordered = true };
	uint16_t id = open_channel(pr, pr->a, &info);
	char buf[32];

	for (int i = 0; i < 500; i++) {
		int n = g_snprintf(buf, sizeof(buf), "message %d", i);

		g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)buf,
					       (size_t)n), ==, 0);
	}
	wait_messages(pr, pr->b, 500);
	for (int i = 0; i < 500; i++) {
		int n = g_snprintf(buf, sizeof(buf), "message %d", i);

		assert_message(pr->b, (guint)i, id, false, buf, (size_t)n);
	}
	pair_free(pr);
}

static void test_max_message_size(void)
{
	/* A may send at most 100000 (B's a=max-message-size); B accepts 80000
	 * although A's SDP let it send more. */
	stoa_sctp_config ca = { .dtls_client = true, .max_send_size = 100000 };
	stoa_sctp_config cb = { .dtls_client = false, .max_recv_size = 80000 };
	pair *pr = pair_new_cfg(g_main_context_default(), &ca, &cb, NULL, true);
	stoa_sctp_channel_info info = { .label = "size", .ordered = true };
	uint16_t id = open_channel(pr, pr->a, &info);
	uint8_t *buf = pattern(100001, 3);

	g_assert_cmpuint(stoa_sctp_max_send_size(pr->a->sctp), ==, 100000);
	g_assert_cmpuint(stoa_sctp_max_send_size(pr->b->sctp), ==,
			 STOA_SCTP_HARD_MAX_MESSAGE_SIZE);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, buf, 100001), ==, -EMSGSIZE);
	/* Sent, but over B's limit: dropped there, and what follows arrives. */
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, buf, 90000), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, buf, 80000), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)"after", 5), ==, 0);
	wait_messages(pr, pr->b, 2);
	assert_message(pr->b, 0, id, true, buf, 80000);
	assert_message(pr->b, 1, id, false, "after", 5);
	pump_for(pr->ctx, 50);
	g_assert_cmpuint(pr->b->messages->len, ==, 2);
	g_free(buf);
	pair_free(pr);
}

/* Big messages cross usrsctp's partial delivery point and are reassembled. */
static void test_large_message(void)
{
	size_t len = 3 * 1024 * 1024;
	stoa_sctp_config ca = { .dtls_client = true };
	stoa_sctp_config cb = { .dtls_client = false, .max_recv_size = 4 * 1024 * 1024 };
	pair *pr = pair_new_cfg(g_main_context_default(), &ca, &cb, NULL, true);
	stoa_sctp_channel_info info = { .label = "large", .ordered = true };
	uint16_t id = open_channel(pr, pr->a, &info);
	uint8_t *buf = pattern(len, 11);

	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, true, buf, len), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)"tail", 4), ==, 0);
	wait_messages(pr, pr->b, 2);
	assert_message(pr->b, 0, id, true, buf, len);
	assert_message(pr->b, 1, id, false, "tail", 4);
	g_free(buf);
	pair_free(pr);
}

static void test_unordered_partial(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info rtx = { .label = "rtx", .ordered = false,
				       .pr = STOA_SCTP_PR_RTX, .pr_value = 3 };
	stoa_sctp_channel_info ttl = { .label = "ttl", .protocol = "p", .ordered = true,
				       .pr = STOA_SCTP_PR_TTL, .pr_value = 150 };
	stoa_sctp_channel_info unrel = { .label = "unordered", .ordered = false };
	uint16_t id_rtx = open_channel(pr, pr->a, &rtx);
	uint16_t id_ttl = open_channel(pr, pr->b, &ttl);
	uint16_t id_unrel = open_channel(pr, pr->a, &unrel);
	opened *o;

	o = find_open(pr->b, id_rtx);
	g_assert_false(o->ordered);
	g_assert_cmpint(o->pr, ==, STOA_SCTP_PR_RTX);
	g_assert_cmpuint(o->pr_value, ==, 3);
	o = find_open(pr->a, id_ttl);
	g_assert_true(o->ordered);
	g_assert_cmpint(o->pr, ==, STOA_SCTP_PR_TTL);
	g_assert_cmpuint(o->pr_value, ==, 150);
	g_assert_cmpstr(o->protocol, ==, "p");
	o = find_open(pr->b, id_unrel);
	g_assert_false(o->ordered);
	g_assert_cmpint(o->pr, ==, STOA_SCTP_PR_NONE);

	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id_rtx, true, (const uint8_t *)"r", 1), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id_ttl, false, (const uint8_t *)"t", 1), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id_unrel, false, (const uint8_t *)"u", 1), ==,
			0);
	wait_messages(pr, pr->b, 2);
	wait_messages(pr, pr->a, 1);
	assert_message(pr->a, 0, id_ttl, false, "t", 1);
	pair_free(pr);
}

typedef struct wait_text {
	peer *p;
	const char *text;
} wait_text;

static bool has_text(void *arg)
{
	wait_text *w = arg;

	for (guint i = 0; i < w->p->messages->len; i++) {
		message *m = g_ptr_array_index(w->p->messages, i);
		gsize len;
		const char *got = g_bytes_get_data(m->data, &len);

		if (len == strlen(w->text) && !memcmp(got, w->text, len))
			return true;
	}
	return false;
}

static bool got_text(pair *pr, peer *p, const char *text)
{
	wait_text w = { .p = p, .text = text };

	return pump_until(pr->ctx, has_text, &w);
}

/* A lost packet: on a reliable channel only the retransmission timer (on
 * the timer thread) can bring it back; on an ordered channel with no
 * retransmissions it is abandoned (RFC 3758 FORWARD-TSN) and the next
 * message is delivered without it. */
static void test_loss(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info reliable = { .label = "reliable", .ordered = true };
	stoa_sctp_channel_info lossy = { .label = "lossy", .ordered = true,
					 .pr = STOA_SCTP_PR_RTX, .pr_value = 0 };
	uint16_t id_rel = open_channel(pr, pr->a, &reliable);
	uint16_t id_pr = open_channel(pr, pr->a, &lossy);

	pr->a->drop_marker = "first-try";
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id_rel, false, (const uint8_t *)"first-try",
				       9), ==, 0);
	g_assert_cmpint(pr->a->dropped, ==, 1);
	g_assert_true(got_text(pr, pr->b, "first-try"));

	pr->a->drop_marker = "abandoned";
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id_pr, false, (const uint8_t *)"abandoned",
				       9), ==, 0);
	g_assert_cmpint(pr->a->dropped, ==, 2);
	pump_for(pr->ctx, 20);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id_pr, false, (const uint8_t *)"next", 4), ==,
			0);
	g_assert_true(got_text(pr, pr->b, "next"));
	g_assert_false(has_text(&(wait_text){ .p = pr->b, .text = "abandoned" }));
	pair_free(pr);
}

typedef struct wait_close {
	peer *p;
	uint16_t id;
} wait_close;

static bool closed_on(void *arg)
{
	wait_close *w = arg;

	return has_close(w->p, w->id);
}

static void test_close_channel(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info info = { .label = "bye", .ordered = true };
	stoa_sctp_channel_info other = { .label = "stays", .ordered = true };
	uint16_t id = open_channel(pr, pr->a, &info);
	uint16_t keep = open_channel(pr, pr->a, &other);
	wait_close wb = { .p = pr->b, .id = id };
	wait_close wa = { .p = pr->a, .id = id };
	wait_channel w = { .pr = pr };

	g_assert_cmpint(stoa_sctp_close_channel(pr->a->sctp, id), ==, 0);
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)"x", 1), ==,
			-EPIPE);
	/* The peer sees the reset (RFC 8831 §6.7), resets back, and we see that. */
	g_assert_true(pump_until(pr->ctx, closed_on, &wb));
	g_assert_true(pump_until(pr->ctx, closed_on, &wa));
	g_assert_false(has_close(pr->a, keep));
	g_assert_cmpint(stoa_sctp_close_channel(pr->a->sctp, 999), ==, -ENOENT);
	/* The other channel still works; once both resets completed the id is
	 * free again. */
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, keep, false, (const uint8_t *)"k", 1), ==, 0);
	wait_messages(pr, pr->b, 1);
	pump_for(pr->ctx, 50);
	g_assert_cmpint(stoa_sctp_open_channel(pr->a->sctp, &info, &w.id), ==, 0);
	g_assert_cmpuint(w.id, ==, id);
	pair_free(pr);
}

static bool b_closed(void *arg)
{
	pair *pr = arg;

	return pr->b->closed_seen;
}

static void test_close_association(void)
{
	pair *pr = pair_new(g_main_context_default());
	stoa_sctp_channel_info info = { .label = "c", .ordered = true };
	uint16_t id1 = open_channel(pr, pr->a, &info);
	uint16_t id2 = open_channel(pr, pr->b, &info);
	guint a_closes;

	stoa_sctp_close(pr->a->sctp);
	stoa_sctp_close(pr->a->sctp); /* idempotent */
	a_closes = pr->a->closes->len;
	g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id1, false, (const uint8_t *)"x", 1), ==,
			-EPIPE);
	/* B gets the ABORT: its channels close and the association is gone. */
	g_assert_true(pump_until(pr->ctx, b_closed, pr));
	g_assert_true(has_close(pr->b, id1));
	g_assert_true(has_close(pr->b, id2));
	g_assert_cmpint(stoa_sctp_get_state(pr->b->sctp), ==, STOA_SCTP_CLOSED);
	g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id2, false, (const uint8_t *)"x", 1), ==,
			-EPIPE);
	/* Nothing reaches A after its close. */
	pump_for(pr->ctx, 30);
	g_assert_cmpuint(pr->a->closes->len, ==, a_closes);
	pair_free(pr);
}

/* A callback may close and drop the association it is called from. */
static void close_from_message(void *ud, uint16_t id, bool binary, const uint8_t *buf,
			       size_t len)
{
	peer *p = ud;

	on_message(ud, id, binary, buf, len);
	stoa_sctp_close(p->sctp);
	stoa_sctp_unref(p->sctp);
	p->sctp = NULL;
}

static void test_close_inside_callback(void)
{
	stoa_sctp_config ca = { .dtls_client = true };
	stoa_sctp_config cb = { .dtls_client = false };
	stoa_sctp_callbacks closing = callbacks;
	pair *pr;
	stoa_sctp_channel_info info = { .label = "c", .ordered = true };
	uint16_t id;

	closing.on_message = close_from_message;
	pr = pair_new_cfg(g_main_context_default(), &ca, &cb, &closing, true);
	id = open_channel(pr, pr->a, &info);
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)"m", 1), ==,
				0);
	wait_messages(pr, pr->b, 1);
	g_assert_null(pr->b->sctp);
	pump_for(pr->ctx, 30);
	g_assert_cmpuint(pr->b->messages->len, ==, 1);
	pair_free(pr);
}

/* ------------------------------------------------------- several loops */

typedef struct loop_run {
	GMainContext *ctx;
	int rc;
} loop_run;

static gpointer run_pair_on_thread(gpointer data)
{
	loop_run *run = data;
	pair *pr;
	stoa_sctp_channel_info info = { .label = "loop", .ordered = true };
	uint16_t id;
	char buf[32];

	g_main_context_push_thread_default(run->ctx);
	pr = pair_new(run->ctx);
	id = open_channel(pr, pr->a, &info);
	for (int i = 0; i < 200; i++) {
		int n = g_snprintf(buf, sizeof(buf), "m%d", i);

		g_assert_cmpint(stoa_sctp_send(pr->a->sctp, id, false, (const uint8_t *)buf,
					       (size_t)n), ==, 0);
		g_assert_cmpint(stoa_sctp_send(pr->b->sctp, id, true, (const uint8_t *)buf,
					       (size_t)n), ==, 0);
	}
	wait_messages(pr, pr->b, 200);
	wait_messages(pr, pr->a, 200);
	for (int i = 0; i < 200; i++) {
		int n = g_snprintf(buf, sizeof(buf), "m%d", i);

		assert_message(pr->b, (guint)i, id, false, buf, (size_t)n);
		assert_message(pr->a, (guint)i, id, true, buf, (size_t)n);
	}
	pair_free(pr);
	g_main_context_pop_thread_default(run->ctx);
	run->rc = 1;
	return NULL;
}

static void test_parallel_loops(void)
{
	loop_run runs[2];
	GThread *threads[2];

	for (int i = 0; i < 2; i++) {
		runs[i].ctx = g_main_context_new();
		runs[i].rc = 0;
		threads[i] = g_thread_new("test-loop", run_pair_on_thread, &runs[i]);
	}
	for (int i = 0; i < 2; i++) {
		g_thread_join(threads[i]);
		g_assert_cmpint(runs[i].rc, ==, 1);
		g_main_context_unref(runs[i].ctx);
	}
}

/* Last: usrsctp_finish() only succeeds when every socket is gone. */
static void test_shutdown(void)
{
	g_assert_cmpint(stoa_sctp_shutdown(), ==, 0);
	g_assert_cmpint(stoa_sctp_shutdown(), ==, 0);
}

/* ------------------------------------------------------------------ main */

static gpointer timer_main(gpointer data)
{
	g_main_context_push_thread_default(timer_ctx);
	g_main_loop_run(timer_loop);
	g_main_context_pop_thread_default(timer_ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	stoa_log_options log = { .level = STOA_LOG_WARN, .colors = 0, .to_stdout = false };
	const char *level = g_getenv("STOA_TEST_LOG_LEVEL");
	int rc;

	g_test_init(&argc, &argv, NULL);
	if (level)
		log.level = atoi(level);
	stoa_log_init(&log);
	timer_ctx = g_main_context_new();
	timer_loop = g_main_loop_new(timer_ctx, FALSE);
	timer_thread = g_thread_new("sctp-timers", timer_main, NULL);
	g_assert_cmpint(stoa_sctp_init(timer_ctx), ==, 0);

	g_test_add_func("/sctp/dcep/roundtrip", test_dcep_roundtrip);
	g_test_add_func("/sctp/dcep/ppids", test_dcep_ppids);
	g_test_add_func("/sctp/association/connect", test_connect);
	g_test_add_func("/sctp/open/both-ways", test_open_both_ways);
	g_test_add_func("/sctp/open/before-up", test_open_before_up);
	g_test_add_func("/sctp/messages/kinds", test_messages);
	g_test_add_func("/sctp/messages/burst", test_message_burst);
	g_test_add_func("/sctp/messages/max-size", test_max_message_size);
	g_test_add_func("/sctp/messages/large", test_large_message);
	g_test_add_func("/sctp/channels/unordered-partial", test_unordered_partial);
	g_test_add_func("/sctp/channels/close", test_close_channel);
	g_test_add_func("/sctp/channels/loss", test_loss);
	g_test_add_func("/sctp/association/close", test_close_association);
	g_test_add_func("/sctp/association/close-in-callback", test_close_inside_callback);
	g_test_add_func("/sctp/threads/parallel-loops", test_parallel_loops);
	g_test_add_func("/sctp/stack/shutdown", test_shutdown);
	rc = g_test_run();

	g_main_loop_quit(timer_loop);
	g_thread_join(timer_thread);
	g_main_loop_unref(timer_loop);
	g_main_context_unref(timer_ctx);
	stoa_log_close();
	return rc;
}
