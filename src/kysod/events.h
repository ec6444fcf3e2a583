/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event stream behind GET /v1/events: a bounded ring of numbered events
 * that any number of readers follow at their own pace. */
#ifndef KYSOD_EVENTS_H
#define KYSOD_EVENTS_H
#include <pthread.h>
#include <stdint.h>
#include <jansson.h>

#define EVENTS_RING 512

struct event {
	uint64_t seq;
	char type[32];
	char *data;		/* JSON text */
	char *owner;		/* whose it is (a batch's origin, "" for the Unix
				 * socket's); NULL: every stream's */
};

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct event ring[EVENTS_RING];
	uint64_t next_seq;	/* seq of the next event; the first is 1 */
	int closed;
};

void events_init(struct events *ev);
void events_free(struct events *ev);

/* Publishes an event; data (an object) is consumed. */
void events_publish(struct events *ev, const char *type, json_t *data);

/* The same, for the streams of owner only (a web origin; "" for callers on
 * the Unix socket) and the Unix socket's streams, which see every event. */
void events_publish_owned(struct events *ev, const char *type, json_t *data, const char *owner);

/* The seq of the newest event (0 for none). */
uint64_t events_last(struct events *ev);

/* Waits up to timeout_ms for an event after *cursor that reader may see (a
 * web origin: its own events and those of no owner; NULL: every event). On
 * one, formats it as a
 * Server-Sent Event into *text (caller frees), advances *cursor and returns 1;
 * returns 0 on timeout, -1 once the stream is closed. Readers that fell more
 * than EVENTS_RING behind skip to the oldest event still kept. */
int events_next(struct events *ev, uint64_t *cursor, int timeout_ms, const char *reader,
		char **text);

/* Wakes every reader for good (daemon shutdown). */
void events_close(struct events *ev);

#endif
