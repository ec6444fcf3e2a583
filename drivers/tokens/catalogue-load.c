/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: loading the directory of NAME.conf files (each parsed by
 * catalogue-parse.c) in name order, and the checks across files. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokens/catalogue-internal.h"

#define MAX_ID		64		/* file name without ".conf" */

void catalogue_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void kyso_catalogue_free(struct kyso_catalogue *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->n; i++)
		catalogue_kind_free(cat->kinds[i]);
	free(cat->kinds);
	free(cat);
}

/* ---------------------------------------------------------------- the directory */

/* "<id>.conf" with id of [a-z0-9][a-z0-9._-]*; dot files are skipped. */
static int conf_id(const char *file, char *id, size_t idlen)
{
	size_t len = strlen(file), i;

	if (file[0] == '.' || len <= 5 || strcmp(file + len - 5, ".conf"))
		return 0;
	len -= 5;
	if (len >= idlen)
		return -1;
	for (i = 0; i < len; i++) {
		char c = file[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    (i == 0 || !strchr("._-", c)))
			return -1;
	}
	memcpy(id, file, len);
	id[len] = '\0';
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int same_pattern(const struct atr_pattern *a, const struct atr_pattern *b)
{
	return a->len == b->len && !memcmp(a->atr, b->atr, a->len) &&
	       !memcmp(a->mask, b->mask, a->len);
}

/* USB ids and ATR patterns that kind a lists and kind b, read before it, already
 * listed. Returns 0 or -1 with err set. */
static int check_pair(const struct kyso_token_kind *a, const struct kyso_token_kind *b,
		      char *err, size_t errlen)
{
	size_t i, m;

	for (i = 0; i < a->n_usb; i++)
		for (m = 0; m < b->n_usb; m++)
			if (a->usb[i].vid == b->usb[m].vid && a->usb[i].pid == b->usb[m].pid) {
				catalogue_set_err(err, errlen,
					"%s.conf: usb id %04x:%04x is already listed by %s.conf",
					a->id, a->usb[i].vid, a->usb[i].pid, b->id);
				return -1;
			}
	for (i = 0; i < a->n_atr; i++)
		for (m = 0; m < b->n_atr; m++)
			if (same_pattern(&a->atr[i], &b->atr[m])) {
				catalogue_set_err(err, errlen, "%s.conf: an atr is already listed by %s.conf",
					a->id, b->id);
				return -1;
			}
	return 0;
}

/* Checks what no single file can: ids, ATRs and applets claimed twice. */
static int check_catalogue(const struct kyso_catalogue *cat, char *err, size_t errlen)
{
	size_t k, j, i, m;

	for (k = 0; k < cat->n; k++) {
		const struct kyso_token_kind *a = cat->kinds[k];

		for (j = 0; j < k; j++) {
			const struct kyso_token_kind *b = cat->kinds[j];

			if (a->match != KYSO_TOKEN_MATCH_DEVICE && a->match == b->match &&
			    a->match != KYSO_TOKEN_MATCH_SOFTWARE) {
				catalogue_set_err(err, errlen,
					"%s.conf: match = %s is already claimed by %s.conf", a->id,
					kyso_token_match_name(a->match), b->id);
				return -1;
			}
			if (check_pair(a, b, err, errlen))
				return -1;
		}
		for (i = 0; i < a->n_atr; i++)
			for (m = 0; m < i; m++)
				if (same_pattern(&a->atr[i], &a->atr[m])) {
					catalogue_set_err(err, errlen, "%s.conf: an atr is listed twice",
						a->id);
					return -1;
				}
	}
	return 0;
}

struct kyso_catalogue *kyso_catalogue_load(const char *dir, char *err, size_t errlen)
{
	struct kyso_catalogue *cat = NULL, *ret = NULL;
	char **names = NULL;
	size_t n_names = 0, i;
	DIR *d = NULL;
	struct dirent *de;
	int dfd;

	d = opendir(dir);
	if (!d) {
		catalogue_set_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	dfd = dirfd(d);
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		goto oom;
	errno = 0;
	while ((de = readdir(d))) {
		char id[MAX_ID];
		char **grown;
		int r = conf_id(de->d_name, id, sizeof(id));

		if (r < 0) {
			catalogue_set_err(err, errlen,
				"%s: bad file name (want a lowercase name of letters, digits, "
				"._- and .conf)", de->d_name);
			goto out;
		}
		if (!r)
			continue;
		grown = realloc(names, (n_names + 1) * sizeof(*grown));
		if (!grown)
			goto oom;
		names = grown;
		names[n_names] = strdup(de->d_name);
		if (!names[n_names])
			goto oom;
		n_names++;
		errno = 0;
	}
	if (errno) {
		catalogue_set_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (n_names)
		qsort(names, n_names, sizeof(*names), cmp_names);
	cat->kinds = calloc(n_names ? n_names : 1, sizeof(*cat->kinds));
	if (!cat->kinds)
		goto oom;
	for (i = 0; i < n_names; i++) {
		char id[MAX_ID];

		conf_id(names[i], id, sizeof(id));
		cat->kinds[cat->n] = catalogue_parse_file(dfd, names[i], id, err, errlen);
		if (!cat->kinds[cat->n])
			goto out;
		cat->n++;
	}
	if (check_catalogue(cat, err, errlen))
		goto out;
	ret = cat;
	cat = NULL;
	goto out;
oom:
	catalogue_set_err(err, errlen, "%s: out of memory", dir);
out:
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	kyso_catalogue_free(cat);
	if (d)
		closedir(d);
	return ret;
}
