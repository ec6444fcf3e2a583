/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /v1/origins and POST /v1/origins: the web sites that may use the
 * loopback listener, and the user's own changes (kyso origins). Unix socket
 * only: browser.c refuses these routes to web pages. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "kysod/api.h"
#include "kysod/origins.h"
#include "kysod/request-fields.h"

static int listener_on(const struct kysod_request *req, struct kyso_reply *rep)
{
	if (req->d->origins)
		return 0;
	kyso_reply_error(rep, KE_NOT_FOUND,
			 "the loopback listener for web pages is off (listen in kysod.conf)");
	return -1;
}

void api_origins(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	json_t *list;

	if (listener_on(req, rep))
		return;
	list = origins_list(req->d->origins);
	json_object_set_new(list, "port", json_integer((json_int_t)req->d->tcp_port));
	kyso_reply_ok(rep, 200, list);
}

void api_origins_change(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "origin", "action" };
	const char *origin, *action;
	char err[256];
	json_t *root;
	int rc;

	if (listener_on(req, rep))
		return;
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root)
		return;
	if (field_known(root, known, 2, rep) || field_string(root, "origin", 1, &origin, rep) ||
	    field_string(root, "action", 1, &action, rep))
		goto out;
	if (!origin_valid(origin)) {
		field_error(rep, KE_INVALID_VALUE, "origin",
			    "not a web origin: scheme://host[:port], lowercase, no path");
		goto out;
	}
	if (!strcmp(action, "allow")) {
		rc = origins_allow(req->d->origins, origin, err, sizeof(err));
	} else if (!strcmp(action, "revoke")) {
		rc = origins_revoke(req->d->origins, origin, err, sizeof(err));
	} else {
		field_error(rep, KE_INVALID_VALUE, "action", "allow or revoke");
		goto out;
	}
	if (rc < 0) {
		log_error("%s %s: %s", action, origin, err);
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the pairings could not be written");
		goto out;
	}
	log_info("%s: %s (by pid %d)", action, origin, (int)req->peer->pid);
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:b, s:s?}", "origin", origin, "action",
					  action, "changed", rc == 0,
					  "source", origins_allowed(req->d->origins, origin)));
out:
	json_decref(root);
}
