/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "kysod/batches.h"

void batches_init(struct batches *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
}

void batches_free(struct batches *b)
{
	pthread_mutex_destroy(&b->lock);
}

int batches_add(struct batches *b, struct batch *batch, const char *id, const char *owner)
{
	unsigned char rnd[BATCH_ID_LEN / 2];
	struct batch *p;
	int ret = 0;

	memset(batch, 0, sizeof(*batch));
	snprintf(batch->owner, sizeof(batch->owner), "%s", owner ? owner : "");
	if (id) {
		snprintf(batch->id, sizeof(batch->id), "%s", id);
	} else {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		kyso_hex_encode(rnd, sizeof(rnd), batch->id);
	}
	pthread_mutex_lock(&b->lock);
	for (p = b->head; p; p = p->next)
		if (!strcmp(p->id, batch->id))
			ret = 1;
	if (!ret) {
		batch->next = b->head;
		b->head = batch;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void batches_remove(struct batches *b, struct batch *batch)
{
	struct batch **pp;

	pthread_mutex_lock(&b->lock);
	for (pp = &b->head; *pp; pp = &(*pp)->next)
		if (*pp == batch) {
			*pp = batch->next;
			break;
		}
	pthread_mutex_unlock(&b->lock);
}

int batches_cancel(struct batches *b, const char *id, const char *owner)
{
	struct batch *p;
	int ret = -1;

	pthread_mutex_lock(&b->lock);
	for (p = b->head; p; p = p->next)
		if (!strcmp(p->id, id) && (!owner || !strcmp(p->owner, owner))) {
			p->cancelled = 1;
			ret = 0;
		}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

int batch_cancelled(struct batches *b, struct batch *batch)
{
	int c;

	pthread_mutex_lock(&b->lock);
	c = batch->cancelled;
	pthread_mutex_unlock(&b->lock);
	return c;
}
