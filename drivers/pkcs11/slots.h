/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One PKCS#11 module as the helper sees it: the libp11 context, its slots, and a
 * cheap probe of the slot list that tells when tokens came, went or changed PIN state. */
#ifndef KYSO_SLOTS_H
#define KYSO_SLOTS_H
#include <pthread.h>
#include <libp11.h>
#include <jansson.h>

#include "pkcs11/module-check.h"
#include "pkcs11/token-id.h"

#define P11_MAX_TOKENS 64

struct p11_token_state {
	CK_SLOT_ID slot_id;
	char id[KYSO_TOKEN_ID_LEN + 1];
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	CK_FLAGS flags;
};

struct p11_module {
	char *path;
	struct p11_module_handle handle;
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	/* Write-held while libp11's slot list is rebuilt; read-held around every
	 * operation that uses a PKCS11_SLOT, key or certificate. */
	pthread_rwlock_t lock;
	/* Held (inside the read lock) while a token's certificate and key lists
	 * are enumerated and read: libp11 grows those arrays in place. */
	pthread_mutex_t objects_lock;
	/* The tokens present at the last probe, guarded by tokens_lock. */
	pthread_mutex_t tokens_lock;
	struct p11_token_state tokens[P11_MAX_TOKENS];
	unsigned int ntokens;
	/* The tokens libp11's slot list was built with (under the write lock). */
	struct p11_token_state enumerated[P11_MAX_TOKENS];
	unsigned int nenumerated;
	int flags_changed;		/* p11_token_flags saw new flags since the last probe */
	/* Who holds the write lock (atomic; P11_HELD_*): a change of a token
	 * (p11_exclusive: a key generation may take a minute) or a short
	 * listing or rebuild, which a probe that must answer waits for. */
	int held;
	unsigned int generation;	/* counts the rebuilds of libp11's slot list */
	/* Called (when set) under the write lock just before libp11's slot list
	 * is released. libp11 0.4.12's pkcs11_release_slot frees each slot's
	 * private part even while a key object of it is still referenced, and
	 * freeing such a key (EVP_PKEY) afterwards writes into that freed
	 * memory: every EVP_PKEY taken from the list must be freed by then. */
	void (*before_release)(void *ctx);
	void *before_release_ctx;
};

int p11_module_open(struct p11_module *m, const char *path, char *err, size_t errlen);
void p11_module_close(struct p11_module *m);

/* Reads the slot list through the module's function list, and the token
 * infos of new tokens (of every token when full). Returns 2 when libp11's
 * slot list must be rebuilt (a token it does not know is there, or one it
 * knows has gone), 1 when tokens left or their flags changed, 0 when nothing
 * changed (or the module is held by p11_exclusive or p11_alone: nothing is
 * read then), -1 on error. */
int p11_probe(struct p11_module *m, int full);

#define P11_HELD_NONE 0
#define P11_HELD_SHORT 1	/* p11_alone, p11_refresh */
#define P11_HELD_CHANGE 2	/* p11_exclusive */
#define P11_PROBE_BUSY (-2)

/* A full probe that waits for the module: for a listing or a rebuild that
 * holds it (a module stuck there keeps this call, and so its caller, stuck:
 * what kysod's removal check looks for), not for a change of a token, which
 * probes when it is done: P11_PROBE_BUSY then. Else as p11_probe. */
int p11_probe_wait(struct p11_module *m);

/* Rebuilds libp11's slot list; takes the write lock. libp11 0.4 cannot
 * update a slot list in place, so the list is released and enumerated again,
 * which ends the logins of the module's tokens. Returns 0 or -1. */
int p11_refresh(struct p11_module *m);

/* Runs fn(m, arg) alone: under the write lock, with libp11's slot list
 * released, so no other operation of the module runs meanwhile and no
 * session of libp11's is open (its tokens are logged out, libp11's copy of
 * their PINs is wiped). Then probes the slots and enumerates them again.
 * For what changes a token (provisioning): libp11 would otherwise keep
 * sessions, logins and object lists that no longer hold. Returns fn's
 * result. */
const char *p11_exclusive(struct p11_module *m, const char *(*fn)(struct p11_module *m, void *arg),
			  void *arg);

/* Runs fn(m, arg) under the write lock, libp11's slot list left as it is:
 * no other operation or probe of the module runs meanwhile (a listing of
 * its own that must not meet a probe). Returns fn's result. */
const char *p11_alone(struct p11_module *m, const char *(*fn)(struct p11_module *m, void *arg),
		      void *arg);

/* The slot holding token id, or NULL. Caller holds the read lock. */
PKCS11_SLOT *p11_find_slot(struct p11_module *m, const char *token_id);

/* Token state by id, copied into out; returns 0 or -1 if not present. */
int p11_token_state(struct p11_module *m, const char *token_id, struct p11_token_state *out);

/* Fresh token flags (C_GetTokenInfo), or 0 with *present = 0 when gone;
 * the next probe reports a change. */
CK_FLAGS p11_token_flags(struct p11_module *m, CK_SLOT_ID slot, int *present);

/* Whether slot holds a token (C_GetSlotInfo, which does not talk to the card). */
int p11_slot_has_token(struct p11_module *m, CK_SLOT_ID slot);

/* "ok", "count_low", "final_try" or "locked" for token flags. */
const char *p11_pin_state(CK_FLAGS flags);

/* Inventory for kysod: {"tokens":[{id,label,manufacturer,model,serial,slot,
 * pin_state,protected_path,login_required,logged_in,certs:[{der,key_id,label,key?}]}]},
 * key: what is known of the certificate's private key (KEY_* of kysod/inventory.h),
 * absent when nothing can be told before a login.
 * Takes the read lock. Returns a new reference. */
json_t *p11_inventory(struct p11_module *m);

#endif
