/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: batches (POST /v1/sign/batch) and their cancellation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64.h"
#include "kyso/kyso.h"
#include "client-internal.h"

/* Sets the client's error about item i of the batch; returns -1. */
static int __attribute__((format(printf, 4, 5)))
item_error(struct kyso_client *c, size_t i, const char *code, const char *fmt, ...)
{
	char msg[sizeof(c->last_error.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lk_set_error(c, 0, code, "%s", msg);
	c->last_error.index = (long)i;
	return -1;
}

/*
 * Item i of the caller's array, into *it: the array's stride is the
 * struct_size of its first item, which every item repeats.
 */
static int get_item(struct kyso_client *c, const struct kyso_batch_params *p, size_t i,
		    struct kyso_batch_item *it)
{
	if (lk_params_item(c, "items", "kyso_batch_item", p->items, i, it, sizeof(*it),
			   KYSO_BATCH_ITEM_SIZE_1) < 0) {
		c->last_error.index = (long)i;
		return -1;
	}
	return 0;
}

/* Builds the POST /v1/sign/batch body; returns a new string or NULL. */
static char *batch_body(struct kyso_client *c, const struct kyso_batch_params *p)
{
	const char *alg = kyso_hash_alg_name(p->hash_alg);
	const char *pad = kyso_padding_name(p->padding);
	struct kyso_batch_item it;
	json_t *obj = NULL, *items = NULL, *item;
	char *hash, *body = NULL;
	size_t i;

	if (!p->certificate || !alg || (p->padding != KYSO_PADDING_DEFAULT && !pad) ||
	    p->format != KYSO_FORMAT_RAW || !p->items || !p->nitems) {
		lk_set_error(c, 0, "invalid_argument",
			  "certificate, items and a known hash algorithm, padding and format are required");
		goto out;
	}
	obj = json_object();
	items = json_array();
	if (!obj || !items ||
	    json_object_set_new(obj, "certificate", json_string(p->certificate)) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad))) ||
	    json_object_set_new(obj, "format", json_string("raw")) ||
	    (p->description && json_object_set_new(obj, "description",
						   json_string(p->description))) ||
	    (p->batch_id && json_object_set_new(obj, "batch", json_string(p->batch_id)))) {
		lk_set_error(c, 0, "invalid_argument",
			  "cannot encode the request (bad certificate id or description?)");
		goto out;
	}
	for (i = 0; i < p->nitems; i++) {
		if (get_item(c, p, i, &it) < 0)
			goto out;
		if (!it.id || !it.hash || !it.hash_len) {
			item_error(c, i, "invalid_argument", "items[%zu] has no id or no hash", i);
			goto out;
		}
		hash = kyso_b64_encode(it.hash, it.hash_len);
		if (!hash) {
			lk_set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
		item = json_pack("{s:s, s:s}", "id", it.id, "hash", hash);
		free(hash);
		if (!item || json_array_append_new(items, item)) {
			item_error(c, i, "invalid_argument",
				   "cannot encode items[%zu] (is its id valid UTF-8?)", i);
			goto out;
		}
	}
	if (json_object_set(obj, "items", items)) {
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}
	body = lk_dump(c, obj);
out:
	json_decref(items);
	json_decref(obj);
	return body;
}

/* A non-negative integer member; -1 if absent or not one. */
static int get_count(const json_t *obj, const char *key, size_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (size_t)json_integer_value(v);
	return 0;
}

/* Fills item i of the result from its answer; -1 if malformed or ENOMEM. */
static int parse_batch_item(const json_t *j, size_t i, struct kyso_batch_result_item *it)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *sig = json_string_value(json_object_get(j, "signature"));
	const char *ref = json_string_value(json_object_get(j, "audit_id"));
	const json_t *e = json_object_get(j, "error");
	const char *code, *msg;

	it->index = i;
	lk_error_clear(&it->error);
	if (!id)
		return -1;
	it->id = strdup(id);
	if (!it->id)
		return -1;
	if (sig) {
		it->signature = kyso_b64_decode_alloc(sig, strlen(sig), &it->signature_len);
		if (!it->signature || !it->signature_len)
			return -1;
		if (ref) {
			it->audit_id = strdup(ref);
			if (!it->audit_id)
				return -1;
		}
		return 0;
	}
	code = json_string_value(json_object_get(e, "code"));
	if (!code || !*code)
		return -1;
	msg = json_string_value(json_object_get(e, "message"));
	lk_error_set(&it->error, 0, code, "%s", msg && *msg ? msg : code);
	it->error.index = (long)i;
	return 0;
}

/* Reads kysod's batch answer into a new result (caller frees). */
static struct kyso_batch_result *parse_batch(struct kyso_client *c, const json_t *root)
{
	const char *batch = json_string_value(json_object_get(root, "batch"));
	const char *cert = json_string_value(json_object_get(root, "certificate"));
	const char *alg = json_string_value(json_object_get(root, "algorithm"));
	const json_t *items = json_object_get(root, "items"), *j;
	struct kyso_batch_result *r;
	size_t i;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	if (!batch || !json_is_array(items) || get_count(root, "total", &r->total) ||
	    get_count(root, "signed", &r->nsigned) || get_count(root, "failed", &r->nfailed))
		goto bad;
	snprintf(r->batch, sizeof(r->batch), "%s", batch);
	snprintf(r->certificate, sizeof(r->certificate), "%s", cert ? cert : "");
	snprintf(r->algorithm, sizeof(r->algorithm), "%s", alg ? alg : "");
	r->cancelled = json_is_true(json_object_get(root, "cancelled"));
	if (json_array_size(items)) {
		r->items = calloc(json_array_size(items), sizeof(*r->items));
		if (!r->items)
			goto nomem;
	}
	json_array_foreach(items, i, j) {
		r->items[i] = calloc(1, sizeof(*r->items[i]));
		if (!r->items[i])
			goto nomem;
		r->nitems = i + 1;
		if (parse_batch_item(j, i, r->items[i]) < 0)
			goto bad;
	}
	return r;
bad:
	lk_set_error(c, 200, "bad_response", "kysod's batch answer could not be understood");
	kyso_batch_result_free(r);
	return NULL;
nomem:
	lk_set_error(c, 200, "out_of_memory", "out of memory");
	kyso_batch_result_free(r);
	return NULL;
}

int kyso_sign_batch(struct kyso_client *c, const struct kyso_batch_params *params,
		    struct kyso_batch_result **out, struct kyso_error *err)
{
	struct kyso_batch_params p;
	json_t *root = NULL;
	int ret = -1;

	if (out)
		*out = NULL;
	if (lk_begin(c, err, params, out, "kyso_batch_params", &p, sizeof(p),
		     KYSO_BATCH_PARAMS_SIZE_1))
		return -1;
	if (lk_post(c, "/v1/sign/batch", batch_body(c, &p), KYSO_MAX_BATCH_RESPONSE,
		    &root, NULL) == 0) {
		*out = parse_batch(c, root);
		if (*out)
			ret = 0;
	}
	json_decref(root);
	return lk_finish(c, ret, err);
}

void kyso_batch_result_free(struct kyso_batch_result *result)
{
	size_t i;

	if (!result)
		return;
	for (i = 0; i < result->nitems; i++) {
		free(result->items[i]->id);
		free(result->items[i]->signature);
		free(result->items[i]->audit_id);
		free(result->items[i]);
	}
	free(result->items);
	free(result);
}

int kyso_cancel_batch(struct kyso_client *c, const char *batch_id, struct kyso_error *err)
{
	if (!c)
		return lk_no_client(err);
	if (!batch_id || !*batch_id)
		return lk_bad_argument(c, err, "a batch id is required");
	return lk_finish(c, lk_call_id(c, "DELETE", "/v1/sign/batch", "/", batch_id, NULL), err);
}
