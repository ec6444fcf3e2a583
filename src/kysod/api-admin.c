/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/admin/init, /v1/admin/wipe and /v1/admin/pin/{change,unblock,set}:
 * a token's initialisation and its PINs. Every PIN comes from a dialog. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/safe-text.h"
#include "kysod/admin-flow.h"
#include "kysod/api.h"
#include "kysod/pinentry.h"
#include "kysod/request-fields.h"

/* A token label: 1 to 32 bytes (PKCS#11's field), no control characters. */
static int label_field(json_t *root, int required, const char **label, struct kyso_reply *rep)
{
	return admin_label_field(root, required, 32, "must be 1 to 32 bytes (a PKCS#11 token label)",
				 label, rep);
}

/* The answer of a successful operation: the token (its id now), the
 * operation and the PIN states, with more members from extra (consumed). */
static void answer(struct admin_ctx *c, const struct kyso_msg *ans, json_t *extra,
		   struct kyso_reply *rep)
{
	json_t *details = kyso_msg_json(ans, KYSO_F_DETAILS);
	const char *now = json_string_value(json_object_get(details, "token"));
	json_t *body;

	snprintf(c->new_token, sizeof(c->new_token), "%s", now && strlen(now) == 32 ? now :
		 c->tok.id);
	body = json_pack("{s:s, s:s, s:o}", "token", c->new_token, "operation",
			 admin_op_name(c->op), "pin", admin_answer_pins(c, ans));
	if (body && extra)
		json_object_update(body, extra);
	json_decref(extra);
	json_decref(details);
	kyso_reply_ok(rep, 200, body);
}

void api_admin_init(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "label", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *label, *pins[2];
	char *so = NULL, *user = NULL, action[160], shown[160];
	json_t *root;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_INIT, known, 3, rep);
	if (!root || label_field(root, 1, &label, rep) || admin_find(&c, rep))
		goto out;
	if (c.tok.flags & P11F_TOKEN_INITIALIZED) {
		kyso_reply_error(rep, KE_TOKEN_INITIALIZED, "the token is initialised already; to "
				 "start again, wipe it (kyso admin wipe)");
		goto out;
	}
	kyso_text_oneline(label, 1, 32, shown, sizeof(shown));
	snprintf(action, sizeof(action), "initialise a token as %s, with a new SO PIN and user PIN",
		 shown);
	if (admin_dialog_take(&c, rep) ||
	    admin_ask_pin(&c, action, "New SO PIN:", 1, 1, &so, rep) ||
	    admin_ask_pin(&c, action, "New user PIN:", 1, 0, &user, rep))
		goto out;
	pins[0] = so;
	pins[1] = user;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	kyso_out_str(&out, KYSO_F_LABEL, label);
	if (admin_call(&c, KYSO_OP_INIT_TOKEN, &out, pins, 2, 1, admin_long_timeout(c.d), &ans,
		       rep) == 0)
		answer(&c, &ans, json_pack("{s:s}", "label", label), rep);
out:
	admin_finish(&c, rep);
	pinentry_free_pin(so);
	pinentry_free_pin(user);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

void api_admin_wipe(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "label", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *label, *pins[1];
	char *so = NULL;
	json_t *root;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_WIPE, known, 3, rep);
	if (!root || label_field(root, 0, &label, rep) || admin_find(&c, rep) ||
	    admin_need_initialized(&c, 0, rep) || admin_tries_ok(&c, 1, rep))
		goto out;
	if (!label)
		label = c.tok.label[0] ? c.tok.label : "kyso";
	/* ykcs11's C_InitToken takes the management key, keeps it, and puts
	 * the PIN and PUK back to the factory's */
	if (admin_dialog_take(&c, rep) ||
	    (c.tok.mgmt_key ?
	     admin_ask_mgmt_key(&c, "wipe a token: every key and certificate on it is deleted, "
				"and its PIN and PUK go back to the factory's", &so, rep) :
	     admin_ask_pin(&c, "wipe a token: every key and certificate on it is deleted, and its "
			   "user PIN with them", "SO PIN:", 0, 1, &so, rep)))
		goto out;
	pins[0] = so;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	kyso_out_str(&out, KYSO_F_LABEL, label);
	kyso_out_bool(&out, KYSO_F_REINIT, 1);
	if (admin_call(&c, KYSO_OP_INIT_TOKEN, &out, pins, 1, c.tok.mgmt_key ? ADMIN_MGMT_KEY : 1,
		       admin_long_timeout(c.d), &ans, rep) == 0)
		answer(&c, &ans, json_pack("{s:s}", "label", label), rep);
out:
	admin_finish(&c, rep);
	pinentry_free_pin(so);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

void api_admin_pin_change(const struct kysod_request *req, const char *arg,
			  struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "so", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *pins[2];
	char *old = NULL, *new = NULL, cur_prompt[32], new_prompt[32];
	json_t *root, *v;
	int so;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_PIN_CHANGE, known, 3, rep);
	if (!root)
		goto out;
	v = json_object_get(root, "so");
	if (v && !json_is_boolean(v)) {
		field_error(rep, KE_INVALID_TYPE, "so", "must be true or false");
		goto out;
	}
	so = json_is_true(v);
	if (admin_find(&c, rep) || admin_need_initialized(&c, !so, rep) || admin_tries_ok(&c, so, rep))
		goto out;
	snprintf(cur_prompt, sizeof(cur_prompt), "Current %s:", so ? admin_so_word(&c) : "PIN");
	snprintf(new_prompt, sizeof(new_prompt), "New %s:", so ? admin_so_word(&c) : "PIN");
	if (admin_dialog_take(&c, rep) ||
	    admin_ask_pin(&c, so ? "change a token's SO PIN (PUK)" : "change a token's user PIN",
			  cur_prompt, 0, so, &old, rep) ||
	    admin_ask_pin(&c, so ? "change a token's SO PIN (PUK)" : "change a token's user PIN",
			  new_prompt, 1, so, &new, rep))
		goto out;
	pins[0] = old;
	pins[1] = new;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	if (so)
		kyso_out_bool(&out, KYSO_F_SO, 1);
	if (admin_call(&c, KYSO_OP_SET_PIN, &out, pins, 2, so, c.d->cfg.request_timeout, &ans,
		       rep) == 0)
		answer(&c, &ans, json_pack("{s:s}", "changed", so ? "so" : "user"), rep);
out:
	admin_finish(&c, rep);
	pinentry_free_pin(old);
	pinentry_free_pin(new);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

/* unblock and set: the SO logs in and sets a new user PIN */
static void init_pin(const struct kysod_request *req, enum admin_op op, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *pins[2];
	char *so = NULL, *new = NULL, prompt[32];
	const char *action = op == ADMIN_PIN_UNBLOCK ?
			     "unblock a token's user PIN, giving it a new one" :
			     "set a token's user PIN";
	json_t *root;

	kyso_out_init(&out);
	root = admin_begin(&c, req, op, known, 2, rep);
	if (!root || admin_find(&c, rep) || admin_need_initialized(&c, 0, rep) ||
	    admin_tries_ok(&c, 1, rep))
		goto out;
	snprintf(prompt, sizeof(prompt), "%s:", admin_so_word(&c));
	if (admin_dialog_take(&c, rep) ||
	    admin_ask_pin(&c, action, prompt, 0, 1, &so, rep) ||
	    admin_ask_pin(&c, action, "New user PIN:", 1, 0, &new, rep))
		goto out;
	pins[0] = so;
	pins[1] = new;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	if (admin_call(&c, KYSO_OP_INIT_PIN, &out, pins, 2, 1, c.d->cfg.request_timeout, &ans,
		       rep) == 0)
		answer(&c, &ans, NULL, rep);
out:
	admin_finish(&c, rep);
	pinentry_free_pin(so);
	pinentry_free_pin(new);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

void api_admin_pin_unblock(const struct kysod_request *req, const char *arg,
			   struct kyso_reply *rep)
{
	init_pin(req, ADMIN_PIN_UNBLOCK, rep);
}

void api_admin_pin_set(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	init_pin(req, ADMIN_PIN_SET, rep);
}
