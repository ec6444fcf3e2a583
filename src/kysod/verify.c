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

#include "kysod/ossl-util.h"
#include "kysod/cert-check.h"
#include "kysod/cert-info.h"
#include "kysod/cms-sign.h"
#include "kysod/trust-store.h"
#include "kysod/tsa.h"
#include "kysod/verify.h"

/* The checks made so far and whether they all passed. */
struct checks {
	json_t *list;
	int valid;
	int soft_fail;		/* an unknown revocation status does not make it invalid */
};

static void add_check(struct checks *c, const char *name, const char *result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* result: "ok", "failed", "unknown" or "skipped". */
static void add_check(struct checks *c, const char *name, const char *result, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(result, "failed") || (!strcmp(result, "unknown") && !c->soft_fail))
		c->valid = 0;
	json_array_append_new(c->list, json_pack("{s:s, s:s, s:s}", "check", name, "result", result,
						 "message", msg));
}

static void time_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

/* The certificate checks, at the time the signature was made (at). */
static void check_certificate(struct kysod *d, struct trust *t, X509 *x, time_t at,
			      const char *time_source, struct checks *c)
{
	struct cert_status st;
	char when[32], rev[32];

	time_text(at, when, sizeof(when));
	cert_check_basic(&d->cfg, t, x, at, &st);
	if (st.problems & (CERT_EXPIRED | CERT_NOT_YET_VALID))
		add_check(c, "validity", "failed", "at %s (%s): %s", when, time_source,
			  st.messages[st.problems & CERT_EXPIRED ? 0 : 1]);
	else
		add_check(c, "validity", "ok", "valid at %s (%s)", when, time_source);
	if (st.problems & CERT_USAGE)
		add_check(c, "key_usage", "failed", "%s", st.messages[2]);
	else
		add_check(c, "key_usage", "ok", "the key usage allows signing");
	if (!st.chain_checked)
		add_check(c, "chain", "skipped", "no CA bundle is configured (ca_bundle)");
	else if (st.problems & CERT_UNTRUSTED)
		add_check(c, "chain", "failed", "%s", st.messages[3]);
	else
		add_check(c, "chain", "ok", "chains to the configured CA bundle (%d certificates)",
			  sk_X509_num(st.chain));
	if (!st.chain) {
		add_check(c, "revocation", "skipped", "%s", st.chain_checked ?
			  "the certificate has no trusted chain" :
			  "no CA bundle is configured: the issuer is not known");
		goto out;
	}
	cert_check_revocation(&d->cfg, t, x, &st);
	switch (st.revocation.status) {
	case REVOCATION_GOOD:
		add_check(c, "revocation", "ok", "%s (%s)", st.revocation.message,
			  st.revocation.source);
		break;
	case REVOCATION_REVOKED:
		time_text(st.revocation.revoked_at, rev, sizeof(rev));
		/* revoked after a proven signing time: the signature stands */
		if (!strcmp(time_source, "timestamp") && st.revocation.revoked_at > at)
			add_check(c, "revocation", "ok",
				  "revoked at %s, after the timestamped signing time (%s)", rev,
				  st.revocation.source);
		else
			add_check(c, "revocation", "failed", "revoked at %s (%s)", rev,
				  st.revocation.source);
		break;
	case REVOCATION_UNKNOWN:
		add_check(c, "revocation", "unknown", "%s", st.revocation.message);
		break;
	default:
		add_check(c, "revocation", "skipped", "%s", st.revocation.message);
		break;
	}
out:
	cert_status_free(&st);
}

static void algorithm_name(int rsa, int pss, const char *hash, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s-%s", rsa ? (pss ? "rsa-pss" : "rsa-pkcs1") : "ecdsa", hash);
}

static json_t *verify_raw(struct kysod *d, const struct verify_request *r, struct checks *c,
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
		kyso_reply_error(rep, "certificate_malformed", "the certificate's key cannot be read");
		kyso_reply_error_set(rep, "field", json_string("certificate"));
		return NULL;
	}
	rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	if (!rsa && r->padding != KYSO_PAD_DEFAULT) {
		kyso_reply_error(rep, "unsupported_padding",
				 "padding applies to RSA keys only; this certificate has an EC key");
		kyso_reply_error_set(rep, "field", json_string("padding"));
		return NULL;
	}
	algorithm_name(rsa, r->padding == KYSO_PAD_PSS, kyso_hash_alg_name(r->hash_alg), alg,
		       sizeof(alg));
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    (rsa && EVP_PKEY_CTX_set_rsa_padding(ctx, r->padding == KYSO_PAD_PSS ?
						 RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0) ||
	    (rsa && r->padding == KYSO_PAD_PSS &&
	     (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0))) {
		ossl_error(NULL, err, sizeof(err));
		kyso_reply_error(rep, "internal_error", "the verification cannot be set up: %s", err);
		goto out;
	}
	ok = EVP_PKEY_verify(ctx, r->signature, r->signature_len, r->hash, r->hash_len) == 1;
	ERR_clear_error();
	if (ok)
		add_check(c, "signature", "ok", "%s signature over the hash verifies", alg);
	else
		add_check(c, "signature", "failed",
			  "the %s signature does not verify over this hash with this certificate",
			  alg);
	t = trust_get(&d->cfg);
	check_certificate(d, t, r->cert, time(NULL), "now", c);
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
static void check_ess(CMS_SignerInfo *si, X509 *signer, struct checks *c)
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
		add_check(c, "signing_certificate", "skipped",
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
		add_check(c, "signing_certificate", "failed",
			  "the signingCertificate attribute cannot be read");
		goto out;
	}
	if (chain && sk_X509_push(chain, signer) &&
	    OSSL_ESS_check_signing_certs(ss, ss2, chain, 1) > 0)
		add_check(c, "signing_certificate", "ok", "%s names the signer's certificate",
			  ss2 ? "signingCertificateV2" : "signingCertificate");
	else
		add_check(c, "signing_certificate", "failed",
			  "%s does not name the signer's certificate",
			  ss2 ? "signingCertificateV2" : "signingCertificate");
out:
	ERR_clear_error();
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ss2);
}

/* The signatureTimeStampToken, over the signature value. Returns 1 with *at
 * set when there is a good one. */
static int check_timestamp(struct trust *t, CMS_SignerInfo *si, struct checks *c, json_t *answer,
			   time_t *at)
{
	int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
	const ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
	struct tsa_token_info info;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *type;
	char err[320], when[32];

	if (idx < 0) {
		add_check(c, "timestamp", "skipped", "the signature has no timestamp");
		return 0;
	}
	attr = CMS_unsigned_get_attr(si, idx);
	type = attr && X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
	if (!type || type->type != V_ASN1_SEQUENCE) {
		add_check(c, "timestamp", "failed", "the timestamp attribute is malformed");
		return 0;
	}
	if (tsa_check_token(t, ASN1_STRING_get0_data(type->value.sequence),
			    (size_t)ASN1_STRING_length(type->value.sequence),
			    ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), &info,
			    err, sizeof(err))) {
		add_check(c, "timestamp", "failed", "%s", err);
		return 0;
	}
	time_text(info.time, when, sizeof(when));
	add_check(c, "timestamp", "ok", "time-stamped at %s by %s%s", when,
		  info.tsa[0] ? info.tsa : "an unnamed authority",
		  info.chain_checked ? "" : " (the authority's certificate is not checked: no CA bundle)");
	json_object_set_new(answer, "timestamp", json_pack("{s:s, s:s}", "time", when, "tsa", info.tsa));
	*at = info.time;
	return 1;
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

static json_t *verify_cms(struct kysod *d, const struct verify_request *r, struct checks *c,
			  struct kyso_reply *rep)
{
	const unsigned char *p = r->signature;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)r->signature_len);
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	X509_ALGOR *digalg = NULL, *sigalg = NULL;
	ASN1_OCTET_STRING *md;
	const ASN1_OBJECT *oid;
	const ASN1_TIME *st;
	struct trust *t = NULL;
	json_t *answer = NULL;
	X509 *signer = NULL;
	EVP_PKEY *pkey;
	const char *hash_name, *source = "now";
	char alg[48], err[256], when[32];
	time_t at = time(NULL);
	int nid;

	if (!cms || p != r->signature + r->signature_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		kyso_reply_error(rep, "signature_malformed",
				 "the signature is not a DER CMS SignedData");
		goto malformed;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		kyso_reply_error(rep, "signature_malformed",
				 "the CMS signature has %d signers; one is expected",
				 sk_CMS_SignerInfo_num(sis));
		goto malformed;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	signer = find_signer(cms, si, r->cert);
	if (!signer) {
		kyso_reply_error(rep, "signature_malformed", "%s",
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
	if (strcmp(hash_name, kyso_hash_alg_name(r->hash_alg)))
		add_check(c, "digest", "failed", "the signature was made over a %s hash, not %s",
			  hash_name, kyso_hash_alg_name(r->hash_alg));
	else if (!md)
		add_check(c, "digest", "failed", "the signature has no messageDigest attribute");
	else if ((size_t)ASN1_STRING_length(md) != r->hash_len ||
		 memcmp(ASN1_STRING_get0_data(md), r->hash, r->hash_len))
		add_check(c, "digest", "failed", "messageDigest is not this hash: the signature is "
			  "over another record");
	else
		add_check(c, "digest", "ok", "messageDigest is the record's %s hash", hash_name);

	/* the signature over the signed attributes */
	CMS_SignerInfo_set1_signer_cert(si, signer);
	if (CMS_signed_get_attr_count(si) < 0) {
		add_check(c, "signature", "failed",
			  "signatures without signed attributes are not supported");
	} else if (CMS_SignerInfo_verify(si) == 1) {
		add_check(c, "signature", "ok", "%s signature over the signed attributes verifies",
			  alg);
	} else {
		ossl_error(NULL, err, sizeof(err));
		add_check(c, "signature", "failed", "the signature does not verify: %s", err);
	}
	check_ess(si, signer, c);

	t = trust_get(&d->cfg);
	st = signing_time(si);
	if (st) {
		time_text(ossl_time(st), when, sizeof(when));
		json_object_set_new(answer, "signing_time", json_string(when));
	}
	if (check_timestamp(t, si, c, answer, &at)) {
		source = "timestamp";
	} else if (st) {
		at = ossl_time(st);
		source = "signing_time";
	}
	check_certificate(d, t, signer, at, source, c);
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
	struct checks c = { json_array(), 1, d->cfg.revocation_soft_fail };
	json_t *answer;
	char when[32];

	if (!c.list) {
		kyso_reply_error(rep, "internal_error", "out of memory");
		return NULL;
	}
	answer = r->format == KYSO_FORMAT_CMS ? verify_cms(d, r, &c, rep) : verify_raw(d, r, &c, rep);
	if (!answer) {
		json_decref(c.list);
		return NULL;
	}
	time_text(time(NULL), when, sizeof(when));
	json_object_set_new(answer, "valid", json_boolean(c.valid));
	json_object_set_new(answer, "format",
			    json_string(r->format == KYSO_FORMAT_CMS ? "cms" : "raw"));
	json_object_set_new(answer, "verified_at", json_string(when));
	json_object_set_new(answer, "checks", c.list);
	return answer;
}
