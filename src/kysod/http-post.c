/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "kysod/curl-lazy.h"
#include "kysod/http-post.h"

struct answer {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t max;
	int too_big;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct answer *a = opaque;
	size_t n = size * nmemb, cap;
	unsigned char *grown;

	if (n > a->max - a->len) {
		a->too_big = 1;
		return 0;
	}
	/* room doubles: a CRL of several MiB comes in many small pieces */
	if (a->len + n + 1 > a->cap) {
		cap = a->cap ? a->cap : 16384;
		while (cap < a->len + n + 1)
			cap *= 2;
		grown = realloc(a->data, cap);
		if (!grown)
			return 0;
		a->data = grown;
		a->cap = cap;
	}
	memcpy(a->data + a->len, data, n);
	a->len += n;
	return n;
}

/* One request to url: a POST of body (content_type, len bytes) when
 * content_type is not NULL, else a GET; at most max bytes taken back. */
static int http_request(const char *url, const char *content_type, const unsigned char *body,
			size_t len, unsigned int timeout, size_t max, unsigned char **answer,
			size_t *answer_len, char *err, size_t errlen)
{
	struct answer a = { .max = max };
	const struct curl_api *cu;
	struct curl_slist *headers = NULL;
	char ctype[128], cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *c = NULL;
	int ret = -1;

	*answer = NULL;
	*answer_len = 0;
	/* libcurl is loaded now, by the first request that needs it */
	cu = curl_api_get(err, errlen);
	if (!cu)
		return -1;
	c = cu->easy_init();
	if (!c) {
		snprintf(err, errlen, "libcurl cannot be initialised");
		goto out;
	}
	if (content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		headers = cu->slist_append(headers, ctype);
		if (!headers) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	cu->easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	cu->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout);
	/* a server that announces more is refused before anything is read */
	cu->easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	if (content_type) {
		cu->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		cu->easy_setopt(c, CURLOPT_POST, 1L);
		cu->easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
		cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	} else {
		cu->easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &a);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	cu->easy_setopt(c, CURLOPT_USERAGENT, "kysod/" PACKAGE_VERSION);
	rc = cu->easy_perform(c);
	if (rc != CURLE_OK) {
		if (a.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(err, errlen, "%s: the answer is larger than %zu bytes", url, max);
		else
			snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr : cu->easy_strerror(rc));
		goto out;
	}
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, errlen, "%s answered HTTP %ld", url, code);
		goto out;
	}
	*answer = a.data;
	*answer_len = a.len;
	a.data = NULL;
	ret = 0;
out:
	free(a.data);
	cu->slist_free_all(headers);
	if (c)
		cu->easy_cleanup(c);
	return ret;
}

int http_post(const char *url, const char *content_type, const unsigned char *body, size_t len,
	      unsigned int timeout, unsigned char **answer, size_t *answer_len, char *err,
	      size_t errlen)
{
	return http_request(url, content_type, body, len, timeout, HTTP_POST_MAX_ANSWER, answer,
			    answer_len, err, errlen);
}

int http_get(const char *url, unsigned int timeout, size_t max, unsigned char **answer,
	     size_t *answer_len, char *err, size_t errlen)
{
	return http_request(url, NULL, NULL, 0, timeout, max, answer, answer_len, err, errlen);
}
