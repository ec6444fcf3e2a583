/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The INI reader (src/common/ini-reader.c) behind kysod.conf and the token
 * catalogue: what its callbacks see (lines, continuations, section headers as
 * inih takes them, the BOM), its refusals (NUL bytes, size, over-long lines)
 * and which error wins, and reading from a file descriptor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ini-reader.h"

/* What the callbacks saw, one line each: "K line section.name=value" (with a
 * '+' after K for a continuation) or "S line name" ("S line -" at the end). */
struct seen {
	char log[16384];
	const char *fail_key;		/* fail on this key, through kyso_ini_fail() */
	const char *fail_section;	/* fail on this section, at line 1 */
};

static void note(struct seen *sn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct seen *sn, const char *fmt, ...)
{
	size_t len = strlen(sn->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sn->log + len, sizeof(sn->log) - len, fmt, ap);
	va_end(ap);
}

static int on_key(struct kyso_ini *ini, void *user, const char *section, const char *name,
		  const char *value)
{
	struct seen *sn = user;

	note(sn, "K%s %u %s.%s=%s\n", kyso_ini_continued(ini) ? "+" : "", kyso_ini_line(ini),
	     section, name, value);
	if (sn->fail_key && !strcmp(name, sn->fail_key))
		return kyso_ini_fail(ini, "bad key '%s' in [%s] (section at %u)", name, section,
				     kyso_ini_section_line(ini));
	return 1;
}

static int on_section(struct kyso_ini *ini, void *user, const char *section)
{
	struct seen *sn = user;

	if (!section) {
		note(sn, "S %u -\n", kyso_ini_line(ini));
		return 1;
	}
	note(sn, "S %u %s\n", kyso_ini_line(ini), section);
	assert_int_equal(kyso_ini_section_line(ini), kyso_ini_line(ini));
	assert_string_equal(kyso_ini_file(ini), "f.ini");
	if (sn->fail_section && !strcmp(section, sn->fail_section))
		return kyso_ini_fail_at(ini, 1, "section [%s] refused", section);
	return 1;
}

static int parse(struct seen *sn, const char *text, size_t len, const char *syntax, char *err)
{
	const struct kyso_ini_parser p = {
		.file = "f.ini",
		.syntax_error = syntax,
		.max_size = 4096,
		.on_key = on_key,
		.on_section = on_section,
		.user = sn,
	};

	err[0] = '\0';
	return kyso_ini_parse_text(&p, text, len, err, 512);
}

static void expect_log(const char *text, const char *want)
{
	struct seen sn = { .log = "" };
	char err[512];

	if (parse(&sn, text, strlen(text), NULL, err))
		fail_msg("refused (%s):\n%s", err, text);
	if (strcmp(sn.log, want))
		fail_msg("for:\n%s\nsaw:\n%s\nwant:\n%s", text, sn.log, want);
}

static void expect_error(const char *text, size_t len, const char *want)
{
	struct seen sn = { .log = "", .fail_key = "bad", .fail_section = "badsec" };
	char err[512];

	if (parse(&sn, text, len, NULL, err) != -1)
		fail_msg("accepted:\n%s", text);
	if (strcmp(err, want))
		fail_msg("for:\n%s\n got '%s'\nwant '%s'", text, err, want);
}

static void test_keys_and_sections(void **state)
{
	expect_log("", "S 0 -\n");
	expect_log("; only\n# comments\n\n", "S 3 -\n");
	expect_log("[a]\nk = v\nk2: w ; comment\n[b c]\n  x = 1\n",
		   "S 1 a\nK 2 a.k=v\nK 3 a.k2=w\nS 4 b c\nK 5 b c.x=1\nS 5 -\n");
	/* indented lines after a key continue it, comments between or not */
	expect_log("[a]\nlist = 1 2\n  3 4\n; note\n\t5\n\v6\nnext = 7\n",
		   "S 1 a\nK 2 a.list=1 2\nK+ 3 a.list=3 4\nK+ 5 a.list=5\nK+ 6 a.list=6\n"
		   "K 7 a.next=7\nS 7 -\n");
	/* ... so an indented header after a key is a value, as inih has it */
	expect_log("[a]\nk = v\n  [b]\nz = 1\n", "S 1 a\nK 2 a.k=v\nK+ 3 a.k=[b]\nK 4 a.z=1\nS 4 -\n");
	/* after a header, or after "= v" (no name), an indented line starts a key */
	expect_log("[a]\n  [b]\n  k = v\n", "S 1 a\nS 2 b\nK 3 b.k=v\nS 3 -\n");
	expect_log("[a]\n= v\n  k = w\n", "S 1 a\nK 2 a.=v\nK 3 a.k=w\nS 3 -\n");
	/* a BOM is skipped on the first line only; CR LF line ends */
	expect_log("\xef\xbb\xbf[a]\r\nk = v\r\n", "S 1 a\nK 2 a.k=v\nS 2 -\n");
	/* the last line needs no newline */
	expect_log("[a]\nk = v", "S 1 a\nK 2 a.k=v\nS 2 -\n");
}

static void test_errors(void **state)
{
	char text[1024];
	size_t o;

	expect_error("[a]\nbroken\n", 11, "f.ini:2: syntax error");
	expect_error("[a\nk = v\n", 9, "f.ini:1: syntax error");
	/* "]" behind an inline comment does not close the header */
	expect_error("[a ;x]\n", 7, "f.ini:1: syntax error");
	expect_error("[a]\nok = 1\nbad = 2\n", 19, "f.ini:3: bad key 'bad' in [a] (section at 1)");
	/* the first error wins, the reading stops at a callback's */
	expect_error("[a]\nbroken\nbad = 1\n", 19, "f.ini:2: syntax error");
	expect_error("[a]\nbad = 1\nbroken\n", 19, "f.ini:2: bad key 'bad' in [a] (section at 1)");
	/* an error on an earlier line than inih's syntax error wins */
	expect_error("[a]\nbroken\n[badsec]\n", 20, "f.ini:1: section [badsec] refused");
	expect_error("[a]\nk = v\0w\n", 12, "f.ini: holds a NUL byte");
	memset(text, '#', sizeof(text));
	expect_error(text, 4097, "f.ini: larger than 4096 bytes");

	/* 198 characters and a newline fit; 199 do not, and stop the reading */
	o = (size_t)snprintf(text, sizeof(text), "[a]\nk = ");
	memset(text + o, 'v', 198 - 4);
	strcpy(text + o + 198 - 4, "\nbad = 1\n");
	expect_error(text, strlen(text), "f.ini:3: bad key 'bad' in [a] (section at 1)");
	memmove(text + o + 1, text + o, strlen(text + o) + 1);
	expect_error(text, strlen(text), "f.ini:2: line longer than 198 characters");
	/* a syntax error before it still comes first */
	memcpy(text, "[a\n", 3);
	expect_error(text, strlen(text), "f.ini:1: syntax error");
}

static void test_syntax_text_and_stop(void **state)
{
	struct seen sn = { .log = "", .fail_key = "bad" };
	char err[512];
	const char *text = "[a]\nbad = 1\nlater = 2\n[b]\n";

	assert_int_equal(parse(&sn, "x\n", 2, "syntax error (want key = value)", err), -1);
	assert_string_equal(err, "f.ini:1: syntax error (want key = value)");
	/* nothing is read after a callback's error, not even the end */
	sn.log[0] = '\0';
	assert_int_equal(parse(&sn, text, strlen(text), NULL, err), -1);
	assert_string_equal(sn.log, "S 1 a\nK 2 a.bad=1\n");
}

static void test_parse_fd(void **state)
{
	const struct kyso_ini_parser p = {
		.file = "f.ini",
		.max_size = 20000,
		.on_key = on_key,
		.on_section = on_section,
	};
	struct seen sn = { .log = "" };
	char err[512], line[64];
	int fds[2], i;
	size_t n;

	/* a pipe, longer than one read */
	assert_int_equal(pipe(fds), 0);
	n = 0;
	for (i = 0; i < 600; i++)
		n += (size_t)snprintf(line, sizeof(line), "k%d = %d\n", i, i);
	assert_true(n > 4096 && n < 65536);
	assert_int_equal(write(fds[1], "[s]\n", 4), 4);
	for (i = 0; i < 600; i++) {
		int len = snprintf(line, sizeof(line), "k%d = %d\n", i, i);

		assert_int_equal(write(fds[1], line, (size_t)len), len);
	}
	close(fds[1]);
	{
		struct kyso_ini_parser q = p;

		q.user = &sn;
		assert_int_equal(kyso_ini_parse_fd(&q, fds[0], err, sizeof(err)), 0);
	}
	close(fds[0]);
	assert_non_null(strstr(sn.log, "K 601 s.k599=599\nS 601 -\n"));

	/* over the size: refused without reading it all */
	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < 2100; i++)
		assert_int_equal(write(fds[1], "# comment\n", 10), 10);
	close(fds[1]);
	sn.log[0] = '\0';
	{
		struct kyso_ini_parser q = p;

		q.user = &sn;
		assert_int_equal(kyso_ini_parse_fd(&q, fds[0], err, sizeof(err)), -1);
	}
	close(fds[0]);
	assert_string_equal(err, "f.ini: larger than 20000 bytes");
	assert_string_equal(sn.log, "");

	{
		struct kyso_ini_parser q = p;

		q.user = &sn;
		assert_int_equal(kyso_ini_parse_fd(&q, -1, err, sizeof(err)), -1);
	}
	assert_string_equal(err, "f.ini: Bad file descriptor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_sections),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_syntax_text_and_stop),
		cmocka_unit_test(test_parse_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
