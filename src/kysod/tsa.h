/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 3161 timestamps: asking the configured time-stamp authority for a
 * token over a signature value or over a given hash, and checking a token. */
#ifndef KYSOD_TSA_H
#define KYSOD_TSA_H
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>

#include "kysod/config.h"
#include "kysod/trust-store.h"

struct tsa_token_info {
	time_t time;			/* genTime */
	char tsa[256];			/* the signer's subject, RFC 2253, or "" */
	int chain_checked;		/* the TSA certificate chains to the CA bundle */
};

/* Asks cfg->tsa_url for a token over data (hashed with md), then checks it
 * with tsa_check_token. On success *token (OPENSSL_free) holds the DER
 * ContentInfo and 0 is returned; else -1 with err. */
int tsa_timestamp(const struct kysod_config *cfg, struct trust *t, const EVP_MD *md,
		  const unsigned char *data, size_t len, unsigned char **token, size_t *token_len,
		  struct tsa_token_info *info, char *err, size_t errlen);

/* The same over a hash made elsewhere (hash_len bytes, made with md): the
 * imprint is hash itself, as for a PDF's document timestamp. */
int tsa_timestamp_hash(const struct kysod_config *cfg, struct trust *t, const EVP_MD *md,
		       const unsigned char *hash, size_t hash_len, unsigned char **token,
		       size_t *token_len, struct tsa_token_info *info, char *err, size_t errlen);

/* Checks a timestamp token over data: its imprint is the hash of data, its
 * signature verifies with the TSA certificate it carries, and, with a CA
 * bundle in t, that certificate chains to it with the timeStamping usage.
 * Returns 0 with info set, or -1 with err. */
int tsa_check_token(struct trust *t, const unsigned char *token, size_t token_len,
		    const unsigned char *data, size_t len, struct tsa_token_info *info, char *err,
		    size_t errlen);

/* The same over a hash made with md: the token's imprint must be that hash,
 * made with that algorithm. */
int tsa_check_token_hash(struct trust *t, const unsigned char *token, size_t token_len,
			 const EVP_MD *md, const unsigned char *hash, size_t hash_len,
			 struct tsa_token_info *info, char *err, size_t errlen);

#endif
