/*
 * libkyso: HTTP/JSON client of kysod over its Unix socket (libcurl,
 * jansson).  Only kyso_* functions are exported.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

static void __attribute__((format(printf, 4, 5)))
set_error(struct kyso_client *c, long status, const char *code, const char *fmt, ...)
{
	struct kyso_error *e = &c->last_error;
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->http_status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	if (vsnprintf(e->message, sizeof(e->message), fmt, ap) >= (int)sizeof(e->message))
		utf8_trim(e->message);
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

/* Fills the error from kysod's {"error":{...}} answer. */
static void set_api_error(struct kyso_client *c, long status, const char *body)
{
	struct kyso_error *e = &c->last_error;
	json_t *root, *obj;
	const char *code, *msg, *field, *pin;

	root = body ? json_loads(body, 0, NULL) : NULL;
	obj = json_object_get(root, "error");
	code = json_string_value(json_object_get(obj, "code"));
	if (!code || !*code) {
		set_error(c, status, "bad_response",
			  "kysod answered HTTP %ld without an error description", status);
		goto out;
	}
	msg = json_string_value(json_object_get(obj, "message"));
	field = json_string_value(json_object_get(obj, "field"));
	pin = json_string_value(json_object_get(json_object_get(obj, "pin"), "state"));

	set_error(c, status, code, "%s", msg && *msg ? msg : code);
	if (field)
		snprintf(e->field, sizeof(e->field), "%s", field);
	if (pin)
		snprintf(e->pin_state, sizeof(e->pin_state), "%s", pin);
out:
	json_decref(root);
}

/* Explains why the socket could not be reached. */
static void set_transport_error(struct kyso_client *c, CURLcode rc)
{
	const char *path = c->socket_path;
	const char *detail = c->curl_errbuf[0] ? c->curl_errbuf : curl_easy_strerror(rc);
	long oserr = 0;
	struct stat st;

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ENOENT) {
		set_error(c, 0, "daemon_unreachable",
			  "no socket at %s: kysod does not seem to be running", path);
	} else if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED) {
		if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			set_error(c, 0, "daemon_unreachable", "%s is not a socket", path);
		else
			set_error(c, 0, "daemon_unreachable",
				  "connection refused on %s: kysod does not seem to be running, the socket is stale",
				  path);
	} else if (rc == CURLE_COULDNT_CONNECT && (oserr == EACCES || oserr == EPERM)) {
		set_error(c, 0, "daemon_unreachable",
			  "permission denied on %s: the socket belongs to another user", path);
	} else if (rc == CURLE_COULDNT_CONNECT) {
		set_error(c, 0, "daemon_unreachable", "cannot connect to kysod at %s: %s", path,
			  oserr ? strerror((int)oserr) : detail);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		set_error(c, 0, "daemon_unreachable",
			  "kysod at %s did not answer within %ld s", path, c->timeout);
	} else {
		set_error(c, 0, "daemon_unreachable",
			  "exchange with kysod at %s failed: %s (kysod may have stopped)", path, detail);
	}
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

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kyso_buf *b = userdata;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > KYSO_MAX_RESPONSE - b->len) {
		b->overflow = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return 0;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
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

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
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
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
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
 */
static int perform(struct kyso_client *c, const char *method, const char *path,
		   const char *body, long *status, char **response)
{
	struct curl_slist *headers = NULL;
	struct kyso_buf buf = { 0 };
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
		set_error(c, 0, "bad_response", "answer from kysod larger than %u bytes",
			  KYSO_MAX_RESPONSE);
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
	ret = perform(c, method, path, body_json, &status, &resp);
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
 * Exchange expecting a JSON object.  On success *root (optional, caller
 * decrefs) holds the parsed answer and *text (optional, caller frees)
 * its text.
 */
static int call(struct kyso_client *c, const char *method, const char *path,
		const char *body, json_t **root, char **text)
{
	json_t *obj = NULL;
	char *resp = NULL;
	long status;
	int ret = -1;

	clear_error(c);
	if (perform(c, method, path, body, &status, &resp) < 0)
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

/* GET of base, or base/<id> with id escaped; JSON text to *json. */
static int get_text(struct kyso_client *c, const char *base, const char *sep,
		    const char *id, char **json)
{
	char *esc = NULL, *path = NULL;
	int ret = -1;

	*json = NULL;
	clear_error(c);
	if (id) {
		esc = curl_easy_escape(c->curl, id, 0);
		if (!esc || asprintf(&path, "%s%s%s", base, sep, esc) < 0) {
			path = NULL;
			set_error(c, 0, "out_of_memory", "out of memory");
			goto out;
		}
	}
	ret = call(c, "GET", path ? path : base, NULL, NULL, json);
out:
	curl_free(esc);
	free(path);
	return ret;
}

int kyso_status(struct kyso_client *c, char **json, struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json)
		return bad_argument(c, err, "an output pointer is required");
	return finish(c, get_text(c, "/v1/status", NULL, NULL, json), err);
}

int kyso_tokens(struct kyso_client *c, char **json, struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json)
		return bad_argument(c, err, "an output pointer is required");
	return finish(c, get_text(c, "/v1/tokens", NULL, NULL, json), err);
}

int kyso_token(struct kyso_client *c, const char *token_id, char **json,
	       struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json || !token_id || !*token_id)
		return bad_argument(c, err, "a token id and an output pointer are required");
	return finish(c, get_text(c, "/v1/tokens", "/", token_id, json), err);
}

int kyso_certificates(struct kyso_client *c, const char *token_id, char **json,
		      struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json)
		return bad_argument(c, err, "an output pointer is required");
	if (token_id && *token_id)
		return finish(c, get_text(c, "/v1/certificates", "?token=", token_id, json), err);
	return finish(c, get_text(c, "/v1/certificates", NULL, NULL, json), err);
}

int kyso_certificate(struct kyso_client *c, const char *cert_id, char **json,
		     struct kyso_error *err)
{
	if (!c)
		return no_client(err);
	if (!json || !cert_id || !*cert_id)
		return bad_argument(c, err, "a certificate id and an output pointer are required");
	return finish(c, get_text(c, "/v1/certificates", "/", cert_id, json), err);
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
	    (p->padding != KYSO_PADDING_DEFAULT && !pad) || p->format != KYSO_FORMAT_RAW) {
		set_error(c, 0, "invalid_argument",
			  "certificate, hash and a known hash algorithm, padding and format are required");
		goto out;
	}
	hash = b64_encode(p->hash, p->hash_len);
	obj = json_object();
	if (!hash || !obj ||
	    json_object_set_new(obj, "certificate", json_string(p->certificate)) ||
	    json_object_set_new(obj, "hash", json_string(hash)) ||
	    json_object_set_new(obj, "hash_algorithm", json_string(alg)) ||
	    (pad && json_object_set_new(obj, "padding", json_string(pad))) ||
	    json_object_set_new(obj, "format", json_string("raw"))) {
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
	return s;
}

int kyso_sign(struct kyso_client *c, const struct kyso_sign_params *params,
	      struct kyso_signature **out, struct kyso_error *err)
{
	json_t *root = NULL;
	char *body = NULL;
	int ret = -1;

	if (!c)
		return no_client(err);
	clear_error(c);
	if (!params || !out) {
		set_error(c, 0, "invalid_argument", "parameters and output are required");
		goto out;
	}
	*out = NULL;
	body = sign_body(c, params);
	if (!body)
		goto out;
	if (call(c, "POST", "/v1/sign", body, &root, NULL) < 0)
		goto out;
	*out = parse_signature(c, root);
	if (*out)
		ret = 0;
out:
	json_decref(root);
	free(body);
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
