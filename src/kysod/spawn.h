/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a program from the threaded daemon: posix_spawn, so that no code of
 * kysod's runs between fork and exec (a fork child can inherit a lock another
 * thread held, and hang), with one end of a new socketpair as some of the
 * child's descriptors. */
#ifndef KYSOD_SPAWN_H
#define KYSOD_SPAWN_H
#include <stddef.h>
#include <sys/types.h>

/* Starts path with argv, the child's end of a socketpair on each descriptor
 * of child_fds (n of them, e.g. {3}, or {0, 1} for stdin and stdout), every
 * signal unblocked and SIGPIPE at its default. Returns 0 with *pid and *fd
 * (kysod's end, close-on-exec; the caller owns it), or -1 with errno set. */
int kysod_spawn(const char *path, char *const argv[], const int *child_fds, size_t n,
		pid_t *pid, int *fd);

#endif
