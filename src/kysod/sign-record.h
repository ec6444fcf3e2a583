/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit entries of one signing attempt: its intent, made durable while
 * the token signs, and its result. */
#ifndef KYSOD_SIGN_RECORD_H
#define KYSOD_SIGN_RECORD_H
#include <stddef.h>
#include <stdint.h>

#include "kysod/audit-entry.h"
#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/sign-flow.h"

struct sign_record {
	const struct kyso_peer *peer;
	const char *certificate;		/* the id asked for */
	const struct sign_target *target;	/* NULL when it was not found */
	enum kysod_hash_alg hash_alg;
	const unsigned char *hash;
	size_t hash_len;
	const char *format;
	const char *batch;			/* NULL outside batches */
	const char *item;
	uint64_t intent;			/* seq of its intent entry; 0 for none */
	const char *result;			/* "ok" or the error code */
};

/* The "caller" field of an audit entry: the program (exe, pid, uid) and, for a
 * web page, its origin. */
void sign_record_caller(struct audit_entry *e, const struct kyso_peer *peer);

/* Appends the "intent" entry: who asks for which signature, written as the
 * token is asked (r->result and r->intent are not used). Returns 0 with
 * *seq set, or -1 when the log failed. */
int sign_intent(struct kysod *d, const struct sign_record *r, uint64_t *seq);

/* Appends the "sign" entry: the attempt and its result, naming its intent
 * entry when it has one. Returns 0 with *seq set, or -1 when the log failed. */
int sign_record(struct kysod *d, const struct sign_record *r, uint64_t *seq);

/* A sign_record with its own copy of all it names, for a "sign" entry
 * written later, off the answer's path. */
struct sign_record_copy;

/* Copies r and what it points to: the caller's identity as it is now, the
 * target, the hash and the strings. Returns the copy, the caller's until it
 * passes it to sign_record_later, or NULL when out of memory. */
struct sign_record_copy *sign_record_keep(const struct sign_record *r);

/* Appends the "sign" entry of copy (a sign_record_copy) and frees it; a
 * kysod_after_fn. A line that cannot be written stops the log (audit_fail):
 * kysod returns no signature until it is restarted. */
void sign_record_later(struct kysod *d, void *copy);

#endif
