/*
 * libkyso: HTTP/JSON client of kysod over its Unix socket (libcurl,
 * jansson).  Only kyso_* functions are exported.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kyso/kyso.h"
#include "client-internal.h"

/* ------------------------------------------------------------ errors */

/* Cuts a UTF-8 sequence left incomplete by truncation at the end of s. */
static void utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80 && len - i < 3)
		i--;
	if (i == 0 || !((unsigned char)s[i - 1] & 0x80))
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

static void __attribute__((format(printf, 4, 0)))
error_vset(struct kyso_error *e, long status, const char *code, const char *fmt, va_list ap)
{
	memset(e, 0, sizeof(*e));
	e->http_status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	if (vsnprintf(e->message, sizeof(e->message), fmt, ap) >= (int)sizeof(e->message))
		utf8_trim(e->message);
}

static void __attribute__((format(printf, 4, 5)))
error_set(struct kyso_error *e, long status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(e, status, code, fmt, ap);
	va_end(ap);
}

/* Sets the client's error (of the calls other than kyso_events). */
static void __attribute__((format(printf, 4, 5)))
set_error(struct kyso_client *c, long status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(&c->last_error, status, code, fmt, ap);
	va_end(ap);
}

static void clear_error(struct kyso_client *c)
{
	memset(&c->last_error, 0, sizeof(c->last_error));
}

/* Copies the client's error state to the caller's; returns ret. */
static int finish(struct kyso_client *c, int ret, struct kyso_error *err)
{
	if (!err)
		return ret;
	if (ret == 0)
		memset(err, 0, sizeof(*err));
	else
		*err = c->last_error;
	return ret;
}

/* Reports a bad argument; returns -1. */
static int bad_argument(struct kyso_client *c, struct kyso_error *err, const char *what)
{
	clear_error(c);
	set_error(c, 0, "invalid_argument", "%s", what);
	return finish(c, -1, err);
}

/* For calls without a client: there is nowhere else to report. */
static int no_client(struct kyso_error *err)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		snprintf(err->code, sizeof(err->code), "invalid_argument");
		snprintf(err->message, sizeof(err->message), "no client given");
	}
	return -1;
}

/* Fills e from kysod's {"error":{...}} answer. */
static void api_error(struct kyso_error *e, long status, const char *body)
{
	json_t *root, *obj;
	const char *code, *msg, *field, *pin;

	root = body ? json_loads(body, 0, NULL) : NULL;
	obj = json_object_get(root, "error");
	code = json_string_value(json_object_get(obj, "code"));
	if (!code || !*code) {
		error_set(e, status, "bad_response",
			  "kysod answered HTTP %ld without an error description", status);
		goto out;
	}
	msg = json_string_value(json_object_get(obj, "message"));
	field = json_string_value(json_object_get(obj, "field"));
	pin = json_string_value(json_object_get(json_object_get(obj, "pin"), "state"));

	error_set(e, status, code, "%s", msg && *msg ? msg : code);
	if (field)
		snprintf(e->field, sizeof(e->field), "%s", field);
	if (pin)
		snprintf(e->pin_state, sizeof(e->pin_state), "%s", pin);
out:
	json_decref(root);
}

static void set_api_error(struct kyso_client *c, long status, const char *body)
{
	api_error(&c->last_error, status, body);
}

/*
 * Explains in e why the socket at path could not be reached by handle
 * (errbuf: its CURLOPT_ERRORBUFFER; timeout: its limit in seconds).
 */
static void transport_error(struct kyso_error *e, CURL *handle, const char *errbuf,
			    const char *path, long timeout, CURLcode rc)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	long oserr = 0;
	struct stat st;

	curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ENOENT) {
		error_set(e, 0, "daemon_unreachable",
			  "no socket at %s: kysod does not seem to be running", path);
	} else if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED) {
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			error_set(e, 0, "daemon_unreachable", "%s is not a socket", path);
		else
			error_set(e, 0, "daemon_unreachable",
				  "connection refused on %s: kysod does not seem to be running, the socket is stale",
				  path);
	} else if (rc == CURLE_COULDNT_CONNECT && (oserr == EACCES || oserr == EPERM)) {
		error_set(e, 0, "daemon_unreachable",
			  "permission denied on %s: the socket belongs to another user", path);
	} else if (rc == CURLE_COULDNT_CONNECT) {
		error_set(e, 0, "daemon_unreachable", "cannot connect to kysod at %s: %s", path,
			  oserr ? strerror((int)oserr) : detail);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		error_set(e, 0, "daemon_unreachable",
			  "kysod at %s did not answer within %ld s", path, timeout);
	} else {
		error_set(e, 0, "daemon_unreachable",
			  "exchange with kysod at %s failed: %s (kysod may have stopped)", path, detail);
	}
}

static void set_transport_error(struct kyso_client *c, CURLcode rc)
{
	transport_error(&c->last_error, c->curl, c->curl_errbuf, c->socket_path, c->timeout, rc);
}

/* ------------------------------------------------------------ base64 */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Returns a new NUL-terminated string (caller frees), NULL on ENOMEM. */
static char *b64_encode(const unsigned char *in, size_t len)
{
	char *out, *p;
	uint32_t v;
	size_t i;

	out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	p = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*p++ = b64_alphabet[v >> 18 & 63];
		*p++ = b64_alphabet[v >> 12 & 63];
		*p++ = b64_alphabet[v >> 6 & 63];
		*p++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*p++ = b64_alphabet[v >> 18 & 63];
		*p++ = b64_alphabet[v >> 12 & 63];
		*p++ = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Strict decoder for padded standard base64.  On success *out is a new
 * buffer (caller frees) of *out_len bytes.
 */
static int b64_decode(const char *in, unsigned char **out, size_t *out_len)
{
	size_t len = strlen(in), i, j, n = 0;
	unsigned char *buf = NULL;
	int ret = -1, pad, v;
	uint32_t w;

	*out = NULL;
	*out_len = 0;
	if (len % 4)
		goto out;
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		goto out;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		w = 0;
		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=') {
				if (i + 4 != len || j < 2)
					goto out;
				pad++;
				v = 0;
			} else {
				v = b64_value(in[i + j]);
				if (v < 0 || pad)
					goto out;
			}
			w = w << 6 | (uint32_t)v;
		}
		buf[n++] = w >> 16 & 0xff;
		if (pad < 2)
			buf[n++] = w >> 8 & 0xff;
		if (pad < 1)
			buf[n++] = w & 0xff;
	}
	*out = buf;
	*out_len = n;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ client */

static char *default_socket_path(void)
{
	const char *env;
	char *path = NULL;

	env = secure_getenv("KYSO_SOCKET");
	if (env && *env)
		return strdup(env);
	env = secure_getenv("XDG_RUNTIME_DIR");
	if (env && *env) {
		if (asprintf(&path, "%s/kyso/kyso.sock", env) < 0)
			path = NULL;
	} else {
		if (asprintf(&path, "/run/user/%u/kyso/kyso.sock", (unsigned)getuid()) < 0)
			path = NULL;
	}
	return path;
}

/*
 * Appends n bytes to b, keeping it NUL-terminated.  Returns -1 (with
 * b->overflow set past its limit) when it cannot.
 */
static int buf_append(struct kyso_buf *b, const char *ptr, size_t n)
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

	if (buf_append(b, ptr, n) < 0)
		return 0;
	return n;
}

const char *kyso_version(void)
{
	return KYSO_VERSION;
}

struct kyso_client *kyso_client_new(const char *socket_path)
{
	struct kyso_client *c;
	int ok = 0;

	pthread_condattr_t attr;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	/* first, so that kyso_client_free() may always destroy them */
	pthread_mutex_init(&c->ev_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->ev_cond, &attr);
	pthread_condattr_destroy(&attr);
	c->socket_path = socket_path ? strdup(socket_path) : default_socket_path();
	if (!c->socket_path)
		goto out;
	/* Reference counted by libcurl; undone in kyso_client_free(). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	c->curl = curl_easy_init();
	if (!c->curl) {
		curl_global_cleanup();
		goto out;
	}
	if (curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_errbuf) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
			     (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "libkyso/" KYSO_VERSION) != CURLE_OK)
		goto out;
	ok = 1;
out:
	if (!ok) {
		kyso_client_free(c);
		c = NULL;
	}
	return c;
}

void kyso_client_free(struct kyso_client *c)
{
	if (!c)
		return;
	if (c->ev_multi)
		curl_multi_cleanup(c->ev_multi);
	if (c->ev_curl)
		curl_easy_cleanup(c->ev_curl);
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	pthread_cond_destroy(&c->ev_cond);
	pthread_mutex_destroy(&c->ev_lock);
	free(c->socket_path);
	free(c);
}

const char *kyso_client_socket(const struct kyso_client *c)
{
	return c ? c->socket_path : NULL;
}

int kyso_client_set_timeout(struct kyso_client *c, long seconds)
{
	if (!c || seconds < 0)
		return -1;
	c->timeout = seconds;
	return 0;
}

const struct kyso_error *kyso_client_last_error(const struct kyso_client *c)
{
	static const struct kyso_error none = {
		.code = "invalid_argument",
		.message = "no client given",
	};

	return c ? &c->last_error : &none;
}

void kyso_free(void *p)
{
	free(p);
}

/* ------------------------------------------------------------ transport */

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

static int add_header(struct curl_slist **list, const char *header)
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
		set_error(c, 0, "invalid_argument",
			  "method and a path starting with '/' are required");
		goto out;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		set_error(c, 0, "daemon_unreachable", "socket path too long: %s", c->socket_path);
		goto out;
	}
	if (asprintf(&url, "%s%s", KYSO_URL_BASE, path) < 0) {
		url = NULL;
		set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}

	if (add_header(&headers, "Accept: application/json") < 0 ||
	    add_header(&headers, "Expect:") < 0 ||	/* no "100 Continue" round trip */
	    ((body || strcmp(method, "POST") == 0) &&
	     add_header(&headers, "Content-Type: application/json") < 0)) {
		set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}

	c->curl_errbuf[0] = '\0';
	rc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &buf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
	if (rc == CURLE_OK)
		rc = set_method(c->curl, method, body);
	if (rc != CURLE_OK) {
		set_error(c, 0, "invalid_argument", "cannot prepare the request: %s",
			  curl_easy_strerror(rc));
		goto out;
	}

	rc = curl_easy_perform(c->curl);
	if (buf.overflow) {
		set_error(c, 0, "bad_response", "answer from kysod larger than %zu bytes",
			  limit ? limit : (size_t)KYSO_MAX_RESPONSE);
		goto out;
	}
	if (rc != CURLE_OK) {
		set_transport_error(c, rc);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (!buf.data) {
		buf.data = strdup("");
		if (!buf.data) {
			set_error(c, 0, "out_of_memory", "out of memory");
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
	clear_error(c);
	ret = perform(c, method, path, body_json, 0, &status, &resp);
	if (ret == 0 && (status < 200 || status > 299)) {
		set_api_error(c, status, resp);
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
static int call_limit(struct kyso_client *c, const char *method, const char *path,
		      const char *body, size_t limit, json_t **root, char **text)
{
	json_t *obj = NULL;
	char *resp = NULL;
	long status;
	int ret = -1;

	clear_error(c);
	if (perform(c, method, path, body, limit, &status, &resp) < 0)
		goto out;
	if (status < 200 || status > 299) {
		set_api_error(c, status, resp);
		goto out;
	}
	obj = json_loads(resp, 0, NULL);
	if (!json_is_object(obj)) {
		set_error(c, status, "bad_response", "kysod's answer is not a JSON object");
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

static int call(struct kyso_client *c, const char *method, const char *path,
		const char *body, json_t **root, char **text)
{
	return call_limit(c, method, path, body, 0, root, text);
}

/*
 * POST of body (taken: freed here; NULL if building it failed, with the
 * client's error set) to path; the answer, of at most limit bytes (0: the
 * default), to *root (caller decrefs).
 */
static int post(struct kyso_client *c, const char *path, char *body, size_t limit,
		json_t **root)
{
	int ret = -1;

	if (body)
		ret = call_limit(c, "POST", path, body, limit, root, NULL);
	free(body);
	return ret;
}

/*
 * Exchange on base, or on base<sep><id> with id escaped; the JSON text
 * answered to *text (optional, caller frees).
 */
static int call_id(struct kyso_client *c, const char *method, const char *base,
		   const char *sep, const char *id, char **text)
{
	char *esc = NULL, *path = NULL;
	int ret = -1;

	if (text)
		*text = NULL;
	clear_error(c);
	if (id) {
		esc = curl_easy_escape(c->curl, id, 0);
		if (!esc || asprintf(&path, "%s%s%s", base, sep, esc) < 0) {
			path = NULL;
			set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
	}
	ret = call(c, method, path ? path : base, NULL, NULL, text);
out:
	curl_free(esc);
	free(path);
	return ret;
}

/* A public GET of base (or base<sep><id>, id if not empty) into *json. */
static int get_json(struct kyso_client *c, const char *base, const char *sep,
		    const char *id, char **json, struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json)
		return bad_argument(c, err, "an output pointer is required");
	return finish(c, call_id(c, "GET", base, sep, id && *id ? id : NULL, json), err);
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
		return no_client(err);
	if (!json || !token_id || !*token_id)
		return bad_argument(c, err, "a token id and an output pointer are required");
	return finish(c, call_id(c, "GET", "/v1/tokens", "/", token_id, json), err);
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
		return no_client(err);
	if (!json || !cert_id || !*cert_id)
		return bad_argument(c, err, "a certificate id and an output pointer are required");
	return finish(c, call_id(c, "GET", "/v1/certificates", "/", cert_id, json), err);
}

int kyso_readers(struct kyso_client *c, char **json, struct kyso_error *err)
{
	return get_json(c, "/v1/readers", NULL, NULL, json, err);
}

/* ------------------------------------------------------------ signing */

const char *kyso_hash_alg_name(enum kyso_hash_alg alg)
{
	switch (alg) {
	case KYSO_HASH_SHA256:
		return "sha256";
	case KYSO_HASH_SHA384:
		return "sha384";
	case KYSO_HASH_SHA512:
		return "sha512";
	}
	return NULL;
}

size_t kyso_hash_alg_len(enum kyso_hash_alg alg)
{
	switch (alg) {
	case KYSO_HASH_SHA256:
		return 32;
	case KYSO_HASH_SHA384:
		return 48;
	case KYSO_HASH_SHA512:
		return 64;
	}
	return 0;
}

const char *kyso_padding_name(enum kyso_padding padding)
{
	switch (padding) {
	case KYSO_PADDING_DEFAULT:
		return NULL;
	case KYSO_PADDING_PKCS1:
		return "pkcs1";
	case KYSO_PADDING_PSS:
		return "pss";
	}
	return NULL;
}

/* Builds the POST /v1/sign body; returns a new string or NULL. */
static char *sign_body(struct kyso_client *c, const struct kyso_sign_params *p)
{
	const char *alg = kyso_hash_alg_name(p->hash_alg);
	const char *pad = kyso_padding_name(p->padding);
	json_t *obj = NULL;
	char *hash = NULL, *body = NULL;

	if (!p->certificate || !p->hash || !p->hash_len || !alg ||
	    (p->padding != KYSO_PADDING_DEFAULT && !pad) ||
	    (p->format != KYSO_FORMAT_RAW && p->format != KYSO_FORMAT_CMS) ||
	    (p->timestamp && p->format != KYSO_FORMAT_CMS)) {
		set_error(c, 0, "invalid_argument",
			  "certificate, hash and a known hash algorithm, padding and format are required "
			  "(a timestamp needs the CMS format)");
		goto out;
	}
	hash = b64_encode(p->hash, p->hash_len);
	obj = json_object();
	if (!hash || !obj ||
	    json_object_set_new(obj, "certificate", json_string(p->certificate)) ||
	    json_object_set_new(obj, "hash", json_string(hash)) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad))) ||
	    json_object_set_new(obj, "format",
				json_string(p->format == KYSO_FORMAT_CMS ? "cms" : "raw")) ||
	    (p->timestamp && json_object_set_new(obj, "timestamp", json_true()))) {
		set_error(c, 0, "invalid_argument",
			  "cannot encode the request (bad certificate id?)");
		goto out;
	}
	body = json_dumps(obj, JSON_COMPACT);
	if (!body)
		set_error(c, 0, "out_of_memory", "out of memory");
out:
	json_decref(obj);
	free(hash);
	return body;
}

/* Reads kysod's sign answer into a new signature (caller frees). */
static struct kyso_signature *parse_signature(struct kyso_client *c, json_t *root)
{
	const char *sig = json_string_value(json_object_get(root, "signature"));
	const char *alg = json_string_value(json_object_get(root, "algorithm"));
	const char *cert = json_string_value(json_object_get(root, "certificate"));
	struct kyso_signature *s;

	s = calloc(1, sizeof(*s));
	if (!s) {
		set_error(c, 200, "out_of_memory", "out of memory");
		return NULL;
	}
	if (!sig || !alg || b64_decode(sig, &s->data, &s->len) < 0 || !s->len) {
		set_error(c, 200, "bad_response", "kysod's sign answer has no valid signature");
		kyso_signature_free(s);
		return NULL;
	}
	snprintf(s->algorithm, sizeof(s->algorithm), "%s", alg);
	snprintf(s->certificate, sizeof(s->certificate), "%s", cert ? cert : "");
	snprintf(s->format, sizeof(s->format), "%s",
		 json_string_value(json_object_get(root, "format")) ?: "raw");
	snprintf(s->audit_id, sizeof(s->audit_id), "%s",
		 json_string_value(json_object_get(root, "audit_id")) ?: "");
	return s;
}

int kyso_sign(struct kyso_client *c, const struct kyso_sign_params *params,
	      struct kyso_signature **out, struct kyso_error *err)
{
	json_t *root = NULL;
	int ret = -1;

	if (!c)
		return no_client(err);
	if (!params || !out)
		return bad_argument(c, err, "parameters and output are required");
	clear_error(c);
	*out = NULL;
	if (post(c, "/v1/sign", sign_body(c, params), 0, &root) == 0) {
		*out = parse_signature(c, root);
		if (*out)
			ret = 0;
	}
	json_decref(root);
	return finish(c, ret, err);
}

void kyso_signature_free(struct kyso_signature *sig)
{
	if (!sig)
		return;
	free(sig->data);
	free(sig);
}

/* ------------------------------------------------------------ logout */

int kyso_logout(struct kyso_client *c, const char *token_id, long *logged_out,
		struct kyso_error *err)
{
	json_t *req = NULL, *root = NULL, *n;
	char *body = NULL;
	int ret = -1;

	if (!c)
		return no_client(err);
	clear_error(c);
	if (logged_out)
		*logged_out = 0;
	req = json_object();
	if (!req || (token_id && json_object_set_new(req, "token", json_string(token_id)))) {
		set_error(c, 0, "invalid_argument", "cannot encode the token id");
		goto out;
	}
	body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}
	if (call(c, "POST", "/v1/logout", body, &root, NULL) < 0)
		goto out;
	n = json_object_get(root, "logged_out");
	if (!json_is_integer(n)) {
		set_error(c, 200, "bad_response", "kysod's logout answer has no count");
		goto out;
	}
	if (logged_out)
		*logged_out = (long)json_integer_value(n);
	ret = 0;
out:
	json_decref(root);
	json_decref(req);
	free(body);
	return finish(c, ret, err);
}

/* ------------------------------------------------------------ batches */

/* Builds the POST /v1/sign/batch body; returns a new string or NULL. */
static char *batch_body(struct kyso_client *c, const struct kyso_batch_params *p)
{
	const char *alg = kyso_hash_alg_name(p->hash_alg);
	const char *pad = kyso_padding_name(p->padding);
	const struct kyso_batch_item *it;
	json_t *obj = NULL, *items = NULL, *item;
	char *hash, *body = NULL;
	size_t i;

	if (!p->certificate || !alg || (p->padding != KYSO_PADDING_DEFAULT && !pad) ||
	    p->format != KYSO_FORMAT_RAW || !p->items || !p->nitems) {
		set_error(c, 0, "invalid_argument",
			  "certificate, items and a known hash algorithm, padding and format are required");
		goto out;
	}
	obj = json_object();
	items = json_array();
	if (!obj || !items ||
	    json_object_set_new(obj, "certificate", json_string(p->certificate)) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad))) ||
	    json_object_set_new(obj, "format", json_string("raw")) ||
	    (p->description && json_object_set_new(obj, "description",
						   json_string(p->description))) ||
	    (p->batch_id && json_object_set_new(obj, "batch", json_string(p->batch_id)))) {
		set_error(c, 0, "invalid_argument",
			  "cannot encode the request (bad certificate id or description?)");
		goto out;
	}
	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		if (!it->id || !it->hash || !it->hash_len) {
			set_error(c, 0, "invalid_argument", "item %zu has no id or no hash", i);
			goto out;
		}
		hash = b64_encode(it->hash, it->hash_len);
		if (!hash) {
			set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
		item = json_pack("{s:s, s:s}", "id", it->id, "hash", hash);
		free(hash);
		if (!item || json_array_append_new(items, item)) {
			set_error(c, 0, "invalid_argument",
				  "cannot encode item %zu (is its id valid UTF-8?)", i);
			goto out;
		}
	}
	if (json_object_set(obj, "items", items)) {
		set_error(c, 0, "out_of_memory", "out of memory");
		goto out;
	}
	body = json_dumps(obj, JSON_COMPACT);
	if (!body)
		set_error(c, 0, "out_of_memory", "out of memory");
out:
	json_decref(items);
	json_decref(obj);
	return body;
}

/* A non-negative integer member; -1 if absent or not one. */
static int get_count(const json_t *obj, const char *key, size_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (size_t)json_integer_value(v);
	return 0;
}

/* Fills one item of the result from its answer; -1 if malformed or ENOMEM. */
static int parse_batch_item(const json_t *j, struct kyso_batch_result_item *it)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *sig = json_string_value(json_object_get(j, "signature"));
	const char *ref = json_string_value(json_object_get(j, "audit_id"));
	const json_t *e = json_object_get(j, "error");
	const char *code, *msg;

	if (!id)
		return -1;
	it->id = strdup(id);
	if (!it->id)
		return -1;
	if (sig) {
		if (b64_decode(sig, &it->signature, &it->signature_len) < 0 || !it->signature_len)
			return -1;
		if (ref) {
			it->audit_id = strdup(ref);
			if (!it->audit_id)
				return -1;
		}
		return 0;
	}
	code = json_string_value(json_object_get(e, "code"));
	if (!code || !*code)
		return -1;
	msg = json_string_value(json_object_get(e, "message"));
	error_set(&it->error, 0, code, "%s", msg && *msg ? msg : code);
	return 0;
}

/* Reads kysod's batch answer into a new result (caller frees). */
static struct kyso_batch_result *parse_batch(struct kyso_client *c, const json_t *root)
{
	const char *batch = json_string_value(json_object_get(root, "batch"));
	const char *cert = json_string_value(json_object_get(root, "certificate"));
	const char *alg = json_string_value(json_object_get(root, "algorithm"));
	const json_t *items = json_object_get(root, "items"), *j;
	struct kyso_batch_result *r;
	size_t i;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	if (!batch || !json_is_array(items) || get_count(root, "total", &r->total) ||
	    get_count(root, "signed", &r->nsigned) || get_count(root, "failed", &r->nfailed))
		goto bad;
	snprintf(r->batch, sizeof(r->batch), "%s", batch);
	snprintf(r->certificate, sizeof(r->certificate), "%s", cert ? cert : "");
	snprintf(r->algorithm, sizeof(r->algorithm), "%s", alg ? alg : "");
	r->cancelled = json_is_true(json_object_get(root, "cancelled"));
	if (json_array_size(items)) {
		r->items = calloc(json_array_size(items), sizeof(*r->items));
		if (!r->items)
			goto nomem;
	}
	json_array_foreach(items, i, j) {
		r->nitems = i + 1;
		if (parse_batch_item(j, &r->items[i]) < 0)
			goto bad;
	}
	return r;
bad:
	set_error(c, 200, "bad_response", "kysod's batch answer could not be understood");
	kyso_batch_result_free(r);
	return NULL;
nomem:
	set_error(c, 200, "out_of_memory", "out of memory");
	kyso_batch_result_free(r);
	return NULL;
}

int kyso_sign_batch(struct kyso_client *c, const struct kyso_batch_params *params,
		    struct kyso_batch_result **out, struct kyso_error *err)
{
	json_t *root = NULL;
	int ret = -1;

	if (!c)
		return no_client(err);
	if (!params || !out)
		return bad_argument(c, err, "parameters and output are required");
	clear_error(c);
	*out = NULL;
	if (post(c, "/v1/sign/batch", batch_body(c, params), KYSO_MAX_BATCH_RESPONSE,
		 &root) == 0) {
		*out = parse_batch(c, root);
		if (*out)
			ret = 0;
	}
	json_decref(root);
	return finish(c, ret, err);
}

void kyso_batch_result_free(struct kyso_batch_result *result)
{
	size_t i;

	if (!result)
		return;
	for (i = 0; i < result->nitems; i++) {
		free(result->items[i].id);
		free(result->items[i].signature);
		free(result->items[i].audit_id);
	}
	free(result->items);
	free(result);
}

int kyso_cancel_batch(struct kyso_client *c, const char *batch_id, struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!batch_id || !*batch_id)
		return bad_argument(c, err, "a batch id is required");
	return finish(c, call_id(c, "DELETE", "/v1/sign/batch", "/", batch_id, NULL), err);
}

/* ------------------------------------------------------------ events */

/* Parser state of one event stream (Server-Sent Events). */
struct ev_stream {
	struct kyso_client *c;
	kyso_event_cb cb;
	void *opaque;
	long status;			/* HTTP status, once the headers are in */
	int is_stream;			/* Content-Type: text/event-stream */
	int stopped;			/* cb or kyso_events_stop() ended the stream */
	int too_long;			/* a line over KYSO_MAX_EVENT_LINE */
	int nomem;
	struct kyso_buf line;		/* the line being received */
	struct kyso_buf data;		/* data lines of the event being received */
	struct kyso_buf type;		/* its "event:" field */
	struct kyso_buf id;		/* the last "id:" field; kept across events */
	struct kyso_buf body;		/* the answer when it is not a stream */
};

static void ev_set_state(struct kyso_client *c, enum kyso_events_state state)
{
	pthread_mutex_lock(&c->ev_lock);
	c->ev_state = state;
	pthread_cond_broadcast(&c->ev_cond);
	pthread_mutex_unlock(&c->ev_lock);
}

/* Whether kyso_events_stop() was called; consumes the request. */
static int ev_stop_asked(struct kyso_client *c)
{
	int stop;

	pthread_mutex_lock(&c->ev_lock);
	stop = c->ev_stop;
	c->ev_stop = 0;
	pthread_mutex_unlock(&c->ev_lock);
	return stop;
}

/* Replaces b's text by n bytes of s. */
static int buf_set(struct kyso_buf *b, const char *s, size_t n)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	return buf_append(b, s, n);
}

/* A blank line: hands the event received so far to the callback. */
static void ev_dispatch(struct ev_stream *s)
{
	const char *type = s->type.len ? s->type.data : "message";

	if (s->data.len) {
		/* the last data line's "\n" is not part of the data */
		s->data.data[--s->data.len] = '\0';
		if (ev_stop_asked(s->c) ||
		    s->cb(s->opaque, s->id.data ? s->id.data : "", type, s->data.data))
			s->stopped = 1;
	}
	s->data.len = 0;
	s->type.len = 0;
	if (s->type.data)
		s->type.data[0] = '\0';
}

/* One line of the stream, without its end of line. */
static void ev_line(struct ev_stream *s, char *line, size_t len)
{
	const char *value;
	size_t flen, vlen;
	char *colon;

	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0) {
		ev_dispatch(s);
		return;
	}
	if (line[0] == ':')
		return;		/* comment, e.g. keep-alive */
	colon = memchr(line, ':', len);
	flen = colon ? (size_t)(colon - line) : len;
	value = colon ? colon + 1 : line + len;
	if (colon && *value == ' ')
		value++;
	vlen = len - (size_t)(value - line);
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if (buf_append(&s->data, value, vlen) < 0 || buf_append(&s->data, "\n", 1) < 0)
			s->nomem = 1;
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		if (buf_set(&s->type, value, vlen) < 0)
			s->nomem = 1;
	} else if (flen == 2 && memcmp(line, "id", 2) == 0 && !memchr(value, '\0', vlen)) {
		if (buf_set(&s->id, value, vlen) < 0)
			s->nomem = 1;
	}
	/* "retry" and unknown fields are ignored */
}

static size_t ev_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ev_stream *s = userdata;
	size_t n = size * nmemb;
	const char *ctype = NULL;

	if (n > 2 || (n == 2 && memcmp(ptr, "\r\n", 2) != 0) || (n == 1 && *ptr != '\n'))
		return n;
	/* end of the headers */
	curl_easy_getinfo(s->c->ev_curl, CURLINFO_RESPONSE_CODE, &s->status);
	curl_easy_getinfo(s->c->ev_curl, CURLINFO_CONTENT_TYPE, &ctype);
	s->is_stream = ctype && strncasecmp(ctype, "text/event-stream", 17) == 0;
	if (s->status == 200 && s->is_stream)
		ev_set_state(s->c, KYSO_EVENTS_OPEN);
	return n;
}

static size_t ev_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ev_stream *s = userdata;
	size_t n = size * nmemb, left = n, seg;
	char *nl;

	if (s->status != 200 || !s->is_stream)
		return buf_append(&s->body, ptr, n) < 0 ? 0 : n;
	while (left && !s->stopped && !s->nomem) {
		nl = memchr(ptr, '\n', left);
		seg = nl ? (size_t)(nl - ptr) : left;
		if (buf_append(&s->line, ptr, seg) < 0) {
			if (s->line.overflow)
				s->too_long = 1;
			return 0;
		}
		if (!nl)
			break;
		ev_line(s, s->line.data, s->line.len);
		s->line.len = 0;
		ptr += seg + 1;
		left -= seg + 1;
	}
	/* returning less than n aborts the transfer */
	return s->stopped || s->nomem ? 0 : n;
}

/* Prepares the events handle for one stream; 0 or -1 with e set. */
static int ev_prepare(struct kyso_client *c, struct ev_stream *s, struct curl_slist *headers,
		      struct kyso_error *e)
{
	CURLcode rc = CURLE_OK;

	if (!c->ev_curl) {
		c->ev_curl = curl_easy_init();
		if (!c->ev_curl) {
			error_set(e, 0, "out_of_memory", "out of memory");
			return -1;
		}
	}
	curl_easy_reset(c->ev_curl);
	c->ev_errbuf[0] = '\0';
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_URL, KYSO_URL_BASE "/v1/events");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_ERRORBUFFER, c->ev_errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_USERAGENT, "libkyso/" KYSO_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_HTTPHEADER, headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_HEADERFUNCTION, ev_header_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_HEADERDATA, s);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_WRITEFUNCTION, ev_write_cb);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_WRITEDATA, s);
	/* a stream with not even a keep-alive for this long is dead */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->ev_curl, CURLOPT_LOW_SPEED_TIME, KYSO_EVENTS_IDLE_LIMIT);
	if (rc != CURLE_OK) {
		error_set(e, 0, "invalid_argument", "cannot prepare the event stream: %s",
			  curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Runs the transfer until it ends or kyso_events_stop() is called.
 * Returns the transfer's result; *stopped is set on a stop.
 */
static CURLcode ev_run(struct kyso_client *c, int *stopped)
{
	CURLcode result = CURLE_OK;
	CURLMcode mc;
	CURLMsg *msg;
	int running = 1, left;

	if (curl_multi_add_handle(c->ev_multi, c->ev_curl) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	for (;;) {
		mc = curl_multi_perform(c->ev_multi, &running);
		if (mc != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
		while ((msg = curl_multi_info_read(c->ev_multi, &left))) {
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
		}
		if (!running)
			break;
		if (ev_stop_asked(c)) {
			*stopped = 1;
			break;
		}
		/* woken at once by kyso_events_stop(), else at least every second */
		mc = curl_multi_poll(c->ev_multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
	}
	curl_multi_remove_handle(c->ev_multi, c->ev_curl);
	return result;
}

int kyso_events(struct kyso_client *c, const char *last_event_id, kyso_event_cb cb,
		void *opaque, struct kyso_error *err)
{
	struct ev_stream s = { 0 };
	struct curl_slist *headers = NULL;
	struct kyso_error e = { 0 };
	char *last = NULL;
	int ret = -1, running = 0, stopped = 0;
	CURLcode rc;

	if (!c)
		return no_client(err);
	if (!cb) {
		error_set(&e, 0, "invalid_argument", "a callback is required");
		goto out;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		error_set(&e, 0, "daemon_unreachable", "socket path too long: %s", c->socket_path);
		goto out;
	}
	pthread_mutex_lock(&c->ev_lock);
	if (c->ev_state != KYSO_EVENTS_IDLE) {
		pthread_mutex_unlock(&c->ev_lock);
		error_set(&e, 0, "invalid_argument", "kyso_events() is already running on this client");
		goto out;
	}
	if (c->ev_stop) {
		/* stopped before it started */
		c->ev_stop = 0;
		pthread_mutex_unlock(&c->ev_lock);
		ret = 0;
		goto out;
	}
	if (!c->ev_multi)
		c->ev_multi = curl_multi_init();
	if (c->ev_multi) {
		c->ev_state = KYSO_EVENTS_CONNECTING;
		c->ev_generation++;
		running = 1;
		pthread_cond_broadcast(&c->ev_cond);
	}
	pthread_mutex_unlock(&c->ev_lock);
	if (!running) {
		error_set(&e, 0, "out_of_memory", "out of memory");
		goto out;
	}

	s.c = c;
	s.cb = cb;
	s.opaque = opaque;
	s.line.limit = KYSO_MAX_EVENT_LINE;
	s.data.limit = KYSO_MAX_RESPONSE;
	s.body.limit = 65536;
	if (last_event_id && *last_event_id &&
	    (strpbrk(last_event_id, "\r\n") ||
	     asprintf(&last, "Last-Event-ID: %s", last_event_id) < 0)) {
		last = NULL;
		error_set(&e, 0, "invalid_argument", "last_event_id cannot be sent");
		goto out;
	}
	if (add_header(&headers, "Accept: text/event-stream") < 0 ||
	    (last && add_header(&headers, last) < 0)) {
		error_set(&e, 0, "out_of_memory", "out of memory");
		goto out;
	}
	if (ev_prepare(c, &s, headers, &e) < 0)
		goto out;

	rc = ev_run(c, &stopped);
	if (stopped || s.stopped) {
		ret = 0;
	} else if (s.nomem) {
		error_set(&e, 0, "out_of_memory", "out of memory");
	} else if (s.too_long) {
		error_set(&e, 0, "bad_response", "a line of kysod's event stream is longer than %u bytes",
			  KYSO_MAX_EVENT_LINE);
	} else if (!s.status) {
		transport_error(&e, c->ev_curl, c->ev_errbuf, c->socket_path, KYSO_EVENTS_IDLE_LIMIT,
				rc);
	} else if (s.status != 200) {
		api_error(&e, s.status, s.body.data);
	} else if (!s.is_stream) {
		error_set(&e, s.status, "bad_response", "kysod's answer is not an event stream");
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		error_set(&e, 0, "daemon_unreachable",
			  "kysod at %s sent nothing on the event stream for %ld s", c->socket_path,
			  KYSO_EVENTS_IDLE_LIMIT);
	} else {
		error_set(&e, 0, "daemon_unreachable",
			  "kysod at %s closed the event stream (it may have stopped)", c->socket_path);
	}
out:
	if (c->ev_curl) {
		/* the handle must not keep pointers to what is freed here */
		curl_easy_setopt(c->ev_curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(c->ev_curl, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c->ev_curl, CURLOPT_HEADERDATA, NULL);
	}
	if (running)
		ev_set_state(c, KYSO_EVENTS_IDLE);
	curl_slist_free_all(headers);
	free(last);
	free(s.line.data);
	free(s.data.data);
	free(s.type.data);
	free(s.id.data);
	free(s.body.data);
	if (err) {
		if (ret == 0)
			memset(err, 0, sizeof(*err));
		else
			*err = e;
	}
	return ret;
}

int kyso_events_wait_open(struct kyso_client *c, long timeout_ms)
{
	struct timespec deadline;
	unsigned long generation;
	int started, ret = -1;

	if (!c)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout_ms > 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += timeout_ms % 1000 * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&c->ev_lock);
	generation = c->ev_generation;
	started = c->ev_state != KYSO_EVENTS_IDLE;
	for (;;) {
		if (c->ev_state == KYSO_EVENTS_OPEN) {
			ret = 0;
			break;
		}
		/* the call waited for (running, or started since) has ended */
		if (c->ev_state == KYSO_EVENTS_IDLE && (started || c->ev_generation != generation))
			break;
		if (timeout_ms < 0) {
			pthread_cond_wait(&c->ev_cond, &c->ev_lock);
		} else if (timeout_ms == 0 ||
			   pthread_cond_timedwait(&c->ev_cond, &c->ev_lock, &deadline) == ETIMEDOUT) {
			ret = c->ev_state == KYSO_EVENTS_OPEN ? 0 : -1;
			break;
		}
	}
	pthread_mutex_unlock(&c->ev_lock);
	return ret;
}

void kyso_events_stop(struct kyso_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->ev_lock);
	c->ev_stop = 1;
	if (c->ev_multi)
		curl_multi_wakeup(c->ev_multi);
	pthread_mutex_unlock(&c->ev_lock);
}
