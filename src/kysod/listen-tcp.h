/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loopback listener for web pages: 127.0.0.1 and [::1] on one port, the
 * first free one of the configured range, so that each user of a shared
 * computer has a kysod of their own on a port of the range. */
#ifndef KYSOD_LISTEN_TCP_H
#define KYSOD_LISTEN_TCP_H
#include <stddef.h>
#include <jansson.h>

#include "kysod/config.h"

#define LISTEN_TCP_MAX 2

/* Opens the listening sockets (at most LISTEN_TCP_MAX into fds, *nfds of
 * them) on the first port of cfg's range where 127.0.0.1 is free and [::1]
 * free or absent; *port gets it. With no listener configured: 0 and *nfds 0.
 * Returns -1 with err when no port of the range is free. */
int listen_tcp_open(const struct kysod_config *cfg, int *fds, size_t *nfds, unsigned int *port,
		    char *err, size_t errlen);

void listen_tcp_close(int *fds, size_t *nfds);

struct kysod;

/* kysod's listener, as configured: the sockets in d->tcp_fds and the origins
 * it checks. No free port is logged, and kysod serves the Unix socket alone.
 * Returns 0, or -1 when out of memory. */
int listen_tcp_start(struct kysod *d);

/* The addresses the listener serves ("127.0.0.1", "::1"), as a new JSON
 * array; NULL when out of memory. */
json_t *listen_tcp_addresses(const struct kysod *d);

/* Closes the sockets and frees the origins. */
void listen_tcp_stop(struct kysod *d);

#endif
