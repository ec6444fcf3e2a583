/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "common/b64.h"
#include "common/utf8.h"
#include "common/log.h"
#include "kysod/ossl-util.h"
#include "kysod/crl-fetch.h"
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

const char *revocation_reason_name(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
		"privilegeWithdrawn", "aACompromise",
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])) || !names[reason])
		return "unspecified";
	return names[reason];
}

int revocation_reason_compromise(int reason)
{
	return reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE ||
	       reason == OCSP_REVOKED_STATUS_CACOMPROMISE || reason == 10 /* aACompromise */;
}

int revocation_evidence_init(struct revocation_evidence *ev)
{
	ev->crls = json_array();
	ev->ocsp_responses = json_array();
	if (ev->crls && ev->ocsp_responses)
		return 0;
	revocation_evidence_free(ev);
	return -1;
}

void revocation_evidence_free(struct revocation_evidence *ev)
{
	json_decref(ev->crls);
	json_decref(ev->ocsp_responses);
	ev->crls = ev->ocsp_responses = NULL;
}

int revocation_evidence_add(json_t *list, const unsigned char *der, size_t len)
{
	char *b64;
	size_t i;
	json_t *v;
	int ret = 0;

	if (!list || !der || !len)
		return 0;
	b64 = kyso_b64_encode(der, len);
	if (!b64)
		return -1;
	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), b64))
			goto out;
	ret = json_array_append_new(list, json_string(b64));
out:
	free(b64);
	return ret;
}

int revocation_evidence_add_cert(json_t *list, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der), ret;

	ret = len > 0 ? revocation_evidence_add(list, der, (size_t)len) : -1;
	OPENSSL_free(der);
	return ret;
}

static void evidence_add_crl(struct revocation_evidence *ev, X509_CRL *crl)
{
	unsigned char *der = NULL;
	int len;

	if (!ev || !crl)
		return;
	len = i2d_X509_CRL(crl, &der);
	if (len > 0)
		revocation_evidence_add(ev->crls, der, (size_t)len);
	OPENSSL_free(der);
}

/* What one X509_verify_cert pass with CRL_CHECK_ALL said of each level. */
struct crl_pass {
	int err[REVOCATION_MAX_LEVELS];	/* the CRL error reported for that depth, 0 for none */
};

static int is_crl_error(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_REVOKED:
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
		return 1;
	default:
		return 0;
	}
}

/* Notes every level's CRL finding and lets the pass go on to the next level;
 * the chain itself was checked before (cert-check.c). */
static int crl_pass_cb(int ok, X509_STORE_CTX *ctx)
{
	struct crl_pass *p = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);

	if (!ok && p && is_crl_error(err) && depth >= 0 && depth < REVOCATION_MAX_LEVELS &&
	    (!p->err[depth] || err == X509_V_ERR_CERT_REVOKED))
		p->err[depth] = err;
	return 1;
}

/* Runs the pass over chain's leaf with crls. Returns 1 when it went over the same chain. */
static int crl_pass(struct trust *t, STACK_OF(X509_CRL) *crls, STACK_OF(X509) *chain,
		    struct crl_pass *p)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	memset(p, 0, sizeof(*p));
	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, sk_X509_value(chain, 0), NULL))
		goto out;
	X509_STORE_CTX_set0_crls(ctx, crls);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	X509_STORE_CTX_set_verify_cb(ctx, crl_pass_cb);
	X509_STORE_CTX_set_app_data(ctx, p);
	X509_verify_cert(ctx);
	ok = sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) == sk_X509_num(chain);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return ok;
}

/* What the CRL distribution points of one level's certificate gave. */
struct level_fetch {
	int tried;		/* no configured CRL covers the level, and it names a CDP */
	X509_CRL *crl;		/* the verified CRL (a reference), or NULL */
	int cached;		/* crl came from the cache */
	char url[256];		/* the URL crl came from, else the last one tried */
	char message[400];	/* how crl came, or why none did */
};

/* The CRLs of one check: the configured ones and the fetched ones. */
struct crl_sources {
	STACK_OF(X509_CRL) *all;	/* both, for the pass (no references of its own) */
	struct level_fetch lv[REVOCATION_MAX_LEVELS];
};

/* The newest CRL in crls that issuer signed (current: only one whose
 * nextUpdate is ahead, or absent), or NULL. */
static X509_CRL *issuer_crl(STACK_OF(X509_CRL) *crls, X509 *issuer, int current)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	X509_CRL *best = NULL;
	time_t now = time(NULL);
	int i;

	for (i = 0; key && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) ||
		    (current && next && X509_cmp_time(next, &now) <= 0) ||
		    X509_CRL_verify(crl, key) != 1)
			continue;
		if (!best || ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
					       X509_CRL_get0_lastUpdate(best)) > 0)
			best = crl;
	}
	ERR_clear_error();
	return best;
}

/* Whether a certificate of chain below its anchor names an http(s) CDP. */
static int chain_names_cdp(STACK_OF(X509) *chain)
{
	char *urls[1];
	int i, n = 0;

	for (i = 0; i < sk_X509_num(chain) - 1 && !n; i++) {
		n = crl_fetch_urls(sk_X509_value(chain, i), urls, 1);
		if (n)
			free(urls[0]);
	}
	return n;
}

/* The CRL of x (issued by issuer) from its distribution points, unless a
 * current configured CRL from issuer covers it. */
static void fetch_level(const struct kysod_config *cfg, struct trust *t, X509 *x, X509 *issuer,
			int depth, struct level_fetch *lf)
{
	struct crl_fetch_result res;
	char *urls[CRL_FETCH_MAX_URLS], subject[256], done[400] = "";
	int i, n;

	if (issuer_crl(t->crls, issuer, 1))
		return;
	n = crl_fetch_urls(x, urls, CRL_FETCH_MAX_URLS);
	if (!n)
		return;
	lf->tried = 1;
	ossl_name(X509_get_subject_name(x), subject, sizeof(subject));
	for (i = 0; i < n; i++) {
		if (lf->crl) {
			free(urls[i]);
			continue;
		}
		snprintf(lf->url, sizeof(lf->url), "%s", urls[i]);
		log_debug("CRL: depth %d (%s): its distribution point %s", depth, subject, urls[i]);
		if (crl_fetch_get(urls[i], issuer, cfg->crl_timeout, &res) == 0) {
			lf->crl = res.crl;
			lf->cached = res.cached;
			/* the CRL's dates are told by the finding */
			snprintf(lf->message, sizeof(lf->message), "%s %s%s",
				 res.cached ? "fetched before from" : "fetched from", urls[i],
				 res.cached ? " (cache)" : "");
		} else {
			/* every URL that failed, in turn */
			snprintf(done, sizeof(done), "%s", lf->message);
			snprintf(lf->message, sizeof(lf->message), "%.190s%s%.200s", done,
				 done[0] ? "; " : "", res.message);
		}
		log_debug("CRL: depth %d (%s): %s", depth, subject, res.message);
		free(urls[i]);
	}
}

/* Fetches what the levels of chain need and lists every CRL. 0, or -1 when out of memory. */
static int crl_sources_get(const struct kysod_config *cfg, struct trust *t, STACK_OF(X509) *chain,
			   struct crl_sources *src)
{
	int depth;

	memset(src, 0, sizeof(*src));
	src->all = sk_X509_CRL_dup(t->crls);
	if (!src->all)
		return -1;
	/* from the trust anchor down, as the levels are checked */
	for (depth = sk_X509_num(chain) - 2; cfg->crl_fetch && depth >= 0; depth--) {
		struct level_fetch *lf = &src->lv[depth];

		fetch_level(cfg, t, sk_X509_value(chain, depth), sk_X509_value(chain, depth + 1),
			    depth, lf);
		if (lf->crl && !sk_X509_CRL_push(src->all, lf->crl))
			return -1;
	}
	return 0;
}

static void crl_sources_free(struct crl_sources *src)
{
	int i;

	sk_X509_CRL_free(src->all);
	for (i = 0; i < REVOCATION_MAX_LEVELS; i++)
		X509_CRL_free(src->lv[i].crl);
	memset(src, 0, sizeof(*src));
}

static int entry_reason(X509_REVOKED *rev)
{
	ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	int reason = e ? (int)ASN1_ENUMERATED_get(e) : -1;

	ASN1_ENUMERATED_free(e);
	ERR_clear_error();
	return reason;
}

/* The CRLs for x (issued by issuer), from the pass's finding err (-1: no
 * pass ran): 1 when they decided (l set), 0 when not (why in l->message). */
static int by_crl(const struct kysod_config *cfg, struct trust *t, struct crl_sources *src,
		  int depth, X509 *x, X509 *issuer, int err, struct revocation_level *l,
		  struct revocation_evidence *ev)
{
	const struct level_fetch *lf = &src->lv[depth];
	X509_CRL *crl = issuer_crl(src->all, issuer, 0);
	X509_REVOKED *rev = NULL;
	char iname[256], upd[32], next[32], from[300] = "";

	ossl_name(X509_get_subject_name(issuer), iname, sizeof(iname));
	/* where the CRL that speaks comes from, or why none was fetched */
	if (lf->crl && crl == lf->crl)
		snprintf(from, sizeof(from), "; %s", lf->message);
	else if (lf->tried && !lf->crl)
		snprintf(from, sizeof(from), "; %s", lf->message);
	if (lf->tried && !crl) {
		snprintf(l->message, sizeof(l->message), "no CRL from its issuer %.150s%.240s", iname,
			 from);
		return 0;
	}
	if (err < 0) {
		snprintf(l->message, sizeof(l->message), "%s%.240s",
			 t->crl_error[0] ? t->crl_error : sk_X509_CRL_num(src->all) ?
			 "the CRL check could not be run over this chain" : "no CRL is loaded", from);
		return 0;
	}
	if (err == 0 && crl) {
		ossl_time_text(ossl_time(X509_CRL_get0_lastUpdate(crl)), upd, sizeof(upd));
		ossl_time_text(ossl_time(X509_CRL_get0_nextUpdate(crl)), next, sizeof(next));
		l->status = REVOCATION_GOOD;
		l->source = "crl";
		evidence_add_crl(ev, crl);
		snprintf(l->message, sizeof(l->message),
			 "not on the CRL of %.150s (issued %s, next update %s)%.200s", iname, upd,
			 next, from);
		return 1;
	}
	if (err == X509_V_ERR_CERT_REVOKED) {
		l->status = REVOCATION_REVOKED;
		l->source = "crl";
		evidence_add_crl(ev, crl);
		if (crl && X509_CRL_get0_by_cert(crl, &rev, x) == 1 && rev) {
			l->revoked_at = ossl_time(X509_REVOKED_get0_revocationDate(rev));
			l->reason = entry_reason(rev);
		}
		ERR_clear_error();
		ossl_time_text(l->revoked_at, upd, sizeof(upd));
		snprintf(l->message, sizeof(l->message), "on the CRL of %.150s since %s (%s)%.200s",
			 iname, l->revoked_at ? upd : "?", revocation_reason_name(l->reason), from);
		return 1;
	}
	if (err == X509_V_ERR_UNABLE_TO_GET_CRL || !crl)
		snprintf(l->message, sizeof(l->message), "no configured CRL is from its issuer %.150s%s%s%.150s",
			 iname, cfg->crl_fetch ? ", and its certificate names no CRL distribution point" : "",
			 t->crl_error[0] ? "; " : "", t->crl_error);
	else
		snprintf(l->message, sizeof(l->message), "the CRL of %.150s cannot be used: %s%.200s",
			 iname, X509_verify_cert_error_string(err), from);
	return 0;
}

/* The responder's URL: for the signer's certificate (depth 0) the configured
 * one, else the first http(s) one in the AIA; for a CA certificate its AIA. */
static char *ocsp_url(const struct kysod_config *cfg, X509 *x, int depth)
{
	STACK_OF(OPENSSL_STRING) *aia;
	char *url = NULL;
	int i;

	if (cfg->ocsp_url && depth == 0)
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
		   const char *url, struct revocation_level *r, struct revocation_evidence *ev)
{
	OCSP_REQUEST *req = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
	unsigned char *der = NULL, *answer = NULL;
	const unsigned char *p;
	size_t answer_len = 0;
	char err[256], upd[32];
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
		snprintf(r->message, sizeof(r->message), "the OCSP responder %.200s did not answer: %s", url, err);
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
		ossl_time_text(ossl_time(thisupd), upd, sizeof(upd));
		snprintf(r->message, sizeof(r->message), "the OCSP responder %.200s says good (as of %s)",
			 url, upd);
		decided = 1;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		r->status = REVOCATION_REVOKED;
		r->source = "ocsp";
		r->revoked_at = ossl_time(revtime);
		r->reason = reason;
		ossl_time_text(r->revoked_at, upd, sizeof(upd));
		snprintf(r->message, sizeof(r->message),
			 "the OCSP responder %.200s says revoked since %s (%s)", url, upd,
			 revocation_reason_name(reason));
		decided = 1;
		break;
	default:
		snprintf(r->message, sizeof(r->message),
			 "the OCSP responder %.200s does not know this certificate", url);
		break;
	}
out:
	if (decided && ev)
		revocation_evidence_add(ev->ocsp_responses, answer, answer_len);
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	OPENSSL_free(der);
	free(answer);
	return decided;
}

/* One finding into the debug log and the trail; for a CRL finding, lf says
 * whether it came through a distribution point. */
static void note(json_t *trail, const char *kind, int depth, const struct revocation_level *l,
		 int decided, const struct level_fetch *lf)
{
	const char *result = !decided ? "unknown" :
			     l->status == REVOCATION_REVOKED ? "failed" : "ok";
	char msg[sizeof(l->message)];
	json_t *o;

	/* names cut to a length may end the message mid-character */
	snprintf(msg, sizeof(msg), "%s", l->message);
	kyso_utf8_trim(msg);
	log_debug("revocation: %s, depth %d (%s): %s: %s", kind, depth, l->subject, result, msg);
	if (!trail)
		return;
	o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "check", kind, "result", result,
		      "certificate", l->subject, "depth", depth, "message", msg);
	if (o && lf && lf->tried)
		json_object_update_new(o, json_pack("{s:s, s:s, s:s}", "source", "cdp", "url",
						    lf->url, "fetch", !lf->crl ? "failed" :
						    lf->cached ? "cached" : "fetched"));
	else if (o && lf)
		json_object_set_new(o, "source", json_string("file"));
	json_array_append_new(trail, o);
}

/* The status of chain[depth], issued by chain[depth + 1]. */
static void check_level(const struct kysod_config *cfg, struct trust *t, struct crl_sources *src,
			STACK_OF(X509) *chain, int depth, int crl_err, struct revocation_level *l,
			json_t *trail, struct revocation_evidence *ev)
{
	X509 *x = sk_X509_value(chain, depth), *issuer = sk_X509_value(chain, depth + 1);
	char crl_why[400] = "", *url = NULL;

	ossl_name(X509_get_subject_name(x), l->subject, sizeof(l->subject));
	l->status = REVOCATION_UNKNOWN;
	l->reason = -1;
	if (cfg->n_crls || src->lv[depth].tried) {
		int decided = by_crl(cfg, t, src, depth, x, issuer, crl_err, l, ev);

		note(trail, "crl", depth, l, decided, &src->lv[depth]);
		if (decided)
			return;
		snprintf(crl_why, sizeof(crl_why), "%s", l->message);
	} else if (!cfg->ocsp) {
		snprintf(crl_why, sizeof(crl_why), "no CRL is configured for it, its certificate names "
			 "no CRL distribution point, and OCSP is off");
	}
	if (cfg->ocsp) {
		url = ocsp_url(cfg, x, depth);
		if (url) {
			int decided;

			log_debug("OCSP: asking %s about depth %d (%s)", url, depth, l->subject);
			decided = by_ocsp(cfg, t, x, issuer, url, l, ev);
			note(trail, "ocsp", depth, l, decided, NULL);
			free(url);
			if (decided)
				return;
		} else {
			snprintf(l->message, sizeof(l->message), "%s",
				 depth ? "the CA certificate names no OCSP responder (AIA)" :
				 "the certificate names no OCSP responder and no ocsp_url is set");
			note(trail, "ocsp", depth, l, 0, NULL);
		}
	}
	l->status = REVOCATION_UNKNOWN;
	if (crl_why[0] && cfg->ocsp) {
		char both[sizeof(l->message)];

		snprintf(both, sizeof(both), "%.190s; %.190s", crl_why, l->message);
		snprintf(l->message, sizeof(l->message), "%s", both);
	} else if (crl_why[0]) {
		snprintf(l->message, sizeof(l->message), "%s", crl_why);
	}
}

/* r's summary from level depth. */
static void take_level(struct revocation *r, int depth)
{
	const struct revocation_level *l = &r->levels[depth];

	r->status = l->status;
	r->depth = depth;
	r->source = l->source;
	r->revoked_at = l->revoked_at;
	r->reason = l->reason;
	snprintf(r->subject, sizeof(r->subject), "%s", l->subject);
	if (depth == 0)
		snprintf(r->message, sizeof(r->message), "%s", l->message);
	else
		snprintf(r->message, sizeof(r->message), "issuing CA %.180s (depth %d): %.200s",
			 l->subject, depth, l->message);
}

void revocation_check(const struct kysod_config *cfg, struct trust *t, STACK_OF(X509) *chain,
		      struct revocation *r, json_t *trail)
{
	revocation_check_evidence(cfg, t, chain, r, trail, NULL);
}

void revocation_check_evidence(const struct kysod_config *cfg, struct trust *t,
			       STACK_OF(X509) *chain, struct revocation *r, json_t *trail,
			       struct revocation_evidence *ev)
{
	struct crl_sources src;
	struct crl_pass pass;
	int n = sk_X509_num(chain), depth, have_pass = 0;

	memset(r, 0, sizeof(*r));
	memset(&src, 0, sizeof(src));
	r->status = REVOCATION_NOT_CHECKED;
	r->depth = -1;
	r->reason = -1;
	if (!cfg->n_crls && !cfg->ocsp && !(cfg->crl_fetch && chain_names_cdp(chain))) {
		snprintf(r->message, sizeof(r->message), "%s", cfg->crl_fetch ?
			 "revocation checking is not configured, and no certificate of the chain "
			 "names a CRL distribution point" : "revocation checking is not configured");
		return;
	}
	if (!t || !t->store || n < 2) {
		snprintf(r->message, sizeof(r->message), "%s",
			 !t || !t->store ? "no CA bundle: the issuer is not known" :
			 "a trust anchor is not checked for revocation");
		return;
	}
	if (n - 1 > REVOCATION_MAX_LEVELS) {
		r->status = REVOCATION_UNKNOWN;
		snprintf(r->message, sizeof(r->message),
			 "the chain has more than %d certificates below its trust anchor",
			 REVOCATION_MAX_LEVELS);
		return;
	}
	if (crl_sources_get(cfg, t, chain, &src)) {
		r->status = REVOCATION_UNKNOWN;
		snprintf(r->message, sizeof(r->message), "out of memory");
		goto out;
	}
	if (sk_X509_CRL_num(src.all) > 0) {
		have_pass = crl_pass(t, src.all, chain, &pass);
		if (!have_pass)
			log_warn("revocation: the CRL check did not run over the verified chain");
	}
	r->n_levels = n - 1;
	r->status = REVOCATION_GOOD;
	for (depth = 0; depth < n - 1; depth++) {
		r->levels[depth].status = REVOCATION_NOT_CHECKED;
		r->levels[depth].reason = -1;
		ossl_name(X509_get_subject_name(sk_X509_value(chain, depth)),
			  r->levels[depth].subject, sizeof(r->levels[depth].subject));
		snprintf(r->levels[depth].message, sizeof(r->levels[depth].message),
			 "not checked: a certificate above it is revoked");
	}
	/* from the trust anchor down: a revoked CA makes the rest moot */
	for (depth = n - 2; depth >= 0; depth--) {
		check_level(cfg, t, &src, chain, depth, have_pass ? pass.err[depth] : -1,
			    &r->levels[depth], trail, ev);
		if (r->levels[depth].status == REVOCATION_REVOKED) {
			take_level(r, depth);
			break;
		}
		if (r->levels[depth].status == REVOCATION_UNKNOWN && r->status == REVOCATION_GOOD)
			take_level(r, depth);
	}
	if (r->status == REVOCATION_GOOD)
		snprintf(r->message, sizeof(r->message),
			 "no certificate of the chain is revoked (%d checked)", n - 1);
	log_debug("revocation: %s: %s", revocation_status_name(r->status), r->message);
out:
	crl_sources_free(&src);
}
