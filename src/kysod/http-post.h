/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One HTTP POST to an OCSP responder or a time-stamp authority, one HTTP GET
 * of a CRL from a certificate's CRL distribution point. */
#ifndef KYSOD_HTTP_POST_H
#define KYSOD_HTTP_POST_H
#include <stddef.h>

#define HTTP_POST_MAX_ANSWER (1024 * 1024)

/* POSTs body (len bytes) of content_type to url (http or https only, no
 * redirects) and waits at most timeout seconds. On 200 *answer (malloc'ed,
 * the caller frees it) holds the body, at most HTTP_POST_MAX_ANSWER bytes,
 * and 0 is returned; else -1 with the reason in err. */
int http_post(const char *url, const char *content_type, const unsigned char *body, size_t len,
	      unsigned int timeout, unsigned char **answer, size_t *answer_len, char *err,
	      size_t errlen);

/* GETs url (http or https only, no redirects), waiting at most timeout
 * seconds. On 200 *answer (malloc'ed, the caller frees it) holds the body, at
 * most max bytes, and 0 is returned; else -1 with the reason in err. */
int http_get(const char *url, unsigned int timeout, size_t max, unsigned char **answer,
	     size_t *answer_len, char *err, size_t errlen);

#endif
