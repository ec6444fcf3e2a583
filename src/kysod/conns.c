/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "common/mono-time.h"
#include "common/log.h"
#include "kysod/conns.h"
#include "kysod/sock-owner.h"

#define REAPER_TICK_MS 200

long conns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* An answer written straight to a connection the HTTP server never sees (or
 * no longer reads), before it is closed. */
static void answer_raw(int fd, unsigned int status, const char *reason, const char *code,
		       const char *message)
{
	char body[512], head[256];
	int blen, hlen;

	blen = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			code, message);
	hlen = snprintf(head, sizeof(head),
			"HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
			"Cache-Control: no-store\r\nConnection: close\r\nContent-Length: %d\r\n\r\n",
			status, reason, blen);
	if (send(fd, head, (size_t)hlen, MSG_DONTWAIT | MSG_NOSIGNAL) == hlen)
		send(fd, body, (size_t)blen, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Closes a connection after an answer, reading what the client sent first:
 * a Unix socket closed with unread data resets its peer, which would then
 * not read the answer. */
static void drain_close(int fd)
{
	char buf[4096];
	int i;

	shutdown(fd, SHUT_WR);
	for (i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static void unlink_conn(struct conns *c, struct kyso_conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		c->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->total--;
}

static void free_conn(struct kyso_conn *k)
{
	if (k->watch_fd >= 0)
		close(k->watch_fd);
	kyso_peer_release(&k->peer);
	free(k);
}

/* Why a new connection of this caller is refused, or NULL. Lock held. */
static const char *refusal(struct conns *c, const struct kyso_peer *peer)
{
	unsigned int mine = 0, pending = 0;
	struct kyso_conn *k;

	for (k = c->head; k; k = k->next) {
		/* the uid too: loopback callers whose process is unknown (pid 0)
		 * are counted per user */
		if (k->peer.pid != peer->pid || k->peer.start != peer->start ||
		    k->peer.uid != peer->uid || k->peer.tcp != peer->tcp)
			continue;
		mine++;
		if (!k->busy)
			pending++;
	}
	if (c->total >= CONNS_MAX)
		return "kysod serves as many connections as it can; retry shortly";
	if (pending >= CONNS_PENDING_PER_CALLER)
		return "this program has too many connections that send no complete request; "
		       "use fewer at once";
	if (mine >= CONNS_PER_CALLER)
		return "this program has too many connections open; use fewer at once";
	if (mine && c->total >= CONNS_MAX - CONNS_RESERVED)
		return "the connections left are kept for other programs; "
		       "use one of the connections this program holds";
	return NULL;
}

static void log_refusal(struct conns *c, const struct kyso_peer *peer, const char *why)
{
	long now = conns_now_ms();

	/* one warning a second at most: refusals come in floods */
	if (now - c->last_refusal_log >= 1000) {
		c->last_refusal_log = now;
		log_warn("refused a connection of pid %d: %s", (int)peer->pid, why);
	} else {
		log_debug("refused a connection of pid %d: %s", (int)peer->pid, why);
	}
}

static void accept_one(struct conns *c, int listen_fd, int tcp)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct kyso_conn *k;
	const char *why;
	int fd;

	fd = accept4(listen_fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return;
	}
	k->fd = fd;
	k->watch_fd = -1;
	/* who it is, cheaply; the rest only for a connection kept: a flood of
	 * connections is refused at the cost of a few system calls each */
	/* a loopback caller's process is looked for among the user's own
	 * only, and usually found at once (a browser's last one) */
	if (tcp)
		sock_owner_tcp(fd, &k->peer);
	else
		kyso_peer_creds(fd, &k->peer);
	pthread_mutex_lock(&c->lock);
	why = refusal(c, &k->peer);
	if (why) {
		log_refusal(c, &k->peer, why);
		pthread_mutex_unlock(&c->lock);
		answer_raw(fd, 503, "Service Unavailable", "too_many_connections", why);
		drain_close(fd);
		free_conn(k);
		return;
	}
	pthread_mutex_unlock(&c->lock);
	if (!tcp)
		kyso_peer_identify(fd, &k->peer);
	pthread_mutex_lock(&c->lock);
	k->watch_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	k->deadline_ms = conns_now_ms() + CONNS_REQUEST_DEADLINE_S * 1000L;
	k->next = c->head;
	if (c->head)
		c->head->prev = k;
	c->head = k;
	c->total++;
	pthread_mutex_unlock(&c->lock);
	if (MHD_add_connection(c->mhd, fd, (struct sockaddr *)&sa, salen) != MHD_YES) {
		/* the HTTP server closed fd */
		log_warn("a connection of pid %d could not be served: %s", (int)k->peer.pid,
			 strerror(errno));
		pthread_mutex_lock(&c->lock);
		if (!k->claimed) {
			unlink_conn(c, k);
			free_conn(k);
		}
		pthread_mutex_unlock(&c->lock);
	}
}

static void *acceptor_main(void *arg)
{
	struct conns *c = arg;
	struct pollfd pfd[2 + CONNS_TCP_MAX];
	size_t i, n = 2 + c->n_tcp;

	pfd[0].fd = c->listen_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = c->stop_pipe[0];
	pfd[1].events = POLLIN;
	for (i = 0; i < c->n_tcp; i++) {
		pfd[2 + i].fd = c->tcp_fds[i];
		pfd[2 + i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN)
			accept_one(c, c->listen_fd, 0);
		for (i = 2; i < n; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(c, pfd[i].fd, 1);
	}
	return NULL;
}

/* Ends the connections past their deadline: a 408 answer, then shutdown(),
 * which the HTTP server's thread sees as the client's end. */
static void *reaper_main(void *arg)
{
	struct conns *c = arg;
	struct kyso_conn *k;
	struct timespec ts;
	long now;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		now = conns_now_ms();
		for (k = c->head; k; k = k->next) {
			if (k->busy || k->timed_out || k->watch_fd < 0 || now < k->deadline_ms)
				continue;
			k->timed_out = 1;
			log_debug("pid %d: no complete request in %d s; connection closed",
				  (int)k->peer.pid, CONNS_REQUEST_DEADLINE_S);
			/* a kept-alive connection is closed silently: a client
			 * reusing it just then must not take the 408 for its
			 * own request's answer */
			if (!k->served)
				answer_raw(k->watch_fd, 408, "Request Timeout", "request_timeout",
					   "the request did not arrive in time");
			shutdown(k->watch_fd, SHUT_RDWR);
		}
		kyso_deadline_ms(&ts, REAPER_TICK_MS);
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int conns_start(struct conns *c, int listen_fd, const int *tcp_fds, size_t n_tcp,
		struct MHD_Daemon *mhd)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n_tcp && i < CONNS_TCP_MAX; i++)
		c->tcp_fds[c->n_tcp++] = tcp_fds[i];
	pthread_mutex_init(&c->lock, NULL);
	kyso_cond_init(&c->cond);
	c->listen_fd = listen_fd;
	c->mhd = mhd;
	if (pipe2(c->stop_pipe, O_CLOEXEC))
		return -1;
	if (pthread_create(&c->reaper, NULL, reaper_main, c))
		goto fail_pipe;
	if (pthread_create(&c->acceptor, NULL, acceptor_main, c)) {
		pthread_mutex_lock(&c->lock);
		c->stopping = 1;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->reaper, NULL);
		goto fail_pipe;
	}
	c->running = 1;
	return 0;
fail_pipe:
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	return -1;
}

void conns_stop(struct conns *c)
{
	if (!c->running)
		return;
	c->running = 0;
	if (write(c->stop_pipe[1], "x", 1) != 1)
		log_warn("cannot stop accepting connections: %s", strerror(errno));
	pthread_join(c->acceptor, NULL);
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->reaper, NULL);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
}

void conns_free(struct conns *c)
{
	struct kyso_conn *k;

	while ((k = c->head)) {
		unlink_conn(c, k);
		free_conn(k);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

struct kyso_conn *conns_claim(struct conns *c, int fd)
{
	struct kyso_conn *k;

	pthread_mutex_lock(&c->lock);
	for (k = c->head; k; k = k->next)
		if (!k->claimed && k->fd == fd)
			break;
	if (k)
		k->claimed = 1;
	pthread_mutex_unlock(&c->lock);
	return k;
}

void conns_closed(struct conns *c, struct kyso_conn *k)
{
	conns_large_give(c, k);
	pthread_mutex_lock(&c->lock);
	unlink_conn(c, k);
	pthread_mutex_unlock(&c->lock);
	free_conn(k);
}

void conns_busy(struct conns *c, struct kyso_conn *k, int busy)
{
	pthread_mutex_lock(&c->lock);
	k->busy = busy;
	if (!busy) {
		k->served = 1;
		k->deadline_ms = conns_now_ms() + CONNS_REQUEST_DEADLINE_S * 1000L;
	}
	pthread_mutex_unlock(&c->lock);
}

int conns_large_take(struct conns *c, struct kyso_conn *k)
{
	long until = conns_now_ms() + CONNS_LARGE_WAIT_S * 1000L, wait_ms;
	struct timespec ts;
	int ret = -1;

	pthread_mutex_lock(&c->lock);
	if (k->large) {
		ret = 0;
		goto out;
	}
	/* kysod keeps it waiting, not the client: no deadline meanwhile */
	k->busy = 1;
	while (c->large >= CONNS_LARGE_BODIES && !c->stopping) {
		wait_ms = until - conns_now_ms();
		if (wait_ms <= 0 || k->timed_out)
			goto out;
		if (wait_ms > REAPER_TICK_MS)
			wait_ms = REAPER_TICK_MS;
		kyso_deadline_ms(&ts, wait_ms);
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	if (c->large < CONNS_LARGE_BODIES) {
		c->large++;
		k->large = 1;
		ret = 0;
	}
out:
	k->busy = 0;
	/* a whole deadline to send the body */
	if (!ret)
		k->deadline_ms = conns_now_ms() + CONNS_REQUEST_DEADLINE_S * 1000L;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void conns_large_give(struct conns *c, struct kyso_conn *k)
{
	pthread_mutex_lock(&c->lock);
	if (k->large) {
		k->large = 0;
		c->large--;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}
