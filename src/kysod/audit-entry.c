/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "kysod/audit-entry.h"

void audit_entry_init(struct audit_entry *e)
{
	e->n = 0;
	e->text = e->small;
	e->used = 0;
	e->cap = sizeof(e->small);
	e->failed = 0;
}

void audit_entry_free(struct audit_entry *e)
{
	if (e->text != e->small)
		free(e->text);
	e->text = e->small;
	e->cap = sizeof(e->small);
	e->used = 0;
	e->n = 0;
}

static int room(struct audit_entry *e, size_t more)
{
	size_t cap;
	char *grown;

	if (e->failed)
		return -1;
	if (e->used + more <= e->cap)
		return 0;
	for (cap = e->cap * 2; cap < e->used + more; cap *= 2)
		;
	grown = e->text == e->small ? malloc(cap) : realloc(e->text, cap);
	if (!grown) {
		e->failed = 1;
		return -1;
	}
	if (e->text == e->small)
		memcpy(grown, e->small, e->used);
	e->text = grown;
	e->cap = cap;
	return 0;
}

static void put(struct audit_entry *e, const char *s, size_t len)
{
	if (room(e, len))
		return;
	memcpy(e->text + e->used, s, len);
	e->used += len;
	if (e->n)
		e->f[e->n - 1].len = e->used - e->f[e->n - 1].off;
}

void audit_entry_key(struct audit_entry *e, const char *key)
{
	if (e->n == AUDIT_ENTRY_FIELDS) {
		e->failed = 1;
		return;
	}
	e->f[e->n].key = key;
	e->f[e->n].off = e->used;
	e->f[e->n].len = 0;
	e->n++;
}

void audit_entry_raw(struct audit_entry *e, const char *json)
{
	put(e, json, strlen(json));
}

/* As Python's json.dumps(ensure_ascii=False) and jansson write strings:
 * the quote, the backslash and control characters escaped, the rest as is. */
void audit_entry_str(struct audit_entry *e, const char *s)
{
	static const char hexdig[] = "0123456789abcdef";
	static const char replacement[] = "\xef\xbf\xbd";
	size_t i = 0, start, n;
	char esc[8];

	put(e, "\"", 1);
	while (s[i]) {
		unsigned char c = (unsigned char)s[i];

		/* a run of plain ASCII goes in one copy */
		start = i;
		while (s[i] && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80 &&
		       s[i] != '"' && s[i] != '\\')
			i++;
		if (i > start) {
			put(e, s + start, i - start);
			continue;
		}
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			n = kyso_utf8_seq(s + i);
			if (n) {
				put(e, s + i, n);
				i += n;
			} else {
				put(e, replacement, 3);
				i++;
			}
			continue;
		}
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; n = 2; break;
		case '\\': esc[1] = '\\'; n = 2; break;
		case '\b': esc[1] = 'b'; n = 2; break;
		case '\f': esc[1] = 'f'; n = 2; break;
		case '\n': esc[1] = 'n'; n = 2; break;
		case '\r': esc[1] = 'r'; n = 2; break;
		case '\t': esc[1] = 't'; n = 2; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hexdig[c >> 4];
			esc[5] = hexdig[c & 15];
			n = 6;
		}
		put(e, esc, n);
		i++;
	}
	put(e, "\"", 1);
}

void audit_entry_int(struct audit_entry *e, long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", v);

	put(e, buf, (size_t)n);
}

void audit_entry_uint(struct audit_entry *e, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(e, p, (size_t)(buf + sizeof(buf) - p));
}

void audit_entry_add_str(struct audit_entry *e, const char *key, const char *s)
{
	audit_entry_key(e, key);
	audit_entry_str(e, s);
}

void audit_entry_add_uint(struct audit_entry *e, const char *key, uint64_t v)
{
	audit_entry_key(e, key);
	audit_entry_uint(e, v);
}

int audit_entry_format(struct audit_entry *e, char **out, size_t *len)
{
	size_t order[AUDIT_ENTRY_FIELDS], i, j, total = 2, o = 0;
	char *line;

	*out = NULL;
	if (e->failed || e->n == 0)
		return -1;
	/* insertion sort: a few dozen comparisons for an entry's fields */
	for (i = 0; i < e->n; i++) {
		for (j = i; j > 0 && strcmp(e->f[order[j - 1]].key, e->f[i].key) > 0; j--)
			order[j] = order[j - 1];
		if (j > 0 && !strcmp(e->f[order[j - 1]].key, e->f[i].key))
			return -1;
		order[j] = i;
		total += strlen(e->f[i].key) + 4 + e->f[i].len;
	}
	line = malloc(total + 1);
	if (!line)
		return -1;
	line[o++] = '{';
	for (i = 0; i < e->n; i++) {
		size_t k = order[i], klen = strlen(e->f[k].key);

		if (i)
			line[o++] = ',';
		line[o++] = '"';
		memcpy(line + o, e->f[k].key, klen);
		o += klen;
		line[o++] = '"';
		line[o++] = ':';
		memcpy(line + o, e->text + e->f[k].off, e->f[k].len);
		o += e->f[k].len;
	}
	line[o++] = '}';
	line[o] = '\0';
	*out = line;
	*len = o;
	return 0;
}
