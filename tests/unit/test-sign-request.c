/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/sign bodies (src/kysod/sign-request.c): every accepted form and every
 * refusal, with its code, HTTP status and "field"; and the error replies
 * themselves (src/kysod/reply.c) and the PIN dialog's escaping (pinentry.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "common/utf8.h"
#include "kysod/batch-request.h"
#include "kysod/pinentry.h"
#include "kysod/reply.h"
#include "kysod/request-fields.h"
#include "kysod/sign-request.h"

#define CERT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CERT_UPPER "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"

static const char *const alg_names[] = { "sha256", "sha384", "sha512" };
static const size_t alg_lens[] = { 32, 48, 64 };

static void fill(unsigned char *buf, size_t len, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 29);
}

/* Standard base64 of len bytes, by OpenSSL (not by the code under test). */
static char *b64(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static char *b64_of_len(size_t len)
{
	unsigned char buf[4096];

	assert_true(len <= sizeof(buf));
	fill(buf, len, 0x42);
	return b64(buf, len);
}

/* A valid request object for alg (index into alg_names). */
static json_t *valid(size_t alg)
{
	char *hash = b64_of_len(alg_lens[alg]);
	json_t *o = json_pack("{s:s, s:s, s:s}", "certificate", CERT, "hash", hash,
			      "hash_algorithm", alg_names[alg]);

	free(hash);
	assert_non_null(o);
	return o;
}

static const char *error_code(const struct kyso_reply *rep)
{
	return json_string_value(json_object_get(json_object_get(rep->body, "error"), "code"));
}

static const char *error_field(const struct kyso_reply *rep)
{
	return json_string_value(json_object_get(json_object_get(rep->body, "error"), "field"));
}

static const char *error_message(const struct kyso_reply *rep)
{
	return json_string_value(json_object_get(json_object_get(rep->body, "error"), "message"));
}

/* Expected "field" member: none at all. */
static const char NO_FIELD[] = "(no field member)";

/* The body (len bytes) must be refused with code, status 400, and the given
 * "field" member (NO_FIELD: none; NULL: not checked). */
static void expect_error_len(const char *body, size_t len, const char *code, const char *field)
{
	struct sign_request req;
	struct kyso_reply rep = { 0 };
	const unsigned char zero[64] = { 0 };
	char *dump;
	int rc;

	memset(&req, 0x77, sizeof(req));
	rc = sign_request_parse(body, len, &req, &rep);
	if (rc != -1)
		fail_msg("accepted: %.200s", body);
	assert_non_null(rep.body);
	if (!error_code(&rep) || strcmp(error_code(&rep), code))
		fail_msg("code %s, expected %s, for: %.200s", error_code(&rep), code, body);
	assert_int_equal(rep.status, 400);
	assert_non_null(error_message(&rep));
	assert_true(strlen(error_message(&rep)) > 0);
	if (field == NO_FIELD && error_field(&rep))
		fail_msg("field %s, expected none, for: %.200s", error_field(&rep), body);
	if (field && field != NO_FIELD && (!error_field(&rep) || strcmp(error_field(&rep), field)))
		fail_msg("field %s, expected %s, for: %.200s", error_field(&rep), field, body);
	/* the answer can be sent */
	dump = json_dumps(rep.body, JSON_COMPACT);
	assert_non_null(dump);
	free(dump);
	/* no hash bytes left behind in a refused request */
	assert_memory_equal(req.hash, zero, sizeof(req.hash));
	kyso_reply_clear(&rep);
}

static void expect_error(const char *body, const char *code, const char *field)
{
	expect_error_len(body, strlen(body), code, field);
}

/* obj is consumed. */
static void expect_obj_error(json_t *obj, const char *code, const char *field)
{
	char *body = json_dumps(obj, JSON_COMPACT);

	assert_non_null(body);
	expect_error(body, code, field);
	free(body);
	json_decref(obj);
}

/* obj is consumed; the parsed request is returned in req. */
static void expect_ok_obj(json_t *obj, struct sign_request *req)
{
	struct kyso_reply rep = { 0 };
	char *body = json_dumps(obj, JSON_COMPACT);

	assert_non_null(body);
	if (sign_request_parse(body, strlen(body), req, &rep))
		fail_msg("refused (%s: %s): %s", error_code(&rep), error_message(&rep), body);
	assert_null(rep.body);
	free(body);
	json_decref(obj);
}

static json_t *with(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value);
	return obj;
}

static json_t *without(json_t *obj, const char *key)
{
	json_object_del(obj, key);
	return obj;
}

static json_t *with_hash_len(json_t *obj, size_t len)
{
	char *h = b64_of_len(len);

	json_object_set_new(obj, "hash", json_string(h));
	free(h);
	return obj;
}

/* ------------------------------------------------------------ accepted */

static void test_valid_each_algorithm(void **state)
{
	size_t a;

	for (a = 0; a < 3; a++) {
		struct sign_request req;
		unsigned char want[64];

		fill(want, alg_lens[a], 0x42);
		expect_ok_obj(valid(a), &req);
		assert_string_equal(req.certificate, CERT);
		assert_int_equal(req.hash_alg, (int)a);
		assert_int_equal(req.hash_len, alg_lens[a]);
		assert_memory_equal(req.hash, want, alg_lens[a]);
		assert_int_equal(req.padding, PAD_DEFAULT);
		assert_string_equal(hash_alg_name(req.hash_alg), alg_names[a]);
		assert_int_equal(hash_alg_len(req.hash_alg), alg_lens[a]);
	}
}

static void test_valid_paddings(void **state)
{
	struct sign_request req;

	expect_ok_obj(with(valid(0), "padding", json_string("pkcs1")), &req);
	assert_int_equal(req.padding, PAD_PKCS1);
	expect_ok_obj(with(valid(1), "padding", json_string("pss")), &req);
	assert_int_equal(req.padding, PAD_PSS);
	assert_int_equal(req.hash_alg, HASH_SHA384);
	expect_ok_obj(valid(2), &req);
	assert_int_equal(req.padding, PAD_DEFAULT);
}

static void test_valid_format(void **state)
{
	struct sign_request req;

	expect_ok_obj(with(valid(0), "format", json_string("raw")), &req);
	assert_int_equal(req.hash_len, 32);
	expect_ok_obj(with(with(valid(2), "format", json_string("raw")), "padding",
			   json_string("pss")), &req);
	assert_int_equal(req.padding, PAD_PSS);
}

/* "format": "cms", and "timestamp" with it. */
static void test_valid_cms(void **state)
{
	struct sign_request req;

	expect_ok_obj(valid(0), &req);
	assert_int_equal(req.format, FORMAT_RAW);
	assert_int_equal(req.timestamp, 0);
	expect_ok_obj(with(valid(0), "format", json_string("raw")), &req);
	assert_int_equal(req.format, FORMAT_RAW);
	expect_ok_obj(with(valid(1), "format", json_string("cms")), &req);
	assert_int_equal(req.format, FORMAT_CMS);
	assert_int_equal(req.hash_alg, HASH_SHA384);
	assert_int_equal(req.timestamp, 0);
	expect_ok_obj(with(with(valid(2), "format", json_string("cms")), "timestamp", json_true()),
		      &req);
	assert_int_equal(req.format, FORMAT_CMS);
	assert_int_equal(req.timestamp, 1);
	expect_ok_obj(with(with(with(valid(0), "format", json_string("cms")), "timestamp",
				json_false()), "padding", json_string("pss")), &req);
	assert_int_equal(req.timestamp, 0);
	assert_int_equal(req.padding, PAD_PSS);
	/* false is allowed with raw: nothing to add */
	expect_ok_obj(with(valid(0), "timestamp", json_false()), &req);
	assert_int_equal(req.format, FORMAT_RAW);
}

static void test_timestamp_errors(void **state)
{
	json_t *values[] = {
		json_string("true"), json_integer(1), json_integer(0), json_null(), json_object(),
		json_array(), json_real(1.0), json_string(""),
	};
	size_t i;

	/* only CMS signatures carry a timestamp */
	expect_obj_error(with(valid(0), "timestamp", json_true()), "invalid_value", "timestamp");
	expect_obj_error(with(with(valid(0), "format", json_string("raw")), "timestamp", json_true()),
			 "invalid_value", "timestamp");
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		expect_obj_error(with(with(valid(0), "format", json_string("cms")), "timestamp",
				      values[i]), "invalid_type", "timestamp");
	expect_obj_error(with(valid(0), "format", json_string("CMS")), "invalid_value", "format");
	expect_obj_error(with(valid(0), "format", json_string("cms ")), "invalid_value", "format");
	expect_obj_error(with(valid(0), "format", json_string("pkcs7")), "invalid_value", "format");
}

/* "profile": cades (the default) or pades, with format cms only. */
static void test_profile(void **state)
{
	struct sign_request req;

	expect_ok_obj(with(valid(0), "format", json_string("cms")), &req);
	assert_int_equal(req.profile, PROFILE_CADES);
	expect_ok_obj(with(with(valid(0), "format", json_string("cms")), "profile",
			   json_string("cades")), &req);
	assert_int_equal(req.profile, PROFILE_CADES);
	expect_ok_obj(with(with(with(valid(1), "format", json_string("cms")), "profile",
				json_string("pades")), "timestamp", json_true()), &req);
	assert_int_equal(req.profile, PROFILE_PADES);
	assert_int_equal(req.timestamp, 1);
	expect_obj_error(with(valid(0), "profile", json_string("pades")), "invalid_value", "profile");
	expect_obj_error(with(with(valid(0), "format", json_string("cms")), "profile",
			      json_string("PAdES")), "invalid_value", "profile");
	expect_obj_error(with(with(valid(0), "format", json_string("cms")), "profile",
			      json_integer(1)), "invalid_type", "profile");
}

static void test_certificate_lowercased(void **state)
{
	struct sign_request req;

	expect_ok_obj(with(valid(0), "certificate", json_string(CERT_UPPER)), &req);
	assert_string_equal(req.certificate, CERT);
	expect_ok_obj(with(valid(0), "certificate",
			   json_string("0123456789AbCdEf0123456789aBcDeF0123456789ABCdef0123456789abcDEF")),
		      &req);
	assert_string_equal(req.certificate, CERT);
	assert_int_equal(strlen(req.certificate), 64);
}

/* A batch with description desc (NULL: none) and one item whose id is id;
 * returns batch_request_parse's result and the error code in code. */
static int parse_batch(const char *desc, const char *id, char *code, size_t codelen)
{
	struct batch_request req;
	struct kyso_reply rep = { 0 };
	json_t *root, *item;
	char *hash = b64_of_len(32), *body;
	int rc;

	item = json_pack("{s:s, s:s}", "id", id, "hash", hash);
	root = json_pack("{s:s, s:s, s:[o]}", "certificate", CERT, "hash_algorithm", "sha256",
			 "items", item);
	assert_non_null(root);
	if (desc)
		json_object_set_new(root, "description", json_string(desc));
	body = json_dumps(root, JSON_COMPACT);
	rc = batch_request_parse(body, strlen(body), 10, &req, &rep);
	snprintf(code, codelen, "%s", rc ? json_string_value(json_object_get(
		json_object_get(rep.body, "error"), "code")) : "");
	if (!rc)
		batch_request_free(&req);
	kyso_reply_clear(&rep);
	free(body);
	free(hash);
	json_decref(root);
	return rc;
}

/* s repeated n times */
static char *repeat(const char *s, size_t n)
{
	char *out = malloc(strlen(s) * n + 1);
	size_t i;

	assert_non_null(out);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(out, s);
	return out;
}

static void test_batch_limits_in_characters(void **state)
{
	char code[64], *desc300 = repeat("Điểm ", 60), *desc301 = repeat("ệ", 301);
	char *id256 = repeat("Đức", 256 / 3), *id256b, *id257 = repeat("ữ", 257);

	assert_int_equal(kyso_utf8_chars("Bảng điểm", strlen("Bảng điểm")), 9);
	assert_int_equal(kyso_utf8_chars("\xf0\x9f\x93\x9d", 4), 1);
	id256b = malloc(strlen(id256) + 2);
	assert_non_null(id256b);
	sprintf(id256b, "%s%c", id256, 'x');	/* 255 + 1 characters */
	assert_true(strlen(desc300) > 300);
	assert_int_equal(parse_batch(desc300, "a", code, sizeof(code)), 0);
	assert_int_equal(parse_batch(desc301, "a", code, sizeof(code)), -1);
	assert_string_equal(code, "invalid_value");
	assert_int_equal(parse_batch(NULL, id256b, code, sizeof(code)), 0);
	assert_int_equal(parse_batch(NULL, id257, code, sizeof(code)), -1);
	assert_string_equal(code, "invalid_value");
	free(desc300);
	free(desc301);
	free(id256);
	free(id256b);
	free(id257);
}

static void test_whitespace_and_order(void **state)
{
	struct sign_request req;
	struct kyso_reply rep = { 0 };
	char *hash = b64_of_len(32), body[512];

	snprintf(body, sizeof(body),
		 " \n\t{ \"hash_algorithm\" : \"sha256\" ,\r\n \"hash\":\"%s\",\"certificate\":\"%s\" } \n",
		 hash, CERT);
	assert_int_equal(sign_request_parse(body, strlen(body), &req, &rep), 0);
	assert_int_equal(req.hash_len, 32);
	assert_null(rep.body);
	free(hash);
}

/* Only len bytes are read: what follows in memory does not count. */
static void test_length_is_honoured(void **state)
{
	struct sign_request req;
	struct kyso_reply rep = { 0 };
	json_t *o = valid(0);
	char *text = json_dumps(o, JSON_COMPACT), *body;
	size_t len = strlen(text);

	body = malloc(len + 16);
	assert_non_null(body);
	memcpy(body, text, len);
	memcpy(body + len, "garbage, garbage", 16);	/* not NUL-terminated */
	assert_int_equal(sign_request_parse(body, len, &req, &rep), 0);
	assert_int_equal(req.hash_len, 32);
	/* and the same body one byte short is broken JSON */
	expect_error_len(body, len - 1, "bad_request", NO_FIELD);
	free(body);
	free(text);
	json_decref(o);
}

/* ------------------------------------------------------------ refused */

static void test_empty_body(void **state)
{
	expect_error_len("", 0, "bad_request", NO_FIELD);
	expect_error_len(NULL, 0, "bad_request", NO_FIELD);
	expect_error(" ", "bad_request", NO_FIELD);
	expect_error("\n", "bad_request", NO_FIELD);
}

static void test_malformed_json(void **state)
{
	static const char *const bodies[] = {
		"{",
		"}",
		"{\"certificate\":}",
		"{\"certificate\":\"" CERT "\",}",
		"{'certificate':'x'}",
		"{certificate:\"x\"}",
		"{\"a\":1} {\"b\":2}",
		"{\"a\":1} trailing",
		"{\"a\":1}}",
		"{\"a\":01}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"bad escape \\q\"}",
		"{\"a\":\"\\ud800\"}",	/* lone surrogate */
		"{\"a\":\"\xff\"}",	/* not UTF-8 */
		"{\"a\":\"\xc0\x80\"}",	/* overlong */
		"{\"a\":\"tab\tin string\"}",
		"{\"a\":NaN}",
		"\xef\xbb\xbf{}",	/* byte order mark */
		"{\"a\":1}\x01",
	};
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_error(bodies[i], "bad_request", NO_FIELD);
	/* a raw NUL byte inside and after the JSON */
	expect_error_len("{\"a\":\"x\0y\"}", 11, "bad_request", NO_FIELD);
	expect_error_len("{}\0", 3, "bad_request", NO_FIELD);
}

static void test_not_an_object(void **state)
{
	static const char *const bodies[] = {
		"[]", "[{}]", "[\"" CERT "\"]", "\"string\"", "\"\"", "42", "-1.5", "null", "true",
		"false",
	};
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_error(bodies[i], "bad_request", NO_FIELD);
}

static void test_duplicate_keys(void **state)
{
	char *hash = b64_of_len(32), body[512];

	snprintf(body, sizeof(body),
		 "{\"certificate\":\"%s\",\"certificate\":\"%s\",\"hash\":\"%s\",\"hash_algorithm\":\"sha256\"}",
		 CERT, CERT, hash);
	expect_error(body, "bad_request", NO_FIELD);
	snprintf(body, sizeof(body),
		 "{\"certificate\":\"%s\",\"hash\":\"%s\",\"hash_algorithm\":\"sha256\",\"hash_algorithm\":\"sha512\"}",
		 CERT, hash);
	expect_error(body, "bad_request", NO_FIELD);
	snprintf(body, sizeof(body),
		 "{\"certificate\":\"%s\",\"hash\":\"%s\",\"hash_algorithm\":\"sha256\",\"x\":1,\"x\":1}",
		 CERT, hash);
	expect_error(body, "bad_request", NO_FIELD);
	free(hash);
}

static void test_unknown_field(void **state)
{
	expect_obj_error(with(valid(0), "extra", json_integer(1)), "unknown_field", "extra");
	expect_obj_error(with(valid(0), "Certificate", json_string(CERT)), "unknown_field",
			 "Certificate");
	expect_obj_error(with(valid(0), "pin", json_string("1234")), "unknown_field", "pin");
	expect_obj_error(with(valid(0), "", json_null()), "unknown_field", "");
	expect_obj_error(with(valid(0), "caf\xc3\xa9", json_true()), "unknown_field",
			 "caf\xc3\xa9");
	/* an unknown field is reported even when required ones are missing */
	expect_obj_error(json_pack("{s:i}", "foo", 1), "unknown_field", "foo");
}

static void test_unknown_field_name_lengths(void **state)
{
	char name[80];
	struct kyso_reply rep = { 0 };
	struct sign_request req;
	json_t *o;
	char *body;

	/* up to 64 bytes the name is given back in "field" */
	memset(name, 'k', 64);
	name[64] = '\0';
	expect_obj_error(with(valid(0), name, json_integer(1)), "unknown_field", name);
	/* longer: only in the (shortened) message */
	memset(name, 'k', 65);
	name[65] = '\0';
	o = with(valid(0), name, json_integer(1));
	body = json_dumps(o, JSON_COMPACT);
	assert_int_equal(sign_request_parse(body, strlen(body), &req, &rep), -1);
	assert_string_equal(error_code(&rep), "unknown_field");
	assert_null(error_field(&rep));
	kyso_reply_clear(&rep);
	free(body);
	json_decref(o);
}

/* A 1 MB key: refused, and the reply is still valid JSON of a sane size. */
static void test_huge_field_name(void **state)
{
	static const char *const units[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	size_t u;

	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ulen = strlen(units[u]), n = (1u << 20) / ulen, i, o = 0;
		char *key = malloc(n * ulen + 1), *body, *dump;
		struct kyso_reply rep = { 0 };
		struct sign_request req;
		json_t *obj;

		assert_non_null(key);
		for (i = 0; i < n; i++, o += ulen)
			memcpy(key + o, units[u], ulen);
		key[o] = '\0';
		obj = with(valid(0), key, json_integer(1));
		body = json_dumps(obj, JSON_COMPACT);
		assert_non_null(body);
		assert_int_equal(sign_request_parse(body, strlen(body), &req, &rep), -1);
		assert_int_equal(rep.status, 400);
		assert_string_equal(error_code(&rep), "unknown_field");
		assert_null(error_field(&rep));
		dump = json_dumps(rep.body, JSON_COMPACT);
		assert_non_null(dump);
		assert_true(strlen(dump) < 2048);
		free(dump);
		kyso_reply_clear(&rep);
		free(body);
		free(key);
		json_decref(obj);
	}
}

static void test_missing_fields(void **state)
{
	static const char *const required[] = { "certificate", "hash", "hash_algorithm" };
	size_t i;

	for (i = 0; i < 3; i++)
		expect_obj_error(without(valid(0), required[i]), "missing_field", required[i]);
	expect_error("{}", "missing_field", "certificate");
	expect_obj_error(json_pack("{s:s}", "padding", "pss"), "missing_field", "certificate");
}

static void test_wrong_types(void **state)
{
	static const char *const fields[] = {
		"certificate", "hash", "hash_algorithm", "padding", "format",
	};
	size_t f, v;

	for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		json_t *values[] = {
			json_integer(1), json_integer(0), json_real(2.5), json_true(), json_false(),
			json_null(), json_object(), json_array(),
			json_pack("[s]", "sha256"), json_pack("{s:s}", "value", CERT),
		};

		for (v = 0; v < sizeof(values) / sizeof(values[0]); v++)
			expect_obj_error(with(valid(0), fields[f], values[v]), "invalid_type",
					 fields[f]);
	}
}

static void test_invalid_certificate(void **state)
{
	static const char *const ids[] = {
		"",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",	/* 63 */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",	/* 65 */
		"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
		"0123456789abcdef0123456789abcdef 123456789abcdef0123456789abcdef",
		" 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde ",
		"0x23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcdef",				/* a token id */
		"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\xc3\xa9",
	};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		expect_obj_error(with(valid(0), "certificate", json_string(ids[i])), "invalid_value",
				 "certificate");
}

static void test_invalid_enums(void **state)
{
	static const char *const algs[] = {
		"sha1", "md5", "SHA256", "Sha256", "sha-256", "sha256 ", " sha256", "", "sha224",
		"sha3-256", "sha2566",
	};
	static const char *const pads[] = { "PKCS1", "pkcs1v15", "oaep", "", "none", "pss ", "PSS" };
	static const char *const fmts[] = { "der", "RAW", "", "base64", "raw " };
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		expect_obj_error(with(valid(0), "hash_algorithm", json_string(algs[i])),
				 "invalid_value", "hash_algorithm");
	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++)
		expect_obj_error(with(valid(0), "padding", json_string(pads[i])), "invalid_value",
				 "padding");
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		expect_obj_error(with(valid(0), "format", json_string(fmts[i])), "invalid_value",
				 "format");
}

static void test_bad_base64(void **state)
{
	char *good = b64_of_len(32);	/* 44 chars, ending in one '=' */
	char bad[128];
	size_t i;
	static const char *const fixed[] = {
		"!!!!",
		"AAA",
		"AA=A",
		"====",
		"A===",
		"AAAA=",
		"AAAAAAA",
		"AAAA AAA",
		"AA-_",
	};

	assert_int_equal(strlen(good), 44);
	assert_int_equal(good[43], '=');
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		expect_obj_error(with(valid(0), "hash", json_string(fixed[i])), "hash_encoding",
				 "hash");

	/* variants of a correct 32-byte hash */
	snprintf(bad, sizeof(bad), "%.43s", good);		/* padding dropped */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s=", good);		/* padding doubled */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s", good);
	bad[10] = '*';						/* bad char */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s", good);
	bad[10] = '=';						/* '=' inside */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s", good);
	bad[20] = ' ';						/* space, same length */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%.20s\n%s", good, good + 20);	/* line break */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%.20s\r\n%s", good, good + 20);
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s\n", good);		/* trailing newline */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), " %.43s", good);		/* leading space */
	expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	snprintf(bad, sizeof(bad), "%s", good);
	for (i = 0; bad[i]; i++) {				/* base64url */
		if (bad[i] == '+')
			bad[i] = '-';
		else if (bad[i] == '/')
			bad[i] = '_';
	}
	if (strcmp(bad, good))
		expect_obj_error(with(valid(0), "hash", json_string(bad)), "hash_encoding", "hash");
	/* a hex digest instead of base64: 64 hex chars are base64 of 48 bytes */
	expect_obj_error(with(valid(0), "hash", json_string(CERT)), "hash_length", "hash");
	free(good);
}

static void test_wrong_hash_length(void **state)
{
	size_t a, i;

	for (a = 0; a < 3; a++) {
		size_t lens[] = { alg_lens[a] - 1, alg_lens[a] + 1, 0, 1, 16, 65, 100, 1000, 3000 };

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			expect_obj_error(with_hash_len(valid(a), lens[i]), "hash_length", "hash");
		/* the other algorithms' lengths */
		for (i = 0; i < 3; i++)
			if (i != a)
				expect_obj_error(with_hash_len(valid(a), alg_lens[i]), "hash_length",
						 "hash");
	}
}

/* A hash far over 64 bytes: still hash_length, and its bytes are not kept. */
static void test_huge_hash(void **state)
{
	size_t len = 600000, i;
	char *h = malloc(len + 1);

	assert_non_null(h);
	for (i = 0; i < len; i++)
		h[i] = "ABCD"[i % 4];
	h[len] = '\0';
	expect_obj_error(with(valid(0), "hash", json_string(h)), "hash_length", "hash");
	h[len / 2] = '#';
	expect_obj_error(with(valid(0), "hash", json_string(h)), "hash_encoding", "hash");
	expect_obj_error(with(valid(0), "certificate", json_string(h)), "invalid_value",
			 "certificate");
	expect_obj_error(with(valid(0), "hash_algorithm", json_string(h)), "invalid_value",
			 "hash_algorithm");
	free(h);
}

/* An embedded NUL (\u0000) is refused in every string, not cut short. */
static void test_embedded_nul(void **state)
{
	static const char *const bodies[] = {
		"{\"certificate\":\"" CERT "\\u0000\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\\u0000AAAA\",\"hash_algorithm\":\"sha256\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\\u0000x\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\","
		"\"padding\":\"pss\\u0000\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\","
		"\"format\":\"raw\\u0000der\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\","
		"\"format\\u0000\":\"raw\"}",
		"{\"certificate\":\"" CERT "\",\"hash\":\"@\",\"hash_algorithm\":\"sha256\","
		"\"\\u0000\":1}",
	};
	char *hash = b64_of_len(32), body[512];
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const char *at = strchr(bodies[i], '@');

		/* '@' stands for a correct hash */
		snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - bodies[i]), bodies[i], hash,
			 at + 1);
		expect_error(body, "bad_request", NO_FIELD);
	}
	free(hash);
}

static void test_deeply_nested(void **state)
{
	size_t depth = 200000, i;
	char *body = malloc(2 * depth + 64), *p;

	assert_non_null(body);
	/* [[[[...]]]] */
	memset(body, '[', depth);
	memset(body + depth, ']', depth);
	expect_error_len(body, 2 * depth, "bad_request", NO_FIELD);
	/* {"a":{"a":...}} */
	p = body;
	for (i = 0; i < depth / 8; i++)
		p += sprintf(p, "{\"a\":");
	memcpy(p, "1", 1);
	p++;
	for (i = 0; i < depth / 8; i++)
		*p++ = '}';
	expect_error_len(body, (size_t)(p - body), "bad_request", NO_FIELD);
	/* deep inside a known field: too deep to parse */
	p = body + sprintf(body, "{\"certificate\":");
	memset(p, '[', depth / 2);
	memset(p + depth / 2, ']', depth / 2);
	p += depth;
	*p++ = '}';
	expect_error_len(body, (size_t)(p - body), "bad_request", NO_FIELD);
	/* shallow enough to parse: a wrong type */
	p = body + sprintf(body, "{\"certificate\":");
	memset(p, '[', 50);
	memset(p + 50, ']', 50);
	p += 100;
	*p++ = '}';
	expect_error_len(body, (size_t)(p - body), "invalid_type", "certificate");
	free(body);
}

static void test_parse_object(void **state)
{
	struct kyso_reply rep = { 0 };
	json_t *o;

	o = parse_object("{\"token\":\"x\"}", 13, &rep);
	assert_non_null(o);
	assert_null(rep.body);
	assert_string_equal(json_string_value(json_object_get(o, "token")), "x");
	json_decref(o);
	o = parse_object("{}", 2, &rep);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);

	assert_null(parse_object("[]", 2, &rep));
	assert_int_equal(rep.status, 400);
	assert_string_equal(error_code(&rep), "bad_request");
	assert_null(parse_object("", 0, &rep));
	assert_string_equal(error_code(&rep), "bad_request");
	assert_null(parse_object("{\"a\":1,\"a\":2}", 13, &rep));
	assert_string_equal(error_code(&rep), "bad_request");
	kyso_reply_clear(&rep);
	assert_null(rep.body);
}

/* The values of a body are counted before a tree is built: a body of many
 * small values is refused whatever its size in bytes. */
static void test_values_bound(void **state)
{
	struct kyso_reply rep = { 0 };
	size_t n = 5000, i, len;
	char *body = malloc(6 * n + 64), *p;
	json_t *o;

	assert_non_null(body);
	/* {"a":[1,1,...]}: n + 2 values */
	p = body + sprintf(body, "{\"a\":[");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s1", i ? "," : "");
	p += sprintf(p, "]}");
	len = (size_t)(p - body);
	assert_null(field_parse_object(body, len, &rep));
	assert_string_equal(error_code(&rep), "bad_request");
	kyso_reply_clear(&rep);
	o = field_parse_object_max(body, len, n + 2, &rep);
	assert_non_null(o);
	json_decref(o);
	assert_null(field_parse_object_max(body, len, n + 1, &rep));
	assert_string_equal(error_code(&rep), "bad_request");
	kyso_reply_clear(&rep);
	/* commas, brackets and escaped quotes inside strings are not values */
	p = body + sprintf(body, "{\"a\":\"");
	for (i = 0; i < n; i++)
		p += sprintf(p, ",{[\\\"");
	p += sprintf(p, "\",\"b\":[1,2]}");
	len = (size_t)(p - body);
	o = field_parse_object_max(body, len, 5, &rep);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "b")), 2);
	json_decref(o);
	assert_null(field_parse_object_max(body, len, 4, &rep));
	kyso_reply_clear(&rep);
	free(body);
}

/* ------------------------------------------------------------ replies */

static void test_reply_error_status(void **state)
{
	static const struct {
		enum kyso_err e;
		const char *code;
		unsigned int status;
	} codes[] = {
		{ KE_BAD_REQUEST, "bad_request", 400 }, { KE_FORBIDDEN, "forbidden", 403 },
		{ KE_NOT_FOUND, "not_found", 404 }, { KE_METHOD_NOT_ALLOWED, "method_not_allowed", 405 },
		{ KE_REQUEST_TIMEOUT, "request_timeout", 408 },
		{ KE_TOKEN_NOT_PRESENT, "token_not_present", 409 },
		{ KE_BODY_TOO_LARGE, "body_too_large", 413 },
		{ KE_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415 },
		{ KE_CERTIFICATE_REVOKED, "certificate_revoked", 422 }, { KE_PIN_LOCKED, "pin_locked", 423 },
		{ KE_INTERNAL_ERROR, "internal_error", 500 }, { KE_REVOCATION_UNKNOWN, "revocation_unknown", 502 },
		{ KE_SHUTTING_DOWN, "shutting_down", 503 }, { KE_MODULE_TIMEOUT, "module_timeout", 504 },
	};
	struct kyso_reply rep = { 0 };
	enum kyso_err e;
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		kyso_reply_error(&rep, codes[i].e, "message %zu", i);
		assert_int_equal(rep.status, codes[i].status);
		assert_string_equal(error_code(&rep), codes[i].code);
		assert_int_equal(kyso_reply_err(&rep), codes[i].e);
	}
	/* every code of the table: its status and code come back, and it is found by name */
	for (i = 0; i < KE__COUNT; i++) {
		kyso_reply_error(&rep, (enum kyso_err)i, NULL);
		assert_int_equal(rep.status, kyso_err_status((enum kyso_err)i));
		assert_string_equal(error_code(&rep), kyso_err_code((enum kyso_err)i));
		assert_string_equal(error_message(&rep), kyso_err_message((enum kyso_err)i));
		assert_int_equal(kyso_err_lookup(kyso_err_code((enum kyso_err)i), &e), 0);
		assert_int_equal(e, (enum kyso_err)i);
		assert_true(rep.status >= 400 && rep.status < 600);
	}
	assert_int_equal(kyso_error_status("no_such_code"), 500);
	assert_int_equal(kyso_err_lookup("no_such_code", &e), -1);
	/* a helper's code the API does not know becomes token_error */
	assert_int_equal(kyso_err_from_helper("pin_required"), KE_TOKEN_ERROR);
	assert_int_equal(kyso_err_from_helper(NULL), KE_TOKEN_ERROR);
	assert_int_equal(kyso_err_from_helper("pin_incorrect"), KE_PIN_INCORRECT);
	kyso_reply_error(&rep, KE_MODULE_TIMEOUT, "message %d", 24);
	assert_string_equal(error_message(&rep), "message 24");
	/* members added to the error object */
	kyso_reply_error_set(&rep, "field", json_string("hash"));
	assert_string_equal(error_field(&rep), "hash");
	/* a 200 answer replaces the error, and has no error object to add to */
	kyso_reply_ok(&rep, 200, json_pack("{s:i}", "n", 1));
	assert_int_equal(rep.status, 200);
	kyso_reply_error_set(&rep, "field", json_string("x"));
	assert_null(json_object_get(rep.body, "error"));
	assert_null(json_object_get(rep.body, "field"));
	kyso_reply_clear(&rep);
	assert_null(rep.body);
	assert_int_equal(rep.status, 0);
}

/* A message cut at the buffer's end in the middle of a character still makes
 * valid JSON: the partial character is dropped. */
static void test_reply_message_cut_mid_character(void **state)
{
	static const char *const units[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	size_t u, shift;

	for (u = 0; u < 3; u++) {
		for (shift = 0; shift < 4; shift++) {
			size_t ulen = strlen(units[u]), i, mlen;
			char msg[4096], *dump;
			struct kyso_reply rep = { 0 };
			const char *m;

			memset(msg, 'a', shift);
			for (i = 0; i < 600; i++)
				memcpy(msg + shift + i * ulen, units[u], ulen);
			msg[shift + 600 * ulen] = '\0';
			kyso_reply_error(&rep, KE_BAD_REQUEST, "%s", msg);
			assert_non_null(rep.body);
			dump = json_dumps(rep.body, 0);
			assert_non_null(dump);
			free(dump);
			m = error_message(&rep);
			assert_non_null(m);
			mlen = strlen(m);
			/* shortened to whole characters only, close to the 511-byte limit */
			assert_true(mlen <= 511);
			assert_true(mlen > 511 - ulen);
			assert_int_equal((mlen - shift) % ulen, 0);
			assert_memory_equal(m, msg, mlen);
			kyso_reply_clear(&rep);
		}
	}
}

/* Whatever bytes a message is given, the reply is valid JSON. */
static void test_reply_message_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"abc\xff" "def",		/* never valid */
		"abc\xc3" "(def",		/* lead byte without continuation */
		"abc\x80" "def",		/* stray continuation */
		"abc\xe2\x82",			/* cut at the end */
		"abc\xc0\x80" "def",		/* overlong NUL */
		"abc\xc1\xbf" "def",		/* overlong */
		"abc\xe0\x80\xaf" "def",	/* overlong '/' */
		"abc\xed\xa0\x80" "def",	/* UTF-16 surrogate */
		"abc\xf4\x90\x80\x80" "def",	/* past U+10FFFF */
		"abc\xf5\x80\x80\x80" "def",
		"abc\xf8\x88\x80\x80\x80" "def",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kyso_reply rep = { 0 };
		const char *m;

		kyso_reply_error(&rep, KE_CERTIFICATE_NOT_FOUND, "no certificate with id %.64s",
				 bad[i]);
		if (!rep.body)
			fail_msg("no reply body for message bytes #%zu", i);
		assert_int_equal(rep.status, 404);
		m = error_message(&rep);
		assert_non_null(m);
		assert_memory_equal(m, "no certificate with id abc", 26);
		kyso_reply_clear(&rep);
	}
}

/* ------------------------------------------------------------ pinentry */

static void test_pinentry_escape(void **state)
{
	char out[256];

	pinentry_escape("Please enter the PIN", out, sizeof(out));
	assert_string_equal(out, "Please enter the PIN");
	pinentry_escape("100% sure", out, sizeof(out));
	assert_string_equal(out, "100%25 sure");
	pinentry_escape("line one\nline two\r\n", out, sizeof(out));
	assert_string_equal(out, "line one%0Aline two%0D%0A");
	pinentry_escape("tab\there\x01\x1f", out, sizeof(out));
	assert_string_equal(out, "tab%09here%01%1F");
	/* UTF-8 is kept as it is */
	pinentry_escape("Carte \xc3\xa0 puce \xe2\x82\xac \xf0\x9f\x94\x91", out, sizeof(out));
	assert_string_equal(out, "Carte \xc3\xa0 puce \xe2\x82\xac \xf0\x9f\x94\x91");
	pinentry_escape("", out, sizeof(out));
	assert_string_equal(out, "");
	/* an Assuan command cannot be smuggled in through a newline */
	pinentry_escape("label\nGETPIN", out, sizeof(out));
	assert_null(strchr(out, '\n'));
}

static void test_pinentry_escape_truncation(void **state)
{
	char src[1024], out[64];
	size_t len, i;

	memset(src, 'x', sizeof(src) - 1);
	src[sizeof(src) - 1] = '\0';
	for (len = 1; len <= sizeof(out); len++) {
		memset(out, '#', sizeof(out));
		pinentry_escape(src, out, len);
		assert_true(strlen(out) < len);
		for (i = len; i < sizeof(out); i++)
			assert_int_equal(out[i], '#');	/* nothing written past outlen */
	}
	/* escapes near the end are never split */
	memset(src, '%', 300);
	src[300] = '\0';
	for (len = 1; len <= sizeof(out); len++) {
		memset(out, '#', sizeof(out));
		pinentry_escape(src, out, len);
		assert_true(strlen(out) < len);
		assert_int_equal(strlen(out) % 3, 0);
		for (i = 0; out[i]; i += 3)
			assert_memory_equal(out + i, "%25", 3);
		for (i = len; i < sizeof(out); i++)
			assert_int_equal(out[i], '#');
	}
	/* mixed */
	snprintf(src, sizeof(src), "%s", "a\nb%c\rd");
	for (len = 1; len <= 16; len++) {
		memset(out, '#', sizeof(out));
		pinentry_escape(src, out, len);
		assert_true(strlen(out) < len);
		assert_int_equal(strncmp(out, "a%0Ab%25c%0Dd", strlen(out)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_each_algorithm),
		cmocka_unit_test(test_valid_paddings),
		cmocka_unit_test(test_valid_format),
		cmocka_unit_test(test_valid_cms),
		cmocka_unit_test(test_timestamp_errors),
		cmocka_unit_test(test_certificate_lowercased),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_batch_limits_in_characters),
		cmocka_unit_test(test_whitespace_and_order),
		cmocka_unit_test(test_length_is_honoured),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_unknown_field_name_lengths),
		cmocka_unit_test(test_huge_field_name),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_invalid_certificate),
		cmocka_unit_test(test_invalid_enums),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_wrong_hash_length),
		cmocka_unit_test(test_huge_hash),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_deeply_nested),
		cmocka_unit_test(test_parse_object),
		cmocka_unit_test(test_values_bound),
		cmocka_unit_test(test_reply_error_status),
		cmocka_unit_test(test_reply_message_cut_mid_character),
		cmocka_unit_test(test_reply_message_invalid_utf8),
		cmocka_unit_test(test_pinentry_escape),
		cmocka_unit_test(test_pinentry_escape_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
