/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A token as kyso admin sees it: asked of its module's helper (ADMIN_INVENTORY),
 * initialised or not, with its PIN counters, its family and its objects. */
#ifndef KYSOD_ADMIN_TOKEN_H
#define KYSOD_ADMIN_TOKEN_H
#include <limits.h>
#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"
#include "kysod/admin-policy.h"
#include "kysod/daemon.h"
#include "kysod/reply.h"

/* The CK_TOKEN_INFO flags kysod reads (PKCS#11 v2.40; kysod does not
 * include the PKCS#11 headers, which are the helper's). */
#define P11F_LOGIN_REQUIRED	0x4UL
#define P11F_USER_PIN_INITIALIZED 0x8UL
#define P11F_WRITE_PROTECTED	0x2UL
#define P11F_PROTECTED_PATH	0x100UL
#define P11F_TOKEN_INITIALIZED	0x400UL
#define P11F_USER_COUNT_LOW	0x10000UL
#define P11F_USER_FINAL_TRY	0x20000UL
#define P11F_USER_LOCKED	0x40000UL
#define P11F_USER_TO_BE_CHANGED	0x80000UL
#define P11F_SO_COUNT_LOW	0x100000UL
#define P11F_SO_FINAL_TRY	0x200000UL
#define P11F_SO_LOCKED		0x400000UL
#define P11F_SO_TO_BE_CHANGED	0x800000UL

struct admin_token {
	size_t module;
	char module_name[64];
	char module_path[PATH_MAX];
	json_t *info;			/* the helper's object for the token; owned */
	char id[33];
	unsigned long flags;
	char label[64];
	char serial[64];
	char model[64];
	char reader[128];
	unsigned int pin_min, pin_max;	/* the token's word (C_GetTokenInfo); 0 unknown */
	int mgmt_key;			/* the module (ykcs11) makes the SO a PIV card's
					 * management key: keygen, import, delete and wipe
					 * ask for it; the PUK is the "SO PIN" of PIN changes
					 * and unblocking, and its tries are not reported */
	struct admin_family family;
	struct admin_limits limits;	/* the catalogue's word */
};

/* Finds the token with this id among the modules that run. Returns 0 (free
 * t with admin_token_free), or -1 with rep set (token_not_found,
 * token_not_present, module_*). */
int admin_token_find(struct kysod *d, const char *id, struct admin_token *t,
		     struct kyso_reply *rep);

void admin_token_free(struct admin_token *t);

/* The helper's list of module's tokens ({"module":…, "tokens":[…]}, a new
 * reference), or NULL with *err set. */
json_t *admin_module_tokens(struct kysod *d, size_t module, const char *only_id,
			    enum kyso_err *err);

/* Fills t (info taken, a new reference) for a token of module. */
void admin_token_fill(struct kysod *d, size_t module, const char *name, const char *path,
		      json_t *info, struct admin_token *t);

/* The state of the user PIN (so 0) or the SO PIN: "ok", "count_low",
 * "final_try", "locked"; the user PIN of a token that has none:
 * "not_initialized". */
const char *admin_pin_state(unsigned long flags, int so);

/* {state, count_low, final_try, locked, must_change, tries_left} for the API;
 * tries_left from the catalogue's count where the flags allow (null when
 * not known: always for the PUK of a management key token, whose module
 * does not report its tries). */
json_t *admin_pin_json(const struct admin_token *t, int so);

#endif
