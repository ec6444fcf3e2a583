/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso pdf verify: each signature of a PDF with its signer, the PAdES
 * level it reaches, what was changed after it (src/pdf/pdf-revisions.c),
 * DocMDP violations after a certification signature, and the verdict:
 * kysod's (POST /v1/verify) on its CMS over the hash of its ByteRange, at
 * its proof of existence (its own signature timestamp, or the earliest later
 * document timestamp, which covers it) and at the verification time. A
 * document timestamp's imprint and signature are checked here, its
 * authority's chain by kysod as the proof of a signature before it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "pdf/pdf-revisions.h"
#include "pdf/pdf-sign.h"
#include "cmd.h"
#include "output.h"

static const char help[] =
	"Usage: kyso pdf verify FILE [--json]\n"
	"\n"
	"Checks every signature and document timestamp of a PDF: the signer, the\n"
	"PAdES level reached (B-B, B-T, B-LT, B-LTA), whether it covers the whole\n"
	"document or what was added after it (a /DSS and document timestamps are\n"
	"harmless), changes a certification signature does not allow (DocMDP),\n"
	"and kysod's verdict on the CMS over the bytes it covers: at the time a\n"
	"timestamp proves it existed (its own, or a later document timestamp), and\n"
	"now. The exit status is 0 when every signature is valid (at its proof of\n"
	"existence) and no DocMDP permission is broken.\n";

/* Document timestamps sent with one signature as its proof of existence. */
#define POE_MAX 8

struct sig_result {
	const char *status;		/* valid, invalid, indeterminate */
	char reason[64];
	char signer[256];
	char timestamp[40];		/* of a signature timestamp or the document timestamp */
	const char *level;
	int docmdp_violation;
	/* a signature: kysod's verdict at the verification time, and the proof */
	const char *status_now;
	char reason_now[64];
	char poe_time[40];
	char poe_source[32];
	/* a document timestamp whose imprint holds: the hash it covers, and what
	 * kysod made of its authority (KYSO_CHECK_*; NONE: not asked) */
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len;
	enum kyso_check_result tsa;
};

/* The md hash of the bytes the /ByteRange covers; -1 when it does not
 * skip exactly a hex string. */
static int hash_ranges(const char *path, const struct pdf_sig_info *s, const EVP_MD *md,
		       unsigned char *out, unsigned int *len)
{
	FILE *f = fopen(path, "rb");
	int ret = -1;

	if (!f)
		return -1;
	if (!fseeko(f, (off_t)s->range[1], SEEK_SET) && fgetc(f) == '<' &&
	    !fseeko(f, (off_t)s->range[2] - 1, SEEK_SET) && fgetc(f) == '>')
		ret = pdf_hash_ranges(f, s->range, md, out, len);
	fclose(f);
	return ret;
}

static enum kyso_hash_alg alg_of(int nid)
{
	return nid == NID_sha512 ? KYSO_HASH_SHA512 :
	       nid == NID_sha384 ? KYSO_HASH_SHA384 : KYSO_HASH_SHA256;
}

/* The digest algorithm of the CMS's first signer (NID), 0 if none. */
static int cms_digest_nid(CMS_ContentInfo *cms, int *has_timestamp, X509 **signer)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113549.1.9.16.2.14", 1);
	X509_ALGOR *dig = NULL;
	int nid = 0;

	if (si) {
		/* the signer's certificate from those the CMS carries */
		CMS_set1_signers_certs(cms, NULL, 0);
		CMS_SignerInfo_get0_algs(si, NULL, signer, &dig, NULL);
		nid = dig ? OBJ_obj2nid(dig->algorithm) : 0;
		*has_timestamp = oid && CMS_unsigned_get_attr_by_OBJ(si, oid, -1) >= 0;
	}
	ASN1_OBJECT_free(oid);
	return nid;
}

/* The certificate is in the final /DSS. */
static int in_dss(const struct pdf_revisions *r, X509 *cert)
{
	unsigned char *der = NULL;
	int n = cert ? i2d_X509(cert, &der) : -1, found = 0;
	size_t i;

	for (i = 0; n > 0 && i < r->n_dss_certs && !found; i++)
		found = r->dss_cert_lens[i] == (size_t)n && !memcmp(r->dss_certs[i], der, (size_t)n);
	OPENSSL_free(der);
	return found;
}

static const char *status_name(enum kyso_verify_status st)
{
	return st == KYSO_VERIFY_VALID ? "valid" : st == KYSO_VERIFY_INVALID ? "invalid" :
	       "indeterminate";
}

/* What kysod made of the document timestamps sent (its "document_timestamp"
 * checks come in the order they were sent): the worst seen for each. */
static void note_tsa(const struct kyso_verify_result *vr, struct sig_result *all,
		     const size_t *sent, size_t nsent)
{
	size_t i, n = 0;

	for (i = 0; i < vr->nchecks && n < nsent; i++) {
		struct sig_result *d;

		if (strcmp(vr->checks[i]->check, "document_timestamp"))
			continue;
		d = &all[sent[n++]];
		if (d->tsa == KYSO_CHECK_NONE || d->tsa == KYSO_CHECK_OK)
			d->tsa = vr->checks[i]->result;
	}
}

/* A signature: kysod's verdict at its proof of existence and now, signer and
 * level. all holds every entry's result so far (the document timestamps are
 * checked first). 0, or the exit code of a failure to ask kysod (reported). */
static int check_signature(struct kyso_ctx *ctx, const char *path, const struct pdf_revisions *r,
			   size_t k, struct sig_result *all)
{
	const struct pdf_sig_info *s = &r->sigs[k];
	struct sig_result *res = &all[k];
	struct kyso_verify_params p = KYSO_VERIFY_PARAMS_INIT;
	struct kyso_document_timestamp dts[POE_MAX];
	struct kyso_verify_result *vr = NULL, *now = NULL;
	size_t sent[POE_MAX], nsent = 0;
	const unsigned char *der = s->contents;
	CMS_ContentInfo *cms = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct kyso_error err;
	X509 *signer = NULL;
	int nid, ts = 0, ret = 0;
	size_t j;

	res->level = "B-B";
	cms = s->contents ? d2i_CMS_ContentInfo(NULL, &der, (long)s->contents_len) : NULL;
	nid = cms ? cms_digest_nid(cms, &ts, &signer) : 0;
	if (!nid) {
		res->status = "invalid";
		snprintf(res->reason, sizeof(res->reason), "signature_malformed");
		goto out;
	}
	if (hash_ranges(path, s, EVP_get_digestbynid(nid) ? EVP_get_digestbynid(nid) :
			EVP_sha256(), md, &md_len)) {
		res->status = "invalid";
		snprintf(res->reason, sizeof(res->reason), "byte_range");
		goto out;
	}
	p.format = KYSO_FORMAT_CMS;
	p.signature = s->contents;
	p.signature_len = s->contents_len;
	p.hash = md;
	p.hash_len = md_len;
	p.hash_alg = alg_of(nid);
	/* the later document timestamps (they cover this signature), earliest first */
	for (j = k + 1; j < r->n && nsent < POE_MAX; j++) {
		if (!r->sigs[j].doc_timestamp || strcmp(all[j].status, "valid"))
			continue;
		dts[nsent] = (struct kyso_document_timestamp)KYSO_DOCUMENT_TIMESTAMP_INIT;
		dts[nsent].token = r->sigs[j].contents;
		dts[nsent].token_len = r->sigs[j].contents_len;
		dts[nsent].hash = all[j].hash;
		dts[nsent].hash_len = all[j].hash_len;
		sent[nsent++] = j;
	}
	p.document_timestamps = nsent ? dts : NULL;
	p.n_document_timestamps = nsent;
	if (kyso_verify(ctx->client, &p, &vr, &err) < 0) {
		if (!strcmp(err.code, "signature_malformed") || !strcmp(err.code, "hash_length")) {
			res->status = "invalid";
			snprintf(res->reason, sizeof(res->reason), "%s", err.code);
			goto out;
		}
		ret = out_error(ctx->json, &err);
		goto out;
	}
	res->status = status_name(vr->status);
	snprintf(res->reason, sizeof(res->reason), "%s", vr->reason ? vr->reason : "");
	note_tsa(vr, all, sent, nsent);
	if (vr->poe_time) {
		snprintf(res->poe_time, sizeof(res->poe_time), "%s", vr->poe_time);
		snprintf(res->poe_source, sizeof(res->poe_source), "%s",
			 vr->poe_source ? vr->poe_source : "");
	}
	/* and the verdict now, no timestamp taken as proof */
	p.document_timestamps = NULL;
	p.n_document_timestamps = 0;
	p.at_verification_time = 1;
	if (kyso_verify(ctx->client, &p, &now, &err) < 0) {
		ret = out_error(ctx->json, &err);
		goto out;
	}
	res->status_now = status_name(now->status);
	snprintf(res->reason_now, sizeof(res->reason_now), "%s", now->reason ? now->reason : "");
	if (vr->signer)
		snprintf(res->signer, sizeof(res->signer), "%s",
			 *vr->signer->subject_cn ? vr->signer->subject_cn : vr->signer->subject);
	if (vr->timestamp_time)
		snprintf(res->timestamp, sizeof(res->timestamp), "%s", vr->timestamp_time);
	if (ts)
		res->level = "B-T";
	if (ts && in_dss(r, signer) && r->n_dss_revocation) {
		res->level = "B-LT";
		for (j = k + 1; j < r->n; j++)
			if (r->sigs[j].doc_timestamp && r->sigs[j].dss)
				res->level = "B-LTA";
	}
out:
	kyso_verify_result_free(now);
	kyso_verify_result_free(vr);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ret;
}

/* A document timestamp: its imprint is the hash of what it covers and its
 * signature verifies with the certificate it carries. */
static void check_doc_timestamp(const char *path, const struct pdf_sig_info *s,
				struct sig_result *res)
{
	const unsigned char *der = s->contents;
	PKCS7 *p7 = s->contents ? d2i_PKCS7(NULL, &der, (long)s->contents_len) : NULL;
	TS_TST_INFO *tst = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	TS_MSG_IMPRINT *mi = tst ? TS_TST_INFO_get_msg_imprint(tst) : NULL;
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	ASN1_OCTET_STRING *want = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
	const EVP_MD *md = alg ? EVP_get_digestbyobj(alg->algorithm) : NULL;
	CMS_ContentInfo *cms = NULL;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	struct tm tm;

	res->level = "document timestamp";
	res->status = "invalid";
	if (!md || !want) {
		snprintf(res->reason, sizeof(res->reason), "signature_malformed");
		goto out;
	}
	if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm))
		strftime(res->timestamp, sizeof(res->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (hash_ranges(path, s, md, h, &len)) {
		snprintf(res->reason, sizeof(res->reason), "byte_range");
		goto out;
	}
	if ((int)len != ASN1_STRING_length(want) || memcmp(h, ASN1_STRING_get0_data(want), len)) {
		snprintf(res->reason, sizeof(res->reason), "digest_mismatch");
		goto out;
	}
	memcpy(res->hash, h, len);
	res->hash_len = len;
	der = s->contents;
	cms = d2i_CMS_ContentInfo(NULL, &der, (long)s->contents_len);
	if (!cms || CMS_verify(cms, NULL, NULL, NULL, NULL, CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		snprintf(res->reason, sizeof(res->reason), "signature_invalid");
		goto out;
	}
	res->status = "valid";
	snprintf(res->reason, sizeof(res->reason), "imprint_and_signature");
out:
	CMS_ContentInfo_free(cms);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
}

static json_t *changes_json(unsigned changes)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < PDF_CHANGE_KINDS; i++)
		if (changes & (1u << i))
			json_array_append_new(a, json_string(pdf_change_name(i)));
	return a;
}

static void print_text(const struct pdf_revisions *r, size_t k, const struct sig_result *res)
{
	const struct pdf_sig_info *s = &r->sigs[k];
	unsigned harmless = PDF_CHANGE_DSS | PDF_CHANGE_DOC_TIMESTAMP;
	int i, first = 1;

	printf("%s %zu: field %s (%s)", s->doc_timestamp ? "Document timestamp" : "Signature",
	       k + 1, s->field, *s->subfilter ? s->subfilter + 1 : "?");
	if (s->docmdp)
		printf(", certification (DocMDP P %d)", s->docmdp);
	printf("\n");
	if (!s->doc_timestamp)
		printf("  signer:   %s\n", *res->signer ? res->signer : "?");
	if (*s->when)
		printf("  time:     %s (claimed)\n", s->when);
	if (*res->timestamp)
		printf("  timestamp: %s\n", res->timestamp);
	printf("  level:    %s\n", res->level);
	if (!s->range_ok)
		printf("  covers:   ? (its /ByteRange is not [0 a b c] within the file)\n");
	else if (s->end == r->size)
		printf("  covers:   the whole document\n");
	else {
		printf("  covers:   %lld of %lld bytes; added after:", (long long)s->end,
		       (long long)r->size);
		for (i = 0; i < PDF_CHANGE_KINDS; i++)
			if (s->changes & (1u << i)) {
				printf("%s %s", first ? "" : ",", pdf_change_name(i));
				first = 0;
			}
		printf("%s\n", s->changes & ~harmless ? "" : " (harmless)");
	}
	if (res->docmdp_violation)
		printf("  DocMDP:   violated: changes after it that P %d does not allow\n",
		       s->docmdp);
	printf("  verdict:  %s (%s)\n", res->status, res->reason);
	if (*res->poe_time)
		printf("  proof:    existed at %s (%s)\n", res->poe_time,
		       !strcmp(res->poe_source, "document_timestamp") ? "a document timestamp" :
		       "its signature timestamp");
	if (res->status_now)
		printf("  now:      %s (%s)\n", res->status_now, res->reason_now);
}

static json_t *result_json(const struct pdf_revisions *r, size_t k, const struct sig_result *res)
{
	const struct pdf_sig_info *s = &r->sigs[k];
	unsigned harmless = PDF_CHANGE_DSS | PDF_CHANGE_DOC_TIMESTAMP;

	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:b, s:I, s:o, s:b, s:o, s:b,"
			 " s:s, s:s}",
			 "field", s->field,
			 "type", s->doc_timestamp ? "document_timestamp" : "signature",
			 "subfilter", *s->subfilter ? s->subfilter + 1 : "",
			 "signer", *res->signer ? res->signer : NULL,
			 "time", *s->when ? s->when : NULL,
			 "timestamp_time", *res->timestamp ? res->timestamp : NULL,
			 "level", res->level,
			 "covers_whole_document", s->range_ok && s->end == r->size,
			 "revision_end", (json_int_t)s->end,
			 "added_after", changes_json(s->changes),
			 "only_harmless_after", !(s->changes & ~harmless),
			 "certification", s->docmdp ? json_integer(s->docmdp) : json_null(),
			 "docmdp_violation", res->docmdp_violation,
			 "status", res->status, "reason", res->reason);
	if (o && *res->poe_time)
		json_object_set_new(o, "proof_of_existence",
				    json_pack("{s:s, s:s}", "time", res->poe_time, "source",
					      res->poe_source));
	if (o && res->status_now)
		json_object_set_new(o, "now", json_pack("{s:s, s:s}", "status", res->status_now,
							"reason", res->reason_now));
	return o;
}

int cmd_pdf_verify(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pdf_revisions r;
	struct sig_result *res = NULL;
	json_t *list = NULL;
	int ch, ret, all_ok = 1;
	char msg[512];
	size_t k;

	while ((ch = getopt_long(argc, argv, ":jh", options, NULL)) != -1) {
		ret = cmd_common_option(ctx, ch, "pdf verify", help, argv);
		if (ret >= 0)
			return ret;
	}
	if (optind + 1 != argc)
		return out_usage_error("pdf verify", "one PDF is required");
	if (pdf_revisions_read(argv[optind], &r, msg, sizeof(msg)))
		return out_fail(ctx->json, "pdf_error", "%s", msg);
	ret = 0;
	if (!r.n) {
		ret = out_fail(ctx->json, "no_signature", "%s has no signature", argv[optind]);
		goto out;
	}
	res = calloc(r.n, sizeof(*res));
	list = json_array();
	if (!res || !list) {
		ret = out_fail(ctx->json, "out_of_memory", "out of memory");
		goto out;
	}
	for (k = 0; k < r.n; k++)
		if (r.sigs[k].doc_timestamp)
			check_doc_timestamp(argv[optind], &r.sigs[k], &res[k]);
	for (k = 0; k < r.n; k++)
		if (!r.sigs[k].doc_timestamp &&
		    (ret = check_signature(ctx, argv[optind], &r, k, res)))
			goto out;
	for (k = 0; k < r.n; k++) {
		struct pdf_sig_info *s = &r.sigs[k];

		/* a document timestamp's authority, as kysod judged it */
		if (s->doc_timestamp && !strcmp(res[k].status, "valid")) {
			if (res[k].tsa == KYSO_CHECK_FAILED) {
				res[k].status = "invalid";
				snprintf(res[k].reason, sizeof(res[k].reason), "timestamp_untrusted");
			} else if (res[k].tsa == KYSO_CHECK_UNKNOWN) {
				res[k].status = "indeterminate";
				snprintf(res[k].reason, sizeof(res[k].reason), "chain_not_checked");
			} else if (res[k].tsa == KYSO_CHECK_OK) {
				snprintf(res[k].reason, sizeof(res[k].reason), "trusted_timestamp");
			}
		}
		res[k].docmdp_violation = s->docmdp &&
					  (s->changes & ~pdf_docmdp_allowed(s->docmdp));
		if (res[k].docmdp_violation) {
			res[k].status = "invalid";
			snprintf(res[k].reason, sizeof(res[k].reason), "docmdp_violation");
		}
		if (strcmp(res[k].status, "valid"))
			all_ok = 0;
	}
	for (k = 0; k < r.n; k++) {
		if (ctx->json)
			json_array_append_new(list, result_json(&r, k, &res[k]));
		else
			print_text(&r, k, &res[k]);
	}
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:I, s:O, s:b}", "file", argv[optind], "size",
				      (json_int_t)r.size, "signatures", list, "valid", all_ok);

		out_json(j);
		json_decref(j);
	}
	ret = all_ok ? 0 : 1;
out:
	json_decref(list);
	free(res);
	pdf_revisions_free(&r);
	return ret;
}
