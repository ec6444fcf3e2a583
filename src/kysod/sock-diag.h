/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One round trip to the kernel's sock_diag netlink interface: who holds a
 * socket, what its other end is. */
#ifndef KYSOD_SOCK_DIAG_H
#define KYSOD_SOCK_DIAG_H
#include <stddef.h>

/* Sends one SOCK_DIAG_BY_FAMILY request, req (req_len bytes: the family's
 * request structure, without the netlink header), and receives the answer
 * into buf (buflen bytes). Returns the answer's payload, at least min bytes
 * (the family's message structure; *payload_len its length with the
 * attributes after it), or NULL: no answer, an error, a short one. */
void *sock_diag_ask(const void *req, size_t req_len, void *buf, size_t buflen, size_t min,
		    size_t *payload_len);

#endif
