/* POST /v1/sign bodies: parsing and validation, before anything touches a token. */
#ifndef KYSOD_SIGN_REQUEST_H
#define KYSOD_SIGN_REQUEST_H
#include <stddef.h>

#include "kysod/reply.h"

enum kyso_hash_alg {
	KYSO_HASH_SHA256,
	KYSO_HASH_SHA384,
	KYSO_HASH_SHA512,
};

enum kyso_padding {
	KYSO_PAD_DEFAULT,	/* pkcs1 for RSA, none for EC */
	KYSO_PAD_PKCS1,
	KYSO_PAD_PSS,
};

enum kyso_sign_format {
	KYSO_FORMAT_RAW,	/* the bare signature */
	KYSO_FORMAT_CMS,	/* a detached CMS SignedData (CAdES-BES, CAdES-T with a timestamp) */
};

struct kyso_sign_request {
	char certificate[65];		/* lowercase hex SHA-256 */
	unsigned char hash[64];
	size_t hash_len;
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;
	enum kyso_sign_format format;
	int timestamp;			/* add an RFC 3161 timestamp (cms only) */
};

/* Parses body (len bytes). Returns 0, or -1 with an error set in err. */
int kyso_sign_request_parse(const char *body, size_t len, struct kyso_sign_request *req,
			    struct kyso_reply *err);

/* "sha256", "sha384", "sha512". */
const char *kyso_hash_alg_name(enum kyso_hash_alg alg);
size_t kyso_hash_alg_len(enum kyso_hash_alg alg);

/* Parses a JSON object body for routes that take one; NULL with err set if not. */
json_t *kyso_parse_object(const char *body, size_t len, struct kyso_reply *err);

#endif
