/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "common/log.h"
#include "common/secure.h"

/* Enough for the dialog's buffers and a few PINs in flight. */
#define SECURE_HEAP_SIZE (256 * 1024)
#define SECURE_HEAP_MIN 16

int kyso_secure_process(char *err, size_t errlen)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none)) {
		snprintf(err, errlen, "cannot turn core dumps off: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		snprintf(err, errlen, "cannot make the process undumpable: %s", strerror(errno));
		return -1;
	}
	/* 1: locked and left out of dumps; 2: the memory could not be locked
	 * (RLIMIT_MEMLOCK), still out of dumps; 0: none, plain heap then */
	if (!CRYPTO_secure_malloc_initialized() &&
	    CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, SECURE_HEAP_MIN) == 0)
		log_warn("the secure heap could not be set up; secrets live in the ordinary heap");
	return 0;
}

void *kyso_secret_alloc(size_t n)
{
	void *p = NULL;

	if (CRYPTO_secure_malloc_initialized()) {
		/* a full secure heap leaves an error on the queue: not ours to report */
		ERR_set_mark();
		p = OPENSSL_secure_zalloc(n);
		ERR_pop_to_mark();
	}
	return p ? p : OPENSSL_zalloc(n);
}

void kyso_secret_free(void *p, size_t n)
{
	if (!p)
		return;
	if (CRYPTO_secure_allocated(p))
		OPENSSL_secure_clear_free(p, n);
	else
		OPENSSL_clear_free(p, n);
}
