/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Provisioning a token through the module's own function list: a listing of
 * every slot's token with its objects, initialising a token, its PINs, key
 * pairs made on the token, certificates stored next to their key, objects
 * deleted. libp11 0.4 lacks most of this (EC key generation, attributes of
 * objects it did not make, a session of its own), so these calls use the
 * C_* functions directly, each in a session of its own that is closed
 * before it returns. The helper runs every call that changes a token with
 * libp11's slot list released (p11_exclusive): the token then has no other
 * session and no kept login (C_InitToken needs the first, an SO login the
 * second).
 *
 * Each operation returns NULL, or an API error code with a message for the
 * user in msg (PROV_MSG bytes). A PIN is only handed to the module. */
#ifndef KYSO_PROVISION_H
#define KYSO_PROVISION_H
#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "common/ipc.h"
#include "pkcs11/token-id.h"

#define PROV_MSG 256
#define PROV_ID_MAX 64		/* bytes of a CKA_ID kyso sets or looks for */

/* A token as found by prov_find. */
struct prov_token {
	CK_SLOT_ID slot;
	char id[KYSO_TOKEN_ID_LEN + 1];
	CK_TOKEN_INFO info;
	int mgmt_key;		/* the module is ykcs11: the SO's secret is the PIV
				 * management key (prov-ykcs11.c) */
};

/* The token in slot, as prov_find gives it. Returns 0, or -1 when its
 * token info cannot be read. */
int prov_read_token(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID slot, struct prov_token *t);

/* The token with this id in any slot, initialised or not. Returns 0, or -1
 * when no slot holds it. */
int prov_find(CK_FUNCTION_LIST_PTR fl, const char *token_id, struct prov_token *out);

/* {"tokens":[…]}: each slot's token (initialised or not) with what its
 * token info says, its certificates and its keys (the private ones when the
 * token shows them); see kysod's admin-inventory.c for the members.
 * only_id filters (NULL for all). Returns a new reference, or NULL. */
json_t *prov_inventory(CK_FUNCTION_LIST_PTR fl, const char *only_id);

/* C_InitToken with so_pin and label (at most 32 bytes), then, with user_pin,
 * the SO's C_InitPIN. reinit: the token is initialised already (a wipe);
 * else it must not be. The token's id afterwards goes to new_id. */
const char *prov_init_token(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int reinit,
			    const char *so_pin, const char *label, const char *user_pin,
			    char *new_id, char *msg);

/* C_SetPIN: the user PIN (so 0, in a public R/W session) or the SO PIN; on
 * a management key token (ykcs11), so is the PUK. */
const char *prov_set_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			 const char *old_pin, const char *new_pin, char *msg);

/* The SO logs in and sets a new user PIN (C_InitPIN): an unblock, or a
 * first user PIN; on a management key token (ykcs11), so_pin is the PUK,
 * which unblocks the PIN (prov_ykcs11_puk). */
const char *prov_init_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t,
			  const char *so_pin, const char *new_pin, char *msg);

struct prov_keygen {
	enum kyso_ipc_key_type type;
	unsigned char id[PROV_ID_MAX];	/* in: wanted CKA_ID (id_len 0: kyso picks one); */
	size_t id_len;			/* out: the key's */
	const char *label;
	unsigned char *spki;		/* out: the public key, DER (OPENSSL_free) */
	size_t spki_len;
};

/* A key pair generated on the token (the private key sensitive and not
 * extractable, for signing); without an id, CKA_ID becomes the SHA-1 of the
 * public key's bits (as a certificate's subjectKeyIdentifier). The session
 * logs in as the SO with pin when so (a management key token), else as the
 * user; so for prov_store_cert and prov_delete too. */
const char *prov_keygen(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			const char *pin, struct prov_keygen *k, char *msg);

/* Stores the certificate (DER) next to the private key whose public key it
 * holds, with that key's CKA_ID and one label on all three objects (label,
 * else the key's, else the subject's CN); then the CA certificates of chain
 * (DER one after the other) while the token has room. *details (a new
 * reference) says what was done: key_id, label, chain_stored,
 * chain_present, chain_skipped. */
const char *prov_store_cert(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			    const char *pin, const unsigned char *der, size_t der_len,
			    const unsigned char *chain, size_t chain_len, const char *label,
			    json_t **details, char *msg);

/* Deletes the key pair with this CKA_ID (its private and public objects),
 * or the certificate with this id (SHA-256 of its DER, lowercase hex). */
const char *prov_delete(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			const char *pin, enum kyso_ipc_object cls, const unsigned char *key_id, size_t key_id_len,
			const char *cert_id, char *msg);

/* ---------------------------------------------------------------- ykcs11 (prov-ykcs11.c) */

/* Whether fl is Yubico's ykcs11 (C_GetInfo's manufacturer). */
int prov_is_ykcs11(CK_FUNCTION_LIST_PTR fl);

/* With the PUK: unblocks the user PIN, giving it new_pin, or (new_puk) sets
 * a new PUK. */
const char *prov_ykcs11_puk(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, const char *puk,
			    const char *new_pin, int new_puk, char *msg);

/* Changes the user PIN, logged in with the old one first. */
const char *prov_ykcs11_user_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t,
				 const char *old_pin, const char *new_pin, char *msg);

/* ---------------------------------------------------------------- shared by prov-*.c */

/* An attribute's value, allocated (NUL-terminated, *len without it);
 * NULL when the object has none or it cannot be read. */
unsigned char *prov_attr(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			 CK_ATTRIBUTE_TYPE type, CK_ULONG *len);

/* A CK_ULONG or CK_BBOOL attribute: 0 and *v, or -1. */
int prov_attr_ulong(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		    CK_ATTRIBUTE_TYPE type, CK_ULONG *v);
int prov_attr_bool(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		   CK_ATTRIBUTE_TYPE type, int *v);

/* The objects matching templ (n attributes), at most max into out. Returns
 * how many, or -1. */
int prov_find_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_ATTRIBUTE *templ,
		      CK_ULONG n, CK_OBJECT_HANDLE *out, int max);

/* The public key a key object holds (RSA: modulus and exponent; EC: params
 * and point), or NULL. */
EVP_PKEY *prov_object_pubkey(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o);

/* The SHA-1 of a public key's bits (the subjectPublicKey BIT STRING's
 * content) into id (20 bytes). Returns 0 or -1. */
int prov_key_sha1(EVP_PKEY *pkey, unsigned char *id);

/* Opens a session (rw) on t's slot, logging in as user (CKU_USER or CKU_SO)
 * with pin unless pin is NULL. Returns NULL or an error code (msg set). */
const char *prov_open(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int rw,
		      CK_USER_TYPE user, const char *pin, CK_SESSION_HANDLE *s, char *msg);

/* Logs out (when logged in) and closes the session. */
void prov_close(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, int logged_in);

/* The API error code of a PKCS#11 return value: pin_for says what a PIN
 * error means (1: the PIN given was checked, 2: a new PIN was refused).
 * Fills msg with what to tell the user, naming what failed. */
const char *prov_ckr(CK_RV rv, int pin_for, const char *what, char *msg);

#endif
