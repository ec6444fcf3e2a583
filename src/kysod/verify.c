/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "common/utf8.h"
#include "common/log.h"
#include "kysod/ossl-util.h"
#include "kysod/cert-check.h"
#include "kysod/cert-info.h"
#include "kysod/cms-sign.h"
#include "kysod/trust-store.h"
#include "kysod/tsa.h"
#include "kysod/verify.h"

/* How far a claimed signingTime may lie after the verification time (or
 * after the timestamp's time) before it is a false claim: clocks differ. */
#define SIGNING_TIME_SKEW 300

/* The checks made so far and what they make of the signature. */
struct verdict {
	json_t *list;
	const char *invalid;		/* the first reason it is invalid, or NULL */
	const char *indeterminate;	/* the first reason nothing can be said, or NULL */
	time_t poe;			/* proof of existence (a good timestamp's time), or 0 */
	const char *poe_source;		/* "signature_timestamp" or "document_timestamp" */
	int soft_fail;			/* an unknown revocation status does not count */
};

static json_t *add_check(struct verdict *v, const char *name, const char *result,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* result: "ok", "failed", "unknown" or "skipped". Returns the entry (owned by
 * the list) for more fields. */
static json_t *add_check(struct verdict *v, const char *name, const char *result,
			 const char *fmt, ...)
{
	char msg[512];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* names cut to a length may end mid-character: JSON needs whole ones */
	kyso_utf8_trim(msg);
	log_debug("verify: %s: %s: %s", name, result, msg);
	o = json_pack("{s:s, s:s, s:s}", "check", name, "result", result, "message", msg);
	if (json_array_append_new(v->list, o))
		return NULL;
	return o;
}

static void invalid(struct verdict *v, const char *reason)
{
	if (!v->invalid)
		v->invalid = reason;
}

static void indeterminate(struct verdict *v, const char *reason)
{
	if (!v->indeterminate)
		v->indeterminate = reason;
}

/* The signer as the answer shows it: the certificate object without its PEM. */
static json_t *signer_json(X509 *x)
{
	struct cert_facts facts;
	json_t *o = cert_info_json(x, &facts);
	char id[65];

	if (!o)
		return json_null();
	json_object_del(o, "pem");
	if (cert_info_id(x, id) == 0)
		json_object_set_new(o, "id", json_string(id));
	return o;
}

static void set_cert(json_t *check, const struct revocation *r)
{
	if (check && r->depth >= 0) {
		json_object_set_new(check, "certificate", json_string(r->subject));
		json_object_set_new(check, "depth", json_integer(r->depth));
	}
}

/* The revocation verdict (asked now) against the proof of existence. */
static void judge_revocation(struct verdict *v, const struct revocation *r)
{
	char rev[32], poe[32];
	const char *why = revocation_reason_name(r->reason);
	json_t *o;

	switch (r->status) {
	case REVOCATION_GOOD:
		add_check(v, "revocation", "ok", "%s", r->message);
		return;
	case REVOCATION_UNKNOWN:
		o = add_check(v, "revocation", "unknown", "%s%s", r->message,
			      v->soft_fail ? " (revocation_soft_fail: not held against the signature)" :
			      "");
		set_cert(o, r);
		if (!v->soft_fail)
			indeterminate(v, "revocation_unknown");
		return;
	case REVOCATION_REVOKED:
		break;
	default:
		add_check(v, "revocation", "skipped", "%s", r->message);
		return;
	}
	ossl_time_text(r->revoked_at, rev, sizeof(rev));
	ossl_time_text(v->poe, poe, sizeof(poe));
	if (revocation_reason_compromise(r->reason)) {
		o = add_check(v, "revocation", "failed", "%s%s is revoked since %s for %s: the key may "
			      "have been in other hands, so no signature time helps: %s",
			      r->depth ? "issuing CA " : "", r->subject, rev, why, r->message);
		invalid(v, "revoked");
	} else if (v->poe && r->revoked_at > v->poe) {
		o = add_check(v, "revocation", "ok", "%s%s is revoked since %s (%s), after the "
			      "timestamp's proof that the signature existed at %s: the signature "
			      "stands (%s)", r->depth ? "issuing CA " : "", r->subject, rev, why, poe,
			      r->source ? r->source : "?");
	} else if (v->poe) {
		o = add_check(v, "revocation", "failed", "%s%s was revoked at %s (%s), before the "
			      "timestamp's time %s: %s", r->depth ? "issuing CA " : "", r->subject,
			      rev, why, poe, r->message);
		invalid(v, "revoked");
	} else {
		o = add_check(v, "revocation", "failed", "%s%s is revoked since %s (%s) and nothing "
			      "proves the signature existed before (no timestamp): %s",
			      r->depth ? "issuing CA " : "", r->subject, rev, why, r->message);
		indeterminate(v, "revoked_no_poe");
	}
	set_cert(o, r);
}

/* The certificate checks: at the timestamp's time when there is proof of
 * existence, else at the verification time. Revocation is asked now. */
static void check_certificate(struct kysod *d, struct trust *t, X509 *x, struct verdict *v)
{
	struct cert_status st;
	time_t now = time(NULL), at = v->poe ? v->poe : now;
	const char *source = v->poe ? "the timestamp's time" : "the verification time";
	char when[32], end[32];

	ossl_time_text(at, when, sizeof(when));
	ossl_time_text(ossl_time(X509_get0_notAfter(x)), end, sizeof(end));
	cert_check_basic(&d->cfg, t, x, at, &st);
	if (st.problems & CERT_NOT_YET_VALID) {
		add_check(v, "validity", "failed", "at %s (%s): %s", when, source, st.messages[1]);
		invalid(v, "not_yet_valid");
	} else if (st.problems & CERT_EXPIRED) {
		add_check(v, "validity", "failed", "at %s (%s): %s, and nothing proves the signature "
			  "existed before (%s)", when, source, st.messages[0],
			  v->poe ? "the timestamp is later" : "no timestamp");
		indeterminate(v, "expired_no_poe");
	} else if (v->poe && X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
		add_check(v, "validity", "ok", "valid at %s (%s); it expired at %s, after that",
			  when, source, end);
	} else {
		add_check(v, "validity", "ok", "valid at %s (%s)", when, source);
	}
	if (st.problems & CERT_USAGE) {
		add_check(v, "key_usage", "failed", "%s", st.messages[2]);
		invalid(v, "key_usage");
	} else {
		add_check(v, "key_usage", "ok", "the key usage allows signing");
	}
	if (!st.chain_checked) {
		add_check(v, "chain", "skipped", "no CA bundle is configured (ca_bundle): nothing "
			  "says who made this certificate, anyone can make one with this name");
		indeterminate(v, "chain_not_checked");
	} else if ((st.problems & CERT_UNTRUSTED) && st.chain_error == X509_V_ERR_CERT_HAS_EXPIRED) {
		add_check(v, "chain", "failed", "at %s (%s): %s", when, source, st.messages[3]);
		indeterminate(v, "expired_no_poe");
	} else if (st.problems & CERT_UNTRUSTED) {
		add_check(v, "chain", "failed", "%s", st.messages[3]);
		indeterminate(v, "chain_untrusted");
	} else {
		add_check(v, "chain", "ok", "chains to the configured CA bundle at %s (%d certificates)",
			  when, sk_X509_num(st.chain));
	}
	if (!st.chain) {
		add_check(v, "revocation", "skipped", "%s", st.chain_checked ?
			  "the certificate has no trusted chain" :
			  "no CA bundle is configured: the issuer is not known");
		goto out;
	}
	cert_check_revocation(&d->cfg, t, &st, v->list, NULL);
	judge_revocation(v, &st.revocation);
out:
	cert_status_free(&st);
}

static void algorithm_name(int rsa, int pss, const char *hash, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s-%s", rsa ? (pss ? "rsa-pss" : "rsa-pkcs1") : "ecdsa", hash);
}

static json_t *verify_raw(struct kysod *d, const struct verify_request *r, struct verdict *v,
			  struct kyso_reply *rep)
{
	EVP_PKEY *pkey = X509_get0_pubkey(r->cert);
	const EVP_MD *md = cms_md(r->hash_alg);
	EVP_PKEY_CTX *ctx = NULL;
	struct trust *t = NULL;
	json_t *answer = NULL;
	char alg[48], err[256];
	int rsa, ok;

	if (!pkey) {
		kyso_reply_error(rep, KE_CERTIFICATE_MALFORMED, "the certificate's key cannot be read");
		kyso_reply_error_set(rep, "field", json_string("certificate"));
		return NULL;
	}
	rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	if (!rsa && r->padding != PAD_DEFAULT) {
		kyso_reply_error(rep, KE_UNSUPPORTED_PADDING,
				 "padding applies to RSA keys only; this certificate has an EC key");
		kyso_reply_error_set(rep, "field", json_string("padding"));
		return NULL;
	}
	algorithm_name(rsa, r->padding == PAD_PSS, hash_alg_name(r->hash_alg), alg,
		       sizeof(alg));
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    (rsa && EVP_PKEY_CTX_set_rsa_padding(ctx, r->padding == PAD_PSS ?
						 RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0) ||
	    (rsa && r->padding == PAD_PSS &&
	     (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0))) {
		ossl_error(NULL, err, sizeof(err));
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the verification cannot be set up: %s", err);
		goto out;
	}
	ok = EVP_PKEY_verify(ctx, r->signature, r->signature_len, r->hash, r->hash_len) == 1;
	ERR_clear_error();
	if (ok) {
		add_check(v, "signature", "ok", "%s signature over the hash verifies", alg);
	} else {
		add_check(v, "signature", "failed",
			  "the %s signature does not verify over this hash with this certificate",
			  alg);
		invalid(v, "signature_invalid");
	}
	t = trust_get(&d->cfg);
	check_certificate(d, t, r->cert, v);
	answer = json_pack("{s:s, s:o}", "algorithm", alg, "signer", signer_json(r->cert));
out:
	trust_put(t);
	EVP_PKEY_CTX_free(ctx);
	return answer;
}

/* The certificate the signer info names: among those the signature carries,
 * else the one given. NULL if neither. */
static X509 *find_signer(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *given)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	X509 *found = NULL;
	int i;

	for (i = 0; i < sk_X509_num(certs) && !found; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			found = sk_X509_value(certs, i);
	if (!found && given && CMS_SignerInfo_cert_cmp(si, given) == 0)
		found = given;
	if (found && !X509_up_ref(found))
		found = NULL;
	sk_X509_pop_free(certs, X509_free);
	return found;
}

/* signingCertificate(V2): names the signer's certificate (RFC 5035). */
static void check_ess(CMS_SignerInfo *si, X509 *signer, struct verdict *v)
{
	ASN1_STRING *v1 = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate),
						      -3, V_ASN1_SEQUENCE);
	ASN1_STRING *v2 = CMS_signed_get0_data_by_OBJ(si,
						      OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2),
						      -3, V_ASN1_SEQUENCE);
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ss2 = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	const unsigned char *p;

	if (!v1 && !v2) {
		add_check(v, "signing_certificate", "skipped",
			  "no signingCertificateV2 attribute: not a CAdES signature");
		goto out;
	}
	if (v1) {
		p = ASN1_STRING_get0_data(v1);
		ss = d2i_ESS_SIGNING_CERT(NULL, &p, ASN1_STRING_length(v1));
	}
	if (v2) {
		p = ASN1_STRING_get0_data(v2);
		ss2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(v2));
	}
	if ((v1 && !ss) || (v2 && !ss2)) {
		add_check(v, "signing_certificate", "failed",
			  "the signingCertificate attribute cannot be read");
		invalid(v, "signing_certificate_mismatch");
		goto out;
	}
	if (chain && sk_X509_push(chain, signer) &&
	    OSSL_ESS_check_signing_certs(ss, ss2, chain, 1) > 0)
		add_check(v, "signing_certificate", "ok", "%s names the signer's certificate",
			  ss2 ? "signingCertificateV2" : "signingCertificate");
	else {
		add_check(v, "signing_certificate", "failed",
			  "%s does not name the signer's certificate",
			  ss2 ? "signingCertificateV2" : "signingCertificate");
		invalid(v, "signing_certificate_mismatch");
	}
out:
	ERR_clear_error();
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ss2);
}

/* The signatureTimeStampToken, over the signature value. A good one whose
 * authority chains to the CA bundle is the proof of existence (v->poe). A bad
 * one is reported and not used: it is an unsigned attribute, which anyone
 * could have added or changed, so it neither proves nor disproves anything
 * (ETSI EN 319 102-1 ignores a time-stamp that does not pass). */
static void check_timestamp(struct trust *t, CMS_SignerInfo *si, struct verdict *v,
			    json_t *answer)
{
	int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
	const ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
	struct tsa_token_info info;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *type;
	char err[320], when[32];

	if (idx < 0) {
		add_check(v, "timestamp", "skipped", "the signature has no timestamp: nothing proves "
			  "when it was made");
		return;
	}
	attr = CMS_unsigned_get_attr(si, idx);
	type = attr && X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
	if (!type || type->type != V_ASN1_SEQUENCE) {
		add_check(v, "timestamp", "failed", "the timestamp attribute is malformed; not used");
		return;
	}
	if (tsa_check_token(t, ASN1_STRING_get0_data(type->value.sequence),
			    (size_t)ASN1_STRING_length(type->value.sequence),
			    ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), &info,
			    err, sizeof(err))) {
		add_check(v, "timestamp", "failed", "%s; not used", err);
		return;
	}
	ossl_time_text(info.time, when, sizeof(when));
	json_object_set_new(answer, "timestamp", json_pack("{s:s, s:s}", "time", when, "tsa", info.tsa));
	if (!info.chain_checked) {
		add_check(v, "timestamp", "unknown", "time-stamped at %s by %s, but the authority's "
			  "certificate is not checked (no CA bundle): not used as proof", when,
			  info.tsa[0] ? info.tsa : "an unnamed authority");
		return;
	}
	add_check(v, "timestamp", "ok", "time-stamped at %s by %s: the signature existed then",
		  when, info.tsa[0] ? info.tsa : "an unnamed authority");
	v->poe = info.time;
	v->poe_source = "signature_timestamp";
}

/* The document timestamps the caller sent, each over the hash it gave (the
 * caller, which reads the document, vouches that what they cover holds the
 * signature: in a PDF, a later /DocTimeStamp whose ByteRange includes it).
 * A good one whose authority chains to the CA bundle, earlier than any proof
 * found so far, becomes the proof of existence. A bad one is reported and
 * not used. */
static void check_document_timestamps(struct trust *t, const struct verify_request *r,
				      struct verdict *v)
{
	struct tsa_token_info info;
	const EVP_MD *md;
	char err[320], when[32];
	size_t i;

	for (i = 0; i < r->n_poe; i++) {
		const struct verify_poe *p = &r->poe[i];

		md = p->hash_len == 32 ? EVP_sha256() : p->hash_len == 48 ? EVP_sha384() :
		     EVP_sha512();
		if (tsa_check_token_hash(t, p->token, p->token_len, md, p->hash, p->hash_len,
					 &info, err, sizeof(err))) {
			add_check(v, "document_timestamp", "failed",
				  "document_timestamps[%zu]: %s; not used", i, err);
			continue;
		}
		ossl_time_text(info.time, when, sizeof(when));
		if (!info.chain_checked) {
			add_check(v, "document_timestamp", "unknown", "document_timestamps[%zu]: "
				  "time-stamped at %s, but the authority's certificate is not checked "
				  "(no CA bundle): not used as proof", i, when);
			continue;
		}
		add_check(v, "document_timestamp", "ok", "document_timestamps[%zu]: the document "
			  "holding the signature was time-stamped at %s by %s", i, when,
			  info.tsa[0] ? info.tsa : "an unnamed authority");
		if (!v->poe || info.time < v->poe) {
			v->poe = info.time;
			v->poe_source = "document_timestamp";
		}
	}
}

/* RFC 5652 11.1: the signed contentType attribute must be there and be the
 * eContentType, which is itself not signed. */
static void check_content_type(CMS_ContentInfo *cms, CMS_SignerInfo *si, struct verdict *v)
{
	const ASN1_OBJECT *econtent = CMS_get0_eContentType(cms);
	ASN1_OBJECT *attr = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_contentType), -3,
							V_ASN1_OBJECT);
	char a[80] = "?", e[80] = "?";

	ERR_clear_error();
	if (attr)
		OBJ_obj2txt(a, sizeof(a), attr, 0);
	if (econtent)
		OBJ_obj2txt(e, sizeof(e), econtent, 0);
	if (!attr) {
		add_check(v, "content_type", "failed", "the signed attributes have no contentType");
		invalid(v, "content_type_mismatch");
	} else if (!econtent || OBJ_cmp(attr, econtent)) {
		add_check(v, "content_type", "failed", "the signed contentType %s is not the "
			  "eContentType %s", a, e);
		invalid(v, "content_type_mismatch");
	} else {
		add_check(v, "content_type", "ok", "the signed contentType is the eContentType (%s)", a);
	}
}

/* The claimed signingTime: reported, never used as the signing time; a claim
 * in the future (beyond SIGNING_TIME_SKEW) is false. */
static void check_signing_time(const ASN1_TIME *st, struct verdict *v, json_t *answer)
{
	time_t claimed, now = time(NULL);
	char when[32], poe[32];

	if (!st) {
		add_check(v, "signing_time", "skipped", "the signature claims no signingTime");
		return;
	}
	claimed = ossl_time(st);
	ossl_time_text(claimed, when, sizeof(when));
	json_object_set_new(answer, "signing_time", json_string(when));
	if (claimed > now + SIGNING_TIME_SKEW) {
		add_check(v, "signing_time", "failed", "the signature claims it was made at %s, "
			  "later than now", when);
		invalid(v, "future_signing_time");
	} else if (v->poe && claimed > v->poe + SIGNING_TIME_SKEW) {
		ossl_time_text(v->poe, poe, sizeof(poe));
		add_check(v, "signing_time", "failed", "the signature claims it was made at %s, "
			  "later than its timestamp %s", when, poe);
		invalid(v, "future_signing_time");
	} else {
		add_check(v, "signing_time", "ok", "claimed %s: a claim of the signer, not proof; "
			  "not used to judge the certificate", when);
	}
}

static const ASN1_TIME *signing_time(CMS_SignerInfo *si)
{
	ASN1_OBJECT *obj = OBJ_nid2obj(NID_pkcs9_signingTime);
	const ASN1_TIME *t = CMS_signed_get0_data_by_OBJ(si, obj, -3, V_ASN1_UTCTIME);

	if (!t)
		t = CMS_signed_get0_data_by_OBJ(si, obj, -3, V_ASN1_GENERALIZEDTIME);
	ERR_clear_error();
	return t;
}

/* RFC 5652 5.4: the signature is over the DER of the signed attributes.
 * OpenSSL checks it over its own DER of what it parsed, so a BER variant of
 * the signed bytes (a flipped constructed bit, a longer length) would pass
 * as well: that DER must be in the signature as it was sent. */
static int signed_attrs_as_sent(CMS_SignerInfo *si, const unsigned char *sig, size_t len)
{
	int i, n = CMS_signed_get_attr_count(si), total = 0, size, l, ok = 0;
	unsigned char *der = NULL, *p;

	for (i = 0; i < n; i++) {
		l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), NULL);
		if (l <= 0)
			goto out;
		total += l;
	}
	size = ASN1_object_size(1, total, 0);
	if (size <= 0 || !(der = OPENSSL_malloc((size_t)size)))
		goto out;
	p = der;
	ASN1_put_object(&p, 1, total, 0, V_ASN1_CONTEXT_SPECIFIC);	/* [0] IMPLICIT SET OF */
	for (i = 0; i < n; i++)
		if (i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &p) <= 0)
			goto out;
	ok = memmem(sig, len, der, (size_t)size) != NULL;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	return ok;
}

static json_t *verify_cms(struct kysod *d, const struct verify_request *r, struct verdict *v,
			  struct kyso_reply *rep)
{
	const unsigned char *p = r->signature;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)r->signature_len);
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	X509_ALGOR *digalg = NULL, *sigalg = NULL;
	ASN1_OCTET_STRING *md;
	const ASN1_OBJECT *oid;
	struct trust *t = NULL;
	json_t *answer = NULL;
	X509 *signer = NULL;
	EVP_PKEY *pkey;
	const char *hash_name;
	char alg[48], err[256];
	int nid;

	if (!cms || p != r->signature + r->signature_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		kyso_reply_error(rep, KE_SIGNATURE_MALFORMED,
				 "the signature is not a DER CMS SignedData");
		goto malformed;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		kyso_reply_error(rep, KE_SIGNATURE_MALFORMED,
				 "the CMS signature has %d signers; one is expected",
				 sk_CMS_SignerInfo_num(sis));
		goto malformed;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	signer = find_signer(cms, si, r->cert);
	if (!signer) {
		kyso_reply_error(rep, KE_SIGNATURE_MALFORMED, "%s",
				 r->cert ? "the CMS signature was not made with the given certificate" :
				 "the CMS signature does not carry its signer's certificate; "
				 "send it in \"certificate\"");
		goto malformed;
	}
	pkey = X509_get0_pubkey(signer);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digalg, &sigalg);
	X509_ALGOR_get0(&oid, NULL, NULL, digalg);
	nid = OBJ_obj2nid(oid);
	hash_name = nid == NID_sha256 ? "sha256" : nid == NID_sha384 ? "sha384" :
		    nid == NID_sha512 ? "sha512" : (nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
	X509_ALGOR_get0(&oid, NULL, NULL, sigalg);
	algorithm_name(pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA,
		       OBJ_obj2nid(oid) == NID_rsassaPss, hash_name, alg, sizeof(alg));
	answer = json_pack("{s:s, s:o}", "algorithm", alg, "signer", signer_json(signer));

	/* the record: messageDigest is the hash, made with the algorithm named */
	md = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3,
					 V_ASN1_OCTET_STRING);
	ERR_clear_error();
	if (strcmp(hash_name, hash_alg_name(r->hash_alg)))
		add_check(v, "digest", "failed", "the signature was made over a %s hash, not %s",
			  hash_name, hash_alg_name(r->hash_alg));
	else if (!md)
		add_check(v, "digest", "failed", "the signature has no messageDigest attribute");
	else if ((size_t)ASN1_STRING_length(md) != r->hash_len ||
		 memcmp(ASN1_STRING_get0_data(md), r->hash, r->hash_len))
		add_check(v, "digest", "failed", "messageDigest is not this hash: the signature is "
			  "over another record");
	else
		add_check(v, "digest", "ok", "messageDigest is the record's %s hash", hash_name);
	if (strcmp(hash_name, hash_alg_name(r->hash_alg)) || !md ||
	    (size_t)ASN1_STRING_length(md) != r->hash_len ||
	    memcmp(ASN1_STRING_get0_data(md), r->hash, r->hash_len))
		invalid(v, "digest_mismatch");
	check_content_type(cms, si, v);

	/* the signature over the signed attributes */
	CMS_SignerInfo_set1_signer_cert(si, signer);
	if (CMS_signed_get_attr_count(si) < 0) {
		add_check(v, "signature", "failed",
			  "signatures without signed attributes are not supported");
		invalid(v, "signature_invalid");
	} else if (CMS_SignerInfo_verify(si) == 1) {
		if (signed_attrs_as_sent(si, r->signature, r->signature_len)) {
			add_check(v, "signature", "ok",
				  "%s signature over the signed attributes verifies", alg);
		} else {
			add_check(v, "signature", "failed", "the signed attributes are not in DER "
				  "(RFC 5652 5.4): the bytes sent are not the bytes signed");
			invalid(v, "signature_invalid");
		}
	} else {
		ossl_error(NULL, err, sizeof(err));
		add_check(v, "signature", "failed", "the signature does not verify: %s", err);
		invalid(v, "signature_invalid");
	}
	check_ess(si, signer, v);

	t = trust_get(&d->cfg);
	check_timestamp(t, si, v, answer);
	check_document_timestamps(t, r, v);
	if (r->at_verification_time && v->poe) {
		add_check(v, "proof_of_existence", "skipped", "judged at the verification time, as "
			  "asked: no timestamp is used as proof");
		v->poe = 0;
		v->poe_source = NULL;
	}
	if (v->poe) {
		char when[32];

		ossl_time_text(v->poe, when, sizeof(when));
		json_object_set_new(answer, "proof_of_existence",
				    json_pack("{s:s, s:s}", "time", when, "source", v->poe_source));
	}
	check_signing_time(signing_time(si), v, answer);
	check_certificate(d, t, signer, v);
	goto out;
malformed:
	kyso_reply_error_set(rep, "field", json_string("signature"));
out:
	ERR_clear_error();
	trust_put(t);
	X509_free(signer);
	CMS_ContentInfo_free(cms);
	return answer;
}

json_t *verify_signature(struct kysod *d, const struct verify_request *r, struct kyso_reply *rep)
{
	struct verdict v = { json_array(), NULL, NULL, 0, NULL, d->cfg.revocation_soft_fail };
	const char *status, *reason;
	json_t *answer;
	char when[32];

	if (!v.list) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		return NULL;
	}
	ossl_time_text(time(NULL), when, sizeof(when));
	answer = r->format == FORMAT_CMS ? verify_cms(d, r, &v, rep) : verify_raw(d, r, &v, rep);
	if (!answer) {
		json_decref(v.list);
		return NULL;
	}
	if (v.invalid) {
		status = "invalid";
		reason = v.invalid;
	} else if (v.indeterminate) {
		status = "indeterminate";
		reason = v.indeterminate;
	} else {
		status = "valid";
		reason = v.poe ? "valid_at_timestamp" : "valid_now";
	}
	log_debug("verify: %s (%s)", status, reason);
	json_object_set_new(answer, "valid", json_boolean(!strcmp(status, "valid")));
	json_object_set_new(answer, "status", json_string(status));
	json_object_set_new(answer, "reason", json_string(reason));
	json_object_set_new(answer, "format",
			    json_string(r->format == FORMAT_CMS ? "cms" : "raw"));
	json_object_set_new(answer, "verified_at", json_string(when));
	json_object_set_new(answer, "checks", v.list);
	return answer;
}
