/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin batch MANIFEST.csv: provisions a class of tokens, one after the
 * other as they are inserted.  The manifest is read and checked whole first;
 * then the batch follows kysod's event stream and, each time a token, card
 * or reader comes, reads the admin inventory and gives each token it does
 * not know the next row it fits (or the row naming its serial), running
 * that row's steps.  Tokens in the report are known by their serial: one
 * done is skipped, one partly done continues at the step that did not
 * finish.  Ctrl-C stops after the current step.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "cmd-admin.h"
#include "cmd-admin-batch.h"
#include "output.h"

#define CHAIN_FILES_MAX 8
#define CHECKED_MAX 64
#define CHAIN_FILE_MAX (256u << 10)
/* After a card or reader event, how long the inventory is read again until
 * the module shows the card (a token not initialised has no event of its own). */
#define SETTLE_MS 5000
#define SETTLE_STEP_MS 500

static const char help[] =
	"Usage: kyso admin batch MANIFEST.csv [--report BASE] [--csr-dir DIR]\n"
	"                        [--chain FILE]... [--checked SERIAL]... [--check] [--json]\n"
	"\n"
	"Provisions a class of tokens from MANIFEST.csv (a header line naming the\n"
	"columns, then a row per token): waits for each token to be inserted, runs\n"
	"its row's steps (init, so-pin-change, pin-unblock, pin-change, keygen, csr,\n"
	"import), and writes a report keyed by token serial after every step. A\n"
	"row naming a serial waits for that token; other rows are taken in order by\n"
	"the next token that fits (not initialised for init, else blank). Run it\n"
	"again to go on: tokens done are skipped, a token partly done continues\n"
	"where it stopped. Every PIN is asked in kysod's dialog. Ctrl-C stops after\n"
	"the current step. See kyso-admin(1) for the manifest's columns.\n"
	"\n"
	"  --report BASE     the report, BASE.json and BASE.csv (default: the\n"
	"                    manifest's name without .csv, and -report)\n"
	"  --csr-dir DIR     certificate requests go to DIR/SERIAL.csr, and import\n"
	"                    takes DIR/SERIAL.pem (default: the manifest's name\n"
	"                    without .csv, and -csr)\n"
	"  --chain FILE      CA certificates (PEM) to store with each certificate\n"
	"                    imported (up to 8)\n"
	"  --checked SERIAL  the token SERIAL, stopped in a PIN step whose outcome\n"
	"                    cannot be seen, was checked by hand: go on after it\n"
	"  --check           check the manifest and the report, change nothing\n"
	"  -j, --json        the report as JSON at the end (progress on stderr)\n";

struct batch {
	struct batch_run run;
	struct batch_manifest manifest;
	struct batch_report report;
	pthread_t events;
	int events_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock: */
	unsigned long wakes;		/* events that may bring a token */
	int stop;			/* Ctrl-C */
	int events_ended;
	struct kyso_error events_err;
	long long settle_until;		/* CLOCK_MONOTONIC ms */
	json_t *inserted;		/* token ids of token-inserted since the last look */
	/* main thread only: */
	json_t *held;			/* token id -> "attempted" | "removed": not taken again now */
	json_t *told;			/* token id -> what was said of it */
	char *waiting_line;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- threads */

static int on_event(void *opaque, const char *id, const char *type, const char *data_json)
{
	struct batch *b = opaque;
	json_t *data;
	const char *tok;

	if (strcmp(type, "token-inserted") && strcmp(type, "token-removed") &&
	    strcmp(type, "card-inserted") && strcmp(type, "reader-added") &&
	    strcmp(type, "pcsc-up"))
		return 0;
	data = json_loads(data_json, 0, NULL);
	pthread_mutex_lock(&b->lock);
	b->wakes++;
	if (!strcmp(type, "token-inserted")) {
		tok = cmd_str(json_object_get(data, "token"), "id");
		if (tok)
			json_array_append_new(b->inserted, json_string(tok));
	}
	if (!strcmp(type, "card-inserted") || !strcmp(type, "reader-added"))
		b->settle_until = now_ms() + SETTLE_MS;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	json_decref(data);
	return 0;
}

static void *events_main(void *arg)
{
	struct batch *b = arg;
	struct kyso_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = kyso_events(b->run.ctx->client, NULL, on_event, b, &err);
	pthread_mutex_lock(&b->lock);
	b->events_ended = 1;
	if (rc < 0)
		b->events_err = err;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void on_signal(void *opaque, int sig)
{
	struct batch *b = opaque;
	int again;

	if (!sig)
		return;
	pthread_mutex_lock(&b->lock);
	again = b->stop;
	b->stop = 1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (again) {
		/* the report holds every step begun: the next run finds what this one did */
		fputs("kyso: stopped at once; the report says which step was under way\n", stderr);
		_exit(KYSO_EXIT_ERROR);
	}
	fputs("kyso: stopping after the current step (Ctrl-C again: at once)\n", stderr);
	kyso_events_stop(b->run.ctx->client);
}

static int stopping(struct batch_run *run)
{
	struct batch *b = run->opaque;
	int stop;

	pthread_mutex_lock(&b->lock);
	stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return stop;
}

/* ---------------------------------------------------------------- rows and tokens */

static const char *held(const struct batch *b, const char *id)
{
	return json_string_value(json_object_get(b->held, id));
}

/* Says once what the batch makes of a token. */
static void tell(struct batch *b, const json_t *tok, const char *what)
{
	const char *id = cmd_str(tok, "id") ?: "";

	if (!strcmp(json_string_value(json_object_get(b->told, id)) ?: "", what))
		return;
	json_object_set_new(b->told, id, json_string(what));
	printf("Token ");
	batch_put(cmd_str(tok, "model") ?: "?");
	if (json_is_true(json_object_get(tok, "initialized"))) {
		printf(" \"");
		batch_put(cmd_str(tok, "label"));
		printf("\", serial ");
		batch_put(cmd_str(tok, "serial"));
	} else {
		printf(" (not initialised, id %.12s)", id);
	}
	printf(": %s\n", what);
	fflush(stdout);
}

/* The certificate file a waiting import looks for is there now. */
static int cert_arrived(const json_t *e)
{
	const char *path = cmd_str(e, "certificate_file");

	return path && !access(path, F_OK);
}

static int serial_checked(const struct batch *b, const char *serial)
{
	size_t i;

	for (i = 0; serial && *serial && i < b->run.nchecked; i++)
		if (!strcmp(b->run.checked[i], serial))
			return 1;
	return 0;
}

/* Whether the row still needs a token in this run. */
static int row_open(const struct batch *b, const struct batch_row *row)
{
	const json_t *e = batch_report_by_row(&b->report, row->index);
	const char *status, *token;

	if (!e)
		return 1;
	status = cmd_str(e, "status") ?: "";
	token = cmd_str(e, "token") ?: "";
	if (held(b, token) && !strcmp(held(b, token), "attempted"))
		return 0;
	if (!strcmp(status, "done"))
		return 0;
	if (!strcmp(status, "check"))
		return serial_checked(b, cmd_str(e, "serial"));
	if (!strcmp(status, "waiting"))
		return cert_arrived(e);
	return 1;
}

static int any_open(const struct batch *b)
{
	size_t i;

	for (i = 0; i < b->manifest.nrows; i++)
		if (row_open(b, &b->manifest.rows[i]))
			return 1;
	return 0;
}

/* A token the report does not know: holds no key and no certificate. */
static int blank(const json_t *tok)
{
	return !json_array_size(json_object_get(tok, "keys")) &&
	       !json_array_size(json_object_get(tok, "certificates"));
}

/* The report's entry for a token: by serial, or for a token not initialised
 * yet (no serial), by its id. */
static json_t *entry_of(const struct batch *b, const json_t *tok)
{
	const char *serial = cmd_str(tok, "serial") ?: "", *id = cmd_str(tok, "id") ?: "";
	json_t *e;
	size_t i;

	if (*serial)
		return batch_report_by_serial(&b->report, serial);
	json_array_foreach(json_object_get(b->report.root, "tokens"), i, e)
		if (!*(cmd_str(e, "serial") ?: "x") && !strcmp(cmd_str(e, "token") ?: "", id))
			return e;
	return NULL;
}

/*
 * Which row a token the report does not know takes: the row naming its
 * serial, else the first free row without a serial that it fits.  NULL
 * with *why set when none.
 */
static const struct batch_row *row_for(struct batch *b, const json_t *tok, const char **why)
{
	const char *serial = cmd_str(tok, "serial") ?: "";
	int init = !json_is_true(json_object_get(tok, "initialized"));
	const struct batch_row *r;
	size_t i;

	for (i = 0; *serial && i < b->manifest.nrows; i++) {
		r = &b->manifest.rows[i];
		if (r->v[COL_SERIAL] && !strcmp(r->v[COL_SERIAL], serial)) {
			if (batch_report_by_row(&b->report, r->index)) {
				*why = "its row is taken by another token in the report: ignored";
				return NULL;
			}
			return r;
		}
	}
	*why = init ? "not initialised, and no row left with init: ignored" :
	       blank(tok) ? "initialised, and no row left without init: ignored" :
	       "not in the report, and it holds keys or certificates (not a blank token): "
	       "ignored; name its serial in a row to provision it";
	if (!init && !blank(tok))
		return NULL;
	for (i = 0; i < b->manifest.nrows; i++) {
		r = &b->manifest.rows[i];
		if (r->v[COL_SERIAL] || batch_report_by_row(&b->report, r->index))
			continue;
		if (!!(r->steps & (1u << STEP_INIT)) == init)
			return r;
	}
	return NULL;
}

/*
 * A run killed in an init dialog of a token without a serial (SoftHSM2)
 * left an entry without one; kysod may have finished the init since: the
 * token initialised with the row's label that the report does not know is
 * that token.
 */
static int adopt(struct batch *b, const json_t *tokens)
{
	const char *label;
	const json_t *t;
	json_t *e;
	size_t i, j;
	char now[32];

	json_array_foreach(json_object_get(b->report.root, "tokens"), i, e) {
		if (*(cmd_str(e, "serial") ?: "x") || strcmp(cmd_str(e, "running") ?: "", "init"))
			continue;
		label = cmd_str(e, "label") ?: "";
		json_array_foreach(tokens, j, t) {
			if (!json_is_true(json_object_get(t, "initialized")) ||
			    strcmp(cmd_str(t, "label") ?: "", label) || !*(cmd_str(t, "serial") ?: "") ||
			    batch_report_by_serial(&b->report, cmd_str(t, "serial")))
				continue;
			batch_now(now);
			json_object_set_new(e, "serial", json_string(cmd_str(t, "serial")));
			json_object_set_new(e, "token", json_string(cmd_str(t, "id")));
			json_object_set_new(json_object_get(e, "steps"), "init",
					    json_pack("{s:s, s:s, s:s}", "result", "present", "note",
						      "initialised while an earlier run was stopped",
						      "time", now));
			json_object_del(e, "running");
			printf("Row %" JSON_INTEGER_FORMAT ": the token an earlier run was initialising "
			       "is there, serial ", json_integer_value(json_object_get(e, "row")));
			batch_put(cmd_str(t, "serial"));
			printf("\n");
			if (batch_report_save(&b->report, &b->manifest))
				return -1;
			break;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- one look */

enum look { LOOK_NOTHING, LOOK_RAN, LOOK_END, LOOK_FATAL };

/* Decides about one token; runs its row when it has one. */
static enum look consider(struct batch *b, const json_t *tok)
{
	const char *id = cmd_str(tok, "id") ?: "", *status, *why = NULL;
	const struct batch_row *row;
	enum batch_outcome out;
	json_t *e;

	if (held(b, id))
		return LOOK_NOTHING;
	e = entry_of(b, tok);
	if (e) {
		row = &b->manifest.rows[json_integer_value(json_object_get(e, "row")) - 1];
		status = cmd_str(e, "status") ?: "";
		if (!strcmp(status, "done")) {
			tell(b, tok, "done already (in the report): skipped");
			return LOOK_NOTHING;
		}
		if (!strcmp(status, "waiting") && !cert_arrived(e)) {
			tell(b, tok, "waits for its certificate (in the report): skipped");
			return LOOK_NOTHING;
		}
		if (!strcmp(status, "check") && !serial_checked(b, cmd_str(e, "serial"))) {
			tell(b, tok, "an earlier run stopped in a PIN step whose outcome cannot be seen: "
			     "check it by hand, then run the batch with --checked SERIAL");
			return LOOK_NOTHING;
		}
	} else {
		row = row_for(b, tok, &why);
		if (!row) {
			tell(b, tok, why);
			return LOOK_NOTHING;
		}
	}
	out = batch_token_run(&b->run, row, tok, e);
	e = batch_report_by_row(&b->report, row->index);
	id = e ? cmd_str(e, "token") ?: id : id;
	json_object_set_new(b->held, id, json_string(out == OUTCOME_REMOVED ? "removed" : "attempted"));
	json_object_del(b->told, id);
	switch (out) {
	case OUTCOME_DONE:
		printf("Row %zu: done.\n", row->index);
		break;
	case OUTCOME_WAITING:
		printf("Row %zu: done but import, which waits for the certificate.\n", row->index);
		break;
	case OUTCOME_REMOVED:
		printf("Row %zu: stopped; it goes on when the token is inserted again.\n", row->index);
		break;
	case OUTCOME_FAILED:
	case OUTCOME_CHECK:
		printf("Row %zu: not done (see above); run the batch again to retry it.\n", row->index);
		break;
	case OUTCOME_STOPPED:
		return LOOK_END;
	case OUTCOME_FATAL:
		return LOOK_FATAL;
	}
	fflush(stdout);
	return LOOK_RAN;
}

/*
 * A token-inserted whose token the admin inventory does not list yet (its
 * module's helper is still starting: kysod leaves such a module out): the
 * inventory is read again shortly, as after a card event.
 */
static void missing(struct batch *b, const json_t *inserted, const json_t *list)
{
	const json_t *id, *t;
	size_t i, j;

	json_array_foreach(inserted, i, id) {
		json_array_foreach(list, j, t)
			if (!strcmp(cmd_str(t, "id") ?: "", json_string_value(id) ?: ""))
				break;
		if (j < json_array_size(list))
			continue;
		pthread_mutex_lock(&b->lock);
		b->settle_until = now_ms() + SETTLE_MS;
		pthread_mutex_unlock(&b->lock);
		return;
	}
}

/* Reads the inventory and runs the first token that has something to do. */
static enum look look(struct batch *b, const json_t *inserted)
{
	json_t *root = NULL, *list;
	const json_t *tok;
	char code[64], msg[256];
	enum look l = LOOK_NOTHING;
	size_t i;

	if (batch_request(b->run.ctx, "GET", "/v1/admin/tokens", NULL, &root, code, msg)) {
		fprintf(stderr, "kyso: %s (%s)\n", msg, code);
		json_decref(root);
		return LOOK_FATAL;
	}
	list = json_object_get(root, "tokens");
	missing(b, inserted, list);
	if (adopt(b, list)) {
		json_decref(root);
		return LOOK_FATAL;
	}
	json_array_foreach(list, i, tok) {
		l = consider(b, tok);
		if (l != LOOK_NOTHING)
			break;
	}
	json_decref(root);
	return l;
}

/* "Waiting for a token: rows 3, 4 and 5 left (Ctrl-C stops)", when it changes. */
static int rows_left(struct batch *b)
{
	char *line = NULL;
	size_t len = 0, i, n = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return -1;
	for (i = 0; i < b->manifest.nrows; i++)
		if (row_open(b, &b->manifest.rows[i]))
			fprintf(f, "%s%zu", n++ ? ", " : "", b->manifest.rows[i].index);
	if (fclose(f)) {
		free(line);
		return -1;
	}
	if (n && (!b->waiting_line || strcmp(b->waiting_line, line))) {
		printf("Waiting for a token: row%s %s left (Ctrl-C stops).\n", n > 1 ? "s" : "", line);
		fflush(stdout);
	}
	free(b->waiting_line);
	b->waiting_line = line;
	return (int)n;
}

/* Until an event may have brought a token, Ctrl-C, or the stream's end. */
static void wait_event(struct batch *b, unsigned long seen)
{
	struct timespec ts;
	long long left;

	pthread_mutex_lock(&b->lock);
	while (!b->stop && !b->events_ended && b->wakes == seen) {
		left = b->settle_until - now_ms();
		if (left <= 0) {
			pthread_cond_wait(&b->cond, &b->lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		left = left < SETTLE_STEP_MS ? left : SETTLE_STEP_MS;
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&b->lock);
}

/* The token ids inserted since the last look (a new reference): those that
 * were removed in a step are taken again. */
static json_t *take_inserted(struct batch *b)
{
	json_t *ids;
	const json_t *id;
	size_t i;

	pthread_mutex_lock(&b->lock);
	ids = b->inserted;
	b->inserted = json_array();
	pthread_mutex_unlock(&b->lock);
	json_array_foreach(ids, i, id)
		if (!strcmp(held(b, json_string_value(id)) ?: "", "removed"))
			json_object_del(b->held, json_string_value(id));
	return ids;
}

static int run_loop(struct batch *b)
{
	unsigned long seen;
	int stop, ended, left;
	json_t *inserted;
	enum look l;

	for (;;) {
		pthread_mutex_lock(&b->lock);
		seen = b->wakes;
		stop = b->stop;
		ended = b->events_ended;
		pthread_mutex_unlock(&b->lock);
		if (stop)
			return KYSO_EXIT_ERROR;
		if (ended) {
			fprintf(stderr, "kyso: kysod's event stream ended: %s (%s)\n",
				b->events_err.message[0] ? b->events_err.message : "kysod stopped",
				b->events_err.code[0] ? b->events_err.code : "daemon_unreachable");
			return KYSO_EXIT_UNREACHABLE;
		}
		if (!any_open(b))
			return KYSO_EXIT_OK;
		inserted = take_inserted(b);
		l = look(b, inserted);
		json_decref(inserted);
		if (l == LOOK_FATAL)
			return KYSO_EXIT_ERROR;
		if (l == LOOK_END)
			return KYSO_EXIT_ERROR;
		if (l == LOOK_RAN)
			continue;
		left = rows_left(b);
		if (left < 0)
			return out_fail(0, "internal_error", "out of memory");
		if (!left)
			return KYSO_EXIT_OK;
		wait_event(b, seen);
	}
}

/* ---------------------------------------------------------------- start and end */

/* The --chain files: PEM certificates, read whole now. */
static int load_chain(struct batch *b, const char *const *files, int n)
{
	char *data = NULL;
	size_t len = 0;
	X509 *x;
	BIO *bio;
	int i, ret, certs;

	if (!n)
		return 0;
	b->run.chain = json_array();
	for (i = 0; i < n; i++) {
		ret = cmd_read_file(0, files[i], CHAIN_FILE_MAX, &data, &len);
		if (ret)
			return ret;
		bio = BIO_new_mem_buf(data, (int)len);
		for (certs = 0; bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)); certs++)
			X509_free(x);
		BIO_free(bio);
		if (!certs) {
			free(data);
			return out_fail(0, "certificate_malformed", "--chain %s holds no PEM "
					"certificate; nothing was done", files[i]);
		}
		json_array_append_new(b->run.chain, json_string(data));
		free(data);
		data = NULL;
	}
	return 0;
}

/* "teachers.csv" -> "teachers" + suffix */
static char *beside(const char *manifest, const char *suffix)
{
	size_t n = strlen(manifest);
	char *s;

	if (n > 4 && !strcasecmp(manifest + n - 4, ".csv"))
		n -= 4;
	if (asprintf(&s, "%.*s%s", (int)n, manifest, suffix) < 0)
		return NULL;
	return s;
}

static void summary(struct batch *b)
{
	const struct batch_row *row;
	const json_t *e, *err;
	size_t i, done = 0, waiting = 0, other = 0, none = 0;
	const char *status;

	for (i = 0; i < b->manifest.nrows; i++) {
		row = &b->manifest.rows[i];
		e = batch_report_by_row(&b->report, row->index);
		status = e ? cmd_str(e, "status") ?: "" : "";
		if (!e)
			none++;
		else if (!strcmp(status, "done"))
			done++;
		else if (!strcmp(status, "waiting"))
			waiting++;
		else
			other++;
	}
	printf("Batch %s: %zu row%s: %zu done", b->manifest.path, b->manifest.nrows,
	       b->manifest.nrows == 1 ? "" : "s", done);
	if (waiting)
		printf(", %zu waiting for the certificate", waiting);
	if (other)
		printf(", %zu not done", other);
	if (none)
		printf(", %zu without a token yet", none);
	printf(".\n");
	for (i = 0; i < b->manifest.nrows; i++) {
		row = &b->manifest.rows[i];
		e = batch_report_by_row(&b->report, row->index);
		status = e ? cmd_str(e, "status") ?: "" : "";
		if (!e || !strcmp(status, "done") || !strcmp(status, "waiting"))
			continue;
		err = json_object_get(e, "error");
		printf("  row %zu (line %lu), serial ", row->index, row->line);
		batch_put(*(cmd_str(e, "serial") ?: "") ? cmd_str(e, "serial") : "none yet");
		printf(": %s", status);
		if (err)
			printf(" at %s, %s", cmd_str(err, "step"), cmd_str(err, "code"));
		putchar('\n');
	}
	printf("Report: %s and %s\n", b->report.json_path, b->report.csv_path);
}

/* Every row done, or done but for a certificate the CA has not sent yet. */
static int all_done(const struct batch *b)
{
	const char *status;
	size_t i;

	for (i = 0; i < b->manifest.nrows; i++) {
		status = cmd_str(batch_report_by_row(&b->report, i + 1), "status") ?: "";
		if (strcmp(status, "done") && strcmp(status, "waiting"))
			return 0;
	}
	return 1;
}

/* --check: what the batch would do, without kysod. */
static void check_only(struct batch *b)
{
	size_t i, taken = 0;

	for (i = 0; i < b->manifest.nrows; i++)
		taken += batch_report_by_row(&b->report, b->manifest.rows[i].index) != NULL;
	printf("The manifest %s is good: %zu row%s; the report %s has %zu of them.\n",
	       b->manifest.path, b->manifest.nrows, b->manifest.nrows == 1 ? "" : "s",
	       b->report.json_path, taken);
}

struct batch_cmd_opts {
	const char *manifest, *report, *csr_dir;
	const char *chain[CHAIN_FILES_MAX];
	const char *checked[CHECKED_MAX];
	int nchain, nchecked, check;
};

static int parse(struct kyso_ctx *ctx, int argc, char **argv, struct batch_cmd_opts *o)
{
	enum { O_REPORT = 256, O_CSR_DIR, O_CHAIN, O_CHECKED, O_CHECK };
	static const struct option opts[] = {
		{ "report", required_argument, NULL, O_REPORT },
		{ "csr-dir", required_argument, NULL, O_CSR_DIR },
		{ "chain", required_argument, NULL, O_CHAIN },
		{ "checked", required_argument, NULL, O_CHECKED },
		{ "check", no_argument, NULL, O_CHECK },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, ret;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (ch) {
		case O_REPORT:
			o->report = optarg;
			break;
		case O_CSR_DIR:
			o->csr_dir = optarg;
			break;
		case O_CHAIN:
			if (o->nchain == CHAIN_FILES_MAX)
				return out_usage_error("admin batch", "at most %d --chain files",
						       CHAIN_FILES_MAX);
			o->chain[o->nchain++] = optarg;
			break;
		case O_CHECKED:
			if (o->nchecked == CHECKED_MAX)
				return out_usage_error("admin batch", "at most %d --checked",
						       CHECKED_MAX);
			o->checked[o->nchecked++] = optarg;
			break;
		case O_CHECK:
			o->check = 1;
			break;
		default:
			ret = cmd_common_option(ctx, ch, "admin batch", help, argv);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind != argc - 1)
		return out_usage_error("admin batch", optind == argc ? "the manifest (a CSV file) "
				       "is needed" : "one manifest only");
	o->manifest = argv[optind];
	if ((o->report && !*o->report) || (o->csr_dir && !*o->csr_dir))
		return out_usage_error("admin batch", "--report and --csr-dir need a path");
	return -1;
}

/* Opens the event stream on its thread; 0 or the exit code. */
static int start_events(struct batch *b)
{
	int open_ok;

	if (pthread_create(&b->events, NULL, events_main, b))
		return out_fail(0, "internal_error", "cannot start the event thread");
	b->events_started = 1;
	open_ok = kyso_events_wait_open(b->run.ctx->client, 10000) == 0;
	if (open_ok)
		return 0;
	kyso_events_stop(b->run.ctx->client);
	pthread_join(b->events, NULL);
	b->events_started = 0;
	return b->events_err.code[0] ? out_error(0, &b->events_err) :
	       out_fail(0, "daemon_unreachable", "kysod's event stream did not open");
}

int admin_batch(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct batch b;
	struct batch_cmd_opts o;
	struct sigwatch *sw = NULL;
	json_t *root = NULL;
	char *report = NULL, *csr_dir = NULL, code[64], msg[256];
	int ret, json_fd = -1;

	memset(&b, 0, sizeof(b));
	b.report.lock_fd = -1;
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	ret = parse(ctx, argc, argv, &o);
	if (ret >= 0)
		goto out;
	ret = batch_manifest_load(o.manifest, &b.manifest);
	if (ret)
		goto out;
	report = o.report ? strdup(o.report) : beside(o.manifest, "-report");
	csr_dir = o.csr_dir ? strdup(o.csr_dir) : beside(o.manifest, "-csr");
	b.held = json_object();
	b.told = json_object();
	b.inserted = json_array();
	if (!report || !csr_dir || !b.held || !b.told || !b.inserted) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	b.run.ctx = ctx;
	b.run.manifest = &b.manifest;
	b.run.report = &b.report;
	b.run.csr_dir = csr_dir;
	b.run.checked = o.checked;
	b.run.nchecked = (size_t)o.nchecked;
	b.run.stopping = stopping;
	b.run.opaque = &b;
	ret = load_chain(&b, o.chain, o.nchain);
	if (ret)
		goto out;
	ret = batch_report_open(&b.report, report, &b.manifest);
	if (ret)
		goto out;
	if (o.check) {
		check_only(&b);
		goto out;
	}
	/* progress goes to stderr while the report is to be stdout's JSON */
	if (ctx->json) {
		fflush(stdout);
		json_fd = dup(STDOUT_FILENO);
		if (json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			ret = out_fail(0, "internal_error", "cannot redirect the progress");
			goto out;
		}
	}
	sw = sigwatch_start(on_signal, &b);
	if (!sw) {
		ret = out_fail(0, "internal_error", "cannot start the signal thread");
		goto out;
	}
	/* the stream first: a token coming after the first look is not missed */
	ret = start_events(&b);
	if (ret)
		goto out;
	if (batch_request(ctx, "GET", "/v1/admin/tokens", NULL, &root, code, msg)) {
		ret = out_fail(0, code, "%s", msg);
		if (!strcmp(code, "daemon_unreachable"))
			ret = KYSO_EXIT_UNREACHABLE;
		goto out;
	}
	if (mkdir(csr_dir, 0700) && errno != EEXIST) {
		ret = out_fail(0, "file_error", "cannot make the directory %s: %s", csr_dir,
			       strerror(errno));
		goto out;
	}
	/* a report that cannot be written is found before a token is touched */
	if (batch_report_save(&b.report, &b.manifest)) {
		ret = KYSO_EXIT_ERROR;
		goto out;
	}
	printf("kyso admin batch %s: %zu row%s; report %s; requests in %s/\n", b.manifest.path,
	       b.manifest.nrows, b.manifest.nrows == 1 ? "" : "s", b.report.json_path, csr_dir);
	fflush(stdout);
	ret = run_loop(&b);
	if (ret == KYSO_EXIT_OK && stopping(&b.run))
		ret = KYSO_EXIT_ERROR;
	summary(&b);
	if (stopping(&b.run))
		printf("Stopped: run the same command again to go on.\n");
	if (ret == KYSO_EXIT_OK && !all_done(&b))
		ret = KYSO_EXIT_ERROR;
out:
	if (b.events_started) {
		kyso_events_stop(ctx->client);
		pthread_join(b.events, NULL);
	}
	sigwatch_stop(sw);
	if (json_fd >= 0) {
		fflush(stdout);
		dup2(json_fd, STDOUT_FILENO);
		close(json_fd);
		if (b.report.root)
			out_json(b.report.root);
	}
	json_decref(root);
	json_decref(b.run.chain);
	json_decref(b.held);
	json_decref(b.told);
	json_decref(b.inserted);
	free(b.waiting_line);
	free(report);
	free(csr_dir);
	batch_report_close(&b.report);
	batch_manifest_free(&b.manifest);
	pthread_cond_destroy(&b.cond);
	pthread_mutex_destroy(&b.lock);
	return ret;
}
