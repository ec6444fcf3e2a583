/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso sign: signs a hash (given, or of a file) with a certificate's key;
 * with --batch, many hashes (cmd-batch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/b64.h"
#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

static const char help[] =
	"Usage: kyso sign --cert ID (--hash HEX | --file PATH) [--hash-alg ALG]\n"
	"                 [--padding pkcs1|pss] [--format raw|cms [--timestamp]\n"
	"                 [--profile cades|pades]] [--out FILE]\n"
	"       kyso sign --batch FILE --cert ID [--hash-alg ALG] [--padding pkcs1|pss]\n"
	"                 [--description TEXT] [--out-dir DIR | --out FILE]\n"
	"\n"
	"Signs a hash with the private key of a certificate.  kysod asks for\n"
	"the PIN if the token needs a login.\n"
	"\n"
	"  -c, --cert ID       certificate id, or a unique prefix of at least 8 hex digits\n"
	"  -H, --hash HEX      the hash to sign, in hex\n"
	"  -f, --file PATH     hash this file (\"-\" for standard input)\n"
	"  -a, --hash-alg ALG  sha256 (default), sha384 or sha512\n"
	"  -p, --padding PAD   RSA only: pkcs1 (default) or pss\n"
	"  -F, --format FMT    raw (default): the signature alone; cms: a detached CMS\n"
	"                      SignedData (CAdES-BES, DER) over the hash, for PDF or CMS\n"
	"                      verifiers\n"
	"  -T, --timestamp     cms only: add an RFC 3161 timestamp from kysod's TSA (CAdES-T)\n"
	"  -P, --profile PROF  cms only: cades (default; with signingTime) or pades (no\n"
	"                      signingTime, for a PDF's /Contents: PAdES B-B, B-T)\n"
	"  -o, --out FILE      write the raw signature to FILE (\"-\" for standard\n"
	"                      output) instead of printing it in base64; with --batch,\n"
	"                      write the batch answer (JSON) to FILE\n"
	"\n"
	"Batches (one consent of the user for every hash):\n"
	"  -b, --batch FILE    sign the hashes listed in FILE (\"-\" for standard input):\n"
	"                      one per line, \"HEX\" (id = line number) or \"ID HEX\";\n"
	"                      or JSON, {\"items\":[{\"id\":ID,\"hash\":BASE64},...]}\n"
	"                      or the array alone.  Blank lines and lines starting\n"
	"                      with '#' are skipped.\n"
	"  -d, --description TEXT  shown in the consent dialog (at most 300 bytes)\n"
	"  -D, --out-dir DIR   write each signature to DIR/<id>.sig (raw bytes)\n"
	"Without --out-dir the batch answer is printed as JSON.  A summary goes to\n"
	"standard error, with a progress bar when it is a terminal.  Ctrl-C cancels\n"
	"the batch (the items signed so far are kept); a second Ctrl-C leaves at once.\n"
	"Exit status: 0 all signed, 1 some failed (or an error), 2 bad input.\n";

struct sign_opts {
	const char *cert;
	const char *hash_hex;
	const char *file;
	const char *out;
	enum kyso_hash_alg alg;
	enum kyso_padding padding;
	const char *batch;
	const char *description;
	const char *out_dir;
	enum kyso_format format;
	int timestamp;
	enum kyso_profile profile;
	int profile_given;
};

static int parse_padding(const char *s, enum kyso_padding *padding)
{
	if (strcasecmp(s, "pkcs1") == 0)
		*padding = KYSO_PADDING_PKCS1;
	else if (strcasecmp(s, "pss") == 0)
		*padding = KYSO_PADDING_PSS;
	else
		return -1;
	return 0;
}

/* Writes the raw signature to path ("-": stdout). */
static int write_signature(int json, const char *path, const struct kyso_signature *sig)
{
	FILE *f;
	int ok;

	if (strcmp(path, "-") == 0)
		return fwrite(sig->data, 1, sig->len, stdout) == sig->len ? 0 :
			out_fail(json, "file_error", "cannot write the signature to standard output");
	f = fopen(path, "wb");
	if (!f)
		return out_fail(json, "file_error", "cannot create %s: %s", path, strerror(errno));
	ok = fwrite(sig->data, 1, sig->len, f) == sig->len;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		return out_fail(json, "file_error", "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static int print_signature(struct kyso_ctx *ctx, const struct sign_opts *o,
			   const struct kyso_signature *sig)
{
	json_t *answer;
	char *b64;

	if (o->out && write_signature(ctx->json, o->out, sig))
		return KYSO_EXIT_ERROR;
	if (o->out && !ctx->json)
		return KYSO_EXIT_OK;
	b64 = kyso_b64_encode(sig->data, sig->len);
	if (!b64)
		return out_fail(ctx->json, "internal_error", "out of memory");
	if (ctx->json) {
		answer = json_pack("{s:s, s:s, s:s, s:s}", "signature", b64,
				   "algorithm", sig->algorithm, "certificate", sig->certificate,
				   "format", sig->format);
		if (answer && sig->audit_id[0])
			json_object_set_new(answer, "audit_id", json_string(sig->audit_id));
		out_json(answer);
		json_decref(answer);
	} else {
		printf("%s\n", b64);
	}
	free(b64);
	return KYSO_EXIT_OK;
}

static int parse_options(struct kyso_ctx *ctx, struct sign_opts *o, int argc, char **argv)
{
	static const struct option options[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "hash", required_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "padding", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ "description", required_argument, NULL, 'd' },
		{ "out-dir", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'F' },
		{ "timestamp", no_argument, NULL, 'T' },
		{ "profile", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":c:H:f:a:p:o:b:d:D:F:TP:jh", options, NULL)) != -1) {
		switch (ch) {
		case 'F':
			if (!strcmp(optarg, "raw"))
				o->format = KYSO_FORMAT_RAW;
			else if (!strcmp(optarg, "cms"))
				o->format = KYSO_FORMAT_CMS;
			else
				return out_usage_error("sign", "unknown format '%s' (raw or cms)", optarg);
			break;
		case 'T':
			o->timestamp = 1;
			break;
		case 'P':
			if (!strcmp(optarg, "cades"))
				o->profile = KYSO_PROFILE_CADES;
			else if (!strcmp(optarg, "pades"))
				o->profile = KYSO_PROFILE_PADES;
			else
				return out_usage_error("sign", "unknown profile '%s' (cades or pades)",
						       optarg);
			o->profile_given = 1;
			break;
		case 'b':
			if (!*optarg)
				return out_usage_error("sign", "--batch needs a file name");
			o->batch = optarg;
			break;
		case 'd':
			if (strlen(optarg) > 300)
				return out_usage_error("sign", "--description is longer than 300 bytes");
			o->description = optarg;
			break;
		case 'D':
			if (!*optarg)
				return out_usage_error("sign", "--out-dir needs a directory");
			o->out_dir = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'H':
			o->hash_hex = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'a':
			if (cmd_parse_hash_alg(optarg, &o->alg) < 0)
				return out_usage_error("sign",
						       "unknown hash algorithm '%s' (sha256, sha384 or sha512)",
						       optarg);
			break;
		case 'p':
			if (parse_padding(optarg, &o->padding) < 0)
				return out_usage_error("sign", "unknown padding '%s' (pkcs1 or pss)",
						       optarg);
			break;
		case 'o':
			if (!*optarg)
				return out_usage_error("sign", "--out needs a file name");
			o->out = optarg;
			break;
		default:
			ret = cmd_common_option(ctx, ch, "sign", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (cmd_no_operands("sign", argc, argv))
		return KYSO_EXIT_USAGE;
	if (!o->cert)
		return out_usage_error("sign", "--cert is required");
	if (o->batch && (o->hash_hex || o->file))
		return out_usage_error("sign", "--batch excludes --hash and --file");
	if (!o->batch && (o->description || o->out_dir))
		return out_usage_error("sign", "--description and --out-dir need --batch");
	if (o->out_dir && o->out)
		return out_usage_error("sign", "--out-dir and --out exclude each other");
	if (o->timestamp && o->format != KYSO_FORMAT_CMS)
		return out_usage_error("sign", "--timestamp needs --format cms");
	if (o->profile_given && o->format != KYSO_FORMAT_CMS)
		return out_usage_error("sign", "--profile needs --format cms");
	if (o->batch && (o->format != KYSO_FORMAT_RAW || o->timestamp))
		return out_usage_error("sign", "batches make raw signatures only");
	if (o->batch)
		return -1;
	if (!o->hash_hex && !o->file)
		return out_usage_error("sign", "--hash or --file is required");
	if (o->hash_hex && o->file)
		return out_usage_error("sign", "--hash and --file exclude each other");
	if (o->file && !*o->file)
		return out_usage_error("sign", "--file needs a path");
	return -1;
}

int cmd_sign(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct sign_opts o = { .alg = KYSO_HASH_SHA256 };
	struct kyso_sign_params params = KYSO_SIGN_PARAMS_INIT;
	struct kyso_signature *sig = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	char cert[KYSO_CERT_ID_LEN + 1];
	size_t md_len = 0, want;
	struct kyso_error err;
	long n;
	int ret;

	ret = parse_options(ctx, &o, argc, argv);
	if (ret >= 0)
		return ret;
	if (o.batch) {
		struct batch_opts b = {
			.file = o.batch, .cert = o.cert, .alg = o.alg, .padding = o.padding,
			.description = o.description, .out_dir = o.out_dir, .out = o.out,
		};

		return cmd_sign_batch(ctx, &b);
	}
	want = kyso_hash_alg_len(o.alg);
	if (o.hash_hex) {
		if (strlen(o.hash_hex) != 2 * want)
			return out_usage_error("sign", "--hash has %zu hex digits, %s needs %zu",
					       strlen(o.hash_hex), kyso_hash_alg_name(o.alg),
					       2 * want);
		n = kyso_hex_decode(o.hash_hex, strlen(o.hash_hex), md, sizeof(md));
		if (n < 0)
			return out_usage_error("sign", "--hash is not valid hex");
		md_len = (size_t)n;
	}
	/* after the local checks, before hashing a possibly large file */
	ret = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "sign", "--cert", o.cert, cert, sizeof(cert));
	if (ret)
		return ret;
	if (o.file) {
		ret = cmd_hash_file(ctx->json, o.file, o.alg, md, &md_len);
		if (ret)
			return ret;
	}

	params.certificate = cert;
	params.hash = md;
	params.hash_len = md_len;
	params.hash_alg = o.alg;
	params.padding = o.padding;
	params.format = o.format;
	params.timestamp = o.timestamp;
	params.profile = o.profile;
	if (kyso_sign(ctx->client, &params, &sig, &err) < 0)
		return out_error(ctx->json, &err);
	ret = print_signature(ctx, &o, sig);
	kyso_signature_free(sig);
	return ret;
}
