/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/verify: a raw or CMS signature checked against a record hash,
 * each check reported on its own. */
#ifndef KYSOD_VERIFY_H
#define KYSOD_VERIFY_H
#include <stddef.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "kysod/daemon.h"
#include "kysod/reply.h"
#include "kysod/sign-request.h"

/* Document timestamps a caller sends as proof that a CMS signature existed:
 * an RFC 3161 token and the hash of what it covers. */
#define VERIFY_MAX_POE 8

struct verify_poe {
	unsigned char *token;		/* malloc'ed DER */
	size_t token_len;
	unsigned char hash[64];
	size_t hash_len;
};

struct verify_request {
	enum kysod_format format;
	unsigned char *signature;	/* malloc'ed */
	size_t signature_len;
	unsigned char hash[64];
	size_t hash_len;
	enum kysod_hash_alg hash_alg;
	enum kysod_padding padding;	/* raw RSA only */
	X509 *cert;			/* the signer's certificate when given, else NULL */
	struct verify_poe poe[VERIFY_MAX_POE];	/* cms only */
	size_t n_poe;
	int at_verification_time;	/* no timestamp is used as proof of existence */
};

/* Parses body. Returns 0, or -1 with rep set. */
int verify_request_parse(struct kysod *d, const char *body, size_t len, struct verify_request *r,
			 struct kyso_reply *rep);

void verify_request_free(struct verify_request *r);

/* The answer: {"valid", "format", "algorithm", "signer", "checks":[…], …}; or
 * NULL with rep set when the input cannot be checked at all. */
json_t *verify_signature(struct kysod *d, const struct verify_request *r, struct kyso_reply *rep);

#endif
