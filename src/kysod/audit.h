/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit log: JSON lines of signing attempts (an intent line before the
 * token is asked, then the result), each carrying the SHA-256 of the line
 * before it; a signature is returned only once its intent line is fsynced.
 * Concurrent requests share their fsyncs (group commit). Every line also
 * goes to syslog, in order, sent without the log's lock held. */
#ifndef KYSOD_AUDIT_H
#define KYSOD_AUDIT_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kysod/audit-entry.h"

struct audit_logged;

struct audit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *path;
	int fd;
	size_t max_size;		/* rotate past this many bytes; 0 = never */
	size_t size;
	char chain[33];			/* the random id of the chain's first line */
	unsigned char last[32];		/* SHA-256 of the last line written */
	uint64_t next_seq;		/* seq of the next line */
	uint64_t written;		/* last seq written to the file */
	uint64_t durable;		/* last seq known to be on disk */
	int syncing;			/* fdatasync calls running */
	uint64_t sync_target;		/* the last seq the latest one started covers */
	int failed;			/* writes failed: refuse to sign */
	/* lines written, not yet sent to syslog (oldest first); the list is
	 * under lock, sending them under syslog_lock */
	struct audit_logged *to_syslog, **to_syslog_tail;
	pthread_mutex_t syslog_lock;
};

/* Opens (creating the directory 0700 and the file 0600) or continues the log
 * at path. Returns 0, or -1 with a reason in err. */
int audit_open(struct audit *a, const char *path, size_t max_size, char *err, size_t errlen);
void audit_close(struct audit *a);

/* Appends entry, adding seq, time, chain and prev to it (the caller still
 * frees it), and sends it to syslog once the lock is released. On success
 * sets *seq (for audit_wait) and returns 0; -1 when the log cannot be
 * written. The line is not durable yet. */
int audit_append(struct audit *a, struct audit_entry *entry, uint64_t *seq);

/* Waits until line seq is on disk, sharing one fdatasync with every line
 * appended meanwhile. Returns 0, or -1 when it could not be made durable. */
int audit_wait(struct audit *a, uint64_t seq);

/* Stops the log as a failed write does: no line is written any more, and
 * kysod returns no signature until it is restarted. */
void audit_fail(struct audit *a);

/* Whether lines can still be written (a failed write or fdatasync stops the log). */
int audit_usable(struct audit *a);

/* "CHAIN:SEQ", the id the API returns for an entry. */
void audit_id(const struct audit *a, uint64_t seq, char *out, size_t outlen);

#endif
