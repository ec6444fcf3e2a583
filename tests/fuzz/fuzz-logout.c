/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/logout bodies (api_logout, src/kysod/api-logout.c) on a kysod
 * whose inventory knows one token and that has no helper to ask. */
#include "fuzz-common.h"
#include "kysod/api.h"

static struct kysod d;
static struct kyso_peer peer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fuzz_kysod_init(&d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kysod_request req = {
		.d = &d, .method = "POST", .path = "/v1/logout",
		.content_type = "application/json", .body = (const char *)data, .body_len = size,
		.peer = &peer,
	};
	struct kyso_reply rep = { 0 };

	api_logout(&req, "", &rep);
	fuzz_show("logout", NULL, rep.body);
	if (!rep.body)
		abort();
	kyso_reply_clear(&rep);
	return 0;
}
