/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRLs fetched from the http(s) URIs of a certificate's CRL distribution
 * points, each verified against the issuing CA before use, and kept in memory
 * by URL until their nextUpdate. */
#ifndef KYSOD_CRL_FETCH_H
#define KYSOD_CRL_FETCH_H
#include <time.h>
#include <openssl/x509.h>

/* The largest CRL fetched: a national CA's CRL can be several MiB. */
#define CRL_FETCH_MAX_BYTES (16 * 1024 * 1024)
/* URLs kept in the cache; the one used least recently makes room. */
#define CRL_FETCH_CACHE_MAX 32
/* Distribution point URIs of one certificate that are tried. */
#define CRL_FETCH_MAX_URLS 4
/* A CRL without nextUpdate is reused for this many seconds. */
#define CRL_FETCH_NO_NEXT_UPDATE 3600

struct crl_fetch_result {
	X509_CRL *crl;		/* on success: a reference for the caller */
	int cached;		/* it came from the cache, no request made */
	char message[400];	/* what was fetched, or why nothing can be used */
};

/* The http:// and https:// fullName URIs of x's CRL distribution points (none
 * limited to some reasons, none naming another CRL issuer), at most max of
 * them, each malloc'ed into urls. Returns how many. */
int crl_fetch_urls(X509 *x, char **urls, int max);

/* The CRL at url, issued by issuer: the cached one while its nextUpdate is
 * ahead, else one fetched now (waiting at most timeout seconds) that issuer
 * signed, which then replaces the cached one unless it is older. Returns 0
 * with res->crl set, or -1 with the reason in res->message. Safe from any
 * thread; one thread fetches a URL at a time, the others wait for its
 * outcome. */
int crl_fetch_get(const char *url, X509 *issuer, unsigned int timeout,
		  struct crl_fetch_result *res);

#endif
