#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/helpers.h"
#include "kysod/pinentry.h"
#include "kysod/sign-flow.h"

struct sign_job {
	struct kysod *d;
	const struct kyso_sign_request *req;
	const struct kyso_peer *peer;
	struct cert_ref cert;
	const char *mech;
	json_t *ipc;		/* the request to the helper */
};

static const char *pin_state_text(const char *state)
{
	if (!strcmp(state, "final_try"))
		return "This is the last try before the token locks.";
	if (!strcmp(state, "count_low"))
		return "A wrong PIN was entered before; few tries are left.";
	return NULL;
}

/* Answers with the helper's error, adding the PIN state it reported. */
static void helper_error(struct sign_job *job, const struct kyso_msg *ans, struct kyso_reply *rep)
{
	const char *code = json_string_value(json_object_get(ans->json, "code"));
	const char *msg = json_string_value(json_object_get(ans->json, "message"));
	const char *state = json_string_value(json_object_get(ans->json, "pin_state"));

	if (!code)
		code = "token_error";
	if (!strcmp(code, "pin_required"))
		code = "token_error";
	if (state)
		inventory_set_pin_state(&job->d->inv, job->cert.token, state);
	if (!strcmp(code, "pin_incorrect") && state && pin_state_text(state))
		kyso_reply_error(rep, code, "%s. %s", msg ? msg : "the PIN is incorrect",
				 pin_state_text(state));
	else
		kyso_reply_error(rep, code, "%s", msg ? msg : code);
	if (state && (!strncmp(code, "pin_", 4)))
		kyso_reply_error_set(rep, "pin", json_pack("{s:s}", "state", state));
}

/* One round trip to the helper. Returns 1 when the helper wants a login
 * (ans keeps its answer), 0 when rep is set. */
static int attempt(struct sign_job *job, const char *pin, struct kyso_msg *ans,
		   struct kyso_reply *rep)
{
	struct kysod *d = job->d;
	const char *err = NULL, *sig, *code;

	kyso_msg_clear(ans);
	if (helper_call(d, job->cert.module, KYSO_OP_SIGN, job->ipc, (const unsigned char *)pin,
			pin ? strlen(pin) : 0, d->cfg.request_timeout, ans, &err)) {
		if (!strcmp(err, "module_crashed"))
			kyso_reply_error(rep, err, "the token's module crashed during the request; it is being restarted");
		else if (!strcmp(err, "module_timeout"))
			kyso_reply_error(rep, err, "the token's module did not answer in %u s; it is being restarted",
					 d->cfg.request_timeout);
		else
			kyso_reply_error(rep, err, "the token's module is not running");
		return 0;
	}
	if (ans->flags & KYSO_IPC_F_ERROR) {
		code = json_string_value(json_object_get(ans->json, "code"));
		if (code && !strcmp(code, "pin_required"))
			return 1;
		helper_error(job, ans, rep);
		return 0;
	}
	sig = json_string_value(json_object_get(ans->json, "signature"));
	if (!sig) {
		kyso_reply_error(rep, "internal_error", "the helper answered without a signature");
		return 0;
	}
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s}", "signature", sig,
					  "algorithm", "", "certificate", job->cert.id));
	return 0;
}

static void describe(struct sign_job *job, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "%s (process %d) asks to sign a record with the certificate of\n"
		 "%s\n"
		 "on the token \"%s\".\n\n"
		 "Enter the token's PIN to allow it, or cancel to refuse.",
		 job->peer->exe, (int)job->peer->pid, job->cert.holder, job->cert.token_label);
}

/* With the prompt lock held: ask the PIN and log in with it. */
static void login_and_sign(struct sign_job *job, struct kyso_msg *ans, struct kyso_reply *rep)
{
	struct kysod *d = job->d;
	const char *state = json_string_value(json_object_get(ans->json, "pin_state"));
	int pinpad = job->cert.protected_path;
	struct pin_prompt prompt = { 0 };
	char desc[1024], keyinfo[64];
	const char *err;
	char *pin = NULL;

	if (state && !strcmp(state, "locked")) {
		kyso_reply_error(rep, "pin_locked", "the token's PIN is locked; it must be unblocked");
		kyso_reply_error_set(rep, "pin", json_pack("{s:s}", "state", state));
		return;
	}
	if (pinpad) {
		/* the reader asks for the PIN on its own keypad */
		json_object_set_new(job->ipc, "pinpad", json_true());
		attempt(job, NULL, ans, rep);
		return;
	}
	describe(job, desc, sizeof(desc));
	snprintf(keyinfo, sizeof(keyinfo), "s/kyso-%s", job->cert.token);
	prompt.title = "kyso: signature requested";
	prompt.description = desc;
	prompt.prompt = "PIN:";
	prompt.keyinfo = keyinfo;
	prompt.ok_label = "Sign";
	prompt.error = state ? pin_state_text(state) : NULL;
	prompt.timeout = d->cfg.pin_timeout;
	log_info("asking the PIN for token %.12s for %s (pid %d)", job->cert.token,
		 job->peer->exe, (int)job->peer->pid);
	if (pinentry_getpin(d->cfg.pinentry, &prompt, &pin, &err)) {
		if (!strcmp(err, "pin_cancelled"))
			kyso_reply_error(rep, err, "the PIN dialog was cancelled");
		else
			kyso_reply_error(rep, err, "the PIN dialog could not be shown");
		return;
	}
	if (attempt(job, pin, ans, rep))
		kyso_reply_error(rep, "token_error", "the token refused the login");
	pinentry_free_pin(pin);
}

void sign_flow_run(struct kysod *d, const struct kyso_sign_request *req,
		   const struct kyso_peer *peer, struct kyso_reply *rep)
{
	struct sign_job job;
	struct kyso_msg ans;
	char *hash_b64 = NULL, alg[48];

	memset(&job, 0, sizeof(job));
	memset(&ans, 0, sizeof(ans));
	job.d = d;
	job.req = req;
	job.peer = peer;
	if (inventory_find_cert(&d->inv, req->certificate, &job.cert)) {
		kyso_reply_error(rep, "certificate_not_found", "no certificate with id %s",
				 req->certificate);
		goto out;
	}
	if (!job.cert.token_present) {
		kyso_reply_error(rep, "token_not_present",
				 "the token \"%s\" holding this certificate is not inserted",
				 job.cert.token_label);
		goto out;
	}
	if (job.cert.is_rsa)
		job.mech = req->padding == KYSO_PAD_PSS ? "pss" : "pkcs1";
	else if (req->padding != KYSO_PAD_DEFAULT) {
		kyso_reply_error(rep, "unsupported_padding",
				 "padding applies to RSA keys only; this certificate has an EC key");
		kyso_reply_error_set(rep, "field", json_string("padding"));
		goto out;
	} else
		job.mech = "ecdsa";
	snprintf(alg, sizeof(alg), "%s-%s",
		 job.cert.is_rsa ? (req->padding == KYSO_PAD_PSS ? "rsa-pss" : "rsa-pkcs1") : "ecdsa",
		 kyso_hash_alg_name(req->hash_alg));

	hash_b64 = kyso_b64_encode(req->hash, req->hash_len);
	job.ipc = json_pack("{s:s, s:s, s:s, s:s, s:s}", "token", job.cert.token,
			    "key_id", job.cert.key_id, "mech", job.mech,
			    "hash_alg", kyso_hash_alg_name(req->hash_alg), "hash", hash_b64 ? hash_b64 : "");
	if (!job.ipc) {
		kyso_reply_error(rep, "internal_error", "out of memory");
		goto out;
	}
	if (attempt(&job, NULL, &ans, rep)) {
		/* A login is needed: one dialog at a time, and another request may
		 * have logged the token in while this one waited for its turn. */
		pthread_mutex_lock(&d->prompt_lock);
		if (attempt(&job, NULL, &ans, rep))
			login_and_sign(&job, &ans, rep);
		pthread_mutex_unlock(&d->prompt_lock);
	}
	if (rep->status == 200)
		json_object_set_new(rep->body, "algorithm", json_string(alg));
out:
	kyso_msg_clear(&ans);
	json_decref(job.ipc);
	free(hash_b64);
}
