/*
 * dcep.h: the wire format of the Data Channel Establishment Protocol
 * (RFC 8832 §5) and the data channel payload protocol identifiers
 * (RFC 8831 §8, RFC 8832 §8.1). Pure functions over buffers, any thread.
 */
#ifndef STOA_MEDIA_SCTP_DCEP_H
#define STOA_MEDIA_SCTP_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/sctp/sctp.h"

/* SCTP payload protocol identifiers (host byte order). */
#define STOA_DC_PPID_DCEP 50
#define STOA_DC_PPID_STRING 51
#define STOA_DC_PPID_BINARY 53
#define STOA_DC_PPID_STRING_EMPTY 56
#define STOA_DC_PPID_BINARY_EMPTY 57

/* DCEP message types (RFC 8832 §8.2.1). */
#define STOA_DCEP_ACK 0x02
#define STOA_DCEP_OPEN 0x03

/* Fixed part of DATA_CHANNEL_OPEN: type, channel type, priority,
 * reliability parameter, label length, protocol length. */
#define STOA_DCEP_OPEN_HEADER 12
#define STOA_DCEP_DEFAULT_PRIORITY 256

/* A parsed DATA_CHANNEL_OPEN; label and protocol point into the buffer. */
typedef struct stoa_dcep_open {
	bool ordered;
	stoa_sctp_pr pr;
	uint32_t pr_value;
	uint16_t priority;
	const uint8_t *label;
	uint16_t label_len;
	const uint8_t *protocol;
	uint16_t protocol_len;
} stoa_dcep_open;

/* 0 if buf holds a well-formed DATA_CHANNEL_OPEN with a known channel
 * type; negative otherwise. */
int stoa_dcep_parse_open(const uint8_t *buf, size_t len, stoa_dcep_open *out);
/* Writes a DATA_CHANNEL_OPEN; returns its length, or 0 if it does not fit
 * in `size` or a string is longer than 65535 bytes. */
size_t stoa_dcep_write_open(uint8_t *buf, size_t size, const stoa_dcep_open *open);

/* PPID for a message; empty messages have their own (RFC 8831 §6.6). */
uint32_t stoa_dc_ppid_for(bool binary, size_t len);
/* Classifies a received PPID: 0, with *binary and *empty set, for a user message;
 * negative for DCEP or anything else. */
int stoa_dc_ppid_classify(uint32_t ppid, bool *binary, bool *empty);

#endif
