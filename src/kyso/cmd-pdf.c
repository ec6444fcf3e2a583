/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso pdf sign: a PAdES signature appended to an existing PDF as an
 * incremental update (src/pdf), its CMS made by kysod with the pades
 * profile.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "kyso/kyso.h"
#include "pdf/pdf-appearance.h"
#include "pdf/pdf-dss.h"
#include "pdf/pdf-revisions.h"
#include "pdf/pdf-sign.h"
#include "cmd.h"
#include "output.h"
#include "pdf-ltv.h"

static const char help[] =
	"Usage: kyso pdf sign IN.pdf -o OUT.pdf --cert ID [--level B-B|B-T|B-LT|B-LTA]\n"
	"                     [--hash-alg ALG] [--padding pkcs1|pss] [--reason TEXT]\n"
	"                     [--location TEXT] [--field NAME] [--visible PAGE,X,Y,W,H]\n"
	"                     [--certify]\n"
	"\n"
	"Signs an existing PDF: OUT.pdf is IN.pdf with an incremental update\n"
	"appended (earlier signatures stay valid) holding a PAdES signature\n"
	"(/SubFilter ETSI.CAdES.detached) over all of the file but the signature.\n"
	"\n"
	"  -c, --cert ID       certificate id, or a unique prefix of at least 8 hex digits\n"
	"  -o, --out FILE      the signed PDF (not IN.pdf itself)\n"
	"  -l, --level LEVEL   B-B (default): the signature; B-T: with a signature\n"
	"                      timestamp from kysod's time-stamp authority; B-LT: B-T\n"
	"                      and the chains, CRLs and OCSP answers in the /DSS;\n"
	"                      B-LTA: B-LT and a document timestamp over it all\n"
	"  -a, --hash-alg ALG  sha256 (default), sha384 or sha512\n"
	"  -p, --padding PAD   RSA only: pkcs1 (default) or pss\n"
	"  -r, --reason TEXT   why the document is signed (UTF-8)\n"
	"  -L, --location TEXT where it is signed (UTF-8)\n"
	"  -f, --field NAME    the new signature field's name (default SignatureN)\n"
	"  -v, --visible PAGE,X,Y,W,H  show the signature on page PAGE (1 = first) in\n"
	"                      the box at X,Y (from the bottom left) of W x H points\n"
	"  -C, --certify       a certification signature: later changes other than\n"
	"                      form filling and signing invalidate it (DocMDP P 2)\n";

enum pdf_level {
	LEVEL_BB,
	LEVEL_BT,
	LEVEL_BLT,
	LEVEL_BLTA,
};

static const char *const level_names[] = { "B-B", "B-T", "B-LT", "B-LTA" };

struct pdf_opts {
	const char *in, *out, *cert;
	enum pdf_level level;
	enum kyso_hash_alg alg;
	enum kyso_padding padding;
	struct pdf_sign_opts sign;
};

static int parse_visible(const char *arg, struct pdf_sign_opts *s)
{
	int page, n = 0;

	if (sscanf(arg, "%d,%lf,%lf,%lf,%lf%n", &page, &s->rect[0], &s->rect[1], &s->rect[2],
		   &s->rect[3], &n) != 5 || arg[n] || page < 1 || s->rect[2] <= 0 ||
	    s->rect[3] <= 0)
		return -1;
	s->page = page - 1;
	s->visible = 1;
	return 0;
}

static int parse_options(struct kyso_ctx *ctx, struct pdf_opts *o, int argc, char **argv)
{
	static const struct option options[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'l' },
		{ "hash-alg", required_argument, NULL, 'a' },
		{ "padding", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ "location", required_argument, NULL, 'L' },
		{ "field", required_argument, NULL, 'f' },
		{ "visible", required_argument, NULL, 'v' },
		{ "certify", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":c:o:l:a:p:r:L:f:v:Cjh", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cert = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'l':
			for (ret = LEVEL_BLTA; ret >= 0 && strcmp(optarg, level_names[ret]); ret--)
				;
			if (ret < 0)
				return out_usage_error("pdf sign", "unknown level '%s' (B-B, B-T, "
						       "B-LT or B-LTA)", optarg);
			o->level = (enum pdf_level)ret;
			break;
		case 'a':
			if (cmd_parse_hash_alg(optarg, &o->alg) < 0)
				return out_usage_error("pdf sign", "unknown hash algorithm '%s'",
						       optarg);
			break;
		case 'p':
			if (!strcmp(optarg, "pkcs1"))
				o->padding = KYSO_PADDING_PKCS1;
			else if (!strcmp(optarg, "pss"))
				o->padding = KYSO_PADDING_PSS;
			else
				return out_usage_error("pdf sign", "unknown padding '%s'", optarg);
			break;
		case 'r':
			o->sign.reason = optarg;
			break;
		case 'L':
			o->sign.location = optarg;
			break;
		case 'f':
			o->sign.field = optarg;
			break;
		case 'v':
			if (parse_visible(optarg, &o->sign))
				return out_usage_error("pdf sign",
						       "--visible is PAGE,X,Y,W,H (page from 1, W and H > 0)");
			break;
		case 'C':
			o->sign.certify = 1;
			break;
		default:
			ret = cmd_common_option(ctx, ch, "pdf sign", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind + 1 != argc)
		return out_usage_error("pdf sign", "one input PDF is required");
	o->in = argv[optind];
	if (!o->cert)
		return out_usage_error("pdf sign", "--cert is required");
	if (!o->out || !*o->out)
		return out_usage_error("pdf sign", "--out is required");
	return -1;
}

/* Copies in to out (created, or truncated), 64 KiB at a time. */
static int copy_file(const char *in, const char *out, char *err, size_t errlen)
{
	struct stat a, b;
	char buf[65536];
	FILE *fi = fopen(in, "rb"), *fo = NULL;
	size_t n;
	int ret = -1;

	if (!fi) {
		snprintf(err, errlen, "%s: %s", in, strerror(errno));
		return -1;
	}
	if (stat(out, &b) == 0 && fstat(fileno(fi), &a) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino) {
		snprintf(err, errlen, "the output is the input: write the signed PDF elsewhere");
		goto out;
	}
	fo = fopen(out, "wb");
	if (!fo) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), fi)) > 0)
		if (fwrite(buf, 1, n, fo) != n)
			break;
	if (ferror(fi) || ferror(fo)) {
		snprintf(err, errlen, "%s cannot be copied to %s", in, out);
		goto out;
	}
	ret = 0;
out:
	if (fo && fclose(fo) && !ret) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		ret = -1;
	}
	fclose(fi);
	return ret;
}

/* The signature over the prepared file, from kysod, put into it; *sig
 * (kyso_signature_free) is the CMS. */
static int sign_prepared(struct kyso_ctx *ctx, const struct pdf_opts *o, const char *cert,
			 struct pdf_sig *s, struct kyso_signature **sig)
{
	struct kyso_sign_params p = KYSO_SIGN_PARAMS_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct kyso_error err;
	char msg[256];
	int ret;

	if (pdf_sig_digest(s, cmd_evp_md(o->alg), md, &md_len))
		return out_fail(ctx->json, "io_error", "%s cannot be read back", o->out);
	p.certificate = cert;
	p.hash = md;
	p.hash_len = md_len;
	p.hash_alg = o->alg;
	p.padding = o->padding;
	p.format = KYSO_FORMAT_CMS;
	p.profile = KYSO_PROFILE_PADES;
	p.timestamp = o->level >= LEVEL_BT;
	if (kyso_sign(ctx->client, &p, sig, &err) < 0)
		return out_error(ctx->json, &err);
	ret = pdf_sig_put(s, (*sig)->data, (*sig)->len, msg, sizeof(msg));
	if (ret)
		return out_fail(ctx->json, "pdf_error", "%s", msg);
	return 0;
}

/* A visible signature shows who signed, when, why and where: the lines
 * into o->sign.ap, their text in buf. Returns 0 or the exit code. */
static int appearance_lines(struct kyso_ctx *ctx, struct pdf_opts *o, const char *cert,
			    struct pdf_appearance *ap, char buf[][320])
{
	struct kyso_error err;
	char *text = NULL, when[64];
	const char *cn;
	json_t *j;
	struct tm tm;
	int n = 0;

	if (kyso_certificate(ctx->client, cert, &text, &err) < 0)
		return out_error(ctx->json, &err);
	j = json_loads(text, 0, NULL);
	kyso_free(text);
	cn = json_string_value(json_object_get(j, "subject_cn"));
	if (!cn)
		cn = json_string_value(json_object_get(j, "subject"));
	localtime_r(&o->sign.when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	ap->font = KYSO_PDF_FONT;
	snprintf(buf[n], sizeof(buf[n]), "Ký bởi: %s", cn ? cn : "?");
	ap->lines[n] = buf[n];
	n++;
	snprintf(buf[n], sizeof(buf[n]), "Ngày ký: %s", when);
	ap->lines[n] = buf[n];
	n++;
	if (o->sign.reason) {
		snprintf(buf[n], sizeof(buf[n]), "Lý do: %s", o->sign.reason);
		ap->lines[n] = buf[n];
		n++;
	}
	if (o->sign.location) {
		snprintf(buf[n], sizeof(buf[n]), "Nơi ký: %s", o->sign.location);
		ap->lines[n] = buf[n];
	}
	json_decref(j);
	o->sign.ap = ap;
	return 0;
}

static int pdf_sign(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct pdf_appearance ap = { 0 };
	char lines[PDF_APPEARANCE_LINES][320];
	struct pdf_opts o = { .alg = KYSO_HASH_SHA256 };
	char cert[KYSO_CERT_ID_LEN + 1], msg[512];
	struct kyso_signature *sig = NULL;
	struct pdf_sig s = { 0 };
	int ret;

	ret = parse_options(ctx, &o, argc, argv);
	if (ret >= 0)
		return ret;
	ret = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "pdf sign", "--cert", o.cert, cert,
			     sizeof(cert));
	if (ret)
		return ret;
	if (copy_file(o.in, o.out, msg, sizeof(msg)))
		return out_fail(ctx->json, "io_error", "%s", msg);
	o.sign.when = time(NULL);
	if (o.sign.visible) {
		ret = appearance_lines(ctx, &o, cert, &ap, lines);
		if (ret)
			goto out;
	}
	/* the chain and, for B-T, the timestamp token with its own chain */
	o.sign.contents_size = o.level >= LEVEL_BT ? 32768 : 16384;
	if (pdf_sig_prepare(o.out, &o.sign, &s, msg, sizeof(msg))) {
		ret = out_fail(ctx->json, "pdf_error", "%s", msg);
		goto out;
	}
	ret = sign_prepared(ctx, &o, cert, &s, &sig);
	if (pdf_sig_close(&s) && !ret)
		ret = out_fail(ctx->json, "io_error", "%s cannot be written", o.out);
	if (!ret && o.level >= LEVEL_BLT)
		ret = pdf_ltv_add_dss(ctx, o.out, sig->data, sig->len);
	if (!ret && o.level >= LEVEL_BLTA)
		ret = pdf_ltv_doc_timestamp(ctx, o.out);
	if (ret)
		goto out;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "file", o.out, "field", s.field, "level",
				      level_names[o.level]);

		out_json(j);
		json_decref(j);
	} else {
		printf("%s: signed (%s, field %s)\n", o.out, level_names[o.level], s.field);
	}
out:
	kyso_signature_free(sig);
	if (ret)
		unlink(o.out);
	return ret;
}

static const char extend_help[] =
	"Usage: kyso pdf extend FILE [-o OUT.pdf] [--level B-LT|B-LTA]\n"
	"\n"
	"Renews the long-term evidence of a signed PDF: an update with a /DSS\n"
	"holding the chains of every signature and document timestamp in it and\n"
	"CRLs and OCSP answers fetched now, then (B-LTA, the default) a new\n"
	"document timestamp over it all. FILE is changed in place unless --out\n"
	"names another file; earlier signatures stay valid.\n"
	"\n"
	"  -o, --out FILE      write the extended PDF there instead\n"
	"  -l, --level LEVEL   B-LT: the evidence only; B-LTA (default): and a\n"
	"                      document timestamp\n";

/* The CMS signatures and timestamp tokens of the PDF at path into *cms
 * (n of them; free each der, then the array). 0 or the exit code. */
static int pdf_signatures(struct kyso_ctx *ctx, const char *path, struct pdf_der **cms,
			  size_t *n)
{
	struct pdf_revisions r;
	char msg[512];
	size_t i;

	*cms = NULL;
	*n = 0;
	if (pdf_revisions_read(path, &r, msg, sizeof(msg)))
		return out_fail(ctx->json, "pdf_error", "%s", msg);
	*cms = calloc(r.n + 1, sizeof(**cms));
	for (i = 0; *cms && i < r.n; i++) {
		if (!r.sigs[i].contents)
			continue;
		(*cms)[*n].der = r.sigs[i].contents;
		(*cms)[(*n)++].len = r.sigs[i].contents_len;
		r.sigs[i].contents = NULL;	/* now *cms's */
	}
	pdf_revisions_free(&r);
	if (!*cms)
		return out_fail(ctx->json, "out_of_memory", "out of memory");
	if (!*n)
		return out_fail(ctx->json, "no_signature", "%s has no signature to extend", path);
	return 0;
}

static int pdf_extend(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in, *out = NULL;
	struct pdf_der *cms = NULL;
	char *tmp = NULL, msg[512];
	int ch, ret, lta = 1, fd;
	struct stat st;
	size_t i, n = 0;

	while ((ch = getopt_long(argc, argv, ":o:l:jh", options, NULL)) != -1) {
		if (ch == 'o') {
			out = optarg;
		} else if (ch == 'l') {
			if (strcmp(optarg, "B-LT") && strcmp(optarg, "B-LTA"))
				return out_usage_error("pdf extend", "unknown level '%s' (B-LT or "
						       "B-LTA)", optarg);
			lta = !strcmp(optarg, "B-LTA");
		} else {
			ret = cmd_common_option(ctx, ch, "pdf extend", extend_help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind + 1 != argc)
		return out_usage_error("pdf extend", "one PDF is required");
	in = argv[optind];
	if (out && !*out)
		return out_usage_error("pdf extend", "--out needs a file name");
	ret = pdf_signatures(ctx, in, &cms, &n);
	if (ret)
		goto out;
	/* in place: the update is made on a copy that replaces the file at the end */
	if (!out) {
		if (asprintf(&tmp, "%s.kyso-XXXXXX", in) < 0) {
			tmp = NULL;
			ret = out_fail(ctx->json, "out_of_memory", "out of memory");
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0) {
			ret = out_fail(ctx->json, "io_error", "%s: %s", tmp, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
		close(fd);
		/* the file keeps its permissions */
		if (stat(in, &st) == 0)
			chmod(tmp, st.st_mode & 07777);
	}
	if (copy_file(in, tmp ? tmp : out, msg, sizeof(msg))) {
		ret = out_fail(ctx->json, "io_error", "%s", msg);
		goto out;
	}
	ret = pdf_ltv_add_dss_all(ctx, tmp ? tmp : out, cms, n);
	if (!ret && lta)
		ret = pdf_ltv_doc_timestamp(ctx, tmp ? tmp : out);
	if (!ret && tmp && rename(tmp, in))
		ret = out_fail(ctx->json, "io_error", "%s: %s", in, strerror(errno));
	if (ret) {
		unlink(tmp ? tmp : out);
		goto out;
	}
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:i}", "file", out ? out : in, "level",
				      lta ? "B-LTA" : "B-LT", "signatures", (int)n);

		out_json(j);
		json_decref(j);
	} else {
		printf("%s: extended (%s, evidence for %zu signature%s)\n", out ? out : in,
		       lta ? "B-LTA" : "B-LT", n, n == 1 ? "" : "s");
	}
out:
	for (i = 0; i < n; i++)
		free(cms[i].der);
	free(cms);
	free(tmp);
	return ret;
}

int cmd_pdf(struct kyso_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "extend"))
		return pdf_extend(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return pdf_sign(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cmd_pdf_verify(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return 0;
	}
	if (argc < 2)
		return out_usage_error("pdf", "a subcommand is needed: sign, verify or extend");
	return out_usage_error("pdf", "unknown subcommand '%s' (sign, verify, extend)", argv[1]);
}
