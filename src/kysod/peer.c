/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "kysod/peer.h"
#include "kysod/sock-diag.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77		/* Linux 6.5 */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434	/* Linux 5.3 */
#endif

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks since
 * boot. A pid taken over by another process has another start time; exec()
 * keeps it. Returns 0 when unread. */
unsigned long long kyso_peer_start_time(pid_t pid)
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

/* The inode of the other end of the Unix socket fd (sock_diag), or 0 when the
 * kernel does not tell (no CONFIG_UNIX_DIAG). */
static unsigned long peer_inode(int fd)
{
	struct unix_diag_req req = { 0 };
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} a;
	struct unix_diag_msg *msg;
	struct rtattr *attr;
	unsigned long ino = 0;
	struct stat sb;
	size_t plen = 0;
	int len;

	if (fstat(fd, &sb))
		return 0;
	req.sdiag_family = AF_UNIX;
	req.udiag_states = ~0u;
	req.udiag_ino = (unsigned int)sb.st_ino;
	req.udiag_show = UDIAG_SHOW_PEER;
	req.udiag_cookie[0] = req.udiag_cookie[1] = ~0u;
	msg = sock_diag_ask(&req, sizeof(req), &a, sizeof(a), sizeof(*msg), &plen);
	if (!msg || msg->udiag_ino != sb.st_ino)
		return 0;
	len = (int)(plen - NLMSG_ALIGN(sizeof(*msg)));
	for (attr = (struct rtattr *)(msg + 1); RTA_OK(attr, len); attr = RTA_NEXT(attr, len))
		if (attr->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(attr) >= sizeof(uint32_t))
			ino = *(uint32_t *)RTA_DATA(attr);
	return ino;
}

/* The most descriptors of a caller looked at for its connection. */
#define HOLDS_SCAN_MAX 4096

/* Whether /proc/PID/fd/NAME is the socket want names: 1, 0, or -1 when it
 * may not be read. */
static int fd_is(const char *dir, const char *name, const char *want)
{
	char link[96], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s", dir, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 && (errno == EACCES || errno == EPERM))
		return -1;	/* listed, but not to be read */
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return !strcmp(target, want);
}

int kyso_peer_holds(pid_t pid, unsigned long ino, int *fd_hint)
{
	char dir[64], want[40], name[16];
	struct dirent *de;
	int found = 0, scanned = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	/* where it was the last time: one readlink instead of the listing */
	if (fd_hint && *fd_hint >= 0) {
		snprintf(name, sizeof(name), "%d", *fd_hint);
		if (fd_is(dir, name, want) == 1)
			return 1;
	}
	d = opendir(dir);
	if (!d)
		return -1;
	while (found == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* bounded: a caller holding many descriptors must not make its
		 * check slow for everyone (it runs when connections are accepted) */
		if (++scanned > HOLDS_SCAN_MAX) {
			found = -1;
			break;
		}
		found = fd_is(dir, de->d_name, want);
		if (found == 1 && fd_hint)
			*fd_hint = atoi(de->d_name);
	}
	closedir(d);
	return found;
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

int kyso_peer_creds(int fd, struct kyso_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(peer, 0, sizeof(*peer));
	peer->pidfd = -1;
	peer->held_fd = -1;
	strcpy(peer->exe, "unknown");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return -1;
	peer->known = 1;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;
	peer->start = kyso_peer_start_time(cred.pid);
	return 0;
}

void kyso_peer_identify(int fd, struct kyso_peer *peer)
{
	if (!peer->known || peer->pid <= 0)
		return;
	peer->pidfd = open_pidfd(fd, peer->pid);
	/* a TCP caller's inode comes from sock_diag already */
	if (!peer->peer_ino)
		peer->peer_ino = peer_inode(fd);
	read_exe(peer->pid, peer->exe, sizeof(peer->exe));
	/* the process that connected may have exec'd another program, or
	 * handed the connection on, before it was accepted: it must hold it.
	 * If not, the executable just read names whoever it is now */
	kyso_peer_recheck(peer);
	if (peer->changed)
		snprintf(peer->exe, sizeof(peer->exe), "unknown");
}

static int exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return pidfd >= 0 && poll(&pfd, 1, 0) > 0;
}

void kyso_peer_recheck(struct kyso_peer *peer)
{
	char exe[PATH_MAX];
	int held = 1;

	/* once the identity failed, it stays failed for the connection */
	if (peer->changed)
		return;
	peer->what_changed = NULL;
	/* a TCP caller whose process could not be found has nothing to check */
	if (!peer->known || peer->pid <= 0)
		return;
	if (exited(peer->pidfd))
		peer->what_changed = "exited";
	else if (kyso_peer_start_time(peer->pid) != peer->start)
		peer->what_changed = "start time";
	else {
		read_exe(peer->pid, exe, sizeof(exe));
		if (strcmp(exe, peer->exe))
			peer->what_changed = "executable";
		else if (peer->peer_ino &&
			 (held = kyso_peer_holds(peer->pid, peer->peer_ino, &peer->held_fd)) == 0)
			peer->what_changed = "connection";
		/* unreadable: not a change, but not a check that was made */
		if (peer->peer_ino)
			peer->held_unread = held < 0;
	}
	peer->changed = peer->what_changed != NULL;
}

const char *kyso_peer_shown(const struct kyso_peer *peer)
{
	return peer->changed ? PEER_CHANGED_TEXT : peer->exe;
}

const char *kyso_peer_checks(const struct kyso_peer *peer)
{
	static const char *const checks[] = {
		"start time, executable", "pidfd, start time, executable",
		"start time, executable, connection held", "pidfd, start time, executable, connection held",
	};

	/* a loopback caller whose process was not found: only the socket's owner */
	if (peer->tcp && peer->pid <= 0)
		return "socket owner";
	return checks[(peer->pidfd >= 0) + 2 * (peer->peer_ino != 0 && !peer->held_unread)];
}

void kyso_peer_release(struct kyso_peer *peer)
{
	if (peer->pidfd >= 0)
		close(peer->pidfd);
	peer->pidfd = -1;
}
