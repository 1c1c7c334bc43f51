/*
 * log.c: levelled logging with timestamps, TTY colours and a JSON-lines mode.
 *
 * Design: the level and the display switches are plain ints read and written
 * atomically, so any thread may change them at run time (the Admin API does)
 * and stoa_log_enabled() costs one load. A line is formatted on the caller's
 * stack and handed to the kernel with one write() per destination: lines from
 * different threads then never interleave (writes to a terminal, an O_APPEND
 * file or a pipe, up to PIPE_BUF, are not split). Messages longer than
 * LOG_MSG_MAX are cut at a UTF-8 character boundary and end in "…".
 *
 * The log file is guarded by a reader/writer lock only so that
 * stoa_log_close() cannot close the descriptor under a thread that is
 * writing to it (which could send the line to a recycled descriptor);
 * stdout and stderr are never closed and need no lock.
 *
 * Called from every thread. stoa_log_init() and stoa_log_close() are meant
 * for the main thread, but are safe against concurrent logging.
 */
#define STOA_LOG_MODULE "log"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>

#define LOG_MSG_MAX 8192		     /* bytes of message text, with the NUL */
#define LOG_LINE_MAX (LOG_MSG_MAX + 1024)    /* room for the prefix or JSON escaping */
#define LOG_ELLIPSIS "\xe2\x80\xa6"	     /* "…", marks a truncated message */
#define LOG_ELLIPSIS_LEN (sizeof(LOG_ELLIPSIS) - 1)
#define LOG_MODULE_MAX 64		     /* longer module names are cut in text lines */

#define ANSI_RED "\x1b[31m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_RESET "\x1b[0m"

static int log_level = STOA_LOG_INFO;
static int log_timestamps;
static int log_colors;
static int log_json;
static int log_fd = STDOUT_FILENO;
static int log_file_fd = -1;
static GRWLock log_file_lock; /* readers write lines, the writer swaps log_file_fd */

/* Length of the longest prefix of s[0..len) that is at most `max` bytes and
 * does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* s[max] is the first byte dropped; if it continues a sequence, that
	 * sequence started before max and must go too. */
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static const char *level_name(int level)
{
	static const char *const names[] = { "none", "fatal", "error", "warn",
					     "info", "verbose", "huge", "debug" };

	if (level < 0)
		return names[0];
	if (level >= (int)G_N_ELEMENTS(names))
		return names[G_N_ELEMENTS(names) - 1];
	return names[level];
}

/* The text tag for a level, and its colour; NULL for levels shown untagged
 * (as Janus does, so operators' greps for "[ERR]" and "[WARN]" keep working). */
static const char *level_tag(int level, const char **color)
{
	switch (level) {
	case STOA_LOG_FATAL:
		*color = ANSI_RED;
		return "[FATAL]";
	case STOA_LOG_ERR:
		*color = ANSI_RED;
		return "[ERR]";
	case STOA_LOG_WARN:
		*color = ANSI_YELLOW;
		return "[WARN]";
	default:
		*color = NULL;
		return NULL;
	}
}

/* "2026-11-21 10:00:00.123" in local time, or the same in UTC as ISO 8601
 * with a "T" and a trailing "Z". */
static void format_time(char *out, size_t size, int64_t wall_us, bool utc_iso)
{
	time_t secs;
	struct tm tm;
	char base[32];

	if (wall_us < 0)
		wall_us = 0;
	secs = (time_t)(wall_us / G_USEC_PER_SEC);
	if (utc_iso)
		gmtime_r(&secs, &tm);
	else
		localtime_r(&secs, &tm);
	strftime(base, sizeof(base), utc_iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, size, "%s.%03d%s", base, (int)(wall_us / 1000 % 1000), utc_iso ? "Z" : "");
}

static void format_ids(char *out, size_t size, uint64_t session_id, uint64_t handle_id)
{
	unsigned long long s = session_id, h = handle_id;

	if (s != 0 && h != 0)
		snprintf(out, size, "[s=%llu h=%llu] ", s, h);
	else if (s != 0)
		snprintf(out, size, "[s=%llu] ", s);
	else if (h != 0)
		snprintf(out, size, "[h=%llu] ", h);
	else
		out[0] = '\0';
}

static size_t format_text(char *buf, size_t size, int level, const char *module,
			  uint64_t session_id, uint64_t handle_id, const char *msg,
			  bool timestamps, bool colors, int64_t wall_us)
{
	char ts[48] = "", tagbuf[32] = "", mod[LOG_MODULE_MAX + 4] = "", ids[64];
	const char *color, *tag = level_tag(level, &color);
	size_t pos, avail, mlen = strlen(msg), cut;
	int n;

	if (timestamps) {
		char t[40];
		format_time(t, sizeof(t), wall_us, false);
		snprintf(ts, sizeof(ts), "[%s] ", t);
	}
	if (tag != NULL)
		snprintf(tagbuf, sizeof(tagbuf), "%s%s%s ", colors ? color : "", tag,
			 colors ? ANSI_RESET : "");
	if (module != NULL && module[0] != '\0')
		snprintf(mod, sizeof(mod), "[%.*s] ", LOG_MODULE_MAX, module);
	format_ids(ids, sizeof(ids), session_id, handle_id);

	n = snprintf(buf, size, "%s%s%s%s", ts, tagbuf, mod, ids);
	pos = n < 0 ? 0 : MIN((size_t)n, size - 1);
	avail = size - 1 - pos;
	if (mlen <= avail) {
		memcpy(buf + pos, msg, mlen + 1);
		return pos + mlen;
	}
	if (avail < LOG_ELLIPSIS_LEN) {
		buf[pos] = '\0';
		return pos;
	}
	cut = utf8_cut(msg, mlen, avail - LOG_ELLIPSIS_LEN);
	memcpy(buf + pos, msg, cut);
	memcpy(buf + pos + cut, LOG_ELLIPSIS, LOG_ELLIPSIS_LEN + 1);
	return pos + cut + LOG_ELLIPSIS_LEN;
}

static json_t *json_line(int level, const char *module, uint64_t session_id,
			 uint64_t handle_id, const char *msg, int64_t wall_us)
{
	json_t *o = json_object();
	char ts[48];

	format_time(ts, sizeof(ts), wall_us, true);
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_name(level)));
	/* json_string() refuses invalid UTF-8 and returns NULL, which
	 * json_object_set_new() ignores: a garbled module name is just left out. */
	if (module != NULL && module[0] != '\0')
		json_object_set_new(o, "module", json_string(module));
	if (session_id != 0)
		json_object_set_new(o, "session_id", json_integer((json_int_t)session_id));
	if (handle_id != 0)
		json_object_set_new(o, "handle_id", json_integer((json_int_t)handle_id));
	json_object_set_new(o, "msg", json_string(msg));
	return o;
}

static size_t dump_json(char *buf, size_t size, int level, const char *module,
			uint64_t session_id, uint64_t handle_id, const char *msg, int64_t wall_us)
{
	json_t *o = json_line(level, module, session_id, handle_id, msg, wall_us);
	size_t need = json_dumpb(o, buf, size, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	return need;
}

/*
 * JSON output must stay valid, so instead of cutting the serialised text we
 * shorten the message and serialise again. Escaping only ever grows text, so
 * removing `excess` raw bytes (plus room for the ellipsis) is always enough.
 */
static size_t format_json(char *buf, size_t size, int level, const char *module,
			  uint64_t session_id, uint64_t handle_id, const char *msg, int64_t wall_us)
{
	char *valid = NULL, *shortened = NULL;
	size_t room = size - 1, need;

	/* Client-supplied text may be invalid UTF-8, which JSON cannot carry. */
	if (!g_utf8_validate(msg, -1, NULL))
		msg = valid = g_utf8_make_valid(msg, -1);
	need = dump_json(buf, room, level, module, session_id, handle_id, msg, wall_us);
	if (need > room) {
		size_t mlen = strlen(msg), excess = need - room + LOG_ELLIPSIS_LEN;
		size_t cut = utf8_cut(msg, mlen, mlen > excess ? mlen - excess : 0);

		shortened = g_strdup_printf("%.*s" LOG_ELLIPSIS, (int)cut, msg);
		need = dump_json(buf, room, level, module, session_id, handle_id, shortened,
				 wall_us);
	}
	g_free(shortened);
	g_free(valid);
	/* Only a buffer too small for the fixed fields ends up empty here. */
	if (need > room)
		need = 0;
	buf[need] = '\0';
	return need;
}

size_t stoa_log_format(char *buf, size_t size, int level, const char *module,
		       uint64_t session_id, uint64_t handle_id, const char *msg,
		       bool json, bool timestamps, bool colors, int64_t wall_us)
{
	if (size == 0)
		return 0;
	if (msg == NULL)
		msg = "";
	if (json)
		return format_json(buf, size, level, module, session_id, handle_id, msg, wall_us);
	return format_text(buf, size, level, module, session_id, handle_id, msg, timestamps,
			   colors, wall_us);
}

/* Writes all of buf; a short write only happens when the destination is
 * congested (a full pipe), and then finishing the line beats dropping it. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report a logging failure */
		}
		buf += n;
		len -= (size_t)n;
	}
}

static size_t format_message(char *msg, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Formats the message text; returns its length. */
static size_t format_message(char *msg, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(msg, size, fmt, ap);
	size_t len;

	if (n < 0) {
		snprintf(msg, size, "(unformattable log message: %s)", fmt);
		n = (int)strlen(msg);
	}
	len = (size_t)n;
	if (len >= size) {
		len = utf8_cut(msg, size - 1, size - 1 - LOG_ELLIPSIS_LEN);
		memcpy(msg + len, LOG_ELLIPSIS, LOG_ELLIPSIS_LEN + 1);
		len += LOG_ELLIPSIS_LEN;
	}
	/* Code ported from Janus ends messages with "\n"; we add our own. */
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	return len;
}

void stoa_log_writev(int level, const char *module, uint64_t session_id, uint64_t handle_id,
		     const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	char line[LOG_LINE_MAX];
	int64_t now;
	bool json, timestamps, colors;
	size_t n;
	int file_fd;

	if (!stoa_log_enabled(level))
		return;
	format_message(msg, sizeof(msg), fmt, ap);
	now = g_get_real_time();
	json = g_atomic_int_get(&log_json) != 0;
	timestamps = g_atomic_int_get(&log_timestamps) != 0;
	colors = !json && g_atomic_int_get(&log_colors) != 0;

	/* Keep one byte for the newline. */
	n = stoa_log_format(line, sizeof(line) - 1, level, module, session_id, handle_id, msg,
			    json, timestamps, colors, now);
	line[n] = '\n';
	write_all(g_atomic_int_get(&log_fd), line, n + 1);

	g_rw_lock_reader_lock(&log_file_lock);
	file_fd = log_file_fd;
	if (file_fd >= 0) {
		/* Escape codes are for terminals, not for files. */
		if (colors) {
			n = stoa_log_format(line, sizeof(line) - 1, level, module, session_id,
					    handle_id, msg, json, timestamps, false, now);
			line[n] = '\n';
		}
		write_all(file_fd, line, n + 1);
	}
	g_rw_lock_reader_unlock(&log_file_lock);
}

void stoa_log_write(int level, const char *module, uint64_t session_id, uint64_t handle_id,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stoa_log_writev(level, module, session_id, handle_id, fmt, ap);
	va_end(ap);
}

/* Replaces the log file (or removes it, with fd -1), closing the old one. */
static void swap_file_fd(int fd)
{
	int old;

	g_rw_lock_writer_lock(&log_file_lock);
	old = log_file_fd;
	log_file_fd = fd;
	g_rw_lock_writer_unlock(&log_file_lock);
	if (old >= 0)
		close(old);
}

/*
 * May be called again (main.c does once the config is read); the last call
 * wins. If the file cannot be opened, the other options still apply, the
 * previous file (if any) stays in use, and the failure is logged here, where
 * the path and errno are known.
 */
int stoa_log_init(const stoa_log_options *opts)
{
	static const stoa_log_options defaults = {
		.level = STOA_LOG_INFO, .colors = -1, .to_stdout = true,
	};
	int fd, file_fd;

	if (opts == NULL)
		opts = &defaults;
	fd = opts->to_stdout ? STDOUT_FILENO : STDERR_FILENO;
	g_atomic_int_set(&log_fd, fd);
	stoa_log_set_level(opts->level);
	g_atomic_int_set(&log_timestamps, opts->timestamps ? 1 : 0);
	g_atomic_int_set(&log_colors, opts->colors < 0 ? isatty(fd) == 1 : opts->colors != 0);
	g_atomic_int_set(&log_json, opts->json ? 1 : 0);

	if (opts->file == NULL || opts->file[0] == '\0') {
		swap_file_fd(-1);
		return 0;
	}
	file_fd = open(opts->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (file_fd < 0) {
		int e = errno;
		STOA_LOG(STOA_LOG_ERR, "cannot open log file %s: %s", opts->file, g_strerror(e));
		return -1;
	}
	swap_file_fd(file_fd);
	return 0;
}

void stoa_log_close(void)
{
	swap_file_fd(-1);
}

void stoa_log_set_level(int level)
{
	g_atomic_int_set(&log_level, CLAMP(level, STOA_LOG_NONE, STOA_LOG_DBG));
}

int stoa_log_get_level(void)
{
	return g_atomic_int_get(&log_level);
}

void stoa_log_set_timestamps(bool on)
{
	g_atomic_int_set(&log_timestamps, on ? 1 : 0);
}

bool stoa_log_get_timestamps(void)
{
	return g_atomic_int_get(&log_timestamps) != 0;
}

void stoa_log_set_colors(bool on)
{
	g_atomic_int_set(&log_colors, on ? 1 : 0);
}

bool stoa_log_get_colors(void)
{
	return g_atomic_int_get(&log_colors) != 0;
}

bool stoa_log_enabled(int level)
{
	return level <= g_atomic_int_get(&log_level);
}

/*
 * Lock-free: the thread whose compare-and-swap moves next_us forward is the
 * one that logs, so two lines never pass in one interval. The benign race is
 * in the count: a line suppressed between another thread's CAS and its
 * exchange of the counter is reported with that line instead of the next
 * one. Relaxed ordering is enough, as nothing else is published through
 * these fields.
 */
bool stoa_log_ratelimit_pass(stoa_log_ratelimit *rl, int interval_s, unsigned *suppressed)
{
	int64_t now = g_get_monotonic_time();
	int64_t next = __atomic_load_n(&rl->next_us, __ATOMIC_RELAXED);
	int64_t then = now + (int64_t)MAX(interval_s, 0) * G_USEC_PER_SEC;
	unsigned count;

	if (now < next || !__atomic_compare_exchange_n(&rl->next_us, &next, then, false,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
		if (suppressed != NULL)
			*suppressed = 0;
		return false;
	}
	count = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
	if (suppressed != NULL)
		*suppressed = count;
	return true;
}
