/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "common/errors.h"
#include "common/utf8.h"
#include "kysod/reply.h"

void kyso_reply_ok(struct kyso_reply *rep, unsigned int status, json_t *body)
{
	json_decref(rep->body);
	rep->status = status;
	rep->body = body;
}

void kyso_reply_error(struct kyso_reply *rep, enum kyso_err e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", kyso_err_message(e));
	}
	/* a message may hold bytes from a request, or be cut mid-character */
	kyso_utf8_trim(msg);
	json_decref(rep->body);
	rep->status = kyso_err_status(e);
	rep->body = json_pack("{s:{s:s, s:s}}", "error", "code", kyso_err_code(e), "message", msg);
}

enum kyso_err kyso_reply_err(const struct kyso_reply *rep)
{
	const char *code = json_string_value(json_object_get(json_object_get(rep->body, "error"),
							     "code"));
	enum kyso_err e;

	return kyso_err_lookup(code, &e) ? KE_INTERNAL_ERROR : e;
}

void kyso_reply_error_set(struct kyso_reply *rep, const char *key, json_t *value)
{
	json_t *err = json_object_get(rep->body, "error");

	if (err)
		json_object_set_new(err, key, value);
	else
		json_decref(value);
}

void kyso_reply_clear(struct kyso_reply *rep)
{
	json_decref(rep->body);
	rep->body = NULL;
	rep->status = 0;
	rep->allow = NULL;
	rep->sse = 0;
}
