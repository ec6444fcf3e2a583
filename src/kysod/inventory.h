/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's view of the tokens and certificates its helpers report. */
#ifndef KYSOD_INVENTORY_H
#define KYSOD_INVENTORY_H
#include <pthread.h>
#include <stddef.h>
#include <jansson.h>
#include <openssl/x509.h>

struct inv_token;
struct inv_cert;

/* Told of token-inserted, token-removed and pin-state changes; data is consumed. */
typedef void (*inventory_notify_fn)(void *opaque, const char *type, json_t *data);

struct inventory {
	pthread_mutex_t lock;
	inventory_notify_fn notify;
	void *notify_opaque;
	struct inv_token *tokens;
	size_t ntokens;
	struct inv_cert *certs;
	size_t ncerts;
	char (*per_signature)[65];	/* ids of certificates whose key needs a PIN per signature */
	size_t nper_signature;
	char (*no_key)[65];		/* ids of certificates a signature found without a key */
	size_t nno_key;
};

/* What is known of a certificate's private key on its token (the helper's
 * "key", or a signature that did not find it). */
#define KEY_PRESENT 1		/* a key object with its CKA_ID or public key */
#define KEY_UNKNOWN 0		/* cannot be told before a login */
#define KEY_LIKELY_MISSING (-1)	/* not logged in; the token shows other keys, not this one */
#define KEY_MISSING (-2)	/* the private objects were visible, or a signature found none */

/* What signing needs to know about a certificate, copied out of the inventory. */
struct cert_ref {
	char id[65];
	char token[33];
	char token_label[33];
	size_t module;
	char key_id[513];
	int is_rsa;
	int token_present;
	char holder[256];
	char pin_state[16];
	int protected_path;
	int per_signature;	/* its key was seen to need the PIN for each signature */
	int key;		/* KEY_* */
};

void inventory_init(struct inventory *inv);
void inventory_free(struct inventory *inv);

/* Replaces what module reported earlier with its new report (the helper's
 * {"tokens":[…]}); tokens no longer there stay listed as not present. */
void inventory_update(struct inventory *inv, size_t module, const char *module_name,
		      json_t *report);

/* The module's helper went away: its tokens are not present for now. */
void inventory_module_down(struct inventory *inv, size_t module);

/* {"tokens":[…]} for the API; only_id filters (NULL for all). */
json_t *inventory_tokens_json(struct inventory *inv, const char *only_id);

/* {"certificates":[…]} for present tokens; token filters (NULL for all). */
json_t *inventory_certs_json(struct inventory *inv, const char *token, const char *only_id);

/* Fills ref for certificate id. Returns 0, or -1 when unknown. */
int inventory_find_cert(struct inventory *inv, const char *id, struct cert_ref *ref);

/* The certificate with that id (a new reference, X509_free it), or NULL. */
X509 *inventory_cert_x509(struct inventory *inv, const char *id);

/* Remembers that certificate id's key needs the PIN for each signature. */
void inventory_set_per_signature(struct inventory *inv, const char *id);

/* Remembers that a signature found no private key for certificate id (until
 * its helper reports one). */
void inventory_set_no_key(struct inventory *inv, const char *id);

/* KEY_* for certificate id. */
int inventory_cert_key(struct inventory *inv, const char *id);

/* Updates a token's PIN state after the helper reported it. */
void inventory_set_pin_state(struct inventory *inv, const char *token, const char *state);

/* Whether a token with this id was seen (present or not). */
int inventory_has_token(struct inventory *inv, const char *id);

/* Number of present tokens of module. */
int inventory_module_tokens(struct inventory *inv, size_t module);

#endif
