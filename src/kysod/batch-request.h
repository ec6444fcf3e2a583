/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/sign/batch bodies: parsing and validation of every item before
 * anything is asked of the user or the token. */
#ifndef KYSOD_BATCH_REQUEST_H
#define KYSOD_BATCH_REQUEST_H
#include <stddef.h>

#include "kysod/reply.h"
#include "kysod/sign-request.h"

#define BATCH_ITEM_ID_MAX 256
#define BATCH_DESCRIPTION_MAX 300

struct batch_item {
	char *id;			/* the app's own id for the record */
	unsigned char hash[64];
	size_t hash_len;
};

struct batch_request {
	char certificate[65];
	enum kysod_hash_alg hash_alg;
	enum kysod_padding padding;
	char *description;		/* NULL when absent */
	char batch_id[33];		/* the caller's id for the batch; "" for a random one */
	struct batch_item *items;
	size_t nitems;
};

/* Parses body; max_items bounds the item count. Returns 0, or -1 with rep set
 * (and, for an item, "index" naming it). */
int batch_request_parse(const char *body, size_t len, unsigned int max_items,
			struct batch_request *req, struct kyso_reply *rep);

void batch_request_free(struct batch_request *req);

#endif
