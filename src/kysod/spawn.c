/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kysod/spawn.h"

extern char **environ;

int kysod_spawn(const char *path, char *const argv[], const int *child_fds, size_t n,
		pid_t *pid, int *fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int sv[2], moved, rc;
	size_t i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	/* the child's end must not be one of its targets already: dup2 onto
	 * itself would keep its close-on-exec flag */
	for (i = 0; i < n; i++) {
		if (sv[1] != child_fds[i])
			continue;
		moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
		close(sv[1]);
		if (moved < 0) {
			close(sv[0]);
			return -1;
		}
		sv[1] = moved;
		break;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	/* kysod blocks its signals for sigwait and ignores SIGPIPE: not the child */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	for (i = 0; i < n; i++)
		posix_spawn_file_actions_adddup2(&fa, sv[1], child_fds[i]);
	rc = posix_spawn(pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		errno = rc;
		return -1;
	}
	*fd = sv[0];
	return 0;
}
