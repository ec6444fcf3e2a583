/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 as JSON needs it (RFC 3629: no overlong forms, surrogates or code
 * points past U+10FFFF, which jansson refuses). */
#ifndef KYSO_UTF8_H
#define KYSO_UTF8_H
#include <stddef.h>
#include <jansson.h>

/* Length in bytes of the well-formed UTF-8 sequence starting at s (1 to 4),
 * or 0 when s does not start one (or is at its NUL). */
size_t kyso_utf8_seq(const char *s);

/* Number of characters (code points) in the n bytes of well-formed UTF-8 at
 * s, as JSON strings are. */
size_t kyso_utf8_chars(const char *s, size_t n);

/* Cuts s at its first byte that does not begin a well-formed sequence. */
void kyso_utf8_trim(char *s);

/* A JSON string of s with every byte that is not part of a well-formed
 * sequence replaced by U+FFFD: for text from outside (executable paths,
 * names) that must not make a JSON document fail. New reference. */
json_t *kyso_json_string_lossy(const char *s);

#endif
