/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso: the parameter structures callers fill in, checked by their
 * struct_size (see "Keeping the ABI" in kyso.h).
 */
#include <string.h>

#include "kyso/kyso.h"
#include "client-internal.h"

/* Larger than any parameter structure will be: a struct_size past it is garbage. */
#define PARAMS_MAX_SIZE 4096

int lk_params_copy(struct kyso_client *c, const char *name, void *dst, size_t size,
		   size_t min, const void *src)
{
	const unsigned char *bytes = src;
	size_t given, i;

	memcpy(&given, src, sizeof(given));
	if (given < min || given > PARAMS_MAX_SIZE) {
		lk_set_error(c, 0, "invalid_argument",
			     "%s: struct_size is %zu, not the size of the structure "
			     "(start it from its _INIT macro)", name, given);
		return -1;
	}
	for (i = size; i < given; i++) {
		if (bytes[i]) {
			lk_set_error(c, 0, "invalid_argument",
				     "%s: a field this libkyso (%s) does not know is set",
				     name, KYSO_VERSION);
			return -1;
		}
	}
	memset(dst, 0, size);
	memcpy(dst, src, given < size ? given : size);
	/* the library's own copy describes itself */
	memcpy(dst, &size, sizeof(size));
	return 0;
}

int lk_params_item(struct kyso_client *c, const char *array, const char *name, const void *items,
		   size_t i, void *dst, size_t size, size_t min)
{
	const unsigned char *base = items;
	size_t stride, given;

	memcpy(&stride, base, sizeof(stride));
	if (i > 0) {
		memcpy(&given, base + i * stride, sizeof(given));
		if (given != stride) {
			lk_set_error(c, 0, "invalid_argument", "%s[%zu]: struct_size is %zu, %s[0]'s %zu",
				     array, i, given, array, stride);
			return -1;
		}
	}
	return lk_params_copy(c, name, dst, size, min, base + i * stride);
}

int lk_begin(struct kyso_client *c, struct kyso_error *err, const void *params, const void *out,
	     const char *name, void *dst, size_t size, size_t min)
{
	if (!c)
		return lk_no_client(err);
	if (!params || !out)
		return lk_bad_argument(c, err, "parameters and output are required");
	lk_clear_error(c);
	if (lk_params_copy(c, name, dst, size, min, params) < 0)
		return lk_finish(c, -1, err);
	return 0;
}
