/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIN dialog's answers (src/kysod/pinentry.c): what a pinentry program
 * writes back over the Assuan protocol (greeting, OK/ERR to each SET command,
 * D lines with the percent-escaped PIN, INQUIRE, S and # lines, BYE), read
 * by pinentry_getpin and pinentry_confirm through libassuan and pin_data.
 *
 * No program is run: posix_spawn, waitpid and kill are replaced in this
 * harness, so the "pinentry" is the input itself, written to kysod's
 * socketpair before the dialog starts and then half-closed (what a
 * pinentry writes after the input ends is an end of file). The commands
 * kysod writes are left unread in the socket's buffer.
 *
 * Input: one byte (bit 0: CONFIRM instead of GETPIN; bit 1: a timeout, so
 * SETTIMEOUT is sent too; bit 2: an error text, so SETERROR is sent), then
 * the pinentry's bytes.
 *
 * Each dialog starts and joins its watchdog thread; ASan keeps a few hundred
 * bytes for every thread that ever ran, so this harness's memory grows by
 * about 200 MB per million inputs (a plain ASan program that only creates
 * and joins threads grows alike; kysod without ASan does not). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fuzz-common.h"
#include "kysod/pinentry.h"

#define FAKE_PID 0x7ffffff0
#define INPUT_MAX (32u << 10)

static int child_fd = -1;	/* the fd kysod gives the pinentry as stdin */
static int peer_fd = -1;	/* this harness's copy of it, while a dialog is open */
static const uint8_t *script;
static size_t script_len;

int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	if (newfd == 0)
		child_fd = fd;
	return 0;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	ssize_t n;

	if (child_fd < 0 || peer_fd >= 0)
		abort();
	peer_fd = fcntl(child_fd, F_DUPFD_CLOEXEC, 3);
	if (peer_fd < 0)
		abort();
	fcntl(peer_fd, F_SETFL, O_NONBLOCK);
	n = script_len ? write(peer_fd, script, script_len) : 0;
	if (n < 0 && errno != EAGAIN)
		abort();
	shutdown(peer_fd, SHUT_WR);
	child_fd = -1;
	*pid = FAKE_PID;
	return 0;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	if (pid != FAKE_PID)
		return (pid_t)syscall(SYS_wait4, pid, status, options, NULL);
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
	if (status)
		*status = 0;
	return pid;
}

int kill(pid_t pid, int sig)
{
	if (pid == FAKE_PID)
		return 0;
	return (int)syscall(SYS_kill, pid, sig);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pin_prompt p = {
		.title = "kyso", .description = "/usr/bin/fuzz asks to sign 1 record",
		.prompt = "PIN", .keyinfo = "--kyso-fuzz", .ok_label = "Sign",
	};
	const char *err = NULL;
	char *pin = NULL;
	int rc;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	script = data + 1;
	script_len = size - 1;
	p.timeout = data[0] & 2 ? 30 : 0;
	p.error = data[0] & 4 ? "Wrong PIN (2 tries left)" : NULL;
	if (data[0] & 1) {
		rc = pinentry_confirm("/nonexistent/pinentry", &p, &err);
		if (rc == 0 ? err != NULL && strcmp(err, "pinentry_failed") : !err)
			abort();
	} else {
		rc = pinentry_getpin("/nonexistent/pinentry", &p, &pin, &err);
		if (rc == 0) {
			if (!pin || !pin[0] || strlen(pin) > 256)
				abort();
			fuzz_show("pin", pin, NULL);
			pinentry_free_pin(pin);
		} else if (pin || !err) {
			abort();
		}
	}
	fuzz_show("dialog", rc ? err : "ok", NULL);
	if (peer_fd >= 0)
		abort();
	return 0;
}
