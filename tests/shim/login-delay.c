/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for the integration tests: holds back kysod's write() of a
 * LOGIN frame to its helper (the frame that carries the PIN) until the test
 * says go, so that the helper can be killed and clients connected meanwhile.
 *
 *   KYSO_SHIM_DIR   a directory: the shim creates "held" there when it holds a
 *                   frame back, and lets it go once "go" exists (at most 20 s)
 *
 * A frame (src/common/ipc.h): u32 length, u32 id, u16 opcode, u16 flags, u32
 * JSON length, JSON, secret. Only the first LOGIN frame with a secret is held. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OP_LOGIN 6
#define HDR_LEN 16

ssize_t write(int fd, const void *buf, size_t count);

static int held_once;

static int is_login_with_pin(const unsigned char *p, size_t n)
{
	uint32_t len, json_len;

	if (n < HDR_LEN || (p[8] | p[9] << 8) != OP_LOGIN)
		return 0;
	len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	json_len = (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 |
		   (uint32_t)p[15] << 24;
	return len + 4 == n && json_len + HDR_LEN < n;
}

static void hold(const char *dir)
{
	char path[PATH_MAX];
	struct timespec tick = { 0, 20000000L };
	int fd, i;

	snprintf(path, sizeof(path), "%s/held", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/go", dir);
	for (i = 0; i < 1000 && access(path, F_OK); i++)
		nanosleep(&tick, NULL);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	static ssize_t (*real_write)(int, const void *, size_t);
	const char *dir = getenv("KYSO_SHIM_DIR");

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (dir && !__atomic_load_n(&held_once, __ATOMIC_ACQUIRE) && is_login_with_pin(buf, count) &&
	    !__atomic_exchange_n(&held_once, 1, __ATOMIC_ACQ_REL))
		hold(dir);
	return real_write(fd, buf, count);
}
