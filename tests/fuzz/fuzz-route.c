/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A request as the server hands it to the router (kyso_route,
 * src/kysod/router.c): method, path, the ?token= query value, the
 * Last-Event-ID and Content-Type headers and the body, each routed to its
 * handler on a kysod that knows one token and two certificates.
 *
 * Input: five lines (method, path, token, Last-Event-ID, Content-Type; an
 * empty line is an absent value), then the body. POST /v1/sign and
 * /v1/sign/batch are left out: they go on to the helpers and the audit log,
 * which this kysod has not; their bodies have harnesses of their own. */
#include "fuzz-common.h"
#include "kysod/router.h"

static struct kysod d;
static struct kyso_peer peer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fuzz_kysod_init(&d);
	peer.known = 1;
	peer.pid = getpid();
	snprintf(peer.exe, sizeof(peer.exe), "/usr/bin/fuzz");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char method[16], path[512], token[128], last[64], type[64];
	struct kysod_request req = { .d = &d, .peer = &peer };
	struct kyso_reply rep = { 0 };

	if (fuzz_line(&data, &size, method, sizeof(method)) ||
	    fuzz_line(&data, &size, path, sizeof(path)) ||
	    fuzz_line(&data, &size, token, sizeof(token)) ||
	    fuzz_line(&data, &size, last, sizeof(last)) ||
	    fuzz_line(&data, &size, type, sizeof(type)))
		return 0;
	if (!strcmp(method, "POST") && (!strcmp(path, "/v1/sign") || !strcmp(path, "/v1/sign/batch")))
		return 0;
	req.method = method;
	req.path = path;
	req.query_token = token[0] ? token : NULL;
	req.last_event_id = last[0] ? last : NULL;
	req.content_type = type[0] ? type : NULL;
	req.body = (const char *)data;
	req.body_len = size;
	kyso_route(&req, &rep);
	fuzz_show(path, rep.sse ? "event stream" : NULL, rep.body);
	if (!rep.status || (!rep.body && !rep.sse))
		abort();
	kyso_reply_clear(&rep);
	return 0;
}
