/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "kysod/browser.h"
#include "kysod/conns.h"
#include "kysod/listen-tcp.h"
#include "kysod/origins.h"
#include "kysod/http-strict.h"
#include "kysod/router.h"
#include "kysod/server.h"

#define IDLE_TIMEOUT_S 60
/* How long stopping waits for the answers of requests in flight. */
#define STOP_DRAIN_MS 5000
/* Connections waiting for kysod to accept them. */
#define LISTEN_BACKLOG 4096

/* Per request, kept between libmicrohttpd's calls to the handler. */
struct req_state {
	char *body;
	size_t len;
	size_t cap;
	struct kyso_conn *conn;	/* the connection it came on */
	int refused;		/* an answer is queued already */
	int too_large;		/* the body went over the limit; the rest is read and dropped */
	size_t limit;		/* this route's body limit */
	size_t dropped;
	int in_flight;		/* counted in kysod's requests until answered */
	size_t expect;		/* Content-Length, 0 when not given */
	kysod_after_fn after;	/* run by completed(), once the answer is sent */
	void *after_ctx;	/* owned by after */
};

/* A body over the limit is read to its end (up to this much) so the client gets
 * its 413 on a healthy connection; past it the connection is closed. */
#define DROP_LIMIT (16u << 20)

static const char fallback_error[] =
	"{\"error\":{\"code\":\"internal_error\",\"message\":\"the answer could not be built\"}}";

/* The caller of the connection a request came on, or NULL. */
static struct kyso_peer *conn_peer(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct kyso_conn *k = ci ? ci->socket_context : NULL;

	return k ? &k->peer : NULL;
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, struct kyso_reply *rep, int close)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = rep->body ? json_dumps(rep->body, JSON_COMPACT) : NULL;
	unsigned int status = rep->status ? rep->status : 500;
	char retry[16];

	if (rep->empty) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else if (text) {
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	} else {
		status = 500;
		resp = MHD_create_response_from_buffer(sizeof(fallback_error) - 1,
						       (void *)fallback_error, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	if (!rep->empty)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rep->retry_after) {
		snprintf(retry, sizeof(retry), "%u", rep->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	browser_headers(resp, conn_peer(conn));
	if (rep->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
	if (close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* One event-stream client: where it is in the stream, and what is left of
 * the event being sent. */
struct stream_state {
	struct kysod *d;
	int fd;			/* the client's connection */
	uint64_t cursor;
	char origin[KYSO_ORIGIN_MAX];	/* a page's stream: only its own events */
	char *pending;
	size_t off;
};

#define KEEPALIVE_MS 15000
#define HANGUP_CHECK_MS 500
/* Event streams hold a connection thread each: keep room for requests. */
#define MAX_STREAMS 48

/* Whether the client went away (its end of the socket is closed). */
static int client_gone(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_state *ss = cls;
	int rc, waited = 0;
	size_t n;

	while (!ss->pending) {
		/* wait in slices, so that a client that left frees its thread soon */
		rc = events_next(&ss->d->events, &ss->cursor, HANGUP_CHECK_MS,
				 ss->origin[0] ? ss->origin : NULL, &ss->pending);
		if (rc < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (rc > 0)
			break;
		if (client_gone(ss->fd))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		waited += HANGUP_CHECK_MS;
		if (waited >= KEEPALIVE_MS) {
			ss->pending = strdup(": keep-alive\n\n");
			if (!ss->pending)
				return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = strlen(ss->pending + ss->off);
	if (n > max)
		n = max;
	memcpy(buf, ss->pending + ss->off, n);
	ss->off += n;
	if (!ss->pending[ss->off]) {
		free(ss->pending);
		ss->pending = NULL;
		ss->off = 0;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream_state *ss = cls;

	__atomic_sub_fetch(&ss->d->streams, 1, __ATOMIC_RELAXED);
	free(ss->pending);
	free(ss);
}

static enum MHD_Result queue_stream(struct kysod *d, struct MHD_Connection *conn, uint64_t cursor)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct stream_state *ss;
	struct MHD_Response *resp;
	struct kyso_reply rep = { 0 };
	enum MHD_Result ret;

	if (__atomic_add_fetch(&d->streams, 1, __ATOMIC_RELAXED) > MAX_STREAMS || !ci) {
		__atomic_sub_fetch(&d->streams, 1, __ATOMIC_RELAXED);
		kyso_reply_error(&rep, KE_TOO_MANY_STREAMS,
				 "%d event streams are open already; close one and retry", MAX_STREAMS);
		ret = queue_reply(conn, &rep, 1);
		kyso_reply_clear(&rep);
		return ret;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		__atomic_sub_fetch(&d->streams, 1, __ATOMIC_RELAXED);
		return MHD_NO;
	}
	ss->d = d;
	ss->fd = ci->connect_fd;
	if (conn_peer(conn) && conn_peer(conn)->tcp)
		snprintf(ss->origin, sizeof(ss->origin), "%s", conn_peer(conn)->origin);
	ss->cursor = cursor;
	/* the first bytes tell the client the stream is open */
	ss->pending = strdup(": kyso events\n\n");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, ss,
						 stream_free);
	if (!resp) {
		stream_free(ss);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	browser_headers(resp, conn_peer(conn));
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, struct req_state *st,
			      enum kyso_err e, const char *message)
{
	struct kyso_reply rep = { 0 };
	enum MHD_Result ret;

	st->refused = 1;
	kyso_reply_error(&rep, e, "%s", message);
	ret = queue_reply(conn, &rep, 1);
	kyso_reply_clear(&rep);
	return ret;
}

static int append_body(struct req_state *st, const char *data, size_t len, size_t max)
{
	if (st->len + len > max)
		return -1;
	if (st->len + len + 1 > st->cap) {
		/* the announced length at once: no doubling past what is needed */
		size_t cap = st->cap ? st->cap : st->expect && st->expect <= max ? st->expect + 1 : 4096;
		char *grown;

		while (cap < st->len + len + 1)
			cap *= 2;
		/* not realloc: the old copy is wiped before it is freed */
		grown = malloc(cap);
		if (!grown)
			return -1;
		if (st->body) {
			memcpy(grown, st->body, st->len);
			OPENSSL_cleanse(st->body, st->cap);
			free(st->body);
		}
		st->body = grown;
		st->cap = cap;
	}
	memcpy(st->body + st->len, data, len);
	st->len += len;
	st->body[st->len] = '\0';
	return 0;
}

/* The first call for a request: who asks, and whether the request's framing
 * is sound. Returns MHD_YES to go on (or with an answer queued). */
static enum MHD_Result request_start(struct kysod *d, struct MHD_Connection *conn,
				     struct kyso_conn *k, const char *url, const char *method,
				     struct req_state *st)
{
	const char *clen, *why;
	struct kyso_reply rep = { 0 };
	enum MHD_Result ret;

	if (k && k->peer.tcp && browser_gate(d, conn, &k->peer, url, method, &rep)) {
		/* a preflight's answer keeps the connection; a refusal closes it */
		st->refused = 1;
		ret = queue_reply(conn, &rep, !rep.empty);
		kyso_reply_clear(&rep);
		return ret;
	}
	if (!k || !k->peer.known || k->peer.uid != getuid()) {
		log_warn("refused a connection from uid %d (pid %d)",
			 k ? (int)k->peer.uid : -1, k ? (int)k->peer.pid : -1);
		return refuse(conn, st, KE_FORBIDDEN, "this kyso daemon serves only its own user");
	}
	if (k->bad_target) {
		k->bad_target = 0;
		return refuse(conn, st, KE_HTTP_MALFORMED, "the request target holds %00");
	}
	switch (http_strict_sizes(conn, url)) {
	case 414:
		return refuse(conn, st, KE_URI_TOO_LONG, "the request target is longer than 8 KiB");
	case 431:
		return refuse(conn, st, KE_HEADERS_TOO_LARGE, "the request headers exceed 16 KiB");
	}
	why = http_strict_framing(conn);
	if (why)
		return refuse(conn, st, KE_HTTP_MALFORMED, why);
	st->limit = !strcmp(method, "POST") && !strcmp(url, "/v1/sign/batch") ?
		    d->cfg.max_batch_body : d->cfg.max_body;
	clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen && strtoull(clen, NULL, 10) > DROP_LIMIT)
		return refuse(conn, st, KE_BODY_TOO_LARGE, "the request body is too large");
	if (clen)
		st->expect = (size_t)strtoull(clen, NULL, 10);
	/* over the limit, but not past what is read and dropped: read to its
	 * end like a chunked one, so that a client still sending gets its 413
	 * rather than a connection reset under it */
	if (st->expect > st->limit)
		st->too_large = 1;
	return MHD_YES;
}

/* A part of the body. Bodies over CONNS_LARGE_BODY are received a few at a
 * time, so that peak memory stays bounded however many arrive at once. */
static enum MHD_Result request_data(struct kysod *d, struct MHD_Connection *conn,
				    struct kyso_conn *k, const char *data, size_t *size,
				    struct req_state *st)
{
	size_t want = st->expect > st->len + *size ? st->expect : st->len + *size;

	if (!st->too_large && want <= st->limit && want > CONNS_LARGE_BODY && !k->large &&
	    conns_large_take(d->conns, k)) {
		*size = 0;
		return refuse(conn, st, KE_SERVER_BUSY,
			      "too many large request bodies are being received; retry shortly");
	}
	if (!st->too_large && append_body(st, data, *size, st->limit))
		st->too_large = 1;
	if (st->too_large) {
		st->dropped += *size;
		if (st->dropped > DROP_LIMIT) {
			*size = 0;
			return refuse(conn, st, KE_BODY_TOO_LARGE, "the request body is too large");
		}
	}
	*size = 0;
	return MHD_YES;
}

/* Called by a handler once it no longer needs the body (a batch, after
 * parsing it): the memory and the large-body slot are given back early. */
static void body_done(const struct kysod_request *req)
{
	struct req_state *st = req->server_ctx;

	if (st->body) {
		OPENSSL_cleanse(st->body, st->cap);
		free(st->body);
	}
	st->body = NULL;
	st->len = st->cap = 0;
	if (st->conn)
		conns_large_give(req->d->conns, st->conn);
}

/* req->after: keeps fn and ctx (now the request's) for completed(). */
static void keep_after(const struct kysod_request *req, kysod_after_fn fn, void *ctx)
{
	struct req_state *st = req->server_ctx;

	/* one per request: an earlier one runs now, so that each runs once */
	if (st->after)
		st->after(req->d, st->after_ctx);
	st->after = fn;
	st->after_ctx = ctx;
}

/* The work a handler left for after its answer: libmicrohttpd calls
 * completed() once the answer is sent, or when the request ended otherwise
 * (the client went away, the answer failed, the server stops). */
static void run_after(struct kysod *d, struct req_state *st)
{
	kysod_after_fn fn = st->after;

	if (!fn)
		return;
	st->after = NULL;
	fn(d, st->after_ctx);
	st->after_ctx = NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct kysod *d = cls;
	struct req_state *st = *req_cls;
	const union MHD_ConnectionInfo *ci;
	struct kyso_conn *k;
	struct kysod_request req = { 0 };
	struct kyso_reply rep = { 0 };
	enum MHD_Result ret;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	k = ci ? ci->socket_context : NULL;

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		*req_cls = st;
		st->conn = k;
		st->in_flight = 1;
		__atomic_add_fetch(&d->requests, 1, __ATOMIC_ACQ_REL);
		return request_start(d, conn, k, url, method, st);
	}
	if (st->refused) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size)
		return request_data(d, conn, k, upload_data, upload_data_size, st);
	/* the request is complete: no deadline while it is answered */
	conns_busy(d->conns, k, 1);
	if (st->too_large) {
		kyso_reply_error(&rep, KE_BODY_TOO_LARGE, "the request body is over %zu bytes",
				 st->limit);
		ret = queue_reply(conn, &rep, 0);
		kyso_reply_clear(&rep);
		return ret;
	}

	/* the caller accepted is still the one asking */
	kyso_peer_recheck(&k->peer);
	if (k->peer.changed)
		log_warn("pid %d, accepted as %s: its identity changed (%s)", (int)k->peer.pid,
			 k->peer.exe, k->peer.what_changed);
	req.d = d;
	req.method = method;
	req.path = url;
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	req.query_token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
	req.last_event_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	req.body = st->body ? st->body : "";
	req.body_len = st->len;
	req.peer = &k->peer;
	req.body_done = body_done;
	req.after = keep_after;
	req.server_ctx = st;
	kyso_route(&req, &rep);
	log_debug("%s %s from pid %d: %u", method, url, (int)k->peer.pid, rep.status);
	if (rep.sse) {
		/* a stream lasts until events close: stopping does not wait for it */
		st->in_flight = 0;
		__atomic_sub_fetch(&d->requests, 1, __ATOMIC_ACQ_REL);
		ret = queue_stream(d, conn, rep.sse_cursor);
	} else {
		ret = queue_reply(conn, &rep, 0);
	}
	kyso_reply_clear(&rep);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct kysod *d = cls;
	struct req_state *st = *req_cls;

	if (!st)
		return;
	/* before the request stops counting: a stopping kysod waits for it */
	run_after(d, st);
	if (st->in_flight)
		__atomic_sub_fetch(&d->requests, 1, __ATOMIC_ACQ_REL);
	if (st->body) {
		OPENSSL_cleanse(st->body, st->cap);
		free(st->body);
	}
	if (st->conn) {
		conns_large_give(d->conns, st->conn);
		/* the deadline for the next request on this connection starts */
		conns_busy(d->conns, st->conn, 0);
	}
	free(st);
	*req_cls = NULL;
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
			     enum MHD_ConnectionNotificationCode toe)
{
	struct kysod *d = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*socket_context)
			conns_closed(d->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	*socket_context = ci ? conns_claim(d->conns, ci->connect_fd) : NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
}

/* Makes the socket's directory, ours with mode 0700, or checks that the one
 * already there is: the modes of a directory kysod did not make are never
 * changed (it could be a home directory, or /tmp when run as root). */
static int prepare_dir(const char *sock, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		snprintf(err, errlen, "%s: the socket must be in a directory of its own", sock);
		return -1;
	}
	*slash = '\0';
	if (!mkdir(dir, 0700))
		return 0;
	if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != getuid() || (sb.st_mode & 07777) != 0700) {
		snprintf(err, errlen,
			 "%s: the socket's directory must be a directory of yours with mode 0700 "
			 "(it is %s, owner uid %u, mode %04o); kysod changes no directory it did "
			 "not create: fix it, or name a new one in socket =",
			 dir, S_ISDIR(sb.st_mode) ? "a directory" :
			 S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a directory",
			 (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int open_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	/* A socket that answers belongs to a running kysod; a dead one is removed. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "%s: another kysod is already serving there", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) || listen(fd, LISTEN_BACKLOG)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* The socket a service manager passed (kysod.socket): served as it is, never
 * unlinked or bound again. kysod's own checks of its directory and modes
 * become warnings, since the unit decides them (SocketMode=, DirectoryMode=);
 * the peer uid check still refuses other users. */
static int adopt_socket(struct kysod *d, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat sb;

	log_info("using the socket passed by the service manager");
	if (strcmp(d->cfg.socket_path, d->passed_path)) {
		log_warn("the socket passed by the service manager is %s, not %s as configured: "
			 "serving on %s", d->passed_path, d->cfg.socket_path, d->passed_path);
		free(d->cfg.socket_path);
		d->cfg.socket_path = strdup(d->passed_path);
		if (!d->cfg.socket_path) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (!lstat(d->cfg.socket_path, &sb) && (sb.st_mode & 0077))
		log_warn("%s has mode %04o: set SocketMode=0600 in the socket unit",
			 d->cfg.socket_path, (unsigned)(sb.st_mode & 07777));
	snprintf(dir, sizeof(dir), "%s", d->cfg.socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (!lstat(dir, &sb) && (sb.st_mode & 0077))
			log_warn("%s has mode %04o: set DirectoryMode=0700 in the socket unit", dir,
				 (unsigned)(sb.st_mode & 07777));
	}
	return 0;
}

int kysod_server_start(struct kysod *d, char *err, size_t errlen)
{
	if (d->socket_passed ? adopt_socket(d, err, errlen) :
	    prepare_dir(d->cfg.socket_path, err, errlen))
		return -1;
	/* Large bodies and their parts are mapped and unmapped, never kept in
	 * malloc's arenas: glibc would otherwise raise its threshold after the
	 * first one is freed and keep up to one body per arena (one per thread
	 * at the worst), past the bound on peak memory the docs state. */
	mallopt(M_MMAP_THRESHOLD, (int)CONNS_LARGE_BODY);
	d->conns = calloc(1, sizeof(*d->conns));
	if (!d->conns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!d->socket_passed)
		d->listen_fd = open_socket(d->cfg.socket_path, err, errlen);
	if (d->listen_fd < 0)
		goto fail;
	if (listen_tcp_start(d))
		goto fail_socket;
	/* kysod accepts the connections itself (conns.c), to know the caller
	 * before a thread is spent on it */
	d->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				  MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
				  0, NULL, NULL, handle, d,
				  MHD_OPTION_NOTIFY_CONNECTION, connection_event, d,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, d,
				  MHD_OPTION_UNESCAPE_CALLBACK, http_strict_unescape, d,
				  /* conns.c keeps to CONNS_MAX; the margin covers
				   * connections closed but not yet reaped */
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNS_MAX + 32,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
				  /* room for heads up to kysod's own bounds, which
				   * answer in JSON (http-strict.h) */
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL_SIZE,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, d,
				  MHD_OPTION_END);
	if (!d->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server");
		goto fail_socket;
	}
	if (conns_start(d->conns, d->listen_fd, d->tcp_fds, d->n_tcp, d->mhd)) {
		snprintf(err, errlen, "cannot start accepting connections");
		MHD_stop_daemon(d->mhd);
		d->mhd = NULL;
		goto fail_socket;
	}
	log_info("serving on %s", d->cfg.socket_path);
	return 0;
fail_socket:
	listen_tcp_stop(d);
	close(d->listen_fd);
	d->listen_fd = -1;
	if (!d->socket_passed)
		unlink(d->cfg.socket_path);
fail:
	free(d->conns);
	d->conns = NULL;
	return -1;
}

void kysod_server_stop(struct kysod *d)
{
	unsigned int waited;

	events_close(&d->events);
	/* Requests in flight are ending (kysod_stopping() is set): let their
	 * answers go out before the connections are closed. */
	for (waited = 0; waited < STOP_DRAIN_MS &&
	     __atomic_load_n(&d->requests, __ATOMIC_ACQUIRE) > 0; waited += 20)
		usleep(20000);
	if (waited >= STOP_DRAIN_MS)
		log_warn("stopping with %d request(s) still unanswered",
			 __atomic_load_n(&d->requests, __ATOMIC_ACQUIRE));
	if (d->conns)
		conns_stop(d->conns);
	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
	if (d->conns) {
		conns_free(d->conns);
		free(d->conns);
		d->conns = NULL;
	}
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	d->listen_fd = -1;
	listen_tcp_stop(d);
	/* a passed socket stays: the service manager listens on it and starts
	 * kysod again on the next connection */
	if (!d->socket_passed)
		unlink(d->cfg.socket_path);
}
