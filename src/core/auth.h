/*
 * auth.h: API secret, stored tokens and HMAC-signed tokens (Janus's rules,
 * shared/janus-api-compat.md §7).
 *
 *  - api_secret: requests carry "apisecret"; exact match.
 *  - token_auth without token_auth_secret: "token" must be in a table that
 *    the Admin API manages; each token may be limited to some plugins.
 *  - token_auth with token_auth_secret: "token" is
 *    "<expiry>,<realm>[,<descriptor>...]:<base64 HMAC-SHA1 of the part before
 *    the colon>"; realm "janus" for the core; on attach one descriptor must
 *    be the plugin package.
 * With both a secret and tokens configured, either one passing is enough.
 *
 * Thread-safe: the token table has its own lock; the configuration is set
 * once at start-up.
 */
#ifndef STOA_CORE_AUTH_H
#define STOA_CORE_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

void stoa_auth_init(const char *api_secret, bool token_auth, const char *token_secret);
void stoa_auth_cleanup(void);

bool stoa_auth_enabled(void);       /* any of api_secret / token_auth */
bool stoa_auth_token_enabled(void);
bool stoa_auth_stored_tokens(void); /* token_auth without a signing secret */

/* Core-level check of a request's credentials (either may be NULL). */
bool stoa_auth_check(const char *apisecret, const char *token);

/* May `token` attach to `package`? True when token auth is off. */
bool stoa_auth_check_plugin(const char *token, const char *package);

/* Verifies a signed token for `realm` at time `now` (UNIX seconds); when
 * `descriptor` is not NULL one of the token's descriptors must equal it.
 * Exposed for plugins' room tokens and for unit tests. */
bool stoa_auth_signed_token_valid(const char *token, const char *secret, const char *realm,
				  const char *descriptor, int64_t now);

/* Stored tokens (Admin API). `plugins` is an array of package names, or NULL
 * for all. Return 0, or negative: -1 unknown token. */
int stoa_auth_token_add(const char *token, json_t *plugins);
int stoa_auth_token_allow(const char *token, json_t *plugins);
int stoa_auth_token_disallow(const char *token, json_t *plugins);
int stoa_auth_token_remove(const char *token);
/* The plugins `token` may use, as a new JSON array (NULL if unknown). */
json_t *stoa_auth_token_plugins(const char *token);
/* [{token, allowed_plugins:[...]}] for tokens that have plugins. */
json_t *stoa_auth_token_list(void);

#endif
