#include <stdlib.h>
#include <openssl/crypto.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/api.h"
#include "kysod/audit.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-record.h"
#include "kysod/sign-request.h"

void api_sign(const struct kyso_request *req, const char *arg, struct kyso_reply *rep)
{
	static const struct sign_consent consent = { "a record", NULL, 0 };
	struct kysod *d = req->d;
	struct kyso_sign_request sreq;
	struct sign_target target;
	struct sign_record rec = { 0 };
	unsigned char sig[SIGN_MAX_SIG];
	size_t sig_len = 0;
	char audit_ref[64], *sig_b64 = NULL;
	uint64_t seq = 0;
	int found, rc = -1;

	if (kyso_sign_request_parse(req->body, req->body_len, &sreq, rep))
		goto out;
	found = sign_target_init(d, sreq.certificate, sreq.hash_alg, sreq.padding, &target, rep) == 0;
	if (found)
		rc = sign_hash(d, &target, req->peer, &consent, sreq.hash, sreq.hash_len, sig,
			       &sig_len, rep);

	rec.peer = req->peer;
	rec.certificate = sreq.certificate;
	rec.target = found ? &target : NULL;
	rec.hash_alg = sreq.hash_alg;
	rec.hash = sreq.hash;
	rec.hash_len = sreq.hash_len;
	rec.format = "raw";
	rec.result = rc == 0 ? "ok" :
		     json_string_value(json_object_get(json_object_get(rep->body, "error"), "code"));
	if (!rec.result)
		rec.result = "internal_error";
	/* The signature is not returned before its entry is on disk. */
	if (sign_record(d, &rec, &seq) || (rc == 0 && audit_wait(&d->audit, seq))) {
		if (rc == 0)
			kyso_reply_error(rep, "audit_failed",
					 "the audit log cannot be written; no signature is returned");
		goto out;
	}
	if (rc)
		goto out;
	sig_b64 = kyso_b64_encode(sig, sig_len);
	audit_id(&d->audit, seq, audit_ref, sizeof(audit_ref));
	kyso_reply_ok(rep, 200, json_pack("{s:s, s:s, s:s, s:s}", "signature", sig_b64 ? sig_b64 : "",
					  "algorithm", target.algorithm, "certificate", target.cert.id,
					  "audit_id", audit_ref));
out:
	free(sig_b64);
	OPENSSL_cleanse(&sreq, sizeof(sreq));
}
