/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <time.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/api.h"
#include "kysod/audit.h"
#include "kysod/cert-check.h"
#include "kysod/cms-sign.h"
#include "kysod/sign-flow.h"
#include "kysod/tsa.h"
#include "kysod/sign-record.h"
#include "kysod/sign-request.h"

static const struct sign_consent consent = { .what = "a record" };

/* The answer's "validation_data": the signer's certificate and the rest of
 * its verified chain, and the CRLs and OCSP answers the check before the
 * signature used (the material of a PDF's /DSS). Ownership of the evidence's
 * arrays stays with ev. NULL when out of memory. */
static json_t *validation_data(X509 *signer, STACK_OF(X509) *chain,
			       const struct revocation_evidence *ev)
{
	json_t *certs = json_array(), *ret = NULL;
	int i;

	for (i = -1; certs && i < sk_X509_num(chain); i++)
		if (revocation_evidence_add_cert(certs, i < 0 ? signer : sk_X509_value(chain, i)))
			goto out;
	if (certs)
		ret = json_pack("{s:O, s:O, s:O}", "certificates", certs, "crls", ev->crls,
				"ocsp_responses", ev->ocsp_responses);
out:
	json_decref(certs);
	return ret;
}

/* A detached CMS SignedData over the record hash: OpenSSL builds it, the
 * token signs its signed attributes, the TSA (when asked) stamps the
 * signature value. Returns 0 with *der (OPENSSL_free) set, or -1 with rep set;
 * nothing half-built is returned. */
static int sign_cms(struct kysod *d, const struct sign_target *target,
		    const struct kysod_request *req, const struct sign_request *sreq,
		    X509 *signer, STACK_OF(X509) *chain, unsigned char **der, size_t *der_len,
		    struct tsa_token_info *ts, struct kyso_reply *rep)
{
	struct cms_signer cs;
	const ASN1_OCTET_STRING *value;
	struct trust *t = NULL;
	unsigned char sig[SIGN_MAX_SIG], *token = NULL;
	size_t sig_len = 0, token_len = 0;
	char err[320];
	int ret = -1;

	if (cms_sign_begin(&cs, signer, chain, sreq->hash_alg, sreq->padding == PAD_PSS,
			   sreq->profile, sreq->hash, sreq->hash_len, err, sizeof(err))) {
		log_error("CMS signature: %s", err);
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the CMS structure cannot be built: %s", err);
		return -1;
	}
	if (sign_hash(d, target, req->peer, &consent, cs.tbs, cs.tbs_len, sig, &sig_len, rep))
		goto out;
	if (cms_sign_set_signature(&cs, sig, sig_len)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	if (sreq->timestamp) {
		value = cms_sign_signature(&cs);
		t = trust_get(&d->cfg);
		if (tsa_timestamp(&d->cfg, t, cms_md(sreq->hash_alg), ASN1_STRING_get0_data(value),
				  (size_t)ASN1_STRING_length(value), &token, &token_len, ts, err,
				  sizeof(err))) {
			log_warn("timestamp from %s failed: %s", d->cfg.tsa_url, err);
			kyso_reply_error(rep, KE_TIMESTAMP_FAILED, "%s", err);
			goto out;
		}
		if (cms_sign_add_timestamp(&cs, token, token_len)) {
			kyso_reply_error(rep, KE_INTERNAL_ERROR, "the timestamp cannot be added");
			goto out;
		}
	}
	if (cms_sign_finish(&cs, sreq->hash, sreq->hash_len, der, der_len, err, sizeof(err))) {
		log_error("CMS signature: %s", err);
		kyso_reply_error(rep, KE_TOKEN_ERROR, "the CMS signature does not verify: %s", err);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_free(token);
	trust_put(t);
	cms_signer_free(&cs);
	return ret;
}

/* The result entry of an attempt that has an intent entry (written before the
 * token was asked) is left to the request's after hook: written once the
 * answer has been sent, off the answer's path. An attempt refused before has
 * no other entry: its result is written now, before its answer, as it is when
 * no copy can be made. Returns 0, or -1 when writing it now failed. */
static int record_result(const struct kysod_request *req, const struct sign_record *rec)
{
	struct sign_record_copy *c = rec->intent ? sign_record_keep(rec) : NULL;
	uint64_t seq;

	if (!c)
		return sign_record(req->d, rec, &seq);
	kysod_request_after(req, sign_record_later, c);	/* c passes to the request */
	return 0;
}

void api_sign(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;
	struct sign_request sreq;
	struct sign_target target;
	struct sign_record rec = { 0 };
	struct tsa_token_info ts = { 0 };
	struct revocation_evidence ev = { 0 };
	STACK_OF(X509) *chain = NULL;
	X509 *signer = NULL;
	unsigned char sig[SIGN_MAX_SIG], *der = NULL;
	size_t sig_len = 0, der_len = 0;
	char audit_ref[64], *sig_b64 = NULL;
	uint64_t intent = 0;
	int found, cms, rc = -1;

	if (sign_request_parse(req->body, req->body_len, &sreq, rep))
		goto out;
	cms = sreq.format == FORMAT_CMS;
	if (sreq.validation_data && revocation_evidence_init(&ev)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	if (sreq.timestamp && !d->cfg.tsa_url) {
		kyso_reply_error(rep, KE_TIMESTAMP_UNAVAILABLE,
				 "no time-stamp authority is configured (tsa_url)");
		kyso_reply_error_set(rep, "field", json_string("timestamp"));
		goto out;
	}
	found = sign_target_init(d, sreq.certificate, sreq.hash_alg, sreq.padding, &target, rep) == 0;
	rec.peer = req->peer;
	rec.certificate = sreq.certificate;
	rec.target = found ? &target : NULL;
	rec.hash_alg = sreq.hash_alg;
	rec.hash = sreq.hash;
	rec.hash_len = sreq.hash_len;
	rec.format = cms ? "cms" : "raw";
	/* the certificate is checked before the user is asked anything; the
	 * intent entry is written and synced while the token signs (once the
	 * SIGN is on its way), and no signature is returned before it is on
	 * disk */
	if (found && cert_check_signing(d, sreq.certificate,
					cms || sreq.validation_data ? &signer : NULL,
					cms || sreq.validation_data ? &chain : NULL,
					sreq.validation_data ? &ev : NULL, rep) == 0) {
		target.intent_rec = &rec;
		target.intent_seq = &intent;
		if (cms)
			rc = sign_cms(d, &target, req, &sreq, signer, chain, &der, &der_len, &ts,
				      rep);
		else
			rc = sign_hash(d, &target, req->peer, &consent, sreq.hash, sreq.hash_len,
				       sig, &sig_len, rep);
	}

	/* a signature came back only after its SIGN, so with its intent */
	if (rc == 0 && !intent) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the signature has no intent entry");
		rc = -1;
	}
	rec.intent = intent;
	rec.result = rc == 0 ? "ok" :
		     json_string_value(json_object_get(json_object_get(rep->body, "error"), "code"));
	if (!rec.result)
		rec.result = "internal_error";
	/* The signature is not returned before its intent entry is on disk
	 * (synced while the token signed, so this wait is normally over at
	 * once); its result entry is written once the answer has gone, and
	 * made durable by a later sync. */
	if (record_result(req, &rec) || (rc == 0 && audit_wait(&d->audit, intent))) {
		if (rc == 0)
			kyso_reply_error(rep, KE_AUDIT_FAILED,
					 "the audit log cannot be written; no signature is returned");
		goto out;
	}
	if (rc)
		goto out;
	sig_b64 = cms ? kyso_b64_encode(der, der_len) : kyso_b64_encode(sig, sig_len);
	if (!sig_b64) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	audit_id(&d->audit, intent, audit_ref, sizeof(audit_ref));
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s, s:s}", "signature", sig_b64,
					  "algorithm", target.algorithm, "certificate", target.cert.id,
					  "audit_id", audit_ref));
	if (cms) {
		json_object_set_new(rep->body, "format", json_string("cms"));
		json_object_set_new(rep->body, "profile", json_string(sreq.profile == PROFILE_PADES ?
								      "pades" : "cades"));
	}
	if (cms && sreq.timestamp) {
		char when[32];
		struct tm tm;

		gmtime_r(&ts.time, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(rep->body, "timestamp",
				    json_pack("{s:s, s:s}", "time", when, "tsa", ts.tsa));
	}
	if (sreq.validation_data) {
		json_t *vd = validation_data(signer, chain, &ev);

		if (!vd) {
			kyso_reply_clear(rep);
			kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
			goto out;
		}
		json_object_set_new(rep->body, "validation_data", vd);
	}
out:
	free(sig_b64);
	OPENSSL_free(der);
	X509_free(signer);
	sk_X509_pop_free(chain, X509_free);
	revocation_evidence_free(&ev);
	OPENSSL_cleanse(&sreq, sizeof(sreq));
}
