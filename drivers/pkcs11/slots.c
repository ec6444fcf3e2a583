/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#include "common/b64.h"
#include "common/hex.h"
#include "common/log.h"
#include "pkcs11/signer.h"
#include "pkcs11/slots.h"

int p11_module_open(struct p11_module *m, const char *path, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	pthread_rwlock_init(&m->lock, NULL);
	pthread_mutex_init(&m->tokens_lock, NULL);
	pthread_mutex_init(&m->objects_lock, NULL);
	m->path = strdup(path);
	if (!m->path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (p11_module_check(path, &m->handle, err, errlen))
		return -1;
	m->ctx = PKCS11_CTX_new();
	if (!m->ctx || PKCS11_CTX_load(m->ctx, path) < 0 || p11_signer_init(m->ctx)) {
		snprintf(err, errlen, "libp11 could not initialise the module");
		return -1;
	}
	/* A module whose slots cannot be listed yet (OpenSC while pcscd is not
	 * running) starts with none: the next probes find them when they come. */
	if (p11_probe(m, 1) < 0 || PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) < 0) {
		log_warn("%s: cannot list the slots yet", path);
		m->slots = NULL;
		m->nslots = 0;
		m->ntokens = 0;
	}
	memcpy(m->enumerated, m->tokens, sizeof(m->tokens));
	m->nenumerated = m->ntokens;
	return 0;
}

void p11_module_close(struct p11_module *m)
{
	if (m->ctx) {
		if (m->slots && m->before_release)
			m->before_release(m->before_release_ctx);
		if (m->slots)
			PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
		PKCS11_CTX_unload(m->ctx);
		PKCS11_CTX_free(m->ctx);
	}
	free(m->path);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->tokens_lock);
	pthread_mutex_destroy(&m->objects_lock);
	memset(m, 0, sizeof(*m));
}

static int read_token(struct p11_module *m, CK_SLOT_ID slot, struct p11_token_state *t)
{
	CK_TOKEN_INFO info;

	if (m->handle.fl->C_GetTokenInfo(slot, &info) != CKR_OK)
		return -1;
	t->slot_id = slot;
	p11_field_trim(t->label, info.label, sizeof(info.label));
	p11_field_trim(t->manufacturer, info.manufacturerID, sizeof(info.manufacturerID));
	p11_field_trim(t->model, info.model, sizeof(info.model));
	p11_field_trim(t->serial, info.serialNumber, sizeof(info.serialNumber));
	t->flags = info.flags;
	kyso_token_id(t->manufacturer, t->model, t->serial, t->id);
	return 0;
}

/* The token already known in slot, copied into out; 0, or -1 when none. */
static int known_token(struct p11_module *m, CK_SLOT_ID slot, struct p11_token_state *out)
{
	unsigned int j;
	int ret = -1;

	pthread_mutex_lock(&m->tokens_lock);
	for (j = 0; j < m->ntokens; j++)
		if (m->tokens[j].slot_id == slot) {
			*out = m->tokens[j];
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&m->tokens_lock);
	return ret;
}

/* The probe itself; see p11_probe. */
static int probe(struct p11_module *m, int full)
{
	CK_SLOT_ID ids[P11_MAX_TOKENS];
	CK_ULONG n = 0, i, j;
	struct p11_token_state fresh[P11_MAX_TOKENS];
	unsigned int nfresh = 0;
	int changed = 0;

	/* Asked without a buffer first: OpenSC then looks for new readers, and
	 * for a pcscd that was restarted. */
	if (m->handle.fl->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK)
		return -1;
	n = P11_MAX_TOKENS;
	if (m->handle.fl->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
		return -1;
	for (i = 0; i < n && nfresh < P11_MAX_TOKENS; i++) {
		/* C_GetTokenInfo talks to the card, and a card pulled out in the
		 * middle of it can hang OpenSC 0.23: a token already known is only
		 * read again on a full probe (a reader event, a login attempt). */
		if (!full && known_token(m, ids[i], &fresh[nfresh]) == 0) {
			nfresh++;
			continue;
		}
		if (read_token(m, ids[i], &fresh[nfresh]) == 0 &&
		    (fresh[nfresh].flags & CKF_TOKEN_INITIALIZED))
			nfresh++;
	}
	pthread_mutex_lock(&m->tokens_lock);
	/* A token that was not there at the last probe: libp11's slot list must
	 * be rebuilt, also when it knows the token from before a removal, for its
	 * objects of that token are stale. A removal alone rebuilds nothing, as
	 * rebuilding logs the module's other tokens out. */
	for (i = 0; i < nfresh && changed < 2; i++) {
		for (j = 0; j < m->ntokens; j++)
			if (m->tokens[j].slot_id == fresh[i].slot_id &&
			    !strcmp(m->tokens[j].id, fresh[i].id))
				break;
		if (j == m->ntokens)
			changed = 2;
	}
	if (nfresh != m->ntokens && changed < 1)
		changed = 1;
	for (i = 0; i < nfresh; i++) {
		for (j = 0; j < m->ntokens; j++)
			if (m->tokens[j].slot_id == fresh[i].slot_id &&
			    !strcmp(m->tokens[j].id, fresh[i].id))
				break;
		if (j == m->ntokens || m->tokens[j].flags != fresh[i].flags)
			changed = changed < 1 ? 1 : changed;
		for (j = 0; j < m->nenumerated; j++)
			if (m->enumerated[j].slot_id == fresh[i].slot_id &&
			    !strcmp(m->enumerated[j].id, fresh[i].id))
				break;
		if (j == m->nenumerated)
			changed = 2;
	}
	if (m->flags_changed && changed < 1)
		changed = 1;
	m->flags_changed = 0;
	memcpy(m->tokens, fresh, sizeof(fresh[0]) * nfresh);
	m->ntokens = nfresh;
	pthread_mutex_unlock(&m->tokens_lock);
	return changed;
}

int p11_probe(struct p11_module *m, int full)
{
	int changed;

	/* Not while a provisioning operation has the module alone: it reads
	 * token infos of its own from another thread, and a module need not
	 * take two C_GetTokenInfo at once (SoftHSM2's fills utcTime with
	 * gmtime()). That operation probes when it is done. */
	if (pthread_rwlock_tryrdlock(&m->lock))
		return 0;
	changed = probe(m, full);
	pthread_rwlock_unlock(&m->lock);
	return changed;
}

int p11_probe_wait(struct p11_module *m)
{
	int changed;

	if (pthread_rwlock_tryrdlock(&m->lock)) {
		if (__atomic_load_n(&m->held, __ATOMIC_ACQUIRE) == P11_HELD_CHANGE)
			return P11_PROBE_BUSY;
		pthread_rwlock_rdlock(&m->lock);
	}
	changed = probe(m, 1);
	pthread_rwlock_unlock(&m->lock);
	return changed;
}

/* Takes the write lock for a holder of kind held (P11_HELD_*). */
static void hold(struct p11_module *m, int held)
{
	pthread_rwlock_wrlock(&m->lock);
	__atomic_store_n(&m->held, held, __ATOMIC_RELEASE);
}

static void release(struct p11_module *m)
{
	__atomic_store_n(&m->held, P11_HELD_NONE, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&m->lock);
}

int p11_refresh(struct p11_module *m)
{
	int ret;

	hold(m, P11_HELD_SHORT);
	if (m->slots && m->before_release)
		m->before_release(m->before_release_ctx);
	if (m->slots)
		PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
	m->slots = NULL;
	m->nslots = 0;
	ret = PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) < 0 ? -1 : 0;
	m->generation++;
	pthread_mutex_lock(&m->tokens_lock);
	memcpy(m->enumerated, m->tokens, sizeof(m->tokens));
	m->nenumerated = ret ? 0 : m->ntokens;
	pthread_mutex_unlock(&m->tokens_lock);
	release(m);
	return ret;
}

const char *p11_exclusive(struct p11_module *m, const char *(*fn)(struct p11_module *m, void *arg),
			  void *arg)
{
	const char *ret;

	hold(m, P11_HELD_CHANGE);
	/* the keys kept from the list go first (see before_release) */
	if (m->slots && m->before_release)
		m->before_release(m->before_release_ctx);
	if (m->slots)
		PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
	m->slots = NULL;
	m->nslots = 0;
	ret = fn(m, arg);
	/* the change is over: what follows is a short listing, which a forced
	 * probe waits for (one stuck here, on a card pulled out, is found) */
	__atomic_store_n(&m->held, P11_HELD_SHORT, __ATOMIC_RELEASE);
	/* the token may have moved to another slot, or become another token:
	 * the probe sees it as it is now, and the list is made for that */
	probe(m, 1);
	if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) < 0) {
		m->slots = NULL;
		m->nslots = 0;
	}
	m->generation++;
	pthread_mutex_lock(&m->tokens_lock);
	memcpy(m->enumerated, m->tokens, sizeof(m->tokens));
	m->nenumerated = m->slots ? m->ntokens : 0;
	m->flags_changed = 1;
	pthread_mutex_unlock(&m->tokens_lock);
	release(m);
	return ret;
}

const char *p11_alone(struct p11_module *m, const char *(*fn)(struct p11_module *m, void *arg),
		      void *arg)
{
	const char *ret;

	hold(m, P11_HELD_SHORT);
	ret = fn(m, arg);
	release(m);
	return ret;
}

PKCS11_SLOT *p11_find_slot(struct p11_module *m, const char *token_id)
{
	struct p11_token_state t;
	unsigned int i;

	if (p11_token_state(m, token_id, &t))
		return NULL;
	/* a token libp11 has not enumerated (yet) is not usable */
	pthread_mutex_lock(&m->tokens_lock);
	for (i = 0; i < m->nenumerated; i++)
		if (m->enumerated[i].slot_id == t.slot_id && !strcmp(m->enumerated[i].id, token_id))
			break;
	pthread_mutex_unlock(&m->tokens_lock);
	if (i == m->nenumerated)
		return NULL;
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].token &&
		    PKCS11_get_slotid_from_slot(&m->slots[i]) == t.slot_id)
			return &m->slots[i];
	return NULL;
}

int p11_token_state(struct p11_module *m, const char *token_id, struct p11_token_state *out)
{
	unsigned int i;
	int ret = -1;

	pthread_mutex_lock(&m->tokens_lock);
	for (i = 0; i < m->ntokens; i++)
		if (!strcmp(m->tokens[i].id, token_id)) {
			*out = m->tokens[i];
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&m->tokens_lock);
	return ret;
}

/* Keeps the flags just read, so that the next probe reports the change. */
static void set_flags(struct p11_module *m, CK_SLOT_ID slot, CK_FLAGS flags)
{
	unsigned int i;

	pthread_mutex_lock(&m->tokens_lock);
	for (i = 0; i < m->ntokens; i++)
		if (m->tokens[i].slot_id == slot && m->tokens[i].flags != flags) {
			m->tokens[i].flags = flags;
			m->flags_changed = 1;
		}
	pthread_mutex_unlock(&m->tokens_lock);
}

CK_FLAGS p11_token_flags(struct p11_module *m, CK_SLOT_ID slot, int *present)
{
	CK_TOKEN_INFO info;

	if (m->handle.fl->C_GetTokenInfo(slot, &info) != CKR_OK) {
		*present = 0;
		return 0;
	}
	*present = 1;
	set_flags(m, slot, info.flags);
	return info.flags;
}

int p11_slot_has_token(struct p11_module *m, CK_SLOT_ID slot)
{
	CK_SLOT_INFO info;

	if (m->handle.fl->C_GetSlotInfo(slot, &info) != CKR_OK)
		return 0;
	return !!(info.flags & CKF_TOKEN_PRESENT);
}

const char *p11_pin_state(CK_FLAGS flags)
{
	if (flags & CKF_USER_PIN_LOCKED)
		return "locked";
	if (flags & CKF_USER_PIN_FINAL_TRY)
		return "final_try";
	if (flags & CKF_USER_PIN_COUNT_LOW)
		return "count_low";
	return "ok";
}

/* Whether the token has the private key of cert: 1 when a private or public
 * key object has its CKA_ID or its public key, -2 when not and the private
 * objects are visible (logged in, or no login needed), -1 when not and the
 * token shows public keys for others (the key is most likely missing), 0 when
 * nothing can be told before a login. */
static int cert_key_state(PKCS11_CERT *cert, PKCS11_KEY *prv, unsigned int nprv,
			  PKCS11_KEY *pub, unsigned int npub, int private_visible)
{
	EVP_PKEY *cpub = X509_get0_pubkey(cert->x509), *k;
	unsigned int i;
	int eq;

	for (i = 0; i < nprv; i++)
		if (prv[i].id_len == cert->id_len && !memcmp(prv[i].id, cert->id, cert->id_len))
			return 1;
	for (i = 0; i < npub; i++) {
		if (pub[i].id_len == cert->id_len && !memcmp(pub[i].id, cert->id, cert->id_len))
			return 1;
		k = cpub ? PKCS11_get_public_key(&pub[i]) : NULL;
		eq = k && EVP_PKEY_eq(cpub, k) == 1;
		EVP_PKEY_free(k);
		if (eq)
			return 1;
	}
	if (private_visible) {
		/* the signer's fallback: a private key whose public half matches */
		for (i = 0; i < nprv && cpub; i++) {
			k = PKCS11_get_private_key(&prv[i]);
			eq = k && EVP_PKEY_eq(cpub, k) == 1;
			EVP_PKEY_free(k);
			if (eq)
				return 1;
		}
		return -2;
	}
	return npub ? -1 : 0;
}

static json_t *cert_json(PKCS11_CERT *cert)
{
	unsigned char *der = NULL;
	char *b64 = NULL, idhex[2 * 256 + 1] = "";
	json_t *obj = NULL;
	int len;

	if (!cert->x509)
		return NULL;
	len = i2d_X509(cert->x509, &der);
	if (len <= 0)
		goto out;
	b64 = kyso_b64_encode(der, (size_t)len);
	if (!b64)
		goto out;
	if (cert->id_len <= 256)
		kyso_hex_encode(cert->id, cert->id_len, idhex);
	obj = json_pack("{s:s, s:s, s:s}", "der", b64, "key_id", idhex,
			"label", cert->label ? cert->label : "");
out:
	OPENSSL_free(der);
	free(b64);
	return obj;
}

static json_t *token_json(struct p11_module *m, const struct p11_token_state *t)
{
	PKCS11_SLOT *slot = NULL;
	PKCS11_CERT *certs = NULL;
	PKCS11_KEY *prv = NULL, *pub = NULL;
	unsigned int ncerts = 0, nprv = 0, npub = 0, i;
	json_t *obj, *list;
	int logged_in = 0, state;

	list = json_array();
	slot = p11_find_slot(m, t->id);
	if (slot && slot->token) {
		if (PKCS11_is_logged_in(slot, 0, &logged_in) < 0)
			logged_in = 0;
		pthread_mutex_lock(&m->objects_lock);
		if (PKCS11_enumerate_certs(slot->token, &certs, &ncerts) < 0)
			ncerts = 0;
		if (ncerts && PKCS11_enumerate_keys(slot->token, &prv, &nprv) < 0)
			nprv = 0;
		if (ncerts && PKCS11_enumerate_public_keys(slot->token, &pub, &npub) < 0)
			npub = 0;
		for (i = 0; i < ncerts; i++) {
			json_t *c = cert_json(&certs[i]);

			if (!c)
				continue;
			state = cert_key_state(&certs[i], prv, nprv, pub, npub,
					       logged_in || !(t->flags & CKF_LOGIN_REQUIRED));
			if (state)
				json_object_set_new(c, "key", json_integer(state));
			json_array_append_new(list, c);
		}
		pthread_mutex_unlock(&m->objects_lock);
	}
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:b, s:b, s:o}",
			"id", t->id, "label", t->label, "manufacturer", t->manufacturer,
			"model", t->model, "serial", t->serial, "slot", (json_int_t)t->slot_id,
			"pin_state", p11_pin_state(t->flags),
			"protected_path", !!(t->flags & CKF_PROTECTED_AUTHENTICATION_PATH),
			"login_required", !!(t->flags & CKF_LOGIN_REQUIRED),
			"logged_in", logged_in, "certs", list);
	return obj;
}

json_t *p11_inventory(struct p11_module *m)
{
	struct p11_token_state snap[P11_MAX_TOKENS];
	json_t *tokens = json_array();
	unsigned int i, n;

	pthread_mutex_lock(&m->tokens_lock);
	n = m->ntokens;
	memcpy(snap, m->tokens, sizeof(snap[0]) * n);
	pthread_mutex_unlock(&m->tokens_lock);
	pthread_rwlock_rdlock(&m->lock);
	for (i = 0; i < n; i++) {
		json_t *t = token_json(m, &snap[i]);

		if (t)
			json_array_append_new(tokens, t);
	}
	pthread_rwlock_unlock(&m->lock);
	return json_pack("{s:s, s:o}", "module", m->path, "tokens", tokens);
}
