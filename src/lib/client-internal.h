/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso internals: the client object, the limits of one exchange, and
 * the functions the files of src/lib share.  Their names begin with lk_,
 * never kyso_: only the functions of kyso.h are exported (libkyso.sym).
 */
#ifndef KYSO_LIB_CLIENT_INTERNAL_H
#define KYSO_LIB_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kyso/kyso.h"

/* Requests go to this origin over the Unix socket; the host is not used. */
#define KYSO_URL_BASE "http://localhost"

/* Answers larger than this are refused (kysod's are a few KiB)... */
#define KYSO_MAX_RESPONSE (16u * 1024u * 1024u)
/* ...except batch answers: up to 100000 items of a few hundred bytes. */
#define KYSO_MAX_BATCH_RESPONSE (256u * 1024u * 1024u)

/* Longest line of the event stream (one event's data line). */
#define KYSO_MAX_EVENT_LINE (1024u * 1024u)

/* Without a byte for this long (keep-alives come every 15 s), kysod is gone. */
#define KYSO_EVENTS_IDLE_LIMIT 60L

/*
 * The sizes of the first version of each parameter structure: the least
 * struct_size accepted.  Today they are the sizeof; whoever adds a field
 * to one of these structures writes the old size here as a number.
 */
#define KYSO_SIGN_PARAMS_SIZE_1 48	/* up to and with timestamp */
#define KYSO_BATCH_PARAMS_SIZE_1 sizeof(struct kyso_batch_params)
#define KYSO_BATCH_ITEM_SIZE_1 sizeof(struct kyso_batch_item)
#define KYSO_VERIFY_PARAMS_SIZE_1 offsetof(struct kyso_verify_params, document_timestamps)
#define KYSO_DOCUMENT_TIMESTAMP_SIZE_1 sizeof(struct kyso_document_timestamp)

/* Growing buffer collecting one response body. */
struct kyso_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;			/* refuse to grow past this; 0 = KYSO_MAX_RESPONSE */
	int overflow;
};

/* State of kyso_events() shared with the other threads (under ev_lock). */
enum kyso_events_state {
	KYSO_EVENTS_IDLE,		/* no call running */
	KYSO_EVENTS_CONNECTING,
	KYSO_EVENTS_OPEN,
};

struct kyso_client {
	char *socket_path;		/* owned */
	CURL *curl;			/* one handle, so the connection is reused */
	long timeout;			/* seconds per request, 0 = none */
	struct kyso_error last_error;
	char curl_errbuf[CURL_ERROR_SIZE];

	/* The event stream: its own handle, used only by kyso_events(). */
	CURL *ev_curl;			/* created on first use */
	char ev_errbuf[CURL_ERROR_SIZE];
	pthread_mutex_t ev_lock;	/* guards the members below */
	pthread_cond_t ev_cond;		/* signalled when ev_state changes */
	CURLM *ev_multi;		/* created on first use; woken by kyso_events_stop() */
	enum kyso_events_state ev_state;
	unsigned long ev_generation;	/* counts kyso_events() calls that started */
	int ev_stop;			/* stop asked, not yet seen by kyso_events() */
};

/* ------------------------------------------------------------ errors.c */

/* Empties e (index -1: about no batch item). */
void lk_error_clear(struct kyso_error *e);
void lk_error_set(struct kyso_error *e, long status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Sets the client's error (of the calls other than kyso_events). */
void lk_set_error(struct kyso_client *c, long status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void lk_clear_error(struct kyso_client *c);
/* Copies the client's error state to the caller's err (may be NULL); returns ret. */
int lk_finish(struct kyso_client *c, int ret, struct kyso_error *err);
/* Reports a bad argument; returns -1. */
int lk_bad_argument(struct kyso_client *c, struct kyso_error *err, const char *what);
/* For calls without a client: there is nowhere else to report; returns -1. */
int lk_no_client(struct kyso_error *err);
/* Fills e from kysod's {"error":{...}} answer (body may be NULL). */
void lk_api_error(struct kyso_error *e, long status, const char *body);
void lk_set_api_error(struct kyso_client *c, long status, const char *body);
/*
 * Explains in e why the socket at path could not be reached by handle
 * (errbuf: its CURLOPT_ERRORBUFFER; timeout: its limit in seconds).
 */
void lk_transport_error(struct kyso_error *e, CURL *handle, const char *errbuf,
			const char *path, long timeout, CURLcode rc);
void lk_set_transport_error(struct kyso_client *c, CURLcode rc);

/* ------------------------------------------------------------ params.c */

/*
 * Copies the caller's parameter structure src (which begins with its
 * struct_size) into dst, the library's own of size bytes, zeroing what
 * the caller's does not have.  A struct_size below min (the size of the
 * structure's first version) or past a sane bound, or non-zero bytes the
 * library does not know, are refused: -1 with "invalid_argument" set on
 * c, naming `name`.
 */
int lk_params_copy(struct kyso_client *c, const char *name, void *dst, size_t size,
		   size_t min, const void *src);

/*
 * Item i of the caller's array of parameter structures, copied as
 * lk_params_copy() does: the array's stride is the struct_size of its
 * first item, which every item must repeat (else "invalid_argument",
 * naming array[i]).  Returns 0, or -1 with the error set on c.
 */
int lk_params_item(struct kyso_client *c, const char *array, const char *name, const void *items,
		   size_t i, void *dst, size_t size, size_t min);

/*
 * The start of a typed call with a parameter structure: c, params and
 * out (the caller's output pointer) must be given; clears the client's
 * error and copies params into dst as lk_params_copy() does.  Returns 0
 * to go on, else -1 with err filled.
 */
int lk_begin(struct kyso_client *c, struct kyso_error *err, const void *params, const void *out,
	     const char *name, void *dst, size_t size, size_t min);

/* ------------------------------------------------------------ transport.c */

/*
 * Appends n bytes to b, keeping it NUL-terminated.  Returns -1 (with
 * b->overflow set past its limit) when it cannot.
 */
int lk_buf_append(struct kyso_buf *b, const char *ptr, size_t n);
int lk_add_header(struct curl_slist **list, const char *header);
/*
 * Exchange expecting a JSON object of at most limit bytes (0: the
 * default).  On success *root (optional, caller decrefs) holds the
 * parsed answer and *text (optional, caller frees) its text.
 */
int lk_call_limit(struct kyso_client *c, const char *method, const char *path,
		  const char *body, size_t limit, json_t **root, char **text);
/* lk_call_limit() with the default limit. */
int lk_call(struct kyso_client *c, const char *method, const char *path,
	    const char *body, json_t **root, char **text);
/*
 * POST of body (taken: freed here; NULL if building it failed, with the
 * client's error set) to path; the answer, of at most limit bytes (0: the
 * default), to *root (caller decrefs) and its text to *text (optional,
 * caller frees).
 */
int lk_post(struct kyso_client *c, const char *path, char *body, size_t limit,
	    json_t **root, char **text);
/* obj as compact JSON text (caller frees); NULL with the client's error set. */
char *lk_dump(struct kyso_client *c, const json_t *obj);
/*
 * Exchange on base, or on base<sep><id> with id escaped; the JSON text
 * answered to *text (optional, caller frees).
 */
int lk_call_id(struct kyso_client *c, const char *method, const char *base,
	       const char *sep, const char *id, char **text);

#endif /* KYSO_LIB_CLIENT_INTERNAL_H */
