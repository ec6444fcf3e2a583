/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/admin/csr: a PKCS#10 certificate request for a key on a token.
 * kysod builds the request around the key's public half (OpenSSL), hashes
 * the DER of its CertificationRequestInfo, and has the token sign that hash
 * through the helper's SIGN, as any signature: the private key never leaves
 * the token. The subject is UTF-8 (Vietnamese names, the school's name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/log.h"
#include "common/safe-text.h"
#include "common/utf8.h"
#include "kysod/admin-flow.h"
#include "kysod/helpers.h"
#include "kysod/api.h"
#include "kysod/pinentry.h"
#include "kysod/request-fields.h"
#include "kysod/sign-request.h"

#define SIG_MAX 1024

/* The subject's attributes, in the order they are written, each with the
 * longest value it takes (in characters, X.520's upper bounds) and its
 * ASN.1 string type. */
static const struct {
	const char *key;
	int nid;
	size_t max;
	int type;
	int many;			/* an array of values is allowed */
} attrs[] = {
	{ "C", NID_countryName, 2, V_ASN1_PRINTABLESTRING, 0 },
	{ "ST", NID_stateOrProvinceName, 128, V_ASN1_UTF8STRING, 0 },
	{ "L", NID_localityName, 128, V_ASN1_UTF8STRING, 0 },
	{ "O", NID_organizationName, 64, V_ASN1_UTF8STRING, 0 },
	{ "OU", NID_organizationalUnitName, 64, V_ASN1_UTF8STRING, 1 },
	{ "title", NID_title, 64, V_ASN1_UTF8STRING, 0 },
	{ "CN", NID_commonName, 64, V_ASN1_UTF8STRING, 0 },
	{ "serialNumber", NID_serialNumber, 64, V_ASN1_PRINTABLESTRING, 0 },
	{ "UID", NID_userId, 256, V_ASN1_UTF8STRING, 0 },
	{ "emailAddress", NID_pkcs9_emailAddress, 255, V_ASN1_IA5STRING, 0 },
};

#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

/* PrintableString's characters (X.680). */
static int printable(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

static int subject_value(const char *key, size_t a, const char *v, X509_NAME *name,
			 struct kyso_reply *rep)
{
	char field[64];
	const unsigned char *p;
	size_t chars = kyso_utf8_chars(v, strlen(v));

	snprintf(field, sizeof(field), "subject.%s", key);
	if (!*v || chars > attrs[a].max) {
		kyso_reply_error(rep, KE_INVALID_VALUE, "%s: must be 1 to %zu characters", field,
				 attrs[a].max);
		kyso_reply_error_set(rep, "field", json_string(field));
		return -1;
	}
	for (p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return field_error(rep, KE_INVALID_VALUE, field,
					   "must not hold control characters");
	if (attrs[a].nid == NID_countryName && (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' ||
						v[1] < 'A' || v[1] > 'Z'))
		return field_error(rep, KE_INVALID_VALUE, field,
				   "must be a country's two capital letters (VN)");
	if (attrs[a].type == V_ASN1_PRINTABLESTRING && !printable(v))
		return field_error(rep, KE_INVALID_VALUE, field,
				   "may hold only letters without accents, digits, spaces and '()+,-./:=?");
	if (attrs[a].type == V_ASN1_IA5STRING && chars != strlen(v))
		return field_error(rep, KE_INVALID_VALUE, field, "must be ASCII");
	if (!X509_NAME_add_entry_by_NID(name, attrs[a].nid, attrs[a].type, (const unsigned char *)v,
					(int)strlen(v), -1, 0)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the subject cannot be built");
		return -1;
	}
	return 0;
}

/* The subject object: known keys only, a CN, each value within bounds. */
static X509_NAME *subject_field(json_t *root, struct kyso_reply *rep)
{
	json_t *subj = json_object_get(root, "subject"), *v, *item;
	const char *key;
	X509_NAME *name;
	size_t a, i;

	if (!subj) {
		field_error(rep, KE_MISSING_FIELD, "subject", "is required");
		return NULL;
	}
	if (!json_is_object(subj)) {
		field_error(rep, KE_INVALID_TYPE, "subject",
			    "must be an object of attributes: {\"CN\": \"…\", \"O\": \"…\", …}");
		return NULL;
	}
	json_object_foreach(subj, key, v) {
		for (a = 0; a < NATTRS; a++)
			if (!strcmp(key, attrs[a].key))
				break;
		if (a == NATTRS) {
			field_error(rep, KE_UNKNOWN_FIELD, "subject", "knows C, ST, L, O, OU, title, "
				    "CN, serialNumber, UID and emailAddress only");
			return NULL;
		}
	}
	if (!json_is_string(json_object_get(subj, "CN"))) {
		field_error(rep, json_object_get(subj, "CN") ? KE_INVALID_TYPE : KE_MISSING_FIELD,
			    "subject.CN", "is required: the holder's name, a string");
		return NULL;
	}
	name = X509_NAME_new();
	if (!name) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		return NULL;
	}
	for (a = 0; a < NATTRS; a++) {
		v = json_object_get(subj, attrs[a].key);
		if (!v)
			continue;
		if (json_is_string(v)) {
			if (subject_value(attrs[a].key, a, json_string_value(v), name, rep))
				goto bad;
			continue;
		}
		if (!attrs[a].many || !json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > 4) {
			kyso_reply_error(rep, KE_INVALID_TYPE, "subject.%s: must be a string%s",
					 attrs[a].key, attrs[a].many ? ", or an array of 1 to 4 strings" : "");
			goto bad;
		}
		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				kyso_reply_error(rep, KE_INVALID_TYPE, "subject.%s: must hold strings",
						 attrs[a].key);
				goto bad;
			}
			if (subject_value(attrs[a].key, a, json_string_value(item), name, rep))
				goto bad;
		}
	}
	return name;
bad:
	X509_NAME_free(name);
	return NULL;
}

/* The public key of the token's key pair with this CKA_ID; NULL with rep set. */
static EVP_PKEY *token_key(struct admin_ctx *c, const char *key_id, struct kyso_reply *rep)
{
	json_t *k;
	size_t i, len = 0;
	int found = 0, private = 0;
	const char *spki = NULL;
	unsigned char *der;
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;

	json_array_foreach(json_object_get(c->tok.info, "keys"), i, k) {
		if (strcmp(json_string_value(json_object_get(k, "key_id")) ?: "", key_id))
			continue;
		found = 1;
		private |= !strcmp(json_string_value(json_object_get(k, "class")) ?: "", "private");
		if (!spki)
			spki = json_string_value(json_object_get(k, "public_key"));
	}
	if (!found) {
		kyso_reply_error(rep, KE_OBJECT_NOT_FOUND, "the token has no key with id %.128s%s",
				 key_id, json_is_true(json_object_get(c->tok.info, "private_visible")) ?
				 "" : " that shows without a login");
		return NULL;
	}
	if (!private && json_is_true(json_object_get(c->tok.info, "private_visible"))) {
		kyso_reply_error(rep, KE_KEY_NOT_FOUND, "the key %.128s has no private half on the token",
				 key_id);
		return NULL;
	}
	der = spki ? kyso_b64_decode_alloc(spki, strlen(spki), &len) : NULL;
	p = der;
	if (der)
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
	free(der);
	if (!pkey)
		kyso_reply_error(rep, KE_OPERATION_UNSUPPORTED,
				 "the token does not show the public key of key %.128s", key_id);
	return pkey;
}

/* The request without its signature: version 1, the subject, the key. */
static X509_REQ *request(X509_NAME *subject, EVP_PKEY *pkey)
{
	X509_REQ *req = X509_REQ_new();

	if (!req || !X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, subject) ||
	    !X509_REQ_set_pubkey(req, pkey)) {
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

/* Puts the token's signature into req. Returns 0 or -1. */
static int set_signature(X509_REQ *req, EVP_PKEY *pkey, int md_nid, const unsigned char *sig,
			 size_t len)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();
	int rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA, sig_nid = NID_undef, ret = -1;

	if (!alg || !bits || !OBJ_find_sigid_by_algs(&sig_nid, md_nid, rsa ? NID_rsaEncryption :
						     NID_X9_62_id_ecPublicKey) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid), rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) ||
	    !ASN1_BIT_STRING_set(bits, (unsigned char *)sig, (int)len))
		goto out;
	/* all bits count: without this the encoder would drop trailing zeros */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if (!X509_REQ_set1_signature_algo(req, alg))
		goto out;
	X509_REQ_set0_signature(req, bits);
	bits = NULL;
	ret = 0;
out:
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	return ret;
}

/* The token signs hash with its key key_id, the user's PIN checked first:
 * the token is logged in afresh with pin (a login kept from before is ended
 * first, in the helper), signs, and is logged out again, so that the PIN
 * just entered is what allows it. */
static int token_sign(struct admin_ctx *c, const char *key_id, int rsa,
		      const unsigned char *hash, size_t hash_len, unsigned char *sig, size_t *sig_len,
		      const char *pin, struct kyso_reply *rep)
{
	struct kyso_msg ans = { 0 };
	struct kyso_out req;
	const char *pins[1] = { pin };
	const unsigned char *got;
	enum kyso_err err;
	size_t n = 0;
	int ret = -1;

	kyso_out_init(&req);
	kyso_out_str(&req, KYSO_F_TOKEN, c->tok.id);
	kyso_out_bool(&req, KYSO_F_FRESH, 1);
	if (admin_call(c, KYSO_OP_LOGIN, &req, pins, 1, 0, c->d->cfg.request_timeout, &ans, rep))
		goto out;
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	kyso_out_init(&req);
	kyso_out_str(&req, KYSO_F_TOKEN, c->tok.id);
	kyso_out_str(&req, KYSO_F_KEY_ID, key_id);
	kyso_out_u32(&req, KYSO_F_MECH, rsa ? KYSO_MECH_PKCS1 : KYSO_MECH_ECDSA);
	kyso_out_u32(&req, KYSO_F_HASH_BITS, (uint32_t)(hash_len * 8));
	kyso_out_bytes(&req, KYSO_F_HASH, hash, hash_len);
	/* a key that wants the PIN for each signature gets it with the SIGN */
	if (admin_call(c, KYSO_OP_SIGN, &req, NULL, 0, 0, c->d->cfg.request_timeout, &ans, rep)) {
		if (!kyso_msg_bool(&ans, KYSO_F_PER_SIGNATURE))
			goto logout;
		kyso_msg_clear(&ans);
		kyso_reply_clear(rep);
		if (admin_call(c, KYSO_OP_SIGN, &req, pins, 1, 0, c->d->cfg.request_timeout, &ans,
			       rep))
			goto logout;
	}
	got = kyso_msg_bytes(&ans, KYSO_F_SIGNATURE, &n);
	if (!got || !n || n > SIG_MAX) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the helper answered without a signature");
		goto logout;
	}
	memcpy(sig, got, n);
	*sig_len = n;
	ret = 0;
logout:
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	kyso_out_init(&req);
	kyso_out_str(&req, KYSO_F_TOKEN, c->tok.id);
	helper_call(c->d, c->tok.module, KYSO_OP_LOGOUT, &req, NULL, 0, c->d->cfg.request_timeout,
		    &ans, &err);
out:
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	return ret;
}

void api_admin_csr(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "key_id", "subject", "hash_algorithm",
					     "force" };
	struct admin_ctx c;
	enum kysod_hash_alg alg = HASH_SHA256;
	const char *alg_name;
	char key_id[129];
	char *pin = NULL, action[512], who[300], *pem, line[1024];
	unsigned char *tbs = NULL, hash[EVP_MAX_MD_SIZE], sig[SIG_MAX];
	unsigned int hash_len = 0;
	size_t sig_len = 0;
	X509_NAME *subject = NULL;
	X509_REQ *csr = NULL;
	EVP_PKEY *pkey = NULL;
	const EVP_MD *md;
	BIO *bio = NULL;
	json_t *root;
	long pem_len;
	int len, rsa;

	root = admin_begin(&c, req, ADMIN_CSR, known, 5, rep);
	if (!root || admin_key_id_field(root, 1, key_id, rep))
		goto out;
	if (json_object_get(root, "hash_algorithm") && field_hash_alg(root, &alg, rep))
		goto out;
	subject = subject_field(root, rep);
	if (!subject)
		goto out;
	snprintf(c.key_id, sizeof(c.key_id), "%s", key_id);
	snprintf(c.subject, sizeof(c.subject), "%s",
		 json_string_value(json_object_get(json_object_get(root, "subject"), "CN")));
	if (admin_find(&c, rep))
		goto out;
	if (!(c.tok.flags & P11F_TOKEN_INITIALIZED) || !(c.tok.flags & P11F_USER_PIN_INITIALIZED)) {
		kyso_reply_error(rep, KE_TOKEN_NOT_INITIALIZED, "the token is not initialised, or "
				 "has no user PIN yet");
		goto out;
	}
	if (admin_tries_ok(&c, 0, rep))
		goto out;
	pkey = token_key(&c, key_id, rep);
	if (!pkey)
		goto out;
	rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	md = EVP_get_digestbynid(alg == HASH_SHA512 ? NID_sha512 : alg == HASH_SHA384 ?
				 NID_sha384 : NID_sha256);
	csr = request(subject, pkey);
	len = csr ? i2d_re_X509_REQ_tbs(csr, &tbs) : -1;
	if (!md || len <= 0 || !EVP_Digest(tbs, (size_t)len, hash, &hash_len, md, NULL)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the request cannot be built");
		goto out;
	}
	kyso_text_oneline(c.subject, 0, 64, who, sizeof(who));
	snprintf(action, sizeof(action), "sign a certificate request for %s with its key %.64s",
		 who, key_id);
	if (admin_dialog_take(&c, rep) || admin_ask_pin(&c, action, "PIN:", 0, 0, &pin, rep) ||
	    token_sign(&c, key_id, rsa, hash, hash_len, sig, &sig_len, pin, rep))
		goto out;
	if (set_signature(csr, pkey, EVP_MD_get_type(md), sig, sig_len) ||
	    X509_REQ_verify(csr, pkey) != 1) {
		kyso_reply_error(rep, KE_TOKEN_ERROR,
				 "the token's signature of the request does not verify");
		goto out;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_X509_REQ(bio, csr)) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the request cannot be written");
		goto out;
	}
	pem_len = BIO_get_mem_data(bio, &pem);
	alg_name = hash_alg_name(alg);
	snprintf(line, sizeof(line), "%s-%s", rsa ? "rsa-pkcs1" : "ecdsa", alg_name);
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s, s:s, s:s#}", "token", c.tok.id,
					  "operation", "csr", "key_id", key_id, "algorithm", line,
					  "csr", pem, (int)pem_len));
out:
	admin_finish(&c, rep);
	pinentry_free_pin(pin);
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_free(tbs);
	BIO_free(bio);
	X509_REQ_free(csr);
	X509_NAME_free(subject);
	EVP_PKEY_free(pkey);
	json_decref(root);
}
