/*
 * rest_auth.c: who may call the REST API.
 *
 * Requests carry `Authorization: Bearer <token>` (RFC 6750 §2.1). Tokens
 * come from stoa.jcfg's rest_api.tokens, each with scopes: `read` for GET,
 * `write` for every other method (write implies read). The main config's
 * admin_secret is always a token with every scope: whoever has it can do
 * all of this through the Admin API already. With neither configured the
 * server makes a random token for the run and logs it with a link to the
 * admin dashboard (the server's own log is where an operator on embedded
 * defaults looks, as with Jupyter's URL token); nothing else gets in.
 *
 * Answers: no token, or one we do not know → 401 with
 * `WWW-Authenticate: Bearer realm="stoa"` (plus error="invalid_token" when
 * one was sent, RFC 6750 §3); a known token without the scope → 403
 * insufficient_scope, with the scope it lacks in WWW-Authenticate too.
 * /health and /metrics may be opened to requests without a token by
 * rest_api.open_health / open_metrics (probes and scrapers often carry
 * none).
 *
 * Every configured token is compared, in constant time, on every request,
 * so the time taken does not tell which token a guess came close to.
 *
 * Any thread: it only reads the configuration, fixed after start-up.
 */
#include <string.h>

#include <glib.h>

#include "api/rest_internal.h"
#include "core/config.h"
#include "core/ids.h"

#define REALM "Bearer realm=\"stoa\""

/* This run's token when none is configured (see the file comment). Written
 * on the main thread before the listeners start, read by their threads. */
static char *run_token;

const char *stoa_rest_run_token_init(void)
{
	const stoa_config *c = stoa_config_get();
	guint8 raw[16];

	if (c == NULL || !c->rest_enabled || (c->rest_tokens != NULL && c->rest_tokens->len > 0) ||
	    (c->admin_secret != NULL && c->admin_secret[0] != '\0'))
		return NULL;
	stoa_random_bytes(raw, sizeof(raw));
	g_free(run_token);
	run_token = g_malloc(sizeof(raw) * 2 + 1);
	for (size_t i = 0; i < sizeof(raw); i++)
		g_snprintf(run_token + 2 * i, 3, "%02x", raw[i]);
	return run_token;
}

void stoa_rest_run_token_free(void)
{
	g_clear_pointer(&run_token, g_free);
}

/* The token of an Authorization header, or NULL (no header, another
 * scheme, or nothing after "Bearer"). The scheme is case-insensitive
 * (RFC 7235 §2.1). g_free the result. */
static char *bearer_token(const char *header)
{
	static const char scheme[] = "Bearer";
	const char *p;

	if (header == NULL || g_ascii_strncasecmp(header, scheme, strlen(scheme)) != 0)
		return NULL;
	p = header + strlen(scheme);
	if (*p != ' ')
		return NULL;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return NULL;
	return g_strchomp(g_strdup(p));
}

/* The STOA_REST_SCOPE_* mask `token` grants (0: unknown token). */
static int token_scopes(const char *token)
{
	const stoa_config *c = stoa_config_get();
	int mask = 0;

	if (c == NULL)
		return 0;
	if (c->admin_secret != NULL && c->admin_secret[0] != '\0' &&
	    stoa_secret_equal(token, c->admin_secret))
		mask |= STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE;
	for (guint i = 0; c->rest_tokens != NULL && i < c->rest_tokens->len; i++) {
		const stoa_config_token *t = c->rest_tokens->pdata[i];
		if (stoa_secret_equal(token, t->token))
			mask |= t->mask;
	}
	if (run_token != NULL && stoa_secret_equal(token, run_token))
		mask |= STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE;
	return mask;
}

static bool route_open(const stoa_rest_route *route)
{
	const stoa_config *c = stoa_config_get();

	switch (route->open) {
	case STOA_REST_OPEN_HEALTH:
		return c != NULL && c->rest_open_health;
	case STOA_REST_OPEN_METRICS:
		return c != NULL && c->rest_open_metrics;
	case STOA_REST_OPEN_NEVER:
		break;
	}
	return false;
}

static int unauthorized(stoa_rest_ctx *ctx, bool sent)
{
	stoa__rest_error(ctx, STOA_REST_ERR_UNAUTHORIZED, NULL, "%s",
			 sent ? "unknown token" : "a Bearer token is required");
	ctx->resp->www_authenticate = g_strdup(sent ? REALM ", error=\"invalid_token\"" : REALM);
	return -1;
}

int stoa__rest_authorize(stoa_rest_ctx *ctx, const stoa_rest_route *route)
{
	bool write = strcmp(route->method, "GET") != 0;
	int need = write ? STOA_REST_SCOPE_WRITE : STOA_REST_SCOPE_READ;
	char *token;
	int have;

	if (route_open(route))
		return 0;
	token = bearer_token(ctx->req->authorization);
	if (token == NULL)
		return unauthorized(ctx, ctx->req->authorization != NULL);
	have = token_scopes(token);
	g_free(token);
	if (have == 0)
		return unauthorized(ctx, true);
	if ((have & need) == 0) {
		stoa__rest_error(ctx, STOA_REST_ERR_INSUFFICIENT_SCOPE, NULL,
				 "this token lacks the %s scope", write ? "write" : "read");
		ctx->resp->www_authenticate = g_strdup_printf(
			REALM ", error=\"insufficient_scope\", scope=\"%s\"", write ? "write" : "read");
		return -1;
	}
	return 0;
}
