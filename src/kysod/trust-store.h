/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configured trust material: the CA bundle (roots and intermediates, a
 * file or a directory) and the CRL files, read when first needed and read
 * again whenever one of the files changes (a CRL is replaced every few days). */
#ifndef KYSOD_TRUST_STORE_H
#define KYSOD_TRUST_STORE_H
#include <openssl/x509.h>

#include "kysod/config.h"

struct trust {
	X509_STORE *store;		/* every certificate of the bundle; NULL without ca_bundle */
	STACK_OF(X509) *certs;		/* the same certificates */
	STACK_OF(X509_CRL) *crls;	/* may be empty */
	char error[256];		/* why the bundle cannot be used, or "" */
	char crl_error[256];		/* why a CRL file cannot be used, or "" */
	/* private */
	unsigned long long stamp;
	int refs;
};

/* The trust material for cfg: a reference for trust_put(), NULL when out of
 * memory. Safe from any thread. */
struct trust *trust_get(const struct kysod_config *cfg);
void trust_put(struct trust *t);

/* Certificates from a PEM (one or more) or DER file, appended to out. Returns
 * how many were read, or -1 when the file cannot be read. */
int trust_read_certs(const char *path, STACK_OF(X509) *out);

#endif
