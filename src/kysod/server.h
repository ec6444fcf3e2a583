/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP server on the Unix socket: socket set-up, peer checks, bodies. */
#ifndef KYSOD_SERVER_H
#define KYSOD_SERVER_H
#include <stddef.h>

#include "kysod/daemon.h"

/* Creates the socket (directory 0700, socket 0600), or takes the one passed
 * by socket activation (d->socket_passed), and starts serving.
 * Returns 0, or -1 with a reason in err. */
int kysod_server_start(struct kysod *d, char *err, size_t errlen);

/* Stops serving and removes the socket, unless it was passed. */
void kysod_server_stop(struct kysod *d);

#endif
