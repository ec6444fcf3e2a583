/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kyso-p11 helper processes: one per module, started with socketpair + fork +
 * exec, supervised by a reader thread that restarts a helper that dies. */
#ifndef KYSOD_HELPERS_H
#define KYSOD_HELPERS_H
#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"
#include "common/ipc.h"
#include "kysod/daemon.h"

#define HELPERS_MAX 32

/* Starts a helper for each configured module (allowed ones; the others are
 * listed as failed). Returns 0 or -1. */
int helpers_start(struct kysod *d);

/* Starts a helper for one more module (a token the catalogue knows was
 * inserted), unless one runs for that module already. Returns the module's
 * index, or -1 (not allowed, not installed, or no room). */
int helpers_add(struct kysod *d, const char *name, const char *path, unsigned int workers);

/* Ends every wait for a helper's answer at once with shutting_down (kysod is
 * stopping; kysod_stopping() is true already, so no new call waits). */
void helpers_fail_calls(struct kysod *d);

/* Stops every helper and waits for them. */
void helpers_stop(struct kysod *d);

/* Sends a request to module's helper and waits for its answer, at most
 * timeout seconds. On success fills reply (caller clears it) and returns 0,
 * with reply->flags & KYSO_IPC_F_ERROR for the helper's own errors. Returns -1
 * with *err set to module_unavailable, module_crashed, module_timeout or
 * shutting_down. The secret (a PIN) is only copied into the frame, which is
 * wiped. */
int helper_call(struct kysod *d, size_t module, uint16_t op, struct kyso_out *req,
		const unsigned char *secret, size_t secret_len, unsigned int timeout,
		struct kyso_msg *reply, enum kyso_err *err);

/* The same, running meanwhile(arg) once the request is sent, while the
 * helper works on it (the timeout counts from after it). A SIGN or LOGIN of
 * token (not NULL) goes on a lane of its worker when one is free: the frame
 * reaches the worker thread directly and its reply is read by this thread.
 * One more error then: token_removed, the worker ended (its token left)
 * without an answer. */
int helper_call_overlap(struct kysod *d, size_t module, const char *token, uint16_t op,
			struct kyso_out *req, const unsigned char *secret, size_t secret_len,
			unsigned int timeout, void (*meanwhile)(void *), void *arg,
			struct kyso_msg *reply, enum kyso_err *err);

/* A lane held for a run of requests to one token (a batch): frames are sent
 * one after the other without waiting, and the replies read in order. */
struct helper_lane;

/* An idle lane of token's worker in module's running helper (not waited
 * for), or NULL: the caller then uses helper_call_overlap. */
struct helper_lane *helper_lane_take(struct kysod *d, size_t module, const char *token);

/* Sends a frame (no secret) on the lane. Returns 0, or -1 when the lane has
 * ended (nothing reached the worker; the replies of the frames sent before
 * are still read). */
int helper_lane_send(struct helper_lane *l, uint16_t op, struct kyso_out *req);

/* Reads the reply to the oldest frame sent and not answered, at most
 * timeout seconds. Returns 0 with reply set (the caller clears it), or -1
 * with *err set as helper_call_overlap's, the lane having ended. Called
 * once more than there are frames sent, it says why the lane ended. */
int helper_lane_recv(struct helper_lane *l, unsigned int timeout, struct kyso_msg *reply,
		     enum kyso_err *err);

/* Gives the lane back (NULL: nothing): idle for others when every frame
 * was answered, else dropped. */
void helper_lane_give(struct helper_lane *l);

/* Asks every running helper to look at its slots now (a reader changed).
 * Does not wait for the answers. After a removal (a card or reader left) a
 * helper that has not answered within removal_timeout seconds is taken for
 * stuck in its module, and restarted. */
void helpers_rescan(struct kysod *d, int removal);

/* Whether module's helper is running. */
int helper_running(struct kysod *d, size_t module);

/* [{name,path,state,pid,restarts,tokens,error?}] for /v1/status. */
json_t *helpers_status_json(struct kysod *d);

#endif
