/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso status, kyso readers: the daemon, its PKCS#11 modules and the
 * card readers it sees.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

static const char help[] =
	"Usage: kyso status\n"
	"\n"
	"Shows kysod's version, socket and login TTL, and the state of each\n"
	"PKCS#11 module (running, starting or failed).\n";

static const char readers_help[] =
	"Usage: kyso readers\n"
	"\n"
	"Shows whether kysod reaches the PC/SC service (pcscd) and lists the\n"
	"card readers with the card in each (its ATR).\n";

static void print_status(const json_t *root)
{
	static const char *const headers[] = {
		"MODULE", "STATE", "PID", "RESTARTS", "TOKENS", "PATH",
	};
	struct table *t;
	const json_t *mods, *m;
	char api[32], pid[32], ttl[32], mpid[32], restarts[32], tokens[32];
	const char *cells[6];
	size_t i;

	printf("kysod %s (API %s), pid %s\n",
	       cmd_str(root, "version") ? cmd_str(root, "version") : "?",
	       cmd_int(root, "api", api, sizeof(api)), cmd_int(root, "pid", pid, sizeof(pid)));
	printf("Socket:     %s\n", cmd_str(root, "socket") ? cmd_str(root, "socket") : "-");
	printf("Login TTL:  %s s\n", cmd_int(root, "login_ttl", ttl, sizeof(ttl)));

	mods = json_object_get(root, "modules");
	if (!json_array_size(mods)) {
		printf("\nNo PKCS#11 module configured.\n");
		return;
	}
	t = table_new(6, headers);
	if (!t)
		return;
	json_array_foreach(mods, i, m) {
		cells[0] = cmd_str(m, "name");
		cells[1] = cmd_str(m, "state");
		cells[2] = cmd_int(m, "pid", mpid, sizeof(mpid));
		cells[3] = cmd_int(m, "restarts", restarts, sizeof(restarts));
		cells[4] = cmd_int(m, "tokens", tokens, sizeof(tokens));
		cells[5] = cmd_str(m, "path");
		table_add(t, cells);
	}
	putchar('\n');
	table_print(t);
	table_free(t);
	json_array_foreach(mods, i, m) {
		if (cmd_str(m, "error"))
			printf("%s: %s\n", cmd_str(m, "name") ? cmd_str(m, "name") : "module",
			       cmd_str(m, "error"));
	}
}

int cmd_status(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct kyso_error err;
	char *text = NULL;
	int ret;

	ret = cmd_plain_options(ctx, argc, argv, help);
	if (ret >= 0)
		return ret;
	ret = kyso_status(ctx->client, &text, &err);
	return cmd_print_answer(ctx, ret, text, &err, print_status);
}

static void print_readers(const json_t *root)
{
	static const char *const headers[] = { "NAME", "CARD", "ATR" };
	const json_t *list = json_object_get(root, "readers"), *r;
	const char *pcsc = cmd_str(root, "pcsc"), *cells[3];
	struct table *t;
	size_t i;

	printf("PC/SC: %s\n", !pcsc ? "-" : !strcmp(pcsc, "up") ? "up (pcscd reachable)" :
	       !strcmp(pcsc, "down") ? "down (pcscd not reachable)" : pcsc);
	if (!json_array_size(list)) {
		printf("No readers.\n");
		return;
	}
	t = table_new(3, headers);
	if (!t)
		return;
	json_array_foreach(list, i, r) {
		cells[0] = cmd_str(r, "name");
		cells[1] = json_is_true(json_object_get(r, "card_present")) ? "yes" : "no";
		cells[2] = cmd_str(r, "atr");
		table_add(t, cells);
	}
	putchar('\n');
	table_print(t);
	table_free(t);
}

int cmd_readers(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct kyso_error err;
	char *text = NULL;
	int ret;

	ret = cmd_plain_options(ctx, argc, argv, readers_help);
	if (ret >= 0)
		return ret;
	ret = kyso_readers(ctx->client, &text, &err);
	return cmd_print_answer(ctx, ret, text, &err, print_readers);
}
