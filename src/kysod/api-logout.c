#include <string.h>

#include "common/log.h"
#include "kysod/api.h"
#include "kysod/helpers.h"
#include "kysod/sign-request.h"

void api_logout(const struct kyso_request *req, const char *arg, struct kyso_reply *rep)
{
	struct kysod *d = req->d;
	json_t *root, *token, *ipc = NULL, *value;
	struct kyso_msg ans;
	const char *err, *key;
	size_t i;
	int count = 0;

	root = kyso_parse_object(req->body, req->body_len, rep);
	if (!root)
		return;
	json_object_foreach(root, key, value) {
		if (strcmp(key, "token")) {
			kyso_reply_error(rep, "unknown_field", "%.64s: is not a field of this request", key);
			if (strlen(key) <= 64)
				kyso_reply_error_set(rep, "field", json_string(key));
			goto out;
		}
	}
	token = json_object_get(root, "token");
	if (token && !json_is_string(token)) {
		kyso_reply_error(rep, "invalid_type", "token: must be a string");
		kyso_reply_error_set(rep, "field", json_string("token"));
		goto out;
	}
	ipc = token ? json_pack("{s:O}", "token", token) : json_object();
	for (i = 0; i < d->nhelpers; i++) {
		if (helper_call(d, i, KYSO_OP_LOGOUT, ipc, NULL, 0, 5, &ans, &err)) {
			log_debug("logout: module %zu: %s", i, err);
			continue;
		}
		count += (int)json_integer_value(json_object_get(ans.json, "logged_out"));
		kyso_msg_clear(&ans);
	}
	kyso_reply_ok(rep, 200, json_pack("{s:i}", "logged_out", count));
out:
	json_decref(ipc);
	json_decref(root);
}
