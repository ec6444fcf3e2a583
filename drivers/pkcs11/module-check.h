/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks a PKCS#11 module before libp11 loads it: it must load and export
 * C_GetFunctionList. Keeps the module's function list for the cheap slot probe. */
#ifndef KYSO_MODULE_CHECK_H
#define KYSO_MODULE_CHECK_H
#include <stddef.h>
#include <p11-kit/pkcs11.h>

struct p11_module_handle {
	void *dl;			/* dlopen handle, kept open for the process's life */
	CK_FUNCTION_LIST_PTR fl;	/* the module's function list */
};

/* Returns 0, or -1 with a reason in err. */
int p11_module_check(const char *path, struct p11_module_handle *h, char *err, size_t errlen);

#endif
