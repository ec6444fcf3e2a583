/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit lines written without a JSON tree (src/kysod/audit-entry.c): each is
 * the compact JSON object with sorted keys that jansson writes for the same
 * fields, strings escaped and malformed UTF-8 replaced as before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/utf8.h"
#include "kysod/audit-entry.h"

/* jansson's line for a one-field object {key: s}, s made lossy as kysod's
 * entries made it before. */
static char *jansson_line(const char *key, const char *s)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, key, kyso_json_string_lossy(s));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static char *entry_line(const char *key, const char *s)
{
	struct audit_entry e;
	char *text;
	size_t len;

	audit_entry_init(&e);
	audit_entry_add_str(&e, key, s);
	assert_int_equal(audit_entry_format(&e, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	audit_entry_free(&e);
	return text;
}

static void same_as_jansson(const char *s)
{
	char *want = jansson_line("k", s), *got = entry_line("k", s);

	if (strcmp(want, got))
		fail_msg("%s, not %s", got, want);
	free(want);
	free(got);
}

static void test_strings_as_jansson(void **state)
{
	same_as_jansson("");
	same_as_jansson("/usr/bin/records-app");
	same_as_jansson("quote \" and backslash \\ and slash /");
	same_as_jansson("tab\tnewline\nreturn\rbackspace\bformfeed\f");
	same_as_jansson("Hồ sơ tuyển sinh — Erika Mustermann €");
	same_as_jansson("\xf0\x9f\x94\x8f four bytes");
	same_as_jansson("del \x7f kept");
	/* malformed: a lone continuation byte, a cut sequence, an overlong
	 * form, a surrogate: each byte replaced by U+FFFD */
	same_as_jansson("bad \x80 byte");
	same_as_jansson("cut \xe2\x82");
	same_as_jansson("overlong \xc0\xaf");
	same_as_jansson("surrogate \xed\xa0\x80");
}

static void test_control_characters(void **state)
{
	char *got = entry_line("k", "a\x01z\x1f");

	/* as Python's json.dumps writes them (jansson: upper case) */
	assert_string_equal(got, "{\"k\":\"a\\u0001z\\u001f\"}");
	free(got);
}

static void test_sorted_and_nested(void **state)
{
	struct audit_entry e;
	char *text;
	size_t len;

	audit_entry_init(&e);
	audit_entry_add_str(&e, "time", "2026-11-30T04:48:06.012543Z");
	audit_entry_add_uint(&e, "seq", 18446744073709551615ull);
	audit_entry_key(&e, "caller");
	audit_entry_raw(&e, "{\"exe\":");
	audit_entry_str(&e, "/bin/x");
	audit_entry_raw(&e, ",\"pid\":");
	audit_entry_int(&e, -1);
	audit_entry_raw(&e, "}");
	audit_entry_add_str(&e, "caller_check", "c");
	audit_entry_add_uint(&e, "a", 0);
	assert_int_equal(audit_entry_format(&e, &text, &len), 0);
	assert_string_equal(text, "{\"a\":0,\"caller\":{\"exe\":\"/bin/x\",\"pid\":-1},"
			    "\"caller_check\":\"c\",\"seq\":18446744073709551615,"
			    "\"time\":\"2026-11-30T04:48:06.012543Z\"}");
	free(text);
	audit_entry_free(&e);
}

static void test_long_values_grow(void **state)
{
	char *big = malloc(20001), *want, *got;

	memset(big, 'x', 20000);
	big[20000] = '\0';
	big[7] = '"';
	want = jansson_line("k", big);
	got = entry_line("k", big);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(big);
}

static void test_refused(void **state)
{
	struct audit_entry e;
	char *text = (char *)"x";
	size_t len, i;

	/* a key twice */
	audit_entry_init(&e);
	audit_entry_add_str(&e, "seq", "1");
	audit_entry_add_str(&e, "chain", "c");
	audit_entry_add_str(&e, "seq", "2");
	assert_int_equal(audit_entry_format(&e, &text, &len), -1);
	assert_null(text);
	audit_entry_free(&e);
	/* more fields than an entry holds */
	audit_entry_init(&e);
	for (i = 0; i <= AUDIT_ENTRY_FIELDS; i++)
		audit_entry_add_uint(&e, i % 2 ? "odd" : "even", i);
	assert_int_equal(audit_entry_format(&e, &text, &len), -1);
	audit_entry_free(&e);
	/* nothing at all */
	audit_entry_init(&e);
	assert_int_equal(audit_entry_format(&e, &text, &len), -1);
	audit_entry_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_as_jansson),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_sorted_and_nested),
		cmocka_unit_test(test_long_values_grow),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
