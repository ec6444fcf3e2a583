/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/b64.h"
#include "kysod/api.h"
#include "kysod/request-fields.h"
#include "kysod/verify.h"

/* "certificate": the id of a certificate kysod knows, a PEM certificate, or
 * base64 DER. Returns 0 with r->cert set, or -1 with rep set. */
static int get_certificate(struct kysod *d, const char *s, struct verify_request *r,
			   struct kyso_reply *rep)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	char id[65];
	BIO *bio;
	long n;

	if (field_is_cert_id(s, id)) {
		r->cert = inventory_cert_x509(&d->inv, id);
		if (!r->cert) {
			kyso_reply_error(rep, KE_CERTIFICATE_NOT_FOUND, "no certificate with id %s", id);
			kyso_reply_error_set(rep, "field", json_string("certificate"));
			return -1;
		}
		return 0;
	}
	if (strstr(s, "-----BEGIN")) {
		bio = BIO_new_mem_buf(s, -1);
		r->cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else if ((der = malloc(strlen(s) + 1))) {
		n = kyso_b64_decode(s, strlen(s), der, strlen(s) + 1);
		p = der;
		if (n > 0)
			r->cert = d2i_X509(NULL, &p, n);
		if (r->cert && p != der + n) {
			X509_free(r->cert);
			r->cert = NULL;
		}
		free(der);
	}
	ERR_clear_error();
	if (!r->cert)
		return field_error(rep, KE_CERTIFICATE_MALFORMED, "certificate",
				   "must be a certificate id, a PEM certificate or base64 DER");
	return 0;
}

/* "document_timestamps": up to VERIFY_MAX_POE objects {"token", "hash"}, both
 * base64, the hash 32, 48 or 64 bytes. 0, or -1 with rep set. */
static int get_document_timestamps(json_t *list, struct verify_request *r, struct kyso_reply *rep)
{
	static const char *const known[] = { "token", "hash" };
	const char *token, *hash;
	json_t *o;
	size_t i;
	long n;

	if (!json_is_array(list))
		return field_error(rep, KE_INVALID_TYPE, "document_timestamps",
				   "must be an array of {\"token\", \"hash\"} objects");
	if (json_array_size(list) > VERIFY_MAX_POE) {
		kyso_reply_error(rep, KE_INVALID_VALUE, "document_timestamps: at most %d",
				 VERIFY_MAX_POE);
		kyso_reply_error_set(rep, "field", json_string("document_timestamps"));
		return -1;
	}
	json_array_foreach(list, i, o) {
		struct verify_poe *p = &r->poe[i];

		if (!json_is_object(o))
			return field_error(rep, KE_INVALID_TYPE, "document_timestamps",
					   "must be an array of {\"token\", \"hash\"} objects");
		if (field_known(o, known, sizeof(known) / sizeof(known[0]), rep) ||
		    field_string(o, "token", 1, &token, rep) || field_string(o, "hash", 1, &hash, rep))
			return -1;
		n = kyso_b64_decode(hash, strlen(hash), p->hash, sizeof(p->hash));
		if (n != 32 && n != 48 && n != 64)
			return field_error(rep, n == -1 ? KE_HASH_ENCODING : KE_HASH_LENGTH,
					   "document_timestamps",
					   "a hash is the base64 of a SHA-256, -384 or -512 digest");
		p->hash_len = (size_t)n;
		p->token = malloc(strlen(token) + 1);
		if (!p->token) {
			kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
			return -1;
		}
		r->n_poe = i + 1;
		n = kyso_b64_decode(token, strlen(token), p->token, strlen(token) + 1);
		if (n <= 0)
			return field_error(rep, KE_SIGNATURE_ENCODING, "document_timestamps",
					   "a token is the base64 of a DER RFC 3161 timestamp token");
		p->token_len = (size_t)n;
	}
	return 0;
}

int verify_request_parse(struct kysod *d, const char *body, size_t len, struct verify_request *r,
			 struct kyso_reply *rep)
{
	static const char *const known[] = {
		"format", "signature", "hash", "hash_algorithm", "certificate", "padding",
		"document_timestamps", "at_verification_time",
	};
	json_t *dts, *avt;
	const char *fmt, *sig, *hash, *cert, *pad;
	json_t *root;
	long n;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	root = parse_object(body, len, rep);
	if (!root)
		return -1;
	if (field_known(root, known, sizeof(known) / sizeof(known[0]), rep) ||
	    field_string(root, "format", 0, &fmt, rep) ||
	    field_string(root, "signature", 1, &sig, rep) ||
	    field_string(root, "hash", 1, &hash, rep) ||
	    field_hash_alg(root, &r->hash_alg, rep) ||
	    field_string(root, "certificate", 0, &cert, rep) ||
	    field_string(root, "padding", 0, &pad, rep))
		goto out;
	if (!fmt || !strcmp(fmt, "raw")) {
		r->format = FORMAT_RAW;
	} else if (!strcmp(fmt, "cms")) {
		r->format = FORMAT_CMS;
	} else {
		field_error(rep, KE_INVALID_VALUE, "format", "must be raw or cms");
		goto out;
	}
	if (!pad) {
		r->padding = PAD_DEFAULT;
	} else if (r->format == FORMAT_CMS) {
		field_error(rep, KE_INVALID_VALUE, "padding",
			    "a CMS signature names its own algorithm; padding is for raw signatures");
		goto out;
	} else if (!strcmp(pad, "pkcs1")) {
		r->padding = PAD_PKCS1;
	} else if (!strcmp(pad, "pss")) {
		r->padding = PAD_PSS;
	} else {
		field_error(rep, KE_INVALID_VALUE, "padding", "must be pkcs1 or pss");
		goto out;
	}
	dts = json_object_get(root, "document_timestamps");
	avt = json_object_get(root, "at_verification_time");
	if (avt && !json_is_boolean(avt)) {
		field_error(rep, KE_INVALID_TYPE, "at_verification_time", "must be true or false");
		goto out;
	}
	r->at_verification_time = json_is_true(avt);
	if ((dts || avt) && r->format != FORMAT_CMS) {
		field_error(rep, KE_INVALID_VALUE, dts ? "document_timestamps" : "at_verification_time",
			    "proof of existence is judged for CMS signatures only (format cms)");
		goto out;
	}
	if (dts && get_document_timestamps(dts, r, rep))
		goto out;
	if (r->format == FORMAT_RAW && !cert) {
		field_error(rep, KE_MISSING_FIELD, "certificate",
			    "is required to verify a raw signature");
		goto out;
	}
	n = kyso_b64_decode(hash, strlen(hash), r->hash, sizeof(r->hash));
	if (n == -1) {
		field_error(rep, KE_HASH_ENCODING, "hash", "is not valid base64");
		goto out;
	}
	if (n < 0 || (size_t)n != hash_alg_len(r->hash_alg)) {
		kyso_reply_error(rep, KE_HASH_LENGTH, "hash: a %s hash is %zu bytes",
				 hash_alg_name(r->hash_alg), hash_alg_len(r->hash_alg));
		kyso_reply_error_set(rep, "field", json_string("hash"));
		goto out;
	}
	r->hash_len = (size_t)n;
	r->signature = malloc(strlen(sig) + 1);
	if (!r->signature) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	n = kyso_b64_decode(sig, strlen(sig), r->signature, strlen(sig) + 1);
	if (n <= 0) {
		field_error(rep, KE_SIGNATURE_ENCODING, "signature",
			    n == 0 ? "is empty" : "is not valid base64");
		goto out;
	}
	r->signature_len = (size_t)n;
	if (cert && get_certificate(d, cert, r, rep))
		goto out;
	ret = 0;
out:
	if (ret)
		verify_request_free(r);
	json_decref(root);
	return ret;
}

void verify_request_free(struct verify_request *r)
{
	size_t i;

	for (i = 0; i < r->n_poe; i++)
		free(r->poe[i].token);
	free(r->signature);
	X509_free(r->cert);
	memset(r, 0, sizeof(*r));
}

void api_verify(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct verify_request r;
	json_t *answer;

	if (verify_request_parse(req->d, req->body, req->body_len, &r, rep))
		return;
	answer = verify_signature(req->d, &r, rep);
	if (answer)
		kyso_reply_ok(rep, 200, answer);
	verify_request_free(&r);
}
