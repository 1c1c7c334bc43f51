/*
 * options.h: stoa-load's command line. Parsed once on the main thread
 * before anything starts; read-only afterwards, so every thread may read
 * it without locks.
 */
#ifndef LOAD_OPTIONS_H
#define LOAD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct load_opts {
	char *server;		/* ws://host:port[/path] */
	int viewers;		/* subscribers in total, spread over the rooms */
	int rooms;
	int publishers;		/* per room */
	double duration;	/* seconds from the start of the viewer ramp */
	double ramp;		/* subscriber joins per second */
	char *video;		/* IVF (VP8) file the publishers send */
	char *audio;		/* Ogg Opus file, optional */
	int server_pid;		/* 0: no server CPU/RSS figures */
	char *json;		/* JSON lines output, optional */
	char *ice_ip;		/* the local address libnice gathers on */
	int threads;		/* worker threads (GMainContexts) */
	bool verify;		/* srtp_unprotect every packet, not just the first */
	bool quiet;		/* no progress line */
	double max_loss;	/* percent; above it the exit status is 1 */
	double join_timeout;	/* seconds from join to first packet */
	uint64_t room_id;	/* first room id; 0 = random */
	bool bad_fingerprint;	/* test: expect a wrong server fingerprint */
	bool json_viewers;	/* a JSON line per viewer before the summary */
} load_opts;

/* Parses argv into *o. Returns 0 to run, 1 when --help was printed (exit
 * 0), -1 on a usage error (already printed; exit 2). */
int load_opts_parse(load_opts *o, int argc, char **argv);
void load_opts_clear(load_opts *o);

#endif
