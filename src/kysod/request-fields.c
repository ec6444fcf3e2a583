/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "common/hex.h"
#include "kysod/request-fields.h"

/* An upper bound of the values in a JSON text, counted without building
 * anything: each value past the first follows a ',' or opens with '{' or '['
 * (outside strings). Stops counting past max. */
static size_t json_values_bound(const char *s, size_t len, size_t max)
{
	size_t i, n = 1;
	int in_str = 0;

	for (i = 0; i < len && n <= max; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"')
			in_str = 1;
		else if (s[i] == ',' || s[i] == '{' || s[i] == '[')
			n++;
	}
	return n;
}

json_t *field_parse_object(const char *body, size_t len, struct kyso_reply *rep)
{
	return field_parse_object_max(body, len, FIELD_VALUES_MAX, rep);
}

json_t *field_parse_object_max(const char *body, size_t len, size_t max_values,
			       struct kyso_reply *rep)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0) {
		kyso_reply_error(rep, KE_BAD_REQUEST, "the request body is empty; a JSON object is expected");
		return NULL;
	}
	/* a tree costs about 100 bytes a value: 8 MiB of "{}," would take half a
	 * gigabyte, so the shape is checked before any tree is built */
	if (json_values_bound(body, len, max_values) > max_values) {
		kyso_reply_error(rep, KE_BAD_REQUEST,
				 "the request body holds more than %zu JSON values", max_values);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		kyso_reply_error(rep, KE_BAD_REQUEST, "malformed JSON at line %d, column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		kyso_reply_error(rep, KE_BAD_REQUEST, "the request body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

int field_error(struct kyso_reply *rep, enum kyso_err e, const char *field, const char *message)
{
	kyso_reply_error(rep, e, "%.64s: %s", field, message);
	if (strlen(field) <= 64)
		kyso_reply_error_set(rep, "field", json_string(field));
	return -1;
}

int field_known(json_t *obj, const char *const *known, size_t n, struct kyso_reply *rep)
{
	const char *key;
	json_t *value;
	size_t i;

	json_object_foreach(obj, key, value) {
		for (i = 0; i < n; i++)
			if (!strcmp(key, known[i]))
				break;
		if (i == n)
			return field_error(rep, KE_UNKNOWN_FIELD, key, "is not a field of this request");
	}
	return 0;
}

int field_string(json_t *root, const char *field, int required, const char **out,
		 struct kyso_reply *rep)
{
	json_t *v = json_object_get(root, field);

	*out = NULL;
	if (!v)
		return required ? field_error(rep, KE_MISSING_FIELD, field, "is required") : 0;
	if (!json_is_string(v))
		return field_error(rep, KE_INVALID_TYPE, field, "must be a string");
	*out = json_string_value(v);
	return 0;
}

int field_is_cert_id(const char *s, char *id)
{
	return strlen(s) == 64 && kyso_hex_lower(s, 64, id) == 0;
}

int field_cert_id(json_t *root, char *id, struct kyso_reply *rep)
{
	const char *s;

	if (field_string(root, "certificate", 1, &s, rep))
		return -1;
	if (!field_is_cert_id(s, id))
		return field_error(rep, KE_INVALID_VALUE, "certificate",
				   "must be a certificate id (64 hex digits, the SHA-256 of the certificate)");
	return 0;
}

int field_hash_alg(json_t *root, enum kysod_hash_alg *alg, struct kyso_reply *rep)
{
	const char *s;
	int i;

	if (field_string(root, "hash_algorithm", 1, &s, rep))
		return -1;
	for (i = HASH_SHA256; i <= HASH_SHA512; i++)
		if (!strcmp(s, hash_alg_name((enum kysod_hash_alg)i))) {
			*alg = (enum kysod_hash_alg)i;
			return 0;
		}
	return field_error(rep, KE_INVALID_VALUE, "hash_algorithm", "must be sha256, sha384 or sha512");
}

int field_padding(json_t *root, enum kysod_padding *padding, struct kyso_reply *rep)
{
	const char *s;

	if (field_string(root, "padding", 0, &s, rep))
		return -1;
	if (!s)
		*padding = PAD_DEFAULT;
	else if (!strcmp(s, "pkcs1"))
		*padding = PAD_PKCS1;
	else if (!strcmp(s, "pss"))
		*padding = PAD_PSS;
	else
		return field_error(rep, KE_INVALID_VALUE, "padding", "must be pkcs1 or pss");
	return 0;
}
