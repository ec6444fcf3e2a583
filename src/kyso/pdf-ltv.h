/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso pdf: long-term validation (PAdES B-LT and B-LTA). The evidence for
 * a signature's certificates comes from kysod (POST /v1/validation) and
 * goes into the PDF's /DSS; a document timestamp (POST /v1/timestamp over
 * the ByteRange's hash) seals it.
 */
#ifndef KYSO_CLI_PDF_LTV_H
#define KYSO_CLI_PDF_LTV_H
#include <stddef.h>

#include "cmd.h"

/* Adds to the /DSS of the PDF at path the chains of the CMS signature cms
 * (its signer's and, with a signature timestamp, its TSA's) and the CRLs
 * and OCSP answers that show none of them revoked. Every certificate
 * must be shown good. Failures are reported; returns 0 or the exit code. */
int pdf_ltv_add_dss(struct kyso_ctx *ctx, const char *path, const unsigned char *cms,
		    size_t len);

struct pdf_der;

/* As pdf_ltv_add_dss() for the n CMS signatures and timestamp tokens of
 * cms (a document timestamp's token: its TSA's chain), each certificate
 * asked about once, in one update. */
int pdf_ltv_add_dss_all(struct kyso_ctx *ctx, const char *path, const struct pdf_der *cms,
			size_t n);

/* Appends a document timestamp (/DocTimeStamp, ETSI.RFC3161) over the PDF
 * at path, as it is, to it. kysod's TSA is the one of the signature
 * timestamps, whose evidence the /DSS holds already. Failures are
 * reported; returns 0 or the exit code. */
int pdf_ltv_doc_timestamp(struct kyso_ctx *ctx, const char *path);

#endif
