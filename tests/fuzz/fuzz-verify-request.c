/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/verify bodies (verify_request_parse, src/kysod/api-verify.c): the
 * fields, the base64 hash and signature, and the certificate given as an id
 * of the inventory, PEM or base64 DER. */
#include "fuzz-common.h"
#include "kysod/verify.h"

static struct kysod d;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fuzz_kysod_init(&d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_request r;
	struct kyso_reply rep = { 0 };

	if (verify_request_parse(&d, (const char *)data, size, &r, &rep) == 0) {
		if (rep.body || !r.signature || !r.signature_len ||
		    r.hash_len != hash_alg_len(r.hash_alg) ||
		    (r.format == FORMAT_RAW && !r.cert))
			abort();
		verify_request_free(&r);
	} else if (!rep.body || rep.status < 400) {
		abort();
	}
	fuzz_show("request", NULL, rep.body);
	kyso_reply_clear(&rep);
	return 0;
}
