/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A helper that dies of a fatal signal says where, on its stderr (kysod's log),
 * before it ends with that signal: the module code it runs is not ours, and the
 * helper is not dumpable (kyso_secure_process), so this is the only trace. */
#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "kyso-p11/crash-report.h"

#define FRAMES_MAX 48

static void say(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

static void on_fatal(int sig)
{
	void *frames[FRAMES_MAX];
	char num[4];
	int n;

	num[0] = (char)('0' + sig / 10 % 10);
	num[1] = (char)('0' + sig % 10);
	num[2] = '\0';
	say("kyso-p11: fatal signal ");
	say(num[0] == '0' ? num + 1 : num);
	say("; its stack, innermost first:\n");
	n = backtrace(frames, FRAMES_MAX);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	/* SA_RESETHAND put the default action back: end as the signal says */
	raise(sig);
}

void crash_report_install(void)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	struct sigaction sa;
	void *warm[1];
	size_t i;

	/* the first backtrace() loads libgcc's unwinder, which a signal
	 * handler must not have to do */
	backtrace(warm, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
