/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "kysod/admin-token.h"
#include "kysod/helpers.h"

json_t *admin_module_tokens(struct kysod *d, size_t module, const char *only_id,
			    enum kyso_err *err)
{
	struct kyso_msg ans = { 0 };
	struct kyso_out req;
	json_t *list = NULL;

	kyso_out_init(&req);
	if (only_id)
		kyso_out_str(&req, KYSO_F_TOKEN, only_id);
	if (helper_call(d, module, KYSO_OP_ADMIN_INVENTORY, &req, NULL, 0, d->cfg.request_timeout,
			&ans, err) == 0) {
		list = kyso_msg_json(&ans, KYSO_F_DETAILS);
		if (!list || (ans.flags & KYSO_IPC_F_ERROR)) {
			json_decref(list);
			list = NULL;
			*err = KE_TOKEN_ERROR;
		}
	}
	kyso_msg_clear(&ans);
	kyso_out_free(&req);
	return list;
}

static void copy_str(char *dst, size_t size, json_t *obj, const char *key)
{
	snprintf(dst, size, "%s", json_string_value(json_object_get(obj, key)) ?: "");
}

void admin_token_fill(struct kysod *d, size_t module, const char *name, const char *path,
		      json_t *info, struct admin_token *t)
{
	memset(t, 0, sizeof(*t));
	t->module = module;
	snprintf(t->module_name, sizeof(t->module_name), "%s", name);
	snprintf(t->module_path, sizeof(t->module_path), "%s", path);
	t->info = json_incref(info);
	copy_str(t->id, sizeof(t->id), info, "id");
	copy_str(t->label, sizeof(t->label), info, "label");
	copy_str(t->serial, sizeof(t->serial), info, "serial");
	copy_str(t->model, sizeof(t->model), info, "model");
	copy_str(t->reader, sizeof(t->reader), info, "reader");
	t->flags = (unsigned long)json_integer_value(json_object_get(info, "flags"));
	t->pin_min = (unsigned int)json_integer_value(json_object_get(info, "pin_min"));
	t->pin_max = (unsigned int)json_integer_value(json_object_get(info, "pin_max"));
	t->mgmt_key = json_is_true(json_object_get(info, "management_key"));
	/* CK_UNAVAILABLE_INFORMATION, or nonsense, is "not known" */
	if (t->pin_max > 4096)
		t->pin_max = 0;
	if (t->pin_min > 4096)
		t->pin_min = 0;
	admin_family(d, path, t->reader, &t->family);
	admin_family_limits(&t->family, &t->limits);
}

void admin_token_free(struct admin_token *t)
{
	json_decref(t->info);
	t->info = NULL;
}

int admin_token_find(struct kysod *d, const char *id, struct admin_token *t,
		     struct kyso_reply *rep)
{
	json_t *modules = helpers_status_json(d), *m, *list, *tok;
	enum kyso_err err = KE_MODULE_UNAVAILABLE, last = KE__COUNT;
	size_t i;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	json_array_foreach(modules, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "state")) ?: "", "running"))
			continue;
		list = admin_module_tokens(d, i, id, &err);
		if (!list) {
			last = err;
			continue;
		}
		tok = json_array_get(json_object_get(list, "tokens"), 0);
		if (tok) {
			admin_token_fill(d, i, json_string_value(json_object_get(m, "name")) ?: "",
					 json_string_value(json_object_get(m, "path")) ?: "", tok, t);
			ret = 0;
		}
		json_decref(list);
		if (!ret)
			break;
	}
	json_decref(modules);
	if (!ret)
		return 0;
	if (inventory_has_token(&d->inv, id))
		kyso_reply_error(rep, KE_TOKEN_NOT_PRESENT, "the token %.32s is not inserted", id);
	else if (last != KE__COUNT && last != KE_TOKEN_ERROR)
		kyso_reply_error(rep, last, "a module could not be asked for its tokens");
	else
		kyso_reply_error(rep, KE_TOKEN_NOT_FOUND, "no token with id %.32s", id);
	return -1;
}

const char *admin_pin_state(unsigned long flags, int so)
{
	/* a token not initialised has neither PIN: what its flags say of them
	 * means nothing (SoftHSM2's say the SO PIN is locked) */
	if (!(flags & P11F_TOKEN_INITIALIZED) || (!so && !(flags & P11F_USER_PIN_INITIALIZED)))
		return "not_initialized";
	if (flags & (so ? P11F_SO_LOCKED : P11F_USER_LOCKED))
		return "locked";
	if (flags & (so ? P11F_SO_FINAL_TRY : P11F_USER_FINAL_TRY))
		return "final_try";
	if (flags & (so ? P11F_SO_COUNT_LOW : P11F_USER_COUNT_LOW))
		return "count_low";
	return "ok";
}

json_t *admin_pin_json(const struct admin_token *t, int so)
{
	unsigned long f = t->flags & P11F_TOKEN_INITIALIZED ? t->flags : 0;
	unsigned int tries = so ? t->limits.puk_tries : t->limits.pin_tries;
	const char *state = admin_pin_state(f, so);
	json_t *left;

	/* PKCS#11 tells no count: only the last try, a lock, and whether a
	 * wrong PIN was entered since the last good one (then it is not known
	 * how many tries remain) */
	if (!strcmp(state, "locked"))
		left = json_integer(0);
	else if (!strcmp(state, "final_try"))
		left = json_integer(1);
	else if (!strcmp(state, "ok") && tries && !(so && t->mgmt_key))
		left = json_integer(tries);
	else
		left = json_null();
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:o}", "state", state,
			 "count_low", !!(f & (so ? P11F_SO_COUNT_LOW : P11F_USER_COUNT_LOW)),
			 "final_try", !!(f & (so ? P11F_SO_FINAL_TRY : P11F_USER_FINAL_TRY)),
			 "locked", !!(f & (so ? P11F_SO_LOCKED : P11F_USER_LOCKED)),
			 "must_change", !!(f & (so ? P11F_SO_TO_BE_CHANGED : P11F_USER_TO_BE_CHANGED)),
			 "tries_left", left);
}
