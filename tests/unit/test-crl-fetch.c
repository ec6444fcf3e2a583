/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRL distribution points (src/kysod/crl-fetch.c): which URIs of a
 * certificate's CDP extension are fetched, and a fetch that cannot connect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/x509v3.h>

#include "kysod/crl-fetch.h"

/* A GENERAL_NAME URI of len bytes (may hold a NUL). */
static GENERAL_NAME *uri(const char *s, int len)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	assert_non_null(gn);
	assert_non_null(ia5);
	assert_int_equal(ASN1_STRING_set(ia5, s, len < 0 ? (int)strlen(s) : len), 1);
	GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
	return gn;
}

/* A distribution point with full names: the URIs in uris (NULL-terminated). */
static DIST_POINT *dp_of(const char *const *uris)
{
	DIST_POINT *dp = DIST_POINT_new();

	assert_non_null(dp);
	dp->distpoint = DIST_POINT_NAME_new();
	assert_non_null(dp->distpoint);
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	for (; *uris; uris++)
		assert_true(sk_GENERAL_NAME_push(dp->distpoint->name.fullname, uri(*uris, -1)) > 0);
	return dp;
}

/* A certificate whose CDP extension holds dps (consumed), or none for NULL. */
static X509 *cert_with(STACK_OF(DIST_POINT) *dps)
{
	X509 *x = X509_new();

	assert_non_null(x);
	if (dps) {
		assert_int_equal(X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, 0), 1);
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
	return x;
}

static STACK_OF(DIST_POINT) *dps_of(DIST_POINT *first, ...)
{
	STACK_OF(DIST_POINT) *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp;
	va_list ap;

	assert_non_null(dps);
	va_start(ap, first);
	for (dp = first; dp; dp = va_arg(ap, DIST_POINT *))
		assert_true(sk_DIST_POINT_push(dps, dp) > 0);
	va_end(ap);
	return dps;
}

/* The URLs crl_fetch_urls finds in x (at most max), joined by spaces. */
static char *urls_of(X509 *x, int max)
{
	char *urls[8], *out = calloc(1, 2048);
	int i, n;

	assert_non_null(out);
	assert_true(max <= 8);
	n = crl_fetch_urls(x, urls, max);
	assert_true(n >= 0 && n <= max);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, urls[i]);
		free(urls[i]);
	}
	return out;
}

static void expect_urls(X509 *x, int max, const char *want)
{
	char *got = urls_of(x, max);

	assert_string_equal(got, want);
	free(got);
	X509_free(x);
}

static void test_no_extension(void **state)
{
	expect_urls(cert_with(NULL), 4, "");
}

static void test_http_and_https(void **state)
{
	static const char *const one[] = { "http://crl.example.vn/root.crl", NULL };
	static const char *const mixed[] = {
		"ldap://ldap.example.vn/cn=Root,o=Example?certificateRevocationList",
		"https://crl.example.vn/sub.crl", "HTTP://CRL.EXAMPLE.VN/SUB.CRL",
		"ftp://crl.example.vn/sub.crl", "file:///etc/passwd", NULL,
	};

	expect_urls(cert_with(dps_of(dp_of(one), NULL)), 4, "http://crl.example.vn/root.crl");
	/* LDAP, FTP and file URIs are left out; the scheme in any case */
	expect_urls(cert_with(dps_of(dp_of(mixed), NULL)), 4,
		    "https://crl.example.vn/sub.crl HTTP://CRL.EXAMPLE.VN/SUB.CRL");
}

static void test_at_most_max(void **state)
{
	static const char *const a[] = { "http://a/1.crl", "http://a/2.crl", "http://a/3.crl", NULL };
	static const char *const b[] = { "http://b/4.crl", "http://b/5.crl", NULL };

	expect_urls(cert_with(dps_of(dp_of(a), dp_of(b), NULL)), 4,
		    "http://a/1.crl http://a/2.crl http://a/3.crl http://b/4.crl");
	expect_urls(cert_with(dps_of(dp_of(a), dp_of(b), NULL)), 1, "http://a/1.crl");
}

/* A DP for some reasons only, or with its own CRL issuer, or a relative name: skipped. */
static void test_partial_and_indirect_skipped(void **state)
{
	static const char *const some[] = { "http://crl.example.vn/some.crl", NULL };
	static const char *const ind[] = { "http://crl.example.vn/indirect.crl", NULL };
	static const char *const full[] = { "http://crl.example.vn/full.crl", NULL };
	DIST_POINT *reasons = dp_of(some), *indirect = dp_of(ind), *relative = DIST_POINT_new();
	X509_NAME *name = X509_NAME_new();

	reasons->reasons = ASN1_BIT_STRING_new();
	assert_non_null(reasons->reasons);
	assert_int_equal(ASN1_BIT_STRING_set_bit(reasons->reasons, 1, 1), 1);
	indirect->CRLissuer = sk_GENERAL_NAME_new_null();
	assert_non_null(name);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"Other CRL Issuer", -1, -1, 0), 1);
	{
		GENERAL_NAME *gn = GENERAL_NAME_new();

		assert_non_null(gn);
		GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);
		assert_true(sk_GENERAL_NAME_push(indirect->CRLissuer, gn) > 0);
	}
	assert_non_null(relative);
	relative->distpoint = DIST_POINT_NAME_new();
	relative->distpoint->type = 1;
	relative->distpoint->name.relativename = sk_X509_NAME_ENTRY_new_null();
	assert_true(sk_X509_NAME_ENTRY_push(relative->distpoint->name.relativename,
					    X509_NAME_ENTRY_create_by_txt(NULL, "CN", MBSTRING_ASC,
									  (const unsigned char *)"crl1", -1)) > 0);
	expect_urls(cert_with(dps_of(reasons, indirect, relative, dp_of(full), NULL)), 4,
		    "http://crl.example.vn/full.crl");
}

/* A NUL, a blank or a control character inside the URI: left out. */
static void test_odd_bytes_skipped(void **state)
{
	static const char *const ok[] = { "http://crl.example.vn/ok.crl", NULL };
	DIST_POINT *dp = dp_of(ok);
	static const char nul[] = "http://crl.example.vn/a.crl\0.evil.example/";

	assert_true(sk_GENERAL_NAME_insert(dp->distpoint->name.fullname,
					   uri(nul, (int)sizeof(nul) - 1), 0) > 0);
	assert_true(sk_GENERAL_NAME_insert(dp->distpoint->name.fullname,
					   uri("http://crl.example.vn/a b.crl", -1), 0) > 0);
	assert_true(sk_GENERAL_NAME_insert(dp->distpoint->name.fullname,
					   uri("http://crl.example.vn/a\r\nb.crl", -1), 0) > 0);
	expect_urls(cert_with(dps_of(dp, NULL)), 4, "http://crl.example.vn/ok.crl");
}

/* Nothing listens on port 1 of loopback: -1, saying so, and nothing kept. */
static void test_fetch_refused(void **state)
{
	struct crl_fetch_result res;
	X509 *issuer = X509_new();
	int i;

	assert_non_null(issuer);
	for (i = 0; i < 2; i++) {
		assert_int_equal(crl_fetch_get("http://127.0.0.1:1/none.crl", issuer, 2, &res), -1);
		assert_null(res.crl);
		assert_int_equal(res.cached, 0);
		if (!strstr(res.message, "the CRL cannot be fetched: http://127.0.0.1:1/none.crl"))
			fail_msg("message: %s", res.message);
	}
	/* not http(s): curl is not even asked to try */
	assert_int_equal(crl_fetch_get("file:///etc/hostname", issuer, 2, &res), -1);
	assert_null(res.crl);
	X509_free(issuer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_extension),
		cmocka_unit_test(test_http_and_https),
		cmocka_unit_test(test_at_most_max),
		cmocka_unit_test(test_partial_and_indirect_skipped),
		cmocka_unit_test(test_odd_bytes_skipped),
		cmocka_unit_test(test_fetch_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
