/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso CLI output: aligned tables, pretty JSON, error and usage messages.
 */
#ifndef KYSO_CLI_OUTPUT_H
#define KYSO_CLI_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "kyso/kyso.h"

/* Exit codes of the kyso command. */
enum {
	KYSO_EXIT_OK = 0,
	KYSO_EXIT_ERROR = 1,		/* API or operation error */
	KYSO_EXIT_USAGE = 2,		/* bad command line */
	KYSO_EXIT_UNREACHABLE = 3,	/* no connection to kysod */
};

/* A table of text cells, printed with left-aligned columns. */
struct table;

struct table *table_new(size_t ncols, const char *const *headers);
/* Appends a row of ncols cells (copied; NULL prints as "-"). */
int table_add(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
void table_print(const struct table *t);
void table_free(struct table *t);

/* One CSV record (RFC 4180, CRLF-ended) of n cells (NULL: empty), to f. */
void out_csv_row_to(FILE *f, const char *const *cells, size_t n);
/* The same to standard output. */
void out_csv_row(const char *const *cells, size_t n);

/* Prints obj, or the JSON text, indented, with a final newline. */
void out_json(const json_t *obj);
int out_json_text(const char *text);

/*
 * Replaces path with text: a new file beside it (0600: reports and requests
 * hold the teachers' names and id numbers), synced, renamed over path, the
 * directory synced.  0 or -1 with errno.
 */
int out_file_replace(const char *path, const char *text, size_t len);

/*
 * Reports err: "kyso: <message> (<code>)" on stderr and, if json is set,
 * {"error":{...}} on stdout.  Returns the exit code for it (1, or 3 for
 * daemon_unreachable).
 */
int out_error(int json, const struct kyso_error *err);

/* Same for an error found by the CLI itself; returns 1. */
int out_fail(int json, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Reports a command-line mistake with a one-line hint pointing to
 * "kyso [CMD] --help"; cmd may be NULL.  Returns 2.
 */
int out_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* KYSO_CLI_OUTPUT_H */
