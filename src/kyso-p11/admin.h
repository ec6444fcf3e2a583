/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's provisioning operations, on a thread of their own (admin.c). */
#ifndef KYSO_P11_ADMIN_H
#define KYSO_P11_ADMIN_H

#include "common/ipc.h"
#include "kyso-p11/worker.h"

/* Whether op is one of them. */
static inline int admin_op(uint16_t op)
{
	return op >= KYSO_OP_ADMIN_INVENTORY && op <= KYSO_OP_DELETE;
}

/* Queues msg (moved: the caller's copy is emptied); its answer is sent when
 * it has run. Returns 0, or -1 (out of memory). */
int admin_submit(struct helper *h, struct kyso_msg *msg);

/* Ends the thread once the operation it runs is done (helper shutdown). */
void admin_stop(struct helper *h);

#endif
