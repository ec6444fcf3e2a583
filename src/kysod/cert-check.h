/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether a certificate may sign: inside its validity period, a key usage
 * that allows signing, a chain to the configured CA bundle, not revoked. */
#ifndef KYSOD_CERT_CHECK_H
#define KYSOD_CERT_CHECK_H
#include <time.h>
#include <jansson.h>
#include <openssl/x509.h>

#include "kysod/daemon.h"
#include "kysod/reply.h"
#include "kysod/revocation.h"

/* Problems, in the order a signature request reports them. */
enum cert_problem {
	CERT_EXPIRED = 1 << 0,
	CERT_NOT_YET_VALID = 1 << 1,
	CERT_USAGE = 1 << 2,
	CERT_UNTRUSTED = 1 << 3,
	CERT_REVOKED = 1 << 4,
	CERT_REVOCATION_UNKNOWN = 1 << 5,
};
#define CERT_PROBLEMS 6

struct cert_status {
	unsigned int problems;		/* CERT_* bits */
	char messages[CERT_PROBLEMS][320];	/* for each problem set, in words */
	int chain_checked;		/* a CA bundle was there to check against */
	STACK_OF(X509) *chain;		/* leaf first up to the trust anchor, when verified */
	int chain_error;		/* X509_V_ERR_* when the chain check failed, else 0 */
	int chain_error_depth;		/* where in the chain */
	struct revocation revocation;	/* when cert_check_revocation ran */
};

void cert_status_free(struct cert_status *st);

/* The API code of one problem bit ("certificate_expired", …). */
const char *cert_problem_code(unsigned int problem);

/* ["certificate_expired", …] for the problem bits. */
json_t *cert_problems_json(unsigned int problems);

/* Validity period and chain at time at, key usage. */
void cert_check_basic(const struct kysod_config *cfg, struct trust *t, X509 *x, time_t at,
		      struct cert_status *st);

/* Revocation of every certificate of the chain below its anchor (now),
 * after cert_check_basic found a chain; each CRL and OCSP finding appended to
 * trail when it is not NULL (see revocation_check), and the CRLs and OCSP
 * answers that decided kept in ev when it is not NULL. */
void cert_check_revocation(const struct kysod_config *cfg, struct trust *t,
			   struct cert_status *st, json_t *trail, struct revocation_evidence *ev);

/* Before anything is asked of the user: every check of the certificate with
 * that id, unless check_certificates is off. Returns 0 and, when wanted, the
 * certificate (*cert, a new reference) and the certificates to send with a
 * CMS signature (*chain: the rest of the verified chain, or empty; the caller
 * frees both), with the CRLs and OCSP answers that decided the chain's
 * revocation status added to ev when it is not NULL; or -1 with rep set to
 * the first problem's error, the whole list in the error's "problems". */
int cert_check_signing(struct kysod *d, const char *cert_id, X509 **cert, STACK_OF(X509) **chain,
		       struct revocation_evidence *ev, struct kyso_reply *rep);

/* GET /v1/certificates: {"certificates":[…]} with "usable" and "problems"
 * added to each (validity, key usage and chain now; revocation is checked at
 * signing time). Consumes list and returns the new object. */
json_t *cert_check_annotate(struct kysod *d, json_t *list);

#endif
