/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What kyso reads of an existing PDF before it appends an incremental
 * update: the trailer, the catalog, the pages, the form.  qpdf (its C API)
 * reads the file, with classic xref tables, xref streams and object
 * streams alike; kyso never lets it write.
 */
#ifndef KYSO_PDF_DOC_H
#define KYSO_PDF_DOC_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <qpdf/qpdf-c.h>

struct pdf_doc {
	qpdf_data q;
	off_t size;			/* the file's length */
	off_t prev_xref;		/* the offset its last startxref names */
	int xref_stream;		/* that cross-reference section is a stream */
	int next_num;			/* the trailer's /Size: the first free object number */
	char *id;			/* the trailer's /ID as PDF text, or NULL */
	char *info;			/* the trailer's /Info reference as PDF text, or NULL */
	qpdf_oh root;
};

/* Opens path with qpdf. Returns 0, or -1 with err. Encrypted files are refused. */
int pdf_doc_open(struct pdf_doc *d, const char *path, char *err, size_t errlen);
void pdf_doc_close(struct pdf_doc *d);

/* A new object number (from /Size on). */
int pdf_doc_new_num(struct pdf_doc *d);

/* The text of oh as it goes in a PDF: indirect objects as "N G R",
 * direct ones whole. A new string (free). */
char *pdf_unparse(struct pdf_doc *d, qpdf_oh oh);

/* Writes the dictionary dict (resolved: its entries, indirect values as
 * references) without the keys of drop (NULL-terminated), then extra
 * (PDF text of more entries, or NULL), as "<< ... >>". Returns 0 or -1. */
int pdf_write_dict(struct pdf_doc *d, FILE *out, qpdf_oh dict, const char *const *drop,
		   const char *extra);

/* Writes the array arr (may be null: an empty one) with extra appended. */
int pdf_write_array(struct pdf_doc *d, FILE *out, qpdf_oh arr, const char *extra);

#endif
