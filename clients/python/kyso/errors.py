# SPDX-License-Identifier: LGPL-2.1-or-later
"""kysod's error answers as exceptions: one class per error code.

Every error answer of kysod has a stable `code` (docs/api.md, "Errors"). The
client raises the class of that code, so that an application can write::

    try:
        sig = client.sign(cert_id, digest)
    except kyso.PinCancelled:
        ...                       # the user chose not to sign
    except kyso.CertificateError as e:
        print(e.problems)         # expired, untrusted, wrong key usage …

The classes are grouped under a few bases (RequestError, PinError,
CertificateError, TokenError, ModuleError) besides KysoError. A code this
version does not know still raises KysoError, with `code` set.
"""


class KysoError(Exception):
    """An error answer of kysod.

    status:  the HTTP status (0 for errors of the connection itself)
    code:    the error code ("pin_cancelled", …)
    message: kysod's text, for people
    field, index, problems, pin_state, chain_certificate: the error's details
             when kysod gave them (None otherwise)
    answer:  the whole decoded error answer (a dict), or None
    """

    code = None

    def __init__(self, message, status=0, code=None, answer=None):
        super().__init__(message)
        self.status = status
        if code is not None:
            self.code = code
        self.message = message
        self.answer = answer
        err = (answer or {}).get("error") or {}
        self.field = err.get("field")
        self.index = err.get("index")
        self.problems = err.get("problems")
        self.pin_state = (err.get("pin") or {}).get("state")
        self.chain_certificate = err.get("chain_certificate")

    def __str__(self):
        return "%s (%s)" % (self.message, self.code) if self.code else str(self.message)


class ConnectionFailed(KysoError):
    """kysod cannot be reached (no socket, nobody listening), or the
    connection broke before an answer came."""
    code = "connection_failed"


class ProtocolError(KysoError):
    """An answer that is not what the API describes (not JSON, …)."""
    code = "protocol_error"


class RequestError(KysoError):
    """400: the request is wrong; `field` names the field."""


class PinError(KysoError):
    """The PIN dialog did not lead to a login (cancelled, wrong, locked)."""


class CertificateError(KysoError):
    """422: a certificate check failed before any dialog; `problems` lists
    every problem found."""


class TokenError(KysoError):
    """The token or its key is not there or not in a state to sign."""


class ModuleError(KysoError):
    """The token's PKCS#11 module failed, crashed, hung or is not running."""


class BatchError(KysoError):
    """About a batch as a whole (its id)."""


class ServerError(KysoError):
    """kysod itself could not do it (a bug, the audit log, stopping …)."""


# code -> (class name, base). Kept in the order of src/common/errors.h; the
# integration test t-python-client checks that every code kysod has is here.
_CODES = [
    ("bad_request", "BadRequest", RequestError),
    ("unknown_field", "UnknownField", RequestError),
    ("missing_field", "MissingField", RequestError),
    ("invalid_type", "InvalidType", RequestError),
    ("invalid_value", "InvalidValue", RequestError),
    ("hash_encoding", "HashEncoding", RequestError),
    ("hash_length", "HashLength", RequestError),
    ("unsupported_padding", "UnsupportedPadding", RequestError),
    ("timestamp_unavailable", "TimestampUnavailable", RequestError),
    ("signature_encoding", "SignatureEncoding", RequestError),
    ("signature_malformed", "SignatureMalformed", RequestError),
    ("certificate_malformed", "CertificateMalformed", RequestError),
    ("forbidden", "Forbidden", KysoError),
    ("pin_cancelled", "PinCancelled", PinError),
    ("pin_incorrect", "PinIncorrect", PinError),
    ("batch_cancelled", "BatchCancelled", BatchError),
    ("not_found", "NotFound", KysoError),
    ("certificate_not_found", "CertificateNotFound", TokenError),
    ("token_not_found", "TokenNotFound", TokenError),
    ("batch_not_found", "BatchNotFound", BatchError),
    ("method_not_allowed", "MethodNotAllowed", KysoError),
    ("token_not_present", "TokenNotPresent", TokenError),
    ("batch_exists", "BatchExists", BatchError),
    ("per_signature_pin", "PerSignaturePin", TokenError),
    ("key_not_found", "KeyNotFound", TokenError),
    ("body_too_large", "BodyTooLarge", RequestError),
    ("unsupported_media_type", "UnsupportedMediaType", RequestError),
    ("mechanism_unsupported", "MechanismUnsupported", TokenError),
    ("certificate_expired", "CertificateExpired", CertificateError),
    ("certificate_not_yet_valid", "CertificateNotYetValid", CertificateError),
    ("certificate_usage", "CertificateUsage", CertificateError),
    ("certificate_untrusted", "CertificateUntrusted", CertificateError),
    ("certificate_revoked", "CertificateRevoked", CertificateError),
    ("pin_locked", "PinLocked", PinError),
    ("internal_error", "InternalError", ServerError),
    ("audit_failed", "AuditFailed", ServerError),
    ("pinentry_failed", "PinentryFailed", ServerError),
    ("module_crashed", "ModuleCrashed", ModuleError),
    ("token_error", "TokenFailed", ModuleError),
    ("revocation_unknown", "RevocationUnknown", CertificateError),
    ("timestamp_failed", "TimestampFailed", ServerError),
    ("module_unavailable", "ModuleUnavailable", ModuleError),
    ("too_many_streams", "TooManyStreams", ServerError),
    ("shutting_down", "ShuttingDown", ServerError),
    ("http_malformed", "HttpMalformed", RequestError),
    ("request_timeout", "RequestTimeout", RequestError),
    ("uri_too_long", "UriTooLong", RequestError),
    ("headers_too_large", "HeadersTooLarge", RequestError),
    ("too_many_connections", "TooManyConnections", ServerError),
    ("server_busy", "ServerBusy", ServerError),
    ("token_removed", "TokenRemoved", TokenError),
    ("module_timeout", "ModuleTimeout", ModuleError),
    ("origin_malformed", "OriginMalformed", RequestError),
    ("wrong_user", "WrongUser", KysoError),
    ("origin_required", "OriginRequired", KysoError),
    ("origin_not_allowed", "OriginNotAllowed", KysoError),
    ("not_for_browsers", "NotForBrowsers", KysoError),
    ("pairing_busy", "PairingBusy", KysoError),
    ("host_not_allowed", "HostNotAllowed", KysoError),
    ("admin_disabled", "AdminDisabled", KysoError),
    ("object_not_found", "ObjectNotFound", TokenError),
    ("last_try", "LastTry", PinError),
    ("token_initialized", "TokenInitialized", TokenError),
    ("token_not_initialized", "TokenNotInitialized", TokenError),
    ("object_exists", "ObjectExists", TokenError),
    ("token_read_only", "TokenReadOnly", TokenError),
    ("operation_unsafe", "OperationUnsafe", TokenError),
    ("operation_unsupported", "OperationUnsupported", TokenError),
    ("pin_rejected", "PinRejected", PinError),
    ("pin_mismatch", "PinMismatch", PinError),
    ("token_full", "TokenFull", TokenError),
]

BY_CODE = {}
__all__ = ["KysoError", "ConnectionFailed", "ProtocolError", "RequestError", "PinError",
           "CertificateError", "TokenError", "ModuleError", "BatchError", "ServerError",
           "BY_CODE", "from_answer"]

for _code, _name, _base in _CODES:
    _cls = type(_name, (_base,), {"code": _code, "__doc__": "kysod's `%s` error." % _code})
    _cls.__module__ = __name__
    globals()[_name] = _cls
    BY_CODE[_code] = _cls
    __all__.append(_name)
del _code, _name, _base, _cls


def from_answer(status, answer):
    """The exception for an error answer (status, decoded JSON body)."""
    err = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str):
        return ProtocolError("HTTP %d without an error object" % status, status, answer=answer)
    code = err["code"]
    cls = BY_CODE.get(code, KysoError)
    return cls(err.get("message") or code, status, code=code, answer=answer)
