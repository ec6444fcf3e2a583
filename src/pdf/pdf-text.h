/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PDF text strings (ISO 32000-1 7.9.2.2) from UTF-8. */
#ifndef KYSO_PDF_TEXT_H
#define KYSO_PDF_TEXT_H
#include <stdio.h>

/* Writes s as a PDF text string: (literal) when it is printable ASCII,
 * else <FEFF...> UTF-16BE in hex. Returns 0, or -1 for invalid UTF-8. */
int pdf_write_text(FILE *out, const char *s);

/* The code points of the UTF-8 string s into cp (at most max); returns
 * how many, or -1 for invalid UTF-8 or more than max. */
int pdf_utf8_decode(const char *s, unsigned int *cp, int max);

#endif
