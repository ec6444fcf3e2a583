/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso origins: the web sites that may use kysod's loopback listener
 * (GET and POST /v1/origins).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

static const char help[] =
	"Usage: kyso origins [list]\n"
	"       kyso origins allow ORIGIN\n"
	"       kyso origins revoke ORIGIN\n"
	"\n"
	"Web pages reach kysod on its loopback listener (listen in kysod.conf).\n"
	"A web site may use it when the administrator allows its origin\n"
	"(SYSCONFDIR/kyso/origins.d/*.conf) or you do: a site asks once, in a\n"
	"dialog, and your answer is kept. list shows both, and the sites you\n"
	"refused that may not ask again yet; allow adds a site without asking\n"
	"(ORIGIN as https://host[:port]); revoke takes your permission back (and\n"
	"lets a refused site ask again).\n";

static void print_list(const json_t *root)
{
	static const char *const headers[] = { "ORIGIN", "ALLOWED BY" };
	const json_t *list = json_object_get(root, "origins"), *refused, *o;
	const char *cells[2];
	char port[32], secs[32];
	struct table *t;
	size_t i;

	printf("Loopback listener: http://127.0.0.1:%s\n\n",
	       cmd_int(root, "port", port, sizeof(port)));
	if (!json_array_size(list)) {
		printf("No web site may use kyso.\n");
	} else {
		t = table_new(2, headers);
		if (!t)
			return;
		json_array_foreach(list, i, o) {
			cells[0] = cmd_str(o, "origin");
			cells[1] = cmd_str(o, "source") && !strcmp(cmd_str(o, "source"), "admin") ?
				   "administrator" : "you";
			table_add(t, cells);
		}
		table_print(t);
	}
	refused = json_object_get(root, "refused");
	json_array_foreach(refused, i, o)
		printf("%s: refused; may ask again in %s s\n", cmd_str(o, "origin"),
		       cmd_int(o, "retry_after", secs, sizeof(secs)));
}

static void print_change(const json_t *root)
{
	const char *origin = cmd_str(root, "origin"), *action = cmd_str(root, "action");
	const char *source = cmd_str(root, "source");

	if (action && !strcmp(action, "allow"))
		printf("%s may use kyso.\n", origin);
	else if (source && !strcmp(source, "admin"))
		printf("%s: your permission is revoked, but the administrator allows it.\n", origin);
	else if (json_is_true(json_object_get(root, "changed")))
		printf("%s may no longer use kyso.\n", origin);
	else
		printf("%s was not allowed by you.\n", origin);
}

static int change(struct kyso_ctx *ctx, const char *action, const char *origin)
{
	struct kyso_error err;
	char *body, *text = NULL;
	json_t *req;
	int rc;

	req = json_pack("{s:s, s:s}", "origin", origin, "action", action);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return out_fail(ctx->json, "out_of_memory", "out of memory");
	rc = kyso_request(ctx->client, "POST", "/v1/origins", body, NULL, &text);
	free(body);
	if (rc)
		err = *kyso_client_last_error(ctx->client);
	return cmd_print_answer(ctx, rc, text, &err, print_change);
}

int cmd_origins(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct kyso_error err;
	const char *sub;
	char *text = NULL;
	int ret, rc;

	ret = cmd_options(ctx, argc, argv, "origins", help, NULL);
	if (ret >= 0)
		return ret;
	sub = optind < argc ? argv[optind] : "list";
	if (!strcmp(sub, "list")) {
		if (optind + 1 < argc)
			return out_usage_error("origins", "list takes no argument");
		rc = kyso_request(ctx->client, "GET", "/v1/origins", NULL, NULL, &text);
		if (rc)
			err = *kyso_client_last_error(ctx->client);
		return cmd_print_answer(ctx, rc, text, &err, print_list);
	}
	if (strcmp(sub, "allow") && strcmp(sub, "revoke"))
		return out_usage_error("origins", "unknown subcommand %s (list, allow, revoke)", sub);
	if (optind + 2 != argc)
		return out_usage_error("origins", "%s takes one ORIGIN, as https://host[:port]", sub);
	return change(ctx, sub, argv[optind + 1]);
}
