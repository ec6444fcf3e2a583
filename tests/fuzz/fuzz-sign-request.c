/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/sign bodies (src/kysod/sign-request.c): any bytes are parsed into
 * a request or refused with an error reply, and a parsed request holds what
 * the API allows. */
#include "fuzz-common.h"
#include "kysod/sign-request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sign_request req;
	struct kyso_reply rep = { 0 };
	size_t i;

	if (sign_request_parse((const char *)data, size, &req, &rep) == 0) {
		if (rep.body || strlen(req.certificate) != 64 ||
		    req.hash_len != hash_alg_len(req.hash_alg))
			abort();
		for (i = 0; i < 64; i++)
			if (!strchr("0123456789abcdef", req.certificate[i]))
				abort();
	} else if (!rep.body || rep.status < 400) {
		abort();
	}
	fuzz_show("request", NULL, rep.body);
	kyso_reply_clear(&rep);
	return 0;
}
