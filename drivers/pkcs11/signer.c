/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "pkcs11/digestinfo.h"
#include "pkcs11/signer.h"

/* The PIN for a context-specific login, for the signature this thread is making. */
static __thread const char *context_pin_tls;

/* libp11 asks its UI method for the PIN of a CKA_ALWAYS_AUTHENTICATE key:
 * answer with the PIN kysod sent along with the signature request. */
static int ui_read(UI *ui, UI_STRING *uis)
{
	switch (UI_get_string_type(uis)) {
	case UIT_PROMPT:
	case UIT_VERIFY:
		if (!context_pin_tls)
			return 0;
		return UI_set_result(ui, uis, context_pin_tls) == 0 ? 1 : 0;
	default:
		return 1;
	}
}

int p11_signer_init(PKCS11_CTX *ctx)
{
	static UI_METHOD *method;

	if (!method) {
		method = UI_create_method("kyso context PIN");
		if (!method || UI_method_set_reader(method, ui_read))
			return -1;
	}
	return PKCS11_set_ui_method(ctx, method, NULL);
}

int p11_key_always_auth(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID slot, const unsigned char *id,
			size_t id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_BBOOL always = CK_FALSE;
	CK_ATTRIBUTE attr = { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) };
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE obj;
	CK_ULONG n = 0;
	int ret = -1;

	if (fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session) != CKR_OK)
		return -1;
	if (fl->C_FindObjectsInit(session, find, 2) == CKR_OK) {
		if (fl->C_FindObjects(session, &obj, 1, &n) == CKR_OK && n == 1)
			ret = fl->C_GetAttributeValue(session, obj, &attr, 1) == CKR_OK ?
			      always == CK_TRUE : 0;
		fl->C_FindObjectsFinal(session);
	}
	fl->C_CloseSession(session);
	return ret;
}

/* The last PKCS#11 return value libp11 queued on this thread's error queue. */
static unsigned long last_ckr(void)
{
	unsigned long e, ckr = CKR_GENERAL_ERROR;
	int lib = ERR_get_CKR_code();

	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_LIB(e) == lib)
			ckr = ERR_GET_REASON(e);
	return ckr;
}

static const char *ckr_code(unsigned long rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return "pin_incorrect";
	case CKR_PIN_LOCKED:
		return "pin_locked";
	case CKR_USER_NOT_LOGGED_IN:
		return "pin_required";
	case CKR_FUNCTION_CANCELED:
		return "pin_cancelled";
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
		return "token_removed";
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_KEY_TYPE_INCONSISTENT:
		return "mechanism_unsupported";
	default:
		return "token_error";
	}
}

const char *p11_login(PKCS11_SLOT *slot, const char *pin)
{
	unsigned long rv;

	ERR_clear_error();
	if (PKCS11_login(slot, 0, pin) == 0)
		return NULL;
	rv = last_ckr();
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		return NULL;
	log_info("login failed: CKR 0x%lx", rv);
	return ckr_code(rv);
}

/* The certificate's public key for the fallback key match, or NULL. */
static EVP_PKEY *cert_pubkey(PKCS11_TOKEN *tok, const struct p11_sign_args *a)
{
	PKCS11_CERT *certs = NULL;
	unsigned int n = 0, i;

	if (PKCS11_enumerate_certs(tok, &certs, &n) < 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (certs[i].x509 && certs[i].id_len == a->key_id_len &&
		    !memcmp(certs[i].id, a->key_id, a->key_id_len))
			return X509_get0_pubkey(certs[i].x509);
	return NULL;
}

/* The private key: by CKA_ID, else the one whose public half matches the
 * certificate. Returns a new EVP_PKEY reference or NULL. */
static EVP_PKEY *find_key(PKCS11_TOKEN *tok, const struct p11_sign_args *a)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0, i;
	EVP_PKEY *pub, *pkey;

	if (PKCS11_enumerate_keys(tok, &keys, &n) < 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (keys[i].isPrivate && keys[i].id_len == a->key_id_len &&
		    !memcmp(keys[i].id, a->key_id, a->key_id_len))
			return PKCS11_get_private_key(&keys[i]);
	pub = cert_pubkey(tok, a);
	if (!pub)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!keys[i].isPrivate)
			continue;
		pkey = PKCS11_get_private_key(&keys[i]);
		if (pkey && EVP_PKEY_eq(pub, pkey) == 1)
			return pkey;
		EVP_PKEY_free(pkey);
	}
	return NULL;
}

static int setup_ctx(EVP_PKEY_CTX *ctx, const struct p11_sign_args *a)
{
	if (EVP_PKEY_sign_init(ctx) <= 0)
		return -1;
	switch (a->mech) {
	case P11_MECH_RSA_PKCS1:
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ? -1 : 0;
	case P11_MECH_RSA_PSS:
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbynid(a->md_nid)) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
			return -1;
		return 0;
	case P11_MECH_ECDSA:
		return 0;
	}
	return -1;
}

const char *p11_key(PKCS11_SLOT *slot, const struct p11_sign_args *a, EVP_PKEY **pkey)
{
	unsigned long rv;

	ERR_clear_error();
	*pkey = NULL;
	if (!slot->token)
		return "token_removed";
	*pkey = find_key(slot->token, a);
	if (*pkey)
		return NULL;
	rv = last_ckr();
	return rv == CKR_GENERAL_ERROR ? "key_not_found" : ckr_code(rv);
}

const char *p11_sign_with(EVP_PKEY *pkey, const struct p11_sign_args *a, const char *context_pin,
			  unsigned char *sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *tbs_owned = NULL;
	const unsigned char *tbs = a->hash;
	size_t tbs_len = a->hash_len, len;
	const char *err = "token_error";
	int want_rsa;

	ERR_clear_error();
	want_rsa = a->mech != P11_MECH_ECDSA;
	if (want_rsa != (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)) {
		err = "mechanism_unsupported";
		goto out;
	}
	if (a->mech == P11_MECH_RSA_PKCS1) {
		if (kyso_digestinfo(a->md_nid, a->hash, a->hash_len, &tbs_owned, &tbs_len))
			goto out;
		tbs = tbs_owned;
	}
	len = (size_t)EVP_PKEY_get_size(pkey);
	if (len == 0 || len > P11_MAX_SIG)
		goto out;
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (!ctx || setup_ctx(ctx, a))
		goto out;
	context_pin_tls = context_pin;
	if (EVP_PKEY_sign(ctx, sig, &len, tbs, tbs_len) <= 0) {
		context_pin_tls = NULL;
		err = ckr_code(last_ckr());
		log_info("signature failed: %s", err);
		goto out;
	}
	context_pin_tls = NULL;
	*siglen = len;
	err = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(tbs_owned);
	return err;
}
