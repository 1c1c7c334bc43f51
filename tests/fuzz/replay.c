/*
 * replay.c: runs a fuzz target over every file of the corpus folders given
 * on the command line, printing TAP (one line per folder). A crash or a
 * sanitizer report ends the process, which the TAP driver reports as an
 * error, naming the file it was on.
 */
#include <glib.h>
#include <stdio.h>

#include "fuzz.h"

static int replay_dir(const char *dir, int *files)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (d == NULL)
		return -1;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);
		gchar *buf = NULL;
		gsize len = 0;
		if (g_file_get_contents(path, &buf, &len, NULL)) {
			fprintf(stderr, "# %s\n", path);
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
			(*files)++;
		}
		g_free(buf);
		g_free(path);
	}
	g_dir_close(d);
	return 0;
}

/* With no arguments (as `make check` runs it), the target's own corpus:
 * $STOA_SRCDIR/tests/fuzz/corpus/<FUZZ_CORPUS_NAME>. */
int main(int argc, char **argv)
{
	char *dflt = NULL;
	char *args[3];
	/* make check passes --tap (for the GTest binaries); it means nothing here. */
	if (argc >= 2 && argv[1][0] == '-')
		argc = 1;
	if (argc < 2) {
		const char *src = g_getenv("STOA_SRCDIR");
		dflt = g_build_filename(src != NULL ? src : ".", "tests", "fuzz", "corpus",
					FUZZ_CORPUS_NAME, NULL);
		args[0] = argv[0];
		args[1] = dflt;
		args[2] = NULL;
		argv = args;
		argc = 2;
	}
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		int files = 0;
		int rc = replay_dir(argv[i], &files);
		printf("%sok %d - replayed %d inputs from %s\n", rc == 0 && files > 0 ? "" : "not ",
		       i, files, argv[i]);
	}
	g_free(dflt);
	return 0;
}
