/*
 * ws_config.c: settings of the WebSocket transport.
 *
 * Reads <configs_folder>/janus.transport.websockets.jcfg if it exists, with
 * the sections and keys of Janus's file so an existing Janus config folder
 * works, then applies the command-line overrides in stoa_transport_env.
 * Stoa differs from Janus in one default: the Admin API listens by default,
 * but only on 127.0.0.1.
 *
 * Main thread, at start-up only.
 */
#include <string.h>

#include <glib.h>

#include "core/conf.h"
#include "core/log.h"
#include "transports/websockets/ws_internal.h"

#define STOA_LOG_MODULE "websockets"

#define CONFIG_FILE "janus.transport.websockets.jcfg"

#define C stoa__ws_config
static const stoa_conf_key keys[] = {
	STOA_CONF_KEY_STR("general", "json", C, json),
	STOA_CONF_KEY_BOOL("general", "ws", C, ws),
	STOA_CONF_KEY_INT("general", "ws_port", C, ws_port, 1, 65535),
	STOA_CONF_KEY_STR("general", "ws_interface", C, ws_interface),
	STOA_CONF_KEY_STR("general", "ws_ip", C, ws_ip),
	STOA_CONF_KEY_STR("general", "ws_unix", C, ws_unix),
	STOA_CONF_KEY_STR("general", "ws_acl", C, ws_acl),
	STOA_CONF_KEY_BOOL("general", "wss", C, wss),
	STOA_CONF_KEY_INT("general", "wss_port", C, wss_port, 1, 65535),
	STOA_CONF_KEY_STR("general", "wss_interface", C, wss_interface),
	STOA_CONF_KEY_STR("general", "wss_ip", C, wss_ip),
	STOA_CONF_KEY_STR("general", "wss_unix", C, wss_unix),
	STOA_CONF_KEY_STR("general", "ws_logging", C, ws_logging),
	/* lws keeps these in 16-bit fields; an hour is plenty for either. */
	STOA_CONF_KEY_INT("general", "pingpong_trigger", C, pingpong_trigger, 0, 3600),
	STOA_CONF_KEY_INT("general", "pingpong_timeout", C, pingpong_timeout, 0, 3600),
	STOA_CONF_KEY_BOOL("admin", "admin_ws", C, admin_ws),
	STOA_CONF_KEY_INT("admin", "admin_ws_port", C, admin_ws_port, 1, 65535),
	STOA_CONF_KEY_STR("admin", "admin_ws_interface", C, admin_ws_interface),
	STOA_CONF_KEY_STR("admin", "admin_ws_ip", C, admin_ws_ip),
	STOA_CONF_KEY_STR("admin", "admin_ws_unix", C, admin_ws_unix),
	STOA_CONF_KEY_STR("admin", "admin_ws_acl", C, admin_ws_acl),
	STOA_CONF_KEY_BOOL("admin", "admin_wss", C, admin_wss),
	STOA_CONF_KEY_INT("admin", "admin_wss_port", C, admin_wss_port, 1, 65535),
	STOA_CONF_KEY_STR("admin", "admin_wss_interface", C, admin_wss_interface),
	STOA_CONF_KEY_STR("admin", "admin_wss_ip", C, admin_wss_ip),
	STOA_CONF_KEY_STR("admin", "admin_wss_unix", C, admin_wss_unix),
	STOA_CONF_KEY_STR("cors", "allow_origin", C, allow_origin),
	STOA_CONF_KEY_BOOL("cors", "enforce_cors", C, enforce_cors),
	STOA_CONF_KEY_STR("certificates", "cert_pem", C, cert_pem),
	STOA_CONF_KEY_STR("certificates", "cert_key", C, cert_key),
	STOA_CONF_KEY_STR("certificates", "cert_pwd", C, cert_pwd),
};
#undef C

static void set_defaults(stoa__ws_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ws = true;
	cfg->ws_port = 8188;
	cfg->wss_port = 8989;
	/* Janus leaves the Admin API off; Stoa turns it on, bound to loopback,
	 * because the test suite and operators use it and loopback is safe. */
	cfg->admin_ws = true;
	cfg->admin_ws_port = 7188;
	cfg->admin_ws_ip = g_strdup("127.0.0.1");
	cfg->admin_wss_port = 7989;
}

static void apply_env(const stoa_transport_env *env, stoa__ws_config *cfg)
{
	/* -1 keeps the file's setting, 0 turns the listener off, anything
	 * else turns it on at that port. */
	if (env->ws_port == 0)
		cfg->ws = false;
	else if (env->ws_port > 0) {
		cfg->ws = true;
		cfg->ws_port = env->ws_port;
	}
	if (env->admin_ws_port == 0)
		cfg->admin_ws = false;
	else if (env->admin_ws_port > 0) {
		cfg->admin_ws = true;
		cfg->admin_ws_port = env->admin_ws_port;
	}
	/* --https adds the secure listener next to the plain one. */
	if (env->https)
		cfg->wss = true;
	cfg->max_request_size = env->max_request_size > 0 ? (size_t)env->max_request_size
							  : STOA_WS_DEFAULT_MAX_REQUEST;
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Settings we accept for compatibility but do not use: say so once. */
static void log_ignored(const stoa__ws_config *cfg)
{
	if (is_set(cfg->ws_interface) || is_set(cfg->wss_interface) ||
	    is_set(cfg->admin_ws_interface) || is_set(cfg->admin_wss_interface))
		STOA_LOG(STOA_LOG_WARN, "*_interface settings are ignored; use ws_ip, wss_ip, "
					"admin_ws_ip or admin_wss_ip to bind");
	if (is_set(cfg->ws_unix) || is_set(cfg->wss_unix) || is_set(cfg->admin_ws_unix) ||
	    is_set(cfg->admin_wss_unix))
		STOA_LOG(STOA_LOG_WARN, "UNIX socket listeners (*_unix) are not supported; ignored");
	if (is_set(cfg->ws_acl) || is_set(cfg->admin_ws_acl))
		STOA_LOG(STOA_LOG_WARN, "ws_acl/admin_ws_acl are not supported: every address "
					"is accepted; restrict access with ws_ip/admin_ws_ip or a firewall");
	if (cfg->json != NULL)
		STOA_LOG(STOA_LOG_VERB, "general.json is ignored (replies are compact)");
	if (cfg->ws_logging != NULL)
		STOA_LOG(STOA_LOG_VERB, "general.ws_logging is ignored (libwebsockets logs "
					"errors and warnings only)");
	if (cfg->enforce_cors && !is_set(cfg->allow_origin))
		STOA_LOG(STOA_LOG_WARN, "cors.enforce_cors has no effect without cors.allow_origin");
}

/* lws would take a name for a network interface, and an address it cannot
 * parse could end up listening everywhere: accept IP literals only. */
static int check_ips(const stoa__ws_config *cfg, char *err, size_t errlen)
{
	const struct {
		const char *key, *value;
	} ips[] = {
		{ "general.ws_ip", cfg->ws_ip },
		{ "general.wss_ip", cfg->wss_ip },
		{ "admin.admin_ws_ip", cfg->admin_ws_ip },
		{ "admin.admin_wss_ip", cfg->admin_wss_ip },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ips); i++) {
		if (is_set(ips[i].value) && !g_hostname_is_ip_address(ips[i].value)) {
			g_snprintf(err, errlen, "%s: %s: '%s' is not an IP address", CONFIG_FILE,
				   ips[i].key, ips[i].value);
			return -1;
		}
	}
	return 0;
}

int stoa__ws_config_load(const stoa_transport_env *env, stoa__ws_config *cfg, char *err,
			 size_t errlen)
{
	set_defaults(cfg);
	if (env->configs_folder != NULL) {
		char *path = g_build_filename(env->configs_folder, CONFIG_FILE, NULL);
		int rc = stoa_conf_load(path, true, keys, G_N_ELEMENTS(keys), cfg, err, errlen);

		if (rc == 1)
			STOA_LOG(STOA_LOG_VERB, "%s not found, using defaults", path);
		g_free(path);
		if (rc < 0)
			goto fail;
	}
	apply_env(env, cfg);
	if (check_ips(cfg, err, errlen) < 0)
		goto fail;
	/* Without either, WSS uses the server's self-signed certificate. An
	 * empty path counts as none, as in samples where it is left blank. */
	if (!is_set(cfg->cert_pem))
		g_clear_pointer(&cfg->cert_pem, g_free);
	if (!is_set(cfg->cert_key))
		g_clear_pointer(&cfg->cert_key, g_free);
	if ((cfg->cert_pem == NULL) != (cfg->cert_key == NULL)) {
		g_snprintf(err, errlen, "%s: certificates.cert_pem and cert_key go together",
			   CONFIG_FILE);
		goto fail;
	}
	log_ignored(cfg);
	return 0;
fail:
	stoa__ws_config_free(cfg);
	return -1;
}

void stoa__ws_config_free(stoa__ws_config *cfg)
{
	stoa_conf_free(keys, G_N_ELEMENTS(keys), cfg);
}
