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

static void round_trip(const struct kyso_msg *msg)
{
	struct kyso_msg back;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (kyso_ipc_send(sv[1], msg->id, msg->op, msg->flags, msg->json, msg->secret,
			  msg->secret_len))
		abort();
	close(sv[1]);
	if (kyso_ipc_recv(sv[0], &back))
		abort();
	if (back.id != msg->id || back.op != msg->op || back.flags != msg->flags ||
	    !json_equal(back.json, msg->json) || back.secret_len != msg->secret_len ||
	    (msg->secret_len && memcmp(back.secret, msg->secret, msg->secret_len)))
		abort();
	kyso_msg_clear(&back);
	close(sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kyso_msg msg;
	const char *token;
	int sv[2];

	if (size > INPUT_MAX || fuzz_frames_too_long(data, size, INPUT_MAX))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	while (kyso_ipc_recv(sv[0], &msg) == 0) {
		if (!msg.json || !json_is_object(msg.json) || msg.secret_len > KYSO_IPC_MAX_SECRET ||
		    (msg.secret_len && (!msg.secret || msg.secret[msg.secret_len] != '\0')) ||
		    (!msg.secret_len && msg.secret))
			abort();
		fuzz_show("frame", (const char *)msg.secret, msg.json);
		/* what handle() in kyso-p11 reads before a worker takes the frame */
		token = json_string_value(json_object_get(msg.json, "token"));
		if (token && strlen(token) > INPUT_MAX)
			abort();
		round_trip(&msg);
		kyso_msg_clear(&msg);
	}
	close(sv[0]);
	return 0;
}
