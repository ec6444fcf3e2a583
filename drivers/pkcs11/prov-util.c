/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the provisioning calls share: attributes, sessions, public keys of key
 * objects, and the meaning of a PKCS#11 return value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "pkcs11/provision.h"

unsigned char *prov_attr(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			 CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	unsigned char *v;

	if (fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > (1u << 20))
		return NULL;
	v = malloc(a.ulValueLen + 1);
	if (!v)
		return NULL;
	a.pValue = v;
	if (fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
		free(v);
		return NULL;
	}
	v[a.ulValueLen] = '\0';
	*len = a.ulValueLen;
	return v;
}

int prov_attr_ulong(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		    CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
	CK_ATTRIBUTE a = { type, v, sizeof(*v) };

	return fl->C_GetAttributeValue(s, o, &a, 1) == CKR_OK && a.ulValueLen == sizeof(*v) ?
	       0 : -1;
}

int prov_attr_bool(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		   CK_ATTRIBUTE_TYPE type, int *v)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof(b) };

	if (fl->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || a.ulValueLen != sizeof(b))
		return -1;
	*v = b == CK_TRUE;
	return 0;
}

int prov_find_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_ATTRIBUTE *templ,
		      CK_ULONG n, CK_OBJECT_HANDLE *out, int max)
{
	CK_ULONG got = 0;
	CK_RV rv;

	if (fl->C_FindObjectsInit(s, templ, n) != CKR_OK)
		return -1;
	rv = fl->C_FindObjects(s, out, (CK_ULONG)max, &got);
	fl->C_FindObjectsFinal(s);
	return rv == CKR_OK ? (int)got : -1;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	EVP_PKEY *pkey = NULL;

	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_pubkey(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_ULONG nlen = 0, elen = 0;
	unsigned char *n = prov_attr(fl, s, o, CKA_MODULUS, &nlen);
	unsigned char *e = n ? prov_attr(fl, s, o, CKA_PUBLIC_EXPONENT, &elen) : NULL;
	OSSL_PARAM_BLD *bld = e ? OSSL_PARAM_BLD_new() : NULL;
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY *pkey = NULL;

	if (!bld || !nlen || !elen)
		goto out;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	if (bn && be && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pkey = from_params("RSA", bld);
out:
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	free(n);
	free(e);
	return pkey;
}

/* The named curve that ECParameters spelt out in full are (ykcs11 2.2 gives
 * its public key objects' CKA_EC_PARAMS so), or NULL. */
static const char *explicit_curve(const unsigned char *der, CK_ULONG len)
{
	const unsigned char *p = der;
	EC_GROUP *g = d2i_ECPKParameters(NULL, &p, (long)len);
	int nid = g && p == der + len ? EC_GROUP_check_named_curve(g, 0, NULL) : NID_undef;

	EC_GROUP_free(g);
	return nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
}

static EVP_PKEY *ec_pubkey(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_ULONG plen = 0, qlen = 0;
	unsigned char *params = prov_attr(fl, s, o, CKA_EC_PARAMS, &plen);
	unsigned char *point = params ? prov_attr(fl, s, o, CKA_EC_POINT, &qlen) : NULL;
	const unsigned char *p = params;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *q;
	const char *group;
	size_t len;

	if (!point)
		goto out;
	oid = d2i_ASN1_OBJECT(NULL, &p, (long)plen);
	group = oid && OBJ_obj2nid(oid) != NID_undef ? OBJ_nid2sn(OBJ_obj2nid(oid)) :
		explicit_curve(params, plen);
	if (!group)
		goto out;
	/* the point as PKCS#11 says, a DER OCTET STRING; some modules give it bare */
	p = point;
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)qlen);
	if (os && p == point + qlen) {
		q = ASN1_STRING_get0_data(os);
		len = (size_t)ASN1_STRING_length(os);
	} else {
		q = point;
		len = qlen;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, len))
		pkey = from_params("EC", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	free(params);
	free(point);
	return pkey;
}

EVP_PKEY *prov_object_pubkey(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_ULONG type;

	if (prov_attr_ulong(fl, s, o, CKA_KEY_TYPE, &type))
		return NULL;
	if (type == CKK_RSA)
		return rsa_pubkey(fl, s, o);
	if (type == CKK_EC)
		return ec_pubkey(fl, s, o);
	return NULL;
}

int prov_key_sha1(EVP_PKEY *pkey, unsigned char *id)
{
	X509_PUBKEY *xpk = NULL;
	const unsigned char *bits;
	int len, ret = -1;

	if (X509_PUBKEY_set(&xpk, pkey) == 1 &&
	    X509_PUBKEY_get0_param(NULL, &bits, &len, NULL, xpk) == 1 &&
	    EVP_Digest(bits, (size_t)len, id, NULL, EVP_sha1(), NULL) == 1)
		ret = 0;
	X509_PUBKEY_free(xpk);
	return ret;
}

const char *prov_open(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int rw,
		      CK_USER_TYPE user, const char *pin, CK_SESSION_HANDLE *s, char *msg)
{
	CK_RV rv;

	rv = fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL,
			       s);
	if (rv != CKR_OK)
		return prov_ckr(rv, 0, "open a session", msg);
	if (!pin)
		return NULL;
	rv = fl->C_Login(*s, user, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return NULL;
	fl->C_CloseSession(*s);
	return prov_ckr(rv, 1, user == CKU_SO ? "SO login" : "login", msg);
}

void prov_close(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, int logged_in)
{
	if (logged_in)
		fl->C_Logout(s);
	fl->C_CloseSession(s);
}

const char *prov_ckr(CK_RV rv, int pin_for, const char *what, char *msg)
{
	const char *code = "token_error", *text = "the token or its module failed";

	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		if (pin_for == 2) {
			code = "pin_rejected";
			text = "the token does not accept this PIN (its length or its characters)";
		} else {
			code = "pin_incorrect";
			text = "the PIN is incorrect";
		}
		break;
	case CKR_PIN_LOCKED:
		code = "pin_locked";
		text = "the PIN is locked";
		break;
	case CKR_PIN_EXPIRED:
		text = "the PIN has expired and must be changed first";
		break;
	case CKR_USER_PIN_NOT_INITIALIZED:
		code = "token_not_initialized";
		text = "the token has no user PIN yet (set one with kyso admin pin set)";
		break;
	case CKR_DEVICE_MEMORY:
		code = "token_full";
		text = "the token has no room left";
		break;
	case CKR_TOKEN_WRITE_PROTECTED:
	case CKR_SESSION_READ_ONLY:
		code = "token_read_only";
		text = "the token is write-protected";
		break;
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_KEY_SIZE_RANGE:
	case CKR_DOMAIN_PARAMS_INVALID:
		code = "mechanism_unsupported";
		text = "the token cannot make this kind of key";
		break;
	case CKR_FUNCTION_NOT_SUPPORTED:
	case CKR_TEMPLATE_INCONSISTENT:
	case CKR_ATTRIBUTE_READ_ONLY:
		code = "operation_unsupported";
		text = "the token or its module does not support this";
		break;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
		code = "token_removed";
		text = "the token was removed";
		break;
	case CKR_FUNCTION_CANCELED:
		code = "pin_cancelled";
		text = "the PIN entry was cancelled on the reader";
		break;
	case CKR_SESSION_EXISTS:
		text = "another program has the token open";
		break;
	}
	snprintf(msg, PROV_MSG, "%s: %s (PKCS#11 0x%lx)", what, text, (unsigned long)rv);
	log_info("%s failed: CKR 0x%lx", what, (unsigned long)rv);
	return code;
}
