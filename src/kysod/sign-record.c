/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/hex.h"
#include "kysod/audit.h"
#include "kysod/sign-record.h"

void sign_record_caller(struct audit_entry *e, const struct kyso_peer *peer)
{
	audit_entry_key(e, "caller");
	audit_entry_raw(e, "{\"exe\":");
	audit_entry_str(e, peer->exe);
	/* a web page names its origin (keys in sorted order) */
	if (peer->origin[0]) {
		audit_entry_raw(e, ",\"origin\":");
		audit_entry_str(e, peer->origin);
	}
	audit_entry_raw(e, ",\"pid\":");
	audit_entry_int(e, (long long)peer->pid);
	audit_entry_raw(e, ",\"uid\":");
	audit_entry_int(e, (long long)peer->uid);
	audit_entry_raw(e, "}");
}

/* The fields an intent and its result share. */
static void describe(struct audit_entry *e, const struct sign_record *r, const char *event)
{
	char hash[129];

	kyso_hex_encode(r->hash, r->hash_len < 64 ? r->hash_len : 64, hash);
	audit_entry_add_str(e, "event", event);
	/* the caller's exe is what ran when the connection was accepted;
	 * caller_check says what was checked again at this request, and what
	 * differed ("same" when nothing did) */
	sign_record_caller(e, r->peer);
	audit_entry_key(e, "caller_check");
	audit_entry_raw(e, "{\"checked\":");
	audit_entry_str(e, kyso_peer_checks(r->peer));
	audit_entry_raw(e, ",\"result\":");
	audit_entry_str(e, r->peer->changed ? r->peer->what_changed : "same");
	audit_entry_raw(e, "}");
	audit_entry_add_str(e, "certificate", r->certificate);
	audit_entry_add_str(e, "hash_algorithm", hash_alg_name(r->hash_alg));
	audit_entry_add_str(e, "hash", hash);
	audit_entry_add_str(e, "format", r->format);
	if (r->target) {
		audit_entry_add_str(e, "subject", r->target->cert.holder);
		audit_entry_add_str(e, "token", r->target->cert.token);
		audit_entry_add_str(e, "algorithm", r->target->algorithm);
	}
	if (r->batch)
		audit_entry_add_str(e, "batch", r->batch);
	if (r->item)
		audit_entry_add_str(e, "item", r->item);
}

int sign_intent(struct kysod *d, const struct sign_record *r, uint64_t *seq)
{
	struct audit_entry e;
	int ret;

	audit_entry_init(&e);
	describe(&e, r, "intent");
	ret = audit_append(&d->audit, &e, seq);
	audit_entry_free(&e);
	return ret;
}

int sign_record(struct kysod *d, const struct sign_record *r, uint64_t *seq)
{
	struct audit_entry e;
	int ret;

	audit_entry_init(&e);
	describe(&e, r, "sign");
	if (r->intent)
		audit_entry_add_uint(&e, "intent", r->intent);
	audit_entry_add_str(&e, "result", r->result);
	ret = audit_append(&d->audit, &e, seq);
	audit_entry_free(&e);
	return ret;
}
