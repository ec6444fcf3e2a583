/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: one small INI file per token family (drivers/tokens/NAME.conf),
 * telling which PKCS#11 module drives a token found by its USB id, its card's ATR
 * or the applet it answers to, and which quirks it has. docs/tokens.md describes
 * the format. The catalogue only proposes modules: the caller decides, through the
 * callback of kyso_catalogue_pick_module(), which paths are installed and allowed. */
#ifndef KYSO_TOKENS_CATALOGUE_H
#define KYSO_TOKENS_CATALOGUE_H
#include <stddef.h>
#include <stdint.h>

/* An ATR is at most 33 bytes (ISO/IEC 7816-3: TS and 32 more). */
#define KYSO_ATR_MAX 33

struct kyso_catalogue;
struct kyso_token_kind;

enum kyso_token_match {
	KYSO_TOKEN_MATCH_DEVICE,	/* by USB id and/or ATR only */
	KYSO_TOKEN_MATCH_PIV,		/* also any card that selects the PIV applet */
	KYSO_TOKEN_MATCH_OPENPGP,	/* also any card that selects the OpenPGP applet */
	KYSO_TOKEN_MATCH_SOFTWARE,	/* no hardware: found by its module path */
};

/* Decides whether a module path may be used: installed and allowed. Returns
 * nonzero to accept the path. */
typedef int (*kyso_module_usable_fn)(const char *path, void *ctx);

/* Loads every "*.conf" file of dir, in name order. Any malformed file fails the
 * whole load. Returns the catalogue (free with kyso_catalogue_free()), or NULL
 * with a reason ("file:line: what") in err. */
struct kyso_catalogue *kyso_catalogue_load(const char *dir, char *err, size_t errlen);
void kyso_catalogue_free(struct kyso_catalogue *cat);

size_t kyso_catalogue_count(const struct kyso_catalogue *cat);
/* The i-th kind, in file name order; NULL past the end. */
const struct kyso_token_kind *kyso_catalogue_kind(const struct kyso_catalogue *cat, size_t i);
/* The kind whose file is "<id>.conf", or NULL. */
const struct kyso_token_kind *kyso_catalogue_find(const struct kyso_catalogue *cat,
						  const char *id);

/* Lookups; each returns NULL when nothing matches. The returned kinds live as
 * long as the catalogue. */
const struct kyso_token_kind *kyso_catalogue_match_usb(const struct kyso_catalogue *cat,
						       uint16_t vid, uint16_t pid);
/* Mask-aware; when several patterns match, the most specific one (most mask bits
 * set) wins, then the first in file order. */
const struct kyso_token_kind *kyso_catalogue_match_atr(const struct kyso_catalogue *cat,
						       const unsigned char *atr, size_t len);
/* The kind declared with "match = piv" or "match = openpgp" (which is one of
 * KYSO_TOKEN_MATCH_PIV, KYSO_TOKEN_MATCH_OPENPGP). */
const struct kyso_token_kind *kyso_catalogue_match_applet(const struct kyso_catalogue *cat,
							  enum kyso_token_match which);
/* The "match = software" kind one of whose module entries names path (a glob
 * entry matches by fnmatch). */
const struct kyso_token_kind *kyso_catalogue_match_software(const struct kyso_catalogue *cat,
							    const char *path);

const char *kyso_token_kind_id(const struct kyso_token_kind *kind);
const char *kyso_token_kind_name(const struct kyso_token_kind *kind);
const char *kyso_token_kind_vendor(const struct kyso_token_kind *kind);	/* "" if unset */
enum kyso_token_match kyso_token_kind_match(const struct kyso_token_kind *kind);
/* "device", "piv", "openpgp" or "software". */
const char *kyso_token_match_name(enum kyso_token_match match);

size_t kyso_token_kind_usb_count(const struct kyso_token_kind *kind);
/* Returns 0 and the i-th id, or -1 past the end. */
int kyso_token_kind_usb(const struct kyso_token_kind *kind, size_t i, uint16_t *vid,
			uint16_t *pid);

/* Module entries as written: an absolute path, a glob, or "opensc". */
size_t kyso_token_kind_module_count(const struct kyso_token_kind *kind);
const char *kyso_token_kind_module(const struct kyso_token_kind *kind, size_t i);

/* Returns 1 when the quirk is set, with its number in *value (1 for a flag;
 * value may be NULL), or 0 when it is not. */
int kyso_token_kind_quirk(const struct kyso_token_kind *kind, const char *key, long *value);

/* Provisioning (kyso admin): which operations are known to be safe on a family,
 * and the limits of its PINs, from the [provisioning] section of its file. */
enum kyso_prov_op { KYSO_PROV_INIT, KYSO_PROV_PIN_CHANGE, KYSO_PROV_PIN_UNBLOCK,
	KYSO_PROV_PIN_SET, KYSO_PROV_KEYGEN, KYSO_PROV_IMPORT, KYSO_PROV_DELETE,
	KYSO_PROV_WIPE, KYSO_PROV_OP_COUNT };
/* "init", "pin-change", "pin-unblock", "pin-set", "keygen", "import", "delete", "wipe";
 * "?" for anything else. */
const char *kyso_prov_op_name(enum kyso_prov_op op);
int kyso_prov_op_parse(const char *name, enum kyso_prov_op *op); /* 0 or -1 */
/* 1 when the family's [provisioning] section lists op as safe, else 0 (a family
 * without the section: only pin-change is safe). kind NULL (token not in the
 * catalogue): only pin-change. */
int kyso_token_kind_prov_safe(const struct kyso_token_kind *kind, enum kyso_prov_op op);
struct kyso_prov_limits {
	unsigned int pin_min, pin_max;	/* 0: unknown */
	unsigned int puk_min, puk_max;
	unsigned int pin_tries, puk_tries;	/* the family's default; the token's own counter wins */
	const char *unblock_with;	/* "puk", "so-pin", or "" unknown */
	const char *mgmt_key;		/* "none", "3des", "aes128", "aes192", "aes256", "" */
};
/* 0 and the limits; -1 when the family has no [provisioning] section (or kind is
 * NULL), out then holding only unknowns. The strings are static. */
int kyso_token_kind_prov_limits(const struct kyso_token_kind *kind,
				struct kyso_prov_limits *out);

/* Walks the module entries in preference order, expanding "opensc" to OpenSC's
 * usual install paths and globs to the existing files (native multiarch
 * directory first), and copies the first path that usable() accepts into out.
 * Returns 0, or -1 when no entry is usable (out is then ""). */
int kyso_catalogue_pick_module(const struct kyso_token_kind *kind, kyso_module_usable_fn usable,
			       void *ctx, char *out, size_t outlen);

/* Parses ATR text: hex bytes separated by ':' or blanks ("3b:9f:95", "3B 9F 95")
 * or run together ("3b9f95"). With mask non-NULL, ".." stands for any byte (mask
 * byte 00, others ff); with mask NULL wildcards are refused. Returns the number
 * of bytes, or -1 with a reason in err. */
int kyso_atr_parse(const char *text, unsigned char *atr, unsigned char *mask, char *err,
		   size_t errlen);

#endif
