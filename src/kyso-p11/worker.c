/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "common/hex.h"
#include "common/log.h"
#include "kyso-p11/worker.h"
#include "pkcs11/signer.h"

enum job_kind { JOB_SIGN, JOB_LOGIN, JOB_LOGOUT };

#define LOGIN_GRACE_S 5
/* Lanes each worker thread opens (see worker_main). */
#define LANES_PER_THREAD 4

struct job {
	enum job_kind kind;
	struct kyso_msg msg;
	struct job *next;
};

/* A key looked up once and used for every signature after it, while the
 * login lasts and libp11's slot list stays the same (libp11 0.4 searches the
 * token's objects again at every lookup). */
#define KEY_CACHE 8

struct cached_key {
	char key_id[2 * 256 + 1];	/* lowercase hex CKA_ID; "" for an empty entry */
	EVP_PKEY *pkey;
	int always;			/* needs the PIN for each signature */
	unsigned int generation;	/* of libp11's slot list it came from */
};

struct worker {
	struct helper *h;
	pthread_mutex_t keys_lock;
	struct cached_key keys[KEY_CACHE];
	unsigned int next_key;		/* the entry to replace next */
	char token_id[KYSO_TOKEN_ID_LEN + 1];
	pthread_t threads[WORKER_POOL_MAX];
	unsigned int nthreads;
	unsigned int next_thread;	/* each thread's number, for its lanes */
	pthread_mutex_t lock;
	int wake_fd;		/* eventfd, one count per job queued; stop */
	struct job *head, *tail;
	unsigned int busy;	/* threads running a job */
	int stop;
	int logged_in;		/* this worker logged the token in */
	struct timespec last_use;
};

int helper_send(struct helper *h, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out)
{
	int ret;

	pthread_mutex_lock(&h->send_lock);
	ret = kyso_ipc_send(h->fd, id, op, flags, out, NULL, 0);
	pthread_mutex_unlock(&h->send_lock);
	return ret;
}

int helper_send_lane(struct helper *h, const char *token_id, unsigned int thread, int fd)
{
	struct kyso_out out;
	int ret;

	kyso_out_init(&out);
	kyso_out_str(&out, KYSO_F_TOKEN, token_id);
	kyso_out_u32(&out, KYSO_F_WORKER, thread);
	pthread_mutex_lock(&h->send_lock);
	/* kysod reads HELLO first; a worker started before it waits */
	while (!h->hello_sent)
		pthread_cond_wait(&h->hello_cond, &h->send_lock);
	ret = kyso_ipc_send_fd(h->fd, 0, KYSO_OP_LANE, 0, &out, fd);
	pthread_mutex_unlock(&h->send_lock);
	kyso_out_free(&out);
	return ret;
}

int helper_send_inventory(struct helper *h, uint16_t op)
{
	struct kyso_out out;
	json_t *inv = p11_inventory(&h->mod);
	int ret;

	kyso_out_init(&out);
	if (op == KYSO_OP_HELLO)
		kyso_out_u32(&out, KYSO_F_PROTOCOL, KYSO_IPC_PROTOCOL);
	kyso_out_json(&out, KYSO_F_INVENTORY, inv);
	/* numbered in the order sent, so that a reply on a lane can say
	 * which one must be applied before it */
	pthread_mutex_lock(&h->send_lock);
	kyso_out_u32(&out, KYSO_F_INVENTORY_SEQ,
		     __atomic_add_fetch(&h->inventory_seq, 1, __ATOMIC_RELEASE));
	ret = kyso_ipc_send(h->fd, 0, op, 0, &out, NULL, 0);
	if (op == KYSO_OP_HELLO) {
		h->hello_sent = 1;
		pthread_cond_broadcast(&h->hello_cond);
	}
	pthread_mutex_unlock(&h->send_lock);
	kyso_out_free(&out);
	json_decref(inv);
	return ret;
}

/* A reply on the lane it came from (only its worker thread writes there),
 * or on the channel (lane < 0). */
static int reply(struct helper *h, int lane, uint32_t id, uint16_t flags, struct kyso_out *out)
{
	struct kyso_out none;
	int ret;

	if (lane < 0)
		return helper_send(h, id, KYSO_OP_REPLY, flags, out);
	/* an inventory this operation sent (a login's state) went on the
	 * channel: kysod applies it before it takes this reply */
	if (!out) {
		kyso_out_init(&none);
		out = &none;
	}
	kyso_out_u32(out, KYSO_F_INVENTORY_SEQ, __atomic_load_n(&h->inventory_seq, __ATOMIC_ACQUIRE));
	ret = kyso_ipc_send(lane, id, KYSO_OP_REPLY, flags, out, NULL, 0);
	if (out == &none)
		kyso_out_free(&none);
	return ret;
}

/* An error's fields: code, message[, pin_state][, per_signature]. */
static void error_fields(struct kyso_out *out, const char *code, const char *message,
			 const char *pin_state, int per_signature)
{
	kyso_out_str(out, KYSO_F_CODE, code);
	kyso_out_str(out, KYSO_F_MESSAGE, message);
	if (pin_state)
		kyso_out_str(out, KYSO_F_PIN_STATE, pin_state);
	if (per_signature)
		kyso_out_bool(out, KYSO_F_PER_SIGNATURE, 1);
}

/* An error reply; always says whether the key needs the PIN for each
 * signature when per_signature is set. */
static int send_error(struct helper *h, int lane, uint32_t id, const char *code,
		      const char *message, const char *pin_state, int per_signature)
{
	struct kyso_out out;
	int ret;

	kyso_out_init(&out);
	error_fields(&out, code, message, pin_state, per_signature);
	ret = reply(h, lane, id, KYSO_IPC_F_ERROR, &out);
	kyso_out_free(&out);
	return ret;
}

int helper_send_error(struct helper *h, uint32_t id, const char *code, const char *message,
		      const char *pin_state)
{
	return send_error(h, -1, id, code, message, pin_state, 0);
}

static void job_free(struct job *j)
{
	kyso_msg_clear(&j->msg);
	free(j);
}

static const char *error_text(const char *code)
{
	if (!strcmp(code, "pin_incorrect"))
		return "the PIN is incorrect";
	if (!strcmp(code, "pin_locked"))
		return "the token's PIN is locked";
	if (!strcmp(code, "pin_required"))
		return "the token needs a login";
	if (!strcmp(code, "pin_cancelled"))
		return "the PIN entry was cancelled on the reader";
	if (!strcmp(code, "token_removed"))
		return "the token was removed";
	if (!strcmp(code, "key_not_found"))
		return "no private key for this certificate on the token";
	if (!strcmp(code, "mechanism_unsupported"))
		return "the token cannot make this kind of signature";
	return "the token reported an error";
}

static int parse_mech(uint32_t v, enum p11_mech *mech)
{
	switch (v) {
	case KYSO_MECH_PKCS1:
		*mech = P11_MECH_RSA_PKCS1;
		return 0;
	case KYSO_MECH_PSS:
		*mech = P11_MECH_RSA_PSS;
		return 0;
	case KYSO_MECH_ECDSA:
		*mech = P11_MECH_ECDSA;
		return 0;
	}
	return -1;
}

/* The SHA-2 hash of that many bits: its NID, or NID_undef. */
static int hash_nid(uint32_t bits)
{
	switch (bits) {
	case 256:
		return NID_sha256;
	case 384:
		return NID_sha384;
	case 512:
		return NID_sha512;
	}
	return NID_undef;
}

/* Logs in if needed. Returns NULL or an error code; *pin_state is refreshed. */
static const char *ensure_login(struct worker *w, PKCS11_SLOT *slot,
				const struct p11_token_state *ts, const struct kyso_msg *msg,
				const char **pin_state)
{
	CK_SLOT_ID slot_id = ts->slot_id;
	int present = 0, logged_in = 0;
	CK_FLAGS flags;
	const char *err;
	int pinpad;

	/* A logged-in token, or one that needs no login, is signed with at
	 * once: the card is asked for its flags only when a login is to be
	 * made (C_GetTokenInfo costs a round trip to a card). */
	*pin_state = p11_pin_state(ts->flags);
	if (!(ts->flags & CKF_LOGIN_REQUIRED))
		return NULL;
	if (PKCS11_is_logged_in(slot, 0, &logged_in) == 0 && logged_in) {
		w->logged_in = 1;
		return NULL;
	}
	flags = p11_token_flags(&w->h->mod, slot_id, &present);
	*pin_state = p11_pin_state(flags);
	if (!present)
		return "token_removed";
	w->logged_in = 0;
	if (flags & CKF_USER_PIN_LOCKED)
		return "pin_locked";
	pinpad = kyso_msg_bool(msg, KYSO_F_PINPAD) && (flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	if (!msg->secret && !pinpad)
		return "pin_required";
	/* a login on a PIN pad holds the module as long as the person types:
	 * a rescan then does not wait for it (see main.c) */
	if (pinpad)
		__atomic_add_fetch(&w->h->pinpad_logins, 1, __ATOMIC_ACQ_REL);
	err = p11_login(slot, pinpad ? NULL : (const char *)msg->secret);
	if (pinpad)
		__atomic_sub_fetch(&w->h->pinpad_logins, 1, __ATOMIC_ACQ_REL);
	flags = p11_token_flags(&w->h->mod, slot_id, &present);
	*pin_state = p11_pin_state(flags);
	if (!err)
		w->logged_in = 1;
	return err;
}

/* Tells kysod the token's login state changed. */
static void push_inventory(struct worker *w)
{
	helper_send_inventory(w->h, KYSO_OP_INVENTORY);
}

/* Whether the token in slot has gone, asked for up to a second: a card
 * pulled out during an operation fails in many ways, and its reader may
 * report the removal a little later. */
static int token_gone(struct p11_module *m, CK_SLOT_ID slot)
{
	struct timespec pause = { 0, 100 * 1000000L };
	int i;

	for (i = 0; i < 10; i++) {
		if (!p11_slot_has_token(m, slot))
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

static void drop_pin_copies(struct worker *w);

static void keys_forget(struct worker *w)
{
	unsigned int i;

	pthread_mutex_lock(&w->keys_lock);
	for (i = 0; i < KEY_CACHE; i++) {
		EVP_PKEY_free(w->keys[i].pkey);
		memset(&w->keys[i], 0, sizeof(w->keys[i]));
	}
	pthread_mutex_unlock(&w->keys_lock);
}

/* The key for a, from the cache or looked up (then cached). Called with the
 * module's read lock held. On success *pkey is a new reference. */
static const char *key_for(struct worker *w, PKCS11_SLOT *slot, CK_SLOT_ID slot_id,
			   const struct p11_sign_args *a, const char *key_hex, EVP_PKEY **pkey,
			   int *always)
{
	struct p11_module *m = &w->h->mod;
	struct cached_key *k;
	const char *err;
	unsigned int i;

	pthread_mutex_lock(&w->keys_lock);
	for (i = 0; i < KEY_CACHE; i++) {
		k = &w->keys[i];
		if (k->pkey && k->generation == m->generation && !strcmp(k->key_id, key_hex)) {
			*pkey = k->pkey;
			EVP_PKEY_up_ref(*pkey);
			*always = k->always;
			pthread_mutex_unlock(&w->keys_lock);
			return NULL;
		}
	}
	pthread_mutex_unlock(&w->keys_lock);

	pthread_mutex_lock(&m->objects_lock);
	err = p11_key(slot, a, pkey);
	pthread_mutex_unlock(&m->objects_lock);
	if (err)
		return err;
	*always = p11_key_always_auth(m->handle.fl, slot_id, a->key_id, a->key_id_len) == 1;
	if (strlen(key_hex) >= sizeof(k->key_id))
		return NULL;
	pthread_mutex_lock(&w->keys_lock);
	k = &w->keys[w->next_key++ % KEY_CACHE];
	EVP_PKEY_free(k->pkey);
	strcpy(k->key_id, key_hex);
	k->pkey = *pkey;
	EVP_PKEY_up_ref(k->pkey);
	k->always = *always;
	k->generation = m->generation;
	pthread_mutex_unlock(&w->keys_lock);
	return NULL;
}

/* Appends a signature to a SIGN_MANY's list (each a u16 length,
 * little-endian, and the signature), which has room for it. */
static void sig_list_add(unsigned char *list, size_t *used, const unsigned char *sig, size_t len)
{
	list[*used] = (unsigned char)(len & 0xff);
	list[*used + 1] = (unsigned char)(len >> 8);
	memcpy(list + *used + 2, sig, len);
	*used += 2 + len;
}

/* A SIGN (one hash; a PIN may come with it for a key that needs one for each
 * signature) or a SIGN_MANY (the items of a batch, signed in turn on one
 * login and one key lookup; its answer carries the signatures made, also
 * those before an error, which ends it). */
static void run_sign(struct worker *w, struct kyso_msg *msg, int lane)
{
	struct p11_module *m = &w->h->mod;
	struct p11_token_state ts;
	struct p11_sign_args a = { 0 };
	unsigned char key_id[256], sig[P11_MAX_SIG];
	const unsigned char *hashes = NULL;
	const char *key_hex, *err = NULL, *pin_state = NULL;
	int was_logged_in, always = 0, reset = 0, reset_keys = 0;
	int many = msg->op == KYSO_OP_SIGN_MANY;
	uint32_t mech = 0, bits = 0;
	unsigned char *list = NULL;	/* SIGN_MANY's signatures (not secret) */
	size_t list_len = 0;
	struct kyso_out ans;
	EVP_PKEY *pkey = NULL;
	size_t siglen = 0, hashes_len = 0, count = 1, i;
	long n;
	PKCS11_SLOT *slot;

	/* the schema has the fields there; their values are checked here */
	key_hex = kyso_msg_str(msg, KYSO_F_KEY_ID);
	if (many)
		hashes = kyso_msg_bytes(msg, KYSO_F_HASHES, &hashes_len);
	else
		a.hash = kyso_msg_bytes(msg, KYSO_F_HASH, &a.hash_len);
	if (!key_hex || kyso_msg_u32(msg, KYSO_F_MECH, &mech) || parse_mech(mech, &a.mech) ||
	    kyso_msg_u32(msg, KYSO_F_HASH_BITS, &bits) || (a.md_nid = hash_nid(bits)) == NID_undef ||
	    (!many && (!a.hash || a.hash_len != bits / 8)) ||
	    (many && (!hashes || hashes_len == 0 || hashes_len % (bits / 8) ||
		      hashes_len / (bits / 8) > KYSO_IPC_MAX_MANY))) {
		send_error(w->h, lane, msg->id, "internal_error", "malformed sign request", NULL, 0);
		return;
	}
	if (many) {
		a.hash_len = bits / 8;
		count = hashes_len / a.hash_len;
		list = malloc(count * (2 + P11_MAX_SIG));
		if (!list) {
			send_error(w->h, lane, msg->id, "internal_error", "out of memory", NULL, 0);
			return;
		}
	}
	n = kyso_hex_decode(key_hex, strlen(key_hex), key_id, sizeof(key_id));
	if (n < 0) {
		send_error(w->h, lane, msg->id, "internal_error", "malformed key id", NULL, 0);
		free(list);
		return;
	}
	a.key_id = key_id;
	a.key_id_len = (size_t)n;

	pthread_rwlock_rdlock(&m->lock);
	was_logged_in = w->logged_in;
	slot = p11_find_slot(m, w->token_id);
	if (!slot || p11_token_state(m, w->token_id, &ts)) {
		err = "token_removed";
		goto out;
	}
	err = ensure_login(w, slot, &ts, msg, &pin_state);
	if (err)
		goto out;
	err = key_for(w, slot, ts.slot_id, &a, key_hex, &pkey, &always);
	if (err)
		goto out;
	/* a key that needs the PIN for each signature: not in a SIGN_MANY */
	if (always && !msg->secret) {
		err = "pin_required";
		goto out;
	}
	for (i = 0; i < count && !err; i++) {
		if (many)
			a.hash = hashes + i * a.hash_len;
		err = p11_sign_with(pkey, &a, always ? (const char *)msg->secret : NULL, sig,
				    &siglen);
		if (!err && many)
			sig_list_add(list, &list_len, sig, siglen);
	}
	if (always) {
		int present;

		pin_state = p11_pin_state(p11_token_flags(m, ts.slot_id, &present));
	}
	if (err && !strcmp(err, "token_error") && token_gone(m, ts.slot_id))
		err = "token_removed";
	/* The token lost its login behind libp11's back (a card drops its PIN
	 * state after a PIN-always key, say), or a failed per-signature login
	 * left an operation open on one of libp11's sessions: libp11 keeps
	 * believing otherwise, so its view is rebuilt, and kysod asks again. */
	if (err && (!strcmp(err, "pin_required") || (always && strcmp(err, "token_removed"))))
		reset = 1;
out:
	if (!err && w->h->login_ttl == 0 && w->logged_in &&
	    !kyso_msg_bool(msg, KYSO_F_KEEP_LOGIN)) {
		PKCS11_logout(slot);
		w->logged_in = 0;
		reset_keys = 1;
	}
	/* freed while the slot list cannot be released (see before_release) */
	EVP_PKEY_free(pkey);
	pthread_rwlock_unlock(&m->lock);
	if (reset || reset_keys ||
	    (err && (!strcmp(err, "pin_required") || !strcmp(err, "key_not_found"))))
		keys_forget(w);
	if (reset_keys && !reset)
		drop_pin_copies(w);
	if (reset) {
		log_info("token %.12s: login state lost; rebuilding the slot list", w->token_id);
		p11_refresh(m);
		workers_forget_logins(w->h);
	}
	clock_gettime(CLOCK_MONOTONIC, &w->last_use);
	if (was_logged_in != w->logged_in)
		push_inventory(w);
	kyso_out_init(&ans);
	if (err)
		error_fields(&ans, err, error_text(err), pin_state, always);
	if (many && list_len)
		kyso_out_bytes(&ans, KYSO_F_SIGNATURES, list, list_len);
	else if (!many && !err)
		kyso_out_bytes(&ans, KYSO_F_SIGNATURE, sig, siglen);
	reply(w->h, lane, msg->id, err ? KYSO_IPC_F_ERROR : 0, &ans);
	kyso_out_free(&ans);
	free(list);
}

static void run_login(struct worker *w, struct kyso_msg *msg, int lane)
{
	struct p11_module *m = &w->h->mod;
	struct p11_token_state ts;
	const char *err, *pin_state = NULL;
	PKCS11_SLOT *slot;
	int was_logged_in, logged_in = 0, forgot = 0;

	pthread_rwlock_rdlock(&m->lock);
	was_logged_in = w->logged_in;
	slot = p11_find_slot(m, w->token_id);
	/* fresh: a login kept from before would let any PIN through; the one
	 * sent must be checked (kyso admin's certificate requests) */
	if (slot && msg->secret && kyso_msg_bool(msg, KYSO_F_FRESH) &&
	    PKCS11_is_logged_in(slot, 0, &logged_in) == 0 && logged_in) {
		PKCS11_logout(slot);
		w->logged_in = 0;
		forgot = 1;
	}
	if (!slot || p11_token_state(m, w->token_id, &ts))
		err = "token_removed";
	else
		err = ensure_login(w, slot, &ts, msg, &pin_state);
	pthread_rwlock_unlock(&m->lock);
	if (forgot)
		keys_forget(w);
	clock_gettime(CLOCK_MONOTONIC, &w->last_use);
	if (was_logged_in != w->logged_in)
		push_inventory(w);
	if (err)
		send_error(w->h, lane, msg->id, err, error_text(err), pin_state, 0);
	else
		reply(w->h, lane, msg->id, 0, NULL);
}

static int any_logged_in(struct helper *h);

/* libp11 0.4 keeps a copy of the last PIN of each slot (to log in again
 * after a fork) until its slot list is released, where it is wiped. Once no
 * token of the module is logged in any more, the list is rebuilt, so that
 * copy does not outlive the login. */
static void drop_pin_copies(struct worker *w)
{
	if (any_logged_in(w->h))
		return;
	p11_refresh(&w->h->mod);
}

static void run_logout(struct worker *w)
{
	struct p11_module *m = &w->h->mod;
	PKCS11_SLOT *slot;
	int logged_in = 0;

	pthread_rwlock_rdlock(&m->lock);
	slot = p11_find_slot(m, w->token_id);
	if (slot && PKCS11_is_logged_in(slot, 0, &logged_in) == 0 && logged_in) {
		PKCS11_logout(slot);
		log_info("token %.12s logged out", w->token_id);
	}
	w->logged_in = 0;
	pthread_rwlock_unlock(&m->lock);
	keys_forget(w);
	if (logged_in) {
		drop_pin_copies(w);
		push_inventory(w);
	}
}

static void worker_wake(struct worker *w, uint64_t n)
{
	ssize_t r;

	do
		r = write(w->wake_fd, &n, sizeof(n));
	while (r < 0 && errno == EINTR);
}

/* Opens this thread's lane: a socketpair whose other end goes to kysod,
 * which then sends this token's SIGN and LOGIN frames on it and reads the
 * replies itself, so neither side's frame passes through another thread.
 * Returns the thread's end, or -1 (the thread then serves its queue only). */
static int lane_open(struct worker *w, unsigned int thread)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (helper_send_lane(w->h, w->token_id, thread, sv[1])) {
		close(sv[0]);
		sv[0] = -1;
	}
	close(sv[1]);
	return sv[0];
}

/* A frame that came on the lane: this token's SIGN or LOGIN. */
static void lane_run(struct worker *w, int lane, struct kyso_msg *msg)
{
	const char *token = kyso_msg_str(msg, KYSO_F_TOKEN);

	if (msg->op != KYSO_OP_SIGN && msg->op != KYSO_OP_SIGN_MANY && msg->op != KYSO_OP_LOGIN)
		send_error(w->h, lane, msg->id, "internal_error", "not an operation of a lane",
			   NULL, 0);
	else if (!token || strcmp(token, w->token_id))
		send_error(w->h, lane, msg->id, "token_not_present", "the token is not present",
			   NULL, 0);
	else if (msg->op != KYSO_OP_LOGIN)
		run_sign(w, msg, lane);
	else
		run_login(w, msg, lane);
}

/* How long an idle, logged-in worker may wait before its logout is due:
 * milliseconds, 0 when due now, -1 when there is none to time. Called with
 * w->lock held. */
static int logout_due_ms(struct worker *w)
{
	struct timespec until = w->last_use, now;
	long ms;

	if (!w->logged_in || w->busy)
		return -1;
	/* with login_ttl 0 a login lives until the signature of its request,
	 * which follows at once */
	until.tv_sec += w->h->login_ttl ? w->h->login_ttl : LOGIN_GRACE_S;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (until.tv_sec - now.tv_sec) * 1000L + (until.tv_nsec - now.tv_nsec) / 1000000L + 1;
	return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* One thread of a token's worker: it runs the jobs queued by the helper's
 * main thread, and the frames of its lanes, one at a time. A thread keeps
 * several lanes, so that as many requests as there are lanes reach it
 * without waiting for one another in kysod: a frame that arrives while the
 * thread is busy waits in its socket, and the lanes are served in turn. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[1 + LANES_PER_THREAD];
	struct kyso_msg msg;
	struct job *j;
	uint64_t count;
	unsigned int i, k, nlanes = 0, turn = 0;
	unsigned int thread = __atomic_fetch_add(&w->next_thread, 1, __ATOMIC_RELAXED);
	int due;

	pfd[0].fd = w->wake_fd;
	pfd[0].events = POLLIN;
	for (i = 0; i < LANES_PER_THREAD; i++) {
		pfd[1 + nlanes].fd = lane_open(w, thread);
		pfd[1 + nlanes].events = POLLIN;
		if (pfd[1 + nlanes].fd >= 0)
			nlanes++;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (w->head) {
			j = w->head;
			w->head = j->next;
			if (!w->head)
				w->tail = NULL;
			w->busy++;
			pthread_mutex_unlock(&w->lock);
			if (j->kind == JOB_SIGN)
				run_sign(w, &j->msg, -1);
			else if (j->kind == JOB_LOGIN)
				run_login(w, &j->msg, -1);
			else
				run_logout(w);
			job_free(j);
			pthread_mutex_lock(&w->lock);
			w->busy--;
			continue;
		}
		due = logout_due_ms(w);
		if (due == 0) {
			w->busy++;
			pthread_mutex_unlock(&w->lock);
			run_logout(w);
			pthread_mutex_lock(&w->lock);
			w->busy--;
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		if (poll(pfd, 1 + nlanes, due) > 0) {
			/* a job or stop: one count each; the queue is looked at next */
			if ((pfd[0].revents & POLLIN) &&
			    read(w->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				log_warn("token %.12s: worker wake-up: %s", w->token_id,
					 strerror(errno));
			/* one frame, from the next ready lane after the last served */
			for (k = 0; k < nlanes; k++) {
				i = 1 + (turn + k) % nlanes;
				if (pfd[i].revents)
					break;
			}
			if (k < nlanes && kyso_ipc_recv(pfd[i].fd, &msg)) {
				/* kysod let go of it (or sent what it may not) */
				close(pfd[i].fd);
				pfd[i] = pfd[nlanes--];
			} else if (k < nlanes) {
				turn = i;	/* the lane after this one is first next time */
				pthread_mutex_lock(&w->lock);
				w->busy++;
				pthread_mutex_unlock(&w->lock);
				lane_run(w, pfd[i].fd, &msg);
				kyso_msg_clear(&msg);
				pthread_mutex_lock(&w->lock);
				w->busy--;
				pthread_mutex_unlock(&w->lock);
			}
		}
		pthread_mutex_lock(&w->lock);
	}
	/* Answer what is still queued: the token left. A frame sent on a lane
	 * meanwhile finds it closed, which kysod reads the same way. */
	while ((j = w->head) != NULL) {
		w->head = j->next;
		if (j->kind != JOB_LOGOUT)
			helper_send_error(w->h, j->msg.id, "token_removed", error_text("token_removed"),
					  NULL);
		job_free(j);
	}
	w->tail = NULL;
	pthread_mutex_unlock(&w->lock);
	for (i = 1; i <= nlanes; i++)
		close(pfd[i].fd);
	return NULL;
}

static struct worker *worker_start(struct helper *h, const char *token_id)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->h = h;
	strcpy(w->token_id, token_id);
	/* a semaphore: each thread woken takes one count */
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (w->wake_fd < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->keys_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &w->last_use);
	for (w->nthreads = 0; w->nthreads < h->pool; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w))
			break;
	if (w->nthreads == 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_mutex_destroy(&w->keys_lock);
		close(w->wake_fd);
		free(w);
		return NULL;
	}
	log_debug("worker with %u thread(s) started for token %.12s", w->nthreads, token_id);
	return w;
}

static void worker_stop(struct worker *w)
{
	unsigned int i;

	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_mutex_unlock(&w->lock);
	worker_wake(w, w->nthreads);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	keys_forget(w);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->keys_lock);
	close(w->wake_fd);
	log_debug("worker stopped for token %.12s", w->token_id);
	free(w);
}

static void worker_push(struct worker *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_mutex_unlock(&w->lock);
	worker_wake(w, 1);
}

void workers_sync(struct helper *h)
{
	struct p11_token_state ts;
	struct worker *gone[P11_MAX_TOKENS];
	unsigned int i, j, ngone = 0;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers;) {
		if (p11_token_state(&h->mod, h->workers[i]->token_id, &ts)) {
			gone[ngone++] = h->workers[i];
			h->workers[i] = h->workers[--h->nworkers];
		} else {
			i++;
		}
	}
	pthread_mutex_lock(&h->mod.tokens_lock);
	for (i = 0; i < h->mod.ntokens; i++) {
		for (j = 0; j < h->nworkers; j++)
			if (!strcmp(h->workers[j]->token_id, h->mod.tokens[i].id))
				break;
		if (j == h->nworkers && h->nworkers < P11_MAX_TOKENS) {
			struct worker *w = worker_start(h, h->mod.tokens[i].id);

			if (w)
				h->workers[h->nworkers++] = w;
		}
	}
	pthread_mutex_unlock(&h->mod.tokens_lock);
	pthread_mutex_unlock(&h->workers_lock);
	for (i = 0; i < ngone; i++)
		worker_stop(gone[i]);
}

static int any_logged_in(struct helper *h)
{
	unsigned int i;
	int any = 0;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers && !any; i++) {
		pthread_mutex_lock(&h->workers[i]->lock);
		any = h->workers[i]->logged_in;
		pthread_mutex_unlock(&h->workers[i]->lock);
	}
	pthread_mutex_unlock(&h->workers_lock);
	return any;
}

void workers_forget_logins(struct helper *h)
{
	unsigned int i;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers; i++) {
		pthread_mutex_lock(&h->workers[i]->lock);
		h->workers[i]->logged_in = 0;
		pthread_mutex_unlock(&h->workers[i]->lock);
	}
	pthread_mutex_unlock(&h->workers_lock);
}

void workers_drop_keys(void *ctx)
{
	struct helper *h = ctx;
	unsigned int i;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers; i++)
		keys_forget(h->workers[i]);
	pthread_mutex_unlock(&h->workers_lock);
}

void workers_stop_all(struct helper *h)
{
	struct worker *all[P11_MAX_TOKENS];
	unsigned int i, n;

	/* The workers are joined without workers_lock: a worker finishing a
	 * job takes it (any_logged_in, workers_forget_logins). */
	pthread_mutex_lock(&h->workers_lock);
	n = h->nworkers;
	memcpy(all, h->workers, n * sizeof(all[0]));
	h->nworkers = 0;
	pthread_mutex_unlock(&h->workers_lock);
	for (i = 0; i < n; i++)
		worker_stop(all[i]);
}

int workers_submit(struct helper *h, const char *token_id, struct kyso_msg *msg)
{
	struct job *j;
	unsigned int i;
	int ret = -1;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers; i++) {
		if (strcmp(h->workers[i]->token_id, token_id))
			continue;
		j = calloc(1, sizeof(*j));
		if (!j)
			break;
		j->kind = msg->op == KYSO_OP_LOGIN ? JOB_LOGIN : JOB_SIGN;
		j->msg = *msg;
		memset(msg, 0, sizeof(*msg));
		worker_push(h->workers[i], j);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&h->workers_lock);
	return ret;
}

int workers_logout(struct helper *h, const char *token_id)
{
	unsigned int i;
	int count = 0;

	pthread_mutex_lock(&h->workers_lock);
	for (i = 0; i < h->nworkers; i++) {
		struct worker *w = h->workers[i];
		struct job *j;

		if (token_id && strcmp(w->token_id, token_id))
			continue;
		j = calloc(1, sizeof(*j));
		if (!j)
			continue;
		j->kind = JOB_LOGOUT;
		pthread_mutex_lock(&w->lock);
		count += w->logged_in;
		pthread_mutex_unlock(&w->lock);
		worker_push(w, j);
	}
	pthread_mutex_unlock(&h->workers_lock);
	return count;
}
