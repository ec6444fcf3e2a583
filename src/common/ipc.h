/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framed messages between kysod and a kyso-p11 helper over a socketpair.
 *
 * A frame is: u32 length of what follows, u32 request id, u16 opcode, u16 flags,
 * u32 length of the JSON part, the JSON part, then the secret part (the rest).
 * All integers little-endian. The secret part carries a PIN and nothing else; it
 * is never JSON-encoded and every buffer that held it is wiped. */
#ifndef KYSO_IPC_H
#define KYSO_IPC_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define KYSO_IPC_MAX_FRAME (4u << 20)
#define KYSO_IPC_MAX_SECRET 256u

enum kyso_ipc_op {
	KYSO_OP_HELLO = 1,	/* helper -> kysod: module info and first inventory */
	KYSO_OP_INVENTORY = 2,	/* helper -> kysod: tokens and certificates changed */
	KYSO_OP_RESCAN = 3,	/* kysod -> helper: look at the slots again now */
	KYSO_OP_SIGN = 4,	/* kysod -> helper: sign a hash; secret = PIN, if any */
	KYSO_OP_LOGOUT = 5,	/* kysod -> helper: end kept logins */
	KYSO_OP_LOGIN = 6,	/* kysod -> helper: log a token in; secret = PIN, if any */
	KYSO_OP_REPLY = 0x80,	/* helper -> kysod: answer to request id */
};

/* flags */
#define KYSO_IPC_F_ERROR 0x1	/* reply carries {"code","message",...} */

struct kyso_msg {
	uint32_t id;
	uint16_t op;
	uint16_t flags;
	json_t *json;		/* owned; never NULL after a successful receive */
	unsigned char *secret;	/* owned, wiped on clear; NULL when empty */
	size_t secret_len;
};

/* Sends one frame in one write sequence. json may be NULL (sent as {}).
 * Not thread-safe per fd: callers serialise writers. Returns 0 or -1. */
int kyso_ipc_send(int fd, uint32_t id, uint16_t op, uint16_t flags, const json_t *json,
		  const unsigned char *secret, size_t secret_len);

/* Receives one frame, blocking. Returns 0, or -1 on EOF, error or a malformed frame. */
int kyso_ipc_recv(int fd, struct kyso_msg *msg);

/* Frees the JSON part and wipes and frees the secret. */
void kyso_msg_clear(struct kyso_msg *msg);

#endif
