/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's side of the helper channel: the bytes a kyso-p11 helper writes,
 * decoded by kyso_ipc_recv (src/common/ipc.c) from a socketpair, frame after
 * frame as helpers.c does, and each HELLO or INVENTORY report applied to the
 * inventory (src/kysod/inventory.c) and read back as the API does. Each
 * input starts from the same inventory: one token, no certificate. */
#include <sys/socket.h>

#include "fuzz-common.h"
#include "common/ipc.h"

#define INPUT_MAX (64u << 10)

static struct inventory state;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void use_inventory(struct inventory *inv)
{
	struct cert_ref ref;
	json_t *j;

	json_decref(inventory_tokens_json(inv, NULL));
	json_decref(inventory_tokens_json(inv, FUZZ_TOKEN_ID));
	json_decref(inventory_certs_json(inv, NULL, NULL));
	json_decref(inventory_certs_json(inv, FUZZ_TOKEN_ID, NULL));
	j = inventory_certs_json(inv, NULL, FUZZ_EC_ID);
	json_decref(j);
	inventory_find_cert(inv, FUZZ_EC_ID, &ref);
	inventory_find_cert(inv, FUZZ_RSA_ID, &ref);
	inventory_has_token(inv, FUZZ_TOKEN_ID);
	inventory_module_tokens(inv, 0);
	inventory_module_tokens(inv, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kyso_msg msg;
	json_t *report;
	uint32_t v;
	size_t n;
	int sv[2];

	if (size > INPUT_MAX || fuzz_frames_too_long(data, size, INPUT_MAX))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fuzz_inventory_init(&state, 0);
	/* the whole input fits in the socket's buffer */
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	while (kyso_ipc_recv(sv[0], &msg) == 0) {
		/* a helper never sends a secret */
		if (!msg.body || msg.secret_len || msg.secret)
			abort();
		/* what helpers.c and sign-flow.c read: modules 0 and 1, module 0
		 * also holds the harness's own token */
		fuzz_show("frame", kyso_ipc_op_name(msg.op), NULL);
		if (msg.op == KYSO_OP_HELLO && kyso_msg_u32(&msg, KYSO_F_PROTOCOL, &v))
			abort();
		kyso_msg_str(&msg, KYSO_F_CODE);
		kyso_msg_str(&msg, KYSO_F_MESSAGE);
		kyso_msg_str(&msg, KYSO_F_PIN_STATE);
		kyso_msg_bool(&msg, KYSO_F_PER_SIGNATURE);
		if (kyso_msg_bytes(&msg, KYSO_F_SIGNATURE, &n) && n > 1024)
			abort();
		if (msg.op == KYSO_OP_HELLO || msg.op == KYSO_OP_INVENTORY) {
			report = kyso_msg_json(&msg, KYSO_F_INVENTORY);
			fuzz_show("inventory", NULL, report);
			if (report && !(msg.flags & KYSO_IPC_F_ERROR))
				inventory_update(&state, msg.id & 1, "fuzz", report);
			json_decref(report);
			use_inventory(&state);
		}
		kyso_msg_clear(&msg);
	}
	close(sv[0]);
	if (getenv("FUZZ_LOG")) {
		json_t *certs = inventory_certs_json(&state, NULL, NULL);

		fuzz_show("certificates", NULL, certs);
		json_decref(certs);
	}
	inventory_module_down(&state, 1);
	use_inventory(&state);
	inventory_free(&state);
	return 0;
}
