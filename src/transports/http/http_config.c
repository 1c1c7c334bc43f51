/*
 * http_config.c: settings of the HTTP transport.
 *
 * Reads <configs_folder>/janus.transport.http.jcfg if it exists, with the
 * sections and keys of Janus's file so an existing Janus config folder
 * works, then applies the command-line overrides in stoa_transport_env.
 * Stoa differs from Janus in two defaults: the Admin API listens by default,
 * but only on 127.0.0.1; and `html`/`html_folder` serve static files at /.
 *
 * Main thread, at start-up only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

#define CONFIG_FILE "janus.transport.http.jcfg"

#ifndef STOA_HTMLDIR
#define STOA_HTMLDIR "/usr/share/stoa/html"
#endif

stoa__http_config stoa__http_conf;

#define C stoa__http_config
static const stoa_conf_key keys[] = {
	STOA_CONF_KEY_STR("general", "base_path", C, base_path),
	STOA_CONF_KEY_BOOL("general", "http", C, http),
	STOA_CONF_KEY_INT("general", "port", C, port, 1, 65535),
	STOA_CONF_KEY_STR("general", "interface", C, interface),
	STOA_CONF_KEY_STR("general", "ip", C, ip),
	STOA_CONF_KEY_BOOL("general", "https", C, https),
	STOA_CONF_KEY_INT("general", "secure_port", C, secure_port, 1, 65535),
	STOA_CONF_KEY_STR("general", "secure_ip", C, secure_ip),
	STOA_CONF_KEY_STR("general", "threads", C, threads),
	STOA_CONF_KEY_STR("general", "json", C, json),
	STOA_CONF_KEY_BOOL("general", "html", C, html),
	STOA_CONF_KEY_STR("general", "html_folder", C, html_folder),
	STOA_CONF_KEY_STR("admin", "admin_base_path", C, admin_base_path),
	STOA_CONF_KEY_BOOL("admin", "admin_http", C, admin_http),
	STOA_CONF_KEY_INT("admin", "admin_port", C, admin_port, 1, 65535),
	STOA_CONF_KEY_STR("admin", "admin_ip", C, admin_ip),
	STOA_CONF_KEY_BOOL("admin", "admin_https", C, admin_https),
	STOA_CONF_KEY_INT("admin", "admin_secure_port", C, admin_secure_port, 1, 65535),
	STOA_CONF_KEY_STR("cors", "allow_origin", C, allow_origin),
	STOA_CONF_KEY_BOOL("cors", "enforce_cors", C, enforce_cors),
	STOA_CONF_KEY_STR("certificates", "cert_pem", C, cert_pem),
	STOA_CONF_KEY_STR("certificates", "cert_key", C, cert_key),
	STOA_CONF_KEY_STR("certificates", "cert_pwd", C, cert_pwd),
};
#undef C

static void set_defaults(stoa__http_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_path = g_strdup("/janus");
	cfg->http = true;
	cfg->port = 8088;
	cfg->secure_port = 8089;
	cfg->html = true;
	cfg->html_folder = g_strdup(STOA_HTMLDIR);
	cfg->admin_base_path = g_strdup("/admin");
	/* Janus leaves the Admin API off; Stoa turns it on, bound to loopback,
	 * because the test suite and operators use it and loopback is safe. */
	cfg->admin_http = true;
	cfg->admin_port = 7088;
	cfg->admin_ip = g_strdup("127.0.0.1");
	cfg->admin_secure_port = 7889;
}

/* Makes a base path "/x/y": leading slash required, trailing slashes
 * dropped, so "/" becomes "" (everything is under it). */
static int normalise_base(char **path, const char *key, char *err, size_t errlen)
{
	size_t n;

	if (*path == NULL || (*path)[0] != '/') {
		g_snprintf(err, errlen, "%s: %s must start with '/'", CONFIG_FILE, key);
		return -1;
	}
	n = strlen(*path);
	while (n > 0 && (*path)[n - 1] == '/')
		(*path)[--n] = '\0';
	return 0;
}

/* Reads the test override of the long-poll wait; see STOA_HTTP_LONGPOLL_ENV. */
static int longpoll_seconds(void)
{
	const char *s = g_getenv(STOA_HTTP_LONGPOLL_ENV);
	guint64 v;

	if (s == NULL)
		return STOA_HTTP_LONGPOLL_SECONDS;
	if (!g_ascii_string_to_unsigned(s, 10, 1, 300, &v, NULL)) {
		STOA_LOG(STOA_LOG_WARN, "ignoring %s=%s (want 1..300)", STOA_HTTP_LONGPOLL_ENV, s);
		return STOA_HTTP_LONGPOLL_SECONDS;
	}
	STOA_LOG(STOA_LOG_INFO, "long polls wait %u s (%s)", (unsigned)v, STOA_HTTP_LONGPOLL_ENV);
	return (int)v;
}

static void apply_env(const stoa_transport_env *env, stoa__http_config *cfg)
{
	/* -1 keeps the file's setting, 0 turns the listener off, anything
	 * else turns it on at that port. */
	if (env->http_port == 0)
		cfg->http = false;
	else if (env->http_port > 0) {
		cfg->http = true;
		cfg->port = env->http_port;
	}
	if (env->admin_http_port == 0)
		cfg->admin_http = false;
	else if (env->admin_http_port > 0) {
		cfg->admin_http = true;
		cfg->admin_port = env->admin_http_port;
	}
	/* --https adds the secure listener; the plain one stays, so that
	 * http://localhost keeps working next to https://<LAN address>. */
	if (env->https)
		cfg->https = true;
	if (env->html_folder != NULL)
		stoa_conf_set_string(&cfg->html_folder, env->html_folder);
	cfg->max_request_size = env->max_request_size > 0 ? (size_t)env->max_request_size
							  : STOA_HTTP_DEFAULT_MAX_REQUEST;
}

/* An empty path counts as none, as in samples where it is left blank. */
static void unset_if_empty(char **s)
{
	if (*s != NULL && (*s)[0] == '\0')
		g_clear_pointer(s, g_free);
}

/* Settings we accept for compatibility but do not use: say so once. */
static void log_ignored(const stoa__http_config *cfg)
{
	if (cfg->interface != NULL && cfg->interface[0] != '\0')
		STOA_LOG(STOA_LOG_WARN, "general.interface is ignored; use general.ip to bind");
	if (cfg->threads != NULL)
		STOA_LOG(STOA_LOG_VERB, "general.threads is ignored (one thread per connection)");
	if (cfg->json != NULL)
		STOA_LOG(STOA_LOG_VERB, "general.json is ignored (replies are compact)");
	if (cfg->enforce_cors && cfg->allow_origin == NULL)
		STOA_LOG(STOA_LOG_WARN, "cors.enforce_cors has no effect without cors.allow_origin");
}

int stoa__http_config_load(const stoa_transport_env *env, stoa__http_config *cfg,
			   char *err, size_t errlen)
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
	if (normalise_base(&cfg->base_path, "general.base_path", err, errlen) < 0 ||
	    normalise_base(&cfg->admin_base_path, "admin.admin_base_path", err, errlen) < 0)
		goto fail;
	/* Without either, HTTPS uses the server's self-signed certificate. */
	unset_if_empty(&cfg->cert_pem);
	unset_if_empty(&cfg->cert_key);
	if ((cfg->cert_pem == NULL) != (cfg->cert_key == NULL)) {
		g_snprintf(err, errlen, "%s: certificates.cert_pem and cert_key go together",
			   CONFIG_FILE);
		goto fail;
	}
	cfg->longpoll_seconds = longpoll_seconds();
	log_ignored(cfg);
	return 0;
fail:
	stoa__http_config_free(cfg);
	return -1;
}

void stoa__http_config_free(stoa__http_config *cfg)
{
	stoa_conf_free(keys, G_N_ELEMENTS(keys), cfg);
}
