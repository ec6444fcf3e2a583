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

void kyso_reply_error(struct kyso_reply *rep, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a message may hold bytes from a request, or be cut mid-character */
	kyso_utf8_trim(msg);
	json_decref(rep->body);
	rep->status = kyso_error_status(code);
	rep->body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
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
