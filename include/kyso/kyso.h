/*
 * libkyso - client library for the kysod signing daemon.
 *
 * kysod serves an HTTP/1.1 + JSON API on a Unix socket; this library
 * talks to it and hides the transport.  Listings are returned as JSON
 * text (parse them with any JSON library); signing has a typed call.
 *
 * Conventions:
 *  - functions returning int return 0 on success and -1 on error;
 *  - a `struct kyso_error *err` argument may be NULL; when given it is
 *    filled on error (and cleared on success);
 *  - strings and structures returned through pointer arguments belong
 *    to the caller: free strings with kyso_free() and signatures with
 *    kyso_signature_free();
 *  - a client must not be used by two threads at the same time; use
 *    one client per thread.
 */
#ifndef KYSO_KYSO_H
#define KYSO_KYSO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KYSO_VERSION "0.1.0"
#define KYSO_API_VERSION 1

/* Length of a certificate id (hex SHA-256 of the DER) and of a token id. */
#define KYSO_CERT_ID_LEN 64
#define KYSO_TOKEN_ID_LEN 32

/* Opaque connection to one kysod socket. */
struct kyso_client;

/*
 * Error details.  For errors reported by kysod, `code` and `message` are
 * copied from its {"error":{...}} answer, `pin_state` from "pin.state"
 * (PIN errors only, else empty) and `field` from "field" (bad request
 * fields only, else empty).  Errors found by the library itself use
 * http_status 0 and one of these codes:
 *   daemon_unreachable  no connection to kysod (the message names the
 *                       socket and says whether kysod seems not to run)
 *   bad_response        kysod's answer could not be understood
 *   invalid_argument    a NULL or out-of-range argument
 *   out_of_memory       allocation failure
 */
struct kyso_error {
	long http_status;
	char code[64];
	char message[256];
	char pin_state[16];
	char field[64];
};

enum kyso_hash_alg {
	KYSO_HASH_SHA256 = 1,
	KYSO_HASH_SHA384,
	KYSO_HASH_SHA512,
};

enum kyso_padding {
	KYSO_PADDING_DEFAULT = 0,	/* not sent: PKCS#1 v1.5 for RSA, none for EC */
	KYSO_PADDING_PKCS1,
	KYSO_PADDING_PSS,		/* salt = hash length, MGF1 with the same hash */
};

enum kyso_format {
	KYSO_FORMAT_RAW = 0,		/* RSA: raw block; EC: DER ECDSA-Sig-Value */
};

struct kyso_sign_params {
	const char *certificate;	/* certificate id, 64 lowercase hex chars */
	const unsigned char *hash;	/* the digest to sign */
	size_t hash_len;		/* 32, 48 or 64 to match hash_alg */
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;
	enum kyso_format format;
};

struct kyso_signature {
	unsigned char *data;		/* signature bytes */
	size_t len;
	char algorithm[64];		/* e.g. "rsa-pkcs1-sha256", "ecdsa-sha384" */
	char certificate[KYSO_CERT_ID_LEN + 1];
};

/* Library version string, e.g. "0.1.0". */
const char *kyso_version(void);

/*
 * Creates a client for the socket at socket_path.  NULL selects the
 * default: $KYSO_SOCKET if set and not empty, else
 * $XDG_RUNTIME_DIR/kyso/kyso.sock, else /run/user/<uid>/kyso/kyso.sock.
 * Nothing is connected yet.  Returns NULL on allocation failure.
 */
struct kyso_client *kyso_client_new(const char *socket_path);
void kyso_client_free(struct kyso_client *c);

/* The socket path the client uses (owned by the client). */
const char *kyso_client_socket(const struct kyso_client *c);

/*
 * Limits each request to `seconds` (0, the default, waits forever:
 * signing may wait for the user to type a PIN).
 */
int kyso_client_set_timeout(struct kyso_client *c, long seconds);

/*
 * The error of the last call on this client: its code is empty if that
 * call succeeded.  Never NULL.
 */
const struct kyso_error *kyso_client_last_error(const struct kyso_client *c);

/*
 * Generic call: sends `method` to `path` (e.g. "/v1/status") with the
 * optional JSON body.  Whenever kysod answered, *http_status receives the
 * HTTP status and *response_json the body (free with kyso_free), also for
 * error statuses; on transport failure they are 0 and NULL.  Both output
 * pointers may be NULL.  Returns 0 for a 2xx answer, else -1 with the
 * details in kyso_client_last_error().
 */
int kyso_request(struct kyso_client *c, const char *method, const char *path,
		 const char *body_json, long *http_status, char **response_json);

/*
 * Typed calls returning kysod's JSON answer as text in *json (free with
 * kyso_free).  token_id may be NULL for "all tokens".
 */
int kyso_status(struct kyso_client *c, char **json, struct kyso_error *err);
int kyso_tokens(struct kyso_client *c, char **json, struct kyso_error *err);
int kyso_token(struct kyso_client *c, const char *token_id, char **json,
	       struct kyso_error *err);
int kyso_certificates(struct kyso_client *c, const char *token_id, char **json,
		      struct kyso_error *err);
int kyso_certificate(struct kyso_client *c, const char *cert_id, char **json,
		     struct kyso_error *err);

/*
 * Signs params->hash with the private key of params->certificate.  kysod
 * may ask the user for the PIN first, so this can take a while.  On
 * success *out receives a new signature (free with kyso_signature_free).
 */
int kyso_sign(struct kyso_client *c, const struct kyso_sign_params *params,
	      struct kyso_signature **out, struct kyso_error *err);
void kyso_signature_free(struct kyso_signature *sig);

/*
 * Ends kept PIN logins: of one token, or of all when token_id is NULL.
 * logged_out (may be NULL) receives how many logins ended.
 */
int kyso_logout(struct kyso_client *c, const char *token_id, long *logged_out,
		struct kyso_error *err);

/*
 * Names used on the wire ("sha256", "pss", ...); NULL when out of range
 * and for KYSO_PADDING_DEFAULT, which is not sent.
 */
const char *kyso_hash_alg_name(enum kyso_hash_alg alg);
const char *kyso_padding_name(enum kyso_padding padding);
/* Digest length of alg in bytes, 0 if out of range. */
size_t kyso_hash_alg_len(enum kyso_hash_alg alg);

/* Frees memory returned by this library (NULL is allowed). */
void kyso_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* KYSO_KYSO_H */
