/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from outside made safe (src/common/safe-text.c): one dialog line without
 * control, bidi or invisible format characters, capped in characters; log
 * fields with control characters escaped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/safe-text.h"

static void line_is(const char *in, int quote, size_t max, const char *want)
{
	char out[1024];

	kyso_text_oneline(in, quote, max, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("\"%s\" became \"%s\", not \"%s\"", in, out, want);
}

static void test_plain_text_kept(void **state)
{
	line_is("invoices of March", 0, 100, "invoices of March");
	line_is("Hóa đơn tháng 3", 1, 100, "\"Hóa đơn tháng 3\"");
	line_is("", 1, 100, "\"\"");
	line_is(NULL, 0, 100, "");
}

/* The forgery of the issue: a fake second paragraph. */
static void test_one_line(void **state)
{
	line_is("a\n\n/usr/bin/libreoffice asks to sign", 0, 100,
		"a /usr/bin/libreoffice asks to sign");
	line_is("  a\r\n\tb\v\fc  ", 0, 100, "a b c");
	line_is("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 0, 100, "a b c");	/* U+2028, U+2029 */
	line_is("a\xc2\x85" "b", 0, 100, "a b");			/* NEL */
	line_is("\n\n\n", 1, 100, "\"\"");
}

static void test_controls_removed(void **state)
{
	line_is("a\x1b[31mred\x1b[0m\x07", 0, 100, "a[31mred[0m");
	line_is("a\x7f" "b\x01" "c", 0, 100, "abc");
	line_is("a\xc2\x9b" "31m", 0, 100, "a31m");			/* C1 CSI */
}

static void test_bidi_removed(void **state)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE: "exe.txt" that reads "txt.exe" */
	line_is("\xe2\x80\xae" "txt.exe", 0, 100, "txt.exe");
	line_is("a\xe2\x80\xaa" "b\xe2\x80\xab" "c\xe2\x80\xac" "d\xe2\x80\xad" "e", 0, 100,
		"abcde");
	line_is("a\xe2\x81\xa6" "b\xe2\x81\xa7" "c\xe2\x81\xa8" "d\xe2\x81\xa9" "e", 0, 100,
		"abcde");					/* U+2066-2069 */
	line_is("a\xe2\x80\x8e" "b\xe2\x80\x8f" "c\xd8\x9c" "d", 0, 100, "abcd");	/* LRM RLM ALM */
}

static void test_format_removed(void **state)
{
	line_is("a\xe2\x80\x8b" "b\xe2\x80\x8c" "c\xe2\x80\x8d" "d", 0, 100, "abcd");	/* ZW* */
	line_is("\xef\xbb\xbf" "a\xc2\xad" "b\xe2\x81\xa0" "c", 0, 100, "abc");	/* BOM SHY WJ */
	line_is("a\xef\xbf\xb9" "b", 0, 100, "ab");			/* U+FFF9 */
}

static void test_quotes(void **state)
{
	line_is("say \"yes\"", 1, 100, "\"say 'yes'\"");
	line_is("say \"yes\"", 0, 100, "say \"yes\"");
}

static void test_invalid_utf8(void **state)
{
	line_is("a\xff" "b", 0, 100, "a\xef\xbf\xbd" "b");
	line_is("a\xc0\xaf" "b", 0, 100, "a\xef\xbf\xbd\xef\xbf\xbd" "b");	/* overlong */
	line_is("a\xed\xa0\x80", 0, 100, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* surrogate */
}

static void test_capped_in_characters(void **state)
{
	char out[64];

	line_is("abcdefghij", 0, 10, "abcdefghij");
	line_is("abcdefghijk", 0, 10, "abcdefghij\xe2\x80\xa6");
	/* characters, not bytes: ten two-byte letters fit in ten */
	line_is("đđđđđđđđđđ", 1, 10, "\"đđđđđđđđđđ\"");
	line_is("đđđđđđđđđđđ", 1, 10, "\"đđđđđđđđđđ\xe2\x80\xa6\"");
	/* removed characters do not count */
	line_is("a\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b" "bc", 0, 3, "abc");
	/* a short buffer cuts at a whole character and still closes the quote */
	kyso_text_oneline("đđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđ", 1, 100, out, 20);
	assert_true(strlen(out) < 20);
	assert_int_equal(out[0], '"');
	assert_int_equal(out[strlen(out) - 1], '"');
	assert_non_null(strstr(out, "\xe2\x80\xa6"));
	assert_int_equal(kyso_text_oneline("abc", 0, 100, out, 3), 0);
	assert_string_equal(out, "");
}

static void esc_is(const char *in, const char *want)
{
	char out[256];

	kyso_text_log_escape(in, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("\"%s\" logged as \"%s\", not \"%s\"", in, out, want);
}

static void test_log_escape(void **state)
{
	esc_is("GET /v1/status", "GET /v1/status");
	esc_is("/x\nkysod[info]: forged", "/x\\x0akysod[info]: forged");
	esc_is("\x1b]0;title\x07", "\\x1b]0;title\\x07");
	esc_is("a\rb\tc\x7f", "a\\x0db\\x09c\\x7f");
	esc_is("a\\x0a", "a\\\\x0a");
	esc_is("Nguyễn", "Nguyễn");
	esc_is("a\xc2\x9b" "b", "a\\xc2\\x9bb");
	esc_is("a\xff", "a\\xff");
}

static void test_log_escape_short(void **state)
{
	char out[8];

	kyso_text_log_escape("abc\n\n\n", out, sizeof(out));
	assert_string_equal(out, "abc\\x0a");
	kyso_text_log_escape("ab", out, 1);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_kept),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_controls_removed),
		cmocka_unit_test(test_bidi_removed),
		cmocka_unit_test(test_format_removed),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_capped_in_characters),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_escape_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
