/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for the integration tests: holds back kysod's write() of a
 * LOGIN frame to its helper (the frame that carries the PIN) until the test
 * says go, so that the helper can be killed and clients connected meanwhile.
 *
 *   KYSO_SHIM_DIR   a directory: the shim creates "held" there when it holds a
 *                   frame back, and lets it go once "go" exists (at most 20 s)
 *   KYSO_SHIM_OP    the opcode of the frames concerned instead of LOGIN (any
 *                   frame of it, a secret or not): 2 is a helper's INVENTORY
 *   KYSO_SHIM_DELAY_MS  instead of holding the first frame, delay every one
 *                   by that long (no KYSO_SHIM_DIR needed)
 *   KYSO_SHIM_RECV_DELAY_MS  delay by that long the return of a recvmsg() that
 *                   read the header of such a frame: the reader takes it late,
 *                   though the writer went on at once
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OP_LOGIN 6
#define HDR_LEN 16

ssize_t write(int fd, const void *buf, size_t count);
ssize_t recvmsg(int fd, struct msghdr *msg, int flags);

static int held_once;

/* A whole frame of opcode op (LOGIN: with a secret). */
static int is_frame(const unsigned char *p, size_t n, unsigned int op)
{
	uint32_t len, json_len;

	if (n < HDR_LEN || (unsigned int)(p[8] | p[9] << 8) != op)
		return 0;
	len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	json_len = (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 |
		   (uint32_t)p[15] << 24;
	return len + 4 == n && (op != OP_LOGIN || json_len + HDR_LEN < n);
}

static unsigned int shim_op(void)
{
	const char *ops = getenv("KYSO_SHIM_OP");

	return ops && *ops ? (unsigned int)atoi(ops) : OP_LOGIN;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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
	const char *dir = getenv("KYSO_SHIM_DIR"), *delay = getenv("KYSO_SHIM_DELAY_MS");
	unsigned int op = shim_op();

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (delay && *delay && is_frame(buf, count, op)) {
		sleep_ms(atol(delay));
	} else if (dir && !__atomic_load_n(&held_once, __ATOMIC_ACQUIRE) &&
		   is_frame(buf, count, op) && !__atomic_exchange_n(&held_once, 1, __ATOMIC_ACQ_REL)) {
		hold(dir);
	}
	return real_write(fd, buf, count);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
	const char *delay = getenv("KYSO_SHIM_RECV_DELAY_MS");
	const unsigned char *p;
	ssize_t n;

	if (!real_recvmsg)
		real_recvmsg = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	n = real_recvmsg(fd, msg, flags);
	/* a frame's header read on its own (kyso_ipc_recv reads 16 bytes first) */
	if (delay && *delay && n == HDR_LEN && msg->msg_iovlen == 1) {
		p = msg->msg_iov[0].iov_base;
		if ((unsigned int)(p[8] | p[9] << 8) == shim_op())
			sleep_ms(atol(delay));
	}
	return n;
}
