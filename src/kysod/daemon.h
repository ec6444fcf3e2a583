/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's state, shared by the API handlers. */
#ifndef KYSOD_DAEMON_H
#define KYSOD_DAEMON_H
#include <pthread.h>
#include <sys/un.h>

#include "kysod/audit.h"
#include "kysod/batches.h"
#include "kysod/config.h"
#include "kysod/events.h"
#include "kysod/inventory.h"

struct helper_proc;
struct reader_watch;
struct kyso_catalogue;
struct MHD_Daemon;
struct conns;
struct origins;

struct kysod {
	struct kysod_config cfg;
	struct inventory inv;
	struct events events;
	struct audit audit;
	struct batches batches;
	struct reader_watch *readers;	/* NULL when PC/SC is not watched */
	struct helper_proc *helpers;	/* HELPERS_MAX slots, nhelpers in use */
	size_t nhelpers;		/* grows only; read it with acquire */
	pthread_mutex_t helpers_lock;	/* adding helpers */
	struct kyso_catalogue *catalogue;	/* NULL when none could be loaded */
	pthread_mutex_t prompt_lock;	/* prompt_busy */
	pthread_cond_t prompt_cond;	/* prompt_busy cleared */
	int prompt_busy;		/* a dialog is open: one at a time */
	struct MHD_Daemon *mhd;
	struct conns *conns;		/* the API's connections, accepted by kysod */
	int listen_fd;
	/* the loopback listener for web pages (listen-tcp.c); n_tcp 0 when off */
	int tcp_fds[2];
	size_t n_tcp;
	unsigned int tcp_port;
	struct origins *origins;	/* the origins it serves; NULL when off */
	int tcp_passed;			/* tcp_fds came by socket activation */
	int socket_passed;		/* listen_fd came by socket activation: not ours to remove */
	char passed_path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* its path */
	int stopping;			/* read with kysod_stopping() */
	int streams;			/* open event streams */
	int requests;			/* requests not answered yet, streams aside */
};

/* Whether kysod is stopping: every wait for a dialog, a helper or a batch
 * ends soon once it is. */
static inline int kysod_stopping(struct kysod *d)
{
	return __atomic_load_n(&d->stopping, __ATOMIC_ACQUIRE);
}

#endif
