/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection for one file, loaded with LD_PRELOAD into kysod by the durability tests.
 *
 *   KYSO_FAULT_FILE=PATH   the file concerned (compared with /proc/self/fd/N); nothing else is
 *                          touched, and without it every call goes straight to the C library
 *   KYSO_FAULT_IO=MODE     what happens to that file:
 *     write-fail           write(2) fails with EIO, nothing is written
 *     short-write          write(2) writes half of the bytes and returns that count
 *     sync-fail            fdatasync(2) and fsync(2) fail with EIO (the write succeeded)
 *     slow-sync            fdatasync(2) and fsync(2) sleep KYSO_FAULT_DELAY_MS (default 300)
 *                          before doing the real sync
 *     slow-write           write(2) sleeps KYSO_FAULT_DELAY_MS (default 300) before doing the
 *                          real write
 *   KYSO_FAULT_MATCH=TEXT  the write faults apply only to writes whose bytes hold TEXT (say
 *                          "event":"sign", the result entries of signatures); unset: to all
 *   KYSO_FAULT_ARM=PATH    the fault applies only while PATH exists (unset: always), so kysod
 *                          can open its log normally and the test arms the fault when it wants
 *   KYSO_FAULT_MARK=PATH   after each sync of the file (real or failed), a line
 *                          "sync SIZE RESULT" is appended to PATH, SIZE being the file's size
 *                          when the sync began and RESULT 0 or the errno: a test reads it once
 *                          kysod has answered to learn which bytes were on disk by then; and
 *                          as each sync begins, a line "begin SIZE" (syncs running at once
 *                          show as two begins before an end)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);

static void resolve(void)
{
	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (!real_fdatasync)
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (!real_fsync)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
}

/* Is FD the file named by KYSO_FAULT_FILE, and is the fault armed? */
static int targeted(int fd)
{
	const char *want = getenv("KYSO_FAULT_FILE"), *arm = getenv("KYSO_FAULT_ARM");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!want || !*want || fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	if (strcmp(path, want) != 0)
		return 0;
	return !arm || !*arm || access(arm, F_OK) == 0;
}

static int mode_is(const char *m)
{
	const char *mode = getenv("KYSO_FAULT_IO");

	return mode && strcmp(mode, m) == 0;
}

static long delay_ms(void)
{
	const char *ms = getenv("KYSO_FAULT_DELAY_MS");

	return ms ? strtol(ms, NULL, 10) : 300;
}

static void pause_ms(long delay)
{
	struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Do the COUNT bytes at BUF hold KYSO_FAULT_MATCH (or is none given)? */
static int matches(const void *buf, size_t count)
{
	const char *m = getenv("KYSO_FAULT_MATCH");

	return !m || !*m || memmem(buf, count, m, strlen(m)) != NULL;
}

/* Appends "sync SIZE RESULT" to the marks file, or "begin SIZE" when begin
 * is set. */
static void mark(off_t size, int result, int begin)
{
	const char *path = getenv("KYSO_FAULT_MARK");
	char line[96];
	int out, len;

	if (!path || !*path)
		return;
	out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0)
		return;
	if (begin)
		len = snprintf(line, sizeof(line), "begin %lld\n", (long long)size);
	else
		len = snprintf(line, sizeof(line), "sync %lld %d\n", (long long)size, result);
	if (real_write(out, line, (size_t)len) < 0) {
		/* nothing to do: the test sees no mark */
	}
	close(out);
}

static int sync_with(int (*real)(int), int fd)
{
	struct stat st;
	off_t size;
	int ret, err;

	resolve();
	if (!targeted(fd))
		return real(fd);
	size = fstat(fd, &st) == 0 ? st.st_size : -1;
	mark(size, 0, 1);
	if (mode_is("sync-fail")) {
		mark(size, EIO, 0);
		errno = EIO;
		return -1;
	}
	if (mode_is("slow-sync"))
		pause_ms(delay_ms());
	ret = real(fd);
	err = errno;
	mark(size, ret ? err : 0, 0);
	errno = err;
	return ret;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	resolve();
	if (targeted(fd) && matches(buf, count)) {
		if (mode_is("write-fail")) {
			errno = EIO;
			return -1;
		}
		if (mode_is("short-write") && count > 1)
			return real_write(fd, buf, count / 2);
		if (mode_is("slow-write"))
			pause_ms(delay_ms());
	}
	return real_write(fd, buf, count);
}

int fdatasync(int fd)
{
	resolve();
	return sync_with(real_fdatasync, fd);
}

int fsync(int fd)
{
	resolve();
	return sync_with(real_fsync, fd);
}
