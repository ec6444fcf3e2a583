/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key pairs made on a token, certificates stored next to their key, objects
 * deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/hex.h"
#include "common/log.h"
#include "pkcs11/provision.h"

#define MAX_OBJECTS 64

/* DER OIDs of the curves kyso generates keys on. */
static const unsigned char oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

/* Whether any object has this CKA_ID. */
static int id_taken(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, const unsigned char *id,
		    size_t len)
{
	CK_ATTRIBUTE templ[] = { { CKA_ID, (void *)id, len } };
	CK_OBJECT_HANDLE o;

	return prov_find_objects(fl, s, templ, 1, &o, 1) > 0;
}

/* The objects of class cls with this CKA_ID, at most max. */
static int by_id(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		 const unsigned char *id, size_t len, CK_OBJECT_HANDLE *out, int max)
{
	CK_ATTRIBUTE templ[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, len },
	};

	return prov_find_objects(fl, s, templ, 2, out, max);
}

static const char *generate(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct prov_keygen *k,
			    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *prv, char *msg)
{
	static const CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = k->type == KYSO_KEY_RSA3072 ? 3072 : 2048;
	int rsa = k->type == KYSO_KEY_RSA2048 || k->type == KYSO_KEY_RSA3072;
	CK_MECHANISM mech = { rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	const unsigned char *oid = k->type == KYSO_KEY_P384 ? oid_p384 : oid_p256;
	size_t oid_len = k->type == KYSO_KEY_P384 ? sizeof(oid_p384) : sizeof(oid_p256);
	CK_ULONG label_len = (CK_ULONG)strlen(k->label);
	CK_ATTRIBUTE pub_t[8] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)k->label, label_len },
	};
	CK_ATTRIBUTE prv_t[8] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)k->label, label_len },
	};
	CK_ULONG npub = 4, nprv = 6;
	CK_RV rv;
	int extractable;

	if (rsa) {
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)exponent,
						sizeof(exponent) };
	} else {
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)oid, oid_len };
	}
	if (k->id_len) {
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
		prv_t[nprv++] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
	}
	rv = fl->C_GenerateKeyPair(s, &mech, pub_t, npub, prv_t, nprv, pub, prv);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID) {
		/* ykcs11 2.2 takes no CKA_EXTRACTABLE (mechanisms.c
		 * check_pvtkey_template): asked again without it, the key
		 * it makes must say it is not extractable */
		prv_t[3] = prv_t[--nprv];
		rv = fl->C_GenerateKeyPair(s, &mech, pub_t, npub, prv_t, nprv, pub, prv);
		if (rv == CKR_OK && (prov_attr_bool(fl, s, *prv, CKA_EXTRACTABLE, &extractable) ||
				     extractable)) {
			fl->C_DestroyObject(s, *prv);
			fl->C_DestroyObject(s, *pub);
			snprintf(msg, PROV_MSG, "the token made a private key that can be exported; "
				 "it was deleted again");
			return "token_error";
		}
	}
	/* ykcs11 answers a key size or curve it does not make so */
	if (rv == CKR_ATTRIBUTE_VALUE_INVALID)
		rv = CKR_KEY_SIZE_RANGE;
	return rv == CKR_OK ? NULL : prov_ckr(rv, 0, "generate the key pair", msg);
}

/* Gives both halves the id kyso derives from the public key when the token
 * gave them none. */
static const char *set_id(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
			  CK_OBJECT_HANDLE prv, EVP_PKEY *pkey, struct prov_keygen *k, char *msg)
{
	unsigned char sha1[20];
	CK_ATTRIBUTE a = { CKA_ID, sha1, sizeof(sha1) };
	CK_ULONG len = 0;
	unsigned char *have = prov_attr(fl, s, pub, CKA_ID, &len);
	CK_RV rv;

	if (have && len > 0 && len <= sizeof(k->id)) {
		memcpy(k->id, have, len);
		k->id_len = len;
		free(have);
		return NULL;
	}
	free(have);
	if (prov_key_sha1(pkey, sha1)) {
		snprintf(msg, PROV_MSG, "cannot derive an id from the new public key");
		return "internal_error";
	}
	rv = fl->C_SetAttributeValue(s, pub, &a, 1);
	if (rv == CKR_OK)
		rv = fl->C_SetAttributeValue(s, prv, &a, 1);
	if (rv != CKR_OK)
		return prov_ckr(rv, 0, "set the new key's id", msg);
	memcpy(k->id, sha1, sizeof(sha1));
	k->id_len = sizeof(sha1);
	return NULL;
}

const char *prov_keygen(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			const char *pin, struct prov_keygen *k, char *msg)
{
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, prv = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE s;
	EVP_PKEY *pkey = NULL;
	unsigned char *spki = NULL;
	const char *err;
	int len;

	k->spki = NULL;
	k->spki_len = 0;
	err = prov_open(fl, t, 1, so ? CKU_SO : CKU_USER, pin, &s, msg);
	if (err)
		return err;
	if (k->id_len && id_taken(fl, s, k->id, k->id_len)) {
		snprintf(msg, PROV_MSG, "the token has an object with this id already");
		err = "object_exists";
		goto out;
	}
	err = generate(fl, s, k, &pub, &prv, msg);
	if (err)
		goto out;
	pkey = prov_object_pubkey(fl, s, pub);
	if (!pkey || (len = i2d_PUBKEY(pkey, &spki)) <= 0) {
		snprintf(msg, PROV_MSG, "the token made a key pair whose public key cannot be read");
		err = "token_error";
		goto undo;
	}
	err = set_id(fl, s, pub, prv, pkey, k, msg);
	if (err)
		goto undo;
	k->spki = spki;
	k->spki_len = (size_t)len;
	spki = NULL;
	goto out;
undo:
	/* a key pair kyso cannot name or show is of no use: removed again */
	fl->C_DestroyObject(s, prv);
	fl->C_DestroyObject(s, pub);
out:
	OPENSSL_free(spki);
	EVP_PKEY_free(pkey);
	prov_close(fl, s, 1);
	return err;
}

/* ---------------------------------------------------------------- certificates */

/* The private key whose public key is pkey: its handle and CKA_ID (*id,
 * malloc'd, maybe empty). The public half is read from the private object
 * itself, else from the public object with its CKA_ID. Returns 0 or -1. */
static int key_of(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, EVP_PKEY *pkey,
		  CK_OBJECT_HANDLE *prv, unsigned char **id, CK_ULONG *id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE templ[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE objs[MAX_OBJECTS], pub[4];
	int n = prov_find_objects(fl, s, templ, 1, objs, MAX_OBJECTS), i, j, np, eq;

	for (i = 0; i < n; i++) {
		EVP_PKEY *k = prov_object_pubkey(fl, s, objs[i]);
		CK_ULONG len = 0;
		unsigned char *kid = prov_attr(fl, s, objs[i], CKA_ID, &len);

		eq = k && EVP_PKEY_eq(k, pkey) == 1;
		EVP_PKEY_free(k);
		np = !eq && kid && len ? by_id(fl, s, CKO_PUBLIC_KEY, kid, len, pub, 4) : 0;
		for (j = 0; j < np && !eq; j++) {
			k = prov_object_pubkey(fl, s, pub[j]);
			eq = k && EVP_PKEY_eq(k, pkey) == 1;
			EVP_PKEY_free(k);
		}
		if (eq) {
			*prv = objs[i];
			*id = kid;
			*id_len = kid ? len : 0;
			return 0;
		}
		free(kid);
	}
	return -1;
}

/* Whether a certificate with this DER is on the token. */
static int cert_present(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, const unsigned char *der,
			size_t len)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE templ[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_VALUE, (void *)der, len },
	};
	CK_OBJECT_HANDLE o;

	return prov_find_objects(fl, s, templ, 2, &o, 1) > 0;
}

/* The subject's first CN into out ("" when none). */
static void subject_cn(X509 *x, char *out, size_t outlen)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	ASN1_STRING *v = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
	unsigned char *utf8 = NULL;
	int n = v ? ASN1_STRING_to_UTF8(&utf8, v) : -1;

	snprintf(out, outlen, "%.*s", n > 0 ? n : 0, n > 0 ? (const char *)utf8 : "");
	OPENSSL_free(utf8);
}

/* Creates a certificate object: category 1 (the token user's) or 2 (an
 * authority's). */
static CK_RV create_cert(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, X509 *x,
			 const unsigned char *der, size_t der_len, const unsigned char *id,
			 size_t id_len, const char *label, CK_ULONG category)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *subject = NULL, *issuer = NULL, *serial = NULL;
	int slen = i2d_X509_NAME(X509_get_subject_name(x), &subject);
	int ilen = i2d_X509_NAME(X509_get_issuer_name(x), &issuer);
	int nlen = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &serial);
	CK_ATTRIBUTE templ[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_VALUE, (void *)der, der_len },
		{ CKA_SUBJECT, subject, slen > 0 ? (CK_ULONG)slen : 0 },
		{ CKA_ISSUER, issuer, ilen > 0 ? (CK_ULONG)ilen : 0 },
		{ CKA_SERIAL_NUMBER, serial, nlen > 0 ? (CK_ULONG)nlen : 0 },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE o;
	CK_RV rv = CKR_HOST_MEMORY;

	if (slen > 0 && ilen > 0 && nlen > 0)
		rv = fl->C_CreateObject(s, templ, sizeof(templ) / sizeof(templ[0]), &o);
	/* ykcs11 2.2 takes no CKA_CERTIFICATE_CATEGORY (objects.c
	 * check_create_cert); the token user's certificate is stored without it.
	 * Not an authority's: ykcs11 would read the first byte of its CKA_ID as
	 * the PIV slot to write. */
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID && category == 1) {
		templ[4] = templ[sizeof(templ) / sizeof(templ[0]) - 1];
		rv = fl->C_CreateObject(s, templ, sizeof(templ) / sizeof(templ[0]) - 1, &o);
	}
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial);
	return rv;
}

/* The CA certificates of chain, while the token has room. */
static void store_chain(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, const unsigned char *chain,
			size_t chain_len, int no_room, json_t *details)
{
	const unsigned char *p = chain, *start;
	int stored = 0, present = 0, skipped = 0, full = no_room;
	unsigned char sha1[20];
	char label[128];
	X509 *x;
	CK_RV rv;

	while (p < chain + chain_len) {
		start = p;
		x = d2i_X509(NULL, &p, (long)(chain + chain_len - p));
		if (!x)
			break;
		if (cert_present(fl, s, start, (size_t)(p - start))) {
			present++;
		} else if (full || prov_key_sha1(X509_get0_pubkey(x), sha1)) {
			skipped++;
		} else {
			subject_cn(x, label, sizeof(label));
			rv = create_cert(fl, s, x, start, (size_t)(p - start), sha1, sizeof(sha1),
					 label, 2);
			if (rv == CKR_OK) {
				stored++;
			} else {
				/* out of room (or refused): the rest stays off the token */
				log_info("a CA certificate was not stored: CKR 0x%lx", (unsigned long)rv);
				full = 1;
				skipped++;
			}
		}
		X509_free(x);
	}
	json_object_set_new(details, "chain_stored", json_integer(stored));
	json_object_set_new(details, "chain_present", json_integer(present));
	json_object_set_new(details, "chain_skipped", json_integer(skipped));
}

/* One label on the key pair, as on its certificate; a token that does not
 * let labels change keeps the keys' own. */
static void label_keys(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE prv,
		       const unsigned char *id, size_t id_len, const char *label)
{
	CK_ATTRIBUTE a = { CKA_LABEL, (void *)label, strlen(label) };
	CK_OBJECT_HANDLE pub[4];
	int n = id_len ? by_id(fl, s, CKO_PUBLIC_KEY, id, id_len, pub, 4) : 0, i;

	if (fl->C_SetAttributeValue(s, prv, &a, 1) != CKR_OK)
		log_info("the private key's label could not be changed");
	for (i = 0; i < n; i++)
		fl->C_SetAttributeValue(s, pub[i], &a, 1);
}

/* The key's CKA_ID, or one kyso gives it (and its public half) when it has none. */
static const char *key_id(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE prv,
			  EVP_PKEY *pkey, unsigned char **id, CK_ULONG *id_len, char *msg)
{
	unsigned char sha1[20];
	CK_ATTRIBUTE a = { CKA_ID, sha1, sizeof(sha1) };
	CK_RV rv;

	if (*id_len)
		return NULL;
	free(*id);
	*id = NULL;
	if (prov_key_sha1(pkey, sha1)) {
		snprintf(msg, PROV_MSG, "cannot derive an id from the certificate's key");
		return "internal_error";
	}
	rv = fl->C_SetAttributeValue(s, prv, &a, 1);
	if (rv != CKR_OK)
		return prov_ckr(rv, 0, "give the key an id", msg);
	*id = malloc(sizeof(sha1));
	if (!*id) {
		snprintf(msg, PROV_MSG, "out of memory");
		return "internal_error";
	}
	memcpy(*id, sha1, sizeof(sha1));
	*id_len = sizeof(sha1);
	return NULL;
}

const char *prov_store_cert(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			    const char *pin, const unsigned char *der, size_t der_len,
			    const unsigned char *chain, size_t chain_len, const char *label,
			    json_t **details, char *msg)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)der_len);
	CK_OBJECT_HANDLE prv;
	CK_SESSION_HANDLE s;
	unsigned char *id = NULL;
	CK_ULONG id_len = 0, len = 0;
	char name[256], *hex = NULL;
	const char *err;
	CK_RV rv;

	*details = NULL;
	if (!x || p != der + der_len) {
		snprintf(msg, PROV_MSG, "the certificate cannot be decoded");
		X509_free(x);
		return "certificate_malformed";
	}
	err = prov_open(fl, t, 1, so ? CKU_SO : CKU_USER, pin, &s, msg);
	if (err)
		goto out_cert;
	if (cert_present(fl, s, der, der_len)) {
		snprintf(msg, PROV_MSG, "this certificate is on the token already");
		err = "object_exists";
		goto out;
	}
	if (key_of(fl, s, X509_get0_pubkey(x), &prv, &id, &id_len)) {
		snprintf(msg, PROV_MSG, "the token has no private key for this certificate");
		err = "key_not_found";
		goto out;
	}
	err = key_id(fl, s, prv, X509_get0_pubkey(x), &id, &id_len, msg);
	if (err)
		goto out;
	/* the label: the one asked for, else the key's, else the holder's name */
	if (label && *label) {
		snprintf(name, sizeof(name), "%s", label);
	} else {
		unsigned char *kl = prov_attr(fl, s, prv, CKA_LABEL, &len);

		snprintf(name, sizeof(name), "%.*s", kl ? (int)len : 0, kl ? (const char *)kl : "");
		free(kl);
		if (!name[0])
			subject_cn(x, name, sizeof(name));
	}
	rv = create_cert(fl, s, x, der, der_len, id, id_len, name, 1);
	if (rv != CKR_OK) {
		err = prov_ckr(rv, 0, "store the certificate", msg);
		goto out;
	}
	label_keys(fl, s, prv, id, id_len, name);
	hex = malloc(2 * id_len + 1);
	if (hex)
		kyso_hex_encode(id, id_len, hex);
	*details = json_pack("{s:s, s:s}", "key_id", hex ? hex : "", "label", name);
	/* a PIV card (ykcs11) keeps certificates only in its key slots */
	if (*details && chain && chain_len)
		store_chain(fl, s, chain, chain_len, t->mgmt_key, *details);
out:
	prov_close(fl, s, 1);
out_cert:
	free(hex);
	free(id);
	X509_free(x);
	return err;
}

/* ---------------------------------------------------------------- deleting */

/* The certificates whose DER hashes to cert_id, at most max. */
static int certs_by_hash(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, const char *cert_id,
			 CK_OBJECT_HANDLE *out, int max)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE templ[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE objs[MAX_OBJECTS];
	unsigned char md[32];
	char hex[65];
	int n = prov_find_objects(fl, s, templ, 1, objs, MAX_OBJECTS), i, found = 0;
	CK_ULONG len;

	for (i = 0; i < n && found < max; i++) {
		unsigned char *der = prov_attr(fl, s, objs[i], CKA_VALUE, &len);

		if (der && EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) == 1) {
			kyso_hex_encode(md, sizeof(md), hex);
			if (!strcmp(hex, cert_id))
				out[found++] = objs[i];
		}
		free(der);
	}
	return found;
}

const char *prov_delete(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, int so,
			const char *pin, enum kyso_ipc_object cls, const unsigned char *key_id, size_t key_id_len,
			const char *cert_id, char *msg)
{
	CK_OBJECT_HANDLE objs[MAX_OBJECTS];
	CK_SESSION_HANDLE s;
	const char *err;
	int n = 0, i;
	CK_RV rv = CKR_OK;

	err = prov_open(fl, t, 1, so ? CKU_SO : CKU_USER, pin, &s, msg);
	if (err)
		return err;
	if (cls == KYSO_OBJ_KEY && key_id_len) {
		n = by_id(fl, s, CKO_PRIVATE_KEY, key_id, key_id_len, objs, MAX_OBJECTS / 2);
		n = n < 0 ? 0 : n;
		i = by_id(fl, s, CKO_PUBLIC_KEY, key_id, key_id_len, objs + n, MAX_OBJECTS / 2);
		n += i < 0 ? 0 : i;
	} else if (cls == KYSO_OBJ_CERTIFICATE && cert_id) {
		n = certs_by_hash(fl, s, cert_id, objs, MAX_OBJECTS);
	}
	if (n <= 0) {
		snprintf(msg, PROV_MSG, cls == KYSO_OBJ_KEY ? "the token has no key with this id" :
			 "the token has no certificate with this id");
		err = "object_not_found";
		goto out;
	}
	for (i = 0; i < n && rv == CKR_OK; i++)
		rv = fl->C_DestroyObject(s, objs[i]);
	if (rv != CKR_OK)
		err = prov_ckr(rv, 0, "delete the object", msg);
out:
	prov_close(fl, s, 1);
	return err;
}
