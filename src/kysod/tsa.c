/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "kysod/ossl-util.h"
#include "kysod/http-post.h"
#include "kysod/tsa.h"

/* The signer's subject from the token's certificates, RFC 2253. */
static void tsa_name(PKCS7 *p7, char *out, size_t outlen)
{
	STACK_OF(X509) *signers = PKCS7_get0_signers(p7, NULL, 0);

	out[0] = '\0';
	if (sk_X509_num(signers) == 1) {
		ossl_name(X509_get_subject_name(sk_X509_value(signers, 0)), out, outlen);
		if (!strcmp(out, "?"))
			out[0] = '\0';
	}
	ERR_clear_error();
	sk_X509_free(signers);	/* the certificates belong to p7 */
}

/* The token's own signature, with the certificate it carries (no trust). */
static int check_integrity(const unsigned char *token, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = token;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	int ok;

	if (!cms) {
		ossl_error("the timestamp token is not a CMS structure", err, errlen);
		return -1;
	}
	ok = CMS_verify(cms, NULL, NULL, NULL, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY);
	if (!ok)
		ossl_error("the timestamp token's signature does not verify", err, errlen);
	CMS_ContentInfo_free(cms);
	return ok ? 0 : -1;
}

/* tsa_check_token, the imprint either the hash of data (data not NULL) in
 * the token's own algorithm, or hash made with md. */
static int check_token(struct trust *t, const unsigned char *token, size_t token_len,
		       const unsigned char *data, size_t len, const EVP_MD *hash_md,
		       const unsigned char *hash, size_t hash_len, struct tsa_token_info *info,
		       char *err, size_t errlen)
{
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)token_len);
	TS_TST_INFO *tst = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	TS_MSG_IMPRINT *imprint;
	ASN1_OCTET_STRING *want;
	const ASN1_OBJECT *oid = NULL;
	const EVP_MD *md;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	int ret = -1;

	memset(info, 0, sizeof(*info));
	if (!p7 || !(tst = PKCS7_to_TS_TST_INFO(p7))) {
		ossl_error("the timestamp token cannot be read", err, errlen);
		goto out;
	}
	imprint = TS_TST_INFO_get_msg_imprint(tst);
	X509_ALGOR_get0(&oid, NULL, NULL, TS_MSG_IMPRINT_get_algo(imprint));
	md = oid ? EVP_get_digestbyobj(oid) : NULL;
	want = TS_MSG_IMPRINT_get_msg(imprint);
	if (!data) {
		if (!md || EVP_MD_get_type(md) != EVP_MD_get_type(hash_md) ||
		    hash_len > sizeof(h)) {
			snprintf(err, errlen, "the timestamp's hash algorithm is not the one asked for");
			goto out;
		}
		memcpy(h, hash, hash_len);
		hlen = (unsigned int)hash_len;
	} else if (!md || !EVP_Digest(data, len, h, &hlen, md, NULL)) {
		snprintf(err, errlen, "the timestamp's hash algorithm is not supported");
		goto out;
	}
	if ((unsigned int)ASN1_STRING_length(want) != hlen ||
	    memcmp(ASN1_STRING_get0_data(want), h, hlen)) {
		snprintf(err, errlen, "the timestamp is over other data than %s",
			 data ? "the signature value" : "the hash asked for");
		goto out;
	}
	if (check_integrity(token, token_len, err, errlen))
		goto out;
	if (t && t->store) {
		ctx = TS_VERIFY_CTX_new();
		if (!ctx || !X509_STORE_up_ref(t->store)) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		TS_VERIFY_CTX_set_store(ctx, t->store);	/* ctx owns that reference */
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_VERSION);
		if (TS_RESP_verify_token(ctx, p7) != 1) {
			ossl_error("the time-stamp authority's certificate is not trusted", err,
				      errlen);
			goto out;
		}
		info->chain_checked = 1;
	}
	info->time = ossl_time(TS_TST_INFO_get_time(tst));
	tsa_name(p7, info->tsa, sizeof(info->tsa));
	ret = 0;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return ret;
}

int tsa_check_token(struct trust *t, const unsigned char *token, size_t token_len,
		    const unsigned char *data, size_t len, struct tsa_token_info *info, char *err,
		    size_t errlen)
{
	return check_token(t, token, token_len, data, len, NULL, NULL, 0, info, err, errlen);
}

int tsa_check_token_hash(struct trust *t, const unsigned char *token, size_t token_len,
			 const EVP_MD *md, const unsigned char *hash, size_t hash_len,
			 struct tsa_token_info *info, char *err, size_t errlen)
{
	return check_token(t, token, token_len, NULL, 0, md, hash, hash_len, info, err, errlen);
}

/* The request: imprint h (made with md), a random nonce, the TSA's certificate asked for. */
static TS_REQ *make_request(const EVP_MD *md, const unsigned char *h, unsigned int hlen,
			    ASN1_INTEGER **nonce_out)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = BN_new();
	int ok = 0;

	if (!req || !imprint || !alg || !bn)
		goto out;
	X509_ALGOR_set_md(alg, md);
	/* (TS_MSG_IMPRINT_set_msg copies h; its prototype lacks the const) */
	if (!TS_MSG_IMPRINT_set_algo(imprint, alg) ||
	    !TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)h, (int)hlen) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, imprint) ||
	    !BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) || !TS_REQ_set_nonce(req, nonce) ||
	    !TS_REQ_set_cert_req(req, 1))
		goto out;
	ok = 1;
out:
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	if (!ok) {
		ASN1_INTEGER_free(nonce);
		TS_REQ_free(req);
		return NULL;
	}
	*nonce_out = nonce;
	return req;
}

static const char *const failure_names[] = {
	"badAlg", NULL, "badRequest", NULL, NULL, "badDataFormat", NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, "timeNotAvailable", "unacceptedPolicy", "unacceptedExtension",
	"addInfoNotAvailable", NULL, NULL, NULL, NULL, NULL, NULL, NULL, "systemFailure",
};

/* "granted" or why not, from the answer's PKIStatusInfo. */
static int granted(TS_RESP *resp, char *err, size_t errlen)
{
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	const ASN1_BIT_STRING *fail = si ? TS_STATUS_INFO_get0_failure_info(si) : NULL;
	long status = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
	size_t i;

	if (status == 0 || status == 1)
		return 1;
	snprintf(err, errlen, "the time-stamp authority refused the request (status %ld", status);
	for (i = 0; fail && i < sizeof(failure_names) / sizeof(failure_names[0]); i++)
		if (failure_names[i] && ASN1_BIT_STRING_get_bit(fail, (int)i)) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, ", %s", failure_names[i]);
		}
	if (strlen(err) + 1 < errlen)
		strcat(err, ")");
	return 0;
}

/* A token over h (made with md); checked over data when it is not NULL, else over h. */
static int timestamp(const struct kysod_config *cfg, struct trust *t, const EVP_MD *md,
		     const unsigned char *h, unsigned int hlen, const unsigned char *data,
		     size_t len, unsigned char **token, size_t *token_len,
		     struct tsa_token_info *info, char *err, size_t errlen)
{
	ASN1_INTEGER *nonce = NULL;
	TS_REQ *req = NULL;
	TS_RESP *resp = NULL;
	unsigned char *der = NULL, *answer = NULL, *out = NULL;
	const unsigned char *p;
	const ASN1_INTEGER *got;
	size_t answer_len = 0;
	char why[256];
	int n, ret = -1;

	*token = NULL;
	*token_len = 0;
	req = make_request(md, h, hlen, &nonce);
	if (!req || (n = i2d_TS_REQ(req, &der)) <= 0) {
		ossl_error("the timestamp request cannot be built", err, errlen);
		goto out;
	}
	if (http_post(cfg->tsa_url, "application/timestamp-query", der, (size_t)n, cfg->tsa_timeout,
		      &answer, &answer_len, why, sizeof(why))) {
		snprintf(err, errlen, "the time-stamp authority did not answer: %s", why);
		goto out;
	}
	p = answer;
	resp = d2i_TS_RESP(NULL, &p, (long)answer_len);
	if (!resp) {
		snprintf(err, errlen, "the time-stamp authority's answer is not an RFC 3161 response");
		goto out;
	}
	if (!granted(resp, err, errlen))
		goto out;
	if (!TS_RESP_get_token(resp) || !TS_RESP_get_tst_info(resp)) {
		snprintf(err, errlen, "the time-stamp authority's answer holds no token");
		goto out;
	}
	got = TS_TST_INFO_get_nonce(TS_RESP_get_tst_info(resp));
	if (!got || ASN1_INTEGER_cmp(got, nonce)) {
		snprintf(err, errlen, "the timestamp's nonce is not the one asked for");
		goto out;
	}
	n = i2d_PKCS7(TS_RESP_get_token(resp), &out);
	if (n <= 0) {
		ossl_error("the timestamp token cannot be encoded", err, errlen);
		goto out;
	}
	if (check_token(t, out, (size_t)n, data, len, md, h, hlen, info, why, sizeof(why))) {
		snprintf(err, errlen, "the timestamp is not acceptable: %s", why);
		goto out;
	}
	*token = out;
	*token_len = (size_t)n;
	out = NULL;
	ret = 0;
out:
	ERR_clear_error();
	OPENSSL_free(out);
	OPENSSL_free(der);
	free(answer);
	TS_RESP_free(resp);
	TS_REQ_free(req);
	ASN1_INTEGER_free(nonce);
	return ret;
}

int tsa_timestamp(const struct kysod_config *cfg, struct trust *t, const EVP_MD *md,
		  const unsigned char *data, size_t len, unsigned char **token, size_t *token_len,
		  struct tsa_token_info *info, char *err, size_t errlen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	*token = NULL;
	*token_len = 0;
	if (!EVP_Digest(data, len, h, &hlen, md, NULL)) {
		ossl_error("the timestamp request cannot be built", err, errlen);
		return -1;
	}
	return timestamp(cfg, t, md, h, hlen, data, len, token, token_len, info, err, errlen);
}

int tsa_timestamp_hash(const struct kysod_config *cfg, struct trust *t, const EVP_MD *md,
		       const unsigned char *hash, size_t hash_len, unsigned char **token,
		       size_t *token_len, struct tsa_token_info *info, char *err, size_t errlen)
{
	*token = NULL;
	*token_len = 0;
	if (hash_len != (size_t)EVP_MD_get_size(md)) {
		snprintf(err, errlen, "the hash's length does not fit its algorithm");
		return -1;
	}
	return timestamp(cfg, t, md, hash, (unsigned int)hash_len, NULL, 0, token, token_len,
			 info, err, errlen);
}
