/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue's insides, shared by its files: catalogue-parse.c (one
 * NAME.conf into a kind), catalogue-load.c (the directory), catalogue-match.c
 * (finding a kind), catalogue-kind.c (what a kind says), catalogue-pick.c (the
 * module to use). Nothing outside drivers/tokens includes this. */
#ifndef KYSO_TOKENS_CATALOGUE_INTERNAL_H
#define KYSO_TOKENS_CATALOGUE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tokens/catalogue.h"

/* A quirk kyso knows (catalogue-parse.c holds the table). */
struct quirk_def {
	const char *key;
	int numeric;		/* takes "=N" */
	long min, max;
};

struct usb_id {
	uint16_t vid, pid;
};

struct atr_pattern {
	unsigned char atr[KYSO_ATR_MAX];
	unsigned char mask[KYSO_ATR_MAX];
	size_t len;
	unsigned int weight;		/* bits set in mask: higher is more specific */
	char *label;			/* NAME of [atr NAME], NULL for [token]'s own */
	/* while parsing */
	int has_atr, has_mask;
	unsigned char user_mask[KYSO_ATR_MAX];
	size_t user_mask_len;
};

struct quirk {
	const struct quirk_def *def;
	long value;
};

/* What [provisioning] says; all zero (unknown) without the section. */
struct prov_facts {
	int present;			/* the file has the section */
	unsigned int safe;		/* 1 << enum kyso_prov_op, for each safe one */
	int safe_none;			/* "safe = none" */
	unsigned int pin_min, pin_max, puk_min, puk_max;
	unsigned int pin_tries, puk_tries;
	const char *unblock;		/* static: "puk", "so-pin", or NULL */
	const char *mgmt_key;		/* static: "none", "3des"..., or NULL */
};

struct kyso_token_kind {
	char *id;
	char *name;
	char *vendor;
	enum kyso_token_match match;
	struct usb_id *usb;
	size_t n_usb;
	struct atr_pattern *atr;
	size_t n_atr;
	char **modules;
	size_t n_modules;
	struct quirk *quirks;
	size_t n_quirks;
	struct prov_facts prov;
};

struct kyso_catalogue {
	struct kyso_token_kind **kinds;
	size_t n;
};

static inline int catalogue_is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* "file: what" style messages into err (nothing when err is NULL). */
void catalogue_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parses the file of directory dfd into a new kind of that id (ownership passes
 * to the caller), or returns NULL with a reason in err. */
struct kyso_token_kind *catalogue_parse_file(int dfd, const char *file, const char *id, char *err,
					     size_t errlen);
void catalogue_kind_free(struct kyso_token_kind *kind);

#endif
