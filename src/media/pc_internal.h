/*
 * pc_internal.h: what the peer connection's files share (pc.c: lifecycle,
 * ICE and DTLS; pc_negotiate.c: offers/answers into streams; pc_rtp.c: RTP
 * and RTCP in and out). Everything here is touched only on the pc's loop,
 * except the fields marked otherwise.
 */
#ifndef STOA_MEDIA_PC_INTERNAL_H
#define STOA_MEDIA_PC_INTERNAL_H

#include <glib.h>

#include "core/metrics.h"
#include "media/dtls/dtls.h"
#include "media/ice/ice.h"
#include "media/pc.h"
#include "media/rtp/nack_gen.h"
#include "media/rtp/rtp_stats.h"
#include "media/rtp/rtx_buffer.h"
#include "media/rtp/twcc.h"
#include "media/sctp/sctp.h"
#include "media/sdp/sdp.h"
#include "media/srtp/srtp.h"

/* Room for the largest packet plus the SRTP(C) trailer. */
#define STOA_PC_MAX_PACKET 1500
#define STOA_PC_SCRATCH (STOA_PC_MAX_PACKET + 160)

/* Simulcast: at most this many layers per video m-line. */
#define STOA_PC_MAX_LAYERS 3

/* What we receive on one SSRC of a stream: the stream itself, or one
 * simulcast layer of it (RFC 8853). Each layer has its own sequence space,
 * so its own statistics, NACK generator and keyframe-request clock. */
typedef struct stoa_pc_rlayer {
	char *rid;		/* the rid that names it (a=rid ... send), or NULL */
	uint32_t ssrc, rtx_ssrc;	/* 0 until known */
	stoa_rtp_recv_stats rstats;
	/* Made with the first packet (12 KB): a subscriber's send-only
	 * streams never need one. */
	stoa_nack_gen *nackgen;
	int64_t last_in_us;
	int64_t last_pli_us;
	bool receiving;
	uint64_t in_packets, in_bytes, nacks_sent, retransmissions_in;
	int64_t lost_counted;	/* cumulative lost already added to the loop's metrics */
} stoa_pc_rlayer;

/* One negotiated m-line carrying RTP. */
typedef struct stoa_pc_stream {
	int mindex;
	char *mid;
	bool video;
	bool send, recv;	/* our direction */
	int pt, rtx_pt, clock;	/* the negotiated codec; rtx_pt -1 if none */
	int red_pt;
	uint32_t local_ssrc, local_rtx_ssrc;
	int ext_mid, ext_audio_level, ext_rid, ext_rrid, ext_twcc; /* header extension ids, 0 if none */
	bool nack;		/* the peer and we agreed on "nack" */
	/* The plugin keeps what is relayed here (once per source, not per
	 * receiver) and answers NACKs itself: the stream keeps no copies and
	 * hands NACKs to the plugin. */
	bool plugin_rtx;
	/* receive side: one layer, or with `simulcast` up to three, indexed
	 * by substream (0 = the lowest quality, as Janus numbers them) */
	stoa_pc_rlayer rl[STOA_PC_MAX_LAYERS];
	int nrl;
	bool simulcast;
	/* send side */
	stoa_rtp_send_stats sstats;
	stoa_rtx_buffer *rtxbuf;
	uint16_t rtx_seq;
	uint64_t out_packets, out_bytes, nacks_received, retransmissions_out;
	uint32_t last_out_ts;
	int64_t last_out_us;
	uint32_t rtt_ms;
	/* The peer's last RFC 3550 cumulative lost for our main SSRC, as far
	 * as it was added to the loop's remote_lost metric. */
	int32_t remote_lost_counted;
} stoa_pc_stream;

struct stoa_pc {
	gint ref;
	stoa_loop *loop;
	gint state;		/* stoa_pc_state; atomic so other threads may read it */
	const stoa_pc_owner *owner;
	void *ud;
	uint64_t session_id, handle_id;
	/* Its loop's counters (metrics.h), written only on the loop. */
	stoa_metrics_media *metrics;

	stoa_ice *ice;
	stoa_dtls *dtls;
	stoa_srtp *srtp;
	stoa_sctp *sctp;	/* data channels, once DTLS is up */
	GHashTable *channels;	/* SCTP stream id -> label/protocol */
	stoa_dtls_role role;
	bool dtls_release_tried; /* stoa__pc_dtls_release() ran */
	bool remote_trickle_done;

	stoa_sdp *remote;	/* the last remote description */
	stoa_sdp *local;	/* the last local description */
	char *remote_sdp, *local_sdp; /* as text, for handle_info */
	GPtrArray *streams;	/* stoa_pc_stream *, by mindex; NULL for non-RTP lines */
	char *data_mid;		/* the data channel m-line's mid, or NULL */
	bool rid_lmh;		/* jsep rid_order "lmh": the offer lists rids lowest first */
	bool offer_pending;	/* we sent an offer and wait for its answer */
	/* transport-wide: one sequence across all streams; made with the
	 * first packet carrying the extension (8 KB a subscriber never needs) */
	stoa_twcc_recorder *twcc;

	/* Guarded by `lock` (stoa_pc_answer waits on it from a plugin thread). */
	GMutex lock;
	GCond cond;
	bool gathered;
	bool closed_flag;

	GSource *dtls_timer;
	stoa_loop_ticker *tick;	/* on the loop's shared timer */
	char *close_reason;
	bool notify_close;
	int64_t connected_us, ready_us;
	/* ICE reported failure after it had connected (an ICE restart or a
	 * network change under way): when, 0 if not failed. */
	int64_t ice_failed_us;
	int64_t last_rx_us;	/* any datagram from the peer: DTLS, SRTP or SRTCP */
	uint64_t dtls_in_packets, dtls_in_bytes, dtls_out_packets, dtls_out_bytes;
	uint8_t scratch[STOA_PC_SCRATCH];
};

/* pc.c */
void stoa__pc_set_state(stoa_pc *pc, stoa_pc_state s);
void stoa__pc_close_now(stoa_pc *pc, const char *reason, bool notify);
/* 0, STOA_ICE_SEND_FULL or -1, as stoa_ice_send. */
int stoa__pc_send_raw(stoa_pc *pc, const uint8_t *buf, size_t len);
stoa_dtls_cert *stoa__media_cert(void);
void stoa__pc_dtls_release(stoa_pc *pc);

/* pc.c: creates the ICE agent (controlling when we offered) and gathers. */
int stoa__pc_ice_setup(stoa_pc *pc, bool controlling);

/* pc_negotiate.c */
const stoa_sdp_media *stoa__pc_bundle_media(const stoa_sdp *s);
const char *stoa__pc_first_mid(const stoa_pc *pc);
void stoa__pc_build_streams(stoa_pc *pc, bool offerer);
/* Writes pc->local as text, kept (under pc->lock) for handle_info. g_free. */
char *stoa__pc_local_text(stoa_pc *pc);
/* Waits (not on the loop) until the candidates are gathered, or ~5 s. */
void stoa__pc_wait_gathered(stoa_pc *pc);
int stoa__pc_apply_remote(stoa_pc *pc, stoa_sdp *sdp, bool answer);
char *stoa__pc_build_answer(stoa_pc *pc, json_t *prefs, char *err, size_t errlen);
void stoa__pc_streams_free(stoa_pc *pc);

/* pc_data.c */
void stoa__pc_data_start(stoa_pc *pc);
void stoa__pc_data_incoming(stoa_pc *pc, const uint8_t *buf, size_t len);
void stoa__pc_send_data_now(stoa_pc *pc, const char *label, bool binary, const uint8_t *buf,
			    size_t len);
void stoa__pc_data_close(stoa_pc *pc);

/* pc_rtp.c */
void stoa__pc_incoming_srtp(stoa_pc *pc, uint8_t *buf, size_t len, bool rtcp);
/* Returns as stoa_pc_send_rtp. */
int stoa__pc_send_rtp_now(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int level,
			  bool plugin_rtx);
/* A retransmission the plugin rebuilt (forwarded streams): RTX-wrapped
 * when negotiated. */
void stoa__pc_resend_rtp_now(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int ext);
void stoa__pc_send_rtcp_now(stoa_pc *pc, const uint8_t *buf, size_t len);
void stoa__pc_send_pli_now(stoa_pc *pc, int mindex);
void stoa__pc_send_remb_now(stoa_pc *pc, uint32_t bitrate);
/* Periodic work: NACK retries, receiver/sender reports, media events. */
void stoa__pc_tick(stoa_pc *pc, int64_t now_us, bool report);
json_t *stoa__pc_streams_info(stoa_pc *pc);
/* Adds what the streams' receive statistics newly count as lost to the
 * loop's metrics. */
void stoa__pc_count_lost(stoa_pc *pc);

#endif
