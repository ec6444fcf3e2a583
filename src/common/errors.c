#include <string.h>

#include "common/errors.h"

struct error_def {
	const char *code;
	unsigned int status;
};

static const struct error_def error_table[] = {
	{ "bad_request", 400 },
	{ "unknown_field", 400 },
	{ "missing_field", 400 },
	{ "invalid_type", 400 },
	{ "invalid_value", 400 },
	{ "hash_encoding", 400 },
	{ "hash_length", 400 },
	{ "unsupported_padding", 400 },
	{ "timestamp_unavailable", 400 },
	{ "signature_encoding", 400 },
	{ "signature_malformed", 400 },
	{ "certificate_malformed", 400 },
	{ "http_malformed", 400 },
	{ "forbidden", 403 },
	{ "request_timeout", 408 },
	{ "pin_cancelled", 403 },
	{ "pin_incorrect", 403 },
	{ "batch_cancelled", 409 },
	{ "not_found", 404 },
	{ "certificate_not_found", 404 },
	{ "token_not_found", 404 },
	{ "batch_not_found", 404 },
	{ "method_not_allowed", 405 },
	{ "token_not_present", 409 },
	{ "batch_exists", 409 },
	{ "per_signature_pin", 409 },
	{ "key_not_found", 409 },
	{ "body_too_large", 413 },
	{ "unsupported_media_type", 415 },
	{ "mechanism_unsupported", 422 },
	{ "certificate_expired", 422 },
	{ "certificate_not_yet_valid", 422 },
	{ "certificate_usage", 422 },
	{ "certificate_untrusted", 422 },
	{ "certificate_revoked", 422 },
	{ "pin_locked", 423 },
	{ "internal_error", 500 },
	{ "audit_failed", 500 },
	{ "pinentry_failed", 500 },
	{ "module_crashed", 502 },
	{ "token_error", 502 },
	{ "revocation_unknown", 502 },
	{ "timestamp_failed", 502 },
	{ "module_unavailable", 503 },
	{ "too_many_streams", 503 },
	{ "shutting_down", 503 },
	{ "too_many_connections", 503 },
	{ "server_busy", 503 },
	{ "token_removed", 503 },
	{ "module_timeout", 504 },
};

static const struct error_def *error_find(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (!strcmp(error_table[i].code, code))
			return &error_table[i];
	return NULL;
}

unsigned int kyso_error_status(const char *code)
{
	const struct error_def *def = error_find(code);

	return def ? def->status : 500;
}

int kyso_error_known(const char *code)
{
	return error_find(code) != NULL;
}
