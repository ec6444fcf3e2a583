/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kyso dev-setup DIR: a test token, certificates, kysod.conf and PIN dialog for
 * developing an application without a smart card. The work is done by the
 * dev-setup.sh script (installed in PKGDATADIR, tools/ of the source tree);
 * this finds it and kysod's programs, and runs it.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"

/* The script: $KYSO_DEV_SETUP, the installed one, else the source tree's. */
static const char *script_path(void)
{
	const char *env = getenv("KYSO_DEV_SETUP");

	if (env && *env)
		return env;
	if (access(KYSO_DEV_SETUP_INSTALLED, R_OK) == 0)
		return KYSO_DEV_SETUP_INSTALLED;
	if (access(KYSO_DEV_SETUP_SOURCE, R_OK) == 0)
		return KYSO_DEV_SETUP_SOURCE;
	return NULL;
}

int cmd_dev_setup(int argc, char **argv)
{
	char exe[PATH_MAX], helper[PATH_MAX + 16];
	const char *script = script_path();
	char **args = NULL;
	ssize_t n;
	int i, k = 0, ret = KYSO_EXIT_ERROR;

	if (!script) {
		fprintf(stderr, "kyso dev-setup: its script is not installed (%s)\n",
			KYSO_DEV_SETUP_INSTALLED);
		goto out;
	}
	args = calloc((size_t)argc + 8, sizeof(*args));
	if (!args) {
		fputs("kyso: out of memory\n", stderr);
		goto out;
	}
	args[k++] = "/bin/bash";
	args[k++] = (char *)script;
	/* where kysod is: next to this program (a build tree, or BINDIR) */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		args[k++] = "--bindir";
		args[k++] = dirname(exe);
		/* libtool runs a build tree's program from .libs/ */
		if (!strcmp(basename(args[k - 1]), ".libs"))
			args[k - 1] = dirname(args[k - 1]);
	}
	snprintf(helper, sizeof(helper), "%s/kyso-p11", LIBEXECDIR);
	if (access(helper, X_OK) == 0) {
		args[k++] = "--helper";
		args[k++] = helper;
	}
	for (i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	fflush(stdout);
	execv(args[0], args);
	fprintf(stderr, "kyso dev-setup: cannot run %s: %s\n", script, strerror(errno));
out:
	free(args);
	return ret;
}
