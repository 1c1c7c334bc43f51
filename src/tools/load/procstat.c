/*
 * procstat.c: reads /proc/PID/stat and /proc/PID/status; see procstat.h.
 * The command name in stat may hold spaces and parentheses, so fields are
 * counted from the last ')'.
 */
#include "procstat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int read_small(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

static bool read_cpu(const char *dir, uint64_t *us)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return false;
	const char *p = strrchr(buf, ')');
	unsigned long utime, stime;
	/* After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags,
	 * minflt, cminflt, majflt, cmajflt, then utime and stime. */
	if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime) != 2)
		return false;
	long hz = sysconf(_SC_CLK_TCK);
	*us = (uint64_t)(utime + stime) * 1000000u / (uint64_t)(hz > 0 ? hz : 100);
	return true;
}

static bool read_rss(const char *dir, long *kb)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return false;
	const char *p = strstr(buf, "\nVmRSS:");
	return p != NULL && sscanf(p + 7, "%ld", kb) == 1;
}

void load_proc_read(int pid, load_proc *p)
{
	char dir[32];
	if (pid > 0)
		snprintf(dir, sizeof(dir), "/proc/%d", pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self");
	memset(p, 0, sizeof(*p));
	p->ok = read_cpu(dir, &p->cpu_us) && read_rss(dir, &p->rss_kb);
}
