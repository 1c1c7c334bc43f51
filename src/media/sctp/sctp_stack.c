/*
 * sctp_stack.c: the process-wide usrsctp stack — start and stop, its
 * timers, and the registry that maps usrsctp's conn addresses back to
 * associations (see sctp_internal.h).
 *
 * Design. We start usrsctp with usrsctp_init_nothreads(): the threaded
 * usrsctp_init() starts a timer thread and, even with UDP encapsulation
 * off, raw-socket receive threads ("SCTP/IP4 rcv", "SCTP/IP6 rcv") that
 * open raw SCTP sockets when run as root. We need none of that: AF_CONN
 * packets come to us from DTLS. usrsctp 0.9.5 still starts its "SCTP
 * iterator" thread, which only walks endpoints for stack-wide changes
 * (address changes, ASCONF) that we never make; its callbacks, if any,
 * would be handled like the timers'.
 *
 * Timers. Without its thread usrsctp needs usrsctp_handle_timers(elapsed
 * ms) called regularly. A GLib timeout on the context given to
 * stoa_sctp_init() (the main loop's) does it every 10 ms while at least one
 * association exists, and for a grace period afterwards, so the stack can
 * finish freeing closed endpoints; an idle server does not wake up. Timer
 * work (retransmissions, delayed SACKs, heartbeats) runs on that thread and
 * reaches each association's owner through its `post` (sctp.c).
 *
 * Concurrency. usrsctp has internal locks, meant to let its own threads
 * and the application's run at once, but they are not enough: upstream has
 * open deadlock reports between usrsctp_conninput() and the timer path or
 * usrsctp_close() on another thread (sctplab/usrsctp issues 649, 711, 719),
 * and ThreadSanitizer shows lock-order inversions inside
 * sctp_invoke_recv_callback() in our own tests. Our media loops and the
 * timer context are different threads, so every call into usrsctp — from
 * any loop, the timers, start and stop — goes through one mutex
 * (stoa__sctp_enter/leave): with no threads of its own, usrsctp then runs
 * one call at a time. The cost is that SCTP work of all loops is
 * serialised; it is small per packet (parse, CRC32c, copy), and data
 * channels carry far less than media. Lock order: usrsctp_mutex, then
 * stack.lock, then an association's lock, then whatever `post` takes. Our
 * `stack.lock` is never held while entering usrsctp.
 *
 * RFC 8261 (SCTP over DTLS) §5: no ECN, no ASCONF, path MTU set by us. We
 * also turn off SCTP-AUTH, which DTLS makes redundant, and keep PR-SCTP
 * (RFC 3758) and stream reconfiguration (RFC 6525), which data channels
 * need (RFC 8831 §6).
 */
#define STOA_LOG_MODULE "sctp"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* usrsctp.h declares usrsctp_sysctl_set_sctp_debug_on() only under
 * SCTP_DEBUG; Debian's library exports it. Nothing else depends on it. */
#define SCTP_DEBUG 1
#include <usrsctp.h>

#include "core/log.h"
#include "media/sctp/sctp_internal.h"

#define TICK_MS 10
/* Keep ticking this long after the last association closed. */
#define IDLE_GRACE_US (5 * G_USEC_PER_SEC)
/* How long stoa_sctp_shutdown() waits for usrsctp to let go. */
#define FINISH_WAIT_US (3 * G_USEC_PER_SEC)
/* Initial receive window and send buffer for every association. */
#define SOCKET_SPACE (1024 * 1024)
/* The first retransmission of an INIT or DATA: DTLS just finished a round
 * trip on this path, so RFC 4960's conservative 3 s is needlessly slow. */
#define RTO_INITIAL_MS 1000
/* Heartbeats every 10 s instead of usrsctp's 30 s: the peer's answer is
 * the only traffic of an idle data-channel-only call, and the pc's consent
 * timeout (default 30 s) counts only what reaches us besides STUN, which
 * libnice keeps to itself. */
#define HEARTBEAT_MS 10000

/* Serialises all calls into usrsctp; `inside` marks its holder. */
static GMutex usrsctp_mutex;
static __thread bool inside;

void stoa__sctp_enter(void)
{
	g_mutex_lock(&usrsctp_mutex);
	inside = true;
}

void stoa__sctp_leave(void)
{
	inside = false;
	g_mutex_unlock(&usrsctp_mutex);
}

bool stoa__sctp_inside(void)
{
	return inside;
}

/* Owned by this file. `lock` guards everything but `initialized` and
 * `timer_ctx`, which only the main thread writes (init, shutdown). */
static struct {
	GMutex lock;
	GCond idle;		/* signalled when in_tick drops to 0 */
	bool initialized;
	bool stopping;		/* shutdown started: ticks do nothing */
	GMainContext *timer_ctx;
	GSource *timer;		/* our ref; NULL when not ticking */
	int64_t last_tick_us;
	int64_t idle_until_us;	/* grace deadline once `live` is 0 */
	int in_tick;		/* usrsctp_handle_timers() calls in progress */
	int live;		/* registered associations */
	uint64_t next_id;
	GHashTable *registry;	/* id (uint64_t *) -> stoa_sctp *, no refs */
} stack;

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	stoa_sctp *s = stoa__sctp_stack_find(STOA_SCTP_ID(addr));

	/* An association closed meanwhile: the packet has nowhere to go. */
	if (!s)
		return 0;
	stoa__sctp_lower_packet(s, buf, len);
	stoa_sctp_unref(s);
	return 0;
}

static void debug_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug_printf(const char *fmt, ...)
{
	char line[512];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		STOA_LOG_RATELIMITED(STOA_LOG_DBG, 1, "usrsctp: %s", line);
}

static void set_sysctls(void)
{
	usrsctp_sysctl_set_sctp_debug_on(SCTP_DEBUG_NONE);
	usrsctp_sysctl_set_sctp_ecn_enable(0);
	usrsctp_sysctl_set_sctp_asconf_enable(0);
	usrsctp_sysctl_set_sctp_auto_asconf(0);
	usrsctp_sysctl_set_sctp_auth_enable(0);
	usrsctp_sysctl_set_sctp_pr_enable(1);
	usrsctp_sysctl_set_sctp_reconfig_enable(1);
	usrsctp_sysctl_set_sctp_nrsack_enable(0);
	usrsctp_sysctl_set_sctp_pktdrop_enable(0);
	usrsctp_sysctl_set_sctp_sendspace(SOCKET_SPACE);
	usrsctp_sysctl_set_sctp_recvspace(SOCKET_SPACE);
	usrsctp_sysctl_set_sctp_rto_initial_default(RTO_INITIAL_MS);
	usrsctp_sysctl_set_sctp_heartbeat_interval_default(HEARTBEAT_MS);
}

int stoa_sctp_init(GMainContext *timer_ctx)
{
	if (stack.initialized)
		return 0;
	/* Sysctls are reset by usrsctp's init, so they come after it. */
	stoa__sctp_enter();
	usrsctp_init_nothreads(0, conn_output, debug_printf);
	set_sysctls();
	stoa__sctp_leave();
	g_mutex_lock(&stack.lock);
	stack.registry = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	stack.timer_ctx = g_main_context_ref(timer_ctx ? timer_ctx : g_main_context_default());
	stack.stopping = false;
	stack.next_id = 1;
	g_mutex_unlock(&stack.lock);
	stack.initialized = true;
	STOA_LOG(STOA_LOG_VERB, "usrsctp started (no threads of its own; timers every %d ms)",
		 TICK_MS);
	return 0;
}

/* Takes the whole milliseconds elapsed since the last tick and decides
 * whether to keep ticking. *counted is true if the caller must call
 * tick_end() after running the timers. */
static bool tick_begin(uint32_t *ms, bool *counted)
{
	int64_t now = g_get_monotonic_time();
	int64_t elapsed;
	bool keep;

	g_mutex_lock(&stack.lock);
	elapsed = (now - stack.last_tick_us) / 1000;
	stack.last_tick_us += elapsed * 1000;
	*ms = (uint32_t)MIN(elapsed, (int64_t)G_MAXUINT32);
	*counted = !stack.stopping;
	if (*counted)
		stack.in_tick++;
	keep = !stack.stopping && (stack.live > 0 || now < stack.idle_until_us);
	if (!keep && stack.timer && !stack.stopping) {
		g_source_unref(stack.timer);
		stack.timer = NULL;
	}
	g_mutex_unlock(&stack.lock);
	return keep;
}

static void tick_end(void)
{
	g_mutex_lock(&stack.lock);
	if (--stack.in_tick == 0)
		g_cond_broadcast(&stack.idle);
	g_mutex_unlock(&stack.lock);
}

/* Runs on the timer context's thread. */
static gboolean on_tick(gpointer data)
{
	uint32_t ms;
	bool counted;
	bool keep = tick_begin(&ms, &counted);

	if (!counted)
		return G_SOURCE_REMOVE;
	if (ms > 0) {
		stoa__sctp_enter();
		usrsctp_handle_timers(ms);
		stoa__sctp_leave();
	}
	tick_end();
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* With stack.lock held: make sure the timer runs. */
static void timer_ensure_locked(void)
{
	if (stack.timer || stack.stopping)
		return;
	stack.last_tick_us = g_get_monotonic_time();
	stack.timer = g_timeout_source_new(TICK_MS);
	g_source_set_name(stack.timer, "stoa-sctp-timers");
	g_source_set_callback(stack.timer, on_tick, NULL, NULL);
	g_source_attach(stack.timer, stack.timer_ctx);
}

uint64_t stoa__sctp_stack_attach(stoa_sctp *s)
{
	uint64_t *key;
	uint64_t id = 0;

	g_mutex_lock(&stack.lock);
	if (stack.registry && !stack.stopping) {
		id = stack.next_id++;
		key = g_new(uint64_t, 1);
		*key = id;
		g_hash_table_insert(stack.registry, key, s);
		stack.live++;
		timer_ensure_locked();
	}
	g_mutex_unlock(&stack.lock);
	return id;
}

void stoa__sctp_stack_detach(uint64_t id)
{
	g_mutex_lock(&stack.lock);
	if (stack.registry && g_hash_table_remove(stack.registry, &id)) {
		if (--stack.live == 0)
			stack.idle_until_us = g_get_monotonic_time() + IDLE_GRACE_US;
	}
	g_mutex_unlock(&stack.lock);
}

stoa_sctp *stoa__sctp_stack_find(uint64_t id)
{
	stoa_sctp *s = NULL;

	g_mutex_lock(&stack.lock);
	if (stack.registry)
		s = g_hash_table_lookup(stack.registry, &id);
	if (s && !stoa__sctp_try_ref(s))
		s = NULL;
	g_mutex_unlock(&stack.lock);
	return s;
}

/* Stops the timer source and waits for a tick in progress on another
 * thread, so that nothing but us calls usrsctp from now on. */
static int stop_ticking(void)
{
	int live;

	g_mutex_lock(&stack.lock);
	stack.stopping = true;
	if (stack.timer) {
		g_source_destroy(stack.timer);
		g_source_unref(stack.timer);
		stack.timer = NULL;
	}
	while (stack.in_tick > 0)
		g_cond_wait(&stack.idle, &stack.lock);
	live = stack.live;
	g_mutex_unlock(&stack.lock);
	return live;
}

/* usrsctp_finish() succeeds only once every endpoint is freed, and closed
 * endpoints are freed by timers, so run them until it does, within a
 * bound. Nothing else calls usrsctp any more. */
static int finish_usrsctp(void)
{
	int64_t deadline = g_get_monotonic_time() + FINISH_WAIT_US;
	int rc;

	for (;;) {
		stoa__sctp_enter();
		rc = usrsctp_finish();
		if (rc != 0)
			usrsctp_handle_timers(TICK_MS);
		stoa__sctp_leave();
		if (rc == 0)
			return 0;
		if (g_get_monotonic_time() > deadline)
			return -1;
		g_usleep(TICK_MS * 1000);
	}
}

int stoa_sctp_shutdown(void)
{
	int live;

	if (!stack.initialized)
		return 0;
	live = stop_ticking();
	if (live > 0) {
		STOA_LOG(STOA_LOG_ERR, "%d SCTP association(s) still open at shutdown; usrsctp "
				       "left running", live);
		g_mutex_lock(&stack.lock);
		stack.stopping = false;
		timer_ensure_locked();
		g_mutex_unlock(&stack.lock);
		return -EBUSY;
	}
	if (finish_usrsctp() < 0) {
		STOA_LOG(STOA_LOG_ERR, "usrsctp_finish() still failing after %d s: an SCTP "
				       "socket was not released",
			 (int)(FINISH_WAIT_US / G_USEC_PER_SEC));
		return -EBUSY;
	}
	g_mutex_lock(&stack.lock);
	g_hash_table_destroy(stack.registry);
	stack.registry = NULL;
	g_main_context_unref(stack.timer_ctx);
	stack.timer_ctx = NULL;
	g_mutex_unlock(&stack.lock);
	stack.initialized = false;
	STOA_LOG(STOA_LOG_VERB, "usrsctp stopped");
	return 0;
}
