/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "pdf/pdf-text.h"

int pdf_utf8_decode(const char *s, unsigned int *cp, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int c;
	int n = 0, k, i;

	while (*p) {
		if (*p < 0x80) {
			c = *p;
			k = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			c = *p & 0x1f;
			k = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			c = *p & 0x0f;
			k = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			c = *p & 0x07;
			k = 3;
		} else {
			return -1;
		}
		for (i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			c = c << 6 | (p[i] & 0x3f);
		}
		if (n == max || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
			return -1;
		cp[n++] = c;
		p += k + 1;
	}
	return n;
}

int pdf_write_text(FILE *out, const char *s)
{
	size_t len = strlen(s), i;
	unsigned int *cp;
	int n, j, ascii = 1;

	for (i = 0; i < len; i++)
		ascii &= s[i] >= 0x20 && s[i] < 0x7f;
	if (ascii) {
		fputc('(', out);
		for (i = 0; i < len; i++) {
			if (strchr("()\\", s[i]))
				fputc('\\', out);
			fputc(s[i], out);
		}
		fputc(')', out);
		return 0;
	}
	cp = calloc(len + 1, sizeof(*cp));
	if (!cp)
		return -1;
	n = pdf_utf8_decode(s, cp, (int)len + 1);
	if (n < 0) {
		free(cp);
		return -1;
	}
	fputs("<FEFF", out);
	for (j = 0; j < n; j++) {
		if (cp[j] >= 0x10000)
			fprintf(out, "%04X%04X", 0xd800 + ((cp[j] - 0x10000) >> 10),
				0xdc00 + ((cp[j] - 0x10000) & 0x3ff));
		else
			fprintf(out, "%04X", cp[j]);
	}
	fputc('>', out);
	free(cp);
	return 0;
}
