/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a route handler answers: an HTTP status and a JSON body. */
#ifndef KYSOD_REPLY_H
#define KYSOD_REPLY_H
#include <jansson.h>

#include "common/errors.h"

struct kyso_reply {
	unsigned int status;
	json_t *body;		/* owned */
	const char *allow;	/* Allow header for 405, static */
	int sse;		/* answer with the event stream instead of body */
	unsigned long long sse_cursor;	/* the last event the client has seen */
	int empty;		/* answer status with no body at all (a preflight's 204) */
	unsigned int retry_after;	/* seconds, for a Retry-After header; 0 for none */
};

/* Sets a 200 (or status) answer; body is consumed. */
void kyso_reply_ok(struct kyso_reply *rep, unsigned int status, json_t *body);

/* Sets {"error":{"code","message"}} with the error's code and HTTP status;
 * fmt NULL gives the error's default message. */
void kyso_reply_error(struct kyso_reply *rep, enum kyso_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The error of an error reply (internal_error for anything else). */
enum kyso_err kyso_reply_err(const struct kyso_reply *rep);

/* Adds a member to the error object of an error reply; value is consumed. */
void kyso_reply_error_set(struct kyso_reply *rep, const char *key, json_t *value);

void kyso_reply_clear(struct kyso_reply *rep);

#endif
