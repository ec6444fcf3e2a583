/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso CLI output helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/utf8.h"
#include "output.h"

struct table {
	size_t ncols;
	size_t nrows;
	size_t cap;
	char **cells;		/* (nrows + 1) * ncols, row 0 = headers; owned */
};

/*
 * Copies s for display: control characters (from token labels and the
 * like) become '?', so nothing can drive the terminal.
 */
static char *cell_dup(const char *s)
{
	char *d, *p;

	d = strdup(s ? s : "-");
	if (!d)
		return NULL;
	for (p = d; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return d;
}

static int table_append(struct table *t, const char *const *cells)
{
	size_t i, base;
	char **p;

	if (t->nrows + 1 >= t->cap) {
		p = realloc(t->cells, t->cap * 2 * t->ncols * sizeof(*p));
		if (!p)
			return -1;
		t->cells = p;
		t->cap *= 2;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = cell_dup(cells[i]);
		if (!t->cells[base + i]) {
			while (i--)
				free(t->cells[base + i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->cap = 8;
	t->cells = calloc(t->cap * ncols, sizeof(*t->cells));
	if (!t->cells || table_append(t, headers) < 0) {
		table_free(t);
		return NULL;
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	return table_append(t, cells);
}

size_t table_rows(const struct table *t)
{
	return t->nrows - 1;
}

void table_print(const struct table *t)
{
	size_t *width, r, i, w;
	const char *cell;

	width = calloc(t->ncols, sizeof(*width));
	if (!width)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			w = kyso_utf8_chars(cell, strlen(cell));
			if (w > width[i])
				width[i] = w;
		}
	}
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			fputs(cell, stdout);
			if (i + 1 == t->ncols)
				break;
			for (w = kyso_utf8_chars(cell, strlen(cell)); w < width[i] + 2; w++)
				putchar(' ');
		}
		putchar('\n');
	}
	free(width);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	if (t->cells) {
		for (i = 0; i < t->nrows * t->ncols; i++)
			free(t->cells[i]);
	}
	free(t->cells);
	free(t);
}

/* Whether a spreadsheet would read the cell as a formula: it starts with =,
 * + or @, or with - not followed by a digit (a negative number is data). */
static int formula_like(const char *c)
{
	return c[0] == '=' || c[0] == '+' || c[0] == '@' ||
	       (c[0] == '-' && !(c[1] >= '0' && c[1] <= '9'));
}

void out_csv_row_to(FILE *f, const char *const *cells, size_t n)
{
	const char *c, *p;
	size_t i;

	for (i = 0; i < n; i++) {
		c = cells[i] ? cells[i] : "";
		if (i)
			fputc(',', f);
		/* RFC 4180: a field with a comma, a quote or a line break is
		 * quoted, its quotes doubled; one a spreadsheet would take for a
		 * formula is quoted too, behind a ' */
		if (!strpbrk(c, ",\"\r\n") && !formula_like(c)) {
			fputs(c, f);
			continue;
		}
		fputc('"', f);
		if (formula_like(c))
			fputc('\'', f);
		for (p = c; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	}
	fputs("\r\n", f);
}

void out_csv_row(const char *const *cells, size_t n)
{
	out_csv_row_to(stdout, cells, n);
}

void out_json(const json_t *obj)
{
	json_dumpf(obj, stdout, JSON_INDENT(2));
	putchar('\n');
}

int out_json_text(const char *text)
{
	json_t *obj;

	obj = json_loads(text, 0, NULL);
	if (!obj)
		return -1;
	out_json(obj);
	json_decref(obj);
	return 0;
}

static const char *pin_state_text(const char *state)
{
	if (strcmp(state, "count_low") == 0)
		return "wrong PINs were entered before, few attempts are left";
	if (strcmp(state, "final_try") == 0)
		return "one attempt is left before the PIN locks";
	if (strcmp(state, "locked") == 0)
		return "the PIN is locked";
	return NULL;
}

int out_error(int json, const struct kyso_error *err)
{
	const char *hint;
	json_t *obj, *e;

	fprintf(stderr, "kyso: %s (%s)\n", err->message, err->code);
	hint = err->pin_state[0] ? pin_state_text(err->pin_state) : NULL;
	if (hint)
		fprintf(stderr, "kyso: PIN state %s: %s\n", err->pin_state, hint);
	if (json) {
		e = json_pack("{s:s, s:s}", "code", err->code, "message", err->message);
		if (!e)		/* message not valid UTF-8 */
			e = json_pack("{s:s, s:s}", "code", err->code, "message", err->code);
		if (e && err->field[0])
			json_object_set_new(e, "field", json_string(err->field));
		if (e && err->index >= 0)
			json_object_set_new(e, "index", json_integer(err->index));
		if (e && err->pin_state[0])
			json_object_set_new(e, "pin", json_pack("{s:s}", "state", err->pin_state));
		obj = e ? json_pack("{s:o}", "error", e) : NULL;
		if (obj)
			out_json(obj);
		json_decref(obj);
	}
	fflush(stdout);
	return strcmp(err->code, "daemon_unreachable") == 0 ? KYSO_EXIT_UNREACHABLE
							     : KYSO_EXIT_ERROR;
}

int out_fail(int json, const char *code, const char *fmt, ...)
{
	struct kyso_error err;
	va_list ap;

	memset(&err, 0, sizeof(err));
	err.index = -1;
	snprintf(err.code, sizeof(err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	out_error(json, &err);
	return KYSO_EXIT_ERROR;
}

int out_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("kyso: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'kyso %s%s--help' for more information.\n",
		cmd ? cmd : "", cmd ? " " : "");
	return KYSO_EXIT_USAGE;
}

int out_file_replace(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd, dfd, err;
	size_t off = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		strcpy(dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = err;
	return -1;
}
