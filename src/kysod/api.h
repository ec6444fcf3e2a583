/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The API's route handlers. `arg` is the path's last segment for routes that take one. */
#ifndef KYSOD_API_H
#define KYSOD_API_H

#include "kysod/router.h"

void api_status(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_tokens(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_token(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_certificates(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_certificate(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_sign(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_events(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_readers(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_sign_batch(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_cancel_batch(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_timestamp(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_validation(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_verify(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_logout(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_pair(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_pair_status(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_origins(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_origins_change(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
/* provisioning (admin-inventory.c, api-admin*.c) */
void api_admin_tokens(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_init(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_wipe(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_pin_change(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_pin_unblock(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_pin_set(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_keygen(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_csr(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_import(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);
void api_admin_delete(const struct kysod_request *req, const char *arg, struct kyso_reply *rep);

#endif
