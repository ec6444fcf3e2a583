/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hexadecimal: the one codec of kysod, kyso-p11, libkyso and the kyso CLI. */
#include <string.h>

#include "common/hex.h"

void kyso_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int kyso_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kyso_hex_lower(const char *in, size_t len, char *out)
{
	size_t i;
	int v;

	for (i = 0; i < len; i++) {
		v = kyso_hex_digit(in[i]);
		if (v < 0)
			return -1;
		out[i] = "0123456789abcdef"[v];
	}
	out[len] = '\0';
	return 0;
}

long kyso_hex_decode(const char *in, size_t len, unsigned char *out, size_t outmax)
{
	size_t i;
	int hi, lo;

	if (len % 2 || len / 2 > outmax)
		return -1;
	/* the whole text is checked before a byte is written */
	for (i = 0; i < len; i++)
		if (kyso_hex_digit(in[i]) < 0)
			return -1;
	for (i = 0; i < len / 2; i++) {
		hi = kyso_hex_digit(in[2 * i]);
		lo = kyso_hex_digit(in[2 * i + 1]);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}
