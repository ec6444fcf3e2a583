/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin: provisioning tokens through kysod's /v1/admin routes (kysod
 * must have admin = yes). This file: the subcommands' dispatch, the token
 * lookup they share, and the inventory (table, --json, --csv).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "cmd-admin.h"
#include "output.h"

#define SHORT_ID 12
#define EXPIRY_WARN_DAYS 30

static const char help[] =
	"Usage: kyso admin inventory [--json | --csv]\n"
	"       kyso admin init --token ID --label LABEL\n"
	"       kyso admin pin change --token ID [--so] [--force]\n"
	"       kyso admin pin unblock --token ID [--force]\n"
	"       kyso admin pin set --token ID [--force]\n"
	"       kyso admin keygen --token ID --type rsa2048|rsa3072|p256|p384 --label LABEL\n"
	"                         [--id HEX] [--out FILE]\n"
	"       kyso admin csr --token ID --key HEX --cn NAME [--org ORG] [--unit UNIT]...\n"
	"                      [--locality PLACE] [--province PROVINCE] [--country CC]\n"
	"                      [--uid UID] [--serial-number TEXT] [--title TEXT]\n"
	"                      [--email ADDRESS] [--hash-alg ALG] [--out FILE]\n"
	"       kyso admin import --token ID --cert FILE [--chain FILE]... [--label LABEL]\n"
	"       kyso admin delete --token ID (--cert ID | --key HEX)\n"
	"       kyso admin wipe --token ID [--label LABEL] [--force]\n"
	"       kyso admin batch MANIFEST.csv [--report BASE] [--csr-dir DIR]\n"
	"                        [--chain FILE]... [--checked SERIAL]... [--check]\n"
	"\n"
	"Provisions tokens for a school's teachers through kysod, which must be\n"
	"started with admin = yes in kysod.conf. Every PIN is asked in kysod's PIN\n"
	"dialog, a new one twice; none is ever given on the command line. An\n"
	"operation the token catalogue does not list as safe for the token's family\n"
	"is refused; one that would spend the last try of a PIN needs --force.\n"
	"ID is a token id, or a unique prefix of at least 8 hex digits, as\n"
	"kyso admin inventory shows it (tokens not initialised included).\n"
	"\n"
	"  inventory   every token: family, PIN state, keys and certificates\n"
	"  init        initialise a new token: its label, SO PIN and user PIN\n"
	"  pin change  change the user PIN (--so: the SO PIN or PUK)\n"
	"  pin unblock give a locked user PIN a new value, with the SO PIN or PUK\n"
	"  pin set     set the user PIN with the SO PIN or PUK\n"
	"  keygen      generate a key pair on the token\n"
	"  csr         a certificate request (PKCS#10, PEM) signed by a key on the token\n"
	"  import      store a certificate next to its key (and its CA certificates)\n"
	"  delete      delete a certificate, or a key pair\n"
	"  wipe        delete everything on the token (its user PIN too)\n"
	"  batch       provision a class of tokens from a manifest, one after the\n"
	"              other as they are inserted, with a report to go on from\n"
	"\n"
	"Run kyso admin COMMAND --help for a command's options.\n";

/* ---------------------------------------------------------------- shared */

int admin_token(struct kyso_ctx *ctx, const char *cmd, const char *arg, char *out)
{
	json_t *root = NULL, *t;
	const char *id, *found = NULL;
	char prefix[KYSO_TOKEN_ID_LEN + 1];
	size_t i, len = arg ? strlen(arg) : 0, matches = 0;
	int ret;

	if (!arg)
		return out_usage_error(cmd, "--token ID is required");
	if (len < 8 || len > KYSO_TOKEN_ID_LEN || kyso_hex_lower(arg, len, prefix))
		goto bad;
	if (len == KYSO_TOKEN_ID_LEN) {
		memcpy(out, prefix, len + 1);
		return 0;
	}
	ret = cmd_request_json(ctx, "GET", "/v1/admin/tokens", NULL, &root);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(root, "tokens"), i, t) {
		id = cmd_str(t, "id");
		if (id && !strncmp(id, prefix, len)) {
			matches++;
			found = id;
		}
	}
	if (matches == 1)
		snprintf(out, KYSO_TOKEN_ID_LEN + 1, "%s", found);
	ret = matches == 1 ? 0 :
	      matches ? out_fail(ctx->json, "ambiguous_id",
				 "%zu tokens have ids starting with %s; give more digits", matches,
				 prefix) :
	      out_fail(ctx->json, "token_not_found", "no token id starts with %s", prefix);
	json_decref(root);
	return ret;
bad:
	return out_usage_error(cmd, "--token needs %d hex digits or a unique prefix of at least 8",
			       KYSO_TOKEN_ID_LEN);
}

/* ---------------------------------------------------------------- inventory */

static const char inventory_help[] =
	"Usage: kyso admin inventory [--json | --csv]\n"
	"\n"
	"Lists every token the modules of kysod see, initialised or not: its\n"
	"family in the token catalogue, model, serial, firmware, reader, the state of\n"
	"its user PIN and SO PIN (tries left where the family's count is known),\n"
	"the operations kyso admin may do to it, and its keys and certificates:\n"
	"subject, issuer, serial, key type, days until the certificate expires, a\n"
	"key without a certificate and a certificate without a key. The private\n"
	"keys of a token that needs a login show only while it is logged in;\n"
	"before, a key is known by its public half.\n"
	"\n"
	"  --json  kysod's answer (GET /v1/admin/tokens)\n"
	"  --csv   one line per key and certificate (a token without any: one\n"
	"          line), with a header line, for a spreadsheet\n";

/* "ok", "final_try (1 left)", "not_initialized" */
static void pin_cell(const json_t *pin, char *buf, size_t size)
{
	const json_t *left = json_object_get(pin, "tries_left");
	const char *state = cmd_str(pin, "state");

	if (json_is_integer(left) && state && strcmp(state, "locked"))
		snprintf(buf, size, "%s (%" JSON_INTEGER_FORMAT " left)%s", state,
			 json_integer_value(left),
			 json_is_true(json_object_get(pin, "must_change")) ? ", must change" : "");
	else
		snprintf(buf, size, "%s%s", state ? state : "-",
			 json_is_true(json_object_get(pin, "must_change")) ? ", must change" : "");
}

/* "rsa-2048", "ec-P-256" */
static void key_cell(const json_t *o, char *buf, size_t size)
{
	const char *type = cmd_str(o, "key_type"), *curve = cmd_str(o, "curve");
	char bits[32];

	if (curve)
		snprintf(buf, size, "%s-%s", type ? type : "ec", curve);
	else if (json_is_integer(json_object_get(o, "key_bits")))
		snprintf(buf, size, "%s-%s", type ? type : "?",
			 cmd_int(o, "key_bits", bits, sizeof(bits)));
	else
		snprintf(buf, size, "%s", type ? type : "-");
}

static const char *family_of(const json_t *t)
{
	const char *name = cmd_str(json_object_get(t, "family"), "name");

	return name ? name : "(not in the catalogue)";
}

static void print_tokens(const json_t *list)
{
	static const char *const headers[] = {
		"ID", "LABEL", "FAMILY", "MODEL", "SERIAL", "FIRMWARE", "USER PIN", "SO PIN", "READER",
	};
	const char *cells[9];
	char id[SHORT_ID + 1], user[64], so[64];
	const json_t *t;
	struct table *tab = table_new(9, headers);
	size_t i;

	if (!tab)
		return;
	json_array_foreach(list, i, t) {
		snprintf(id, sizeof(id), "%s", cmd_str(t, "id") ? cmd_str(t, "id") : "-");
		pin_cell(json_object_get(t, "user_pin"), user, sizeof(user));
		pin_cell(json_object_get(t, "so_pin"), so, sizeof(so));
		cells[0] = id;
		cells[1] = json_is_true(json_object_get(t, "initialized")) ?
			   cmd_str(t, "label") : "(not initialised)";
		cells[2] = family_of(t);
		cells[3] = cmd_str(t, "model");
		cells[4] = cmd_str(t, "serial");
		cells[5] = cmd_str(t, "firmware");
		cells[6] = user;
		cells[7] = so;
		cells[8] = cmd_str(t, "reader");
		table_add(tab, cells);
	}
	table_print(tab);
	table_free(tab);
}

/* The keys and certificates of every token, one table. */
static void print_objects(const json_t *list)
{
	static const char *const headers[] = {
		"TOKEN", "OBJECT", "ID", "LABEL", "TYPE", "HOLDER / ISSUER", "EXPIRES", "PAIRED",
	};
	const char *cells[8];
	char tok[SHORT_ID + 1], id[20], type[32], who[300], expires[32], paired[64], days[32];
	const json_t *t, *o;
	struct table *tab = table_new(8, headers);
	size_t i, j;

	if (!tab)
		return;
	json_array_foreach(list, i, t) {
		snprintf(tok, sizeof(tok), "%s", cmd_str(t, "id") ? cmd_str(t, "id") : "-");
		json_array_foreach(json_object_get(t, "keys"), j, o) {
			snprintf(id, sizeof(id), "%.16s", cmd_str(o, "key_id") ? cmd_str(o, "key_id") : "");
			key_cell(o, type, sizeof(type));
			snprintf(paired, sizeof(paired), "%s",
				 json_array_size(json_object_get(o, "certificates")) ? "certificate" :
				 "NO CERTIFICATE");
			cells[0] = tok;
			cells[1] = json_is_true(json_object_get(o, "private")) ? "key pair" :
				   "key (public half)";
			cells[2] = id;
			cells[3] = cmd_str(o, "label");
			cells[4] = type;
			cells[5] = "";
			cells[6] = "";
			cells[7] = paired;
			table_add(tab, cells);
		}
		json_array_foreach(json_object_get(t, "certificates"), j, o) {
			const char *key = cmd_str(o, "key");

			snprintf(id, sizeof(id), "%.16s", cmd_str(o, "id") ? cmd_str(o, "id") : "");
			key_cell(o, type, sizeof(type));
			snprintf(who, sizeof(who), "%s", cmd_str(o, "subject_cn") ?
				 cmd_str(o, "subject_cn") : "-");
			snprintf(expires, sizeof(expires), "%.10s (%s d)",
				 cmd_str(o, "not_after") ? cmd_str(o, "not_after") : "-",
				 cmd_int(o, "days_left", days, sizeof(days)));
			snprintf(paired, sizeof(paired), "%s",
				 !key ? "CA certificate" : !strcmp(key, "present") ? "key" :
				 !strcmp(key, "missing") ? "NO KEY" : "key not visible");
			cells[0] = tok;
			cells[1] = "certificate";
			cells[2] = id;
			cells[3] = cmd_str(o, "label");
			cells[4] = type;
			cells[5] = who;
			cells[6] = expires;
			cells[7] = paired;
			table_add(tab, cells);
		}
	}
	if (table_rows(tab)) {
		putchar('\n');
		table_print(tab);
	}
	table_free(tab);
}

/* What needs the administrator's eye: keys without certificates,
 * certificates without keys, certificates near their end. */
static void print_notes(const json_t *list)
{
	const json_t *t, *o, *days;
	size_t i, j;
	int first = 1;

	json_array_foreach(list, i, t) {
		json_array_foreach(json_object_get(t, "keys"), j, o)
			if (!json_array_size(json_object_get(o, "certificates"))) {
				printf("%sToken %.12s: key %s (%s) has no certificate.\n",
				       first ? "\n" : "", cmd_str(t, "id"), cmd_str(o, "key_id"),
				       cmd_str(o, "label"));
				first = 0;
			}
		json_array_foreach(json_object_get(t, "certificates"), j, o) {
			const char *key = cmd_str(o, "key");

			if (key && !strcmp(key, "missing")) {
				printf("%sToken %.12s: the certificate of %s has no key on the token.\n",
				       first ? "\n" : "", cmd_str(t, "id"), cmd_str(o, "subject_cn"));
				first = 0;
			}
			days = json_object_get(o, "days_left");
			if (json_is_integer(days) && json_integer_value(days) < EXPIRY_WARN_DAYS) {
				printf(json_integer_value(days) < 0 ?
				       "%sToken %.12s: the certificate of %s has expired (%.10s).\n" :
				       "%sToken %.12s: the certificate of %s expires on %.10s.\n",
				       first ? "\n" : "", cmd_str(t, "id"), cmd_str(o, "subject_cn"),
				       cmd_str(o, "not_after"));
				first = 0;
			}
		}
	}
}

static void print_csv(const json_t *list)
{
	static const char *const headers[] = {
		"token", "label", "family", "manufacturer", "model", "serial", "firmware", "reader",
		"initialized", "user_pin", "user_pin_tries_left", "so_pin", "object", "object_id",
		"key_id", "object_label", "key_type", "subject", "issuer", "certificate_serial",
		"not_after", "days_left", "paired",
	};
	const char *c[23];
	char user[16], so[16], type[32], days[32], left[32];
	const json_t *t, *o;
	size_t i, j, n;

	out_csv_row(headers, 23);
	json_array_foreach(list, i, t) {
		memset(c, 0, sizeof(c));
		c[0] = cmd_str(t, "id");
		c[1] = cmd_str(t, "label");
		c[2] = cmd_str(json_object_get(t, "family"), "id");
		c[3] = cmd_str(t, "manufacturer");
		c[4] = cmd_str(t, "model");
		c[5] = cmd_str(t, "serial");
		c[6] = cmd_str(t, "firmware");
		c[7] = cmd_str(t, "reader");
		c[8] = json_is_true(json_object_get(t, "initialized")) ? "yes" : "no";
		snprintf(user, sizeof(user), "%s", cmd_str(json_object_get(t, "user_pin"), "state") ?: "");
		snprintf(so, sizeof(so), "%s", cmd_str(json_object_get(t, "so_pin"), "state") ?: "");
		left[0] = '\0';
		if (json_is_integer(json_object_get(json_object_get(t, "user_pin"), "tries_left")))
			cmd_int(json_object_get(t, "user_pin"), "tries_left", left, sizeof(left));
		c[9] = user;
		c[10] = left;
		c[11] = so;
		n = 0;
		json_array_foreach(json_object_get(t, "keys"), j, o) {
			key_cell(o, type, sizeof(type));
			c[12] = json_is_true(json_object_get(o, "private")) ? "key" : "public_key";
			c[13] = cmd_str(o, "key_id");
			c[14] = cmd_str(o, "key_id");
			c[15] = cmd_str(o, "label");
			c[16] = type;
			c[17] = c[18] = c[19] = c[20] = c[21] = NULL;
			c[22] = json_array_size(json_object_get(o, "certificates")) ? "yes" : "no";
			out_csv_row(c, 23);
			n++;
		}
		json_array_foreach(json_object_get(t, "certificates"), j, o) {
			const char *key = cmd_str(o, "key");

			key_cell(o, type, sizeof(type));
			c[12] = json_is_true(json_object_get(o, "ca")) ? "ca_certificate" : "certificate";
			c[13] = cmd_str(o, "id");
			c[14] = cmd_str(o, "key_id");
			c[15] = cmd_str(o, "label");
			c[16] = type;
			c[17] = cmd_str(o, "subject");
			c[18] = cmd_str(o, "issuer");
			c[19] = cmd_str(o, "serial");
			c[20] = cmd_str(o, "not_after");
			c[21] = cmd_int(o, "days_left", days, sizeof(days));
			c[22] = !key ? "" : !strcmp(key, "present") ? "yes" : !strcmp(key, "missing") ?
				"no" : "unknown";
			out_csv_row(c, 23);
			n++;
		}
		if (!n) {
			for (j = 12; j < 23; j++)
				c[j] = NULL;
			out_csv_row(c, 23);
		}
	}
}

static int inventory(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *root = NULL, *list;
	int ch, ret, csv = 0;

	while ((ch = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		if (ch == 'c') {
			csv = 1;
			continue;
		}
		ret = cmd_common_option(ctx, ch, "admin inventory", inventory_help, argv);
		if (ret >= 0)
			return ret;
	}
	if (cmd_no_operands("admin inventory", argc, argv))
		return KYSO_EXIT_USAGE;
	if (csv && ctx->json)
		return out_usage_error("admin inventory", "--csv and --json exclude each other");
	ret = cmd_request_json(ctx, "GET", "/v1/admin/tokens", NULL, &root);
	if (ret)
		return ret;
	list = json_object_get(root, "tokens");
	if (ctx->json)
		out_json(root);
	else if (csv)
		print_csv(list);
	else if (!json_array_size(list))
		printf("No tokens.\n");
	else {
		print_tokens(list);
		print_objects(list);
		print_notes(list);
	}
	json_decref(root);
	return KYSO_EXIT_OK;
}

/* ---------------------------------------------------------------- dispatch */

int cmd_admin(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct kyso_ctx *ctx, int argc, char **argv);
	} subs[] = {
		{ "inventory", inventory },
		{ "init", admin_init },
		{ "wipe", admin_wipe },
		{ "pin", admin_pin },
		{ "keygen", admin_keygen },
		{ "csr", admin_csr },
		{ "import", admin_import },
		{ "delete", admin_delete },
		{ "batch", admin_batch },
	};
	size_t i;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(help, stdout);
			return KYSO_EXIT_OK;
		}
		return out_usage_error("admin", "a command is needed: inventory, init, pin, keygen, "
				       "csr, import, delete, wipe or batch");
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 0;
			return subs[i].run(ctx, argc - 1, argv + 1);
		}
	return out_usage_error("admin", "unknown command '%s'", argv[1]);
}
