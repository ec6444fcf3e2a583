/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A signature appended to a PDF as an incremental update: a signature
 * field (a widget on a page) whose value is a signature dictionary with a
 * /Contents placeholder, a /ByteRange over everything else, and the hash
 * of those bytes read back from the file in pieces, never the whole file
 * in memory. The CMS (or, for a document timestamp, the RFC 3161 token)
 * is made elsewhere and put in last.
 */
#ifndef KYSO_PDF_SIGN_H
#define KYSO_PDF_SIGN_H
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include <openssl/evp.h>

struct pdf_appearance;

struct pdf_sign_opts {
	const char *field;		/* the field's name; NULL: the first free "SignatureN" */
	const char *reason;		/* UTF-8, or NULL */
	const char *location;		/* UTF-8, or NULL */
	int doc_timestamp;		/* a document timestamp (/DocTimeStamp, ETSI.RFC3161) */
	int certify;			/* a certification signature: DocMDP, changes P 2 */
	size_t contents_size;		/* bytes reserved for the DER in /Contents */
	time_t when;			/* the signature dictionary's /M */
	int page;			/* 0-based page of the widget */
	int visible;			/* rect is the widget's place on the page */
	double rect[4];			/* x, y, width, height in points */
	const struct pdf_appearance *ap;	/* what a visible widget shows, or NULL */
};

struct pdf_sig {
	FILE *f;
	off_t contents_at;		/* the '<' of /Contents */
	size_t contents_size;
	off_t end;			/* the file's length */
	long long range[4];		/* the /ByteRange */
	char field[128];		/* the field's name as written */
};

/* Appends the update to the PDF at path (its signature left empty).
 * Returns 0, or -1 with err. */
int pdf_sig_prepare(const char *path, const struct pdf_sign_opts *o, struct pdf_sig *s,
		    char *err, size_t errlen);

/* The md hash of the bytes range (a /ByteRange) covers in f. 0 or -1. */
int pdf_hash_ranges(FILE *f, const long long range[4], const EVP_MD *md, unsigned char *out,
		    unsigned int *len);

/* The md hash of the bytes the /ByteRange covers, read from the file. */
int pdf_sig_digest(struct pdf_sig *s, const EVP_MD *md, unsigned char *out, unsigned int *len);

/* Puts der (the CMS or timestamp token) into /Contents. Returns 0, or -1
 * with err (e.g. larger than the place reserved). */
int pdf_sig_put(struct pdf_sig *s, const unsigned char *der, size_t len, char *err,
		size_t errlen);

/* Closes the file; returns -1 if it did not close cleanly. */
int pdf_sig_close(struct pdf_sig *s);

#endif
