/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod.conf (kysod_config_load, src/kysod/config.c): the input is the file,
 * read over the defaults as kysod does at start; then the module allowlist
 * is asked about every module path it gave, and the configuration freed,
 * whether or not the file was accepted. The file is a memfd of mode 0600,
 * opened by its /proc/self/fd path. */
#include <sys/mman.h>
#include <sys/stat.h>
#include <limits.h>

#include "fuzz-common.h"
#include "kysod/config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fd = memfd_create("kysod.conf", MFD_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0600))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kysod_config cfg;
	char err[512], resolved[PATH_MAX];
	size_t i;

	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (kysod_config_defaults(&cfg))
		abort();
	err[0] = '\0';
	if (kysod_config_load(&cfg, path, err, sizeof(err)) == 0) {
		if (!cfg.socket_path || !cfg.pinentry || !cfg.helper || !cfg.audit_log)
			abort();
		for (i = 0; i < cfg.n_modules; i++) {
			if (!cfg.modules[i].name || !cfg.modules[i].path)
				abort();
			kysod_module_allowed(&cfg, cfg.modules[i].path, resolved, err, sizeof(err));
		}
	} else if (!err[0]) {
		abort();
	}
	fuzz_show("config", err, NULL);
	kysod_config_free(&cfg);
	return 0;
}
