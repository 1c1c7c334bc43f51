/*
 * sdp.h: session descriptions (RFC 8866) as WebRTC uses them (unified plan,
 * RFC 8829 JSEP): a plain model, a parser and a writer that work on buffers,
 * and the offer/answer logic the server needs.
 *
 * Design. stoa_sdp_parse() turns text into a tree of plain structs that own
 * all their memory (strings are g_malloc'd, lists are GPtrArrays that free
 * their elements); stoa_sdp_free() releases the whole tree. The parser keeps
 * what the media core needs as typed fields and every other attribute
 * verbatim, so stoa_sdp_write(stoa_sdp_parse(x)) describes the same session.
 * Input is bounded (size, lines, m-lines, codecs, attributes) and anything
 * malformed gives NULL and a message naming the line, never a crash.
 *
 * stoa_sdp_answer() builds the server's answer to a client offer and
 * stoa_sdp_offer() builds a server offer; both return a model that the caller
 * may still adjust before writing it.
 *
 * Threads: none of this keeps global state; any thread may call it, one
 * thread per model at a time.
 *
 * Files: sdp_model.c (constructors, free, lookups), sdp_parse.c, sdp_write.c,
 * sdp_negotiate.c (answers and offers), sdp_codecs.c (codec table and fmtp
 * matching rules).
 */
#ifndef STOA_MEDIA_SDP_H
#define STOA_MEDIA_SDP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits: larger input is refused with an error, not truncated. */
#define STOA_SDP_MAX_LEN	65536	/* bytes of text */
#define STOA_SDP_MAX_LINE	4096	/* bytes in one line */
#define STOA_SDP_MAX_LINES	4096	/* lines in all */
#define STOA_SDP_MAX_MEDIA	64	/* m-lines */
#define STOA_SDP_MAX_CODECS	512	/* payload types over all m-lines */
#define STOA_SDP_MAX_ATTRS	512	/* a= lines in one section */

/* Header extension URIs (RFC 8285 extmap) that the server knows. */
#define STOA_SDP_EXT_MID	"urn:ietf:params:rtp-hdrext:sdes:mid"
#define STOA_SDP_EXT_RID	"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define STOA_SDP_EXT_RRID	"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define STOA_SDP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define STOA_SDP_EXT_TWCC \
	"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define STOA_SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define STOA_SDP_EXT_VIDEO_ORIENTATION "urn:3gpp:video-orientation"
#define STOA_SDP_EXT_PLAYOUT_DELAY \
	"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

/* Media direction (RFC 8866 §6.7). SENDRECV is 0 so it is the default. */
typedef enum stoa_sdp_dir {
	STOA_SDP_SENDRECV = 0,
	STOA_SDP_SENDONLY,
	STOA_SDP_RECVONLY,
	STOA_SDP_INACTIVE,
} stoa_sdp_dir;

/* DTLS role (RFC 4145 a=setup, RFC 8842). NONE means the attribute is absent. */
typedef enum stoa_sdp_setup {
	STOA_SDP_SETUP_NONE = 0,
	STOA_SDP_SETUP_ACTPASS,
	STOA_SDP_SETUP_ACTIVE,
	STOA_SDP_SETUP_PASSIVE,
	STOA_SDP_SETUP_HOLDCONN,
} stoa_sdp_setup;

typedef enum stoa_sdp_media_type {
	STOA_SDP_AUDIO,
	STOA_SDP_VIDEO,
	STOA_SDP_APPLICATION,
	STOA_SDP_OTHER,
} stoa_sdp_media_type;

/* One payload type of an RTP m-line: a=rtpmap, a=fmtp and a=rtcp-fb. */
typedef struct stoa_sdp_codec {
	int pt;			/* 0..127 */
	char *name;		/* as written ("VP8", "opus"); NULL for a dynamic pt without rtpmap */
	int clock;		/* clock rate, Hz */
	int channels;		/* 0 when the rtpmap gives none */
	char *fmtp;		/* the a=fmtp parameters, or NULL */
	GPtrArray *rtcp_fb;	/* char *: "nack", "nack pli", "ccm fir", "transport-cc", ... */
	int rtx_pt;		/* the pt of the rtx codec whose apt= names this one, or -1 */
	int apt;		/* for rtx (and red/ulpfec with apt=): the pt repaired, or -1 */
} stoa_sdp_codec;

/* a=extmap:<id>[/<dir>] <uri> [<attributes>] (RFC 8285). */
typedef struct stoa_sdp_extmap {
	int id;			/* 1..255 */
	int dir;		/* a stoa_sdp_dir, or -1 when not written */
	char *uri;
	char *attrs;		/* extension attributes after the uri, or NULL */
} stoa_sdp_extmap;

/* The attributes of one SSRC (RFC 5576 a=ssrc). */
typedef struct stoa_sdp_ssrc {
	uint32_t ssrc;
	char *cname;		/* or NULL */
	char *msid;		/* "<stream> <track>", or NULL */
} stoa_sdp_ssrc;

/* a=ssrc-group:<semantics> <ssrc> ... ("FID" for RTX pairs, "SIM", "FEC-FR"). */
typedef struct stoa_sdp_ssrc_group {
	char *semantics;
	GArray *ssrcs;		/* uint32_t */
} stoa_sdp_ssrc_group;

/* a=rid:<id> send|recv [<params>] (RFC 8851). */
typedef struct stoa_sdp_rid {
	char *id;
	bool send;		/* true: "send", false: "recv" */
	char *params;		/* "pt=96;max-width=1280", or NULL */
} stoa_sdp_rid;

/* One m= section. */
typedef struct stoa_sdp_media {
	stoa_sdp_media_type type;
	char *type_str;		/* as written: "audio", "video", "application", ... */
	int port;		/* 0: rejected or bundle-only */
	char *proto;		/* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
	GPtrArray *fmts;	/* char *: the formats of a non-RTP m-line (RTP ones are `codecs`) */
	char *conn;		/* the c= value ("IN IP4 0.0.0.0"), or NULL */
	GPtrArray *bandwidths;	/* char *: b= values ("AS:500") */
	char *rtcp;		/* the a=rtcp value ("9 IN IP4 0.0.0.0"), or NULL */
	char *mid;		/* or NULL */
	stoa_sdp_dir dir;	/* the session-level direction, or sendrecv, when not written */
	char *msid;		/* the a=msid value "<stream> <track>", or NULL */
	GPtrArray *codecs;	/* stoa_sdp_codec *, in m= line order */
	GPtrArray *extmaps;	/* stoa_sdp_extmap * */
	bool extmap_allow_mixed;
	GPtrArray *ssrcs;	/* stoa_sdp_ssrc * */
	GPtrArray *ssrc_groups;	/* stoa_sdp_ssrc_group * */
	GPtrArray *rids;	/* stoa_sdp_rid * */
	char *simulcast;	/* the a=simulcast value ("send h;m;l"), or NULL */
	char *ice_ufrag, *ice_pwd, *ice_options; /* media level, or NULL */
	GPtrArray *candidates;	/* char *: "candidate:..." without "a=" */
	bool end_of_candidates;
	char *fingerprint_alg;	/* "sha-256", or NULL */
	char *fingerprint;	/* "AB:CD:...", or NULL */
	stoa_sdp_setup setup;
	bool rtcp_mux, rtcp_rsize, bundle_only;
	int sctp_port;		/* a=sctp-port (or the port of a=sctpmap), 0 if none */
	char *sctpmap;		/* the legacy a=sctpmap value, kept as written, or NULL */
	uint64_t max_message_size; /* 0 if none */
	GPtrArray *attrs;	/* char *: other attributes, verbatim without "a=" */
} stoa_sdp_media;

/* a=group:<semantics> <mid> ... (RFC 5888; BUNDLE is RFC 8843). */
typedef struct stoa_sdp_group {
	char *semantics;
	GPtrArray *mids;	/* char * */
} stoa_sdp_group;

/* A whole session description. Owns everything below it. */
typedef struct stoa_sdp {
	char *o_username, *o_sess_id; /* o= fields; sess_id kept as text (it may exceed 64 bits) */
	uint64_t o_sess_version;
	char *o_nettype, *o_addrtype, *o_addr;
	char *name;		/* s= */
	char *timing;		/* t= value, "0 0" */
	char *conn;		/* session-level c=, or NULL */
	GPtrArray *bandwidths;	/* char *: session-level b= values */
	int dir;		/* a session-level direction attribute, or -1 */
	char *ice_ufrag, *ice_pwd, *ice_options;
	bool ice_lite;
	char *fingerprint_alg, *fingerprint;
	stoa_sdp_setup setup;
	GPtrArray *groups;	/* stoa_sdp_group * */
	bool extmap_allow_mixed;
	char *msid_semantic;	/* "WMS *", or NULL */
	GPtrArray *extmaps;	/* stoa_sdp_extmap *: session-level extmaps (rare) */
	GPtrArray *media;	/* stoa_sdp_media * */
	GPtrArray *attrs;	/* char *: other session attributes, verbatim without "a=" */
} stoa_sdp;

/* ---------------------------------------------------------------- model */

/* Empty models, to build descriptions by hand. Freed with their owner. */
stoa_sdp *stoa_sdp_new(void);
stoa_sdp_media *stoa_sdp_media_new(const char *type_str);
stoa_sdp_codec *stoa_sdp_codec_new(int pt, const char *name, int clock, int channels);
void stoa_sdp_media_free(stoa_sdp_media *m);
void stoa_sdp_codec_free(stoa_sdp_codec *c);
void stoa_sdp_free(stoa_sdp *s);

/* The media type of an m= type word. */
stoa_sdp_media_type stoa_sdp_media_type_from(const char *type_str);
/* Does the m-line carry RTP (its proto has "RTP/")? */
bool stoa_sdp_media_is_rtp(const stoa_sdp_media *m);
/* Direction and setup words ("sendrecv", "actpass"); NULL for NONE. */
const char *stoa_sdp_dir_str(stoa_sdp_dir dir);
const char *stoa_sdp_setup_str(stoa_sdp_setup setup);
/* The direction the other side of `dir` uses: sendonly <-> recvonly. */
stoa_sdp_dir stoa_sdp_dir_reverse(stoa_sdp_dir dir);

/* Transport attributes of an m-line: media level, else session level, else NULL/NONE. */
const char *stoa_sdp_media_ice_ufrag(const stoa_sdp *s, const stoa_sdp_media *m);
const char *stoa_sdp_media_ice_pwd(const stoa_sdp *s, const stoa_sdp_media *m);
const char *stoa_sdp_media_fingerprint(const stoa_sdp *s, const stoa_sdp_media *m,
				       const char **alg);
stoa_sdp_setup stoa_sdp_media_setup(const stoa_sdp *s, const stoa_sdp_media *m);

/* The id of `uri` in the m-line's extmaps, 0 if absent. */
int stoa_sdp_media_extmap_id(const stoa_sdp_media *m, const char *uri);
/* The codec with payload type `pt`, or NULL. Borrowed. */
stoa_sdp_codec *stoa_sdp_media_codec(const stoa_sdp_media *m, int pt);
/* The m-line whose mid is `mid`, or NULL. Borrowed. */
stoa_sdp_media *stoa_sdp_media_by_mid(const stoa_sdp *s, const char *mid);
/* The first group with these semantics ("BUNDLE"), or NULL. Borrowed. */
stoa_sdp_group *stoa_sdp_group_find(const stoa_sdp *s, const char *semantics);

/* ---------------------------------------------------------------- text */

/* Parses `len` bytes of SDP (\r\n or \n line ends). Returns a new model, or
 * NULL with a message like "line 7: bad m= line" in `err`. */
stoa_sdp *stoa_sdp_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Writes the model as SDP text with \r\n line ends and attributes in the
 * order browsers write them. Returns a g_malloc'd string. */
char *stoa_sdp_write(const stoa_sdp *s);

/* ---------------------------------------------------------------- codecs (sdp_codecs.c) */

/* A codec the server can negotiate. Static data. */
typedef struct stoa_sdp_codec_info {
	const char *name;	/* lowercase key used in preference lists: "opus", "vp8", "h264" */
	const char *rtp_name;	/* the rtpmap spelling: "opus", "VP8", "H264" */
	stoa_sdp_media_type type;
	int clock;
	int channels;		/* 0: not written in rtpmap */
	int static_pt;		/* RFC 3551 static payload type, or -1 */
	const char *fmtp;	/* what the server offers, or NULL */
} stoa_sdp_codec_info;

/* The entry for a preference-list name or an rtpmap name (any case), or NULL. */
const stoa_sdp_codec_info *stoa_sdp_codec_info_find(const char *name);
/* The RFC 3551 name of a static payload type (0 PCMU, 8 PCMA, 9 G722, ...), or NULL. */
const stoa_sdp_codec_info *stoa_sdp_codec_info_static(int pt);

/* The value of `key` in an fmtp string "a=1;b=2" (g_malloc'd), or NULL. */
char *stoa_sdp_fmtp_get(const char *fmtp, const char *key);
/* The integer value of `key`, or `dflt` when absent or not a number. */
long stoa_sdp_fmtp_int(const char *fmtp, const char *key, long dflt);

/* H.264 profiles (RFC 6184 §8.1, Table 5). */
typedef enum stoa_sdp_h264_profile {
	STOA_SDP_H264_UNKNOWN = 0,
	STOA_SDP_H264_CONSTRAINED_BASELINE,
	STOA_SDP_H264_BASELINE,
	STOA_SDP_H264_MAIN,
	STOA_SDP_H264_EXTENDED,
	STOA_SDP_H264_CONSTRAINED_HIGH,
	STOA_SDP_H264_HIGH,
	STOA_SDP_H264_HIGH10,
	STOA_SDP_H264_HIGH422,
	STOA_SDP_H264_HIGH444,
} stoa_sdp_h264_profile;

/* Splits a profile-level-id ("42e01f") into a profile and a level (level_idc
 * times 10, with level 1b as 105 so levels compare in order). Returns 0, or -1
 * when the text is not 6 hex digits or names no known profile. */
int stoa_sdp_h264_plid_parse(const char *plid, stoa_sdp_h264_profile *profile, int *level);

/* What the server accepts for one codec when matching an offer. */
typedef struct stoa_sdp_codec_constraints {
	int vp9_profile;		/* VP9 profile-id that must match, or -1 for any */
	const char *h264_plid;		/* H.264 profile-level-id whose profile must
					 * match (and whose level caps the answer), or NULL */
	/* Opus receive preferences written in the answer (RFC 7587 §6.1: they
	 * tell the offerer how to send to us): 1 says useinbandfec=1 (usedtx=1),
	 * -1 leaves it out, 0 echoes what the offer said. */
	int opus_fec, opus_dtx;
} stoa_sdp_codec_constraints;

/* Does offered codec `c` satisfy preference `name` ("vp8", "h264", ...) under
 * the constraints (NULL: none)? H.264 also needs packetization-mode=1. */
bool stoa_sdp_codec_matches(const stoa_sdp_codec *c, const char *name,
			    const stoa_sdp_codec_constraints *k);

/* The fmtp the server answers for offered codec `c` (g_malloc'd, or NULL for none). */
char *stoa_sdp_codec_answer_fmtp(const stoa_sdp_codec *c, const stoa_sdp_codec_constraints *k);

/* Is this rtcp-fb value ("nack pli") one the server implements? */
bool stoa_sdp_rtcp_fb_supported(const char *fb);

/* ---------------------------------------------------------------- negotiation (sdp_negotiate.c) */

/* Decides the direction of one offered m-line in the answer. Return the
 * direction wanted, or a negative value to reject the m-line. The answer
 * never sends where the offer does not receive and vice versa, whatever is
 * returned. Called on the thread running stoa_sdp_answer(). */
typedef int (*stoa_sdp_dir_cb)(const stoa_sdp_media *offered, unsigned index, void *user);

/* Everything stoa_sdp_answer() needs; borrowed for the duration of the call. */
typedef struct stoa_sdp_answer_params {
	const char *ice_ufrag, *ice_pwd;	/* local ICE credentials (required) */
	const char *fingerprint;		/* local sha-256 "AB:CD:..." (required) */
	bool ice_lite;
	/* 0 (NONE): from the offer, as Janus does (offer active -> passive, else active). */
	stoa_sdp_setup setup;
	const char *const *audio_codecs;	/* NULL-terminated preference: "opus", "pcmu", ... */
	const char *const *video_codecs;	/* "vp8", "vp9", "h264", "av1" */
	stoa_sdp_codec_constraints constraints;
	const char *const *extmaps;		/* accepted extension URIs, NULL: the STOA_SDP_EXT_* set */
	bool accept_data;
	const char *cname;			/* for our a=ssrc lines (NULL: "stoa") */
	const char *msid_stream;		/* stream id of our a=msid (NULL: "stoa") */
	stoa_sdp_dir_cb direction;		/* NULL: mirror the offer */
	void *direction_user;
	const char *const *candidates;		/* NULL-terminated "candidate:..." or NULL */
	bool end_of_candidates;
	uint64_t max_message_size;		/* 0: 262144 */
	const char *session_name;		/* s= (NULL: "Stoa") */
	uint64_t session_id, session_version;	/* 0: random / 1 */
} stoa_sdp_answer_params;

/* The DTLS role the answerer takes for `offer` (Janus's rule: active unless
 * the offer is active). */
stoa_sdp_setup stoa_sdp_answer_setup(const stoa_sdp *offer);

/* Builds the answer to `offer` (see sdp_negotiate.c for the rules). Returns a
 * new model, or NULL with a message in `err` when no answer can be built. */
stoa_sdp *stoa_sdp_answer(const stoa_sdp *offer, const stoa_sdp_answer_params *p, char *err,
			  size_t errlen);

/* An extension to offer: id and uri. */
typedef struct stoa_sdp_extmap_desc {
	int id;
	const char *uri;
} stoa_sdp_extmap_desc;

/* One m-line of a server offer. Strings are borrowed. */
typedef struct stoa_sdp_offer_media {
	stoa_sdp_media_type type;		/* AUDIO, VIDEO or APPLICATION (data channel) */
	const char *mid;
	const char *codec;			/* a codec table name: "opus", "vp8", ... */
	int pt;
	const char *fmtp;			/* NULL: the codec table's */
	int rtx_pt;				/* 0: no RTX */
	stoa_sdp_dir dir;
	bool rejected;				/* port 0 (a stream that went away) */
	uint32_t ssrc, rtx_ssrc;		/* 0: none (then no a=ssrc lines) */
	const char *msid_track;			/* NULL: derived from the mid */
	const stoa_sdp_extmap_desc *extmaps;	/* n_extmaps entries */
	size_t n_extmaps;
} stoa_sdp_offer_media;

typedef struct stoa_sdp_offer_params {
	const char *ice_ufrag, *ice_pwd, *fingerprint;
	bool ice_lite;
	const char *cname, *msid_stream;	/* NULL: "stoa" */
	const stoa_sdp_offer_media *media;
	size_t n_media;
	const char *const *candidates;
	bool end_of_candidates;
	uint64_t max_message_size;		/* 0: 262144 */
	const char *session_name;
	uint64_t session_id, session_version;
} stoa_sdp_offer_params;

/* Builds a server offer (a=setup:actpass, everything in one BUNDLE group).
 * Returns a new model, or NULL with a message in `err`. */
stoa_sdp *stoa_sdp_offer(const stoa_sdp_offer_params *p, char *err, size_t errlen);

#endif
