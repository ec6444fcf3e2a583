/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strict standard base64 (RFC 4648 section 4, with padding): the one
 * codec of kysod, kyso-p11, libkyso and the kyso CLI.  Internal: libkyso
 * links it but does not export it.
 */
#ifndef KYSO_B64_H
#define KYSO_B64_H
#include <stddef.h>

/* Returns a NUL-terminated encoding the caller frees with free(), or NULL. */
char *kyso_b64_encode(const unsigned char *in, size_t len);

/* Decodes in (len chars, no whitespace) into out (room for outmax bytes).
 * Returns the decoded length, -1 for text that is not base64, -2 when it
 * decodes to more than outmax bytes.  Nothing is written unless the whole
 * text is valid and fits. */
long kyso_b64_decode(const char *in, size_t len, unsigned char *out, size_t outmax);

/* Decodes in (len chars) into a new buffer (caller frees) of *out_len
 * bytes; NULL for text that is not base64, or out of memory. */
unsigned char *kyso_b64_decode_alloc(const char *in, size_t len, size_t *out_len);

#endif
