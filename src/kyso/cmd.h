/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso CLI commands.  Each gets its own argv (argv[0] is the command
 * name, options follow) and returns the process exit code.
 */
#ifndef KYSO_CLI_CMD_H
#define KYSO_CLI_CMD_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kyso/kyso.h"

struct kyso_ctx {
	struct kyso_client *client;
	int json;			/* --json: print the API's JSON */
};

int cmd_status(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_tokens(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_logout(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_certs(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_sign(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_readers(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_watch(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_audit(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_verify(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_origins(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_pdf(struct kyso_ctx *ctx, int argc, char **argv);
/* kyso pdf verify (cmd-pdf-verify.c); argv[0] is "verify". */
int cmd_pdf_verify(struct kyso_ctx *ctx, int argc, char **argv);
int cmd_xml(struct kyso_ctx *ctx, int argc, char **argv);
/*
 * Warns on stderr of each certificate in root ({"certificates":[…]}) whose
 * end of validity is less than 30 days away (cmd-certs.c).
 */
void cmd_warn_expiring(const json_t *root);

/* kyso admin (cmd-admin.c, cmd-admin-ops.c): provisioning through kysod. */
int cmd_admin(struct kyso_ctx *ctx, int argc, char **argv);
/* kyso dev-setup: needs no kysod; runs the dev-setup script (does not return on success). */
int cmd_dev_setup(int argc, char **argv);

/* kyso sign --batch: what the command line asked (cmd-sign.c parses it). */
struct batch_opts {
	const char *file;		/* "-" for standard input */
	const char *cert;		/* as given: id or prefix */
	enum kyso_hash_alg alg;
	enum kyso_padding padding;
	const char *description;	/* NULL for none */
	const char *out_dir;		/* one DIR/<id>.sig per signed item */
	const char *out;		/* the JSON answer to this file; "-" or NULL: stdout */
};

int cmd_sign_batch(struct kyso_ctx *ctx, const struct batch_opts *o);

/*
 * method path to kysod with body (a JSON object, consumed; NULL for none);
 * the answer parsed into *answer (json_decref).  Failures are reported;
 * returns 0 or the exit code (post-json.c).
 */
int cmd_request_json(struct kyso_ctx *ctx, const char *method, const char *path, json_t *body,
		     json_t **answer);

/* cmd_request_json() for a POST, where a NULL body (a failed json_pack())
 * is reported as out of memory. */
int cmd_post_json(struct kyso_ctx *ctx, const char *path, json_t *body, json_t **answer);

/*
 * A time-stamp token from kysod (POST /v1/timestamp) over the SHA-256
 * digest md: its DER into *token (free) and *len. Failures are reported;
 * returns 0 or the exit code (post-json.c).
 */
int cmd_timestamp(struct kyso_ctx *ctx, const unsigned char *md, size_t md_len,
		  unsigned char **token, size_t *len);

/* What the commands read (input.c). */

/* sha256, sha384 or sha512 (any case) into *alg; -1 for another name. */
int cmd_parse_hash_alg(const char *s, enum kyso_hash_alg *alg);

/* OpenSSL's digest for alg (NULL for a value outside the enum). */
const EVP_MD *cmd_evp_md(enum kyso_hash_alg alg);

/*
 * Hashes the file at path ("-": stdin) into md (EVP_MAX_MD_SIZE bytes),
 * its length to *md_len.  Failures are reported (json: as for --json);
 * returns 0 or the exit code.
 */
int cmd_hash_file(int json, const char *path, enum kyso_hash_alg alg,
		  unsigned char *md, size_t *md_len);

/*
 * Reads the whole file at path ("-": stdin), at most max bytes, into
 * *data (a new buffer, caller frees, with a NUL after its *len bytes).
 * Failures are reported as by cmd_hash_file(); returns 0 or the exit code.
 */
int cmd_read_file(int json, const char *path, size_t max, char **data, size_t *len);

/*
 * SIGINT and SIGTERM handled on a thread of their own: sigwatch_start()
 * blocks them in the calling thread (start it before any other thread,
 * which inherits the mask) and calls on_signal(opaque, sig) on the
 * signal thread for each one; sigwatch_poke() calls it with sig 0 (to
 * act on a state change there).  sigwatch_stop() ends the thread and
 * restores the signal mask.
 */
struct sigwatch;

struct sigwatch *sigwatch_start(void (*on_signal)(void *opaque, int sig), void *opaque);
void sigwatch_poke(struct sigwatch *sw);
void sigwatch_stop(struct sigwatch *sw);

/*
 * Turns a getopt_long failure ('?' or ':') into a usage error for cmd;
 * returns 2.
 */
int cmd_bad_option(const char *cmd, int ch, char **argv);

/*
 * The options every command takes, in its getopt_long loop: ch 'j'
 * (--json) sets ctx->json, 'h' (--help) prints help, anything else is
 * the failure cmd_bad_option() reports.  Returns -1 to go on, else the
 * exit code to return.
 */
int cmd_common_option(struct kyso_ctx *ctx, int ch, const char *cmd, const char *help,
		      char **argv);

/* Usage error if arguments are left after the options; else 0. */
int cmd_no_operands(const char *cmd, int argc, char **argv);

/*
 * Parses the options every command takes (--json, --help) and, if token
 * is not NULL, --token ID (stored there as given); operands are left at
 * optind.  cmd names the command in usage errors.  Returns -1 to go on,
 * else the exit code to return.
 */
int cmd_options(struct kyso_ctx *ctx, int argc, char **argv, const char *cmd,
		const char *help, const char **token);

/* cmd_options() for a command with no other options and no operands. */
int cmd_plain_options(struct kyso_ctx *ctx, int argc, char **argv, const char *help);

/*
 * The same with [--token ID]: the token, resolved into id (size bytes),
 * goes to *token, which stays NULL without --token.  Returns -1 to go on,
 * else the exit code to return.
 */
int cmd_token_options(struct kyso_ctx *ctx, int argc, char **argv, const char *help,
		      char *id, size_t size, const char **token);

/*
 * Shows the answer of a kyso_* listing call that returned rc: its JSON
 * text (taken: freed here) as is with --json, else through print; on
 * failure reports err.  Returns the exit code.
 */
int cmd_print_answer(struct kyso_ctx *ctx, int rc, char *text, const struct kyso_error *err,
		     void (*print)(const json_t *root));

/* String member of a JSON object, NULL if absent or not a string. */
const char *cmd_str(const json_t *obj, const char *key);

/* Integer member as text in buf ("-" if absent); returns buf. */
const char *cmd_int(const json_t *obj, const char *key, char *buf, size_t size);

enum cmd_id_kind {
	CMD_ID_TOKEN,
	CMD_ID_CERTIFICATE,
};

/*
 * Resolves a token or certificate id given on the command line: the full
 * id, or a unique prefix of at least 8 hex digits (looked up in kysod's
 * listing).  The full lowercase id is written to out (out_size at least
 * the id length + 1).  `cmd` and `option` name the command and option
 * for messages.  Returns 0 or the exit code of the reported failure.
 */
int cmd_resolve_id(struct kyso_ctx *ctx, enum cmd_id_kind kind, const char *cmd,
		   const char *option, const char *arg, char *out, size_t out_size);

#endif /* KYSO_CLI_CMD_H */
