/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso certs: certificates on the present tokens.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define SHORT_ID 16

static const char help[] =
	"Usage: kyso certs [--token ID]\n"
	"\n"
	"Lists the certificates on the present tokens, or on one token.\n"
	"ID shows the first 16 of 64 hex digits; any unique prefix of at\n"
	"least 8 digits names the certificate for kyso sign. USABLE says\n"
	"whether kysod would sign with it, and if not why: expired, not yet\n"
	"valid, not for signing (key usage), untrusted (no chain to kysod's\n"
	"ca_bundle), no key (the token has no private key for it).\n"
	"\n"
	"  -t, --token ID  token id, or a unique prefix of at least 8 hex digits\n";

/*
 * Copies the first CN value of an RFC 2253 name into out, undoing
 * escapes ("\," and "\4A"); returns -1 if there is none.
 */
static int dn_cn(const char *dn, char *out, size_t size)
{
	const char *p = dn;
	size_t n = 0;
	int hi, lo;

	while (*p) {
		if ((p[0] == 'C' || p[0] == 'c') && (p[1] == 'N' || p[1] == 'n') && p[2] == '=')
			break;
		/* skip to the next attribute: past an unescaped ',' or '+' */
		for (; *p && *p != ',' && *p != '+'; p++) {
			if (*p == '\\' && p[1])
				p++;
		}
		if (*p)
			p++;
		while (*p == ' ')
			p++;
	}
	if (!*p)
		return -1;
	for (p += 3; *p && *p != ',' && *p != '+' && n + 1 < size; p++) {
		if (*p == '\\' && p[1]) {
			hi = kyso_hex_digit(p[1]);
			lo = hi >= 0 && p[2] ? kyso_hex_digit(p[2]) : -1;
			if (lo >= 0) {
				out[n++] = (char)(hi << 4 | lo);
				p += 2;
				continue;
			}
			p++;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	return 0;
}

/* "rsa-2048", "ec-P-256" */
static void key_cell(const json_t *cert, char *buf, size_t size)
{
	const char *type = cmd_str(cert, "key_type");
	const char *curve = cmd_str(cert, "curve");
	char bits[32];

	cmd_int(cert, "key_bits", bits, sizeof(bits));
	if (type && strcmp(type, "ec") == 0 && curve)
		snprintf(buf, size, "ec-%s", curve);
	else
		snprintf(buf, size, "%s-%s", type ? type : "?", bits);
}

/* "digitalSignature,nonRepudiation", or "-" */
static void usage_cell(const json_t *cert, char *buf, size_t size)
{
	const json_t *list = json_object_get(cert, "key_usage"), *u;
	size_t i, len = 0;

	snprintf(buf, size, "-");
	json_array_foreach(list, i, u) {
		if (!json_is_string(u))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
					json_string_value(u));
		if (len >= size)
			break;
	}
}

/* "yes", or "no: expired, untrusted" from "problems"; "-" when kysod does not say */
static void usable_cell(const json_t *cert, char *buf, size_t size)
{
	static const struct {
		const char *code;
		const char *text;
	} reasons[] = {
		{ "certificate_expired", "expired" },
		{ "certificate_not_yet_valid", "not yet valid" },
		{ "certificate_usage", "not for signing" },
		{ "certificate_untrusted", "untrusted" },
		{ "certificate_revoked", "revoked" },
		{ "key_not_found", "no key" },
	};
	const json_t *usable = json_object_get(cert, "usable"), *p;
	const char *code, *text;
	size_t i, k, len;

	if (!json_is_boolean(usable)) {
		snprintf(buf, size, "-");
		return;
	}
	if (json_is_true(usable)) {
		snprintf(buf, size, "yes");
		return;
	}
	len = (size_t)snprintf(buf, size, "no");
	json_array_foreach(json_object_get(cert, "problems"), i, p) {
		code = json_string_value(p);
		if (!code || len >= size)
			continue;
		text = code;
		for (k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++)
			if (!strcmp(code, reasons[k].code))
				text = reasons[k].text;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : ": ", text);
	}
}

#define EXPIRY_WARN_DAYS 30

void cmd_warn_expiring(const json_t *root)
{
	const json_t *cert;
	const char *until, *who;
	struct tm tm;
	time_t end, now = time(NULL);
	long days;
	size_t i;

	json_array_foreach(json_object_get(root, "certificates"), i, cert) {
		until = cmd_str(cert, "not_after");
		memset(&tm, 0, sizeof(tm));
		if (!until || !strptime(until, "%Y-%m-%dT%H:%M:%SZ", &tm))
			continue;
		end = timegm(&tm);
		if (end < now || end - now >= (time_t)EXPIRY_WARN_DAYS * 86400)
			continue;
		days = (long)((end - now) / 86400);
		who = cmd_str(cert, "subject_cn") ? cmd_str(cert, "subject_cn") : "?";
		fprintf(stderr, "kyso: warning: the certificate of %s (%.16s) expires on %.10s, %s%ld "
			"day%s from now: ask for a new one\n", who, cmd_str(cert, "id") ?: "?", until,
			days ? "" : "less than ", days ? days : 1L, days == 1 || !days ? "" : "s");
	}
}

static void print_certs(const json_t *root)
{
	static const char *const headers[] = {
		"ID", "HOLDER", "ISSUER CN", "VALID UNTIL", "KEY", "USAGE", "USABLE",
	};
	const json_t *list = json_object_get(root, "certificates"), *cert;
	char id[SHORT_ID + 1], issuer[256], until[11], key[64], usage[256], usable[160];
	const char *cells[7], *s;
	struct table *t;
	size_t i;

	if (!json_array_size(list)) {
		printf("No certificates.\n");
		return;
	}
	t = table_new(7, headers);
	if (!t)
		return;
	json_array_foreach(list, i, cert) {
		s = cmd_str(cert, "id");
		snprintf(id, sizeof(id), "%s", s ? s : "-");
		s = cmd_str(cert, "issuer");
		if (!s || dn_cn(s, issuer, sizeof(issuer)) < 0)
			snprintf(issuer, sizeof(issuer), "%s", s ? s : "-");
		s = cmd_str(cert, "not_after");
		snprintf(until, sizeof(until), "%s", s ? s : "-");
		key_cell(cert, key, sizeof(key));
		usage_cell(cert, usage, sizeof(usage));
		cells[0] = id;
		cells[1] = cmd_str(cert, "subject_cn") ? cmd_str(cert, "subject_cn")
						       : cmd_str(cert, "subject");
		cells[2] = issuer;
		cells[3] = until;
		cells[4] = key;
		cells[5] = usage;
		usable_cell(cert, usable, sizeof(usable));
		cells[6] = usable;
		table_add(t, cells);
	}
	table_print(t);
	table_free(t);
	cmd_warn_expiring(root);
}

int cmd_certs(struct kyso_ctx *ctx, int argc, char **argv)
{
	char id[KYSO_TOKEN_ID_LEN + 1];
	const char *token;
	struct kyso_error err;
	char *text = NULL;
	int ret;

	ret = cmd_token_options(ctx, argc, argv, help, id, sizeof(id), &token);
	if (ret >= 0)
		return ret;
	ret = kyso_certificates(ctx->client, token, &text, &err);
	return cmd_print_answer(ctx, ret, text, &err, print_certs);
}
