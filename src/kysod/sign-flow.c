/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "common/mono-time.h"
#include "common/log.h"
#include "common/safe-text.h"
#include "kysod/helpers.h"
#include "kysod/pinentry.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-record.h"

/* How often a request waiting for the dialog slot looks whether it was given up. */
#define PROMPT_POLL_MS 100

static const char *pin_state_text(const char *state)
{
	if (!strcmp(state, "final_try"))
		return "This is the last try before the token locks.";
	if (!strcmp(state, "count_low"))
		return "A wrong PIN was entered before; few tries are left.";
	return NULL;
}

int sign_target_init(struct kysod *d, const char *cert_id, enum kysod_hash_alg alg,
		     enum kysod_padding padding, struct sign_target *t, struct kyso_reply *rep)
{
	memset(t, 0, sizeof(*t));
	/* no signature can be returned without its audit entry: ask nothing */
	if (!audit_usable(&d->audit)) {
		kyso_reply_error(rep, KE_AUDIT_FAILED,
				 "the audit log cannot be written; signing is stopped until it can");
		return -1;
	}
	if (inventory_find_cert(&d->inv, cert_id, &t->cert)) {
		kyso_reply_error(rep, KE_CERTIFICATE_NOT_FOUND, "no certificate with id %s", cert_id);
		return -1;
	}
	if (!t->cert.token_present && !helper_running(d, t->cert.module)) {
		kyso_reply_error(rep, KE_MODULE_UNAVAILABLE,
				 "the module of the token holding this certificate is not running");
		return -1;
	}
	if (!t->cert.token_present) {
		kyso_reply_error(rep, KE_TOKEN_NOT_PRESENT,
				 "the token \"%s\" holding this certificate is not inserted",
				 t->cert.token_label);
		return -1;
	}
	/* the token showed its private objects, or a signature looked: no PIN
	 * dialog for a key that is not there */
	if (t->cert.key == KEY_MISSING) {
		kyso_reply_error(rep, KE_KEY_NOT_FOUND,
				 "the token \"%s\" has no private key for this certificate",
				 t->cert.token_label);
		return -1;
	}
	if (t->cert.is_rsa) {
		t->mech = padding == PAD_PSS ? KYSO_MECH_PSS : KYSO_MECH_PKCS1;
	} else if (padding != PAD_DEFAULT) {
		kyso_reply_error(rep, KE_UNSUPPORTED_PADDING,
				 "padding applies to RSA keys only; this certificate has an EC key");
		kyso_reply_error_set(rep, "field", json_string("padding"));
		return -1;
	} else {
		t->mech = KYSO_MECH_ECDSA;
	}
	t->hash_alg = alg;
	snprintf(t->algorithm, sizeof(t->algorithm), "%s-%s",
		 t->cert.is_rsa ? (padding == PAD_PSS ? "rsa-pss" : "rsa-pkcs1") : "ecdsa",
		 hash_alg_name(alg));
	return 0;
}

/* Answers with the helper's error, adding the PIN state it reported. */
static void helper_error(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
			 struct kyso_reply *rep)
{
	const char *msg = kyso_msg_str(ans, KYSO_F_MESSAGE);
	const char *state = kyso_msg_str(ans, KYSO_F_PIN_STATE);
	/* a code the API does not know (pin_required here too) is a token error */
	enum kyso_err e = kyso_err_from_helper(kyso_msg_str(ans, KYSO_F_CODE));

	if (state)
		inventory_set_pin_state(&d->inv, t->cert.token, state);
	if (e == KE_KEY_NOT_FOUND)
		inventory_set_no_key(&d->inv, t->cert.id);
	if (e == KE_PIN_INCORRECT && state && pin_state_text(state))
		kyso_reply_error(rep, e, "%s. %s", msg ? msg : kyso_err_message(e),
				 pin_state_text(state));
	else
		kyso_reply_error(rep, e, "%s", msg ? msg : kyso_err_message(e));
	if (state && (e == KE_PIN_INCORRECT || e == KE_PIN_LOCKED || e == KE_PIN_CANCELLED))
		kyso_reply_error_set(rep, "pin", json_pack("{s:s}", "state", state));
}

static void call_error(struct kysod *d, enum kyso_err err, struct kyso_reply *rep)
{
	switch (err) {
	case KE_MODULE_CRASHED:
		kyso_reply_error(rep, err,
				 "the token's module crashed during the request; it is being restarted");
		break;
	case KE_SHUTTING_DOWN:
		kyso_reply_error(rep, err, "kysod is stopping; the request was not completed");
		break;
	case KE_TOKEN_REMOVED:
		kyso_reply_error(rep, err, "the token was removed during the request");
		break;
	case KE_MODULE_TIMEOUT:
		kyso_reply_error(rep, err,
				 "the token's module did not answer in %u s; it is being restarted",
				 d->cfg.request_timeout);
		break;
	default:
		kyso_reply_error(rep, KE_MODULE_UNAVAILABLE, "the token's module is not running");
	}
}

/* The intent entry of a signature, made durable while the token signs: the
 * target's entry, written first when it is still to write. */
struct intent_sync {
	struct kysod *d;
	const struct sign_target *t;
	int failed;
};

static void intent_sync(void *arg)
{
	struct intent_sync *s = arg;
	const struct sign_target *t = s->t;
	uint64_t seq = t->intent;

	if (t->intent_rec) {
		if (!*t->intent_seq && sign_intent(s->d, t->intent_rec, t->intent_seq)) {
			s->failed = 1;
			return;
		}
		seq = *t->intent_seq;
	}
	s->failed = audit_wait(&s->d->audit, seq) != 0;
}

/* One round trip to the helper. Returns 1 when the helper wants a login (ans
 * keeps its answer), 0 on success (ans holds it), -1 with rep set. A SIGN
 * has the target's intent entry written (if it is still to write) and synced
 * while the helper works. */
static int ask_helper(struct kysod *d, const struct sign_target *t, uint16_t op,
		      struct kyso_out *req, const char *pin, struct kyso_msg *ans,
		      struct kyso_reply *rep)
{
	struct intent_sync sync = { d, t, 0 };
	int with_intent = op == KYSO_OP_SIGN && (t->intent || t->intent_rec);
	enum kyso_err err = KE_MODULE_UNAVAILABLE;
	const char *code;

	kyso_msg_clear(ans);
	if (helper_call_overlap(d, t->cert.module, t->cert.token, op, req, (const unsigned char *)pin,
				pin ? strlen(pin) : 0, d->cfg.request_timeout,
				with_intent ? intent_sync : NULL, &sync, ans, &err)) {
		call_error(d, err, rep);
		return -1;
	}
	/* no signature leaves kysod before its intent is on disk */
	if (sync.failed) {
		kyso_reply_error(rep, KE_AUDIT_FAILED,
				 "the audit log cannot be written; no signature is returned");
		return -1;
	}
	if (!(ans->flags & KYSO_IPC_F_ERROR))
		return 0;
	code = kyso_msg_str(ans, KYSO_F_CODE);
	if (code && !strcmp(code, "pin_required"))
		return 1;
	helper_error(d, t, ans, rep);
	return -1;
}

/* Characters shown at most of each text that comes from outside. */
#define SHOWN_EXE_MAX 100
#define SHOWN_NAME_MAX 64
#define SHOWN_DESCRIPTION_MAX 120

void sign_caller_text(const struct kyso_peer *peer, char *out, size_t outlen)
{
	char exe[SHOWN_EXE_MAX * 4 + 8];

	if (peer->changed)
		snprintf(exe, sizeof(exe), "%s", kyso_peer_shown(peer));
	else
		kyso_text_oneline(peer->exe, 1, SHOWN_EXE_MAX, exe, sizeof(exe));
	/* an origin is checked to be scheme://host[:port] in lowercase ASCII:
	 * nothing in it can draw a line of its own */
	if (peer->origin[0] && peer->pid > 0)
		snprintf(out, outlen, "The web site %s in %s", peer->origin, exe);
	else if (peer->origin[0])
		snprintf(out, outlen, "The web site %s in a browser", peer->origin);
	else
		snprintf(out, outlen, "%s", exe);
}

/* The dialog's text. What the caller or a token chose (the executable's path,
 * the description, the holder's name, the label) is each one line without
 * control, bidi or invisible characters, so none of it can draw a paragraph
 * of its own; the caller's texts are quoted. */
static void describe(const struct sign_target *t, const struct kyso_peer *peer,
		     const struct sign_consent *c, int logged_in, char *out, size_t outlen)
{
	char exe[(SHOWN_EXE_MAX + KYSO_ORIGIN_MAX) * 4 + 32], holder[SHOWN_NAME_MAX * 4 + 8];
	char label[SHOWN_NAME_MAX * 4 + 8], desc[SHOWN_DESCRIPTION_MAX * 4 + 8], pid[32] = "";

	sign_caller_text(peer, exe, sizeof(exe));
	kyso_text_oneline(t->cert.holder, 0, SHOWN_NAME_MAX, holder, sizeof(holder));
	kyso_text_oneline(t->cert.token_label, 1, SHOWN_NAME_MAX, label, sizeof(label));
	if (c->description)
		kyso_text_oneline(c->description, 1, SHOWN_DESCRIPTION_MAX, desc, sizeof(desc));
	if (peer->pid > 0)
		snprintf(pid, sizeof(pid), " (process %d)", (int)peer->pid);
	snprintf(out, outlen,
		 "%s%s asks to sign %s with the certificate of\n"
		 "%s\n"
		 "on the token %s.%s%s\n\n"
		 "%s",
		 exe, pid, c->what, holder, label,
		 c->description ? "\n\nThe application says: " : "",
		 c->description ? desc : "",
		 logged_in ? "Allow it?" : "Enter the token's PIN to allow it, or cancel to refuse.");
}

/* What may end an open dialog before the user answers. */
struct dialog_watch {
	struct kysod *d;
	struct batch *batch;
};

static int dialog_aborted(void *opaque)
{
	struct dialog_watch *w = opaque;

	return kysod_stopping(w->d) || (w->batch && batch_cancelled(&w->d->batches, w->batch));
}

static void dialog_error(struct kysod *d, const char *err, struct kyso_reply *rep);

/* Takes the one dialog slot, waiting while another request's dialog is open;
 * gives up when w's request is. Returns 0, or -1 with rep set. */
static int prompt_acquire(struct kysod *d, struct dialog_watch *w, struct kyso_reply *rep)
{
	struct timespec tick;
	int ret = 0;

	pthread_mutex_lock(&d->prompt_lock);
	while (d->prompt_busy) {
		if (dialog_aborted(w)) {
			ret = -1;
			break;
		}
		kyso_deadline_ms(&tick, PROMPT_POLL_MS);
		pthread_cond_timedwait(&d->prompt_cond, &d->prompt_lock, &tick);
	}
	if (!ret)
		d->prompt_busy = 1;
	pthread_mutex_unlock(&d->prompt_lock);
	if (ret)
		dialog_error(d, "dialog_aborted", rep);
	return ret;
}

static void prompt_release(struct kysod *d)
{
	pthread_mutex_lock(&d->prompt_lock);
	d->prompt_busy = 0;
	pthread_cond_broadcast(&d->prompt_cond);
	pthread_mutex_unlock(&d->prompt_lock);
}

int sign_dialog_take(struct kysod *d, struct kyso_reply *rep)
{
	struct dialog_watch w = { d, NULL };

	return prompt_acquire(d, &w, rep);
}

void sign_dialog_give(struct kysod *d)
{
	prompt_release(d);
}

static void dialog_error(struct kysod *d, const char *err, struct kyso_reply *rep)
{
	if (!strcmp(err, "dialog_aborted") && kysod_stopping(d))
		kyso_reply_error(rep, KE_SHUTTING_DOWN, "kysod is stopping; the dialog was closed");
	else if (!strcmp(err, "dialog_aborted"))
		kyso_reply_error(rep, KE_BATCH_CANCELLED, "the batch was cancelled; the dialog was closed");
	else if (!strcmp(err, "pin_cancelled"))
		kyso_reply_error(rep, KE_PIN_CANCELLED, "the user cancelled the dialog, or it timed out");
	else
		kyso_reply_error(rep, KE_PINENTRY_FAILED, "the PIN dialog could not be shown");
}

/* With the prompt lock held, after the helper said the token needs a login:
 * the dialog, then the login. Returns 0 or -1 with rep set. */
/* Runs the PIN dialog. On success *pin is set (free with pinentry_free_pin).
 * Returns 0 or -1 with rep set. */
static int ask_pin(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
		   const struct sign_consent *c, const char *state, int per_signature, char **pin,
		   struct kyso_reply *rep)
{
	struct dialog_watch watch = { d, c->batch };
	struct pin_prompt prompt = { 0 };
	char desc[2048], keyinfo[64], note[256];
	const char *err;

	describe(t, peer, c, 0, desc, sizeof(desc));
	snprintf(note, sizeof(note), "%s%s%s",
		 per_signature ? "This key needs the PIN for each signature." : "",
		 per_signature && state && pin_state_text(state) ? " " : "",
		 state && pin_state_text(state) ? pin_state_text(state) : "");
	snprintf(keyinfo, sizeof(keyinfo), "s/kyso-%s", t->cert.token);
	prompt.title = "kyso: signature requested";
	prompt.description = desc;
	prompt.prompt = "PIN:";
	prompt.keyinfo = keyinfo;
	prompt.ok_label = "Sign";
	prompt.error = note[0] ? note : NULL;
	prompt.timeout = d->cfg.pin_timeout;
	prompt.aborted = dialog_aborted;
	prompt.abort_opaque = &watch;
	log_info("asking the PIN for token %.12s for %s%s%s (pid %d)%s", t->cert.token,
		 peer->origin, peer->origin[0] ? " in " : "", kyso_peer_shown(peer),
		 (int)peer->pid, per_signature ? ", for one signature" : "");
	if (pinentry_getpin(d->cfg.pinentry, &prompt, pin, &err)) {
		dialog_error(d, err, rep);
		return -1;
	}
	return 0;
}

static int refuse_locked(const char *state, struct kyso_reply *rep)
{
	if (!state || strcmp(state, "locked"))
		return 0;
	kyso_reply_error(rep, KE_PIN_LOCKED, "the token's PIN is locked; it must be unblocked");
	kyso_reply_error_set(rep, "pin", json_pack("{s:s}", "state", state));
	return -1;
}

/* keep_pin, when not NULL, receives the PIN after a successful login, for a
 * per-signature login in the same request (the caller wipes it). */
static int prompt_login(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
			const struct sign_consent *c, const struct kyso_msg *need, char **keep_pin,
			struct kyso_reply *rep)
{
	const char *state = kyso_msg_str(need, KYSO_F_PIN_STATE);
	struct kyso_msg ans = { 0 };
	struct kyso_out req;
	char *pin = NULL;
	int ret = -1;

	kyso_out_init(&req);
	kyso_out_str(&req, KYSO_F_TOKEN, t->cert.token);
	if (refuse_locked(state, rep))
		goto out;
	if (t->cert.protected_path) {
		/* the reader asks for the PIN on its own keypad */
		kyso_out_bool(&req, KYSO_F_PINPAD, 1);
		ret = ask_helper(d, t, KYSO_OP_LOGIN, &req, NULL, &ans, rep) == 0 ? 0 : -1;
		goto out;
	}
	if (ask_pin(d, t, peer, c, state, t->cert.per_signature, &pin, rep))
		goto out;
	switch (ask_helper(d, t, KYSO_OP_LOGIN, &req, pin, &ans, rep)) {
	case 0:
		ret = 0;
		if (keep_pin) {
			*keep_pin = pin;
			pin = NULL;
		}
		break;
	case 1:
		kyso_reply_error(rep, KE_TOKEN_ERROR, "the token did not accept the login");
		break;
	}
out:
	pinentry_free_pin(pin);
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	return ret;
}

static int confirm(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
		   const struct sign_consent *c, struct kyso_reply *rep)
{
	struct dialog_watch watch = { d, c->batch };
	struct pin_prompt prompt = { 0 };
	char desc[2048];
	const char *err;

	describe(t, peer, c, 1, desc, sizeof(desc));
	prompt.title = "kyso: signatures requested";
	prompt.description = desc;
	prompt.ok_label = "Sign";
	prompt.timeout = d->cfg.pin_timeout;
	prompt.aborted = dialog_aborted;
	prompt.abort_opaque = &watch;
	if (pinentry_confirm(d->cfg.pinentry, &prompt, &err)) {
		dialog_error(d, err, rep);
		return -1;
	}
	return 0;
}

static int login(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
		 const struct sign_consent *consent, char **keep_pin, struct kyso_reply *rep)
{
	struct dialog_watch watch = { d, consent->batch };
	struct kyso_msg ans = { 0 };
	struct kyso_out req;
	int rc, ret = -1;

	kyso_out_init(&req);
	kyso_out_str(&req, KYSO_F_TOKEN, t->cert.token);
	/* One dialog at a time; and another request may have logged the token in
	 * while this one waited for its turn. */
	if (prompt_acquire(d, &watch, rep))
		goto out;
	rc = ask_helper(d, t, KYSO_OP_LOGIN, &req, NULL, &ans, rep);
	if (rc == 1)
		ret = prompt_login(d, t, peer, consent, &ans, keep_pin, rep);
	else if (rc == 0)
		ret = consent->confirm_if_logged_in ? confirm(d, t, peer, consent, rep) : 0;
	prompt_release(d);
out:
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	return ret;
}

int sign_login(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
	       const struct sign_consent *consent, struct kyso_reply *rep)
{
	return login(d, t, peer, consent, NULL, rep);
}

/* Signs with a key that needs the PIN for each signature: one dialog, then
 * the signature request carrying the PIN. Returns as ask_helper. */
static int per_signature_pin(struct kysod *d, const struct sign_target *t,
			     const struct kyso_peer *peer, const struct sign_consent *c,
			     struct kyso_out *req, struct kyso_msg *ans, struct kyso_reply *rep)
{
	const char *state = kyso_msg_str(ans, KYSO_F_PIN_STATE);
	struct dialog_watch watch = { d, c->batch };
	char *pin = NULL;
	int rc = -1;

	if (refuse_locked(state, rep))
		return -1;
	if (prompt_acquire(d, &watch, rep))
		return -1;
	if (ask_pin(d, t, peer, c, state, 1, &pin, rep) == 0)
		rc = ask_helper(d, t, KYSO_OP_SIGN, req, pin, ans, rep);
	prompt_release(d);
	pinentry_free_pin(pin);
	if (rc == 1) {
		kyso_reply_error(rep, KE_TOKEN_ERROR, "the token did not accept the PIN for this signature");
		rc = -1;
	}
	return rc;
}

void sign_frame(const struct sign_target *t, const unsigned char *hash, size_t hash_len, int more,
		struct kyso_out *req)
{
	kyso_out_init(req);
	kyso_out_str(req, KYSO_F_TOKEN, t->cert.token);
	kyso_out_str(req, KYSO_F_KEY_ID, t->cert.key_id);
	kyso_out_u32(req, KYSO_F_MECH, t->mech);
	kyso_out_u32(req, KYSO_F_HASH_BITS, (uint32_t)(hash_alg_len(t->hash_alg) * 8));
	kyso_out_bytes(req, KYSO_F_HASH, hash, hash_len);
	if (more)
		kyso_out_bool(req, KYSO_F_KEEP_LOGIN, 1);
}

/* The signature of a successful SIGN answer into sig. Returns 0, or -1 with
 * rep set. */
static int take_signature(const struct kyso_msg *ans, unsigned char *sig, size_t *sig_len,
			  struct kyso_reply *rep)
{
	const unsigned char *got;
	size_t n = 0;

	got = kyso_msg_bytes(ans, KYSO_F_SIGNATURE, &n);
	if (!got || n == 0 || n > SIGN_MAX_SIG) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the helper answered without a signature");
		return -1;
	}
	memcpy(sig, got, n);
	*sig_len = n;
	return 0;
}

/* A token that wants a login again inside a run of signatures that asks
 * nobody (a batch after its consent): the run ends with why. */
static void login_lost(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
		       struct kyso_reply *rep)
{
	if (kyso_msg_bool(ans, KYSO_F_PER_SIGNATURE)) {
		inventory_set_per_signature(&d->inv, t->cert.id);
		kyso_reply_error(rep, KE_PER_SIGNATURE_PIN,
				 "this key needs the PIN for each signature; sign its records one by one");
		return;
	}
	kyso_reply_error(rep, KE_TOKEN_ERROR, "the token logged out during the request");
}

int sign_answer(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
		enum kyso_err err, unsigned char *sig, size_t *sig_len, struct kyso_reply *rep)
{
	const char *code;

	if (!ans) {
		call_error(d, err, rep);
		return -1;
	}
	if (!(ans->flags & KYSO_IPC_F_ERROR))
		return take_signature(ans, sig, sig_len, rep);
	code = kyso_msg_str(ans, KYSO_F_CODE);
	if (code && !strcmp(code, "pin_required"))
		login_lost(d, t, ans, rep);
	else
		helper_error(d, t, ans, rep);
	return -1;
}

void sign_frame_many(const struct sign_target *t, const unsigned char *hashes, size_t count,
		     int more, struct kyso_out *req)
{
	size_t len = hash_alg_len(t->hash_alg);

	kyso_out_init(req);
	kyso_out_str(req, KYSO_F_TOKEN, t->cert.token);
	kyso_out_str(req, KYSO_F_KEY_ID, t->cert.key_id);
	kyso_out_u32(req, KYSO_F_MECH, t->mech);
	kyso_out_u32(req, KYSO_F_HASH_BITS, (uint32_t)(len * 8));
	kyso_out_bytes(req, KYSO_F_HASHES, hashes, count * len);
	if (more)
		kyso_out_bool(req, KYSO_F_KEEP_LOGIN, 1);
}

int sign_answer_next(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
		     enum kyso_err err, size_t *off, unsigned char *sig, size_t *sig_len,
		     struct kyso_reply *rep)
{
	const unsigned char *p;
	size_t len = 0, n;

	if (!ans)
		return sign_answer(d, t, NULL, err, sig, sig_len, rep);
	p = kyso_msg_bytes(ans, KYSO_F_SIGNATURES, &len);
	if (p && *off + 2 <= len) {
		n = (size_t)p[*off] | (size_t)p[*off + 1] << 8;
		if (n && n <= SIGN_MAX_SIG && *off + 2 + n <= len) {
			memcpy(sig, p + *off + 2, n);
			*sig_len = n;
			*off += 2 + n;
			return 0;
		}
		*off = len;	/* a malformed one: none after it is read */
	}
	if (ans->flags & KYSO_IPC_F_ERROR)
		return sign_answer(d, t, ans, err, sig, sig_len, rep);
	kyso_reply_error(rep, KE_INTERNAL_ERROR, "the helper answered without a signature");
	return -1;
}

static int sign_one(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
		    const struct sign_consent *consent, const unsigned char *hash, size_t hash_len,
		    int more, unsigned char *sig, size_t *sig_len, struct kyso_reply *rep)
{
	struct kyso_msg ans = { 0 };
	struct kyso_out req;
	char *pin = NULL;
	int rc, ret = -1;

	sign_frame(t, hash, hash_len, more, &req);
	rc = ask_helper(d, t, KYSO_OP_SIGN, &req, NULL, &ans, rep);
	if (rc == 1 && !consent) {
		login_lost(d, t, &ans, rep);
		goto out;
	}
	if (rc == 1 && kyso_msg_bool(&ans, KYSO_F_PER_SIGNATURE))
		inventory_set_per_signature(&d->inv, t->cert.id);
	if (rc == 1 && kyso_msg_bool(&ans, KYSO_F_PER_SIGNATURE)) {
		/* CKA_ALWAYS_AUTHENTICATE: the PIN for this one signature */
		rc = per_signature_pin(d, t, peer, consent, &req, &ans, rep);
	} else if (rc == 1) {
		if (login(d, t, peer, consent, &pin, rep))
			goto out;
		rc = ask_helper(d, t, KYSO_OP_SIGN, &req, NULL, &ans, rep);
		/* a key that needs the PIN for each signature, found once logged
		 * in: the PIN just entered serves this signature too */
		if (rc == 1 && pin && kyso_msg_bool(&ans, KYSO_F_PER_SIGNATURE)) {
			inventory_set_per_signature(&d->inv, t->cert.id);
			rc = ask_helper(d, t, KYSO_OP_SIGN, &req, pin, &ans, rep);
		}
	}
	if (rc == 1)
		kyso_reply_error(rep, KE_TOKEN_ERROR, "the token logged out during the request");
	if (rc)
		goto out;
	ret = take_signature(&ans, sig, sig_len, rep);
out:
	pinentry_free_pin(pin);
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	return ret;
}

int sign_hash(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
	      const struct sign_consent *consent, const unsigned char *hash, size_t hash_len,
	      unsigned char *sig, size_t *sig_len, struct kyso_reply *rep)
{
	return sign_one(d, t, peer, consent, hash, hash_len, 0, sig, sig_len, rep);
}

int sign_hash_more(struct kysod *d, const struct sign_target *t, const unsigned char *hash,
		   size_t hash_len, int more, unsigned char *sig, size_t *sig_len,
		   struct kyso_reply *rep)
{
	return sign_one(d, t, NULL, NULL, hash, hash_len, more, sig, sig_len, rep);
}
