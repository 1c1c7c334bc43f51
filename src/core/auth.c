/*
 * auth.c: see auth.h. Signed tokens use HMAC-SHA1 over the whole data part
 * and standard base64 with padding, as Janus clients generate them.
 */
#include <glib.h>
#include <string.h>

#include "core/auth.h"
#include "core/ids.h"

static struct {
	char *api_secret;
	char *token_secret;
	bool token_auth;
	GMutex lock;
	GHashTable *tokens; /* token -> GHashTable set of package names */
} auth;

void stoa_auth_init(const char *api_secret, bool token_auth, const char *token_secret)
{
	auth.api_secret = (api_secret != NULL && *api_secret) ? g_strdup(api_secret) : NULL;
	auth.token_auth = token_auth;
	auth.token_secret =
		(token_secret != NULL && *token_secret) ? g_strdup(token_secret) : NULL;
	auth.tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_hash_table_unref);
}

void stoa_auth_cleanup(void)
{
	g_clear_pointer(&auth.api_secret, g_free);
	g_clear_pointer(&auth.token_secret, g_free);
	g_clear_pointer(&auth.tokens, g_hash_table_unref);
	auth.token_auth = false;
}

bool stoa_auth_enabled(void)
{
	return auth.api_secret != NULL || auth.token_auth;
}

bool stoa_auth_token_enabled(void)
{
	return auth.token_auth;
}

bool stoa_auth_stored_tokens(void)
{
	return auth.token_auth && auth.token_secret == NULL;
}

static bool stored_token_known(const char *token)
{
	g_mutex_lock(&auth.lock);
	bool found = g_hash_table_contains(auth.tokens, token);
	g_mutex_unlock(&auth.lock);
	return found;
}

static bool token_valid(const char *token, const char *descriptor)
{
	if (token == NULL || !auth.token_auth)
		return false;
	if (auth.token_secret != NULL)
		return stoa_auth_signed_token_valid(token, auth.token_secret, "janus", descriptor,
						    g_get_real_time() / G_USEC_PER_SEC);
	return stored_token_known(token);
}

bool stoa_auth_check(const char *apisecret, const char *token)
{
	if (!stoa_auth_enabled())
		return true;
	if (auth.api_secret != NULL && stoa_secret_equal(apisecret, auth.api_secret))
		return true;
	return token_valid(token, NULL);
}

bool stoa_auth_check_plugin(const char *token, const char *package)
{
	if (!auth.token_auth)
		return true;
	if (token == NULL) /* passed by api_secret alone */
		return auth.api_secret != NULL;
	if (auth.token_secret != NULL)
		return token_valid(token, package);
	g_mutex_lock(&auth.lock);
	GHashTable *plugins = g_hash_table_lookup(auth.tokens, token);
	bool ok = plugins != NULL && g_hash_table_contains(plugins, package);
	g_mutex_unlock(&auth.lock);
	return ok;
}

static bool signature_matches(const char *data, size_t datalen, const char *sig,
			      const char *secret)
{
	GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
	guint8 digest[20];
	gsize dlen = sizeof(digest);
	g_hmac_update(hmac, (const guchar *)data, (gssize)datalen);
	g_hmac_get_digest(hmac, digest, &dlen);
	g_hmac_unref(hmac);
	char *expected = g_base64_encode(digest, dlen);
	bool ok = stoa_secret_equal(sig, expected);
	g_free(expected);
	return ok;
}

bool stoa_auth_signed_token_valid(const char *token, const char *secret, const char *realm,
				  const char *descriptor, int64_t now)
{
	if (token == NULL || secret == NULL || realm == NULL)
		return false;
	const char *colon = strchr(token, ':');
	if (colon == NULL || strchr(colon + 1, ':') != NULL)
		return false;
	size_t datalen = (size_t)(colon - token);
	char *data = g_strndup(token, datalen);
	char **parts = g_strsplit(data, ",", -1);
	bool ok = false;
	if (g_strv_length(parts) >= 2) {
		char *end = NULL;
		gint64 expiry = g_ascii_strtoll(parts[0], &end, 10);
		ok = end != parts[0] && *end == '\0' && expiry >= 0 && now <= expiry &&
		     strcmp(parts[1], realm) == 0;
		if (ok && descriptor != NULL) {
			ok = false;
			for (int i = 2; parts[i] != NULL && !ok; i++)
				ok = strcmp(parts[i], descriptor) == 0;
		}
	}
	/* Always compute the signature so timing says nothing about which check failed. */
	bool sig_ok = signature_matches(data, datalen, colon + 1, secret);
	g_strfreev(parts);
	g_free(data);
	return ok && sig_ok;
}

/* ---- stored tokens ---- */

static void add_plugins(GHashTable *set, json_t *plugins)
{
	size_t i;
	json_t *p;
	json_array_foreach(plugins, i, p) {
		if (json_is_string(p))
			g_hash_table_add(set, g_strdup(json_string_value(p)));
	}
}

int stoa_auth_token_add(const char *token, json_t *plugins)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	add_plugins(set, plugins);
	g_mutex_lock(&auth.lock);
	g_hash_table_replace(auth.tokens, g_strdup(token), set);
	g_mutex_unlock(&auth.lock);
	return 0;
}

int stoa_auth_token_allow(const char *token, json_t *plugins)
{
	g_mutex_lock(&auth.lock);
	GHashTable *set = g_hash_table_lookup(auth.tokens, token);
	if (set != NULL)
		add_plugins(set, plugins);
	g_mutex_unlock(&auth.lock);
	return set != NULL ? 0 : -1;
}

int stoa_auth_token_disallow(const char *token, json_t *plugins)
{
	g_mutex_lock(&auth.lock);
	GHashTable *set = g_hash_table_lookup(auth.tokens, token);
	if (set != NULL) {
		size_t i;
		json_t *p;
		json_array_foreach(plugins, i, p) {
			if (json_is_string(p))
				g_hash_table_remove(set, json_string_value(p));
		}
	}
	g_mutex_unlock(&auth.lock);
	return set != NULL ? 0 : -1;
}

int stoa_auth_token_remove(const char *token)
{
	g_mutex_lock(&auth.lock);
	bool removed = g_hash_table_remove(auth.tokens, token);
	g_mutex_unlock(&auth.lock);
	return removed ? 0 : -1;
}

static json_t *set_to_array(GHashTable *set)
{
	json_t *arr = json_array();
	GList *keys = g_list_sort(g_hash_table_get_keys(set), (GCompareFunc)strcmp);
	for (GList *l = keys; l != NULL; l = l->next)
		json_array_append_new(arr, json_string(l->data));
	g_list_free(keys);
	return arr;
}

json_t *stoa_auth_token_plugins(const char *token)
{
	g_mutex_lock(&auth.lock);
	GHashTable *set = g_hash_table_lookup(auth.tokens, token);
	json_t *arr = set != NULL ? set_to_array(set) : NULL;
	g_mutex_unlock(&auth.lock);
	return arr;
}

json_t *stoa_auth_token_list(void)
{
	json_t *list = json_array();
	g_mutex_lock(&auth.lock);
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, auth.tokens);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (g_hash_table_size(v) == 0)
			continue;
		json_array_append_new(list, json_pack("{s:s,s:o}", "token", (char *)k,
						      "allowed_plugins", set_to_array(v)));
	}
	g_mutex_unlock(&auth.lock);
	return list;
}
