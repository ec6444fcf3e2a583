/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin batch: the steps of one row on one token.  Each step is first
 * written to the report as begun, then done, then written with its result,
 * and each is safe to repeat after a batch killed in its middle:
 *  - init: a token already initialised with the row's label is taken as
 *    done (and a token that lost its way to the report, initialised by a
 *    run killed in the dialog, is found by that label);
 *  - keygen: not repeated when the token has a key with the row's key_id
 *    (or, without one, the row's key label);
 *  - csr: not repeated when the request file is there and its signature
 *    checks (files are written whole or not at all);
 *  - import: not repeated when the token holds the certificate (kysod
 *    answers object_exists before any dialog);
 *  - PIN changes leave nothing to see on the token: one begun and not
 *    finished is reported (outcome_unknown), never repeated by itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "cmd-admin-batch.h"
#include "output.h"

#define CERT_FILE_MAX (256u << 10)
#define SHORT_ID 12

/* What one step came to. */
struct step_result {
	const char *result;		/* "ok", "present", "waiting", or an error code */
	char code[64];
	char message[256];
	json_t *extra;			/* members for the step's report entry (owned) */
};

void batch_put(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

int batch_request(struct kyso_ctx *ctx, const char *method, const char *path, json_t *body,
		  json_t **answer, char *code, char *msg)
{
	const struct kyso_error *err;
	char *req = NULL, *text = NULL;
	int rc;

	*answer = NULL;
	code[0] = msg[0] = '\0';
	if (body) {
		req = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!req) {
			snprintf(code, 64, "internal_error");
			snprintf(msg, 256, "out of memory");
			return -1;
		}
	}
	rc = kyso_request(ctx->client, method, path, req, NULL, &text);
	free(req);
	if (text)
		*answer = json_loads(text, 0, NULL);
	kyso_free(text);
	if (rc) {
		err = kyso_client_last_error(ctx->client);
		snprintf(code, 64, "%s", err->code);
		snprintf(msg, 256, "%s", err->message);
		return -1;
	}
	if (!*answer) {
		snprintf(code, 64, "protocol_error");
		snprintf(msg, 256, "kysod's answer to %s is not JSON", path);
		return -1;
	}
	return 0;
}

/* The token's object in GET /v1/admin/tokens (a new reference), or NULL with code and msg. */
static json_t *fetch_token(struct batch_run *run, const char *id, char *code, char *msg)
{
	json_t *root = NULL, *t, *found = NULL;
	size_t i;

	if (batch_request(run->ctx, "GET", "/v1/admin/tokens", NULL, &root, code, msg))
		goto out;
	json_array_foreach(json_object_get(root, "tokens"), i, t)
		if (!strcmp(cmd_str(t, "id") ?: "", id)) {
			found = json_incref(t);
			break;
		}
	if (!found) {
		snprintf(code, 64, "token_removed");
		snprintf(msg, 256, "the token is not there any more");
	}
out:
	json_decref(root);
	return found;
}

/* The step failed with code and msg (which may be res's own). */
static int fail_with(struct step_result *res, const char *code, const char *msg)
{
	if (code != res->code)
		snprintf(res->code, sizeof(res->code), "%s", code);
	if (msg != res->message)
		snprintf(res->message, sizeof(res->message), "%s", msg);
	res->result = res->code;
	return -1;
}

/* The file name a serial gives (letters, digits, . - _ kept; others '_'). */
static void serial_file(const char *serial, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%s", serial);
	for (i = 0; out[i]; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' && out[i] <= 'Z') ||
		      (out[i] >= '0' && out[i] <= '9') || out[i] == '-' || out[i] == '_' ||
		      (out[i] == '.' && i)))
			out[i] = '_';
}

/* ---------------------------------------------------------------- init */

/* The token initialised with label that the report does not know yet. */
static const json_t *orphan_by_label(struct batch_run *run, const json_t *tokens,
				     const char *label)
{
	const json_t *t;
	size_t i;

	json_array_foreach(tokens, i, t)
		if (json_is_true(json_object_get(t, "initialized")) &&
		    !strcmp(cmd_str(t, "label") ?: "", label) &&
		    !batch_report_by_serial(run->report, cmd_str(t, "serial")))
			return t;
	return NULL;
}

/* The token's serial and id after init, into the entry. */
static int take_identity(struct batch_run *run, json_t *e, const json_t *t,
			 struct step_result *res)
{
	const char *serial = cmd_str(t, "serial"), *id = cmd_str(t, "id");

	if (!serial || !*serial || !id)
		return fail_with(res, "token_error", "the token shows no serial once initialised: "
				 "the report cannot know it again");
	if (batch_report_by_serial(run->report, serial) != NULL &&
	    batch_report_by_serial(run->report, serial) != e)
		return fail_with(res, "token_error", "the token's serial is in the report for "
				 "another row already");
	json_object_set_new(e, "serial", json_string(serial));
	json_object_set_new(e, "token", json_string(id));
	return 0;
}

static int step_init(struct batch_run *run, const struct batch_row *row, json_t *e,
		     int was_running, struct step_result *res)
{
	const char *label = row->v[COL_LABEL], *token = cmd_str(e, "token");
	json_t *root = NULL, *ans = NULL, *tok = NULL;
	const json_t *t;
	int ret = -1;

	if (batch_request(run->ctx, "GET", "/v1/admin/tokens", NULL, &root, res->code,
			  res->message))
		return fail_with(res, res->code, res->message);
	/* a run killed in the dialog: kysod finished the init without us */
	if (was_running && !*cmd_str(e, "serial")) {
		t = orphan_by_label(run, json_object_get(root, "tokens"), label);
		if (t) {
			ret = take_identity(run, e, t, res);
			res->result = ret ? res->result : "present";
			goto out;
		}
	}
	tok = fetch_token(run, token, res->code, res->message);
	if (!tok) {
		fail_with(res, res->code, res->message);
		goto out;
	}
	if (json_is_true(json_object_get(tok, "initialized"))) {
		if (!strcmp(cmd_str(tok, "label") ?: "", label)) {
			res->result = "present";
			ret = take_identity(run, e, tok, res);
		} else {
			fail_with(res, "token_initialized", "the token is initialised already, with "
				  "another label: it is not a new token (wipe it first, or give its "
				  "serial to a row without init)");
		}
		goto out;
	}
	printf("  init \"");
	batch_put(label);
	printf("\": kysod asks for the new SO PIN (PUK), then the new user PIN, each twice\n");
	fflush(stdout);
	if (batch_request(run->ctx, "POST", "/v1/admin/init",
			  json_pack("{s:s, s:s}", "token", token, "label", label), &ans, res->code,
			  res->message)) {
		fail_with(res, res->code, res->message);
		goto out;
	}
	json_decref(tok);
	tok = fetch_token(run, cmd_str(ans, "token") ?: "", res->code, res->message);
	if (!tok) {
		fail_with(res, res->code, res->message);
		goto out;
	}
	res->result = "ok";
	ret = take_identity(run, e, tok, res);
out:
	json_decref(tok);
	json_decref(ans);
	json_decref(root);
	return ret;
}

/* ---------------------------------------------------------------- PINs */

static int step_pin(struct batch_run *run, enum batch_step s, json_t *e, int was_running,
		    struct step_result *res)
{
	static const struct {
		const char *path, *what;
		int so;
	} ops[] = {
		[STEP_SO_PIN_CHANGE] = { "/v1/admin/pin/change",
					 "the current SO PIN (PUK), then the new one twice", 1 },
		[STEP_PIN_UNBLOCK] = { "/v1/admin/pin/unblock",
				       "the SO PIN (PUK), then the new user PIN twice", 0 },
		[STEP_PIN_CHANGE] = { "/v1/admin/pin/change",
				      "the current user PIN, then the new one twice", 0 },
	};
	json_t *body, *ans = NULL;

	if (was_running)
		return fail_with(res, "outcome_unknown", "an earlier run was stopped in this step, "
				 "and whether the PIN was changed cannot be seen on the token: "
				 "check it by hand, then run the batch again with --checked and "
				 "the token's serial");
	printf("  %s: kysod asks for %s\n", batch_step_name(s), ops[s].what);
	fflush(stdout);
	body = json_pack("{s:s}", "token", cmd_str(e, "token"));
	if (ops[s].so)
		json_object_set_new(body, "so", json_true());
	if (batch_request(run->ctx, "POST", ops[s].path, body, &ans, res->code, res->message)) {
		json_decref(ans);
		return fail_with(res, res->code, res->message);
	}
	json_decref(ans);
	res->result = "ok";
	return 0;
}

/* ---------------------------------------------------------------- keys */

/* What keygen and import ask for: a PIV token driven by ykcs11 wants its
 * card management key (kysod says so in the inventory). */
static const char *secret_asked(const json_t *tok)
{
	return json_is_true(json_object_get(tok, "management_key")) ?
	       "the token's management key" : "the user PIN";
}

/* The key pair of the row on the token: by key_id when the row gives one, else by label. */
static const json_t *find_key(const struct batch_row *row, const json_t *tok)
{
	const char *want = row->v[COL_KEY_ID], *label = batch_row_key_label(row);
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(tok, "keys"), i, k) {
		if (want && !strcmp(cmd_str(k, "key_id") ?: "", want))
			return k;
		if (!want && label && !strcmp(cmd_str(k, "label") ?: "", label))
			return k;
	}
	return NULL;
}

static int step_keygen(struct batch_run *run, const struct batch_row *row, json_t *e,
		       struct step_result *res)
{
	const char *label = batch_row_key_label(row);
	json_t *tok, *body, *ans = NULL;
	const json_t *k;

	tok = fetch_token(run, cmd_str(e, "token"), res->code, res->message);
	if (!tok)
		return fail_with(res, res->code, res->message);
	k = find_key(row, tok);
	if (k) {
		json_object_set_new(e, "key_id", json_string(cmd_str(k, "key_id")));
		json_decref(tok);
		res->result = "present";
		return 0;
	}
	printf("  keygen %s \"", row->v[COL_KEY_TYPE]);
	batch_put(label);
	printf("\": kysod asks for %s\n", secret_asked(tok));
	fflush(stdout);
	json_decref(tok);
	body = json_pack("{s:s, s:s, s:s}", "token", cmd_str(e, "token"), "key_type",
			 row->v[COL_KEY_TYPE], "label", label);
	if (row->v[COL_KEY_ID])
		json_object_set_new(body, "key_id", json_string(row->v[COL_KEY_ID]));
	if (batch_request(run->ctx, "POST", "/v1/admin/keygen", body, &ans, res->code,
			  res->message)) {
		json_decref(ans);
		return fail_with(res, res->code, res->message);
	}
	json_object_set_new(e, "key_id", json_string(cmd_str(ans, "key_id") ?: ""));
	json_decref(ans);
	res->result = "ok";
	return 0;
}

/* ---------------------------------------------------------------- csr */

/* Whether path holds a certificate request whose signature checks. */
static int csr_good(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
	int good = pub && X509_REQ_verify(req, pub) == 1;

	X509_REQ_free(req);
	BIO_free(bio);
	return good;
}

static json_t *subject_of(const struct batch_row *row)
{
	static const struct {
		enum batch_col col;
		const char *key;
	} map[] = {
		{ COL_C, "C" }, { COL_ST, "ST" }, { COL_L, "L" }, { COL_O, "O" }, { COL_OU, "OU" },
		{ COL_TITLE, "title" }, { COL_CN, "CN" }, { COL_SERIAL_NUMBER, "serialNumber" },
		{ COL_UID, "UID" }, { COL_EMAIL, "emailAddress" },
	};
	json_t *subj = json_object();
	size_t i;

	for (i = 0; subj && i < sizeof(map) / sizeof(map[0]); i++)
		if (row->v[map[i].col])
			json_object_set_new(subj, map[i].key, json_string(row->v[map[i].col]));
	return subj;
}

static int step_csr(struct batch_run *run, const struct batch_row *row, json_t *e,
		    struct step_result *res)
{
	char name[80], *path = NULL;
	const char *key_id = cmd_str(e, "key_id"), *csr;
	json_t *tok, *body, *ans = NULL;
	const json_t *k;
	int ret = -1;

	serial_file(cmd_str(e, "serial"), name, sizeof(name));
	if (asprintf(&path, "%s/%s.csr", run->csr_dir, name) < 0)
		return fail_with(res, "internal_error", "out of memory");
	if (!access(path, F_OK) && csr_good(path)) {
		json_object_set_new(e, "csr_file", json_string(path));
		res->result = "present";
		ret = 0;
		goto out;
	}
	if (!key_id || !*key_id) {
		tok = fetch_token(run, cmd_str(e, "token"), res->code, res->message);
		if (!tok) {
			fail_with(res, res->code, res->message);
			goto out;
		}
		k = find_key(row, tok);
		if (k)
			json_object_set_new(e, "key_id", json_string(cmd_str(k, "key_id")));
		json_decref(tok);
		key_id = cmd_str(e, "key_id");
		if (!k) {
			fail_with(res, "object_not_found", "the token has no key pair for the request "
				  "(by the row's key_id, or its key label)");
			goto out;
		}
	}
	printf("  csr \"");
	batch_put(row->v[COL_CN]);
	printf("\": kysod asks for the user PIN\n");
	fflush(stdout);
	body = json_pack("{s:s, s:s, s:o}", "token", cmd_str(e, "token"), "key_id", key_id,
			 "subject", subject_of(row));
	if (row->v[COL_HASH_ALG])
		json_object_set_new(body, "hash_algorithm", json_string(row->v[COL_HASH_ALG]));
	if (batch_request(run->ctx, "POST", "/v1/admin/csr", body, &ans, res->code,
			  res->message)) {
		fail_with(res, res->code, res->message);
		goto out;
	}
	csr = cmd_str(ans, "csr");
	if (!csr || out_file_replace(path, csr, strlen(csr))) {
		snprintf(res->message, sizeof(res->message), "cannot write %s: %s", path,
			 csr ? strerror(errno) : "kysod's answer has no request");
		fail_with(res, "file_error", res->message);
		goto out;
	}
	json_object_set_new(e, "csr_file", json_string(path));
	res->result = "ok";
	ret = 0;
out:
	json_decref(ans);
	free(path);
	return ret;
}

/* ---------------------------------------------------------------- import */

/* The certificate file's text as the API takes it (PEM as it is, DER in
 * base64) and its id (SHA-256 of the DER, hex, 65 bytes). */
static json_t *cert_load(const char *path, char *id, struct step_result *res)
{
	char *data = NULL, *b64 = NULL;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	const unsigned char *p;
	unsigned int n = 0;
	size_t len = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	json_t *s = NULL;
	int dlen;

	if (cmd_read_file(0, path, CERT_FILE_MAX, &data, &len)) {
		fail_with(res, "file_error", "the certificate file cannot be read");
		goto out;
	}
	if (strstr(data, "-----BEGIN")) {
		bio = BIO_new_mem_buf(data, (int)len);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		s = x ? json_string(data) : NULL;
	} else {
		p = (const unsigned char *)data;
		x = d2i_X509(NULL, &p, (long)len);
		b64 = x ? kyso_b64_encode((const unsigned char *)data, len) : NULL;
		s = b64 ? json_string(b64) : NULL;
	}
	dlen = x ? i2d_X509(x, &der) : -1;
	if (!s || dlen <= 0 || !EVP_Digest(der, (size_t)dlen, md, &n, EVP_sha256(), NULL)) {
		json_decref(s);
		s = NULL;
		fail_with(res, "certificate_malformed", "the file is no certificate (PEM or DER)");
		goto out;
	}
	kyso_hex_encode(md, n, id);
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	free(b64);
	free(data);
	return s;
}

static int step_import(struct batch_run *run, const struct batch_row *row, json_t *e,
		       struct step_result *res)
{
	char name[80], id[65] = "", *path = NULL;
	const char *c = row->v[COL_CERTIFICATE];
	json_t *tok = NULL, *cert = NULL, *body, *ans = NULL;
	const json_t *o;
	size_t i;
	int ret = -1;

	serial_file(cmd_str(e, "serial"), name, sizeof(name));
	if ((c ? c[0] == '/' ? asprintf(&path, "%s", c) :
		 asprintf(&path, "%s/%s", run->manifest->dir, c) :
	     asprintf(&path, "%s/%s.pem", run->csr_dir, name)) < 0)
		return fail_with(res, "internal_error", "out of memory");
	json_object_set_new(e, "certificate_file", json_string(path));
	if (access(path, F_OK)) {
		res->result = "waiting";
		ret = 0;
		goto out;
	}
	cert = cert_load(path, id, res);
	if (!cert)
		goto out;
	tok = fetch_token(run, cmd_str(e, "token"), res->code, res->message);
	if (!tok) {
		fail_with(res, res->code, res->message);
		goto out;
	}
	json_array_foreach(json_object_get(tok, "certificates"), i, o)
		if (!strcmp(cmd_str(o, "id") ?: "", id)) {
			json_object_set_new(e, "certificate", json_string(id));
			res->result = "present";
			ret = 0;
			goto out;
		}
	printf("  import %s: kysod asks for %s\n", path, secret_asked(tok));
	fflush(stdout);
	body = json_pack("{s:s, s:O}", "token", cmd_str(e, "token"), "certificate", cert);
	if (run->chain)
		json_object_set(body, "chain", run->chain);
	if (batch_request(run->ctx, "POST", "/v1/admin/import", body, &ans, res->code,
			  res->message)) {
		if (strcmp(res->code, "object_exists")) {
			fail_with(res, res->code, res->message);
			goto out;
		}
		res->result = "present";
	} else {
		res->result = "ok";
	}
	json_object_set_new(e, "certificate", json_string(id));
	ret = 0;
out:
	json_decref(ans);
	json_decref(tok);
	json_decref(cert);
	free(path);
	return ret;
}

/* ---------------------------------------------------------------- the token's turn */

/* Errors after which the token is taken again when it comes back. */
static int gone_code(const char *code)
{
	static const char *const gone[] = {
		"token_removed", "token_not_present", "token_not_found", "module_crashed",
		"module_unavailable", "module_timeout", "shutting_down",
	};
	size_t i;

	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (!strcmp(code, gone[i]))
			return 1;
	return 0;
}

static void header(const struct batch_row *row, const json_t *tok, size_t nrows)
{
	printf("Row %zu of %zu (line %lu", row->index, nrows, row->line);
	if (row->v[COL_CN]) {
		printf(", ");
		batch_put(row->v[COL_CN]);
	}
	printf("): token ");
	batch_put(cmd_str(tok, "model") ?: "?");
	if (json_is_true(json_object_get(tok, "initialized"))) {
		printf(" \"");
		batch_put(cmd_str(tok, "label"));
		printf("\", serial ");
		batch_put(cmd_str(tok, "serial"));
	} else {
		printf(", not initialised");
	}
	printf(", id %.*s\n", SHORT_ID, cmd_str(tok, "id") ?: "?");
}

/* The step's line: "  keygen: ok, key 84f1…" */
static void step_line(enum batch_step s, const json_t *e, const struct step_result *res)
{
	printf("  %s: ", batch_step_name(s));
	if (!strcmp(res->result, "ok") || !strcmp(res->result, "present")) {
		printf("%s", !strcmp(res->result, "ok") ? "done" : "done already (found on the token)");
		if (s == STEP_INIT) {
			printf("; serial ");
			batch_put(cmd_str(e, "serial"));
		} else if (s == STEP_KEYGEN) {
			printf("; key id %s", cmd_str(e, "key_id"));
		} else if (s == STEP_CSR) {
			printf("; ");
			batch_put(cmd_str(e, "csr_file"));
		} else if (s == STEP_IMPORT) {
			printf("; certificate %.*s", SHORT_ID, cmd_str(e, "certificate"));
		}
	} else if (!strcmp(res->result, "waiting")) {
		printf("waiting for the certificate: ");
		batch_put(cmd_str(e, "certificate_file"));
		printf(" is not there yet (run the batch again once it is)");
	} else {
		printf("FAILED: ");
		batch_put(res->message);
		printf(" (%s)", res->code);
		if (!strcmp(res->code, "last_try"))
			printf("; a batch never goes on at a last try: do this step by hand");
	}
	putchar('\n');
	fflush(stdout);
}

/* Whether the report's serial is one --checked names. */
static int checked(const struct batch_run *run, const json_t *e)
{
	const char *serial = cmd_str(e, "serial");
	size_t i;

	for (i = 0; serial && *serial && i < run->nchecked; i++)
		if (!strcmp(run->checked[i], serial))
			return 1;
	return 0;
}

static int save(struct batch_run *run)
{
	return batch_report_save(run->report, run->manifest);
}

enum batch_outcome batch_token_run(struct batch_run *run, const struct batch_row *row,
				   const json_t *tok, json_t *e)
{
	struct step_result res;
	enum batch_outcome outcome = OUTCOME_DONE;
	const char *prev, *status = "done";
	char now[32];
	json_t *rec;
	int rc, was_running;
	size_t s;

	header(row, tok, run->manifest->nrows);
	if (!e)
		e = batch_report_add(run->report, row, cmd_str(tok, "serial") ?: "",
				     cmd_str(tok, "id") ?: "");
	if (!e) {
		out_fail(0, "internal_error", "out of memory");
		return OUTCOME_FATAL;
	}
	json_object_set_new(e, "token", json_string(cmd_str(tok, "id") ?: ""));
	json_object_del(e, "error");
	for (s = 0; s < STEP_COUNT; s++) {
		if (!(row->steps & (1u << s)))
			continue;
		prev = batch_entry_result(e, s);
		if (batch_result_done(prev))
			continue;
		if (prev && !strcmp(prev, "outcome_unknown") && checked(run, e)) {
			batch_now(now);
			json_object_set_new(json_object_get(e, "steps"), batch_step_name(s),
					    json_pack("{s:s, s:s, s:s}", "result", "present", "note",
						      "checked by hand (--checked)", "time", now));
			printf("  %s: checked by hand (--checked)\n", batch_step_name(s));
			continue;
		}
		if (prev && !strcmp(prev, "outcome_unknown")) {
			memset(&res, 0, sizeof(res));
			step_pin(run, s, e, 1, &res);
			step_line(s, e, &res);
			outcome = OUTCOME_CHECK;
			status = "check";
			goto done;
		}
		if (run->stopping(run)) {
			outcome = OUTCOME_STOPPED;
			status = "stopped";
			goto done;
		}
		was_running = !strcmp(cmd_str(e, "running") ?: "", batch_step_name(s));
		json_object_set_new(e, "running", json_string(batch_step_name(s)));
		json_object_set_new(e, "status", json_string("running"));
		if (save(run))
			return OUTCOME_FATAL;
		memset(&res, 0, sizeof(res));
		switch (s) {
		case STEP_INIT:
			rc = step_init(run, row, e, was_running, &res);
			break;
		case STEP_KEYGEN:
			rc = step_keygen(run, row, e, &res);
			break;
		case STEP_CSR:
			rc = step_csr(run, row, e, &res);
			break;
		case STEP_IMPORT:
			rc = step_import(run, row, e, &res);
			break;
		default:
			rc = step_pin(run, s, e, was_running, &res);
			break;
		}
		batch_now(now);
		rec = json_pack("{s:s, s:s}", "result", res.result, "time", now);
		if (rc && res.message[0])
			json_object_set_new(rec, "message", json_string(res.message));
		json_object_set_new(json_object_get(e, "steps"), batch_step_name(s), rec);
		json_object_del(e, "running");
		step_line(s, e, &res);
		if (rc) {
			json_object_set_new(e, "error", json_pack("{s:s, s:s, s:s}", "step",
								  batch_step_name(s), "code", res.code,
								  "message", res.message));
			if (!strcmp(res.code, "daemon_unreachable")) {
				outcome = OUTCOME_FATAL;
				status = "stopped";
			} else if (!strcmp(res.code, "outcome_unknown")) {
				outcome = OUTCOME_CHECK;
				status = "check";
			} else if (gone_code(res.code)) {
				outcome = OUTCOME_REMOVED;
				status = "removed";
			} else {
				outcome = OUTCOME_FAILED;
				status = "failed";
			}
			goto done;
		}
		if (!strcmp(res.result, "waiting")) {
			outcome = OUTCOME_WAITING;
			status = "waiting";
			goto done;
		}
		if (save(run))
			return OUTCOME_FATAL;
	}
done:
	batch_now(now);
	json_object_set_new(e, "status", json_string(status));
	json_object_set_new(e, "updated", json_string(now));
	if (save(run))
		return OUTCOME_FATAL;
	return outcome;
}
