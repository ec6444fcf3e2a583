/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <openssl/bio.h>
#include <openssl/err.h>

#include "common/utf8.h"
#include "kysod/ossl-util.h"

time_t ossl_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

void ossl_error(const char *what, char *out, size_t outlen)
{
	unsigned long e = ERR_peek_last_error();
	char detail[200] = "";

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	if (what)
		snprintf(out, outlen, "%s%s%s", what, detail[0] ? ": " : "", detail);
	else
		snprintf(out, outlen, "%s", detail[0] ? detail : "no details");
	ERR_clear_error();
}

void ossl_time_text(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ossl_name(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	snprintf(out, outlen, "?");
	if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0)
			snprintf(out, outlen, "%.*s", (int)n, data);
	}
	/* a long name is cut to outlen, maybe in the middle of a character */
	kyso_utf8_trim(out);
	ERR_clear_error();
	BIO_free(bio);
}
