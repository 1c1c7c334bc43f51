/*
 * dtls.c: one DTLS-SRTP endpoint over a callback BIO (see dtls.h).
 *
 * Design. OpenSSL talks to the network through a BIO of our own rather than
 * memory BIOs: a read returns exactly the datagram being fed by
 * stoa_dtls_incoming() and then "retry", and each write (one record, or one
 * MTU-sized handshake fragment) goes straight to the send callback. So
 * datagram boundaries survive in both directions, which DTLS needs (RFC 6347
 * §4.1.1: a record never spans datagrams), and nothing is buffered here.
 * We set the MTU ourselves (SSL_OP_NO_QUERY_MTU) because there is no socket
 * to ask; OpenSSL fragments handshake messages to it (RFC 6347 §4.2.3).
 *
 * The peer's certificate is checked in the verification callback, while the
 * handshake runs: its hash, with the function the SDP named, must equal the
 * a=fingerprint (RFC 5763 §5, RFC 8122 §5), compared in constant time. On a
 * mismatch OpenSSL aborts the handshake with a bad_certificate alert before
 * any key is derived, and the endpoint fails with "DTLS fingerprint mismatch".
 *
 * Once the peer has shown it finished the handshake, the owner may release
 * the endpoint: the record keys go to record.c and the SSL is freed, which
 * saves ~50 KB per peer (record.h says why it is safe and what is kept).
 *
 * Retransmission (RFC 6347 §4.2.4) is OpenSSL's; we only choose the timer
 * values through DTLS_set_timer_cb() and let the owner drive the clock.
 *
 * SRTP keys come from the exporter with the label "EXTRACTOR-dtls_srtp"
 * (RFC 5764 §4.2), laid out as client key, server key, client salt, server
 * salt; the lengths are the profile's (RFC 5764 §4.1.2, RFC 7714 §12).
 *
 * Threads: one owner thread per endpoint (see dtls.h). The BIO_METHOD is
 * process-wide, created once and read-only. The OpenSSL error queue is per
 * thread, so it is cleared before each call whose result we inspect.
 */
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "media/dtls/dtls.h"
#include "media/dtls/fingerprint.h"
#include "media/dtls/record.h"

#define STOA_LOG_MODULE "dtls"
#include "core/log.h"

/* Log lines name the session and handle the endpoint belongs to. */
#define DLOG(d, level, ...) STOA_LOG_S(level, (d)->session_id, (d)->handle_id, __VA_ARGS__)

#define REASON_ALERT "DTLS alert"
#define REASON_ERROR "DTLS error"
#define REASON_MISMATCH "DTLS fingerprint mismatch"
#define REASON_TIMEOUT "DTLS timeout"

#define DEFAULT_INITIAL_TIMEOUT_US 1000000u /* RFC 6347 §4.2.4.1 */
#define DEFAULT_MAX_TIMEOUT_US 60000000u    /* ditto: at least 60 s */
#define MAX_RECORD SSL3_RT_MAX_PLAIN_LENGTH
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

/* Owned by the peer connection; used on its media loop thread only. */
struct stoa_dtls {
	SSL *ssl; /* owns the BIO; NULL once released */
	stoa_dtls_record *record; /* after stoa_dtls_release() */
	uint64_t next_write_seq;  /* OpenSSL's next epoch-1 sequence number */
	size_t app_mtu;		  /* kept at release: DTLS_get_data_mtu() */
	stoa_dtls_callbacks cbs;
	void *ud;
	stoa_dtls_role role;
	stoa_dtls_state state;
	const char *reason; /* static string, for FAILED and CLOSED */

	/* The peer's a=fingerprint. */
	const EVP_MD *fp_md;
	uint8_t fp[STOA_FINGERPRINT_MAX_MD];
	size_t fp_len;
	char *fp_alg_text, *fp_text; /* as given, for the Admin API */
	int fp_result;		     /* 0 not checked, 1 matched, -1 mismatched */

	/* The datagram stoa_dtls_incoming() is feeding; the BIO reads it once. */
	const uint8_t *in_buf;
	size_t in_len;

	unsigned initial_timeout_us, max_timeout_us;
	unsigned retransmissions;
	stoa_srtp_profile profile;
	stoa_dtls_stats stats;

	uint64_t session_id, handle_id; /* for log lines */

	/* Deferred free and release: a callback may ask for either mid-call. */
	int depth;
	bool free_pending;
	bool release_pending;
};

/* ------------------------------------------------------------ datagram BIO */

static int bio_write(BIO *b, const char *buf, int len)
{
	stoa_dtls *d = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (d == NULL || len <= 0)
		return 0;
	/* After a free was requested the owner's send target may be gone;
	 * the datagram is dropped as if the network had lost it. */
	if (!d->free_pending) {
		d->next_write_seq = stoa_dtls_record_next_seq((const uint8_t *)buf, (size_t)len, 1,
							      d->next_write_seq);
		d->stats.out_packets++;
		d->stats.out_bytes += (uint64_t)len;
		d->cbs.send(d->ud, (const uint8_t *)buf, (size_t)len);
	}
	return len;
}

/* Sends a datagram we built ourselves, after the release. */
static void bio_send_released(stoa_dtls *d, const uint8_t *buf, size_t len)
{
	d->stats.out_packets++;
	d->stats.out_bytes += (uint64_t)len;
	d->cbs.send(d->ud, buf, len);
}

static int bio_read(BIO *b, char *buf, int len)
{
	stoa_dtls *d = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (d == NULL || d->in_buf == NULL || len <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	/* OpenSSL's read buffer holds any legal datagram; a longer one is cut,
	 * and the record check drops what is left. */
	size_t n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
	memcpy(buf, d->in_buf, n);
	d->in_buf = NULL;
	d->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	stoa_dtls *d = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return d != NULL && d->in_buf != NULL ? (long)d->in_len : 0;
	default:
		/* Nothing buffered (WPENDING), no per-datagram overhead, no MTU
		 * to query: 0 is the right answer to everything else. */
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int bio_destroy(BIO *b)
{
	BIO_set_data(b, NULL);
	return 1;
}

/* Process-wide and never freed: reachable for the life of the process. */
static BIO_METHOD *datagram_bio_method(void)
{
	static gsize once;
	static BIO_METHOD *method;
	if (g_once_init_enter(&once)) {
		BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
					     "stoa DTLS datagram");
		if (m != NULL && (BIO_meth_set_write(m, bio_write) != 1 ||
				  BIO_meth_set_read(m, bio_read) != 1 ||
				  BIO_meth_set_ctrl(m, bio_ctrl) != 1 ||
				  BIO_meth_set_create(m, bio_create) != 1 ||
				  BIO_meth_set_destroy(m, bio_destroy) != 1)) {
			BIO_meth_free(m);
			m = NULL;
		}
		method = m;
		g_once_init_leave(&once, 1);
	}
	return method;
}

/* ------------------------------------------------------------ state */

static void enter(stoa_dtls *d)
{
	d->depth++;
}

static void destroy(stoa_dtls *d)
{
	SSL_free(d->ssl);
	stoa_dtls_record_free(d->record);
	g_free(d->fp_alg_text);
	g_free(d->fp_text);
	g_free(d);
}

/* Ends a public call; frees the endpoint if a callback asked for it. The
 * caller must not touch `d` afterwards. */
static int release_now(stoa_dtls *d);

static void leave(stoa_dtls *d)
{
	if (--d->depth > 0)
		return;
	if (d->free_pending) {
		destroy(d);
	} else if (d->release_pending) {
		d->release_pending = false;
		release_now(d);
	}
}

static void set_state(stoa_dtls *d, stoa_dtls_state state, const char *reason)
{
	if (d->state == state)
		return;
	d->state = state;
	d->reason = reason;
	if (d->cbs.state != NULL && !d->free_pending)
		d->cbs.state(d->ud, state, reason);
}

/* Why the handshake failed, from what we know and OpenSSL's error queue. */
static const char *handshake_failure_reason(const stoa_dtls *d)
{
	if (d->fp_result < 0)
		return REASON_MISMATCH;
	if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_READ_TIMEOUT_EXPIRED)
		return REASON_TIMEOUT; /* retries exhausted while reading */
	return REASON_ERROR;
}

/* Logs the failure of `what` with OpenSSL's reason, and what it means for
 * the endpoint (`outcome`, may be NULL); empties the error queue. */
static void log_ssl_failure(const stoa_dtls *d, const char *what, const char *outcome)
{
	char detail[256] = "no detail";
	unsigned long e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	DLOG(d, STOA_LOG_WARN, "%s failed (%s role): %s%s%s", what,
	     stoa_dtls_role_setup_name(d->role), detail, outcome ? ": " : "",
	     outcome ? outcome : "");
}

/* The caller has logged why. */
static void fail(stoa_dtls *d, const char *reason)
{
	/* The expiry that exhausted the retries retransmitted nothing. */
	if (strcmp(reason, REASON_TIMEOUT) == 0 && d->retransmissions > 0)
		d->retransmissions--;
	set_state(d, STOA_DTLS_STATE_FAILED, reason);
}

/* ------------------------------------------------------------ OpenSSL callbacks */

static int check_fingerprint(stoa_dtls *d, X509 *cert)
{
	uint8_t md[STOA_FINGERPRINT_MAX_MD];
	if (d->fp_md == NULL) {
		DLOG(d, STOA_LOG_WARN, "peer certificate arrived before its fingerprint");
		return -1;
	}
	int n = stoa_fingerprint_digest(cert, d->fp_md, md);
	if (n < 0 || (size_t)n != d->fp_len || CRYPTO_memcmp(md, d->fp, d->fp_len) != 0) {
		char got[STOA_FINGERPRINT_MAX_TEXT] = "?";
		if (n > 0)
			stoa_fingerprint_format(md, (size_t)n, got, sizeof(got));
		DLOG(d, STOA_LOG_WARN, "peer certificate is %s %s, the SDP says %s",
		     d->fp_alg_text, got, d->fp_text);
		return -1;
	}
	return 1;
}

/* Called by OpenSSL for each certificate of the peer's chain, possibly
 * several times for the leaf. Only the leaf (depth 0) is ours to judge, and
 * only by its fingerprint; CA errors such as "self-signed" are ignored. */
static int verify_peer(int preverify_ok, X509_STORE_CTX *store)
{
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	stoa_dtls *d = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	if (d == NULL)
		return 0;
	if (d->fp_result == 0)
		d->fp_result = check_fingerprint(d, X509_STORE_CTX_get_current_cert(store));
	if (d->fp_result < 0) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

/* OpenSSL asks with 0 when a flight starts its timer and with the last
 * value when the timer expired: the initial timeout, then doubling. */
static unsigned int timer_cb(SSL *ssl, unsigned int previous_us)
{
	stoa_dtls *d = SSL_get_app_data(ssl);
	if (previous_us == 0)
		return d->initial_timeout_us;
	/* An expiry means a retransmission follows, whether the owner's timer
	 * found it (stoa_dtls_handle_timeout) or OpenSSL did on its own while
	 * reading a datagram. */
	d->retransmissions++;
	return previous_us >= d->max_timeout_us / 2 ? d->max_timeout_us : previous_us * 2;
}

/* ------------------------------------------------------------ handshake */

static stoa_srtp_profile profile_from_openssl(SSL *ssl)
{
	const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);
	if (p == NULL)
		return STOA_SRTP_PROFILE_NONE;
	switch (p->id) {
	case SRTP_AES128_CM_SHA1_80:
		return STOA_SRTP_AES128_CM_SHA1_80;
	case SRTP_AEAD_AES_128_GCM:
		return STOA_SRTP_AEAD_AES_128_GCM;
	default:
		return STOA_SRTP_PROFILE_NONE;
	}
}

static void handshake_done(stoa_dtls *d)
{
	/* Without resumption every handshake verified a certificate; this is
	 * a second lock on the door, not the first. */
	if (d->fp_result <= 0 || SSL_get0_peer_certificate(d->ssl) == NULL) {
		DLOG(d, STOA_LOG_WARN, "handshake ended without a verified peer certificate");
		fail(d, REASON_MISMATCH);
		return;
	}
	d->profile = profile_from_openssl(d->ssl);
	if (d->profile == STOA_SRTP_PROFILE_NONE)
		DLOG(d, STOA_LOG_WARN, "the peer negotiated no SRTP profile: data channels only");
	DLOG(d, STOA_LOG_VERB, "DTLS connected as %s: %s, %s, %s",
	     d->role == STOA_DTLS_ROLE_ACTIVE ? "client" : "server", SSL_get_version(d->ssl),
	     SSL_get_cipher_name(d->ssl), stoa_srtp_profile_name(d->profile));
	set_state(d, STOA_DTLS_STATE_CONNECTED, NULL);
}

static void advance_handshake(stoa_dtls *d)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(d->ssl);
	if (rc == 1) {
		handshake_done(d);
		return;
	}
	int e = SSL_get_error(d->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	const char *reason = handshake_failure_reason(d);
	log_ssl_failure(d, "DTLS handshake", reason);
	fail(d, reason);
}

static void start_handshake(stoa_dtls *d)
{
	set_state(d, STOA_DTLS_STATE_CONNECTING, NULL);
	if (d->state == STOA_DTLS_STATE_CONNECTING && d->role == STOA_DTLS_ROLE_ACTIVE)
		advance_handshake(d); /* sends the ClientHello */
}

/* Decrypts every record left in the current datagram. */
static void read_records(stoa_dtls *d)
{
	uint8_t buf[MAX_RECORD];
	while (d->state == STOA_DTLS_STATE_CONNECTED && !d->free_pending) {
		ERR_clear_error();
		int n = SSL_read(d->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (d->cbs.app_data != NULL)
				d->cbs.app_data(d->ud, buf, (size_t)n);
			continue;
		}
		int e = SSL_get_error(d->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return;
		if (e == SSL_ERROR_ZERO_RETURN) {
			DLOG(d, STOA_LOG_VERB, "the peer closed the DTLS association");
			set_state(d, STOA_DTLS_STATE_CLOSED, REASON_ALERT);
			return;
		}
		log_ssl_failure(d, "DTLS read", REASON_ERROR);
		fail(d, REASON_ERROR);
	}
}

/* RFC 7983 §7: a DTLS record starts with a content type in 20..63, and its
 * header alone is 13 octets. */
static bool is_dtls(const uint8_t *buf, size_t len)
{
	return buf != NULL && len >= 13 && buf[0] >= 20 && buf[0] <= 63;
}

/* ------------------------------------------------------------ released */

/* Our close_notify (RFC 5246 §7.2.1), through the record layer. */
static void send_close_notify_released(stoa_dtls *d)
{
	static const uint8_t close_notify[2] = { 1, 0 }; /* warning, close_notify */
	uint8_t rec[STOA_DTLS_RECORD_OVERHEAD + sizeof(close_notify)];
	int n = stoa_dtls_record_seal(d->record, STOA_DTLS_CT_ALERT, close_notify,
				      sizeof(close_notify), rec, sizeof(rec));
	if (n > 0)
		bio_send_released(d, rec, (size_t)n);
}

static void alert_released(stoa_dtls *d, const uint8_t *alert, size_t len)
{
	if (len < 2)
		return;
	if (alert[1] == 0) { /* close_notify */
		DLOG(d, STOA_LOG_VERB, "the peer closed the DTLS association");
		set_state(d, STOA_DTLS_STATE_CLOSED, REASON_ALERT);
	} else if (alert[0] == 2) { /* fatal */
		DLOG(d, STOA_LOG_WARN, "DTLS read failed: fatal alert %u from the peer: %s",
		     alert[1], REASON_ERROR);
		fail(d, REASON_ERROR);
	}
}

/* Every record of one datagram after the release. Records that fail the
 * checks (another epoch, forged, replayed) are dropped and counted. */
static void incoming_released(stoa_dtls *d, const uint8_t *in, size_t len)
{
	uint8_t buf[MAX_RECORD + STOA_DTLS_RECORD_OVERHEAD];
	len = MIN(len, sizeof(buf)); /* the record check drops a cut record */
	memcpy(buf, in, len);	     /* records are opened in place */
	uint8_t *p = buf;
	while (len > 0 && d->state == STOA_DTLS_STATE_CONNECTED && !d->free_pending) {
		uint8_t type, *plain;
		size_t plain_len, used = stoa_dtls_record_open(d->record, p, len, &type, &plain,
							       &plain_len);
		if (used == 0)
			break;
		p += used;
		len -= used;
		if (plain == NULL) {
			d->stats.dropped_records++;
			STOA_LOG_RATELIMITED(STOA_LOG_VERB, 10,
					     "DTLS record dropped (type %u): not epoch 1, forged or replayed",
					     type);
		} else if (type == STOA_DTLS_CT_APPLICATION_DATA && plain_len > 0) {
			if (d->cbs.app_data != NULL)
				d->cbs.app_data(d->ud, plain, plain_len);
		} else if (type == STOA_DTLS_CT_ALERT) {
			alert_released(d, plain, plain_len);
		}
	}
}

/* Replaces OpenSSL with the record layer; not from inside a call. */
static int release_now(stoa_dtls *d)
{
	if (d->state != STOA_DTLS_STATE_CONNECTED || d->ssl == NULL)
		return d->record != NULL ? 0 : -1;
	stoa_dtls_record *r = stoa_dtls_record_new(d->ssl, d->role == STOA_DTLS_ROLE_PASSIVE,
						   d->next_write_seq);
	if (r == NULL) {
		DLOG(d, STOA_LOG_VERB, "DTLS state kept: %s is not an AEAD suite",
		     SSL_get_cipher_name(d->ssl));
		return -1;
	}
	d->app_mtu = DTLS_get_data_mtu(d->ssl);
	SSL_free(d->ssl);
	d->ssl = NULL;
	d->record = r;
	return 0;
}

/* ------------------------------------------------------------ public */

stoa_dtls *stoa_dtls_new(const stoa_dtls_cert *cert, stoa_dtls_role role,
			 const char *remote_fingerprint_alg, const char *remote_fingerprint,
			 const stoa_dtls_callbacks *cbs, void *ud)
{
	BIO_METHOD *method = datagram_bio_method();
	if (cert == NULL || cbs == NULL || cbs->send == NULL || method == NULL)
		return NULL;
	stoa_dtls *d = g_new0(stoa_dtls, 1);
	d->cbs = *cbs;
	d->ud = ud;
	d->role = role;
	d->initial_timeout_us = DEFAULT_INITIAL_TIMEOUT_US;
	d->max_timeout_us = DEFAULT_MAX_TIMEOUT_US;
	if (remote_fingerprint != NULL &&
	    stoa_dtls_set_remote_fingerprint(d, remote_fingerprint_alg, remote_fingerprint) < 0) {
		DLOG(d, STOA_LOG_WARN, "unusable remote fingerprint: %s %s",
		     remote_fingerprint_alg ? remote_fingerprint_alg : "(no hash)",
		     remote_fingerprint);
		destroy(d);
		return NULL;
	}
	d->ssl = SSL_new(stoa_dtls_cert_ssl_ctx(cert));
	BIO *bio = d->ssl != NULL ? BIO_new(method) : NULL;
	if (bio == NULL) {
		log_ssl_failure(d, "SSL_new", NULL);
		destroy(d);
		return NULL;
	}
	BIO_set_data(bio, d);
	SSL_set_bio(d->ssl, bio, bio); /* one reference, now the SSL's */
	SSL_set_app_data(d->ssl, d);
	SSL_set_verify(d->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_peer);
	SSL_set_mtu(d->ssl, stoa_dtls_cert_mtu(cert));
	DTLS_set_timer_cb(d->ssl, timer_cb);
	if (role == STOA_DTLS_ROLE_ACTIVE)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	return d;
}

int stoa_dtls_set_remote_fingerprint(stoa_dtls *d, const char *alg, const char *fingerprint)
{
	uint8_t fp[STOA_FINGERPRINT_MAX_MD];
	const EVP_MD *md = stoa_fingerprint_md(alg);
	int n = stoa_fingerprint_parse(fingerprint, fp);
	if (md == NULL || n != EVP_MD_get_size(md) || d->fp_result != 0)
		return -1;
	d->fp_md = md;
	memcpy(d->fp, fp, (size_t)n);
	d->fp_len = (size_t)n;
	g_free(d->fp_alg_text);
	g_free(d->fp_text);
	d->fp_alg_text = g_strdup(alg);
	d->fp_text = g_strdup(fingerprint);
	return 0;
}

void stoa_dtls_set_log_ids(stoa_dtls *d, uint64_t session_id, uint64_t handle_id)
{
	d->session_id = session_id;
	d->handle_id = handle_id;
}

void stoa_dtls_set_retransmit_timeouts(stoa_dtls *d, unsigned initial_ms, unsigned max_ms)
{
	/* OpenSSL treats a timer with less than 15 ms left as expired, so a
	 * shorter one would retransmit at once on every read, in a loop. The
	 * hour cap keeps the µs values in range. */
	initial_ms = CLAMP(initial_ms, STOA_DTLS_MIN_TIMEOUT_MS, 3600000u);
	max_ms = CLAMP(max_ms, initial_ms, 3600000u);
	d->initial_timeout_us = initial_ms * 1000u;
	d->max_timeout_us = max_ms * 1000u;
}

int stoa_dtls_start(stoa_dtls *d)
{
	if (d->state != STOA_DTLS_STATE_NEW)
		return -1;
	enter(d);
	start_handshake(d);
	int rc = d->state == STOA_DTLS_STATE_FAILED ? -1 : 0;
	leave(d);
	return rc;
}

void stoa_dtls_incoming(stoa_dtls *d, const uint8_t *buf, size_t len)
{
	if (!is_dtls(buf, len))
		return;
	enter(d);
	if (d->state == STOA_DTLS_STATE_NEW)
		start_handshake(d);
	if ((d->state == STOA_DTLS_STATE_CONNECTING || d->state == STOA_DTLS_STATE_CONNECTED) &&
	    !d->free_pending) {
		d->stats.in_packets++;
		d->stats.in_bytes += len;
		if (d->record != NULL) {
			incoming_released(d, buf, len);
			leave(d);
			return;
		}
		d->in_buf = buf;
		d->in_len = len;
		if (d->state == STOA_DTLS_STATE_CONNECTING)
			advance_handshake(d);
		/* Records after the Finished may share its datagram. */
		read_records(d);
		d->in_buf = NULL;
		d->in_len = 0;
	}
	leave(d);
}

int64_t stoa_dtls_timeout_us(const stoa_dtls *d)
{
	struct timeval tv;
	if ((d->state != STOA_DTLS_STATE_CONNECTING && d->state != STOA_DTLS_STATE_CONNECTED) ||
	    d->ssl == NULL)
		return -1;
	if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return -1;
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int stoa_dtls_handle_timeout(stoa_dtls *d)
{
	if ((d->state != STOA_DTLS_STATE_CONNECTING && d->state != STOA_DTLS_STATE_CONNECTED) ||
	    d->ssl == NULL)
		return 0;
	enter(d);
	ERR_clear_error();
	int r = (int)DTLSv1_handle_timeout(d->ssl);
	if (r > 0) {
		DLOG(d, STOA_LOG_VERB, "DTLS flight retransmitted (%u so far)", d->retransmissions);
	} else if (r < 0) {
		log_ssl_failure(d, "DTLS retransmission", REASON_TIMEOUT);
		fail(d, REASON_TIMEOUT);
	}
	leave(d);
	return r > 0 ? 1 : r < 0 ? -1 : 0;
}

int stoa_dtls_send_app(stoa_dtls *d, const uint8_t *buf, size_t len)
{
	if (d->state != STOA_DTLS_STATE_CONNECTED || len == 0 || len > MAX_RECORD)
		return -1;
	if (d->record != NULL) {
		uint8_t rec[MAX_RECORD + STOA_DTLS_RECORD_OVERHEAD];
		int n = stoa_dtls_record_seal(d->record, STOA_DTLS_CT_APPLICATION_DATA, buf, len, rec,
					      sizeof(rec));
		if (n < 0)
			return -1;
		enter(d);
		bio_send_released(d, rec, (size_t)n);
		leave(d);
		return 0;
	}
	enter(d);
	ERR_clear_error();
	int n = SSL_write(d->ssl, buf, (int)len);
	int rc = n == (int)len ? 0 : -1;
	if (rc < 0) {
		bool fatal = SSL_get_error(d->ssl, n) == SSL_ERROR_SSL;
		log_ssl_failure(d, "DTLS write", fatal ? REASON_ERROR : NULL);
		if (fatal)
			fail(d, REASON_ERROR);
	}
	leave(d);
	return rc;
}

void stoa_dtls_close(stoa_dtls *d)
{
	if (d->state == STOA_DTLS_STATE_CLOSED || d->state == STOA_DTLS_STATE_FAILED)
		return;
	enter(d);
	if (d->state == STOA_DTLS_STATE_CONNECTED && d->record != NULL) {
		send_close_notify_released(d);
	} else if (d->state == STOA_DTLS_STATE_CONNECTED) {
		ERR_clear_error();
		SSL_shutdown(d->ssl); /* sends close_notify; we do not wait for the peer's */
		ERR_clear_error();
	}
	d->state = STOA_DTLS_STATE_CLOSED;
	d->reason = NULL;
	leave(d);
}

void stoa_dtls_free(stoa_dtls *d)
{
	if (d == NULL)
		return;
	if (d->depth > 0) {
		d->free_pending = true;
		return;
	}
	destroy(d);
}

int stoa_dtls_srtp_keys(const stoa_dtls *d, stoa_srtp_keys *out)
{
	size_t kl, sl;
	uint8_t km[2 * STOA_SRTP_MAX_MASTER_LEN];
	if (d->state != STOA_DTLS_STATE_CONNECTED || d->ssl == NULL ||
	    stoa_srtp_profile_lengths(d->profile, &kl, &sl) < 0)
		return -1;
	ERR_clear_error();
	if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), NULL, 0, 0) != 1) {
		log_ssl_failure(d, "SRTP key export", NULL);
		return -1;
	}
	const uint8_t *client_key = km, *server_key = km + kl;
	const uint8_t *client_salt = km + 2 * kl, *server_salt = km + 2 * kl + sl;
	bool client = d->role == STOA_DTLS_ROLE_ACTIVE;
	memset(out, 0, sizeof(*out));
	out->profile = d->profile;
	out->key_len = kl;
	out->salt_len = sl;
	memcpy(out->local, client ? client_key : server_key, kl);
	memcpy(out->local + kl, client ? client_salt : server_salt, sl);
	memcpy(out->remote, client ? server_key : client_key, kl);
	memcpy(out->remote + kl, client ? server_salt : client_salt, sl);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

int stoa_dtls_release(stoa_dtls *d)
{
	if (d->depth > 0) {
		d->release_pending = true;
		return d->state == STOA_DTLS_STATE_CONNECTED ? 0 : -1;
	}
	return release_now(d);
}

bool stoa_dtls_released(const stoa_dtls *d)
{
	return d->record != NULL;
}

stoa_dtls_state stoa_dtls_get_state(const stoa_dtls *d)
{
	return d->state;
}

stoa_dtls_role stoa_dtls_get_role(const stoa_dtls *d)
{
	return d->role;
}

const char *stoa_dtls_get_reason(const stoa_dtls *d)
{
	return d->reason;
}

bool stoa_dtls_fingerprint_verified(const stoa_dtls *d)
{
	return d->fp_result > 0;
}

stoa_srtp_profile stoa_dtls_srtp_profile(const stoa_dtls *d)
{
	return d->profile;
}

size_t stoa_dtls_app_mtu(const stoa_dtls *d)
{
	if (d->state != STOA_DTLS_STATE_CONNECTED)
		return 0;
	return d->ssl != NULL ? DTLS_get_data_mtu(d->ssl) : d->app_mtu;
}

unsigned stoa_dtls_retransmissions(const stoa_dtls *d)
{
	return d->retransmissions;
}

void stoa_dtls_get_stats(const stoa_dtls *d, stoa_dtls_stats *out)
{
	*out = d->stats;
}

const char *stoa_dtls_remote_fingerprint(const stoa_dtls *d, const char **alg)
{
	if (alg != NULL)
		*alg = d->fp_alg_text;
	return d->fp_text;
}

const char *stoa_dtls_state_name(stoa_dtls_state state)
{
	switch (state) {
	case STOA_DTLS_STATE_NEW:
		return "created";
	case STOA_DTLS_STATE_CONNECTING:
		return "trying";
	case STOA_DTLS_STATE_CONNECTED:
		return "connected";
	case STOA_DTLS_STATE_FAILED:
		return "failed";
	case STOA_DTLS_STATE_CLOSED:
		return "closed";
	}
	return "unknown";
}

const char *stoa_dtls_role_setup_name(stoa_dtls_role role)
{
	return role == STOA_DTLS_ROLE_ACTIVE ? "active" : "passive";
}

int stoa_dtls_role_for_remote_setup(const char *remote, stoa_dtls_role *out)
{
	if (remote == NULL)
		return -1;
	if (g_ascii_strcasecmp(remote, "passive") == 0 ||
	    g_ascii_strcasecmp(remote, "actpass") == 0)
		*out = STOA_DTLS_ROLE_ACTIVE;
	else if (g_ascii_strcasecmp(remote, "active") == 0)
		*out = STOA_DTLS_ROLE_PASSIVE;
	else
		return -1;
	return 0;
}
