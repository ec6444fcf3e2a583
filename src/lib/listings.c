/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: the listing calls, answered as JSON text (status, tokens,
 * certificates, readers).
 */
#include <stddef.h>

#include "kyso/kyso.h"
#include "client-internal.h"

/* A public GET of base (or base<sep><id>, id if not empty) into *json. */
static int get_json(struct kyso_client *c, const char *base, const char *sep,
		    const char *id, char **json, struct kyso_error *err)
{
	if (!c)
		return lk_no_client(err);
	if (!json)
		return lk_bad_argument(c, err, "an output pointer is required");
	return lk_finish(c, lk_call_id(c, "GET", base, sep, id && *id ? id : NULL, json), err);
}

int kyso_status(struct kyso_client *c, char **json, struct kyso_error *err)
{
	return get_json(c, "/v1/status", NULL, NULL, json, err);
}

int kyso_tokens(struct kyso_client *c, char **json, struct kyso_error *err)
{
	return get_json(c, "/v1/tokens", NULL, NULL, json, err);
}

int kyso_token(struct kyso_client *c, const char *token_id, char **json,
	       struct kyso_error *err)
{
	if (!c)
		return lk_no_client(err);
	if (!json || !token_id || !*token_id)
		return lk_bad_argument(c, err, "a token id and an output pointer are required");
	return lk_finish(c, lk_call_id(c, "GET", "/v1/tokens", "/", token_id, json), err);
}

int kyso_certificates(struct kyso_client *c, const char *token_id, char **json,
		      struct kyso_error *err)
{
	return get_json(c, "/v1/certificates", "?token=", token_id, json, err);
}

int kyso_certificate(struct kyso_client *c, const char *cert_id, char **json,
		     struct kyso_error *err)
{
	if (!c)
		return lk_no_client(err);
	if (!json || !cert_id || !*cert_id)
		return lk_bad_argument(c, err, "a certificate id and an output pointer are required");
	return lk_finish(c, lk_call_id(c, "GET", "/v1/certificates", "/", cert_id, json), err);
}

int kyso_readers(struct kyso_client *c, char **json, struct kyso_error *err)
{
	return get_json(c, "/v1/readers", NULL, NULL, json, err);
}
