/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An incremental update (ISO 32000-1 7.5.6) appended to a PDF: the
 * objects, then a cross-reference section of the same kind as the
 * file's last one (a table, or an uncompressed xref stream) whose /Prev
 * is that one, and the trailer. The bytes before stay as they are.
 */
#ifndef KYSO_PDF_UPDATE_H
#define KYSO_PDF_UPDATE_H
#include <stdio.h>
#include <sys/types.h>

#include "pdf/pdf-doc.h"

struct pdf_update {
	struct pdf_doc *doc;
	FILE *out;			/* the file, positioned at its end */
	struct pdf_xref_entry {
		int num;
		int gen;
		off_t offset;
	} *entries;
	size_t n;
};

/* Starts an update of doc appended to out (open for writing at doc->size). */
int pdf_update_begin(struct pdf_update *u, struct pdf_doc *doc, FILE *out);

/* "N G obj\n" for object num (generation gen), recorded at the current offset. */
int pdf_update_obj(struct pdf_update *u, int num, int gen);

/* The current offset in the file. */
off_t pdf_update_tell(struct pdf_update *u);

/* The cross-reference section and trailer; the update is complete. */
int pdf_update_finish(struct pdf_update *u);

void pdf_update_free(struct pdf_update *u);

#endif
