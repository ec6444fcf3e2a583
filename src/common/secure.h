/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keeping secrets out of reach of other processes of the same user: no core
 * dumps, no ptrace attach or /proc/PID/mem read, and PIN buffers in locked
 * memory left out of any dump (OpenSSL's secure heap). */
#ifndef KYSO_SECURE_H
#define KYSO_SECURE_H
#include <stddef.h>

/* Makes the calling process not dumpable (so not ptrace-attachable by the same
 * user) with a core size limit of 0, and sets up the secure heap for secrets.
 * Call early in main, before any thread starts. Returns 0, or -1 with a
 * message in err when the process could not be protected. */
int kyso_secure_process(char *err, size_t errlen);

/* Memory for a secret: from the secure heap when there is room, else the
 * ordinary heap. Wiped when freed. NULL when out of memory. */
void *kyso_secret_alloc(size_t n);

/* Wipes and frees what kyso_secret_alloc returned (n its size); NULL is fine. */
void kyso_secret_free(void *p, size_t n);

#endif
