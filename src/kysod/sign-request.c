/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "kysod/request-fields.h"
#include "kysod/sign-request.h"

static const char *const hash_names[] = { "sha256", "sha384", "sha512" };
static const size_t hash_lens[] = { 32, 48, 64 };

const char *hash_alg_name(enum kysod_hash_alg alg)
{
	return hash_names[alg];
}

size_t hash_alg_len(enum kysod_hash_alg alg)
{
	return hash_lens[alg];
}

json_t *parse_object(const char *body, size_t len, struct kyso_reply *err)
{
	return field_parse_object(body, len, err);
}

int sign_request_parse(const char *body, size_t len, struct sign_request *req,
		       struct kyso_reply *err)
{
	static const char *const known[] = {
		"certificate", "hash", "hash_algorithm", "padding", "format", "timestamp",
		"profile", "validation_data",
	};
	const char *hash, *fmt, *profile;
	json_t *root, *ts, *vd;
	long n;
	int ret = -1;

	memset(req, 0, sizeof(*req));
	root = parse_object(body, len, err);
	if (!root)
		return -1;
	if (field_known(root, known, sizeof(known) / sizeof(known[0]), err) ||
	    field_cert_id(root, req->certificate, err) ||
	    field_string(root, "hash", 1, &hash, err) ||
	    field_hash_alg(root, &req->hash_alg, err) ||
	    field_padding(root, &req->padding, err) ||
	    field_string(root, "format", 0, &fmt, err) ||
	    field_string(root, "profile", 0, &profile, err))
		goto out;
	if (!fmt || !strcmp(fmt, "raw")) {
		req->format = FORMAT_RAW;
	} else if (!strcmp(fmt, "cms")) {
		req->format = FORMAT_CMS;
	} else {
		field_error(err, KE_INVALID_VALUE, "format", "must be raw or cms");
		goto out;
	}
	ts = json_object_get(root, "timestamp");
	if (ts && !json_is_boolean(ts)) {
		field_error(err, KE_INVALID_TYPE, "timestamp", "must be true or false");
		goto out;
	}
	req->timestamp = json_is_true(ts);
	vd = json_object_get(root, "validation_data");
	if (vd && !json_is_boolean(vd)) {
		field_error(err, KE_INVALID_TYPE, "validation_data", "must be true or false");
		goto out;
	}
	req->validation_data = json_is_true(vd);
	if (!profile || !strcmp(profile, "cades")) {
		req->profile = PROFILE_CADES;
	} else if (!strcmp(profile, "pades")) {
		req->profile = PROFILE_PADES;
	} else {
		field_error(err, KE_INVALID_VALUE, "profile", "must be cades or pades");
		goto out;
	}
	if (profile && req->format != FORMAT_CMS) {
		field_error(err, KE_INVALID_VALUE, "profile",
			    "a profile is chosen for CMS signatures only (format cms)");
		goto out;
	}
	if (req->timestamp && req->format != FORMAT_CMS) {
		field_error(err, KE_INVALID_VALUE, "timestamp",
			    "a timestamp is added to CMS signatures only (format cms)");
		goto out;
	}

	n = kyso_b64_decode(hash, strlen(hash), req->hash, sizeof(req->hash));
	if (n == -1) {
		field_error(err, KE_HASH_ENCODING, "hash", "is not valid base64");
		goto out;
	}
	if (n < 0 || (size_t)n != hash_lens[req->hash_alg]) {
		if (n < 0)
			kyso_reply_error(err, KE_HASH_LENGTH, "hash: a %s hash is %zu bytes, not over 64",
					 hash_names[req->hash_alg], hash_lens[req->hash_alg]);
		else
			kyso_reply_error(err, KE_HASH_LENGTH, "hash: a %s hash is %zu bytes, not %ld",
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
