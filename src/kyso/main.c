/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso: command-line client of kysod.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define MIN_PREFIX 8

struct command {
	const char *name;
	int (*run)(struct kyso_ctx *ctx, int argc, char **argv);
};

static const struct command commands[] = {
	{ "status", cmd_status },
	{ "tokens", cmd_tokens },
	{ "certs", cmd_certs },
	{ "sign", cmd_sign },
	{ "logout", cmd_logout },
	{ "readers", cmd_readers },
	{ "watch", cmd_watch },
	{ "audit", cmd_audit },
	{ "verify", cmd_verify },
	{ "origins", cmd_origins },
	{ "pdf", cmd_pdf },
	{ "xml", cmd_xml },
	{ "admin", cmd_admin },
};

static void usage(void)
{
	fputs("Usage: kyso [--socket PATH] [--json] COMMAND [OPTIONS]\n"
	      "\n"
	      "Talks to kysod, the smart-card signing daemon.\n"
	      "\n"
	      "Commands:\n"
	      "  status                     daemon and PKCS#11 module state\n"
	      "  tokens                     list tokens\n"
	      "  certs [--token ID]         list certificates (of one token), and why\n"
	      "                             kysod would not sign with one\n"
	      "  sign --cert ID (--hash HEX | --file PATH) [--hash-alg ALG]\n"
	      "       [--padding pkcs1|pss] [--format raw|cms [--timestamp]]\n"
	      "       [--out FILE]\n"
	      "                             sign a hash with a certificate's key; cms: a\n"
	      "                             detached CMS (CAdES-BES), --timestamp: with\n"
	      "                             an RFC 3161 timestamp (CAdES-T)\n"
	      "  sign --batch FILE --cert ID [--hash-alg ALG] [--padding pkcs1|pss]\n"
	      "       [--description TEXT] [--out-dir DIR | --out FILE]\n"
	      "                             sign many hashes with one consent\n"
	      "  verify (--hash HEX | --file PATH) [--hash-alg ALG] [--format raw|cms]\n"
	      "       [--cert ID|FILE] [--padding pkcs1|pss] SIGNATURE\n"
	      "                             check a signature against a record\n"
	      "  pdf sign IN.pdf -o OUT.pdf --cert ID [--level B-B|B-T] [--reason TEXT]\n"
	      "       [--location TEXT] [--field NAME] [--visible PAGE,X,Y,W,H] [--certify]\n"
	      "                             sign an existing PDF (PAdES, incremental update)\n"
	      "  pdf verify FILE            each signature of a PDF: signer, level, what\n"
	      "                             came after it, DocMDP, the verdict\n"
	      "  pdf extend FILE [-o OUT.pdf] [--level B-LT|B-LTA]\n"
	      "                             fresh evidence and a document timestamp\n"
	      "  xml sign IN.xml -o OUT.xml --cert ID [--level B-B|B-T]\n"
	      "       [--hash-alg ALG] [--c14n exclusive|inclusive]\n"
	      "                             sign an XML record (enveloped XAdES)\n"
	      "  logout [--token ID]        end kept PIN logins (of one token)\n"
	      "  readers                    card readers and the PC/SC state\n"
	      "  watch                      print kysod's events as they come\n"
	      "  audit verify [FILE...]     check the audit log's hash chain\n"
	      "  audit show [FILE...] [--since DATE] [--until DATE] [--cert ID]\n"
	      "       [--caller TEXT] [--result ok|error|CODE]\n"
	      "                             list the signatures in the audit log\n"
	      "  origins [list] | allow ORIGIN | revoke ORIGIN\n"
	      "                             web sites that may use the loopback listener\n"
	      "  admin inventory|init|pin|keygen|csr|import|delete|wipe|batch ...\n"
	      "                             provision tokens (kysod with admin = yes;\n"
	      "                             kyso admin --help)\n"
	      "  dev-setup DIR [--pinentry scripted|terminal|PROGRAM] [--force]\n"
	      "                             a test token with certificates, a kysod.conf\n"
	      "                             and a PIN dialog in DIR, for developing an\n"
	      "                             application without a card\n"
	      "\n"
	      "Options:\n"
	      "  -s, --socket PATH  kysod socket (default: $KYSO_SOCKET, else\n"
	      "                     $XDG_RUNTIME_DIR/kyso/kyso.sock)\n"
	      "  -j, --json         print kysod's JSON answers\n"
	      "  -h, --help         show this help (also after a command)\n"
	      "  -V, --version      show the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 error, 2 usage error, 3 kysod unreachable.\n",
	      stdout);
}

int cmd_bad_option(const char *cmd, int ch, char **argv)
{
	const char *opt = argv[optind - 1];

	if (ch == ':')
		return out_usage_error(cmd, "option '%s' needs an argument", opt);
	if (strncmp(opt, "--", 2) == 0 && optopt)
		return out_usage_error(cmd, "option '%.*s' takes no argument",
				       (int)strcspn(opt, "="), opt);
	if (strncmp(opt, "--", 2) == 0)
		return out_usage_error(cmd, "unknown or ambiguous option '%s'", opt);
	return out_usage_error(cmd, "unknown option '-%c'", optopt ? optopt : '?');
}

int cmd_common_option(struct kyso_ctx *ctx, int ch, const char *cmd, const char *help,
		      char **argv)
{
	switch (ch) {
	case 'j':
		ctx->json = 1;
		return -1;
	case 'h':
		fputs(help, stdout);
		return KYSO_EXIT_OK;
	default:
		return cmd_bad_option(cmd, ch, argv);
	}
}

int cmd_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return out_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

int cmd_options(struct kyso_ctx *ctx, int argc, char **argv, const char *cmd,
		const char *help, const char **token)
{
	static const struct option plain[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option with_token[] = {
		{ "token", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	while ((ch = getopt_long(argc, argv, token ? ":t:jh" : ":jh",
				 token ? with_token : plain, NULL)) != -1) {
		if (ch == 't') {
			*token = optarg;
			continue;
		}
		ret = cmd_common_option(ctx, ch, cmd, help, argv);
		if (ret >= 0)
			return ret;
	}
	return -1;
}

int cmd_plain_options(struct kyso_ctx *ctx, int argc, char **argv, const char *help)
{
	int ret;

	ret = cmd_options(ctx, argc, argv, argv[0], help, NULL);
	if (ret >= 0)
		return ret;
	if (cmd_no_operands(argv[0], argc, argv))
		return KYSO_EXIT_USAGE;
	return -1;
}

int cmd_token_options(struct kyso_ctx *ctx, int argc, char **argv, const char *help,
		      char *id, size_t size, const char **token)
{
	const char *arg = NULL;
	int ret;

	*token = NULL;
	ret = cmd_options(ctx, argc, argv, argv[0], help, &arg);
	if (ret >= 0)
		return ret;
	if (cmd_no_operands(argv[0], argc, argv))
		return KYSO_EXIT_USAGE;
	if (!arg)
		return -1;
	ret = cmd_resolve_id(ctx, CMD_ID_TOKEN, argv[0], "--token", arg, id, size);
	if (ret)
		return ret;
	*token = id;
	return -1;
}

int cmd_print_answer(struct kyso_ctx *ctx, int rc, char *text, const struct kyso_error *err,
		     void (*print)(const json_t *root))
{
	json_t *root = NULL;
	int ret;

	if (rc < 0) {
		ret = out_error(ctx->json, err);
		goto out;
	}
	root = json_loads(text, 0, NULL);
	if (ctx->json)
		out_json(root);
	else
		print(root);
	ret = KYSO_EXIT_OK;
out:
	json_decref(root);
	kyso_free(text);
	return ret;
}

const char *cmd_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *cmd_int(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, size, "-");
	return buf;
}

/* Lowercase copy of a hex id of at least MIN_PREFIX and at most max digits. */
static int parse_id(const char *arg, size_t max, char *out)
{
	size_t len = strlen(arg);

	if (len < MIN_PREFIX || len > max)
		return -1;
	return kyso_hex_lower(arg, len, out);
}

/* Finds the one id in kysod's listing that starts with prefix. */
static int lookup_prefix(struct kyso_ctx *ctx, enum cmd_id_kind kind, const char *prefix,
			 char *out, size_t out_size)
{
	const char *what = kind == CMD_ID_TOKEN ? "token" : "certificate";
	struct kyso_error err;
	json_t *root = NULL, *item;
	const char *id, *found = NULL;
	char *text = NULL;
	size_t i, matches = 0;
	int ret;

	if (kind == CMD_ID_TOKEN)
		ret = kyso_tokens(ctx->client, &text, &err);
	else
		ret = kyso_certificates(ctx->client, NULL, &text, &err);
	if (ret < 0) {
		ret = out_error(ctx->json, &err);
		goto out;
	}
	root = json_loads(text, 0, NULL);
	json_array_foreach(json_object_get(root, kind == CMD_ID_TOKEN ? "tokens" : "certificates"),
			   i, item) {
		id = json_string_value(json_object_get(item, "id"));
		if (id && strncmp(id, prefix, strlen(prefix)) == 0 && strlen(id) < out_size) {
			matches++;
			found = id;
		}
	}
	if (matches == 0) {
		ret = out_fail(ctx->json, kind == CMD_ID_TOKEN ? "token_not_found"
							       : "certificate_not_found",
			       "no %s id starts with %s", what, prefix);
	} else if (matches > 1) {
		ret = out_fail(ctx->json, "ambiguous_id",
			       "%zu %ss have ids starting with %s; give more digits",
			       matches, what, prefix);
	} else {
		snprintf(out, out_size, "%s", found);
		ret = 0;
	}
out:
	json_decref(root);
	kyso_free(text);
	return ret;
}

int cmd_resolve_id(struct kyso_ctx *ctx, enum cmd_id_kind kind, const char *cmd,
		   const char *option, const char *arg, char *out, size_t out_size)
{
	size_t full = kind == CMD_ID_TOKEN ? KYSO_TOKEN_ID_LEN : KYSO_CERT_ID_LEN;
	char prefix[KYSO_CERT_ID_LEN + 1];

	if (out_size <= full || parse_id(arg, full, prefix) < 0)
		return out_usage_error(cmd, "%s needs %zu hex digits or a unique prefix of at least %d",
				       option, full, MIN_PREFIX);
	if (strlen(prefix) == full) {
		memcpy(out, prefix, full + 1);
		return 0;
	}
	return lookup_prefix(ctx, kind, prefix, out, out_size);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct kyso_ctx ctx = { 0 };
	const struct command *cmd;
	const char *socket_path = NULL;
	int ch, ret;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:jhV", options, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!*optarg)
				return out_usage_error(NULL, "--socket needs a path");
			socket_path = optarg;
			break;
		case 'j':
			ctx.json = 1;
			break;
		case 'h':
			usage();
			return KYSO_EXIT_OK;
		case 'V':
			printf("kyso %s (libkyso %s)\n", KYSO_VERSION, kyso_version());
			return KYSO_EXIT_OK;
		default:
			return cmd_bad_option(NULL, ch, argv);
		}
	}
	if (optind >= argc)
		return out_usage_error(NULL, "no command given");
	if (strcmp(argv[optind], "help") == 0) {
		usage();
		return KYSO_EXIT_OK;
	}
	if (strcmp(argv[optind], "dev-setup") == 0)
		return cmd_dev_setup(argc - optind, argv + optind);
	cmd = find_command(argv[optind]);
	if (!cmd)
		return out_usage_error(NULL, "unknown command '%s'", argv[optind]);

	ctx.client = kyso_client_new(socket_path);
	if (!ctx.client) {
		fputs("kyso: out of memory\n", stderr);
		return KYSO_EXIT_ERROR;
	}
	argc -= optind;
	argv += optind;
	optind = 0;		/* glibc: restart scanning for the command's options */
	ret = cmd->run(&ctx, argc, argv);
	kyso_client_free(ctx.client);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("kyso: cannot write to standard output\n", stderr);
		if (ret == KYSO_EXIT_OK)
			ret = KYSO_EXIT_ERROR;
	}
	return ret;
}
