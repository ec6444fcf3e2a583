/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Batches being signed, so that they can be cancelled. */
#ifndef KYSOD_BATCHES_H
#define KYSOD_BATCHES_H
#include <pthread.h>

#define BATCH_ID_LEN 32

struct batch {
	char id[BATCH_ID_LEN + 1];
	char owner[256];	/* the web origin that asked; "" for the Unix socket */
	volatile int cancelled;
	struct batch *next;
};

struct batches {
	pthread_mutex_t lock;
	struct batch *head;
};

void batches_init(struct batches *b);
void batches_free(struct batches *b);

/* Registers a new batch under id (the caller's own, at most BATCH_ID_LEN
 * characters), or under a random id when id is NULL, for owner (a web
 * origin, or "" for a caller on the Unix socket). Returns 0, 1 when a running
 * batch has that id already, or -1. */
int batches_add(struct batches *b, struct batch *batch, const char *id, const char *owner);
void batches_remove(struct batches *b, struct batch *batch);

/* Marks batch id cancelled, when owner is its owner or NULL (a caller on the
 * Unix socket may cancel any). Returns 0, or -1 when no such batch runs. */
int batches_cancel(struct batches *b, const char *id, const char *owner);

int batch_cancelled(struct batches *b, struct batch *batch);

#endif
