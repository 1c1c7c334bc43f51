/*
 * main.c: stoa-load's entry point: options in, exit status out. What the
 * tool does is in run.c; how to use it is in docs/load-testing.md.
 */
#include <signal.h>
#include <stdlib.h>

#include "load.h"
#include "options.h"
#include "run.h"

int main(int argc, char **argv)
{
	load_opts o;
	int rc = load_opts_parse(&o, argc, argv);
	if (rc != 0) {
		load_opts_clear(&o);
		return rc > 0 ? 0 : 2;
	}
	/* A server that drops a TCP connection must not kill the tool. */
	signal(SIGPIPE, SIG_IGN);
	int status = load_run_main(&o);
	load_opts_clear(&o);
	return status;
}
