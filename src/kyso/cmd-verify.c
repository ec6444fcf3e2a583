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

/* The "certificate" member: a file's content (PEM text, or DER in base64),
 * else the id (prefix) resolved by kysod's listing. */
static int certificate_value(struct kyso_ctx *ctx, const char *arg, json_t **value)
{
	char id[KYSO_CERT_ID_LEN + 1], *b64, *data;
	struct stat sb;
	size_t len;
	int rc;

	*value = NULL;
	if (stat(arg, &sb) == 0) {
		rc = cmd_read_file(ctx->json, arg, MAX_FILE, &data, &len);
		if (rc)
			return rc;
		if (len > 10 && !memcmp(data, "-----BEGIN", 10)) {
			*value = json_stringn(data, len);
		} else {
			b64 = cmd_base64((const unsigned char *)data, len);
			*value = b64 ? json_string(b64) : NULL;
			free(b64);
		}
		free(data);
		return *value ? 0 : out_fail(ctx->json, "file_error",
					     "%s is not a certificate file", arg);
	}
	rc = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "verify", "--cert", arg, id, sizeof(id));
	if (rc)
		return rc;
	*value = json_string(id);
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

static void print_answer(const json_t *answer)
{
	const json_t *checks = json_object_get(answer, "checks"), *c, *signer;
	const char *when, *status = cmd_str(answer, "status"), *reason = cmd_str(answer, "reason");
	const char *alg = cmd_str(answer, "algorithm") ? cmd_str(answer, "algorithm") : "?";
	const char *who;
	size_t i;

	signer = json_object_get(answer, "signer");
	who = cmd_str(signer, "subject") ? cmd_str(signer, "subject") : "an unknown signer";
	if (json_is_true(json_object_get(answer, "valid")))
		printf("Valid %s signature by %s\n", alg, who);
	else if (status && !strcmp(status, "indeterminate"))
		printf("Cannot tell whether the %s signature by %s is valid (%s)\n", alg, who,
		       reason ? reason : "?");
	else
		printf("NOT valid %s signature by %s (%s)\n", alg, who, reason ? reason : "?");
	if (!json_is_true(json_object_get(answer, "valid")) && reason_text(reason))
		printf("  %s\n", reason_text(reason));
	if ((when = cmd_str(json_object_get(answer, "timestamp"), "time")))
		printf("time-stamped at %s by %s\n", when,
		       cmd_str(json_object_get(answer, "timestamp"), "tsa") ?: "?");
	if ((when = cmd_str(answer, "signing_time")))
		printf("signing time claimed by the signer (not proof): %s\n", when);
	json_array_foreach(checks, i, c) {
		if (cmd_str(c, "certificate"))
			printf("  %-8s %-20s %s: %s\n", cmd_str(c, "result") ?: "?",
			       cmd_str(c, "check") ?: "?", cmd_str(c, "certificate"),
			       cmd_str(c, "message") ?: "");
		else
			printf("  %-8s %-20s %s\n", cmd_str(c, "result") ?: "?",
			       cmd_str(c, "check") ?: "?", cmd_str(c, "message") ?: "");
	}
}

int cmd_verify(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct verify_opts o;
	unsigned char hash[EVP_MAX_MD_SIZE];
	size_t sig_len = 0, hash_len = 0;
	char *sig = NULL, *sig_b64 = NULL, *hash_b64 = NULL, *body = NULL, *answer_text = NULL;
	json_t *req = NULL, *cert = NULL, *answer = NULL;
	long status = 0;
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
		n = cmd_parse_hex(o.hash_hex, strlen(o.hash_hex), hash, sizeof(hash));
		if (n < 0) {
			rc = out_usage_error("verify", "--hash must be the hash in hex");
			goto out;
		}
		hash_len = (size_t)n;
	}
	if (o.cert) {
		rc = certificate_value(ctx, o.cert, &cert);
		if (rc)
			goto out;
	}
	sig_b64 = cmd_base64((const unsigned char *)sig, sig_len);
	hash_b64 = cmd_base64(hash, hash_len);
	req = json_pack("{s:s, s:s, s:s, s:s}", "format",
			o.format ? o.format : looks_like_cms((const unsigned char *)sig, sig_len) ? "cms" : "raw",
			"signature", sig_b64 ? sig_b64 : "", "hash", hash_b64 ? hash_b64 : "",
			"hash_algorithm", o.alg);
	if (!req) {
		rc = out_fail(ctx->json, "internal_error", "out of memory");
		goto out;
	}
	if (cert)
		json_object_set(req, "certificate", cert);
	if (o.padding)
		json_object_set_new(req, "padding", json_string(o.padding));
	body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		rc = out_fail(ctx->json, "internal_error", "out of memory");
		goto out;
	}
	if (kyso_request(ctx->client, "POST", "/v1/verify", body, &status, &answer_text)) {
		rc = out_error(ctx->json, kyso_client_last_error(ctx->client));
		goto out;
	}
	answer = json_loads(answer_text, 0, NULL);
	if (!answer) {
		rc = out_fail(ctx->json, "bad_response", "kysod's answer is not JSON");
		goto out;
	}
	if (ctx->json)
		out_json(answer);
	else
		print_answer(answer);
	rc = json_is_true(json_object_get(answer, "valid")) ? KYSO_EXIT_OK : KYSO_EXIT_ERROR;
out:
	json_decref(answer);
	json_decref(req);
	json_decref(cert);
	kyso_free(answer_text);
	free(body);
	free(sig_b64);
	free(hash_b64);
	free(sig);
	return rc;
}
