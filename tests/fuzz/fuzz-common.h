/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the libFuzzer harnesses in tests/fuzz: a quiet log, the test PKI
 * (a CA and two signers, made with openssl for these harnesses only), a kysod
 * state with one token and one certificate and no helpers, and splitting an
 * input into lines. Every harness is built with ASan and UBSan. */
#ifndef KYSO_FUZZ_COMMON_H
#define KYSO_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* CN=kyso fuzz CA, P-256, valid until 2126 */
static const char fuzz_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBljCCATugAwIBAgIUTInUO7jsQVEpQs7Yt3oJYamfEqEwCgYIKoZIzj0EAwIw\n"
	"FzEVMBMGA1UEAwwMa3lzbyBmdXp6IENBMCAXDTI2MTIwNjIzMjMwMloYDzIxMjYx\n"
	"MTEyMjMyMzAyWjAXMRUwEwYDVQQDDAxreXNvIGZ1enogQ0EwWTATBgcqhkjOPQIB\n"
	"BggqhkjOPQMBBwNCAAS5SaV2jqCKNAuf5JLjt1Z+NPXOiYjcFsFPsGnpXcm2pcRP\n"
	"lon3AomCzr6+LVC6sQWZGao/fXfm3R1dIIfdNDdbo2MwYTAdBgNVHQ4EFgQUC6me\n"
	"A51q3IbhlGZLOtE5QKbJEtYwHwYDVR0jBBgwFoAUC6meA51q3IbhlGZLOtE5QKbJ\n"
	"EtYwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwID\n"
	"SQAwRgIhAP5eY5qp1VTdETvIlAgBtw/FHUP5hkY8B7yVQlqHrx5UAiEAruByacMZ\n"
	"84WL2ADqs4FrjvOOaHDniQ1Vw//AY7imWKs=\n"
	"-----END CERTIFICATE-----\n"
;

/* CN=Fuzz Teacher EC, issued by the CA; id (SHA-256 of the DER) below */
static const char fuzz_ec_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBfzCCASWgAwIBAgIBAjAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxreXNvIGZ1\n"
	"enogQ0EwIBcNMjYxMjA2MjMyMzAyWhgPMjEyNjExMTIyMzIzMDJaMBoxGDAWBgNV\n"
	"BAMMD0Z1enogVGVhY2hlciBFQzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB8A\n"
	"m0sDKOL0cZYo1L13DYyZXLSHNW83t0Gyxpflo2R4aN9gIoCW5pQwzZAOdduYojA4\n"
	"EhrCAVUDKnjr/znijmmjXTBbMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgbAMB0G\n"
	"A1UdDgQWBBTos64d4Gp/P+hngc+dpH+67OwwlDAfBgNVHSMEGDAWgBQLqZ4DnWrc\n"
	"huGUZks60TlApskS1jAKBggqhkjOPQQDAgNIADBFAiEAsPVuDtKtjUp6w7sp0G36\n"
	"KvplyqYEzfCUbHOBWYj7DLUCICfOnQa0HevRbJGJQ+fZmUT8wpqBRC7uk3zl5yPK\n"
	"LfoP\n"
	"-----END CERTIFICATE-----\n"
;
#define FUZZ_EC_ID "8ad5d931eceb5329267a481263ba1c88215033ad66238972a29a7cf6a5f29925"

/* CN=Fuzz Teacher RSA (1024 bits: small and quick), issued by the CA */
static const char fuzz_rsa_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIByDCCAW2gAwIBAgIBAzAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAxreXNvIGZ1\n"
	"enogQ0EwIBcNMjYxMjA2MjMyMzAyWhgPMjEyNjExMTIyMzIzMDJaMBsxGTAXBgNV\n"
	"BAMMEEZ1enogVGVhY2hlciBSU0EwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGB\n"
	"AL5Jp3vWqvBuyzoiZSQc6FGDUjW5/T6KoBhGCxzGGvSWDH2Ucj9SFGRbvkijBwR2\n"
	"bttQxX5m4RkI2HETXqP1c+aMjV6vxO5uyGfRlTjd2eD66iWJfCBMTzGXkjhjNhy0\n"
	"xcQJ8L2QKM6ojpIf3vF59pvUkiiKWj5qSQIQmoruXCV5AgMBAAGjXTBbMAkGA1Ud\n"
	"EwQCMAAwDgYDVR0PAQH/BAQDAgbAMB0GA1UdDgQWBBRdFUd7VLYY7d0mvye1vGZi\n"
	"tgS3ujAfBgNVHSMEGDAWgBQLqZ4DnWrchuGUZks60TlApskS1jAKBggqhkjOPQQD\n"
	"AgNJADBGAiEAh2L20+H04uE1mgfQs+exrjuyNLRYI5tSYzC7mE+LnPgCIQCtSa7Z\n"
	"+B0EbLephdILl+hKcZq86Eau+AWi3MgtoMf8cQ==\n"
	"-----END CERTIFICATE-----\n"
;
#define FUZZ_RSA_ID "964cf018bced991756cafbc8ba8d5484b72863e5ccb7bbba808b30f3301fe5ce"

/* The token the fake inventory holds. */
#define FUZZ_TOKEN_ID "0123456789abcdef0123456789abcdef"

/* No log line: a harness runs millions of inputs. FUZZ_LOG=1 shows them. */
static inline void fuzz_quiet(void)
{
	kyso_log_init("fuzz", 0, getenv("FUZZ_LOG") ? KYSO_LOG_DEBUG : -1);
}

/* With FUZZ_LOG set, shows what an input came to (for checking a seed). */
static inline void fuzz_show(const char *what, const char *text, json_t *json)
{
	if (!getenv("FUZZ_LOG"))
		return;
	fprintf(stderr, "fuzz: %s: %s\n", what, text ? text : "");
	if (json) {
		json_dumpf(json, stderr, JSON_COMPACT);
		fputc('\n', stderr);
	}
}

static inline X509 *fuzz_x509(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (!x)
		abort();
	return x;
}

/* base64 DER of a PEM certificate, malloc'ed */
static inline char *fuzz_cert_b64(const char *pem)
{
	X509 *x = fuzz_x509(pem);
	unsigned char *der = NULL;
	char *b64;
	int n = i2d_X509(x, &der);

	if (n <= 0 || !(b64 = kyso_b64_encode(der, (size_t)n)))
		abort();
	OPENSSL_free(der);
	X509_free(x);
	return b64;
}

/* Writes text to a file of its own in a private directory (under $TMPDIR,
 * else /dev/shm or /tmp; run.sh removes its own); the path is static. */
static inline const char *fuzz_write_temp(const char *name, const char *text)
{
	static char dir[64];
	static char path[128];
	FILE *f;

	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%.40s/kyso-fuzz-XXXXXX", tmp && *tmp ? tmp :
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f))
		abort();
	return path;
}

/* An inventory holding FUZZ_TOKEN_ID, with both test certificates when
 * certs is set, as module 0 reported them. */
static inline void fuzz_inventory_init(struct inventory *inv, int certs)
{
	static json_t *report, *bare;

	if (!report) {
		char *ec = fuzz_cert_b64(fuzz_ec_pem), *rsa = fuzz_cert_b64(fuzz_rsa_pem);

		report = json_pack("{s:[{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}]}",
				   "tokens", "id", FUZZ_TOKEN_ID, "label", "fuzz token",
				   "manufacturer", "kyso", "pin_state", "ok", "certs",
				   "der", ec, "key_id", "01", "label", "ec",
				   "der", rsa, "key_id", "02", "label", "rsa");
		free(ec);
		free(rsa);
		bare = json_pack("{s:[{s:s, s:s}]}", "tokens", "id", FUZZ_TOKEN_ID, "label", "fuzz");
		if (!report || !bare)
			abort();
	}
	inventory_init(inv);
	inventory_update(inv, 0, "fuzz", certs ? report : bare);
}

/* A kysod as main() makes it, without helpers, server, audit or readers: no
 * revocation lookups (nothing leaves the machine), the fuzz CA as the
 * bundle, and the inventory above (module 0 has no helper: nothing may be
 * signed with its certificates). */
static inline void fuzz_kysod_init(struct kysod *d)
{
	memset(d, 0, sizeof(*d));
	d->listen_fd = -1;
	if (kysod_config_defaults(&d->cfg))
		abort();
	d->cfg.ocsp = 0;
	free(d->cfg.ca_bundle);
	d->cfg.ca_bundle = strdup(fuzz_write_temp("ca.pem", fuzz_ca_pem));
	fuzz_inventory_init(&d->inv, 1);
	events_init(&d->events);
	batches_init(&d->batches);
	pthread_mutex_init(&d->prompt_lock, NULL);
	pthread_cond_init(&d->prompt_cond, NULL);
}

/* Whether a stream of helper frames (src/common/ipc.h) has a frame whose
 * length field asks for more than limit bytes but not more than a frame may
 * hold: kyso_ipc_recv then allocates that much before it reads, which costs
 * a harness a thousandth of a second each time and finds nothing that a
 * small frame cut short does not. */
static inline int fuzz_frames_too_long(const uint8_t *data, size_t size, size_t limit)
{
	size_t off = 0, len;

	while (size - off >= 4) {
		len = (size_t)data[off] | (size_t)data[off + 1] << 8 |
		      (size_t)data[off + 2] << 16 | (size_t)data[off + 3] << 24;
		if (len > limit && len <= (4u << 20))
			return 1;
		if (len > size - off - 4)
			return 0;
		off += 4 + len;
	}
	return 0;
}

/* Cuts the next line off *p (n bytes left) into a NUL-terminated copy in out;
 * a line longer than outlen is cut short. Returns 0, or -1 when nothing is left. */
static inline int fuzz_line(const uint8_t **p, size_t *n, char *out, size_t outlen)
{
	const uint8_t *nl;
	size_t len;

	if (!*n)
		return -1;
	nl = memchr(*p, '\n', *n);
	len = nl ? (size_t)(nl - *p) : *n;
	snprintf(out, outlen, "%.*s", (int)len, (const char *)*p);
	*p += nl ? len + 1 : len;
	*n -= nl ? len + 1 : len;
	return 0;
}

#endif
