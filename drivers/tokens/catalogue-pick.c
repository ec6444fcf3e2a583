/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token catalogue: choosing the module of a kind, its entries in order,
 * "opensc" for OpenSC's usual paths and globs for the files that exist (this
 * build's multiarch directory first), the caller saying which path is usable. */
#include <glob.h>
#include <string.h>

#include "tokens/catalogue-internal.h"

/* Debian's multiarch directory of this build, searched first when a module glob
 * matches in several architectures' directories. */
#ifndef KYSO_MULTIARCH
#if defined(__x86_64__) && defined(__LP64__)
#define KYSO_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define KYSO_MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define KYSO_MULTIARCH "i386-linux-gnu"
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
#define KYSO_MULTIARCH "arm-linux-gnueabihf"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KYSO_MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__s390x__)
#define KYSO_MULTIARCH "s390x-linux-gnu"
#elif defined(__riscv) && __riscv_xlen == 64
#define KYSO_MULTIARCH "riscv64-linux-gnu"
#endif
#endif

/* What the module entry "opensc" stands for, in preference order. */
static const char *const opensc_paths[] = {
	"/usr/lib/*/pkcs11/opensc-pkcs11.so",	/* Debian, Ubuntu */
	"/usr/lib/*/opensc-pkcs11.so",
	"/usr/lib64/pkcs11/opensc-pkcs11.so",	/* Fedora, openSUSE */
	"/usr/lib64/opensc-pkcs11.so",
	"/usr/lib/pkcs11/opensc-pkcs11.so",	/* Arch, Alpine */
	"/usr/lib/opensc-pkcs11.so",
};

struct pick {
	kyso_module_usable_fn usable;
	void *ctx;
	char *out;
	size_t outlen;
};

static int try_path(struct pick *pk, const char *path)
{
	size_t len = strlen(path);

	if (len >= pk->outlen || !pk->usable(path, pk->ctx))
		return 0;
	memcpy(pk->out, path, len + 1);
	return 1;
}

static int is_native(const char *path)
{
#ifdef KYSO_MULTIARCH
	return strstr(path, "/" KYSO_MULTIARCH "/") != NULL;
#else
	return 1;
#endif
}

/* A literal path goes to the callback as is; a glob, for each existing match. */
static int try_entry(struct pick *pk, const char *entry)
{
	glob_t g;
	size_t i;
	int pass, found = 0;

	if (!catalogue_is_glob(entry))
		return try_path(pk, entry);
	memset(&g, 0, sizeof(g));
	if (glob(entry, 0, NULL, &g) == 0)
		for (pass = 0; pass < 2 && !found; pass++)
			for (i = 0; i < g.gl_pathc && !found; i++)
				if (is_native(g.gl_pathv[i]) == !pass)
					found = try_path(pk, g.gl_pathv[i]);
	globfree(&g);
	return found;
}

int kyso_catalogue_pick_module(const struct kyso_token_kind *kind, kyso_module_usable_fn usable,
			       void *ctx, char *out, size_t outlen)
{
	struct pick pk = { usable, ctx, out, outlen };
	size_t i, j;

	if (!out || !outlen)
		return -1;
	out[0] = '\0';
	if (!kind || !usable)
		return -1;
	for (i = 0; i < kind->n_modules; i++) {
		if (strcmp(kind->modules[i], "opensc")) {
			if (try_entry(&pk, kind->modules[i]))
				return 0;
			continue;
		}
		for (j = 0; j < sizeof(opensc_paths) / sizeof(opensc_paths[0]); j++)
			if (try_entry(&pk, opensc_paths[j]))
				return 0;
	}
	out[0] = '\0';
	return -1;
}
