/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's per-token workers: each token gets one thread that runs every
 * operation on it in order, keeps its login for the idle TTL, then logs out. */
#ifndef KYSO_P11_WORKER_H
#define KYSO_P11_WORKER_H
#include <pthread.h>
#include <stdint.h>

#include "common/ipc.h"
#include "pkcs11/slots.h"

struct worker;
struct admin;

/* Threads per token: 1 for hardware tokens (a serial device); a few for
 * tokens that serve parallel sessions well (SoftHSM2, network HSMs). */
#define WORKER_POOL_MAX 16

struct helper {
	struct p11_module mod;
	int fd;
	pthread_mutex_t send_lock;	/* one writer on fd at a time; hello_sent */
	pthread_cond_t hello_cond;	/* hello_sent became set */
	int hello_sent;			/* HELLO went first: lanes may follow */
	uint32_t inventory_seq;		/* the last HELLO/INVENTORY sent's number (send_lock;
					 * read atomically) */
	unsigned int login_ttl;		/* seconds after last use; 0 = log out at once */
	unsigned int pool;		/* threads per token, 1..WORKER_POOL_MAX */
	int probe_failing;		/* the last slot probe failed */
	int pinpad_logins;		/* logins waiting on a PIN pad now (atomic) */
	pthread_mutex_t workers_lock;
	struct worker *workers[P11_MAX_TOKENS];
	unsigned int nworkers;
	struct admin *admin;		/* provisioning (admin.c); NULL until first used */
};

/* Sends a frame with the fields of out (NULL: none), which the caller frees. */
int helper_send(struct helper *h, uint32_t id, uint16_t op, uint16_t flags, struct kyso_out *out);

/* Passes kysod a lane (fd, the caller keeps its copy) to thread (0, 1, …)
 * of token_id's worker: a LANE frame, sent once HELLO has gone. Returns 0
 * or -1. */
int helper_send_lane(struct helper *h, const char *token_id, unsigned int thread, int fd);

/* Sends the module's inventory (HELLO or INVENTORY). */
int helper_send_inventory(struct helper *h, uint16_t op);

/* Sends an error reply: code, message[, pin_state]. */
int helper_send_error(struct helper *h, uint32_t id, const char *code, const char *message,
		      const char *pin_state);

/* Starts or stops workers so there is exactly one per present token; stopped
 * workers answer their queued requests token_removed. */
void workers_sync(struct helper *h);

/* libp11's slot list was rebuilt: the tokens are logged out. */
void workers_forget_logins(struct helper *h);

/* Stops every worker (helper shutdown). */
void workers_stop_all(struct helper *h);

/* Frees every key the workers keep (ctx: the struct helper). The module's
 * before_release hook: no key may outlive libp11's slot list. */
void workers_drop_keys(void *ctx);

/* Queues msg (moved: the caller's copy is emptied) on token_id's worker.
 * Returns 0, or -1 when no such token is present. */
int workers_submit(struct helper *h, const char *token_id, struct kyso_msg *msg);

/* Asks the workers (all, or token_id's) to log out; returns how many were logged in. */
int workers_logout(struct helper *h, const char *token_id);

#endif
