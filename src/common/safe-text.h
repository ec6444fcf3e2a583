/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from outside made safe to show: in a dialog (one line, no control,
 * bidi or invisible format characters, capped in characters) and in a log
 * (control characters escaped). */
#ifndef KYSO_SAFE_TEXT_H
#define KYSO_SAFE_TEXT_H
#include <stddef.h>

/* Writes in as one line into out: C0 and C1 controls, bidi controls
 * (U+061C, U+200E/F, U+202A-202E, U+2066-2069) and format characters (U+00AD,
 * U+180E, U+200B-200D, U+2060-2064, U+206A-206F, U+FEFF, U+FFF9-FFFB) are
 * removed; line breaks, tabs and U+2028/2029 become a space, runs of spaces
 * one, with none at either end; bytes that are not UTF-8 become U+FFFD. Past
 * max_chars characters the text is cut and ends with "…". With quote, the
 * result is put between double quotes and a '"' inside becomes '\''.
 * out always ends with NUL (outlen > 0); whole characters only.
 * Returns the characters written. */
size_t kyso_text_oneline(const char *in, int quote, size_t max_chars, char *out, size_t outlen);

/* Writes in into out with every byte below 0x20, 0x7f, the C1 controls
 * (U+0080-U+009F) and each byte that is not UTF-8 escaped as \xNN, and a
 * backslash as \\: a log line stays one line and carries no terminal
 * escape. Cut at a whole escape when out is short. */
void kyso_text_log_escape(const char *in, char *out, size_t outlen);

#endif
