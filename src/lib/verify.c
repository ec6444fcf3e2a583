/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: checking a signature (POST /v1/verify) into a typed verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "kyso/kyso.h"
#include "client-internal.h"

/* Sets a base64 member of obj; -1 on ENOMEM. */
static int set_b64(json_t *obj, const char *key, const unsigned char *data, size_t len)
{
	char *b64 = kyso_b64_encode(data, len);
	int ret;

	if (!b64)
		return -1;
	ret = json_object_set_new(obj, key, json_string(b64));
	free(b64);
	return ret;
}

/* "document_timestamps" of the body: each caller item read through its
 * struct_size (the array's stride is items[0]'s). 0, or -1 with the error set. */
static int set_document_timestamps(struct kyso_client *c, json_t *obj,
				   const struct kyso_verify_params *p)
{
	struct kyso_document_timestamp dt;
	json_t *list, *o;
	size_t i;

	if (!p->n_document_timestamps)
		return 0;
	if (!p->document_timestamps || p->n_document_timestamps > 8 || p->format != KYSO_FORMAT_CMS) {
		lk_set_error(c, 0, "invalid_argument", "document_timestamps: 1 to 8, with a CMS "
			     "signature");
		return -1;
	}
	list = json_array();
	if (!list || json_object_set_new(obj, "document_timestamps", list)) {
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		return -1;
	}
	for (i = 0; i < p->n_document_timestamps; i++) {
		if (lk_params_item(c, "document_timestamps", "kyso_document_timestamp",
				   p->document_timestamps, i, &dt, sizeof(dt),
				   KYSO_DOCUMENT_TIMESTAMP_SIZE_1) < 0)
			return -1;
		if (!dt.token || !dt.token_len || !dt.hash ||
		    (dt.hash_len != 32 && dt.hash_len != 48 && dt.hash_len != 64)) {
			lk_set_error(c, 0, "invalid_argument", "document_timestamps[%zu]: a token "
				     "and a 32, 48 or 64-byte hash are required", i);
			return -1;
		}
		o = json_object();
		if (!o || json_array_append_new(list, o) || set_b64(o, "token", dt.token, dt.token_len) ||
		    set_b64(o, "hash", dt.hash, dt.hash_len)) {
			lk_set_error(c, 0, "out_of_memory", "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Builds the POST /v1/verify body; returns a new string or NULL. */
static char *verify_body(struct kyso_client *c, const struct kyso_verify_params *p)
{
	const char *alg = kyso_hash_alg_name(p->hash_alg);
	const char *pad = kyso_padding_name(p->padding);
	json_t *obj = NULL;
	char *body = NULL;

	if (!p->signature || !p->signature_len || !p->hash || !p->hash_len || !alg ||
	    (p->padding != KYSO_PADDING_DEFAULT && !pad) ||
	    (p->format != KYSO_FORMAT_RAW && p->format != KYSO_FORMAT_CMS) ||
	    (p->certificate_der && !p->certificate_der_len)) {
		lk_set_error(c, 0, "invalid_argument",
			     "signature, hash and a known hash algorithm, padding and format are required");
		goto out;
	}
	obj = json_object();
	if (!obj ||
	    json_object_set_new(obj, "format",
				json_string(p->format == KYSO_FORMAT_CMS ? "cms" : "raw")) ||
	    set_b64(obj, "signature", p->signature, p->signature_len) ||
	    set_b64(obj, "hash", p->hash, p->hash_len) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad)))) {
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}
	if ((p->certificate &&
	     json_object_set_new(obj, "certificate", json_string(p->certificate))) ||
	    (!p->certificate && p->certificate_der &&
	     set_b64(obj, "certificate", p->certificate_der, p->certificate_der_len))) {
		lk_set_error(c, 0, "invalid_argument",
			     "cannot encode the certificate (not UTF-8 text?)");
		goto out;
	}
	if (set_document_timestamps(c, obj, p))
		goto out;
	if (p->at_verification_time &&
	    json_object_set_new(obj, "at_verification_time", json_true())) {
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}
	body = lk_dump(c, obj);
out:
	json_decref(obj);
	return body;
}

/*
 * A string member of obj as a new string: "" when absent if or_empty,
 * else NULL.  Sets *nomem when it cannot allocate.
 */
static char *dup_member(const json_t *obj, const char *key, int or_empty, int *nomem)
{
	const char *v = json_string_value(json_object_get(obj, key));
	char *s;

	if (!v && !or_empty)
		return NULL;
	s = strdup(v ? v : "");
	if (!s)
		*nomem = 1;
	return s;
}

static enum kyso_check_result check_result(const char *name)
{
	static const char *const names[] = {
		[KYSO_CHECK_OK] = "ok",
		[KYSO_CHECK_FAILED] = "failed",
		[KYSO_CHECK_SKIPPED] = "skipped",
		[KYSO_CHECK_UNKNOWN] = "unknown",
	};
	size_t i;

	for (i = KYSO_CHECK_OK; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (enum kyso_check_result)i;
	return KYSO_CHECK_NONE;
}

static enum kyso_verify_status verify_status(const char *name)
{
	if (!name)
		return KYSO_VERIFY_UNKNOWN;
	if (!strcmp(name, "valid"))
		return KYSO_VERIFY_VALID;
	if (!strcmp(name, "invalid"))
		return KYSO_VERIFY_INVALID;
	if (!strcmp(name, "indeterminate"))
		return KYSO_VERIFY_INDETERMINATE;
	return KYSO_VERIFY_UNKNOWN;
}

static void signer_free(struct kyso_verify_signer *s)
{
	size_t i;

	if (!s)
		return;
	free(s->id);
	free(s->subject);
	free(s->subject_cn);
	free(s->issuer);
	free(s->serial);
	free(s->not_before);
	free(s->not_after);
	free(s->key_type);
	free(s->curve);
	for (i = 0; i < s->nkey_usage; i++)
		free(s->key_usage[i]);
	free(s->key_usage);
	free(s);
}

/* The "signer" object; NULL (with *nomem unset) when there is none. */
static struct kyso_verify_signer *parse_signer(const json_t *j, int *nomem)
{
	const json_t *usage = json_object_get(j, "key_usage"), *u;
	struct kyso_verify_signer *s;
	size_t i;

	if (!json_is_object(j))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*nomem = 1;
		return NULL;
	}
	s->id = dup_member(j, "id", 1, nomem);
	s->subject = dup_member(j, "subject", 1, nomem);
	s->subject_cn = dup_member(j, "subject_cn", 1, nomem);
	s->issuer = dup_member(j, "issuer", 1, nomem);
	s->serial = dup_member(j, "serial", 1, nomem);
	s->not_before = dup_member(j, "not_before", 1, nomem);
	s->not_after = dup_member(j, "not_after", 1, nomem);
	s->key_type = dup_member(j, "key_type", 1, nomem);
	s->curve = dup_member(j, "curve", 0, nomem);
	s->key_bits = (long)json_integer_value(json_object_get(j, "key_bits"));
	if (json_array_size(usage)) {
		s->key_usage = calloc(json_array_size(usage), sizeof(*s->key_usage));
		if (!s->key_usage)
			*nomem = 1;
	}
	json_array_foreach(usage, i, u) {
		if (!s->key_usage || !json_is_string(u))
			break;
		s->key_usage[s->nkey_usage] = strdup(json_string_value(u));
		if (!s->key_usage[s->nkey_usage]) {
			*nomem = 1;
			break;
		}
		s->nkey_usage++;
	}
	return s;
}

static void check_free(struct kyso_verify_check *k)
{
	if (!k)
		return;
	free(k->check);
	free(k->result_name);
	free(k->message);
	free(k->certificate);
	free(k->source);
	free(k->url);
	free(k->fetch);
	free(k);
}

static struct kyso_verify_check *parse_check(const json_t *j, int *nomem)
{
	const json_t *depth = json_object_get(j, "depth");
	struct kyso_verify_check *k;

	k = calloc(1, sizeof(*k));
	if (!k) {
		*nomem = 1;
		return NULL;
	}
	k->check = dup_member(j, "check", 1, nomem);
	k->result_name = dup_member(j, "result", 1, nomem);
	k->result = check_result(k->result_name);
	k->message = dup_member(j, "message", 1, nomem);
	k->certificate = dup_member(j, "certificate", 0, nomem);
	k->depth = json_is_integer(depth) ? (long)json_integer_value(depth) : -1;
	k->source = dup_member(j, "source", 0, nomem);
	k->url = dup_member(j, "url", 0, nomem);
	k->fetch = dup_member(j, "fetch", 0, nomem);
	return k;
}

/* Reads kysod's verify answer (root, its text taken) into a new result. */
static struct kyso_verify_result *parse_verify(struct kyso_client *c, const json_t *root,
					       char *text)
{
	const json_t *checks = json_object_get(root, "checks"), *j;
	const json_t *ts = json_object_get(root, "timestamp");
	struct kyso_verify_result *r;
	struct kyso_verify_check *k;
	int nomem = 0;
	size_t i;

	r = calloc(1, sizeof(*r));
	if (!r) {
		free(text);
		lk_set_error(c, 200, "out_of_memory", "out of memory");
		return NULL;
	}
	r->json = text;
	if (!json_is_boolean(json_object_get(root, "valid")) || !json_is_array(checks) ||
	    !json_string_value(json_object_get(root, "status"))) {
		lk_set_error(c, 200, "bad_response", "kysod's verify answer could not be understood");
		kyso_verify_result_free(r);
		return NULL;
	}
	r->status_name = dup_member(root, "status", 1, &nomem);
	r->status = verify_status(r->status_name);
	r->valid = json_is_true(json_object_get(root, "valid")) && r->status == KYSO_VERIFY_VALID;
	r->reason = dup_member(root, "reason", 1, &nomem);
	r->format = dup_member(root, "format", 1, &nomem);
	r->algorithm = dup_member(root, "algorithm", 1, &nomem);
	r->signer = parse_signer(json_object_get(root, "signer"), &nomem);
	r->signing_time = dup_member(root, "signing_time", 0, &nomem);
	r->timestamp_time = dup_member(ts, "time", 0, &nomem);
	r->timestamp_tsa = dup_member(ts, "tsa", 0, &nomem);
	r->verified_at = dup_member(root, "verified_at", 1, &nomem);
	r->poe_time = dup_member(json_object_get(root, "proof_of_existence"), "time", 0, &nomem);
	r->poe_source = dup_member(json_object_get(root, "proof_of_existence"), "source", 0,
				   &nomem);
	if (json_array_size(checks)) {
		r->checks = calloc(json_array_size(checks), sizeof(*r->checks));
		if (!r->checks)
			nomem = 1;
	}
	json_array_foreach(checks, i, j) {
		if (!r->checks || nomem)
			break;
		k = parse_check(j, &nomem);
		if (!k)
			break;
		r->checks[r->nchecks++] = k;
		if (!strcmp(k->check, "chain"))
			r->chain = k->result;
		else if (!strcmp(k->check, "revocation"))
			r->revocation = k->result;
	}
	if (nomem) {
		lk_set_error(c, 200, "out_of_memory", "out of memory");
		kyso_verify_result_free(r);
		return NULL;
	}
	return r;
}

int kyso_verify(struct kyso_client *c, const struct kyso_verify_params *params,
		struct kyso_verify_result **out, struct kyso_error *err)
{
	struct kyso_verify_params p;
	json_t *root = NULL;
	char *text = NULL;
	int ret = -1;

	if (out)
		*out = NULL;
	if (lk_begin(c, err, params, out, "kyso_verify_params", &p, sizeof(p),
		     KYSO_VERIFY_PARAMS_SIZE_1))
		return -1;
	if (lk_post(c, "/v1/verify", verify_body(c, &p), 0, &root, &text) == 0) {
		/* text is taken */
		*out = parse_verify(c, root, text);
		if (*out)
			ret = 0;
	}
	json_decref(root);
	return lk_finish(c, ret, err);
}

void kyso_verify_result_free(struct kyso_verify_result *result)
{
	size_t i;

	if (!result)
		return;
	free(result->status_name);
	free(result->reason);
	free(result->format);
	free(result->algorithm);
	signer_free(result->signer);
	free(result->signing_time);
	free(result->timestamp_time);
	free(result->timestamp_tsa);
	free(result->verified_at);
	free(result->poe_time);
	free(result->poe_source);
	for (i = 0; i < result->nchecks; i++)
		check_free(result->checks[i]);
	free(result->checks);
	free(result->json);
	free(result);
}
