/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What libmicrohttpd lets through and RFC 9112 does not: a request target
 * that decodes to a NUL, conflicting Content-Length headers, Content-Length
 * beside Transfer-Encoding. Such requests are refused with 400
 * http_malformed before anything is routed. */
#ifndef KYSOD_HTTP_STRICT_H
#define KYSOD_HTTP_STRICT_H
#include <stddef.h>
#include <microhttpd.h>

/* MHD_OPTION_UNESCAPE_CALLBACK: decodes %HH as libmicrohttpd does, and marks
 * the connection (its struct kyso_conn) when a %00 is met. */
size_t http_strict_unescape(void *cls, struct MHD_Connection *conn, char *s);

/* kysod's own bounds on a request's head, inside the memory libmicrohttpd is
 * given per connection (HTTP_POOL_SIZE): a request over them is answered with
 * a JSON error; only a head past the pool itself gets the library's short
 * non-JSON answer. The pool is cleared for every request (a memset of all of
 * it), so it is kept at twice the header bound: at 256 KiB that clearing was
 * most of kysod's work per signature (bench/notes.md). */
#define HTTP_URI_MAX (8 * 1024)
#define HTTP_HEADERS_MAX (16 * 1024)
#define HTTP_POOL_SIZE (32 * 1024)

/* Checks the lengths of the request target (url and its query) and of the
 * header block. Returns 0 when within bounds, else 414 or 431. */
int http_strict_sizes(struct MHD_Connection *conn, const char *url);

/* Checks the framing headers of the request on conn. Returns NULL when they
 * are sound, else why not. */
const char *http_strict_framing(struct MHD_Connection *conn);

#endif
