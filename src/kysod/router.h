/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Maps a request (method and path) to its handler. */
#ifndef KYSOD_ROUTER_H
#define KYSOD_ROUTER_H
#include <stddef.h>

#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/reply.h"

/* Work a handler leaves for after its answer (kysod_request_after). */
typedef void (*kysod_after_fn)(struct kysod *d, void *ctx);

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
	/* keeps work for after the answer; handlers call kysod_request_after */
	void (*after)(const struct kysod_request *req, kysod_after_fn fn, void *ctx);
	void *server_ctx;	/* the server's own state, for body_done and after */
};

void kyso_route(const struct kysod_request *req, struct kyso_reply *rep);

/* Leaves fn(d, ctx) to run once the request has ended: its answer sent, or
 * the client gone, or the answer failed, or kysod stopping. It runs exactly
 * once, in the connection's thread, before the connection reads its next
 * request and before kysod's stop waits no more for the request; ctx passes
 * to fn, which frees it. One per request: a second call runs the first one's
 * work at once. Without a server to keep it (req->after NULL), fn runs now. */
void kysod_request_after(const struct kysod_request *req, kysod_after_fn fn, void *ctx);

#endif
