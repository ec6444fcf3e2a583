/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: the client object, its socket and timeout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "kyso/kyso.h"
#include "client-internal.h"

static char *default_socket_path(void)
{
	const char *env;
	char *path = NULL;

	env = secure_getenv("KYSO_SOCKET");
	if (env && *env)
		return strdup(env);
	env = secure_getenv("XDG_RUNTIME_DIR");
	if (env && *env) {
		if (asprintf(&path, "%s/kyso/kyso.sock", env) < 0)
			path = NULL;
	} else {
		if (asprintf(&path, "/run/user/%u/kyso/kyso.sock", (unsigned)getuid()) < 0)
			path = NULL;
	}
	return path;
}

const char *kyso_version(void)
{
	return KYSO_VERSION;
}

struct kyso_client *kyso_client_new(const char *socket_path)
{
	struct kyso_client *c;
	int ok = 0;

	pthread_condattr_t attr;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	lk_error_clear(&c->last_error);
	/* first, so that kyso_client_free() may always destroy them */
	pthread_mutex_init(&c->ev_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->ev_cond, &attr);
	pthread_condattr_destroy(&attr);
	c->socket_path = socket_path ? strdup(socket_path) : default_socket_path();
	if (!c->socket_path)
		goto out;
	/* Reference counted by libcurl; undone in kyso_client_free(). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	c->curl = curl_easy_init();
	if (!c->curl) {
		curl_global_cleanup();
		goto out;
	}
	if (curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_errbuf) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
			     (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "libkyso/" KYSO_VERSION) != CURLE_OK)
		goto out;
	ok = 1;
out:
	if (!ok) {
		kyso_client_free(c);
		c = NULL;
	}
	return c;
}

void kyso_client_free(struct kyso_client *c)
{
	if (!c)
		return;
	if (c->ev_multi)
		curl_multi_cleanup(c->ev_multi);
	if (c->ev_curl)
		curl_easy_cleanup(c->ev_curl);
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	pthread_cond_destroy(&c->ev_cond);
	pthread_mutex_destroy(&c->ev_lock);
	free(c->socket_path);
	free(c);
}

const char *kyso_client_socket(const struct kyso_client *c)
{
	return c ? c->socket_path : NULL;
}

int kyso_client_set_timeout(struct kyso_client *c, long seconds)
{
	if (!c || seconds < 0)
		return -1;
	c->timeout = seconds;
	return 0;
}

const struct kyso_error *kyso_client_last_error(const struct kyso_client *c)
{
	static const struct kyso_error none = {
		.code = "invalid_argument",
		.message = "no client given",
		.index = -1,
	};

	return c ? &c->last_error : &none;
}

void kyso_free(void *p)
{
	free(p);
}
