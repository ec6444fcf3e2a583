/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin init, pin, keygen, csr, import, delete, wipe: each one POST
 * to kysod's /v1/admin routes.  PINs are never options: kysod asks for
 * them in its PIN dialog.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "cmd-admin.h"
#include "output.h"

#define CERT_FILE_MAX (256u << 10)
#define CHAIN_FILES_MAX 8
#define OU_MAX 4

/* Everything an admin subcommand may be given; which ones it takes is its own. */
struct admin_opts {
	const char *token;
	const char *label;
	const char *type;
	const char *id;
	const char *key;
	const char *cert;
	const char *out;
	const char *hash_alg;
	const char *chain[CHAIN_FILES_MAX];
	int nchain;
	int force;
	int so;
	/* csr's subject */
	const char *cn, *org, *locality, *province, *country, *uid, *serial, *title, *email;
	const char *unit[OU_MAX];
	int nunit;
};

enum {
	O_FORCE = 256, O_SO, O_LABEL, O_TYPE, O_ID, O_KEY, O_CERT, O_CHAIN, O_HASH, O_CN, O_ORG,
	O_UNIT, O_LOCALITY, O_PROVINCE, O_COUNTRY, O_UID, O_SERIAL, O_TITLE, O_EMAIL,
};

static const struct option all_opts[] = {
	{ "token", required_argument, NULL, 't' },
	{ "out", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, O_FORCE },
	{ "so", no_argument, NULL, O_SO },
	{ "label", required_argument, NULL, O_LABEL },
	{ "type", required_argument, NULL, O_TYPE },
	{ "id", required_argument, NULL, O_ID },
	{ "key", required_argument, NULL, O_KEY },
	{ "cert", required_argument, NULL, O_CERT },
	{ "chain", required_argument, NULL, O_CHAIN },
	{ "hash-alg", required_argument, NULL, O_HASH },
	{ "cn", required_argument, NULL, O_CN },
	{ "org", required_argument, NULL, O_ORG },
	{ "unit", required_argument, NULL, O_UNIT },
	{ "locality", required_argument, NULL, O_LOCALITY },
	{ "province", required_argument, NULL, O_PROVINCE },
	{ "country", required_argument, NULL, O_COUNTRY },
	{ "uid", required_argument, NULL, O_UID },
	{ "serial-number", required_argument, NULL, O_SERIAL },
	{ "title", required_argument, NULL, O_TITLE },
	{ "email", required_argument, NULL, O_EMAIL },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The name of a long option's value, for "does not apply" messages. */
static const char *opt_name(int ch)
{
	size_t i;

	for (i = 0; all_opts[i].name; i++)
		if (all_opts[i].val == ch)
			return all_opts[i].name;
	return "?";
}

/*
 * Parses argv into o; allowed lists the options the command takes (as
 * their getopt values, 0-ended; --token, --json and --help always).
 * Returns -1 to go on, else the exit code.
 */
static int parse(struct kyso_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
		 const int *allowed, struct admin_opts *o)
{
	int ch, ret, i;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, ":t:o:jh", all_opts, NULL)) != -1) {
		if (ch == 't') {
			o->token = optarg;
			continue;
		}
		if (ch == 'j' || ch == 'h' || ch == '?' || ch == ':') {
			ret = cmd_common_option(ctx, ch, cmd, help, argv);
			if (ret >= 0)
				return ret;
			continue;
		}
		for (i = 0; allowed[i] && allowed[i] != ch; i++)
			;
		if (!allowed[i])
			return out_usage_error(cmd, "--%s does not apply here", opt_name(ch));
		switch (ch) {
		case 'o': o->out = optarg; break;
		case O_FORCE: o->force = 1; break;
		case O_SO: o->so = 1; break;
		case O_LABEL: o->label = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_ID: o->id = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_CERT: o->cert = optarg; break;
		case O_HASH: o->hash_alg = optarg; break;
		case O_CN: o->cn = optarg; break;
		case O_ORG: o->org = optarg; break;
		case O_LOCALITY: o->locality = optarg; break;
		case O_PROVINCE: o->province = optarg; break;
		case O_COUNTRY: o->country = optarg; break;
		case O_UID: o->uid = optarg; break;
		case O_SERIAL: o->serial = optarg; break;
		case O_TITLE: o->title = optarg; break;
		case O_EMAIL: o->email = optarg; break;
		case O_CHAIN:
			if (o->nchain == CHAIN_FILES_MAX)
				return out_usage_error(cmd, "at most %d --chain files", CHAIN_FILES_MAX);
			o->chain[o->nchain++] = optarg;
			break;
		case O_UNIT:
			if (o->nunit == OU_MAX)
				return out_usage_error(cmd, "at most %d --unit", OU_MAX);
			o->unit[o->nunit++] = optarg;
			break;
		}
	}
	if (cmd_no_operands(cmd, argc, argv))
		return KYSO_EXIT_USAGE;
	return -1;
}

/* POSTs body (consumed) to path; prints kysod's answer with --json, else
 * through print. Returns the exit code. */
static int post(struct kyso_ctx *ctx, const char *path, json_t *body,
		int (*print)(struct kyso_ctx *ctx, const json_t *answer, const struct admin_opts *o),
		const struct admin_opts *o)
{
	json_t *answer = NULL;
	int ret = cmd_request_json(ctx, "POST", path, body, &answer);

	if (ret)
		return ret;
	if (ctx->json)
		out_json(answer);
	else
		ret = print(ctx, answer, o);
	json_decref(answer);
	return ret;
}

/* The body every operation starts with: the token and force. */
static json_t *body_for(const char *token, int force)
{
	json_t *b = json_pack("{s:s}", "token", token);

	if (b && force)
		json_object_set_new(b, "force", json_true());
	return b;
}

/* Writes text to standard output ("-" or NULL), or replaces path with it
 * (out_file_replace: 0600, whole or not at all). */
static int write_out(struct kyso_ctx *ctx, const char *path, const char *text)
{
	if (!path || !strcmp(path, "-")) {
		fputs(text, stdout);
		return KYSO_EXIT_OK;
	}
	if (out_file_replace(path, text, strlen(text)))
		return out_fail(ctx->json, "file_error", "cannot write %s: %s", path, strerror(errno));
	return KYSO_EXIT_OK;
}

/* ---------------------------------------------------------------- init, wipe, pin */

static const char init_help[] =
	"Usage: kyso admin init --token ID --label LABEL\n"
	"\n"
	"Initialises a token that is not initialised yet: gives it LABEL (at most\n"
	"32 bytes) and asks, in kysod's dialog, for its new SO PIN (or PUK) and\n"
	"its new user PIN, each twice. The token gets a new id; it is printed.\n";

static int print_init(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	printf("Token %s initialised as \"%s\"; user PIN %s, SO PIN %s.\n", cmd_str(a, "token"),
	       cmd_str(a, "label"), cmd_str(json_object_get(a, "pin"), "user"),
	       cmd_str(json_object_get(a, "pin"), "so"));
	return KYSO_EXIT_OK;
}

int admin_init(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_LABEL, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body;
	int ret;

	ret = parse(ctx, argc, argv, "admin init", init_help, allowed, &o);
	if (ret >= 0)
		return ret;
	if (!o.label)
		return out_usage_error("admin init", "--label LABEL is required");
	ret = admin_token(ctx, "admin init", o.token, token);
	if (ret)
		return ret;
	body = body_for(token, 0);
	json_object_set_new(body, "label", json_string(o.label));
	return post(ctx, "/v1/admin/init", body, print_init, &o);
}

static const char wipe_help[] =
	"Usage: kyso admin wipe --token ID [--label LABEL] [--force]\n"
	"\n"
	"Wipes a token: every key and certificate on it is deleted, and its user\n"
	"PIN too (set a new one with kyso admin pin set). Asks for the SO PIN (or\n"
	"PUK). The label stays, unless --label gives a new one.\n"
	"\n"
	"  --force  go on when the SO PIN has one try left\n";

static int print_wipe(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	printf("Token %s wiped; its label is \"%s\". It has no user PIN now: set one with "
	       "kyso admin pin set.\n", cmd_str(a, "token"), cmd_str(a, "label"));
	return KYSO_EXIT_OK;
}

int admin_wipe(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_LABEL, O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body;
	int ret;

	ret = parse(ctx, argc, argv, "admin wipe", wipe_help, allowed, &o);
	if (ret >= 0)
		return ret;
	ret = admin_token(ctx, "admin wipe", o.token, token);
	if (ret)
		return ret;
	body = body_for(token, o.force);
	if (o.label)
		json_object_set_new(body, "label", json_string(o.label));
	return post(ctx, "/v1/admin/wipe", body, print_wipe, &o);
}

static const char pin_help[] =
	"Usage: kyso admin pin change --token ID [--so] [--force]\n"
	"       kyso admin pin unblock --token ID [--force]\n"
	"       kyso admin pin set --token ID [--force]\n"
	"\n"
	"change asks for the current user PIN and a new one (twice); with --so,\n"
	"for the SO PIN (PUK) instead. unblock gives a locked user PIN a new\n"
	"value, and set sets the user PIN of a token that has none (after a\n"
	"wipe): both ask for the SO PIN (PUK) and the new user PIN (twice).\n"
	"\n"
	"  --so     change the SO PIN (PUK), not the user PIN\n"
	"  --force  go on when the PIN to be entered has one try left\n";

static int print_pin(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	const json_t *pin = json_object_get(a, "pin");

	printf("The %s of token %s is %s; user PIN %s, SO PIN %s.\n",
	       o->so ? "SO PIN" : "user PIN", cmd_str(a, "token"), o->so ? "changed" :
	       !strcmp(cmd_str(a, "operation") ?: "", "pin-change") ? "changed" : "set",
	       cmd_str(pin, "user"), cmd_str(pin, "so"));
	return KYSO_EXIT_OK;
}

int admin_pin(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int change_allowed[] = { O_SO, O_FORCE, 0 };
	static const int allowed[] = { O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1], cmd[32], path[48];
	const char *sub = argc > 1 ? argv[1] : "";
	struct admin_opts o;
	json_t *body;
	int ret;

	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(pin_help, stdout);
		return KYSO_EXIT_OK;
	}
	if (strcmp(sub, "change") && strcmp(sub, "unblock") && strcmp(sub, "set"))
		return out_usage_error("admin pin", "change, unblock or set is needed");
	snprintf(cmd, sizeof(cmd), "admin pin %s", sub);
	optind = 0;
	ret = parse(ctx, argc - 1, argv + 1, cmd, pin_help,
		    !strcmp(sub, "change") ? change_allowed : allowed, &o);
	if (ret >= 0)
		return ret;
	ret = admin_token(ctx, cmd, o.token, token);
	if (ret)
		return ret;
	body = body_for(token, o.force);
	if (o.so)
		json_object_set_new(body, "so", json_true());
	snprintf(path, sizeof(path), "/v1/admin/pin/%s", sub);
	return post(ctx, path, body, print_pin, &o);
}

/* ---------------------------------------------------------------- keys */

static const char keygen_help[] =
	"Usage: kyso admin keygen --token ID --type rsa2048|rsa3072|p256|p384 --label LABEL\n"
	"                         [--id HEX] [--out FILE]\n"
	"\n"
	"Generates a key pair on the token (the private key never leaves it) and\n"
	"asks for the user PIN. Without --id the key's id (CKA_ID) is the SHA-1\n"
	"of its public key, as a certificate's subjectKeyIdentifier.\n"
	"\n"
	"  --id HEX    the key's id: 1 to 64 bytes in hex; on a PIV token (ykcs11)\n"
	"              the slot, and required: 01 = 9a, 02 = 9c, 03 = 9d, 04 = 9e,\n"
	"              05 to 18 = the retired slots 82 to 95\n"
	"  --out FILE  the public key, PEM, to FILE\n";

static int print_keygen(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	printf("Key pair %s (%s, \"%s\") generated on token %s.\n", cmd_str(a, "key_id"),
	       cmd_str(a, "key_type"), cmd_str(a, "label"), cmd_str(a, "token"));
	return o->out ? write_out(ctx, o->out, cmd_str(a, "public_key") ?: "") : KYSO_EXIT_OK;
}

int admin_keygen(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_TYPE, O_LABEL, O_ID, 'o', O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body;
	int ret;

	ret = parse(ctx, argc, argv, "admin keygen", keygen_help, allowed, &o);
	if (ret >= 0)
		return ret;
	if (!o.type || !o.label)
		return out_usage_error("admin keygen", "--type and --label are required");
	ret = admin_token(ctx, "admin keygen", o.token, token);
	if (ret)
		return ret;
	body = body_for(token, o.force);
	json_object_set_new(body, "key_type", json_string(o.type));
	json_object_set_new(body, "label", json_string(o.label));
	if (o.id)
		json_object_set_new(body, "key_id", json_string(o.id));
	return post(ctx, "/v1/admin/keygen", body, print_keygen, &o);
}

static const char csr_help[] =
	"Usage: kyso admin csr --token ID --key HEX --cn NAME [--org ORG] [--unit UNIT]...\n"
	"                      [--locality PLACE] [--province PROVINCE] [--country CC]\n"
	"                      [--uid UID] [--serial-number TEXT] [--title TEXT]\n"
	"                      [--email ADDRESS] [--hash-alg ALG] [--out FILE]\n"
	"\n"
	"Writes a certificate request (PKCS#10, PEM) for the key pair HEX (its\n"
	"CKA_ID, as kyso admin inventory shows it), signed on the token, which asks\n"
	"for the user PIN. The names are UTF-8 as given: Vietnamese names as they\n"
	"are written. Give it to the certification authority; import the\n"
	"certificate it issues with kyso admin import.\n"
	"\n"
	"  --cn NAME           the holder's name (required)\n"
	"  --org, --unit       the school, and its unit (--unit up to 4 times)\n"
	"  --locality, --province, --country   the place; --country VN\n"
	"  --uid UID           the holder's id, e.g. CCCD:001234567890\n"
	"  --hash-alg ALG      sha256 (default), sha384 or sha512\n"
	"  --out FILE          the request to FILE (default: standard output)\n";

static int print_csr(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	int ret = write_out(ctx, o->out, cmd_str(a, "csr") ?: "");

	if (!ret && o->out)
		printf("Certificate request for key %s written to %s (%s).\n", cmd_str(a, "key_id"),
		       o->out, cmd_str(a, "algorithm"));
	return ret;
}

static void subject_set(json_t *subj, const char *key, const char *v)
{
	if (v)
		json_object_set_new(subj, key, json_string(v));
}

int admin_csr(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_KEY, O_CN, O_ORG, O_UNIT, O_LOCALITY, O_PROVINCE,
				       O_COUNTRY, O_UID, O_SERIAL, O_TITLE, O_EMAIL, O_HASH, 'o',
				       O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body, *subj, *units;
	int ret, i;

	ret = parse(ctx, argc, argv, "admin csr", csr_help, allowed, &o);
	if (ret >= 0)
		return ret;
	if (!o.key || !o.cn)
		return out_usage_error("admin csr", "--key and --cn are required");
	ret = admin_token(ctx, "admin csr", o.token, token);
	if (ret)
		return ret;
	subj = json_object();
	subject_set(subj, "CN", o.cn);
	subject_set(subj, "O", o.org);
	subject_set(subj, "L", o.locality);
	subject_set(subj, "ST", o.province);
	subject_set(subj, "C", o.country);
	subject_set(subj, "UID", o.uid);
	subject_set(subj, "serialNumber", o.serial);
	subject_set(subj, "title", o.title);
	subject_set(subj, "emailAddress", o.email);
	if (o.nunit == 1) {
		subject_set(subj, "OU", o.unit[0]);
	} else if (o.nunit > 1) {
		units = json_array();
		for (i = 0; i < o.nunit; i++)
			json_array_append_new(units, json_string(o.unit[i]));
		json_object_set_new(subj, "OU", units);
	}
	body = body_for(token, o.force);
	json_object_set_new(body, "key_id", json_string(o.key));
	json_object_set_new(body, "subject", subj);
	if (o.hash_alg)
		json_object_set_new(body, "hash_algorithm", json_string(o.hash_alg));
	return post(ctx, "/v1/admin/csr", body, print_csr, &o);
}

static const char import_help[] =
	"Usage: kyso admin import --token ID --cert FILE [--chain FILE]... [--label LABEL]\n"
	"\n"
	"Stores the certificate in FILE (PEM or DER) on the token, next to the\n"
	"private key it belongs to (found by its public key), with that key's\n"
	"id (CKA_ID) and one label on the certificate and both halves of the key,\n"
	"so that every PKCS#11 application pairs them. Asks for the user PIN.\n"
	"\n"
	"  --chain FILE   CA certificates (PEM, one or more), stored as well while\n"
	"                 the token has room (up to 8 files)\n"
	"  --label LABEL  the label (default: the key's, else the holder's name)\n";

static int print_import(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	char n[3][32];

	printf("The certificate of %s is stored on token %s with key id %s, label \"%s\".\n",
	       cmd_str(a, "subject_cn"), cmd_str(a, "token"), cmd_str(a, "key_id"),
	       cmd_str(a, "label"));
	if (o->nchain)
		printf("CA certificates: %s stored, %s there already, %s not stored (no room).\n",
		       cmd_int(a, "chain_stored", n[0], sizeof(n[0])),
		       cmd_int(a, "chain_present", n[1], sizeof(n[1])),
		       cmd_int(a, "chain_skipped", n[2], sizeof(n[2])));
	return KYSO_EXIT_OK;
}

/* A certificate file as the API takes it: PEM as it is, DER in base64. */
static json_t *cert_file(struct kyso_ctx *ctx, const char *path, int *ret)
{
	char *data = NULL, *b64;
	size_t len = 0;
	json_t *s;

	*ret = cmd_read_file(ctx->json, path, CERT_FILE_MAX, &data, &len);
	if (*ret)
		return NULL;
	if (strstr(data, "-----BEGIN")) {
		s = json_string(data);
	} else {
		b64 = kyso_b64_encode((const unsigned char *)data, len);
		s = b64 ? json_string(b64) : NULL;
		free(b64);
	}
	free(data);
	if (!s)
		*ret = out_fail(ctx->json, "file_error", "%s is neither PEM nor DER", path);
	return s;
}

int admin_import(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_CERT, O_CHAIN, O_LABEL, O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body, *cert, *chain = NULL, *c;
	int ret, i;

	ret = parse(ctx, argc, argv, "admin import", import_help, allowed, &o);
	if (ret >= 0)
		return ret;
	if (!o.cert)
		return out_usage_error("admin import", "--cert FILE is required");
	ret = admin_token(ctx, "admin import", o.token, token);
	if (ret)
		return ret;
	cert = cert_file(ctx, o.cert, &ret);
	if (!cert)
		return ret;
	if (o.nchain)
		chain = json_array();
	for (i = 0; i < o.nchain; i++) {
		c = cert_file(ctx, o.chain[i], &ret);
		if (!c) {
			json_decref(cert);
			json_decref(chain);
			return ret;
		}
		json_array_append_new(chain, c);
	}
	body = body_for(token, o.force);
	json_object_set_new(body, "certificate", cert);
	if (chain)
		json_object_set_new(body, "chain", chain);
	if (o.label)
		json_object_set_new(body, "label", json_string(o.label));
	return post(ctx, "/v1/admin/import", body, print_import, &o);
}

static const char delete_help[] =
	"Usage: kyso admin delete --token ID (--cert ID | --key HEX)\n"
	"\n"
	"Deletes one certificate (by its id, 64 hex digits, as kyso admin inventory\n"
	"--json shows it) or one key pair (by its CKA_ID in hex: both halves) from\n"
	"the token. Asks for the user PIN. A key's certificate stays unless it is\n"
	"deleted too.\n";

static int print_delete(struct kyso_ctx *ctx, const json_t *a, const struct admin_opts *o)
{
	if (cmd_str(a, "certificate"))
		printf("Certificate %s deleted from token %s.\n", cmd_str(a, "certificate"),
		       cmd_str(a, "token"));
	else
		printf("Key pair %s deleted from token %s.\n", cmd_str(a, "key_id"),
		       cmd_str(a, "token"));
	return KYSO_EXIT_OK;
}

int admin_delete(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const int allowed[] = { O_CERT, O_KEY, O_FORCE, 0 };
	char token[KYSO_TOKEN_ID_LEN + 1];
	struct admin_opts o;
	json_t *body;
	int ret;

	ret = parse(ctx, argc, argv, "admin delete", delete_help, allowed, &o);
	if (ret >= 0)
		return ret;
	if (!o.cert == !o.key)
		return out_usage_error("admin delete", "give one of --cert ID and --key HEX");
	ret = admin_token(ctx, "admin delete", o.token, token);
	if (ret)
		return ret;
	body = body_for(token, o.force);
	if (o.cert)
		json_object_set_new(body, "certificate", json_string(o.cert));
	else
		json_object_set_new(body, "key_id", json_string(o.key));
	return post(ctx, "/v1/admin/delete", body, print_delete, &o);
}
