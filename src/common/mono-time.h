/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Waits on the monotonic clock: condition variables that time out against
 * CLOCK_MONOTONIC (never moved by a clock change), and deadlines on it. */
#ifndef KYSO_MONO_TIME_H
#define KYSO_MONO_TIME_H
#include <pthread.h>
#include <time.h>

/* pthread_cond_init for a condition whose timed waits use kyso_deadline_ms. */
int kyso_cond_init(pthread_cond_t *cond);

/* *ts = now + ms, on CLOCK_MONOTONIC. */
void kyso_deadline_ms(struct timespec *ts, long ms);

/* Milliseconds left until ts (rounded up; 0 once reached), for poll(). */
int kyso_ms_until(const struct timespec *ts);

/* Whether the monotonic clock has reached ts. */
int kyso_deadline_passed(const struct timespec *ts);

#endif
