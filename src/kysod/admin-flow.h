/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every /v1/admin route does: the gate (admin = yes in kysod.conf, the
 * Unix socket only), the token and whether the catalogue lets this be done
 * to its family, the PIN counters (the last try only with force), the PIN
 * dialogs, the helper's operation, and the audit line. */
#ifndef KYSOD_ADMIN_FLOW_H
#define KYSOD_ADMIN_FLOW_H
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"
#include "kysod/admin-token.h"
#include "kysod/router.h"

/* One admin request. */
struct admin_ctx {
	struct kysod *d;
	const struct kyso_peer *peer;
	enum admin_op op;
	char token_id[33];		/* as asked */
	struct admin_token tok;		/* found; tok.info NULL before */
	int force;			/* the request said force: true */
	int recorded;			/* the body was valid: the request gets an audit line */
	int dialog;			/* the dialog slot is held */
	/* for the audit line, when they apply */
	char new_token[33];		/* the token's id after init or wipe */
	char key_id[2 * 64 + 1];
	char key_type[16];
	char certificate[65];
	char subject[256];
};

/* The route's first checks, for every method: administration is on
 * (admin_disabled), the request came on the Unix socket (not_for_browsers).
 * Returns 0, or -1 with rep set. */
int admin_gate(const struct kysod_request *req, struct kyso_reply *rep);

/* For a POST: the gate, the body as an object with only the members known
 * (n names, "token" and "force" among them), a token id in "token", force.
 * Returns the body (the caller decrefs it), or NULL with rep set. */
json_t *admin_begin(struct admin_ctx *c, const struct kysod_request *req, enum admin_op op,
		    const char *const *known, size_t n, struct kyso_reply *rep);

/* Once the rest of the body is checked (the request gets an audit line from
 * here on): the audit log usable, the token looked up, and the operation
 * allowed on its family (operation_unsafe). Returns 0, or -1 with rep set. */
int admin_find(struct admin_ctx *c, struct kyso_reply *rep);

/* The token is initialised and, when user_pin, has a user PIN. Returns 0,
 * or -1 with rep set (token_not_initialized). */
int admin_need_initialized(struct admin_ctx *c, int user_pin, struct kyso_reply *rep);

/* A label in field "label": 1 to max bytes, no control characters; *label
 * is NULL when it is absent and not required. too_long is the message when
 * it is empty or longer. Returns 0, or -1 with rep set. */
int admin_label_field(json_t *root, int required, size_t max, const char *too_long,
		      const char **label, struct kyso_reply *rep);

/* A key id (CKA_ID) in field "key_id": 2 to 128 hex digits, an even number,
 * either case, lowercased into out (129 bytes; "" when it is absent and not
 * required). Returns 0, or -1 with rep set. */
int admin_key_id_field(json_t *root, int required, char *out, struct kyso_reply *rep);

/* Whether the user PIN (so 0) or the SO PIN may be presented: refused when
 * it is locked, or when it is at its last try and the request did not say
 * force. Returns 0, or -1 with rep set. */
int admin_tries_ok(struct admin_ctx *c, int so, struct kyso_reply *rep);

/* Takes the one dialog slot for the dialogs of this request (released by
 * admin_finish). Returns 0, or -1 with rep set. */
int admin_dialog_take(struct admin_ctx *c, struct kyso_reply *rep);

/* A PIN dialog saying what is to be done (action: "change the user PIN")
 * to which token and who asks; prompt is the entry's label. A new PIN
 * (is_new) is typed twice and must fit the token's and the family's length
 * limits for the user PIN (so 0) or the SO PIN. *pin is freed with
 * pinentry_free_pin. Returns 0, or -1 with rep set. */
int admin_ask_pin(struct admin_ctx *c, const char *action, const char *prompt, int is_new,
		  int so, char **pin, struct kyso_reply *rep);

/* "PUK" or "SO PIN": what the token calls the PIN that unblocks the user's
 * (a management key token's, and a family's whose catalogue says unblock =
 * puk, is the PUK). */
const char *admin_so_word(const struct admin_ctx *c);

/* The management key of a token that has one (c->tok.mgmt_key), from a
 * dialog saying what is to be done (action) to which token: 48 hex digits,
 * a 3DES key, the only kind ykcs11 2.2 authenticates with; anything else is
 * refused here (pin_rejected), before the token sees it. *key is freed with
 * pinentry_free_pin. Returns 0, or -1 with rep set. */
int admin_ask_mgmt_key(struct admin_ctx *c, const char *action, char **key,
		       struct kyso_reply *rep);

/* admin_call's so for a management key. */
#define ADMIN_MGMT_KEY 2

/* Sends op with req's fields and the PINs to the token's helper and waits
 * (timeout seconds). A helper error sets rep (the PIN state of the SO PIN
 * when so is 1, else of the user PIN, added to a PIN error; with so
 * ADMIN_MGMT_KEY, the secret was a management key, which has no state).
 * Returns 0, or -1; ans holds the helper's answer, if any, either way
 * (clear it). */
int admin_call(struct admin_ctx *c, uint16_t op, struct kyso_out *req, const char *const *pins,
	       size_t npins, int so, unsigned int timeout, struct kyso_msg *ans,
	       struct kyso_reply *rep);

/* The PIN state of the token after an answer of the helper (its details'
 * flags), for the API: {"user": …, "so": …}. */
json_t *admin_answer_pins(struct admin_ctx *c, const struct kyso_msg *ans);

/* Ends the request: releases the dialog slot, writes the audit line
 * (result: "ok", or the error code of rep) and waits until it is on disk;
 * when that fails, an answer that was a success becomes audit_failed. */
void admin_finish(struct admin_ctx *c, struct kyso_reply *rep);

/* Seconds a module may take for an operation that makes keys or
 * initialises: request_timeout, but at least 300. */
unsigned int admin_long_timeout(struct kysod *d);

#endif
