/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation, after the protocol of sd_listen_fds(3). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kysod/activation.h"

/* The first descriptor passed (SD_LISTEN_FDS_START). */
#define LISTEN_FDS_START 3

/* A decimal number in [0, max], the whole string; -1 otherwise. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return v;
}

static int sockopt_int(int fd, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, SOL_SOCKET, opt, val, &len) || len != sizeof(*val) ? -1 : 0;
}

/* Whether fd is a listening Unix stream socket bound to a path; the path
 * goes into path. */
static int check_socket(int fd, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	struct stat sb;
	int domain, type, listening;
	size_t n;

	if (fstat(fd, &sb) || !S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "descriptor %d passed by the service manager is not a socket",
			 fd);
		return -1;
	}
	if (sockopt_int(fd, SO_DOMAIN, &domain) || sockopt_int(fd, SO_TYPE, &type) ||
	    sockopt_int(fd, SO_ACCEPTCONN, &listening)) {
		snprintf(err, errlen, "descriptor %d passed by the service manager: %s", fd,
			 strerror(errno));
		return -1;
	}
	if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
		snprintf(err, errlen,
			 "the socket passed by the service manager must be a listening Unix stream "
			 "socket (ListenStream= with a path)");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) || sa.sun_family != AF_UNIX) {
		snprintf(err, errlen, "the socket passed by the service manager has no address: %s",
			 strerror(errno));
		return -1;
	}
	n = salen > offsetof(struct sockaddr_un, sun_path) ?
	    strnlen(sa.sun_path, salen - offsetof(struct sockaddr_un, sun_path)) : 0;
	if (!n || sa.sun_path[0] != '/' || n >= pathlen) {
		snprintf(err, errlen,
			 "the socket passed by the service manager must be bound to an absolute "
			 "path (not abstract, not unnamed)");
		return -1;
	}
	memcpy(path, sa.sun_path, n);
	path[n] = '\0';
	return 0;
}

int kysod_activation_take(int *fd, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *spid = getenv("LISTEN_PID"), *sfds = getenv("LISTEN_FDS");
	long pid, n;
	int ret = -1, flags;

	*fd = -1;
	if (!spid && !sfds) {
		ret = 0;
		goto out;
	}
	pid = parse_count(spid, LONG_MAX);
	n = parse_count(sfds, INT_MAX - LISTEN_FDS_START);
	if (pid < 0 || n < 0) {
		snprintf(err, errlen, "LISTEN_PID=%s LISTEN_FDS=%s: not numbers", spid ?: "(unset)",
			 sfds ?: "(unset)");
		goto out;
	}
	/* meant for another process (an ancestor left them in the environment) */
	if (pid != (long)getpid() || n == 0) {
		ret = 0;
		goto out;
	}
	if (n != 1) {
		snprintf(err, errlen,
			 "the service manager passed %ld sockets; kysod serves on one (one "
			 "ListenStream= in kysod.socket)", n);
		goto out;
	}
	if (check_socket(LISTEN_FDS_START, path, pathlen, err, errlen))
		goto out;
	flags = fcntl(LISTEN_FDS_START, F_GETFD);
	if (flags < 0 || fcntl(LISTEN_FDS_START, F_SETFD, flags | FD_CLOEXEC)) {
		snprintf(err, errlen, "the socket passed by the service manager: %s", strerror(errno));
		goto out;
	}
	*fd = LISTEN_FDS_START;
	ret = 0;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ret;
}
