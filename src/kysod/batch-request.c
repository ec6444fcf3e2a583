/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/utf8.h"
#include "kysod/batch-request.h"
#include "kysod/request-fields.h"

static int item_error(struct kyso_reply *rep, enum kyso_err e, size_t index, const char *field,
		      const char *message)
{
	kyso_reply_error(rep, e, "items[%zu].%s: %s", index, field, message);
	kyso_reply_error_set(rep, "field", json_sprintf("items[%zu].%s", index, field));
	kyso_reply_error_set(rep, "index", json_integer((json_int_t)index));
	return -1;
}

/* Refuses a member of item index not in known. */
static int item_known(json_t *obj, const char *const *known, size_t n, struct kyso_reply *rep,
		      size_t index)
{
	const char *key;
	json_t *value;
	size_t i;

	json_object_foreach(obj, key, value) {
		for (i = 0; i < n; i++)
			if (!strcmp(key, known[i]))
				break;
		if (i < n)
			continue;
		return item_error(rep, KE_UNKNOWN_FIELD, index, strlen(key) <= 64 ? key : "?",
				  "is not a field of an item");
	}
	return 0;
}

static int parse_item(json_t *it, size_t i, size_t want_len, struct batch_item *out,
		      struct kyso_reply *rep)
{
	static const char *const known[] = { "id", "hash" };
	json_t *id, *hash;
	long n;

	if (!json_is_object(it))
		return item_error(rep, KE_INVALID_TYPE, i, "*", "an item must be an object");
	if (item_known(it, known, 2, rep, i))
		return -1;
	id = json_object_get(it, "id");
	hash = json_object_get(it, "hash");
	if (!id)
		return item_error(rep, KE_MISSING_FIELD, i, "id", "is required");
	if (!json_is_string(id))
		return item_error(rep, KE_INVALID_TYPE, i, "id", "must be a string");
	n = (long)kyso_utf8_chars(json_string_value(id), json_string_length(id));
	if (n == 0 || n > BATCH_ITEM_ID_MAX)
		return item_error(rep, KE_INVALID_VALUE, i, "id", "must be 1 to 256 characters");
	if (strlen(json_string_value(id)) != json_string_length(id))
		return item_error(rep, KE_INVALID_VALUE, i, "id", "must not hold U+0000");
	if (!hash)
		return item_error(rep, KE_MISSING_FIELD, i, "hash", "is required");
	if (!json_is_string(hash))
		return item_error(rep, KE_INVALID_TYPE, i, "hash", "must be a string");
	n = kyso_b64_decode(json_string_value(hash), json_string_length(hash), out->hash,
			    sizeof(out->hash));
	if (n == -1)
		return item_error(rep, KE_HASH_ENCODING, i, "hash", "is not valid base64");
	if (n < 0 || (size_t)n != want_len)
		return item_error(rep, KE_HASH_LENGTH, i, "hash",
				  "is not the length of a hash of the batch's hash_algorithm");
	out->hash_len = (size_t)n;
	out->id = strdup(json_string_value(id));
	if (!out->id) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	return 0;
}

int batch_request_parse(const char *body, size_t len, unsigned int max_items,
			struct batch_request *req, struct kyso_reply *rep)
{
	static const char *const known[] = {
		"certificate", "hash_algorithm", "padding", "format", "items", "description", "batch",
	};
	const char *fmt, *desc, *batch;
	json_t *root, *items, *it, *jdesc;
	size_t i;
	int ret = -1;

	memset(req, 0, sizeof(*req));
	/* an item is an object of two members: three values and a comma */
	root = field_parse_object_max(body, len, 4 * (size_t)max_items + 64, rep);
	if (!root)
		return -1;
	if (field_known(root, known, sizeof(known) / sizeof(known[0]), rep) ||
	    field_cert_id(root, req->certificate, rep) ||
	    field_hash_alg(root, &req->hash_alg, rep) ||
	    field_padding(root, &req->padding, rep) ||
	    field_string(root, "format", 0, &fmt, rep) ||
	    field_string(root, "description", 0, &desc, rep) ||
	    field_string(root, "batch", 0, &batch, rep))
		goto out;
	if (batch && (!*batch || strlen(batch) >= sizeof(req->batch_id) ||
		      strspn(batch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
		      strlen(batch))) {
		field_error(rep, KE_INVALID_VALUE, "batch",
			    "must be 1 to 32 letters, digits, '-' or '_'");
		goto out;
	}
	if (batch)
		strcpy(req->batch_id, batch);
	if (fmt && strcmp(fmt, "raw")) {
		field_error(rep, KE_INVALID_VALUE, "format", "must be raw");
		goto out;
	}
	jdesc = json_object_get(root, "description");
	if (desc && kyso_utf8_chars(desc, json_string_length(jdesc)) > BATCH_DESCRIPTION_MAX) {
		field_error(rep, KE_INVALID_VALUE, "description", "must be at most 300 characters");
		goto out;
	}
	if (desc && strlen(desc) != json_string_length(jdesc)) {
		field_error(rep, KE_INVALID_VALUE, "description", "must not hold U+0000");
		goto out;
	}
	if (desc && !(req->description = strdup(desc))) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	items = json_object_get(root, "items");
	if (!items) {
		field_error(rep, KE_MISSING_FIELD, "items", "is required");
		goto out;
	}
	if (!json_is_array(items)) {
		field_error(rep, KE_INVALID_TYPE, "items", "must be an array");
		goto out;
	}
	if (json_array_size(items) == 0 || json_array_size(items) > max_items) {
		kyso_reply_error(rep, KE_INVALID_VALUE, "items: a batch has 1 to %u items, this one %zu",
				 max_items, json_array_size(items));
		kyso_reply_error_set(rep, "field", json_string("items"));
		goto out;
	}
	req->items = calloc(json_array_size(items), sizeof(*req->items));
	if (!req->items) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	json_array_foreach(items, i, it) {
		if (parse_item(it, i, hash_alg_len(req->hash_alg), &req->items[i], rep))
			goto out;
		req->nitems++;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret)
		batch_request_free(req);
	return ret;
}

void batch_request_free(struct batch_request *req)
{
	size_t i;

	for (i = 0; i < req->nitems; i++)
		free(req->items[i].id);
	if (req->items)
		OPENSSL_cleanse(req->items, req->nitems * sizeof(*req->items));
	free(req->items);
	free(req->description);
	memset(req, 0, sizeof(*req));
}
