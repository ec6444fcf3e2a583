/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Detached CMS SignedData (CAdES-BES, and CAdES-T with a timestamp; or the
 * PAdES baseline B-B/B-T profile) over a record hash. OpenSSL builds the structure around the certificate's public
 * key; the token signs the hash of the DER signed attributes. */
#ifndef KYSOD_CMS_SIGN_H
#define KYSOD_CMS_SIGN_H
#include <stddef.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "kysod/sign-request.h"

struct cms_signer {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;		/* owned by cms */
	X509 *signer;			/* a reference of its own */
	const EVP_MD *md;
	unsigned char tbs[64];		/* what the token signs: the hash of the signed attributes */
	size_t tbs_len;
};

/* The SignedData for signer (with chain, the other certificates to include)
 * over the record hash (hash_len bytes of alg), its signed attributes set:
 * contentType, messageDigest, signingCertificateV2, and signingTime for the
 * cades profile (PAdES forbids it: the PDF's /M holds the time). pss: the
 * RSA key signs with RSASSA-PSS (salt = hash length, MGF1 with the same
 * hash). On success s->tbs is ready for the token. Returns 0, or -1 with err. */
int cms_sign_begin(struct cms_signer *s, X509 *signer, STACK_OF(X509) *chain,
		   enum kysod_hash_alg alg, int pss, enum kysod_profile profile,
		   const unsigned char *hash, size_t hash_len, char *err, size_t errlen);

/* Puts the token's signature (over s->tbs) in. Returns 0 or -1. */
int cms_sign_set_signature(struct cms_signer *s, const unsigned char *sig, size_t len);

/* The signature value, for a timestamp. */
const ASN1_OCTET_STRING *cms_sign_signature(const struct cms_signer *s);

/* Adds an RFC 3161 timestamp token (DER ContentInfo) as the
 * signatureTimeStampToken unsigned attribute. Returns 0 or -1. */
int cms_sign_add_timestamp(struct cms_signer *s, const unsigned char *token, size_t len);

/* The DER encoding (*der for OPENSSL_free), read back and checked: the
 * signature over the signed attributes verifies with the certificate and
 * messageDigest is the record hash. Returns 0, or -1 with err. */
int cms_sign_finish(struct cms_signer *s, const unsigned char *hash, size_t hash_len,
		    unsigned char **der, size_t *der_len, char *err, size_t errlen);

void cms_signer_free(struct cms_signer *s);

/* The EVP_MD of a hash algorithm. */
const EVP_MD *cms_md(enum kysod_hash_alg alg);

#endif
