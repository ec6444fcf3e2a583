/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "pkcs11/token-id.h"

void p11_field_trim(char *dst, const unsigned char *src, size_t n)
{
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void kyso_token_id(const char *manufacturer, const char *model, const char *serial, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, manufacturer, strlen(manufacturer) + 1) ||
	    !EVP_DigestUpdate(ctx, model, strlen(model) + 1) ||
	    !EVP_DigestUpdate(ctx, serial, strlen(serial)) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen))
		memset(md, 0, sizeof(md));
	EVP_MD_CTX_free(ctx);
	kyso_hex_encode(md, KYSO_TOKEN_ID_LEN / 2, out);
}
