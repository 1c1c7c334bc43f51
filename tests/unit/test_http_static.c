/*
 * test_http_static.c: unit tests for the path resolution of
 * src/transports/http/http_static.c (stoa_http_static_resolve).
 *
 * A temporary html folder holds files, a folder with an index.html, a
 * folder without one, a hidden file, and symlinks: one to a file outside
 * the folder, one to a folder outside, and one inside that stays inside.
 * Traversal attempts, in the already-decoded form libmicrohttpd hands us,
 * must be refused; legitimate paths must resolve to the real file.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "transports/http/http_internal.h"

static char *base_dir;	/* the temporary folder: html/ and outside/ live in it */
static char *root_real;	/* realpath of base_dir/html */

static void write_file(const char *rel, const char *text)
{
	char *path = g_build_filename(base_dir, rel, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
}

static void make_link(const char *target, const char *rel)
{
	char *path = g_build_filename(base_dir, rel, NULL);

	g_assert_cmpint(symlink(target, path), ==, 0);
	g_free(path);
}

static void make_dir(const char *rel)
{
	char *path = g_build_filename(base_dir, rel, NULL);

	g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
	g_free(path);
}

static void setup_tree(void)
{
	char buf[PATH_MAX];
	char *html, *outside_file, *outside_dir;

	base_dir = g_dir_make_tmp("stoa-static-XXXXXX", NULL);
	g_assert_nonnull(base_dir);
	make_dir("html");
	make_dir("html/docs");
	make_dir("html/sub");
	make_dir("outside");
	write_file("html/index.html", "<h1>root</h1>");
	write_file("html/app.js", "1;");
	write_file("html/docs/index.html", "<h1>docs</h1>");
	write_file("html/sub/page.html", "<p>page</p>");
	write_file("html/.secret", "hidden");
	write_file("outside/passwd", "root:x:0:0");
	write_file("outside/index.html", "outside");

	outside_file = g_build_filename(base_dir, "outside", "passwd", NULL);
	outside_dir = g_build_filename(base_dir, "outside", NULL);
	make_link(outside_file, "html/leak.txt");	/* absolute link out */
	make_link("../outside", "html/out");		/* relative link to a folder out */
	make_link(outside_dir, "html/sub/up");		/* link out from a subfolder */
	make_link("app.js", "html/alias.js");		/* link that stays inside */
	g_free(outside_file);
	g_free(outside_dir);

	html = g_build_filename(base_dir, "html", NULL);
	g_assert_nonnull(realpath(html, buf));
	root_real = g_strdup(buf);
	g_free(html);
}

static void remove_tree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			char *child = g_build_filename(path, name, NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child);
			else
				g_unlink(child);
			g_free(child);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

/* Resolves `url` and checks the result is html/<expected_rel>. */
static void assert_resolves(const char *url, const char *expected_rel)
{
	char out[PATH_MAX];
	char *expected = g_build_filename(root_real, expected_rel, NULL);
	int rc = stoa_http_static_resolve(root_real, url, out, sizeof(out));

	if (rc != 0)
		g_test_message("'%s' was refused (%d)", url, rc);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(out, ==, expected);
	g_free(expected);
}

static void assert_refused(const char *url)
{
	char out[PATH_MAX];
	int rc;

	strcpy(out, "untouched");
	rc = stoa_http_static_resolve(root_real, url, out, sizeof(out));
	if (rc >= 0)
		g_test_message("'%s' resolved to %s", url, out);
	g_assert_cmpint(rc, <, 0);
}

static void test_legit_paths(void)
{
	assert_resolves("/", "index.html");
	assert_resolves("/index.html", "index.html");
	assert_resolves("/app.js", "app.js");
	assert_resolves("/docs", "docs/index.html");
	assert_resolves("/docs/", "docs/index.html");
	assert_resolves("/docs/index.html", "docs/index.html");
	assert_resolves("/sub/page.html", "sub/page.html");
	/* A symlink that stays inside resolves to its target. */
	assert_resolves("/alias.js", "app.js");
}

static void test_traversal(void)
{
	assert_refused("/../etc/passwd");
	assert_refused("/a/../../x");
	assert_refused("/docs/../index.html");
	assert_refused("/./index.html");
	assert_refused("/..");
	assert_refused("/docs/..");
	assert_refused("/a..b");
	/* "/%2e%2e/x" reaches us decoded; undecoded, it is just a missing file. */
	assert_refused("/%2e%2e/x");
	assert_refused("/\\..\\outside\\passwd");
	assert_refused("/docs\\index.html");
}

static void test_malformed(void)
{
	char out[8];

	assert_refused("");
	assert_refused("index.html");
	assert_refused("//index.html");
	assert_refused("/docs//index.html");
	assert_refused("/.secret");
	assert_refused("/.");
	assert_refused("/missing.html");
	assert_refused("/index.html/");
	/* A folder without index.html is not listed. */
	assert_refused("/sub/");
	assert_refused("/sub");
	/* The result must fit the caller's buffer. */
	g_assert_cmpint(stoa_http_static_resolve(root_real, "/index.html", out, sizeof(out)), <, 0);
}

static void test_symlinks_out(void)
{
	assert_refused("/leak.txt");
	assert_refused("/out/passwd");
	assert_refused("/out/");
	assert_refused("/out");
	assert_refused("/sub/up/passwd");
	assert_refused("/sub/up/index.html");
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	setup_tree();
	g_test_add_func("/http/static/legit", test_legit_paths);
	g_test_add_func("/http/static/traversal", test_traversal);
	g_test_add_func("/http/static/malformed", test_malformed);
	g_test_add_func("/http/static/symlinks-out", test_symlinks_out);
	rc = g_test_run();
	remove_tree(base_dir);
	g_free(base_dir);
	g_free(root_real);
	return rc;
}
