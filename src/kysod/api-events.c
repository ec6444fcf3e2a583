/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "kysod/api.h"

void api_events(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	unsigned long long cursor = events_last(&req->d->events);
	char *end;

	/* A client that reconnects with Last-Event-ID gets what it missed. */
	if (req->last_event_id && *req->last_event_id) {
		unsigned long long last = strtoull(req->last_event_id, &end, 10);

		if (!*end && last <= cursor)
			cursor = last;
	}
	rep->status = 200;
	rep->sse = 1;
	rep->sse_cursor = cursor;
}
