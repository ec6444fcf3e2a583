/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl, loaded the first time kysod makes an HTTP request (a time-stamp,
 * an OCSP answer, a CRL): a kysod that never needs one does not map it, nor
 * the TLS, Kerberos, LDAP and SSH libraries it brings along. */
#ifndef KYSOD_CURL_LAZY_H
#define KYSOD_CURL_LAZY_H
#include <stddef.h>
#include <curl/curl.h>

/* The shared library loaded: libcurl4's, the one kyso is built against. */
#ifndef KYSO_LIBCURL_SONAME
#define KYSO_LIBCURL_SONAME "libcurl.so.4"
#endif

struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* libcurl's functions, the library loaded and initialised (curl_global_init)
 * once, by the first caller. NULL, with the reason in err, when it cannot be
 * loaded; a later call tries again. */
const struct curl_api *curl_api_get(char *err, size_t errlen);

/* Whether libcurl has been loaded (for tests and the footprint). */
int curl_api_loaded(void);

#endif
