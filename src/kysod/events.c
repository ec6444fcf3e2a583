/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mono-time.h"
#include "kysod/events.h"

void events_init(struct events *ev)
{

	memset(ev, 0, sizeof(*ev));
	pthread_mutex_init(&ev->lock, NULL);
	kyso_cond_init(&ev->cond);
	ev->next_seq = 1;
}

void events_free(struct events *ev)
{
	size_t i;

	for (i = 0; i < EVENTS_RING; i++) {
		free(ev->ring[i].data);
		free(ev->ring[i].owner);
	}
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->cond);
}

void events_publish(struct events *ev, const char *type, json_t *data)
{
	events_publish_owned(ev, type, data, NULL);
}

void events_publish_owned(struct events *ev, const char *type, json_t *data, const char *owner)
{
	struct event *slot;
	char *text, *who = NULL;

	if (!data)
		return;
	json_object_set_new(data, "time", json_integer((json_int_t)time(NULL)));
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (owner && !(who = strdup(owner))) {
		free(text);
		return;
	}
	if (!text) {
		free(who);
		return;
	}
	pthread_mutex_lock(&ev->lock);
	slot = &ev->ring[ev->next_seq % EVENTS_RING];
	free(slot->data);
	free(slot->owner);
	slot->owner = who;
	slot->seq = ev->next_seq++;
	snprintf(slot->type, sizeof(slot->type), "%s", type);
	slot->data = text;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

uint64_t events_last(struct events *ev)
{
	uint64_t last;

	pthread_mutex_lock(&ev->lock);
	last = ev->next_seq - 1;
	pthread_mutex_unlock(&ev->lock);
	return last;
}

/* Whether reader may see e. Lock held. */
static int visible(const struct event *e, const char *reader)
{
	return !reader || !e->owner || !strcmp(e->owner, reader);
}

int events_next(struct events *ev, uint64_t *cursor, int timeout_ms, const char *reader,
		char **text)
{
	struct timespec deadline;
	struct event *e = NULL;
	uint64_t want;
	int ret = 0;

	kyso_deadline_ms(&deadline, (long)timeout_ms);
	*text = NULL;
	pthread_mutex_lock(&ev->lock);
	for (;;) {
		while (!ev->closed && *cursor + 1 >= ev->next_seq)
			if (pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline) == ETIMEDOUT)
				break;
		if (ev->closed) {
			ret = -1;
			goto out;
		}
		if (*cursor + 1 >= ev->next_seq)
			goto out;
		want = *cursor + 1;
		if (ev->next_seq - want > EVENTS_RING)
			want = ev->next_seq - EVENTS_RING;
		e = &ev->ring[want % EVENTS_RING];
		/* another's event is passed over: the cursor moves on */
		*cursor = want;
		if (visible(e, reader))
			break;
	}
	if (asprintf(text, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)e->seq,
		     e->type, e->data) < 0) {
		*text = NULL;
		goto out;
	}
	ret = 1;
out:
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

void events_close(struct events *ev)
{
	pthread_mutex_lock(&ev->lock);
	ev->closed = 1;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}
