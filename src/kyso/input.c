/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the commands read: hash algorithm names, and files given on the
 * command line, whole or hashed.  Shared by kyso sign, sign --batch and
 * verify.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define READ_CHUNK 65536

int cmd_parse_hash_alg(const char *s, enum kyso_hash_alg *alg)
{
	enum kyso_hash_alg a;

	for (a = KYSO_HASH_SHA256; a <= KYSO_HASH_SHA512; a++) {
		if (strcasecmp(s, kyso_hash_alg_name(a)) == 0) {
			*alg = a;
			return 0;
		}
	}
	return -1;
}

const EVP_MD *cmd_evp_md(enum kyso_hash_alg alg)
{
	switch (alg) {
	case KYSO_HASH_SHA256:
		return EVP_sha256();
	case KYSO_HASH_SHA384:
		return EVP_sha384();
	case KYSO_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int cmd_hash_file(int json, const char *path, enum kyso_hash_alg alg,
		  unsigned char *md, size_t *md_len)
{
	EVP_MD_CTX *mdctx = NULL;
	unsigned char *buf = NULL;
	unsigned int len = 0;
	FILE *f = NULL;
	size_t n;
	int ret;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		ret = out_fail(json, "file_error", "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	buf = malloc(READ_CHUNK);
	mdctx = EVP_MD_CTX_new();
	if (!buf || !mdctx || !EVP_DigestInit_ex(mdctx, cmd_evp_md(alg), NULL)) {
		ret = out_fail(json, "internal_error", "cannot start the %s digest",
			       kyso_hash_alg_name(alg));
		goto out;
	}
	while ((n = fread(buf, 1, READ_CHUNK, f)) > 0) {
		if (!EVP_DigestUpdate(mdctx, buf, n)) {
			ret = out_fail(json, "internal_error", "digest failed");
			goto out;
		}
	}
	if (ferror(f)) {
		ret = out_fail(json, "file_error", "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!EVP_DigestFinal_ex(mdctx, md, &len)) {
		ret = out_fail(json, "internal_error", "digest failed");
		goto out;
	}
	*md_len = len;
	ret = 0;
out:
	if (f && f != stdin)
		fclose(f);
	EVP_MD_CTX_free(mdctx);
	free(buf);
	return ret;
}

int cmd_read_file(int json, const char *path, size_t max, char **data, size_t *len)
{
	char *buf = NULL, *p;
	size_t n = 0, cap = 0, got;
	int ret = KYSO_EXIT_ERROR;
	FILE *f;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return out_fail(json, "file_error", "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if (n + READ_CHUNK + 1 > cap) {
			cap = cap ? 2 * cap : 2 * READ_CHUNK;
			p = realloc(buf, cap);
			if (!p) {
				out_fail(json, "internal_error", "out of memory");
				goto out;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max) {
			out_fail(json, "file_error", "%s is larger than %zu bytes", path, max);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		out_fail(json, "file_error", "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	if (f != stdin)
		fclose(f);
	free(buf);
	return ret;
}
