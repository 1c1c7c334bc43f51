/*
 * metrics.h: server counters and gauges, rendered in the Prometheus text
 * exposition format (version 0.0.4) for GET /metrics and the Admin API's
 * `metrics` verb. See metrics.c for the design and docs/api.md for the list.
 *
 * Media counters are per media loop: each loop has its own counter block,
 * padded to its own cache lines and written only by that loop's thread with
 * plain (relaxed atomic) adds; a scrape sums the blocks. A peer connection
 * keeps a pointer to its loop's block (stoa_metrics_loop_media), so counting
 * a packet is one load, one add and one store on a line no other core
 * writes: no lock, no allocation, no shared-cacheline atomic.
 *
 * Ownership: the blocks are allocated by stoa_metrics_loops_init (when the
 * loops start) and freed by stoa_metrics_cleanup (after every thread that
 * may count or scrape has stopped).
 */
#ifndef STOA_CORE_METRICS_H
#define STOA_CORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* The size counter blocks are padded to: two 64-byte lines, since x86's
 * adjacent-line prefetcher pulls lines in pairs. */
#define STOA_METRICS_LINE 128

/* Index of the per-kind counters below. */
enum { STOA_METRICS_AUDIO = 0, STOA_METRICS_VIDEO = 1 };

/* One media loop's counters. Written only by that loop's thread, through
 * stoa_metrics_add; read by scrapes with relaxed atomic loads. */
typedef struct stoa_metrics_media {
	/* [STOA_METRICS_AUDIO] / [STOA_METRICS_VIDEO] */
	uint64_t rtp_in_packets[2], rtp_in_bytes[2];	/* incl. retransmissions */
	uint64_t rtp_out_packets[2], rtp_out_bytes[2];	/* incl. retransmissions */
	uint64_t nacks_sent[2], nacks_received[2];	/* sequence numbers asked for */
	uint64_t rtx_sent[2], rtx_received[2];		/* retransmissions */
	uint64_t lost[2];				/* RFC 3550 cumulative lost, rises only */
	uint64_t remote_lost[2];			/* the same, from peers' reports on ours */
	uint64_t plis_sent, plis_received, firs_sent, firs_received;
	uint64_t dtls_handshake_failures, ice_failures, consent_losses;
} __attribute__((aligned(STOA_METRICS_LINE))) stoa_metrics_media;

/* Adds n to a counter of the calling loop's own block. A relaxed load and
 * store, not a read-modify-write: there is one writer, and the relaxed
 * accesses only keep a concurrent scrape from reading a torn value. */
static inline void stoa_metrics_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Sets up `n` per-loop blocks (zeroed the first time; kept, with their
 * counts, when the loops start again with no more loops than before). Main
 * thread, from stoa_loops_start before any loop runs. Returns 0 or -1. */
int stoa_metrics_loops_init(int n);
/* Frees everything. Main thread, at the end of shutdown. */
void stoa_metrics_cleanup(void);

/* The block of loop `index`: the pc caches it at creation. Any thread. */
stoa_metrics_media *stoa_metrics_loop_media(int index);

/* Loop `index`'s thread starts and ends (loop.c): notes the thread's CPU
 * clock, read at scrape time for stoa_media_loop_cpu_seconds_total. */
void stoa_metrics_loop_enter(int index);
void stoa_metrics_loop_leave(int index);
/* A peer connection attached to (+1) or detached from (-1) loop `index`.
 * Any thread. */
void stoa_metrics_loop_pcs(int index, int delta);

/* A peer connection changed state: `from` -1 when it was just created, `to`
 * -1 when it is freed (stoa_pc_state values otherwise). Any thread. */
void stoa_metrics_pc_state(int from, int to);

/* The APIs stoa_api_requests_total counts, its `api` label. */
typedef enum stoa_metrics_api {
	STOA_METRICS_API_JANUS,
	STOA_METRICS_API_ADMIN,
	STOA_METRICS_API_REST,
	STOA_METRICS_API_COUNT
} stoa_metrics_api;

/* An API request reached the dispatcher: `admin` for the Admin API, `verb`
 * the verb table's spelling (a static string) or NULL for one the table
 * does not know, `code` 0 for a reply that is not an error. Any thread;
 * lock-free (g_atomic-style adds on shared counters: not a media path). */
void stoa_metrics_api_request(bool admin, const char *verb, int code);

/* The REST API answered a request: `method` the HTTP method (any string;
 * methods outside a fixed list count as "unknown"), `status` the HTTP
 * status sent (statuses the REST API does not use count as "other"). Any
 * thread; lock-free, as above. */
void stoa_metrics_rest_request(const char *method, unsigned status);

/* The whole exposition text; g_free it. Any thread (it calls the
 * VideoRoom's handle_admin_message for its room counts, which takes the
 * plugin's lock for a moment). */
char *stoa_metrics_render(void);

#endif
