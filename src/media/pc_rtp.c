/*
 * pc_rtp.c: RTP and RTCP through a peer connection, on its media loop.
 *
 * In: SRTP/SRTCP is decrypted once, in place, into libnice's buffer; RTP is
 * parsed in place, matched to its stream by SSRC (learned from the SDP, or
 * from the mid header extension / payload type on the first packet), RTX is
 * unwrapped back to the original packet (RFC 4588), statistics and the NACK
 * generator are updated, and the packet goes to the owner (the plugin).
 * A simulcast stream (RFC 8853) receives up to three layers, each on its
 * own SSRC with its own sequence space, so statistics, NACKs, receiver
 * report blocks and keyframe requests are kept per layer; a rid-based
 * layer's SSRC is learned from the rid (or, for its RTX, the repaired-rid)
 * header extension, and the owner is told the layer (substream) of each
 * packet.
 * RTCP is read for what the core answers itself — NACKs from the
 * retransmission buffer, SR/RR for statistics and RTT — and handed to the
 * owner when it carries something a plugin decides on (PLI, FIR, REMB).
 *
 * Out: a plugin's RTP is copied once into the pc's scratch buffer (the only
 * per-packet copy: SRTP needs room for its trailer), given this stream's
 * SSRC, kept in the retransmission buffer, encrypted and sent.
 *
 * Per tick (100 ms): NACKs for what is missing; every second, RTCP RR/SR with
 * SDES, and `media` receiving/not-receiving changes. RFC 3550, 4585, 4588.
 *
 * Server-wide counters (packets, bytes, NACKs, retransmissions, PLI/FIR,
 * losses) go to the pc's loop's block in metrics.h: plain adds on a cache
 * line only this loop writes.
 */
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "media/pc_internal.h"
#include "media/rtcp/rtcp.h"
#include "media/rtp/ntp.h"
#include "media/rtp/rtp.h"

#define STOA_LOG_MODULE "pc"

/* A keyframe request per stream at most this often (the peer's encoder
 * cannot produce them faster, and each one costs a burst of bits). */
#define PLI_MIN_INTERVAL_US (500 * 1000)
#define MAX_NACKS_PER_TICK 64

static stoa_pc_stream *stream_at(stoa_pc *pc, int mindex)
{
	if (mindex < 0 || (guint)mindex >= pc->streams->len)
		return NULL;
	return pc->streams->pdata[mindex];
}

/* ---- sending ---- */

static int protect_and_send(stoa_pc *pc, uint8_t *buf, size_t len, bool rtcp)
{
	if (pc->srtp == NULL || stoa_pc_get_state(pc) != STOA_PC_READY)
		return -1;
	int rc = rtcp ? stoa_srtp_protect_rtcp(pc->srtp, buf, &len, STOA_PC_SCRATCH)
		      : stoa_srtp_protect_rtp(pc->srtp, buf, &len, STOA_PC_SCRATCH);
	if (rc < 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "SRTP protect failed (%d)", rc);
		return -1;
	}
	return stoa__pc_send_raw(pc, buf, len);
}

/*
 * Copies `buf` into `out` with our own header extension block instead of
 * the source's: the mid (RFC 8843 §15) and, for audio, the level the
 * source carried (RFC 6464), under the ids the peer accepted. The source's
 * other elements are dropped, since their ids mean nothing in this
 * session. Returns the new length, or 0 when it would not fit.
 */
static size_t copy_with_own_ext(const stoa_pc_stream *s, const uint8_t *buf, size_t len,
				const stoa_rtp_info *info, int level, uint8_t *out)
{
	size_t fixed = STOA_RTP_HEADER_LEN + 4u * info->csrc_count;
	size_t mid_len = s->ext_mid > 0 && s->ext_mid < 15 ? MIN(strlen(s->mid), 16) : 0;
	bool lvl = s->ext_audio_level > 0 && s->ext_audio_level < 15 && level >= 0;
	size_t elems = (mid_len > 0 ? 1 + mid_len : 0) + (lvl ? 2 : 0);
	size_t block = elems > 0 ? 4 + ((elems + 3) & ~(size_t)3) : 0;
	size_t rest = len - info->payload_off;
	if (fixed + block + rest > STOA_PC_MAX_PACKET)
		return 0;
	memcpy(out, buf, fixed);
	uint8_t *p = out + fixed;
	if (block > 0) {
		memset(p, 0, block);
		stoa_put_be16(p, STOA_RTP_EXT_ONE_BYTE);
		stoa_put_be16(p + 2, (uint16_t)((block - 4) / 4));
		uint8_t *e = p + 4;
		if (mid_len > 0) {
			*e++ = (uint8_t)((s->ext_mid << 4) | (mid_len - 1));
			memcpy(e, s->mid, mid_len);
			e += mid_len;
		}
		if (lvl) {
			*e++ = (uint8_t)(s->ext_audio_level << 4);
			*e++ = (uint8_t)level;
		}
	}
	out[0] = (uint8_t)(block > 0 ? out[0] | 0x10 : out[0] & ~0x10);
	memcpy(p + block, buf + info->payload_off, rest);
	return fixed + block + rest;
}

int stoa__pc_send_rtp_now(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int level,
			  bool plugin_rtx)
{
	stoa_pc_stream *s = stream_at(pc, mindex);
	if (s == NULL || !s->send || len > STOA_PC_MAX_PACKET || len < 12)
		return -1;
	uint8_t *out = pc->scratch;
	stoa_rtp_info info;
	if (stoa_rtp_parse(buf, len, &info) < 0)
		return -1;
	if (level != STOA_PC_EXT_KEEP) {
		len = copy_with_own_ext(s, buf, len, &info, level, out);
		if (len == 0 || stoa_rtp_parse(out, len, &info) < 0)
			return -1;
	} else {
		memcpy(out, buf, len);
	}
	stoa_rtp_set_ssrc(out, len, s->local_ssrc);
	int64_t now = g_get_monotonic_time();
	if (plugin_rtx)
		s->plugin_rtx = true;
	if (s->nack && !s->plugin_rtx) {
		/* Allocated on first use: streams the plugin keeps never need one. */
		if (s->rtxbuf == NULL) {
			stoa_rtx_buffer_cfg rc = { .slots = s->video ? 1024 : 256 };
			s->rtxbuf = stoa_rtx_buffer_new(&rc);
		}
		if (s->rtxbuf != NULL)
			stoa_rtx_buffer_store(s->rtxbuf, out, len, now);
	}
	stoa_rtp_send_stats_update(&s->sstats, info.ts, info.payload_len, now);
	s->out_packets++;
	s->out_bytes += len;
	stoa_metrics_add(&pc->metrics->rtp_out_packets[s->video], 1);
	stoa_metrics_add(&pc->metrics->rtp_out_bytes[s->video], len);
	return protect_and_send(pc, out, len, false);
}

/* Keyframe requests in an outgoing compound packet, ours or a plugin's. */
static void count_sent_feedback(stoa_pc *pc, const uint8_t *buf, size_t len)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_rtcp_iter_init(&it, buf, len);
	while (stoa_rtcp_iter_next(&it, &h) > 0) {
		if (h.pt == STOA_RTCP_PSFB && h.count == STOA_RTCP_PSFB_PLI)
			stoa_metrics_add(&pc->metrics->plis_sent, 1);
		else if (h.pt == STOA_RTCP_PSFB && h.count == STOA_RTCP_PSFB_FIR)
			stoa_metrics_add(&pc->metrics->firs_sent, 1);
	}
}

void stoa__pc_send_rtcp_now(stoa_pc *pc, const uint8_t *buf, size_t len)
{
	if (len > STOA_PC_MAX_PACKET)
		return;
	count_sent_feedback(pc, buf, len);
	memcpy(pc->scratch, buf, len);
	protect_and_send(pc, pc->scratch, len, true);
}

/* Sends feedback sub-packets: reduced-size when negotiated, else after an RR. */
static void send_feedback(stoa_pc *pc, stoa_pc_stream *s, const uint8_t *fb, size_t fb_len)
{
	uint8_t pkt[STOA_PC_MAX_PACKET];
	stoa_rtcp_report rep = { .ssrc = s->local_ssrc, .cname = "stoa", .cname_len = 4 };
	int n = stoa_rtcp_build_compound(pkt, sizeof(pkt), &rep, fb, fb_len, false);
	if (n > 0)
		stoa__pc_send_rtcp_now(pc, pkt, (size_t)n);
}

/* The first remote SSRC known for a stream (the lowest layer's when
 * simulcast), or 0. */
static uint32_t remote_ssrc(const stoa_pc_stream *s)
{
	for (int i = 0; i < s->nrl; i++)
		if (s->rl[i].ssrc != 0)
			return s->rl[i].ssrc;
	return 0;
}

/* One PLI per layer (each layer is its own encoder), each layer limited on
 * its own clock, in one compound packet. */
void stoa__pc_send_pli_now(stoa_pc *pc, int mindex)
{
	stoa_pc_stream *s = stream_at(pc, mindex);
	if (s == NULL || !s->video)
		return;
	int64_t now = g_get_monotonic_time();
	uint8_t fb[16 * STOA_PC_MAX_LAYERS];
	size_t len = 0;
	for (int i = 0; i < s->nrl; i++) {
		stoa_pc_rlayer *l = &s->rl[i];
		if (l->ssrc == 0 || now - l->last_pli_us < PLI_MIN_INTERVAL_US)
			continue;
		l->last_pli_us = now;
		int n = stoa_rtcp_build_pli(fb + len, sizeof(fb) - len, s->local_ssrc, l->ssrc);
		if (n > 0)
			len += (size_t)n;
	}
	if (len > 0)
		send_feedback(pc, s, fb, len);
}

void stoa__pc_send_remb_now(stoa_pc *pc, uint32_t bitrate)
{
	for (guint i = 0; i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		uint32_t ssrcs[STOA_PC_MAX_LAYERS];
		unsigned n_ssrcs = 0;
		for (int k = 0; s != NULL && k < s->nrl; k++)
			if (s->rl[k].ssrc != 0)
				ssrcs[n_ssrcs++] = s->rl[k].ssrc;
		if (s == NULL || !s->video || n_ssrcs == 0)
			continue;
		uint8_t fb[64];
		int n = stoa_rtcp_build_remb(fb, sizeof(fb), s->local_ssrc, bitrate, ssrcs, n_ssrcs);
		if (n > 0)
			send_feedback(pc, s, fb, (size_t)n);
		return;
	}
}

/* ---- receiving RTP ---- */

/* The stream and layer a remote SSRC belongs to. */
static stoa_pc_stream *stream_for_ssrc(stoa_pc *pc, uint32_t ssrc, int *layer, bool *rtx)
{
	for (guint i = 0; ssrc != 0 && i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		for (int k = 0; s != NULL && k < s->nrl; k++) {
			if (s->rl[k].ssrc == ssrc || s->rl[k].rtx_ssrc == ssrc) {
				*layer = k;
				*rtx = s->rl[k].rtx_ssrc == ssrc;
				return s;
			}
		}
	}
	return NULL;
}

/* A rid-based simulcast stream's packet from a new SSRC: its rid (media)
 * or repaired-rid (RTX) header extension names the layer. */
static int learn_layer(stoa_pc *pc, stoa_pc_stream *s, const uint8_t *buf,
		       const stoa_rtp_info *info, bool *rtx)
{
	const uint8_t *d;
	size_t dl;
	*rtx = false;
	if (s->ext_rid <= 0 || stoa_rtp_ext_find(buf, info, (uint8_t)s->ext_rid, &d, &dl) < 0) {
		if (s->ext_rrid <= 0 || stoa_rtp_ext_find(buf, info, (uint8_t)s->ext_rrid, &d, &dl) < 0)
			return -1;
		*rtx = true;
	}
	for (int k = 0; k < s->nrl; k++) {
		const char *rid = s->rl[k].rid;
		if (rid == NULL || strlen(rid) != dl || memcmp(rid, d, dl) != 0)
			continue;
		if (*rtx)
			s->rl[k].rtx_ssrc = info->ssrc;
		else
			s->rl[k].ssrc = info->ssrc;
		STOA_LOG_S(STOA_LOG_VERB, pc->session_id, pc->handle_id,
			   "mid %s: learned %sSSRC %u for rid %s (substream %d)", s->mid,
			   *rtx ? "RTX " : "", info->ssrc, rid, k);
		return k;
	}
	return -1;
}

/* A packet from an SSRC the SDP did not name: the mid extension says which
 * stream, else its payload type (when only one stream uses it). */
static stoa_pc_stream *learn_ssrc(stoa_pc *pc, const uint8_t *buf, const stoa_rtp_info *info,
				  int *layer, bool *rtx)
{
	stoa_pc_stream *match = NULL;
	for (guint i = 0; i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		if (s == NULL || !s->recv)
			continue;
		const uint8_t *d;
		size_t dl;
		if (s->ext_mid > 0 && stoa_rtp_ext_find(buf, info, (uint8_t)s->ext_mid, &d, &dl) == 0) {
			if (dl == strlen(s->mid) && memcmp(d, s->mid, dl) == 0) {
				match = s;
				break;
			}
			continue;
		}
		if (info->pt == s->pt || (s->rtx_pt >= 0 && info->pt == s->rtx_pt))
			match = match == NULL ? s : match;
	}
	if (match == NULL)
		return NULL;
	if (match->simulcast) {
		/* SSRC-based layers are all in the SDP; rid-based ones need the rid. */
		*layer = learn_layer(pc, match, buf, info, rtx);
		return *layer >= 0 ? match : NULL;
	}
	*layer = 0;
	*rtx = match->rtx_pt >= 0 && info->pt == match->rtx_pt;
	if (*rtx)
		match->rl[0].rtx_ssrc = info->ssrc;
	else
		match->rl[0].ssrc = info->ssrc;
	STOA_LOG_S(STOA_LOG_VERB, pc->session_id, pc->handle_id, "mid %s: learned %sSSRC %u",
		   match->mid, *rtx ? "RTX " : "", info->ssrc);
	return match;
}

static int substream_of(const stoa_pc_stream *s, int layer)
{
	return s->simulcast ? layer : -1;
}

static void note_arrival(stoa_pc *pc, stoa_pc_stream *s, int layer, int64_t now)
{
	stoa_pc_rlayer *l = &s->rl[layer];
	l->last_in_us = now;
	if (!l->receiving) {
		l->receiving = true;
		pc->owner->media(pc->ud, s->mid, s->video, substream_of(s, layer), true);
	}
}

static void send_nacks(stoa_pc *pc, stoa_pc_stream *s, stoa_pc_rlayer *l, int64_t now)
{
	uint16_t seqs[MAX_NACKS_PER_TICK];
	size_t n = stoa_nack_gen_poll(l->nackgen, now, s->rtt_ms, seqs, G_N_ELEMENTS(seqs));
	if (n == 0)
		return;
	uint8_t fb[STOA_PC_MAX_PACKET / 2];
	int len = stoa_rtcp_build_nack(fb, sizeof(fb), s->local_ssrc, l->ssrc, seqs, n);
	if (len > 0) {
		l->nacks_sent += n;
		stoa_metrics_add(&pc->metrics->nacks_sent[s->video], n);
		send_feedback(pc, s, fb, (size_t)len);
	}
}

static void incoming_rtp(stoa_pc *pc, uint8_t *buf, size_t len)
{
	stoa_rtp_info info;
	if (stoa_rtp_parse(buf, len, &info) < 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "malformed RTP dropped");
		return;
	}
	bool rtx = false;
	int layer = 0;
	stoa_pc_stream *s = stream_for_ssrc(pc, info.ssrc, &layer, &rtx);
	if (s == NULL && (s = learn_ssrc(pc, buf, &info, &layer, &rtx)) == NULL) {
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 5, "RTP for unknown SSRC %u dropped", info.ssrc);
		return;
	}
	stoa_pc_rlayer *l = &s->rl[layer];
	int64_t now = g_get_monotonic_time();
	if (rtx) {
		/* A layer's RTX can be learned (repaired-rid) before its media. */
		if (l->ssrc == 0 || stoa_rtx_unwrap_in_place(buf, &len, (uint8_t)s->pt, l->ssrc) < 0)
			return; /* a padding-only probe */
		if (stoa_rtp_parse(buf, len, &info) < 0)
			return;
		l->retransmissions_in++;
		stoa_metrics_add(&pc->metrics->rtx_received[s->video], 1);
	} else {
		stoa_rtp_recv_stats_update(&l->rstats, info.seq, info.ts, len, now);
	}
	if (s->nack) {
		if (l->nackgen == NULL) {
			l->nackgen = g_new(stoa_nack_gen, 1);
			stoa_nack_gen_init(l->nackgen, NULL);
		}
		stoa_nack_gen_received(l->nackgen, info.seq, rtx, now);
		if (stoa_nack_gen_missing(l->nackgen) > 0)
			send_nacks(pc, s, l, now);
	}
	l->in_packets++;
	l->in_bytes += len;
	stoa_metrics_add(&pc->metrics->rtp_in_packets[s->video], 1);
	stoa_metrics_add(&pc->metrics->rtp_in_bytes[s->video], len);
	note_arrival(pc, s, layer, now);
	const uint8_t *tw;
	size_t twl;
	uint16_t twseq;
	if (s->ext_twcc > 0 && stoa_rtp_ext_find(buf, &info, (uint8_t)s->ext_twcc, &tw, &twl) == 0 &&
	    stoa_rtp_ext_twcc_seq(tw, twl, &twseq) == 0) {
		if (pc->twcc == NULL) {
			pc->twcc = g_new(stoa_twcc_recorder, 1);
			stoa_twcc_init(pc->twcc);
		}
		stoa_twcc_record(pc->twcc, twseq, now);
	}
	int level = -1, vad = -1;
	const uint8_t *d;
	size_t dl;
	if (s->ext_audio_level > 0 &&
	    stoa_rtp_ext_find(buf, &info, (uint8_t)s->ext_audio_level, &d, &dl) == 0 && dl >= 1) {
		vad = (d[0] & 0x80) != 0;
		level = d[0] & 0x7f;
	}
	pc->owner->rtp(pc->ud, s->mindex, s->mid, s->video, substream_of(s, layer), buf, len, level,
		       vad);
}

/* ---- receiving RTCP ---- */

static stoa_pc_stream *stream_for_local_ssrc(stoa_pc *pc, uint32_t ssrc)
{
	for (guint i = 0; i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		if (s != NULL && (s->local_ssrc == ssrc || (s->local_rtx_ssrc != 0 && s->local_rtx_ssrc == ssrc)))
			return s;
	}
	return NULL;
}

/* Sends `pkt` (plain, our SSRC) again, as RTX when negotiated. `pkt` may
 * be pc->scratch itself. */
static void send_again(stoa_pc *pc, stoa_pc_stream *s, const uint8_t *pkt, size_t len)
{
	uint8_t rtx[STOA_PC_SCRATCH];
	uint8_t *out = pc->scratch;
	if (pkt == out) {
		memcpy(rtx, pkt, len);
		pkt = rtx;
	}
	if (s->rtx_pt >= 0 && s->local_rtx_ssrc != 0) {
		int n = stoa_rtx_wrap(pkt, len, (uint8_t)s->rtx_pt, s->local_rtx_ssrc, s->rtx_seq++, out,
				      STOA_PC_MAX_PACKET);
		if (n < 0)
			return;
		len = (size_t)n;
	} else {
		memcpy(out, pkt, len);
	}
	s->retransmissions_out++;
	stoa_metrics_add(&pc->metrics->rtx_sent[s->video], 1);
	stoa_metrics_add(&pc->metrics->rtp_out_packets[s->video], 1);
	stoa_metrics_add(&pc->metrics->rtp_out_bytes[s->video], len);
	protect_and_send(pc, out, len, false);
}

static void resend(stoa_pc *pc, stoa_pc_stream *s, uint16_t seq, int64_t now)
{
	const uint8_t *pkt;
	size_t len;
	if (s->rtxbuf == NULL ||
	    stoa_rtx_buffer_get_for_resend(s->rtxbuf, seq, now, s->rtt_ms, &pkt, &len) < 0)
		return;
	send_again(pc, s, pkt, len);
}

void stoa__pc_resend_rtp_now(stoa_pc *pc, int mindex, const uint8_t *buf, size_t len, int ext)
{
	stoa_pc_stream *s = stream_at(pc, mindex);
	stoa_rtp_info info;
	if (s == NULL || !s->send || !s->nack || len > STOA_PC_MAX_PACKET ||
	    stoa_rtp_parse(buf, len, &info) < 0)
		return;
	uint8_t *out = pc->scratch;
	if (ext != STOA_PC_EXT_KEEP) {
		len = copy_with_own_ext(s, buf, len, &info, ext, out);
		if (len == 0)
			return;
	} else {
		memcpy(out, buf, len);
	}
	stoa_rtp_set_ssrc(out, len, s->local_ssrc);
	send_again(pc, s, out, len);
}

/* The NACK of a stream whose packets the plugin keeps goes to the plugin. */
static void on_nack(stoa_pc *pc, const stoa_rtcp_hdr *h, const stoa_rtcp_fb *fb, int64_t now)
{
	stoa_pc_stream *s = stream_for_local_ssrc(pc, fb->media_ssrc);
	if (s == NULL || !s->nack)
		return;
	uint16_t seqs[256];
	int n = stoa_rtcp_nack_parse(fb, seqs, G_N_ELEMENTS(seqs));
	s->nacks_received += n > 0 ? (uint64_t)n : 0;
	stoa_metrics_add(&pc->metrics->nacks_received[s->video], n > 0 ? (uint64_t)n : 0);
	if (s->plugin_rtx) {
		/* Just this NACK, with the stream it is about. */
		pc->owner->rtcp(pc->ud, s->mindex, s->mid, s->video, (uint8_t *)h->buf, h->len);
		return;
	}
	for (int i = 0; i < n; i++)
		resend(pc, s, seqs[i], now);
}

static void on_report_blocks(stoa_pc *pc, const uint8_t *blocks, unsigned count)
{
	uint32_t ntp_mid = stoa_ntp_mid(stoa_ntp_from_unix_us(g_get_real_time()));
	for (unsigned i = 0; i < count; i++) {
		stoa_rtcp_report_block rb;
		stoa_rtcp_rb_read(blocks, i, &rb);
		stoa_pc_stream *s = stream_for_local_ssrc(pc, rb.ssrc);
		if (s == NULL)
			continue;
		stoa_rtp_send_stats_on_report(&s->sstats, &rb, ntp_mid);
		/* What the peer lost of what we send, for operators: the rises
		 * of its cumulative lost, as count_lost() does for ours. */
		if (rb.ssrc == s->local_ssrc) {
			if (rb.cum_lost > s->remote_lost_counted)
				stoa_metrics_add(&pc->metrics->remote_lost[s->video],
						 (uint64_t)(rb.cum_lost - s->remote_lost_counted));
			s->remote_lost_counted = rb.cum_lost;
		}
		int32_t rtt = stoa_rtp_rtt_ms(&rb, ntp_mid);
		if (rtt >= 0)
			s->rtt_ms = (uint32_t)rtt;
	}
}

static void on_sr(stoa_pc *pc, const stoa_rtcp_hdr *h, int64_t now)
{
	stoa_rtcp_sr sr;
	if (stoa_rtcp_sr_parse(h, &sr) < 0)
		return;
	bool rtx;
	int layer = 0;
	stoa_pc_stream *s = stream_for_ssrc(pc, sr.info.ssrc, &layer, &rtx);
	if (s != NULL && !rtx)
		stoa_rtp_recv_stats_on_sr(&s->rl[layer].rstats, &sr.info, now);
	on_report_blocks(pc, sr.blocks, sr.rb_count);
}

/* Returns the stream a feedback message for the plugin is about, or NULL. */
static stoa_pc_stream *read_rtcp(stoa_pc *pc, const uint8_t *buf, size_t len, bool *for_plugin)
{
	stoa_rtcp_iter it;
	stoa_rtcp_hdr h;
	stoa_pc_stream *about = NULL;
	int64_t now = g_get_monotonic_time();
	stoa_rtcp_iter_init(&it, buf, len);
	while (stoa_rtcp_iter_next(&it, &h) > 0) {
		stoa_rtcp_fb fb;
		if (h.pt == STOA_RTCP_SR) {
			on_sr(pc, &h, now);
		} else if (h.pt == STOA_RTCP_RR) {
			stoa_rtcp_rr rr;
			if (stoa_rtcp_rr_parse(&h, &rr) == 0)
				on_report_blocks(pc, rr.blocks, rr.rb_count);
		} else if ((h.pt == STOA_RTCP_RTPFB || h.pt == STOA_RTCP_PSFB) &&
			   stoa_rtcp_fb_parse(&h, &fb) == 0) {
			if (h.pt == STOA_RTCP_RTPFB && fb.fmt == STOA_RTCP_RTPFB_NACK) {
				on_nack(pc, &h, &fb, now);
			} else if (h.pt == STOA_RTCP_PSFB) {
				if (fb.fmt == STOA_RTCP_PSFB_PLI)
					stoa_metrics_add(&pc->metrics->plis_received, 1);
				else if (fb.fmt == STOA_RTCP_PSFB_FIR)
					stoa_metrics_add(&pc->metrics->firs_received, 1);
				*for_plugin = true;
				stoa_pc_stream *s = stream_for_local_ssrc(pc, fb.media_ssrc);
				about = s != NULL ? s : about;
			}
		}
	}
	return about;
}

static void incoming_rtcp(stoa_pc *pc, uint8_t *buf, size_t len)
{
	bool for_plugin = false;
	stoa_pc_stream *s = read_rtcp(pc, buf, len, &for_plugin);
	if (!for_plugin)
		return;
	if (s == NULL) {
		/* REMB names its SSRCs in the FCI, not the header: the first video stream. */
		for (guint i = 0; i < pc->streams->len && s == NULL; i++) {
			stoa_pc_stream *c = pc->streams->pdata[i];
			s = c != NULL && c->video ? c : NULL;
		}
	}
	if (s != NULL)
		pc->owner->rtcp(pc->ud, s->mindex, s->mid, s->video, buf, len);
}

void stoa__pc_incoming_srtp(stoa_pc *pc, uint8_t *buf, size_t len, bool rtcp)
{
	if (pc->srtp == NULL || stoa_pc_get_state(pc) != STOA_PC_READY)
		return;
	int rc = rtcp ? stoa_srtp_unprotect_rtcp(pc->srtp, buf, &len)
		      : stoa_srtp_unprotect_rtp(pc->srtp, buf, &len);
	if (rc < 0) {
		if (rc != STOA_SRTP_ERR_REPLAY)
			STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "SRTP%s unprotect failed (%d)",
					     rtcp ? "C" : "", rc);
		return;
	}
	if (G_UNLIKELY(!pc->dtls_release_tried))
		stoa__pc_dtls_release(pc);
	if (rtcp)
		incoming_rtcp(pc, buf, len);
	else
		incoming_rtp(pc, buf, len);
}

/* ---- periodic work ---- */

static void send_report(stoa_pc *pc, stoa_pc_stream *s, int64_t now)
{
	/* One report block per layer we receive (RFC 3550 6.4.2). */
	stoa_rtcp_report_block rb[STOA_PC_MAX_LAYERS];
	unsigned nrb = 0;
	for (int i = 0; s->recv && i < s->nrl; i++) {
		stoa_pc_rlayer *l = &s->rl[i];
		if (l->ssrc != 0 && l->in_packets > 0 &&
		    stoa_rtp_recv_stats_report(&l->rstats, l->ssrc, now, &rb[nrb]) == 0)
			nrb++;
	}
	stoa_rtcp_sender_info si;
	bool sender = s->out_packets > 0 &&
		      stoa_rtp_send_stats_sender_info(&s->sstats, s->local_ssrc, now,
						      stoa_ntp_from_unix_us(g_get_real_time()), &si) == 0;
	if (!sender && nrb == 0)
		return;
	stoa_rtcp_report rep = { .sender = sender ? &si : NULL, .ssrc = s->local_ssrc, .rb = rb,
				 .rb_count = nrb, .cname = "stoa", .cname_len = 4 };
	uint8_t pkt[512];
	int n = stoa_rtcp_build_compound(pkt, sizeof(pkt), &rep, NULL, 0, false);
	if (n > 0)
		stoa__pc_send_rtcp_now(pc, pkt, (size_t)n);
}

/* Transport-wide CC feedback for what arrived since the last tick. */
static void send_twcc(stoa_pc *pc)
{
	stoa_pc_stream *about = NULL;
	for (guint i = 0; i < pc->streams->len && about == NULL; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		about = s != NULL && s->ext_twcc > 0 && remote_ssrc(s) != 0 ? s : NULL;
	}
	if (about == NULL)
		return;
	uint8_t fb[STOA_PC_MAX_PACKET - 100];
	int n;
	while ((n = stoa_twcc_build(pc->twcc, about->local_ssrc, remote_ssrc(about), fb, sizeof(fb))) > 0)
		send_feedback(pc, about, fb, (size_t)n);
}

/* The counter takes the rises of RFC 3550's cumulative lost between two
 * calls. The cumulative value falls when duplicates arrive or the sequence
 * restarts; the counter cannot, so it follows the fall and counts from
 * there. */
static void count_lost(stoa_pc *pc, stoa_pc_stream *s)
{
	for (int k = 0; k < s->nrl; k++) {
		stoa_pc_rlayer *l = &s->rl[k];
		int64_t lost = stoa_rtp_recv_stats_lost(&l->rstats);
		if (lost > l->lost_counted)
			stoa_metrics_add(&pc->metrics->lost[s->video], (uint64_t)(lost - l->lost_counted));
		l->lost_counted = lost;
	}
}

void stoa__pc_count_lost(stoa_pc *pc)
{
	for (guint i = 0; i < pc->streams->len; i++)
		if (pc->streams->pdata[i] != NULL)
			count_lost(pc, pc->streams->pdata[i]);
}

void stoa__pc_tick(stoa_pc *pc, int64_t now, bool report)
{
	if (stoa_pc_get_state(pc) != STOA_PC_READY)
		return;
	if (pc->twcc != NULL && stoa_twcc_pending(pc->twcc))
		send_twcc(pc);
	int no_media = stoa_config_get()->no_media_timer;
	for (guint i = 0; i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		if (s == NULL)
			continue;
		for (int k = 0; s->nack && k < s->nrl; k++)
			if (s->rl[k].nackgen != NULL && stoa_nack_gen_missing(s->rl[k].nackgen) > 0)
				send_nacks(pc, s, &s->rl[k], now);
		if (!report)
			continue;
		send_report(pc, s, now);
		count_lost(pc, s);
		for (int k = 0; k < s->nrl; k++) {
			stoa_pc_rlayer *l = &s->rl[k];
			if (l->receiving && no_media > 0 &&
			    now - l->last_in_us > (int64_t)no_media * G_USEC_PER_SEC) {
				l->receiving = false;
				pc->owner->media(pc->ud, s->mid, s->video, substream_of(s, k), false);
			}
		}
	}
}

/* Receive totals over a stream's layers. */
typedef struct in_totals {
	uint64_t packets, bytes, nacks, rtx;
	int64_t lost;
} in_totals;

static in_totals sum_layers(const stoa_pc_stream *s)
{
	in_totals t = { 0 };
	for (int i = 0; i < s->nrl; i++) {
		const stoa_pc_rlayer *l = &s->rl[i];
		t.packets += l->in_packets;
		t.bytes += l->in_bytes;
		t.nacks += l->nacks_sent;
		t.rtx += l->retransmissions_in;
		t.lost += stoa_rtp_recv_stats_lost(&l->rstats);
	}
	return t;
}

/* Simulcast layers as Janus names them: "ssrc-peer" is substream 0, the
 * others "ssrc-peer-sim-<n>" and "ssrc-peer-rtx-sim-<n>"; plus the rids. */
static void add_layers_info(json_t *ssrc, json_t *m, const stoa_pc_stream *s)
{
	json_t *rids = json_array();
	for (int i = 0; i < s->nrl; i++) {
		const stoa_pc_rlayer *l = &s->rl[i];
		if (l->rid != NULL)
			json_array_append_new(rids, json_string(l->rid));
		if (i == 0)
			continue;
		char key[32];
		g_snprintf(key, sizeof(key), "ssrc-peer-sim-%d", i);
		json_object_set_new(ssrc, key, json_integer(l->ssrc));
		g_snprintf(key, sizeof(key), "ssrc-peer-rtx-sim-%d", i);
		json_object_set_new(ssrc, key, json_integer(l->rtx_ssrc));
	}
	json_object_set_new(m, "simulcast", json_pack("{s:i,s:o}", "layers", s->nrl, "rids", rids));
}

json_t *stoa__pc_streams_info(stoa_pc *pc)
{
	json_t *media = json_object();
	for (guint i = 0; i < pc->streams->len; i++) {
		stoa_pc_stream *s = pc->streams->pdata[i];
		if (s == NULL)
			continue;
		in_totals in = sum_layers(s);
		json_t *m = json_pack(
			"{s:s,s:i,s:s,s:{s:I,s:I,s:I,s:I},s:{s:b,s:b},s:{s:i,s:i},"
			"s:{s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I}},s:{s:{s:i,s:I,s:i}}}",
			"type", s->video ? "video" : "audio", "mindex", s->mindex, "mid", s->mid,
			"ssrc", "ssrc", (json_int_t)s->local_ssrc, "ssrc-rtx", (json_int_t)s->local_rtx_ssrc,
			"ssrc-peer", (json_int_t)s->rl[0].ssrc, "ssrc-peer-rtx", (json_int_t)s->rl[0].rtx_ssrc,
			"direction", "send", s->send, "recv", s->recv,
			"codecs", "pt", s->pt, "rtx-pt", s->rtx_pt,
			"stats", "in", "packets", (json_int_t)in.packets, "bytes", (json_int_t)in.bytes,
			"nacks", (json_int_t)in.nacks, "retransmissions", (json_int_t)in.rtx,
			"out", "packets", (json_int_t)s->out_packets, "bytes", (json_int_t)s->out_bytes,
			"nacks", (json_int_t)s->nacks_received, "retransmissions", (json_int_t)s->retransmissions_out,
			"rtcp", "main", "rtt", (int)s->rtt_ms, "lost", (json_int_t)in.lost,
			"jitter-local", (int)stoa_rtp_recv_stats_jitter(&s->rl[0].rstats));
		if (s->simulcast)
			add_layers_info(json_object_get(m, "ssrc"), m, s);
		json_object_set_new(m, "do_nacks", json_boolean(s->nack));
		json_object_set_new(media, s->mid != NULL ? s->mid : "?", m);
	}
	return media;
}
