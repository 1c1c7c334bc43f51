/*
 * procstat.h: CPU time and resident memory of a process from /proc
 * (proc(5): /proc/PID/stat fields 14-15 utime and stime in clock ticks,
 * /proc/PID/status VmRSS), for the server (--server-pid) and the tool.
 */
#ifndef LOAD_PROCSTAT_H
#define LOAD_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct load_proc {
	bool ok;		/* the process was there and readable */
	uint64_t cpu_us;	/* user + system time */
	long rss_kb;
} load_proc;

/* pid 0 means this process. */
void load_proc_read(int pid, load_proc *p);

#endif
