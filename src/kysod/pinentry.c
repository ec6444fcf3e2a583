/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <assuan.h>

#include "common/mono-time.h"
#include "common/log.h"
#include "common/secure.h"
#include "kysod/pinentry.h"
#include "kysod/spawn.h"

#define MAX_PIN 256
/* How long past its own timeout a pinentry may stay before it is killed. */
#define WATCHDOG_GRACE_S 5
/* A dialog without a timeout of its own still ends some day. */
#define NO_TIMEOUT_LIMIT_S 3600
/* How often an open dialog looks whether its request was given up. */
#define ABORT_POLL_MS 100

/* Every allocation libassuan makes for a pinentry session (its line buffers,
 * which see the PIN) is size-prefixed, lives in the secure heap when there is
 * room (locked, out of dumps) and is wiped when freed. */
struct wiped_hdr {
	size_t size;
	size_t pad;
};

static void *wiped_malloc(size_t n)
{
	struct wiped_hdr *h = kyso_secret_alloc(sizeof(*h) + n);

	if (!h)
		return NULL;
	h->size = n;
	return h + 1;
}

static void wiped_free(void *p)
{
	struct wiped_hdr *h;

	if (!p)
		return;
	h = (struct wiped_hdr *)p - 1;
	kyso_secret_free(h, sizeof(*h) + h->size);
}

static void *wiped_realloc(void *p, size_t n)
{
	struct wiped_hdr *h;
	void *q;

	if (!p)
		return wiped_malloc(n);
	h = (struct wiped_hdr *)p - 1;
	q = wiped_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size < n ? h->size : n);
	wiped_free(p);
	return q;
}

static struct assuan_malloc_hooks wiped_hooks = {
	wiped_malloc, wiped_realloc, wiped_free,
};

struct pin_buf {
	char *data;		/* MAX_PIN + 1 bytes from wiped_malloc */
	size_t len;
	int overflow;
	int nul;		/* the answer held a NUL: it would cut the PIN short */
	int repeated;		/* the dialog said PIN_REPEATED: both entries matched */
};

static gpg_error_t pin_status(void *opaque, const char *line)
{
	struct pin_buf *pb = opaque;

	if (!strncmp(line, "PIN_REPEATED", 12) && (!line[12] || line[12] == ' '))
		pb->repeated = 1;
	return 0;
}

static gpg_error_t pin_data(void *opaque, const void *buf, size_t len)
{
	struct pin_buf *pb = opaque;

	/* an empty "D" line: libassuan hands no buffer at all */
	if (!len)
		return 0;
	if (pb->len + len > MAX_PIN) {
		pb->overflow = 1;
		return gpg_error(GPG_ERR_TOO_LARGE);
	}
	/* "%00" arrives decoded: as a C string the PIN would be shorter than
	 * typed, and the token would count a wrong try */
	if (memchr(buf, '\0', len)) {
		pb->nul = 1;
		return gpg_error(GPG_ERR_INV_VALUE);
	}
	memcpy(pb->data + pb->len, buf, len);
	pb->len += len;
	pb->data[pb->len] = '\0';
	return 0;
}

/* Ends a dialog that outlives its timeout (one that ignores SETTIMEOUT, or
 * hangs, or never greets), or whose request was given up (cancelled, or kysod
 * stopping). It runs from before the greeting, so no wait on the dialog is
 * ever unbounded. */
struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct timespec deadline;
	pid_t pid;
	int (*aborted)(void *opaque);
	void *abort_opaque;
	int done;
	int fired;		/* WD_TIMEOUT or WD_ABORTED */
};

enum { WD_TIMEOUT = 1, WD_ABORTED = 2 };

static void *watchdog_main(void *arg)
{
	struct watchdog *wd = arg;
	struct timespec tick;

	pthread_mutex_lock(&wd->lock);
	while (!wd->done) {
		if (kyso_deadline_passed(&wd->deadline)) {
			log_warn("the PIN dialog did not answer in time; ending it");
			wd->fired = WD_TIMEOUT;
			break;
		}
		if (wd->aborted && wd->aborted(wd->abort_opaque)) {
			log_info("the request was given up; ending its dialog");
			wd->fired = WD_ABORTED;
			break;
		}
		kyso_deadline_ms(&tick, ABORT_POLL_MS);
		pthread_cond_timedwait(&wd->cond, &wd->lock, &tick);
	}
	if (wd->fired)
		kill(wd->pid, SIGKILL);
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

static int watchdog_start(struct watchdog *wd, pid_t pid, const struct pin_prompt *p)
{
	unsigned int seconds = p->timeout ? p->timeout + WATCHDOG_GRACE_S : NO_TIMEOUT_LIMIT_S;

	memset(wd, 0, sizeof(*wd));
	wd->pid = pid;
	wd->aborted = p->aborted;
	wd->abort_opaque = p->abort_opaque;
	pthread_mutex_init(&wd->lock, NULL);
	kyso_cond_init(&wd->cond);
	kyso_deadline_ms(&wd->deadline, seconds * 1000L);
	if (pthread_create(&wd->thread, NULL, watchdog_main, wd)) {
		pthread_mutex_destroy(&wd->lock);
		pthread_cond_destroy(&wd->cond);
		return -1;
	}
	return 0;
}

/* Returns why the watchdog ended the dialog (WD_*), or 0. */
static int watchdog_stop(struct watchdog *wd)
{
	pthread_mutex_lock(&wd->lock);
	wd->done = 1;
	pthread_cond_signal(&wd->cond);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_mutex_destroy(&wd->lock);
	pthread_cond_destroy(&wd->cond);
	return wd->fired;
}

void pinentry_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *s && o + 4 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '%' || c == '\n' || c == '\r' || c < 0x20) {
			snprintf(out + o, outlen - o, "%%%02X", c);
			o += 3;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static gpg_error_t command(assuan_context_t ctx, const char *verb, const char *arg)
{
	char line[ASSUAN_LINELENGTH], esc[ASSUAN_LINELENGTH];

	if (!arg)
		return 0;
	pinentry_escape(arg, esc, sizeof(esc) - strlen(verb) - 2);
	snprintf(line, sizeof(line), "%s %s", verb, esc);
	return assuan_transact(ctx, line, NULL, NULL, NULL, NULL, NULL, NULL);
}

struct session {
	assuan_context_t ctx;
	struct watchdog wd;
	int watched;
	pid_t pid;
};

/* Starts program with its stdin and stdout on one end of a socketpair
 * (kysod_spawn); stderr stays, so a pinentry's complaints go to kysod's log.
 * Returns the pid, or -1. *fd_out is kysod's end. */
static pid_t spawn(const char *program, int *fd_out)
{
	static const int child_fds[] = { 0, 1 };
	char *const argv[] = { (char *)program, NULL };
	pid_t pid;

	return kysod_spawn(program, argv, child_fds, 2, &pid, fd_out) ? -1 : pid;
}

/* Starts the program and sends the dialog's texts. Returns 0 or -1. */
static int session_open(struct session *ss, const char *program, const struct pin_prompt *p)
{
	char timeout[32];
	gpg_error_t rc;
	int fd = -1;

	memset(ss, 0, sizeof(*ss));
	ss->pid = -1;
	rc = assuan_new_ext(&ss->ctx, GPG_ERR_SOURCE_DEFAULT, &wiped_hooks, NULL, NULL);
	if (rc) {
		ss->ctx = NULL;
		return -1;
	}
	ss->pid = spawn(program, &fd);
	if (ss->pid < 0) {
		log_error("cannot run the PIN dialog %s: %s", program, strerror(errno));
		return -1;
	}
	/* watched before the greeting: a dialog that never greets ends too */
	if (watchdog_start(&ss->wd, ss->pid, p) == 0)
		ss->watched = 1;
	/* the context owns the socket from here, also when this fails */
	rc = assuan_socket_connect_fd(ss->ctx, fd, 0);
	if (rc) {
		log_error("the PIN dialog %s did not start: %s", program, gpg_strerror(rc));
		return -1;
	}
	snprintf(timeout, sizeof(timeout), "%u", p->timeout);
	if ((rc = command(ss->ctx, "SETTITLE", p->title)) ||
	    (rc = command(ss->ctx, "SETDESC", p->description)) ||
	    (rc = command(ss->ctx, "SETPROMPT", p->prompt)) ||
	    (rc = command(ss->ctx, "SETKEYINFO", p->keyinfo)) ||
	    (rc = command(ss->ctx, "SETOK", p->ok_label)) ||
	    (rc = command(ss->ctx, "SETERROR", p->error)) ||
	    (rc = command(ss->ctx, "SETREPEAT", p->repeat)) ||
	    (rc = command(ss->ctx, "SETREPEATERROR", p->repeat ? p->repeat_error : NULL)) ||
	    (rc = command(ss->ctx, "SETTIMEOUT", p->timeout ? timeout : NULL))) {
		log_error("the PIN dialog refused a command: %s", gpg_strerror(rc));
		return -1;
	}
	return 0;
}

/* Ends the dialog and reaps it. A dialog the watchdog ended counts as not
 * answered: *err becomes pin_cancelled (it timed out) or dialog_aborted (its
 * request was given up) when ret is an error. */
static void session_close(struct session *ss, int ret, const char **err)
{
	int fired = 0, status;

	if (ss->ctx) {
		if (ss->pid > 0)
			assuan_transact(ss->ctx, "BYE", NULL, NULL, NULL, NULL, NULL, NULL);
		assuan_release(ss->ctx);
	}
	if (ss->watched)
		fired = watchdog_stop(&ss->wd);
	if (ss->pid > 0) {
		/* the socket is closed: a pinentry that is still there is told to go */
		if (waitpid(ss->pid, &status, WNOHANG) == 0) {
			kill(ss->pid, SIGTERM);
			while (waitpid(ss->pid, &status, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (ret && fired)
		*err = fired == WD_ABORTED ? "dialog_aborted" : "pin_cancelled";
}

/* Sorts a dialog's failure into cancelled (by the user or a timeout) or failed. */
static const char *dialog_failure(gpg_error_t rc)
{
	if (gpg_err_code(rc) == GPG_ERR_CANCELED || gpg_err_code(rc) == GPG_ERR_TIMEOUT ||
	    gpg_err_code(rc) == GPG_ERR_ASS_CANCELED || gpg_err_code(rc) == GPG_ERR_NOT_CONFIRMED) {
		log_info("dialog cancelled");
		return "pin_cancelled";
	}
	log_error("PIN dialog failed: %s", gpg_strerror(rc));
	return "pinentry_failed";
}

/* One GETPIN dialog; *repeated says whether the dialog had the PIN typed
 * twice (p->repeat set and PIN_REPEATED said). */
static int getpin(const char *program, const struct pin_prompt *p, char **pin, int *repeated,
		  const char **err)
{
	struct pin_buf pb = { NULL, 0, 0, 0, 0 };
	struct session ss;
	gpg_error_t rc;
	int ret = -1;

	*pin = NULL;
	*repeated = 0;
	*err = "pinentry_failed";
	if (session_open(&ss, program, p))
		goto out;
	pb.data = wiped_malloc(MAX_PIN + 1);
	if (!pb.data)
		goto out;
	pb.data[0] = '\0';
	rc = assuan_transact(ss.ctx, "GETPIN", pin_data, &pb, NULL, NULL, pin_status, &pb);
	if (pb.nul) {
		log_warn("the PIN dialog answered a PIN holding a NUL character; refused, the token was not asked");
		goto out;
	}
	if (rc) {
		*err = dialog_failure(rc);
		goto out;
	}
	if (pb.overflow || pb.len == 0) {
		*err = "pin_cancelled";
		goto out;
	}
	*pin = pb.data;
	*repeated = p->repeat && pb.repeated;
	pb.data = NULL;
	ret = 0;
out:
	wiped_free(pb.data);
	session_close(&ss, ret, err);
	return ret;
}

int pinentry_getpin(const char *program, const struct pin_prompt *p, char **pin,
		    const char **err)
{
	struct pin_prompt once = *p;
	int repeated;

	once.repeat = NULL;
	return getpin(program, &once, pin, &repeated, err);
}

int pinentry_getpin_new(const char *program, const struct pin_prompt *p, char **pin,
			const char **err)
{
	struct pin_prompt again = *p;
	char *second = NULL;
	int repeated;

	if (getpin(program, p, pin, &repeated, err))
		return -1;
	if (repeated || !p->repeat)
		return 0;
	/* a pinentry without SETREPEAT: the PIN once more, in a dialog of its own */
	log_info("the PIN dialog did not ask twice; asking for the new PIN again");
	again.repeat = NULL;
	again.prompt = p->repeat;
	again.error = NULL;
	if (getpin(program, &again, &second, &repeated, err)) {
		pinentry_free_pin(*pin);
		*pin = NULL;
		return -1;
	}
	if (strcmp(*pin, second)) {
		pinentry_free_pin(*pin);
		*pin = NULL;
		*err = "pin_mismatch";
	}
	pinentry_free_pin(second);
	return *pin ? 0 : -1;
}

int pinentry_confirm(const char *program, const struct pin_prompt *p, const char **err)
{
	struct session ss;
	gpg_error_t rc;
	int ret = -1;

	*err = "pinentry_failed";
	if (session_open(&ss, program, p))
		goto out;
	rc = assuan_transact(ss.ctx, "CONFIRM", NULL, NULL, NULL, NULL, NULL, NULL);
	if (rc) {
		*err = dialog_failure(rc);
		goto out;
	}
	ret = 0;
out:
	session_close(&ss, ret, err);
	return ret;
}

void pinentry_free_pin(char *pin)
{
	wiped_free(pin);
}
