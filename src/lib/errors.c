/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: errors, of the library's own checks, of the transport, and
 * of kysod's {"error":{...}} answers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/utf8.h"
#include "kyso/kyso.h"
#include "client-internal.h"

void lk_error_clear(struct kyso_error *e)
{
	memset(e, 0, sizeof(*e));
	e->index = -1;
}

static void __attribute__((format(printf, 4, 0)))
error_vset(struct kyso_error *e, long status, const char *code, const char *fmt, va_list ap)
{
	lk_error_clear(e);
	e->http_status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	/* cut short: drop a character left incomplete at the end */
	if (vsnprintf(e->message, sizeof(e->message), fmt, ap) >= (int)sizeof(e->message))
		kyso_utf8_trim(e->message);
}

void lk_error_set(struct kyso_error *e, long status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(e, status, code, fmt, ap);
	va_end(ap);
}

/* Sets the client's error (of the calls other than kyso_events). */
void lk_set_error(struct kyso_client *c, long status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(&c->last_error, status, code, fmt, ap);
	va_end(ap);
}

void lk_clear_error(struct kyso_client *c)
{
	lk_error_clear(&c->last_error);
}

/* Copies the client's error state to the caller's; returns ret. */
int lk_finish(struct kyso_client *c, int ret, struct kyso_error *err)
{
	if (!err)
		return ret;
	if (ret == 0)
		lk_error_clear(err);
	else
		*err = c->last_error;
	return ret;
}

/* Reports a bad argument; returns -1. */
int lk_bad_argument(struct kyso_client *c, struct kyso_error *err, const char *what)
{
	lk_clear_error(c);
	lk_set_error(c, 0, "invalid_argument", "%s", what);
	return lk_finish(c, -1, err);
}

/* For calls without a client: there is nowhere else to report. */
int lk_no_client(struct kyso_error *err)
{
	if (err) {
		lk_error_clear(err);
		snprintf(err->code, sizeof(err->code), "invalid_argument");
		snprintf(err->message, sizeof(err->message), "no client given");
	}
	return -1;
}

/* Fills e from kysod's {"error":{...}} answer. */
void lk_api_error(struct kyso_error *e, long status, const char *body)
{
	json_t *root, *obj, *index;
	const char *code, *msg, *field, *pin;

	root = body ? json_loads(body, 0, NULL) : NULL;
	obj = json_object_get(root, "error");
	code = json_string_value(json_object_get(obj, "code"));
	if (!code || !*code) {
		lk_error_set(e, status, "bad_response",
			  "kysod answered HTTP %ld without an error description", status);
		goto out;
	}
	msg = json_string_value(json_object_get(obj, "message"));
	field = json_string_value(json_object_get(obj, "field"));
	pin = json_string_value(json_object_get(json_object_get(obj, "pin"), "state"));
	index = json_object_get(obj, "index");

	lk_error_set(e, status, code, "%s", msg && *msg ? msg : code);
	if (field)
		snprintf(e->field, sizeof(e->field), "%s", field);
	if (pin)
		snprintf(e->pin_state, sizeof(e->pin_state), "%s", pin);
	if (json_is_integer(index) && json_integer_value(index) >= 0)
		e->index = (long)json_integer_value(index);
out:
	json_decref(root);
}

void lk_set_api_error(struct kyso_client *c, long status, const char *body)
{
	lk_api_error(&c->last_error, status, body);
}

/*
 * Explains in e why the socket at path could not be reached by handle
 * (errbuf: its CURLOPT_ERRORBUFFER; timeout: its limit in seconds).
 */
void lk_transport_error(struct kyso_error *e, CURL *handle, const char *errbuf,
			    const char *path, long timeout, CURLcode rc)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	long oserr = 0;
	struct stat st;

	curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ENOENT) {
		lk_error_set(e, 0, "daemon_unreachable",
			  "no socket at %s: kysod does not seem to be running", path);
	} else if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED) {
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			lk_error_set(e, 0, "daemon_unreachable", "%s is not a socket", path);
		else
			lk_error_set(e, 0, "daemon_unreachable",
				  "connection refused on %s: kysod does not seem to be running, the socket is stale",
				  path);
	} else if (rc == CURLE_COULDNT_CONNECT && (oserr == EACCES || oserr == EPERM)) {
		lk_error_set(e, 0, "daemon_unreachable",
			  "permission denied on %s: the socket belongs to another user", path);
	} else if (rc == CURLE_COULDNT_CONNECT) {
		lk_error_set(e, 0, "daemon_unreachable", "cannot connect to kysod at %s: %s", path,
			  oserr ? strerror((int)oserr) : detail);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		lk_error_set(e, 0, "daemon_unreachable",
			  "kysod at %s did not answer within %ld s", path, timeout);
	} else {
		lk_error_set(e, 0, "daemon_unreachable",
			  "exchange with kysod at %s failed: %s (kysod may have stopped)", path, detail);
	}
}

void lk_set_transport_error(struct kyso_client *c, CURLcode rc)
{
	lk_transport_error(&c->last_error, c->curl, c->curl_errbuf, c->socket_path, c->timeout, rc);
}
