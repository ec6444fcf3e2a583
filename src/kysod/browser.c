/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <microhttpd.h>

#include "common/log.h"
#include "kysod/browser.h"
#include "kysod/origins.h"

struct header_count {
	const char *name;
	const char *value;
	unsigned int n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_count *h = cls;

	if (!strcasecmp(key, h->name)) {
		h->n++;
		h->value = value;
	}
	return MHD_YES;
}

/* The one value of header name: its value, or NULL with *n 0 (absent) or more
 * than 1 (sent several times: ambiguous, refused). */
static const char *one_header(struct MHD_Connection *conn, const char *name, unsigned int *n)
{
	struct header_count h = { name, NULL, 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &h);
	*n = h.n;
	return h.n == 1 ? h.value : NULL;
}

/* Whether Host names this listener: 127.0.0.1, [::1] or localhost with its
 * port. A page whose own name was rebound to 127.0.0.1 sends its own name. */
static int host_ok(const char *host, unsigned short port)
{
	static const char *const names[] = { "127.0.0.1", "[::1]", "localhost" };
	char want[32];
	size_t i;

	if (!host)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "%s:%u", names[i], (unsigned int)port);
		if (!strcasecmp(host, want))
			return 1;
	}
	return 0;
}

/* What a page may never do, whatever its origin. */
static const char *not_for_browsers(const char *url)
{
	if (!strncmp(url, "/v1/origins", 11) && (!url[11] || url[11] == '/'))
		return "web pages cannot change which web sites may use kyso";
	if (!strncmp(url, "/v1/admin", 9) && (!url[9] || url[9] == '/'))
		return "administration is done with the kyso command, not from web pages";
	return NULL;
}

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

int browser_gate(struct kysod *d, struct MHD_Connection *conn, struct kyso_peer *peer,
		 const char *url, const char *method, struct kyso_reply *rep)
{
	const char *host, *origin, *source = NULL, *why;
	unsigned int nhost, norigin;
	int pair = !strcmp(url, "/v1/pair");

	peer->origin[0] = '\0';
	peer->cors = peer->preflight = peer->private_network = 0;
	host = one_header(conn, MHD_HTTP_HEADER_HOST, &nhost);
	if (!host_ok(host, peer->local_port)) {
		log_warn("loopback listener: refused Host %.64s%s", host ? host : "(none or several)",
			 host && strlen(host) > 64 ? "..." : "");
		kyso_reply_error(rep, KE_HOST_NOT_ALLOWED,
				 "the Host header must be 127.0.0.1:%u, [::1]:%u or localhost:%u",
				 (unsigned int)peer->local_port, (unsigned int)peer->local_port,
				 (unsigned int)peer->local_port);
		return 1;
	}
	origin = one_header(conn, MHD_HTTP_HEADER_ORIGIN, &norigin);
	if (origin && origin_valid(origin))
		snprintf(peer->origin, sizeof(peer->origin), "%s", origin);
	if (!peer->known || peer->uid != getuid()) {
		log_warn("loopback listener: refused a connection of uid %d (%s)",
			 peer->known ? (int)peer->uid : -1, peer->origin[0] ? peer->origin : "no origin");
		/* a page probing the ports may read this, to try the next one */
		peer->cors = pair && peer->origin[0];
		kyso_reply_error(rep, KE_WRONG_USER,
				 "this kyso daemon serves another user of this computer; try the "
				 "next port");
		return 1;
	}
	if (norigin == 0) {
		kyso_reply_error(rep, KE_ORIGIN_REQUIRED,
				 "requests on the loopback listener must come from a web page "
				 "(with an Origin header); programs use the Unix socket");
		return 1;
	}
	if (!peer->origin[0]) {
		kyso_reply_error(rep, KE_ORIGIN_MALFORMED, norigin > 1 ?
				 "the request has more than one Origin header" :
				 "the Origin header is not a web origin (scheme://host[:port])");
		return 1;
	}
	source = origins_allowed(d->origins, peer->origin);
	if (!source && !pair) {
		log_debug("loopback listener: %s %s from %s, which is not allowed", method, url,
			  peer->origin);
		kyso_reply_error(rep, KE_ORIGIN_NOT_ALLOWED,
				 "this web site is not allowed to use kyso: it can ask the user "
				 "(POST /v1/pair), or the administrator can allow it");
		return 1;
	}
	peer->cors = 1;
	if (!strcmp(method, MHD_HTTP_METHOD_OPTIONS)) {
		peer->preflight = 1;
		peer->private_network =
			is_true(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    "Access-Control-Request-Private-Network")) ||
			is_true(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    "Access-Control-Request-Local-Network"));
		rep->status = 204;
		rep->empty = 1;
		return 1;
	}
	why = not_for_browsers(url);
	if (why) {
		kyso_reply_error(rep, KE_NOT_FOR_BROWSERS, "%s", why);
		return 1;
	}
	return 0;
}

void browser_headers(struct MHD_Response *resp, const struct kyso_peer *peer)
{
	if (!peer || !peer->tcp)
		return;
	MHD_add_response_header(resp, "Vary", "Origin");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (!peer->cors || !peer->origin[0])
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", peer->origin);
	MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Retry-After");
	if (!peer->preflight)
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type, Last-Event-ID");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	if (peer->private_network) {
		MHD_add_response_header(resp, "Access-Control-Allow-Private-Network", "true");
		MHD_add_response_header(resp, "Access-Control-Allow-Local-Network", "true");
	}
}
