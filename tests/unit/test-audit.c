/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log's syslog copy (src/kysod/audit.c): every line is sent once,
 * in the order of the file, and never with the log's lock held. syslog() is
 * replaced here by a function that records what it is given. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kysod/audit.h"

#define THREADS 4
#define PER_THREAD 200
#define SENT_MAX (THREADS * PER_THREAD + 16)

static struct audit *watched;	/* the log whose lock syslog() checks */
static pthread_mutex_t sent_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long sent[SENT_MAX];	/* the seq of each line sent */
static size_t n_sent;
static int locked_sends;	/* lines sent with the log's lock held */

static void record(const char *fmt, va_list ap)
{
	char line[4096];
	const char *seq;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (strncmp(line, "kyso audit: ", 12))
		return;
	/* one thread at a time here: a lock held by another one is no sign */
	if (watched && pthread_mutex_trylock(&watched->lock) == EBUSY)
		__atomic_add_fetch(&locked_sends, 1, __ATOMIC_RELAXED);
	else if (watched)
		pthread_mutex_unlock(&watched->lock);
	seq = strstr(line, "\"seq\":");
	pthread_mutex_lock(&sent_lock);
	if (seq && n_sent < SENT_MAX)
		sent[n_sent++] = strtoull(seq + 6, NULL, 10);
	pthread_mutex_unlock(&sent_lock);
	/* give other writers a chance to come between */
	sched_yield();
}

void syslog(int pri, const char *fmt, ...);
void __syslog_chk(int pri, int flag, const char *fmt, ...);

void syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
}

/* the same, where _FORTIFY_SOURCE turns syslog() into this */
void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
}

struct fixture {
	char dir[64];
	char path[96];
	struct audit a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kyso-test-audit.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	n_sent = 0;
	locked_sends = 0;
	if (audit_open(&f->a, f->path, 0, err, sizeof(err))) {
		fprintf(stderr, "audit_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	watched = NULL;
	audit_close(&f->a);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int append(struct audit *a, unsigned int n, uint64_t *seq)
{
	struct audit_entry e;
	int ret;

	audit_entry_init(&e);
	audit_entry_add_str(&e, "event", "test");
	audit_entry_add_uint(&e, "n", n);
	ret = audit_append(a, &e, seq);
	audit_entry_free(&e);
	return ret;
}

static size_t file_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;
	int c;

	assert_non_null(fp);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

/* The start line and each appended line are sent once, after the lock is
 * given back. */
static void test_sent_without_lock(void **state)
{
	struct fixture *f = *state;
	uint64_t seq;
	unsigned int i;

	assert_int_equal(n_sent, 1);	/* the start line, sent by audit_open */
	assert_int_equal(sent[0], 1);
	watched = &f->a;
	for (i = 0; i < 3; i++) {
		assert_int_equal(append(&f->a, i, &seq), 0);
		assert_int_equal(seq, i + 2);
		assert_int_equal(n_sent, i + 2);
		assert_int_equal(sent[i + 1], seq);
	}
	assert_int_equal(locked_sends, 0);
}

static void *writer(void *arg)
{
	struct audit *a = arg;
	uint64_t seq;
	unsigned int i;

	for (i = 0; i < PER_THREAD; i++)
		if (append(a, i, &seq))
			return (void *)1;
	return NULL;
}

/* Threads appending at once: syslog receives every line once, in the order
 * of the file. */
static void test_order_kept(void **state)
{
	struct fixture *f = *state;
	pthread_t t[THREADS];
	void *failed;
	size_t i;

	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &f->a), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	assert_int_equal(file_lines(f->path), THREADS * PER_THREAD + 1);
	assert_int_equal(n_sent, THREADS * PER_THREAD + 1);
	for (i = 0; i < n_sent; i++)
		if (sent[i] != i + 1)
			fail_msg("syslog line %zu carries seq %llu", i, sent[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_without_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_kept, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
