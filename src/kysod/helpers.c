/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/mono-time.h"
#include "common/log.h"
#include "kysod/helpers.h"
#include "pkcs11/token-id.h"
#include "kysod/spawn.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define START_WAIT_S 10
/* Lanes kept per helper: a token's worker threads each open one. */
#define LANES_MAX 256
/* Worker threads told apart per token (the helper's pool is at most 16). */
#define LANE_THREADS 64
/* After a lane ended without an answer: how long to wait for the helper to be
 * seen gone (a crash) before taking it for the worker's end (the token left). */
#define LANE_END_WAIT_MS 200
/* The request id of every frame on a lane (one request at a time). */
#define LANE_ID 1

enum helper_state {
	HELPER_STARTING,
	HELPER_RUNNING,
	HELPER_FAILED,
	HELPER_STOPPED,
};

static const char *const state_names[] = { "starting", "running", "failed", "stopped" };

/* The socket to one helper process, shared by the supervisor (which reads
 * it) and the senders. It is closed only when the last holder lets go, so a
 * frame can never be written to a descriptor number that was closed and
 * handed to someone else (a client connection) meanwhile: once the helper is
 * gone its channel is shut down and a late send fails. */
struct helper_chan {
	int fd;
	uint64_t gen;			/* which start of the helper it belongs to */
	pthread_mutex_t send_lock;	/* one writer at a time; dead */
	int dead;			/* shut down: nothing is sent any more */
	int refs;			/* atomic */
};

struct pending {
	pthread_cond_t cond;		/* signalled when done; only its waiter wakes */
	uint32_t id;
	uint64_t gen;			/* the channel it was sent on */
	int done;
	int failed;			/* the helper went away, or kysod stops: */
	enum kyso_err err;		/* module_crashed or shutting_down */
	struct kyso_msg reply;
	struct pending *next;
};

/* A lane: a socket to one worker thread of one token in the helper, on which
 * a request sends its SIGN or LOGIN and reads the reply itself. */
struct lane {
	struct helper_chan *chan;	/* a reference; chan->gen: the helper start */
	char token[KYSO_TOKEN_ID_LEN + 1];
	unsigned int thread;		/* the worker thread serving it */
	int busy;			/* a request holds it (and a reference) */
};

struct helper_proc {
	struct kysod *d;
	size_t index;
	char name[64];
	char path[PATH_MAX];
	unsigned int workers;		/* threads per token, passed to the helper */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;		/* state changes and answers */
	enum helper_state state;
	char error[256];
	struct helper_chan *chan;	/* the running helper's, or NULL; a reference */
	uint64_t gen;			/* starts so far */
	pid_t pid;
	unsigned int restarts;
	uint32_t next_id;
	struct pending *pending;
	struct lane lanes[LANES_MAX];
	unsigned int nlanes;
	uint32_t inventory_seq;		/* the running helper's last inventory applied */
	/* The removal check: the RESCAN sent after a card left, which the
	 * helper of start check_gen must answer before check_deadline. */
	int checking;
	uint32_t check_id;
	uint64_t check_gen;
	struct timespec check_deadline;
	int wake_fd;			/* an eventfd: a check began (the supervisor's poll) */
};

static struct helper_chan *chan_new(int fd, uint64_t gen)
{
	struct helper_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->gen = gen;
	c->refs = 1;
	pthread_mutex_init(&c->send_lock, NULL);
	return c;
}

/* Takes a reference; called with the helper's lock held (h->chan is valid). */
static struct helper_chan *chan_get(struct helper_chan *c)
{
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	return c;
}

/* Drops a reference; the last one closes the socket. */
static void chan_put(struct helper_chan *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		return;
	close(c->fd);
	pthread_mutex_destroy(&c->send_lock);
	free(c);
}

/* Shuts the channel down: a send after this fails, and the reader sees the
 * end. The descriptor stays open (and its number taken) until chan_put. */
static void chan_shutdown(struct helper_chan *c)
{
	pthread_mutex_lock(&c->send_lock);
	c->dead = 1;
	shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->send_lock);
}

/* Sends one frame on the channel. Returns 0, or -1 when it is shut down or
 * the write failed. */
static int chan_send(struct helper_chan *c, uint32_t id, uint16_t op, struct kyso_out *req,
		     const unsigned char *secret, size_t secret_len)
{
	int ret = -1;

	pthread_mutex_lock(&c->send_lock);
	if (!c->dead)
		ret = kyso_ipc_send(c->fd, id, op, 0, req, secret, secret_len);
	pthread_mutex_unlock(&c->send_lock);
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Starts the helper with one end of a socketpair as fd 3 (kysod_spawn). The
 * helper gets kysod's pid (--parent) to end with it. */
static int spawn(struct helper_proc *h, int *fd_out, pid_t *pid_out)
{
	static const int child_fds[] = { 3 };
	struct kysod *d = h->d;
	char ttl[32], workers[16], parent[16], protocol[16], *argv[14];
	int argc = 0;

	snprintf(ttl, sizeof(ttl), "%u", d->cfg.login_ttl);
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	argv[argc++] = d->cfg.helper;
	argv[argc++] = "--fd";
	argv[argc++] = "3";
	argv[argc++] = "--login-ttl";
	argv[argc++] = ttl;
	argv[argc++] = "--parent";
	argv[argc++] = parent;
	snprintf(protocol, sizeof(protocol), "%d", KYSO_IPC_PROTOCOL);
	argv[argc++] = "--protocol";
	argv[argc++] = protocol;
	if (h->workers > 1) {
		snprintf(workers, sizeof(workers), "%u", h->workers);
		argv[argc++] = "--workers";
		argv[argc++] = workers;
	}
	if (d->cfg.log_level >= KYSO_LOG_DEBUG)
		argv[argc++] = "-d";
	argv[argc++] = h->path;
	argv[argc] = NULL;
	return kysod_spawn(d->cfg.helper, argv, child_fds, 1, pid_out, fd_out);
}

/* Hands an answer that came on the channel of start gen to its waiter.
 * Called with h->lock held. */
static void deliver(struct helper_proc *h, uint64_t gen, struct kyso_msg *msg)
{
	struct pending *p;

	for (p = h->pending; p; p = p->next) {
		if (p->id != msg->id || p->gen != gen || p->done)
			continue;
		p->reply = *msg;
		memset(msg, 0, sizeof(*msg));
		p->done = 1;
		pthread_cond_signal(&p->cond);
		return;
	}
	if (msg->id)
		log_debug("%s: answer to a request no longer waited for", h->name);
}

/* Fails every waiter (of every start): the helper went away, or kysod stops.
 * Called with h->lock held. */
static void fail_pending(struct helper_proc *h, enum kyso_err err)
{
	struct pending *p;

	for (p = h->pending; p; p = p->next) {
		if (!p->done) {
			p->done = 1;
			p->failed = 1;
			p->err = err;
			pthread_cond_signal(&p->cond);
		}
	}
}

/* ------------------------------------------------------------ lanes */

/* Whether an idle lane has ended: nothing is ever sent on it unasked, so
 * anything to read is its end. */
static int lane_ended(const struct lane *l)
{
	struct pollfd p = { .fd = l->chan->fd, .events = POLLIN };

	return l->chan->dead || poll(&p, 1, 0) != 0;
}

/* Takes lane i out of the table, dropping the table's reference (a request
 * holding it keeps its own). Called with h->lock held. */
static struct helper_chan *lane_unlink(struct helper_proc *h, unsigned int i)
{
	struct helper_chan *c = h->lanes[i].chan;

	h->lanes[i] = h->lanes[--h->nlanes];
	return c;
}

static int token_id_ok(const char *s)
{
	return strlen(s) == KYSO_TOKEN_ID_LEN && strspn(s, "0123456789abcdef") == KYSO_TOKEN_ID_LEN;
}

/* A LANE from the helper of start gen: kept if it is a stream socket of
 * the helper process itself (SO_PEERCRED), else closed; the worker that
 * opened it then sees its end and serves its queue only. */
static void lane_add(struct helper_proc *h, uint64_t gen, struct kyso_msg *msg)
{
	const char *token = kyso_msg_str(msg, KYSO_F_TOKEN);
	struct helper_chan *c = NULL, *ended[LANES_MAX];
	int fd = kyso_msg_take_fd(msg), type = 0, domain = 0;
	uint32_t thread = LANE_THREADS;
	unsigned int i, nended = 0;
	struct ucred cred;
	socklen_t len;

	if (fd < 0)
		return;
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		goto refuse;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX)
		goto refuse;
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.pid != h->pid ||
	    !token || !token_id_ok(token) || kyso_msg_u32(msg, KYSO_F_WORKER, &thread) ||
	    thread >= LANE_THREADS)
		goto refuse;
	pthread_mutex_lock(&h->lock);
	/* the lanes of workers that ended (a token removed) make room */
	for (i = 0; i < h->nlanes;) {
		if (!h->lanes[i].busy && lane_ended(&h->lanes[i]))
			ended[nended++] = lane_unlink(h, i);
		else
			i++;
	}
	if (h->gen == gen && h->nlanes < LANES_MAX && (c = chan_new(fd, gen)) != NULL) {
		h->lanes[h->nlanes].chan = c;
		snprintf(h->lanes[h->nlanes].token, sizeof(h->lanes[0].token), "%s", token);
		h->lanes[h->nlanes].thread = thread;
		h->lanes[h->nlanes].busy = 0;
		h->nlanes++;
		fd = -1;
	}
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < nended; i++)
		chan_put(ended[i]);
	if (fd >= 0)
		close(fd);
	return;
refuse:
	log_warn("%s: a lane that is not the helper's own socket; closed", h->name);
	close(fd);
}

/* Shuts every lane down and empties the table (the helper is gone). Called
 * with h->lock held; *out receives the references to drop after it. */
static unsigned int lanes_unlink_all(struct helper_proc *h, struct helper_chan **out)
{
	unsigned int n = 0;

	while (h->nlanes) {
		out[n] = lane_unlink(h, h->nlanes - 1);
		chan_shutdown(out[n++]);
	}
	return n;
}

/* An idle lane of token's worker in the running helper, marked busy: a new
 * reference, or NULL. Of the worker's threads, one with the fewest lanes
 * busy serves it (a thread's lanes wait for one another). Called with
 * h->lock held. */
static struct helper_chan *lane_take(struct helper_proc *h, const char *token)
{
	unsigned int busy[LANE_THREADS], i, best;
	struct lane *l;

again:
	memset(busy, 0, sizeof(busy));
	for (i = 0; i < h->nlanes; i++) {
		l = &h->lanes[i];
		if (l->busy && !strcmp(l->token, token))
			busy[l->thread]++;
	}
	best = LANES_MAX;
	for (i = 0; i < h->nlanes; i++) {
		l = &h->lanes[i];
		if (l->busy || l->chan->dead || l->chan->gen != h->gen || strcmp(l->token, token))
			continue;
		if (best == LANES_MAX || busy[l->thread] < busy[h->lanes[best].thread])
			best = i;
	}
	if (best == LANES_MAX)
		return NULL;
	/* the lane of a worker that ended (its token was removed, and came back
	 * before the new worker's lanes): dropped, another one looked for */
	if (lane_ended(&h->lanes[best])) {
		chan_put(lane_unlink(h, best));
		goto again;
	}
	h->lanes[best].busy = 1;
	return chan_get(h->lanes[best].chan);
}

/* Gives a lane back: idle again, or (ended) out of the table. Drops the
 * request's reference. */
static void lane_give(struct helper_proc *h, struct helper_chan *c, int ended)
{
	struct helper_chan *unlinked = NULL;
	unsigned int i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nlanes; i++) {
		if (h->lanes[i].chan != c)
			continue;
		if (ended)
			unlinked = lane_unlink(h, i);
		else
			h->lanes[i].busy = 0;
		break;
	}
	pthread_mutex_unlock(&h->lock);
	chan_put(unlinked);
	chan_put(c);
}

/* Kills the helper of start gen, if it still runs (it did not answer, or
 * answered out of step): its supervisor restarts it. */
static void kill_helper(struct helper_proc *h, uint64_t gen)
{
	pthread_mutex_lock(&h->lock);
	if (h->gen == gen && h->pid > 0)
		kill(h->pid, SIGKILL);
	pthread_mutex_unlock(&h->lock);
}

/* Why a lane ended before its answer: kysod stops; the helper died (its
 * supervisor sees it within moments); or else only the worker ended, whose
 * token was removed. */
static enum kyso_err lane_end_reason(struct helper_proc *h, const struct helper_chan *c)
{
	struct timespec deadline;
	enum kyso_err e;
	int alive;

	kyso_deadline_ms(&deadline, LANE_END_WAIT_MS);
	pthread_mutex_lock(&h->lock);
	for (;;) {
		alive = h->gen == c->gen && h->chan && h->state == HELPER_RUNNING;
		if (!alive || kysod_stopping(h->d) ||
		    pthread_cond_timedwait(&h->cond, &h->lock, &deadline) == ETIMEDOUT)
			break;
	}
	e = kysod_stopping(h->d) ? KE_SHUTTING_DOWN : alive ? KE_TOKEN_REMOVED : KE_MODULE_CRASHED;
	pthread_mutex_unlock(&h->lock);
	return e;
}

/* A reply on a lane passes the channel's frames sent before it: the
 * inventory it names (a login's new state) is applied first, so that what
 * kysod shows after the answer is what the operation left. Waits for the
 * supervisor at most until deadline, and not for a helper that went. */
static void inventory_catch_up(struct helper_proc *h, uint64_t gen, const struct kyso_msg *reply,
			       const struct timespec *deadline)
{
	uint32_t seq;

	if (kyso_msg_u32(reply, KYSO_F_INVENTORY_SEQ, &seq))
		return;
	pthread_mutex_lock(&h->lock);
	while (h->inventory_seq < seq && h->gen == gen && h->chan && !kysod_stopping(h->d) &&
	       pthread_cond_timedwait(&h->cond, &h->lock, deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&h->lock);
}

/* A lane held by one request, or by a batch for a run of requests. */
struct helper_lane {
	struct helper_proc *h;
	struct helper_chan *c;		/* a reference, taken with lane_take */
	uint32_t sent, answered;	/* frames: request ids count up from 1 */
	int unsendable;			/* a frame could not be written: none more is */
	int ended;			/* nothing more is read on it either */
};

/* Sends one frame on l. Returns 0; -1 when it could not be written (the
 * worker's end is closed; nothing reached it): nothing more is sent on l,
 * and the frames sent before are still answered. */
static int lane_send(struct helper_lane *l, uint16_t op, struct kyso_out *req,
		     const unsigned char *secret, size_t secret_len)
{
	if (l->ended || l->unsendable ||
	    chan_send(l->c, l->sent + 1, op, req, secret, secret_len)) {
		l->unsendable = 1;
		return -1;
	}
	l->sent++;
	return 0;
}

/* Reads the reply to the oldest frame sent on l and not answered yet, at
 * most timeout seconds. Returns 0 with reply set, or -1 with *err set: the
 * lane has ended then (a helper that did not answer, or answered out of
 * step, is killed). */
static int lane_recv(struct helper_lane *l, unsigned int timeout, struct kyso_msg *reply,
		     enum kyso_err *err)
{
	struct helper_proc *h = l->h;
	struct pollfd p = { .fd = l->c->fd, .events = POLLIN };
	struct timespec deadline;
	int rc;

	memset(reply, 0, sizeof(*reply));
	/* the frames sent are answered first, also after one that was not */
	if (l->answered == l->sent && !l->ended && !l->unsendable) {
		*err = KE_INTERNAL_ERROR;	/* nothing to wait for */
		return -1;
	}
	if (l->ended || l->answered == l->sent) {
		*err = lane_end_reason(h, l->c);
		return -1;
	}
	kyso_deadline_ms(&deadline, timeout * 1000L);
	while ((rc = poll(&p, 1, kyso_ms_until(&deadline))) < 0 && errno == EINTR)
		;
	l->ended = 1;
	if (rc == 0) {
		*err = KE_MODULE_TIMEOUT;
		log_error("%s: no answer in %u s; restarting the helper", h->name, timeout);
		kill_helper(h, l->c->gen);
		return -1;
	}
	rc = kyso_ipc_recv(l->c->fd, reply);
	if (rc == 0 && reply->op == KYSO_OP_REPLY && reply->id == l->answered + 1) {
		l->answered++;
		l->ended = 0;
		inventory_catch_up(h, l->c->gen, reply, &deadline);
		return 0;
	}
	if (rc == 0 || rc == -2) {
		kyso_msg_clear(reply);
		log_error("%s: the helper sent a malformed message; restarting it", h->name);
		kill_helper(h, l->c->gen);
		*err = KE_MODULE_CRASHED;
		return -1;
	}
	*err = lane_end_reason(h, l->c);
	return -1;
}

/* Gives l's lane back: idle again when every frame sent was answered and
 * it did not end, else out of the table. */
static void lane_release(struct helper_lane *l)
{
	lane_give(l->h, l->c, l->ended || l->unsendable || l->sent != l->answered);
}

/* A request on a lane taken with lane_take (which this gives back). Returns
 * 0 with reply set; -1 with *err set; 1 when the frame could not be sent
 * because the worker had ended (nothing reached it) while its helper runs,
 * for the caller to send it on the channel instead. */
static int lane_call(struct helper_proc *h, struct helper_chan *c, uint16_t op,
		     struct kyso_out *req, const unsigned char *secret, size_t secret_len,
		     unsigned int timeout, void (*meanwhile)(void *), void *arg,
		     struct kyso_msg *reply, enum kyso_err *err)
{
	struct helper_lane l = { h, c, 0, 0, 0, 0 };
	int ret = -1;

	if (lane_send(&l, op, req, secret, secret_len)) {
		/* nothing reached the worker: with the helper alive (only the
		 * worker ended) the channel takes the frame; a frame is never
		 * sent again to a helper started after the one it was for */
		*err = lane_end_reason(h, c);
		ret = *err == KE_TOKEN_REMOVED ? 1 : -1;
		goto out;
	}
	if (meanwhile)
		meanwhile(arg);
	ret = lane_recv(&l, timeout, reply, err);
out:
	lane_release(&l);
	return ret;
}

static void set_state(struct helper_proc *h, enum helper_state state, const char *error)
{
	pthread_mutex_lock(&h->lock);
	h->state = state;
	snprintf(h->error, sizeof(h->error), "%s", error ? error : "");
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* Waits up to ms for pid to end. Returns 1 when it did (status set). */
static int reap(pid_t pid, unsigned int ms, int *status)
{
	unsigned int waited = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
		if (waited >= ms)
			return 0;
		sleep_ms(20);
		waited += 20;
	}
}

/* The helper's first message: its protocol version must be kysod's. Returns
 * 0; 1 for a module that failed to load (the helper ends by itself); -1 for
 * a helper of another version, whose channel is ended. The state is set to
 * failed and why logged. */
static int hello(struct helper_proc *h, const struct kyso_msg *msg)
{
	const char *why = kyso_msg_str(msg, KYSO_F_MESSAGE);
	char text[256];
	uint32_t version = 0;

	kyso_msg_u32(msg, KYSO_F_PROTOCOL, &version);
	if (version != KYSO_IPC_PROTOCOL) {
		snprintf(text, sizeof(text), "the helper %s speaks protocol %u, this kysod protocol "
			 "%d: kysod and kyso-p11 must come from the same version of kyso",
			 h->d->cfg.helper, version, KYSO_IPC_PROTOCOL);
		log_error("%s: %s", h->name, text);
		set_state(h, HELPER_FAILED, text);
		return -1;
	}
	if (msg->flags & KYSO_IPC_F_ERROR) {
		log_error("%s: %s", h->name, why ? why : "module failed to load");
		set_state(h, HELPER_FAILED, why ? why : "module failed to load");
		return 1;
	}
	return 0;
}

/* Applies an inventory report. */
static void inventory_report(struct helper_proc *h, const struct kyso_msg *msg)
{
	json_t *report = kyso_msg_json(msg, KYSO_F_INVENTORY);
	uint32_t seq = 0;

	if (!report) {
		log_warn("%s: an inventory kysod cannot read", h->name);
		return;
	}
	inventory_update(&h->d->inv, h->index, h->name, report);
	json_decref(report);
	/* a reply on a lane that waits for this one may go on */
	pthread_mutex_lock(&h->lock);
	if (!kyso_msg_u32(msg, KYSO_F_INVENTORY_SEQ, &seq) && seq > h->inventory_seq)
		h->inventory_seq = seq;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* Until fd (the channel of start gen) has a frame to read: 0. A helper that
 * let its removal check's deadline pass is killed; its channel then ends,
 * and the frame read says so. */
static int await_frame(struct helper_proc *h, int fd, uint64_t gen)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = h->wake_fd, .events = POLLIN } };
	uint64_t n;
	int timeout, rc;

	for (;;) {
		pthread_mutex_lock(&h->lock);
		timeout = h->checking && h->check_gen == gen ? kyso_ms_until(&h->check_deadline) : -1;
		if (timeout == 0)
			h->checking = 0;
		pthread_mutex_unlock(&h->lock);
		if (timeout == 0) {
			log_error("%s: no answer %u s after a card was removed: the module is stuck "
				  "(as OpenSC 0.23 can be after a card is pulled out during an "
				  "operation); restarting the helper", h->name,
				  h->d->cfg.removal_timeout);
			kill_helper(h, gen);
			timeout = -1;
		}
		rc = poll(p, h->wake_fd >= 0 ? 2 : 1, timeout);
		if (rc < 0 && errno != EINTR)
			return 0;	/* the read says what is wrong */
		/* a check began: drained, and the loop takes its deadline */
		if (rc > 0 && (p[1].revents & POLLIN) && read(h->wake_fd, &n, sizeof(n)) < 0)
			n = 0;	/* nothing to drain: another wake took it */
		if (rc > 0 && p[0].revents)
			return 0;
	}
}

/* Runs one helper process until it ends. Returns how long it ran, in seconds. */
static long run_once(struct helper_proc *h)
{
	struct kysod *d = h->d;
	struct helper_chan *chan, *lanes[LANES_MAX];
	unsigned int nlanes;
	struct kyso_msg msg;
	struct timespec start, end;
	int fd, status, rc, first = 1;
	uint64_t gen;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (spawn(h, &fd, &pid)) {
		log_error("%s: cannot start %s: %s", h->name, d->cfg.helper, strerror(errno));
		set_state(h, HELPER_FAILED, "cannot start the helper");
		return 0;
	}
	pthread_mutex_lock(&h->lock);
	gen = ++h->gen;
	h->inventory_seq = 0;
	h->checking = 0;	/* a check of the start before ends with it */
	chan = chan_new(fd, gen);
	if (chan) {
		/* the supervisor's reference is h->chan's */
		h->chan = chan;
		h->pid = pid;
		/* helpers_stop sets stopping before it looks at h->chan under
		 * this lock: a helper started while it ran is shut down here,
		 * else its reader would wait for ever */
		if (kysod_stopping(d))
			chan_shutdown(chan);
	}
	pthread_mutex_unlock(&h->lock);
	if (!chan) {
		log_error("%s: out of memory", h->name);
		close(fd);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		set_state(h, HELPER_FAILED, "out of memory");
		return 0;
	}
	log_info("%s: helper %d started for %s", h->name, (int)pid, h->path);

	while (!(rc = await_frame(h, fd, gen)) && (rc = kyso_ipc_recv(fd, &msg)) == 0) {
		if (first && msg.op != KYSO_OP_HELLO) {
			kyso_msg_clear(&msg);
			rc = -2;
			break;
		}
		first = 0;
		switch (msg.op) {
		case KYSO_OP_HELLO:
			rc = hello(h, &msg);
			if (rc == 0) {
				inventory_report(h, &msg);
				set_state(h, HELPER_RUNNING, NULL);
			}
			break;
		case KYSO_OP_INVENTORY:
			inventory_report(h, &msg);
			break;
		case KYSO_OP_REPLY:
			pthread_mutex_lock(&h->lock);
			if (h->checking && h->check_gen == gen && msg.id == h->check_id)
				h->checking = 0;	/* the module is not stuck */
			else
				deliver(h, gen, &msg);
			pthread_mutex_unlock(&h->lock);
			break;
		case KYSO_OP_LANE:
			lane_add(h, gen, &msg);
			break;
		default:
			log_warn("%s: unexpected message %u", h->name, msg.op);
		}
		kyso_msg_clear(&msg);
		/* nothing more is read from a helper of another version */
		if (rc < 0)
			break;
	}
	if (rc == -2 && first) {
		char text[256];

		/* an older helper's JSON HELLO, or something else altogether */
		snprintf(text, sizeof(text), "the helper %s does not speak protocol %d (its first "
			 "message is no HELLO kysod can read): kysod and kyso-p11 must come from "
			 "the same version of kyso", d->cfg.helper, KYSO_IPC_PROTOCOL);
		log_error("%s: %s", h->name, text);
		set_state(h, HELPER_FAILED, text);
	} else if (rc == -2) {
		log_error("%s: the helper sent a malformed message; restarting it", h->name);
	}

	/* No sender can reach this helper any more; a sender holding the
	 * channel still finds it shut down, its number not reused. */
	chan_shutdown(chan);
	pthread_mutex_lock(&h->lock);
	h->chan = NULL;
	h->pid = 0;
	if (h->state != HELPER_FAILED)
		h->state = HELPER_STARTING;
	nlanes = lanes_unlink_all(h, lanes);
	fail_pending(h, KE_MODULE_CRASHED);
	/* a request whose lane ended looks whether the helper went */
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	chan_put(chan);
	while (nlanes)
		chan_put(lanes[--nlanes]);
	inventory_module_down(&d->inv, h->index);

	/* On stop a helper ends by itself once it reads the end of its socket
	 * (closing its module); one stuck in its module gets SIGTERM, then
	 * SIGKILL, each after a grace time. */
	if (!reap(pid, kysod_stopping(d) ? d->cfg.stop_grace * 1000 : 0, &status)) {
		if (kysod_stopping(d)) {
			log_warn("%s: helper %d did not end; terminating it", h->name, (int)pid);
			kill(pid, SIGTERM);
		}
		if (!kysod_stopping(d) || !reap(pid, d->cfg.stop_grace * 1000, &status)) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (!kysod_stopping(d)) {
		if (WIFSIGNALED(status))
			log_error("%s: helper %d killed by signal %d", h->name, (int)pid,
				  WTERMSIG(status));
		else
			log_error("%s: helper %d exited with status %d", h->name, (int)pid,
				  WEXITSTATUS(status));
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	return end.tv_sec - start.tv_sec;
}

static void *supervise(void *arg)
{
	struct helper_proc *h = arg;
	unsigned int backoff = BACKOFF_MIN_MS, waited;

	while (!kysod_stopping(h->d)) {
		long ran = run_once(h);

		if (kysod_stopping(h->d))
			break;
		pthread_mutex_lock(&h->lock);
		h->restarts++;
		pthread_mutex_unlock(&h->lock);
		if (ran > 10)
			backoff = BACKOFF_MIN_MS;
		for (waited = 0; waited < backoff && !kysod_stopping(h->d); waited += 50)
			sleep_ms(50);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	set_state(h, HELPER_STOPPED, NULL);
	return NULL;
}

static void helper_init(struct helper_proc *h, struct kysod *d, size_t index, const char *name)
{

	memset(h, 0, sizeof(*h));
	h->d = d;
	h->index = index;
	snprintf(h->name, sizeof(h->name), "%s", name);
	pthread_mutex_init(&h->lock, NULL);
	kyso_cond_init(&h->cond);
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/* Sets up slot d->nhelpers for a module and starts it; then makes it visible.
 * Called with helpers_lock held. Returns its index. */
static size_t add_locked(struct kysod *d, const char *name, const char *path, unsigned int workers)
{
	char err[PATH_MAX + 128];
	size_t i = d->nhelpers;
	struct helper_proc *h = &d->helpers[i];

	helper_init(h, d, i, name);
	h->workers = workers;
	snprintf(h->path, sizeof(h->path), "%s", path);
	if (kysod_module_allowed(&d->cfg, path, h->path, err, sizeof(err))) {
		log_error("module %s refused: %s", h->name, err);
		h->state = HELPER_FAILED;
		snprintf(h->error, sizeof(h->error), "%s", err);
	} else if (pthread_create(&h->thread, NULL, supervise, h)) {
		log_error("module %s: cannot start its supervisor thread", h->name);
		h->state = HELPER_FAILED;
	} else {
		h->thread_started = 1;
	}
	/* readers see a slot only once it is whole */
	__atomic_store_n(&d->nhelpers, i + 1, __ATOMIC_RELEASE);
	return i;
}

int helpers_start(struct kysod *d)
{
	size_t i;

	pthread_mutex_init(&d->helpers_lock, NULL);
	d->helpers = calloc(HELPERS_MAX, sizeof(*d->helpers));
	if (!d->helpers)
		return -1;
	pthread_mutex_lock(&d->helpers_lock);
	for (i = 0; i < d->cfg.n_modules && i < HELPERS_MAX; i++)
		add_locked(d, d->cfg.modules[i].name, d->cfg.modules[i].path,
			   d->cfg.modules[i].workers);
	pthread_mutex_unlock(&d->helpers_lock);
	return 0;
}

int helpers_add(struct kysod *d, const char *name, const char *path, unsigned int workers)
{
	char resolved[PATH_MAX];
	size_t i;
	int ret = -1;

	if (!realpath(path, resolved))
		return -1;
	pthread_mutex_lock(&d->helpers_lock);
	for (i = 0; i < d->nhelpers; i++)
		if (!strcmp(d->helpers[i].path, resolved)) {
			ret = (int)i;
			goto out;
		}
	if (d->nhelpers == HELPERS_MAX || kysod_stopping(d))
		goto out;
	log_info("starting module %s (%s) for an inserted token", name, resolved);
	ret = (int)add_locked(d, name, resolved, workers);
out:
	pthread_mutex_unlock(&d->helpers_lock);
	return ret;
}

void helpers_fail_calls(struct kysod *d)
{
	size_t i, n = __atomic_load_n(&d->nhelpers, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		struct helper_proc *h = &d->helpers[i];

		unsigned int j;

		pthread_mutex_lock(&h->lock);
		fail_pending(h, KE_SHUTTING_DOWN);
		/* a request waiting on a lane reads its end */
		for (j = 0; j < h->nlanes; j++)
			if (h->lanes[j].busy)
				chan_shutdown(h->lanes[j].chan);
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
	}
}

void helpers_stop(struct kysod *d)
{
	size_t i;

	/* no helper is added from here on */
	pthread_mutex_lock(&d->helpers_lock);
	__atomic_store_n(&d->stopping, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->helpers_lock);
	for (i = 0; i < d->nhelpers; i++) {
		struct helper_proc *h = &d->helpers[i];

		pthread_mutex_lock(&h->lock);
		if (h->chan)
			chan_shutdown(h->chan);
		pthread_mutex_unlock(&h->lock);
	}
	for (i = 0; i < d->nhelpers; i++) {
		struct helper_proc *h = &d->helpers[i];

		if (h->thread_started)
			pthread_join(h->thread, NULL);
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		if (h->wake_fd >= 0)
			close(h->wake_fd);
	}
	free(d->helpers);
	d->helpers = NULL;
	d->nhelpers = 0;
	pthread_mutex_destroy(&d->helpers_lock);
}

static void unlink_pending(struct helper_proc *h, struct pending *p)
{
	struct pending **pp;

	for (pp = &h->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

int helper_call(struct kysod *d, size_t module, uint16_t op, struct kyso_out *req,
		const unsigned char *secret, size_t secret_len, unsigned int timeout,
		struct kyso_msg *reply, enum kyso_err *err)
{
	return helper_call_overlap(d, module, NULL, op, req, secret, secret_len, timeout, NULL,
				   NULL, reply, err);
}

/* Waits for the helper to run. Returns 0, or -1 with *err set. Called with
 * h->lock held. */
static int wait_running(struct helper_proc *h, unsigned int timeout, enum kyso_err *err)
{
	struct timespec deadline;

	kyso_deadline_ms(&deadline, (timeout < START_WAIT_S ? timeout : START_WAIT_S) * 1000L);
	while (h->state == HELPER_STARTING && !kysod_stopping(h->d) &&
	       pthread_cond_timedwait(&h->cond, &h->lock, &deadline) != ETIMEDOUT)
		;
	if (kysod_stopping(h->d)) {
		*err = KE_SHUTTING_DOWN;
		return -1;
	}
	if (h->state != HELPER_RUNNING || !h->chan) {
		*err = KE_MODULE_UNAVAILABLE;
		return -1;
	}
	return 0;
}

int helper_call_overlap(struct kysod *d, size_t module, const char *token, uint16_t op,
			struct kyso_out *req, const unsigned char *secret, size_t secret_len,
			unsigned int timeout, void (*meanwhile)(void *), void *arg,
			struct kyso_msg *reply, enum kyso_err *err)
{
	struct helper_proc *h;
	struct helper_chan *chan;
	struct pending p;
	struct timespec deadline;
	int sent, ret = -1;

	memset(reply, 0, sizeof(*reply));
	if (module >= d->nhelpers) {
		*err = KE_MODULE_UNAVAILABLE;
		return -1;
	}
	h = &d->helpers[module];
	memset(&p, 0, sizeof(p));
	kyso_cond_init(&p.cond);

	pthread_mutex_lock(&h->lock);
	if (wait_running(h, timeout, err))
		goto out;
	/* a token's SIGN and LOGIN go on a lane of its worker when one is free */
	chan = token && (op == KYSO_OP_SIGN || op == KYSO_OP_LOGIN) ? lane_take(h, token) : NULL;
	if (chan) {
		uint64_t gen = chan->gen;	/* chan goes back with the lane */

		pthread_mutex_unlock(&h->lock);
		ret = lane_call(h, chan, op, req, secret, secret_len, timeout, meanwhile, arg,
				reply, err);
		pthread_mutex_lock(&h->lock);
		if (ret <= 0)
			goto out;
		ret = -1;
		/* the channel of the start the frame was for, not waited for: a
		 * helper that went since (or is being replaced) is sent nothing */
		if (kysod_stopping(d)) {
			*err = KE_SHUTTING_DOWN;
			goto out;
		}
		if (h->gen != gen || h->state != HELPER_RUNNING || !h->chan) {
			*err = KE_MODULE_CRASHED;
			goto out;
		}
	}
	chan = chan_get(h->chan);
	p.id = ++h->next_id;
	p.gen = chan->gen;
	p.next = h->pending;
	h->pending = &p;
	pthread_mutex_unlock(&h->lock);

	/* to this helper's socket, or nowhere: never to a reused descriptor */
	sent = chan_send(chan, p.id, op, req, secret, secret_len);
	chan_put(chan);
	/* while the helper works: the caller's own work (an audit sync) */
	if (!sent && meanwhile)
		meanwhile(arg);

	pthread_mutex_lock(&h->lock);
	if (sent) {
		unlink_pending(h, &p);
		*err = KE_MODULE_CRASHED;
		goto out;
	}
	kyso_deadline_ms(&deadline, timeout * 1000L);
	while (!p.done && pthread_cond_timedwait(&p.cond, &h->lock, &deadline) != ETIMEDOUT)
		;
	unlink_pending(h, &p);
	if (!p.done) {
		*err = KE_MODULE_TIMEOUT;
		log_error("%s: no answer in %u s; restarting the helper", h->name, timeout);
		if (h->pid > 0)
			kill(h->pid, SIGKILL);
		goto out;
	}
	if (p.failed) {
		*err = p.err;
		goto out;
	}
	*reply = p.reply;
	memset(&p.reply, 0, sizeof(p.reply));
	ret = 0;
out:
	pthread_mutex_unlock(&h->lock);
	pthread_cond_destroy(&p.cond);
	kyso_msg_clear(&p.reply);
	return ret;
}

struct helper_lane *helper_lane_take(struct kysod *d, size_t module, const char *token)
{
	struct helper_lane *l = NULL;
	struct helper_chan *c = NULL;
	struct helper_proc *h;
	enum kyso_err err;

	if (module >= d->nhelpers)
		return NULL;
	h = &d->helpers[module];
	pthread_mutex_lock(&h->lock);
	if (!wait_running(h, 0, &err))
		c = lane_take(h, token);
	pthread_mutex_unlock(&h->lock);
	if (!c)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		lane_give(h, c, 0);
		return NULL;
	}
	l->h = h;
	l->c = c;
	return l;
}

int helper_lane_send(struct helper_lane *l, uint16_t op, struct kyso_out *req)
{
	return lane_send(l, op, req, NULL, 0);
}

int helper_lane_recv(struct helper_lane *l, unsigned int timeout, struct kyso_msg *reply,
		     enum kyso_err *err)
{
	return lane_recv(l, timeout, reply, err);
}

void helper_lane_give(struct helper_lane *l)
{
	if (!l)
		return;
	lane_release(l);
	free(l);
}

int helper_running(struct kysod *d, size_t module)
{
	struct helper_proc *h;
	int running;

	if (module >= d->nhelpers)
		return 0;
	h = &d->helpers[module];
	pthread_mutex_lock(&h->lock);
	running = h->state == HELPER_RUNNING;
	pthread_mutex_unlock(&h->lock);
	return running;
}

void helpers_rescan(struct kysod *d, int removal)
{
	uint64_t one = 1;
	size_t i;

	for (i = 0; i < d->nhelpers; i++) {
		struct helper_proc *h = &d->helpers[i];
		struct helper_chan *chan;
		uint32_t id = 0;	/* 0: nobody waits for the answer */

		pthread_mutex_lock(&h->lock);
		chan = h->state == HELPER_RUNNING ? chan_get(h->chan) : NULL;
		/* After a removal the answer is awaited, by the supervisor: a
		 * module that cannot look at its slots within removal_timeout is
		 * stuck on the card that left (one check at a time). */
		if (chan && removal && d->cfg.removal_timeout && h->wake_fd >= 0 && !h->checking) {
			id = ++h->next_id;
			h->checking = 1;
			h->check_id = id;
			h->check_gen = chan->gen;
			kyso_deadline_ms(&h->check_deadline, d->cfg.removal_timeout * 1000L);
		}
		pthread_mutex_unlock(&h->lock);
		if (!chan)
			continue;
		if (chan_send(chan, id, KYSO_OP_RESCAN, NULL, NULL, 0) && id) {
			pthread_mutex_lock(&h->lock);
			if (h->check_id == id)
				h->checking = 0;
			pthread_mutex_unlock(&h->lock);
		} else if (id && write(h->wake_fd, &one, sizeof(one)) < 0) {
			log_warn("%s: cannot wake the helper's supervisor", h->name);
		}
		chan_put(chan);
	}
}

json_t *helpers_status_json(struct kysod *d)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < d->nhelpers; i++) {
		struct helper_proc *h = &d->helpers[i];
		json_t *m;

		pthread_mutex_lock(&h->lock);
		m = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "name", h->name, "path", h->path,
			      "state", state_names[h->state], "pid", (int)h->pid,
			      "restarts", (int)h->restarts,
			      "tokens", inventory_module_tokens(&d->inv, i));
		if (m && h->error[0])
			json_object_set_new(m, "error", json_string(h->error));
		pthread_mutex_unlock(&h->lock);
		if (m)
			json_array_append_new(list, m);
	}
	return list;
}
