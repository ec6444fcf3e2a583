/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pcscwatch: a plain PC/SC client that waits in SCardGetStatusChange and prints
 * "REALTIME_SECONDS present|absent READER" whenever a reader's card comes or goes:
 * the earliest moment any PC/SC application can learn of it from pcscd.
 *
 *   pcscwatch [READER]     (default: every reader pcscd has when it starts) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

#define MAX_READERS 16

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	SCARD_READERSTATE rs[MAX_READERS];
	SCARDCONTEXT ctx;
	char *names = NULL, *p;
	DWORD len = SCARD_AUTOALLOCATE, n = 0, i;
	int present[MAX_READERS];
	LONG rv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "pcscwatch: SCardEstablishContext: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	rv = SCardListReaders(ctx, NULL, (LPSTR)&names, &len);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "pcscwatch: SCardListReaders: %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	memset(rs, 0, sizeof(rs));
	for (p = names; *p && n < MAX_READERS; p += strlen(p) + 1) {
		if (argc > 1 && strcmp(p, argv[1]))
			continue;
		rs[n].szReader = p;
		rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	if (!n) {
		fprintf(stderr, "pcscwatch: no such reader\n");
		return 1;
	}
	/* the first call only learns the current state */
	rv = SCardGetStatusChange(ctx, 0, rs, n);
	for (i = 0; i < n; i++) {
		present[i] = !!(rs[i].dwEventState & SCARD_STATE_PRESENT);
		rs[i].dwCurrentState = rs[i].dwEventState & ~SCARD_STATE_CHANGED;
	}
	printf("ready\n");
	for (;;) {
		rv = SCardGetStatusChange(ctx, INFINITE, rs, n);
		if (rv == SCARD_E_TIMEOUT)
			continue;
		if (rv != SCARD_S_SUCCESS) {
			fprintf(stderr, "pcscwatch: SCardGetStatusChange: %s\n", pcsc_stringify_error(rv));
			return 1;
		}
		for (i = 0; i < n; i++) {
			int now = !!(rs[i].dwEventState & SCARD_STATE_PRESENT);

			if (now != present[i])
				printf("%.6f %s %s\n", real_s(), now ? "present" : "absent", rs[i].szReader);
			present[i] = now;
			rs[i].dwCurrentState = rs[i].dwEventState & ~SCARD_STATE_CHANGED;
		}
	}
}
