/*
 * main.c: command line, configuration and start-up only.
 *
 * Options follow Janus's where Janus has one (-C, -F, -P, -d, -s, -a, ...),
 * so scripts written for Janus keep working; Stoa's own are long-only.
 * Precedence: embedded defaults < config file < command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "core/conf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "stoa/version.h"

#define STOA_LOG_MODULE "main"

enum {
	OPT_HTTP_PORT = 1000,
	OPT_ADMIN_HTTP_PORT,
	OPT_WS_PORT,
	OPT_ADMIN_WS_PORT,
	OPT_HTML_FOLDER,
	OPT_LOG_JSON,
	OPT_ADMIN_SECRET,
	OPT_TURN_SERVER,
	OPT_TURN_PORT,
	OPT_TURN_TYPE,
	OPT_TURN_USER,
	OPT_TURN_PWD,
	OPT_TURN_REST_API,
	OPT_TURN_REST_API_KEY,
	OPT_HTTPS,
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "config", required_argument, NULL, 'C' },
	{ "configs-folder", required_argument, NULL, 'F' },
	{ "plugins-folder", required_argument, NULL, 'P' },
	{ "debug-level", required_argument, NULL, 'd' },
	{ "debug-timestamps", no_argument, NULL, 'D' },
	{ "disable-colors", no_argument, NULL, 'o' },
	{ "log-file", required_argument, NULL, 'L' },
	{ "interface", required_argument, NULL, 'i' },
	{ "session-timeout", required_argument, NULL, 's' },
	{ "reclaim-session-timeout", required_argument, NULL, 'm' },
	{ "apisecret", required_argument, NULL, 'a' },
	{ "token-auth", no_argument, NULL, 'A' },
	{ "token-auth-secret", required_argument, NULL, 'T' },
	{ "server-name", required_argument, NULL, 'n' },
	{ "stun-server", required_argument, NULL, 'S' },
	{ "nat-1-1", required_argument, NULL, '1' },
	{ "ice-enforce-list", required_argument, NULL, 'E' },
	{ "ice-ignore-list", required_argument, NULL, 'X' },
	{ "rtp-port-range", required_argument, NULL, 'r' },
	{ "event-loops", required_argument, NULL, 'l' },
	{ "http-port", required_argument, NULL, OPT_HTTP_PORT },
	{ "admin-http-port", required_argument, NULL, OPT_ADMIN_HTTP_PORT },
	{ "ws-port", required_argument, NULL, OPT_WS_PORT },
	{ "admin-ws-port", required_argument, NULL, OPT_ADMIN_WS_PORT },
	{ "html-folder", required_argument, NULL, OPT_HTML_FOLDER },
	{ "https", no_argument, NULL, OPT_HTTPS },
	{ "log-json", no_argument, NULL, OPT_LOG_JSON },
	{ "admin-secret", required_argument, NULL, OPT_ADMIN_SECRET },
	{ "turn-server", required_argument, NULL, OPT_TURN_SERVER },
	{ "turn-port", required_argument, NULL, OPT_TURN_PORT },
	{ "turn-type", required_argument, NULL, OPT_TURN_TYPE },
	{ "turn-user", required_argument, NULL, OPT_TURN_USER },
	{ "turn-pwd", required_argument, NULL, OPT_TURN_PWD },
	{ "turn-rest-api", required_argument, NULL, OPT_TURN_REST_API },
	{ "turn-rest-api-key", required_argument, NULL, OPT_TURN_REST_API_KEY },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: stoa [OPTION]...\n"
		"Stoa %s, a WebRTC SFU that speaks the Janus API.\n\n"
		"With no configuration file Stoa runs on embedded defaults: demo pages and the\n"
		"Janus API on http://localhost:8088/ (API at /janus), WebSocket API on\n"
		"ws://localhost:8188 (subprotocol janus-protocol), Admin API on 127.0.0.1:7088\n"
		"(/admin) and 127.0.0.1:7188 (janus-admin-protocol).\n\n"
		"  -h, --help                     show this help and exit\n"
		"  -V, --version                  show the version and exit\n"
		"  -C, --config=FILE              main configuration file\n"
		"                                 (default: FOLDER/stoa.jcfg, else FOLDER/janus.jcfg)\n"
		"  -F, --configs-folder=FOLDER    configuration folder (default: %s)\n"
		"  -P, --plugins-folder=FOLDER    plugins folder (default: %s)\n"
		"  -d, --debug-level=0..7         log level (default: 4)\n"
		"  -D, --debug-timestamps         timestamp log lines\n"
		"  -o, --disable-colors           no colours in log lines\n"
		"  -L, --log-file=FILE            also log to FILE\n"
		"      --log-json                 log JSON lines (for log shippers)\n"
		"  -i, --interface=IP             the server's IP as shown in server_info\n"
		"  -s, --session-timeout=SECONDS  idle session timeout, 0 = never (default: 60)\n"
		"  -m, --reclaim-session-timeout=SECONDS\n"
		"                                 keep sessions of a closed WebSocket this long for a claim\n"
		"  -a, --apisecret=SECRET         secret every Janus API request must carry\n"
		"  -A, --token-auth               require tokens (stored tokens via the Admin API)\n"
		"  -T, --token-auth-secret=KEY    verify HMAC-signed tokens with KEY\n"
		"      --admin-secret=SECRET      secret for the Admin API\n"
		"  -n, --server-name=NAME         server name shown in server_info\n"
		"  -S, --stun-server=HOST[:PORT]  STUN server for ICE\n"
		"  -1, --nat-1-1=IP               public IP to advertise in candidates\n"
		"  -E, --ice-enforce-list=LIST    only gather on these interfaces/IPs\n"
		"  -X, --ice-ignore-list=LIST     never gather on these interfaces/IPs\n"
		"      --turn-server=HOST         TURN server for our side of ICE\n"
		"      --turn-port=PORT           its port (default: 3478)\n"
		"      --turn-type=udp|tcp|tls    how to reach it (default: udp)\n"
		"      --turn-user=USER           TURN username\n"
		"      --turn-pwd=PASSWORD        TURN password\n"
		"      --turn-rest-api=URL        get TURN credentials from this TURN REST API\n"
		"      --turn-rest-api-key=KEY    API key sent to it\n"
		"  -r, --rtp-port-range=MIN-MAX   UDP port range for media\n"
		"  -l, --event-loops=N            media loops (default: one per core)\n"
		"      --http-port=PORT           Janus API and demo pages over HTTP (0 = off)\n"
		"      --admin-http-port=PORT     Admin API over HTTP (0 = off)\n"
		"      --ws-port=PORT             Janus API over WebSocket (0 = off)\n"
		"      --admin-ws-port=PORT       Admin API over WebSocket (0 = off)\n"
		"      --html-folder=FOLDER       folder served at / (default: %s)\n"
		"      --https                    also serve HTTPS (default port 8089) and WSS (8989)\n"
		"                                 with the configured certificates or, without them,\n"
		"                                 a self-signed one made at start-up (see the log)\n",
		STOA_VERSION_STRING, STOA_CONFDIR, STOA_PLUGINDIR, STOA_HTMLDIR);
}

/* Parses an integer option within [lo, hi]; exits with a message otherwise. */
static int int_arg(const char *opt, const char *val, long lo, long hi)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "stoa: invalid value '%s' for %s (expected %ld..%ld)\n", val, opt, lo,
			hi);
		exit(2);
	}
	return (int)v;
}

typedef struct cli {
	const char *config_file;
	const char *configs_folder;
	/* Options that override the file, applied after loading it. */
	GPtrArray *overrides; /* pairs: (struct option *, value) */
	stoa_transport_env env;
} cli;

static void parse_args(int argc, char **argv, cli *c)
{
	int opt, idx;
	while ((opt = getopt_long(argc, argv, "hVC:F:P:d:DoL:i:s:m:a:AT:n:S:1:E:X:r:l:", long_options,
				  &idx)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); exit(0);
		case 'V': printf("stoa %s (plugin API %d)\n", STOA_VERSION_STRING, STOA_PLUGIN_API_VERSION); exit(0);
		case 'C': c->config_file = optarg; break;
		case 'F': c->configs_folder = optarg; break;
		case OPT_HTTP_PORT: c->env.http_port = int_arg("--http-port", optarg, 0, 65535); break;
		case OPT_ADMIN_HTTP_PORT: c->env.admin_http_port = int_arg("--admin-http-port", optarg, 0, 65535); break;
		case OPT_WS_PORT: c->env.ws_port = int_arg("--ws-port", optarg, 0, 65535); break;
		case OPT_ADMIN_WS_PORT: c->env.admin_ws_port = int_arg("--admin-ws-port", optarg, 0, 65535); break;
		case OPT_HTML_FOLDER: c->env.html_folder = optarg; break;
		case OPT_HTTPS: c->env.https = true; break;
		case '?': fprintf(stderr, "Try 'stoa --help' for the options.\n"); exit(2);
		default:
			g_ptr_array_add(c->overrides, GINT_TO_POINTER(opt));
			g_ptr_array_add(c->overrides, optarg);
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stoa: unexpected argument '%s'\nTry 'stoa --help' for the options.\n",
			argv[optind]);
		exit(2);
	}
}

static void apply_override(stoa_config *cfg, int opt, const char *v)
{
	switch (opt) {
	case 'P': stoa_conf_set_string(&cfg->plugins_folder, v); break;
	case 'd': cfg->debug_level = int_arg("--debug-level", v, 0, 7); break;
	case 'D': cfg->debug_timestamps = true; break;
	case 'o': cfg->debug_colors = false; break;
	case 'L': stoa_conf_set_string(&cfg->log_file, v); break;
	case OPT_LOG_JSON: stoa_conf_set_string(&cfg->log_format, "json"); break;
	case 'i': stoa_conf_set_string(&cfg->interface, v); break;
	case 's': cfg->session_timeout = int_arg("--session-timeout", v, 0, 86400 * 7); break;
	case 'm': cfg->reclaim_session_timeout = int_arg("--reclaim-session-timeout", v, 0, 86400); break;
	case 'a': stoa_conf_set_string(&cfg->api_secret, v); break;
	case 'A': cfg->token_auth = true; break;
	case 'T': cfg->token_auth = true; stoa_conf_set_string(&cfg->token_auth_secret, v); break;
	case OPT_ADMIN_SECRET: stoa_conf_set_string(&cfg->admin_secret, v); break;
	case 'n': stoa_conf_set_string(&cfg->server_name, v); break;
	case 'S': stoa_conf_set_string(&cfg->stun_server, v); break;
	case '1': stoa_conf_set_string(&cfg->nat_1_1_mapping, v); break;
	case 'E': stoa_conf_set_string(&cfg->ice_enforce_list, v); break;
	case 'X': stoa_conf_set_string(&cfg->ice_ignore_list, v); break;
	case 'r': stoa_conf_set_string(&cfg->rtp_port_range, v); break;
	case 'l': cfg->event_loops = int_arg("--event-loops", v, 0, 1024); break;
	case OPT_TURN_SERVER: stoa_conf_set_string(&cfg->turn_server, v); break;
	case OPT_TURN_PORT: cfg->turn_port = int_arg("--turn-port", v, 1, 65535); break;
	case OPT_TURN_TYPE: stoa_conf_set_string(&cfg->turn_type, v); break;
	case OPT_TURN_USER: stoa_conf_set_string(&cfg->turn_user, v); break;
	case OPT_TURN_PWD: stoa_conf_set_string(&cfg->turn_pwd, v); break;
	case OPT_TURN_REST_API: stoa_conf_set_string(&cfg->turn_rest_api, v); break;
	case OPT_TURN_REST_API_KEY: stoa_conf_set_string(&cfg->turn_rest_api_key, v); break;
	}
}

/* Loads the file (if any) and the overrides into cfg; exits on errors. */
static void load_config(stoa_config *cfg, cli *c)
{
	if (c->configs_folder != NULL)
		stoa_conf_set_string(&cfg->configs_folder, c->configs_folder);
	char *path = c->config_file != NULL ? g_strdup(c->config_file)
					    : stoa_config_find(cfg->configs_folder);
	char err[512];
	if (path != NULL && stoa_config_load(cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "stoa: invalid configuration: %s\n", err);
		g_free(path);
		stoa_config_free(cfg);
		exit(2);
	}
	g_free(path);
	/* -F wins over configs_folder in the file: the folder was chosen on purpose. */
	if (c->configs_folder != NULL)
		stoa_conf_set_string(&cfg->configs_folder, c->configs_folder);
	for (guint i = 0; i + 1 < c->overrides->len; i += 2)
		apply_override(cfg, GPOINTER_TO_INT(c->overrides->pdata[i]), c->overrides->pdata[i + 1]);
}

static int start_logging(const stoa_config *cfg)
{
	stoa_log_options lo = {
		.level = cfg->debug_level,
		.timestamps = cfg->debug_timestamps,
		.colors = cfg->debug_colors ? -1 : 0,
		.json = g_strcmp0(cfg->log_format, "json") == 0,
		.file = cfg->log_file != NULL && *cfg->log_file ? cfg->log_file : NULL,
		.to_stdout = cfg->log_to_stdout,
	};
	return stoa_log_init(&lo);
}

int main(int argc, char **argv)
{
	cli c = { .overrides = g_ptr_array_new() };
	c.env.http_port = c.env.admin_http_port = c.env.ws_port = c.env.admin_ws_port = -1;
	parse_args(argc, argv, &c);

	stoa_config *cfg = g_new0(stoa_config, 1);
	stoa_config_init(cfg);
	load_config(cfg, &c);
	g_ptr_array_unref(c.overrides);
	if (start_logging(cfg) < 0) {
		stoa_config_free(cfg);
		g_free(cfg);
		return 2;
	}
	STOA_LOG(STOA_LOG_INFO, "Stoa %s starting; configuration: %s", STOA_VERSION_STRING,
		 cfg->config_file != NULL ? cfg->config_file : "embedded defaults");
	c.env.configs_folder = cfg->configs_folder;
	c.env.max_request_size = cfg->max_request_size;
	int status = stoa_server_run(cfg, &c.env);
	g_free(cfg);
	stoa_log_close();
	return status;
}
