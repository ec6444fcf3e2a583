/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a visible signature widget shows: a framed box with lines of text
 * in an embedded subset of a TrueType font (pdf-font.h). */
#ifndef KYSO_PDF_APPEARANCE_H
#define KYSO_PDF_APPEARANCE_H
#include <stddef.h>

#include "pdf/pdf-update.h"

#define PDF_APPEARANCE_LINES 4

struct pdf_appearance {
	const char *font;			/* a TrueType font file */
	const char *lines[PDF_APPEARANCE_LINES];	/* UTF-8, NULL for none */
};

/* Writes object num: the widget's normal appearance, a form XObject of
 * w x h points showing ap's lines as large as they fit (ap NULL or
 * without lines: the frame only), and the font. Returns 0, or -1 with err. */
int pdf_appearance_write(struct pdf_update *u, int num, const struct pdf_appearance *ap,
			 double w, double h, char *err, size_t errlen);

#endif
