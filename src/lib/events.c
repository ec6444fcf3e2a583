/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: kysod's event stream (GET /v1/events, Server-Sent Events) on
 * a connection of its own, which other threads may wait for and stop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <curl/curl.h>

#include "kyso/kyso.h"
#include "client-internal.h"

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
	return lk_buf_append(b, s, n);
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
		if (lk_buf_append(&s->data, value, vlen) < 0 || lk_buf_append(&s->data, "\n", 1) < 0)
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
		return lk_buf_append(&s->body, ptr, n) < 0 ? 0 : n;
	while (left && !s->stopped && !s->nomem) {
		nl = memchr(ptr, '\n', left);
		seg = nl ? (size_t)(nl - ptr) : left;
		if (lk_buf_append(&s->line, ptr, seg) < 0) {
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
			lk_error_set(e, 0, "out_of_memory", "out of memory");
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
		lk_error_set(e, 0, "invalid_argument", "cannot prepare the event stream: %s",
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
	struct kyso_error e;
	char *last = NULL;
	int ret = -1, running = 0, stopped = 0;
	CURLcode rc;

	if (!c)
		return lk_no_client(err);
	lk_error_clear(&e);
	if (!cb) {
		lk_error_set(&e, 0, "invalid_argument", "a callback is required");
		goto out;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		lk_error_set(&e, 0, "daemon_unreachable", "socket path too long: %s", c->socket_path);
		goto out;
	}
	pthread_mutex_lock(&c->ev_lock);
	if (c->ev_state != KYSO_EVENTS_IDLE) {
		pthread_mutex_unlock(&c->ev_lock);
		lk_error_set(&e, 0, "invalid_argument", "kyso_events() is already running on this client");
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
		lk_error_set(&e, 0, "out_of_memory", "out of memory");
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
		lk_error_set(&e, 0, "invalid_argument", "last_event_id cannot be sent");
		goto out;
	}
	if (lk_add_header(&headers, "Accept: text/event-stream") < 0 ||
	    (last && lk_add_header(&headers, last) < 0)) {
		lk_error_set(&e, 0, "out_of_memory", "out of memory");
		goto out;
	}
	if (ev_prepare(c, &s, headers, &e) < 0)
		goto out;

	rc = ev_run(c, &stopped);
	if (stopped || s.stopped) {
		ret = 0;
	} else if (s.nomem) {
		lk_error_set(&e, 0, "out_of_memory", "out of memory");
	} else if (s.too_long) {
		lk_error_set(&e, 0, "bad_response", "a line of kysod's event stream is longer than %u bytes",
			  KYSO_MAX_EVENT_LINE);
	} else if (!s.status) {
		lk_transport_error(&e, c->ev_curl, c->ev_errbuf, c->socket_path, KYSO_EVENTS_IDLE_LIMIT,
				rc);
	} else if (s.status != 200) {
		lk_api_error(&e, s.status, s.body.data);
	} else if (!s.is_stream) {
		lk_error_set(&e, s.status, "bad_response", "kysod's answer is not an event stream");
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		lk_error_set(&e, 0, "daemon_unreachable",
			  "kysod at %s sent nothing on the event stream for %ld s", c->socket_path,
			  KYSO_EVENTS_IDLE_LIMIT);
	} else {
		lk_error_set(&e, 0, "daemon_unreachable",
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
			lk_error_clear(err);
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
