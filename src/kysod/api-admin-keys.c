/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/admin/keygen, /v1/admin/import and /v1/admin/delete: key pairs
 * made on a token, certificates stored next to their key, objects deleted. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/hex.h"
#include "common/safe-text.h"
#include "kysod/admin-flow.h"
#include "kysod/api.h"
#include "kysod/cert-info.h"
#include "kysod/pinentry.h"
#include "kysod/request-fields.h"

#define CHAIN_MAX 8

static const struct {
	const char *name;
	enum kyso_ipc_key_type type;
	const char *shown;
} key_types[] = {
	{ "rsa2048", KYSO_KEY_RSA2048, "RSA-2048" },
	{ "rsa3072", KYSO_KEY_RSA3072, "RSA-3072" },
	{ "p256", KYSO_KEY_P256, "EC P-256" },
	{ "p384", KYSO_KEY_P384, "EC P-384" },
};

/* An object label: 1 to 64 bytes, no control characters. */
static int object_label(json_t *root, int required, const char **label, struct kyso_reply *rep)
{
	return admin_label_field(root, required, 64, "must be 1 to 64 bytes", label, rep);
}

/* Whether a key or certificate the token shows has this CKA_ID. */
static int shows_key_id(const struct admin_token *t, const char *key_id)
{
	const char *lists[] = { "keys", "certs" };
	json_t *o;
	size_t i, j;

	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(t->info, lists[j]), i, o)
			if (!strcmp(json_string_value(json_object_get(o, "key_id")) ?: "", key_id))
				return 1;
	return 0;
}

/* The certificate with this id the token shows, or NULL (X509_free it). */
static X509 *token_cert(const struct admin_token *t, const char *id)
{
	json_t *c;
	size_t i, len;
	unsigned char *der;
	const unsigned char *p;
	char cid[65];
	X509 *x;

	json_array_foreach(json_object_get(t->info, "certs"), i, c) {
		const char *b64 = json_string_value(json_object_get(c, "der"));

		der = b64 ? kyso_b64_decode_alloc(b64, strlen(b64), &len) : NULL;
		p = der;
		x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
		free(der);
		if (x && !cert_info_id(x, cid) && !strcmp(cid, id))
			return x;
		X509_free(x);
	}
	return NULL;
}

/* Whether the token shows a certificate with this id. */
static int shows_cert(const struct admin_token *t, const char *id)
{
	X509 *x = token_cert(t, id);
	int found = x != NULL;

	X509_free(x);
	return found;
}

/* The token can be asked for the secret a change of its keys needs: the
 * user PIN (not locked, its last try only with force), or the management
 * key of a token that has one (which counts no tries). */
static int need_user_pin(struct admin_ctx *c, struct kyso_reply *rep)
{
	if (admin_need_initialized(c, 1, rep))
		return -1;
	return c->tok.mgmt_key ? 0 : admin_tries_ok(c, 0, rep);
}

/* That secret, from a dialog saying action; *so is admin_call's (and the
 * helper is told to log in as the SO in out). *secret is freed with
 * pinentry_free_pin. */
static int ask_secret(struct admin_ctx *c, const char *action, struct kyso_out *out,
		      char **secret, int *so, struct kyso_reply *rep)
{
	*so = 0;
	if (admin_dialog_take(c, rep))
		return -1;
	if (!c->tok.mgmt_key)
		return admin_ask_pin(c, action, "PIN:", 0, 0, secret, rep);
	*so = ADMIN_MGMT_KEY;
	kyso_out_bool(out, KYSO_F_SO, 1);
	return admin_ask_mgmt_key(c, action, secret, rep);
}

/* A management key token (ykcs11) keeps its keys in PIV slots, each its
 * CKA_ID: 01 9A, 02 9C, 03 9D, 04 9E, 05 to 18 the retired 82 to 95
 * (ykcs11's objects.c); a key pair is made in one of them. */
static int piv_slot_id(const char *key_id, struct kyso_reply *rep)
{
#define PIV_SLOTS "01 (9a, PIV authentication), 02 (9c, digital signature), 03 (9d, key " \
	"management), 04 (9e, card authentication) or 05 to 18 (retired key management slots " \
	"82 to 95)"
	unsigned long n;
	char *end;

	if (!key_id[0])
		return field_error(rep, KE_MISSING_FIELD, "key_id", "this token keeps its keys in "
				   "PIV slots: say which, " PIV_SLOTS);
	n = strtoul(key_id, &end, 16);
	if (strlen(key_id) != 2 || *end || n < 1 || n > 0x18)
		return field_error(rep, KE_INVALID_VALUE, "key_id", "on this token a key's id is "
				   "its PIV slot: " PIV_SLOTS);
#undef PIV_SLOTS
	return 0;
}

void api_admin_keygen(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "key_type", "label", "key_id", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *type, *label, *pins[1], *id;
	const unsigned char *spki;
	char *pin = NULL, action[256], shown[300], key_id[129];
	size_t i, n = 0;
	json_t *root;
	int so;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	char *pem;
	long pem_len;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_KEYGEN, known, 5, rep);
	if (!root || field_string(root, "key_type", 1, &type, rep))
		goto out;
	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (!strcmp(type, key_types[i].name))
			break;
	if (i == sizeof(key_types) / sizeof(key_types[0])) {
		field_error(rep, KE_INVALID_VALUE, "key_type", "must be rsa2048, rsa3072, p256 or p384");
		goto out;
	}
	if (object_label(root, 1, &label, rep) || admin_key_id_field(root, 0, key_id, rep))
		goto out;
	snprintf(c.key_type, sizeof(c.key_type), "%s", type);
	snprintf(c.key_id, sizeof(c.key_id), "%s", key_id);
	if (admin_find(&c, rep) || need_user_pin(&c, rep) ||
	    (c.tok.mgmt_key && piv_slot_id(key_id, rep)))
		goto out;
	/* no PIN is asked for what cannot be done */
	if (key_id[0] && shows_key_id(&c.tok, key_id)) {
		kyso_reply_error(rep, KE_OBJECT_EXISTS, "the token has an object with id %s already",
				 key_id);
		goto out;
	}
	kyso_text_oneline(label, 1, 64, shown, sizeof(shown));
	snprintf(action, sizeof(action), "generate an %s key pair %s on a token", key_types[i].shown, shown);
	if (ask_secret(&c, action, &out, &pin, &so, rep))
		goto out;
	pins[0] = pin;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	kyso_out_u32(&out, KYSO_F_KEY_TYPE, key_types[i].type);
	kyso_out_str(&out, KYSO_F_LABEL, label);
	if (key_id[0])
		kyso_out_str(&out, KYSO_F_KEY_ID, key_id);
	if (admin_call(&c, KYSO_OP_KEYGEN, &out, pins, 1, so, admin_long_timeout(c.d), &ans, rep))
		goto out;
	spki = kyso_msg_bytes(&ans, KYSO_F_PUBLIC_KEY, &n);
	id = kyso_msg_str(&ans, KYSO_F_KEY_ID);
	if (spki)
		pkey = d2i_PUBKEY(NULL, &spki, (long)n);
	bio = BIO_new(BIO_s_mem());
	if (!pkey || !id || !bio || !PEM_write_bio_PUBKEY(bio, pkey)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the helper's answer holds no public key");
		goto out;
	}
	snprintf(c.key_id, sizeof(c.key_id), "%s", id);
	pem_len = BIO_get_mem_data(bio, &pem);
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s#}", "token", c.tok.id,
					  "operation", "keygen", "key_id", id, "label", label,
					  "key_type", type, "public_key", pem, (int)pem_len));
out:
	admin_finish(&c, rep);
	pinentry_free_pin(pin);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

/* Certificates from text: PEM (one or more), or one in base64 DER. Appends
 * to out (at most max in all); returns how many, or -1. */
static int read_certs(const char *s, X509 **out, int have, int max)
{
	unsigned char *der;
	const unsigned char *p;
	X509 *x;
	BIO *bio;
	long n;
	int got = 0;

	if (strstr(s, "-----BEGIN")) {
		bio = BIO_new_mem_buf(s, -1);
		while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			if (have + got == max) {
				/* too many: none of this text is kept */
				X509_free(x);
				while (got)
					X509_free(out[have + --got]);
				break;
			}
			out[have + got++] = x;
		}
		BIO_free(bio);
		ERR_clear_error();
		return got ? got : -1;
	}
	der = malloc(strlen(s) + 1);
	if (!der || have == max) {
		free(der);
		return -1;
	}
	n = kyso_b64_decode(s, strlen(s), der, strlen(s) + 1);
	p = der;
	x = n > 0 ? d2i_X509(NULL, &p, n) : NULL;
	if (x && p != der + n) {
		X509_free(x);
		x = NULL;
	}
	free(der);
	ERR_clear_error();
	if (!x)
		return -1;
	out[have] = x;
	return 1;
}

/* The chain: an array of strings, each one or more certificates. */
static int chain_field(json_t *root, X509 **chain, int *n, struct kyso_reply *rep)
{
	json_t *v = json_object_get(root, "chain"), *item;
	size_t i;
	int got;

	*n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return field_error(rep, KE_INVALID_TYPE, "chain", "must be an array of certificates");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return field_error(rep, KE_INVALID_TYPE, "chain",
					   "must be an array of strings (PEM or base64 DER)");
		got = read_certs(json_string_value(item), chain, *n, CHAIN_MAX);
		if (got < 0)
			return field_error(rep, KE_CERTIFICATE_MALFORMED, "chain",
					   "holds something that is not a certificate, or more "
					   "than 8 certificates");
		*n += got;
	}
	return 0;
}

/* DER of the certificates one after the other, into out (OPENSSL_free'd). */
static int chain_der(X509 **chain, int n, struct kyso_out *o)
{
	unsigned char *all = NULL, *der = NULL, *grown;
	size_t total = 0;
	int i, len;

	for (i = 0; i < n; i++) {
		der = NULL;
		len = i2d_X509(chain[i], &der);
		if (len <= 0)
			goto fail;
		grown = OPENSSL_realloc(all, total + (size_t)len);
		if (!grown)
			goto fail;
		all = grown;
		memcpy(all + total, der, (size_t)len);
		total += (size_t)len;
		OPENSSL_free(der);
	}
	if (total)
		kyso_out_bytes(o, KYSO_F_CHAIN, all, total);
	OPENSSL_free(all);
	return 0;
fail:
	OPENSSL_free(der);
	OPENSSL_free(all);
	return -1;
}

void api_admin_import(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "certificate", "chain", "label", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *s, *label, *pins[1];
	char *pin = NULL, action[512], who[300];
	X509 *cert[1] = { NULL }, *chain[CHAIN_MAX];
	struct cert_facts facts;
	unsigned char *der = NULL;
	json_t *root, *details = NULL, *api = NULL;
	int nchain = 0, len, i, so;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_IMPORT, known, 5, rep);
	if (!root || field_string(root, "certificate", 1, &s, rep))
		goto out;
	if (read_certs(s, cert, 0, 1) != 1) {
		field_error(rep, KE_CERTIFICATE_MALFORMED, "certificate",
			    "must be one certificate, in PEM or base64 DER");
		goto out;
	}
	if (chain_field(root, chain, &nchain, rep) || object_label(root, 0, &label, rep))
		goto out;
	api = cert_info_json(cert[0], &facts);
	if (!api || cert_info_id(cert[0], c.certificate)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the certificate cannot be read");
		goto out;
	}
	snprintf(c.subject, sizeof(c.subject), "%s", facts.holder);
	if (admin_find(&c, rep) || need_user_pin(&c, rep))
		goto out;
	if (shows_cert(&c.tok, c.certificate)) {
		kyso_reply_error(rep, KE_OBJECT_EXISTS, "this certificate is on the token already");
		goto out;
	}
	kyso_text_oneline(facts.holder, 0, 64, who, sizeof(who));
	snprintf(action, sizeof(action), "store the certificate of %s next to its key%s", who,
		 nchain ? ", with the certificates of its CAs" : "");
	len = i2d_X509(cert[0], &der);
	if (len <= 0 || chain_der(chain, nchain, &out)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the certificates cannot be encoded");
		goto out;
	}
	if (ask_secret(&c, action, &out, &pin, &so, rep))
		goto out;
	pins[0] = pin;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	kyso_out_bytes(&out, KYSO_F_CERTIFICATE, der, (size_t)len);
	if (label)
		kyso_out_str(&out, KYSO_F_LABEL, label);
	if (admin_call(&c, KYSO_OP_STORE_CERT, &out, pins, 1, so, c.d->cfg.request_timeout, &ans,
		       rep))
		goto out;
	details = kyso_msg_json(&ans, KYSO_F_DETAILS);
	snprintf(c.key_id, sizeof(c.key_id), "%s",
		 json_string_value(json_object_get(details, "key_id")) ?: "");
	json_object_del(details, "flags");
	json_object_set_new(details, "token", json_string(c.tok.id));
	json_object_set_new(details, "operation", json_string("import"));
	json_object_set_new(details, "certificate", json_string(c.certificate));
	json_object_set_new(details, "subject_cn", json_string(facts.holder));
	if (!nchain)
		json_object_set_new(details, "chain_stored", json_integer(0));
	kyso_reply_ok(rep, 200, details);
	details = NULL;
out:
	admin_finish(&c, rep);
	pinentry_free_pin(pin);
	OPENSSL_free(der);
	X509_free(cert[0]);
	for (i = 0; i < nchain; i++)
		X509_free(chain[i]);
	json_decref(details);
	json_decref(api);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}

/* What the dialog calls the certificate with this id: its holder. */
static void cert_holder(const struct admin_token *t, const char *id, char *out, size_t outlen)
{
	struct cert_facts facts;
	X509 *x = token_cert(t, id);

	snprintf(out, outlen, "%.16s…", id);
	if (!x)
		return;
	json_decref(cert_info_json(x, &facts));
	kyso_text_oneline(facts.holder, 0, 64, out, outlen);
	X509_free(x);
}

void api_admin_delete(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "certificate", "key_id", "force" };
	struct admin_ctx c;
	struct kyso_msg ans = { 0 };
	struct kyso_out out;
	const char *cert, *pins[1];
	char *pin = NULL, action[512], who[300], key_id[129], cert_id[65];
	json_t *root;
	int so;

	kyso_out_init(&out);
	root = admin_begin(&c, req, ADMIN_DELETE, known, 4, rep);
	if (!root || field_string(root, "certificate", 0, &cert, rep) ||
	    admin_key_id_field(root, 0, key_id, rep))
		goto out;
	if (!cert && !key_id[0]) {
		field_error(rep, KE_MISSING_FIELD, "certificate",
			    "name the object to delete: certificate (an id) or key_id (a key pair's "
			    "CKA_ID in hex)");
		goto out;
	}
	if (cert && key_id[0]) {
		field_error(rep, KE_INVALID_VALUE, "key_id",
			    "name one object to delete: certificate or key_id, not both");
		goto out;
	}
	if (cert && !field_is_cert_id(cert, cert_id)) {
		field_error(rep, KE_INVALID_VALUE, "certificate",
			    "must be a certificate id (64 hex digits, the SHA-256 of the certificate)");
		goto out;
	}
	if (cert)
		snprintf(c.certificate, sizeof(c.certificate), "%s", cert_id);
	else
		snprintf(c.key_id, sizeof(c.key_id), "%s", key_id);
	if (admin_find(&c, rep) || need_user_pin(&c, rep))
		goto out;
	/* a certificate shows without a login, and so does every key once the
	 * token shows its private objects: one it does not hold is refused
	 * before a PIN is asked */
	if ((cert && !shows_cert(&c.tok, cert_id)) ||
	    (!cert && !shows_key_id(&c.tok, key_id) &&
	     json_is_true(json_object_get(c.tok.info, "private_visible")))) {
		kyso_reply_error(rep, KE_OBJECT_NOT_FOUND, "the token has no %s with this id",
				 cert ? "certificate" : "key");
		goto out;
	}
	if (cert) {
		cert_holder(&c.tok, cert_id, who, sizeof(who));
		snprintf(action, sizeof(action), "delete the certificate of %s", who);
	} else {
		snprintf(action, sizeof(action), "delete the key pair with id %.128s", key_id);
	}
	if (ask_secret(&c, action, &out, &pin, &so, rep))
		goto out;
	pins[0] = pin;
	kyso_out_str(&out, KYSO_F_TOKEN, c.tok.id);
	kyso_out_u32(&out, KYSO_F_OBJECT_CLASS, cert ? KYSO_OBJ_CERTIFICATE : KYSO_OBJ_KEY);
	if (cert)
		kyso_out_str(&out, KYSO_F_CERT_ID, cert_id);
	else
		kyso_out_str(&out, KYSO_F_KEY_ID, key_id);
	if (admin_call(&c, KYSO_OP_DELETE, &out, pins, 1, so, c.d->cfg.request_timeout, &ans,
		       rep) == 0)
		kyso_reply_ok(rep, 200, cert ?
			      json_pack("{s:s, s:s, s:s}", "token", c.tok.id, "operation", "delete",
					"certificate", cert_id) :
			      json_pack("{s:s, s:s, s:s}", "token", c.tok.id, "operation", "delete",
					"key_id", key_id));
out:
	admin_finish(&c, rep);
	pinentry_free_pin(pin);
	kyso_msg_clear(&ans);
	kyso_out_free(&out);
	json_decref(root);
}
