/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The signatures of a PDF and what was changed after each: the revision a
 * signature's /ByteRange ends with is read on its own (qpdf, from the
 * file mapped in memory) and every object reachable from its catalog is
 * compared with the same object in the whole file. What changed is put
 * in kinds: a document security store and document timestamps (the
 * harmless ones of PAdES), later signatures and their fields, form
 * filling, other annotations, the page tree, anything else.
 */
#ifndef KYSO_PDF_REVISIONS_H
#define KYSO_PDF_REVISIONS_H
#include <stddef.h>
#include <sys/types.h>

enum pdf_change {
	PDF_CHANGE_DSS = 1 << 0,
	PDF_CHANGE_DOC_TIMESTAMP = 1 << 1,
	PDF_CHANGE_SIGNATURE = 1 << 2,
	PDF_CHANGE_FORM = 1 << 3,
	PDF_CHANGE_ANNOTATION = 1 << 4,
	PDF_CHANGE_PAGES = 1 << 5,
	PDF_CHANGE_OTHER = 1 << 6,
};

#define PDF_CHANGE_KINDS 7

/* The name of bit i of enum pdf_change ("dss", "document_timestamp", ...). */
const char *pdf_change_name(int i);

/* The changes a certification signature of DocMDP permission p allows. */
unsigned pdf_docmdp_allowed(int p);

struct pdf_sig_info {
	char field[128];		/* the field's full name */
	int doc_timestamp;		/* /Type /DocTimeStamp (ETSI.RFC3161) */
	char subfilter[64];
	char when[40];			/* /M as written, or "" */
	long long range[4];		/* the /ByteRange */
	int range_ok;			/* four numbers, [0 a b c], a gap that is /Contents */
	unsigned char *contents;	/* the DER in /Contents, its padding cut off */
	size_t contents_len;
	int docmdp;			/* a certification signature: its /P (1-3); 0 */
	off_t end;			/* where its revision ends: range[2] + range[3] */
	unsigned changes;		/* enum pdf_change bits of what came after it */
	int dss;			/* its revision has a /DSS */
};

struct pdf_revisions {
	off_t size;			/* the file's length */
	struct pdf_sig_info *sigs;	/* in the order of their revisions */
	size_t n;
	unsigned char **dss_certs;	/* the final /DSS's certificates, DER */
	size_t *dss_cert_lens, n_dss_certs;
	size_t n_dss_revocation;	/* its OCSP answers and CRLs */
};

/* Reads the signatures of the PDF at path and what changed after each.
 * Returns 0, or -1 with err. */
int pdf_revisions_read(const char *path, struct pdf_revisions *r, char *err, size_t errlen);

void pdf_revisions_free(struct pdf_revisions *r);

#endif
