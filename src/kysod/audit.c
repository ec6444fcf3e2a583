/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "common/log.h"
#include "kysod/audit.h"

#define MAX_LINE (64 * 1024)
/* fdatasync calls running at once (audit_wait). */
#define SYNCS_MAX 2

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetched once: OpenSSL 3 looks a digest up again at every EVP_sha256() use. */
static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void sha256(const char *data, size_t len, unsigned char *out)
{
	unsigned int n = 32;

	pthread_once(&sha256_once, sha256_fetch);
	EVP_Digest(data, len, out, &n, sha256_md ? sha256_md : EVP_sha256(), NULL);
}

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) && errno != EEXIST ? -1 : 0;
}

/* A last line without its newline is what a write cut short by a full disk
 * or a crash leaves. It is cut off (the file ends at its last whole line);
 * *torn receives its length and SHA-256, for the entry that records the
 * repair. Returns 0, or -1 when the file cannot be read or cut. */
static int cut_torn_tail(struct audit *a, size_t *torn, unsigned char *torn_hash)
{
	struct stat sb;
	char *buf = NULL;
	size_t len, keep;
	off_t start;
	int ret = -1;

	*torn = 0;
	if (fstat(a->fd, &sb))
		return -1;
	if (sb.st_size == 0)
		return 0;
	len = sb.st_size > MAX_LINE ? MAX_LINE : (size_t)sb.st_size;
	start = sb.st_size - (off_t)len;
	buf = malloc(len);
	if (!buf || pread(a->fd, buf, len, start) != (ssize_t)len)
		goto out;
	if (buf[len - 1] == '\n') {
		ret = 0;
		goto out;
	}
	for (keep = len; keep > 0 && buf[keep - 1] != '\n'; keep--)
		;
	if (keep == 0 && start > 0)
		goto out;	/* a torn "line" longer than any entry: not ours to cut */
	*torn = len - keep;
	sha256(buf + keep, *torn, torn_hash);
	if (ftruncate(a->fd, start + (off_t)keep) || fsync(a->fd))
		goto out;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* Reads the last line of the open log to continue its chain. */
static int load_tail(struct audit *a)
{
	struct stat sb;
	char *buf = NULL, *line, *end;
	size_t len;
	off_t start;
	json_t *j = NULL;
	int ret = -1;

	if (fstat(a->fd, &sb))
		return -1;
	a->size = (size_t)sb.st_size;
	if (sb.st_size == 0)
		return 1;	/* empty: a new chain */
	len = sb.st_size > MAX_LINE ? MAX_LINE : (size_t)sb.st_size;
	start = sb.st_size - (off_t)len;
	buf = malloc(len + 1);
	if (!buf || pread(a->fd, buf, len, start) != (ssize_t)len)
		goto out;
	buf[len] = '\0';
	if (buf[len - 1] != '\n')
		goto out;	/* a torn last line: refuse to extend it */
	buf[len - 1] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	end = buf + len - 1;
	j = json_loadb(line, (size_t)(end - line), 0, NULL);
	if (!j || !json_is_integer(json_object_get(j, "seq")) ||
	    !json_is_string(json_object_get(j, "chain")))
		goto out;
	snprintf(a->chain, sizeof(a->chain), "%s", json_string_value(json_object_get(j, "chain")));
	a->next_seq = (uint64_t)json_integer_value(json_object_get(j, "seq")) + 1;
	sha256(line, (size_t)(end - line), a->last);
	ret = 0;
out:
	json_decref(j);
	free(buf);
	return ret;
}

static void now_rfc3339(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

/* A line written to the file, waiting to be sent to syslog. */
struct audit_logged {
	struct audit_logged *next;
	char *text;
};

/* Queues text (ownership passes here) for syslog_flush, behind the lines
 * written before it. Called with the lock held. */
static void syslog_queue(struct audit *a, char *text)
{
	struct audit_logged *l = malloc(sizeof(*l));

	if (!l) {
		/* out of memory: sent now, in its place, lock held or not */
		syslog(LOG_INFO, "kyso audit: %s", text);
		free(text);
		return;
	}
	l->next = NULL;
	l->text = text;
	*a->to_syslog_tail = l;
	a->to_syslog_tail = &l->next;
}

/* Takes every line waiting for syslog, oldest first. */
static struct audit_logged *syslog_take(struct audit *a)
{
	struct audit_logged *l;

	pthread_mutex_lock(&a->lock);
	l = a->to_syslog;
	a->to_syslog = NULL;
	a->to_syslog_tail = &a->to_syslog;
	pthread_mutex_unlock(&a->lock);
	return l;
}

/* Sends the lines written so far to syslog, in the order they were written,
 * without the log's lock: syslog() may block (glibc tries its socket again
 * at each call when /dev/log is missing), and writes and syncs go on
 * meanwhile. One thread sends at a time; a line another thread took is sent
 * by it before its lock is given back. */
static void syslog_flush(struct audit *a)
{
	struct audit_logged *l, *next;

	pthread_mutex_lock(&a->syslog_lock);
	for (l = syslog_take(a); l; l = next) {
		next = l->next;
		syslog(LOG_INFO, "kyso audit: %s", l->text);
		free(l->text);
		free(l);
	}
	pthread_mutex_unlock(&a->syslog_lock);
}

/* Writes one line with seq, time, chain and prev added to the entry (the
 * caller frees it), and queues it for syslog_flush, which the caller calls
 * once it has released the lock. Called with the lock held. */
static int write_line(struct audit *a, struct audit_entry *entry)
{
	char prev[65], when[40], *text = NULL;
	size_t len;
	ssize_t n;
	int ret = -1;

	kyso_hex_encode(a->last, 32, prev);
	now_rfc3339(when, sizeof(when));
	audit_entry_add_uint(entry, "seq", a->next_seq);
	audit_entry_add_str(entry, "time", when);
	audit_entry_add_str(entry, "chain", a->chain);
	audit_entry_add_str(entry, "prev", prev);
	if (audit_entry_format(entry, &text, &len) || len + 1 > MAX_LINE)
		goto out;
	/* the newline takes the place of the NUL: one write(2) of the whole
	 * line on an O_APPEND file, so lines never interleave */
	text[len] = '\n';
	n = write(a->fd, text, len + 1);
	text[len] = '\0';
	if (n != (ssize_t)(len + 1)) {
		log_error("audit log %s: %s", a->path, n < 0 ? strerror(errno) : "short write");
		a->failed = 1;
		/* a part of the line may be on disk: cut the file back to its last
		 * whole line, so that it still verifies and kysod starts on it */
		if (n > 0 && ftruncate(a->fd, (off_t)a->size))
			log_error("audit log %s: cannot cut the torn line off: %s", a->path,
				  strerror(errno));
		goto out;
	}
	sha256(text, len, a->last);
	a->size += len + 1;
	a->written = a->next_seq++;
	syslog_queue(a, text);
	text = NULL;
	ret = 0;
out:
	free(text);
	return ret;
}

static int open_file(struct audit *a, char *err, size_t errlen)
{
	if (mkdir_parents(a->path)) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		return -1;
	}
	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		return -1;
	}
	/* one writer per log: a second kysod would fork the chain */
	if (flock(a->fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "%s: %s", a->path, errno == EWOULDBLOCK ?
			 "another kysod is writing this audit log" : strerror(errno));
		close(a->fd);
		a->fd = -1;
		return -1;
	}
	return 0;
}

/* The first line of a chain or of a rotated file. Called with the lock held. */
static int write_anchor(struct audit *a, const char *rotated_from)
{
	struct audit_entry e;
	int ret;

	audit_entry_init(&e);
	audit_entry_add_str(&e, "event", rotated_from ? "rotated" : "start");
	if (rotated_from)
		audit_entry_add_str(&e, "rotated_from", rotated_from);
	ret = write_line(a, &e);
	audit_entry_free(&e);
	return ret;
}

/* The entry after a torn line was cut off: it continues the chain and says
 * what was removed. Called before serving, without the lock. */
static int write_repaired(struct audit *a, size_t torn, const unsigned char *torn_hash)
{
	struct audit_entry e;
	char hex[65];
	int ret;

	kyso_hex_encode(torn_hash, 32, hex);
	audit_entry_init(&e);
	audit_entry_add_str(&e, "event", "repaired");
	audit_entry_add_uint(&e, "torn_bytes", torn);
	audit_entry_add_str(&e, "torn_sha256", hex);
	ret = write_line(a, &e);
	audit_entry_free(&e);
	return ret ? -1 : fdatasync(a->fd);
}

int audit_open(struct audit *a, const char *path, size_t max_size, char *err, size_t errlen)
{
	unsigned char rnd[16], torn_hash[32];
	size_t torn;
	int rc;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_mutex_init(&a->syslog_lock, NULL);
	a->to_syslog_tail = &a->to_syslog;
	a->max_size = max_size;
	a->path = strdup(path);
	if (!a->path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (open_file(a, err, errlen))
		goto fail;
	if (cut_torn_tail(a, &torn, torn_hash)) {
		snprintf(err, errlen, "%s: its torn last line cannot be cut off: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (torn)
		log_warn("audit log %s: its last line was torn (%zu bytes, a write cut short); "
			 "cut off, and the repair recorded", path, torn);
	rc = load_tail(a);
	if (rc < 0) {
		snprintf(err, errlen, "%s: the last line is not a whole kyso audit entry; "
			 "move the file away to start a new log", path);
		goto fail;
	}
	if (rc == 1) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			snprintf(err, errlen, "no randomness for the audit chain id");
			goto fail;
		}
		kyso_hex_encode(rnd, sizeof(rnd), a->chain);
		memset(a->last, 0, sizeof(a->last));
		a->next_seq = 1;
		if (write_anchor(a, NULL) || fdatasync(a->fd)) {
			snprintf(err, errlen, "%s: cannot write", path);
			goto fail;
		}
	}
	if (torn && write_repaired(a, torn, torn_hash)) {
		snprintf(err, errlen, "%s: cannot write", path);
		goto fail;
	}
	a->durable = a->written = a->next_seq - 1;
	syslog_flush(a);
	log_info("audit log %s, chain %s, next entry %llu", path, a->chain,
		 (unsigned long long)a->next_seq);
	return 0;
fail:
	audit_close(a);
	return -1;
}

void audit_close(struct audit *a)
{
	if (a->fd >= 0) {
		fdatasync(a->fd);
		close(a->fd);
	}
	syslog_flush(a);
	free(a->path);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->syslog_lock);
	a->fd = -1;
	a->path = NULL;
}

/* Moves a full log to PATH.1 (older ones up by one) and starts a new file
 * whose first line continues the chain. Called with the lock held, when no
 * fsync is in progress. */
static void rotate(struct audit *a)
{
	char from[PATH_MAX], to[PATH_MAX], err[256];
	int i;

	if (fdatasync(a->fd))
		return;
	a->durable = a->written;
	for (i = 8; i >= 1; i--) {
		snprintf(from, sizeof(from), i == 1 ? "%s" : "%s.%d", a->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", a->path, i);
		rename(from, to);
	}
	close(a->fd);
	a->size = 0;
	if (open_file(a, err, sizeof(err))) {
		log_error("audit log rotation: %s", err);
		a->failed = 1;
		return;
	}
	snprintf(to, sizeof(to), "%s.1", a->path);
	write_anchor(a, to);
	log_info("audit log rotated to %s", to);
}

int audit_append(struct audit *a, struct audit_entry *entry, uint64_t *seq)
{
	int ret = -1;

	pthread_mutex_lock(&a->lock);
	if (a->failed || a->fd < 0)
		goto out;
	if (a->max_size && a->size >= a->max_size && !a->syncing)
		rotate(a);
	if (a->failed || write_line(a, entry))
		goto out;
	*seq = a->written;
	ret = 0;
out:
	pthread_mutex_unlock(&a->lock);
	syslog_flush(a);
	return ret;
}

void audit_fail(struct audit *a)
{
	pthread_mutex_lock(&a->lock);
	a->failed = 1;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

int audit_wait(struct audit *a, uint64_t seq)
{
	int ret = 0, fd;
	uint64_t target;

	pthread_mutex_lock(&a->lock);
	while (a->durable < seq && !a->failed) {
		/* A running sync that covers the line: wait for it. One that began
		 * before the line was written does not: rather than wait for it to
		 * end and sync after it, sync at once, beside it (two requests in
		 * turn need not pay two syncs each), SYNCS_MAX at most. */
		if (a->syncing && (a->sync_target >= seq || a->syncing >= SYNCS_MAX)) {
			pthread_cond_wait(&a->cond, &a->lock);
			continue;
		}
		/* Become one who syncs, for every line written so far. */
		a->syncing++;
		target = a->written;
		if (target > a->sync_target)
			a->sync_target = target;
		fd = a->fd;
		pthread_mutex_unlock(&a->lock);
		ret = fdatasync(fd);
		pthread_mutex_lock(&a->lock);
		a->syncing--;
		if (ret) {
			log_error("audit log %s: fdatasync: %s", a->path, strerror(errno));
			a->failed = 1;
		} else if (target > a->durable) {
			a->durable = target;
		}
		pthread_cond_broadcast(&a->cond);
	}
	ret = a->durable >= seq ? 0 : -1;
	pthread_mutex_unlock(&a->lock);
	return ret;
}

int audit_usable(struct audit *a)
{
	int ok;

	pthread_mutex_lock(&a->lock);
	ok = !a->failed && a->fd >= 0;
	pthread_mutex_unlock(&a->lock);
	return ok;
}

void audit_id(const struct audit *a, uint64_t seq, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s:%llu", a->chain, (unsigned long long)seq);
}
