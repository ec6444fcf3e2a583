/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asking the user for a PIN with a pinentry program (the Assuan protocol of
 * GnuPG's pinentry), one dialog per call. */
#ifndef KYSOD_PINENTRY_H
#define KYSOD_PINENTRY_H
#include <stddef.h>

struct pin_prompt {
	const char *title;
	const char *description;	/* may hold newlines */
	const char *prompt;
	const char *keyinfo;		/* identifies the token to the pinentry */
	const char *error;		/* shown above the entry, or NULL */
	const char *ok_label;
	/* A new PIN (pinentry_getpin_new): the prompt of the second entry
	 * (SETREPEAT), and the error shown when the two differ
	 * (SETREPEATERROR). */
	const char *repeat;
	const char *repeat_error;
	unsigned int timeout;		/* seconds, 0 for none */
	/* Polled while the dialog is open (several times a second): non-zero
	 * ends the dialog, as when the request was cancelled or kysod stops.
	 * NULL for none. */
	int (*aborted)(void *opaque);
	void *abort_opaque;
};

/* Runs program and asks for a PIN. On success *pin (NUL-terminated, in memory
 * that is wiped when freed: release it with pinentry_free_pin) and 0. Else -1
 * and *err = "pin_cancelled" (cancelled or timed out), "dialog_aborted" (the
 * prompt's aborted() said so; the dialog was closed) or "pinentry_failed" (which
 * includes an answer holding a NUL character: the token is not asked). */
int pinentry_getpin(const char *program, const struct pin_prompt *p, char **pin,
		    const char **err);

/* Asks for a new PIN, to be typed twice: pinentry's SETREPEAT (the dialog
 * compares the two entries itself and says PIN_REPEATED). A pinentry that
 * does not say so gets a second dialog asking for the PIN again, which must
 * match. As pinentry_getpin; *err may also be "pin_mismatch" (the second
 * dialog's PIN differs). */
int pinentry_getpin_new(const char *program, const struct pin_prompt *p, char **pin,
			const char **err);

/* Asks the user to confirm (CONFIRM): 0 when allowed, else -1 and *err =
 * "pin_cancelled" (declined or timed out), "dialog_aborted" or
 * "pinentry_failed". */
int pinentry_confirm(const char *program, const struct pin_prompt *p, const char **err);

void pinentry_free_pin(char *pin);

/* Percent-escapes s for an Assuan command line into out (outlen bytes). */
void pinentry_escape(const char *s, char *out, size_t outlen);

#endif
