/*
 * tls_selfsigned.h: the self-signed certificate HTTPS and WSS use when none
 * is configured, so that Stoa can be tried across a LAN (browsers allow the
 * camera only in a secure context, and http://<LAN address> is not one).
 *
 * One certificate per server, shared by the HTTP and WebSocket transports:
 * ECDSA P-256 signed with SHA-256, X.509 v3, valid for
 * STOA_TLS_SELFSIGNED_DAYS, with subjectAltName entries for localhost, the
 * host name, 127.0.0.1, ::1 and every address of the machine's interfaces,
 * CA:FALSE and extendedKeyUsage serverAuth. It lives in memory as PEM text;
 * when the configs folder is writable it is also kept in
 * <configs_folder>/stoa-selfsigned.pem (mode 0600) and reused on later runs
 * while it stays valid, private and names this machine, so that a browser's
 * exception survives restarts.
 *
 * This is not the DTLS certificate (media/dtls/cert.c): that one is never
 * shown to a person and has nothing to do with host names.
 *
 * Threads: the main thread, at start-up (the transports ask for the shared
 * one while starting) and at shutdown (the server frees it after both
 * transports stopped). The stand-alone functions touch no shared state.
 */
#ifndef STOA_CORE_TLS_SELFSIGNED_H
#define STOA_CORE_TLS_SELFSIGNED_H

#include <stddef.h>

/* Name of the file kept in the configs folder. */
#define STOA_TLS_SELFSIGNED_FILE "stoa-selfsigned.pem"
/* Lifetime of a generated certificate: long enough for a trial, short
 * enough that a key left on a laptop does not stay trusted for years. */
#define STOA_TLS_SELFSIGNED_DAYS 30

/*
 * A certificate and its key as PEM text. Owned by whoever made it (the
 * shared one by this module, see below); immutable once made; freed with
 * stoa_tls_selfsigned_free(), which wipes the key first.
 */
typedef struct stoa_tls_selfsigned stoa_tls_selfsigned;

/* The names a certificate for this machine should carry: "localhost", the
 * host name (and <host>.local when it has no dot), "127.0.0.1", "::1" and
 * the address of every interface, without duplicates. Free with
 * g_strfreev(). */
char **stoa_tls_selfsigned_local_names(void);

/* Generates a new key and a certificate for `names` (NULL-terminated; IP
 * literals become iPAddress entries, other names dNSName entries, names that
 * are neither are skipped), valid from a day ago (clients with a slow clock)
 * for `days` days. Returns NULL with a message in `err` on failure. */
stoa_tls_selfsigned *stoa_tls_selfsigned_new(const char *const *names, int days, char *err,
					     size_t errlen);

/* Wipes the key and frees `st`. NULL is fine. */
void stoa_tls_selfsigned_free(stoa_tls_selfsigned *st);

/* Borrowed PEM texts (NUL-terminated) and facts, valid while `st` lives. */
const char *stoa_tls_selfsigned_cert_pem(const stoa_tls_selfsigned *st);
const char *stoa_tls_selfsigned_key_pem(const stoa_tls_selfsigned *st);
/* SHA-256 of the DER certificate as "AB:CD:...", what browsers show. */
const char *stoa_tls_selfsigned_fingerprint(const stoa_tls_selfsigned *st);
/* Last day of validity, "YYYY-MM-DD" (UTC). */
const char *stoa_tls_selfsigned_not_after(const stoa_tls_selfsigned *st);

/*
 * The server's shared certificate. The first call loads
 * <configs_folder>/stoa-selfsigned.pem when it is still usable, or
 * generates a new one (and saves it when the folder is writable), then logs
 * once: that a self-signed certificate is in use, its fingerprint, and the
 * https URL to open, built from `bind_ip` (when it names one address) or the
 * machine's first LAN address, and `port`. Later calls return the same
 * certificate and ignore their arguments. `configs_folder` may be NULL (then
 * nothing is saved). Main thread, at start-up. Returns a borrowed pointer
 * valid until stoa_tls_selfsigned_shared_free(), or NULL with a message.
 */
const stoa_tls_selfsigned *stoa_tls_selfsigned_shared(const char *configs_folder,
						      const char *bind_ip, int port, char *err,
						      size_t errlen);

/* Frees the shared certificate. The server calls it at shutdown once both
 * transports have stopped (they borrow it while they run). Main thread;
 * idempotent. */
void stoa_tls_selfsigned_shared_free(void);

#endif
