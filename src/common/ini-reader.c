/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one INI line reader (see ini-reader.h). inih (Debian's libinih) parses;
 * this file feeds it and follows it line by line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ini.h>

#include "common/ini-reader.h"

_Static_assert(KYSO_INI_LINE_MAX == INI_MAX_LINE, "inih's line buffer is not KYSO_INI_LINE_MAX");

struct kyso_ini {
	const struct kyso_ini_parser *p;
	const char *pos, *end;		/* what is left of the text */
	unsigned int line;		/* lines handed to inih so far: the one being parsed */
	unsigned int section_line;
	int continued;
	int prev_key;			/* inih has a key to continue (its prev_name) */
	char *err;
	size_t errlen;
	unsigned int err_line;		/* of the recorded error; 0 none */
	int failed;			/* stop reading */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int vfail(struct kyso_ini *ini, unsigned int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vfail(struct kyso_ini *ini, unsigned int line, const char *fmt, va_list ap)
{
	char msg[512];

	if (ini->failed)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	set_err(ini->err, ini->errlen, "%s:%u: %s", ini->p->file, line, msg);
	ini->err_line = line;
	ini->failed = 1;
	return 0;
}

int kyso_ini_fail(struct kyso_ini *ini, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ini, ini->line, fmt, ap);
	va_end(ap);
	return 0;
}

int kyso_ini_fail_at(struct kyso_ini *ini, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ini, line, fmt, ap);
	va_end(ap);
	return 0;
}

const char *kyso_ini_file(const struct kyso_ini *ini)
{
	return ini->p->file;
}

unsigned int kyso_ini_line(const struct kyso_ini *ini)
{
	return ini->line;
}

unsigned int kyso_ini_section_line(const struct kyso_ini *ini)
{
	return ini->section_line;
}

int kyso_ini_continued(const struct kyso_ini *ini)
{
	return ini->continued;
}

/* inih's ini_find_chars_or_comment(): the first of chars, or the ';' of an
 * inline comment (one preceded by a blank), or the end. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Follows what inih is about to do with line (its BOM already skipped): take
 * it as a continuation, a section header (told to on_section) or a key (which
 * the next indented line continues), as ini_parse_stream() does. Returns 0 when
 * on_section failed. */
static int follow_line(struct kyso_ini *ini, const char *line)
{
	const char *start = line, *end;
	char name[INI_MAX_LINE];
	size_t len;

	while (isspace((unsigned char)*start))
		start++;
	ini->continued = 0;
	if (!*start || *start == ';' || *start == '#')
		return 1;
	if (ini->prev_key && start > line) {
		ini->continued = 1;
		return 1;
	}
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']')
			return 1;	/* inih's syntax error */
		ini->prev_key = 0;
		ini->section_line = ini->line;
		if (!ini->p->on_section)
			return 1;
		len = (size_t)(end - (start + 1));
		memcpy(name, start + 1, len);
		name[len] = '\0';
		return ini->p->on_section(ini, ini->p->user, name);
	}
	end = find_chars_or_comment(start, "=:");
	if (*end == '=' || *end == ':') {
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		ini->prev_key = end > start;	/* inih's prev_name, "" for "= value" */
	}
	return 1;
}

/* inih's reader: the next line with its newline, at most num - 1 bytes. A longer
 * one, which inih would cut in two, is an error and ends the reading; so does
 * any error a callback recorded. */
static char *read_line(char *str, int num, void *stream)
{
	struct kyso_ini *ini = stream;
	const char *nl, *p;
	size_t len;

	if (ini->failed || ini->pos >= ini->end)
		return NULL;
	nl = memchr(ini->pos, '\n', (size_t)(ini->end - ini->pos));
	len = nl ? (size_t)(nl - ini->pos) + 1 : (size_t)(ini->end - ini->pos);
	ini->line++;
	if (len > (size_t)num - 1) {
		kyso_ini_fail(ini, "line longer than %d characters", num - 2);
		return NULL;
	}
	p = ini->pos;
	ini->pos += len;
	/* inih skips a BOM on the first line; it is skipped here for it */
	if (ini->line == 1 && len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
		p += 3;
		len -= 3;
	}
	memcpy(str, p, len);
	str[len] = '\0';
	if (!follow_line(ini, str))
		return NULL;
	return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct kyso_ini *ini = user;

	return ini->p->on_key(ini, ini->p->user, section, name, value);
}

int kyso_ini_parse_text(const struct kyso_ini_parser *p, const char *text, size_t len, char *err,
			size_t errlen)
{
	struct kyso_ini ini;
	int rc;

	if (len > p->max_size) {
		set_err(err, errlen, "%s: larger than %zu bytes", p->file, p->max_size);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		set_err(err, errlen, "%s: holds a NUL byte", p->file);
		return -1;
	}
	memset(&ini, 0, sizeof(ini));
	ini.p = p;
	ini.pos = text;
	ini.end = text + len;
	ini.err = err;
	ini.errlen = errlen;
	rc = ini_parse_stream(read_line, &ini, on_entry, &ini);
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot parse (%d)", p->file, rc);
		return -1;
	}
	if (!ini.failed && p->on_section)
		p->on_section(&ini, p->user, NULL);
	/* inih's first error is a line it could not read or one a callback refused:
	 * the first of it and the recorded error is the one reported */
	if (rc > 0 && (!ini.failed || (unsigned int)rc < ini.err_line)) {
		set_err(err, errlen, "%s:%d: %s", p->file, rc,
			p->syntax_error ? p->syntax_error : "syntax error");
		return -1;
	}
	return ini.failed ? -1 : 0;
}

int kyso_ini_parse_fd(const struct kyso_ini_parser *p, int fd, char *err, size_t errlen)
{
	char *text = NULL, *grown;
	size_t len = 0, cap = 0;
	ssize_t n;
	int ret = -1;

	for (;;) {
		if (len == cap) {
			/* one byte over the limit tells a file that is too large */
			cap = cap ? cap * 2 : 4096;
			if (cap > p->max_size + 1)
				cap = p->max_size + 1;
			if (len == cap)
				break;
			grown = realloc(text, cap);
			if (!grown) {
				set_err(err, errlen, "%s: out of memory", p->file);
				goto out;
			}
			text = grown;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "%s: %s", p->file, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	ret = kyso_ini_parse_text(p, text ? text : "", len, err, errlen);
out:
	free(text);
	return ret;
}
