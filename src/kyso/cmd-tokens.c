/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso tokens, kyso logout: the tokens kysod knows and their PIN logins.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define SHORT_ID 12

static const char tokens_help[] =
	"Usage: kyso tokens\n"
	"\n"
	"Lists the tokens kysod knows, also removed ones seen earlier\n"
	"(PRESENT no).  ID shows the first 12 of 32 hex digits; any unique\n"
	"prefix of at least 8 digits names the token in other commands.\n";

static const char logout_help[] =
	"Usage: kyso logout [--token ID]\n"
	"\n"
	"Ends the PIN logins kysod keeps, of all tokens or of one.\n"
	"\n"
	"  -t, --token ID  token id, or a unique prefix of at least 8 hex digits\n";

/* "ok", "ok, logged in", "locked", ... */
static void pin_cell(const json_t *tok, char *buf, size_t size)
{
	const json_t *pin = json_object_get(tok, "pin");
	const char *state = cmd_str(pin, "state");

	snprintf(buf, size, "%s%s", state ? state : "-",
		 json_is_true(json_object_get(pin, "logged_in")) ? ", logged in" : "");
}

static void print_tokens(const json_t *root)
{
	static const char *const headers[] = {
		"ID", "LABEL", "MODEL", "SERIAL", "PIN", "PRESENT",
	};
	const json_t *list = json_object_get(root, "tokens"), *tok;
	char id[SHORT_ID + 1], pin[64];
	const char *cells[6];
	struct table *t;
	size_t i;

	if (!json_array_size(list)) {
		printf("No tokens.\n");
		return;
	}
	t = table_new(6, headers);
	if (!t)
		return;
	json_array_foreach(list, i, tok) {
		snprintf(id, sizeof(id), "%s", cmd_str(tok, "id") ? cmd_str(tok, "id") : "-");
		pin_cell(tok, pin, sizeof(pin));
		cells[0] = id;
		cells[1] = cmd_str(tok, "label");
		cells[2] = cmd_str(tok, "model");
		cells[3] = cmd_str(tok, "serial");
		cells[4] = pin;
		cells[5] = json_is_true(json_object_get(tok, "present")) ? "yes" : "no";
		table_add(t, cells);
	}
	table_print(t);
	table_free(t);
}

int cmd_tokens(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct kyso_error err;
	char *text = NULL;
	json_t *certs;
	int ret;

	ret = cmd_plain_options(ctx, argc, argv, tokens_help);
	if (ret >= 0)
		return ret;
	ret = kyso_tokens(ctx->client, &text, &err);
	ret = cmd_print_answer(ctx, ret, text, &err, print_tokens);
	/* a teacher sees here too when a certificate is about to end */
	text = NULL;
	if (ret == KYSO_EXIT_OK && !ctx->json &&
	    kyso_certificates(ctx->client, NULL, &text, &err) == 0) {
		certs = json_loads(text, 0, NULL);
		cmd_warn_expiring(certs);
		json_decref(certs);
	}
	kyso_free(text);
	return ret;
}

int cmd_logout(struct kyso_ctx *ctx, int argc, char **argv)
{
	char id[KYSO_TOKEN_ID_LEN + 1];
	const char *token;
	struct kyso_error err;
	json_t *answer;
	long n;
	int ret;

	ret = cmd_token_options(ctx, argc, argv, logout_help, id, sizeof(id), &token);
	if (ret >= 0)
		return ret;
	if (kyso_logout(ctx->client, token, &n, &err) < 0)
		return out_error(ctx->json, &err);
	if (ctx->json) {
		answer = json_pack("{s:I}", "logged_out", (json_int_t)n);
		out_json(answer);
		json_decref(answer);
	} else if (n == 0) {
		printf("No PIN login was kept.\n");
	} else {
		printf("Ended %ld PIN login%s.\n", n, n == 1 ? "" : "s");
	}
	return KYSO_EXIT_OK;
}
