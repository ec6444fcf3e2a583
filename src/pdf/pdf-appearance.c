/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "pdf/pdf-appearance.h"
#include "pdf/pdf-font.h"

/* The margin inside the frame, and the line height, in points and font sizes. */
#define MARGIN 4.0
#define LEADING 1.2
/* The largest font size used. */
#define MAX_SIZE 12.0

/* The text of ap's lines into m in f, as large as fits w x h. */
static int write_text(FILE *m, const struct pdf_appearance *ap, struct pdf_font *f, double w,
		      double h, char *err, size_t errlen)
{
	char *hex[PDF_APPEARANCE_LINES] = { NULL };
	double width, widest = 0, size, ascent, descent, y;
	int i, n = 0, ret = -1;

	for (i = 0; i < PDF_APPEARANCE_LINES; i++) {
		if (!ap->lines[i])
			continue;
		hex[n] = pdf_font_text(f, ap->lines[i], &width, err, errlen);
		if (!hex[n])
			goto out;
		if (width > widest)
			widest = width;
		n++;
	}
	pdf_font_extent(f, &ascent, &descent);
	size = MAX_SIZE;
	if (widest > 0 && (w - 2 * MARGIN) * 1000.0 / widest < size)
		size = (w - 2 * MARGIN) * 1000.0 / widest;
	if (n && (h - 2 * MARGIN) / (n * LEADING) < size)
		size = (h - 2 * MARGIN) / (n * LEADING);
	if (size < 1) {
		snprintf(err, errlen, "the box is too small for the signature's text");
		goto out;
	}
	/* the first baseline an ascent below the top margin */
	y = h - MARGIN - ascent * size / 1000.0;
	fprintf(m, "BT /F1 %.2f Tf 0 g %.2f %.2f Td\n", size, MARGIN, y);
	for (i = 0; i < n; i++) {
		if (i)
			fprintf(m, "0 %.2f Td ", -size * LEADING);
		fprintf(m, "<%s> Tj\n", hex[i]);
	}
	fputs("ET\n", m);
	ret = ferror(m) ? -1 : 0;
out:
	for (i = 0; i < n; i++)
		free(hex[i]);
	return ret;
}

int pdf_appearance_write(struct pdf_update *u, int num, const struct pdf_appearance *ap,
			 double w, double h, char *err, size_t errlen)
{
	struct pdf_font *f = NULL;
	char *content = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&content, &len);
	int i, font = 0, text = 0, ret = -1;

	for (i = 0; ap && i < PDF_APPEARANCE_LINES; i++)
		text |= ap->lines[i] != NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(m, "q 0.2 0.3 0.6 RG 1 w 0.5 0.5 %.2f %.2f re S Q\n", w - 1, h - 1);
	if (text) {
		f = pdf_font_open(ap->font, err, errlen);
		if (!f || write_text(m, ap, f, w, h, err, errlen)) {
			fclose(m);
			goto out;
		}
	}
	if (fclose(m)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(err, errlen, "the appearance cannot be written");
	if (f && pdf_font_write(f, u, &font))
		goto out;
	if (pdf_update_obj(u, num, 0))
		goto out;
	fprintf(u->out, "<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] /Resources << ",
		w, h);
	if (font)
		fprintf(u->out, "/Font << /F1 %d 0 R >> ", font);
	fprintf(u->out, ">> /Length %zu >>\nstream\n", len);
	fwrite(content, 1, len, u->out);
	fputs("\nendstream\nendobj\n", u->out);
	ret = ferror(u->out) ? -1 : 0;
	if (!ret)
		err[0] = '\0';
out:
	pdf_font_free(f);
	free(content);
	return ret;
}
