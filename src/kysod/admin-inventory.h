/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin inventory's object of one token (GET /v1/admin/tokens). */
#ifndef KYSOD_ADMIN_INVENTORY_H
#define KYSOD_ADMIN_INVENTORY_H
#include <jansson.h>

#include "kysod/admin-token.h"

/* A new reference, or NULL. */
json_t *admin_token_json(const struct admin_token *t);

#endif
