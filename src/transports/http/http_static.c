/*
 * http_static.c: the html folder served at / (GET and HEAD), so the demo
 * pages and janus.js come from the same origin as the API.
 *
 * Security: a URL path is mapped to a file only if none of its components
 * is empty, hidden (starts with '.', which covers "." and ".."), contains
 * "..", or holds a backslash, and only if the file's realpath() stays inside
 * the folder's realpath(), which also defeats symlinks that point outside.
 * Libmicrohttpd has already decoded %HH (our unescape callback keeps %00
 * literal, so no NUL reaches us). Every refusal is a plain 404, whatever the
 * reason, so that probing reveals nothing about the file system.
 *
 * Caching: ETag from inode, size and mtime; Last-Modified; Cache-Control:
 * no-cache (browsers revalidate, and get 304 when nothing changed).
 *
 * Threads: libmicrohttpd connection threads; `root` is written on the main
 * thread before the listeners start and after they stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "transports/http/http_internal.h"

#define STOA_LOG_MODULE "http"

static char *root; /* realpath of html_folder, NULL when static files are off */

int stoa__http_static_init(const char *folder)
{
	char buf[PATH_MAX];
	struct stat st;

	if (folder == NULL || realpath(folder, buf) == NULL || stat(buf, &st) < 0 ||
	    !S_ISDIR(st.st_mode)) {
		STOA_LOG(STOA_LOG_WARN, "html folder '%s' is not usable (%s): not serving files at /",
			 folder != NULL ? folder : "(none)", g_strerror(errno));
		return -1;
	}
	root = g_strdup(buf);
	STOA_LOG(STOA_LOG_INFO, "serving %s at /", root);
	return 0;
}

void stoa__http_static_free(void)
{
	g_free(root);
	root = NULL;
}

/* ---------------------------------------------------------------- resolve */

/* Checks every component of a decoded URL path (see the file comment). A
 * trailing slash, i.e. an empty last component, is allowed: it asks for the
 * folder's index.html. */
static int check_url(const char *url)
{
	const char *p;

	if (url == NULL || url[0] != '/' || strchr(url, '\\') != NULL)
		return -1;
	p = url + 1;
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 0 || p[0] == '.' || g_strstr_len(p, (gssize)len, "..") != NULL)
			return -1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/* True when `real` is strictly below `root_real`. */
static bool inside(const char *root_real, const char *real)
{
	size_t n = strlen(root_real);

	if (n == 1 && root_real[0] == '/')
		return real[0] == '/' && real[1] != '\0';
	return strncmp(real, root_real, n) == 0 && real[n] == '/';
}

int stoa_http_static_resolve(const char *root_real, const char *url_path, char *out,
			     size_t outlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *prefix = strcmp(root_real, "/") == 0 ? "" : root_real;
	size_t n = strlen(url_path);
	struct stat st;

	if (check_url(url_path) < 0)
		return -1;
	if ((size_t)g_snprintf(path, sizeof(path), "%s%s%s", prefix, url_path,
			       url_path[n - 1] == '/' ? "index.html" : "") >= sizeof(path))
		return -2;
	if (stat(path, &st) < 0)
		return -3;
	if (S_ISDIR(st.st_mode) && g_strlcat(path, "/index.html", sizeof(path)) >= sizeof(path))
		return -2;
	/* realpath() resolves every symlink, so the check below sees where
	 * the file really is. */
	if (realpath(path, real) == NULL)
		return -3;
	if (!inside(root_real, real))
		return -4;
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
		return -3;
	if (g_strlcpy(out, real, outlen) >= outlen)
		return -2;
	return 0;
}

/* ---------------------------------------------------------------- serve */

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "json", "application/json; charset=utf-8" },
	{ "map", "application/json; charset=utf-8" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "svg", "image/svg+xml; charset=utf-8" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "ico", "image/x-icon" },
	{ "wasm", "application/wasm" },
	{ "woff2", "font/woff2" },
};

static const char *mime_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');

	if (dot != NULL && (slash == NULL || dot > slash)) {
		for (size_t i = 0; i < G_N_ELEMENTS(mime_types); i++)
			if (g_ascii_strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	}
	return "application/octet-stream";
}

/* RFC 9110 §5.6.7 IMF-fixdate, without strftime(): its day and month names
 * follow the locale. */
static void http_date(time_t t, char *out, size_t outlen)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	g_snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		   tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		   tm.tm_sec);
}

/* RFC 9110 §13.1.2: If-None-Match wins over If-Modified-Since. A list or a
 * weak form of our tag still contains the quoted tag, hence strstr(). */
static bool not_modified(struct MHD_Connection *c, const char *etag, const char *lastmod)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims;

	if (inm != NULL)
		return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
	ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	return ims != NULL && strcmp(ims, lastmod) == 0;
}

static void add_cache_headers(struct MHD_Response *resp, const char *etag, const char *lastmod)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

/* Answers from an open regular file; takes ownership of `fd`. */
static STOA_MHD_RESULT serve_fd(struct MHD_Connection *c, int fd, const struct stat *st,
				const char *real)
{
	char etag[80], lastmod[40];
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;

	g_snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx.%lx\"", (unsigned long long)st->st_ino,
		   (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
		   (unsigned long)st->st_mtim.tv_nsec);
	http_date(st->st_mtim.tv_sec, lastmod, sizeof(lastmod));
	if (not_modified(c, etag, lastmod)) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_MODIFIED;
	} else {
		/* MHD closes fd with the response, or not at all if this fails. */
		resp = MHD_create_response_from_fd((size_t)st->st_size, fd);
		if (resp == NULL) {
			close(fd);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type(real));
	}
	if (resp == NULL)
		return MHD_NO;
	add_cache_headers(resp, etag, lastmod);
	return stoa__http_queue(c, status, resp);
}

STOA_MHD_RESULT stoa__http_static_serve(struct MHD_Connection *c, const char *url)
{
	char real[PATH_MAX];
	struct stat st;
	int fd;

	if (root == NULL || stoa_http_static_resolve(root, url, real, sizeof(real)) < 0)
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	/* fstat() the opened file so the headers describe what we send even
	 * if the path changes under us. */
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return stoa__http_respond_empty(c, MHD_HTTP_NOT_FOUND);
	}
	return serve_fd(c, fd, &st, real);
}
