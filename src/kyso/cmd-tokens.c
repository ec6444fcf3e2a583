/*
 * kyso tokens, kyso logout: the tokens kysod knows and their PIN logins.
 */
#include <getopt.h>
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
	json_t *root = NULL;
	char *text = NULL;
	int ret;

	ret = cmd_plain_options(ctx, argc, argv, tokens_help);
	if (ret >= 0)
		return ret;
	if (kyso_tokens(ctx->client, &text, &err) < 0) {
		ret = out_error(ctx->json, &err);
		goto out;
	}
	root = json_loads(text, 0, NULL);
	if (ctx->json)
		out_json(root);
	else
		print_tokens(root);
	ret = KYSO_EXIT_OK;
out:
	json_decref(root);
	kyso_free(text);
	return ret;
}

int cmd_logout(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "token", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char id[KYSO_TOKEN_ID_LEN + 1];
	const char *token = NULL;
	struct kyso_error err;
	json_t *answer;
	long n;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":t:jh", options, NULL)) != -1) {
		switch (ch) {
		case 't':
			token = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'h':
			fputs(logout_help, stdout);
			return KYSO_EXIT_OK;
		default:
			return cmd_bad_option(argv[0], ch, argv);
		}
	}
	if (cmd_no_operands(argv[0], argc, argv))
		return KYSO_EXIT_USAGE;
	if (token) {
		ret = cmd_resolve_id(ctx, CMD_ID_TOKEN, "logout", "--token", token, id, sizeof(id));
		if (ret)
			return ret;
	}
	if (kyso_logout(ctx->client, token ? id : NULL, &n, &err) < 0)
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
