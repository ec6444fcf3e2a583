/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation: the listening socket a service manager (systemd's
 * kysod.socket, systemd-socket-activate) passed to kysod. */
#ifndef KYSOD_ACTIVATION_H
#define KYSOD_ACTIVATION_H
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* What a service manager passed: the Unix socket (unix_fd, its path), and
 * the loopback listener's sockets (127.0.0.1 and/or [::1], one port) when
 * kysod.socket listens for web pages too. Descriptors are close-on-exec and
 * belong to the caller. */
struct kysod_passed {
	int unix_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int tcp_fds[2];
	size_t n_tcp;
	unsigned int tcp_port;
};

/* Takes the sockets passed by the protocol of sd_listen_fds(3): LISTEN_PID
 * names this process and LISTEN_FDS counts the descriptors from 3 on:
 * exactly one listening Unix stream socket with a path, and at most two
 * listening TCP sockets on 127.0.0.1 and [::1] with one port. Call it
 * before any fork.
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from the
 * environment in every case, so that no helper or dialog sees them.
 *
 * Returns 0 (unix_fd -1 when nothing was passed), or -1 with a reason in
 * err. */
int kysod_activation_take(struct kysod_passed *p, char *err, size_t errlen);

#endif
