/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: one NAME.conf file into a kind, through the INI reader
 * (src/common/ini-reader.c): its [token], [atr NAME] and [provisioning] keys,
 * ATR text, and the checks of the whole file. docs/tokens.md has the format. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ini-reader.h"
#include "tokens/catalogue-internal.h"

#define MAX_FILE_SIZE	(64 * 1024)	/* a token file is a dozen lines */
#define MAX_TEXT	128		/* name, vendor */

/* The quirks kyso knows; docs/tokens.md says what each one changes. */
static const struct quirk_def quirk_defs[] = {
	{ "always_authenticate", 0, 0, 0 },
	{ "login_once", 0, 0, 0 },
	{ "no_raw_rsa", 0, 0, 0 },
	{ "parallel_sessions", 1, 1, 16 },	/* kysod's [module] workers range */
	{ "touch", 0, 0, 0 },
};

#define N_QUIRK_DEFS (sizeof(quirk_defs) / sizeof(quirk_defs[0]))

/* ---------------------------------------------------------------- ATR text */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Hex bytes, separated or run together; ".." only when wild is non-NULL, which
 * then receives ff for a byte and 00 for a wildcard. */
static int parse_bytes(const char *text, unsigned char *out, unsigned char *wild, char *err,
		       size_t errlen)
{
	const char *p = text, *end;
	int separated, n = 0;

	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end) {
		catalogue_set_err(err, errlen, "no bytes");
		return -1;
	}
	separated = memchr(p, ':', end - p) || memchr(p, ' ', end - p) || memchr(p, '\t', end - p);
	if (!separated && (end - p) % 2) {
		catalogue_set_err(err, errlen, "odd number of hex digits");
		return -1;
	}
	while (p < end) {
		int hi, lo;

		if (n == KYSO_ATR_MAX) {
			catalogue_set_err(err, errlen, "more than %d bytes", KYSO_ATR_MAX);
			return -1;
		}
		if (end - p < 2 || (separated && end - p > 2 && p[2] != ':' && !is_blank(p[2]))) {
			catalogue_set_err(err, errlen, "byte %d is not two hex digits", n + 1);
			return -1;
		}
		if (p[0] == '.' && p[1] == '.') {
			if (!wild) {
				catalogue_set_err(err, errlen, "byte %d: no wildcard allowed here", n + 1);
				return -1;
			}
			out[n] = 0;
			wild[n] = 0;
		} else {
			hi = hex_digit((unsigned char)p[0]);
			lo = hex_digit((unsigned char)p[1]);
			if (hi < 0 || lo < 0) {
				catalogue_set_err(err, errlen, "byte %d is not two hex digits", n + 1);
				return -1;
			}
			out[n] = (unsigned char)(hi << 4 | lo);
			if (wild)
				wild[n] = 0xff;
		}
		n++;
		p += 2;
		if (!separated || p == end)
			continue;
		if (*p == ':')
			p++;
		else
			while (is_blank(*p))
				p++;
		if (p == end || *p == ':' || is_blank(*p)) {
			catalogue_set_err(err, errlen, "empty byte after byte %d", n);
			return -1;
		}
	}
	return n;
}

int kyso_atr_parse(const char *text, unsigned char *atr, unsigned char *mask, char *err,
		   size_t errlen)
{
	int n = parse_bytes(text, atr, mask, err, errlen);

	if (n < 0)
		return -1;
	if (n < 2) {
		catalogue_set_err(err, errlen, "an ATR has at least 2 bytes");
		return -1;
	}
	if ((mask && mask[0] != 0xff) || (atr[0] != 0x3b && atr[0] != 0x3f)) {
		catalogue_set_err(err, errlen, "an ATR starts with 3b or 3f");
		return -1;
	}
	return n;
}

/* ---------------------------------------------------------------- small parsers */

static int parse_usb(const char *s, struct usb_id *id)
{
	unsigned int v[2] = { 0, 0 };
	int i, k;

	if (strlen(s) != 9 || s[4] != ':')
		return -1;
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++) {
			int d = hex_digit((unsigned char)s[k * 5 + i]);

			if (d < 0)
				return -1;
			v[k] = v[k] << 4 | (unsigned int)d;
		}
	id->vid = (uint16_t)v[0];
	id->pid = (uint16_t)v[1];
	return 0;
}

/* Printable text that a udev rule can carry as is: no control characters, and
 * none of '"', '\' (quoting), '$', '%' (udev substitutions). */
static const char *check_text(const char *s)
{
	const unsigned char *p;

	if (!*s)
		return "is empty";
	if (strlen(s) > MAX_TEXT)
		return "is too long";
	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("\"\\$%", *p))
			return "has a control character or one of \" \\ $ %";
	return NULL;
}

static const struct quirk_def *find_quirk_def(const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < N_QUIRK_DEFS; i++)
		if (strlen(quirk_defs[i].key) == keylen && !strncmp(quirk_defs[i].key, key, keylen))
			return &quirk_defs[i];
	return NULL;
}

/* ---------------------------------------------------------------- freeing */

void catalogue_kind_free(struct kyso_token_kind *kind)
{
	size_t i;

	if (!kind)
		return;
	free(kind->id);
	free(kind->name);
	free(kind->vendor);
	free(kind->usb);
	for (i = 0; i < kind->n_atr; i++)
		free(kind->atr[i].label);
	free(kind->atr);
	for (i = 0; i < kind->n_modules; i++)
		free(kind->modules[i]);
	free(kind->modules);
	free(kind->quirks);
	free(kind);
}

/* ---------------------------------------------------------------- one file */

enum section_kind { SEC_NONE, SEC_TOKEN, SEC_ATR, SEC_PROV, SEC_BAD };

#define SEEN_NAME	0x1
#define SEEN_VENDOR	0x2
#define SEEN_MATCH	0x4
#define SEEN_PIN_LENGTH	0x10
#define SEEN_PUK_LENGTH	0x20
#define SEEN_PIN_TRIES	0x40
#define SEEN_PUK_TRIES	0x80
#define SEEN_UNBLOCK	0x100
#define SEEN_MGMT_KEY	0x200

struct parse_state {
	struct kyso_token_kind *kind;
	struct kyso_ini *ini;		/* the reader, in its callbacks */
	const char *file;
	char *err;
	size_t errlen;
	char section[KYSO_INI_LINE_MAX];	/* the section as inih last reported it */
	enum section_kind sec;
	char **seen_sections;
	size_t n_seen_sections;
	int token_section;		/* [token] was seen */
	unsigned int seen;		/* SEEN_* */
	long token_atr;			/* index of [token]'s own pattern, or -1 */
	long cur_atr;			/* index of the current [atr NAME] pattern */
};

/* An error on the line being parsed; 0 for the reader. */
#define fail(st, ...)	kyso_ini_fail((st)->ini, __VA_ARGS__)

/* An error in the current section's header line. */
#define fail_section(st, ...) \
	kyso_ini_fail_at((st)->ini, kyso_ini_section_line((st)->ini) ? \
			 kyso_ini_section_line((st)->ini) : kyso_ini_line((st)->ini), __VA_ARGS__)

static int fail_oom(struct parse_state *st)
{
	return fail(st, "out of memory");
}

static long new_pattern(struct parse_state *st, const char *label)
{
	struct kyso_token_kind *kind = st->kind;
	struct atr_pattern *grown;

	grown = realloc(kind->atr, (kind->n_atr + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	kind->atr = grown;
	memset(&kind->atr[kind->n_atr], 0, sizeof(*grown));
	if (label) {
		kind->atr[kind->n_atr].label = strdup(label);
		if (!kind->atr[kind->n_atr].label)
			return -1;
	}
	return (long)kind->n_atr++;
}

static int valid_label(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return 0;
	return 1;
}

/* The handler saw a section other than the last one. */
static int start_section(struct parse_state *st, const char *section)
{
	char **grown;
	size_t i;

	snprintf(st->section, sizeof(st->section), "%s", section);
	st->sec = SEC_BAD;
	for (i = 0; i < st->n_seen_sections; i++)
		if (!strcmp(st->seen_sections[i], section))
			return fail_section(st, "section [%s] appears twice", section);
	grown = realloc(st->seen_sections, (st->n_seen_sections + 1) * sizeof(*grown));
	if (!grown)
		return fail_oom(st);
	st->seen_sections = grown;
	grown[st->n_seen_sections] = strdup(section);
	if (!grown[st->n_seen_sections])
		return fail_oom(st);
	st->n_seen_sections++;

	if (!strcmp(section, "token")) {
		st->sec = SEC_TOKEN;
		st->token_section = 1;
		return 1;
	}
	if (!strcmp(section, "provisioning")) {
		st->sec = SEC_PROV;
		st->kind->prov.present = 1;
		return 1;
	}
	if (!strncmp(section, "atr", 3) && is_blank(section[3])) {
		const char *label = section + 4;

		while (is_blank(*label))
			label++;
		if (!valid_label(label))
			return fail_section(st, "[atr NAME]: NAME may hold letters, digits and "
					    "._+- only");
		st->cur_atr = new_pattern(st, label);
		if (st->cur_atr < 0)
			return fail_oom(st);
		st->sec = SEC_ATR;
		return 1;
	}
	return fail_section(st, "unknown section [%s] (want [token], [atr NAME] or [provisioning])",
			    section);
}

static int set_scalar(struct parse_state *st, unsigned int bit, char **dst, const char *key,
		      const char *value)
{
	const char *why;

	if (st->seen & bit)
		return fail(st, "'%s' is set twice", key);
	st->seen |= bit;
	why = check_text(value);
	if (why)
		return fail(st, "'%s' %s", key, why);
	*dst = strdup(value);
	return *dst ? 1 : fail_oom(st);
}

static int set_match(struct parse_state *st, const char *value)
{
	static const enum kyso_token_match all[] = {
		KYSO_TOKEN_MATCH_DEVICE, KYSO_TOKEN_MATCH_PIV, KYSO_TOKEN_MATCH_OPENPGP,
		KYSO_TOKEN_MATCH_SOFTWARE,
	};
	size_t i;

	if (st->seen & SEEN_MATCH)
		return fail(st, "'match' is set twice");
	st->seen |= SEEN_MATCH;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(value, kyso_token_match_name(all[i]))) {
			st->kind->match = all[i];
			return 1;
		}
	return fail(st, "unknown match '%s' (want device, piv, openpgp or software)", value);
}

static int add_usb(struct parse_state *st, const char *word)
{
	struct kyso_token_kind *kind = st->kind;
	struct usb_id id, *grown;
	size_t i;

	if (parse_usb(word, &id))
		return fail(st, "bad usb id '%s' (want vid:pid, 4 hex digits each)", word);
	for (i = 0; i < kind->n_usb; i++)
		if (kind->usb[i].vid == id.vid && kind->usb[i].pid == id.pid)
			return fail(st, "usb id %s is listed twice", word);
	grown = realloc(kind->usb, (kind->n_usb + 1) * sizeof(*grown));
	if (!grown)
		return fail_oom(st);
	kind->usb = grown;
	kind->usb[kind->n_usb++] = id;
	return 1;
}

static int add_module(struct parse_state *st, const char *word)
{
	struct kyso_token_kind *kind = st->kind;
	char **grown;
	size_t i;

	if (strcmp(word, "opensc") && word[0] != '/')
		return fail(st, "module '%s' is neither an absolute path nor 'opensc'", word);
	if (strlen(word) >= PATH_MAX)
		return fail(st, "module path is too long");
	for (i = 0; i < kind->n_modules; i++)
		if (!strcmp(kind->modules[i], word))
			return fail(st, "module '%s' is listed twice", word);
	grown = realloc(kind->modules, (kind->n_modules + 1) * sizeof(*grown));
	if (!grown)
		return fail_oom(st);
	kind->modules = grown;
	kind->modules[kind->n_modules] = strdup(word);
	if (!kind->modules[kind->n_modules])
		return fail_oom(st);
	kind->n_modules++;
	return 1;
}

static int add_quirk(struct parse_state *st, const char *word)
{
	struct kyso_token_kind *kind = st->kind;
	const char *eq = strchr(word, '=');
	size_t keylen = eq ? (size_t)(eq - word) : strlen(word);
	const struct quirk_def *def = find_quirk_def(word, keylen);
	struct quirk *grown;
	long value = 1;
	size_t i;

	if (!def)
		return fail(st, "unknown quirk '%.*s'", (int)keylen, word);
	if (def->numeric) {
		char *end;

		if (!eq || !eq[1])
			return fail(st, "quirk '%s' needs a value (%s=N)", def->key, def->key);
		errno = 0;
		value = strtol(eq + 1, &end, 10);
		if (errno || *end || !isdigit((unsigned char)eq[1]) || value < def->min ||
		    value > def->max)
			return fail(st, "quirk '%s' wants a number from %ld to %ld", def->key,
				    def->min, def->max);
	} else if (eq) {
		return fail(st, "quirk '%s' takes no value", def->key);
	}
	for (i = 0; i < kind->n_quirks; i++)
		if (kind->quirks[i].def == def)
			return fail(st, "quirk '%s' is set twice", def->key);
	grown = realloc(kind->quirks, (kind->n_quirks + 1) * sizeof(*grown));
	if (!grown)
		return fail_oom(st);
	kind->quirks = grown;
	kind->quirks[kind->n_quirks].def = def;
	kind->quirks[kind->n_quirks].value = value;
	kind->n_quirks++;
	return 1;
}

/* Splits value on blanks and hands each word to add(). A word starting with ';'
 * starts a comment: inih (version 55) keeps the inline comments of continued
 * lines in the value. */
static int add_words(struct parse_state *st, const char *value,
		     int (*add)(struct parse_state *, const char *))
{
	char *copy = strdup(value), *save = NULL, *word;
	int ret = 1;

	if (!copy)
		return fail_oom(st);
	for (word = strtok_r(copy, " \t", &save); word && ret && word[0] != ';';
	     word = strtok_r(NULL, " \t", &save))
		ret = add(st, word);
	free(copy);
	return ret;
}

static int set_atr(struct parse_state *st, long index, const char *key, const char *value)
{
	struct atr_pattern *pat = &st->kind->atr[index];
	char why[128];
	int n;

	if (!strcmp(key, "atr")) {
		if (pat->has_atr)
			return fail(st, "'atr' is set twice in [%s]", st->section);
		pat->has_atr = 1;
		n = kyso_atr_parse(value, pat->atr, pat->mask, why, sizeof(why));
		if (n < 0)
			return fail(st, "bad atr: %s", why);
		pat->len = (size_t)n;
		return 1;
	}
	if (pat->has_mask)
		return fail(st, "'atr_mask' is set twice in [%s]", st->section);
	pat->has_mask = 1;
	n = parse_bytes(value, pat->user_mask, NULL, why, sizeof(why));
	if (n < 0)
		return fail(st, "bad atr_mask: %s", why);
	pat->user_mask_len = (size_t)n;
	return 1;
}

static int on_token_key(struct parse_state *st, const char *name, const char *value)
{
	if (!strcmp(name, "name"))
		return set_scalar(st, SEEN_NAME, &st->kind->name, name, value);
	if (!strcmp(name, "vendor"))
		return set_scalar(st, SEEN_VENDOR, &st->kind->vendor, name, value);
	if (!strcmp(name, "match"))
		return set_match(st, value);
	if (!strcmp(name, "usb"))
		return add_words(st, value, add_usb);
	if (!strcmp(name, "module"))
		return add_words(st, value, add_module);
	if (!strcmp(name, "quirks"))
		return add_words(st, value, add_quirk);
	if (!strcmp(name, "atr") || !strcmp(name, "atr_mask")) {
		if (st->token_atr < 0) {
			st->token_atr = new_pattern(st, NULL);
			if (st->token_atr < 0)
				return fail_oom(st);
		}
		return set_atr(st, st->token_atr, name, value);
	}
	return fail(st, "unknown key '%s' in [token]", name);
}

/* ---------------------------------------------------------------- [provisioning] */

static const char *const unblock_names[] = { "puk", "so-pin" };
static const char *const mgmt_key_names[] = { "none", "3des", "aes128", "aes192", "aes256" };

#define PROV_MAX	255	/* lengths and tries: what an APDU's byte can say */

static int add_safe_op(struct parse_state *st, const char *word)
{
	struct prov_facts *pv = &st->kind->prov;
	enum kyso_prov_op op;

	if (!strcmp(word, "none")) {
		if (pv->safe_none || pv->safe)
			return fail(st, "'none' must be the only word of 'safe'");
		pv->safe_none = 1;
		return 1;
	}
	if (kyso_prov_op_parse(word, &op))
		return fail(st, "unknown operation '%s' (want init, pin-change, pin-unblock, "
			    "pin-set, keygen, import, delete, wipe, or none alone)", word);
	if (pv->safe_none)
		return fail(st, "'none' must be the only word of 'safe'");
	if (pv->safe & (1u << op))
		return fail(st, "operation '%s' is listed twice", word);
	pv->safe |= 1u << op;
	return 1;
}

/* Digits only, 1 to PROV_MAX; end gets what follows them. */
static int prov_number(const char *s, const char **end, unsigned int *out)
{
	unsigned int v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p) && v <= PROV_MAX)
		v = v * 10 + (unsigned int)(*p++ - '0');
	if (p == s || isdigit((unsigned char)*p) || v < 1 || v > PROV_MAX)
		return -1;
	*end = p;
	*out = v;
	return 0;
}

/* "N", "MIN-MAX", or "MIN-" when only the minimum is known (max stays 0). */
static int set_length(struct parse_state *st, unsigned int bit, const char *key,
		      const char *value, unsigned int *min, unsigned int *max)
{
	const char *end;

	if (st->seen & bit)
		return fail(st, "'%s' is set twice", key);
	st->seen |= bit;
	if (prov_number(value, &end, min))
		goto bad;
	*max = *min;
	if (*end == '-') {
		*max = 0;
		if (!end[1])
			end++;
		else if (prov_number(end + 1, &end, max) || *max < *min)
			goto bad;
	}
	if (*end)
		goto bad;
	return 1;
bad:
	*min = *max = 0;
	return fail(st, "bad %s '%s' (want N, MIN-MAX or MIN-, from 1 to %d)", key, value,
		    PROV_MAX);
}

static int set_tries(struct parse_state *st, unsigned int bit, const char *key,
		     const char *value, unsigned int *out)
{
	const char *end;

	if (st->seen & bit)
		return fail(st, "'%s' is set twice", key);
	st->seen |= bit;
	if (prov_number(value, &end, out) || *end) {
		*out = 0;
		return fail(st, "bad %s '%s' (want a number from 1 to %d)", key, value,
			    PROV_MAX);
	}
	return 1;
}

/* Points *out at the static copy of value in names[], or fails with what. */
static int set_word(struct parse_state *st, unsigned int bit, const char *key, const char *value,
		    const char *const *names, size_t n, const char *want, const char **out)
{
	size_t i;

	if (st->seen & bit)
		return fail(st, "'%s' is set twice", key);
	st->seen |= bit;
	for (i = 0; i < n; i++)
		if (!strcmp(value, names[i])) {
			*out = names[i];
			return 1;
		}
	return fail(st, "unknown %s '%s' (want %s)", key, value, want);
}

static int on_prov_key(struct parse_state *st, const char *name, const char *value)
{
	struct prov_facts *pv = &st->kind->prov;

	if (!strcmp(name, "safe"))
		return add_words(st, value, add_safe_op);
	if (!strcmp(name, "pin_length"))
		return set_length(st, SEEN_PIN_LENGTH, name, value, &pv->pin_min, &pv->pin_max);
	if (!strcmp(name, "puk_length"))
		return set_length(st, SEEN_PUK_LENGTH, name, value, &pv->puk_min, &pv->puk_max);
	if (!strcmp(name, "pin_tries"))
		return set_tries(st, SEEN_PIN_TRIES, name, value, &pv->pin_tries);
	if (!strcmp(name, "puk_tries"))
		return set_tries(st, SEEN_PUK_TRIES, name, value, &pv->puk_tries);
	if (!strcmp(name, "unblock"))
		return set_word(st, SEEN_UNBLOCK, name, value, unblock_names,
				sizeof(unblock_names) / sizeof(unblock_names[0]), "puk or so-pin",
				&pv->unblock);
	if (!strcmp(name, "mgmt_key"))
		return set_word(st, SEEN_MGMT_KEY, name, value, mgmt_key_names,
				sizeof(mgmt_key_names) / sizeof(mgmt_key_names[0]),
				"none, 3des, aes128, aes192 or aes256", &pv->mgmt_key);
	return fail(st, "unknown key '%s' in [provisioning] (want safe, pin_length, puk_length, "
		    "pin_tries, puk_tries, unblock or mgmt_key)", name);
}

/* Whole-section checks, once the file is read. Returns 0 or -1 with err set. */
static int finish_prov(struct parse_state *st)
{
	const struct prov_facts *pv = &st->kind->prov;

	if (!pv->present)
		return 0;
	if (!pv->safe && !pv->safe_none) {
		catalogue_set_err(st->err, st->errlen, "%s: [provisioning] has no safe (list the operations, "
			"or none)", st->file);
		return -1;
	}
	if ((pv->safe & (1u << KYSO_PROV_PIN_UNBLOCK)) && !pv->unblock) {
		catalogue_set_err(st->err, st->errlen, "%s: [provisioning] lists pin-unblock as safe but "
			"has no unblock", st->file);
		return -1;
	}
	return 0;
}

static int on_entry(struct kyso_ini *ini, void *user, const char *section, const char *name,
		    const char *value)
{
	struct parse_state *st = user;

	st->ini = ini;
	if (strcmp(section, st->section) && !start_section(st, section))
		return 0;
	if (!*name)
		return fail(st, "a key has no name");
	if (!*value)
		return fail(st, "'%s' has no value", name);
	switch (st->sec) {
	case SEC_NONE:
		return fail(st, "'%s' is outside any section", name);
	case SEC_TOKEN:
		return on_token_key(st, name, value);
	case SEC_ATR:
		if (!strcmp(name, "atr") || !strcmp(name, "atr_mask"))
			return set_atr(st, st->cur_atr, name, value);
		return fail(st, "unknown key '%s' in [%s] (want atr or atr_mask)", name,
			    st->section);
	case SEC_PROV:
		return on_prov_key(st, name, value);
	case SEC_BAD:
		break;
	}
	return 0;
}

/* Whole-file checks, once inih is done. Returns 0 or -1 with err set. */
static int finish_kind(struct parse_state *st)
{
	struct kyso_token_kind *kind = st->kind;
	size_t i, b;

	if (!st->token_section) {
		catalogue_set_err(st->err, st->errlen, "%s: no [token] section (or it is empty)", st->file);
		return -1;
	}
	if (!kind->name) {
		catalogue_set_err(st->err, st->errlen, "%s: [token] has no name", st->file);
		return -1;
	}
	if (!kind->n_modules) {
		catalogue_set_err(st->err, st->errlen, "%s: [token] has no module", st->file);
		return -1;
	}
	for (i = 0; i < kind->n_atr; i++) {
		struct atr_pattern *pat = &kind->atr[i];
		char where[KYSO_INI_LINE_MAX + 8];

		if (pat->label)
			snprintf(where, sizeof(where), "[atr %s]", pat->label);
		else
			snprintf(where, sizeof(where), "[token]");
		if (!pat->has_atr) {
			catalogue_set_err(st->err, st->errlen, "%s: %s has atr_mask but no atr", st->file,
				where);
			return -1;
		}
		if (pat->has_mask) {
			if (pat->user_mask_len != pat->len) {
				catalogue_set_err(st->err, st->errlen,
					"%s: %s: atr has %zu bytes but atr_mask %zu", st->file,
					where, pat->len, pat->user_mask_len);
				return -1;
			}
			for (b = 0; b < pat->len; b++)
				pat->mask[b] &= pat->user_mask[b];
		}
		pat->weight = 0;
		for (b = 0; b < pat->len; b++) {
			pat->atr[b] &= pat->mask[b];
			pat->weight += (unsigned int)__builtin_popcount(pat->mask[b]);
		}
	}
	if (kind->match == KYSO_TOKEN_MATCH_SOFTWARE && (kind->n_usb || kind->n_atr)) {
		catalogue_set_err(st->err, st->errlen, "%s: a software token has no usb or atr", st->file);
		return -1;
	}
	if (kind->match == KYSO_TOKEN_MATCH_DEVICE && !kind->n_usb && !kind->n_atr) {
		catalogue_set_err(st->err, st->errlen,
			"%s: a device token needs usb or atr (or match = piv, openpgp, software)",
			st->file);
		return -1;
	}
	return finish_prov(st);
}

struct kyso_token_kind *catalogue_parse_file(int dfd, const char *file, const char *id, char *err,
					     size_t errlen)
{
	struct parse_state st;
	const struct kyso_ini_parser parser = {
		.file = file,
		.syntax_error = "syntax error (want [section] or key = value)",
		.max_size = MAX_FILE_SIZE,
		.on_key = on_entry,
		.user = &st,
	};
	struct kyso_token_kind *kind = NULL, *ret = NULL;
	struct stat sb;
	size_t i;
	int fd;

	memset(&st, 0, sizeof(st));
	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		catalogue_set_err(err, errlen, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		catalogue_set_err(err, errlen, "%s: not a regular file", file);
		goto out;
	}
	kind = calloc(1, sizeof(*kind));
	if (!kind || !(kind->id = strdup(id))) {
		catalogue_set_err(err, errlen, "%s: out of memory", file);
		goto out;
	}
	st.kind = kind;
	st.file = file;
	st.err = err;
	st.errlen = errlen;
	st.sec = SEC_NONE;
	st.token_atr = -1;
	st.cur_atr = -1;
	if (kyso_ini_parse_fd(&parser, fd, err, errlen) || finish_kind(&st))
		goto out;
	ret = kind;
	kind = NULL;
out:
	for (i = 0; i < st.n_seen_sections; i++)
		free(st.seen_sections[i]);
	free(st.seen_sections);
	catalogue_kind_free(kind);
	if (fd >= 0)
		close(fd);
	return ret;
}
