/* Strict standard base64 (RFC 4648 section 4, with padding) on top of OpenSSL. */
#ifndef KYSO_B64_H
#define KYSO_B64_H
#include <stddef.h>

/* Returns a NUL-terminated encoding the caller frees with free(), or NULL. */
char *kyso_b64_encode(const unsigned char *in, size_t len);

/* Decodes in (len chars, no whitespace) into out (room for outmax bytes).
 * Returns the decoded length, -1 for text that is not base64, -2 when it
 * decodes to more than outmax bytes. */
long kyso_b64_decode(const char *in, size_t len, unsigned char *out, size_t outmax);

#endif
