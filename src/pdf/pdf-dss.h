/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The document security store (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1
 * 5.4): the certificates, OCSP answers and CRLs a validator needs years
 * later, appended to a signed PDF as an incremental update (PAdES B-LT).
 * What the store holds already is kept and not written twice.
 */
#ifndef KYSO_PDF_DSS_H
#define KYSO_PDF_DSS_H
#include <stddef.h>

struct pdf_der {
	unsigned char *der;
	size_t len;
};

struct pdf_dss {
	struct pdf_der *certs, *ocsps, *crls;	/* DER: certificates, OCSPResponses, CRLs */
	size_t n_certs, n_ocsps, n_crls;
};

/* Adds dss to the /DSS of the PDF at path (made, or its dictionary
 * rewritten, with the catalog when it changes). Sets *added to how many
 * streams were written (0: the store had them all, the file is as it
 * was). Returns 0, or -1 with err. */
int pdf_dss_append(const char *path, const struct pdf_dss *dss, int *added, char *err,
		   size_t errlen);

void pdf_dss_free(struct pdf_dss *dss);

#endif
