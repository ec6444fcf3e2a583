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

/* Checks the framing headers of the request on conn. Returns NULL when they
 * are sound, else why not. */
const char *http_strict_framing(struct MHD_Connection *conn);

#endif
