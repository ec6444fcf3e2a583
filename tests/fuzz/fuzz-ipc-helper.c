/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's side of the channel: the bytes kysod writes to a kyso-p11
 * helper (SIGN and LOGIN frames carry a PIN in their secret part), decoded by
 * kyso_ipc_recv (src/common/ipc.c) from a socketpair as kyso-p11's main loop
 * does. Every frame decoded is sent again with kyso_ipc_send and must come
 * back the same: what one side accepts, the other side writes alike. */
#include <sys/socket.h>

#include "fuzz-common.h"
#include "common/ipc.h"

#define INPUT_MAX (64u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* The same fields, each with the same value. */
static int same_fields(const struct kyso_msg *a, const struct kyso_msg *b)
{
	unsigned int f;

	if (a->present != b->present)
		return 0;
	for (f = 1; f < KYSO_F_COUNT; f++)
		if ((a->present & (1u << f)) &&
		    (a->f[f].len != b->f[f].len || memcmp(a->f[f].p, b->f[f].p, a->f[f].len)))
			return 0;
	return 1;
}

static void round_trip(const struct kyso_msg *msg)
{
	struct kyso_msg back;
	struct kyso_out out;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	kyso_out_init(&out);
	kyso_out_copy(&out, msg);
	if (kyso_ipc_send(sv[1], msg->id, msg->op, msg->flags, &out, msg->secret,
			  msg->secret_len))
		abort();
	kyso_out_free(&out);
	close(sv[1]);
	if (kyso_ipc_recv(sv[0], &back))
		abort();
	if (back.id != msg->id || back.op != msg->op || back.flags != msg->flags ||
	    !same_fields(&back, msg) || back.secret_len != msg->secret_len ||
	    (msg->secret_len && memcmp(back.secret, msg->secret, msg->secret_len)))
		abort();
	kyso_msg_clear(&back);
	close(sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kyso_msg msg;
	const unsigned char *hash;
	const char *token;
	uint32_t v;
	size_t n;
	int sv[2];

	if (size > INPUT_MAX || fuzz_frames_too_long(data, size, INPUT_MAX))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	while (kyso_ipc_recv(sv[0], &msg) == 0) {
		if (!msg.body || msg.secret_len > KYSO_IPC_MAX_SECRET ||
		    (msg.secret_len && (!msg.secret || msg.secret[msg.secret_len] != '\0')) ||
		    (!msg.secret_len && msg.secret))
			abort();
		fuzz_show("frame", kyso_ipc_op_name(msg.op), NULL);
		/* what handle() in kyso-p11 and run_sign() read */
		token = kyso_msg_str(&msg, KYSO_F_TOKEN);
		if (token && strlen(token) != msg.f[KYSO_F_TOKEN].len)
			abort();
		hash = kyso_msg_bytes(&msg, KYSO_F_HASH, &n);
		if (hash && n > 64)
			abort();
		if (msg.op == KYSO_OP_SIGN && (!token || !hash || kyso_msg_u32(&msg, KYSO_F_MECH, &v) ||
					       !kyso_msg_str(&msg, KYSO_F_KEY_ID)))
			abort();
		kyso_msg_bool(&msg, KYSO_F_KEEP_LOGIN);
		kyso_msg_bool(&msg, KYSO_F_PINPAD);
		round_trip(&msg);
		kyso_msg_clear(&msg);
	}
	close(sv[0]);
	return 0;
}
