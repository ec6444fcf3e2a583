#ifndef KYSO_HEX_H
#define KYSO_HEX_H
#include <stddef.h>

/* Lowercase hex of len bytes into out, which holds at least 2 * len + 1 bytes. */
void kyso_hex_encode(const unsigned char *in, size_t len, char *out);

/* Decodes hex (either case) into out (room for outmax bytes).
 * Returns the number of bytes, or -1 for odd length, a bad digit or no room. */
long kyso_hex_decode(const char *in, unsigned char *out, size_t outmax);

#endif
