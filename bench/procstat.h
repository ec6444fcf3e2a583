/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU time of other processes, for the benchmark programs: utime + stime of a set of
 * processes (all their threads), read from /proc, in microseconds. Clock-tick
 * resolution (10 ms at USER_HZ 100): good for windows of a second or more. */
#ifndef KYSO_BENCH_PROCSTAT_H
#define KYSO_BENCH_PROCSTAT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROCSTAT_MAX 32

struct procstat {
	int pids[PROCSTAT_MAX];
	int n;
};

static inline void procstat_add(struct procstat *ps, int pid)
{
	if (pid > 0 && ps->n < PROCSTAT_MAX)
		ps->pids[ps->n++] = pid;
}

/* Adds the children of PID (as /proc lists them now). */
static inline void procstat_add_children(struct procstat *ps, int pid)
{
	char path[64], buf[4096], *p, *end;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	if (!f)
		return;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (p = buf; *p; p = end) {
		long c = strtol(p, &end, 10);

		if (end == p)
			break;
		procstat_add(ps, (int)c);
	}
}

/* utime + stime of one process, microseconds; 0 when it is gone. */
static inline double procstat_one(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	p = strrchr(buf, ')');	/* the command may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static inline double procstat_total(const struct procstat *ps)
{
	double t = 0;
	int i;

	for (i = 0; i < ps->n; i++)
		t += procstat_one(ps->pids[i]);
	return t;
}

/* This process (all threads), microseconds. */
static inline double procstat_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

#endif
