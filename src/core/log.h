/*
 * log.h: levelled logging with timestamps, TTY colours and a JSON-lines mode.
 *
 * Levels are Janus's (0 none .. 7 debug, `debug_level`/`-d`). Lines may carry
 * the session and handle ids they concern, so an operator can grep one call.
 * Any thread may log; a line is written with a single write() so lines from
 * threads never interleave. Per-packet problems must use STOA_LOG_RATELIMITED.
 */
#ifndef STOA_CORE_LOG_H
#define STOA_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "stoa/plugin.h" /* STOA_LOG_* levels */

typedef struct stoa_log_options {
	int level;	   /* lines above this level are dropped */
	bool timestamps;   /* prefix an ISO-8601 local time */
	int colors;	   /* 1 on, 0 off, -1 when stderr is a TTY */
	bool json;	   /* one JSON object per line instead of text */
	const char *file;  /* also append to this file, or NULL */
	bool to_stdout;	   /* write to stdout (default) instead of stderr */
} stoa_log_options;

int stoa_log_init(const stoa_log_options *opts);
void stoa_log_close(void);
void stoa_log_set_level(int level);
int stoa_log_get_level(void);
void stoa_log_set_timestamps(bool on);
bool stoa_log_get_timestamps(void);
void stoa_log_set_colors(bool on);
bool stoa_log_get_colors(void);
bool stoa_log_enabled(int level);

/* `module` names the source (e.g. "http", "janus.plugin.echotest"); ids are 0 when not relevant. */
void stoa_log_write(int level, const char *module, uint64_t session_id, uint64_t handle_id,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void stoa_log_writev(int level, const char *module, uint64_t session_id, uint64_t handle_id,
		     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Formats one line into buf (no trailing newline); exposed for unit tests. */
size_t stoa_log_format(char *buf, size_t size, int level, const char *module,
		       uint64_t session_id, uint64_t handle_id, const char *msg,
		       bool json, bool timestamps, bool colors, int64_t wall_us);

#define STOA_LOG(level, ...) \
	do { \
		if (stoa_log_enabled(level)) \
			stoa_log_write((level), STOA_LOG_MODULE, 0, 0, __VA_ARGS__); \
	} while (0)
#define STOA_LOG_S(level, sid, hid, ...) \
	do { \
		if (stoa_log_enabled(level)) \
			stoa_log_write((level), STOA_LOG_MODULE, (sid), (hid), __VA_ARGS__); \
	} while (0)

/* At most one line per `interval_s` seconds from this call site; counts the rest
 * and reports how many were suppressed on the next line that gets through. */
typedef struct stoa_log_ratelimit {
	int64_t next_us;
	unsigned suppressed;
} stoa_log_ratelimit;
bool stoa_log_ratelimit_pass(stoa_log_ratelimit *rl, int interval_s, unsigned *suppressed);
#define STOA_LOG_RATELIMITED(level, interval_s, ...) \
	do { \
		static stoa_log_ratelimit rl_; \
		unsigned supp_; \
		if (stoa_log_enabled(level) && stoa_log_ratelimit_pass(&rl_, (interval_s), &supp_)) { \
			stoa_log_write((level), STOA_LOG_MODULE, 0, 0, __VA_ARGS__); \
			if (supp_ > 0) \
				stoa_log_write((level), STOA_LOG_MODULE, 0, 0, \
					       "(%u similar lines suppressed)", supp_); \
		} \
	} while (0)

#endif
