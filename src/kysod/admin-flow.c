/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/safe-text.h"
#include "common/secure.h"
#include "kysod/admin-flow.h"
#include "kysod/audit.h"
#include "kysod/helpers.h"
#include "kysod/pinentry.h"
#include "kysod/request-fields.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-record.h"

#define SHOWN_NAME_MAX 64

int admin_gate(const struct kysod_request *req, struct kyso_reply *rep)
{
	/* browser.c refuses /v1/admin on the loopback listener before any
	 * route runs; this is the same rule where the route is */
	if (req->peer->tcp) {
		kyso_reply_error(rep, KE_NOT_FOR_BROWSERS,
				 "administration is done with the kyso command, not from web pages");
		return -1;
	}
	if (!req->d->cfg.admin) {
		kyso_reply_error(rep, KE_ADMIN_DISABLED,
				 "administration is off: set admin = yes in the [kysod] section of "
				 "kysod.conf to provision tokens through this kysod");
		return -1;
	}
	return 0;
}

static int token_id(json_t *root, char *id, struct kyso_reply *rep)
{
	const char *s;

	if (field_string(root, "token", 1, &s, rep))
		return -1;
	if (strlen(s) == 32 && kyso_hex_lower(s, 32, id) == 0)
		return 0;
	return field_error(rep, KE_INVALID_VALUE, "token", "must be a token id (32 hex digits)");
}

json_t *admin_begin(struct admin_ctx *c, const struct kysod_request *req, enum admin_op op,
		    const char *const *known, size_t n, struct kyso_reply *rep)
{
	json_t *root, *force;

	memset(c, 0, sizeof(*c));
	c->d = req->d;
	c->peer = req->peer;
	c->op = op;
	if (admin_gate(req, rep))
		return NULL;
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root || field_known(root, known, n, rep) || token_id(root, c->token_id, rep))
		goto bad;
	force = json_object_get(root, "force");
	if (force && !json_is_boolean(force)) {
		field_error(rep, KE_INVALID_TYPE, "force", "must be true or false");
		goto bad;
	}
	c->force = json_is_true(force);
	return root;
bad:
	json_decref(root);
	return NULL;
}

int admin_find(struct admin_ctx *c, struct kyso_reply *rep)
{
	c->recorded = 1;
	if (!audit_usable(&c->d->audit)) {
		kyso_reply_error(rep, KE_AUDIT_FAILED,
				 "the audit log cannot be written; administration is stopped until it can");
		return -1;
	}
	if (admin_token_find(c->d, c->token_id, &c->tok, rep))
		return -1;
	if (!admin_op_safe(&c->tok.family, c->op)) {
		if (c->tok.family.name[0])
			kyso_reply_error(rep, KE_OPERATION_UNSAFE, "the token catalogue does not list "
					 "%s as safe for the family %s; kyso does not do it",
					 admin_op_name(c->op), c->tok.family.name);
		else
			kyso_reply_error(rep, KE_OPERATION_UNSAFE, "the token catalogue does not know "
					 "this token's family: kyso only changes its PINs");
		kyso_reply_error_set(rep, "family", c->tok.family.id[0] ?
				     json_string(c->tok.family.id) : json_null());
		return -1;
	}
	return 0;
}

int admin_need_initialized(struct admin_ctx *c, int user_pin, struct kyso_reply *rep)
{
	if (!(c->tok.flags & P11F_TOKEN_INITIALIZED)) {
		kyso_reply_error(rep, KE_TOKEN_NOT_INITIALIZED,
				 "the token is not initialised (kyso admin init)");
		return -1;
	}
	if (user_pin && !(c->tok.flags & P11F_USER_PIN_INITIALIZED)) {
		kyso_reply_error(rep, KE_TOKEN_NOT_INITIALIZED,
				 "the token has no user PIN yet (kyso admin pin set)");
		return -1;
	}
	return 0;
}

int admin_label_field(json_t *root, int required, size_t max, const char *too_long,
		      const char **label, struct kyso_reply *rep)
{
	const unsigned char *p;

	if (field_string(root, "label", required, label, rep))
		return -1;
	if (!*label)
		return 0;
	if (!**label || strlen(*label) > max)
		return field_error(rep, KE_INVALID_VALUE, "label", too_long);
	for (p = (const unsigned char *)*label; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return field_error(rep, KE_INVALID_VALUE, "label",
					   "must not hold control characters");
	return 0;
}

int admin_key_id_field(json_t *root, int required, char *out, struct kyso_reply *rep)
{
	const char *s;
	size_t len;

	out[0] = '\0';
	if (field_string(root, "key_id", required, &s, rep))
		return -1;
	if (!s)
		return 0;
	len = strlen(s);
	if (len >= 2 && len <= 128 && len % 2 == 0 && kyso_hex_lower(s, len, out) == 0)
		return 0;
	out[0] = '\0';
	return field_error(rep, KE_INVALID_VALUE, "key_id",
			   "must be a key id (CKA_ID) in hex: 2 to 128 hex digits, an even number");
}

int admin_tries_ok(struct admin_ctx *c, int so, struct kyso_reply *rep)
{
	const char *state = admin_pin_state(c->tok.flags, so);

	if (!strcmp(state, "locked")) {
		kyso_reply_error(rep, KE_PIN_LOCKED, so ?
				 "the token's SO PIN (PUK) is locked; kyso cannot unlock it" :
				 "the token's user PIN is locked; unblock it (kyso admin pin unblock)");
		kyso_reply_error_set(rep, "pin", json_pack("{s:s, s:s}", "which", so ? "so" : "user",
							   "state", state));
		return -1;
	}
	if (!strcmp(state, "final_try") && !c->force) {
		kyso_reply_error(rep, KE_LAST_TRY,
				 "the token's %s has one try left: a wrong entry locks it%s. Ask again "
				 "with force (kyso admin … --force) to go on",
				 so ? "SO PIN (PUK)" : "user PIN",
				 so ? " (on many tokens for good)" : "");
		kyso_reply_error_set(rep, "pin", json_pack("{s:s, s:s, s:i}", "which",
							   so ? "so" : "user", "state", state,
							   "tries_left", 1));
		return -1;
	}
	return 0;
}

int admin_dialog_take(struct admin_ctx *c, struct kyso_reply *rep)
{
	if (sign_dialog_take(c->d, rep))
		return -1;
	c->dialog = 1;
	return 0;
}

const char *admin_so_word(const struct admin_ctx *c)
{
	return c->tok.mgmt_key || !strcmp(c->tok.limits.unblock_with, "puk") ? "PUK" : "SO PIN";
}

/* "the user PIN" / "the SO PIN" / "the PUK" */
static const char *pin_name(const struct admin_ctx *c, int so)
{
	if (!so)
		return "the user PIN";
	return !strcmp(admin_so_word(c), "PUK") ? "the PUK" : "the SO PIN";
}

static void describe(struct admin_ctx *c, const char *action, const char *instruction,
		     char *out, size_t outlen)
{
	char who[512], label[SHOWN_NAME_MAX * 4 + 8], kind[SHOWN_NAME_MAX * 4 + 8];
	char serial[SHOWN_NAME_MAX * 4 + 8], pid[32] = "";

	sign_caller_text(c->peer, who, sizeof(who));
	if (c->peer->pid > 0)
		snprintf(pid, sizeof(pid), " (process %d)", (int)c->peer->pid);
	kyso_text_oneline(c->tok.label[0] ? c->tok.label : "(no label)", 1, SHOWN_NAME_MAX, label,
			  sizeof(label));
	kyso_text_oneline(c->tok.family.name[0] ? c->tok.family.name : c->tok.model, 0,
			  SHOWN_NAME_MAX, kind, sizeof(kind));
	kyso_text_oneline(c->tok.serial[0] ? c->tok.serial : "none", 0, SHOWN_NAME_MAX, serial,
			  sizeof(serial));
	snprintf(out, outlen,
		 "kyso admin: %s%s asks to %s.\n\n"
		 "Token: %s (%s, serial %s).\n\n"
		 "%s",
		 who, pid, action, label, kind, serial, instruction);
}

/* The length limits of a new PIN: the token's and the family's, the
 * narrower of each. */
static void new_pin_limits(const struct admin_ctx *c, int so, unsigned int *min, unsigned int *max)
{
	unsigned int fmin = so ? c->tok.limits.puk_min : c->tok.limits.pin_min;
	unsigned int fmax = so ? c->tok.limits.puk_max : c->tok.limits.pin_max;

	*min = c->tok.pin_min > fmin ? c->tok.pin_min : fmin;
	*max = c->tok.pin_max;
	if (fmax && (!*max || fmax < *max))
		*max = fmax;
}

static void dialog_error(struct kysod *d, const char *err, struct kyso_reply *rep)
{
	if (!strcmp(err, "dialog_aborted") && kysod_stopping(d))
		kyso_reply_error(rep, KE_SHUTTING_DOWN, "kysod is stopping; the dialog was closed");
	else if (!strcmp(err, "pin_cancelled"))
		kyso_reply_error(rep, KE_PIN_CANCELLED, "the user cancelled the dialog, or it timed out");
	else if (!strcmp(err, "pin_mismatch"))
		kyso_reply_error(rep, KE_PIN_MISMATCH,
				 "the new PIN was not typed the same twice; nothing was changed");
	else
		kyso_reply_error(rep, KE_PINENTRY_FAILED, "the PIN dialog could not be shown");
}

static int stopping(void *opaque)
{
	return kysod_stopping(opaque);
}

int admin_ask_pin(struct admin_ctx *c, const char *action, const char *prompt, int is_new,
		  int so, char **pin, struct kyso_reply *rep)
{
	struct pin_prompt p = { 0 };
	char desc[2048], instruction[256], keyinfo[64], title[64], limits[64] = "";
	const char *state = admin_pin_state(c->tok.flags, so), *err;
	unsigned int min = 0, max = 0;
	size_t len;

	*pin = NULL;
	if (is_new) {
		new_pin_limits(c, so, &min, &max);
		if (min && max)
			snprintf(limits, sizeof(limits), "%u to %u characters", min, max);
		else if (min)
			snprintf(limits, sizeof(limits), "at least %u characters", min);
		else if (max)
			snprintf(limits, sizeof(limits), "at most %u characters", max);
		/* "the user PIN" -> "new user PIN" */
		snprintf(instruction, sizeof(instruction), "Enter the new %s%s%s%s twice.",
			 pin_name(c, so) + 4, limits[0] ? " (" : "", limits, limits[0] ? ")" : "");
	} else {
		snprintf(instruction, sizeof(instruction), "Enter %s to allow it.", pin_name(c, so));
	}
	describe(c, action, instruction, desc, sizeof(desc));
	snprintf(title, sizeof(title), "kyso admin: %s", admin_op_name(c->op));
	snprintf(keyinfo, sizeof(keyinfo), "s/kyso-admin-%s", c->tok.id);
	p.title = title;
	p.description = desc;
	p.prompt = prompt;
	p.keyinfo = keyinfo;
	p.ok_label = "OK";
	p.timeout = c->d->cfg.pin_timeout;
	p.aborted = stopping;
	p.abort_opaque = c->d;
	if (!is_new && !strcmp(state, "final_try"))
		p.error = "This is the last try: a wrong entry locks it.";
	else if (!is_new && !strcmp(state, "count_low"))
		p.error = "A wrong PIN was entered before; few tries may be left.";
	else if (!is_new && so && c->tok.mgmt_key)
		p.error = "The token does not tell how many PUK tries are left: a wrong PUK on "
			  "the last one blocks the PUK for good.";
	if (is_new) {
		p.repeat = "Repeat:";
		p.repeat_error = "The two entries differ.";
	}
	log_info("asking %s for %s on token %.12s for %s (pid %d)", is_new ? "a new PIN" : "a PIN",
		 admin_op_name(c->op), c->tok.id, kyso_peer_shown(c->peer), (int)c->peer->pid);
	if ((is_new ? pinentry_getpin_new : pinentry_getpin)(c->d->cfg.pinentry, &p, pin, &err)) {
		dialog_error(c->d, err, rep);
		return -1;
	}
	if (!is_new)
		return 0;
	/* a PIN the token would refuse is refused here: no try of anything is
	 * spent, and nothing is half done */
	len = strlen(*pin);
	if ((min && len < min) || (max && len > max) || len > KYSO_IPC_MAX_SECRET / 2) {
		pinentry_free_pin(*pin);
		*pin = NULL;
		kyso_reply_error(rep, KE_PIN_REJECTED,
				 "the new PIN has %zu characters; this token takes %s; nothing was changed",
				 len, limits[0] ? limits : "fewer");
		return -1;
	}
	return 0;
}

int admin_ask_mgmt_key(struct admin_ctx *c, const char *action, char **key,
		       struct kyso_reply *rep)
{
	struct pin_prompt p = { 0 };
	char desc[2048], keyinfo[64], title[64];
	const char *err;
	size_t len, i;

	*key = NULL;
	describe(c, action, "Enter the token's management key to allow it: the administrator's "
		 "key of a PIV token, 48 hexadecimal digits (a 3DES key), not its PIN or PUK.",
		 desc, sizeof(desc));
	snprintf(title, sizeof(title), "kyso admin: %s", admin_op_name(c->op));
	snprintf(keyinfo, sizeof(keyinfo), "s/kyso-admin-%s", c->tok.id);
	p.title = title;
	p.description = desc;
	p.prompt = "Management key:";
	p.keyinfo = keyinfo;
	p.ok_label = "OK";
	p.timeout = c->d->cfg.pin_timeout;
	p.aborted = stopping;
	p.abort_opaque = c->d;
	log_info("asking the management key for %s on token %.12s for %s (pid %d)",
		 admin_op_name(c->op), c->tok.id, kyso_peer_shown(c->peer), (int)c->peer->pid);
	if (pinentry_getpin(c->d->cfg.pinentry, &p, key, &err)) {
		dialog_error(c->d, err, rep);
		return -1;
	}
	len = strlen(*key);
	for (i = 0; i < len && isxdigit((unsigned char)(*key)[i]); i++)
		;
	if (len == 48 && i == len)
		return 0;
	pinentry_free_pin(*key);
	*key = NULL;
	kyso_reply_error(rep, KE_PIN_REJECTED, "the management key entered is not 48 hexadecimal "
			 "digits (a 3DES key, the only kind Yubico's module takes); nothing was sent "
			 "to the token");
	return -1;
}

unsigned int admin_long_timeout(struct kysod *d)
{
	return d->cfg.request_timeout < 300 ? 300 : d->cfg.request_timeout;
}

/* The flags a helper's answer reports for the token now, or the ones known. */
static unsigned long answer_flags(struct admin_ctx *c, const struct kyso_msg *ans)
{
	json_t *details = kyso_msg_json(ans, KYSO_F_DETAILS);
	json_t *flags = json_object_get(details, "flags");
	unsigned long f = json_is_integer(flags) ? (unsigned long)json_integer_value(flags) :
			  c->tok.flags;

	json_decref(details);
	return f;
}

int admin_call(struct admin_ctx *c, uint16_t op, struct kyso_out *req, const char *const *pins,
	       size_t npins, int so, unsigned int timeout, struct kyso_msg *ans,
	       struct kyso_reply *rep)
{
	enum kyso_err err = KE_MODULE_UNAVAILABLE, e;
	unsigned char *secret = NULL;
	size_t secret_len = 0;
	const char *msg, *state;
	int ret = -1;

	memset(ans, 0, sizeof(*ans));
	if (npins && kyso_ipc_pins_join(pins, npins, &secret, &secret_len)) {
		kyso_reply_error(rep, KE_PIN_REJECTED, "the PINs are too long together");
		return -1;
	}
	if (helper_call(c->d, c->tok.module, op, req, secret, secret_len, timeout, ans, &err)) {
		kyso_reply_error(rep, err, "%s", err == KE_MODULE_TIMEOUT ?
				 "the token's module did not answer in time; it is being restarted" :
				 kyso_err_message(err));
		goto out;
	}
	if (!(ans->flags & KYSO_IPC_F_ERROR)) {
		ret = 0;
		goto out;
	}
	e = kyso_err_from_helper(kyso_msg_str(ans, KYSO_F_CODE));
	msg = kyso_msg_str(ans, KYSO_F_MESSAGE);
	kyso_reply_error(rep, e, "%s", msg ? msg : kyso_err_message(e));
	if (so == ADMIN_MGMT_KEY && e == KE_PIN_INCORRECT) {
		/* a YubiKey counts no tries of its management key */
		kyso_reply_error(rep, e, "the management key is incorrect; nothing was changed");
		kyso_reply_error_set(rep, "pin", json_pack("{s:s, s:s}", "which", "management_key",
							   "state", "ok"));
	} else if (e == KE_PIN_INCORRECT || e == KE_PIN_LOCKED) {
		state = admin_pin_state(answer_flags(c, ans), so);
		/* what the module said of the PIN just given stands, whatever
		 * flags it keeps (ykcs11 keeps none for the PUK): a locked one
		 * is locked, and after a wrong one the count is low at least */
		if (e == KE_PIN_LOCKED)
			state = "locked";
		else if (!strcmp(state, "ok"))
			state = "count_low";
		kyso_reply_error_set(rep, "pin", json_pack("{s:s, s:s}", "which", so ? "so" : "user",
							   "state", state));
	}
out:
	if (secret)
		kyso_secret_free(secret, secret_len + 1);
	return ret;
}

json_t *admin_answer_pins(struct admin_ctx *c, const struct kyso_msg *ans)
{
	unsigned long f = answer_flags(c, ans);

	return json_pack("{s:s, s:s}", "user", admin_pin_state(f, 0), "so", admin_pin_state(f, 1));
}

/* The audit line of an admin request. */
static int record(struct admin_ctx *c, const char *result)
{
	struct audit_entry e;
	uint64_t seq;
	int ret;

	audit_entry_init(&e);
	audit_entry_add_str(&e, "event", "admin");
	audit_entry_add_str(&e, "operation", admin_op_name(c->op));
	sign_record_caller(&e, c->peer);
	audit_entry_key(&e, "caller_check");
	audit_entry_raw(&e, "{\"checked\":");
	audit_entry_str(&e, kyso_peer_checks(c->peer));
	audit_entry_raw(&e, ",\"result\":");
	audit_entry_str(&e, c->peer->changed ? c->peer->what_changed : "same");
	audit_entry_raw(&e, "}");
	audit_entry_add_str(&e, "token", c->token_id);
	if (c->tok.info) {
		audit_entry_add_str(&e, "serial", c->tok.serial);
		audit_entry_add_str(&e, "label", c->tok.label);
		audit_entry_add_str(&e, "module", c->tok.module_name);
		if (c->tok.family.id[0])
			audit_entry_add_str(&e, "family", c->tok.family.id);
	}
	if (c->force)
		audit_entry_add_str(&e, "force", "yes");
	if (c->new_token[0] && strcmp(c->new_token, c->token_id))
		audit_entry_add_str(&e, "new_token", c->new_token);
	if (c->key_id[0])
		audit_entry_add_str(&e, "key_id", c->key_id);
	if (c->key_type[0])
		audit_entry_add_str(&e, "key_type", c->key_type);
	if (c->certificate[0])
		audit_entry_add_str(&e, "certificate", c->certificate);
	if (c->subject[0])
		audit_entry_add_str(&e, "subject", c->subject);
	audit_entry_add_str(&e, "result", result);
	ret = audit_append(&c->d->audit, &e, &seq) || audit_wait(&c->d->audit, seq) ? -1 : 0;
	audit_entry_free(&e);
	return ret;
}

void admin_finish(struct admin_ctx *c, struct kyso_reply *rep)
{
	int ok = rep->status >= 200 && rep->status < 300;

	if (c->dialog)
		sign_dialog_give(c->d);
	c->dialog = 0;
	if (c->recorded && record(c, ok ? "ok" : kyso_err_code(kyso_reply_err(rep)))) {
		log_error("the audit log did not take the %s of token %.12s", admin_op_name(c->op),
			  c->token_id);
		if (ok)
			kyso_reply_error(rep, KE_AUDIT_FAILED,
					 "the %s was done, but the audit log could not record it; "
					 "administration is stopped until kysod is restarted",
					 admin_op_name(c->op));
	}
	admin_token_free(&c->tok);
}
