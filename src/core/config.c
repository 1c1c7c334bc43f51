/*
 * config.c: the main configuration's schema, embedded defaults and loading
 * (see config.h). The schema table is the single list of the main config's
 * keys; conf/stoa.jcfg.sample documents the same keys for operators.
 */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/config.h"

/* A rest_api.tokens record. */
static const stoa_conf_key token_keys[] = {
	STOA_CONF_KEY_STR(NULL, "token", stoa_config_token, token),
	STOA_CONF_KEY_STR(NULL, "scopes", stoa_config_token, scopes),
};
static const stoa_conf_list token_list = { token_keys, G_N_ELEMENTS(token_keys),
					   sizeof(stoa_config_token) };

/* A pages.ice_servers record: one entry of RTCConfiguration.iceServers. */
static const stoa_conf_key ice_server_keys[] = {
	STOA_CONF_KEY_STR(NULL, "urls", stoa_config_ice_server, urls),
	STOA_CONF_KEY_STR(NULL, "username", stoa_config_ice_server, username),
	STOA_CONF_KEY_STR(NULL, "credential", stoa_config_ice_server, credential),
};
static const stoa_conf_list ice_server_list = { ice_server_keys, G_N_ELEMENTS(ice_server_keys),
						sizeof(stoa_config_ice_server) };

#define C stoa_config
static const stoa_conf_key schema[] = {
	STOA_CONF_KEY_STR("general", "configs_folder", C, configs_folder),
	STOA_CONF_KEY_STR("general", "plugins_folder", C, plugins_folder),
	STOA_CONF_KEY_STR("general", "server_name", C, server_name),
	STOA_CONF_KEY_STR("general", "log_to_file", C, log_file),
	STOA_CONF_KEY_STR("general", "log_format", C, log_format),
	STOA_CONF_KEY_STR("general", "interface", C, interface),
	STOA_CONF_KEY_STR("general", "admin_secret", C, admin_secret),
	STOA_CONF_KEY_STR("general", "api_secret", C, api_secret),
	STOA_CONF_KEY_STR("general", "token_auth_secret", C, token_auth_secret),
	STOA_CONF_KEY_BOOL("general", "log_to_stdout", C, log_to_stdout),
	STOA_CONF_KEY_BOOL("general", "debug_timestamps", C, debug_timestamps),
	STOA_CONF_KEY_BOOL("general", "debug_colors", C, debug_colors),
	STOA_CONF_KEY_BOOL("general", "token_auth", C, token_auth),
	STOA_CONF_KEY_BOOL("general", "opaqueid_in_api", C, opaqueid_in_api),
	STOA_CONF_KEY_BOOL("general", "hide_dependencies", C, hide_dependencies),
	STOA_CONF_KEY_BOOL("general", "accept_new_sessions", C, accept_new_sessions),
	STOA_CONF_KEY_INT("general", "debug_level", C, debug_level, 0, 7),
	STOA_CONF_KEY_INT("general", "session_timeout", C, session_timeout, 0, 86400 * 7),
	STOA_CONF_KEY_INT("general", "reclaim_session_timeout", C, reclaim_session_timeout, 0, 86400),
	STOA_CONF_KEY_INT("general", "candidates_timeout", C, candidates_timeout, 0, 3600),
	STOA_CONF_KEY_INT("general", "event_loops", C, event_loops, 0, 1024),
	STOA_CONF_KEY_INT("general", "api_workers", C, api_workers, 1, 256),
	STOA_CONF_KEY_INT("general", "max_request_size", C, max_request_size, 1024, 64 << 20),
	STOA_CONF_KEY_STR("nat", "stun_server", C, stun_server),
	STOA_CONF_KEY_INT("nat", "stun_port", C, stun_port, 1, 65535),
	STOA_CONF_KEY_STR("nat", "nat_1_1_mapping", C, nat_1_1_mapping),
	STOA_CONF_KEY_STR("nat", "ice_enforce_list", C, ice_enforce_list),
	STOA_CONF_KEY_STR("nat", "ice_ignore_list", C, ice_ignore_list),
	STOA_CONF_KEY_BOOL("nat", "ice_lite", C, ice_lite),
	STOA_CONF_KEY_BOOL("nat", "ice_tcp", C, ice_tcp),
	STOA_CONF_KEY_BOOL("nat", "full_trickle", C, full_trickle),
	STOA_CONF_KEY_INT("nat", "consent_timeout", C, consent_timeout, 0, 3600),
	STOA_CONF_KEY_STR("nat", "turn_server", C, turn_server),
	STOA_CONF_KEY_INT("nat", "turn_port", C, turn_port, 1, 65535),
	STOA_CONF_KEY_STR("nat", "turn_type", C, turn_type),
	STOA_CONF_KEY_STR("nat", "turn_user", C, turn_user),
	STOA_CONF_KEY_STR("nat", "turn_pwd", C, turn_pwd),
	STOA_CONF_KEY_STR("nat", "turn_rest_api", C, turn_rest_api),
	STOA_CONF_KEY_STR("nat", "turn_rest_api_key", C, turn_rest_api_key),
	STOA_CONF_KEY_STR("nat", "turn_rest_api_method", C, turn_rest_api_method),
	STOA_CONF_KEY_INT("nat", "turn_rest_api_timeout", C, turn_rest_api_timeout, 1, 300),
	STOA_CONF_KEY_STR("media", "rtp_port_range", C, rtp_port_range),
	STOA_CONF_KEY_INT("media", "no_media_timer", C, no_media_timer, 0, 3600),
	STOA_CONF_KEY_INT("media", "slowlink_threshold", C, slowlink_threshold, 0, 100000),
	STOA_CONF_KEY_INT("media", "min_nack_queue", C, min_nack_queue, 0, 10000),
	STOA_CONF_KEY_INT("media", "dtls_mtu", C, dtls_mtu, 200, 9000),
	STOA_CONF_KEY_BOOL("media", "dtls_release", C, dtls_release),
	STOA_CONF_KEY_BOOL("media", "ipv6", C, ipv6),
	STOA_CONF_KEY_STR("certificates", "cert_pem", C, cert_pem),
	STOA_CONF_KEY_STR("certificates", "cert_key", C, cert_key),
	STOA_CONF_KEY_STR("certificates", "cert_pwd", C, cert_pwd),
	STOA_CONF_KEY_BOOL("rest_api", "enabled", C, rest_enabled),
	STOA_CONF_KEY_BOOL("rest_api", "on_main_port", C, rest_on_main_port),
	STOA_CONF_KEY_BOOL("rest_api", "open_health", C, rest_open_health),
	STOA_CONF_KEY_BOOL("rest_api", "open_metrics", C, rest_open_metrics),
	STOA_CONF_KEY_LIST("rest_api", "tokens", C, rest_tokens, token_list),
	STOA_CONF_KEY_LIST("pages", "ice_servers", C, page_ice_servers, ice_server_list),
	STOA_CONF_KEY_STR("pages", "turn_secret", C, page_turn_secret),
	STOA_CONF_KEY_INT("pages", "turn_ttl", C, page_turn_ttl, 60, 86400 * 7),
	STOA_CONF_KEY_STR("plugins", "disable", C, plugins_disable),
	STOA_CONF_KEY_STR("transports", "disable", C, transports_disable),
};
#undef C

void stoa_config_init(stoa_config *c)
{
	*c = (stoa_config){ 0 };
	c->configs_folder = g_strdup(STOA_CONFDIR);
	c->plugins_folder = g_strdup(STOA_PLUGINDIR);
	c->server_name = g_strdup("MyJanusInstance");
	c->log_format = g_strdup("text");
	c->log_to_stdout = true;
	c->debug_colors = true;
	c->debug_level = 4;
	c->accept_new_sessions = true;
	c->session_timeout = 60;
	c->candidates_timeout = 45;
	c->api_workers = 4;
	c->max_request_size = 1 << 20;
	c->stun_port = 3478;
	c->no_media_timer = 1;
	c->min_nack_queue = 200;
	c->dtls_mtu = 1200;
	c->dtls_release = true;
	c->consent_timeout = 30;
	c->turn_port = 3478;
	c->turn_rest_api_timeout = 10;
	c->rest_enabled = true;
	c->page_turn_ttl = 86400;
	c->ice_enforce_list = NULL;
}

char *stoa_config_find(const char *folder)
{
	static const char *names[] = { "stoa.jcfg", "janus.jcfg" };
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *path = g_build_filename(folder, names[i], NULL);
		if (access(path, F_OK) == 0)
			return path;
		g_free(path);
	}
	return NULL;
}

int stoa_config_rest_scopes(const char *text)
{
	char **words = g_strsplit_set(text != NULL ? text : "", ", \t", -1);
	int mask = 0;
	for (char **w = words; *w != NULL && mask >= 0; w++) {
		if (**w == '\0')
			continue;
		if (strcmp(*w, "read") == 0)
			mask |= STOA_REST_SCOPE_READ;
		else if (strcmp(*w, "write") == 0)
			mask |= STOA_REST_SCOPE_READ | STOA_REST_SCOPE_WRITE;
		else
			mask = -1;
	}
	g_strfreev(words);
	return mask > 0 ? mask : -1;
}

/* Every token record needs a non-empty token and valid scopes: a record
 * that grants nothing is a mistake the operator wants to hear about. */
static int check_rest_tokens(stoa_config *c, const char *path, char *err, size_t errlen)
{
	for (guint i = 0; c->rest_tokens != NULL && i < c->rest_tokens->len; i++) {
		stoa_config_token *t = c->rest_tokens->pdata[i];
		if (t->token == NULL || t->token[0] == '\0') {
			g_snprintf(err, errlen, "%s: rest_api.tokens[%u]: token must be a non-empty string",
				   path, i);
			return -1;
		}
		t->mask = stoa_config_rest_scopes(t->scopes);
		if (t->mask < 0) {
			g_snprintf(err, errlen,
				   "%s: rest_api.tokens[%u]: scopes must be \"read\", \"write\" or "
				   "\"read,write\"", path, i);
			return -1;
		}
	}
	return 0;
}

/* Every ice_servers record names at least one stun:, turn: or turns: URL,
 * so a typo fails at start-up instead of in every visitor's browser. */
static int check_ice_servers(stoa_config *c, const char *path, char *err, size_t errlen)
{
	for (guint i = 0; c->page_ice_servers != NULL && i < c->page_ice_servers->len; i++) {
		stoa_config_ice_server *s = c->page_ice_servers->pdata[i];
		char **urls = g_strsplit_set(s->urls != NULL ? s->urls : "", ", \t", -1);
		int good = 0, bad = 0;
		for (char **u = urls; *u != NULL; u++) {
			if (**u == '\0')
				continue;
			if (g_str_has_prefix(*u, "stun:") || g_str_has_prefix(*u, "turn:") ||
			    g_str_has_prefix(*u, "turns:"))
				good++;
			else
				bad++;
		}
		g_strfreev(urls);
		if (good == 0 || bad > 0) {
			g_snprintf(err, errlen,
				   "%s: pages.ice_servers[%u]: urls must be stun:, turn: or turns: URLs",
				   path, i);
			return -1;
		}
	}
	return 0;
}

int stoa_config_load(stoa_config *c, const char *path, char *err, size_t errlen)
{
	int rc = stoa_conf_load(path, false, schema, G_N_ELEMENTS(schema), c, err, errlen);
	if (rc < 0)
		return -1;
	if (g_strcmp0(c->log_format, "text") != 0 && g_strcmp0(c->log_format, "json") != 0) {
		g_snprintf(err, errlen, "%s: general.log_format: must be \"text\" or \"json\"", path);
		return -1;
	}
	if (check_rest_tokens(c, path, err, errlen) < 0 ||
	    check_ice_servers(c, path, err, errlen) < 0)
		return -1;
	stoa_conf_set_string(&c->config_file, path);
	return 0;
}

void stoa_config_free(stoa_config *c)
{
	stoa_conf_free(schema, G_N_ELEMENTS(schema), c);
	g_clear_pointer(&c->config_file, g_free);
}

/* ---- the running configuration ---- */

static stoa_config *current;
static gint session_timeout_rt;
static gint accepting_rt;

void stoa_config_set_current(stoa_config *c)
{
	current = c;
	if (c != NULL) {
		g_atomic_int_set(&session_timeout_rt, c->session_timeout);
		g_atomic_int_set(&accepting_rt, c->accept_new_sessions);
	}
}

const stoa_config *stoa_config_get(void)
{
	return current;
}

int stoa_config_session_timeout(void)
{
	return g_atomic_int_get(&session_timeout_rt);
}

void stoa_config_set_session_timeout(int seconds)
{
	g_atomic_int_set(&session_timeout_rt, seconds);
}

bool stoa_config_accepting_sessions(void)
{
	return g_atomic_int_get(&accepting_rt) != 0;
}

void stoa_config_set_accepting_sessions(bool on)
{
	g_atomic_int_set(&accepting_rt, on);
}
