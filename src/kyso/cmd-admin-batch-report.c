/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin batch: the report, one entry per token keyed by its serial,
 * with the manifest row it took, each step's result, the key id, the
 * request's file and the certificate's id.  BASE.json is what a restart
 * reads; BASE.csv holds the same for a spreadsheet.  Both are replaced
 * atomically (a new file, synced, renamed over the old one, the directory
 * synced) before and after every step, so a batch killed at any moment
 * leaves the report of the last step begun or finished, never half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "cmd-admin-batch.h"
#include "output.h"

#define REPORT_MAX (64u << 20)
#define REPORT_NAME "kyso admin batch"
#define REPORT_VERSION 1

void batch_now(char *buf)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(buf, "-");
}

const char *batch_entry_result(const json_t *e, enum batch_step s)
{
	return cmd_str(json_object_get(json_object_get(e, "steps"), batch_step_name(s)), "result");
}

int batch_result_done(const char *result)
{
	return result && (!strcmp(result, "ok") || !strcmp(result, "present"));
}

json_t *batch_report_by_serial(const struct batch_report *r, const char *serial)
{
	json_t *e;
	size_t i;

	if (!serial || !*serial)
		return NULL;
	json_array_foreach(json_object_get(r->root, "tokens"), i, e)
		if (!strcmp(cmd_str(e, "serial") ?: "", serial))
			return e;
	return NULL;
}

json_t *batch_report_by_row(const struct batch_report *r, size_t row)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(r->root, "tokens"), i, e)
		if (json_integer_value(json_object_get(e, "row")) == (json_int_t)row)
			return e;
	return NULL;
}

json_t *batch_report_add(struct batch_report *r, const struct batch_row *row, const char *serial,
			 const char *token)
{
	char now[32];
	json_t *e;

	batch_now(now);
	e = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s?, s:s?, s:s, s:{}, s:s}", "serial", serial,
		      "token", token, "row", (json_int_t)row->index, "line", (json_int_t)row->line,
		      "row_sha256", row->sha256, "label", row->v[COL_LABEL], "cn", row->v[COL_CN],
		      "status", "running", "steps", "started", now);
	if (!e || json_array_append_new(json_object_get(r->root, "tokens"), e))
		return NULL;
	return e;
}

/* ---------------------------------------------------------------- reading */

/* The entries an earlier run wrote: their shape, their serials, their rows. */
static int check_entries(const struct batch_report *r, const struct batch_manifest *m)
{
	const struct batch_row *row;
	json_t *e, *f;
	const char *serial, *hash;
	json_int_t n;
	size_t i, j;

	json_array_foreach(json_object_get(r->root, "tokens"), i, e) {
		serial = cmd_str(e, "serial");
		n = json_integer_value(json_object_get(e, "row"));
		hash = cmd_str(e, "row_sha256");
		if (!json_is_object(e) || !serial || !cmd_str(e, "token") || !hash ||
		    !json_is_integer(json_object_get(e, "row")) ||
		    !json_is_object(json_object_get(e, "steps")))
			return out_fail(0, "report_invalid", "%s: entry %zu is not one kyso wrote; "
					"nothing was done", r->json_path, i + 1);
		json_array_foreach(json_object_get(r->root, "tokens"), j, f) {
			if (j <= i)
				continue;
			if (*serial && !strcmp(serial, cmd_str(f, "serial") ?: ""))
				return out_fail(0, "report_invalid", "%s: serial %s is there twice; "
						"nothing was done", r->json_path, serial);
			if (json_integer_value(json_object_get(f, "row")) == n)
				return out_fail(0, "report_invalid", "%s: row %" JSON_INTEGER_FORMAT
						" is there twice; nothing was done", r->json_path, n);
		}
		if (n < 1 || (size_t)n > m->nrows)
			return out_fail(0, "manifest_changed", "%s has a token (serial %s) for row %"
					JSON_INTEGER_FORMAT ", and %s has %zu rows: use the manifest the "
					"report was made for, or another --report; nothing was done",
					r->json_path, *serial ? serial : "none yet", n, m->path,
					m->nrows);
		row = &m->rows[n - 1];
		if (strcmp(hash, row->sha256))
			return out_fail(0, "manifest_changed", "row %" JSON_INTEGER_FORMAT " (line %lu) "
					"of %s changed since the batch began it on token %s: undo the "
					"change, or use another --report; nothing was done", n,
					row->line, m->path, *serial ? serial : "(not initialised)");
	}
	return 0;
}

static int load(struct batch_report *r, const struct batch_manifest *m)
{
	json_error_t jerr;
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (access(r->json_path, F_OK)) {
		if (errno != ENOENT)
			return out_fail(0, "file_error", "cannot read %s: %s", r->json_path,
					strerror(errno));
		r->root = json_pack("{s:s, s:i, s:[]}", "report", REPORT_NAME, "version",
				    REPORT_VERSION, "tokens");
		return r->root ? 0 : out_fail(0, "internal_error", "out of memory");
	}
	ret = cmd_read_file(0, r->json_path, REPORT_MAX, &data, &len);
	if (ret)
		return ret;
	r->root = json_loadb(data, len, 0, &jerr);
	free(data);
	if (!r->root || !json_is_object(r->root) ||
	    strcmp(cmd_str(r->root, "report") ?: "", REPORT_NAME) ||
	    json_integer_value(json_object_get(r->root, "version")) != REPORT_VERSION ||
	    !json_is_array(json_object_get(r->root, "tokens")))
		return out_fail(0, "report_invalid", "%s is not a report of kyso admin batch (%s); "
				"nothing was done", r->json_path,
				r->root ? "its fields are not a report's" : jerr.text);
	return check_entries(r, m);
}

int batch_report_open(struct batch_report *r, const char *base, const struct batch_manifest *m)
{
	size_t n = strlen(base);
	char *lock;
	int ret;

	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
	r->json_path = malloc(n + 6);
	r->csv_path = malloc(n + 5);
	lock = malloc(n + 6);
	if (!r->json_path || !r->csv_path || !lock) {
		free(lock);
		return out_fail(0, "internal_error", "out of memory");
	}
	snprintf(r->json_path, n + 6, "%s.json", base);
	snprintf(r->csv_path, n + 5, "%s.csv", base);
	snprintf(lock, n + 6, "%s.lock", base);
	r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->lock_fd < 0) {
		ret = out_fail(0, "file_error", "cannot open %s: %s", lock, strerror(errno));
		goto out;
	}
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ?
		      out_fail(0, "report_busy", "another kyso admin batch is writing the report %s",
			       r->json_path) :
		      out_fail(0, "file_error", "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	ret = load(r, m);
out:
	free(lock);
	return ret;
}

void batch_report_close(struct batch_report *r)
{
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	json_decref(r->root);
	free(r->json_path);
	free(r->csv_path);
	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
}

/* ---------------------------------------------------------------- writing */

static const char *const csv_headers[] = {
	"serial", "token", "row", "line", "label", "cn", "status", "steps", "init", "so_pin_change",
	"pin_unblock", "pin_change", "keygen", "csr", "import", "key_id", "csr_file",
	"certificate_file", "certificate", "error_step", "error_code", "error_message", "updated",
};

#define CSV_COLS (sizeof(csv_headers) / sizeof(csv_headers[0]))

static void csv_entry(FILE *f, const json_t *e, const struct batch_manifest *m)
{
	const char *c[CSV_COLS] = { 0 };
	char row[24], line[24];
	const json_t *err = json_object_get(e, "error");
	json_int_t n = json_integer_value(json_object_get(e, "row"));
	size_t s;

	snprintf(row, sizeof(row), "%" JSON_INTEGER_FORMAT, n);
	snprintf(line, sizeof(line), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(e, "line")));
	c[0] = cmd_str(e, "serial");
	c[1] = cmd_str(e, "token");
	c[2] = row;
	c[3] = line;
	c[4] = cmd_str(e, "label");
	c[5] = cmd_str(e, "cn");
	c[6] = cmd_str(e, "status");
	c[7] = n >= 1 && (size_t)n <= m->nrows ? m->rows[n - 1].v[COL_STEPS] : NULL;
	for (s = 0; s < STEP_COUNT; s++)
		c[8 + s] = batch_entry_result(e, s);
	c[15] = cmd_str(e, "key_id");
	c[16] = cmd_str(e, "csr_file");
	c[17] = cmd_str(e, "certificate_file");
	c[18] = cmd_str(e, "certificate");
	c[19] = cmd_str(err, "step");
	c[20] = cmd_str(err, "code");
	c[21] = cmd_str(err, "message");
	c[22] = cmd_str(e, "updated");
	out_csv_row_to(f, c, CSV_COLS);
}

static char *csv_text(const struct batch_report *r, const struct batch_manifest *m, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	const json_t *e;
	size_t i;

	if (!f)
		return NULL;
	out_csv_row_to(f, csv_headers, CSV_COLS);
	json_array_foreach(json_object_get(r->root, "tokens"), i, e)
		csv_entry(f, e, m);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

int batch_report_save(struct batch_report *r, const struct batch_manifest *m)
{
	char now[32], *json = NULL, *csv = NULL;
	size_t csv_len = 0;
	int ret = -1;

	batch_now(now);
	json_object_set_new(r->root, "manifest", json_string(m->path));
	json_object_set_new(r->root, "manifest_sha256", json_string(m->sha256));
	json_object_set_new(r->root, "updated", json_string(now));
	json = json_dumps(r->root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	csv = csv_text(r, m, &csv_len);
	if (!json || !csv) {
		out_fail(0, "internal_error", "out of memory");
		goto out;
	}
	if (out_file_replace(r->json_path, json, strlen(json))) {
		out_fail(0, "file_error", "cannot write the report %s: %s", r->json_path,
			 strerror(errno));
		goto out;
	}
	if (out_file_replace(r->csv_path, csv, csv_len)) {
		out_fail(0, "file_error", "cannot write the report %s: %s", r->csv_path,
			 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(json);
	free(csv);
	return ret;
}
