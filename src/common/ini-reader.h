/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading an INI file with inih: the one line reader behind kysod.conf and the
 * token catalogue. It reads the whole file (refusing NUL bytes and files over a
 * size), feeds inih a line at a time, and knows what inih does not say: the
 * number of the line being parsed, whether inih takes it as the continuation of
 * the key above it, the [section] headers as they come (with their lines), and
 * a line longer than inih's buffer. The first error wins, reported as
 * "file:line: what" (or "file: what" for the whole file). Each parser keeps its
 * own keys: it sees them through its callbacks. */
#ifndef KYSO_COMMON_INI_READER_H
#define KYSO_COMMON_INI_READER_H
#include <stddef.h>

/* The longest line inih takes, with its newline and a NUL (inih's INI_MAX_LINE):
 * a line holds at most 198 characters and its newline. */
#define KYSO_INI_LINE_MAX 200

struct kyso_ini;

/* A "key = value" line, or an indented line that inih passes as a continuation
 * of the key above it (same name, kyso_ini_continued() set). Returns nonzero to
 * go on; after kyso_ini_fail(), 0. */
typedef int (*kyso_ini_key_fn)(struct kyso_ini *ini, void *user, const char *section,
			       const char *name, const char *value);
/* A "[section]" header as it is read, before any of its keys (inih itself only
 * tells sections through their keys); section is NULL at the end of the file.
 * Returns nonzero to go on; after kyso_ini_fail_at(), 0. */
typedef int (*kyso_ini_section_fn)(struct kyso_ini *ini, void *user, const char *section);

struct kyso_ini_parser {
	const char *file;		/* the file, as messages name it */
	const char *syntax_error;	/* what a line inih cannot read is; NULL: "syntax error" */
	size_t max_size;		/* bytes */
	kyso_ini_key_fn on_key;
	kyso_ini_section_fn on_section;	/* may be NULL */
	void *user;
};

/* Reads fd to its end and parses it. Returns 0, or -1 with the first error in
 * err: "file: larger than N bytes", "file: holds a NUL byte", "file:N: line
 * longer than 198 characters", "file:N: <syntax_error>", a callback's error,
 * "file: <strerror>". */
int kyso_ini_parse_fd(const struct kyso_ini_parser *p, int fd, char *err, size_t errlen);
/* The same on text of len bytes (its size and NUL bytes are checked too). */
int kyso_ini_parse_text(const struct kyso_ini_parser *p, const char *text, size_t len, char *err,
			size_t errlen);

/* For the callbacks. */
const char *kyso_ini_file(const struct kyso_ini *ini);
unsigned int kyso_ini_line(const struct kyso_ini *ini);		/* the line being parsed */
unsigned int kyso_ini_section_line(const struct kyso_ini *ini);	/* of the last header, 0 none */
int kyso_ini_continued(const struct kyso_ini *ini);
/* Records an error on the line being parsed (or on line), unless one is already
 * recorded, and stops the reading. Both return 0, for the callback to return. */
int kyso_ini_fail(struct kyso_ini *ini, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kyso_ini_fail_at(struct kyso_ini *ini, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
