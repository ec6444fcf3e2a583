/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <unistd.h>

#include <config.h>
#include "kysod/api.h"
#include "kysod/listen-tcp.h"
#include "kysod/helpers.h"

void api_status(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;
	json_t *listen = json_null();

	/* the loopback listener for web pages, when it is on */
	if (d->n_tcp)
		listen = json_pack("{s:i, s:o*}", "port", (int)d->tcp_port, "addresses",
				   listen_tcp_addresses(d));
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:i, s:i, s:s, s:i, s:o, s:o}",
					  "version", PACKAGE_VERSION, "api", 1,
					  "pid", (int)getpid(), "socket", d->cfg.socket_path,
					  "login_ttl", (int)d->cfg.login_ttl,
					  "listen", listen,
					  "modules", helpers_status_json(d)));
}
