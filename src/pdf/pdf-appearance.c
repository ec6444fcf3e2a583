/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "pdf/pdf-appearance.h"

int pdf_appearance_write(struct pdf_update *u, int num, const struct pdf_appearance *ap,
			 double w, double h)
{
	char *content = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&content, &len);
	int ret = -1;

	(void)ap;
	if (!m)
		return -1;
	fprintf(m, "q 0.2 0.3 0.6 RG 1 w 0.5 0.5 %.2f %.2f re S Q\n", w - 1, h - 1);
	if (fclose(m))
		goto out;
	if (pdf_update_obj(u, num, 0))
		goto out;
	fprintf(u->out, "<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] "
		"/Resources << >> /Length %zu >>\nstream\n", w, h, len);
	fwrite(content, 1, len, u->out);
	fputs("\nendstream\nendobj\n", u->out);
	ret = ferror(u->out) ? -1 : 0;
out:
	free(content);
	return ret;
}
