/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's own accounting of API connections: it accepts them itself, reads
 * the caller's identity, caps the connections of each caller, keeps slots for
 * callers that hold none, and gives each request a deadline to arrive. */
#ifndef KYSOD_CONNS_H
#define KYSOD_CONNS_H
#include <pthread.h>

#include "kysod/peer.h"

/* Connections in all (threads of the HTTP server). */
#define CONNS_MAX 128
/* Of those, kept for callers that hold no connection yet. */
#define CONNS_RESERVED 16
/* Connections of one caller (one process) in all, and of those still
 * sending a request or idle between requests. */
#define CONNS_PER_CALLER 64
#define CONNS_PENDING_PER_CALLER 32
/* Seconds a connection has to send its request's headers and body, from
 * when it is accepted or its last answer was sent. */
#define CONNS_REQUEST_DEADLINE_S 10
/* Bodies over this size take one of CONNS_LARGE_BODIES slots. */
#define CONNS_LARGE_BODY (256u << 10)
#define CONNS_LARGE_BODIES 4
/* Seconds a large body may wait for a slot; the wait is not the client's
 * doing, so its request deadline starts again once it has one. */
#define CONNS_LARGE_WAIT_S 30

/* Loopback listening sockets (listen-tcp.c) accepted beside the Unix socket. */
#define CONNS_TCP_MAX 2

struct MHD_Daemon;

struct kyso_conn {
	struct kyso_peer peer;
	int fd;			/* the connection's socket, owned by the HTTP server */
	int watch_fd;		/* our duplicate of it, to end it at its deadline */
	int claimed;		/* the HTTP server has taken it up */
	int busy;		/* its request is complete: being answered */
	int timed_out;
	int served;		/* it has had an answer: idle now, not late */
	int bad_target;		/* the request target held %00 */
	int large;		/* holds a large-body slot */
	long deadline_ms;	/* CLOCK_MONOTONIC */
	struct kyso_conn *next, *prev;
};

struct conns {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct kyso_conn *head;
	unsigned int total;
	unsigned int large;	/* large-body slots taken */
	int listen_fd;
	int tcp_fds[CONNS_TCP_MAX];	/* the loopback listener's sockets */
	size_t n_tcp;
	int stop_pipe[2];
	struct MHD_Daemon *mhd;
	pthread_t acceptor, reaper;
	int running;
	int stopping;
	long last_refusal_log;
};

/* Starts accepting on listen_fd (the Unix socket) and the n_tcp loopback
 * sockets in tcp_fds, and handing connections to mhd. Returns 0 or -1. */
int conns_start(struct conns *c, int listen_fd, const int *tcp_fds, size_t n_tcp,
		struct MHD_Daemon *mhd);

/* Stops accepting and the deadlines (before the HTTP server stops). */
void conns_stop(struct conns *c);

/* Frees what is left (after the HTTP server stopped). */
void conns_free(struct conns *c);

/* The connection accepted on fd, for the HTTP server's start notice; NULL
 * when unknown. */
struct kyso_conn *conns_claim(struct conns *c, int fd);

/* The connection is closed: forgets it. */
void conns_closed(struct conns *c, struct kyso_conn *k);

/* Its request is complete (no deadline while it is answered) / answered
 * (the deadline for the next request starts). */
void conns_busy(struct conns *c, struct kyso_conn *k, int busy);

/* Takes a large-body slot, waiting up to CONNS_LARGE_WAIT_S. Returns 0 (the
 * request's deadline starts again), or -1 when none came free in time. */
int conns_large_take(struct conns *c, struct kyso_conn *k);

/* Gives the slot back, if k holds one. */
void conns_large_give(struct conns *c, struct kyso_conn *k);

long conns_now_ms(void);

#endif
