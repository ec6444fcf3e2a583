/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "kysod/audit.h"
#include "kysod/sign-record.h"

struct sign_record_copy {
	struct sign_record rec;		/* pointing into what follows */
	struct kyso_peer peer;		/* only read: its pidfd is the connection's */
	struct sign_target target;
	unsigned char hash[64];
	char text[];			/* the strings, one after another */
};

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

static size_t text_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies s to *at and moves *at past it; NULL stays NULL. */
static const char *keep_text(char **at, const char *s)
{
	char *out = *at;
	size_t n = text_size(s);

	if (!s)
		return NULL;
	memcpy(out, s, n);
	*at += n;
	return out;
}

struct sign_record_copy *sign_record_keep(const struct sign_record *r)
{
	struct sign_record_copy *c;
	char *at;

	c = malloc(sizeof(*c) + text_size(r->certificate) + text_size(r->format) +
		   text_size(r->batch) + text_size(r->item) + text_size(r->result));
	if (!c)
		return NULL;
	c->rec = *r;
	c->peer = *r->peer;
	c->rec.peer = &c->peer;
	if (r->target) {
		c->target = *r->target;
		/* they point into the request, gone by the time the copy is used */
		c->target.intent_rec = NULL;
		c->target.intent_seq = NULL;
		c->rec.target = &c->target;
	}
	/* describe() records at most 64 bytes of it */
	c->rec.hash_len = r->hash_len < sizeof(c->hash) ? r->hash_len : sizeof(c->hash);
	memcpy(c->hash, r->hash, c->rec.hash_len);
	c->rec.hash = c->hash;
	at = c->text;
	c->rec.certificate = keep_text(&at, r->certificate);
	c->rec.format = keep_text(&at, r->format);
	c->rec.batch = keep_text(&at, r->batch);
	c->rec.item = keep_text(&at, r->item);
	c->rec.result = keep_text(&at, r->result);
	return c;
}

void sign_record_later(struct kysod *d, void *copy)
{
	struct sign_record_copy *c = copy;
	int usable = audit_usable(&d->audit);
	uint64_t seq;

	/* The answer has gone already, the intent entry (on disk before it)
	 * its record; the log is stopped, so that no further signature
	 * leaves kysod while its entries cannot be written. */
	if (sign_record(d, &c->rec, &seq) && usable) {
		audit_fail(&d->audit);
		log_error("audit log: the result entry of intent %llu (%s) cannot be written after "
			  "its answer; kysod returns no signature until it is restarted",
			  (unsigned long long)c->rec.intent, c->rec.result);
	}
	free(c);
}
