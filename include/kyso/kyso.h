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
 *  - a client must not be used by two threads at the same time, with
 *    one exception: one thread may follow the event stream with
 *    kyso_events() while another makes any other calls on the same
 *    client (the two use separate connections).  kyso_events_wait_open()
 *    and kyso_events_stop() may be called from any thread at any time.
 *    kyso_client_last_error() reports the calls other than kyso_events();
 *    kyso_client_free() must wait until kyso_events() has returned.
 *    Otherwise use one client per thread.
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
	KYSO_FORMAT_CMS,		/* detached CMS SignedData (CAdES-BES), DER */
};

struct kyso_sign_params {
	const char *certificate;	/* certificate id, 64 lowercase hex chars */
	const unsigned char *hash;	/* the digest to sign */
	size_t hash_len;		/* 32, 48 or 64 to match hash_alg */
	enum kyso_hash_alg hash_alg;
	enum kyso_padding padding;
	enum kyso_format format;
	int timestamp;			/* CMS only: add an RFC 3161 timestamp (CAdES-T) */
};

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
	const char *id;			/* the caller's id for the item, 1 to 256 chars */
	const unsigned char *hash;
	size_t hash_len;		/* must match hash_alg */
};

struct kyso_batch_params {
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

/* The outcome of one item, in request order. */
struct kyso_batch_result_item {
	char *id;			/* the item's id */
	unsigned char *signature;	/* NULL when the item failed */
	size_t signature_len;
	char *audit_id;			/* "CHAIN:SEQ" of its audit entry, NULL if none */
	/*
	 * Why the item failed (error.code is empty for a signed item):
	 * e.g. "batch_cancelled", "token_removed", "token_error".
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
	struct kyso_batch_result_item *items;
	size_t nitems;
};

/*
 * Signs every hash of a batch with the key of params->certificate after
 * one consent of the user (the PIN dialog, or a confirmation dialog if
 * the token is logged in already).  kysod checks every item before it
 * asks anything; a bad item fails the whole call (the error's `field`
 * names it, e.g. "items[3].hash").  Once the batch runs, items fail one
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
