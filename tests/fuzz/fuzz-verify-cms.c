/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signature of POST /v1/verify (verify_signature, src/kysod/verify.c):
 * a DER CMS SignedData, or a raw signature, judged against the record's hash
 * with the fuzz CA as the trust bundle and no revocation lookups.
 *
 * Input: one byte that picks the case, then the signature's bytes.
 *   byte % 4 == 0  CMS, the signer's certificate from the CMS
 *   byte % 4 == 1  CMS, the EC signer's certificate given
 *   byte % 4 == 2  CMS, the RSA signer's certificate given
 *   byte % 4 == 3  raw: with the RSA certificate, pkcs1 (pss when byte & 4,
 *                  the default when byte & 16); with the EC one when byte & 8
 *                  (padding pkcs1, refused, when byte & 4)
 * The record's hash is SHA-256 of "a record to sign\n" (the corpus's CMSs
 * were made over that text with openssl cms -sign -binary -md sha256). */
#include "fuzz-common.h"
#include "kysod/verify.h"

static struct kysod d;
static X509 *ec, *rsa;
static const unsigned char record_sha256[32] = {
	0xfd, 0x0d, 0xd9, 0xab, 0x8d, 0x83, 0x7d, 0x5f, 0x80, 0x4d, 0x51, 0xdd, 0xad, 0x0b, 0x79,
	0x94, 0xcb, 0x65, 0xe1, 0xee, 0xb4, 0x45, 0x13, 0xe9, 0x54, 0x46, 0x53, 0xb6, 0x94, 0x97,
	0x9b, 0xb4,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fuzz_kysod_init(&d);
	ec = fuzz_x509(fuzz_ec_pem);
	rsa = fuzz_x509(fuzz_rsa_pem);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_request r;
	struct kyso_reply rep = { 0 };
	json_t *answer;

	if (size < 1 || size > (256u << 10))
		return 0;
	memset(&r, 0, sizeof(r));
	r.signature = (unsigned char *)data + 1;
	r.signature_len = size - 1;
	memcpy(r.hash, record_sha256, sizeof(record_sha256));
	r.hash_len = sizeof(record_sha256);
	r.hash_alg = HASH_SHA256;
	switch (data[0] % 4) {
	case 0:
		r.format = FORMAT_CMS;
		break;
	case 1:
		r.format = FORMAT_CMS;
		r.cert = ec;
		break;
	case 2:
		r.format = FORMAT_CMS;
		r.cert = rsa;
		break;
	default:
		r.format = FORMAT_RAW;
		r.cert = data[0] & 8 ? ec : rsa;
		if (r.cert == ec)
			r.padding = data[0] & 4 ? PAD_PKCS1 : PAD_DEFAULT;
		else
			r.padding = data[0] & 4 ? PAD_PSS :
				    data[0] & 16 ? PAD_DEFAULT : PAD_PKCS1;
		break;
	}
	answer = verify_signature(&d, &r, &rep);
	if (answer) {
		if (!json_is_boolean(json_object_get(answer, "valid")) ||
		    !json_is_array(json_object_get(answer, "checks")))
			abort();
		fuzz_show("answer", NULL, answer);
		json_decref(answer);
	} else if (!rep.body) {
		abort();
	}
	kyso_reply_clear(&rep);
	return 0;
}
