/*
 * bytes.h: big-endian (network order) loads and stores on byte buffers.
 *
 * RTP and RTCP fields are read where they lie in the packet, never copied
 * into a struct first, so every parser goes through these. They make no
 * alignment assumption and do no bounds checks: the caller has checked the
 * length once for the whole field group it reads.
 */
#ifndef STOA_MEDIA_RTP_BYTES_H
#define STOA_MEDIA_RTP_BYTES_H

#include <stdint.h>

static inline uint16_t stoa_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t stoa_be24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t stoa_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t stoa_be64(const uint8_t *p)
{
	return ((uint64_t)stoa_be32(p) << 32) | stoa_be32(p + 4);
}

static inline void stoa_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void stoa_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void stoa_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void stoa_put_be64(uint8_t *p, uint64_t v)
{
	stoa_put_be32(p, (uint32_t)(v >> 32));
	stoa_put_be32(p + 4, (uint32_t)v);
}

#endif
