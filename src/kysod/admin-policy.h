/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What kyso admin may do to a token: its family in the token catalogue, which
 * operations the family's [provisioning] section lists as safe, and the
 * limits of its PINs. Every call into the catalogue's provisioning facts is
 * in admin-policy.c. */
#ifndef KYSOD_ADMIN_POLICY_H
#define KYSOD_ADMIN_POLICY_H

#include "kysod/daemon.h"

/* The operations, as kysod's routes name them. */
enum admin_op {
	ADMIN_INIT,
	ADMIN_PIN_CHANGE,	/* the user PIN, or with so the SO PIN (PUK) */
	ADMIN_PIN_UNBLOCK,
	ADMIN_PIN_SET,
	ADMIN_KEYGEN,
	ADMIN_IMPORT,
	ADMIN_DELETE,
	ADMIN_WIPE,
	ADMIN_CSR,		/* a signature with the user PIN: no catalogue fact */
};

/* "init", "pin-change", "pin-unblock", "pin-set", "keygen", "import",
 * "delete", "wipe", "csr": the names of the audit log and of the catalogue. */
const char *admin_op_name(enum admin_op op);

struct kyso_token_kind;

/* A token's family. */
struct admin_family {
	const struct kyso_token_kind *kind;	/* NULL: not in the catalogue */
	char id[64];				/* the kind's file name, "" when none */
	char name[128];				/* its name, "" when none */
};

/* The family of a token of the module at module_path in the reader named
 * reader: a software token by its module, a card by the ATR in that reader. */
void admin_family(struct kysod *d, const char *module_path, const char *reader,
		  struct admin_family *f);

/* Whether the family's facts list op as safe (a family without them, or a
 * token outside the catalogue: only changing a PIN). */
int admin_op_safe(const struct admin_family *f, enum admin_op op);

/* What the catalogue knows of the family's PINs; 0 is unknown. */
struct admin_limits {
	unsigned int pin_min, pin_max, puk_min, puk_max, pin_tries, puk_tries;
	char unblock_with[16];		/* "puk", "so-pin" or "" */
};

/* Fills out; returns 0, or -1 when the family has no facts (out all unknown). */
int admin_family_limits(const struct admin_family *f, struct admin_limits *out);

#endif
