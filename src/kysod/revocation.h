/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether any certificate of a verified chain is revoked: every certificate
 * below the trust anchor, each by CRLs first (issued by the certificate above
 * it: the configured CRL files, or when none of them is current for that
 * issuer and crl_fetch is on, the CRL fetched from the certificate's CRL
 * distribution points, see crl-fetch.h), then by OCSP (for the signer's
 * certificate the configured ocsp_url, else its AIA; for an issuing CA its
 * own AIA). */
#ifndef KYSOD_REVOCATION_H
#define KYSOD_REVOCATION_H
#include <time.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "kysod/config.h"
#include "kysod/trust-store.h"

/* Chains longer than this are not checked past it (unknown). */
#define REVOCATION_MAX_LEVELS 8

enum revocation_status {
	REVOCATION_NOT_CHECKED,	/* no source configured, or no issuer to ask about */
	REVOCATION_GOOD,
	REVOCATION_REVOKED,
	REVOCATION_UNKNOWN,	/* asked, but no source could tell */
};

/* One certificate of the chain (depth 0 is the signer's). */
struct revocation_level {
	enum revocation_status status;
	const char *source;		/* "crl" or "ocsp" for good and revoked; else NULL */
	time_t revoked_at;		/* for revoked */
	int reason;			/* for revoked: the CRL reason code, -1 when none given */
	char subject[256];		/* RFC 2253 */
	char message[400];		/* what was found, in words */
};

struct revocation {
	enum revocation_status status;	/* revoked if one is, else unknown if one is, else good */
	int depth;			/* the level status comes from (revoked, unknown), else -1 */
	const char *source;		/* of that level, for revoked */
	time_t revoked_at;
	int reason;
	char subject[256];		/* of that level */
	char message[400];		/* why, in words, naming the certificate */
	int n_levels;			/* levels checked, from the signer's up */
	struct revocation_level levels[REVOCATION_MAX_LEVELS];
};

/* Checks the verified chain (leaf first, up to the trust anchor in t), the
 * levels nearest the anchor first, stopping at a revoked one. Fetches CRLs
 * and asks OCSP responders over the network when needed, waiting up to
 * cfg->crl_timeout and cfg->ocsp_timeout seconds for each. Every CRL and
 * OCSP finding goes to the debug log and, when trail is not NULL, is
 * appended to it as {"check": "crl"|"ocsp", "result": "ok"|"failed"|
 * "unknown", "certificate": SUBJECT, "depth": N, "message": …}; a crl
 * finding also has "source": "file", or "source": "cdp" with "url": URL and
 * "fetch": "fetched"|"cached"|"failed". */
void revocation_check(const struct kysod_config *cfg, struct trust *t, STACK_OF(X509) *chain,
		      struct revocation *r, json_t *trail);

/* The CRLs and OCSP answers that decided the levels of one or more checks,
 * for a PDF's /DSS and other long-term validation data: "crls" and
 * "ocsp_responses", arrays of base64 DER (the whole CRL, the whole
 * OCSPResponse), each once. */
struct revocation_evidence {
	json_t *crls;
	json_t *ocsp_responses;
};

/* Empty arrays. 0, or -1 when out of memory. */
int revocation_evidence_init(struct revocation_evidence *ev);
void revocation_evidence_free(struct revocation_evidence *ev);

/* Appends der (_cert: x's DER) as base64 to list, one of those arrays or a
 * list of certificates, unless it is there already. 0, or -1 when out of
 * memory. */
int revocation_evidence_add(json_t *list, const unsigned char *der, size_t len);
int revocation_evidence_add_cert(json_t *list, X509 *x);

/* revocation_check, keeping in ev (when not NULL) every CRL and OCSP answer
 * that decided a level. */
void revocation_check_evidence(const struct kysod_config *cfg, struct trust *t,
			       STACK_OF(X509) *chain, struct revocation *r, json_t *trail,
			       struct revocation_evidence *ev);

/* "good", "revoked", "unknown", "not_checked". */
const char *revocation_status_name(enum revocation_status s);

/* "keyCompromise", …, or "unspecified" for -1. */
const char *revocation_reason_name(int reason);

/* Whether the reason says the key (of the certificate or of a CA) may have
 * been in other hands: keyCompromise, cACompromise, aACompromise. */
int revocation_reason_compromise(int reason);

#endif
