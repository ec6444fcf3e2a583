/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Maps a request (method and path) to its handler. */
#ifndef KYSOD_ROUTER_H
#define KYSOD_ROUTER_H
#include <stddef.h>

#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/reply.h"

struct kysod_request {
	struct kysod *d;
	const char *method;
	const char *path;
	const char *content_type;	/* NULL when absent */
	const char *query_token;	/* ?token=, NULL when absent */
	const char *last_event_id;	/* Last-Event-ID header, NULL when absent */
	const char *body;
	size_t body_len;
	const struct kyso_peer *peer;
	/* a handler done with the body may call this to free it early; body
	 * is gone afterwards */
	void (*body_done)(const struct kysod_request *req);
	void *body_ctx;
};

void kyso_route(const struct kysod_request *req, struct kyso_reply *rep);

#endif
