/*
 * rtcp_internal.h: what rtcp.c, rtcp_fb.c and rtcp_twcc.c share and
 * nothing else needs.
 */
#ifndef STOA_MEDIA_RTCP_INTERNAL_H
#define STOA_MEDIA_RTCP_INTERNAL_H

#include "media/rtcp/rtcp.h"
#include "media/rtp/bytes.h"

#define STOA__RTCP_HDR_LEN 4
#define STOA__RTCP_FB_HDR_LEN 12 /* common header, sender SSRC, media SSRC */

/* Writes the 4-byte common header; `len` is the whole sub-packet, a multiple of 4. */
void stoa__rtcp_put_header(uint8_t *buf, uint8_t count, uint8_t pt, size_t len);

/* Writes the feedback header: common header plus both SSRCs. */
void stoa__rtcp_put_fb_header(uint8_t *buf, uint8_t fmt, uint8_t pt, size_t len,
			      uint32_t sender, uint32_t media);

/* Rewrites the SSRCs of one RTPFB/PSFB sub-packet `h` whose bytes are at p. */
int stoa__rtcp_fb_rewrite(uint8_t *p, const stoa_rtcp_hdr *h, stoa_rtcp_ssrc_map map, void *ud);

/* Replaces the SSRC stored at p with what `map` makes of it. */
static inline void stoa__rtcp_map_at(uint8_t *p, stoa_rtcp_ssrc_map map, void *ud,
				     stoa_rtcp_ssrc_role role)
{
	stoa_put_be32(p, map(ud, stoa_be32(p), role));
}

#endif
