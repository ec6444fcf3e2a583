/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "kysod/ossl-util.h"
#include "kysod/cms-sign.h"

/* The signed attributes as they are signed (RFC 5652 5.4): a DER SET OF
 * Attribute, sorted by encoding. */
typedef STACK_OF(X509_ATTRIBUTE) KYSO_SIGNED_ATTRS;

ASN1_ITEM_TEMPLATE(KYSO_SIGNED_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_ORDER, 0, SignedAttributes, X509_ATTRIBUTE)
static_ASN1_ITEM_TEMPLATE_END(KYSO_SIGNED_ATTRS)

const EVP_MD *cms_md(enum kysod_hash_alg alg)
{
	switch (alg) {
	case HASH_SHA384:
		return EVP_sha384();
	case HASH_SHA512:
		return EVP_sha512();
	default:
		return EVP_sha256();
	}
}

/* RSASSA-PSS with the hash for both the message and MGF1, salt = hash length. */
static int set_pss_algorithm(CMS_SignerInfo *si, const EVP_MD *md)
{
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgf1_md = X509_ALGOR_new(), *sigalg = NULL;
	ASN1_STRING *mgf1 = NULL, *params = NULL;
	int ret = 0;

	if (!pss || !mgf1_md)
		goto out;
	pss->hashAlgorithm = X509_ALGOR_new();
	pss->maskGenAlgorithm = X509_ALGOR_new();
	pss->saltLength = ASN1_INTEGER_new();
	if (!pss->hashAlgorithm || !pss->maskGenAlgorithm || !pss->saltLength)
		goto out;
	X509_ALGOR_set_md(pss->hashAlgorithm, md);
	X509_ALGOR_set_md(mgf1_md, md);
	mgf1 = ASN1_item_pack(mgf1_md, ASN1_ITEM_rptr(X509_ALGOR), NULL);
	if (!mgf1 || !X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
				      V_ASN1_SEQUENCE, mgf1))
		goto out;
	mgf1 = NULL;
	if (!ASN1_INTEGER_set(pss->saltLength, EVP_MD_get_size(md)))
		goto out;
	params = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
	if (!params || !sigalg ||
	    !X509_ALGOR_set0(sigalg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params))
		goto out;
	params = NULL;
	ret = 1;
out:
	ASN1_STRING_free(mgf1);
	ASN1_STRING_free(params);
	X509_ALGOR_free(mgf1_md);
	RSA_PSS_PARAMS_free(pss);
	return ret;
}

/* Hashes the DER SET OF the signer info's signed attributes into s->tbs. */
static int hash_signed_attrs(struct cms_signer *s)
{
	KYSO_SIGNED_ATTRS *attrs = sk_X509_ATTRIBUTE_new_null();
	unsigned char *der = NULL;
	unsigned int len = 0;
	int i, n, derlen, ret = 0;

	if (!attrs)
		return 0;
	n = CMS_signed_get_attr_count(s->si);
	for (i = 0; i < n; i++)
		if (!sk_X509_ATTRIBUTE_push(attrs, CMS_signed_get_attr(s->si, i)))
			goto out;
	derlen = ASN1_item_i2d((ASN1_VALUE *)attrs, &der, ASN1_ITEM_rptr(KYSO_SIGNED_ATTRS));
	if (derlen <= 0 || !EVP_Digest(der, (size_t)derlen, s->tbs, &len, s->md, NULL))
		goto out;
	s->tbs_len = len;
	ret = 1;
out:
	OPENSSL_free(der);
	sk_X509_ATTRIBUTE_free(attrs);	/* the attributes belong to the signer info */
	return ret;
}

int cms_sign_begin(struct cms_signer *s, X509 *signer, STACK_OF(X509) *chain,
		   enum kysod_hash_alg alg, int pss, enum kysod_profile profile,
		   const unsigned char *hash, size_t hash_len, char *err, size_t errlen)
{
	const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP |
				   CMS_CADES;
	EVP_PKEY *pub = X509_get0_pubkey(signer);
	ASN1_TIME *now = NULL;
	int i, ret = -1;

	memset(s, 0, sizeof(*s));
	s->md = cms_md(alg);
	if (!pub || !X509_up_ref(signer)) {
		snprintf(err, errlen, "the certificate has no usable public key");
		return -1;
	}
	s->signer = signer;
	s->cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (!s->cms || !CMS_set_detached(s->cms, 1)) {
		ossl_error("the CMS structure cannot be made", err, errlen);
		goto out;
	}
	/* the public key stands in for the private one, which stays on the token;
	 * CMS_CADES adds signingCertificateV2 */
	s->si = CMS_add1_signer(s->cms, signer, pub, s->md, flags);
	if (!s->si) {
		ossl_error("the CMS signer cannot be added", err, errlen);
		goto out;
	}
	if (pss && !set_pss_algorithm(s->si, s->md)) {
		ossl_error("the RSA-PSS parameters cannot be set", err, errlen);
		goto out;
	}
	for (i = 0; i < sk_X509_num(chain); i++) {
		if (CMS_add1_cert(s->cms, sk_X509_value(chain, i)) <= 0) {
			/* the same certificate twice is not an error */
			ERR_clear_error();
		}
	}
	/* PAdES (ETSI EN 319 142-1 5.1): no signingTime; the time is the
	 * signature dictionary's /M */
	if (profile != PROFILE_PADES)
		now = X509_gmtime_adj(NULL, 0);
	if ((profile != PROFILE_PADES && !now) ||
	    CMS_signed_add1_attr_by_NID(s->si, NID_pkcs9_contentType, V_ASN1_OBJECT,
					OBJ_nid2obj(NID_pkcs7_data), -1) <= 0 ||
	    (now && CMS_signed_add1_attr_by_NID(s->si, NID_pkcs9_signingTime, now->type, now,
						-1) <= 0) ||
	    CMS_signed_add1_attr_by_NID(s->si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
					hash, (int)hash_len) <= 0) {
		ossl_error("the signed attributes cannot be set", err, errlen);
		goto out;
	}
	if (!hash_signed_attrs(s)) {
		ossl_error("the signed attributes cannot be encoded", err, errlen);
		goto out;
	}
	ret = 0;
out:
	ASN1_TIME_free(now);
	if (ret)
		cms_signer_free(s);
	return ret;
}

int cms_sign_set_signature(struct cms_signer *s, const unsigned char *sig, size_t len)
{
	ASN1_OCTET_STRING *os = CMS_SignerInfo_get0_signature(s->si);

	return os && ASN1_STRING_set(os, sig, (int)len) ? 0 : -1;
}

const ASN1_OCTET_STRING *cms_sign_signature(const struct cms_signer *s)
{
	return CMS_SignerInfo_get0_signature(s->si);
}

int cms_sign_add_timestamp(struct cms_signer *s, const unsigned char *token, size_t len)
{
	if (CMS_unsigned_add1_attr_by_NID(s->si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
					  token, (int)len) <= 0) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* What a verifier sees: der read back, its one signer checked with s->signer. */
static int check(struct cms_signer *s, const unsigned char *der, size_t der_len,
		 const unsigned char *hash, size_t hash_len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	CMS_ContentInfo *back = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING *md;
	CMS_SignerInfo *si;
	int ret = -1;

	if (!back || p != der + der_len) {
		ossl_error("the CMS signature does not read back", err, errlen);
		goto out;
	}
	sis = CMS_get0_SignerInfos(back);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		snprintf(err, errlen, "the CMS signature does not have one signer");
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if (CMS_SignerInfo_cert_cmp(si, s->signer) != 0) {
		snprintf(err, errlen, "the CMS signer is not the certificate");
		goto out;
	}
	CMS_SignerInfo_set1_signer_cert(si, s->signer);
	if (CMS_SignerInfo_verify(si) != 1) {
		ossl_error("the token's signature does not verify", err, errlen);
		goto out;
	}
	md = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3,
					 V_ASN1_OCTET_STRING);
	if (!md || (size_t)ASN1_STRING_length(md) != hash_len ||
	    memcmp(ASN1_STRING_get0_data(md), hash, hash_len)) {
		snprintf(err, errlen, "messageDigest is not the record hash");
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(back);
	return ret;
}

int cms_sign_finish(struct cms_signer *s, const unsigned char *hash, size_t hash_len,
		    unsigned char **der, size_t *der_len, char *err, size_t errlen)
{
	unsigned char *out = NULL;
	int len;

	*der = NULL;
	*der_len = 0;
	len = i2d_CMS_ContentInfo(s->cms, &out);
	if (len <= 0) {
		ossl_error("the CMS signature cannot be encoded", err, errlen);
		return -1;
	}
	if (check(s, out, (size_t)len, hash, hash_len, err, errlen)) {
		OPENSSL_free(out);
		return -1;
	}
	*der = out;
	*der_len = (size_t)len;
	return 0;
}

void cms_signer_free(struct cms_signer *s)
{
	CMS_ContentInfo_free(s->cms);
	X509_free(s->signer);
	memset(s, 0, sizeof(*s));
}
