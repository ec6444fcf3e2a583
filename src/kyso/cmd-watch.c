/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso watch: kysod's events as they come (GET /v1/events), one line
 * each.  Also the signal thread the long-running commands share.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define SHORT_ID 12

static const char help[] =
	"Usage: kyso watch [--json]\n"
	"\n"
	"Prints kysod's events as they happen, one line each: readers and cards\n"
	"coming and going, tokens inserted and removed, PIN state changes and\n"
	"batch progress.  Runs until interrupted (Ctrl-C); exits 3 if kysod\n"
	"cannot be reached or stops.\n"
	"\n"
	"  -j, --json  one JSON object per line: {\"id\",\"event\",\"data\":{...}}\n";

/* ------------------------------------------------------------ signal thread */

struct sigwatch {
	pthread_t thread;
	sigset_t set;			/* SIGINT, SIGTERM and SIGUSR2 (poke) */
	void (*on_signal)(void *opaque, int sig);
	void *opaque;
	pthread_mutex_t lock;
	int stop;
	int poked;
};

static void *sigwatch_main(void *arg)
{
	struct sigwatch *sw = arg;
	int sig, stop, poked;

	for (;;) {
		if (sigwait(&sw->set, &sig) != 0)
			continue;
		pthread_mutex_lock(&sw->lock);
		stop = sw->stop;
		poked = sw->poked;
		sw->poked = 0;
		pthread_mutex_unlock(&sw->lock);
		if (stop)
			break;
		if (sig == SIGUSR2) {
			if (poked)
				sw->on_signal(sw->opaque, 0);
			continue;
		}
		sw->on_signal(sw->opaque, sig);
	}
	return NULL;
}

struct sigwatch *sigwatch_start(void (*on_signal)(void *opaque, int sig), void *opaque)
{
	struct sigwatch *sw;

	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	sw->on_signal = on_signal;
	sw->opaque = opaque;
	pthread_mutex_init(&sw->lock, NULL);
	sigemptyset(&sw->set);
	sigaddset(&sw->set, SIGINT);
	sigaddset(&sw->set, SIGTERM);
	sigaddset(&sw->set, SIGUSR2);
	/*
	 * Stays blocked after sigwatch_stop(): a signal arriving while the
	 * command finishes must not kill it before it has reported.
	 */
	if (pthread_sigmask(SIG_BLOCK, &sw->set, NULL) != 0 ||
	    pthread_create(&sw->thread, NULL, sigwatch_main, sw) != 0) {
		pthread_mutex_destroy(&sw->lock);
		free(sw);
		return NULL;
	}
	return sw;
}

void sigwatch_poke(struct sigwatch *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->poked = 1;
	pthread_mutex_unlock(&sw->lock);
	pthread_kill(sw->thread, SIGUSR2);
}

void sigwatch_stop(struct sigwatch *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->stop = 1;
	pthread_mutex_unlock(&sw->lock);
	pthread_kill(sw->thread, SIGUSR2);
	pthread_join(sw->thread, NULL);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}

/* ------------------------------------------------------------ kyso watch */

struct watch {
	struct kyso_client *client;
	int json;
	json_t *labels;			/* token id -> label, for pin-state lines */
	pthread_mutex_t lock;
	int interrupted;		/* under lock */
};

/* Prints text from kysod with control characters shown as '?'. */
static void put_clean(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = cmd_str(obj, key);

	return s ? s : dflt;
}

static json_int_t int_or(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* "ok", "count_low, logged in", ... */
static void put_pin(const json_t *pin)
{
	printf("PIN %s", str_or(pin, "state", "?"));
	if (json_is_true(json_object_get(pin, "logged_in")))
		fputs(", logged in", stdout);
	if (json_is_true(json_object_get(pin, "protected_path")))
		fputs(", PIN pad", stdout);
}

static void remember_label(struct watch *w, const json_t *tok)
{
	const char *id = cmd_str(tok, "id"), *label = cmd_str(tok, "label");

	if (id && label)
		json_object_set_new(w->labels, id, json_string(label));
}

static void put_token(const json_t *tok)
{
	const char *id = str_or(tok, "id", "?");

	put_clean(str_or(tok, "label", "?"));
	fputs(" (", stdout);
	put_clean(str_or(tok, "model", "?"));
	fputs(", serial ", stdout);
	put_clean(str_or(tok, "serial", "?"));
	printf(", id %.*s), ", SHORT_ID, id);
	put_pin(json_object_get(tok, "pin"));
}

/* The line's text after time and event name. */
static void put_details(struct watch *w, const char *type, const json_t *data)
{
	const char *id, *label;

	if (!strcmp(type, "token-inserted") || !strcmp(type, "token-removed")) {
		remember_label(w, json_object_get(data, "token"));
		put_token(json_object_get(data, "token"));
	} else if (!strcmp(type, "pin-state")) {
		id = str_or(data, "token", "?");
		label = json_string_value(json_object_get(w->labels, id));
		fputs("token ", stdout);
		if (label) {
			put_clean(label);
			printf(" (id %.*s): ", SHORT_ID, id);
		} else {
			printf("%.*s: ", SHORT_ID, id);
		}
		put_pin(json_object_get(data, "pin"));
	} else if (!strcmp(type, "batch-progress")) {
		printf("batch %.*s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
		       " done, %" JSON_INTEGER_FORMAT " failed", SHORT_ID, str_or(data, "batch", "?"),
		       int_or(data, "done"), int_or(data, "total"), int_or(data, "failed"));
	} else if (!strcmp(type, "pcsc-up")) {
		fputs("PC/SC service reachable", stdout);
	} else if (!strcmp(type, "pcsc-down")) {
		fputs("PC/SC service not reachable", stdout);
	} else if (cmd_str(data, "reader")) {
		fputs("reader \"", stdout);
		put_clean(cmd_str(data, "reader"));
		putchar('"');
		if (cmd_str(data, "atr")) {
			fputs(", ATR ", stdout);
			put_clean(cmd_str(data, "atr"));
		}
	} else {
		char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);

		put_clean(text);
		free(text);
	}
}

static void print_line(struct watch *w, const char *type, const json_t *data)
{
	time_t when = (time_t)int_or(data, "time");
	char stamp[32] = "-";
	struct tm tm;

	if (!when)
		when = time(NULL);
	if (localtime_r(&when, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s  %-15s ", stamp, type);
	put_details(w, type, data);
	putchar('\n');
}

static void print_json_line(const char *id, const char *type, json_t *data, const char *raw)
{
	json_t *line;
	char *text;

	/* data that is not an object goes as a string */
	line = json_pack("{s:s, s:s, s:o}", "id", id, "event", type,
			 "data", data ? json_incref(data) : json_string(raw));
	text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	if (text)
		puts(text);
	free(text);
	json_decref(line);
}

static int on_event(void *opaque, const char *id, const char *type, const char *data_json)
{
	struct watch *w = opaque;
	json_t *data = json_loads(data_json, 0, NULL);

	if (w->json)
		print_json_line(id, type, json_is_object(data) ? data : NULL, data_json);
	else
		print_line(w, type, json_is_object(data) ? data : NULL);
	json_decref(data);
	fflush(stdout);
	/* standard output gone (not a pipe: those end with SIGPIPE): stop */
	return ferror(stdout) ? 1 : 0;
}

static void on_signal(void *opaque, int sig)
{
	struct watch *w = opaque;

	if (!sig)
		return;
	pthread_mutex_lock(&w->lock);
	w->interrupted = 1;
	pthread_mutex_unlock(&w->lock);
	kyso_events_stop(w->client);
}

/* An error ending the command: on stderr, and with --json as one line on stdout. */
static int report(struct watch *w, const struct kyso_error *err)
{
	json_t *obj;
	char *text;

	fprintf(stderr, "kyso: %s (%s)\n", err->message, err->code);
	if (w->json) {
		obj = json_pack("{s:{s:s, s:s}}", "error", "code", err->code,
				"message", err->message);
		text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
		if (text)
			puts(text);
		free(text);
		json_decref(obj);
	}
	return strcmp(err->code, "daemon_unreachable") == 0 ? KYSO_EXIT_UNREACHABLE
							     : KYSO_EXIT_ERROR;
}

/* Learns the labels of the tokens known now; 0 or the exit code. */
static int load_labels(struct watch *w)
{
	struct kyso_error err;
	json_t *root, *tok;
	char *text = NULL;
	size_t i;

	if (kyso_tokens(w->client, &text, &err) < 0)
		return report(w, &err);
	root = json_loads(text, 0, NULL);
	json_array_foreach(json_object_get(root, "tokens"), i, tok)
		remember_label(w, tok);
	json_decref(root);
	kyso_free(text);
	return 0;
}

int cmd_watch(struct kyso_ctx *ctx, int argc, char **argv)
{
	struct watch w = { .client = ctx->client };
	struct sigwatch *sw = NULL;
	struct kyso_error err;
	int ret, rc, interrupted;

	ret = cmd_plain_options(ctx, argc, argv, help);
	if (ret >= 0)
		return ret;
	w.json = ctx->json;
	w.labels = json_object();
	pthread_mutex_init(&w.lock, NULL);
	if (!w.labels) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	ret = load_labels(&w);
	if (ret)
		goto out;
	sw = sigwatch_start(on_signal, &w);
	if (!sw) {
		ret = out_fail(0, "internal_error", "cannot start the signal thread");
		goto out;
	}
	if (!w.json && isatty(STDOUT_FILENO))
		fputs("kyso: watching kysod's events; Ctrl-C ends\n", stderr);
	rc = kyso_events(ctx->client, NULL, on_event, &w, &err);
	pthread_mutex_lock(&w.lock);
	interrupted = w.interrupted;
	pthread_mutex_unlock(&w.lock);
	if (interrupted)
		ret = KYSO_EXIT_OK;
	else if (rc < 0)
		ret = report(&w, &err);
	else		/* the callback stopped: standard output failed */
		ret = KYSO_EXIT_ERROR;
out:
	sigwatch_stop(sw);
	pthread_mutex_destroy(&w.lock);
	json_decref(w.labels);
	return ret;
}
