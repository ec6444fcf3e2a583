/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: what a kind says (names, ids, modules, quirks, and the
 * provisioning facts of its [provisioning] section). */
#include <string.h>

#include "tokens/catalogue-internal.h"

const char *kyso_token_kind_id(const struct kyso_token_kind *kind)
{
	return kind->id;
}

const char *kyso_token_kind_name(const struct kyso_token_kind *kind)
{
	return kind->name;
}

const char *kyso_token_kind_vendor(const struct kyso_token_kind *kind)
{
	return kind->vendor ? kind->vendor : "";
}

enum kyso_token_match kyso_token_kind_match(const struct kyso_token_kind *kind)
{
	return kind->match;
}

const char *kyso_token_match_name(enum kyso_token_match match)
{
	switch (match) {
	case KYSO_TOKEN_MATCH_DEVICE:
		return "device";
	case KYSO_TOKEN_MATCH_PIV:
		return "piv";
	case KYSO_TOKEN_MATCH_OPENPGP:
		return "openpgp";
	case KYSO_TOKEN_MATCH_SOFTWARE:
		return "software";
	}
	return "?";
}

size_t kyso_token_kind_usb_count(const struct kyso_token_kind *kind)
{
	return kind->n_usb;
}

int kyso_token_kind_usb(const struct kyso_token_kind *kind, size_t i, uint16_t *vid,
			uint16_t *pid)
{
	if (i >= kind->n_usb)
		return -1;
	*vid = kind->usb[i].vid;
	*pid = kind->usb[i].pid;
	return 0;
}

size_t kyso_token_kind_module_count(const struct kyso_token_kind *kind)
{
	return kind->n_modules;
}

const char *kyso_token_kind_module(const struct kyso_token_kind *kind, size_t i)
{
	return i < kind->n_modules ? kind->modules[i] : NULL;
}

int kyso_token_kind_quirk(const struct kyso_token_kind *kind, const char *key, long *value)
{
	size_t i;

	for (i = 0; i < kind->n_quirks; i++)
		if (!strcmp(kind->quirks[i].def->key, key)) {
			if (value)
				*value = kind->quirks[i].value;
			return 1;
		}
	return 0;
}

static const char *const prov_op_names[KYSO_PROV_OP_COUNT] = {
	[KYSO_PROV_INIT] = "init",
	[KYSO_PROV_PIN_CHANGE] = "pin-change",
	[KYSO_PROV_PIN_UNBLOCK] = "pin-unblock",
	[KYSO_PROV_PIN_SET] = "pin-set",
	[KYSO_PROV_KEYGEN] = "keygen",
	[KYSO_PROV_IMPORT] = "import",
	[KYSO_PROV_DELETE] = "delete",
	[KYSO_PROV_WIPE] = "wipe",
};

const char *kyso_prov_op_name(enum kyso_prov_op op)
{
	if ((unsigned int)op >= KYSO_PROV_OP_COUNT)
		return "?";
	return prov_op_names[op];
}

int kyso_prov_op_parse(const char *name, enum kyso_prov_op *op)
{
	unsigned int i;

	for (i = 0; name && i < KYSO_PROV_OP_COUNT; i++)
		if (!strcmp(name, prov_op_names[i])) {
			*op = (enum kyso_prov_op)i;
			return 0;
		}
	return -1;
}

int kyso_token_kind_prov_safe(const struct kyso_token_kind *kind, enum kyso_prov_op op)
{
	if ((unsigned int)op >= KYSO_PROV_OP_COUNT)
		return 0;
	if (!kind || !kind->prov.present)
		return op == KYSO_PROV_PIN_CHANGE;
	return (kind->prov.safe >> op) & 1;
}

int kyso_token_kind_prov_limits(const struct kyso_token_kind *kind,
				struct kyso_prov_limits *out)
{
	const struct prov_facts *pv;

	memset(out, 0, sizeof(*out));
	out->unblock_with = "";
	out->mgmt_key = "";
	if (!kind || !kind->prov.present)
		return -1;
	pv = &kind->prov;
	out->pin_min = pv->pin_min;
	out->pin_max = pv->pin_max;
	out->puk_min = pv->puk_min;
	out->puk_max = pv->puk_max;
	out->pin_tries = pv->pin_tries;
	out->puk_tries = pv->puk_tries;
	if (pv->unblock)
		out->unblock_with = pv->unblock;
	if (pv->mgmt_key)
		out->mgmt_key = pv->mgmt_key;
	return 0;
}
