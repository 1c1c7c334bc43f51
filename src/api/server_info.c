/*
 * server_info.c: the `server_info` object, in Janus's shape so clients that
 * read it (janus.js reads `plugins`) work unchanged. `version` is the Janus
 * API level we implement (1.4.2 → 1402); Stoa's own version is in
 * `stoa-version`.
 */
#include <jansson.h>
#include <libconfig.h>
#include <microhttpd.h>
#include <libwebsockets.h>
#include <nice/nice.h>
#include <openssl/opensslv.h>
#include <srtp2/srtp.h>

#include "api/api.h"
#include "core/auth.h"
#include "core/config.h"
#include "core/plugins.h"
#include "core/session.h"
#include "stoa/version.h"

#define STOA_JANUS_API_VERSION 1402
#define STOA_JANUS_API_VERSION_STRING "1.4.2"

static json_t *module_info(const char *name, const char *author, const char *description,
			   const char *version_string, int version)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", name != NULL ? name : "",
			 "author", author != NULL ? author : "",
			 "description", description != NULL ? description : "",
			 "version_string", version_string != NULL ? version_string : "",
			 "version", version);
}

static void add_plugin(const stoa_plugin *p, void *ud)
{
	json_object_set_new(ud, p->package, module_info(p->name, p->author, p->description,
						       p->version_string, p->version));
}

static void add_transport(const stoa_transport *t, void *ud)
{
	json_object_set_new(ud, t->package, module_info(t->name, t->author, t->description,
						       t->version_string, t->version));
}

static json_t *dependencies(void)
{
	const char *srtp = srtp_get_version_string();
	char nice[16];
	g_snprintf(nice, sizeof(nice), "%d.%d.%d", NICE_VERSION_MAJOR, NICE_VERSION_MINOR,
		   NICE_VERSION_MICRO);
	char glib[32];
	g_snprintf(glib, sizeof(glib), "%u.%u.%u", glib_major_version, glib_minor_version,
		   glib_micro_version);
	char libconfig[16];
	g_snprintf(libconfig, sizeof(libconfig), "%d.%d", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			 "glib2", glib, "jansson", JANSSON_VERSION, "libnice", nice,
			 "libsrtp", srtp != NULL ? srtp : "", "crypto", OPENSSL_VERSION_TEXT,
			 "libmicrohttpd", MHD_get_version(), "libwebsockets", lws_get_library_version(),
			 "libconfig", libconfig);
}

json_t *stoa_api_server_info(void)
{
	const stoa_config *c = stoa_config_get();
	json_t *info = json_pack(
		"{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:i,s:i,s:i,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:b,s:b,s:b,s:b}",
		"name", "Stoa (Janus-compatible WebRTC server)",
		"version", STOA_JANUS_API_VERSION,
		"version_string", STOA_JANUS_API_VERSION_STRING,
		"stoa-version", STOA_VERSION_STRING,
		"author", "Stoa",
		"commit-hash", "not-a-git-repo",
		"compile-time", __DATE__ " " __TIME__,
		"log-to-stdout", c->log_to_stdout,
		"log-to-file", c->log_file != NULL && *c->log_file,
		"data_channels", 1,
		"accepting-new-sessions", stoa_config_accepting_sessions(),
		"session-timeout", stoa_config_session_timeout(),
		"reclaim-session-timeout", c->reclaim_session_timeout,
		"candidates-timeout", c->candidates_timeout,
		"server-name", c->server_name,
		"local-ip", c->interface != NULL && *c->interface ? c->interface : "127.0.0.1",
		"ipv6", c->ipv6, "ice-lite", c->ice_lite, "ice-tcp", c->ice_tcp,
		"full-trickle", c->full_trickle, "opaqueid_in_api", c->opaqueid_in_api,
		"static-event-loops", c->event_loops,
		"api_secret", c->api_secret != NULL && *c->api_secret,
		"auth_token", stoa_auth_token_enabled(),
		"event_handlers", 0,
		"mdns-enabled", 0);
	/* Stoa: how busy the server is, for the demo index page's status box. */
	json_object_set_new(info, "stoa-sessions", json_integer(stoa_sessions_count()));
	if (c->stun_server != NULL && *c->stun_server)
		json_object_set_new(info, "stun-server", json_sprintf("%s:%d", c->stun_server, c->stun_port));
	if (c->turn_server != NULL && *c->turn_server)
		json_object_set_new(info, "turn-server", json_sprintf("%s:%d", c->turn_server, c->turn_port));
	if (!c->hide_dependencies)
		json_object_set_new(info, "dependencies", dependencies());
	json_t *transports = json_object();
	stoa_transports_foreach(add_transport, transports);
	json_object_set_new(info, "transports", transports);
	json_object_set_new(info, "events", json_object());
	json_object_set_new(info, "loggers", json_object());
	json_t *plugins = json_object();
	stoa_plugins_foreach(add_plugin, plugins);
	json_object_set_new(info, "plugins", plugins);
	return info;
}
