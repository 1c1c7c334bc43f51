/*
 * transport.h: one peer's media transport: a libnice agent (one stream,
 * one component: BUNDLE and rtcp-mux), DTLS on top of it and the SRTP
 * sessions keyed from DTLS. What a browser's RTCPeerConnection does below
 * the SDP, minus everything the load test does not need.
 *
 * Order: load_transport_start() gathers on --ice-ip only (libnice skips
 * loopback unless told; RFC 8445 host candidates); on_gathered tells the
 * owner it can write its SDP. load_transport_set_remote() takes the
 * other side's credentials, candidates, fingerprint and our DTLS role.
 * When ICE connects, the DTLS client starts; when the handshake is done
 * and the certificate matches the SDP's fingerprint, SRTP is keyed and
 * on_ready fires. Received RTP/RTCP go to on_rtp/on_rtcp still encrypted
 * (the header is in the clear; the owner decides what to decrypt).
 *
 * Thread: everything, callbacks included, runs on the owner's worker.
 * Callbacks run inside libnice's; they must not call load_transport_close
 * (post a job instead: closing frees the agent that is calling them).
 *
 * Owner: embedded in a publisher or viewer; load_transport_close() is
 * idempotent and must run on the worker before the owner is freed.
 */
#ifndef LOAD_TRANSPORT_H
#define LOAD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nice/agent.h>

#include "dtls.h"
#include "load.h"
#include "sdp.h"
#include "srtp_session.h"
#include "worker.h"

typedef struct load_transport_ops {
	void (*on_gathered)(void *ud);
	void (*on_ready)(void *ud);
	void (*on_failed)(void *ud, load_fail why, const char *detail);
	void (*on_rtp)(void *ud, uint8_t *buf, size_t len);
	void (*on_rtcp)(void *ud, uint8_t *buf, size_t len);
} load_transport_ops;

typedef struct load_transport {
	const load_transport_ops *ops;
	void *ud;
	load_worker *w;
	NiceAgent *agent;
	guint stream;
	load_dtls *dtls;
	load_srtp srtp;
	GSource *dtls_timer;
	char fp_alg[16];
	char fp[200];
	bool dtls_client;
	bool ice_connected;
	bool gathered;
	bool ready;		/* SRTP keyed */
	bool gcm;		/* the profile is AEAD_AES_128_GCM (else AES_CM_128_HMAC_SHA1_80) */
	bool dead;		/* failed or closed: ignore everything */
} load_transport;

int load_transport_start(load_transport *t, load_worker *w, const char *ice_ip, bool controlling,
			 const load_transport_ops *ops, void *ud, char *err, size_t errlen);

/* After on_gathered: our ICE ufrag/pwd and "a=candidate:...\r\n" lines.
 * g_free() each. */
void load_transport_local(load_transport *t, char **ufrag, char **pwd, char **candidates);

/* The other side's transport; dtls_client says whether we send the
 * ClientHello. Returns 0, or -1 with err. */
int load_transport_set_remote(load_transport *t, const load_sdp *sdp, bool dtls_client, char *err,
			      size_t errlen);

/* A trickled "candidate:..." line; NULL or "" means end of candidates. */
void load_transport_add_candidate(load_transport *t, const char *line);

/* Protects buf (len bytes of RTP or RTCP, cap >= len + LOAD_SRTP_SPARE)
 * in place and sends it. Returns 0 or -1. */
int load_transport_send_srtp(load_transport *t, uint8_t *buf, size_t len, size_t cap, bool rtcp);

/* Copies an SRTP/SRTCP packet into the worker's scratch buffer and
 * unprotects it there. Returns 0 and sets *out and *out_len to the plain
 * packet, or the srtp_err_status_t. */
int load_transport_unprotect(load_transport *t, const uint8_t *buf, size_t len, bool rtcp,
			     uint8_t **out, size_t *out_len);

void load_transport_close(load_transport *t);

#endif
