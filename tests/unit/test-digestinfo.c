/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DigestInfo for RSA PKCS#1 v1.5 (drivers/pkcs11/digestinfo.c): the DER must be
 * byte for byte what RFC 8017 lists, and what OpenSSL's own signer produces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "pkcs11/digestinfo.h"

/* RFC 8017, section 9.2, note 1. */
static const unsigned char prefix_sha1[] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
};
static const unsigned char prefix_sha224[] = {
	0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04,
	0x05, 0x00, 0x04, 0x1c,
};
static const unsigned char prefix_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0x04, 0x20,
};
static const unsigned char prefix_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	0x05, 0x00, 0x04, 0x30,
};
static const unsigned char prefix_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	0x05, 0x00, 0x04, 0x40,
};

struct di_case {
	int nid;
	size_t hash_len;
	const unsigned char *prefix;
	size_t prefix_len;
};

#define CASE(nid, len, p) { nid, len, p, sizeof(p) }

static const struct di_case cases[] = {
	CASE(NID_sha256, 32, prefix_sha256),
	CASE(NID_sha384, 48, prefix_sha384),
	CASE(NID_sha512, 64, prefix_sha512),
	CASE(NID_sha1, 20, prefix_sha1),
	CASE(NID_sha224, 28, prefix_sha224),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void fill(unsigned char *buf, size_t len, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 13);
}

static void test_rfc8017_prefixes(void **state)
{
	size_t i;

	for (i = 0; i < N_CASES; i++) {
		const struct di_case *c = &cases[i];
		unsigned char hash[64], *der = NULL;
		size_t der_len = 0;

		fill(hash, c->hash_len, (unsigned char)i);
		assert_int_equal(kyso_digestinfo(c->nid, hash, c->hash_len, &der, &der_len), 0);
		assert_non_null(der);
		assert_int_equal(der_len, c->prefix_len + c->hash_len);
		assert_memory_equal(der, c->prefix, c->prefix_len);
		assert_memory_equal(der + c->prefix_len, hash, c->hash_len);
		OPENSSL_free(der);
	}
}

static void test_all_zero_and_all_ff_hash(void **state)
{
	unsigned char hash[32], *der = NULL;
	size_t der_len = 0;

	memset(hash, 0, sizeof(hash));
	assert_int_equal(kyso_digestinfo(NID_sha256, hash, 32, &der, &der_len), 0);
	assert_int_equal(der_len, sizeof(prefix_sha256) + 32);
	assert_memory_equal(der, prefix_sha256, sizeof(prefix_sha256));
	assert_memory_equal(der + sizeof(prefix_sha256), hash, 32);
	OPENSSL_free(der);
	memset(hash, 0xff, sizeof(hash));
	assert_int_equal(kyso_digestinfo(NID_sha256, hash, 32, &der, &der_len), 0);
	assert_memory_equal(der + sizeof(prefix_sha256), hash, 32);
	OPENSSL_free(der);
}

static void test_wrong_hash_length(void **state)
{
	static const size_t bad[] = { 0, 1, 20, 28, 31, 33, 47, 49, 63, 65, 128 };
	unsigned char hash[128];
	size_t i, j;

	fill(hash, sizeof(hash), 1);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			unsigned char *der = (unsigned char *)"x";
			size_t der_len = 12345;

			if (bad[j] == cases[i].hash_len)
				continue;
			assert_int_equal(kyso_digestinfo(cases[i].nid, hash, bad[j], &der, &der_len),
					 -1);
			assert_null(der);
		}
	}
	/* a SHA-384 hash given as SHA-256 and the other way round */
	{
		unsigned char *der = NULL;
		size_t der_len;

		assert_int_equal(kyso_digestinfo(NID_sha256, hash, 48, &der, &der_len), -1);
		assert_int_equal(kyso_digestinfo(NID_sha384, hash, 32, &der, &der_len), -1);
		assert_int_equal(kyso_digestinfo(NID_sha512, hash, 48, &der, &der_len), -1);
		assert_null(der);
	}
}

static void test_unknown_nid(void **state)
{
	static const int nids[] = { NID_undef, NID_rsaEncryption, NID_commonName, -1, 99999 };
	unsigned char hash[32], *der = NULL;
	size_t der_len, i;

	fill(hash, sizeof(hash), 3);
	for (i = 0; i < sizeof(nids) / sizeof(nids[0]); i++) {
		assert_int_equal(kyso_digestinfo(nids[i], hash, 32, &der, &der_len), -1);
		assert_null(der);
	}
}

static int key_setup(void **state)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	if (!pkey)
		return -1;
	*state = pkey;
	return 0;
}

static int key_teardown(void **state)
{
	EVP_PKEY_free(*state);
	return 0;
}

/* A raw PKCS#1 v1.5 signature over our DigestInfo equals what OpenSSL produces
 * signing the message with the hash: the encoding is the one verifiers expect. */
static void test_signature_matches_openssl(void **state)
{
	static const unsigned char message[] = "kyso signs hashes, not documents";
	EVP_PKEY *pkey = *state;
	size_t i;

	for (i = 0; i < 3; i++) {
		const EVP_MD *md = EVP_get_digestbynid(cases[i].nid);
		unsigned char hash[EVP_MAX_MD_SIZE], *der = NULL;
		unsigned char sig_raw[512], sig_ref[512];
		size_t der_len, raw_len = sizeof(sig_raw), ref_len = sizeof(sig_ref);
		unsigned int hash_len;
		EVP_PKEY_CTX *ctx;
		EVP_MD_CTX *mctx;

		assert_non_null(md);
		assert_int_equal(EVP_Digest(message, sizeof(message) - 1, hash, &hash_len, md, NULL),
				 1);
		assert_int_equal(hash_len, cases[i].hash_len);
		assert_int_equal(kyso_digestinfo(cases[i].nid, hash, hash_len, &der, &der_len), 0);

		/* what a token does with CKM_RSA_PKCS: pad and exponentiate, no hashing */
		ctx = EVP_PKEY_CTX_new(pkey, NULL);
		assert_non_null(ctx);
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		assert_int_equal(EVP_PKEY_sign(ctx, sig_raw, &raw_len, der, der_len), 1);
		EVP_PKEY_CTX_free(ctx);

		mctx = EVP_MD_CTX_new();
		assert_non_null(mctx);
		assert_int_equal(EVP_DigestSignInit(mctx, NULL, md, NULL, pkey), 1);
		assert_int_equal(EVP_DigestSign(mctx, sig_ref, &ref_len, message,
						sizeof(message) - 1), 1);
		EVP_MD_CTX_free(mctx);

		assert_int_equal(raw_len, 256);
		assert_int_equal(raw_len, ref_len);
		assert_memory_equal(sig_raw, sig_ref, raw_len);

		/* and it verifies as an ordinary hash signature */
		mctx = EVP_MD_CTX_new();
		assert_non_null(mctx);
		assert_int_equal(EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey), 1);
		assert_int_equal(EVP_DigestVerify(mctx, sig_raw, raw_len, message,
						  sizeof(message) - 1), 1);
		EVP_MD_CTX_free(mctx);
		OPENSSL_free(der);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8017_prefixes),
		cmocka_unit_test(test_all_zero_and_all_ff_hash),
		cmocka_unit_test(test_wrong_hash_length),
		cmocka_unit_test(test_unknown_nid),
		cmocka_unit_test_setup_teardown(test_signature_matches_openssl, key_setup,
						key_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
