/*
 * fuzz_conf.c: arbitrary text as a main configuration file, through the
 * schema-driven loader (conf.c) and the main schema (config.c). A bad file
 * must give an error message, never a crash or a leak.
 */
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		stoa_log_options lo = { .level = STOA_LOG_NONE };
		stoa_log_init(&lo);
		quiet = 1;
	}
	char path[] = "/tmp/stoa-fuzz-conf-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	stoa_config c;
	stoa_config_init(&c);
	char err[512];
	stoa_config_load(&c, path, err, sizeof(err));
	stoa_config_free(&c);
	unlink(path);
	return 0;
}
