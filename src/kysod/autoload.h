/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Modules chosen by the token catalogue for the cards that are inserted. */
#ifndef KYSOD_AUTOLOAD_H
#define KYSOD_AUTOLOAD_H
#include <stddef.h>

#include "kysod/daemon.h"

/* Loads the catalogue named by the configuration (a missing or broken one is
 * logged and leaves d->catalogue NULL). */
void autoload_init(struct kysod *d);
void autoload_free(struct kysod *d);

/* The catalogue's name for a card with this ATR, or NULL when it is unknown. */
const char *autoload_kind(struct kysod *d, const unsigned char *atr, size_t len);

/* A card was inserted: when the catalogue knows it, start the first of its
 * modules that is installed and allowed, unless one runs already. */
void autoload_card(struct kysod *d, const unsigned char *atr, size_t len);

#endif
