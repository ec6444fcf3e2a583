/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/hex.h"
#include "common/utf8.h"
#include "kysod/audit.h"
#include "kysod/sign-record.h"

int sign_record(struct kysod *d, const struct sign_record *r, uint64_t *seq)
{
	char hash[129];
	json_t *e;

	kyso_hex_encode(r->hash, r->hash_len < 64 ? r->hash_len : 64, hash);
	/* the caller's exe is what ran when the connection was accepted;
	 * caller_check says what was checked again at this request, and what
	 * differed ("same" when nothing did) */
	e = json_pack("{s:s, s:{s:i, s:i, s:o}, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s}",
		      "event", "sign",
		      "caller", "uid", (int)r->peer->uid, "pid", (int)r->peer->pid,
		      "exe", kyso_json_string_lossy(r->peer->exe),
		      "caller_check", "checked", kyso_peer_checks(r->peer),
		      "result", r->peer->changed ? r->peer->what_changed : "same",
		      "certificate", r->certificate,
		      "hash_algorithm", hash_alg_name(r->hash_alg),
		      "hash", hash, "format", r->format, "result", r->result);
	if (!e)
		return -1;
	/* a web page's signature names its origin */
	if (r->peer->origin[0])
		json_object_set_new(json_object_get(e, "caller"), "origin",
				    json_string(r->peer->origin));
	if (r->target) {
		json_object_set_new(e, "subject", kyso_json_string_lossy(r->target->cert.holder));
		json_object_set_new(e, "token", json_string(r->target->cert.token));
		json_object_set_new(e, "algorithm", json_string(r->target->algorithm));
	}
	if (r->batch)
		json_object_set_new(e, "batch", json_string(r->batch));
	if (r->item)
		json_object_set_new(e, "item", kyso_json_string_lossy(r->item));
	return audit_append(&d->audit, e, seq);
}
