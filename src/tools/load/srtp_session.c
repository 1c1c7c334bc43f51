/*
 * srtp_session.c: libsrtp2 sessions from DTLS-exported keys; see
 * srtp_session.h.
 */
#include "srtp_session.h"

#include <stdio.h>
#include <string.h>

#include "../../media/srtp/srtp_nss.h" /* header-only: how NSS is started */

/* Reordering on a loaded box can exceed libsrtp's default 128 packets. */
#define REPLAY_WINDOW 1024

/* NSS sized for many sessions, as in the server (srtp_nss.h): the tool
 * holds thousands of viewers' keys. */
static void *nss_context;

int load_srtp_global_init(void)
{
	nss_context = stoa_srtp_nss_open();
	return srtp_init() == srtp_err_status_ok ? 0 : -1;
}

void load_srtp_global_free(void)
{
	srtp_shutdown();
	stoa_srtp_nss_close(nss_context);
	nss_context = NULL;
}

static void set_policy(srtp_policy_t *p, const load_srtp_keys *k, const uint8_t *key,
		       srtp_ssrc_type_t type)
{
	memset(p, 0, sizeof(*p));
	if (k->gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	}
	p->ssrc.type = type;
	p->key = (unsigned char *)key;
	p->window_size = REPLAY_WINDOW;
	p->allow_repeat_tx = 1;
}

int load_srtp_init(load_srtp *s, const load_srtp_keys *k, char *err, size_t errlen)
{
	srtp_policy_t p;
	memset(s, 0, sizeof(*s));
	set_policy(&p, k, k->remote, ssrc_any_inbound);
	srtp_err_status_t e = srtp_create(&s->rx, &p);
	if (e == srtp_err_status_ok) {
		set_policy(&p, k, k->local, ssrc_any_outbound);
		e = srtp_create(&s->tx, &p);
	}
	if (e != srtp_err_status_ok) {
		snprintf(err, errlen, "srtp_create failed (%d)", (int)e);
		load_srtp_clear(s);
		return -1;
	}
	return 0;
}

void load_srtp_clear(load_srtp *s)
{
	if (s->rx != NULL)
		srtp_dealloc(s->rx);
	if (s->tx != NULL)
		srtp_dealloc(s->tx);
	s->rx = s->tx = NULL;
}

int load_srtp_protect(load_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
	int n = (int)*len;
	srtp_err_status_t e = rtcp ? srtp_protect_rtcp(s->tx, buf, &n) : srtp_protect(s->tx, buf, &n);
	if (e == srtp_err_status_ok)
		*len = (size_t)n;
	return (int)e;
}

int load_srtp_unprotect(load_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
	int n = (int)*len;
	srtp_err_status_t e = rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n)
				   : srtp_unprotect(s->rx, buf, &n);
	if (e == srtp_err_status_ok)
		*len = (size_t)n;
	return (int)e;
}
