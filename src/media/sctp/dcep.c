/*
 * dcep.c: DATA_CHANNEL_OPEN encoding and parsing (RFC 8832 §5.1) and the
 * PPIDs of user messages (RFC 8831 §6.6, §8). All fields are big-endian.
 * No state; any thread.
 */
#include <string.h>

#include "media/sctp/dcep.h"

/* RFC 8832 §5.1: the high bit of the channel type means unordered, the
 * low bits the reliability policy. */
#define CHANNEL_UNORDERED 0x80
#define CHANNEL_RELIABLE 0x00
#define CHANNEL_PR_REXMIT 0x01
#define CHANNEL_PR_TIMED 0x02

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int stoa_dcep_parse_open(const uint8_t *buf, size_t len, stoa_dcep_open *out)
{
	uint8_t type;

	if (len < STOA_DCEP_OPEN_HEADER || buf[0] != STOA_DCEP_OPEN)
		return -1;
	type = buf[1];
	switch (type & ~CHANNEL_UNORDERED) {
	case CHANNEL_RELIABLE:
		out->pr = STOA_SCTP_PR_NONE;
		break;
	case CHANNEL_PR_REXMIT:
		out->pr = STOA_SCTP_PR_RTX;
		break;
	case CHANNEL_PR_TIMED:
		out->pr = STOA_SCTP_PR_TTL;
		break;
	default:
		return -1;
	}
	out->ordered = !(type & CHANNEL_UNORDERED);
	out->priority = get16(buf + 2);
	/* The reliability parameter is ignored for reliable channels. */
	out->pr_value = out->pr == STOA_SCTP_PR_NONE ? 0 : get32(buf + 4);
	out->label_len = get16(buf + 8);
	out->protocol_len = get16(buf + 10);
	if ((size_t)STOA_DCEP_OPEN_HEADER + out->label_len + out->protocol_len > len)
		return -1;
	out->label = buf + STOA_DCEP_OPEN_HEADER;
	out->protocol = out->label + out->label_len;
	return 0;
}

static uint8_t channel_type(const stoa_dcep_open *open)
{
	uint8_t t = CHANNEL_RELIABLE;

	if (open->pr == STOA_SCTP_PR_RTX)
		t = CHANNEL_PR_REXMIT;
	else if (open->pr == STOA_SCTP_PR_TTL)
		t = CHANNEL_PR_TIMED;
	return open->ordered ? t : (uint8_t)(t | CHANNEL_UNORDERED);
}

size_t stoa_dcep_write_open(uint8_t *buf, size_t size, const stoa_dcep_open *open)
{
	size_t need = (size_t)STOA_DCEP_OPEN_HEADER + open->label_len + open->protocol_len;

	if (need > size)
		return 0;
	buf[0] = STOA_DCEP_OPEN;
	buf[1] = channel_type(open);
	put16(buf + 2, open->priority);
	put32(buf + 4, open->pr == STOA_SCTP_PR_NONE ? 0 : open->pr_value);
	put16(buf + 8, open->label_len);
	put16(buf + 10, open->protocol_len);
	if (open->label_len)
		memcpy(buf + STOA_DCEP_OPEN_HEADER, open->label, open->label_len);
	if (open->protocol_len)
		memcpy(buf + STOA_DCEP_OPEN_HEADER + open->label_len, open->protocol,
		       open->protocol_len);
	return need;
}

uint32_t stoa_dc_ppid_for(bool binary, size_t len)
{
	if (binary)
		return len ? STOA_DC_PPID_BINARY : STOA_DC_PPID_BINARY_EMPTY;
	return len ? STOA_DC_PPID_STRING : STOA_DC_PPID_STRING_EMPTY;
}

int stoa_dc_ppid_classify(uint32_t ppid, bool *binary, bool *empty)
{
	switch (ppid) {
	case STOA_DC_PPID_STRING:
	case STOA_DC_PPID_STRING_EMPTY:
		*binary = false;
		break;
	case STOA_DC_PPID_BINARY:
	case STOA_DC_PPID_BINARY_EMPTY:
		*binary = true;
		break;
	default:
		return -1;
	}
	*empty = ppid == STOA_DC_PPID_STRING_EMPTY || ppid == STOA_DC_PPID_BINARY_EMPTY;
	return 0;
}
