/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POST /v1/timestamp: an RFC 3161 token from the configured time-stamp
 * authority over a hash the client made, e.g. of a PDF's ByteRange for a
 * document timestamp. No key of the user's is used, nothing is asked.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/api.h"
#include "kysod/cms-sign.h"
#include "kysod/ossl-util.h"
#include "kysod/request-fields.h"
#include "kysod/trust-store.h"
#include "kysod/tsa.h"

void api_timestamp(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "hash", "hash_algorithm" };
	struct kysod *d = req->d;
	enum kysod_hash_alg alg;
	struct tsa_token_info info;
	struct trust *t = NULL;
	unsigned char hash[64], *token = NULL;
	size_t token_len = 0;
	char err[320], when[32], *b64 = NULL;
	const char *h;
	json_t *root;
	long n;

	(void)arg;
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root)
		return;
	if (field_known(root, known, sizeof(known) / sizeof(known[0]), rep) ||
	    field_string(root, "hash", 1, &h, rep) || field_hash_alg(root, &alg, rep))
		goto out;
	n = kyso_b64_decode(h, strlen(h), hash, sizeof(hash));
	if (n == -1) {
		field_error(rep, KE_HASH_ENCODING, "hash", "is not valid base64");
		goto out;
	}
	if (n < 0 || (size_t)n != hash_alg_len(alg)) {
		kyso_reply_error(rep, KE_HASH_LENGTH, "hash: a %s hash is %zu bytes",
				 hash_alg_name(alg), hash_alg_len(alg));
		kyso_reply_error_set(rep, "field", json_string("hash"));
		goto out;
	}
	if (!d->cfg.tsa_url) {
		kyso_reply_error(rep, KE_TIMESTAMP_UNAVAILABLE,
				 "no time-stamp authority is configured (tsa_url)");
		goto out;
	}
	t = trust_get(&d->cfg);
	if (tsa_timestamp_hash(&d->cfg, t, cms_md(alg), hash, (size_t)n, &token, &token_len,
			       &info, err, sizeof(err))) {
		log_warn("timestamp from %s failed: %s", d->cfg.tsa_url, err);
		kyso_reply_error(rep, KE_TIMESTAMP_FAILED, "%s", err);
		goto out;
	}
	b64 = kyso_b64_encode(token, token_len);
	if (!b64) {
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	ossl_time_text(info.time, when, sizeof(when));
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s}", "token", b64, "time", when, "tsa",
					  info.tsa));
out:
	free(b64);
	OPENSSL_free(token);
	trust_put(t);
	json_decref(root);
}
