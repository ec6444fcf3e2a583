/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hexadecimal: the one codec of kysod, kyso-p11, libkyso and the kyso
 * CLI.  Internal: libkyso links it but does not export it.
 */
#ifndef KYSO_HEX_H
#define KYSO_HEX_H
#include <stddef.h>

/* Lowercase hex of len bytes into out, which holds at least 2 * len + 1 bytes. */
void kyso_hex_encode(const unsigned char *in, size_t len, char *out);

/* The value of one hex digit (either case), or -1. */
int kyso_hex_digit(char c);

/* Copies the len hex digits (either case) at in to out in lowercase, a NUL
 * after them (out holds len + 1 bytes). Returns 0, or -1 at a character that
 * is no hex digit (out then holds part of it, unterminated). */
int kyso_hex_lower(const char *in, size_t len, char *out);

/* Decodes the len hex digits (either case) at in into out (room for outmax
 * bytes).  Returns the number of bytes, or -1 for an odd length, a bad digit
 * or no room; nothing is written then. */
long kyso_hex_decode(const char *in, size_t len, unsigned char *out, size_t outmax);

#endif
