/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/sign bodies: parsing and validation, before anything touches a token. */
#ifndef KYSOD_SIGN_REQUEST_H
#define KYSOD_SIGN_REQUEST_H
#include <stddef.h>

#include "kysod/reply.h"

/*
 * kysod's own names for what a request asks: not libkyso's (kyso.h), whose
 * enums of the same ideas have other values.
 */
enum kysod_hash_alg {
	HASH_SHA256,
	HASH_SHA384,
	HASH_SHA512,
};

enum kysod_padding {
	PAD_DEFAULT,	/* pkcs1 for RSA, none for EC */
	PAD_PKCS1,
	PAD_PSS,
};

enum kysod_format {
	FORMAT_RAW,	/* the bare signature */
	FORMAT_CMS,	/* a detached CMS SignedData (CAdES-BES, CAdES-T with a timestamp) */
};

enum kysod_profile {
	PROFILE_CADES,	/* CAdES-BES: signingTime among the signed attributes */
	PROFILE_PADES,	/* PAdES baseline: no signingTime (the PDF's /M holds the time) */
};

struct sign_request {
	char certificate[65];		/* lowercase hex SHA-256 */
	unsigned char hash[64];
	size_t hash_len;
	enum kysod_hash_alg hash_alg;
	enum kysod_padding padding;
	enum kysod_format format;
	int timestamp;			/* add an RFC 3161 timestamp (cms only) */
	enum kysod_profile profile;	/* cms only */
	int validation_data;		/* answer the chain and the revocation data used */
};

/* Parses body (len bytes). Returns 0, or -1 with an error set in err. */
int sign_request_parse(const char *body, size_t len, struct sign_request *req,
		       struct kyso_reply *err);

/* "sha256", "sha384", "sha512". */
const char *hash_alg_name(enum kysod_hash_alg alg);
size_t hash_alg_len(enum kysod_hash_alg alg);

/* Parses a JSON object body for routes that take one; NULL with err set if not. */
json_t *parse_object(const char *body, size_t len, struct kyso_reply *err);

#endif
