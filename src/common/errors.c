/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>
#include <string.h>

#include "common/errors.h"

struct error_def {
	const char *code;
	unsigned int status;
	const char *message;
};

static const struct error_def error_table[KE__COUNT] = {
#define KYSO_ERR_DEF(name, code, status, message) [KE_##name] = { code, status, message },
	KYSO_ERROR_TABLE(KYSO_ERR_DEF)
#undef KYSO_ERR_DEF
};

const char *kyso_err_code(enum kyso_err e)
{
	return (unsigned int)e < KE__COUNT ? error_table[e].code : "internal_error";
}

unsigned int kyso_err_status(enum kyso_err e)
{
	return (unsigned int)e < KE__COUNT ? error_table[e].status : 500;
}

const char *kyso_err_message(enum kyso_err e)
{
	return (unsigned int)e < KE__COUNT ? error_table[e].message : "an internal error";
}

int kyso_err_lookup(const char *code, enum kyso_err *e)
{
	size_t i;

	for (i = 0; code && i < KE__COUNT; i++)
		if (!strcmp(error_table[i].code, code)) {
			*e = (enum kyso_err)i;
			return 0;
		}
	return -1;
}

enum kyso_err kyso_err_from_helper(const char *code)
{
	enum kyso_err e;

	return kyso_err_lookup(code, &e) ? KE_TOKEN_ERROR : e;
}

unsigned int kyso_error_status(const char *code)
{
	enum kyso_err e;

	return kyso_err_lookup(code, &e) ? 500 : error_table[e].status;
}

int kyso_error_known(const char *code)
{
	enum kyso_err e;

	return kyso_err_lookup(code, &e) == 0;
}
