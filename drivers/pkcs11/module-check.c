/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "pkcs11/module-check.h"

int p11_module_check(const char *path, struct p11_module_handle *h, char *err, size_t errlen)
{
	CK_C_GetFunctionList get_list;
	CK_RV rv;

	memset(h, 0, sizeof(*h));
	h->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h->dl) {
		snprintf(err, errlen, "cannot load module: %s", dlerror());
		return -1;
	}
	*(void **)&get_list = dlsym(h->dl, "C_GetFunctionList");
	if (!get_list) {
		snprintf(err, errlen, "not a PKCS#11 module: no C_GetFunctionList");
		goto fail;
	}
	rv = get_list(&h->fl);
	if (rv != CKR_OK || !h->fl) {
		snprintf(err, errlen, "C_GetFunctionList failed (0x%lx)", (unsigned long)rv);
		goto fail;
	}
	return 0;
fail:
	dlclose(h->dl);
	memset(h, 0, sizeof(*h));
	return -1;
}
