/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kyso-p11: runs one PKCS#11 module on behalf of kysod, isolated in its own process.
 * kysod starts it with one end of a socketpair as --fd; nothing else talks to it. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secure.h"
#include "kyso-p11/admin.h"
#include "kyso-p11/crash-report.h"
#include "kyso-p11/worker.h"

#define PROBE_INTERVAL_MS 500
/* Once kysod is gone: how long the workers may take to finish (a signature in
 * the module) before the helper ends regardless. */
#define STOP_GRACE_S 10

static void usage(void)
{
	fprintf(stderr, "usage: kyso-p11 [-d] --fd N --protocol N --login-ttl SECONDS [--parent PID] "
		"[--workers N] MODULE\n"
		"kyso-p11 is started by kysod; it is not meant to be run by hand.\n");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void push_inventory(struct helper *h, uint16_t op)
{
	helper_send_inventory(h, op);
}

/* Looks at the slots; on a change refreshes libp11, the workers and kysod's
 * view. Forced (kysod's RESCAN, on a card event), it reads every token and
 * waits for a listing or rebuild that holds the module: its answer tells
 * kysod the module is not stuck (see helpers.c's removal check). It does not
 * wait for a change of a token, which may take a minute and probes when it is
 * done; no probe is made while a login waits on a PIN pad (a module such as
 * OpenSC answers nothing else meanwhile). */
static void rescan(struct helper *h, int force)
{
	int changed;

	if (__atomic_load_n(&h->pinpad_logins, __ATOMIC_ACQUIRE))
		return;
	changed = force ? p11_probe_wait(&h->mod) : p11_probe(&h->mod, 0);
	if (changed == P11_PROBE_BUSY)
		return;

	/* said once, not at every poll: OpenSC without pcscd fails until it runs */
	if (changed < 0) {
		if (!h->probe_failing)
			log_warn("cannot read the slot list; will keep trying");
		h->probe_failing = 1;
		return;
	}
	if (h->probe_failing)
		log_info("the slot list can be read again");
	h->probe_failing = 0;
	if (changed == 2) {
		if (p11_refresh(&h->mod))
			log_warn("cannot refresh the slot list");
		workers_forget_logins(h);
	}
	if (changed)
		workers_sync(h);
	if (changed || force)
		push_inventory(h, KYSO_OP_INVENTORY);
}

/* The first message, when the helper cannot serve: its protocol and why. */
static void hello_error(struct helper *h, const char *code, const char *why)
{
	struct kyso_out out;

	kyso_out_init(&out);
	kyso_out_u32(&out, KYSO_F_PROTOCOL, KYSO_IPC_PROTOCOL);
	kyso_out_str(&out, KYSO_F_CODE, code);
	kyso_out_str(&out, KYSO_F_MESSAGE, why);
	helper_send(h, 0, KYSO_OP_HELLO, KYSO_IPC_F_ERROR, &out);
	kyso_out_free(&out);
}

static void handle(struct helper *h, struct kyso_msg *msg)
{
	const char *token = kyso_msg_str(msg, KYSO_F_TOKEN);
	struct kyso_out out;

	if (admin_op(msg->op)) {
		if (admin_submit(h, msg))
			helper_send_error(h, msg->id, "internal_error", "out of memory", NULL);
		return;
	}
	switch (msg->op) {
	case KYSO_OP_SIGN:
	case KYSO_OP_SIGN_MANY:
	case KYSO_OP_LOGIN:
		if (!token || workers_submit(h, token, msg))
			helper_send_error(h, msg->id, "token_not_present",
					  "the token is not present", NULL);
		break;
	case KYSO_OP_LOGOUT:
		kyso_out_init(&out);
		kyso_out_u32(&out, KYSO_F_LOGGED_OUT, (uint32_t)workers_logout(h, token));
		helper_send(h, msg->id, KYSO_OP_REPLY, 0, &out);
		kyso_out_free(&out);
		break;
	case KYSO_OP_RESCAN:
		rescan(h, 1);
		helper_send(h, msg->id, KYSO_OP_REPLY, 0, NULL);
		break;
	default:
		helper_send_error(h, msg->id, "internal_error", "unknown operation", NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'F' },
		{ "login-ttl", required_argument, NULL, 'T' },
		{ "workers", required_argument, NULL, 'W' },
		{ "parent", required_argument, NULL, 'P' },
		{ "protocol", required_argument, NULL, 'V' },
		{ "debug", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct helper h;
	struct kyso_msg msg;
	char err[256];
	long next_probe;
	pid_t parent = 0;
	long protocol = 0;
	int c, debug = 0, ret = 1;

	memset(&h, 0, sizeof(h));
	h.fd = -1;
	h.login_ttl = 600;
	h.pool = 1;
	while ((c = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			h.fd = atoi(optarg);
			break;
		case 'T':
			h.login_ttl = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'W':
			h.pool = (unsigned int)strtoul(optarg, NULL, 10);
			if (h.pool < 1 || h.pool > WORKER_POOL_MAX) {
				usage();
				return 2;
			}
			break;
		case 'P':
			parent = (pid_t)strtol(optarg, NULL, 10);
			break;
		case 'V':
			protocol = strtol(optarg, NULL, 10);
			break;
		case 'd':
			debug = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (h.fd < 0 || optind != argc - 1) {
		usage();
		return 2;
	}
	kyso_log_init("kyso-p11", 0, debug ? KYSO_LOG_DEBUG : KYSO_LOG_INFO);
	/* The helper holds logins and libp11's copy of the PIN: it ends with
	 * kysod, also when kysod is killed, and cannot be dumped or attached. */
	if (parent > 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) {
			log_error("kysod (pid %d) is gone already", (int)parent);
			return 1;
		}
	}
	if (kyso_secure_process(err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	crash_report_install();
	pthread_mutex_init(&h.send_lock, NULL);
	pthread_cond_init(&h.hello_cond, NULL);
	pthread_mutex_init(&h.workers_lock, NULL);

	/* a kysod of another version would misread every frame: refused at once */
	if (protocol != KYSO_IPC_PROTOCOL) {
		if (protocol)
			snprintf(err, sizeof(err), "kysod speaks protocol %ld, this kyso-p11 protocol "
				 "%d: kysod and kyso-p11 must come from the same version of kyso",
				 protocol, KYSO_IPC_PROTOCOL);
		else
			snprintf(err, sizeof(err), "kysod did not say its protocol version (an older "
				 "kysod); this kyso-p11 speaks protocol %d: kysod and kyso-p11 must "
				 "come from the same version of kyso", KYSO_IPC_PROTOCOL);
		log_error("%s", err);
		hello_error(&h, "protocol_mismatch", err);
		return 1;
	}
	if (p11_module_open(&h.mod, argv[optind], err, sizeof(err))) {
		log_error("%s: %s", argv[optind], err);
		hello_error(&h, "module_unavailable", err);
		goto out;
	}
	h.mod.before_release = workers_drop_keys;
	h.mod.before_release_ctx = &h;
	workers_sync(&h);
	push_inventory(&h, KYSO_OP_HELLO);
	next_probe = now_ms() + PROBE_INTERVAL_MS;

	for (;;) {
		struct pollfd pfd = { .fd = h.fd, .events = POLLIN };
		long wait = next_probe - now_ms();
		int n = poll(&pfd, 1, wait < 0 ? 0 : (int)wait);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			if (kyso_ipc_recv(h.fd, &msg))
				break;	/* kysod went away */
			handle(&h, &msg);
			kyso_msg_clear(&msg);
		}
		if (now_ms() >= next_probe) {
			rescan(&h, 0);
			next_probe = now_ms() + PROBE_INTERVAL_MS;
		}
	}
	ret = 0;
	/* a worker stuck in the module must not keep the helper (and its
	 * logins) alive: SIGALRM's default action ends the process */
	alarm(STOP_GRACE_S);
	workers_stop_all(&h);
	admin_stop(&h);
out:
	p11_module_close(&h.mod);
	return ret;
}
