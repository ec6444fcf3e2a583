/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "kysod/admin-policy.h"
#include "pcsc/reader-watch.h"
#include "tokens/catalogue.h"

const char *admin_op_name(enum admin_op op)
{
	static const char *const names[] = {
		[ADMIN_INIT] = "init", [ADMIN_PIN_CHANGE] = "pin-change",
		[ADMIN_PIN_UNBLOCK] = "pin-unblock", [ADMIN_PIN_SET] = "pin-set",
		[ADMIN_KEYGEN] = "keygen", [ADMIN_IMPORT] = "import", [ADMIN_DELETE] = "delete",
		[ADMIN_WIPE] = "wipe", [ADMIN_CSR] = "csr",
	};

	return (unsigned int)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

/* The card's kind by the ATR in the reader of that name. */
static const struct kyso_token_kind *card_kind(struct kysod *d, const char *reader)
{
	struct reader_info readers[READER_MAX];
	size_t n, i;
	int up;

	if (!d->readers || !reader || !*reader)
		return NULL;
	n = reader_watch_list(d->readers, readers, READER_MAX, &up);
	for (i = 0; i < n; i++)
		if (readers[i].card_present && !strcmp(readers[i].name, reader))
			return kyso_catalogue_match_atr(d->catalogue, readers[i].atr,
							readers[i].atr_len);
	return NULL;
}

void admin_family(struct kysod *d, const char *module_path, const char *reader,
		  struct admin_family *f)
{
	memset(f, 0, sizeof(*f));
	if (!d->catalogue)
		return;
	f->kind = kyso_catalogue_match_software(d->catalogue, module_path);
	if (!f->kind)
		f->kind = card_kind(d, reader);
	if (!f->kind)
		return;
	snprintf(f->id, sizeof(f->id), "%s", kyso_token_kind_id(f->kind));
	snprintf(f->name, sizeof(f->name), "%s", kyso_token_kind_name(f->kind));
}

int admin_op_safe(const struct admin_family *f, enum admin_op op)
{
	static const enum kyso_prov_op prov[] = {
		[ADMIN_INIT] = KYSO_PROV_INIT, [ADMIN_PIN_CHANGE] = KYSO_PROV_PIN_CHANGE,
		[ADMIN_PIN_UNBLOCK] = KYSO_PROV_PIN_UNBLOCK, [ADMIN_PIN_SET] = KYSO_PROV_PIN_SET,
		[ADMIN_KEYGEN] = KYSO_PROV_KEYGEN, [ADMIN_IMPORT] = KYSO_PROV_IMPORT,
		[ADMIN_DELETE] = KYSO_PROV_DELETE, [ADMIN_WIPE] = KYSO_PROV_WIPE,
	};

	/* a certificate request is a signature: what the user PIN allows */
	if (op == ADMIN_CSR)
		return 1;
	if ((unsigned int)op >= sizeof(prov) / sizeof(prov[0]))
		return 0;
	return kyso_token_kind_prov_safe(f->kind, prov[op]) == 1;
}

int admin_family_limits(const struct admin_family *f, struct admin_limits *out)
{
	struct kyso_prov_limits l;
	int ret = kyso_token_kind_prov_limits(f->kind, &l);

	memset(out, 0, sizeof(*out));
	if (ret)
		return -1;
	out->pin_min = l.pin_min;
	out->pin_max = l.pin_max;
	out->puk_min = l.puk_min;
	out->puk_max = l.puk_max;
	out->pin_tries = l.pin_tries;
	out->puk_tries = l.puk_tries;
	snprintf(out->unblock_with, sizeof(out->unblock_with), "%s",
		 l.unblock_with ? l.unblock_with : "");
	return 0;
}
