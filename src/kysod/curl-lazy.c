/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "kysod/curl-lazy.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct curl_api api;
static int loaded;

/* Resolves name into *fn; returns -1 when it is missing. */
static int resolve(void *lib, const char *name, void *fn, char *err, size_t errlen)
{
	void *sym = dlsym(lib, name);

	if (!sym) {
		snprintf(err, errlen, "%s has no %s", KYSO_LIBCURL_SONAME, name);
		return -1;
	}
	/* POSIX: a function pointer and an object pointer share a representation */
	*(void **)fn = sym;
	return 0;
}

static int load(char *err, size_t errlen)
{
	CURLcode (*global_init)(long flags) = NULL;
	void *lib;
	const char *why;

	lib = dlopen(KYSO_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		why = dlerror();
		snprintf(err, errlen, "libcurl cannot be loaded: %s", why ? why : KYSO_LIBCURL_SONAME);
		return -1;
	}
	if (resolve(lib, "curl_global_init", &global_init, err, errlen) ||
	    resolve(lib, "curl_easy_init", &api.easy_init, err, errlen) ||
	    resolve(lib, "curl_easy_setopt", &api.easy_setopt, err, errlen) ||
	    resolve(lib, "curl_easy_perform", &api.easy_perform, err, errlen) ||
	    resolve(lib, "curl_easy_getinfo", &api.easy_getinfo, err, errlen) ||
	    resolve(lib, "curl_easy_strerror", &api.easy_strerror, err, errlen) ||
	    resolve(lib, "curl_easy_cleanup", &api.easy_cleanup, err, errlen) ||
	    resolve(lib, "curl_slist_append", &api.slist_append, err, errlen) ||
	    resolve(lib, "curl_slist_free_all", &api.slist_free_all, err, errlen))
		goto fail;
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl cannot be initialised");
		goto fail;
	}
	/* kept loaded for good: libcurl's global state outlives its handles */
	return 0;
fail:
	dlclose(lib);
	return -1;
}

const struct curl_api *curl_api_get(char *err, size_t errlen)
{
	const struct curl_api *ret = NULL;

	/* curl_global_init is not thread-safe: one loader at a time */
	pthread_mutex_lock(&lock);
	if (loaded || load(err, errlen) == 0) {
		loaded = 1;
		ret = &api;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int curl_api_loaded(void)
{
	int ret;

	pthread_mutex_lock(&lock);
	ret = loaded;
	pthread_mutex_unlock(&lock);
	return ret;
}
