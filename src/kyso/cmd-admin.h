/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso admin's subcommands (cmd-admin.c: dispatch, token lookup, inventory;
 * cmd-admin-ops.c: the operations).  Each gets its own argv (argv[0] the
 * subcommand's name) and returns the exit code.
 */
#ifndef KYSO_CLI_CMD_ADMIN_H
#define KYSO_CLI_CMD_ADMIN_H

#include "cmd.h"

int admin_init(struct kyso_ctx *ctx, int argc, char **argv);
int admin_wipe(struct kyso_ctx *ctx, int argc, char **argv);
int admin_pin(struct kyso_ctx *ctx, int argc, char **argv);
int admin_keygen(struct kyso_ctx *ctx, int argc, char **argv);
int admin_csr(struct kyso_ctx *ctx, int argc, char **argv);
int admin_import(struct kyso_ctx *ctx, int argc, char **argv);
int admin_delete(struct kyso_ctx *ctx, int argc, char **argv);
/* kyso admin batch (cmd-admin-batch*.c) */
int admin_batch(struct kyso_ctx *ctx, int argc, char **argv);

/*
 * The token named by arg (a full id, or a unique prefix of at least 8 hex
 * digits among the tokens of kyso admin inventory, initialised or not)
 * into out (KYSO_TOKEN_ID_LEN + 1 bytes).  cmd names the command in usage
 * errors.  Returns 0 or the exit code of the reported failure.
 */
int admin_token(struct kyso_ctx *ctx, const char *cmd, const char *arg, char *out);

#endif /* KYSO_CLI_CMD_ADMIN_H */
