/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /v1/admin/tokens: every token the modules see, initialised or not,
 * with its family, its PIN counters, its keys and its certificates, paired:
 * a key without a certificate and a certificate without a key show as such. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/b64.h"
#include "kysod/admin-flow.h"
#include "kysod/admin-inventory.h"
#include "kysod/api.h"
#include "kysod/cert-info.h"
#include "kysod/helpers.h"

/* One key: the private and public objects of one CKA_ID (or, without one,
 * of one public key). */
struct key_group {
	const char *key_id;
	const char *label;
	const char *key_type;
	const char *spki_b64;		/* NULL when no half shows it */
	int private, public, always;
	json_t *certs;			/* ids of its certificates */
};

static EVP_PKEY *spki_pkey(const char *b64)
{
	size_t len = 0;
	unsigned char *der = b64 ? kyso_b64_decode_alloc(b64, strlen(b64), &len) : NULL;
	const unsigned char *p = der;
	EVP_PKEY *pkey = der ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;

	free(der);
	return pkey;
}

/* "rsa" with bits, or "ec" with the curve's NIST name, into obj. */
static void key_size(json_t *obj, EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;
	const char *nist;

	if (!pkey)
		return;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		json_object_set_new(obj, "key_bits", json_integer(EVP_PKEY_get_bits(pkey)));
	} else if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen)) {
		nist = EC_curve_nid2nist(OBJ_sn2nid(group));
		json_object_set_new(obj, "curve", json_string(nist ? nist : group));
	}
}

static size_t group_keys(json_t *keys, struct key_group *g, size_t max)
{
	json_t *k;
	size_t i, j, n = 0;

	json_array_foreach(keys, i, k) {
		const char *id = json_string_value(json_object_get(k, "key_id")) ?: "";
		const char *spki = json_string_value(json_object_get(k, "public_key"));
		int priv = !strcmp(json_string_value(json_object_get(k, "class")) ?: "", "private");

		for (j = 0; j < n; j++)
			if ((*id && !strcmp(g[j].key_id, id)) ||
			    (!*id && !*g[j].key_id && spki && g[j].spki_b64 &&
			     !strcmp(spki, g[j].spki_b64)))
				break;
		if (j == n) {
			if (n == max)
				continue;
			memset(&g[n], 0, sizeof(g[n]));
			g[n].key_id = id;
			g[n].label = json_string_value(json_object_get(k, "label")) ?: "";
			g[n].key_type = json_string_value(json_object_get(k, "key_type")) ?: "other";
			g[n].certs = json_array();
			n++;
		}
		if (spki && !g[j].spki_b64)
			g[j].spki_b64 = spki;
		if (priv) {
			g[j].private = 1;
			g[j].always = json_is_true(json_object_get(k, "always_authenticate"));
		} else {
			g[j].public = 1;
		}
	}
	return n;
}

/* The key group of a certificate: by its CKA_ID, else by its public key. */
static struct key_group *cert_group(X509 *x, const char *key_id, struct key_group *g, size_t n)
{
	EVP_PKEY *pkey;
	size_t i;
	int eq;

	for (i = 0; i < n; i++)
		if (*key_id && !strcmp(g[i].key_id, key_id))
			return &g[i];
	for (i = 0; i < n; i++) {
		pkey = spki_pkey(g[i].spki_b64);
		eq = pkey && EVP_PKEY_eq(pkey, X509_get0_pubkey(x)) == 1;
		EVP_PKEY_free(pkey);
		if (eq)
			return &g[i];
	}
	return NULL;
}

static json_t *cert_json(json_t *c, struct key_group *g, size_t n, int private_visible)
{
	const char *b64 = json_string_value(json_object_get(c, "der"));
	const char *key_id = json_string_value(json_object_get(c, "key_id")) ?: "";
	size_t len = 0;
	unsigned char *der = b64 ? kyso_b64_decode_alloc(b64, strlen(b64), &len) : NULL;
	const unsigned char *p = der;
	X509 *x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
	struct cert_facts facts;
	struct key_group *kg;
	char id[65];
	json_t *obj = NULL;
	int day, sec, ca;

	if (!x || cert_info_id(x, id) || !(obj = cert_info_json(x, &facts)))
		goto out;
	json_object_del(obj, "pem");
	json_object_set_new(obj, "id", json_string(id));
	json_object_set_new(obj, "key_id", json_string(key_id));
	json_object_set_new(obj, "label", json_incref(json_object_get(c, "label")));
	/* whole days to the end of validity, rounded down: -1 on the day after */
	if (ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)))
		json_object_set_new(obj, "days_left", json_integer(day - (sec < 0 ? 1 : 0)));
	ca = X509_check_ca(x) != 0;
	json_object_set_new(obj, "ca", json_boolean(ca));
	kg = cert_group(x, key_id, g, n);
	if (kg)
		json_array_append_new(kg->certs, json_string(id));
	/* the key of a CA's certificate is the CA's, not the token's */
	if (ca && !kg)
		json_object_set_new(obj, "key", json_null());
	else if (kg && (kg->private || !private_visible))
		json_object_set_new(obj, "key", json_string("present"));
	else if (private_visible)
		json_object_set_new(obj, "key", json_string("missing"));
	else
		json_object_set_new(obj, "key", json_string("unknown"));
out:
	X509_free(x);
	free(der);
	return obj;
}

static json_t *objects_json(json_t *info, json_t *out)
{
	struct key_group g[64];
	json_t *certs = json_array(), *keys = json_array(), *c, *k;
	int visible = json_is_true(json_object_get(info, "private_visible"));
	size_t n = group_keys(json_object_get(info, "keys"), g, 64), i;
	EVP_PKEY *pkey;

	json_array_foreach(json_object_get(info, "certs"), i, c) {
		json_t *obj = cert_json(c, g, n, visible);

		if (obj)
			json_array_append_new(certs, obj);
	}
	for (i = 0; i < n; i++) {
		k = json_pack("{s:s, s:s, s:s, s:b, s:b, s:o}", "key_id", g[i].key_id,
			      "label", g[i].label, "key_type", g[i].key_type,
			      "private", g[i].private, "public", g[i].public,
			      "certificates", g[i].certs);
		if (!k)
			continue;
		if (g[i].private)
			json_object_set_new(k, "always_authenticate", json_boolean(g[i].always));
		pkey = spki_pkey(g[i].spki_b64);
		key_size(k, pkey);
		EVP_PKEY_free(pkey);
		json_array_append_new(keys, k);
	}
	json_object_set_new(out, "keys", keys);
	json_object_set_new(out, "certificates", certs);
	json_object_set_new(out, "private_objects_visible", json_boolean(visible));
	return out;
}

json_t *admin_token_json(const struct admin_token *t)
{
	static const enum admin_op ops[] = { ADMIN_INIT, ADMIN_PIN_CHANGE, ADMIN_PIN_UNBLOCK,
		ADMIN_PIN_SET, ADMIN_KEYGEN, ADMIN_IMPORT, ADMIN_DELETE, ADMIN_WIPE };
	json_t *info = t->info, *obj, *safe = json_array(), *family = json_null();
	unsigned long f = t->flags;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (admin_op_safe(&t->family, ops[i]))
			json_array_append_new(safe, json_string(admin_op_name(ops[i])));
	if (t->family.id[0])
		family = json_pack("{s:s, s:s}", "id", t->family.id, "name", t->family.name);
	obj = json_pack("{s:s, s:s, s:s, s:o, s:O, s:O, s:O, s:O, s:O, s:O, s:b, s:b, s:b, s:b,"
			" s:o, s:o, s:{s:o, s:o}, s:O, s:o}",
			"id", t->id, "module", t->module_name, "reader", t->reader, "family", family,
			"label", json_object_get(info, "label"),
			"manufacturer", json_object_get(info, "manufacturer"),
			"model", json_object_get(info, "model"),
			"serial", json_object_get(info, "serial"),
			"hardware", json_object_get(info, "hardware"),
			"firmware", json_object_get(info, "firmware"),
			"initialized", !!(f & P11F_TOKEN_INITIALIZED),
			"login_required", !!(f & P11F_LOGIN_REQUIRED),
			"protected_path", !!(f & P11F_PROTECTED_PATH),
			"write_protected", !!(f & P11F_WRITE_PROTECTED),
			"user_pin", admin_pin_json(t, 0), "so_pin", admin_pin_json(t, 1),
			"pin_length", "min", t->pin_min ? json_integer(t->pin_min) : json_null(),
			"max", t->pin_max ? json_integer(t->pin_max) : json_null(),
			"memory", json_object_get(info, "memory"),
			"safe_operations", safe);
	if (!obj)
		return NULL;
	json_object_set_new(obj, "management_key", json_boolean(t->mgmt_key));
	if (f & P11F_TOKEN_INITIALIZED)
		return objects_json(info, obj);
	json_object_set_new(obj, "keys", json_array());
	json_object_set_new(obj, "certificates", json_array());
	json_object_set_new(obj, "private_objects_visible", json_false());
	return obj;
}

void api_admin_tokens(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	json_t *modules, *m, *list, *t, *tokens;
	struct admin_token tok;
	enum kyso_err err;
	char now[32];
	time_t tnow = time(NULL);
	struct tm tm;
	size_t i, j;

	if (admin_gate(req, rep))
		return;
	tokens = json_array();
	modules = helpers_status_json(req->d);
	json_array_foreach(modules, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "state")) ?: "", "running"))
			continue;
		list = admin_module_tokens(req->d, i, NULL, &err);
		json_array_foreach(json_object_get(list, "tokens"), j, t) {
			admin_token_fill(req->d, i, json_string_value(json_object_get(m, "name")) ?: "",
					 json_string_value(json_object_get(m, "path")) ?: "", t, &tok);
			json_array_append_new(tokens, admin_token_json(&tok));
			admin_token_free(&tok);
		}
		json_decref(list);
	}
	json_decref(modules);
	/* days_left counts from this time */
	gmtime_r(&tnow, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kyso_reply_ok(rep, 200, json_pack("{s:o, s:s}", "tokens", tokens, "time", now));
}
