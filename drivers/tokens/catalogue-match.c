/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: finding a token's kind by USB id, ATR (mask-aware, the
 * most specific pattern winning), applet or software module path. */
#include <fnmatch.h>
#include <string.h>

#include "tokens/catalogue-internal.h"

/* ---------------------------------------------------------------- lookups */

size_t kyso_catalogue_count(const struct kyso_catalogue *cat)
{
	return cat ? cat->n : 0;
}

const struct kyso_token_kind *kyso_catalogue_kind(const struct kyso_catalogue *cat, size_t i)
{
	return cat && i < cat->n ? cat->kinds[i] : NULL;
}

const struct kyso_token_kind *kyso_catalogue_find(const struct kyso_catalogue *cat,
						  const char *id)
{
	size_t i;

	for (i = 0; cat && i < cat->n; i++)
		if (!strcmp(cat->kinds[i]->id, id))
			return cat->kinds[i];
	return NULL;
}

const struct kyso_token_kind *kyso_catalogue_match_usb(const struct kyso_catalogue *cat,
						       uint16_t vid, uint16_t pid)
{
	size_t k, i;

	for (k = 0; cat && k < cat->n; k++)
		for (i = 0; i < cat->kinds[k]->n_usb; i++)
			if (cat->kinds[k]->usb[i].vid == vid && cat->kinds[k]->usb[i].pid == pid)
				return cat->kinds[k];
	return NULL;
}

static int pattern_matches(const struct atr_pattern *pat, const unsigned char *atr, size_t len)
{
	size_t i;

	if (pat->len != len)
		return 0;
	for (i = 0; i < len; i++)
		if ((atr[i] & pat->mask[i]) != pat->atr[i])
			return 0;
	return 1;
}

const struct kyso_token_kind *kyso_catalogue_match_atr(const struct kyso_catalogue *cat,
						       const unsigned char *atr, size_t len)
{
	const struct kyso_token_kind *best = NULL;
	unsigned int best_weight = 0;
	size_t k, i;

	if (!cat || !atr || !len || len > KYSO_ATR_MAX)
		return NULL;
	for (k = 0; k < cat->n; k++)
		for (i = 0; i < cat->kinds[k]->n_atr; i++) {
			const struct atr_pattern *pat = &cat->kinds[k]->atr[i];

			if (!pattern_matches(pat, atr, len))
				continue;
			if (!best || pat->weight > best_weight) {
				best = cat->kinds[k];
				best_weight = pat->weight;
			}
		}
	return best;
}

const struct kyso_token_kind *kyso_catalogue_match_applet(const struct kyso_catalogue *cat,
							  enum kyso_token_match which)
{
	size_t k;

	if (which != KYSO_TOKEN_MATCH_PIV && which != KYSO_TOKEN_MATCH_OPENPGP)
		return NULL;
	for (k = 0; cat && k < cat->n; k++)
		if (cat->kinds[k]->match == which)
			return cat->kinds[k];
	return NULL;
}

const struct kyso_token_kind *kyso_catalogue_match_software(const struct kyso_catalogue *cat,
							    const char *path)
{
	size_t k, i;

	for (k = 0; cat && path && k < cat->n; k++) {
		const struct kyso_token_kind *kind = cat->kinds[k];

		if (kind->match != KYSO_TOKEN_MATCH_SOFTWARE)
			continue;
		for (i = 0; i < kind->n_modules; i++) {
			const char *m = kind->modules[i];

			if (catalogue_is_glob(m) ? !fnmatch(m, path, FNM_PATHNAME) : !strcmp(m, path))
				return kind;
		}
	}
	return NULL;
}
