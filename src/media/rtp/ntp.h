/*
 * ntp.h: 64-bit NTP timestamps (RFC 3550 section 4) as RTCP sender reports
 * carry them, and the "middle 32 bits" form used by LSR/DLSR (section
 * 6.4.1), in units of 1/65536 s.
 */
#ifndef STOA_MEDIA_RTP_NTP_H
#define STOA_MEDIA_RTP_NTP_H

#include <stdint.h>

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define STOA_NTP_UNIX_OFFSET UINT64_C(2208988800)

/* Wall-clock microseconds since the Unix epoch to NTP 32.32 fixed point. */
static inline uint64_t stoa_ntp_from_unix_us(int64_t us)
{
	uint64_t secs = (uint64_t)(us / 1000000) + STOA_NTP_UNIX_OFFSET;
	uint64_t frac = ((uint64_t)(us % 1000000) << 32) / 1000000;
	return (secs << 32) | frac;
}

static inline int64_t stoa_ntp_to_unix_us(uint64_t ntp)
{
	int64_t secs = (int64_t)(ntp >> 32) - (int64_t)STOA_NTP_UNIX_OFFSET;
	int64_t frac = (int64_t)(((ntp & 0xffffffffu) * 1000000) >> 32);
	return secs * 1000000 + frac;
}

/* The middle 32 bits: 16 bits of seconds, 16 bits of fraction. */
static inline uint32_t stoa_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* A duration in microseconds as 1/65536 s units (DLSR), saturating. */
static inline uint32_t stoa_ntp_units_from_us(int64_t us)
{
	if (us <= 0)
		return 0;
	uint64_t v = ((uint64_t)us << 16) / 1000000;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static inline int64_t stoa_ntp_units_to_us(uint32_t units)
{
	return (int64_t)(((uint64_t)units * 1000000) >> 16);
}

#endif
