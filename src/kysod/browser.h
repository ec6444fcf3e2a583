/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests on the loopback listener, from web pages: the checks before a
 * request is routed (Host, the caller's uid, Origin, what a page may not do),
 * CORS preflights, and the headers of every answer. */
#ifndef KYSOD_BROWSER_H
#define KYSOD_BROWSER_H

#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/reply.h"

struct MHD_Connection;
struct MHD_Response;

/* Checks the request on conn (peer: its connection's caller, which gets the
 * request's origin and CORS state). Returns 0 to route it, or 1 with the
 * answer in rep: an error, or a preflight's empty 204. */
int browser_gate(struct kysod *d, struct MHD_Connection *conn, struct kyso_peer *peer,
		 const char *url, const char *method, struct kyso_reply *rep);

/* Adds Vary: Origin to every answer on the loopback listener, and the CORS
 * headers to one for an allowed origin (or the pairing route); nothing for
 * the Unix socket. */
void browser_headers(struct MHD_Response *resp, const struct kyso_peer *peer);

#endif
