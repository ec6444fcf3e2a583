/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/sign/batch bodies (src/kysod/batch-request.c): every item is
 * checked, or the body is refused with an error reply. */
#include "fuzz-common.h"
#include "kysod/batch-request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_request req;
	struct kyso_reply rep = { 0 };
	size_t i;

	memset(&req, 0, sizeof(req));
	if (batch_request_parse((const char *)data, size, 64, &req, &rep) == 0) {
		if (rep.body || !req.nitems || req.nitems > 64 || strlen(req.certificate) != 64)
			abort();
		for (i = 0; i < req.nitems; i++)
			if (req.items[i].hash_len != hash_alg_len(req.hash_alg) ||
			    (req.items[i].id && strlen(req.items[i].id) > BATCH_ITEM_ID_MAX))
				abort();
		if (req.description && strlen(req.description) > 4 * BATCH_DESCRIPTION_MAX)
			abort();
	} else if (!rep.body || rep.status < 400) {
		abort();
	}
	batch_request_free(&req);
	fuzz_show("request", NULL, rep.body);
	kyso_reply_clear(&rep);
	return 0;
}
