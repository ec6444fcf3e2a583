#include <stdio.h>
#include <openssl/err.h>

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
