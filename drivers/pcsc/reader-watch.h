/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Watches PC/SC readers and cards through pcsc-lite: a thread with its own
 * context blocks in SCardGetStatusChange on the PnP pseudo-reader and every
 * known reader, and reports each change. Survives pcscd being absent or
 * restarted. */
#ifndef KYSO_READER_WATCH_H
#define KYSO_READER_WATCH_H
#include <stddef.h>

#define READER_NAME_MAX 128
#define READER_ATR_MAX 33
#define READER_MAX 16

struct reader_info {
	char name[READER_NAME_MAX];
	int card_present;
	unsigned char atr[READER_ATR_MAX];
	size_t atr_len;
};

enum reader_event {
	READER_ADDED,
	READER_REMOVED,
	CARD_INSERTED,
	CARD_REMOVED,
	PCSC_UP,		/* r is NULL */
	PCSC_DOWN,		/* r is NULL */
};

/* Called on the watcher's thread; must not block for long. */
typedef void (*reader_watch_cb)(void *opaque, enum reader_event ev, const struct reader_info *r);

struct reader_watch;

struct reader_watch *reader_watch_start(reader_watch_cb cb, void *opaque);
void reader_watch_stop(struct reader_watch *w);

/* Copies the current readers into out (max entries); returns how many, and
 * sets *pcsc_up to whether pcscd answers. */
size_t reader_watch_list(struct reader_watch *w, struct reader_info *out, size_t max,
			 int *pcsc_up);

#endif
