/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: one HTTP exchange with kysod over its Unix socket (libcurl),
 * and the JSON calls built on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kyso/kyso.h"
#include "client-internal.h"

int lk_buf_append(struct kyso_buf *b, const char *ptr, size_t n)
{
	size_t limit = b->limit ? b->limit : KYSO_MAX_RESPONSE, cap;
	char *p;

	if (b->len > limit || n > limit - b->len) {
		b->overflow = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kyso_buf *b = userdata;
	size_t n = size * nmemb;

	if (lk_buf_append(b, ptr, n) < 0)
		return 0;
	return n;
}


/* Selects method and body on the reused handle. */
static CURLcode set_method(CURL *curl, const char *method, const char *body)
{
	CURLcode rc;

	rc = curl_easy_setopt(curl, CURLOPT_NOBODY, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
	if (rc != CURLE_OK)
		return rc;
	if (strcmp(method, "GET") == 0 && !body)
		return curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	if (strcmp(method, "HEAD") == 0 && !body)
		return curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body || strcmp(method, "POST") == 0) {
		/* body outlives the transfer: it is the caller's until we return */
		rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		if (rc == CURLE_OK)
			rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
					      (curl_off_t)(body ? strlen(body) : 0));
	} else {
		rc = curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	if (rc == CURLE_OK && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		rc = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	return rc;
}

int lk_add_header(struct curl_slist **list, const char *header)
{
	struct curl_slist *n = curl_slist_append(*list, header);

	if (!n)
		return -1;
	*list = n;
	return 0;
}

/*
 * One exchange.  Returns 0 when kysod answered (any status) with
 * *status and *response (a new NUL-terminated string, caller frees);
 * -1 on local or transport failure, with the client's error set.
 * Answers over limit bytes (0: KYSO_MAX_RESPONSE) are refused.
 */
static int perform(struct kyso_client *c, const char *method, const char *path,
		   const char *body, size_t limit, long *status, char **response)
{
	struct curl_slist *headers = NULL;
	struct kyso_buf buf = { .limit = limit };
	char *url = NULL;
	CURLcode rc;
	int ret = -1;

	*status = 0;
	*response = NULL;
	if (!method || !*method || !path || path[0] != '/') {
		lk_set_error(c, 0, "invalid_argument",
			  "method and a path starting with '/' are required");
		goto out;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		lk_set_error(c, 0, "daemon_unreachable", "socket path too long: %s", c->socket_path);
		goto out;
	}
	if (asprintf(&url, "%s%s", KYSO_URL_BASE, path) < 0) {
		url = NULL;
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}

	if (lk_add_header(&headers, "Accept: application/json") < 0 ||
	    lk_add_header(&headers, "Expect:") < 0 ||	/* no "100 Continue" round trip */
	    ((body || strcmp(method, "POST") == 0) &&
	     lk_add_header(&headers, "Content-Type: application/json") < 0)) {
		lk_set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}

	c->curl_errbuf[0] = '\0';
	rc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &buf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
	if (rc == CURLE_OK)
		rc = set_method(c->curl, method, body);
	if (rc != CURLE_OK) {
		lk_set_error(c, 0, "invalid_argument", "cannot prepare the request: %s",
			  curl_easy_strerror(rc));
		goto out;
	}

	rc = curl_easy_perform(c->curl);
	if (buf.overflow) {
		lk_set_error(c, 0, "bad_response", "answer from kysod larger than %zu bytes",
			  limit ? limit : (size_t)KYSO_MAX_RESPONSE);
		goto out;
	}
	if (rc != CURLE_OK) {
		lk_set_transport_error(c, rc);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (!buf.data) {
		buf.data = strdup("");
		if (!buf.data) {
			lk_set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
	}
	*response = buf.data;
	buf.data = NULL;
	ret = 0;
out:
	/* the handle must not keep pointers to what is freed here */
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(headers);
	free(buf.data);
	free(url);
	return ret;
}

int kyso_request(struct kyso_client *c, const char *method, const char *path,
		 const char *body_json, long *http_status, char **response_json)
{
	char *resp = NULL;
	long status = 0;
	int ret;

	if (http_status)
		*http_status = 0;
	if (response_json)
		*response_json = NULL;
	if (!c)
		return -1;
	lk_clear_error(c);
	ret = perform(c, method, path, body_json, 0, &status, &resp);
	if (ret == 0 && (status < 200 || status > 299)) {
		lk_set_api_error(c, status, resp);
		ret = -1;
	}
	if (http_status)
		*http_status = status;
	if (response_json) {
		*response_json = resp;
		resp = NULL;
	}
	free(resp);
	return ret;
}

/*
 * Exchange expecting a JSON object of at most limit bytes (0: the
 * default).  On success *root (optional, caller decrefs) holds the
 * parsed answer and *text (optional, caller frees) its text.
 */
int lk_call_limit(struct kyso_client *c, const char *method, const char *path,
		      const char *body, size_t limit, json_t **root, char **text)
{
	json_t *obj = NULL;
	char *resp = NULL;
	long status;
	int ret = -1;

	lk_clear_error(c);
	if (perform(c, method, path, body, limit, &status, &resp) < 0)
		goto out;
	if (status < 200 || status > 299) {
		lk_set_api_error(c, status, resp);
		goto out;
	}
	obj = json_loads(resp, 0, NULL);
	if (!json_is_object(obj)) {
		lk_set_error(c, status, "bad_response", "kysod's answer is not a JSON object");
		goto out;
	}
	if (root) {
		*root = obj;
		obj = NULL;
	}
	if (text) {
		*text = resp;
		resp = NULL;
	}
	ret = 0;
out:
	json_decref(obj);
	free(resp);
	return ret;
}

int lk_call(struct kyso_client *c, const char *method, const char *path,
		const char *body, json_t **root, char **text)
{
	return lk_call_limit(c, method, path, body, 0, root, text);
}

/*
 * POST of body (taken: freed here; NULL if building it failed, with the
 * client's error set) to path; the answer, of at most limit bytes (0: the
 * default), to *root (caller decrefs).
 */
int lk_post(struct kyso_client *c, const char *path, char *body, size_t limit,
	    json_t **root, char **text)
{
	int ret = -1;

	if (body)
		ret = lk_call_limit(c, "POST", path, body, limit, root, text);
	free(body);
	return ret;
}

char *lk_dump(struct kyso_client *c, const json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);

	if (!text)
		lk_set_error(c, 0, "out_of_memory", "out of memory");
	return text;
}

/*
 * Exchange on base, or on base<sep><id> with id escaped; the JSON text
 * answered to *text (optional, caller frees).
 */
int lk_call_id(struct kyso_client *c, const char *method, const char *base,
		   const char *sep, const char *id, char **text)
{
	char *esc = NULL, *path = NULL;
	int ret = -1;

	if (text)
		*text = NULL;
	lk_clear_error(c);
	if (id) {
		esc = curl_easy_escape(c->curl, id, 0);
		if (!esc || asprintf(&path, "%s%s%s", base, sep, esc) < 0) {
			path = NULL;
			lk_set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
	}
	ret = lk_call(c, method, path ? path : base, NULL, NULL, text);
out:
	curl_free(esc);
	free(path);
	return ret;
}
