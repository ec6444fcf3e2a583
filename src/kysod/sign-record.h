/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit entry of one signing attempt. */
#ifndef KYSOD_SIGN_RECORD_H
#define KYSOD_SIGN_RECORD_H
#include <stddef.h>
#include <stdint.h>

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
	const char *result;			/* "ok" or the error code */
};

/* Appends the entry. Returns 0 with *seq set, or -1 when the log failed. */
int sign_record(struct kysod *d, const struct sign_record *r, uint64_t *seq);

#endif
