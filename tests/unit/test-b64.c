/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict base64 (src/common/b64.c): RFC 4648 vectors, round trips, and everything
 * a strict decoder must refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/b64.h"

struct vector {
	const char *plain;
	const char *encoded;
};

/* RFC 4648, section 10. */
static const struct vector rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

#define N_VECTORS (sizeof(rfc4648) / sizeof(rfc4648[0]))

static void test_encode_rfc4648(void **state)
{
	size_t i;

	for (i = 0; i < N_VECTORS; i++) {
		char *enc = kyso_b64_encode((const unsigned char *)rfc4648[i].plain,
					    strlen(rfc4648[i].plain));

		assert_non_null(enc);
		assert_string_equal(enc, rfc4648[i].encoded);
		free(enc);
	}
}

static void test_decode_rfc4648(void **state)
{
	size_t i;

	for (i = 0; i < N_VECTORS; i++) {
		unsigned char out[16];
		size_t plen = strlen(rfc4648[i].plain);
		long n;

		memset(out, 0xa5, sizeof(out));
		n = kyso_b64_decode(rfc4648[i].encoded, strlen(rfc4648[i].encoded), out,
				    sizeof(out));
		assert_int_equal(n, (long)plen);
		assert_memory_equal(out, rfc4648[i].plain, plen);
		/* nothing written past the decoded bytes */
		assert_int_equal(out[plen], 0xa5);
	}
}

static void test_binary_round_trip(void **state)
{
	unsigned char in[300], out[300];
	size_t len, i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 151 + 7);
	for (len = 0; len <= sizeof(in); len++) {
		char *enc = kyso_b64_encode(in, len);
		long n;

		assert_non_null(enc);
		assert_int_equal(strlen(enc), 4 * ((len + 2) / 3));
		n = kyso_b64_decode(enc, strlen(enc), out, sizeof(out));
		assert_int_equal(n, (long)len);
		assert_memory_equal(out, in, len);
		free(enc);
	}
}

static void test_all_byte_values(void **state)
{
	unsigned char in[256], out[256];
	char *enc;
	size_t i;

	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	enc = kyso_b64_encode(in, sizeof(in));
	assert_non_null(enc);
	/* only the standard alphabet and padding, no line breaks */
	assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
			 strlen(enc));
	assert_int_equal(kyso_b64_decode(enc, strlen(enc), out, sizeof(out)), 256);
	assert_memory_equal(in, out, 256);
	free(enc);
}

static void expect_invalid(const char *in, size_t len)
{
	unsigned char out[64];
	long n;

	memset(out, 0xa5, sizeof(out));
	n = kyso_b64_decode(in, len, out, sizeof(out));
	if (n != -1)
		fail_msg("decoding \"%.*s\" (%zu chars) gave %ld, expected -1", (int)len, in, len, n);
}

#define INVALID(s) expect_invalid((s), sizeof(s) - 1)

static void test_reject_padding_in_the_middle(void **state)
{
	INVALID("Zg==Zm8=");
	INVALID("Zm=v");
	INVALID("Z=9v");
	INVALID("=m9v");
	INVALID("Zm9vYg==Zm9v");
	INVALID("Zm8=Zm8=");
}

static void test_reject_bad_padding(void **state)
{
	INVALID("Zg");		/* padding left out */
	INVALID("Zg=");		/* one of two pad chars */
	INVALID("Zm8");		/* padding left out */
	INVALID("Zg===");	/* one too many */
	INVALID("Zm8==");	/* one too many */
	INVALID("Z===");	/* three pad chars */
	INVALID("====");	/* nothing but padding */
	INVALID("Zm9v====");	/* a whole quantum of padding */
	INVALID("Zm9v=");
	INVALID("Zg=A");	/* data after padding */
	INVALID("Z=g=");
	INVALID("Zm9vY===");
}

static void test_reject_bad_chars(void **state)
{
	INVALID("Zm9-");	/* base64url alphabet */
	INVALID("Zm9_");
	INVALID("Zm9*");
	INVALID("Zm.v");
	INVALID("Zm9v\x80\x80\x80\x80");
	INVALID("\xc3\xa9\xc3\xa9");
	INVALID("Zm\0v");	/* embedded NUL */
	INVALID("Zg\0=");
	INVALID("Zm9\"");
}

static void test_reject_whitespace(void **state)
{
	INVALID(" Zm9v");
	INVALID("Zm9v ");
	INVALID("Zm9 ");
	INVALID("Zm9v\n");
	INVALID("Zm9v\r\n");
	INVALID("Zm9\n");
	INVALID("Zm9vYmFy\nZm9v");
	INVALID("Zm 9v");
	INVALID("Zm9v\tYmFy");
	INVALID("Zm9vYmFy\nZg==");
	INVALID("Zg= =");
	INVALID("    ");
}

static void test_reject_length(void **state)
{
	INVALID("Z");
	INVALID("Zm");
	INVALID("Zm9");
	INVALID("Zm9vY");
	INVALID("Zm9vYm");
	INVALID("Zm9vYmF");
}

static void test_overflow(void **state)
{
	unsigned char out[8];

	memset(out, 0xa5, sizeof(out));
	/* "foobar": 6 bytes */
	assert_int_equal(kyso_b64_decode("Zm9vYmFy", 8, out, 5), -2);
	assert_int_equal(kyso_b64_decode("Zm9vYmFy", 8, out, 0), -2);
	/* nothing written on overflow */
	assert_int_equal(out[0], 0xa5);
	assert_int_equal(kyso_b64_decode("Zm9vYmFy", 8, out, 6), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(out[6], 0xa5);

	/* padding counts: "foob" is 4 bytes, not 6 */
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(kyso_b64_decode("Zm9vYg==", 8, out, 3), -2);
	assert_int_equal(kyso_b64_decode("Zm9vYg==", 8, out, 4), 4);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(out[4], 0xa5);

	/* text that is not base64 is -1 even when it would also be too long */
	assert_int_equal(kyso_b64_decode("Zm9vYm!y", 8, out, 1), -1);
}

static void test_big_input(void **state)
{
	size_t len = 3 * 100000, i;
	unsigned char *in = malloc(len), *out = malloc(len);
	char *enc;

	assert_non_null(in);
	assert_non_null(out);
	for (i = 0; i < len; i++)
		in[i] = (unsigned char)(i ^ (i >> 8));
	enc = kyso_b64_encode(in, len);
	assert_non_null(enc);
	assert_int_equal(kyso_b64_decode(enc, strlen(enc), out, len), (long)len);
	assert_memory_equal(in, out, len);
	assert_int_equal(kyso_b64_decode(enc, strlen(enc), out, len - 1), -2);
	enc[len / 2] = '\n';
	assert_int_equal(kyso_b64_decode(enc, strlen(enc), out, len), -1);
	free(enc);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rfc4648),
		cmocka_unit_test(test_decode_rfc4648),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_all_byte_values),
		cmocka_unit_test(test_reject_padding_in_the_middle),
		cmocka_unit_test(test_reject_bad_padding),
		cmocka_unit_test(test_reject_bad_chars),
		cmocka_unit_test(test_reject_whitespace),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_big_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
