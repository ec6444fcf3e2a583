#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "kysod/ossl-util.h"
#include "kysod/http-post.h"
#include "kysod/revocation.h"

/* How far an OCSP answer's thisUpdate may lie in the future (clock skew). */
#define OCSP_SKEW 300

const char *revocation_status_name(enum revocation_status s)
{
	switch (s) {
	case REVOCATION_GOOD:
		return "good";
	case REVOCATION_REVOKED:
		return "revoked";
	case REVOCATION_UNKNOWN:
		return "unknown";
	default:
		return "not_checked";
	}
}

/* Errors at depth 0 about the leaf's own validity period are not the CRL's business. */
static int crl_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	int err = X509_STORE_CTX_get_error(ctx);

	if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0 &&
	    (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

static time_t crl_revocation_time(struct trust *t, X509 *x)
{
	X509_REVOKED *rev = NULL;
	int i;

	for (i = 0; i < sk_X509_CRL_num(t->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(t->crls, i);

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0 &&
		    X509_CRL_get0_by_cert(crl, &rev, x) == 1 && rev)
			return ossl_time(X509_REVOKED_get0_revocationDate(rev));
	}
	return 0;
}

/* The CRL files: 1 when they decided (r set), 0 when they do not cover x
 * (why in r->message when they should have). */
static int by_crl(struct trust *t, X509 *x, struct revocation *r)
{
	X509_STORE_CTX *ctx = NULL;
	int err, decided = 0;

	if (sk_X509_CRL_num(t->crls) == 0) {
		if (t->crl_error[0])
			snprintf(r->message, sizeof(r->message), "%s", t->crl_error);
		return 0;
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, x, NULL))
		goto out;
	X509_STORE_CTX_set0_crls(ctx, t->crls);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
	X509_STORE_CTX_set_verify_cb(ctx, crl_verify_cb);
	if (X509_verify_cert(ctx) > 0) {
		r->status = REVOCATION_GOOD;
		r->source = "crl";
		snprintf(r->message, sizeof(r->message), "not on the issuer's CRL");
		decided = 1;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	if (err == X509_V_ERR_CERT_REVOKED) {
		r->status = REVOCATION_REVOKED;
		r->source = "crl";
		r->revoked_at = crl_revocation_time(t, x);
		snprintf(r->message, sizeof(r->message), "the certificate is on its issuer's CRL");
		decided = 1;
	} else if (err == X509_V_ERR_UNABLE_TO_GET_CRL) {
		snprintf(r->message, sizeof(r->message), "no configured CRL covers this certificate%s%s",
			 t->crl_error[0] ? "; " : "", t->crl_error);
	} else {
		snprintf(r->message, sizeof(r->message), "the issuer's CRL cannot be used: %s",
			 X509_verify_cert_error_string(err));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return decided;
}

/* The responder's URL: the configured one, else the first http(s) one in the AIA. */
static char *ocsp_url(const struct kysod_config *cfg, X509 *x)
{
	STACK_OF(OPENSSL_STRING) *aia;
	char *url = NULL;
	int i;

	if (cfg->ocsp_url)
		return strdup(cfg->ocsp_url);
	aia = X509_get1_ocsp(x);
	for (i = 0; i < sk_OPENSSL_STRING_num(aia) && !url; i++) {
		const char *u = sk_OPENSSL_STRING_value(aia, i);

		if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8))
			url = strdup(u);
	}
	X509_email_free(aia);
	return url;
}

/* OCSP: 1 when the responder decided (r set), 0 when it could not tell (why in r->message). */
static int by_ocsp(const struct kysod_config *cfg, struct trust *t, X509 *x, X509 *issuer,
		   const char *url, struct revocation *r)
{
	OCSP_REQUEST *req = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
	unsigned char *der = NULL, *answer = NULL;
	const unsigned char *p;
	size_t answer_len = 0;
	char err[256];
	int len, status, reason, nonce, decided = 0;

	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(NULL, x, issuer);
	if (!req || !id || !OCSP_request_add0_id(req, id)) {
		OCSP_CERTID_free(id);
		id = NULL;
		snprintf(r->message, sizeof(r->message), "the OCSP request cannot be built");
		goto out;
	}
	/* req owns id now; keep a pointer for the lookup in the answer */
	if (!OCSP_request_add1_nonce(req, NULL, -1) || (len = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		snprintf(r->message, sizeof(r->message), "the OCSP request cannot be built");
		goto out;
	}
	if (http_post(url, "application/ocsp-request", der, (size_t)len, cfg->ocsp_timeout, &answer,
		      &answer_len, err, sizeof(err))) {
		snprintf(r->message, sizeof(r->message), "the OCSP responder did not answer: %s", err);
		goto out;
	}
	p = answer;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)answer_len);
	if (!resp) {
		snprintf(r->message, sizeof(r->message), "the OCSP responder %s sent no OCSP response",
			 url);
		goto out;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(r->message, sizeof(r->message), "the OCSP responder %s answered \"%s\"", url,
			 OCSP_response_status_str(status));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs) {
		snprintf(r->message, sizeof(r->message), "the OCSP answer has no basic response");
		goto out;
	}
	nonce = OCSP_check_nonce(req, bs);
	if (nonce == 0) {
		snprintf(r->message, sizeof(r->message), "the OCSP answer's nonce does not match");
		goto out;
	}
	if (OCSP_basic_verify(bs, NULL, t->store, 0) <= 0) {
		ossl_error(NULL, err, sizeof(err));
		snprintf(r->message, sizeof(r->message),
			 "the OCSP answer's signature cannot be trusted: %s", err);
		goto out;
	}
	if (!OCSP_resp_find_status(bs, id, &status, &reason, &revtime, &thisupd, &nextupd)) {
		snprintf(r->message, sizeof(r->message),
			 "the OCSP answer does not speak of this certificate");
		goto out;
	}
	if (!OCSP_check_validity(thisupd, nextupd, OCSP_SKEW, -1)) {
		snprintf(r->message, sizeof(r->message), "the OCSP answer is out of date");
		goto out;
	}
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		r->status = REVOCATION_GOOD;
		r->source = "ocsp";
		snprintf(r->message, sizeof(r->message), "the OCSP responder says good");
		decided = 1;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		r->status = REVOCATION_REVOKED;
		r->source = "ocsp";
		r->revoked_at = ossl_time(revtime);
		snprintf(r->message, sizeof(r->message), "the OCSP responder says revoked (%s)",
			 reason >= 0 ? OCSP_crl_reason_str(reason) : "no reason given");
		decided = 1;
		break;
	default:
		snprintf(r->message, sizeof(r->message),
			 "the OCSP responder does not know this certificate");
		break;
	}
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	OPENSSL_free(der);
	free(answer);
	return decided;
}

void revocation_check(const struct kysod_config *cfg, struct trust *t, X509 *x,
		      STACK_OF(X509) *chain, struct revocation *r)
{
	char crl_why[320] = "", *url = NULL;

	memset(r, 0, sizeof(*r));
	r->status = REVOCATION_NOT_CHECKED;
	if (!cfg->n_crls && !cfg->ocsp) {
		snprintf(r->message, sizeof(r->message), "revocation checking is not configured");
		return;
	}
	if (!t || !t->store || sk_X509_num(chain) < 2) {
		snprintf(r->message, sizeof(r->message), "%s",
			 !t || !t->store ? "no CA bundle: the issuer is not known" :
			 "a trust anchor is not checked for revocation");
		return;
	}
	if (cfg->n_crls) {
		if (by_crl(t, x, r))
			return;
		snprintf(crl_why, sizeof(crl_why), "%s", r->message);
	}
	if (cfg->ocsp) {
		url = ocsp_url(cfg, x);
		if (url) {
			log_debug("OCSP: asking %s", url);
			if (by_ocsp(cfg, t, x, sk_X509_value(chain, 1), url, r)) {
				free(url);
				return;
			}
		} else {
			snprintf(r->message, sizeof(r->message),
				 "the certificate names no OCSP responder and no ocsp_url is set");
		}
	}
	free(url);
	r->status = REVOCATION_UNKNOWN;
	if (crl_why[0] && cfg->ocsp) {
		char both[sizeof(r->message)];

		snprintf(both, sizeof(both), "%.150s; %.150s", crl_why, r->message);
		snprintf(r->message, sizeof(r->message), "%s", both);
	} else if (crl_why[0]) {
		snprintf(r->message, sizeof(r->message), "%s", crl_why);
	}
}
