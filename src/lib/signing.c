/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: signing one hash (POST /v1/sign), the names of the hash
 * algorithms and paddings, and logout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"

#include "kyso/kyso.h"
#include "client-internal.h"

const char *kyso_hash_alg_name(enum kyso_hash_alg alg)
{
	switch (alg) {
	case KYSO_HASH_SHA256:
		return "sha256";
	case KYSO_HASH_SHA384:
		return "sha384";
	case KYSO_HASH_SHA512:
		return "sha512";
	}
	return NULL;
}

size_t kyso_hash_alg_len(enum kyso_hash_alg alg)
{
	switch (alg) {
	case KYSO_HASH_SHA256:
		return 32;
	case KYSO_HASH_SHA384:
		return 48;
	case KYSO_HASH_SHA512:
		return 64;
	}
	return 0;
}

const char *kyso_padding_name(enum kyso_padding padding)
{
	switch (padding) {
	case KYSO_PADDING_DEFAULT:
		return NULL;
	case KYSO_PADDING_PKCS1:
		return "pkcs1";
	case KYSO_PADDING_PSS:
		return "pss";
	}
	return NULL;
}

/* Builds the POST /v1/sign body; returns a new string or NULL. */
static char *sign_body(struct kyso_client *c, const struct kyso_sign_params *p)
{
	const char *alg = kyso_hash_alg_name(p->hash_alg);
	const char *pad = kyso_padding_name(p->padding);
	json_t *obj = NULL;
	char *hash = NULL, *body = NULL;

	if (!p->certificate || !p->hash || !p->hash_len || !alg ||
	    (p->padding != KYSO_PADDING_DEFAULT && !pad) ||
	    (p->format != KYSO_FORMAT_RAW && p->format != KYSO_FORMAT_CMS) ||
	    (p->timestamp && p->format != KYSO_FORMAT_CMS) ||
	    (p->profile != KYSO_PROFILE_CADES && p->profile != KYSO_PROFILE_PADES) ||
	    (p->profile != KYSO_PROFILE_CADES && p->format != KYSO_FORMAT_CMS)) {
		lk_set_error(c, 0, "invalid_argument",
			  "certificate, hash and a known hash algorithm, padding, format and profile "
			  "are required (a timestamp and a profile need the CMS format)");
		goto out;
	}
	hash = kyso_b64_encode(p->hash, p->hash_len);
	obj = json_object();
	if (!hash || !obj ||
	    json_object_set_new(obj, "certificate", json_string(p->certificate)) ||
	    json_object_set_new(obj, "hash", json_string(hash)) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad))) ||
	    json_object_set_new(obj, "format",
				json_string(p->format == KYSO_FORMAT_CMS ? "cms" : "raw")) ||
	    (p->timestamp && json_object_set_new(obj, "timestamp", json_true())) ||
	    (p->profile == KYSO_PROFILE_PADES &&
	     json_object_set_new(obj, "profile", json_string("pades")))) {
		lk_set_error(c, 0, "invalid_argument",
			  "cannot encode the request (bad certificate id?)");
		goto out;
	}
	body = lk_dump(c, obj);
out:
	json_decref(obj);
	free(hash);
	return body;
}

/* Reads kysod's sign answer into a new signature (caller frees). */
static struct kyso_signature *parse_signature(struct kyso_client *c, json_t *root)
{
	const char *sig = json_string_value(json_object_get(root, "signature"));
	const char *alg = json_string_value(json_object_get(root, "algorithm"));
	const char *cert = json_string_value(json_object_get(root, "certificate"));
	struct kyso_signature *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		lk_set_error(c, 200, "out_of_memory", "out of memory");
		return NULL;
	}
	if (sig)
		s->data = kyso_b64_decode_alloc(sig, strlen(sig), &s->len);
	if (!s->data || !alg || !s->len) {
		lk_set_error(c, 200, "bad_response", "kysod's sign answer has no valid signature");
		kyso_signature_free(s);
		return NULL;
	}
	snprintf(s->algorithm, sizeof(s->algorithm), "%s", alg);
	snprintf(s->certificate, sizeof(s->certificate), "%s", cert ? cert : "");
	snprintf(s->format, sizeof(s->format), "%s",
		 json_string_value(json_object_get(root, "format")) ?: "raw");
	snprintf(s->audit_id, sizeof(s->audit_id), "%s",
		 json_string_value(json_object_get(root, "audit_id")) ?: "");
	return s;
}

int kyso_sign(struct kyso_client *c, const struct kyso_sign_params *params,
	      struct kyso_signature **out, struct kyso_error *err)
{
	struct kyso_sign_params p;
	json_t *root = NULL;
	int ret = -1;

	if (out)
		*out = NULL;
	if (lk_begin(c, err, params, out, "kyso_sign_params", &p, sizeof(p),
		     KYSO_SIGN_PARAMS_SIZE_1))
		return -1;
	if (lk_post(c, "/v1/sign", sign_body(c, &p), 0, &root, NULL) == 0) {
		*out = parse_signature(c, root);
		if (*out)
			ret = 0;
	}
	json_decref(root);
	return lk_finish(c, ret, err);
}

void kyso_signature_free(struct kyso_signature *sig)
{
	if (!sig)
		return;
	free(sig->data);
	free(sig);
}

int kyso_logout(struct kyso_client *c, const char *token_id, long *logged_out,
		struct kyso_error *err)
{
	json_t *req = NULL, *root = NULL, *n;
	char *body = NULL;
	int ret = -1;

	if (!c)
		return lk_no_client(err);
	lk_clear_error(c);
	if (logged_out)
		*logged_out = 0;
	req = json_object();
	if (!req || (token_id && json_object_set_new(req, "token", json_string(token_id)))) {
		lk_set_error(c, 0, "invalid_argument", "cannot encode the token id");
		goto out;
	}
	body = lk_dump(c, req);
	if (!body)
		goto out;
	if (lk_call(c, "POST", "/v1/logout", body, &root, NULL) < 0)
		goto out;
	n = json_object_get(root, "logged_out");
	if (!json_is_integer(n)) {
		lk_set_error(c, 200, "bad_response", "kysod's logout answer has no count");
		goto out;
	}
	if (logged_out)
		*logged_out = (long)json_integer_value(n);
	ret = 0;
out:
	json_decref(root);
	json_decref(req);
	free(body);
	return lk_finish(c, ret, err);
}
