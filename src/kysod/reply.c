#include <stdarg.h>
#include <stdio.h>

#include "common/errors.h"
#include "kysod/reply.h"

void kyso_reply_ok(struct kyso_reply *rep, unsigned int status, json_t *body)
{
	json_decref(rep->body);
	rep->status = status;
	rep->body = body;
}

/* Cuts s at its first byte that does not begin a whole, well-formed UTF-8
 * sequence (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF, which jansson refuses), so a message truncated mid-character, or
 * holding bytes from a request, still makes valid JSON. */
static void utf8_trim(char *s)
{
	unsigned char *p = (unsigned char *)s;
	unsigned char lo, hi;	/* range of the second byte */
	size_t i = 0, n, k;

	while (p[i]) {
		lo = 0x80;
		hi = 0xbf;
		if (p[i] < 0x80) {
			n = 1;
		} else if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 2;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			if (p[i] == 0xe0)
				lo = 0xa0;
			else if (p[i] == 0xed)
				hi = 0x9f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			if (p[i] == 0xf0)
				lo = 0x90;
			else if (p[i] == 0xf4)
				hi = 0x8f;
		} else {
			break;
		}
		if (n > 1 && (p[i + 1] < lo || p[i + 1] > hi))
			break;
		for (k = 2; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				break;
		if (k < n)
			break;
		i += n;
	}
	p[i] = '\0';
}

void kyso_reply_error(struct kyso_reply *rep, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_trim(msg);
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
