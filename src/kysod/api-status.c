#include <unistd.h>

#include <config.h>
#include "kysod/api.h"
#include "kysod/helpers.h"

void api_status(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;

	kyso_reply_ok(rep, 200, json_pack("{s:s, s:i, s:i, s:s, s:i, s:o}",
					  "version", PACKAGE_VERSION, "api", 1,
					  "pid", (int)getpid(), "socket", d->cfg.socket_path,
					  "login_ttl", (int)d->cfg.login_ttl,
					  "modules", helpers_status_json(d)));
}
