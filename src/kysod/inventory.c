/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/log.h"
#include "kysod/cert-info.h"
#include "kysod/inventory.h"

struct inv_token {
	char id[33];
	size_t module;
	char module_name[64];
	json_t *info;		/* label, manufacturer, model, serial, pin_state, … from the helper */
	int present;
	/* before the update being applied, for the change events */
	int was_present;
	char was_pin[16];
	int was_logged_in;
};

struct inv_cert {
	char id[65];
	char token[33];
	size_t module;
	char key_id[513];
	struct cert_facts facts;
	int key;		/* the helper's word on the private key (KEY_*) */
	json_t *api;		/* the API object */
	X509 *x509;		/* the certificate, for the checks before signing */
};

void inventory_init(struct inventory *inv)
{
	memset(inv, 0, sizeof(*inv));
	pthread_mutex_init(&inv->lock, NULL);
}

/* Drops the certificates of module's tokens that are in report: they are
 * read again from it. Those of absent tokens stay known, so that a request
 * for one is told its token is not inserted. */
static void drop_certs(struct inventory *inv, size_t module, json_t *report)
{
	json_t *tokens = json_object_get(report, "tokens"), *t;
	size_t i = 0, j;

	while (i < inv->ncerts) {
		int reported = 0;

		json_array_foreach(tokens, j, t)
			if (!strcmp(json_string_value(json_object_get(t, "id")) ?: "", inv->certs[i].token))
				reported = 1;
		if (inv->certs[i].module == module && reported) {
			json_decref(inv->certs[i].api);
			X509_free(inv->certs[i].x509);
			inv->certs[i] = inv->certs[--inv->ncerts];
		} else {
			i++;
		}
	}
}

void inventory_free(struct inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->ntokens; i++)
		json_decref(inv->tokens[i].info);
	for (i = 0; i < inv->ncerts; i++) {
		json_decref(inv->certs[i].api);
		X509_free(inv->certs[i].x509);
	}
	free(inv->tokens);
	free(inv->certs);
	free(inv->per_signature);
	free(inv->no_key);
	pthread_mutex_destroy(&inv->lock);
}

static const char *info_str(json_t *info, const char *key)
{
	const char *s = json_string_value(json_object_get(info, key));

	return s ? s : "";
}

static void remember(struct inventory *inv, size_t module);
static void announce(struct inventory *inv, size_t module);

static struct inv_token *find_token(struct inventory *inv, const char *id)
{
	size_t i;

	for (i = 0; i < inv->ntokens; i++)
		if (!strcmp(inv->tokens[i].id, id))
			return &inv->tokens[i];
	return NULL;
}

static struct inv_token *add_token(struct inventory *inv, const char *id)
{
	struct inv_token *grown = realloc(inv->tokens, (inv->ntokens + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	inv->tokens = grown;
	memset(&grown[inv->ntokens], 0, sizeof(*grown));
	snprintf(grown[inv->ntokens].id, sizeof(grown->id), "%s", id);
	return &grown[inv->ntokens++];
}

/* Removes id from the certificates a signature found without a key. */
static void forget_no_key(struct inventory *inv, const char *id)
{
	size_t i;

	for (i = 0; i < inv->nno_key; i++)
		if (!strcmp(inv->no_key[i], id)) {
			memmove(inv->no_key[i], inv->no_key[--inv->nno_key], sizeof(inv->no_key[0]));
			return;
		}
}

static void add_cert(struct inventory *inv, size_t module, const char *token, json_t *c)
{
	const char *der_b64 = json_string_value(json_object_get(c, "der"));
	const char *key_id = json_string_value(json_object_get(c, "key_id"));
	const char *label = json_string_value(json_object_get(c, "label"));
	unsigned char *der = NULL;
	const unsigned char *p;
	struct inv_cert *grown, *ic;
	X509 *x = NULL;
	long n;
	size_t i;

	if (!der_b64 || !key_id || strlen(key_id) >= sizeof(ic->key_id))
		return;
	der = malloc(strlen(der_b64));
	if (!der)
		return;
	n = kyso_b64_decode(der_b64, strlen(der_b64), der, strlen(der_b64));
	p = der;
	if (n <= 0 || !(x = d2i_X509(NULL, &p, n)))
		goto out;
	grown = realloc(inv->certs, (inv->ncerts + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	inv->certs = grown;
	ic = &grown[inv->ncerts];
	memset(ic, 0, sizeof(*ic));
	if (cert_info_id(x, ic->id))
		goto out;
	for (i = 0; i < inv->ncerts; i++)
		if (!strcmp(inv->certs[i].id, ic->id))
			goto out;	/* the same certificate twice: keep the first */
	ic->api = cert_info_json(x, &ic->facts);
	if (!ic->api)
		goto out;
	snprintf(ic->token, sizeof(ic->token), "%s", token);
	snprintf(ic->key_id, sizeof(ic->key_id), "%s", key_id);
	ic->module = module;
	ic->key = (int)json_integer_value(json_object_get(c, "key"));
	if (ic->key == KEY_PRESENT)
		forget_no_key(inv, ic->id);
	json_object_set_new(ic->api, "id", json_string(ic->id));
	json_object_set_new(ic->api, "token", json_string(token));
	json_object_set_new(ic->api, "key_id", json_string(key_id));
	json_object_set_new(ic->api, "label", json_string(label ? label : ""));
	ic->x509 = x;
	x = NULL;
	inv->ncerts++;
out:
	X509_free(x);
	free(der);
}

void inventory_update(struct inventory *inv, size_t module, const char *module_name,
		      json_t *report)
{
	json_t *tokens = json_object_get(report, "tokens"), *t, *c;
	size_t i, j;

	pthread_mutex_lock(&inv->lock);
	remember(inv, module);
	for (i = 0; i < inv->ntokens; i++)
		if (inv->tokens[i].module == module)
			inv->tokens[i].present = 0;
	drop_certs(inv, module, report);
	json_array_foreach(tokens, i, t) {
		const char *id = json_string_value(json_object_get(t, "id"));
		struct inv_token *it;

		if (!id || strlen(id) != 32)
			continue;
		it = find_token(inv, id);
		if (!it)
			it = add_token(inv, id);
		if (!it)
			continue;
		json_decref(it->info);
		it->info = json_incref(t);
		it->module = module;
		snprintf(it->module_name, sizeof(it->module_name), "%s", module_name);
		it->present = 1;
		json_array_foreach(json_object_get(t, "certs"), j, c)
			add_cert(inv, module, id, c);
	}
	announce(inv, module);
	pthread_mutex_unlock(&inv->lock);
}

void inventory_module_down(struct inventory *inv, size_t module)
{
	size_t i;

	pthread_mutex_lock(&inv->lock);
	remember(inv, module);
	for (i = 0; i < inv->ntokens; i++)
		if (inv->tokens[i].module == module)
			inv->tokens[i].present = 0;
	announce(inv, module);
	pthread_mutex_unlock(&inv->lock);
}

static json_t *token_api(const struct inv_token *t);

static void notify(struct inventory *inv, const char *type, json_t *data)
{
	if (inv->notify && data)
		inv->notify(inv->notify_opaque, type, data);
	else
		json_decref(data);
}

/* Before a module's report is applied. Called with the lock held. */
static void remember(struct inventory *inv, size_t module)
{
	size_t i;

	for (i = 0; i < inv->ntokens; i++) {
		struct inv_token *t = &inv->tokens[i];

		if (t->module != module)
			continue;
		t->was_present = t->present;
		snprintf(t->was_pin, sizeof(t->was_pin), "%s", info_str(t->info, "pin_state"));
		t->was_logged_in = json_is_true(json_object_get(t->info, "logged_in"));
	}
}

/* After it: tell what changed. Called with the lock held. */
static void announce(struct inventory *inv, size_t module)
{
	size_t i;

	for (i = 0; i < inv->ntokens; i++) {
		struct inv_token *t = &inv->tokens[i];
		json_t *api;

		if (t->module != module)
			continue;
		if (t->present != t->was_present) {
			api = token_api(t);
			notify(inv, t->present ? "token-inserted" : "token-removed",
			       json_pack("{s:o}", "token", api));
		} else if (t->present &&
			   (strcmp(t->was_pin, info_str(t->info, "pin_state")) ||
			    t->was_logged_in != json_is_true(json_object_get(t->info, "logged_in")))) {
			api = token_api(t);
			notify(inv, "pin-state",
			       json_pack("{s:s, s:O}", "token", t->id, "pin", json_object_get(api, "pin")));
			json_decref(api);
		}
	}
}

static json_t *token_api(const struct inv_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:b, s:b}}",
			 "id", t->id, "label", info_str(t->info, "label"),
			 "manufacturer", info_str(t->info, "manufacturer"),
			 "model", info_str(t->info, "model"), "serial", info_str(t->info, "serial"),
			 "module", t->module_name, "present", t->present,
			 "pin", "state", info_str(t->info, "pin_state"),
			 "logged_in", t->present && json_is_true(json_object_get(t->info, "logged_in")),
			 "protected_path", json_is_true(json_object_get(t->info, "protected_path")));
}

json_t *inventory_tokens_json(struct inventory *inv, const char *only_id)
{
	json_t *list = json_array();
	size_t i;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->ntokens; i++) {
		if (only_id && strcmp(inv->tokens[i].id, only_id))
			continue;
		json_array_append_new(list, token_api(&inv->tokens[i]));
	}
	pthread_mutex_unlock(&inv->lock);
	return json_pack("{s:o}", "tokens", list);
}

json_t *inventory_certs_json(struct inventory *inv, const char *token, const char *only_id)
{
	json_t *list = json_array();
	struct inv_token *t;
	size_t i;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->ncerts; i++) {
		struct inv_cert *c = &inv->certs[i];

		if ((token && strcmp(c->token, token)) || (only_id && strcmp(c->id, only_id)))
			continue;
		t = find_token(inv, c->token);
		if (!t || !t->present)
			continue;
		/* a copy: the answer is written after the lock is let go, while a
		 * new report may free the inventory's object (jansson's last
		 * json_decref does not acquire what other threads read) */
		json_array_append_new(list, json_deep_copy(c->api));
	}
	pthread_mutex_unlock(&inv->lock);
	return json_pack("{s:o}", "certificates", list);
}

int inventory_find_cert(struct inventory *inv, const char *id, struct cert_ref *ref)
{
	struct inv_token *t;
	size_t i, k;
	int ret = -1;

	memset(ref, 0, sizeof(*ref));
	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->ncerts; i++) {
		struct inv_cert *c = &inv->certs[i];

		if (strcmp(c->id, id))
			continue;
		memcpy(ref->id, c->id, sizeof(ref->id));
		memcpy(ref->token, c->token, sizeof(ref->token));
		memcpy(ref->key_id, c->key_id, sizeof(ref->key_id));
		memcpy(ref->holder, c->facts.holder, sizeof(ref->holder));
		ref->module = c->module;
		for (k = 0; k < inv->nper_signature; k++)
			if (!strcmp(inv->per_signature[k], c->id))
				ref->per_signature = 1;
		ref->is_rsa = c->facts.is_rsa;
		ref->key = c->key;
		for (k = 0; k < inv->nno_key; k++)
			if (!strcmp(inv->no_key[k], c->id))
				ref->key = KEY_MISSING;
		t = find_token(inv, c->token);
		if (t) {
			ref->token_present = t->present;
			snprintf(ref->token_label, sizeof(ref->token_label), "%s",
				 info_str(t->info, "label"));
			snprintf(ref->pin_state, sizeof(ref->pin_state), "%s",
				 info_str(t->info, "pin_state"));
			ref->protected_path = json_is_true(json_object_get(t->info, "protected_path"));
		}
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&inv->lock);
	return ret;
}

X509 *inventory_cert_x509(struct inventory *inv, const char *id)
{
	X509 *x = NULL;
	size_t i;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->ncerts; i++) {
		if (!strcmp(inv->certs[i].id, id) && inv->certs[i].x509 &&
		    X509_up_ref(inv->certs[i].x509)) {
			x = inv->certs[i].x509;
			break;
		}
	}
	pthread_mutex_unlock(&inv->lock);
	return x;
}

void inventory_set_per_signature(struct inventory *inv, const char *id)
{
	char (*grown)[65];
	size_t i;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->nper_signature; i++)
		if (!strcmp(inv->per_signature[i], id))
			goto out;
	grown = realloc(inv->per_signature, (inv->nper_signature + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	inv->per_signature = grown;
	snprintf(grown[inv->nper_signature++], sizeof(grown[0]), "%s", id);
out:
	pthread_mutex_unlock(&inv->lock);
}

void inventory_set_no_key(struct inventory *inv, const char *id)
{
	char (*grown)[65];
	size_t i;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->nno_key; i++)
		if (!strcmp(inv->no_key[i], id))
			goto out;
	grown = realloc(inv->no_key, (inv->nno_key + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	inv->no_key = grown;
	snprintf(grown[inv->nno_key++], sizeof(grown[0]), "%s", id);
out:
	pthread_mutex_unlock(&inv->lock);
}

int inventory_cert_key(struct inventory *inv, const char *id)
{
	struct cert_ref ref;

	if (inventory_find_cert(inv, id, &ref))
		return KEY_UNKNOWN;
	return ref.key;
}

void inventory_set_pin_state(struct inventory *inv, const char *token, const char *state)
{
	struct inv_token *t;

	pthread_mutex_lock(&inv->lock);
	t = find_token(inv, token);
	if (t && t->info) {
		remember(inv, t->module);
		json_object_set_new(t->info, "pin_state", json_string(state));
		announce(inv, t->module);
	}
	pthread_mutex_unlock(&inv->lock);
}

int inventory_has_token(struct inventory *inv, const char *id)
{
	int found;

	pthread_mutex_lock(&inv->lock);
	found = find_token(inv, id) != NULL;
	pthread_mutex_unlock(&inv->lock);
	return found;
}

int inventory_module_tokens(struct inventory *inv, size_t module)
{
	size_t i;
	int n = 0;

	pthread_mutex_lock(&inv->lock);
	for (i = 0; i < inv->ntokens; i++)
		n += inv->tokens[i].module == module && inv->tokens[i].present;
	pthread_mutex_unlock(&inv->lock);
	return n;
}
