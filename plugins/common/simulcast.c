/*
 * simulcast.c: the simulcast layer selector. See simulcast.h for the rules.
 */
#include "simulcast.h"

#include <string.h>

#define KEYFRAME_REQ_INTERVAL_US 500000

void stoa_simulcast_init(stoa_simulcast *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->target = STOA_SIMULCAST_LAYERS - 1;
	sc->target_temporal = 2;
	sc->temporal = 2;
	sc->fallback_us = STOA_SIMULCAST_FALLBACK_US;
	sc->last_keyframe_req_us = INT64_MIN / 2;
	sc->substream = sc->pending = -1;
}

void stoa_simulcast_set_target(stoa_simulcast *sc, int substream, int temporal, int64_t fallback_us)
{
	if (substream >= 0)
		sc->target = substream < STOA_SIMULCAST_LAYERS ? substream : STOA_SIMULCAST_LAYERS - 1;
	if (temporal >= 0)
		sc->target_temporal = temporal > 2 ? 2 : temporal;
	if (fallback_us > 0)
		sc->fallback_us = fallback_us;
}

static bool alive(const stoa_simulcast *sc, int layer, int64_t now)
{
	int64_t since = sc->seen[layer] ? sc->last_seen_us[layer] : sc->first_us;
	return now - since <= sc->fallback_us;
}

/* The target, or the highest lower layer still arriving. */
static int wanted(const stoa_simulcast *sc, int64_t now)
{
	int l = sc->target;
	while (l > 0 && !alive(sc, l, now))
		l--;
	return l;
}

/* Temporal filtering on the layer being forwarded; returns whether to relay. */
static bool temporal_ok(stoa_simulcast *sc, bool keyframe, int tid, bool layer_sync, int *flags)
{
	if (tid < 0)
		return true;
	if (sc->target_temporal < sc->temporal) {
		sc->temporal = sc->target_temporal;
		*flags |= STOA_SIMULCAST_CHANGED;
	} else if (sc->target_temporal > sc->temporal) {
		if (keyframe) {
			sc->temporal = sc->target_temporal;
			*flags |= STOA_SIMULCAST_CHANGED;
		} else if (layer_sync && tid > sc->temporal && tid <= sc->target_temporal) {
			sc->temporal = tid;
			*flags |= STOA_SIMULCAST_CHANGED;
		}
	}
	return tid <= sc->temporal;
}

int stoa_simulcast_process(stoa_simulcast *sc, int substream, bool keyframe, int tid,
			   bool layer_sync, int64_t now_us)
{
	if (substream < 0 || substream >= STOA_SIMULCAST_LAYERS)
		return STOA_SIMULCAST_RELAY; /* not simulcast */
	if (!sc->started) {
		sc->started = true;
		sc->first_us = now_us;
	}
	sc->seen[substream] = true;
	sc->last_seen_us[substream] = now_us;
	int flags = 0;
	int want = wanted(sc, now_us);
	sc->pending = want != sc->substream ? want : -1;
	if (sc->pending >= 0 && substream == sc->pending && keyframe) {
		sc->substream = substream;
		sc->pending = -1;
		sc->temporal = sc->target_temporal; /* a keyframe lets every layer in */
		sc->switches++;
		flags |= STOA_SIMULCAST_CHANGED;
	}
	if (sc->pending >= 0 &&
	    now_us - sc->last_keyframe_req_us >= KEYFRAME_REQ_INTERVAL_US) {
		sc->last_keyframe_req_us = now_us;
		flags |= STOA_SIMULCAST_KEYFRAME;
	}
	if (substream != sc->substream)
		return flags;
	if (temporal_ok(sc, keyframe, tid, layer_sync, &flags))
		flags |= STOA_SIMULCAST_RELAY;
	return flags;
}
