/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An audit entry built as text: each field is a key and its value, already
 * JSON. The audit log adds its chain fields and writes the fields in key
 * order, compact, as one line; no JSON tree is built. */
#ifndef KYSOD_AUDIT_ENTRY_H
#define KYSOD_AUDIT_ENTRY_H
#include <stddef.h>
#include <stdint.h>

#define AUDIT_ENTRY_FIELDS 28

struct audit_entry {
	struct {
		const char *key;	/* static text: not copied */
		size_t off, len;	/* the value, in text */
	} f[AUDIT_ENTRY_FIELDS];
	size_t n;
	char *text;			/* the values; small, or malloc'd when it grew */
	size_t used, cap;
	int failed;			/* too many fields, or out of memory */
	char small[1024];
};

void audit_entry_init(struct audit_entry *e);
void audit_entry_free(struct audit_entry *e);

/* Starts the field key (a static string); the value is what the calls below
 * append until the next key. */
void audit_entry_key(struct audit_entry *e, const char *key);

/* Appends JSON text as it is ("{", ",\"pid\":"). */
void audit_entry_raw(struct audit_entry *e, const char *json);

/* Appends s as a JSON string: escaped, and every byte that is not part of a
 * well-formed UTF-8 sequence replaced by U+FFFD. */
void audit_entry_str(struct audit_entry *e, const char *s);

/* Appends a JSON integer. */
void audit_entry_int(struct audit_entry *e, long long v);
void audit_entry_uint(struct audit_entry *e, uint64_t v);

/* Shorthands: a whole field. */
void audit_entry_add_str(struct audit_entry *e, const char *key, const char *s);
void audit_entry_add_uint(struct audit_entry *e, const char *key, uint64_t v);

/* Writes the entry as one compact JSON object with its keys sorted into out
 * (malloc'd, *len bytes, no newline, NUL-terminated). Returns 0, or -1 (a key
 * given twice, a failed entry, out of memory). */
int audit_entry_format(struct audit_entry *e, char **out, size_t *len);

#endif
