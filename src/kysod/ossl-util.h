/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small OpenSSL conveniences the certificate, CMS, timestamp and revocation
 * code share. */
#ifndef KYSOD_OSSL_UTIL_H
#define KYSOD_OSSL_UTIL_H
#include <stddef.h>
#include <time.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

/* t as Unix time, or 0 when t is NULL or not a valid time. */
time_t ossl_time(const ASN1_TIME *t);

/* Puts OpenSSL's last error into out and clears the error queue: "WHAT:
 * DETAIL", or WHAT alone when OpenSSL has no detail; with what NULL, the
 * detail alone, or "no details". */
void ossl_error(const char *what, char *out, size_t outlen);

/* t as "YYYY-MM-DDTHH:MM:SSZ". */
void ossl_time_text(time_t t, char *out, size_t outlen);

/* name as RFC 2253 text, UTF-8 left as it is; "?" when it cannot be printed. */
void ossl_name(const X509_NAME *name, char *out, size_t outlen);

#endif
