#include <ctype.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "kysod/sign-request.h"

static const char *const hash_names[] = { "sha256", "sha384", "sha512" };
static const size_t hash_lens[] = { 32, 48, 64 };

const char *kyso_hash_alg_name(enum kyso_hash_alg alg)
{
	return hash_names[alg];
}

size_t kyso_hash_alg_len(enum kyso_hash_alg alg)
{
	return hash_lens[alg];
}

json_t *kyso_parse_object(const char *body, size_t len, struct kyso_reply *err)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0) {
		kyso_reply_error(err, "bad_request", "the request body is empty; a JSON object is expected");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		kyso_reply_error(err, "bad_request", "malformed JSON at line %d, column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		kyso_reply_error(err, "bad_request", "the request body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

static int field_error(struct kyso_reply *err, const char *code, const char *field,
		       const char *message)
{
	kyso_reply_error(err, code, "%.64s: %s", field, message);
	if (strlen(field) <= 64)
		kyso_reply_error_set(err, "field", json_string(field));
	return -1;
}

static int get_string(json_t *root, const char *field, int required, const char **out,
		      struct kyso_reply *err)
{
	json_t *v = json_object_get(root, field);

	*out = NULL;
	if (!v) {
		if (required)
			return field_error(err, "missing_field", field, "is required");
		return 0;
	}
	if (!json_is_string(v))
		return field_error(err, "invalid_type", field, "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int is_cert_id(const char *s)
{
	size_t i;

	if (strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int kyso_sign_request_parse(const char *body, size_t len, struct kyso_sign_request *req,
			    struct kyso_reply *err)
{
	static const char *const known[] = {
		"certificate", "hash", "hash_algorithm", "padding", "format", "timestamp",
	};
	const char *cert, *hash, *alg, *pad, *fmt, *key;
	json_t *root, *value, *ts;
	size_t i;
	long n;
	int ret = -1;

	memset(req, 0, sizeof(*req));
	root = kyso_parse_object(body, len, err);
	if (!root)
		return -1;
	json_object_foreach(root, key, value) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(key, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			field_error(err, "unknown_field", key, "is not a field of this request");
			goto out;
		}
	}
	if (get_string(root, "certificate", 1, &cert, err) ||
	    get_string(root, "hash", 1, &hash, err) ||
	    get_string(root, "hash_algorithm", 1, &alg, err) ||
	    get_string(root, "padding", 0, &pad, err) ||
	    get_string(root, "format", 0, &fmt, err))
		goto out;

	if (!is_cert_id(cert)) {
		field_error(err, "invalid_value", "certificate",
			    "must be a certificate id (64 hex digits, the SHA-256 of the certificate)");
		goto out;
	}
	for (i = 0; i < 64; i++)
		req->certificate[i] = (char)tolower((unsigned char)cert[i]);

	for (i = 0; i < 3; i++)
		if (!strcmp(alg, hash_names[i]))
			break;
	if (i == 3) {
		field_error(err, "invalid_value", "hash_algorithm",
			    "must be sha256, sha384 or sha512");
		goto out;
	}
	req->hash_alg = (enum kyso_hash_alg)i;

	if (!pad)
		req->padding = KYSO_PAD_DEFAULT;
	else if (!strcmp(pad, "pkcs1"))
		req->padding = KYSO_PAD_PKCS1;
	else if (!strcmp(pad, "pss"))
		req->padding = KYSO_PAD_PSS;
	else {
		field_error(err, "invalid_value", "padding", "must be pkcs1 or pss");
		goto out;
	}
	if (!fmt || !strcmp(fmt, "raw")) {
		req->format = KYSO_FORMAT_RAW;
	} else if (!strcmp(fmt, "cms")) {
		req->format = KYSO_FORMAT_CMS;
	} else {
		field_error(err, "invalid_value", "format", "must be raw or cms");
		goto out;
	}
	ts = json_object_get(root, "timestamp");
	if (ts && !json_is_boolean(ts)) {
		field_error(err, "invalid_type", "timestamp", "must be true or false");
		goto out;
	}
	req->timestamp = json_is_true(ts);
	if (req->timestamp && req->format != KYSO_FORMAT_CMS) {
		field_error(err, "invalid_value", "timestamp",
			    "a timestamp is added to CMS signatures only (format cms)");
		goto out;
	}

	n = kyso_b64_decode(hash, strlen(hash), req->hash, sizeof(req->hash));
	if (n == -1) {
		field_error(err, "hash_encoding", "hash", "is not valid base64");
		goto out;
	}
	if (n < 0 || (size_t)n != hash_lens[req->hash_alg]) {
		if (n < 0)
			kyso_reply_error(err, "hash_length", "hash: a %s hash is %zu bytes, not over 64",
					 hash_names[req->hash_alg], hash_lens[req->hash_alg]);
		else
			kyso_reply_error(err, "hash_length", "hash: a %s hash is %zu bytes, not %ld",
					 hash_names[req->hash_alg], hash_lens[req->hash_alg], n);
		kyso_reply_error_set(err, "field", json_string("hash"));
		goto out;
	}
	req->hash_len = (size_t)n;
	ret = 0;
out:
	if (ret)
		OPENSSL_cleanse(req->hash, sizeof(req->hash));
	json_decref(root);
	return ret;
}
