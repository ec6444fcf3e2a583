/*
 * libkyso internals: the client object and the limits of one exchange.
 */
#ifndef KYSO_LIB_CLIENT_INTERNAL_H
#define KYSO_LIB_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include <curl/curl.h>

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

#endif /* KYSO_LIB_CLIENT_INTERNAL_H */
