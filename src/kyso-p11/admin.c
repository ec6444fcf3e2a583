/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's provisioning operations (ADMIN_INVENTORY, INIT_TOKEN, SET_PIN,
 * INIT_PIN, KEYGEN, STORE_CERT, DELETE), run one after the other on a thread
 * of their own: an operation can take long (a key pair on a card), and a
 * token being initialised has no worker. Each one that changes a token runs
 * alone in the module (p11_exclusive), and kysod is sent the new inventory
 * before the answer. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/hex.h"
#include "common/log.h"
#include "kyso-p11/admin.h"
#include "pkcs11/provision.h"

struct admin_job {
	struct kyso_msg msg;
	struct admin_job *next;
};

struct admin {
	struct helper *h;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct admin_job *head, *tail;
	int stop;
};

/* One operation's inputs and outcome, for p11_exclusive's callback. */
struct op_run {
	struct helper *h;
	const struct kyso_msg *msg;
	const char *pins[KYSO_IPC_MAX_PINS];
	size_t npins;
	char msg_text[PROV_MSG];
	char token[KYSO_TOKEN_ID_LEN + 1];	/* the token's id afterwards */
	CK_FLAGS flags;				/* its flags afterwards */
	int flags_known;
	struct prov_keygen keygen;
	json_t *details;			/* the answer's, owned */
};

static const char *run_init_token(CK_FUNCTION_LIST_PTR fl, struct op_run *r,
				  const struct prov_token *t)
{
	return prov_init_token(fl, t, kyso_msg_bool(r->msg, KYSO_F_REINIT), r->pins[0],
			       kyso_msg_str(r->msg, KYSO_F_LABEL), r->npins > 1 ? r->pins[1] : NULL,
			       r->token, r->msg_text);
}

static const char *run_keygen(CK_FUNCTION_LIST_PTR fl, struct op_run *r, const struct prov_token *t)
{
	const char *hex = kyso_msg_str(r->msg, KYSO_F_KEY_ID);
	uint32_t type = 0;
	long n = 0;

	kyso_msg_u32(r->msg, KYSO_F_KEY_TYPE, &type);
	if (type < KYSO_KEY_RSA2048 || type > KYSO_KEY_P384 ||
	    (hex && (n = kyso_hex_decode(hex, strlen(hex), r->keygen.id, sizeof(r->keygen.id))) <= 0)) {
		snprintf(r->msg_text, sizeof(r->msg_text), "malformed key generation request");
		return "internal_error";
	}
	r->keygen.type = (enum kyso_ipc_key_type)type;
	r->keygen.id_len = (size_t)n;
	r->keygen.label = kyso_msg_str(r->msg, KYSO_F_LABEL);
	return prov_keygen(fl, t, kyso_msg_bool(r->msg, KYSO_F_SO), r->pins[0], &r->keygen,
			   r->msg_text);
}

static const char *run_delete(CK_FUNCTION_LIST_PTR fl, struct op_run *r, const struct prov_token *t)
{
	const char *hex = kyso_msg_str(r->msg, KYSO_F_KEY_ID);
	unsigned char id[PROV_ID_MAX];
	uint32_t cls = 0;
	long n = 0;

	kyso_msg_u32(r->msg, KYSO_F_OBJECT_CLASS, &cls);
	if ((cls == KYSO_OBJ_KEY && (!hex || (n = kyso_hex_decode(hex, strlen(hex), id,
								  sizeof(id))) <= 0)) ||
	    (cls == KYSO_OBJ_CERTIFICATE && !kyso_msg_str(r->msg, KYSO_F_CERT_ID)) ||
	    (cls != KYSO_OBJ_KEY && cls != KYSO_OBJ_CERTIFICATE)) {
		snprintf(r->msg_text, sizeof(r->msg_text), "malformed delete request");
		return "internal_error";
	}
	return prov_delete(fl, t, kyso_msg_bool(r->msg, KYSO_F_SO), r->pins[0],
			   (enum kyso_ipc_object)cls, id, (size_t)n,
			   kyso_msg_str(r->msg, KYSO_F_CERT_ID), r->msg_text);
}

/* Runs the operation of r->msg, alone in the module (p11_exclusive). */
static const char *exclusive_op(struct p11_module *m, void *arg)
{
	struct op_run *r = arg;
	CK_FUNCTION_LIST_PTR fl = m->handle.fl;
	const char *token = kyso_msg_str(r->msg, KYSO_F_TOKEN), *err;
	const unsigned char *der, *chain;
	size_t der_len = 0, chain_len = 0;
	struct prov_token t, after;

	if (!token || prov_find(fl, token, &t)) {
		snprintf(r->msg_text, sizeof(r->msg_text), "the token is not present");
		return "token_not_present";
	}
	snprintf(r->token, sizeof(r->token), "%s", t.id);
	/* no session of this process stays open on the token: libp11's are
	 * released; this closes any other (an SO login needs none logged in) */
	fl->C_CloseAllSessions(t.slot);
	switch (r->msg->op) {
	case KYSO_OP_INIT_TOKEN:
		err = run_init_token(fl, r, &t);
		break;
	case KYSO_OP_SET_PIN:
		err = prov_set_pin(fl, &t, kyso_msg_bool(r->msg, KYSO_F_SO), r->pins[0], r->pins[1],
				   r->msg_text);
		break;
	case KYSO_OP_INIT_PIN:
		err = prov_init_pin(fl, &t, r->pins[0], r->pins[1], r->msg_text);
		break;
	case KYSO_OP_KEYGEN:
		err = run_keygen(fl, r, &t);
		break;
	case KYSO_OP_STORE_CERT:
		der = kyso_msg_bytes(r->msg, KYSO_F_CERTIFICATE, &der_len);
		chain = kyso_msg_bytes(r->msg, KYSO_F_CHAIN, &chain_len);
		err = prov_store_cert(fl, &t, kyso_msg_bool(r->msg, KYSO_F_SO), r->pins[0], der,
				      der_len, chain, chain_len,
				      kyso_msg_str(r->msg, KYSO_F_LABEL), &r->details, r->msg_text);
		break;
	case KYSO_OP_DELETE:
		err = run_delete(fl, r, &t);
		break;
	default:
		snprintf(r->msg_text, sizeof(r->msg_text), "unknown operation");
		return "internal_error";
	}
	/* what the PIN counters say now */
	if (prov_find(fl, r->token, &after) == 0) {
		r->flags = after.info.flags;
		r->flags_known = 1;
	}
	/* a token that failed in the middle of a change (pulled out, or its
	 * module lost it) may hold part of it: a key made without its
	 * certificate, a certificate written but not confirmed */
	if (err && r->msg->op != KYSO_OP_SET_PIN && r->msg->op != KYSO_OP_INIT_PIN &&
	    (!strcmp(err, "token_error") || !strcmp(err, "token_removed")))
		snprintf(r->msg_text + strlen(r->msg_text), sizeof(r->msg_text) - strlen(r->msg_text),
			 "; the token may have been changed in part: look at it with kyso admin "
			 "inventory once it is back");
	return err;
}

/* The listing, alone in the module (p11_alone). */
static const char *inventory_op(struct p11_module *m, void *arg)
{
	struct op_run *r = arg;

	r->details = prov_inventory(m->handle.fl, kyso_msg_str(r->msg, KYSO_F_TOKEN));
	return r->details ? NULL : "internal_error";
}

static void answer(struct admin *a, struct op_run *r, const char *err)
{
	struct kyso_out out;
	char hex[2 * PROV_ID_MAX + 1];

	if (!r->details)
		r->details = json_object();
	/* after a change: which token it is now, and its PIN counters */
	if (r->msg->op != KYSO_OP_ADMIN_INVENTORY)
		json_object_set_new(r->details, "token", json_string(r->token));
	if (r->flags_known)
		json_object_set_new(r->details, "flags", json_integer((json_int_t)r->flags));
	kyso_out_init(&out);
	if (err) {
		kyso_out_str(&out, KYSO_F_CODE, err);
		kyso_out_str(&out, KYSO_F_MESSAGE, r->msg_text[0] ? r->msg_text :
			     "the token reported an error");
	}
	if (!err && r->keygen.spki) {
		kyso_hex_encode(r->keygen.id, r->keygen.id_len, hex);
		kyso_out_bytes(&out, KYSO_F_PUBLIC_KEY, r->keygen.spki, r->keygen.spki_len);
		kyso_out_str(&out, KYSO_F_KEY_ID, hex);
	}
	kyso_out_json(&out, KYSO_F_DETAILS, r->details);
	if (helper_send(a->h, r->msg->id, KYSO_OP_REPLY, err ? KYSO_IPC_F_ERROR : 0, &out))
		log_warn("cannot send the answer to a provisioning request");
	kyso_out_free(&out);
}

static void run(struct admin *a, struct kyso_msg *msg)
{
	struct helper *h = a->h;
	struct op_run r;
	const char *err;

	memset(&r, 0, sizeof(r));
	r.h = h;
	r.msg = msg;
	snprintf(r.token, sizeof(r.token), "%s", kyso_msg_str(msg, KYSO_F_TOKEN) ?: "");
	if (msg->op == KYSO_OP_ADMIN_INVENTORY) {
		answer(a, &r, p11_alone(&h->mod, inventory_op, &r));
		json_decref(r.details);
		return;
	}
	r.npins = kyso_msg_pins(msg, r.pins, KYSO_IPC_MAX_PINS);
	log_info("token %.12s: %s", r.token, kyso_ipc_op_name(msg->op));
	err = p11_exclusive(&h->mod, exclusive_op, &r);
	/* every token of the module was logged out, and the slot list is new:
	 * the workers follow, and kysod gets the inventory before the answer */
	workers_forget_logins(h);
	workers_sync(h);
	helper_send_inventory(h, KYSO_OP_INVENTORY);
	answer(a, &r, err);
	OPENSSL_free(r.keygen.spki);
	json_decref(r.details);
}

static void *admin_main(void *arg)
{
	struct admin *a = arg;
	struct admin_job *j;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->head && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->stop)
			break;
		j = a->head;
		a->head = j->next;
		if (!a->head)
			a->tail = NULL;
		pthread_mutex_unlock(&a->lock);
		run(a, &j->msg);
		kyso_msg_clear(&j->msg);
		free(j);
		pthread_mutex_lock(&a->lock);
	}
	/* kysod is gone: nobody waits for the rest */
	while ((j = a->head) != NULL) {
		a->head = j->next;
		kyso_msg_clear(&j->msg);
		free(j);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int admin_submit(struct helper *h, struct kyso_msg *msg)
{
	struct admin *a = h->admin;
	struct admin_job *j;

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -1;
		a->h = h;
		pthread_mutex_init(&a->lock, NULL);
		pthread_cond_init(&a->cond, NULL);
		if (pthread_create(&a->thread, NULL, admin_main, a)) {
			pthread_mutex_destroy(&a->lock);
			pthread_cond_destroy(&a->cond);
			free(a);
			return -1;
		}
		h->admin = a;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->msg = *msg;
	memset(msg, 0, sizeof(*msg));
	pthread_mutex_lock(&a->lock);
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

void admin_stop(struct helper *h)
{
	struct admin *a = h->admin;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
	h->admin = NULL;
}
