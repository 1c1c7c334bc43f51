/*
 * demux.h: what a datagram on the ICE transport is, from its first bytes
 * (RFC 7983 section 7, with RFC 5761 section 4 to tell RTCP from RTP on a
 * muxed port).
 *
 *   first byte 0..3     STUN
 *   first byte 20..63   DTLS
 *   first byte 128..191 RTP or RTCP: RTCP when the second byte (RTP's
 *                       M+PT) is 192..223, the RTCP packet types
 *
 * ZRTP (16..19) and TURN channel data (64..79) are not used by WebRTC and
 * come out as unknown, as does anything too short to be what it claims.
 */
#ifndef STOA_MEDIA_RTP_DEMUX_H
#define STOA_MEDIA_RTP_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum stoa_demux_kind {
	STOA_DEMUX_UNKNOWN = 0,
	STOA_DEMUX_STUN,
	STOA_DEMUX_DTLS,
	STOA_DEMUX_RTP,
	STOA_DEMUX_RTCP,
} stoa_demux_kind;

static inline stoa_demux_kind stoa_demux_classify(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return STOA_DEMUX_UNKNOWN;
	uint8_t b = buf[0];
	if (b <= 3)
		return len >= 20 ? STOA_DEMUX_STUN : STOA_DEMUX_UNKNOWN;
	if (b >= 20 && b <= 63)
		return len >= 13 ? STOA_DEMUX_DTLS : STOA_DEMUX_UNKNOWN;
	if (b >= 128 && b <= 191) {
		/* Both carry version 2 in the top bits, which this range implies. */
		if (len >= 8 && buf[1] >= 192 && buf[1] <= 223)
			return STOA_DEMUX_RTCP;
		return len >= 12 ? STOA_DEMUX_RTP : STOA_DEMUX_UNKNOWN;
	}
	return STOA_DEMUX_UNKNOWN;
}

#endif
