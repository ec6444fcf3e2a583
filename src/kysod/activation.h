/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation: the listening socket a service manager (systemd's
 * kysod.socket, systemd-socket-activate) passed to kysod. */
#ifndef KYSOD_ACTIVATION_H
#define KYSOD_ACTIVATION_H
#include <stddef.h>

/* Takes the socket passed by the protocol of sd_listen_fds(3): LISTEN_PID
 * names this process and LISTEN_FDS counts the descriptors from 3 on.
 * kysod takes one, a listening Unix stream socket with a path. Call it
 * before any fork.
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from the
 * environment in every case, so that no helper or dialog sees them.
 *
 * Returns 0 with *fd = -1 when nothing was passed, 0 with *fd the socket
 * (close-on-exec; the caller owns it) and its path in path, or -1 with a
 * reason in err. */
int kysod_activation_take(int *fd, char *path, size_t pathlen, char *err, size_t errlen);

#endif
