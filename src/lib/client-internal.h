/*
 * libkyso internals: the client object and the limits of one exchange.
 */
#ifndef KYSO_LIB_CLIENT_INTERNAL_H
#define KYSO_LIB_CLIENT_INTERNAL_H

#include <stddef.h>

#include <curl/curl.h>

#include "kyso/kyso.h"

/* Requests go to this origin over the Unix socket; the host is not used. */
#define KYSO_URL_BASE "http://localhost"

/* Answers larger than this are refused (kysod's are a few KiB). */
#define KYSO_MAX_RESPONSE (16u * 1024u * 1024u)

/* Growing buffer collecting one response body. */
struct kyso_buf {
	char *data;
	size_t len;
	size_t cap;
	int overflow;
};

struct kyso_client {
	char *socket_path;		/* owned */
	CURL *curl;			/* one handle, so the connection is reused */
	long timeout;			/* seconds per request, 0 = none */
	struct kyso_error last_error;
	char curl_errbuf[CURL_ERROR_SIZE];
};

#endif /* KYSO_LIB_CLIENT_INTERNAL_H */
