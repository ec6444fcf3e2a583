/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signatures on a token: the certificate looked up, the helper asked, and the
 * user's consent (the PIN dialog, or a confirmation) obtained when needed. */
#ifndef KYSOD_SIGN_FLOW_H
#define KYSOD_SIGN_FLOW_H
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"
#include "kysod/daemon.h"
#include "kysod/peer.h"
#include "kysod/reply.h"
#include "kysod/sign-request.h"

#define SIGN_MAX_SIG 1024

struct sign_record;

/* What a signature is made with. */
struct sign_target {
	struct cert_ref cert;
	enum kysod_hash_alg hash_alg;
	enum kyso_ipc_mech mech;	/* for the helper */
	char algorithm[48];		/* "rsa-pkcs1-sha256", … for the API */
	uint64_t intent;		/* audit entry synced while the token signs; 0: none */
	/* Or the intent entry still to write: written once the first SIGN is
	 * on its way to the token (while it signs), *intent_seq then set (a
	 * single signature; a batch writes its items' own). NULL: none. */
	const struct sign_record *intent_rec;
	uint64_t *intent_seq;
};

/* What the user is asked to allow. */
struct sign_consent {
	const char *what;		/* "a record", "400 records" */
	const char *description;	/* the app's words, or NULL */
	int confirm_if_logged_in;	/* a logged-in token still asks (batches) */
	struct batch *batch;		/* a dialog for it closes when it is cancelled */
};

/* Looks up the certificate and checks the padding fits its key. Returns 0,
 * or -1 with rep set. */
int sign_target_init(struct kysod *d, const char *cert_id, enum kysod_hash_alg alg,
		     enum kysod_padding padding, struct sign_target *t, struct kyso_reply *rep);

/* Gets the token logged in, asking the user once: the PIN dialog when it is
 * not logged in, a confirmation when consent->confirm_if_logged_in. Returns 0,
 * or -1 with rep set. */
int sign_login(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
	       const struct sign_consent *consent, struct kyso_reply *rep);

/* Signs one hash of the target's algorithm into sig (SIGN_MAX_SIG bytes),
 * asking for the PIN if the token needs a login (when consent is not NULL;
 * with consent NULL a token that needs a login is an error). Returns 0, or
 * -1 with rep set. */
int sign_hash(struct kysod *d, const struct sign_target *t, const struct kyso_peer *peer,
	      const struct sign_consent *consent, const unsigned char *hash, size_t hash_len,
	      unsigned char *sig, size_t *sig_len, struct kyso_reply *rep);

/* The same, for a signature that more will follow (a batch): with login_ttl
 * 0 the token stays logged in for the next one. */
int sign_hash_more(struct kysod *d, const struct sign_target *t, const unsigned char *hash,
		   size_t hash_len, int more, unsigned char *sig, size_t *sig_len,
		   struct kyso_reply *rep);

/* The one dialog slot that every dialog kysod shows takes (PIN, confirmation,
 * pairing): waits while another is open. Returns 0, or -1 with rep set when
 * kysod stops meanwhile. */
/* The SIGN frame for hash (into req, which the caller frees); more: more
 * signatures follow (a batch keeps the login). */
void sign_frame(const struct sign_target *t, const unsigned char *hash, size_t hash_len, int more,
		struct kyso_out *req);

/* The SIGN_MANY frame for count hashes, one after the other in hashes. */
void sign_frame_many(const struct sign_target *t, const unsigned char *hashes, size_t count,
		     int more, struct kyso_out *req);

/* The next signature of what the helper answered to a SIGN_MANY (ans; NULL
 * when the call itself failed with err), read at *off (0 for the first, then
 * moved past it), as sign_answer: the items after the last signature get
 * the answer's error. */
int sign_answer_next(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
		     enum kyso_err err, size_t *off, unsigned char *sig, size_t *sig_len,
		     struct kyso_reply *rep);

/* What the helper answered to a SIGN sent without asking anybody (a batch
 * item on a lane): ans, or NULL when the call itself failed with err. Fills
 * sig and returns 0, or returns -1 with rep set; a token that wants its
 * login again is token_error (per_signature_pin for a key that wants the
 * PIN for each signature). */
int sign_answer(struct kysod *d, const struct sign_target *t, const struct kyso_msg *ans,
		enum kyso_err err, unsigned char *sig, size_t *sig_len, struct kyso_reply *rep);

int sign_dialog_take(struct kysod *d, struct kyso_reply *rep);
void sign_dialog_give(struct kysod *d);

/* Who asks, for a dialog or a log: the executable, or for a web page "the web
 * site ORIGIN in EXECUTABLE"; one line, at most outlen bytes. */
void sign_caller_text(const struct kyso_peer *peer, char *out, size_t outlen);

#endif
