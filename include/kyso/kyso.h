/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso - client library for the kysod signing daemon.
 *
 * kysod serves an HTTP/1.1 + JSON API on a Unix socket; this library
 * talks to it and hides the transport.  Listings are returned as JSON
 * text (parse them with any JSON library); signing, batches and
 * verification have typed calls.  Each function has a man page in
 * section 3; libkyso(3) is the overview.
 *
 * Conventions:
 *  - functions returning int return 0 on success and -1 on error;
 *  - a `struct kyso_error *err` argument may be NULL; when given it is
 *    filled on error (and cleared on success);
 *  - strings and structures returned through pointer arguments belong
 *    to the caller: free strings with kyso_free() and the structures
 *    with their own kyso_*_free();
 *  - a client must not be used by two threads at the same time, with
 *    one exception: one thread may follow the event stream with
 *    kyso_events() while another makes any other calls on the same
 *    client (the two use separate connections).  kyso_events_wait_open()
 *    and kyso_events_stop() may be called from any thread at any time.
 *    kyso_client_last_error() reports the calls other than kyso_events();
 *    kyso_client_free() must wait until kyso_events() has returned.
 *    Otherwise use one client per thread.
 *
 * Keeping the ABI (programs linked against libkyso.so.1 keep working
 * with every later libkyso.so.1):
 *  - Parameter structures the caller fills in (kyso_sign_params,
 *    kyso_batch_params, kyso_batch_item, kyso_verify_params) begin with
 *    `size_t struct_size`, the size the caller was compiled with.  Start
 *    each from its KYSO_..._INIT macro, which sets struct_size and zeroes
 *    the rest, then set the fields:
 *
 *        struct kyso_sign_params p = KYSO_SIGN_PARAMS_INIT;
 *        p.certificate = id;
 *
 *    New fields are only ever added at the end, with zero as "as
 *    before".  The library reads the first struct_size bytes: a program
 *    built against an older header gets the defaults for the fields it
 *    does not know; one built against a newer header works with an older
 *    library as long as it leaves the fields that library does not know
 *    zero (else "invalid_argument").  A struct_size smaller than the
 *    structure of this version (e.g. 0: not initialized) is refused with
 *    "invalid_argument".  This was chosen over opaque objects with
 *    setters because the parameters stay plain structures on the stack,
 *    filled with assignments, with no allocation and no error to check
 *    per field; the size makes them extensible the way the clone3() and
 *    openat2() system calls are.
 *  - In an array of kyso_batch_item, every item has the same
 *    struct_size, which is the array's stride.
 *  - Structures the library allocates and returns (kyso_signature,
 *    kyso_batch_result and its items, kyso_verify_result and what it
 *    points to) also only grow at their end.  Do not allocate, copy or
 *    embed them; arrays of them are arrays of pointers (r->items[i]->id).
 *  - struct kyso_error is the caller's (usually on the stack) and keeps
 *    its size: later fields are taken from its reserved bytes.
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
	/*
	 * The position (0 for the first) of the batch item the error is
	 * about: the item kysod refused a batch for ("index" of its
	 * answer, e.g. 3 with field "items[3].hash"), or, in a batch
	 * result, the failed item itself.  -1 for other errors.
	 */
	long index;
	unsigned char reserved[120];	/* zero; later fields come from here */
};

/*
 * The start of each KYSO_..._INIT macro: struct_size set, every other
 * field zero.
 */
#ifdef __cplusplus
#define KYSO_PARAMS_INIT_(type) { sizeof(type) }
#else
#define KYSO_PARAMS_INIT_(type) { .struct_size = sizeof(type) }
#endif

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
	KYSO_FORMAT_CMS,		/* detached CMS SignedData (CAdES-BES), DER */
};

/* What the signed attributes of a CMS signature are made for. */
enum kyso_profile {
	KYSO_PROFILE_CADES = 0,		/* not sent: CAdES-BES, with signingTime */
	KYSO_PROFILE_PADES,		/* PAdES baseline (a PDF's /Contents): no signingTime */
};

struct kyso_sign_params {
	size_t struct_size;		/* sizeof(struct kyso_sign_params): KYSO_SIGN_PARAMS_INIT */
	const char *certificate;	/* certificate id, 64 lowercase hex chars */
	const unsigned char *hash;	/* the digest to sign */
	size_t hash_len;		/* 32, 48 or 64 to match hash_alg */
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;
	enum kyso_format format;
	int timestamp;			/* CMS only: add an RFC 3161 timestamp (CAdES-T) */
	enum kyso_profile profile;	/* CMS only; 0 (cades) as before */
};

#define KYSO_SIGN_PARAMS_INIT KYSO_PARAMS_INIT_(struct kyso_sign_params)

struct kyso_signature {
	unsigned char *data;		/* signature bytes */
	size_t len;
	char algorithm[64];		/* e.g. "rsa-pkcs1-sha256", "ecdsa-sha384" */
	char certificate[KYSO_CERT_ID_LEN + 1];
	char format[8];			/* "raw" or "cms" */
	char audit_id[80];		/* the audit log entry of the signature, "" if none */
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
 * The readers PC/SC reports and whether it is reachable, as JSON text
 * (GET /v1/readers): {"pcsc":"up"|"down","readers":[{"name",
 * "card_present","atr"?}]}.
 */
int kyso_readers(struct kyso_client *c, char **json, struct kyso_error *err);

/* ------------------------------------------------------------ batches */

/* One hash of a batch. */
struct kyso_batch_item {
	size_t struct_size;		/* sizeof(struct kyso_batch_item): KYSO_BATCH_ITEM_INIT */
	const char *id;			/* the caller's id for the item, 1 to 256 chars */
	const unsigned char *hash;
	size_t hash_len;		/* must match hash_alg */
};

#define KYSO_BATCH_ITEM_INIT KYSO_PARAMS_INIT_(struct kyso_batch_item)

struct kyso_batch_params {
	size_t struct_size;		/* sizeof(struct kyso_batch_params): KYSO_BATCH_PARAMS_INIT */
	const char *certificate;	/* certificate id, 64 lowercase hex chars */
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;
	enum kyso_format format;
	const char *description;	/* shown in the consent dialog; NULL for none */
	const struct kyso_batch_item *items;
	size_t nitems;			/* at least 1 */
	const char *batch_id;		/* the caller's name for the batch (1-32 of
					 * [A-Za-z0-9_-]), to cancel it by; NULL: kysod's */
};

#define KYSO_BATCH_PARAMS_INIT KYSO_PARAMS_INIT_(struct kyso_batch_params)

/* The outcome of one item. */
struct kyso_batch_result_item {
	size_t index;			/* its position in the batch (0 for the first) */
	char *id;			/* the item's id */
	unsigned char *signature;	/* NULL when the item failed */
	size_t signature_len;
	char *audit_id;			/* "CHAIN:SEQ" of its audit entry, NULL if none */
	/*
	 * Why the item failed (error.code is empty for a signed item):
	 * e.g. "batch_cancelled", "token_removed", "token_error";
	 * error.index is the item's index then.
	 */
	struct kyso_error error;
};

struct kyso_batch_result {
	char batch[64];			/* the batch id (32 hex chars) */
	char certificate[KYSO_CERT_ID_LEN + 1];
	char algorithm[64];		/* e.g. "rsa-pkcs1-sha256" */
	size_t total;
	size_t nsigned;
	size_t nfailed;
	int cancelled;			/* the batch was cancelled while it ran */
	struct kyso_batch_result_item **items;	/* nitems pointers, in request order */
	size_t nitems;
};

/*
 * Signs every hash of a batch with the key of params->certificate after
 * one consent of the user (the PIN dialog, or a confirmation dialog if
 * the token is logged in already).  kysod checks every item before it
 * asks anything; a bad item fails the whole call (the error's `index`
 * is its position, 3, and `field` names the field, e.g. "items[3].hash").  Once the batch runs, items fail one
 * by one: the call succeeds and *out (free with kyso_batch_result_free)
 * tells which items were signed.  While it runs, kysod publishes
 * "batch-progress" events (see kyso_events) naming the batch id.
 */
int kyso_sign_batch(struct kyso_client *c, const struct kyso_batch_params *params,
		    struct kyso_batch_result **out, struct kyso_error *err);
void kyso_batch_result_free(struct kyso_batch_result *result);

/*
 * Cancels a running batch (DELETE /v1/sign/batch/{id}): the items not yet
 * signed fail with "batch_cancelled" and the batch's answer says
 * cancelled.  An unknown or finished batch is the error
 * "batch_not_found".  Use another client (or another thread's) than the
 * one waiting in kyso_sign_batch().
 */
int kyso_cancel_batch(struct kyso_client *c, const char *batch_id, struct kyso_error *err);

/* ------------------------------------------------------------ verification */

/*
 * A document timestamp sent with a CMS signature as proof that it existed
 * (kyso 0.2): an RFC 3161 token and the hash of what it covers, which the
 * caller vouches holds the signature (in a PDF, a later /DocTimeStamp whose
 * ByteRange includes it).
 */
struct kyso_document_timestamp {
	size_t struct_size;		/* KYSO_DOCUMENT_TIMESTAMP_INIT */
	const unsigned char *token;	/* DER TimeStampToken (a CMS ContentInfo) */
	size_t token_len;
	const unsigned char *hash;	/* SHA-256, -384 or -512 of what it covers */
	size_t hash_len;		/* 32, 48 or 64 */
};

#define KYSO_DOCUMENT_TIMESTAMP_INIT KYSO_PARAMS_INIT_(struct kyso_document_timestamp)

struct kyso_verify_params {
	size_t struct_size;		/* sizeof(struct kyso_verify_params): KYSO_VERIFY_PARAMS_INIT */
	enum kyso_format format;	/* of the signature: raw or CMS */
	const unsigned char *signature;	/* raw: the signature; CMS: the DER ContentInfo */
	size_t signature_len;
	const unsigned char *hash;	/* the record's digest */
	size_t hash_len;		/* 32, 48 or 64 to match hash_alg */
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;	/* raw RSA signatures only */
	/*
	 * The signer's certificate (raw: required; CMS: only when the
	 * signature does not carry it): an id of a certificate kysod
	 * knows, or a PEM certificate; or, with certificate NULL, a DER
	 * certificate in certificate_der.
	 */
	const char *certificate;
	const unsigned char *certificate_der;
	size_t certificate_der_len;
	/* Since kyso 0.2 (zero: as before); CMS signatures only. */
	const struct kyso_document_timestamp *document_timestamps;	/* at most 8, or NULL */
	size_t n_document_timestamps;
	int at_verification_time;	/* 1: judged at kysod's time, no timestamp used as proof */
};

#define KYSO_VERIFY_PARAMS_INIT KYSO_PARAMS_INIT_(struct kyso_verify_params)

enum kyso_verify_status {
	KYSO_VERIFY_UNKNOWN = 0,	/* a status this library does not know */
	KYSO_VERIFY_VALID,
	KYSO_VERIFY_INVALID,		/* something shows the signature is wrong */
	KYSO_VERIFY_INDETERMINATE,	/* nothing proves it either way */
};

enum kyso_check_result {
	KYSO_CHECK_NONE = 0,		/* not made (or a result this library does not know) */
	KYSO_CHECK_OK,
	KYSO_CHECK_FAILED,
	KYSO_CHECK_SKIPPED,		/* does not apply, or nothing to check it with */
	KYSO_CHECK_UNKNOWN,		/* could not be found out */
};

/* One check the verdict rests on. */
struct kyso_verify_check {
	char *check;			/* e.g. "digest", "signature", "chain", "crl" */
	enum kyso_check_result result;
	char *result_name;		/* "ok", "failed", "skipped", "unknown" */
	char *message;
	char *certificate;		/* the subject of the certificate it is about, or NULL */
	long depth;			/* of that certificate: 0 the signer's, 1 its CA...; -1 */
	char *source;			/* crl: "file" or "cdp"; else NULL */
	char *url;			/* crl from a distribution point: its URL; else NULL */
	char *fetch;			/* crl from a distribution point: "fetched", "cached", "failed" */
};

/* The signer's certificate.  Strings are "" when kysod did not send them. */
struct kyso_verify_signer {
	char *id;			/* certificate id (64 hex chars) */
	char *subject;
	char *subject_cn;
	char *issuer;
	char *serial;			/* hex */
	char *not_before;		/* ISO 8601, UTC */
	char *not_after;
	char *key_type;			/* "rsa" or "ec" */
	char *curve;			/* EC keys: e.g. "P-256"; else NULL */
	long key_bits;
	char **key_usage;		/* e.g. "digitalSignature", "nonRepudiation" */
	size_t nkey_usage;
};

struct kyso_verify_result {
	int valid;			/* 1 only when status is KYSO_VERIFY_VALID */
	enum kyso_verify_status status;
	char *status_name;		/* "valid", "invalid" or "indeterminate" */
	char *reason;			/* e.g. "valid_now", "signature_invalid", "chain_untrusted" */
	char *format;			/* "raw" or "cms" */
	char *algorithm;		/* e.g. "rsa-pkcs1-sha256"; "" if unknown */
	struct kyso_verify_signer *signer;	/* NULL when the signer is not known */
	char *signing_time;		/* the time the signature claims (not proof), or NULL */
	char *timestamp_time;		/* the time of an RFC 3161 timestamp, or NULL */
	char *timestamp_tsa;		/* its authority, or NULL */
	char *verified_at;		/* when kysod checked */
	/*
	 * The chain check: KYSO_CHECK_OK when the signer's certificate was
	 * checked to chain to kysod's CA bundle, FAILED when it does not,
	 * SKIPPED when kysod has no CA bundle (nothing says who made the
	 * certificate), NONE when the check was not made.
	 */
	enum kyso_check_result chain;
	enum kyso_check_result revocation;	/* the "revocation" check, likewise */
	struct kyso_verify_check **checks;	/* every check made, in kysod's order */
	size_t nchecks;
	char *json;			/* kysod's whole answer, JSON text */
	/* Since kyso 0.2: the proof that the signature existed, when there is
	 * one: its time and "signature_timestamp" or "document_timestamp";
	 * both NULL when it was judged at verified_at. */
	char *poe_time;
	char *poe_source;
};

/*
 * Checks a signature against a record's hash (POST /v1/verify); asks
 * nothing of the user or the tokens.  A signature that is invalid or
 * indeterminate is not an error: the call succeeds and *out (free with
 * kyso_verify_result_free) says so, with every check.  The call fails
 * when the signature cannot be checked at all (e.g. "signature_malformed",
 * "certificate_not_found", "hash_length").
 */
int kyso_verify(struct kyso_client *c, const struct kyso_verify_params *params,
		struct kyso_verify_result **out, struct kyso_error *err);
void kyso_verify_result_free(struct kyso_verify_result *result);

/* ------------------------------------------------------------ events */

/*
 * Called for each event: id is the event's id (usable as last_event_id
 * later; never NULL, "" if kysod sent none), type its name (e.g.
 * "token-inserted", "batch-progress"), data_json its data, a JSON object
 * with at least "time" (unix seconds).  The strings are valid only during
 * the call.  Returning non-zero ends kyso_events().
 */
typedef int (*kyso_event_cb)(void *opaque, const char *id, const char *type,
			     const char *data_json);

/*
 * Follows kysod's event stream (GET /v1/events) and calls cb for each
 * event as it comes, on the calling thread.  With last_event_id (may be
 * NULL) the stream starts after that event, if kysod still keeps it, so
 * nothing is missed across a reconnection; without it, with the next
 * event.  Blocks until:
 *  - cb returns non-zero, or kyso_events_stop() is called: returns 0;
 *  - the stream cannot be opened, kysod refuses it, or the stream ends
 *    (kysod stopped: error "daemon_unreachable"), or no data, not even
 *    a keep-alive, came for 60 s ("daemon_unreachable"): returns -1.
 * The client's request timeout does not apply.  Uses a connection of its
 * own, so another thread may make other calls on c meanwhile.
 */
int kyso_events(struct kyso_client *c, const char *last_event_id, kyso_event_cb cb,
		void *opaque, struct kyso_error *err);

/*
 * For another thread than the one in kyso_events(): waits up to
 * timeout_ms (-1: without limit) until the stream of that call is open,
 * i.e. until kysod has accepted it; from then on every new event is
 * delivered.  Returns 0 once open, -1 when the call ended, failed or
 * the time ran out.  Typical use: start kyso_events() in a thread, wait
 * for the stream to be open, then start what the events report on.
 */
int kyso_events_wait_open(struct kyso_client *c, long timeout_ms);

/*
 * Makes the running kyso_events() on c return 0 promptly (no later
 * callback is made once it returns); if none is running, the next one
 * returns 0 at once.  Safe from any thread, not from a signal handler.
 */
void kyso_events_stop(struct kyso_client *c);

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
