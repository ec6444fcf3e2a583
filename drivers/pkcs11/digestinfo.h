/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DigestInfo (RFC 8017, 9.2) for RSA PKCS#1 v1.5 signatures made with CKM_RSA_PKCS,
 * so that a token needs no hash-specific mechanism to sign a hash it is given. */
#ifndef KYSO_DIGESTINFO_H
#define KYSO_DIGESTINFO_H
#include <stddef.h>

/* Encodes DigestInfo { algorithm md_nid with NULL parameters, digest hash }.
 * hash_len must be the digest size of md_nid. On success *der (caller frees
 * with OPENSSL_free) and *der_len are set and 0 is returned; -1 otherwise. */
int kyso_digestinfo(int md_nid, const unsigned char *hash, size_t hash_len,
		    unsigned char **der, size_t *der_len);

#endif
