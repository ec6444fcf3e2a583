/* Whether a certificate is revoked: the configured CRL files first, then the
 * OCSP responder (the configured ocsp_url, else the certificate's AIA). */
#ifndef KYSOD_REVOCATION_H
#define KYSOD_REVOCATION_H
#include <time.h>
#include <openssl/x509.h>

#include "kysod/config.h"
#include "kysod/trust-store.h"

enum revocation_status {
	REVOCATION_NOT_CHECKED,	/* no source configured, or no issuer to ask about */
	REVOCATION_GOOD,
	REVOCATION_REVOKED,
	REVOCATION_UNKNOWN,	/* asked, but no source could tell */
};

struct revocation {
	enum revocation_status status;
	const char *source;		/* "crl" or "ocsp" for good and revoked; else NULL */
	time_t revoked_at;		/* for revoked */
	char message[320];		/* why, in words */
};

/* Checks x, whose verified chain (leaf first, from the trust store t) is
 * chain. Asks the OCSP responder over the network when needed, waiting up to
 * cfg->ocsp_timeout seconds. */
void revocation_check(const struct kysod_config *cfg, struct trust *t, X509 *x,
		      STACK_OF(X509) *chain, struct revocation *r);

/* "good", "revoked", "unknown", "not_checked". */
const char *revocation_status_name(enum revocation_status s);

#endif
