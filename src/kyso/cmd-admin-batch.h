/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin batch: a class of tokens provisioned from a manifest, one
 * token after the other as they are inserted.
 *
 *   cmd-admin-batch.c           the command: options, the wait for tokens
 *                               (kysod's event stream), which row a token
 *                               takes, progress, Ctrl-C
 *   cmd-admin-batch-manifest.c  the manifest (CSV) read and checked whole
 *                               before anything is done
 *   cmd-admin-batch-report.c    the report (JSON and CSV, replaced
 *                               atomically after every step), keyed by
 *                               token serial
 *   cmd-admin-batch-steps.c     the steps on one token, each safe to repeat
 */
#ifndef KYSO_CLI_CMD_ADMIN_BATCH_H
#define KYSO_CLI_CMD_ADMIN_BATCH_H

#include <stddef.h>

#include <jansson.h>

#include "cmd.h"

/* The steps, in the order they run whatever order a row names them in. */
enum batch_step {
	STEP_INIT,
	STEP_SO_PIN_CHANGE,
	STEP_PIN_UNBLOCK,
	STEP_PIN_CHANGE,
	STEP_KEYGEN,
	STEP_CSR,
	STEP_IMPORT,
	STEP_COUNT,
};

/* The manifest's columns. */
enum batch_col {
	COL_STEPS,
	COL_SERIAL,
	COL_LABEL,
	COL_KEY_TYPE,
	COL_KEY_ID,
	COL_KEY_LABEL,
	COL_HASH_ALG,
	COL_CERTIFICATE,
	/* the subject of the certificate request, in the order kysod writes it */
	COL_C,
	COL_ST,
	COL_L,
	COL_O,
	COL_OU,
	COL_TITLE,
	COL_CN,
	COL_SERIAL_NUMBER,
	COL_UID,
	COL_EMAIL,
	COL_COUNT,
};

/* "init", "so-pin-change", ... */
const char *batch_step_name(enum batch_step s);
/* The column's name in the manifest's header: "steps", "cn", ... */
const char *batch_col_name(enum batch_col c);

struct batch_row {
	size_t index;			/* 1 for the first row */
	unsigned long line;		/* its line in the manifest */
	unsigned steps;			/* 1 << enum batch_step */
	char *v[COL_COUNT];		/* NULL for an empty cell */
	char sha256[65];		/* of its cells: a row changed since is refused */
};

struct batch_manifest {
	char *path;
	char *dir;			/* where relative file names start */
	struct batch_row *rows;
	size_t nrows;
	char sha256[65];		/* of the whole file */
};

/*
 * Reads and checks the manifest at path: every problem is reported on
 * stderr (up to a limit) with its line.  Returns 0, or the exit code.
 */
int batch_manifest_load(const char *path, struct batch_manifest *m);
void batch_manifest_free(struct batch_manifest *m);

/* The label of the key pair a row's keygen makes (key_label, else cn, else label). */
const char *batch_row_key_label(const struct batch_row *r);

/* ---------------------------------------------------------------- the report */

struct batch_report {
	char *json_path;		/* BASE.json: what a restart reads */
	char *csv_path;			/* BASE.csv: the same, for a spreadsheet */
	int lock_fd;			/* BASE.lock, flock()ed while the batch runs */
	json_t *root;			/* {"tokens": [...], ...} */
};

/*
 * Opens the report at base (BASE.json, BASE.csv): takes its lock (another
 * batch on it is refused), reads what an earlier run wrote, checks it
 * against the manifest (a row it began must be unchanged).  Nothing is
 * written yet.  Returns 0 or the exit code.
 */
int batch_report_open(struct batch_report *r, const char *base, const struct batch_manifest *m);
void batch_report_close(struct batch_report *r);

/* Writes BASE.json and BASE.csv, each replaced atomically; 0 or -1 (reported). */
int batch_report_save(struct batch_report *r, const struct batch_manifest *m);

/* The report's entry for a token serial (not "") or for a row; NULL if none. */
json_t *batch_report_by_serial(const struct batch_report *r, const char *serial);
json_t *batch_report_by_row(const struct batch_report *r, size_t row);

/* A new entry for row (serial may be "" until init gives it one); borrowed. */
json_t *batch_report_add(struct batch_report *r, const struct batch_row *row, const char *serial,
			 const char *token);

/* The result of step in entry e ("ok", "present", "waiting", an error code), NULL if none. */
const char *batch_entry_result(const json_t *e, enum batch_step s);

/* A step found done: "ok" and "present". */
int batch_result_done(const char *result);

/* ---------------------------------------------------------------- the steps */

struct batch_run {
	struct kyso_ctx *ctx;
	struct batch_manifest *manifest;
	struct batch_report *report;
	const char *csr_dir;
	json_t *chain;			/* the --chain certificates (PEM strings), or NULL */
	const char *const *checked;	/* --checked: serials whose unknown step was checked */
	size_t nchecked;
	int (*stopping)(struct batch_run *run);	/* Ctrl-C was pressed */
	void *opaque;
};

/* What became of a token's turn. */
enum batch_outcome {
	OUTCOME_DONE,			/* every step done */
	OUTCOME_WAITING,		/* all done but import, whose certificate is not there yet */
	OUTCOME_FAILED,			/* a step failed: the report says which and why */
	OUTCOME_REMOVED,		/* the token went away (or its module): again when it comes back */
	OUTCOME_CHECK,			/* an earlier run stopped in a step whose effect cannot be seen */
	OUTCOME_STOPPED,		/* Ctrl-C: stopped after a step */
	OUTCOME_FATAL,			/* the report cannot be written, kysod is gone: end the batch */
};

/*
 * Runs the steps of row on the token tok (its object in GET
 * /v1/admin/tokens) that are not done, in order, from its entry e (NULL:
 * a token new to the report).  The report is saved before and after every
 * step.  Progress goes to stdout.
 */
enum batch_outcome batch_token_run(struct batch_run *run, const struct batch_row *row,
				   const json_t *tok, json_t *e);

/*
 * An admin request that reports nothing itself: 0 and the answer (or
 * NULL) in *answer; or -1 with kysod's error code and message copied into
 * code and msg (sized 64 and 256) and its error object, if any, in *answer.
 */
int batch_request(struct kyso_ctx *ctx, const char *method, const char *path, json_t *body,
		  json_t **answer, char *code, char *msg);

/* Prints s with control characters shown as '?'. */
void batch_put(const char *s);

/* Now as "2026-12-07T04:55:03Z" into buf (32 bytes). */
void batch_now(char *buf);

#endif /* KYSO_CLI_CMD_ADMIN_BATCH_H */
