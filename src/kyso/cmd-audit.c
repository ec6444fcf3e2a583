/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso audit: checks the hash chain of kysod's audit log and lists its
 * signing entries.  Reads the files directly; kysod is not needed.
 *
 * Chain rules (files from the oldest): the first line of a chain is
 * {"event":"start","seq":1,"prev":<64 zeros>}; each next line has the
 * same "chain", "seq" one more and "prev" the lowercase hex SHA-256 of
 * the previous line's bytes without its "\n"; the first line of every
 * later file is a "rotated" line; every file ends with "\n".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define MAX_ROTATED 8			/* kysod keeps audit.log.1 ... audit.log.8 */
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static const char help[] =
	"Usage: kyso audit verify [--json] [FILE...]\n"
	"       kyso audit show [FILE...] [--since DATE] [--until DATE] [--cert ID]\n"
	"                       [--caller TEXT] [--result ok|error|CODE] [--json]\n"
	"\n"
	"Reads kysod's audit log (kysod need not run).  Without FILE: the default\n"
	"log, $XDG_STATE_HOME/kyso/audit.log (else ~/.local/state/kyso/audit.log),\n"
	"after its rotated files audit.log.8 ... audit.log.1 that exist.  Give\n"
	"several files oldest first, e.g. audit.log.2 audit.log.1 audit.log.\n"
	"\n"
	"verify  checks the hash chain of every line; prints \"OK: ...\" or the\n"
	"        first broken line as FILE:LINE: PROBLEM (exit 1)\n"
	"show    lists the signing attempts as a table\n"
	"  --since DATE, --until DATE  YYYY-MM-DD (local time; --until includes\n"
	"                              that day) or RFC 3339 (2026-11-30T04:00:00Z)\n"
	"  --cert ID                   certificate id or a prefix of it\n"
	"  --caller TEXT               the caller \"exe(pid)\" contains TEXT\n"
	"  --result ok|error|CODE      signed, failed, or failed with CODE\n"
	"  -j, --json                  verify: the outcome as JSON; show: the\n"
	"                              matching lines as they are\n";

/* ------------------------------------------------------------ files */

/* The default log's path (new string), or NULL. */
static char *default_log(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *path = NULL;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (state && *state) {
		if (asprintf(&path, "%s/kyso/audit.log", state) < 0)
			path = NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.local/state/kyso/audit.log", home) < 0)
			path = NULL;
	} else if (asprintf(&path, "/var/tmp/kyso-%u/audit.log", (unsigned)getuid()) < 0) {
		path = NULL;
	}
	return path;
}

struct file_list {
	char **paths;			/* owned */
	size_t n;
};

static void file_list_free(struct file_list *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		free(fl->paths[i]);
	free(fl->paths);
}

/* The files named on the command line, or the default log and its rotated files. */
static int file_list_init(struct file_list *fl, int argc, char **argv, int first)
{
	struct stat st;
	char *base, *p;
	int i;

	memset(fl, 0, sizeof(*fl));
	fl->paths = calloc((size_t)(argc > first ? argc - first : MAX_ROTATED + 1),
			   sizeof(*fl->paths));
	if (!fl->paths)
		return -1;
	if (argc > first) {
		for (i = first; i < argc; i++) {
			fl->paths[fl->n] = strdup(argv[i]);
			if (!fl->paths[fl->n++])
				return -1;
		}
		return 0;
	}
	base = default_log();
	if (!base)
		return -1;
	for (i = MAX_ROTATED; i >= 1; i--) {
		if (asprintf(&p, "%s.%d", base, i) < 0) {
			free(base);
			return -1;
		}
		if (stat(p, &st) == 0)
			fl->paths[fl->n++] = p;
		else
			free(p);
	}
	fl->paths[fl->n++] = base;
	return 0;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = sizeof(md);

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	kyso_hex_encode(md, sizeof(md), out);
}

static int is_lower_hex(const char *s, size_t len)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ verify */

/* An intent entry whose result has not been seen. */
struct open_intent {
	json_int_t seq;
	const char *file;
	size_t line;
	char time[40];
	char certificate[17];		/* the first 16 hex digits */
};

struct verify {
	/* the chain so far */
	char *chain;			/* owned */
	json_int_t first_seq, last_seq;
	size_t entries;
	int continued;			/* the first file begins with a rotated entry */
	/* the last line accepted */
	int have_prev;
	char prev_hash[65];
	json_int_t prev_seq;
	const char *prev_file;
	size_t prev_line;
	/*
	 * A line whose prev did not match: the line before it may have been
	 * altered (then the next line still links to it) or the link itself
	 * is broken; the next line decides.
	 */
	int pending;
	const char *pend_file, *susp_file;
	size_t pend_line, susp_line;
	/*
	 * Intent entries not followed (yet) by the sign entry of their result:
	 * kysod stopped between the two, which breaks no chain.
	 */
	struct open_intent *open;
	size_t nopen, capopen;
	/* outcome */
	int failed;
	const char *err_file;
	size_t err_line;
	char err_msg[512];
};

static void __attribute__((format(printf, 4, 5)))
verify_fail(struct verify *v, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (v->failed)
		return;
	v->failed = 1;
	v->err_file = file;
	v->err_line = line;
	va_start(ap, fmt);
	vsnprintf(v->err_msg, sizeof(v->err_msg), fmt, ap);
	va_end(ap);
}

/*
 * The checks of one line except that its prev links to the line before:
 * writes what is wrong into why (empty: nothing), and sets *links when
 * prev is the hash of the line before.  *e receives the parsed line.
 */
static void check_line(struct verify *v, int first_of_file, const char *line, size_t len,
		       int torn, json_t **e, int *links, char *why, size_t whylen)
{
	json_error_t jerr;
	const json_t *jseq;
	const char *chain, *prev, *event;
	json_int_t seq;

	*why = '\0';
	*links = 0;
	*e = NULL;
	if (torn) {
		snprintf(why, whylen, "the last line is incomplete (no newline at the end of the "
			 "file): a torn write");
		return;
	}
	if (len == 0) {
		snprintf(why, whylen, "empty line");
		return;
	}
	*e = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*e) {
		snprintf(why, whylen, "not valid JSON: %s (column %d)", jerr.text, jerr.column);
		return;
	}
	if (!json_is_object(*e)) {
		snprintf(why, whylen, "not a JSON object");
		return;
	}
	jseq = json_object_get(*e, "seq");
	chain = json_string_value(json_object_get(*e, "chain"));
	prev = json_string_value(json_object_get(*e, "prev"));
	event = json_string_value(json_object_get(*e, "event"));
	if (!json_is_integer(jseq) || json_integer_value(jseq) < 1) {
		snprintf(why, whylen, "\"seq\" is missing or not a positive integer");
		return;
	}
	seq = json_integer_value(jseq);
	if (!chain || !*chain) {
		snprintf(why, whylen, "\"chain\" is missing or empty");
		return;
	}
	if (!prev || !is_lower_hex(prev, 64)) {
		snprintf(why, whylen, "\"prev\" is missing or not 64 lowercase hex digits");
		return;
	}
	if (!event) {
		snprintf(why, whylen, "\"event\" is missing");
		return;
	}
	if (!v->have_prev) {
		/* the first line of the first file */
		if (!strcmp(event, "start")) {
			if (strcmp(prev, ZERO_HASH))
				snprintf(why, whylen, "a \"start\" entry must have prev = 64 zeros");
			else if (seq != 1)
				snprintf(why, whylen, "a \"start\" entry must have seq 1, not %"
					 JSON_INTEGER_FORMAT, seq);
			return;
		}
		if (strcmp(event, "rotated"))
			snprintf(why, whylen, "the first entry is a \"%s\" entry: a log begins with "
				 "a \"start\" entry, or a \"rotated\" one after rotation", event);
		return;
	}
	if (first_of_file && strcmp(event, "rotated")) {
		snprintf(why, whylen, "a \"%s\" entry begins the file: the file after %s must "
			 "begin with a \"rotated\" entry (files must be given oldest first)",
			 event, v->prev_file);
		return;
	}
	if (strcmp(chain, v->chain)) {
		snprintf(why, whylen, "chain %s differs from the chain %s of the entries before",
			 chain, v->chain);
		return;
	}
	if (seq != v->prev_seq + 1) {
		if (seq == v->prev_seq + 2)
			snprintf(why, whylen, "seq %" JSON_INTEGER_FORMAT " follows seq %"
				 JSON_INTEGER_FORMAT ": entry %" JSON_INTEGER_FORMAT " is missing "
				 "before this line, or out of place", seq, v->prev_seq,
				 v->prev_seq + 1);
		else if (seq > v->prev_seq + 2)
			snprintf(why, whylen, "seq %" JSON_INTEGER_FORMAT " follows seq %"
				 JSON_INTEGER_FORMAT ": entries %" JSON_INTEGER_FORMAT " to %"
				 JSON_INTEGER_FORMAT " are missing before this line, or out of place",
				 seq, v->prev_seq, v->prev_seq + 1, seq - 1);
		else
			snprintf(why, whylen, "seq %" JSON_INTEGER_FORMAT " follows seq %"
				 JSON_INTEGER_FORMAT ": entries out of order or repeated", seq,
				 v->prev_seq);
		if (first_of_file)
			snprintf(why + strlen(why), whylen - strlen(why),
				 " (are the files given oldest first?)");
		return;
	}
	*links = strcmp(prev, v->prev_hash) == 0;
}

/*
 * An intent entry is kept open until the sign entry naming it ("intent":
 * its seq) comes. Returns -1 when out of memory.
 */
static int track_intent(struct verify *v, const json_t *e, const char *file, size_t lineno)
{
	const char *event = json_string_value(json_object_get(e, "event"));
	const json_t *ref = json_object_get(e, "intent");
	struct open_intent *oi;
	size_t i;

	if (!strcmp(event, "sign") && json_is_integer(ref)) {
		/* the most recent first: results follow their intents closely */
		for (i = v->nopen; i-- > 0;) {
			if (v->open[i].seq != json_integer_value(ref))
				continue;
			memmove(&v->open[i], &v->open[i + 1], (v->nopen - i - 1) * sizeof(v->open[0]));
			v->nopen--;
			break;
		}
		return 0;
	}
	if (strcmp(event, "intent"))
		return 0;
	if (v->nopen == v->capopen) {
		size_t cap = v->capopen ? v->capopen * 2 : 16;
		struct open_intent *grown = realloc(v->open, cap * sizeof(*grown));

		if (!grown)
			return -1;
		v->open = grown;
		v->capopen = cap;
	}
	oi = &v->open[v->nopen++];
	oi->seq = json_integer_value(json_object_get(e, "seq"));
	oi->file = file;
	oi->line = lineno;
	snprintf(oi->time, sizeof(oi->time), "%s",
		 json_string_value(json_object_get(e, "time")) ?: "");
	snprintf(oi->certificate, sizeof(oi->certificate), "%s",
		 json_string_value(json_object_get(e, "certificate")) ?: "");
	return 0;
}

/* One line; returns -1 once the outcome is known to be a failure. */
static int verify_line(struct verify *v, const char *file, size_t lineno, int first_of_file,
		       const char *line, size_t len, int torn)
{
	char why[400];
	json_t *e = NULL;
	int links, ret = -1;

	check_line(v, first_of_file, line, len, torn, &e, &links, why, sizeof(why));
	if (v->pending) {
		if (!why[0] && links)
			verify_fail(v, v->susp_file, v->susp_line,
				    "this entry was altered: its SHA-256 is not the prev of the "
				    "next entry (%s:%zu), which links on correctly",
				    v->pend_file, v->pend_line);
		else
			verify_fail(v, v->pend_file, v->pend_line,
				    "prev is not the SHA-256 of the entry before (%s:%zu)",
				    v->susp_file, v->susp_line);
		goto out;
	}
	if (why[0]) {
		verify_fail(v, file, lineno, "%s", why);
		goto out;
	}
	if (!v->have_prev) {
		v->chain = strdup(json_string_value(json_object_get(e, "chain")));
		if (!v->chain) {
			verify_fail(v, file, lineno, "out of memory");
			goto out;
		}
		v->first_seq = json_integer_value(json_object_get(e, "seq"));
		v->continued = !strcmp(json_string_value(json_object_get(e, "event")), "rotated");
	} else if (!links) {
		v->pending = 1;
		v->pend_file = file;
		v->pend_line = lineno;
		v->susp_file = v->prev_file;
		v->susp_line = v->prev_line;
	}
	if (track_intent(v, e, file, lineno)) {
		verify_fail(v, file, lineno, "out of memory");
		goto out;
	}
	sha256_hex(line, len, v->prev_hash);
	v->prev_seq = v->last_seq = json_integer_value(json_object_get(e, "seq"));
	v->prev_file = file;
	v->prev_line = lineno;
	v->have_prev = 1;
	v->entries++;
	ret = 0;
out:
	json_decref(e);
	return ret;
}

/* Checks one file; returns -1 once the outcome is a failure. */
static int verify_file(struct verify *v, const char *path)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *f;
	int ret = 0, torn;

	f = fopen(path, "rb");
	if (!f) {
		verify_fail(v, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		torn = line[n - 1] != '\n';
		if (!torn)
			n--;
		if (verify_line(v, path, lineno, lineno == 1, line, (size_t)n, torn) < 0) {
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		verify_fail(v, path, lineno + 1, "cannot read: %s", strerror(errno));
		ret = -1;
	}
	if (!ret && lineno == 0) {
		verify_fail(v, path, 0, "the file is empty");
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

#define OPEN_INTENTS_SHOWN 20

/*
 * The intents without a result: kysod wrote an intent entry (and synced it
 * while the token signed) but not the sign entry of its result. Not an
 * error in the chain; each is explained.
 */
static void print_open_intents(const struct verify *v)
{
	size_t i;

	if (!v->nopen)
		return;
	printf("%zu intent entr%s without a result entry: kysod stopped (it was killed or "
	       "crashed, or the machine went down) after recording the request and before "
	       "recording its outcome, or the result entry could not be written (kysod then "
	       "stops signing and says so in its log). The token may have signed, and the "
	       "caller may have received the signature; the intent entry is its record. The "
	       "chain is not broken by this.\n", v->nopen, v->nopen == 1 ? "y" : "ies");
	for (i = 0; i < v->nopen && i < OPEN_INTENTS_SHOWN; i++)
		printf("  %s:%zu: intent seq %" JSON_INTEGER_FORMAT ", %s, certificate %s…\n",
		       v->open[i].file, v->open[i].line, v->open[i].seq, v->open[i].time,
		       v->open[i].certificate);
	if (v->nopen > OPEN_INTENTS_SHOWN)
		printf("  … and %zu more\n", v->nopen - OPEN_INTENTS_SHOWN);
}

static void print_verify(const struct verify *v, int json)
{
	json_t *obj, *err;

	if (json) {
		obj = json_pack("{s:b, s:I, s:s?, s:I, s:I, s:b}", "ok", !v->failed,
				"entries", (json_int_t)v->entries, "chain", v->chain,
				"first_seq", v->entries ? v->first_seq : (json_int_t)0,
				"last_seq", v->entries ? v->last_seq : (json_int_t)0,
				"from_start", v->entries && !v->continued);
		if (obj && !v->failed) {
			json_t *list = json_array();
			size_t i;

			for (i = 0; list && i < v->nopen; i++)
				json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:s, s:s}",
						      "file", v->open[i].file,
						      "line", (json_int_t)v->open[i].line,
						      "seq", v->open[i].seq, "time", v->open[i].time,
						      "certificate", v->open[i].certificate));
			json_object_set_new(obj, "intents_without_result", list);
		}
		if (obj && v->failed) {
			err = json_pack("{s:s, s:I, s:s}", "file", v->err_file,
					"line", (json_int_t)v->err_line, "message", v->err_msg);
			json_object_set_new(obj, "error", err);
		}
		if (obj)
			out_json(obj);
		json_decref(obj);
		return;
	}
	if (v->failed) {
		if (v->err_line)
			printf("%s:%zu: %s\n", v->err_file, v->err_line, v->err_msg);
		else
			printf("%s: %s\n", v->err_file, v->err_msg);
		return;
	}
	printf("OK: %zu entr%s, chain %s, seq %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
	       v->entries, v->entries == 1 ? "y" : "ies", v->chain, v->first_seq, v->last_seq);
	if (v->continued)
		fputs(" (the first file begins with a \"rotated\" entry: the chain continues "
		      "from an earlier file not given)", stdout);
	putchar('\n');
	print_open_intents(v);
}

static int audit_verify(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct verify v = { 0 };
	struct file_list fl;
	size_t i;
	int ret;

	ret = cmd_options(ctx, argc, argv, "audit", help, NULL);
	if (ret >= 0)
		return ret;
	if (file_list_init(&fl, argc, argv, optind) < 0) {
		file_list_free(&fl);
		return out_fail(0, "internal_error", "out of memory");
	}
	for (i = 0; i < fl.n; i++) {
		if (verify_file(&v, fl.paths[i]) < 0)
			break;
	}
	if (!v.failed && v.pending)
		verify_fail(&v, v.pend_file, v.pend_line,
			    "prev is not the SHA-256 of the entry before (%s:%zu)",
			    v.susp_file, v.susp_line);
	print_verify(&v, ctx->json);
	ret = v.failed ? KYSO_EXIT_ERROR : KYSO_EXIT_OK;
	free(v.chain);
	free(v.open);
	file_list_free(&fl);
	return ret;
}

/* ------------------------------------------------------------ show */

/*
 * Parses YYYY-MM-DD (local midnight; *date_only set) or RFC 3339
 * (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); without a zone, local
 * time) into microseconds since the epoch.
 */
static int parse_time(const char *s, int64_t *usec, int *date_only)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, n = 0, digits = 0, zone = 0;
	long offset = 0, frac = 0;
	const char *p;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	p = s + 10;
	*date_only = *p == '\0';
	if (!*date_only) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		n = 0;
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
			return -1;
		p += 9;
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p); p++, digits++) {
				if (digits < 6)
					frac = frac * 10 + (*p - '0');
			}
			if (!digits)
				return -1;
			for (; digits < 6; digits++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			zone = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			n = 0;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 ||
			    om > 59)
				return -1;
			offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
			zone = 1;
			p += 6;
		}
		if (*p)
			return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = zone ? timegm(&tm) - offset : mktime(&tm);
	if (t == (time_t)-1 && !(zone && tm.tm_year == 69))
		return -1;
	*usec = (int64_t)t * 1000000 + frac;
	return 0;
}

struct show_filter {
	int have_since, have_until;
	int64_t since;			/* entries at or after */
	int64_t until;			/* entries before */
	const char *cert;		/* lowercase hex prefix */
	const char *caller;
	const char *result;		/* "ok", "error" or a code */
};

/* The caller as shown: "exe(pid)". */
static void caller_text(const json_t *e, char *buf, size_t size)
{
	const json_t *c = json_object_get(e, "caller");
	const char *exe = cmd_str(c, "exe");
	char pid[32];

	snprintf(buf, size, "%s(%s)", exe ? exe : "?", cmd_int(c, "pid", pid, sizeof(pid)));
}

static int matches(const struct show_filter *f, const json_t *e, int64_t when)
{
	const char *cert = cmd_str(e, "certificate"), *result = cmd_str(e, "result");
	char caller[4200];

	if (f->have_since && when < f->since)
		return 0;
	if (f->have_until && when >= f->until)
		return 0;
	if (f->cert && (!cert || strncmp(cert, f->cert, strlen(f->cert))))
		return 0;
	if (f->caller) {
		caller_text(e, caller, sizeof(caller));
		if (!strstr(caller, f->caller))
			return 0;
	}
	if (f->result) {
		if (!result)
			return 0;
		if (!strcmp(f->result, "error"))
			return strcmp(result, "ok") != 0;
		return strcmp(result, f->result) == 0;
	}
	return 1;
}

static void add_row(struct table *t, const json_t *e, int64_t when)
{
	const char *hash = cmd_str(e, "hash"), *batch = cmd_str(e, "batch");
	const char *item = cmd_str(e, "item");
	char stamp[32] = "-", caller[4200], hash16[17], bi[300];
	const char *cells[6];
	time_t secs = (time_t)(when / 1000000);
	struct tm tm;

	if (when && localtime_r(&secs, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	caller_text(e, caller, sizeof(caller));
	snprintf(hash16, sizeof(hash16), "%s", hash ? hash : "-");
	/* a batch's last 8 characters: the random part of kysod's and kyso's names */
	if (batch)
		snprintf(bi, sizeof(bi), "%s/%s", strlen(batch) > 8 ? batch + strlen(batch) - 8 : batch,
			 item ? item : "?");
	cells[0] = stamp;
	cells[1] = cmd_str(e, "result");
	cells[2] = cmd_str(e, "subject");
	cells[3] = caller;
	cells[4] = hash16;
	cells[5] = batch ? bi : NULL;
	table_add(t, cells);
}

/* Lists the matching lines of one file; 0, or -1 if it cannot be read. */
static int show_file(const char *path, const struct show_filter *f, int json, struct table *t,
		     size_t *shown)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, len;
	int64_t when;
	const char *time_s, *event;
	int date_only, ret = 0;
	json_t *e;
	ssize_t n;
	FILE *fp;

	fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "kyso: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		lineno++;
		len = (size_t)n;
		if (line[len - 1] == '\n')
			len--;
		e = json_loadb(line, len, 0, NULL);
		if (!json_is_object(e)) {
			fprintf(stderr, "kyso: %s:%zu: not a JSON entry, skipped\n", path, lineno);
			json_decref(e);
			continue;
		}
		event = cmd_str(e, "event");
		time_s = cmd_str(e, "time");
		if (!time_s || parse_time(time_s, &when, &date_only) < 0)
			when = 0;
		if (event && !strcmp(event, "sign") && matches(f, e, when)) {
			(*shown)++;
			if (json) {
				fwrite(line, 1, len, stdout);
				putchar('\n');
			} else {
				add_row(t, e, when);
			}
		}
		json_decref(e);
	}
	if (ferror(fp)) {
		fprintf(stderr, "kyso: cannot read %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(fp);
	return ret;
}

/* --since/--until argument; 0 or the usage error's exit code. */
static int time_option(const char *opt, const char *arg, int until, int64_t *out)
{
	int date_only;

	if (parse_time(arg, out, &date_only) < 0)
		return out_usage_error("audit", "%s needs YYYY-MM-DD or an RFC 3339 time "
				       "(2026-11-30T04:00:00Z), not '%s'", opt, arg);
	if (until && date_only) {
		/* the whole day: up to the next local midnight */
		time_t t = (time_t)(*out / 1000000);
		struct tm tm;

		localtime_r(&t, &tm);
		tm.tm_mday++;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		*out = (int64_t)mktime(&tm) * 1000000;
	} else if (until) {
		(*out)++;	/* the instant given is included */
	}
	return 0;
}

static int audit_show(struct kyso_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "cert", required_argument, NULL, 'c' },
		{ "caller", required_argument, NULL, 'C' },
		{ "result", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = {
		"TIME", "RESULT", "HOLDER", "CALLER", "HASH", "BATCH/ITEM",
	};
	struct show_filter f = { 0 };
	struct file_list fl = { 0 };
	struct table *t = NULL;
	char cert[KYSO_CERT_ID_LEN + 1];
	size_t i, shown = 0, len;
	int ch, ret;

	while ((ch = getopt_long(argc, argv, ":s:u:c:C:r:jh", options, NULL)) != -1) {
		switch (ch) {
		case 's':
			ret = time_option("--since", optarg, 0, &f.since);
			if (ret)
				return ret;
			f.have_since = 1;
			break;
		case 'u':
			ret = time_option("--until", optarg, 1, &f.until);
			if (ret)
				return ret;
			f.have_until = 1;
			break;
		case 'c':
			len = strlen(optarg);
			if (len == 0 || len > KYSO_CERT_ID_LEN)
				return out_usage_error("audit", "--cert needs a certificate id or a "
						       "prefix of it (hex digits)");
			for (i = 0; i <= len; i++) {
				if (i < len && !isxdigit((unsigned char)optarg[i]))
					return out_usage_error("audit", "--cert needs hex digits, "
							       "not '%s'", optarg);
				cert[i] = (char)tolower((unsigned char)optarg[i]);
			}
			f.cert = cert;
			break;
		case 'C':
			f.caller = optarg;
			break;
		case 'r':
			if (!*optarg)
				return out_usage_error("audit", "--result needs ok, error or an error code");
			f.result = optarg;
			break;
		default:
			ret = cmd_common_option(ctx, ch, "audit", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (file_list_init(&fl, argc, argv, optind) < 0 ||
	    (!ctx->json && !(t = table_new(6, headers)))) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	ret = KYSO_EXIT_OK;
	for (i = 0; i < fl.n; i++) {
		if (show_file(fl.paths[i], &f, ctx->json, t, &shown) < 0)
			ret = KYSO_EXIT_ERROR;
	}
	if (!ctx->json) {
		if (shown)
			table_print(t);
		else
			printf("No matching entries.\n");
	}
out:
	table_free(t);
	file_list_free(&fl);
	return ret;
}

/* ------------------------------------------------------------ kyso audit */

int cmd_audit(struct kyso_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return out_usage_error("audit", "a subcommand is needed: verify or show");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(help, stdout);
		return KYSO_EXIT_OK;
	}
	/* the subcommand's options are parsed from its own argv */
	if (!strcmp(argv[1], "verify"))
		return audit_verify(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return audit_show(ctx, argc - 1, argv + 1);
	return out_usage_error("audit", "unknown subcommand '%s' (verify or show)", argv[1]);
}
