/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kysod/api.h"

void api_tokens(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	kyso_reply_ok(rep, 200, inventory_tokens_json(&req->d->inv, NULL));
}

void api_token(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	json_t *all = inventory_tokens_json(&req->d->inv, arg);
	json_t *list = json_object_get(all, "tokens");

	if (json_array_size(list) == 0)
		kyso_reply_error(rep, KE_TOKEN_NOT_FOUND, "no token with id %.64s", arg);
	else
		kyso_reply_ok(rep, 200, json_incref(json_array_get(list, 0)));
	json_decref(all);
}
