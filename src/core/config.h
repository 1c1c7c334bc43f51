/*
 * config.h: the main configuration (stoa.jcfg, or janus.jcfg).
 *
 * Sections and keys are Janus's where a Janus setting exists, so an existing
 * Janus config folder works. With no file at all every field keeps the
 * embedded default set by stoa_config_init(). Command-line options override
 * the file (main.c applies them after stoa_config_load()).
 *
 * Written on the main thread at start-up; read-only afterwards except for the
 * fields the Admin API may change at run time, which are accessed atomically
 * through the setters below.
 */
#ifndef STOA_CORE_CONFIG_H
#define STOA_CORE_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* REST API scopes (rest_api.tokens[].scopes). `write` implies `read`. */
enum {
	STOA_REST_SCOPE_READ = 1 << 0,
	STOA_REST_SCOPE_WRITE = 1 << 1,
};

/* One rest_api.tokens record. `scopes` is the file's text; `mask` is
 * set from it by stoa_config_load (STOA_REST_SCOPE_*). */
typedef struct stoa_config_token {
	char *token;
	char *scopes;
	int mask;
} stoa_config_token;

/* One pages.ice_servers record: an RTCIceServer for browser pages.
 * `urls` is one URL or several separated by commas or spaces. */
typedef struct stoa_config_ice_server {
	char *urls;
	char *username;
	char *credential;
} stoa_config_ice_server;

typedef struct stoa_config {
	/* general */
	char *configs_folder;
	char *plugins_folder;
	char *server_name;
	char *log_file;       /* general.log_to_file */
	char *log_format;     /* "text" or "json" (Stoa) */
	char *interface;      /* general.interface: the IP to show in server_info */
	char *admin_secret;
	char *api_secret;
	char *token_auth_secret;
	bool log_to_stdout;
	bool debug_timestamps;
	bool debug_colors;
	bool token_auth;
	bool opaqueid_in_api;
	bool hide_dependencies;
	bool accept_new_sessions;
	int debug_level;
	int session_timeout;          /* seconds, 0 = never */
	int reclaim_session_timeout;  /* seconds, 0 = destroy with the connection */
	int candidates_timeout;
	int event_loops;              /* media loops; 0 = one per core */
	int api_workers;              /* Stoa: API worker threads for WebSocket requests */
	int max_request_size;         /* Stoa: bytes, for every transport */
	/* nat (read now, used by the media core) */
	char *stun_server;
	char *nat_1_1_mapping;
	char *ice_enforce_list;
	char *ice_ignore_list;
	int stun_port;
	bool ice_lite;
	bool ice_tcp;
	bool full_trickle;
	int consent_timeout;	/* Stoa: seconds without packets from a peer before hangup */
	char *turn_server;	/* TURN for our side of ICE (static credentials) */
	char *turn_type;	/* "udp", "tcp" or "tls" */
	char *turn_user;
	char *turn_pwd;
	int turn_port;
	char *turn_rest_api;	/* TURN REST API URL: credentials per peer connection */
	char *turn_rest_api_key;
	char *turn_rest_api_method; /* "GET" or "POST" */
	int turn_rest_api_timeout;  /* seconds */
	/* media */
	char *rtp_port_range;
	int no_media_timer;
	int slowlink_threshold;
	int min_nack_queue;
	int dtls_mtu;
	bool dtls_release;	/* Stoa: free OpenSSL's state once the handshake is done */
	bool ipv6;
	/* certificates */
	char *cert_pem;
	char *cert_key;
	char *cert_pwd;
	/* rest_api (Stoa): the REST admin API under /api/v1 and /metrics */
	bool rest_enabled;	 /* rest_api.enabled */
	bool rest_on_main_port;	 /* also on the Janus API's HTTP listener(s) */
	bool rest_open_health;	 /* /api/v1/health needs no token */
	bool rest_open_metrics;	 /* /metrics needs no token */
	GPtrArray *rest_tokens;	 /* stoa_config_token *; NULL when none */
	/* pages (Stoa): what /stoa/client.json tells browser pages */
	GPtrArray *page_ice_servers; /* stoa_config_ice_server *; NULL when none */
	char *page_turn_secret;	 /* coturn use-auth-secret: mint time-limited TURN credentials */
	int page_turn_ttl;	 /* seconds those credentials are valid */
	/* plugins / transports */
	char *plugins_disable;	 /* plugins.disable: comma-separated file names or packages */
	char *transports_disable; /* transports.disable */

	/* Not from the file: where it came from, for messages and server_info. */
	char *config_file;	/* NULL when running on embedded defaults */
} stoa_config;

/* Fills `c` with the embedded defaults. */
void stoa_config_init(stoa_config *c);

/* Picks the main config file in `folder`: stoa.jcfg, else janus.jcfg.
 * Returns a newly allocated path, or NULL if neither exists. */
char *stoa_config_find(const char *folder);

/* Reads `path` into `c`. Returns 0, or -1 with "file:line: key: reason" in err. */
int stoa_config_load(stoa_config *c, const char *path, char *err, size_t errlen);

/* The STOA_REST_SCOPE_* mask of a scopes text ("read", "write",
 * "read,write"; commas or spaces between words), or -1 if a word is not a
 * scope or there is none. */
int stoa_config_rest_scopes(const char *text);

/* Frees the strings of `c`. */
void stoa_config_free(stoa_config *c);

/* The running server's configuration (set by server.c before anything starts). */
const stoa_config *stoa_config_get(void);
void stoa_config_set_current(stoa_config *c);

/* Fields the Admin API changes at run time. */
int stoa_config_session_timeout(void);
void stoa_config_set_session_timeout(int seconds);
bool stoa_config_accepting_sessions(void);
void stoa_config_set_accepting_sessions(bool on);

#endif
