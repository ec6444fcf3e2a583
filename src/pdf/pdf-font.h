/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A TrueType font embedded in a PDF as a subset (ISO 32000-1 9.7): a
 * Type0 font, Identity-H, over a CIDFontType2 whose CIDs are the glyph ids
 * (CIDToGIDMap /Identity), with /W widths and a ToUnicode CMap so that the
 * text can be extracted. HarfBuzz reads the font and makes the subset
 * (hb-subset, the glyph ids kept); the text is laid out one code point to
 * one glyph (text in NFC: Vietnamese letters are precomposed).
 */
#ifndef KYSO_PDF_FONT_H
#define KYSO_PDF_FONT_H
#include <stddef.h>

#include "pdf/pdf-update.h"

struct pdf_font;

/* Opens the TrueType font at path. NULL with err on failure. */
struct pdf_font *pdf_font_open(const char *path, char *err, size_t errlen);
void pdf_font_free(struct pdf_font *f);

/* The text s (UTF-8) in f, as the hex string of its glyph ids for Tj
 * (a new string, free), its width in thousandths of the font size to
 * *width; every glyph is noted for the subset. NULL with err when s is
 * not UTF-8 or the font lacks one of its characters. */
char *pdf_font_text(struct pdf_font *f, const char *s, double *width, char *err,
		    size_t errlen);

/* The font's ascent and descent (negative), thousandths of its size. */
void pdf_font_extent(const struct pdf_font *f, double *ascent, double *descent);

/* Writes the font (its subset of the glyphs noted so far) as new objects
 * of u; *num is the Type0 font's number. Returns 0 or -1. */
int pdf_font_write(struct pdf_font *f, struct pdf_update *u, int *num);

#endif
