/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso xml sign: an enveloped XAdES signature (src/xml) over an XML
 * record; kysod signs the hash of its canonical SignedInfo (a raw
 * signature) and, for B-T, timestamps its SignatureValue.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/b64.h"
#include "xml/xades.h"
#include "cmd.h"
#include "output.h"

static const char help[] =
	"Usage: kyso xml sign IN.xml -o OUT.xml --cert ID [--level B-B|B-T]\n"
	"                     [--hash-alg ALG] [--c14n exclusive|inclusive]\n"
	"\n"
	"Signs an XML record: OUT.xml is IN.xml with an enveloped XAdES signature\n"
	"(ETSI EN 319 132-1 baseline) as the last child of its root element.\n"
	"\n"
	"  -c, --cert ID       certificate id, or a unique prefix of at least 8 hex digits\n"
	"  -o, --out FILE      the signed XML\n"
	"  -l, --level LEVEL   B-B (default): the signature; B-T: with a signature\n"
	"                      timestamp from kysod's time-stamp authority\n"
	"  -a, --hash-alg ALG  sha256 (default), sha384 or sha512\n"
	"  -k, --c14n MODE     exclusive (default) or inclusive C14N 1.0\n";

struct xml_opts {
	const char *in, *out, *cert;
	int timestamp, inclusive;
	enum kyso_hash_alg alg;
};

static int parse_options(struct kyso_ctx *ctx, struct xml_opts *o, int argc, char **argv)
{
	static const struct option options[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'l' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "c14n", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":c:o:l:a:k:jh", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cert = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "B-B") && strcmp(optarg, "B-T"))
				return out_usage_error("xml sign", "unknown level '%s' (B-B or B-T)",
						       optarg);
			o->timestamp = !strcmp(optarg, "B-T");
			break;
		case 'a':
			if (cmd_parse_hash_alg(optarg, &o->alg) < 0)
				return out_usage_error("xml sign", "unknown hash algorithm '%s'",
						       optarg);
			break;
		case 'k':
			if (strcmp(optarg, "exclusive") && strcmp(optarg, "inclusive"))
				return out_usage_error("xml sign", "--c14n is exclusive or inclusive");
			o->inclusive = !strcmp(optarg, "inclusive");
			break;
		default:
			ret = cmd_common_option(ctx, ch, "xml sign", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind + 1 != argc)
		return out_usage_error("xml sign", "one input XML file is required");
	o->in = argv[optind];
	if (!o->cert)
		return out_usage_error("xml sign", "--cert is required");
	if (!o->out || !*o->out)
		return out_usage_error("xml sign", "--out is required");
	return -1;
}

/* The certificate cert from kysod into *x (X509_free). 0 or the exit code. */
static int signer_cert(struct kyso_ctx *ctx, const char *cert, X509 **x)
{
	struct kyso_error err;
	char *text = NULL;
	const char *pem;
	json_t *j;
	BIO *b;

	if (kyso_certificate(ctx->client, cert, &text, &err) < 0)
		return out_error(ctx->json, &err);
	j = json_loads(text, 0, NULL);
	kyso_free(text);
	pem = json_string_value(json_object_get(j, "pem"));
	b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	*x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	json_decref(j);
	ERR_clear_error();
	if (!*x)
		return out_fail(ctx->json, "protocol_error", "kysod's certificate is not PEM");
	return 0;
}

/*
 * The certificates above the signer's, up to the trust anchor (not it), as
 * kysod's POST /v1/validation builds them to its ca_bundle. Without one
 * (or with no chain to it) KeyInfo holds the signer's certificate alone,
 * said on stderr. Returns a stack (sk_X509_pop_free), or NULL.
 */
static STACK_OF(X509) *chain_of(struct kyso_ctx *ctx, X509 *signer)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	unsigned char *der = NULL, *d;
	char *b64 = NULL, *req = NULL, *text = NULL;
	json_t *answer = NULL, *v;
	const unsigned char *p;
	size_t i, len;
	X509 *c;
	int n;

	n = i2d_X509(signer, &der);
	b64 = n > 0 ? kyso_b64_encode(der, (size_t)n) : NULL;
	v = b64 ? json_pack("{s:[s]}", "certificates", b64) : NULL;
	req = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!chain || !req)
		goto out;
	if (kyso_request(ctx->client, "POST", "/v1/validation", req, NULL, &text)) {
		fprintf(stderr, "kyso: no chain for KeyInfo (%s): the signer's certificate alone\n",
			kyso_client_last_error(ctx->client)->message);
		goto out;
	}
	answer = json_loads(text, 0, NULL);
	json_array_foreach(json_object_get(answer, "certificates"), i, v) {
		const char *s = json_string_value(v);

		d = s ? kyso_b64_decode_alloc(s, strlen(s), &len) : NULL;
		p = d;
		c = d ? d2i_X509(NULL, &p, (long)len) : NULL;
		free(d);
		if (!c)
			continue;
		/* not the signer's again, not a self-signed anchor */
		if (!X509_cmp(c, signer) ||
		    X509_check_issued(c, c) == X509_V_OK || !sk_X509_push(chain, c))
			X509_free(c);
	}
out:
	ERR_clear_error();
	json_decref(answer);
	kyso_free(text);
	OPENSSL_free(der);
	free(b64);
	free(req);
	return chain;
}

/* SignatureValue from kysod. 0 or the exit code. */
static int sign_value(struct kyso_ctx *ctx, const struct xml_opts *o, const char *cert,
		      struct xades *x)
{
	struct kyso_sign_params p = KYSO_SIGN_PARAMS_INIT;
	struct kyso_signature *sig = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct kyso_error err;
	char msg[256];
	int ret = 0;

	if (xades_signed_info_digest(x, md, &md_len))
		return out_fail(ctx->json, "xml_error", "SignedInfo cannot be canonicalised");
	p.certificate = cert;
	p.hash = md;
	p.hash_len = md_len;
	p.hash_alg = o->alg;
	p.format = KYSO_FORMAT_RAW;
	if (kyso_sign(ctx->client, &p, &sig, &err) < 0)
		return out_error(ctx->json, &err);
	if (xades_put_signature(x, sig->data, sig->len, msg, sizeof(msg)))
		ret = out_fail(ctx->json, "xml_error", "%s", msg);
	kyso_signature_free(sig);
	return ret;
}

/* The SignatureTimeStamp over SignatureValue. 0 or the exit code. */
static int timestamp(struct kyso_ctx *ctx, struct xades *x)
{
	unsigned char md[EVP_MAX_MD_SIZE], *token = NULL;
	unsigned int md_len = 0;
	size_t len = 0;
	int ret;

	if (xades_signature_value_digest(x, md, &md_len))
		return out_fail(ctx->json, "xml_error", "SignatureValue cannot be canonicalised");
	ret = cmd_timestamp(ctx, md, md_len, &token, &len);
	if (!ret && xades_put_timestamp(x, token, len))
		ret = out_fail(ctx->json, "out_of_memory", "out of memory");
	free(token);
	return ret;
}

static int xml_sign(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct xml_opts o = { .alg = KYSO_HASH_SHA256 };
	struct xades_opts xo = { 0 };
	struct xades x = { 0 };
	char cert[KYSO_CERT_ID_LEN + 1], msg[512];
	int ret;

	ret = parse_options(ctx, &o, argc, argv);
	if (ret >= 0)
		return ret;
	ret = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "xml sign", "--cert", o.cert, cert,
			     sizeof(cert));
	if (ret)
		return ret;
	ret = signer_cert(ctx, cert, &xo.signer);
	if (ret)
		return ret;
	xo.chain = chain_of(ctx, xo.signer);
	xo.md = cmd_evp_md(o.alg);
	xo.inclusive = o.inclusive;
	xo.when = time(NULL);
	if (xades_prepare(&x, o.in, &xo, msg, sizeof(msg))) {
		ret = out_fail(ctx->json, "xml_error", "%s", msg);
		goto out;
	}
	ret = sign_value(ctx, &o, cert, &x);
	if (!ret && o.timestamp)
		ret = timestamp(ctx, &x);
	if (!ret && xades_save(&x, o.out, msg, sizeof(msg)))
		ret = out_fail(ctx->json, "io_error", "%s", msg);
	if (ret)
		goto out;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s}", "file", o.out, "level",
				      o.timestamp ? "B-T" : "B-B");

		out_json(j);
		json_decref(j);
	} else {
		printf("%s: signed (XAdES %s)\n", o.out, o.timestamp ? "B-T" : "B-B");
	}
out:
	xades_free(&x);
	sk_X509_pop_free(xo.chain, X509_free);
	X509_free(xo.signer);
	return ret;
}

int cmd_xml(struct kyso_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return xml_sign(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return 0;
	}
	if (argc < 2)
		return out_usage_error("xml", "a subcommand is needed: sign");
	return out_usage_error("xml", "unknown subcommand '%s' (sign)", argv[1]);
}
