/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <strings.h>

#include "kysod/api.h"
#include "kysod/router.h"

typedef void (*handler_fn)(const struct kysod_request *, const char *, struct kyso_reply *);

struct route {
	const char *method;
	const char *path;	/* a trailing '*' takes one more path segment */
	handler_fn handler;
};

static const struct route routes[] = {
	{ "GET", "/v1/status", api_status },
	{ "GET", "/v1/tokens", api_tokens },
	{ "GET", "/v1/tokens/*", api_token },
	{ "GET", "/v1/certificates", api_certificates },
	{ "GET", "/v1/certificates/*", api_certificate },
	{ "POST", "/v1/sign", api_sign },
	{ "POST", "/v1/sign/batch", api_sign_batch },
	{ "POST", "/v1/verify", api_verify },
	{ "POST", "/v1/timestamp", api_timestamp },
	{ "POST", "/v1/validation", api_validation },
	{ "DELETE", "/v1/sign/batch/*", api_cancel_batch },
	{ "POST", "/v1/logout", api_logout },
	{ "GET", "/v1/events", api_events },
	{ "GET", "/v1/readers", api_readers },
	{ "GET", "/v1/pair", api_pair_status },
	{ "POST", "/v1/pair", api_pair },
	{ "GET", "/v1/origins", api_origins },
	{ "POST", "/v1/origins", api_origins_change },
	{ "GET", "/v1/admin/tokens", api_admin_tokens },
	{ "POST", "/v1/admin/init", api_admin_init },
	{ "POST", "/v1/admin/pin/change", api_admin_pin_change },
	{ "POST", "/v1/admin/pin/unblock", api_admin_pin_unblock },
	{ "POST", "/v1/admin/pin/set", api_admin_pin_set },
	{ "POST", "/v1/admin/keygen", api_admin_keygen },
	{ "POST", "/v1/admin/csr", api_admin_csr },
	{ "POST", "/v1/admin/import", api_admin_import },
	{ "POST", "/v1/admin/delete", api_admin_delete },
	{ "POST", "/v1/admin/wipe", api_admin_wipe },
};

/* Returns the captured segment ("" for exact routes) or NULL. */
static const char *match(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (pattern[n - 1] != '*')
		return strcmp(pattern, path) ? NULL : "";
	if (strncmp(pattern, path, n - 1))
		return NULL;
	path += n - 1;
	if (!*path || strchr(path, '/'))
		return NULL;
	return path;
}

static int is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	if (!content_type || strncasecmp(content_type, "application/json", n))
		return 0;
	return content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ';
}

void kyso_route(const struct kysod_request *req, struct kyso_reply *rep)
{
	const struct route *other = NULL;
	const char *arg;
	size_t i;

	if (kysod_stopping(req->d)) {
		kyso_reply_error(rep, KE_SHUTTING_DOWN, "kysod is stopping; try again once it is back");
		return;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		arg = match(routes[i].path, req->path);
		if (!arg)
			continue;
		if (strcmp(routes[i].method, req->method)) {
			other = &routes[i];
			continue;
		}
		if (!strcmp(req->method, "POST") && !is_json(req->content_type)) {
			kyso_reply_error(rep, KE_UNSUPPORTED_MEDIA_TYPE,
					 "send the request body as Content-Type: application/json");
			return;
		}
		routes[i].handler(req, arg, rep);
		return;
	}
	if (other) {
		kyso_reply_error(rep, KE_METHOD_NOT_ALLOWED, "%s is not allowed here; use %s",
				 req->method, other->method);
		rep->allow = other->method;
		return;
	}
	kyso_reply_error(rep, KE_NOT_FOUND, "no such resource; see the API reference for the paths");
}

void kysod_request_after(const struct kysod_request *req, kysod_after_fn fn, void *ctx)
{
	if (req->after)
		req->after(req, fn, ctx);
	else
		fn(req->d, ctx);
}
