/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Yubico's ykcs11 (yubico-piv-tool 2.2.0, ykcs11/) gives PKCS#11's calls a
 * PIV card's meaning: C_Login as CKU_SO takes the card management key (48
 * hex digits: 3DES, the only algorithm libykpiv 2.2 authenticates with), and
 * only the SO may generate keys, store certificates or delete objects;
 * C_InitPIN is not supported; the PUK goes through C_SetPIN, as "puk:PUK" for
 * the old PIN and "pin:NEW" (an unblock, RESET RETRY COUNTER) or "puk:NEW" (a
 * new PUK) for the new one (token.c token_change_pin). The tries the card
 * answers to a wrong PIN in C_SetPIN are dropped there, and C_GetTokenInfo
 * reports the user PIN's flags from the last VERIFY libykpiv made
 * (ykpiv_get_pin_retries with YKPIV_RETRIES_MAX); the PUK's are never
 * reported. */
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "pkcs11/provision.h"

/* "puk:" and a PIN of at most 8 bytes (a PIV PUK or PIN), NUL-terminated. */
#define TAGGED_MAX (4 + 8 + 1)

int prov_is_ykcs11(CK_FUNCTION_LIST_PTR fl)
{
	static const char yubico[] = "Yubico";
	CK_INFO info;

	return fl->C_GetInfo(&info) == CKR_OK &&
	       !memcmp(info.manufacturerID, yubico, sizeof(yubico) - 1);
}

/* tag:pin into out; -1 when the PIN is too long for a PIV card. */
static int tagged(char *out, const char *tag, const char *pin)
{
	if (strlen(pin) > 8)
		return -1;
	snprintf(out, TAGGED_MAX, "%s:%s", tag, pin);
	return 0;
}

/* C_SetPIN in a public R/W session with what ykcs11 reads from old and new. */
static CK_RV set_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, const char *old,
		     const char *new)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;

	rv = fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	rv = fl->C_SetPIN(s, (CK_UTF8CHAR_PTR)old, (CK_ULONG)strlen(old), (CK_UTF8CHAR_PTR)new,
			  (CK_ULONG)strlen(new));
	fl->C_CloseSession(s);
	return rv;
}

/* A login with pin and a logout: what VERIFY answers becomes ykcs11's count. */
static int refresh_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, const char *pin)
{
	CK_SESSION_HANDLE s;
	char msg[PROV_MSG];

	if (prov_open(fl, t, 0, CKU_USER, pin, &s, msg))
		return -1;
	prov_close(fl, s, 1);
	return 0;
}

const char *prov_ykcs11_puk(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, const char *puk,
			    const char *new_pin, int new_puk, char *msg)
{
	char old[TAGGED_MAX], new[TAGGED_MAX];
	const char *err = NULL;
	CK_RV rv;

	if (tagged(old, "puk", puk)) {
		/* a PIV PUK has 8 at most: no try of it is spent on this */
		snprintf(msg, PROV_MSG, "the PUK entered is longer than a PIV PUK (8 characters); "
			 "nothing was sent to the token");
		err = "pin_rejected";
		goto out;
	}
	if (tagged(new, new_puk ? "puk" : "pin", new_pin)) {
		snprintf(msg, PROV_MSG, "a PIV %s is at most 8 characters", new_puk ? "PUK" : "PIN");
		err = "pin_rejected";
		goto out;
	}
	rv = set_pin(fl, t, old, new);
	/* a wrong PUK is "incorrect"; the card checks it before the new value */
	if (rv != CKR_OK) {
		err = prov_ckr(rv, rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ? 1 : 2,
			       new_puk ? "change the PUK" : "unblock the PIN with the PUK", msg);
		goto out;
	}
	/* ykcs11 still says the PIN is locked (the last VERIFY it saw): one
	 * with the new PIN, which the card takes, makes its flags true again */
	if (!new_puk && refresh_pin(fl, t, new_pin))
		log_warn("the PIN was unblocked, but ykcs11 does not take the new one");
out:
	OPENSSL_cleanse(old, sizeof(old));
	OPENSSL_cleanse(new, sizeof(new));
	return err;
}

const char *prov_ykcs11_user_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t,
				 const char *old_pin, const char *new_pin, char *msg)
{
	CK_SESSION_HANDLE s;
	const char *err;
	CK_RV rv;

	/* C_Login first: a wrong PIN is then answered by VERIFY, whose count
	 * ykcs11 keeps for C_GetTokenInfo; C_SetPIN alone would leave the flags
	 * as they were. One try either way. */
	err = prov_open(fl, t, 1, CKU_USER, old_pin, &s, msg);
	if (err)
		return err;
	rv = fl->C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, (CK_ULONG)strlen(old_pin),
			  (CK_UTF8CHAR_PTR)new_pin, (CK_ULONG)strlen(new_pin));
	prov_close(fl, s, 1);
	if (rv == CKR_OK)
		return NULL;
	return prov_ckr(rv, rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ? 1 : 2,
			"change the PIN", msg);
}
