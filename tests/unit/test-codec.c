/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shared codecs besides base64's vectors (test-b64.c): hex (src/common/hex.c),
 * base64 into a new buffer, and the UTF-8 helpers (src/common/utf8.c) that cut
 * messages and count characters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/hex.h"
#include "common/utf8.h"

static void test_hex_encode(void **state)
{
	static const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	memset(out, 'x', sizeof(out));
	kyso_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	kyso_hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void test_hex_digit(void **state)
{
	int c, n = 0;

	for (c = 1; c < 256; c++) {
		int v = kyso_hex_digit((char)c);

		if (v < 0)
			continue;
		n++;
		assert_true(v < 16);
		if (c >= '0' && c <= '9')
			assert_int_equal(v, c - '0');
		else if (c >= 'a' && c <= 'f')
			assert_int_equal(v, c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			assert_int_equal(v, c - 'A' + 10);
		else
			fail_msg("%#x is not a hex digit but gave %d", c, v);
	}
	assert_int_equal(n, 22);
	assert_int_equal(kyso_hex_digit('\0'), -1);
}

static void test_hex_decode(void **state)
{
	unsigned char out[8];

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(kyso_hex_decode("00ffAbcD", 8, out, sizeof(out)), 4);
	assert_memory_equal(out, "\x00\xff\xab\xcd", 4);
	assert_int_equal(out[4], 0xa5);
	/* the length is what is given, not up to a NUL */
	assert_int_equal(kyso_hex_decode("0102zz", 4, out, sizeof(out)), 2);
	assert_int_equal(kyso_hex_decode("", 0, out, sizeof(out)), 0);
}

static void test_hex_lower(void **state)
{
	char out[16];

	assert_int_equal(kyso_hex_lower("00fFAbcD9", 9, out), 0);
	assert_string_equal(out, "00ffabcd9");
	/* the length is what is given, not up to a NUL */
	assert_int_equal(kyso_hex_lower("ABzz", 2, out), 0);
	assert_string_equal(out, "ab");
	assert_int_equal(kyso_hex_lower("", 0, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(kyso_hex_lower("0g", 2, out), -1);
	assert_int_equal(kyso_hex_lower("01 ", 3, out), -1);
	assert_int_equal(kyso_hex_lower("01\0002", 4, out), -1);
}

static void test_hex_decode_refuses(void **state)
{
	unsigned char out[4];

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(kyso_hex_decode("abc", 3, out, sizeof(out)), -1);	/* odd */
	assert_int_equal(kyso_hex_decode("0g", 2, out, sizeof(out)), -1);
	assert_int_equal(kyso_hex_decode(" 01", 3, out, sizeof(out)), -1);
	assert_int_equal(kyso_hex_decode("0x01", 4, out, sizeof(out)), -1);
	assert_int_equal(kyso_hex_decode("01\0002", 4, out, sizeof(out)), -1);
	assert_int_equal(kyso_hex_decode("0102030405", 10, out, sizeof(out)), -1); /* no room */
	/* a bad digit late in the text: nothing written */
	assert_int_equal(kyso_hex_decode("010203zz", 8, out, sizeof(out)), -1);
	assert_int_equal(out[0], 0xa5);
}

static void test_b64_decode_alloc(void **state)
{
	unsigned char *out;
	size_t len = 99;

	out = kyso_b64_decode_alloc("Zm9vYmE=", 8, &len);
	assert_non_null(out);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "fooba", 5);
	free(out);
	out = kyso_b64_decode_alloc("", 0, &len);
	assert_non_null(out);
	assert_int_equal(len, 0);
	free(out);
	len = 99;
	assert_null(kyso_b64_decode_alloc("Zm9v=", 5, &len));
	assert_int_equal(len, 0);
	assert_null(kyso_b64_decode_alloc("Zm-v", 4, &len));
	assert_null(kyso_b64_decode_alloc("Zg=A", 4, &len));
}

/* Cutting a message short must not leave half a character (JSON refuses it). */
static void test_utf8_trim_cut_sequences(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Nguy\xe1\xbb\x85n", "Nguy\xe1\xbb\x85n" },	/* whole: kept */
		{ "Nguy\xe1\xbb", "Nguy" },			/* 3-byte cut after 2 */
		{ "Nguy\xe1", "Nguy" },				/* cut after 1 */
		{ "caf\xc3", "caf" },				/* 2-byte cut */
		{ "x\xf0\x9f\x98", "x" },			/* 4-byte cut after 3 */
		{ "x\xf0\x9f\x98\x80", "x\xf0\x9f\x98\x80" },	/* whole 4-byte */
		{ "ab\x80" "cd", "ab" },			/* stray continuation */
		{ "ab\xc0\xaf", "ab" },				/* overlong */
		{ "ab\xed\xa0\x80", "ab" },			/* surrogate */
		{ "", "" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		kyso_utf8_trim(buf);
		if (strcmp(buf, cases[i].out))
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, buf, cases[i].out);
	}
}

static void test_utf8_chars(void **state)
{
	const char *s = "B\xe1\xba\xa3ng \xc4\x91i\xe1\xbb\x83m";	/* "Bảng điểm" */

	assert_int_equal(kyso_utf8_chars(s, strlen(s)), 9);
	assert_int_equal(kyso_utf8_chars("", 0), 0);
	assert_int_equal(kyso_utf8_chars("abc", 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_hex_digit),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_hex_decode_refuses),
		cmocka_unit_test(test_hex_lower),
		cmocka_unit_test(test_b64_decode_alloc),
		cmocka_unit_test(test_utf8_trim_cut_sequences),
		cmocka_unit_test(test_utf8_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
