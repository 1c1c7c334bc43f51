/*
 * log.c: stoa-load's messages on stderr and the names of failure reasons.
 * load_warn() is for per-peer trouble: after MAX_WARNINGS lines it says so
 * once and goes quiet, because a thousand viewers failing the same way
 * would otherwise bury the summary (the summary counts them all).
 */
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

#include "load.h"

#define MAX_WARNINGS 200

load_events load_ev;

static gint warnings;
static bool quiet;

const char *load_fail_name(load_fail f)
{
	static const char *const names[LOAD_FAIL_COUNT] = {
		[LOAD_FAIL_NONE] = "none",
		[LOAD_FAIL_WS] = "websocket",
		[LOAD_FAIL_JANUS] = "janus-error",
		[LOAD_FAIL_PROTOCOL] = "bad-reply",
		[LOAD_FAIL_SDP] = "bad-sdp",
		[LOAD_FAIL_ICE] = "ice",
		[LOAD_FAIL_DTLS] = "dtls",
		[LOAD_FAIL_FINGERPRINT] = "fingerprint-mismatch",
		[LOAD_FAIL_SRTP] = "srtp",
		[LOAD_FAIL_HANGUP] = "hangup",
		[LOAD_FAIL_TIMEOUT] = "timeout",
		[LOAD_FAIL_NO_PUBLISHER] = "no-publisher",
		[LOAD_FAIL_NOT_STARTED] = "not-started",
	};
	return f >= 0 && f < LOAD_FAIL_COUNT ? names[f] : "?";
}

void load_set_quiet(bool q)
{
	quiet = q;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, so lines from threads do not interleave. */
	fprintf(stderr, "%s%s\n", prefix, line);
}

void load_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("stoa-load: ", fmt, ap);
	va_end(ap);
}

void load_warn(const char *fmt, ...)
{
	int n = g_atomic_int_add(&warnings, 1);
	if (n > MAX_WARNINGS || (quiet && n > 20))
		return;
	if (n == MAX_WARNINGS || (quiet && n == 20)) {
		fprintf(stderr, "stoa-load: (more warnings not shown; the summary counts them)\n");
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vlog("stoa-load: ", fmt, ap);
	va_end(ap);
}
