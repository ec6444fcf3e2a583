/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso sign --batch: many hashes signed with one consent of the user.
 *
 * The hashes come from a file (one per line, or JSON) checked here before
 * kysod is asked anything.  While the batch runs, a thread follows kysod's
 * event stream to draw a progress bar and to learn the batch id, so that
 * Ctrl-C can cancel the batch (DELETE /v1/sign/batch/{id}).
 *
 * Which batch is ours: the request names the batch (a random "kyso-…" id),
 * so its progress events are told by their id, and Ctrl-C cancels it at
 * any time, also while the consent dialog is still open.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>

#include <jansson.h>

#include "common/b64.h"
#include "common/hex.h"
#include "kyso/kyso.h"
#include "cmd.h"
#include "output.h"

#define INPUT_MAX_BYTES (256u * 1024u * 1024u)
#define MAX_ID 256			/* bytes, as kysod counts */
#define FAILURES_SHOWN 10
#define OPEN_WAIT_MS 3000
#define BAR_WIDTH 30

/* ------------------------------------------------------------ the input */

struct items {
	char **ids;			/* owned */
	unsigned char *hashes;		/* n * hash_len bytes, owned */
	size_t n, cap;
	size_t hash_len;
	json_t *seen;			/* id -> line or index, to refuse duplicates */
	const char *name;		/* the file's name in messages */
	const char *out_dir;		/* ids must make file names */
};

static void items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->ids[i]);
	free(it->ids);
	free(it->hashes);
	json_decref(it->seen);
}

/* Reports a mistake in the input at "where" (e.g. "3" or "items[2]"); returns 2. */
static int __attribute__((format(printf, 3, 4)))
input_error(const struct items *it, const char *where, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kyso: %s%s%s: ", it->name, where ? ":" : "", where ? where : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KYSO_EXIT_USAGE;
}

/* id for a message: control characters as \xNN (buf of at least 4 * MAX_ID + 1). */
static const char *shown_id(const char *id, char *buf, size_t size)
{
	size_t n = 0;

	for (; *id && n + 5 < size; id++) {
		if ((unsigned char)*id < 0x20 || *id == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", (unsigned char)*id);
		else
			buf[n++] = *id;
	}
	buf[n] = '\0';
	return buf;
}

/* Why id cannot name DIR/<id>.sig, or NULL. */
static const char *bad_file_name(const char *id)
{
	const char *p;

	if (strchr(id, '/'))
		return "contains '/'";
	if (strstr(id, ".."))
		return "contains '..'";
	for (p = id; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	}
	if (strlen(id) + 4 > NAME_MAX)
		return "is too long for a file name";
	return NULL;
}

/* Appends one item (id copied, hash of it->hash_len bytes); 0 or exit code. */
static int items_add(struct items *it, const char *where, const char *id, size_t id_len,
		     const unsigned char *hash)
{
	char shown[4 * MAX_ID + 1];
	const json_t *dup;
	const char *why;
	json_t *check;
	void *p;

	if (id_len == 0 || id_len > MAX_ID)
		return input_error(it, where, "the id must be 1 to %d bytes long", MAX_ID);
	if (memchr(id, '\0', id_len))
		return input_error(it, where, "the id contains a NUL byte");
	check = json_stringn(id, id_len);
	if (!check)
		return input_error(it, where, "the id is not valid UTF-8");
	json_decref(check);
	if (it->n == it->cap) {
		it->cap = it->cap ? 2 * it->cap : 256;
		p = realloc(it->ids, it->cap * sizeof(*it->ids));
		if (!p)
			goto nomem;
		it->ids = p;
		p = realloc(it->hashes, it->cap * it->hash_len);
		if (!p)
			goto nomem;
		it->hashes = p;
	}
	it->ids[it->n] = strndup(id, id_len);
	if (!it->ids[it->n])
		goto nomem;
	it->n++;
	memcpy(it->hashes + (it->n - 1) * it->hash_len, hash, it->hash_len);
	why = it->out_dir ? bad_file_name(it->ids[it->n - 1]) : NULL;
	if (why)
		return input_error(it, where, "id \"%s\" %s: it cannot name a file in %s",
				   shown_id(it->ids[it->n - 1], shown, sizeof(shown)), why,
				   it->out_dir);
	dup = json_object_get(it->seen, it->ids[it->n - 1]);
	if (dup)
		return input_error(it, where, "id \"%s\" is used twice (also %s%s)",
				   shown_id(it->ids[it->n - 1], shown, sizeof(shown)),
				   isdigit((unsigned char)*json_string_value(dup)) ? "on line " : "in ",
				   json_string_value(dup));
	if (json_object_set_new(it->seen, it->ids[it->n - 1], json_string(where)))
		goto nomem;
	return 0;
nomem:
	return out_fail(0, "internal_error", "out of memory");
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* One line of the text form: "HEX" or "ID HEX"; 0 or exit code. */
static int parse_line(struct items *it, size_t lineno, const char *line, size_t len,
		      const char *alg)
{
	unsigned char hash[64];
	const char *id, *hex, *p, *end = line + len;
	size_t id_len, hex_len;
	char where[32], num[32];

	snprintf(where, sizeof(where), "%zu", lineno);
	while (line < end && is_space(*line))
		line++;
	while (end > line && is_space(end[-1]))
		end--;
	if (line == end || *line == '#')
		return 0;
	if (memchr(line, '\0', (size_t)(end - line)))
		return input_error(it, where, "the line contains a NUL byte");
	for (p = line; p < end && !is_space(*p); p++)
		;
	if (p == end) {
		snprintf(num, sizeof(num), "%zu", lineno);
		id = num;
		id_len = strlen(num);
		hex = line;
	} else {
		id = line;
		id_len = (size_t)(p - line);
		while (p < end && is_space(*p))
			p++;
		hex = p;
		for (; p < end; p++) {
			if (is_space(*p))
				return input_error(it, where, "expected \"HEX\" or \"ID HEX\"");
		}
	}
	hex_len = (size_t)(end - hex);
	if (hex_len != 2 * it->hash_len)
		return input_error(it, where, "the hash has %zu hex digits, %s needs %zu",
				   hex_len, alg, 2 * it->hash_len);
	if (kyso_hex_decode(hex, hex_len, hash, sizeof(hash)) != (long)it->hash_len)
		return input_error(it, where, "the hash is not valid hex");
	return items_add(it, where, id, id_len, hash);
}

static int parse_lines(struct items *it, const char *text, size_t len, const char *alg)
{
	const char *line = text, *nl, *end = text + len;
	size_t lineno = 0;
	int ret;

	while (line < end) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(end - line));
		ret = parse_line(it, lineno, line, (size_t)((nl ? nl : end) - line), alg);
		if (ret)
			return ret;
		line = nl ? nl + 1 : end;
	}
	return 0;
}

static int parse_json_item(struct items *it, size_t i, const json_t *obj, const char *alg)
{
	unsigned char hash[64];
	const char *key, *b64;
	const json_t *id, *v;
	char where[48];
	long n;

	snprintf(where, sizeof(where), "items[%zu]", i);
	if (!json_is_object(obj))
		return input_error(it, where, "an item must be an object {\"id\":..., \"hash\":...}");
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "id") && strcmp(key, "hash"))
			return input_error(it, where, "unknown field \"%s\" (an item has \"id\" and \"hash\")",
					   key);
	}
	id = json_object_get(obj, "id");
	if (!json_is_string(id))
		return input_error(it, where, "\"id\" is missing or not a string");
	b64 = json_string_value(json_object_get(obj, "hash"));
	if (!b64)
		return input_error(it, where, "\"hash\" is missing or not a string");
	n = kyso_b64_decode(b64, strlen(b64), hash, sizeof(hash));
	if (n == -2)
		return input_error(it, where, "the hash has more than %zu bytes, %s needs %zu",
				   sizeof(hash), alg, it->hash_len);
	if (n < 0)
		return input_error(it, where, "\"hash\" is not valid base64");
	if ((size_t)n != it->hash_len)
		return input_error(it, where, "the hash has %ld bytes, %s needs %zu", n, alg,
				   it->hash_len);
	return items_add(it, where, json_string_value(id), json_string_length(id), hash);
}

static int parse_json(struct items *it, const char *text, size_t len, const char *alg)
{
	json_error_t jerr;
	json_t *root, *list, *item;
	const char *key;
	json_t *v;
	char where[48];
	size_t i;
	int ret = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(where, sizeof(where), "%d:%d", jerr.line, jerr.column);
		return input_error(it, where, "not valid JSON: %s", jerr.text);
	}
	list = root;
	if (json_is_object(root)) {
		json_object_foreach(root, key, v) {
			if (strcmp(key, "items")) {
				ret = input_error(it, NULL, "unknown field \"%s\" (expected {\"items\":[...]})",
						  key);
				goto out;
			}
		}
		list = json_object_get(root, "items");
	}
	if (!json_is_array(list)) {
		ret = input_error(it, NULL, "expected {\"items\":[...]} or an array of items");
		goto out;
	}
	json_array_foreach(list, i, item) {
		ret = parse_json_item(it, i, item, alg);
		if (ret)
			goto out;
	}
out:
	json_decref(root);
	return ret;
}

/* Loads and checks the items of o->file; 0 or the exit code. */
static int load_items(const struct batch_opts *o, struct items *it)
{
	const char *alg = kyso_hash_alg_name(o->alg);
	char *text = NULL;
	size_t len = 0, i;
	int ret;

	it->hash_len = kyso_hash_alg_len(o->alg);
	it->name = strcmp(o->file, "-") == 0 ? "<stdin>" : o->file;
	it->out_dir = o->out_dir;
	it->seen = json_object();
	if (!it->seen)
		return out_fail(0, "internal_error", "out of memory");
	ret = cmd_read_file(0, o->file, INPUT_MAX_BYTES, &text, &len);
	if (ret)
		return ret;
	for (i = 0; i < len && (is_space(text[i]) || text[i] == '\n'); i++)
		;
	if (i < len && (text[i] == '{' || text[i] == '['))
		ret = parse_json(it, text, len, alg);
	else
		ret = parse_lines(it, text, len, alg);
	if (!ret && it->n == 0)
		ret = input_error(it, NULL, "no hashes to sign");
	free(text);
	return ret;
}

/* ------------------------------------------------------------ running */

struct batch_run {
	struct kyso_client *client;	/* the request, and the event stream */
	struct kyso_client *canceller;	/* DELETE goes through this one */
	struct sigwatch *sw;
	size_t total;
	int tty;			/* progress bar on stderr */
	pthread_mutex_t lock;		/* the members below, and stderr */
	char batch[64];			/* our batch's name */
	int ambiguous;			/* (never set: the batch is named) */
	int stream_open;
	int cancel_asked;		/* Ctrl-C seen */
	int cancel_sent;
	int finished;			/* the answer is in */
	int bar_shown;
};

/* With the lock held. */
static void bar_clear(struct batch_run *run)
{
	if (!run->bar_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	run->bar_shown = 0;
}

/* With the lock held. */
static void bar_draw(struct batch_run *run, json_int_t done, json_int_t failed, json_int_t total)
{
	char bar[BAR_WIDTH + 1];
	int fill = 0, i;

	if (!run->tty || run->finished)
		return;
	if (total > 0 && done >= 0)
		fill = (int)((done > total ? total : done) * BAR_WIDTH / total);
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " signed",
		bar, done - failed, total);
	if (failed)
		fprintf(stderr, ", %" JSON_INTEGER_FORMAT " failed", failed);
	fputs("\033[K", stderr);
	fflush(stderr);
	run->bar_shown = 1;
}

/* A message on stderr that the progress bar does not overwrite; lock held. */
static void __attribute__((format(printf, 2, 3)))
run_say(struct batch_run *run, const char *fmt, ...)
{
	va_list ap;

	bar_clear(run);
	fputs("kyso: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int on_event(void *opaque, const char *id, const char *type, const char *data_json)
{
	struct batch_run *run = opaque;
	json_int_t done, failed, total;
	json_t *data;
	const char *batch;
	int start, poke = 0;

	if (strcmp(type, "batch-progress") != 0)
		return 0;
	data = json_loads(data_json, 0, NULL);
	batch = json_string_value(json_object_get(data, "batch"));
	done = json_integer_value(json_object_get(data, "done"));
	failed = json_integer_value(json_object_get(data, "failed"));
	total = json_integer_value(json_object_get(data, "total"));
	start = batch && done == 0 && failed == 0 && total == (json_int_t)run->total;
	pthread_mutex_lock(&run->lock);
	if (!run->batch[0] && start) {
		snprintf(run->batch, sizeof(run->batch), "%s", batch);
		poke = run->cancel_asked;
	}
	if (batch && run->batch[0] && strcmp(batch, run->batch) == 0)
		bar_draw(run, done, failed, total);
	pthread_mutex_unlock(&run->lock);
	json_decref(data);
	/* the signal thread sends the cancellation it was asked for */
	if (poke)
		sigwatch_poke(run->sw);
	return 0;
}

static void *events_main(void *arg)
{
	struct batch_run *run = arg;

	kyso_events(run->client, NULL, on_event, run, NULL);
	return NULL;
}

/* Sends the cancellation (signal thread, lock not held). */
static void send_cancel(struct batch_run *run, const char *batch)
{
	struct kyso_error err;

	if (kyso_cancel_batch(run->canceller, batch, &err) == 0)
		return;
	pthread_mutex_lock(&run->lock);
	if (strcmp(err.code, "batch_not_found") != 0)
		run_say(run, "cannot cancel the batch: %s (%s)", err.message, err.code);
	pthread_mutex_unlock(&run->lock);
}

/* On the signal thread: Ctrl-C (sig != 0), or the batch id became known (0). */
static void on_signal(void *opaque, int sig)
{
	struct batch_run *run = opaque;
	char batch[64];

	pthread_mutex_lock(&run->lock);
	if (run->finished)
		goto out;
	if (sig && (run->cancel_asked || !run->stream_open)) {
		/* a second Ctrl-C, or no way to cancel: leave now */
		if (run->cancel_sent && !run->ambiguous)
			run_say(run, "interrupted; batch %s was cancelled", run->batch);
		else if (run->batch[0])
			run_say(run, "interrupted; kysod goes on signing the batch");
		else
			run_say(run, "interrupted; if the PIN or confirmation dialog is still open, "
				"cancel it, or kysod signs the batch");
		fflush(stderr);
		_exit(130);
	}
	if (sig) {
		run->cancel_asked = 1;
		if (!run->batch[0])
			run_say(run, "the batch will be cancelled as soon as it starts "
				"(Ctrl-C again to leave at once)");
	}
	if (!run->cancel_asked || run->cancel_sent || !run->batch[0])
		goto out;
	run->cancel_sent = 1;
	if (run->ambiguous) {
		run_say(run, "another batch of %zu items started at the same time: not cancelling "
			"(Ctrl-C again to leave)", run->total);
		goto out;
	}
	run_say(run, "cancelling batch %s...", run->batch);
	snprintf(batch, sizeof(batch), "%s", run->batch);
	pthread_mutex_unlock(&run->lock);
	send_cancel(run, batch);
	return;
out:
	pthread_mutex_unlock(&run->lock);
}

/* ------------------------------------------------------------ output */

/* kysod's answer rebuilt from the typed result. */
static json_t *answer_json(const struct kyso_batch_result *r)
{
	const struct kyso_batch_result_item *it;
	json_t *items, *obj, *root;
	char *b64;
	size_t i;

	items = json_array();
	root = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:o}", "batch", r->batch,
			 "certificate", r->certificate, "algorithm", r->algorithm,
			 "total", (json_int_t)r->total, "signed", (json_int_t)r->nsigned,
			 "failed", (json_int_t)r->nfailed, "cancelled", r->cancelled,
			 "items", items);
	if (!root)
		return NULL;
	for (i = 0; i < r->nitems; i++) {
		it = r->items[i];
		if (it->signature) {
			b64 = kyso_b64_encode(it->signature, it->signature_len);
			obj = json_pack("{s:s, s:s}", "id", it->id, "signature", b64 ? b64 : "");
			if (obj && it->audit_id)
				json_object_set_new(obj, "audit_id", json_string(it->audit_id));
			free(b64);
		} else {
			obj = json_pack("{s:s, s:{s:s, s:s}}", "id", it->id, "error",
					"code", it->error.code, "message", it->error.message);
		}
		if (!obj || json_array_append_new(items, obj)) {
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

static int write_answer(const struct batch_opts *o, const struct kyso_batch_result *r)
{
	json_t *root = answer_json(r);
	FILE *f = stdout;
	int ok;

	if (!root)
		return out_fail(0, "internal_error", "out of memory");
	if (o->out && strcmp(o->out, "-") != 0) {
		f = fopen(o->out, "w");
		if (!f) {
			json_decref(root);
			return out_fail(0, "file_error", "cannot create %s: %s", o->out,
					strerror(errno));
		}
	}
	ok = json_dumpf(root, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF;
	if (f != stdout && fclose(f) != 0)
		ok = 0;
	json_decref(root);
	if (!ok)
		return out_fail(0, "file_error", "cannot write %s: %s",
				f == stdout ? "standard output" : o->out, strerror(errno));
	return 0;
}

/* DIR exists (created if missing) and is a directory; 0 or exit code. */
static int prepare_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return out_fail(0, "file_error", "cannot create %s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return out_fail(0, "file_error", "%s is not a directory", dir);
	if (access(dir, W_OK) != 0)
		return out_fail(0, "file_error", "cannot write into %s: %s", dir, strerror(errno));
	return 0;
}

static int write_file(const char *dir, const struct kyso_batch_result_item *it)
{
	char *path = NULL;
	ssize_t n;
	int fd, ret = -1;

	if (asprintf(&path, "%s/%s.sig", dir, it->id) < 0)
		return out_fail(0, "internal_error", "out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		out_fail(0, "file_error", "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	n = write(fd, it->signature, it->signature_len);
	if (close(fd) != 0 || n != (ssize_t)it->signature_len) {
		out_fail(0, "file_error", "cannot write %s: %s", path,
			 n < 0 ? strerror(errno) : "short write");
		goto out;
	}
	ret = 0;
out:
	free(path);
	return ret;
}

static int write_files(const struct batch_opts *o, const struct kyso_batch_result *r)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < r->nitems; i++) {
		if (r->items[i]->signature && write_file(o->out_dir, r->items[i]) < 0)
			ret = KYSO_EXIT_ERROR;
	}
	return ret;
}

/* The failed items on stderr, the first few of them; not those a cancellation left. */
static void report_failures(const struct kyso_batch_result *r)
{
	char id[4 * MAX_ID + 1];
	size_t i, n = 0, cancelled = 0;

	for (i = 0; i < r->nitems; i++) {
		if (r->items[i]->signature)
			continue;
		if (!strcmp(r->items[i]->error.code, "batch_cancelled")) {
			cancelled++;
			continue;
		}
		if (n++ < FAILURES_SHOWN)
			fprintf(stderr, "kyso: item %s: %s (%s)\n",
				shown_id(r->items[i]->id, id, sizeof(id)),
				r->items[i]->error.message, r->items[i]->error.code);
	}
	if (n > FAILURES_SHOWN)
		fprintf(stderr, "kyso: ... and %zu more failed items\n", n - FAILURES_SHOWN);
	if (cancelled)
		fprintf(stderr, "kyso: %zu item%s not signed: the batch was cancelled\n", cancelled,
			cancelled == 1 ? "" : "s");
}

/* ------------------------------------------------------------ the command */

/* Sends the batch while the event thread follows it; 0 or exit code. */
static int run_batch(struct kyso_ctx *ctx, struct batch_run *run,
		     const struct kyso_batch_params *params, struct kyso_batch_result **result)
{
	struct kyso_error err;
	pthread_t events;
	int have_events = 0, rc;

	run->sw = sigwatch_start(on_signal, run);
	if (!run->sw)
		return out_fail(0, "internal_error", "cannot start the signal thread");
	if (pthread_create(&events, NULL, events_main, run) == 0) {
		have_events = 1;
		/* progress is matched on events of batches that start after this */
		if (kyso_events_wait_open(run->client, OPEN_WAIT_MS) == 0) {
			pthread_mutex_lock(&run->lock);
			run->stream_open = 1;
			if (run->tty) {
				fprintf(stderr, "kyso: %zu hash%s: waiting for consent in the PIN "
					"or confirmation dialog...", run->total,
					run->total == 1 ? "" : "es");
				run->bar_shown = 1;
			}
			pthread_mutex_unlock(&run->lock);
		}
	}

	rc = kyso_sign_batch(run->client, params, result, &err);

	pthread_mutex_lock(&run->lock);
	bar_clear(run);
	run->finished = 1;
	pthread_mutex_unlock(&run->lock);
	if (have_events) {
		kyso_events_stop(run->client);
		pthread_join(events, NULL);
	}
	sigwatch_stop(run->sw);
	run->sw = NULL;
	if (rc < 0)
		return out_error(ctx->json, &err);
	return 0;
}

int cmd_sign_batch(struct kyso_ctx *ctx, const struct batch_opts *o)
{
	struct items it = { 0 };
	struct kyso_batch_params params = KYSO_BATCH_PARAMS_INIT;
	struct kyso_batch_item *list = NULL;
	struct kyso_batch_result *r = NULL;
	struct batch_run run = { .client = ctx->client };
	char cert[KYSO_CERT_ID_LEN + 1];
	unsigned char rnd[8];
	size_t i;
	int ret;

	pthread_mutex_init(&run.lock, NULL);
	ret = load_items(o, &it);
	if (ret)
		goto out;
	if (o->out_dir) {
		ret = prepare_dir(o->out_dir);
		if (ret)
			goto out;
	}
	ret = cmd_resolve_id(ctx, CMD_ID_CERTIFICATE, "sign", "--cert", o->cert, cert,
			     sizeof(cert));
	if (ret)
		goto out;
	list = calloc(it.n, sizeof(*list));
	run.canceller = kyso_client_new(kyso_client_socket(ctx->client));
	if (!list || !run.canceller) {
		ret = out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	for (i = 0; i < it.n; i++) {
		list[i] = (struct kyso_batch_item)KYSO_BATCH_ITEM_INIT;
		list[i].id = it.ids[i];
		list[i].hash = it.hashes + i * it.hash_len;
		list[i].hash_len = it.hash_len;
	}
	params.certificate = cert;
	params.hash_alg = o->alg;
	params.padding = o->padding;
	params.format = KYSO_FORMAT_RAW;
	params.description = o->description;
	params.items = list;
	params.nitems = it.n;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ret = out_fail(ctx->json, "internal_error", "no randomness for the batch name");
		goto out;
	}
	strcpy(run.batch, "kyso-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(run.batch + 5 + 2 * i, 3, "%02x", rnd[i]);
	params.batch_id = run.batch;
	run.total = it.n;
	run.tty = isatty(STDERR_FILENO);

	ret = run_batch(ctx, &run, &params, &r);
	if (ret)
		goto out;
	if (o->out_dir)
		ret = write_files(o, r);
	else
		ret = write_answer(o, r);
	report_failures(r);
	fprintf(stderr, "%zu signed, %zu failed%s\n", r->nsigned, r->nfailed,
		r->cancelled ? " (batch cancelled)" : "");
	if (!ret && (r->nfailed || r->nsigned != it.n))
		ret = KYSO_EXIT_ERROR;
out:
	kyso_batch_result_free(r);
	kyso_client_free(run.canceller);
	free(list);
	items_free(&it);
	pthread_mutex_destroy(&run.lock);
	return ret;
}
