/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Login and signing on one token through libp11. Callers hold the module's read
 * lock and run on the token's worker thread, so one token sees one operation at a time. */
#ifndef KYSO_SIGNER_H
#define KYSO_SIGNER_H
#include <stddef.h>
#include <libp11.h>
#include <p11-kit/pkcs11.h>

enum p11_mech {
	P11_MECH_RSA_PKCS1,	/* CKM_RSA_PKCS over a DigestInfo */
	P11_MECH_RSA_PSS,	/* PSS encoding by OpenSSL, CKM_RSA_X_509 on the token */
	P11_MECH_ECDSA,		/* CKM_ECDSA, answer DER-encoded */
};

struct p11_sign_args {
	const unsigned char *key_id;
	size_t key_id_len;
	enum p11_mech mech;
	int md_nid;
	const unsigned char *hash;
	size_t hash_len;
};

#define P11_MAX_SIG 1024

/* Logs the user in with pin (NULL: the reader's PIN pad). Returns NULL, or an
 * API error code ("pin_incorrect", "pin_locked", "token_removed", "token_error"). */
const char *p11_login(PKCS11_SLOT *slot, const char *pin);

/* The private key of a->key_id: by CKA_ID, else the one matching its
 * certificate's public key. On success *pkey is a new reference (caller frees)
 * valid until libp11's slot list is rebuilt. Returns NULL, or an error code
 * ("key_not_found", "token_removed", "pin_required", "token_error"). */
const char *p11_key(PKCS11_SLOT *slot, const struct p11_sign_args *a, EVP_PKEY **pkey);

/* Signs into sig (P11_MAX_SIG bytes) with a key from p11_key. context_pin is
 * the PIN for a key that needs one for each signature (CKA_ALWAYS_AUTHENTICATE),
 * else NULL. Returns NULL, or an error code ("mechanism_unsupported",
 * "pin_required", "pin_incorrect", "token_removed", "token_error"). */
const char *p11_sign_with(EVP_PKEY *pkey, const struct p11_sign_args *a, const char *context_pin,
			  unsigned char *sig, size_t *siglen);

/* Whether the private key with this CKA_ID needs a login for each signature:
 * 1, 0, or -1 when it cannot be told (not logged in, no such key). */
int p11_key_always_auth(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID slot, const unsigned char *id,
			size_t id_len);

/* Makes libp11 take a per-signature PIN from p11_sign's context_pin. */
int p11_signer_init(PKCS11_CTX *ctx);

#endif
