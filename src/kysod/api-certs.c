/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kysod/api.h"
#include "kysod/cert-check.h"
#include "kysod/request-fields.h"

void api_certificates(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	kyso_reply_ok(rep, 200, cert_check_annotate(req->d, inventory_certs_json(&req->d->inv,
										 req->query_token, NULL)));
}

void api_certificate(const struct kysod_request *req, const char *arg, struct kyso_reply *rep)
{
	json_t *all = NULL, *list = NULL;
	char id[65];

	/* as in POST /v1/sign: 64 hex digits of either case */
	if (field_is_cert_id(arg, id)) {
		all = cert_check_annotate(req->d, inventory_certs_json(&req->d->inv, NULL, id));
		list = json_object_get(all, "certificates");
	}
	if (json_array_size(list) == 0)
		kyso_reply_error(rep, KE_CERTIFICATE_NOT_FOUND, "no certificate with id %.64s", arg);
	else
		kyso_reply_ok(rep, 200, json_incref(json_array_get(list, 0)));
	json_decref(all);
}
