/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue (drivers/tokens/catalogue-*.c): the input is one or two
 * catalogue files (split at the first NUL byte, which no file may hold) in a
 * directory of their own, loaded as kysod loads drivers/tokens; a loaded
 * catalogue is then walked and matched as autoload and udev/gen-rules do.
 * The first line is also parsed as ATR text, with and without wildcards. */
#include <limits.h>

#include "fuzz-common.h"
#include "tokens/catalogue.h"

static char dir[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *p;

	fuzz_quiet();
	p = fuzz_write_temp("a.conf", "");
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(p, '/') - p), p);
	return 0;
}

static void put_file(const char *name, const uint8_t *data, size_t size)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!data) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	if (!f || (size && fwrite(data, size, 1, f) != 1) || fclose(f))
		abort();
}

static int usable(const char *path, void *ctx)
{
	return strstr(path, "softhsm") != NULL;
}

static void walk(const struct kyso_catalogue *cat)
{
	static const unsigned char atr[] = {
		0x3b, 0xf8, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x59, 0x75, 0x62, 0x69, 0x6b,
		0x65, 0x79, 0x34, 0xd4,
	};
	const struct kyso_token_kind *k;
	char module[PATH_MAX];
	uint16_t vid, pid;
	struct kyso_prov_limits lim;
	unsigned int op;
	size_t i, j;
	long v;
	int glob;

	for (i = 0; (k = kyso_catalogue_kind(cat, i)); i++) {
		if (kyso_catalogue_find(cat, kyso_token_kind_id(k)) != k)
			abort();
		if (!kyso_token_kind_name(k) || !kyso_token_kind_vendor(k) ||
		    !kyso_token_match_name(kyso_token_kind_match(k)))
			abort();
		for (j = 0; kyso_token_kind_usb(k, j, &vid, &pid) == 0; j++)
			if (!kyso_catalogue_match_usb(cat, vid, pid))
				abort();
		if (j != kyso_token_kind_usb_count(k))
			abort();
		glob = 0;
		for (j = 0; j < kyso_token_kind_module_count(k); j++) {
			const char *m = kyso_token_kind_module(k, j);

			if (!m)
				abort();
			glob |= strpbrk(m, "*?[") != NULL;
			if (kyso_token_kind_match(k) == KYSO_TOKEN_MATCH_SOFTWARE)
				kyso_catalogue_match_software(cat, m);
		}
		/* globs are expanded on the file system: not a parser's business */
		if (!glob)
			kyso_catalogue_pick_module(k, usable, NULL, module, sizeof(module));
		kyso_token_kind_quirk(k, "touch", &v);
		kyso_token_kind_quirk(k, "always_authenticate", NULL);
		kyso_token_kind_quirk(k, "parallel_sessions", &v);
		for (op = 0; op <= KYSO_PROV_OP_COUNT; op++)
			kyso_token_kind_prov_safe(k, (enum kyso_prov_op)op);
		if (kyso_token_kind_prov_limits(k, &lim) == 0 &&
		    (!lim.unblock_with || !lim.mgmt_key ||
		     (lim.pin_max && lim.pin_min > lim.pin_max) ||
		     (lim.puk_max && lim.puk_min > lim.puk_max)))
			abort();
	}
	if (i != kyso_catalogue_count(cat))
		abort();
	kyso_catalogue_match_usb(cat, 0x1050, 0x0407);
	kyso_catalogue_match_atr(cat, atr, sizeof(atr));
	kyso_catalogue_match_atr(cat, atr, 1);
	kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_PIV);
	kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_OPENPGP);
	kyso_catalogue_match_software(cat, "/usr/lib/softhsm/libsofthsm2.so");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char atr[KYSO_ATR_MAX], mask[KYSO_ATR_MAX];
	const uint8_t *nul = memchr(data, '\0', size), *p = data;
	struct kyso_catalogue *cat;
	char err[512], line[256];
	size_t n = size;
	int len;

	if (size > (64u << 10))
		return 0;
	if (fuzz_line(&p, &n, line, sizeof(line)) == 0) {
		len = kyso_atr_parse(line, atr, mask, err, sizeof(err));
		if (len > (int)sizeof(atr))
			abort();
		len = kyso_atr_parse(line, atr, NULL, err, sizeof(err));
		if (len > (int)sizeof(atr))
			abort();
	}
	put_file("a.conf", data, nul ? (size_t)(nul - data) : size);
	put_file("b.conf", nul ? nul + 1 : NULL, nul ? size - (size_t)(nul - data) - 1 : 0);
	err[0] = '\0';
	cat = kyso_catalogue_load(dir, err, sizeof(err));
	fuzz_show("catalogue", cat ? "loaded" : err, NULL);
	if (cat)
		walk(cat);
	else if (!err[0])
		abort();
	kyso_catalogue_free(cat);
	return 0;
}
