/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "common/safe-text.h"
#include "common/utf8.h"

static unsigned int decode(const unsigned char *p, size_t n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
	case 3:
		return (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	default:
		return (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 |
		       (p[3] & 0x3fu);
	}
}

/* Characters dropped from a dialog line. */
static int invisible(unsigned int c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad || c == 0x61c ||
	       c == 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

static int blank(unsigned int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
	       c == 0x85 || c == 0xa0 || c == 0x2028 || c == 0x2029;
}

size_t kyso_text_oneline(const char *in, int quote, size_t max_chars, char *out, size_t outlen)
{
	static const char ellipsis[] = "\xe2\x80\xa6", fffd[] = "\xef\xbf\xbd";
	/* room kept at the end: an ellipsis, a closing quote and the NUL */
	const size_t reserve = 3 + 1 + 1;
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t o = 0, chars = 0, n, len;
	int space = 0, cut = 0;
	const char *piece;
	char one;
	unsigned int c;

	if (outlen < reserve + 2) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	if (quote)
		out[o++] = '"';
	while (*p) {
		n = kyso_utf8_seq((const char *)p);
		c = n ? decode(p, n) : 0xfffd;
		if (blank(c)) {
			space = chars > 0;
			p += n ? n : 1;
			continue;
		}
		if (n && invisible(c)) {
			p += n;
			continue;
		}
		if (n) {
			piece = (const char *)p;
			len = n;
		} else {
			piece = fffd;
			len = 3;
		}
		if (c == '"' && quote) {
			one = '\'';
			piece = &one;
			len = 1;
		}
		if (chars + space + 1 > max_chars || o + space + len + reserve > outlen) {
			cut = 1;
			break;
		}
		if (space) {
			out[o++] = ' ';
			chars++;
			space = 0;
		}
		memcpy(out + o, piece, len);
		o += len;
		chars++;
		p += n ? n : 1;
	}
	if (cut) {
		memcpy(out + o, ellipsis, 3);
		o += 3;
		chars++;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return chars;
}

void kyso_text_log_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(in ? in : "");
	size_t o = 0, n, k;
	char esc[16];
	int bad;

	if (!outlen)
		return;
	while (*p) {
		n = kyso_utf8_seq((const char *)p);
		bad = !n || *p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f);
		if (!bad && *p != '\\') {
			if (o + n >= outlen)
				break;
			memcpy(out + o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (*p == '\\' && !bad) {
			snprintf(esc, sizeof(esc), "\\\\");
			n = 1;
		} else {
			if (!n)
				n = 1;
			for (k = 0; k < n; k++)
				snprintf(esc + 4 * k, sizeof(esc) - 4 * k, "\\x%02x", p[k]);
		}
		if (o + strlen(esc) >= outlen)
			break;
		memcpy(out + o, esc, strlen(esc));
		o += strlen(esc);
		p += n;
	}
	out[o] = '\0';
}
