#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kysod/peer.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77		/* Linux 6.5 */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434	/* Linux 5.3 */
#endif

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks since
 * boot. A pid taken over by another process has another start time; exec()
 * keeps it. Returns 0 when unread. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p && sscanf(p, " %llu", &v) != 1)
		v = 0;
	return v;
}

static void read_exe(pid_t pid, char *out, size_t outlen)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, out, outlen - 1);
	if (n > 0)
		out[n] = '\0';
	else
		snprintf(out, outlen, "unknown");
}

static int open_pidfd(int fd, pid_t pid)
{
	socklen_t len = sizeof(int);
	int pidfd = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0)
		return pidfd;
	/* older kernels: the pid may have been reused already; the start time
	 * and executable read just after cover that window */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0)
		fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	return pidfd;
}

int kyso_peer_from_fd(int fd, struct kyso_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(peer, 0, sizeof(*peer));
	peer->pidfd = -1;
	strcpy(peer->exe, "unknown");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return -1;
	peer->known = 1;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;
	peer->pidfd = open_pidfd(fd, cred.pid);
	peer->start = start_time(cred.pid);
	read_exe(cred.pid, peer->exe, sizeof(peer->exe));
	return 0;
}

static int exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return pidfd >= 0 && poll(&pfd, 1, 0) > 0;
}

void kyso_peer_recheck(struct kyso_peer *peer)
{
	char exe[PATH_MAX];

	peer->changed = 0;
	peer->what_changed = NULL;
	if (!peer->known)
		return;
	if (exited(peer->pidfd))
		peer->what_changed = "exited";
	else if (start_time(peer->pid) != peer->start)
		peer->what_changed = "start time";
	else {
		read_exe(peer->pid, exe, sizeof(exe));
		if (strcmp(exe, peer->exe))
			peer->what_changed = "executable";
	}
	peer->changed = peer->what_changed != NULL;
}

const char *kyso_peer_shown(const struct kyso_peer *peer)
{
	return peer->changed ? PEER_CHANGED_TEXT : peer->exe;
}

const char *kyso_peer_checks(const struct kyso_peer *peer)
{
	return peer->pidfd >= 0 ? "pidfd, start time, executable" : "start time, executable";
}

void kyso_peer_release(struct kyso_peer *peer)
{
	if (peer->pidfd >= 0)
		close(peer->pidfd);
	peer->pidfd = -1;
}
