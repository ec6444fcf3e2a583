/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tokens of every slot, initialised or not, and their objects: what
 * kysod's admin inventory is made from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/hex.h"
#include "common/utf8.h"
#include "pkcs11/provision.h"

#define MAX_SLOTS 64
#define MAX_OBJECTS 64

/* The slots holding a token, at most MAX_SLOTS into ids. Returns how many, or -1. */
static int token_slots(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID *ids)
{
	CK_ULONG n = 0;

	if (fl->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK)
		return -1;
	n = MAX_SLOTS;
	if (fl->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
		return -1;
	return (int)n;
}

int prov_read_token(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID slot, struct prov_token *t)
{
	char manufacturer[33], model[17], serial[17];

	memset(t, 0, sizeof(*t));
	if (fl->C_GetTokenInfo(slot, &t->info) != CKR_OK)
		return -1;
	t->slot = slot;
	p11_field_trim(manufacturer, t->info.manufacturerID, sizeof(t->info.manufacturerID));
	p11_field_trim(model, t->info.model, sizeof(t->info.model));
	p11_field_trim(serial, t->info.serialNumber, sizeof(t->info.serialNumber));
	kyso_token_id(manufacturer, model, serial, t->id);
	t->mgmt_key = prov_is_ykcs11(fl);
	return 0;
}

int prov_find(CK_FUNCTION_LIST_PTR fl, const char *token_id, struct prov_token *out)
{
	CK_SLOT_ID ids[MAX_SLOTS];
	int n = token_slots(fl, ids), i;

	for (i = 0; i < n; i++)
		if (prov_read_token(fl, ids[i], out) == 0 && !strcmp(out->id, token_id))
			return 0;
	return -1;
}

/* A space-padded PKCS#11 text field as a JSON string (bytes that are not
 * UTF-8 replaced). */
static json_t *field_json(const unsigned char *f, size_t n)
{
	char buf[65];

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	p11_field_trim(buf, f, n);
	return kyso_json_string_lossy(buf);
}

/* An attribute as lowercase hex ("" when absent). */
static json_t *hex_attr(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG len = 0;
	unsigned char *v = prov_attr(fl, s, o, type, &len);
	char *hex = v && len <= 256 ? malloc(2 * len + 1) : NULL;
	json_t *j;

	if (hex)
		kyso_hex_encode(v, len, hex);
	j = json_string(hex ? hex : "");
	free(hex);
	free(v);
	return j;
}

static json_t *label_attr(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_ULONG len = 0;
	unsigned char *v = prov_attr(fl, s, o, CKA_LABEL, &len);
	json_t *j = kyso_json_string_lossy(v ? (const char *)v : "");

	free(v);
	return j;
}

static json_t *b64_json(const unsigned char *p, size_t len)
{
	char *b64 = kyso_b64_encode(p, len);
	json_t *j = b64 ? json_string(b64) : NULL;

	free(b64);
	return j;
}

static json_t *certs_json(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE templ[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE objs[MAX_OBJECTS];
	json_t *list = json_array();
	CK_ULONG len;
	int n = prov_find_objects(fl, s, templ, 1, objs, MAX_OBJECTS), i;

	for (i = 0; i < n; i++) {
		unsigned char *der = prov_attr(fl, s, objs[i], CKA_VALUE, &len);
		json_t *c;

		if (!der)
			continue;
		c = json_pack("{s:o*, s:o*, s:o*}", "der", b64_json(der, len),
			      "key_id", hex_attr(fl, s, objs[i], CKA_ID),
			      "label", label_attr(fl, s, objs[i]));
		free(der);
		if (c)
			json_array_append_new(list, c);
	}
	return list;
}

static void keys_json(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		      json_t *list)
{
	CK_ATTRIBUTE templ[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE objs[MAX_OBJECTS];
	int n = prov_find_objects(fl, s, templ, 1, objs, MAX_OBJECTS), i, always;
	CK_ULONG type;

	for (i = 0; i < n; i++) {
		EVP_PKEY *pkey = prov_object_pubkey(fl, s, objs[i]);
		unsigned char *spki = NULL;
		json_t *k;
		int len = pkey ? i2d_PUBKEY(pkey, &spki) : 0;

		if (prov_attr_ulong(fl, s, objs[i], CKA_KEY_TYPE, &type))
			type = CK_UNAVAILABLE_INFORMATION;
		k = json_pack("{s:s, s:o*, s:o*, s:s}", "class",
			      cls == CKO_PRIVATE_KEY ? "private" : "public",
			      "key_id", hex_attr(fl, s, objs[i], CKA_ID),
			      "label", label_attr(fl, s, objs[i]),
			      "key_type", type == CKK_RSA ? "rsa" : type == CKK_EC ? "ec" : "other");
		if (k && len > 0)
			json_object_set_new(k, "public_key", b64_json(spki, (size_t)len));
		if (k && cls == CKO_PRIVATE_KEY &&
		    !prov_attr_bool(fl, s, objs[i], CKA_ALWAYS_AUTHENTICATE, &always))
			json_object_set_new(k, "always_authenticate", json_boolean(always));
		if (k)
			json_array_append_new(list, k);
		OPENSSL_free(spki);
		EVP_PKEY_free(pkey);
	}
}

/* The objects of an initialised token, in a read-only session: the private
 * keys only when the token shows them (logged in by a signature, or no
 * login needed). */
static void objects_json(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t, json_t *obj)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO si;
	json_t *keys = json_array();
	int visible;

	if (fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		json_decref(keys);
		return;
	}
	visible = !(t->info.flags & CKF_LOGIN_REQUIRED) ||
		  (fl->C_GetSessionInfo(s, &si) == CKR_OK && si.state == CKS_RO_USER_FUNCTIONS);
	json_object_set_new(obj, "certs", certs_json(fl, s));
	keys_json(fl, s, CKO_PUBLIC_KEY, keys);
	keys_json(fl, s, CKO_PRIVATE_KEY, keys);
	json_object_set_new(obj, "keys", keys);
	json_object_set_new(obj, "private_visible", json_boolean(visible));
	fl->C_CloseSession(s);
}

/* A count of bytes of token memory, or null when the token does not say. */
static json_t *memory_json(CK_ULONG v)
{
	return v == CK_UNAVAILABLE_INFORMATION ? json_null() : json_integer((json_int_t)v);
}

static json_t *token_json(CK_FUNCTION_LIST_PTR fl, const struct prov_token *t)
{
	const CK_TOKEN_INFO *i = &t->info;
	CK_SLOT_INFO si;
	char hw[16], fw[16];
	json_t *obj;

	snprintf(hw, sizeof(hw), "%u.%u", i->hardwareVersion.major, i->hardwareVersion.minor);
	snprintf(fw, sizeof(fw), "%u.%u", i->firmwareVersion.major, i->firmwareVersion.minor);
	if (fl->C_GetSlotInfo(t->slot, &si) != CKR_OK)
		memset(&si, ' ', sizeof(si));
	obj = json_pack("{s:s, s:I, s:o*, s:o*, s:o*, s:o*, s:o*, s:s, s:s, s:I, s:I, s:I,"
			" s:{s:o, s:o, s:o, s:o}}",
			"id", t->id, "slot", (json_int_t)t->slot,
			"reader", field_json(si.slotDescription, sizeof(si.slotDescription)),
			"label", field_json(i->label, sizeof(i->label)),
			"manufacturer", field_json(i->manufacturerID, sizeof(i->manufacturerID)),
			"model", field_json(i->model, sizeof(i->model)),
			"serial", field_json(i->serialNumber, sizeof(i->serialNumber)),
			"hardware", hw, "firmware", fw, "flags", (json_int_t)i->flags,
			"pin_min", (json_int_t)i->ulMinPinLen, "pin_max", (json_int_t)i->ulMaxPinLen,
			"memory", "public_free", memory_json(i->ulFreePublicMemory),
			"public_total", memory_json(i->ulTotalPublicMemory),
			"private_free", memory_json(i->ulFreePrivateMemory),
			"private_total", memory_json(i->ulTotalPrivateMemory));
	if (obj && t->mgmt_key)
		json_object_set_new(obj, "management_key", json_true());
	if (obj && (i->flags & CKF_TOKEN_INITIALIZED))
		objects_json(fl, t, obj);
	return obj;
}

json_t *prov_inventory(CK_FUNCTION_LIST_PTR fl, const char *only_id)
{
	CK_SLOT_ID ids[MAX_SLOTS];
	struct prov_token t;
	json_t *list = json_array();
	int n = token_slots(fl, ids), i;

	for (i = 0; i < n; i++) {
		if (prov_read_token(fl, ids[i], &t) || (only_id && strcmp(t.id, only_id)))
			continue;
		json_array_append_new(list, token_json(fl, &t));
	}
	return json_pack("{s:o}", "tokens", list);
}
