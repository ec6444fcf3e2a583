/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "kysod/crl-fetch.h"
#include "kysod/http-post.h"
#include "kysod/ossl-util.h"

struct entry {
	char *url;		/* NULL: a free slot */
	X509_CRL *crl;		/* the newest verified CRL from url, or NULL */
	X509 *signer;		/* the issuing CA it was verified against */
	time_t until;		/* crl is reused until then (its nextUpdate) */
	time_t used;		/* last asked for, to choose the one to drop */
	int fetching;		/* a thread is fetching url now; the slot stays */
	unsigned long outcome;	/* bumped when a fetch ends */
	char failed[300];	/* why the last fetch gave nothing, or "" */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetch_done = PTHREAD_COND_INITIALIZER;
static struct entry cache[CRL_FETCH_CACHE_MAX];

static int is_http(const char *u)
{
	return !strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8);
}

int crl_fetch_urls(X509 *x, char **urls, int max)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	int i, j, n = 0;

	for (i = 0; i < sk_DIST_POINT_num(dps) && n < max; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		/* a partial CRL (some reasons) or an indirect one is not what we fetch */
		if (!dp->distpoint || dp->distpoint->type != 0 || dp->reasons || dp->CRLissuer)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && n < max; j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			const char *u;
			int len;

			if (gn->type != GEN_URI)
				continue;
			u = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
			len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			/* no NUL inside, nothing but printable ASCII */
			if (!u || len <= 0 || len > 1024 || (int)strnlen(u, (size_t)len) != len ||
			    !is_http(u))
				continue;
			urls[n] = strndup(u, (size_t)len);
			if (!urls[n])
				break;
			for (len = 0; urls[n][len]; len++)
				if ((unsigned char)urls[n][len] <= ' ' || (unsigned char)urls[n][len] >= 127)
					break;
			if (urls[n][len]) {
				free(urls[n]);
				continue;
			}
			n++;
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	return n;
}

/* DER, or PEM ("-----BEGIN X509 CRL-----"). */
static X509_CRL *parse_crl(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl = NULL;
	BIO *bio;

	if (len > 0 && data[0] == 0x30)
		return d2i_X509_CRL(NULL, &p, (long)len);
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return crl;
}

/* Whether issuer issued crl: its name, a key usage allowing CRL signing, the
 * signature. 0, or -1 with the reason in why. */
static int issued_by(X509_CRL *crl, X509 *issuer, char *why, size_t whylen)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	char want[256], got[256];
	ASN1_INTEGER *delta;
	uint32_t ku;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer))) {
		ossl_name(X509_CRL_get_issuer(crl), got, sizeof(got));
		ossl_name(X509_get_subject_name(issuer), want, sizeof(want));
		snprintf(why, whylen, "it is issued by %.120s, not by %.120s", got, want);
		return -1;
	}
	ku = X509_get_key_usage(issuer);
	if (ku != UINT32_MAX && !(ku & KU_CRL_SIGN)) {
		snprintf(why, whylen, "the issuing CA's key usage does not allow signing CRLs");
		return -1;
	}
	if (!key || X509_CRL_verify(crl, key) != 1) {
		snprintf(why, whylen, "its signature does not verify with the issuing CA's key");
		return -1;
	}
	delta = X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
	if (delta) {
		ASN1_INTEGER_free(delta);
		snprintf(why, whylen, "it is a delta CRL");
		return -1;
	}
	return 0;
}

/* Whether a was issued after b: by CRL number when both have one, else by lastUpdate. */
static int newer(X509_CRL *a, X509_CRL *b)
{
	ASN1_INTEGER *na = X509_CRL_get_ext_d2i(a, NID_crl_number, NULL, NULL);
	ASN1_INTEGER *nb = X509_CRL_get_ext_d2i(b, NID_crl_number, NULL, NULL);
	int ret;

	if (na && nb)
		ret = ASN1_INTEGER_cmp(na, nb) > 0;
	else
		ret = ASN1_TIME_compare(X509_CRL_get0_lastUpdate(a), X509_CRL_get0_lastUpdate(b)) > 0;
	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	return ret;
}

static time_t reuse_until(X509_CRL *crl, time_t now)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

	return next ? ossl_time(next) : now + CRL_FETCH_NO_NEXT_UPDATE;
}

static void describe(X509_CRL *crl, char *out, size_t outlen)
{
	char upd[32], next[32];
	int n;

	ossl_time_text(ossl_time(X509_CRL_get0_lastUpdate(crl)), upd, sizeof(upd));
	if (X509_CRL_get0_nextUpdate(crl))
		ossl_time_text(ossl_time(X509_CRL_get0_nextUpdate(crl)), next, sizeof(next));
	else
		snprintf(next, sizeof(next), "none");
	n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	snprintf(out, outlen, "issued %s, next update %s, %d %s", upd, next, n > 0 ? n : 0,
		 n == 1 ? "entry" : "entries");
}

/* GET url and keep what issuer signed: the CRL, or NULL with why. */
static X509_CRL *fetch(const char *url, X509 *issuer, unsigned int timeout, char *why,
		       size_t whylen)
{
	unsigned char *data = NULL;
	size_t len = 0;
	X509_CRL *crl = NULL;
	char err[300], what[120];

	if (http_get(url, timeout, CRL_FETCH_MAX_BYTES, &data, &len, err, sizeof(err))) {
		snprintf(why, whylen, "the CRL cannot be fetched: %s", err);
		goto out;
	}
	crl = parse_crl(data, len);
	if (!crl) {
		snprintf(why, whylen, "%.200s sent no CRL (%zu bytes, neither DER nor PEM)", url, len);
		goto out;
	}
	if (issued_by(crl, issuer, err, sizeof(err))) {
		snprintf(why, whylen, "the CRL from %.200s is not trusted: %s", url, err);
		X509_CRL_free(crl);
		crl = NULL;
		goto out;
	}
	describe(crl, what, sizeof(what));
	log_debug("CRL: fetched %s: %zu bytes, %s", url, len, what);
out:
	if (!crl)
		log_warn("CRL: %s", why);
	ERR_clear_error();
	free(data);
	return crl;
}

static struct entry *find(const char *url)
{
	int i;

	for (i = 0; i < CRL_FETCH_CACHE_MAX; i++)
		if (cache[i].url && !strcmp(cache[i].url, url))
			return &cache[i];
	return NULL;
}

/* A slot for url: a free one, else the least recently used one not being
 * fetched; NULL when every slot is being fetched. */
static struct entry *take_slot(const char *url)
{
	struct entry *e = NULL;
	char *copy = strdup(url);
	int i;

	if (!copy)
		return NULL;
	for (i = 0; i < CRL_FETCH_CACHE_MAX; i++) {
		if (!cache[i].url) {
			e = &cache[i];
			break;
		}
		if (!cache[i].fetching && (!e || cache[i].used < e->used))
			e = &cache[i];
	}
	if (!e) {
		free(copy);
		return NULL;
	}
	if (e->url)
		log_debug("CRL cache: %s dropped for %s", e->url, url);
	free(e->url);
	X509_CRL_free(e->crl);
	X509_free(e->signer);
	memset(e, 0, sizeof(*e));
	e->url = copy;
	return e;
}

/* e's CRL for issuer, while it is current (or, any_age, however old). Under the lock. */
static X509_CRL *cached_for(struct entry *e, X509 *issuer, time_t now, int any_age)
{
	char why[200];

	if (!e->crl || (!any_age && now >= e->until))
		return NULL;
	/* verified once against that certificate; another one checks it again */
	if ((!e->signer || X509_cmp(e->signer, issuer)) && issued_by(e->crl, issuer, why, sizeof(why)))
		return NULL;
	return X509_CRL_up_ref(e->crl) ? e->crl : NULL;
}

/* What the cache holds for url, with the lock held: 1 when it answers (res
 * set, ret set), 0 when url must be fetched (*slot: its entry, NULL when no
 * slot is free; the entry marked as being fetched). Waits for another
 * thread's fetch of url and takes its outcome. */
static int lookup(const char *url, X509 *issuer, struct crl_fetch_result *res, int *ret,
		  struct entry **slot)
{
	struct entry *e;
	time_t now = time(NULL);
	unsigned long seen = 0;
	char what[120];
	int waited = 0;

	for (;;) {
		e = find(url);
		/* current, or just fetched by the thread waited for */
		if (e && (res->crl = cached_for(e, issuer, now, waited && e->outcome != seen &&
						!e->fetching))) {
			e->used = now;
			res->cached = 1;
			describe(res->crl, what, sizeof(what));
			snprintf(res->message, sizeof(res->message), "from %.200s, fetched before (%s)",
				 url, what);
			log_debug("CRL: %s from the cache (%s)", url, what);
			*ret = 0;
			return 1;
		}
		/* the fetch waited for gave nothing: its outcome is ours */
		if (e && waited && !e->fetching && e->outcome != seen && e->failed[0]) {
			snprintf(res->message, sizeof(res->message), "%s", e->failed);
			*ret = -1;
			return 1;
		}
		if (!e || !e->fetching)
			break;
		seen = e->outcome;
		waited = 1;
		pthread_cond_wait(&fetch_done, &cache_lock);
		now = time(NULL);
	}
	if (!e)
		e = take_slot(url);
	if (e) {
		e->fetching = 1;
		e->used = now;
		e->failed[0] = '\0';
	}
	*slot = e;
	return 0;
}

int crl_fetch_get(const char *url, X509 *issuer, unsigned int timeout,
		  struct crl_fetch_result *res)
{
	X509_CRL *crl = NULL, *kept = NULL;
	struct entry *e = NULL;
	char why[300] = "", what[120], upd[32], kept_upd[32];
	int ret = -1;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&cache_lock);
	if (lookup(url, issuer, res, &ret, &e)) {
		pthread_mutex_unlock(&cache_lock);
		goto out;
	}
	/* the one kept (out of date by now), to compare with, when this issuer made it */
	if (e && e->crl && !issued_by(e->crl, issuer, why, sizeof(why)) && X509_CRL_up_ref(e->crl))
		kept = e->crl;
	why[0] = '\0';
	pthread_mutex_unlock(&cache_lock);

	crl = fetch(url, issuer, timeout, why, sizeof(why));
	if (crl && kept && newer(kept, crl)) {
		ossl_time_text(ossl_time(X509_CRL_get0_lastUpdate(crl)), upd, sizeof(upd));
		ossl_time_text(ossl_time(X509_CRL_get0_lastUpdate(kept)), kept_upd,
			       sizeof(kept_upd));
		snprintf(why, sizeof(why), "the CRL from %.150s (issued %s) is older than the one "
			 "kept (issued %s)", url, upd, kept_upd);
		log_warn("CRL: %s; the older one is not used", why);
		X509_CRL_free(crl);
		crl = NULL;
	}

	pthread_mutex_lock(&cache_lock);
	if (e) {
		e->fetching = 0;
		e->outcome++;
		snprintf(e->failed, sizeof(e->failed), "%s", crl ? "" : why);
		if (crl && X509_CRL_up_ref(crl)) {
			X509_CRL_free(e->crl);
			X509_free(e->signer);
			e->crl = crl;
			e->signer = X509_up_ref(issuer) ? issuer : NULL;
			e->until = reuse_until(crl, time(NULL));
		}
		pthread_cond_broadcast(&fetch_done);
	}
	pthread_mutex_unlock(&cache_lock);

	if (crl) {
		describe(crl, what, sizeof(what));
		snprintf(res->message, sizeof(res->message), "fetched from %.200s (%s)", url, what);
		res->crl = crl;
		ret = 0;
	} else {
		snprintf(res->message, sizeof(res->message), "%s", why);
	}
out:
	X509_CRL_free(kept);
	ERR_clear_error();
	return ret;
}
