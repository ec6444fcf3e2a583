/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "kysod/cert-check.h"
#include "kysod/trust-store.h"

static const enum kyso_err problem_errors[CERT_PROBLEMS] = {
	KE_CERTIFICATE_EXPIRED, KE_CERTIFICATE_NOT_YET_VALID, KE_CERTIFICATE_USAGE,
	KE_CERTIFICATE_UNTRUSTED, KE_CERTIFICATE_REVOKED, KE_REVOCATION_UNKNOWN,
};

static int problem_index(unsigned int problem)
{
	int i;

	for (i = 0; i < CERT_PROBLEMS; i++)
		if (problem == (1u << i))
			return i;
	return 0;
}

const char *cert_problem_code(unsigned int problem)
{
	return kyso_err_code(problem_errors[problem_index(problem)]);
}

json_t *cert_problems_json(unsigned int problems)
{
	json_t *list = json_array();
	int i;

	for (i = 0; i < CERT_PROBLEMS; i++)
		if (problems & (1u << i))
			json_array_append_new(list, json_string(kyso_err_code(problem_errors[i])));
	return list;
}

static void problem(struct cert_status *st, unsigned int bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct cert_status *st, unsigned int bit, const char *fmt, ...)
{
	va_list ap;

	st->problems |= bit;
	va_start(ap, fmt);
	vsnprintf(st->messages[problem_index(bit)], sizeof(st->messages[0]), fmt, ap);
	va_end(ap);
}

void cert_status_free(struct cert_status *st)
{
	sk_X509_pop_free(st->chain, X509_free);
	st->chain = NULL;
}

static void format_time(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		snprintf(out, outlen, "?");
	else
		strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The leaf's own validity period is reported apart; the chain check does not fail on it. */
static int chain_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	int err = X509_STORE_CTX_get_error(ctx);

	if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0 &&
	    (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

static void check_chain(struct trust *t, X509 *x, time_t at, struct cert_status *st)
{
	X509_STORE_CTX *ctx = NULL;
	int err;

	if (!t || t->error[0]) {
		problem(st, CERT_UNTRUSTED, "%s", t ? t->error : "out of memory");
		return;
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, x, NULL)) {
		problem(st, CERT_UNTRUSTED, "the chain cannot be checked (out of memory)");
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	X509_STORE_CTX_set_verify_cb(ctx, chain_verify_cb);
	if (X509_verify_cert(ctx) > 0) {
		st->chain = X509_STORE_CTX_get1_chain(ctx);
	} else {
		err = X509_STORE_CTX_get_error(ctx);
		st->chain_error = err;
		st->chain_error_depth = X509_STORE_CTX_get_error_depth(ctx);
		problem(st, CERT_UNTRUSTED,
			"the certificate does not chain to the configured CA bundle: %s (depth %d)",
			X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
}

void cert_check_basic(const struct kysod_config *cfg, struct trust *t, X509 *x, time_t at,
		      struct cert_status *st)
{
	uint32_t ku;
	char when[32];

	memset(st, 0, sizeof(*st));
	if (X509_cmp_time(X509_get0_notAfter(x), &at) <= 0) {
		format_time(X509_get0_notAfter(x), when, sizeof(when));
		problem(st, CERT_EXPIRED, "the certificate expired at %s", when);
	}
	if (X509_cmp_time(X509_get0_notBefore(x), &at) >= 0) {
		format_time(X509_get0_notBefore(x), when, sizeof(when));
		problem(st, CERT_NOT_YET_VALID, "the certificate is valid only from %s", when);
	}
	/* without the extension the key may be used for anything (RFC 5280 4.2.1.3) */
	ku = X509_get_key_usage(x);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
		problem(st, CERT_USAGE,
			"the certificate's key usage allows neither digitalSignature nor nonRepudiation");
	if (cfg->ca_bundle) {
		st->chain_checked = 1;
		check_chain(t, x, at, st);
	}
}

void cert_check_revocation(const struct kysod_config *cfg, struct trust *t,
			   struct cert_status *st, json_t *trail, struct revocation_evidence *ev)
{
	const struct revocation *r = &st->revocation;

	revocation_check_evidence(cfg, t, st->chain, &st->revocation, trail, ev);
	if (r->status == REVOCATION_REVOKED && r->depth > 0)
		problem(st, CERT_REVOKED, "the certificate's issuing CA \"%.160s\" (depth %d of the "
			"chain) is revoked: %.200s", r->subject, r->depth,
			r->levels[r->depth].message);
	else if (r->status == REVOCATION_REVOKED)
		problem(st, CERT_REVOKED, "the certificate is revoked: %s", r->message);
	else if (r->status == REVOCATION_UNKNOWN && r->depth > 0)
		problem(st, CERT_REVOCATION_UNKNOWN, "whether the certificate's issuing CA \"%.160s\" "
			"(depth %d of the chain) is revoked cannot be told: %.200s", r->subject,
			r->depth, r->levels[r->depth].message);
	else if (r->status == REVOCATION_UNKNOWN)
		problem(st, CERT_REVOCATION_UNKNOWN,
			"whether the certificate is revoked cannot be told: %s", r->message);
}

/* The error for the first problem, all of them in "problems". */
static void refuse(const struct cert_status *st, struct kyso_reply *rep)
{
	int i;

	for (i = 0; i < CERT_PROBLEMS; i++)
		if (st->problems & (1u << i))
			break;
	kyso_reply_error(rep, problem_errors[i], "%s", st->messages[i]);
	kyso_reply_error_set(rep, "problems", cert_problems_json(st->problems));
	/* which certificate of the chain the revocation error is about */
	if ((1u << i) & (CERT_REVOKED | CERT_REVOCATION_UNKNOWN) && st->revocation.depth >= 0)
		kyso_reply_error_set(rep, "chain_certificate",
				     json_pack("{s:s, s:i}", "subject", st->revocation.subject,
					       "depth", st->revocation.depth));
}

int cert_check_signing(struct kysod *d, const char *cert_id, X509 **cert, STACK_OF(X509) **chain,
		       struct revocation_evidence *ev, struct kyso_reply *rep)
{
	struct cert_status st;
	struct trust *t = NULL;
	X509 *x;
	int i, ret = -1;

	if (cert)
		*cert = NULL;
	if (chain)
		*chain = NULL;
	memset(&st, 0, sizeof(st));
	x = inventory_cert_x509(&d->inv, cert_id);
	if (!x) {
		kyso_reply_error(rep, KE_CERTIFICATE_NOT_FOUND, "no certificate with id %s", cert_id);
		return -1;
	}
	if (d->cfg.check_certificates) {
		t = trust_get(&d->cfg);
		cert_check_basic(&d->cfg, t, x, time(NULL), &st);
		if (!st.problems) {
			cert_check_revocation(&d->cfg, t, &st, NULL, ev);
			if (st.problems == CERT_REVOCATION_UNKNOWN && d->cfg.revocation_soft_fail) {
				log_warn("certificate %.16s: %s; signing anyway (revocation_soft_fail)",
					 cert_id, st.messages[problem_index(CERT_REVOCATION_UNKNOWN)]);
				st.problems = 0;
			}
		}
		if (st.problems) {
			log_info("certificate %.16s refused: %s", cert_id,
				 cert_problem_code(st.problems & -st.problems));
			refuse(&st, rep);
			goto out;
		}
	}
	if (chain) {
		*chain = sk_X509_new_null();
		if (!*chain) {
			kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
			goto out;
		}
		for (i = 1; i < sk_X509_num(st.chain); i++) {
			X509 *c = sk_X509_value(st.chain, i);

			if (!X509_up_ref(c) || !sk_X509_push(*chain, c)) {
				kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
				goto out;
			}
		}
	}
	if (cert) {
		*cert = x;
		x = NULL;
	}
	ret = 0;
out:
	if (ret && chain) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
	}
	X509_free(x);
	cert_status_free(&st);
	trust_put(t);
	return ret;
}

json_t *cert_check_annotate(struct kysod *d, json_t *list)
{
	json_t *certs = json_object_get(list, "certificates"), *out = json_array(), *c, *copy;
	json_t *problems;
	struct trust *t = NULL;
	time_t now = time(NULL);
	size_t i;
	int key;

	if (d->cfg.check_certificates)
		t = trust_get(&d->cfg);
	json_array_foreach(certs, i, c) {
		struct cert_status st;
		X509 *x = inventory_cert_x509(&d->inv,
					      json_string_value(json_object_get(c, "id")) ?: "");

		memset(&st, 0, sizeof(st));
		copy = json_copy(c);
		if (!copy) {
			X509_free(x);
			continue;
		}
		if (x && d->cfg.check_certificates)
			cert_check_basic(&d->cfg, t, x, now, &st);
		problems = cert_problems_json(st.problems);
		key = inventory_cert_key(&d->inv, json_string_value(json_object_get(c, "id")) ?: "");
		if (key == KEY_MISSING || key == KEY_LIKELY_MISSING)
			json_array_append_new(problems, json_string("key_not_found"));
		json_object_set_new(copy, "usable", json_boolean(json_array_size(problems) == 0));
		json_object_set_new(copy, "problems", problems);
		json_array_append_new(out, copy);
		cert_status_free(&st);
		X509_free(x);
	}
	trust_put(t);
	json_decref(list);
	return json_pack("{s:o}", "certificates", out);
}
