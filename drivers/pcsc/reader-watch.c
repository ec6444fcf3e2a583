/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#include "common/log.h"
#include "pcsc/reader-watch.h"

#define PNP_READER "\\\\?PnP?\\Notification"
#define RETRY_MS 1000
#define WAIT_MS 2000	/* a change wakes the wait at once; this only bounds a stop */

struct reader_watch {
	reader_watch_cb cb;
	void *opaque;
	pthread_t thread;
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;		/* wakes the retry sleep on stop */
	int stop;
	int up;
	SCARDCONTEXT ctx;
	int have_ctx;
	struct reader_info readers[READER_MAX];
	DWORD states[READER_MAX];	/* last event state seen per reader */
	DWORD pnp_state;		/* the PnP pseudo-reader's, the same way */
	size_t nreaders;
};

static void wait_retry(struct reader_watch *w)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RETRY_MS / 1000;
	pthread_mutex_lock(&w->lock);
	while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->lock);
}

static int stopping(struct reader_watch *w)
{
	int stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* Drops a reader (and its card) from the list, telling the callback. */
static void drop_reader(struct reader_watch *w, size_t i)
{
	struct reader_info r = w->readers[i];

	pthread_mutex_lock(&w->lock);
	w->readers[i] = w->readers[w->nreaders - 1];
	w->states[i] = w->states[w->nreaders - 1];
	w->nreaders--;
	pthread_mutex_unlock(&w->lock);
	if (r.card_present)
		w->cb(w->opaque, CARD_REMOVED, &r);
	w->cb(w->opaque, READER_REMOVED, &r);
}

/* Brings the reader list in line with pcscd's. Returns 0, or -1 when pcscd is gone. */
static int sync_readers(struct reader_watch *w)
{
	char *names = NULL, *p;
	DWORD len = SCARD_AUTOALLOCATE;
	LONG rv;
	size_t i;
	int seen[READER_MAX] = { 0 };

	rv = SCardListReaders(w->ctx, NULL, (LPSTR)&names, &len);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_NO_READERS_AVAILABLE)
		return -1;
	for (p = names; rv == SCARD_S_SUCCESS && p && *p; p += strlen(p) + 1) {
		for (i = 0; i < w->nreaders; i++)
			if (!strcmp(w->readers[i].name, p))
				break;
		if (i < w->nreaders) {
			seen[i] = 1;
			continue;
		}
		if (w->nreaders == READER_MAX)
			continue;
		pthread_mutex_lock(&w->lock);
		i = w->nreaders++;
		memset(&w->readers[i], 0, sizeof(w->readers[i]));
		strncpy(w->readers[i].name, p, READER_NAME_MAX - 1);
		w->states[i] = SCARD_STATE_UNAWARE;
		seen[i] = 1;
		pthread_mutex_unlock(&w->lock);
		w->cb(w->opaque, READER_ADDED, &w->readers[i]);
	}
	if (names)
		SCardFreeMemory(w->ctx, names);
	for (i = w->nreaders; i-- > 0;)
		if (!seen[i])
			drop_reader(w, i);
	return 0;
}

static void card_changes(struct reader_watch *w, SCARD_READERSTATE *rs, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < w->nreaders; i++) {
		struct reader_info *r = &w->readers[i];
		int present;

		if (!(rs[i].dwEventState & SCARD_STATE_CHANGED))
			continue;
		present = !!(rs[i].dwEventState & SCARD_STATE_PRESENT) &&
			  !(rs[i].dwEventState & SCARD_STATE_MUTE);

		w->states[i] = rs[i].dwEventState & ~SCARD_STATE_CHANGED;
		if (present == r->card_present)
			continue;
		pthread_mutex_lock(&w->lock);
		r->card_present = present;
		r->atr_len = present ? (rs[i].cbAtr < READER_ATR_MAX ? rs[i].cbAtr : READER_ATR_MAX) : 0;
		memcpy(r->atr, rs[i].rgbAtr, r->atr_len);
		pthread_mutex_unlock(&w->lock);
		w->cb(w->opaque, present ? CARD_INSERTED : CARD_REMOVED, r);
	}
}

static void go_down(struct reader_watch *w)
{
	while (w->nreaders)
		drop_reader(w, w->nreaders - 1);
	pthread_mutex_lock(&w->lock);
	if (w->have_ctx)
		SCardReleaseContext(w->ctx);
	w->have_ctx = 0;
	w->up = 0;
	w->pnp_state = SCARD_STATE_UNAWARE;	/* a new pcscd counts from its start */
	pthread_mutex_unlock(&w->lock);
	w->cb(w->opaque, PCSC_DOWN, NULL);
}

static void *watch_main(void *arg)
{
	struct reader_watch *w = arg;
	SCARD_READERSTATE rs[READER_MAX + 1];
	int logged_absent = 0;
	size_t i, n;
	LONG rv;

	while (!stopping(w)) {
		if (!w->have_ctx) {
			SCARDCONTEXT ctx;

			rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
			if (rv != SCARD_S_SUCCESS) {
				if (!logged_absent)
					log_info("pcscd is not answering (%s); will retry",
						 pcsc_stringify_error(rv));
				logged_absent = 1;
				wait_retry(w);
				continue;
			}
			pthread_mutex_lock(&w->lock);
			w->ctx = ctx;
			w->have_ctx = 1;
			w->up = 1;
			pthread_mutex_unlock(&w->lock);
			logged_absent = 0;
			log_info("watching PC/SC readers");
			w->cb(w->opaque, PCSC_UP, NULL);
		}
		if (sync_readers(w)) {
			go_down(w);
			continue;
		}
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < w->nreaders; i++) {
			rs[i].szReader = w->readers[i].name;
			rs[i].dwCurrentState = w->states[i];
		}
		n = w->nreaders;
		rs[n].szReader = PNP_READER;
		rs[n].dwCurrentState = w->pnp_state;
		/* One wait per turn, never a poll: pcsc-lite 1.9 answers a zero
		 * timeout with SCARD_E_TIMEOUT when nothing changed, and a loop
		 * that polls then spins. The PnP pseudo-reader's state carries
		 * pcsc-lite 2's reader-event counter in its high word, kept from
		 * one wait to the next so that a reader added between the listing
		 * and the wait still ends it (1.9 leaves it 0). */
		rv = SCardGetStatusChange(w->ctx, WAIT_MS, rs, (DWORD)n + 1);
		if (rv == SCARD_S_SUCCESS || rv == SCARD_E_TIMEOUT)
			w->pnp_state = rs[n].dwEventState & ~SCARD_STATE_CHANGED;
		if (rv == SCARD_S_SUCCESS)
			card_changes(w, rs, n);
		if (rv == SCARD_S_SUCCESS || rv == SCARD_E_TIMEOUT || rv == SCARD_E_CANCELLED)
			continue;
		if (rv == SCARD_E_UNKNOWN_READER || rv == SCARD_E_READER_UNAVAILABLE)
			continue;	/* a reader left between listing and waiting */
		log_info("PC/SC: %s", pcsc_stringify_error(rv));
		go_down(w);
	}
	pthread_mutex_lock(&w->lock);
	if (w->have_ctx)
		SCardReleaseContext(w->ctx);
	w->have_ctx = 0;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct reader_watch *reader_watch_start(reader_watch_cb cb, void *opaque)
{
	struct reader_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cb = cb;
	w->opaque = opaque;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, watch_main, w)) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return NULL;
	}
	return w;
}

void reader_watch_stop(struct reader_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	if (w->have_ctx)
		SCardCancel(w->ctx);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

size_t reader_watch_list(struct reader_watch *w, struct reader_info *out, size_t max,
			 int *pcsc_up)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->nreaders < max ? w->nreaders : max;
	memcpy(out, w->readers, n * sizeof(*out));
	*pcsc_up = w->up;
	pthread_mutex_unlock(&w->lock);
	return n;
}
