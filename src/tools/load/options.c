/*
 * options.c: stoa-load's command line (getopt_long) and its help text.
 * Every number is range-checked here so the rest of the tool can trust it.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

static const char usage_text[] =
	"Usage: stoa-load [OPTION]...\n"
	"Load test for a Janus-API VideoRoom (Stoa, Janus): per room, publishers that\n"
	"create the room and send a VP8 (+ Opus) file; subscribers that join, answer,\n"
	"complete ICE + DTLS-SRTP and count what they receive. All in one process.\n"
	"\n"
	"  --server URL        Janus API over WebSocket (default ws://127.0.0.1:8188)\n"
	"  --viewers N         subscribers in total, spread over the rooms (default 10)\n"
	"  --rooms R           rooms; each gets its own publishers (default 1)\n"
	"  --publishers P      publishers per room; viewers are spread over them (default 1)\n"
	"  --duration S        seconds from the start of the viewer ramp to the end,\n"
	"                      ramp included (default 30)\n"
	"  --ramp J            subscriber joins per second (default 50)\n"
	"  --video FILE.ivf    VP8 in IVF to send, looped (required; make one with\n"
	"                      tests/bench/make-media.py)\n"
	"  --audio FILE.opus   Ogg Opus to send as well, looped (optional)\n"
	"  --server-pid PID    report the server's CPU and RSS from /proc/PID\n"
	"  --json FILE         JSON lines: one object a second and a final summary\n"
	"  --ice-ip ADDR       local address for ICE (default 127.0.0.1)\n"
	"  --threads T         worker threads the peers are spread over\n"
	"                      (default: number of CPUs)\n"
	"  --verify            authenticate every received packet with srtp_unprotect.\n"
	"                      Without it only the first packet of each stream is\n"
	"                      authenticated (proving the keys); the rest are counted\n"
	"                      from the RTP header, which SRTP leaves in the clear:\n"
	"                      cheap, so the tool's own CPU stays low\n"
	"  --max-loss PCT      a loss at or above PCT percent fails the run (default 0.5)\n"
	"  --join-timeout S    seconds a viewer may take from connecting to its first\n"
	"                      packet before it counts as failed (default 20)\n"
	"  --room-id ID        first room id (rooms get ID, ID+1, ...); default random.\n"
	"                      An existing room with that id is used as it is\n"
	"  --json-viewers      with --json: one line per viewer (its timings, packets,\n"
	"                      loss, failure) before the summary\n"
	"  --test-bad-fingerprint\n"
	"                      test only: alter the fingerprint the server's SDP\n"
	"                      announces before checking it, so every viewer must fail\n"
	"                      with fingerprint-mismatch\n"
	"  --quiet             no progress line on stderr\n"
	"  --help              this text\n"
	"\n"
	"Exit status: 0 when every requested viewer received media and the loss is\n"
	"below --max-loss; 1 otherwise; 2 on a usage error. See docs/load-testing.md.\n";

enum {
	OPT_SERVER = 256, OPT_VIEWERS, OPT_ROOMS, OPT_PUBLISHERS, OPT_DURATION, OPT_RAMP,
	OPT_VIDEO, OPT_AUDIO, OPT_SERVER_PID, OPT_JSON, OPT_ICE_IP, OPT_THREADS,
	OPT_VERIFY, OPT_QUIET, OPT_MAX_LOSS, OPT_JOIN_TIMEOUT, OPT_ROOM_ID,
	OPT_BAD_FINGERPRINT, OPT_JSON_VIEWERS, OPT_HELP
};

static const struct option long_opts[] = {
	{"server", required_argument, NULL, OPT_SERVER},
	{"viewers", required_argument, NULL, OPT_VIEWERS},
	{"rooms", required_argument, NULL, OPT_ROOMS},
	{"publishers", required_argument, NULL, OPT_PUBLISHERS},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"ramp", required_argument, NULL, OPT_RAMP},
	{"video", required_argument, NULL, OPT_VIDEO},
	{"audio", required_argument, NULL, OPT_AUDIO},
	{"server-pid", required_argument, NULL, OPT_SERVER_PID},
	{"json", required_argument, NULL, OPT_JSON},
	{"ice-ip", required_argument, NULL, OPT_ICE_IP},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"max-loss", required_argument, NULL, OPT_MAX_LOSS},
	{"join-timeout", required_argument, NULL, OPT_JOIN_TIMEOUT},
	{"room-id", required_argument, NULL, OPT_ROOM_ID},
	{"test-bad-fingerprint", no_argument, NULL, OPT_BAD_FINGERPRINT},
	{"json-viewers", no_argument, NULL, OPT_JSON_VIEWERS},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int parse_int(const char *name, const char *s, long min, long max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "stoa-load: --%s wants an integer from %ld to %ld, not '%s'\n",
			name, min, max, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_double(const char *name, const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
		fprintf(stderr, "stoa-load: --%s wants a number from %g to %g, not '%s'\n",
			name, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_room_id(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	/* Janus ids are JSON integers that JavaScript holds exactly: 53 bits. */
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > (1ULL << 53) - 1) {
		fprintf(stderr, "stoa-load: --room-id wants an integer from 1 to 2^53-1\n");
		return -1;
	}
	*out = v;
	return 0;
}

static void set_str(char **dst, const char *v)
{
	g_free(*dst);
	*dst = g_strdup(v);
}

static void set_defaults(load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->server = g_strdup("ws://127.0.0.1:8188");
	o->viewers = 10;
	o->rooms = 1;
	o->publishers = 1;
	o->duration = 30;
	o->ramp = 50;
	o->ice_ip = g_strdup("127.0.0.1");
	o->threads = (int)g_get_num_processors();
	o->max_loss = 0.5;
	o->join_timeout = 20;
}

static int apply(load_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_SERVER: set_str(&o->server, arg); return 0;
	case OPT_VIEWERS: return parse_int("viewers", arg, 0, 100000, &o->viewers);
	case OPT_ROOMS: return parse_int("rooms", arg, 1, 1000, &o->rooms);
	case OPT_PUBLISHERS: return parse_int("publishers", arg, 1, 100, &o->publishers);
	case OPT_DURATION: return parse_double("duration", arg, 1, 86400, &o->duration);
	case OPT_RAMP: return parse_double("ramp", arg, 0.1, 100000, &o->ramp);
	case OPT_VIDEO: set_str(&o->video, arg); return 0;
	case OPT_AUDIO: set_str(&o->audio, arg); return 0;
	case OPT_SERVER_PID: return parse_int("server-pid", arg, 1, 1 << 30, &o->server_pid);
	case OPT_JSON: set_str(&o->json, arg); return 0;
	case OPT_ICE_IP: set_str(&o->ice_ip, arg); return 0;
	case OPT_THREADS: return parse_int("threads", arg, 1, 256, &o->threads);
	case OPT_VERIFY: o->verify = true; return 0;
	case OPT_QUIET: o->quiet = true; return 0;
	case OPT_MAX_LOSS: return parse_double("max-loss", arg, 0, 100, &o->max_loss);
	case OPT_JOIN_TIMEOUT:
		return parse_double("join-timeout", arg, 1, 3600, &o->join_timeout);
	case OPT_ROOM_ID: return parse_room_id(arg, &o->room_id);
	case OPT_BAD_FINGERPRINT: o->bad_fingerprint = true; return 0;
	case OPT_JSON_VIEWERS: o->json_viewers = true; return 0;
	default:
		fprintf(stderr, "Try 'stoa-load --help'.\n");
		return -1;
	}
}

int load_opts_parse(load_opts *o, int argc, char **argv)
{
	set_defaults(o);
	opterr = 1;
	for (;;) {
		int c = getopt_long(argc, argv, "", long_opts, NULL);
		if (c == -1)
			break;
		if (c == OPT_HELP) {
			fputs(usage_text, stdout);
			return 1;
		}
		if (apply(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "stoa-load: unexpected argument '%s'\nTry 'stoa-load --help'.\n",
			argv[optind]);
		return -1;
	}
	if (o->video == NULL) {
		fprintf(stderr, "stoa-load: --video FILE.ivf is required "
				"(tests/bench/make-media.py makes one)\n");
		return -1;
	}
	if (strncmp(o->server, "ws://", 5) != 0) {
		fprintf(stderr, "stoa-load: --server must be a ws:// URL\n");
		return -1;
	}
	return 0;
}

void load_opts_clear(load_opts *o)
{
	g_free(o->server);
	g_free(o->video);
	g_free(o->audio);
	g_free(o->json);
	g_free(o->ice_ip);
	memset(o, 0, sizeof(*o));
}
