/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/pair and GET /v1/pair: a web page asks to use kyso, and the user
 * answers in a dialog; and whether its origin may. Loopback listener only. */
#include <stdio.h>
#include <string.h>

#include <config.h>
#include "common/log.h"
#include "common/utf8.h"
#include "kysod/api.h"
#include "kysod/audit.h"
#include "kysod/audit-entry.h"
#include "kysod/origins.h"
#include "kysod/pinentry.h"
#include "kysod/request-fields.h"
#include "kysod/sign-flow.h"
#include "kysod/sign-record.h"

static int browser_only(const struct kysod_request *req, struct kyso_reply *rep)
{
	if (req->peer->tcp && req->d->origins)
		return 0;
	kyso_reply_error(rep, KE_NOT_FOUND,
			 "pairing is for web pages on the loopback listener; programs on this "
			 "socket allow a web site with POST /v1/origins (kyso origins allow)");
	return -1;
}

static json_t *pair_state(const struct kysod_request *req, const char *source)
{
	return json_pack("{s:s, s:b, s:s?, s:b, s:s, s:i}", "origin", req->peer->origin,
			 "paired", source != NULL, "source", source,
			 "pairable", origin_pairable(req->peer->origin), "version", PACKAGE_VERSION,
			 "api", 1);
}

void api_pair_status(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	if (browser_only(req, rep))
		return;
	kyso_reply_ok(rep, 200, pair_state(req, origins_allowed(req->d->origins, req->peer->origin)));
}

/* The pairing's audit line: who asked, and what the user answered. */
static void record(struct kysod *d, const struct kyso_peer *peer, const char *result)
{
	struct audit_entry e;
	uint64_t seq;

	audit_entry_init(&e);
	audit_entry_add_str(&e, "event", "pair");
	sign_record_caller(&e, peer);
	audit_entry_add_str(&e, "result", result);
	if (audit_append(&d->audit, &e, &seq) || audit_wait(&d->audit, seq))
		log_warn("the audit log did not take the pairing of %s (%s)", peer->origin, result);
	audit_entry_free(&e);
}

static int ask(struct kysod *d, const struct kyso_peer *peer, const char **err)
{
	struct pin_prompt prompt = { 0 };
	char who[KYSO_ORIGIN_MAX * 6], desc[KYSO_ORIGIN_MAX * 8], pid[32] = "";

	sign_caller_text(peer, who, sizeof(who));
	if (peer->pid > 0)
		snprintf(pid, sizeof(pid), " (process %d)", (int)peer->pid);
	snprintf(desc, sizeof(desc),
		 "%s%s wants to use your signing tokens.\n\n"
		 "If you allow it, its pages can list your certificates and ask for signatures; "
		 "each signature still needs your PIN or your consent. Allow only a web site "
		 "you use for your work.\n\n"
		 "Allow %s?", who, pid, peer->origin);
	prompt.title = "kyso: a web site asks to use your tokens";
	prompt.description = desc;
	prompt.ok_label = "Allow";
	prompt.timeout = d->cfg.pin_timeout;
	return pinentry_confirm(d->cfg.pinentry, &prompt, err);
}

void api_pair(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;
	const struct kyso_peer *peer = req->peer;
	const char *source, *err = NULL;
	char why[256];
	unsigned int retry;
	json_t *root;
	int rc;

	if (browser_only(req, rep))
		return;
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root || field_known(root, NULL, 0, rep))
		goto out;
	source = origins_allowed(d->origins, peer->origin);
	if (source) {
		kyso_reply_ok(rep, 200, pair_state(req, source));
		goto out;
	}
	if (!origin_pairable(peer->origin)) {
		kyso_reply_error(rep, KE_ORIGIN_NOT_ALLOWED,
				 "only https web sites (and http on this computer) can be paired");
		goto out;
	}
	switch (origins_pair_begin(d->origins, peer->origin, &retry)) {
	case PAIR_GO:
		break;
	case PAIR_COOLDOWN:
		kyso_reply_error(rep, KE_ORIGIN_NOT_ALLOWED,
				 "the user refused this web site; it may ask again in %u s", retry);
		rep->retry_after = retry;
		goto out;
	case PAIR_BUSY:
		kyso_reply_error(rep, KE_PAIRING_BUSY, "another web site's pairing dialog is open");
		rep->retry_after = retry;
		goto out;
	case PAIR_PAUSED:
		kyso_reply_error(rep, KE_PAIRING_BUSY,
				 "a web site was refused moments ago; ask again in %u s", retry);
		rep->retry_after = retry;
		goto out;
	}
	if (sign_dialog_take(d, rep)) {
		origins_pair_end(d->origins, peer->origin, 1);
		goto out;
	}
	log_info("asking whether %s may use kyso", peer->origin);
	rc = ask(d, peer, &err);
	sign_dialog_give(d);
	if (rc && strcmp(err, "pin_cancelled")) {
		/* no answer from the user: no cool-down either */
		origins_pair_end(d->origins, peer->origin, 1);
		kyso_reply_error(rep, KE_PINENTRY_FAILED, "the pairing dialog could not be shown");
		goto out;
	}
	origins_pair_end(d->origins, peer->origin, rc == 0);
	if (rc) {
		log_info("the user refused %s", peer->origin);
		record(d, peer, "refused");
		kyso_reply_error(rep, KE_ORIGIN_NOT_ALLOWED,
				 "the user refused this web site; it may ask again in %u s",
				 d->cfg.pairing_cooldown);
		rep->retry_after = d->cfg.pairing_cooldown;
		goto out;
	}
	if (origins_allow(d->origins, peer->origin, why, sizeof(why))) {
		log_error("pairing %s: %s", peer->origin, why);
		kyso_reply_error(rep, KE_INTERNAL_ERROR, "the pairing could not be stored");
		goto out;
	}
	log_info("the user allowed %s", peer->origin);
	record(d, peer, "allowed");
	kyso_reply_ok(rep, 200, pair_state(req, "user"));
out:
	json_decref(root);
}
