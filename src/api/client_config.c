/*
 * client_config.c: what browser pages are told about the network, served
 * as GET /stoa/client.json by the HTTP transport.
 *
 * Pages need STUN and TURN servers for their own side of ICE, and those
 * depend on the deployment (behind NAT, a TURN server with a shared
 * secret…), so they live in the server's config (`pages` in stoa.jcfg) and
 * never in page code. The reply is shaped like RTCConfiguration:
 *
 *   { "iceServers": [ { "urls": ["stun:..."] },
 *                     { "urls": ["turn:..."], "username": "...", "credential": "..." } ] }
 *
 * With pages.turn_secret, a turn:/turns: entry without a username gets
 * time-limited credentials in coturn's use-auth-secret scheme (the "TURN
 * REST API" draft): username "<expiry>:stoa", credential
 * base64(HMAC-SHA1(secret, username)). Every request mints fresh ones, so
 * the secret never leaves the server and a leaked credential expires.
 *
 * Threads: any (reads the immutable running config).
 */
#include <glib.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"

/* The coturn credential for `username`: base64 of its HMAC-SHA1 under `secret`. */
char *stoa_turn_credential(const char *secret, const char *username)
{
	guint8 digest[20];
	gsize len = sizeof(digest);
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)secret, strlen(secret));
	g_hmac_update(h, (const guchar *)username, (gssize)strlen(username));
	g_hmac_get_digest(h, digest, &len);
	g_hmac_unref(h);
	return g_base64_encode(digest, len);
}

static bool has_turn_url(json_t *urls)
{
	size_t i;
	json_t *u;
	json_array_foreach(urls, i, u) {
		const char *s = json_string_value(u);
		if (g_str_has_prefix(s, "turn:") || g_str_has_prefix(s, "turns:"))
			return true;
	}
	return false;
}

static json_t *ice_server_json(const stoa_config *c, const stoa_config_ice_server *s,
			       gint64 now_s)
{
	json_t *urls = json_array();
	char **words = g_strsplit_set(s->urls != NULL ? s->urls : "", ", \t", -1);
	for (char **w = words; *w != NULL; w++)
		if (**w != '\0')
			json_array_append_new(urls, json_string(*w));
	g_strfreev(words);

	json_t *o = json_pack("{s:o}", "urls", urls);
	if (s->username != NULL) {
		json_object_set_new(o, "username", json_string(s->username));
		json_object_set_new(o, "credential", json_string(s->credential != NULL ? s->credential : ""));
	} else if (c->page_turn_secret != NULL && has_turn_url(urls)) {
		char *user = g_strdup_printf("%" G_GINT64_FORMAT ":stoa", now_s + c->page_turn_ttl);
		char *cred = stoa_turn_credential(c->page_turn_secret, user);
		json_object_set_new(o, "username", json_string(user));
		json_object_set_new(o, "credential", json_string(cred));
		g_free(user);
		g_free(cred);
	}
	return o;
}

json_t *stoa_client_config(const stoa_config *c, gint64 now_s)
{
	json_t *list = json_array();
	for (guint i = 0; c->page_ice_servers != NULL && i < c->page_ice_servers->len; i++)
		json_array_append_new(list, ice_server_json(c, c->page_ice_servers->pdata[i], now_s));
	return json_pack("{s:o}", "iceServers", list);
}
