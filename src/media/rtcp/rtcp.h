/*
 * rtcp.h: RTCP compound packets, parsed in place and built into caller
 * buffers.
 *
 *   RFC 3550 section 6 (SR, RR, SDES, BYE; compound rules 6.1, A.2)
 *   RFC 4585 section 6 (feedback: generic NACK, PLI)
 *   RFC 5104 section 4.3.1 (FIR)
 *   RFC 5506 (reduced-size RTCP: feedback without SR/RR first)
 *   draft-alvestrand-rmcat-remb-03 (REMB, PSFB FMT 15)
 *   draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1
 *   (transport-wide congestion control feedback, RTPFB FMT 15)
 *
 * Design: stoa_rtcp_iter walks a compound packet and hands out each
 * sub-packet as a stoa_rtcp_hdr pointing into the buffer; a bad length
 * ends the walk with an error and nothing past the buffer is read. Per-type
 * parsers read a sub-packet into a small struct whose variable parts
 * (report blocks, SSRC lists) stay pointers into the buffer, read with
 * accessors; the few lists that need decoding (NACK, FIR, TWCC) go into
 * caller-provided bounded arrays. Builders write into a caller buffer and
 * return the bytes written, or negative when it does not fit. Nothing here
 * allocates; any thread.
 */
#ifndef STOA_MEDIA_RTCP_RTCP_H
#define STOA_MEDIA_RTCP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOA_RTCP_SR 200
#define STOA_RTCP_RR 201
#define STOA_RTCP_SDES 202
#define STOA_RTCP_BYE 203
#define STOA_RTCP_APP 204
#define STOA_RTCP_RTPFB 205
#define STOA_RTCP_PSFB 206
#define STOA_RTCP_XR 207

/* Feedback message types (FMT), per payload type. */
#define STOA_RTCP_RTPFB_NACK 1
#define STOA_RTCP_RTPFB_TWCC 15
#define STOA_RTCP_PSFB_PLI 1
#define STOA_RTCP_PSFB_FIR 4
#define STOA_RTCP_PSFB_AFB 15 /* application layer feedback: REMB */

#define STOA_RTCP_SDES_CNAME 1
#define STOA_RTCP_MAX_RB 31 /* the 5-bit count field */
#define STOA_RTCP_RB_LEN 24

/* ------------------------------------------------------------ iteration */

/* One sub-packet of a compound packet; `buf` points into the compound. */
typedef struct stoa_rtcp_hdr {
	const uint8_t *buf;
	size_t len;      /* whole sub-packet: (length field + 1) * 4 */
	size_t body_len; /* len minus the padding, when the P bit is set */
	bool padding;
	uint8_t count;   /* RC, SC or FMT: the low 5 bits of the first byte */
	uint8_t pt;
} stoa_rtcp_hdr;

typedef struct stoa_rtcp_iter {
	const uint8_t *buf;
	size_t len;
	size_t off;
} stoa_rtcp_iter;

void stoa_rtcp_iter_init(stoa_rtcp_iter *it, const uint8_t *buf, size_t len);

/*
 * Returns 1 with the next sub-packet, 0 at the end of the buffer, or
 * negative when the next header is short, not version 2, claims more than
 * remains, or has a bad padding count; the walk stays stopped after that.
 */
int stoa_rtcp_iter_next(stoa_rtcp_iter *it, stoa_rtcp_hdr *out);

/*
 * The validity checks of RFC 3550 A.2 on a whole compound: every
 * sub-packet well formed, lengths adding up to the datagram, padding only
 * on the last. The first must be SR or RR unless `rsize` (RFC 5506 3.1).
 * Returns 0 or negative.
 */
int stoa_rtcp_validate(const uint8_t *buf, size_t len, bool rsize);

/* ------------------------------------------------------------ SR, RR */

typedef struct stoa_rtcp_report_block {
	uint32_t ssrc;
	uint8_t fraction_lost; /* 8-bit fixed point, lost/expected * 256 */
	int32_t cum_lost;      /* 24-bit signed */
	uint32_t ext_high_seq;
	uint32_t jitter;       /* timestamp units */
	uint32_t lsr;          /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;         /* 1/65536 s since that SR arrived */
} stoa_rtcp_report_block;

typedef struct stoa_rtcp_sender_info {
	uint32_t ssrc;
	uint64_t ntp;
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
} stoa_rtcp_sender_info;

typedef struct stoa_rtcp_sr {
	stoa_rtcp_sender_info info;
	uint8_t rb_count;
	const uint8_t *blocks; /* rb_count * 24 bytes, read with stoa_rtcp_rb_read */
} stoa_rtcp_sr;

typedef struct stoa_rtcp_rr {
	uint32_t ssrc;
	uint8_t rb_count;
	const uint8_t *blocks;
} stoa_rtcp_rr;

int stoa_rtcp_sr_parse(const stoa_rtcp_hdr *h, stoa_rtcp_sr *out);
int stoa_rtcp_rr_parse(const stoa_rtcp_hdr *h, stoa_rtcp_rr *out);
/* Block i of a parsed SR or RR (i < rb_count). */
void stoa_rtcp_rb_read(const uint8_t *blocks, unsigned i, stoa_rtcp_report_block *out);

/* ------------------------------------------------------------ SDES, BYE */

typedef void (*stoa_rtcp_sdes_cb)(void *ud, uint32_t ssrc, uint8_t type, const uint8_t *text,
				  size_t len);

/* Calls cb for every item of every chunk. Returns 0 or negative when
 * malformed (items seen before the fault have been reported). */
int stoa_rtcp_sdes_parse(const stoa_rtcp_hdr *h, stoa_rtcp_sdes_cb cb, void *ud);

/* The first CNAME item: 0 with its chunk's SSRC and the text, or negative. */
int stoa_rtcp_sdes_cname(const stoa_rtcp_hdr *h, uint32_t *ssrc, const uint8_t **cname,
			 size_t *len);

typedef struct stoa_rtcp_bye {
	uint8_t count;
	const uint8_t *ssrcs;  /* count * 4 bytes: stoa_rtcp_bye_ssrc */
	const uint8_t *reason; /* NULL when absent; not NUL-terminated */
	uint8_t reason_len;
} stoa_rtcp_bye;

int stoa_rtcp_bye_parse(const stoa_rtcp_hdr *h, stoa_rtcp_bye *out);
uint32_t stoa_rtcp_bye_ssrc(const stoa_rtcp_bye *b, unsigned i);

/* ------------------------------------------------------------ feedback */

/* The common part of RTPFB and PSFB messages (RFC 4585 6.1). */
typedef struct stoa_rtcp_fb {
	uint8_t pt;  /* STOA_RTCP_RTPFB or STOA_RTCP_PSFB */
	uint8_t fmt;
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	const uint8_t *fci;
	size_t fci_len;
} stoa_rtcp_fb;

int stoa_rtcp_fb_parse(const stoa_rtcp_hdr *h, stoa_rtcp_fb *out);

/*
 * Generic NACK (RTPFB FMT 1): expands every PID+BLP pair into sequence
 * numbers, in packet order, into seqs[cap]. Returns how many it wrote
 * (stopping at cap) or negative when the FCI is not whole pairs.
 */
int stoa_rtcp_nack_parse(const stoa_rtcp_fb *fb, uint16_t *seqs, size_t cap);

/* PLI (PSFB FMT 1): 0 when fb is one, with no FCI as 4585 6.3.1 says. */
int stoa_rtcp_pli_check(const stoa_rtcp_fb *fb);

typedef struct stoa_rtcp_fir_entry {
	uint32_t ssrc;
	uint8_t seq;
} stoa_rtcp_fir_entry;

/* FIR (PSFB FMT 4): entries into out[cap]; returns how many, or negative. */
int stoa_rtcp_fir_parse(const stoa_rtcp_fb *fb, stoa_rtcp_fir_entry *out, size_t cap);

typedef struct stoa_rtcp_remb {
	uint64_t bitrate; /* bps; mantissa << exp, saturated at UINT64_MAX */
	uint8_t exp;
	uint32_t mantissa;
	uint8_t ssrc_count;
	const uint8_t *ssrcs; /* ssrc_count * 4 bytes: stoa_rtcp_remb_ssrc */
} stoa_rtcp_remb;

/* REMB (PSFB FMT 15 with the 'REMB' identifier): 0, or negative when fb is
 * another application message or malformed. */
int stoa_rtcp_remb_parse(const stoa_rtcp_fb *fb, stoa_rtcp_remb *out);
uint32_t stoa_rtcp_remb_ssrc(const stoa_rtcp_remb *r, unsigned i);

/* One packet reported by transport-wide CC feedback. */
typedef struct stoa_rtcp_twcc_pkt {
	uint16_t seq;
	bool received;
	int32_t delta; /* receive delta in 250 µs units; 0 when not received */
} stoa_rtcp_twcc_pkt;

typedef struct stoa_rtcp_twcc {
	uint16_t base_seq;
	uint16_t status_count;
	uint32_t ref_time; /* 24 bits in 64 ms units, wrapping */
	uint8_t fb_count;
} stoa_rtcp_twcc;

#define STOA_RTCP_TWCC_US_PER_DELTA 250
#define STOA_RTCP_TWCC_US_PER_REF 64000

/*
 * Transport-wide CC feedback (RTPFB FMT 15). Decodes the header into *out
 * and the first min(status_count, cap) packet statuses into pkts. The
 * whole message is validated even past cap: every chunk, every delta.
 * Returns the number of entries written, or negative when malformed
 * (including the reserved status symbol 11).
 */
int stoa_rtcp_twcc_parse(const stoa_rtcp_fb *fb, stoa_rtcp_twcc *out, stoa_rtcp_twcc_pkt *pkts,
			 size_t cap);

/* ------------------------------------------------------------ builders */
/*
 * Every builder writes one sub-packet at buf and returns its length in
 * bytes, or negative when `cap` is too small or an argument is out of
 * range; on failure the buffer content is unspecified.
 */
int stoa_rtcp_build_sr(uint8_t *buf, size_t cap, const stoa_rtcp_sender_info *si,
		       const stoa_rtcp_report_block *rb, unsigned n);
int stoa_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const stoa_rtcp_report_block *rb,
		       unsigned n);
/* One chunk with one CNAME item (at most 255 bytes). */
int stoa_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname,
			       size_t len);
/* reason may be NULL. */
int stoa_rtcp_build_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, unsigned n,
			const char *reason, size_t reason_len);
/*
 * Generic NACK for seqs[n], which should be in increasing (wrapping) order:
 * each FCI takes a PID and the following 16 numbers in its BLP; a number
 * outside that window starts a new FCI. Duplicates are folded.
 */
int stoa_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			 const uint16_t *seqs, size_t n);
int stoa_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media);
/* One FCI entry for `media`; the header's media SSRC is 0 (RFC 5104 4.3.1.2). */
int stoa_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			uint8_t seq);
/* bitrate rounds down to an 18-bit mantissa; n <= 255. */
int stoa_rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bitrate,
			 const uint32_t *ssrcs, unsigned n);
/*
 * Transport-wide CC feedback for pkts[n], consecutive sequence numbers from
 * hdr->base_seq (the pkts' .seq fields are not read; status_count is n). ref_time is in 64 ms units,
 * deltas in 250 µs units; a delta outside int16 makes it fail (the caller
 * starts a new feedback message there). Chooses run-length chunks for runs
 * of seven or more and status vectors otherwise. When the length is not a
 * multiple of 4 the P bit is set and padding added (RFC 3550 6.4.1), as
 * browsers do, so put it last in a compound.
 */
int stoa_rtcp_build_twcc(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
			 const stoa_rtcp_twcc *hdr, const stoa_rtcp_twcc_pkt *pkts, size_t n);

/* What a compound report starts with (RFC 3550 6.1). */
typedef struct stoa_rtcp_report {
	const stoa_rtcp_sender_info *sender; /* SR when set, otherwise RR */
	uint32_t ssrc;                       /* for an RR */
	const stoa_rtcp_report_block *rb;
	unsigned rb_count;                   /* past 31, extra RRs follow */
	const char *cname;
	size_t cname_len;
} stoa_rtcp_report;

/*
 * A compound packet: SR or RR (plus RRs for blocks past 31), SDES CNAME,
 * then `fb` (already-built feedback sub-packets, may be NULL). With rsize
 * and no report (rep NULL) it is a reduced-size packet of the feedback
 * alone (RFC 5506); without rsize a report is required.
 */
int stoa_rtcp_build_compound(uint8_t *buf, size_t cap, const stoa_rtcp_report *rep,
			     const uint8_t *fb, size_t fb_len, bool rsize);

/* ------------------------------------------------------------ rewriting */

typedef enum stoa_rtcp_ssrc_role {
	STOA_RTCP_SSRC_SENDER, /* who sent the RTCP: SR/RR/feedback sender, SDES, BYE */
	STOA_RTCP_SSRC_MEDIA,  /* whom it is about: report blocks, media source, FIR, REMB */
} stoa_rtcp_ssrc_role;

typedef uint32_t (*stoa_rtcp_ssrc_map)(void *ud, uint32_t ssrc, stoa_rtcp_ssrc_role role);

/*
 * Rewrites every SSRC field of a compound packet in place through `map`
 * (which returns the value to store, possibly the same). SDES chunks and
 * BYE lists are rewritten as SENDER. Returns 0, or negative when the
 * compound is malformed (sub-packets before the fault are rewritten).
 */
int stoa_rtcp_rewrite_ssrcs(uint8_t *buf, size_t len, stoa_rtcp_ssrc_map map, void *ud);

/*
 * Sets the sender and media source SSRC of one feedback sub-packet (as
 * built or as found by the iterator at buf + offset); for FIR the media
 * goes into the FCI entries and for REMB into the SSRC list, where the
 * header field stays 0. Returns 0 or negative when not feedback.
 */
int stoa_rtcp_fb_set_ssrcs(uint8_t *buf, size_t len, uint32_t sender, uint32_t media);

#endif
