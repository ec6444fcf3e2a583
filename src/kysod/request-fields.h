/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the fields of a JSON request body, each failure answered with the
 * API's codes (missing_field, invalid_type, invalid_value, unknown_field) and
 * the field named in "field". */
#ifndef KYSOD_REQUEST_FIELDS_H
#define KYSOD_REQUEST_FIELDS_H
#include <stddef.h>
#include <jansson.h>

#include "kysod/reply.h"
#include "kysod/sign-request.h"

/* Values a request body may hold (batch bodies have their own bound). */
#define FIELD_VALUES_MAX 4096

/* Parses body as a JSON object; NULL with rep set (bad_request) if it is not,
 * or if it holds more than FIELD_VALUES_MAX values (checked before parsing). */
json_t *field_parse_object(const char *body, size_t len, struct kyso_reply *rep);

/* The same with another bound on the values. */
json_t *field_parse_object_max(const char *body, size_t len, size_t max_values,
			       struct kyso_reply *rep);

/* Sets an error naming field; returns -1. */
int field_error(struct kyso_reply *rep, enum kyso_err e, const char *field, const char *message);

/* Refuses a member of obj not in known (n names). Returns 0 or -1. */
int field_known(json_t *obj, const char *const *known, size_t n, struct kyso_reply *rep);

/* A string member: *out points into root, NULL when absent and not required. */
int field_string(json_t *root, const char *field, int required, const char **out,
		 struct kyso_reply *rep);

/* Whether s is a certificate id (64 hex digits); copies it lowercased into id
 * (65 bytes). */
int field_is_cert_id(const char *s, char *id);

/* A required "certificate" id. */
int field_cert_id(json_t *root, char *id, struct kyso_reply *rep);

/* A required "hash_algorithm" and an optional "padding". */
int field_hash_alg(json_t *root, enum kysod_hash_alg *alg, struct kyso_reply *rep);
int field_padding(json_t *root, enum kysod_padding *padding, struct kyso_reply *rep);

#endif
