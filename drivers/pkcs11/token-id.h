/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Token identity: stable across re-insertion, never the slot number. */
#ifndef KYSO_TOKEN_ID_H
#define KYSO_TOKEN_ID_H
#include <stddef.h>

#define KYSO_TOKEN_ID_LEN 32

/* Copies a space-padded PKCS#11 field of n bytes into dst (n + 1 bytes), trimmed. */
void p11_field_trim(char *dst, const unsigned char *src, size_t n);

/* out (KYSO_TOKEN_ID_LEN + 1 bytes) = lowercase hex of the first 16 bytes of
 * SHA-256(manufacturer "\0" model "\0" serial), over the trimmed fields. */
void kyso_token_id(const char *manufacturer, const char *model, const char *serial, char *out);

#endif
