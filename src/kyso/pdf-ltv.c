/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "pdf/pdf-dss.h"
#include "pdf/pdf-sign.h"
#include "output.h"
#include "pdf-ltv.h"

/* The place a document timestamp's token gets in /Contents. */
#define DOC_TIMESTAMP_SIZE 16384

/* Appends the certificates of cms (DER) to list as base64. 0 or -1. */
static int cms_certs(const unsigned char *der, size_t len, json_t *list)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *certs = cms ? CMS_get1_certs(cms) : NULL;
	unsigned char *c;
	char *b64;
	int i, n, ret = cms ? 0 : -1;

	for (i = 0; i < sk_X509_num(certs) && !ret; i++) {
		c = NULL;
		n = i2d_X509(sk_X509_value(certs, i), &c);
		b64 = n > 0 ? kyso_b64_encode(c, (size_t)n) : NULL;
		OPENSSL_free(c);
		if (!b64 || json_array_append_new(list, json_string(b64)))
			ret = -1;
		free(b64);
	}
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ret;
}

/* The signatureTimeStampToken of cms's first signer (DER, OPENSSL_free), or NULL. */
static unsigned char *cms_timestamp(const unsigned char *der, size_t len, size_t *out_len)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(CMS_SignerInfo) *sis = cms ? CMS_get0_SignerInfos(cms) : NULL;
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113549.1.9.16.2.14", 1);
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	unsigned char *out = NULL;
	int i, n;

	if (si && oid) {
		i = CMS_unsigned_get_attr_by_OBJ(si, oid, -1);
		attr = i >= 0 ? CMS_unsigned_get_attr(si, i) : NULL;
		t = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
		if (t && t->type == V_ASN1_SEQUENCE) {
			n = t->value.sequence->length;
			out = OPENSSL_memdup(t->value.sequence->data, (size_t)n);
			*out_len = out ? (size_t)n : 0;
		}
	}
	ASN1_OBJECT_free(oid);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return out;
}

/* Decodes the base64 strings of list into items. 0 or -1. */
static int decode_list(json_t *list, struct pdf_der **items, size_t *n)
{
	size_t i, count = json_array_size(list);
	json_t *v;

	*n = 0;
	*items = count ? calloc(count, sizeof(**items)) : NULL;
	if (count && !*items)
		return -1;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			return -1;
		(*items)[i].der = kyso_b64_decode_alloc(s, strlen(s), &(*items)[i].len);
		if (!(*items)[i].der)
			return -1;
		(*n)++;
	}
	return 0;
}

/* The evidence for the certificates certs (base64 DER) into the PDF's /DSS. */
static int add_evidence(struct kyso_ctx *ctx, const char *path, json_t *certs)
{
	struct pdf_dss dss = { 0 };
	json_t *answer = NULL, *check;
	char msg[512];
	size_t i;
	int added, ret;

	ret = cmd_post_json(ctx, "/v1/validation", json_pack("{s:O}", "certificates", certs),
			    &answer);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(answer, "revocation"), i, check) {
		const char *status = json_string_value(json_object_get(check, "status"));

		/* a trust anchor is trusted as it is, not checked */
		if (json_is_true(json_object_get(check, "trust_anchor")))
			continue;
		if (!status || strcmp(status, "good")) {
			ret = out_fail(ctx->json, status && !strcmp(status, "revoked") ?
				       "certificate_revoked" : "revocation_unknown",
				       "no proof that %s is not revoked (%s): %s",
				       json_string_value(json_object_get(check, "certificate")),
				       status ? status : "?",
				       json_string_value(json_object_get(check, "message")));
			goto out;
		}
	}
	if (decode_list(json_object_get(answer, "certificates"), &dss.certs, &dss.n_certs) ||
	    decode_list(json_object_get(answer, "ocsp_responses"), &dss.ocsps, &dss.n_ocsps) ||
	    decode_list(json_object_get(answer, "crls"), &dss.crls, &dss.n_crls)) {
		ret = out_fail(ctx->json, "protocol_error", "kysod's validation material is not base64");
		goto out;
	}
	if (pdf_dss_append(path, &dss, &added, msg, sizeof(msg)))
		ret = out_fail(ctx->json, "pdf_error", "%s", msg);
out:
	pdf_dss_free(&dss);
	json_decref(answer);
	return ret;
}

/* The certificates of cms and of its signature timestamp into certs. 0 or the exit code. */
static int signature_certs(struct kyso_ctx *ctx, const struct pdf_der *cms, json_t *certs)
{
	unsigned char *tst;
	size_t tst_len = 0;
	int ret = 0;

	if (cms_certs(cms->der, cms->len, certs))
		return out_fail(ctx->json, "pdf_error", "the signature's certificates cannot be read");
	tst = cms_timestamp(cms->der, cms->len, &tst_len);
	if (tst && cms_certs(tst, tst_len, certs))
		ret = out_fail(ctx->json, "pdf_error",
			       "the signature timestamp's certificates cannot be read");
	OPENSSL_free(tst);
	return ret;
}

int pdf_ltv_add_dss_all(struct kyso_ctx *ctx, const char *path, const struct pdf_der *cms,
			size_t n)
{
	json_t *certs = json_array(), *unique = json_array(), *v, *w;
	size_t i, j;
	int ret = 0;

	if (!certs || !unique) {
		ret = out_fail(ctx->json, "out_of_memory", "out of memory");
		goto out;
	}
	for (i = 0; i < n && !ret; i++)
		ret = signature_certs(ctx, &cms[i], certs);
	if (ret)
		goto out;
	/* each certificate once */
	json_array_foreach(certs, i, v) {
		json_array_foreach(unique, j, w)
			if (json_equal(v, w))
				break;
		if (j == json_array_size(unique))
			json_array_append(unique, v);
	}
	ret = add_evidence(ctx, path, unique);
out:
	json_decref(certs);
	json_decref(unique);
	return ret;
}

int pdf_ltv_add_dss(struct kyso_ctx *ctx, const char *path, const unsigned char *cms,
		    size_t len)
{
	struct pdf_der one = { (unsigned char *)cms, len };

	return pdf_ltv_add_dss_all(ctx, path, &one, 1);
}

int pdf_ltv_doc_timestamp(struct kyso_ctx *ctx, const char *path)
{
	struct pdf_sign_opts o = { 0 };
	struct pdf_sig s = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE], *token = NULL;
	unsigned int md_len = 0;
	size_t token_len = 0;
	char msg[512];
	int ret;

	o.doc_timestamp = 1;
	o.contents_size = DOC_TIMESTAMP_SIZE;
	o.when = time(NULL);
	if (pdf_sig_prepare(path, &o, &s, msg, sizeof(msg)))
		return out_fail(ctx->json, "pdf_error", "%s", msg);
	if (pdf_sig_digest(&s, EVP_sha256(), md, &md_len)) {
		ret = out_fail(ctx->json, "io_error", "%s cannot be read back", path);
		goto out;
	}
	ret = cmd_timestamp(ctx, md, md_len, &token, &token_len);
	if (ret)
		goto out;
	if (pdf_sig_put(&s, token, token_len, msg, sizeof(msg))) {
		ret = out_fail(ctx->json, "pdf_error", "%s", msg);
		goto out;
	}
	if (pdf_sig_close(&s))
		ret = out_fail(ctx->json, "io_error", "%s cannot be written", path);
out:
	pdf_sig_close(&s);
	free(token);
	return ret;
}
