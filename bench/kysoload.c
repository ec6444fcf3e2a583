/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysoload: a load generator for kysod's API over its Unix socket, written on plain
 * sockets with persistent HTTP/1.1 connections (one per client thread).
 *
 *   kysoload sign    --socket S --cert ID [--clients N] [--seconds S] [--warmup S] [--count N]
 *                    [--cpu-of PID]...
 *        POST /v1/sign from N clients. Prints:
 *          sigs=N seconds=S rate=R p50_us=X p99_us=Y self_cpu_us=C other_cpu_us=D
 *        (CPU time per signature in the measured window: this program's, and that of the
 *        processes given with --cpu-of, e.g. kysod and its helper).
 *        With --count: exactly N signatures, untimed (split over the clients). With one
 *        client and --groups G, G groups of N on one connection, waiting for a line on
 *        stdin before each group after the first, so another program can look at the
 *        daemon between groups.
 *   kysoload batch   --socket S --cert ID --items N [--runs R]
 *        POST /v1/sign/batch with N items, R times. Prints one line per run:
 *        items=N seconds=S rate=R signed=N
 *   kysoload startup --socket S --cert ID --log FILE -- KYSOD ARGS...
 *        starts kysod and prints: pid=P first_answer_ms=X first_sign_ms=Y
 *        (the first answered GET /v1/status, the first signature); kysod keeps running.
 *   kysoload events  --socket S
 *        prints "REALTIME_SECONDS EVENT" for every event of GET /v1/events, until killed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"
#include "procstat.h"

#define MAX_CLIENTS 256

struct conn {
	int fd;
	char *buf;		/* bytes read and not yet consumed */
	size_t len, cap;
};

struct response {
	int status;
	char *body;		/* NUL-terminated, owned */
	size_t body_len;
};

struct client {
	int index;
	struct lat lat;
	unsigned long done;
	int failed;
	pthread_t thread;
};

static const char *sock_path;
static struct procstat others;
static const char *cert_id;
static atomic_int phase;		/* 0 warm-up, 1 measuring, 2 stop */
static pthread_barrier_t start_barrier;

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "kysoload: out of memory\n");
		exit(1);
	}
	return p;
}

static void b64(const unsigned char *in, size_t len, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char *o = out;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tbl[in[i] >> 2];
		*o++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = tbl[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = tbl[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = tbl[(in[i + 1] & 15) << 2];
		} else {
			*o++ = tbl[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
}

/* A digest that differs per call (kysod does not care what it signs). */
static void make_hash(unsigned int seed, unsigned long n, char *out_b64)
{
	unsigned char h[32];
	int i;

	for (i = 0; i < 32; i++)
		h[i] = (unsigned char)(0xa5 ^ i ^ seed ^ (n >> ((i % 8) * 8)));
	b64(h, sizeof(h), out_b64);
}

static int conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more bytes into c->buf. Returns 0, or -1 on EOF or error. */
static int fill(struct conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 131072;
		c->buf = xrealloc(c->buf, c->cap);
	}
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return 0;
}

/* One request, one answer, on a kept-alive connection. */
static int request(struct conn *c, const char *method, const char *path, const char *body,
		   size_t body_len, struct response *r)
{
	char head[512], *end, *cl;
	size_t head_len, need;
	int n;

	memset(r, 0, sizeof(*r));
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\n%s"
		     "Content-Length: %zu\r\n\r\n", method, path,
		     body ? "Content-Type: application/json\r\n" : "", body ? body_len : 0);
	if (write_all(c->fd, head, (size_t)n) || (body && write_all(c->fd, body, body_len)))
		return -1;
	while (!(c->buf && (end = strstr(c->buf, "\r\n\r\n"))))
		if (fill(c))
			return -1;
	head_len = (size_t)(end - c->buf) + 4;
	if (sscanf(c->buf, "HTTP/1.%*c %d", &r->status) != 1)
		return -1;
	cl = NULL;
	for (char *p = c->buf; p && p < end; p = strstr(p, "\r\n")) {
		p += p == c->buf ? 0 : 2;
		if (!strncasecmp(p, "Content-Length:", 15)) {
			cl = p + 15;
			break;
		}
	}
	if (!cl)
		return -1;	/* kysod always sends a length for JSON answers */
	r->body_len = strtoul(cl, NULL, 10);
	need = head_len + r->body_len;
	while (c->len < need)
		if (fill(c))
			return -1;
	r->body = xrealloc(NULL, r->body_len + 1);
	memcpy(r->body, c->buf + head_len, r->body_len);
	r->body[r->body_len] = '\0';
	memmove(c->buf, c->buf + need, c->len - need);
	c->len -= need;
	c->buf[c->len] = '\0';
	return 0;
}

static int sign_request(struct conn *c, unsigned int seed, unsigned long n, int quiet)
{
	char body[256], hash[64];
	struct response r;
	int len, ok;

	make_hash(seed, n, hash);
	len = snprintf(body, sizeof(body),
		       "{\"certificate\":\"%s\",\"hash\":\"%s\",\"hash_algorithm\":\"sha256\"}",
		       cert_id, hash);
	if (request(c, "POST", "/v1/sign", body, (size_t)len, &r))
		return -1;
	ok = r.status == 200 && strstr(r.body, "\"signature\"");
	if (!ok && !quiet)
		fprintf(stderr, "kysoload: POST /v1/sign: %d %s\n", r.status, r.body);
	free(r.body);
	return ok ? 0 : -1;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	struct conn c;
	unsigned long n = 0;
	double t0, t1;

	if (conn_open(&c)) {
		fprintf(stderr, "kysoload: cannot connect to %s: %s\n", sock_path, strerror(errno));
		cl->failed = 1;
	}
	pthread_barrier_wait(&start_barrier);
	while (!cl->failed && atomic_load(&phase) < 2) {
		int measuring = atomic_load(&phase) == 1;

		t0 = mono_s();
		if (sign_request(&c, (unsigned int)cl->index, n++, 0)) {
			cl->failed = 1;
			break;
		}
		t1 = mono_s();
		if (measuring) {
			lat_add(&cl->lat, (t1 - t0) * 1e6);
			cl->done++;
		}
	}
	conn_close(&c);
	return NULL;
}

static int run_sign(int clients, double seconds, double warmup)
{
	struct client *cls = calloc((size_t)clients, sizeof(*cls));
	struct lat all = { 0 };
	unsigned long total = 0;
	double t0, t1, self0, self1, other0, other1;
	int i, failed = 0;

	pthread_barrier_init(&start_barrier, NULL, (unsigned)clients + 1);
	for (i = 0; i < clients; i++) {
		cls[i].index = i;
		if (pthread_create(&cls[i].thread, NULL, client_main, &cls[i]))
			return 1;
	}
	pthread_barrier_wait(&start_barrier);
	t0 = mono_s();
	while (mono_s() - t0 < warmup)
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	self0 = procstat_self();
	other0 = procstat_total(&others);
	t0 = mono_s();
	atomic_store(&phase, 1);
	while (mono_s() - t0 < seconds)
		nanosleep(&(struct timespec){ 0, 5000000L }, NULL);
	atomic_store(&phase, 2);
	t1 = mono_s();
	self1 = procstat_self();
	other1 = procstat_total(&others);
	for (i = 0; i < clients; i++) {
		pthread_join(cls[i].thread, NULL);
		failed |= cls[i].failed;
		total += cls[i].done;
		lat_merge(&all, &cls[i].lat);
	}
	free(cls);
	if (failed || !all.n)
		return 1;
	lat_report(&all, total, t1 - t0, self1 - self0, other1 - other0);
	free(all.v);
	return 0;
}

/* --count mode: groups of exactly N signatures on one connection; before each group
 * after the first, waits for a line on stdin; prints "done N" after each group. */
static int run_count(unsigned long count, int groups)
{
	struct conn c;
	unsigned long n = 0, k;
	char line[64];
	int g;

	if (conn_open(&c)) {
		fprintf(stderr, "kysoload: cannot connect to %s\n", sock_path);
		return 1;
	}
	for (g = 0; g < groups; g++) {
		if (g > 0 && !fgets(line, sizeof(line), stdin))
			break;
		for (k = 0; k < count; k++)
			if (sign_request(&c, 0, n++, 0))
				return 1;
		printf("done %lu\n", k);
		fflush(stdout);
	}
	conn_close(&c);
	return 0;
}

struct count_client {
	int index;
	unsigned long count;
	int failed;
	pthread_t thread;
};

static void *count_main(void *arg)
{
	struct count_client *cc = arg;
	struct conn c;
	unsigned long k;

	if (conn_open(&c)) {
		cc->failed = 1;
		return NULL;
	}
	for (k = 0; k < cc->count; k++)
		if (sign_request(&c, (unsigned int)cc->index + 100, k, 0)) {
			cc->failed = 1;
			break;
		}
	conn_close(&c);
	return NULL;
}

/* --count with several clients: COUNT signatures split over them, untimed. */
static int run_count_clients(unsigned long count, int clients)
{
	struct count_client *cc = calloc((size_t)clients, sizeof(*cc));
	int i, failed = 0;

	for (i = 0; i < clients; i++) {
		cc[i].index = i;
		cc[i].count = count / (unsigned long)clients + ((unsigned long)i < count % (unsigned long)clients);
		if (pthread_create(&cc[i].thread, NULL, count_main, &cc[i]))
			return 1;
	}
	for (i = 0; i < clients; i++) {
		pthread_join(cc[i].thread, NULL);
		failed |= cc[i].failed;
	}
	free(cc);
	printf("done %lu\n", count);
	return failed;
}

static int run_batch(unsigned long items, int runs)
{
	size_t cap = 256 + items * 96, len;
	char *body = xrealloc(NULL, cap), hash[64];
	struct response r;
	struct conn c;
	unsigned long i;
	double t0, t1;
	int run;

	if (conn_open(&c)) {
		fprintf(stderr, "kysoload: cannot connect to %s\n", sock_path);
		return 1;
	}
	for (run = 0; run < runs; run++) {
		len = (size_t)snprintf(body, cap, "{\"certificate\":\"%s\",\"hash_algorithm\":\"sha256\","
				       "\"description\":\"benchmark\",\"items\":[", cert_id);
		for (i = 0; i < items; i++) {
			make_hash((unsigned int)run, i, hash);
			len += (size_t)snprintf(body + len, cap - len, "%s{\"id\":\"r%d-%lu\",\"hash\":\"%s\"}",
						i ? "," : "", run, i, hash);
		}
		len += (size_t)snprintf(body + len, cap - len, "]}");
		t0 = mono_s();
		if (request(&c, "POST", "/v1/sign/batch", body, len, &r)) {
			fprintf(stderr, "kysoload: batch request failed\n");
			return 1;
		}
		t1 = mono_s();
		if (r.status != 200) {
			fprintf(stderr, "kysoload: POST /v1/sign/batch: %d %.300s\n", r.status, r.body);
			free(r.body);
			return 1;
		}
		{
			const char *s = strstr(r.body, "\"signed\":");
			unsigned long nsigned = s ? strtoul(s + 9, NULL, 10) : 0;

			printf("items=%lu seconds=%.3f rate=%.1f signed=%lu\n", items, t1 - t0,
			       (double)items / (t1 - t0), nsigned);
			if (nsigned != items) {
				fprintf(stderr, "kysoload: batch signed %lu of %lu\n", nsigned, items);
				free(r.body);
				return 1;
			}
		}
		fflush(stdout);
		free(r.body);
	}
	conn_close(&c);
	free(body);
	return 0;
}

static int run_startup(const char *log, char **argv)
{
	struct response r;
	struct conn c;
	double t0, t_answer = -1, t_sign = -1;
	pid_t pid;
	int fd;

	t0 = mono_s();
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (mono_s() - t0 < 60) {
		if (conn_open(&c) == 0) {
			if (request(&c, "GET", "/v1/status", NULL, 0, &r) == 0 && r.status == 200) {
				free(r.body);
				t_answer = mono_s();
				break;
			}
			conn_close(&c);
		}
		usleep(500);
	}
	if (t_answer < 0) {
		fprintf(stderr, "kysoload: kysod did not answer\n");
		kill(pid, SIGTERM);
		return 1;
	}
	/* the first signature: waits for the helper and the login */
	while (mono_s() - t0 < 60) {
		if (sign_request(&c, 0, 0, 1) == 0) {
			t_sign = mono_s();
			break;
		}
		conn_close(&c);
		usleep(1000);
		if (conn_open(&c))
			break;
	}
	conn_close(&c);
	printf("pid=%d first_answer_ms=%.1f first_sign_ms=%.1f\n", (int)pid, (t_answer - t0) * 1e3,
	       t_sign < 0 ? -1.0 : (t_sign - t0) * 1e3);
	return t_sign < 0;
}

static int run_events(void)
{
	static const char req[] = "GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct conn c;
	char *line, *nl;
	size_t off = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (conn_open(&c) || write_all(c.fd, req, sizeof(req) - 1)) {
		fprintf(stderr, "kysoload: cannot connect to %s\n", sock_path);
		return 1;
	}
	for (;;) {
		if (fill(&c))
			return 0;
		/* chunked framing lines never start with "event: "; scan line by line */
		while ((nl = memchr(c.buf + off, '\n', c.len - off)) != NULL) {
			line = c.buf + off;
			*nl = '\0';
			if (!strncmp(line, "event: ", 7))
				printf("%.6f %s\n", real_s(), line + 7);
			off = (size_t)(nl - c.buf) + 1;
		}
		memmove(c.buf, c.buf + off, c.len - off);
		c.len -= off;
		off = 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "clients", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'C' },
		{ "groups", required_argument, NULL, 'g' },
		{ "items", required_argument, NULL, 'i' },
		{ "runs", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "cpu-of", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode, *log = "/dev/null";
	double seconds = 2, warmup = 0.5;
	unsigned long count = 0, items = 1000;
	int clients = 1, runs = 1, groups = 1, c;

	if (argc < 2) {
		fprintf(stderr, "usage: kysoload sign|batch|startup|events --socket PATH ...\n");
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'c': cert_id = optarg; break;
		case 'n': clients = atoi(optarg); break;
		case 'S': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'C': count = strtoul(optarg, NULL, 10); break;
		case 'g': groups = atoi(optarg); break;
		case 'i': items = strtoul(optarg, NULL, 10); break;
		case 'r': runs = atoi(optarg); break;
		case 'l': log = optarg; break;
		case 'P': procstat_add(&others, atoi(optarg)); break;
		default: return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (!sock_path) {
		fprintf(stderr, "kysoload: --socket is required\n");
		return 2;
	}
	if (strcmp(mode, "events") && !cert_id) {
		fprintf(stderr, "kysoload: --cert is required\n");
		return 2;
	}
	if (!strcmp(mode, "sign")) {
		if (count && clients > 1)
			return run_count_clients(count, clients);
		if (count)
			return run_count(count, groups);
		if (clients < 1 || clients > MAX_CLIENTS)
			return 2;
		return run_sign(clients, seconds, warmup);
	}
	if (!strcmp(mode, "batch"))
		return run_batch(items, runs);
	if (!strcmp(mode, "startup")) {
		if (optind >= argc)
			return 2;
		return run_startup(log, argv + optind);
	}
	if (!strcmp(mode, "events"))
		return run_events();
	fprintf(stderr, "kysoload: unknown mode %s\n", mode);
	return 2;
}
