/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A token's initialisation and its PINs. */
#include <stdio.h>
#include <string.h>

#include "pkcs11/provision.h"

#define MAX_SLOTS 64

/* The ids of the initialised tokens now, at most MAX_SLOTS. */
static int initialised_ids(CK_FUNCTION_LIST_PTR fl, char (*ids)[KYSO_TOKEN_ID_LEN + 1],
			   CK_SLOT_ID *slots)
{
	CK_SLOT_ID all[MAX_SLOTS];
	struct prov_token t;
	CK_ULONG n = MAX_SLOTS, i;
	int count = 0;

	if (fl->C_GetSlotList(CK_TRUE, all, &n) != CKR_OK)
		return 0;
	for (i = 0; i < n; i++) {
		if (prov_read_token(fl, all[i], &t) || !(t.info.flags & CKF_TOKEN_INITIALIZED))
			continue;
		snprintf(ids[count], KYSO_TOKEN_ID_LEN + 1, "%s", t.id);
		slots[count++] = all[i];
	}
	return count;
}

/* After C_InitToken: where the token is now. A module may move it to another
 * slot and give it a serial (SoftHSM2 does both); it is the initialised
 * token that was not there before, or, re-initialised, the same one. */
static int find_after_init(CK_FUNCTION_LIST_PTR fl, const struct prov_token *before, int reinit,
			   char (*old)[KYSO_TOKEN_ID_LEN + 1], int nold, struct prov_token *t)
{
	char ids[MAX_SLOTS][KYSO_TOKEN_ID_LEN + 1];
	CK_SLOT_ID slots[MAX_SLOTS];
	int n = initialised_ids(fl, ids, slots), i, j, found = -1;

	for (i = 0; i < n; i++) {
		if (reinit && !strcmp(ids[i], before->id)) {
			found = i;
			break;
		}
		for (j = 0; j < nold; j++)
			if (!strcmp(ids[i], old[j]))
				break;
		if (j == nold && found < 0)
			found = i;
	}
	if (found < 0 || prov_find(fl, ids[found], t))
		return -1;
	return 0;
}

const char *prov_init_token(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int reinit,
			    const char *so_pin, const char *label, const char *user_pin,
			    char *new_id, char *msg)
{
	char old[MAX_SLOTS][KYSO_TOKEN_ID_LEN + 1];
	CK_SLOT_ID old_slots[MAX_SLOTS];
	CK_UTF8CHAR padded[32];
	struct prov_token now;
	CK_RV rv;
	int nold;

	snprintf(new_id, KYSO_TOKEN_ID_LEN + 1, "%s", t->id);
	if (!!(t->info.flags & CKF_TOKEN_INITIALIZED) != !!reinit) {
		snprintf(msg, PROV_MSG, reinit ? "the token is not initialised: initialise it" :
			 "the token is initialised already: wipe it to start again");
		return reinit ? "token_not_initialized" : "token_initialized";
	}
	if (strlen(label) > sizeof(padded)) {
		snprintf(msg, PROV_MSG, "a token label is at most 32 bytes");
		return "invalid_value";
	}
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	nold = initialised_ids(fl, old, old_slots);
	/* no session of this process may be open on the token */
	fl->C_CloseAllSessions(t->slot);
	rv = fl->C_InitToken(t->slot, (CK_UTF8CHAR_PTR)so_pin, (CK_ULONG)strlen(so_pin), padded);
	if (rv != CKR_OK)
		return prov_ckr(rv, reinit ? 1 : 2, reinit ? "re-initialise the token" :
				"initialise the token", msg);
	if (find_after_init(fl, t, reinit, old, nold, &now)) {
		snprintf(msg, PROV_MSG, "the token was initialised but cannot be found again");
		return "token_error";
	}
	snprintf(new_id, KYSO_TOKEN_ID_LEN + 1, "%s", now.id);
	if (!user_pin)
		return NULL;
	return prov_init_pin(fl, &now, so_pin, user_pin, msg);
}

const char *prov_set_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			 const char *old_pin, const char *new_pin, char *msg)
{
	CK_SESSION_HANDLE s;
	const char *err;
	CK_RV rv;

	if (t->mgmt_key)
		return so ? prov_ykcs11_puk(fl, t, old_pin, new_pin, 1, msg) :
		       prov_ykcs11_user_pin(fl, t, old_pin, new_pin, msg);
	/* The user's PIN is changed from a public R/W session (the old PIN is
	 * checked by C_SetPIN itself: one try); the SO's once logged in. */
	err = prov_open(fl, t, 1, CKU_SO, so ? old_pin : NULL, &s, msg);
	if (err)
		return err;
	rv = fl->C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, (CK_ULONG)strlen(old_pin),
			  (CK_UTF8CHAR_PTR)new_pin, (CK_ULONG)strlen(new_pin));
	prov_close(fl, s, so);
	if (rv == CKR_OK)
		return NULL;
	/* the old PIN was checked: a length or value error is the new one's */
	if (rv == CKR_PIN_INCORRECT)
		return prov_ckr(rv, 1, "change the PIN", msg);
	return prov_ckr(rv, 2, "change the PIN", msg);
}

const char *prov_init_pin(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t,
			  const char *so_pin, const char *new_pin, char *msg)
{
	CK_SESSION_HANDLE s;
	const char *err;
	CK_RV rv;

	/* ykcs11's SO is the management key, and C_InitPIN is not there */
	if (t->mgmt_key)
		return prov_ykcs11_puk(fl, t, so_pin, new_pin, 0, msg);
	err = prov_open(fl, t, 1, CKU_SO, so_pin, &s, msg);
	if (err)
		return err;
	rv = fl->C_InitPIN(s, (CK_UTF8CHAR_PTR)new_pin, (CK_ULONG)strlen(new_pin));
	prov_close(fl, s, 1);
	return rv == CKR_OK ? NULL : prov_ckr(rv, 2, "set the user PIN", msg);
}
