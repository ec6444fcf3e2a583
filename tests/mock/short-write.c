/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * short-write.c - an LD_PRELOAD shim for kyso's tests: while the file named
 * by KYSO_SHORT_WRITE_FLAG exists, a write(2) to the file whose path is
 * KYSO_SHORT_WRITE_PATH writes half of what it was given and returns that
 * count, as a write cut short by a full disk does. Other writes pass.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int aimed_at(int fd)
{
	const char *flag = getenv("KYSO_SHORT_WRITE_FLAG");
	const char *target = getenv("KYSO_SHORT_WRITE_PATH");
	char link[64], path[4096];
	ssize_t n;

	if (!flag || !target || access(flag, F_OK))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return !strcmp(path, target);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	static ssize_t (*real_write)(int, const void *, size_t);

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (count > 1 && aimed_at(fd))
		count /= 2;
	return real_write(fd, buf, count);
}
