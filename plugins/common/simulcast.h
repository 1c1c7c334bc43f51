/*
 * simulcast.h: which simulcast layer a relay forwards, packet by packet.
 *
 * A simulcast sender (RFC 8853) encodes the same video up to three times
 * (substream 0 = the lowest quality ... 2 = the highest); a receiver can
 * only decode one of them. The selector forwards the layer closest to the
 * target that is actually arriving:
 *  - a switch (up or down) happens only at a keyframe of the new layer, the
 *    first one the decoder can start from; until then the old layer keeps
 *    flowing, and the selector asks for a keyframe (at most every 500 ms);
 *  - a layer that sent nothing for `fallback` µs (default 250000) counts as
 *    gone, and the selector falls back to the highest lower layer still
 *    arriving; when the target comes back it switches up again. At start a
 *    layer not yet seen gets the same grace period, counted from the first
 *    packet of any layer.
 *  - VP8 temporal scalability (RFC 7741: TID in the payload descriptor):
 *    packets above the target temporal layer are not forwarded. Going down
 *    is immediate; going up waits for a keyframe or a layer-sync (Y) packet
 *    of a higher layer. Codecs whose temporal layer is unknown (tid -1) are
 *    forwarded whole.
 * The caller feeds packets that it does not forward to
 * stoa_rtp_switch_skip() (so the outgoing stream has no gap), rewrites the
 * ones it does with stoa_rtp_switch_rewrite(), sends a keyframe request when
 * asked, and tells its client when the layers change.
 *
 * Plain data, one owner (the thread that relays the stream), time passed in.
 */
#ifndef STOA_PLUGIN_COMMON_SIMULCAST_H
#define STOA_PLUGIN_COMMON_SIMULCAST_H

#include <stdbool.h>
#include <stdint.h>

#define STOA_SIMULCAST_LAYERS 3
#define STOA_SIMULCAST_FALLBACK_US 250000

/* What stoa_simulcast_process() returns: a set of these bits. */
enum {
	STOA_SIMULCAST_RELAY = 1,	/* forward this packet */
	STOA_SIMULCAST_CHANGED = 2,	/* the forwarded substream or temporal layer changed */
	STOA_SIMULCAST_KEYFRAME = 4,	/* ask the sender for a keyframe now */
};

typedef struct stoa_simulcast {
	int target;		/* wanted substream 0..2 */
	int target_temporal;	/* wanted temporal layer 0..2 */
	int64_t fallback_us;
	int substream;		/* being forwarded, -1 before the first switch */
	int temporal;		/* highest temporal layer being forwarded */
	int pending;		/* the layer to switch to at its next keyframe, or -1 */
	bool started;
	int64_t first_us;
	int64_t last_seen_us[STOA_SIMULCAST_LAYERS];
	bool seen[STOA_SIMULCAST_LAYERS];
	int64_t last_keyframe_req_us;
	uint64_t switches;
} stoa_simulcast;

/* Targets the highest quality (substream 2, temporal 2), as Janus does. */
void stoa_simulcast_init(stoa_simulcast *sc);

/* New targets; a negative value keeps the current one, fallback_us 0 keeps
 * it too. Takes effect with the next packet. */
void stoa_simulcast_set_target(stoa_simulcast *sc, int substream, int temporal, int64_t fallback_us);

/* One packet of layer `substream` (0..2): `keyframe` when it starts a
 * keyframe, `tid` its temporal layer or -1, `layer_sync` its Y bit.
 * Returns STOA_SIMULCAST_* bits. */
int stoa_simulcast_process(stoa_simulcast *sc, int substream, bool keyframe, int tid,
			   bool layer_sync, int64_t now_us);

#endif
