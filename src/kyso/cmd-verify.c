/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso verify: checks a raw or CMS signature against a record (or its
 * hash) with POST /v1/verify, and prints each check.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define MAX_FILE (48 * 1024)	/* a signature or certificate file; kysod takes 64 KiB bodies */

static const char help[] =
	"Usage: kyso verify (--hash HEX | --file PATH) [--hash-alg ALG]\n"
	"                   [--format raw|cms] [--cert ID|FILE] [--padding pkcs1|pss]\n"
	"                   SIGNATURE\n"
	"\n"
	"Checks the signature in the file SIGNATURE (\"-\" for standard input; the\n"
	"raw signature bytes, or a DER CMS signature) against a record: the\n"
	"signature itself, for CMS the record's digest and signingCertificateV2\n"
	"and the timestamp, and the signer's certificate: at the timestamp's time\n"
	"when a trusted timestamp proves when the signature existed, else now\n"
	"(validity, key usage, chain and revocation of every CA, as kysod is\n"
	"configured). The signing time a signature claims is shown, never trusted.\n"
	"The verdict is valid, NOT valid, or cannot tell (indeterminate: e.g. kysod\n"
	"has no CA bundle, or the certificate expired and there is no timestamp).\n"
	"\n"
	"  -H, --hash HEX      the record's hash, in hex\n"
	"  -f, --file PATH     the record: hash this file (\"-\" for standard input)\n"
	"  -a, --hash-alg ALG  sha256 (default), sha384 or sha512\n"
	"  -F, --format FMT    raw or cms (default: cms for a CMS SignedData, else raw)\n"
	"  -c, --cert ID|FILE  the signer's certificate: an id (or a unique prefix of at\n"
	"                      least 8 hex digits) of a certificate kysod knows, or a PEM\n"
	"                      or DER certificate file.  Required for raw signatures\n"
	"  -p, --padding PAD   raw RSA signatures: pkcs1 (default) or pss\n"
	"Exit status: 0 valid, 1 not valid or cannot tell (or an error), 2 bad input.\n";

struct verify_opts {
	const char *hash_hex;
	const char *file;
	const char *format;
	const char *cert;
	const char *padding;
	const char *signature;
	const char *alg;		/* as given, sent as is */
	enum kyso_hash_alg hash_alg;
};

/* A CMS SignedData: DER SEQUENCE whose first OID is id-signedData. */
static int looks_like_cms(const unsigned char *d, size_t len)
{
	static const unsigned char oid[] = {
		0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
	};
	size_t i;

	if (len < 16 || d[0] != 0x30)
		return 0;
	for (i = 1; i + sizeof(oid) <= len && i < 8; i++)
		if (!memcmp(d + i, oid, sizeof(oid)))
			return 1;
	return 0;
}

/*
 * The signer's certificate given with --cert: a file's content (PEM text,
 * else DER), kept in *data (caller frees), or the id (prefix) resolved
 * by kysod's listing into id.
 */
static int certificate_param(struct kyso_ctx *ctx, const char *arg, char *id, size_t id_size,
			     char **data, struct kyso_verify_params *p)
{
	struct stat sb;
	size_t len;
	int rc;

	if (stat(arg, &sb) == 0) {
		rc = cmd_read_file(ctx->json, arg, MAX_FILE, data, &len);
		if (rc)
			return rc;
		if (len > 10 && !memcmp(*data, "-----BEGIN", 10) && strlen(*data) == len) {
			p->certificate = *data;
		} else if (len) {
			p->certificate_der = (const unsigned char *)*data;
			p->certificate_der_len = len;
		} else {
			return out_fail(ctx->json, "file_error", "%s is not a certificate file", arg);
		}
		return 0;
	}
	rc = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "verify", "--cert", arg, id, id_size);
	if (rc)
		return rc;
	p->certificate = id;
	return 0;
}

/* Returns -1 to go on, else the exit code to return. */
static int parse_options(int argc, char **argv, struct verify_opts *o, struct kyso_ctx *ctx)
{
	static const struct option options[] = {
		{ "hash", required_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'F' },
		{ "cert", required_argument, NULL, 'c' },
		{ "padding", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	memset(o, 0, sizeof(*o));
	o->alg = "sha256";
	while ((ch = getopt_long(argc, argv, ":H:f:a:F:c:p:jh", options, NULL)) != -1) {
		switch (ch) {
		case 'H':
			o->hash_hex = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'a':
			o->alg = optarg;
			break;
		case 'F':
			o->format = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'p':
			o->padding = optarg;
			break;
		default:
			ret = cmd_common_option(ctx, ch, "verify", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (cmd_parse_hash_alg(o->alg, &o->hash_alg) < 0 ||
	    strcmp(o->alg, kyso_hash_alg_name(o->hash_alg)) != 0)
		return out_usage_error("verify", "--hash-alg must be sha256, sha384 or sha512");
	if (!o->hash_hex == !o->file)
		return out_usage_error("verify", "give the record's hash (--hash) or the record (--file)");
	if (o->format && strcmp(o->format, "raw") && strcmp(o->format, "cms"))
		return out_usage_error("verify", "--format must be raw or cms");
	if (o->padding && strcasecmp(o->padding, "pkcs1") && strcasecmp(o->padding, "pss"))
		return out_usage_error("verify", "--padding must be pkcs1 or pss");
	if (optind + 1 != argc)
		return out_usage_error("verify", optind >= argc ? "the signature file is missing" :
				       "only one signature file is checked at a time");
	o->signature = argv[optind];
	return -1;
}

/* What a reason means, in plain words. */
static const char *reason_text(const char *reason)
{
	static const struct {
		const char *reason, *text;
	} texts[] = {
		{ "chain_not_checked", "kysod has no CA bundle (ca_bundle in kysod.conf), so it did not "
		  "check who issued the signer's certificate: anyone can make a certificate with this "
		  "name. The signature matches the record, but that says nothing about who made it." },
		{ "chain_untrusted", "the signer's certificate does not chain to the roots kysod trusts "
		  "(ca_bundle)." },
		{ "expired_no_poe", "a certificate of the chain has expired, and no timestamp proves the "
		  "signature was made before that. The signing time in the signature is only a claim "
		  "of whoever held the key." },
		{ "revoked_no_poe", "a certificate of the chain is revoked, and no timestamp proves the "
		  "signature was made before that." },
		{ "revocation_unknown", "whether a certificate of the chain is revoked could not be "
		  "found out (CRL or OCSP responder unavailable)." },
		{ "revoked", "a certificate of the chain is revoked, and the signature cannot be shown to "
		  "be older than that." },
		{ "future_signing_time", "the signature claims a signing time in the future." },
		{ "signature_invalid", "the signature does not verify: it was changed, or made with "
		  "another key." },
		{ "digest_mismatch", "the signature is over another record." },
		{ "content_type_mismatch", "the signed content type is not the signature's content type." },
		{ "signing_certificate_mismatch", "the signature names another signer certificate than "
		  "the one it carries." },
		{ "key_usage", "the signer's certificate is not for signing." },
		{ "not_yet_valid", "the signer's certificate was not yet valid." },
	};
	size_t i;

	for (i = 0; reason && i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!strcmp(reason, texts[i].reason))
			return texts[i].text;
	return NULL;
}

static void print_answer(const struct kyso_verify_result *r)
{
	const char *alg = r->algorithm[0] ? r->algorithm : "?";
	const char *who = r->signer && r->signer->subject[0] ? r->signer->subject
							      : "an unknown signer";
	const struct kyso_verify_check *c;
	size_t i;

	if (r->valid)
		printf("Valid %s signature by %s\n", alg, who);
	else if (r->status == KYSO_VERIFY_INDETERMINATE)
		printf("Cannot tell whether the %s signature by %s is valid (%s)\n", alg, who,
		       r->reason[0] ? r->reason : "?");
	else
		printf("NOT valid %s signature by %s (%s)\n", alg, who,
		       r->reason[0] ? r->reason : "?");
	if (!r->valid && reason_text(r->reason))
		printf("  %s\n", reason_text(r->reason));
	if (r->timestamp_time)
		printf("time-stamped at %s by %s\n", r->timestamp_time,
		       r->timestamp_tsa ? r->timestamp_tsa : "?");
	if (r->signing_time)
		printf("signing time claimed by the signer (not proof): %s\n", r->signing_time);
	for (i = 0; i < r->nchecks; i++) {
		c = r->checks[i];
		if (c->certificate)
			printf("  %-8s %-20s %s: %s\n", c->result_name, c->check, c->certificate,
			       c->message);
		else
			printf("  %-8s %-20s %s\n", c->result_name, c->check, c->message);
	}
}

int cmd_verify(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o;
	struct kyso_verify_params params = KYSO_VERIFY_PARAMS_INIT;
	struct kyso_verify_result *r = NULL;
	struct kyso_error err;
	unsigned char hash[EVP_MAX_MD_SIZE];
	char id[KYSO_CERT_ID_LEN + 1], *sig = NULL, *cert = NULL;
	size_t sig_len = 0, hash_len = 0;
	json_t *answer;
	long n;
	int rc;

	rc = parse_options(argc, argv, &o, ctx);
	if (rc >= 0)
		return rc;
	rc = cmd_read_file(ctx->json, o.signature, MAX_FILE, &sig, &sig_len);
	if (rc)
		goto out;
	if (o.file) {
		rc = cmd_hash_file(ctx->json, o.file, o.hash_alg, hash, &hash_len);
		if (rc)
			goto out;
	} else {
		n = kyso_hex_decode(o.hash_hex, strlen(o.hash_hex), hash, sizeof(hash));
		if (n <= 0) {
			rc = out_usage_error("verify", "--hash must be the hash in hex");
			goto out;
		}
		hash_len = (size_t)n;
	}
	if (o.cert) {
		rc = certificate_param(ctx, o.cert, id, sizeof(id), &cert, &params);
		if (rc)
			goto out;
	}
	if (o.format)
		params.format = strcmp(o.format, "cms") ? KYSO_FORMAT_RAW : KYSO_FORMAT_CMS;
	else
		params.format = looks_like_cms((const unsigned char *)sig, sig_len) ?
				KYSO_FORMAT_CMS : KYSO_FORMAT_RAW;
	params.signature = (const unsigned char *)sig;
	params.signature_len = sig_len;
	params.hash = hash;
	params.hash_len = hash_len;
	params.hash_alg = o.hash_alg;
	if (o.padding)
		params.padding = strcasecmp(o.padding, "pss") ? KYSO_PADDING_PKCS1 : KYSO_PADDING_PSS;
	if (kyso_verify(ctx->client, &params, &r, &err)) {
		rc = out_error(ctx->json, &err);
		goto out;
	}
	if (ctx->json) {
		answer = json_loads(r->json, 0, NULL);
		out_json(answer);
		json_decref(answer);
	} else {
		print_answer(r);
	}
	rc = r->valid ? KYSO_EXIT_OK : KYSO_EXIT_ERROR;
out:
	kyso_verify_result_free(r);
	free(cert);
	free(sig);
	return rc;
}
