/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue (drivers/tokens/catalogue-*.c): loading good files, every
 * malformed case with its message, USB and ATR matching with masks, applets,
 * software tokens, quirks, module choice with fallbacks, and the catalogue that
 * ships in drivers/tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tokens/catalogue.h"

/* ---------------------------------------------------------------- helpers */

struct fixture {
	char dir[64];
};

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put(struct fixture *fx, const char *name, const char *text)
{
	write_file(fx->dir, name, text, strlen(text));
}

/* Removes every file of the fixture's directory, keeping the directory. */
static void clear_dir(struct fixture *fx)
{
	DIR *d = opendir(fx->dir);
	struct dirent *de;
	char path[512];

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
		if (unlink(path))
			rmdir(path);
	}
	closedir(d);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/kyso-catalogue.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	clear_dir(fx);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct kyso_catalogue *load_ok(struct fixture *fx)
{
	char err[512] = "";
	struct kyso_catalogue *cat = kyso_catalogue_load(fx->dir, err, sizeof(err));

	if (!cat)
		print_error("load failed: %s\n", err);
	assert_non_null(cat);
	return cat;
}

static size_t parse_hex(const char *text, unsigned char *out)
{
	unsigned char mask[KYSO_ATR_MAX];
	char err[128];
	int n = kyso_atr_parse(text, out, mask, err, sizeof(err));

	if (n < 0)
		print_error("'%s': %s\n", text, err);
	assert_true(n > 0);
	return (size_t)n;
}

static const char *match_atr_id(const struct kyso_catalogue *cat, const char *text)
{
	unsigned char atr[KYSO_ATR_MAX];
	size_t len = parse_hex(text, atr);
	const struct kyso_token_kind *kind = kyso_catalogue_match_atr(cat, atr, len);

	return kind ? kyso_token_kind_id(kind) : NULL;
}

static const char *match_usb_id(const struct kyso_catalogue *cat, uint16_t vid, uint16_t pid)
{
	const struct kyso_token_kind *kind = kyso_catalogue_match_usb(cat, vid, pid);

	return kind ? kyso_token_kind_id(kind) : NULL;
}

/* ---------------------------------------------------------------- ATR text */

static void test_atr_parse_forms(void **state)
{
	static const char *const forms[] = {
		"3b:9f:95:81", "3B:9F:95:81", "3b 9f 95 81", "3B  9F\t95 81", "3b9f9581",
		"  3b:9f:95:81  ", "3b:9f 95:81",
	};
	static const unsigned char want[] = { 0x3b, 0x9f, 0x95, 0x81 };
	unsigned char atr[KYSO_ATR_MAX], mask[KYSO_ATR_MAX];
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(mask, 0x55, sizeof(mask));
		assert_int_equal(kyso_atr_parse(forms[i], atr, mask, err, sizeof(err)), 4);
		assert_memory_equal(atr, want, 4);
		assert_memory_equal(mask, "\xff\xff\xff\xff", 4);
		/* without a mask the same text parses too */
		assert_int_equal(kyso_atr_parse(forms[i], atr, NULL, err, sizeof(err)), 4);
		assert_memory_equal(atr, want, 4);
	}
}

static void test_atr_parse_wildcards(void **state)
{
	unsigned char atr[KYSO_ATR_MAX], mask[KYSO_ATR_MAX];
	char err[128];

	assert_int_equal(kyso_atr_parse("3b:..:95:..", atr, mask, err, sizeof(err)), 4);
	assert_memory_equal(atr, "\x3b\x00\x95\x00", 4);
	assert_memory_equal(mask, "\xff\x00\xff\x00", 4);
	assert_int_equal(kyso_atr_parse("3b..95", atr, mask, err, sizeof(err)), 3);
	assert_memory_equal(mask, "\xff\x00\xff", 3);
	/* wildcards need somewhere to go */
	assert_int_equal(kyso_atr_parse("3b:..:95", atr, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "byte 2: no wildcard allowed here");
	/* TS itself cannot be a wildcard */
	assert_int_equal(kyso_atr_parse("..:9f", atr, mask, err, sizeof(err)), -1);
	assert_string_equal(err, "an ATR starts with 3b or 3f");
}

static void test_atr_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "", "no bytes" },
		{ "   ", "no bytes" },
		{ "3b", "an ATR has at least 2 bytes" },
		{ "3a:9f", "an ATR starts with 3b or 3f" },
		{ "3b:9f:9", "byte 3 is not two hex digits" },
		{ "3b:9f9:95", "byte 2 is not two hex digits" },
		{ "3b:zz", "byte 2 is not two hex digits" },
		{ "3b:9f:", "empty byte after byte 2" },
		{ "3b::9f", "empty byte after byte 1" },
		{ "3b: :9f", "empty byte after byte 1" },
		{ "3b9f9", "odd number of hex digits" },
		{ "3b.9f", "odd number of hex digits" },
		{ "3b:9f:.", "byte 3 is not two hex digits" },
		{ "3b:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
		  "00:00:00:00:00:00:00:00", "more than 33 bytes" },
	};
	unsigned char atr[KYSO_ATR_MAX], mask[KYSO_ATR_MAX];
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (kyso_atr_parse(cases[i].text, atr, mask, err, sizeof(err)) != -1 ||
		    strcmp(err, cases[i].err)) {
			print_error("'%s': got '%s', want '%s'\n", cases[i].text, err,
				    cases[i].err);
			fail();
		}
	}
	/* exactly 33 bytes is fine */
	assert_int_equal(kyso_atr_parse("3b:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
					"00:00:00:00:00:00:00:00:00:00:00:00:00:00", atr, mask, err,
					sizeof(err)), 33);
}

/* ---------------------------------------------------------------- good files */

static void test_load_minimal(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;
	uint16_t vid = 0, pid = 0;
	long v = 0;

	put(fx, "tok.conf", "[token]\nname = Tok\nusb = 096E:0807\nmodule = opensc\n");
	cat = load_ok(fx);
	assert_int_equal(kyso_catalogue_count(cat), 1);
	kind = kyso_catalogue_kind(cat, 0);
	assert_non_null(kind);
	assert_null(kyso_catalogue_kind(cat, 1));
	assert_ptr_equal(kyso_catalogue_find(cat, "tok"), kind);
	assert_null(kyso_catalogue_find(cat, "tok.conf"));
	assert_string_equal(kyso_token_kind_id(kind), "tok");
	assert_string_equal(kyso_token_kind_name(kind), "Tok");
	assert_string_equal(kyso_token_kind_vendor(kind), "");
	assert_int_equal(kyso_token_kind_match(kind), KYSO_TOKEN_MATCH_DEVICE);
	assert_int_equal(kyso_token_kind_usb_count(kind), 1);
	assert_int_equal(kyso_token_kind_usb(kind, 0, &vid, &pid), 0);
	assert_int_equal(vid, 0x096e);
	assert_int_equal(pid, 0x0807);
	assert_int_equal(kyso_token_kind_usb(kind, 1, &vid, &pid), -1);
	assert_int_equal(kyso_token_kind_module_count(kind), 1);
	assert_string_equal(kyso_token_kind_module(kind, 0), "opensc");
	assert_null(kyso_token_kind_module(kind, 1));
	assert_int_equal(kyso_token_kind_quirk(kind, "touch", &v), 0);
	assert_int_equal(kyso_token_kind_quirk(kind, "touch", NULL), 0);
	kyso_catalogue_free(cat);
}

static void test_load_full(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;
	uint16_t vid, pid;
	long v = 0;

	put(fx, "full.conf",
	    "\xef\xbb\xbf# a comment\n"
	    "; another comment\n"
	    "[token]\n"
	    "name = Full Token  ; inline comment\n"
	    "vendor: Someone\n"
	    "match = device\n"
	    "usb = 1234:5678 abcd:EF01\n"
	    "   1111:2222\t3333:4444\n"
	    "usb = 5555:6666\n"
	    "atr = 3b:02:14:50\n"
	    "atr_mask = ff:ff:ff:f0\n"
	    "module = /opt/vendor/lib/libvendor.so\n"
	    "  /usr/lib/*/libvendor.so ; a glob\n"
	    "module = opensc\n"
	    "quirks = touch parallel_sessions=12\n"
	    "quirks = always_authenticate login_once no_raw_rsa\n"
	    "\n"
	    "[atr card-a]\n"
	    "atr_mask = ff:ff:00\n"
	    "atr = 3f:aa:bb\n"
	    "[atr card_b.2+x]\n"
	    "atr = 3b 03 ..  ; wildcard\n");
	cat = load_ok(fx);
	kind = kyso_catalogue_find(cat, "full");
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_name(kind), "Full Token");
	assert_string_equal(kyso_token_kind_vendor(kind), "Someone");
	assert_int_equal(kyso_token_kind_usb_count(kind), 5);
	assert_int_equal(kyso_token_kind_usb(kind, 1, &vid, &pid), 0);
	assert_int_equal(vid, 0xabcd);
	assert_int_equal(pid, 0xef01);
	assert_int_equal(kyso_token_kind_usb(kind, 4, &vid, &pid), 0);
	assert_int_equal(vid, 0x5555);
	assert_int_equal(kyso_token_kind_module_count(kind), 3);
	assert_string_equal(kyso_token_kind_module(kind, 0), "/opt/vendor/lib/libvendor.so");
	assert_string_equal(kyso_token_kind_module(kind, 1), "/usr/lib/*/libvendor.so");
	assert_string_equal(kyso_token_kind_module(kind, 2), "opensc");
	assert_int_equal(kyso_token_kind_quirk(kind, "touch", &v), 1);
	assert_int_equal(v, 1);
	assert_int_equal(kyso_token_kind_quirk(kind, "parallel_sessions", &v), 1);
	assert_int_equal(v, 12);
	assert_int_equal(kyso_token_kind_quirk(kind, "parallel_sessions", NULL), 1);
	assert_int_equal(kyso_token_kind_quirk(kind, "login_once", NULL), 1);
	assert_int_equal(kyso_token_kind_quirk(kind, "no_raw_rsa", NULL), 1);
	assert_int_equal(kyso_token_kind_quirk(kind, "always_authenticate", NULL), 1);
	assert_int_equal(kyso_token_kind_quirk(kind, "parallel", NULL), 0);

	/* the three patterns */
	assert_string_equal(match_atr_id(cat, "3b:02:14:5f"), "full");
	assert_null(match_atr_id(cat, "3b:02:14:40"));
	assert_string_equal(match_atr_id(cat, "3f:aa:00"), "full");
	assert_string_equal(match_atr_id(cat, "3f:aa:77"), "full");
	assert_null(match_atr_id(cat, "3f:ab:00"));
	assert_string_equal(match_atr_id(cat, "3b:03:99"), "full");
	kyso_catalogue_free(cat);
}

static void test_load_order_and_skipped_files(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	char path[512];

	put(fx, "b-second.conf", "[token]\nname = B\nusb = 0002:0002\nmodule = opensc\n");
	put(fx, "a.first.conf", "[token]\nname = A\nusb = 0001:0001\nmodule = opensc\n");
	put(fx, "c_third.conf", "[token]\nname = C\nusb = 0003:0003\nmodule = opensc\n");
	/* not catalogue files */
	put(fx, "README", "not a token\n");
	put(fx, ".hidden.conf", "garbage\n");
	put(fx, "b-second.conf~", "garbage\n");
	put(fx, "x.conf.orig", "garbage\n");
	put(fx, ".conf", "garbage\n");
	snprintf(path, sizeof(path), "%s/subdir", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	cat = load_ok(fx);
	assert_int_equal(kyso_catalogue_count(cat), 3);
	assert_string_equal(kyso_token_kind_id(kyso_catalogue_kind(cat, 0)), "a.first");
	assert_string_equal(kyso_token_kind_id(kyso_catalogue_kind(cat, 1)), "b-second");
	assert_string_equal(kyso_token_kind_id(kyso_catalogue_kind(cat, 2)), "c_third");
	kyso_catalogue_free(cat);
}

static void test_load_empty_and_missing(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	char err[256] = "", path[512];

	cat = load_ok(fx);
	assert_int_equal(kyso_catalogue_count(cat), 0);
	assert_null(kyso_catalogue_kind(cat, 0));
	assert_null(kyso_catalogue_match_usb(cat, 1, 1));
	kyso_catalogue_free(cat);
	kyso_catalogue_free(NULL);
	assert_int_equal(kyso_catalogue_count(NULL), 0);

	snprintf(path, sizeof(path), "%s/nowhere", fx->dir);
	assert_null(kyso_catalogue_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "nowhere: No such file or directory"));
}

static void test_software_and_applets(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;

	put(fx, "soft.conf", "[token]\nname = Soft\nmatch = software\n"
	    "module = /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so\n");
	put(fx, "piv.conf", "[token]\nname = PIV\nmatch = piv\nmodule = opensc\n");
	put(fx, "pgp.conf", "[token]\nname = PGP\nmatch = openpgp\nusb = 234b:0000\n"
	    "module = opensc\n");
	put(fx, "dev.conf", "[token]\nname = Dev\nusb = 0001:0002\n"
	    "module = /usr/lib/softhsm/libsofthsm2.so\n");
	cat = load_ok(fx);

	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_PIV);
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "piv");
	assert_int_equal(kyso_token_kind_match(kind), KYSO_TOKEN_MATCH_PIV);
	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_OPENPGP);
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "pgp");
	assert_null(kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_DEVICE));
	assert_null(kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_SOFTWARE));
	/* an applet kind can have device ids too */
	assert_string_equal(match_usb_id(cat, 0x234b, 0x0000), "pgp");

	/* software tokens, by module path: only match = software kinds */
	kind = kyso_catalogue_match_software(cat, "/usr/lib/softhsm/libsofthsm2.so");
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "soft");
	kind = kyso_catalogue_match_software(cat,
					     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so");
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "soft");
	assert_null(kyso_catalogue_match_software(cat, "/usr/lib/x/y/softhsm/libsofthsm2.so"));
	assert_null(kyso_catalogue_match_software(cat, "/usr/lib/libsofthsm2.so"));
	assert_null(kyso_catalogue_match_software(cat, NULL));

	assert_string_equal(kyso_token_match_name(KYSO_TOKEN_MATCH_DEVICE), "device");
	assert_string_equal(kyso_token_match_name(KYSO_TOKEN_MATCH_PIV), "piv");
	assert_string_equal(kyso_token_match_name(KYSO_TOKEN_MATCH_OPENPGP), "openpgp");
	assert_string_equal(kyso_token_match_name(KYSO_TOKEN_MATCH_SOFTWARE), "software");
	kyso_catalogue_free(cat);
}

/* ---------------------------------------------------------------- malformed files */

struct bad_case {
	const char *text;
	const char *err;	/* the whole message, "t.conf:LINE: ..." */
};

static const struct bad_case bad_cases[] = {
	{ "name = x\n", "t.conf:1: 'name' is outside any section" },
	{ "# hi\n[foo]\nname = x\n",
	  "t.conf:2: unknown section [foo] (want [token], [atr NAME] or [provisioning])" },
	{ "[ token ]\nname = x\n",
	  "t.conf:1: unknown section [ token ] (want [token], [atr NAME] or [provisioning])" },
	{ "[token]\nname = x\nfoo = 1\n", "t.conf:3: unknown key 'foo' in [token]" },
	{ "[token]\nname = x\nname = y\n", "t.conf:3: 'name' is set twice" },
	{ "[token]\nname = x\n  continued\n", "t.conf:3: 'name' is set twice" },
	{ "[token]\nvendor = a\nvendor = b\n", "t.conf:3: 'vendor' is set twice" },
	{ "[token]\nname = Bad \"quote\"\n",
	  "t.conf:2: 'name' has a control character or one of \" \\ $ %" },
	{ "[token]\nname = Bad $ENV{x}\n",
	  "t.conf:2: 'name' has a control character or one of \" \\ $ %" },
	{ "[token]\nname = 100%\n",
	  "t.conf:2: 'name' has a control character or one of \" \\ $ %" },
	{ "[token]\nname = tab\there\n",
	  "t.conf:2: 'name' has a control character or one of \" \\ $ %" },
	{ "[token]\nvendor = back\\slash\n",
	  "t.conf:2: 'vendor' has a control character or one of \" \\ $ %" },
	{ "[token]\nname = 0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890\n",
	  "t.conf:2: 'name' is too long" },
	{ "[token]\nname =\n", "t.conf:2: 'name' has no value" },
	{ "[token]\nusb =   ; nothing\n", "t.conf:2: 'usb' has no value" },
	{ "[token]\nmatch = usb\n",
	  "t.conf:2: unknown match 'usb' (want device, piv, openpgp or software)" },
	{ "[token]\nmatch = piv\nmatch = piv\n", "t.conf:3: 'match' is set twice" },
	{ "[token]\nusb = 96e:0807\n",
	  "t.conf:2: bad usb id '96e:0807' (want vid:pid, 4 hex digits each)" },
	{ "[token]\nusb = 096e-0807\n",
	  "t.conf:2: bad usb id '096e-0807' (want vid:pid, 4 hex digits each)" },
	{ "[token]\nusb = 096e:08g7\n",
	  "t.conf:2: bad usb id '096e:08g7' (want vid:pid, 4 hex digits each)" },
	{ "[token]\nusb = 096e:0807\n  096E:0807\n", "t.conf:3: usb id 096E:0807 is listed twice" },
	{ "[token]\nmodule = libfoo.so\n",
	  "t.conf:2: module 'libfoo.so' is neither an absolute path nor 'opensc'" },
	{ "[token]\nmodule = opensc /a.so\nmodule = /a.so\n",
	  "t.conf:3: module '/a.so' is listed twice" },
	{ "[token]\nquirks = fast\n", "t.conf:2: unknown quirk 'fast'" },
	{ "[token]\nquirks = fast=3\n", "t.conf:2: unknown quirk 'fast'" },
	{ "[token]\nquirks = touch=1\n", "t.conf:2: quirk 'touch' takes no value" },
	{ "[token]\nquirks = parallel_sessions\n",
	  "t.conf:2: quirk 'parallel_sessions' needs a value (parallel_sessions=N)" },
	{ "[token]\nquirks = parallel_sessions=\n",
	  "t.conf:2: quirk 'parallel_sessions' needs a value (parallel_sessions=N)" },
	{ "[token]\nquirks = parallel_sessions=0\n",
	  "t.conf:2: quirk 'parallel_sessions' wants a number from 1 to 16" },
	{ "[token]\nquirks = parallel_sessions=17\n",
	  "t.conf:2: quirk 'parallel_sessions' wants a number from 1 to 16" },
	{ "[token]\nquirks = parallel_sessions=-1\n",
	  "t.conf:2: quirk 'parallel_sessions' wants a number from 1 to 16" },
	{ "[token]\nquirks = parallel_sessions=4x\n",
	  "t.conf:2: quirk 'parallel_sessions' wants a number from 1 to 16" },
	{ "[token]\nquirks = parallel_sessions=+4\n",
	  "t.conf:2: quirk 'parallel_sessions' wants a number from 1 to 16" },
	{ "[token]\nquirks = touch\nquirks = touch\n", "t.conf:3: quirk 'touch' is set twice" },
	{ "[token]\natr = 3b:9f:9\n", "t.conf:2: bad atr: byte 3 is not two hex digits" },
	{ "[token]\natr = 3a:9f\n", "t.conf:2: bad atr: an ATR starts with 3b or 3f" },
	{ "[token]\natr = 3b9f9\n", "t.conf:2: bad atr: odd number of hex digits" },
	{ "[token]\natr = 3b:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	  "00:00:00:00:00:00:00:00:00:00:00\n", "t.conf:2: bad atr: more than 33 bytes" },
	{ "[token]\natr = 3b:9f\natr = 3b:9f\n", "t.conf:3: 'atr' is set twice in [token]" },
	{ "[token]\natr = 3b:9f\natr_mask = ..:ff\n",
	  "t.conf:3: bad atr_mask: byte 1: no wildcard allowed here" },
	{ "[token]\natr_mask = ff\natr_mask = ff\n",
	  "t.conf:3: 'atr_mask' is set twice in [token]" },
	{ "[token]\nname = x\n[atr a]\natr = 3b:01\n[token]\nmodule = opensc\n",
	  "t.conf:5: section [token] appears twice" },
	{ "[token]\nname = x\n[atr a]\natr = 3b:01\n[atr b]\natr = 3b:02\n[atr a]\natr = 3b:03\n",
	  "t.conf:7: section [atr a] appears twice" },
	/* the header's own line, BOM or not */
	{ "\xef\xbb\xbf[ token ]\nname = x\n",
	  "t.conf:1: unknown section [ token ] (want [token], [atr NAME] or [provisioning])" },
	{ "[token]\nname = x\n[atr b@d]\natr = 3b:01\n",
	  "t.conf:3: [atr NAME]: NAME may hold letters, digits and ._+- only" },
	{ "[token]\nname = x\n[atr]\natr = 3b:01\n",
	  "t.conf:3: unknown section [atr] (want [token], [atr NAME] or [provisioning])" },
	{ "[token]\nname = x\n[atr a]\nname = y\n",
	  "t.conf:4: unknown key 'name' in [atr a] (want atr or atr_mask)" },
	{ "[token]\nname = x\n[atr a]\natr = 3b:01\natr = 3b:01\n",
	  "t.conf:5: 'atr' is set twice in [atr a]" },
	{ "[token]\nname = x\nmodule = opensc\nusb 1234 5678\n",
	  "t.conf:4: syntax error (want [section] or key = value)" },
	/* inih also splits on ':' */
	{ "[token]\nname = x\nmodule = opensc\nusb 1234:5678\n",
	  "t.conf:4: unknown key 'usb 1234' in [token]" },
	{ "[token\nname = x\n", "t.conf:1: syntax error (want [section] or key = value)" },
	{ "[token]\nname = x\n= value\n", "t.conf:3: a key has no name" },
	/* the first error wins: a syntax error before a bad key */
	{ "[token]\nbroken\nfoo = 1\n", "t.conf:2: syntax error (want [section] or key = value)" },
	/* ... and a bad key before a syntax error */
	{ "[token]\nfoo = 1\nbroken\n", "t.conf:2: unknown key 'foo' in [token]" },
	{ "# only a comment\n", "t.conf: no [token] section (or it is empty)" },
	{ "[token]\n", "t.conf: no [token] section (or it is empty)" },
	{ "[token]\nusb = 1234:5678\nmodule = opensc\n", "t.conf: [token] has no name" },
	{ "[token]\nname = x\nusb = 1234:5678\n", "t.conf: [token] has no module" },
	{ "[token]\nname = x\nmodule = opensc\n",
	  "t.conf: a device token needs usb or atr (or match = piv, openpgp, software)" },
	{ "[token]\nname = x\nmodule = opensc\n[atr a]\natr_mask = ff:ff\n",
	  "t.conf: [atr a] has atr_mask but no atr" },
	{ "[token]\nname = x\nmodule = opensc\natr_mask = ff:ff\n",
	  "t.conf: [token] has atr_mask but no atr" },
	{ "[token]\nname = x\nmodule = opensc\natr = 3b:01:02\natr_mask = ff:ff\n",
	  "t.conf: [token]: atr has 3 bytes but atr_mask 2" },
	{ "[token]\nname = x\nmatch = software\nusb = 1234:5678\nmodule = /a.so\n",
	  "t.conf: a software token has no usb or atr" },
	{ "[token]\nname = x\nmatch = software\nmodule = /a.so\n[atr a]\natr = 3b:00\n",
	  "t.conf: a software token has no usb or atr" },
	/* [provisioning] */
#define PROV_HEAD "[token]\nname = x\nmatch = software\nmodule = /a.so\n[provisioning]\n"
	{ PROV_HEAD "safe = pin-change format\n",
	  "t.conf:6: unknown operation 'format' (want init, pin-change, pin-unblock, pin-set, "
	  "keygen, import, delete, wipe, or none alone)" },
	{ PROV_HEAD "safe = Wipe\n",
	  "t.conf:6: unknown operation 'Wipe' (want init, pin-change, pin-unblock, pin-set, "
	  "keygen, import, delete, wipe, or none alone)" },
	{ PROV_HEAD "safe = keygen\n  import keygen\n", "t.conf:7: operation 'keygen' is listed twice" },
	{ PROV_HEAD "safe = keygen\nsafe = keygen\n", "t.conf:7: operation 'keygen' is listed twice" },
	{ PROV_HEAD "safe = none keygen\n", "t.conf:6: 'none' must be the only word of 'safe'" },
	{ PROV_HEAD "safe = keygen none\n", "t.conf:6: 'none' must be the only word of 'safe'" },
	{ PROV_HEAD "safe = none\nsafe = none\n", "t.conf:7: 'none' must be the only word of 'safe'" },
	{ PROV_HEAD "safe =\n", "t.conf:6: 'safe' has no value" },
	{ PROV_HEAD "safe = init\npin_length = 4--\n",
	  "t.conf:7: bad pin_length '4--' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 4-8-\n",
	  "t.conf:7: bad pin_length '4-8-' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = -\n",
	  "t.conf:7: bad pin_length '-' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 256-\n",
	  "t.conf:7: bad pin_length '256-' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 8-4\n",
	  "t.conf:7: bad pin_length '8-4' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 0-8\n",
	  "t.conf:7: bad pin_length '0-8' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 4-256\n",
	  "t.conf:7: bad pin_length '4-256' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 99999999999999999999\n",
	  "t.conf:7: bad pin_length '99999999999999999999' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = -4\n",
	  "t.conf:7: bad pin_length '-4' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 4 - 8\n",
	  "t.conf:7: bad pin_length '4 - 8' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npuk_length = 8x\n",
	  "t.conf:7: bad puk_length '8x' (want N, MIN-MAX or MIN-, from 1 to 255)" },
	{ PROV_HEAD "safe = init\npin_length = 4\npin_length = 4\n",
	  "t.conf:8: 'pin_length' is set twice" },
	{ PROV_HEAD "safe = init\npin_length = 4\n  8\n", "t.conf:8: 'pin_length' is set twice" },
	{ PROV_HEAD "safe = init\npin_tries = 0\n",
	  "t.conf:7: bad pin_tries '0' (want a number from 1 to 255)" },
	{ PROV_HEAD "safe = init\npuk_tries = 3-5\n",
	  "t.conf:7: bad puk_tries '3-5' (want a number from 1 to 255)" },
	{ PROV_HEAD "safe = init\npuk_tries = 3\npuk_tries = 3\n",
	  "t.conf:8: 'puk_tries' is set twice" },
	{ PROV_HEAD "safe = init\nunblock = pin\n",
	  "t.conf:7: unknown unblock 'pin' (want puk or so-pin)" },
	{ PROV_HEAD "safe = init\nunblock = puk\nunblock = puk\n",
	  "t.conf:8: 'unblock' is set twice" },
	{ PROV_HEAD "safe = init\nmgmt_key = aes\n",
	  "t.conf:7: unknown mgmt_key 'aes' (want none, 3des, aes128, aes192 or aes256)" },
	{ PROV_HEAD "safe = init\nmgmt_key = 3des\nmgmt_key = 3des\n",
	  "t.conf:8: 'mgmt_key' is set twice" },
	{ PROV_HEAD "safe = init\npin_retries = 3\n",
	  "t.conf:7: unknown key 'pin_retries' in [provisioning] (want safe, pin_length, "
	  "puk_length, pin_tries, puk_tries, unblock or mgmt_key)" },
	{ PROV_HEAD "safe = init\n[atr a]\natr = 3b:01\n[provisioning]\nsafe = wipe\n",
	  "t.conf:9: section [provisioning] appears twice" },
	{ "[token]\nname = x\n[provisioning]\nsafe = init\n",
	  "t.conf: [token] has no module" },
	{ PROV_HEAD "pin_length = 4-8\n",
	  "t.conf: [provisioning] has no safe (list the operations, or none)" },
	{ PROV_HEAD "safe = pin-change pin-unblock\npuk_length = 8\n",
	  "t.conf: [provisioning] lists pin-unblock as safe but has no unblock" },
#undef PROV_HEAD
};

static void test_malformed(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char err[512] = "";
		struct kyso_catalogue *cat;

		clear_dir(fx);
		put(fx, "t.conf", bad_cases[i].text);
		cat = kyso_catalogue_load(fx->dir, err, sizeof(err));
		if (cat || strcmp(err, bad_cases[i].err)) {
			print_error("case %zu:\n%s\n got '%s'\nwant '%s'\n", i, bad_cases[i].text,
				    cat ? "(loaded)" : err, bad_cases[i].err);
			kyso_catalogue_free(cat);
			fail();
		}
	}
}

static void expect_load_error(struct fixture *fx, const char *want)
{
	char err[512] = "";
	struct kyso_catalogue *cat = kyso_catalogue_load(fx->dir, err, sizeof(err));

	if (cat || strcmp(err, want)) {
		print_error(" got '%s'\nwant '%s'\n", cat ? "(loaded)" : err, want);
		kyso_catalogue_free(cat);
		fail();
	}
}

static void test_malformed_files(void **state)
{
	struct fixture *fx = *state;
	char big[70000], line[300];

	/* a line longer than inih's buffer */
	memset(line, 'x', sizeof(line));
	memcpy(line, "[token]\nname = ", 15);
	line[sizeof(line) - 2] = '\n';
	write_file(fx->dir, "t.conf", line, sizeof(line) - 1);
	expect_load_error(fx, "t.conf:2: line longer than 198 characters");
	/* a line of exactly 198 characters is fine as far as length goes */
	clear_dir(fx);
	memset(line, 'x', sizeof(line));
	memcpy(line, "[token]\nmodule = opensc\nusb = 0001:0001\nname = ", 47);
	line[47 - 7 + 198] = '\n';
	write_file(fx->dir, "t.conf", line, 47 - 7 + 198 + 1);
	expect_load_error(fx, "t.conf:4: 'name' is too long");

	clear_dir(fx);
	write_file(fx->dir, "t.conf", "[token]\nname = a\0b\n", 19);
	expect_load_error(fx, "t.conf: holds a NUL byte");

	clear_dir(fx);
	memset(big, '#', sizeof(big));
	write_file(fx->dir, "t.conf", big, sizeof(big));
	expect_load_error(fx, "t.conf: larger than 65536 bytes");

	clear_dir(fx);
	put(fx, "Bad.conf", "[token]\nname = x\nusb = 0001:0001\nmodule = opensc\n");
	expect_load_error(fx, "Bad.conf: bad file name (want a lowercase name of letters, digits, "
			  "._- and .conf)");
	clear_dir(fx);
	put(fx, "a b.conf", "[token]\n");
	expect_load_error(fx, "a b.conf: bad file name (want a lowercase name of letters, digits, "
			  "._- and .conf)");
	clear_dir(fx);
	put(fx, "-a.conf", "[token]\n");
	expect_load_error(fx, "-a.conf: bad file name (want a lowercase name of letters, digits, "
			  "._- and .conf)");

	clear_dir(fx);
	assert_int_equal(mkdir(strcat(strcpy(line, fx->dir), "/dir.conf"), 0700), 0);
	expect_load_error(fx, "dir.conf: not a regular file");
}

static void test_malformed_catalogue(void **state)
{
	struct fixture *fx = *state;

	put(fx, "a.conf", "[token]\nname = A\nusb = 096e:0807\nmodule = opensc\n");
	put(fx, "b.conf", "[token]\nname = B\nusb = 1234:5678 096E:0807\nmodule = opensc\n");
	expect_load_error(fx, "b.conf: usb id 096e:0807 is already listed by a.conf");

	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\natr = 3b:01:..\nmodule = opensc\n");
	put(fx, "b.conf", "[token]\nname = B\nmodule = opensc\n[atr x]\natr = 3b:01:ff\n"
	    "atr_mask = ff:ff:00\n");
	expect_load_error(fx, "b.conf: an atr is already listed by a.conf");

	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\natr = 3b:01:02\nmodule = opensc\n[atr x]\n"
	    "atr = 3b 01 02\n");
	expect_load_error(fx, "a.conf: an atr is listed twice");

	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\nmatch = piv\nmodule = opensc\n");
	put(fx, "b.conf", "[token]\nname = B\nmatch = piv\nmodule = opensc\n");
	expect_load_error(fx, "b.conf: match = piv is already claimed by a.conf");

	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\nmatch = openpgp\nmodule = opensc\n");
	put(fx, "b.conf", "[token]\nname = B\nmatch = openpgp\nmodule = opensc\n");
	expect_load_error(fx, "b.conf: match = openpgp is already claimed by a.conf");

	/* two software kinds are fine, and so is the same ATR with another mask */
	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\nmatch = software\nmodule = /a.so\natr = \n");
	expect_load_error(fx, "a.conf:5: 'atr' has no value");
	clear_dir(fx);
	put(fx, "a.conf", "[token]\nname = A\nmatch = software\nmodule = /a.so\n");
	put(fx, "b.conf", "[token]\nname = B\nmatch = software\nmodule = /b.so\n");
	put(fx, "c.conf", "[token]\nname = C\natr = 3b:01:02\nmodule = opensc\n");
	put(fx, "d.conf", "[token]\nname = D\natr = 3b:01:..\nmodule = opensc\n");
	kyso_catalogue_free(load_ok(fx));
}

/* ---------------------------------------------------------------- provisioning */

static void test_prov_ops(void **state)
{
	static const char *const names[KYSO_PROV_OP_COUNT] = {
		"init", "pin-change", "pin-unblock", "pin-set", "keygen", "import", "delete", "wipe",
	};
	enum kyso_prov_op op;
	unsigned int i;

	for (i = 0; i < KYSO_PROV_OP_COUNT; i++) {
		assert_string_equal(kyso_prov_op_name((enum kyso_prov_op)i), names[i]);
		op = KYSO_PROV_OP_COUNT;
		assert_int_equal(kyso_prov_op_parse(names[i], &op), 0);
		assert_int_equal(op, i);
	}
	assert_int_equal(KYSO_PROV_PIN_CHANGE, 1);
	assert_int_equal(KYSO_PROV_WIPE, 7);
	assert_string_equal(kyso_prov_op_name(KYSO_PROV_OP_COUNT), "?");
	assert_string_equal(kyso_prov_op_name((enum kyso_prov_op)-1), "?");
	op = KYSO_PROV_WIPE;
	assert_int_equal(kyso_prov_op_parse("PIN-CHANGE", &op), -1);
	assert_int_equal(kyso_prov_op_parse("pin_change", &op), -1);
	assert_int_equal(kyso_prov_op_parse("", &op), -1);
	assert_int_equal(kyso_prov_op_parse("none", &op), -1);
	assert_int_equal(kyso_prov_op_parse(NULL, &op), -1);
	assert_int_equal(op, KYSO_PROV_WIPE);
}

static void test_prov_section(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;
	struct kyso_prov_limits lim;
	unsigned int i;

	put(fx, "full.conf",
	    "[token]\nname = Full\nusb = 0001:0001\nmodule = opensc\n"
	    "[provisioning]\n"
	    "safe = pin-change pin-unblock  ; an inline comment\n"
	    "  init keygen\n"
	    "safe = import\n"
	    "pin_length = 4-16\n"
	    "puk_length = 8\n"
	    "pin_tries = 3\n"
	    "puk_tries = 255\n"
	    "unblock = puk\n"
	    "mgmt_key = aes192\n"
	    "[atr x]\n"
	    "atr = 3b:01\n");
	put(fx, "none.conf", "[token]\nname = None\nusb = 0002:0002\nmodule = opensc\n"
	    "[provisioning]\nsafe = none\npin_length = 6-8\nunblock = so-pin\n"
	    "mgmt_key = none\npuk_length = 8-\n");
	put(fx, "few.conf", "[provisioning]\nsafe = pin-change wipe\n"
	    "[token]\nname = Few\nusb = 0003:0003\nmodule = opensc\n");
	put(fx, "without.conf", "[token]\nname = Without\nusb = 0004:0004\nmodule = opensc\n");
	cat = load_ok(fx);

	kind = kyso_catalogue_find(cat, "full");
	assert_non_null(kind);
	for (i = 0; i < KYSO_PROV_OP_COUNT; i++)
		assert_int_equal(kyso_token_kind_prov_safe(kind, (enum kyso_prov_op)i),
				 i <= KYSO_PROV_PIN_UNBLOCK || i == KYSO_PROV_KEYGEN ||
				 i == KYSO_PROV_IMPORT);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_OP_COUNT), 0);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 4);
	assert_int_equal(lim.pin_max, 16);
	assert_int_equal(lim.puk_min, 8);
	assert_int_equal(lim.puk_max, 8);
	assert_int_equal(lim.pin_tries, 3);
	assert_int_equal(lim.puk_tries, 255);
	assert_string_equal(lim.unblock_with, "puk");
	assert_string_equal(lim.mgmt_key, "aes192");
	/* the ATR section after it is still read */
	assert_string_equal(match_atr_id(cat, "3b:01"), "full");

	/* safe = none: not even pin-change */
	kind = kyso_catalogue_find(cat, "none");
	assert_non_null(kind);
	for (i = 0; i < KYSO_PROV_OP_COUNT; i++)
		assert_int_equal(kyso_token_kind_prov_safe(kind, (enum kyso_prov_op)i), 0);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 6);
	assert_int_equal(lim.pin_max, 8);
	assert_int_equal(lim.puk_min, 8);	/* "8-": the maximum is unknown */
	assert_int_equal(lim.puk_max, 0);
	assert_int_equal(lim.pin_tries, 0);
	assert_int_equal(lim.puk_tries, 0);
	assert_string_equal(lim.unblock_with, "so-pin");
	assert_string_equal(lim.mgmt_key, "none");

	/* the section may come first; unknown facts stay unknown */
	kind = kyso_catalogue_find(cat, "few");
	assert_non_null(kind);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_PIN_CHANGE), 1);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_WIPE), 1);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_PIN_UNBLOCK), 0);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 0);
	assert_int_equal(lim.pin_tries, 0);
	assert_string_equal(lim.unblock_with, "");
	assert_string_equal(lim.mgmt_key, "");

	/* no section, or no kind at all: only pin-change, and no limits */
	kind = kyso_catalogue_find(cat, "without");
	assert_non_null(kind);
	for (i = 0; i < KYSO_PROV_OP_COUNT; i++) {
		assert_int_equal(kyso_token_kind_prov_safe(kind, (enum kyso_prov_op)i),
				 i == KYSO_PROV_PIN_CHANGE);
		assert_int_equal(kyso_token_kind_prov_safe(NULL, (enum kyso_prov_op)i),
				 i == KYSO_PROV_PIN_CHANGE);
	}
	assert_int_equal(kyso_token_kind_prov_safe(NULL, KYSO_PROV_OP_COUNT), 0);
	memset(&lim, 0x55, sizeof(lim));
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), -1);
	assert_int_equal(lim.pin_min, 0);
	assert_int_equal(lim.pin_max, 0);
	assert_int_equal(lim.puk_tries, 0);
	assert_string_equal(lim.unblock_with, "");
	assert_string_equal(lim.mgmt_key, "");
	memset(&lim, 0x55, sizeof(lim));
	assert_int_equal(kyso_token_kind_prov_limits(NULL, &lim), -1);
	assert_int_equal(lim.pin_tries, 0);
	assert_string_equal(lim.unblock_with, "");
	kyso_catalogue_free(cat);
}

/* ---------------------------------------------------------------- matching */

static void test_match_usb(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;

	put(fx, "one.conf", "[token]\nname = One\nusb = 096E:0807 096e:080a\nmodule = opensc\n");
	put(fx, "two.conf", "[token]\nname = Two\nusb = 096e:0808\n  0000:0000 ffff:ffff\n"
	    "module = opensc\n");
	cat = load_ok(fx);
	assert_string_equal(match_usb_id(cat, 0x096e, 0x0807), "one");
	assert_string_equal(match_usb_id(cat, 0x096e, 0x080a), "one");
	assert_string_equal(match_usb_id(cat, 0x096e, 0x0808), "two");
	assert_string_equal(match_usb_id(cat, 0x0000, 0x0000), "two");
	assert_string_equal(match_usb_id(cat, 0xffff, 0xffff), "two");
	assert_null(match_usb_id(cat, 0x096e, 0x0809));
	assert_null(match_usb_id(cat, 0x0807, 0x096e));
	assert_null(kyso_catalogue_match_usb(NULL, 0x096e, 0x0807));
	kyso_catalogue_free(cat);
}

static void test_match_atr_masks(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	unsigned char atr[KYSO_ATR_MAX];

	/* OpenSC's ePass2003 pattern, with an explicit mask */
	put(fx, "epass.conf", "[token]\nname = ePass\nmodule = opensc\n"
	    "atr      = 3b:9f:95:81:31:fe:9f:00:66:46:53:05:00:00:00:71:df:00:00:00:00:00:00\n"
	    "atr_mask = ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:00:ff:ff:ff:ff:00:00:00:00\n");
	/* a mask of partial bytes, and value bits outside the mask that do not count */
	put(fx, "nibble.conf", "[token]\nname = Nibble\nmodule = opensc\n"
	    "atr = 3b:02:af\natr_mask = ff:ff:0f\n");
	/* wildcards and a mask together: both apply */
	put(fx, "both.conf", "[token]\nname = Both\nmodule = opensc\n"
	    "atr = 3f:..:12:34\natr_mask = ff:ff:ff:f0\n");
	cat = load_ok(fx);

	/* the ATRs quoted in OpenSC's card-epass2003.c */
	assert_string_equal(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:01:00:11:71:df:"
					 "00:00:03:90:00:80"), "epass");
	assert_string_equal(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:23:00:25:71:df:"
					 "00:00:03:90:00:96"), "epass");
	assert_string_equal(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:23:00:25:71:df:"
					 "00:00:00:00:00:05"), "epass");
	/* a masked-in byte differs */
	assert_null(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:23:00:25:71:c3:9f:00:00:"
				 "00:00:86"));
	/* one byte short */
	assert_null(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:01:00:11:71:df:00:00:03:"
				 "90:00"));

	assert_string_equal(match_atr_id(cat, "3b:02:0f"), "nibble");
	assert_string_equal(match_atr_id(cat, "3b:02:ff"), "nibble");
	assert_string_equal(match_atr_id(cat, "3b:02:5f"), "nibble");
	assert_null(match_atr_id(cat, "3b:02:0e"));

	assert_string_equal(match_atr_id(cat, "3f:00:12:34"), "both");
	assert_string_equal(match_atr_id(cat, "3f:ee:12:3f"), "both");
	assert_null(match_atr_id(cat, "3f:ee:12:44"));
	assert_null(match_atr_id(cat, "3f:ee:13:34"));

	/* degenerate input */
	assert_null(kyso_catalogue_match_atr(cat, NULL, 3));
	assert_null(kyso_catalogue_match_atr(cat, atr, 0));
	memset(atr, 0x3b, sizeof(atr));
	assert_null(kyso_catalogue_match_atr(cat, atr, KYSO_ATR_MAX));
	kyso_catalogue_free(cat);
}

static void test_match_atr_most_specific(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;

	/* a wide family pattern in a file that comes first, an exact ATR after it */
	put(fx, "a-family.conf", "[token]\nname = Family\nmodule = opensc\n"
	    "atr = 3b:ff:..:00:00:81:31:..:43:80:31:80:65:b0:..:..:..:..:12:..:..:82:90:00:..\n");
	put(fx, "b-exact.conf", "[token]\nname = Exact\nmodule = opensc\n"
	    "atr = 3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:84:56:51:10:12:01:78:82:90:00:6a\n");
	/* two equally specific patterns: file order decides */
	put(fx, "c-tie.conf", "[token]\nname = Tie 1\nmodule = opensc\natr = 3b:11:..\n");
	put(fx, "d-tie.conf", "[token]\nname = Tie 2\nmodule = opensc\natr = 3b:..:22\n");
	cat = load_ok(fx);
	assert_string_equal(match_atr_id(cat, "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:84:56:51:"
					 "10:12:01:78:82:90:00:6a"), "b-exact");
	assert_string_equal(match_atr_id(cat, "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:84:61:60:"
					 "fb:12:0f:fd:82:90:00:0c"), "a-family");
	assert_string_equal(match_atr_id(cat, "3b:11:22"), "c-tie");
	assert_string_equal(match_atr_id(cat, "3b:11:23"), "c-tie");
	assert_string_equal(match_atr_id(cat, "3b:12:22"), "d-tie");
	kyso_catalogue_free(cat);
}

/* ---------------------------------------------------------------- module choice */

struct usable_ctx {
	const char *accept[4];		/* paths to accept */
	char asked[16][512];		/* paths offered, in order */
	size_t n_asked;
};

static int usable(const char *path, void *arg)
{
	struct usable_ctx *ctx = arg;
	size_t i;

	if (ctx->n_asked < 16)
		snprintf(ctx->asked[ctx->n_asked++], sizeof(ctx->asked[0]), "%s", path);
	for (i = 0; i < 4 && ctx->accept[i]; i++)
		if (!strcmp(ctx->accept[i], path))
			return 1;
	return 0;
}

static struct kyso_catalogue *one_kind(struct fixture *fx, const char *modules)
{
	char text[1024];

	clear_dir(fx);
	snprintf(text, sizeof(text), "[token]\nname = T\nusb = 0001:0001\nmodule = %s\n", modules);
	put(fx, "t.conf", text);
	return load_ok(fx);
}

static void test_pick_module_order(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat = one_kind(fx, "/opt/a/liba.so /opt/b/libb.so /opt/c/libc.so");
	const struct kyso_token_kind *kind = kyso_catalogue_kind(cat, 0);
	struct usable_ctx ctx;
	char out[256], small[8];

	/* the first usable entry wins, later ones are not even asked about */
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = "/opt/a/liba.so";
	ctx.accept[1] = "/opt/b/libb.so";
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/a/liba.so");
	assert_int_equal(ctx.n_asked, 1);

	/* falls back past refused entries */
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = "/opt/c/libc.so";
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/c/libc.so");
	assert_int_equal(ctx.n_asked, 3);
	assert_string_equal(ctx.asked[0], "/opt/a/liba.so");
	assert_string_equal(ctx.asked[1], "/opt/b/libb.so");

	/* nothing usable */
	memset(&ctx, 0, sizeof(ctx));
	strcpy(out, "junk");
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(ctx.n_asked, 3);

	/* a path that does not fit the caller's buffer is passed over */
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = "/opt/a/liba.so";
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, small, sizeof(small)), -1);
	assert_string_equal(small, "");
	assert_int_equal(ctx.n_asked, 0);

	assert_int_equal(kyso_catalogue_pick_module(kind, NULL, &ctx, out, sizeof(out)), -1);
	assert_int_equal(kyso_catalogue_pick_module(NULL, usable, &ctx, out, sizeof(out)), -1);
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, NULL, 0), -1);
	kyso_catalogue_free(cat);
}

static void test_pick_module_opensc(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat = one_kind(fx, "/opt/vendor/libv.so opensc");
	const struct kyso_token_kind *kind = kyso_catalogue_kind(cat, 0);
	struct usable_ctx ctx;
	char out[256];
	size_t i;

	/* "opensc" stands for OpenSC's usual paths; a literal one is offered as is */
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = "/usr/lib/opensc-pkcs11.so";
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/lib/opensc-pkcs11.so");
	assert_string_equal(ctx.asked[0], "/opt/vendor/libv.so");
	for (i = 1; i < ctx.n_asked; i++)
		assert_non_null(strstr(ctx.asked[i], "opensc-pkcs11.so"));
	/* the vendor's module first when it is usable */
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = "/usr/lib/opensc-pkcs11.so";
	ctx.accept[1] = "/opt/vendor/libv.so";
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/vendor/libv.so");
	kyso_catalogue_free(cat);
}

static void test_pick_module_glob(void **state)
{
	struct fixture *fx = *state;
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;
	struct usable_ctx ctx;
	char root[128], path[256], modules[512], out[256], want_native[256], want_other[256];

	snprintf(root, sizeof(root), "%s.lib", fx->dir);
	assert_int_equal(mkdir(root, 0700), 0);
	snprintf(path, sizeof(path), "%s/i386-linux-gnu", root);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(path, "libg.so", "", 0);
	snprintf(path, sizeof(path), "%s/x86_64-linux-gnu", root);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(path, "libg.so", "", 0);

	snprintf(modules, sizeof(modules), "%s/*/libnone.so %s/*/libg.so", root, root);
	cat = one_kind(fx, modules);
	kind = kyso_catalogue_kind(cat, 0);
#if defined(__x86_64__) && defined(__LP64__)
	/* this machine's multiarch directory comes first */
	snprintf(want_native, sizeof(want_native), "%s/x86_64-linux-gnu/libg.so", root);
	snprintf(want_other, sizeof(want_other), "%s/i386-linux-gnu/libg.so", root);
#else
	/* elsewhere neither directory is native: plain name order */
	snprintf(want_native, sizeof(want_native), "%s/i386-linux-gnu/libg.so", root);
	snprintf(want_other, sizeof(want_other), "%s/x86_64-linux-gnu/libg.so", root);
#endif
	/* a glob with no match offers nothing; matches are offered, native first */
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), -1);
	assert_int_equal(ctx.n_asked, 2);
	assert_string_equal(ctx.asked[0], want_native);
	assert_string_equal(ctx.asked[1], want_other);
	memset(&ctx, 0, sizeof(ctx));
	ctx.accept[0] = want_other;
	assert_int_equal(kyso_catalogue_pick_module(kind, usable, &ctx, out, sizeof(out)), 0);
	assert_string_equal(out, want_other);
	kyso_catalogue_free(cat);

	unlink(want_native);
	unlink(want_other);
	snprintf(path, sizeof(path), "%s/i386-linux-gnu", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/x86_64-linux-gnu", root);
	rmdir(path);
	rmdir(root);
}

/* ---------------------------------------------------------------- the shipped catalogue */

static void test_shipped_catalogue(void **state)
{
	const char *srcdir = getenv("KYSO_SRCDIR");
	struct kyso_catalogue *cat;
	const struct kyso_token_kind *kind;
	struct kyso_prov_limits lim;
	char dir[1024], err[512] = "";
	long v = 0;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/drivers/tokens", srcdir ? srcdir : ".");
	if (access(dir, R_OK)) {
		print_message("skipped: no %s (set KYSO_SRCDIR)\n", dir);
		skip();
	}
	cat = kyso_catalogue_load(dir, err, sizeof(err));
	if (!cat)
		print_error("%s\n", err);
	assert_non_null(cat);
	assert_true(kyso_catalogue_count(cat) >= 11);
	for (i = 0; i < kyso_catalogue_count(cat); i++) {
		kind = kyso_catalogue_kind(cat, i);
		assert_true(kyso_token_kind_module_count(kind) >= 1);
	}

	assert_string_equal(match_usb_id(cat, 0x096e, 0x0807), "feitian-epass2003");
	assert_string_equal(match_usb_id(cat, 0x0529, 0x0620), "safenet-etoken-5110");
	assert_string_equal(match_usb_id(cat, 0x08e6, 0x34cf), "safenet-etoken-5110");
	assert_string_equal(match_usb_id(cat, 0x08e6, 0x34cc), "safenet-etoken-5300");
	assert_string_equal(match_usb_id(cat, 0x08e6, 0x34ce), "safenet-etoken-5300");
	assert_string_equal(match_usb_id(cat, 0x08e6, 0x3438), "gemalto-idprime-md");
	assert_string_equal(match_usb_id(cat, 0x25dd, 0x2351), "bit4id-digital-dna");
	assert_string_equal(match_usb_id(cat, 0x25dd, 0x3111), "bit4id-minilector");
	assert_string_equal(match_usb_id(cat, 0x1050, 0x0407), "yubico-yubikey");
	assert_string_equal(match_usb_id(cat, 0x1050, 0x0116), "yubico-yubikey");
	assert_null(match_usb_id(cat, 0x1050, 0x0402));	/* FIDO only: not ours */
	assert_string_equal(match_usb_id(cat, 0x20a0, 0x4211), "openpgp");
	assert_string_equal(match_usb_id(cat, 0x096e, 0x0603), "piv");

	/* ePass2003 ATRs quoted in OpenSC's card-epass2003.c */
	assert_string_equal(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:01:00:11:71:df:"
					 "00:00:03:90:00:80"), "feitian-epass2003");
	assert_string_equal(match_atr_id(cat, "3b:9f:95:81:31:fe:9f:00:66:46:53:05:23:00:25:71:df:"
					 "00:00:00:00:00:05"), "feitian-epass2003");
	/* IDPrime 940 (T=0, OpenSC's table) and IDPrime 930 (T=1, smartcard_list.txt) */
	assert_string_equal(match_atr_id(cat, "3b:7f:96:00:00:80:31:80:65:b0:85:59:56:fb:12:0f:fe:"
					 "82:90:00"), "gemalto-idprime-md");
	assert_string_equal(match_atr_id(cat, "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 84 61 "
					 "60 FB 12 0F FD 82 90 00 0C"), "gemalto-idprime-md");
	/* the eToken 5300's exact ATR outranks the IDPrime T=1 pattern it also fits */
	assert_string_equal(match_atr_id(cat, "3B FF 96 00 00 81 31 FE 43 80 31 80 65 B0 84 56 "
					 "51 10 12 01 78 82 90 00 6A"), "safenet-etoken-5300");
	assert_string_equal(match_atr_id(cat, "3B D5 18 00 81 31 FE 7D 80 73 C8 21 10 F4"),
			    "safenet-etoken-5110");
	assert_string_equal(match_atr_id(cat, "3B 7D 96 00 00 80 31 80 65 B0 83 11 17 E5 83 00 "
					 "90 00"), "gemalto-idprime-piv");
	assert_string_equal(match_atr_id(cat, "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 "
					 "75 62 69 4B 65 79 40"), "yubico-yubikey");
	assert_string_equal(match_atr_id(cat, "3b:da:18:ff:81:b1:fe:75:1f:03:00:31:f5:73:c0:01:"
					 "60:00:90:00:1c"), "openpgp");
	assert_null(match_atr_id(cat, "3b:00"));

	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_PIV);
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "piv");
	assert_int_equal(kyso_token_kind_quirk(kind, "always_authenticate", NULL), 1);
	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_OPENPGP);
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "openpgp");

	kind = kyso_catalogue_match_software(cat, "/usr/lib/softhsm/libsofthsm2.so");
	assert_non_null(kind);
	assert_string_equal(kyso_token_kind_id(kind), "softhsm2");
	assert_int_equal(kyso_token_kind_quirk(kind, "parallel_sessions", &v), 1);
	assert_int_equal(v, 4);
	/* the software token: every provisioning operation is safe */
	for (i = 0; i < KYSO_PROV_OP_COUNT; i++)
		assert_int_equal(kyso_token_kind_prov_safe(kind, (enum kyso_prov_op)i), 1);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 4);
	assert_int_equal(lim.pin_max, 255);
	assert_string_equal(lim.unblock_with, "so-pin");
	assert_string_equal(lim.mgmt_key, "none");

	/* every shipped family says what is safe; pin-change always is */
	for (i = 0; i < kyso_catalogue_count(cat); i++) {
		kind = kyso_catalogue_kind(cat, i);
		assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
		assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_PIN_CHANGE), 1);
	}
	/* the ePass2003: OpenSC's erase bricked tokens, init still fails */
	kind = kyso_catalogue_find(cat, "feitian-epass2003");
	assert_non_null(kind);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_WIPE), 0);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_INIT), 0);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 4);
	assert_int_equal(lim.pin_max, 16);
	assert_int_equal(lim.pin_tries, 0);	/* the issuer's: read from the token */
	assert_string_equal(lim.unblock_with, "puk");
	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_PIV);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 6);
	assert_int_equal(lim.pin_max, 8);
	assert_int_equal(lim.puk_min, 8);
	assert_int_equal(lim.puk_max, 8);
	assert_string_equal(lim.mgmt_key, "");
	kind = kyso_catalogue_match_applet(cat, KYSO_TOKEN_MATCH_OPENPGP);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_min, 6);
	assert_int_equal(lim.pin_max, 0);
	assert_string_equal(lim.unblock_with, "so-pin");

	kind = kyso_catalogue_find(cat, "yubico-yubikey");
	assert_non_null(kind);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_KEYGEN), 1);
	assert_int_equal(kyso_token_kind_prov_safe(kind, KYSO_PROV_DELETE), 0);
	assert_int_equal(kyso_token_kind_prov_limits(kind, &lim), 0);
	assert_int_equal(lim.pin_tries, 3);
	assert_int_equal(lim.puk_tries, 3);
	assert_string_equal(lim.mgmt_key, "");	/* 3DES before 5.7, AES-192 from 5.7 */
	assert_int_equal(kyso_token_kind_quirk(kind, "touch", NULL), 1);
	assert_string_equal(kyso_token_kind_module(kind, kyso_token_kind_module_count(kind) - 1),
			    "opensc");
	kyso_catalogue_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr_parse_forms),
		cmocka_unit_test(test_atr_parse_wildcards),
		cmocka_unit_test(test_atr_parse_errors),
		cmocka_unit_test_setup_teardown(test_load_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_order_and_skipped_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_empty_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_software_and_applets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_catalogue, setup, teardown),
		cmocka_unit_test(test_prov_ops),
		cmocka_unit_test_setup_teardown(test_prov_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_usb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_atr_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_atr_most_specific, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick_module_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick_module_opensc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick_module_glob, setup, teardown),
		cmocka_unit_test(test_shipped_catalogue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
