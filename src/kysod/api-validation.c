/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POST /v1/validation: the material a long-term signature keeps (a PDF's
 * /DSS): for each certificate given, its chain to the CA bundle and the
 * CRLs and OCSP answers that show, now, that no certificate of it is
 * revoked. The certificates given may complete each other's chains.
 */
#include <stdlib.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "kysod/api.h"
#include "kysod/ossl-util.h"
#include "kysod/request-fields.h"
#include "kysod/revocation.h"
#include "kysod/trust-store.h"

/* Certificates one request may name. */
#define VALIDATION_MAX_CERTS 32

/* A certificate's own validity period does not stop its chain from being
 * built: evidence is also gathered for one that has expired. */
static int chain_cb(int ok, X509_STORE_CTX *ctx)
{
	int err = X509_STORE_CTX_get_error(ctx);

	if (!ok && (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

/* The "certificates" of the request. 0, or -1 with rep set. */
static int read_certs(json_t *root, STACK_OF(X509) *certs, struct kyso_reply *rep)
{
	json_t *list = json_object_get(root, "certificates"), *v;
	unsigned char *der;
	const unsigned char *p;
	size_t i, len;
	X509 *x;

	if (!list)
		return field_error(rep, KE_MISSING_FIELD, "certificates", "is required");
	if (!json_is_array(list))
		return field_error(rep, KE_INVALID_TYPE, "certificates",
				   "must be an array of base64 DER certificates");
	if (!json_array_size(list) || json_array_size(list) > VALIDATION_MAX_CERTS) {
		kyso_reply_error(rep, KE_INVALID_VALUE, "certificates: 1 to %d certificates",
				 VALIDATION_MAX_CERTS);
		kyso_reply_error_set(rep, "field", json_string("certificates"));
		return -1;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return field_error(rep, KE_INVALID_TYPE, "certificates",
					   "must be an array of base64 DER certificates");
		der = kyso_b64_decode_alloc(json_string_value(v), json_string_length(v), &len);
		p = der;
		x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
		if (x && p != der + len) {
			X509_free(x);
			x = NULL;
		}
		free(der);
		ERR_clear_error();
		if (!x || !sk_X509_push(certs, x)) {
			X509_free(x);
			kyso_reply_error(rep, KE_CERTIFICATE_MALFORMED,
					 "certificates[%zu] is not a base64 DER certificate", i);
			kyso_reply_error_set(rep, "field", json_string("certificates"));
			return -1;
		}
	}
	return 0;
}

/* x's chain to the CA bundle (a new stack), the others in certs helping. */
static STACK_OF(X509) *build_chain(struct trust *t, X509 *x, STACK_OF(X509) *certs,
				   char *why, size_t whylen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;

	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, x, certs)) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	X509_STORE_CTX_set_verify_cb(ctx, chain_cb);
	if (X509_verify_cert(ctx) > 0)
		chain = X509_STORE_CTX_get1_chain(ctx);
	else
		snprintf(why, whylen, "%s (depth %d)",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
			 X509_STORE_CTX_get_error_depth(ctx));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return chain;
}

void api_validation(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "certificates" };
	struct kysod *d = req->d;
	struct revocation_evidence ev = { 0 };
	struct revocation *r = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null(), *chain = NULL;
	struct trust *t = NULL;
	json_t *root, *all = json_array(), *checks = json_array();
	char subject[256], why[300];
	int i, j;

	(void)arg;
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root)
		goto out;
	if (field_known(root, known, sizeof(known) / sizeof(known[0]), rep) ||
	    read_certs(root, certs, rep))
		goto out;
	r = malloc(sizeof(*r));
	if (!certs || !all || !checks || !r || revocation_evidence_init(&ev)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	t = trust_get(&d->cfg);
	if (!t || !t->store || t->error[0]) {
		kyso_reply_error(rep, KE_CERTIFICATE_UNTRUSTED, "%s", !d->cfg.ca_bundle ?
				 "no CA bundle is configured (ca_bundle): no chain can be built" :
				 t ? t->error : "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		ossl_name(X509_get_subject_name(x), subject, sizeof(subject));
		chain = build_chain(t, x, certs, why, sizeof(why));
		if (!chain) {
			kyso_reply_error(rep, KE_CERTIFICATE_UNTRUSTED,
					 "certificates[%d] (%.150s) does not chain to the configured "
					 "CA bundle: %s", i, subject, why);
			kyso_reply_error_set(rep, "field", json_string("certificates"));
			goto out;
		}
		for (j = 0; j < sk_X509_num(chain); j++)
			if (revocation_evidence_add_cert(all, sk_X509_value(chain, j))) {
				kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
				goto out;
			}
		revocation_check_evidence(&d->cfg, t, chain, r, NULL, &ev);
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:b}", "certificate",
							subject, "status",
							revocation_status_name(r->status),
							"message", r->message, "trust_anchor",
							sk_X509_num(chain) == 1));
		sk_X509_pop_free(chain, X509_free);
		chain = NULL;
	}
	kyso_reply_ok(rep, 200, json_pack("{s:O, s:O, s:O, s:O}", "certificates", all, "crls",
					  ev.crls, "ocsp_responses", ev.ocsp_responses,
					  "revocation", checks));
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	revocation_evidence_free(&ev);
	json_decref(all);
	json_decref(checks);
	json_decref(root);
	free(r);
	trust_put(t);
}
