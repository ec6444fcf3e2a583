/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "pkcs11/digestinfo.h"

int kyso_digestinfo(int md_nid, const unsigned char *hash, size_t hash_len,
		    unsigned char **der, size_t *der_len)
{
	const EVP_MD *md = EVP_get_digestbynid(md_nid);
	X509_SIG *sig = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *digest = NULL;
	int len, ret = -1;

	*der = NULL;
	if (!md || (size_t)EVP_MD_get_size(md) != hash_len)
		goto out;
	sig = X509_SIG_new();
	if (!sig)
		goto out;
	X509_SIG_getm(sig, &alg, &digest);
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(md_nid), V_ASN1_NULL, NULL) ||
	    !ASN1_OCTET_STRING_set(digest, hash, (int)hash_len))
		goto out;
	len = i2d_X509_SIG(sig, der);
	if (len <= 0)
		goto out;
	*der_len = (size_t)len;
	ret = 0;
out:
	X509_SIG_free(sig);
	return ret;
}
