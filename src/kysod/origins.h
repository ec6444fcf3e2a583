/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which web origins may use the loopback listener: the allowlist the
 * machine's administrator installs (the .conf files of origins.d) and the user's own
 * pairings (a file kysod writes), both read again when they change; and the
 * pairing dialog's gate: one dialog at a time, a cool-down for an origin the
 * user refused, a short pause for every origin after any refusal. */
#ifndef KYSOD_ORIGINS_H
#define KYSOD_ORIGINS_H
#include <jansson.h>

struct origins;

/* admin_dir: a directory of *.conf files (may not exist); user_file: the
 * pairings; cooldown: seconds an origin the user refused gets no dialog.
 * Returns NULL when out of memory. */
struct origins *origins_new(const char *admin_dir, const char *user_file, unsigned int cooldown);
void origins_free(struct origins *o);

/* Whether s is a web origin as browsers serialise it: http or https, a
 * lowercase host name or IP literal, an optional port; nothing else. */
int origin_valid(const char *s);

/* Whether the user may pair s: https, or http on a loopback host (a
 * developer's own server). */
int origin_pairable(const char *s);

/* "admin" or "user" when origin may use kyso, else NULL. */
const char *origins_allowed(struct origins *o, const char *origin);

/* Adds origin to the user's pairings (and ends a cool-down). Returns 0, or -1
 * with err. */
int origins_allow(struct origins *o, const char *origin, char *err, size_t errlen);

/* Removes origin from the user's pairings, and any cool-down. Returns 0, 1
 * when it was neither paired nor cooling down, -1 with err. */
int origins_revoke(struct origins *o, const char *origin, char *err, size_t errlen);

/* {"origins":[{"origin","source"}...], "refused":[{"origin","retry_after"}...]} */
json_t *origins_list(struct origins *o);

enum pair_gate {
	PAIR_GO,		/* ask: the caller must call origins_pair_end */
	PAIR_BUSY,		/* another pairing dialog is open */
	PAIR_PAUSED,		/* a pairing was refused moments ago */
	PAIR_COOLDOWN,		/* this origin was refused: no dialog yet */
};

/* Whether a pairing dialog may be shown for origin now; *retry_after gets
 * the seconds to wait when not. */
enum pair_gate origins_pair_begin(struct origins *o, const char *origin,
				  unsigned int *retry_after);

/* The dialog for origin ended: allowed (stored by the caller), or refused
 * (the cool-down starts). */
void origins_pair_end(struct origins *o, const char *origin, int allowed);

#endif
