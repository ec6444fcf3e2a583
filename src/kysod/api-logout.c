/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/log.h"
#include "kysod/api.h"
#include "kysod/helpers.h"
#include "kysod/request-fields.h"

void api_logout(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	static const char *const known[] = { "token" };
	struct kysod *d = req->d;
	struct kyso_out ipc;
	struct kyso_msg ans;
	uint32_t n;
	json_t *root;
	enum kyso_err err;
	const char *token;
	size_t i;
	int count = 0;

	kyso_out_init(&ipc);
	root = field_parse_object(req->body, req->body_len, rep);
	if (!root)
		goto out;
	if (field_known(root, known, 1, rep) || field_string(root, "token", 0, &token, rep))
		goto out;
	/* a page may end the login of a token it uses, not every login */
	if (!token && req->peer->tcp) {
		kyso_reply_error(rep, KE_NOT_FOR_BROWSERS,
				 "web pages may log out one token (\"token\"), not all of them");
		goto out;
	}
	if (token && !inventory_has_token(&d->inv, token)) {
		kyso_reply_error(rep, KE_TOKEN_NOT_FOUND, "no token with id %.64s", token);
		kyso_reply_error_set(rep, "field", json_string("token"));
		goto out;
	}
	if (token)
		kyso_out_str(&ipc, KYSO_F_TOKEN, token);
	for (i = 0; i < d->nhelpers; i++) {
		if (helper_call(d, i, KYSO_OP_LOGOUT, &ipc, NULL, 0, 5, &ans, &err)) {
			log_debug("logout: module %zu: %s", i, kyso_err_code(err));
			continue;
		}
		if (kyso_msg_u32(&ans, KYSO_F_LOGGED_OUT, &n) == 0)
			count += (int)n;
		kyso_msg_clear(&ans);
	}
	kyso_reply_ok(rep, 200, json_pack("{s:i}", "logged_out", count));
out:
	kyso_out_free(&ipc);
	json_decref(root);
}
