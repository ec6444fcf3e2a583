/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The API's stable error codes: one table gives each its enum name, its code
 * (what clients dispatch on), the HTTP status it is answered with and a
 * default message. Everything else (the enum, the lookups, the test that
 * every code is documented) is made from this table.
 *
 * X(NAME, "code", status, "default message") */
#ifndef KYSO_ERRORS_H
#define KYSO_ERRORS_H

#define KYSO_ERROR_TABLE(X) \
	X(BAD_REQUEST, "bad_request", 400, "the request body is not a JSON object") \
	X(UNKNOWN_FIELD, "unknown_field", 400, "the request has a field this route does not know") \
	X(MISSING_FIELD, "missing_field", 400, "a required field is missing") \
	X(INVALID_TYPE, "invalid_type", 400, "a field has the wrong JSON type") \
	X(INVALID_VALUE, "invalid_value", 400, "a field has a value this route does not accept") \
	X(HASH_ENCODING, "hash_encoding", 400, "the hash is not valid base64") \
	X(HASH_LENGTH, "hash_length", 400, "the hash's length does not fit its algorithm") \
	X(UNSUPPORTED_PADDING, "unsupported_padding", 400, "this padding does not fit the key") \
	X(TIMESTAMP_UNAVAILABLE, "timestamp_unavailable", 400, "no time-stamp authority is configured") \
	X(SIGNATURE_ENCODING, "signature_encoding", 400, "the signature is not valid base64") \
	X(SIGNATURE_MALFORMED, "signature_malformed", 400, "the signature cannot be decoded") \
	X(CERTIFICATE_MALFORMED, "certificate_malformed", 400, "the certificate cannot be decoded") \
	X(HTTP_MALFORMED, "http_malformed", 400, "the request breaks HTTP/1.1's framing rules") \
	X(ORIGIN_MALFORMED, "origin_malformed", 400, "the Origin header is not a web origin") \
	X(FORBIDDEN, "forbidden", 403, "this kyso daemon serves only its own user") \
	X(WRONG_USER, "wrong_user", 403, "this kyso daemon serves another user of this computer") \
	X(ORIGIN_REQUIRED, "origin_required", 403, "a request on the loopback listener needs an Origin header") \
	X(ORIGIN_NOT_ALLOWED, "origin_not_allowed", 403, "this web site is not allowed to use kyso") \
	X(NOT_FOR_BROWSERS, "not_for_browsers", 403, "web pages may not do this") \
	X(ADMIN_DISABLED, "admin_disabled", 403, "administration is off in kysod.conf") \
	X(REQUEST_TIMEOUT, "request_timeout", 408, "the request did not arrive in time") \
	X(PIN_CANCELLED, "pin_cancelled", 403, "the user cancelled the dialog, or it timed out") \
	X(PIN_INCORRECT, "pin_incorrect", 403, "the PIN is incorrect") \
	X(BATCH_CANCELLED, "batch_cancelled", 409, "the batch was cancelled") \
	X(NOT_FOUND, "not_found", 404, "no such resource") \
	X(CERTIFICATE_NOT_FOUND, "certificate_not_found", 404, "no certificate with this id") \
	X(TOKEN_NOT_FOUND, "token_not_found", 404, "no token with this id") \
	X(OBJECT_NOT_FOUND, "object_not_found", 404, "the token has no such object") \
	X(BATCH_NOT_FOUND, "batch_not_found", 404, "no batch with this id is being signed") \
	X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, "this method is not allowed here") \
	X(TOKEN_NOT_PRESENT, "token_not_present", 409, "the token is not inserted") \
	X(BATCH_EXISTS, "batch_exists", 409, "a batch of this id is being signed already") \
	X(PER_SIGNATURE_PIN, "per_signature_pin", 409, "this key needs the PIN for each signature") \
	X(PAIRING_BUSY, "pairing_busy", 409, "another web site's pairing dialog is open") \
	X(KEY_NOT_FOUND, "key_not_found", 409, "the token has no private key for this certificate") \
	X(LAST_TRY, "last_try", 409, "this would spend the last try of a PIN; confirm with force") \
	X(TOKEN_INITIALIZED, "token_initialized", 409, "the token is initialised already") \
	X(TOKEN_NOT_INITIALIZED, "token_not_initialized", 409, "the token or its user PIN is not initialised") \
	X(OBJECT_EXISTS, "object_exists", 409, "the token holds this already") \
	X(TOKEN_READ_ONLY, "token_read_only", 409, "the token is write-protected") \
	X(BODY_TOO_LARGE, "body_too_large", 413, "the request body is too large") \
	X(URI_TOO_LONG, "uri_too_long", 414, "the request target is too long") \
	X(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415, "send the body as application/json") \
	X(HOST_NOT_ALLOWED, "host_not_allowed", 421, "the Host header does not name this loopback listener") \
	X(MECHANISM_UNSUPPORTED, "mechanism_unsupported", 422, "the token cannot sign this way") \
	X(CERTIFICATE_EXPIRED, "certificate_expired", 422, "the certificate has expired") \
	X(CERTIFICATE_NOT_YET_VALID, "certificate_not_yet_valid", 422, "the certificate is not valid yet") \
	X(CERTIFICATE_USAGE, "certificate_usage", 422, "the certificate is not for signing") \
	X(CERTIFICATE_UNTRUSTED, "certificate_untrusted", 422, "the certificate does not chain to a trusted CA") \
	X(CERTIFICATE_REVOKED, "certificate_revoked", 422, "the certificate is revoked") \
	X(OPERATION_UNSAFE, "operation_unsafe", 422, "the token catalogue does not list this operation as safe for this token") \
	X(OPERATION_UNSUPPORTED, "operation_unsupported", 422, "the token or its module cannot do this") \
	X(PIN_REJECTED, "pin_rejected", 422, "the new PIN does not meet the token's rules") \
	X(PIN_MISMATCH, "pin_mismatch", 422, "the two entries of the new PIN differ") \
	X(PIN_LOCKED, "pin_locked", 423, "the token's PIN is locked") \
	X(HEADERS_TOO_LARGE, "headers_too_large", 431, "the request headers are too large") \
	X(INTERNAL_ERROR, "internal_error", 500, "an internal error") \
	X(AUDIT_FAILED, "audit_failed", 500, "the audit log cannot be written") \
	X(PINENTRY_FAILED, "pinentry_failed", 500, "the PIN dialog could not be shown") \
	X(MODULE_CRASHED, "module_crashed", 502, "the token's module crashed") \
	X(TOKEN_ERROR, "token_error", 502, "the token or its module failed") \
	X(REVOCATION_UNKNOWN, "revocation_unknown", 502, "the revocation status could not be found out") \
	X(TIMESTAMP_FAILED, "timestamp_failed", 502, "the time-stamp authority failed") \
	X(MODULE_UNAVAILABLE, "module_unavailable", 503, "the token's module is not running") \
	X(TOO_MANY_STREAMS, "too_many_streams", 503, "too many event streams are open") \
	X(SHUTTING_DOWN, "shutting_down", 503, "kysod is stopping") \
	X(TOO_MANY_CONNECTIONS, "too_many_connections", 503, "too many connections") \
	X(SERVER_BUSY, "server_busy", 503, "kysod is busy; retry shortly") \
	X(TOKEN_REMOVED, "token_removed", 503, "the token was removed") \
	X(MODULE_TIMEOUT, "module_timeout", 504, "the token's module did not answer in time") \
	X(TOKEN_FULL, "token_full", 507, "the token has no room left")

enum kyso_err {
#define KYSO_ERR_ENUM(name, code, status, message) KE_##name,
	KYSO_ERROR_TABLE(KYSO_ERR_ENUM)
#undef KYSO_ERR_ENUM
	KE__COUNT
};

/* The code clients see ("pin_cancelled"), the HTTP status, the default message. */
const char *kyso_err_code(enum kyso_err e);
unsigned int kyso_err_status(enum kyso_err e);
const char *kyso_err_message(enum kyso_err e);

/* The error of a code string: 0 and *e set, or -1 when no such code exists. */
int kyso_err_lookup(const char *code, enum kyso_err *e);

/* The error of a code that came from a helper: a known code as it is, any
 * other (or none) token_error. */
enum kyso_err kyso_err_from_helper(const char *code);

/* HTTP status for an error code string; 500 for a code not in the table. */
unsigned int kyso_error_status(const char *code);

/* Whether code is one of the documented error codes. */
int kyso_error_known(const char *code);

#endif
