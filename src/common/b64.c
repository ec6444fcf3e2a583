/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict standard base64 (RFC 4648 section 4, with padding).  Plain C
 * without OpenSSL, so that libkyso can link it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"

/* Longest input either way: keeps every length within a long. */
#define B64_MAX ((size_t)1 << 30)

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *kyso_b64_encode(const unsigned char *in, size_t len)
{
	char *out, *p;
	uint32_t v;
	size_t i;

	if (len > B64_MAX)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	p = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*p++ = alphabet[v >> 18 & 63];
		*p++ = alphabet[v >> 12 & 63];
		*p++ = alphabet[v >> 6 & 63];
		*p++ = alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*p++ = alphabet[v >> 18 & 63];
		*p++ = alphabet[v >> 12 & 63];
		*p++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

long kyso_b64_decode(const char *in, size_t len, unsigned char *out, size_t outmax)
{
	size_t pad = 0, i, n = 0, declen;
	uint32_t w = 0;

	if (len == 0)
		return 0;	/* the encoding of the empty string (RFC 4648, 10) */
	if (len % 4 || len > B64_MAX)
		return -1;
	if (in[len - 1] == '=')
		pad++;
	if (pad && in[len - 2] == '=')
		pad++;
	/* the whole text is checked before a byte is written */
	for (i = 0; i < len - pad; i++)
		if (b64_value(in[i]) < 0)
			return -1;
	declen = len / 4 * 3 - pad;
	if (declen > outmax)
		return -2;
	for (i = 0; i < len; i++) {
		w = w << 6 | (uint32_t)(i < len - pad ? b64_value(in[i]) : 0);
		if (i % 4 != 3)
			continue;
		out[n++] = w >> 16 & 0xff;
		if (n < declen)
			out[n++] = w >> 8 & 0xff;
		if (n < declen)
			out[n++] = w & 0xff;
		w = 0;
	}
	return (long)declen;
}

unsigned char *kyso_b64_decode_alloc(const char *in, size_t len, size_t *out_len)
{
	unsigned char *out;
	long n;

	*out_len = 0;
	if (len > B64_MAX)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	n = kyso_b64_decode(in, len, out, len / 4 * 3);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)n;
	return out;
}
