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
#include <netinet/in.h>
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
static int check_unix(int fd, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	size_t n;

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

/* Whether fd listens on 127.0.0.1 or ::1; its port into *port. */
static int check_loopback(int fd, unsigned int *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		goto refuse;
	if (ss.ss_family == AF_INET && a4->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
		*port = ntohs(a4->sin_port);
		return 0;
	}
	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr)) {
		*port = ntohs(a6->sin6_port);
		return 0;
	}
refuse:
	snprintf(err, errlen,
		 "a TCP socket passed by the service manager must listen on 127.0.0.1 or [::1] "
		 "(web pages are served on loopback only)");
	return -1;
}

/* Sorts the socket fd into the Unix one or the loopback ones. */
static int take_one(int fd, struct kysod_passed *p, char *err, size_t errlen)
{
	struct stat sb;
	unsigned int port;
	int domain, type, listening;

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
	if (type != SOCK_STREAM || !listening ||
	    (domain != AF_UNIX && domain != AF_INET && domain != AF_INET6)) {
		snprintf(err, errlen,
			 "the sockets passed by the service manager must be listening stream "
			 "sockets: one Unix socket with a path, and loopback TCP sockets");
		return -1;
	}
	if (domain == AF_UNIX) {
		if (p->unix_fd >= 0) {
			snprintf(err, errlen,
				 "the service manager passed two Unix sockets; kysod serves on one "
				 "(one ListenStream= with a path in kysod.socket)");
			return -1;
		}
		if (check_unix(fd, p->path, sizeof(p->path), err, errlen))
			return -1;
		p->unix_fd = fd;
		return 0;
	}
	if (check_loopback(fd, &port, err, errlen))
		return -1;
	if (p->n_tcp == 2 || (p->n_tcp && port != p->tcp_port)) {
		snprintf(err, errlen,
			 "the loopback TCP sockets passed by the service manager must be one "
			 "port, on 127.0.0.1 and [::1]");
		return -1;
	}
	p->tcp_fds[p->n_tcp++] = fd;
	p->tcp_port = port;
	return 0;
}

int kysod_activation_take(struct kysod_passed *p, char *err, size_t errlen)
{
	const char *spid = getenv("LISTEN_PID"), *sfds = getenv("LISTEN_FDS");
	long pid, n, i;
	int ret = -1, flags;

	memset(p, 0, sizeof(*p));
	p->unix_fd = -1;
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
	if (n > 3) {
		snprintf(err, errlen,
			 "the service manager passed %ld sockets; kysod serves on one Unix socket "
			 "and the loopback listener's two (127.0.0.1 and [::1])", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (take_one(LISTEN_FDS_START + (int)i, p, err, errlen))
			goto out;
		flags = fcntl(LISTEN_FDS_START + (int)i, F_GETFD);
		if (flags < 0 || fcntl(LISTEN_FDS_START + (int)i, F_SETFD, flags | FD_CLOEXEC)) {
			snprintf(err, errlen, "a socket passed by the service manager: %s",
				 strerror(errno));
			goto out;
		}
	}
	if (p->unix_fd < 0) {
		snprintf(err, errlen,
			 "the service manager passed no Unix socket; kysod.socket needs one "
			 "ListenStream= with a path");
		goto out;
	}
	ret = 0;
out:
	if (ret)
		memset(p, 0, sizeof(*p)), p->unix_fd = -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ret;
}
