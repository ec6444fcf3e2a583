/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "kysod/daemon.h"
#include "kysod/listen-tcp.h"
#include "kysod/origins.h"

#define BACKLOG 256

/* A socket listening on one loopback address; -1 with *why set (errno). */
static int bind_one(int family, unsigned int port, int *why)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa;
	socklen_t len;
	int fd, on = 1;

	if (family == AF_INET) {
		a4.sin_port = htons((unsigned short)port);
		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *)&a4;
		len = sizeof(a4);
	} else {
		a6.sin6_port = htons((unsigned short)port);
		a6.sin6_addr = in6addr_loopback;
		sa = (struct sockaddr *)&a6;
		len = sizeof(a6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = errno;
		return -1;
	}
	/* SO_REUSEADDR lets a restarted kysod bind while old connections are
	 * in TIME_WAIT; it never lets two sockets listen on one port */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, sa, len) || listen(fd, BACKLOG)) {
		*why = errno;
		close(fd);
		return -1;
	}
	return fd;
}

int listen_tcp_open(const struct kysod_config *cfg, int *fds, size_t *nfds, unsigned int *port,
		    char *err, size_t errlen)
{
	unsigned int p, last;
	int v4, v6, why4 = 0, why6 = 0;

	*nfds = 0;
	*port = 0;
	if (!cfg->listen_port)
		return 0;
	last = cfg->listen_port + cfg->listen_ports - 1;
	for (p = cfg->listen_port; p <= last; p++) {
		v4 = bind_one(AF_INET, p, &why4);
		if (v4 < 0)
			continue;
		v6 = bind_one(AF_INET6, p, &why6);
		/* a machine without IPv6 loopback serves on 127.0.0.1 alone */
		if (v6 < 0 && why6 != EADDRNOTAVAIL && why6 != EAFNOSUPPORT) {
			close(v4);
			continue;
		}
		fds[(*nfds)++] = v4;
		if (v6 >= 0)
			fds[(*nfds)++] = v6;
		*port = p;
		return 0;
	}
	if (cfg->listen_ports == 1)
		snprintf(err, errlen, "listen: port %u on loopback: %s", cfg->listen_port,
			 strerror(why4 ? why4 : why6));
	else
		snprintf(err, errlen, "listen: no port of %u-%u is free on loopback (the last: %s)",
			 cfg->listen_port, last, strerror(why4 ? why4 : why6));
	return -1;
}

void listen_tcp_close(int *fds, size_t *nfds)
{
	size_t i;

	for (i = 0; i < *nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*nfds = 0;
}

int listen_tcp_start(struct kysod *d)
{
	char err[256];

	/* sockets passed by the service manager are served whatever listen says:
	 * kysod.socket's ListenStream= lines turned the listener on */
	if (!d->tcp_passed) {
		d->n_tcp = 0;
		d->tcp_port = 0;
	}
	if (!d->tcp_passed && !d->cfg.listen_port)
		return 0;
	if (!d->tcp_passed &&
	    listen_tcp_open(&d->cfg, d->tcp_fds, &d->n_tcp, &d->tcp_port, err, sizeof(err))) {
		log_error("%s; web pages cannot reach kyso (the Unix socket is served)", err);
		return 0;
	}
	d->origins = origins_new(d->cfg.origins_dir, d->cfg.pairings, d->cfg.pairing_cooldown);
	if (!d->origins) {
		listen_tcp_close(d->tcp_fds, &d->n_tcp);
		return -1;
	}
	if (d->tcp_passed)
		log_info("serving web pages on loopback port %u, on the %zu socket%s passed by the "
			 "service manager (allowed origins: %s/*.conf and %s)", d->tcp_port, d->n_tcp,
			 d->n_tcp > 1 ? "s" : "", d->cfg.origins_dir, d->cfg.pairings);
	else
		log_info("serving web pages on 127.0.0.1:%u%s (allowed origins: %s/*.conf and %s)",
			 d->tcp_port, d->n_tcp > 1 ? " and [::1]" : "", d->cfg.origins_dir,
			 d->cfg.pairings);
	return 0;
}

json_t *listen_tcp_addresses(const struct kysod *d)
{
	json_t *a = json_array();
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; a && i < d->n_tcp; i++) {
		len = sizeof(ss);
		if (getsockname(d->tcp_fds[i], (struct sockaddr *)&ss, &len))
			continue;
		json_array_append_new(a, json_string(ss.ss_family == AF_INET6 ? "::1" : "127.0.0.1"));
	}
	return a;
}

void listen_tcp_stop(struct kysod *d)
{
	listen_tcp_close(d->tcp_fds, &d->n_tcp);
	d->tcp_port = 0;
	origins_free(d->origins);
	d->origins = NULL;
}
