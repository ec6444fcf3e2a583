#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/b64.h"

char *kyso_b64_encode(const unsigned char *in, size_t len)
{
	char *out;

	if (len > (size_t)1 << 30)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

long kyso_b64_decode(const char *in, size_t len, unsigned char *out, size_t outmax)
{
	unsigned char *tmp = NULL;
	size_t pad = 0, i, declen;
	long ret = -1;
	int n;

	if (len == 0)
		return 0;	/* the encoding of the empty string (RFC 4648, 10) */
	if (len % 4 || len > (size_t)1 << 30)
		goto out;
	if (in[len - 1] == '=')
		pad++;
	if (in[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!b64_char(in[i]))
			goto out;
	declen = len / 4 * 3 - pad;
	if (declen > outmax) {
		ret = -2;
		goto out;
	}
	tmp = malloc(len / 4 * 3);
	if (!tmp)
		goto out;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n != len / 4 * 3)
		goto out;
	memcpy(out, tmp, declen);
	ret = (long)declen;
out:
	if (tmp) {
		OPENSSL_cleanse(tmp, len / 4 * 3);
		free(tmp);
	}
	return ret;
}
