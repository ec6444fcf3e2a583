/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "kysod/autoload.h"
#include "kysod/helpers.h"
#include "tokens/catalogue.h"

void autoload_init(struct kysod *d)
{
	char err[512];

	if (!d->cfg.catalogue || !*d->cfg.catalogue)
		return;
	if (!strcmp(d->cfg.catalogue, KYSO_TOKENS_DIR) && access(KYSO_TOKENS_DIR, F_OK)) {
		/* not installed (kysod run from a build tree) */
		log_info("no token catalogue in %s; set catalogue to use one", KYSO_TOKENS_DIR);
		return;
	}
	d->catalogue = kyso_catalogue_load(d->cfg.catalogue, err, sizeof(err));
	if (!d->catalogue)
		log_warn("token catalogue not loaded: %s", err);
	else
		log_info("token catalogue %s: %zu token kinds", d->cfg.catalogue,
			 kyso_catalogue_count(d->catalogue));
}

void autoload_free(struct kysod *d)
{
	if (d->catalogue)
		kyso_catalogue_free(d->catalogue);
	d->catalogue = NULL;
}

const char *autoload_kind(struct kysod *d, const unsigned char *atr, size_t len)
{
	const struct kyso_token_kind *kind;

	if (!d->catalogue)
		return NULL;
	kind = kyso_catalogue_match_atr(d->catalogue, atr, len);
	return kind ? kyso_token_kind_name(kind) : NULL;
}

/* Installed and in the admin's allowlist. */
static int usable(const char *path, void *ctx)
{
	struct kysod *d = ctx;
	char resolved[PATH_MAX], err[PATH_MAX + 128];

	return access(path, R_OK) == 0 &&
	       kysod_module_allowed(&d->cfg, path, resolved, err, sizeof(err)) == 0;
}

void autoload_card(struct kysod *d, const unsigned char *atr, size_t len)
{
	const struct kyso_token_kind *kind;
	char path[PATH_MAX];
	long workers = 1;

	if (!d->catalogue || !d->cfg.auto_modules)
		return;
	kind = kyso_catalogue_match_atr(d->catalogue, atr, len);
	/* A card whose ATR is not listed may still be a PIV card, which the
	 * catalogue finds by its applet: those go to the PIV kind's module
	 * (OpenSC, which also knows many other cards). */
	if (!kind)
		kind = kyso_catalogue_match_applet(d->catalogue, KYSO_TOKEN_MATCH_PIV);
	if (!kind)
		return;
	if (kyso_catalogue_pick_module(kind, usable, d, path, sizeof(path))) {
		log_warn("%s inserted, but none of its modules is installed and allowed",
			 kyso_token_kind_name(kind));
		return;
	}
	if (!kyso_token_kind_quirk(kind, "parallel_sessions", &workers))
		workers = 1;
	if (helpers_add(d, kyso_token_kind_id(kind), path, (unsigned int)workers) < 0)
		log_warn("%s inserted, but its module %s could not be started",
			 kyso_token_kind_name(kind), path);
}
