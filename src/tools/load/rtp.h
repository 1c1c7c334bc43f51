/*
 * rtp.h: the little RTP and RTCP stoa-load needs, on buffers (RFC 3550,
 * RFC 4585): the fixed header, per-stream receive statistics with loss
 * that survives reordering, RTCP SR and RR building, and a walk over a
 * compound RTCP packet that counts keyframe requests and NACKs.
 *
 * Nothing here allocates or logs: it runs once per packet.
 */
#ifndef LOAD_RTP_H
#define LOAD_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_RTP_HEADER 12

typedef struct load_rtp_hdr {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;	/* fixed header + CSRCs + extension */
} load_rtp_hdr;

/* Parses the header of an RTP packet. Returns 0, or -1 if it is not one. */
int load_rtp_parse(const uint8_t *buf, size_t len, load_rtp_hdr *h);

/* Writes a 12-byte header (no CSRC, no extension). */
void load_rtp_write(uint8_t *buf, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
		    uint32_t ssrc);

/* True for an RTCP packet, as RFC 5761 §4 tells them apart on a muxed port. */
bool load_rtp_is_rtcp(const uint8_t *buf, size_t len);

/*
 * What one receiver saw of one stream. Written only by the worker thread
 * that owns the receiving peer; `packets`, `bytes`, `duplicates`,
 * `ext_max` and `base` are read by the main thread with LOAD_RD (relaxed atomics), so they are
 * the only fields it may look at.
 */
typedef struct load_rx_stream {
	uint32_t ssrc;		/* from the offer; 0 until known */
	uint8_t pt;
	bool video;
	bool started;		/* a packet arrived */
	bool verified;		/* one packet passed srtp_unprotect */
	uint16_t max_seq;
	uint64_t cycles;	/* 65536 per wrap */
	uint64_t base;		/* extended sequence number of the first packet */
	uint64_t ext_max;	/* highest extended sequence number */
	uint64_t packets;	/* duplicates included */
	uint64_t bytes;		/* SRTP datagram bytes */
	uint64_t duplicates;
	uint64_t reordered;	/* arrived after a higher sequence number */
	uint64_t expected_prior, received_prior;	/* for RR fraction lost */
} load_rx_stream;

void load_rx_stream_update(load_rx_stream *s, uint16_t seq, size_t bytes);

/* Packets the stream should have had so far and packets it lost (never
 * negative); safe to call from any thread. */
uint64_t load_rx_stream_expected(const load_rx_stream *s);
uint64_t load_rx_stream_lost(const load_rx_stream *s);

/* A Receiver Report with one block per started stream. Returns its length
 * or 0 if cap is too small. Moves the streams' "prior" marks. */
size_t load_rtcp_rr(uint8_t *buf, size_t cap, uint32_t ssrc, load_rx_stream *streams, int n);

/* A Sender Report (no report blocks): ntp_us is wall-clock microseconds. */
size_t load_rtcp_sr(uint8_t *buf, size_t cap, uint32_t ssrc, int64_t ntp_us, uint32_t rtp_ts,
		    uint32_t packets, uint32_t octets);

typedef struct load_rtcp_counts {
	unsigned pli, fir, nack, remb;
} load_rtcp_counts;

/* Called for each sequence number a NACK asks for. */
typedef void (*load_nack_fn)(void *ud, uint32_t media_ssrc, uint16_t seq);

/* Walks a (decrypted) compound RTCP packet, counts feedback in it and
 * calls nack (if not NULL) for every lost packet a Generic NACK lists
 * (RFC 4585 §6.2.1). Returns 0, or -1 if the compound is malformed (what
 * came before counts). */
int load_rtcp_scan(const uint8_t *buf, size_t len, load_rtcp_counts *c, load_nack_fn nack,
		   void *ud);

#endif
