/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod: the kyso signing daemon. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <config.h>
#include "common/mono-time.h"
#include "common/log.h"
#include "common/secure.h"
#include "kysod/activation.h"
#include "kysod/daemon.h"
#include "kysod/helpers.h"
#include "kysod/server.h"
#include "kysod/autoload.h"
#include "common/hex.h"
#include "pcsc/reader-watch.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: kysod [-f] [-d] [-c FILE]\n"
		"  -f, --foreground   stay in the foreground and log to stderr\n"
		"  -d, --debug        log debug messages\n"
		"  -c, --config FILE  configuration file\n"
		"      --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n");
}

/* The first config file that exists, or NULL for the built-in defaults. */
static const char *default_config(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		snprintf(buf, len, "%s/kyso/kysod.conf", xdg);
	else if (home && *home)
		snprintf(buf, len, "%s/.config/kyso/kysod.conf", home);
	else
		buf[0] = '\0';
	if (buf[0] && access(buf, F_OK) == 0)
		return buf;
	if (access(SYSCONFDIR "/kyso/kysod.conf", F_OK) == 0)
		return SYSCONFDIR "/kyso/kysod.conf";
	return NULL;
}

static void inventory_changed(void *opaque, const char *type, json_t *data)
{
	struct kysod *d = opaque;

	log_info("%s %s", type, json_string_value(json_object_get(json_object_get(data, "token"), "id")) ?:
		 json_string_value(json_object_get(data, "token")) ?: "");
	events_publish(&d->events, type, data);
}

static void reader_changed(void *opaque, enum reader_event ev, const struct reader_info *r)
{
	static const char *const names[] = {
		"reader-added", "reader-removed", "card-inserted", "card-removed", "pcsc-up", "pcsc-down",
	};
	struct kysod *d = opaque;
	char atr[2 * READER_ATR_MAX + 1] = "";
	const char *kind;
	json_t *data;

	if (r) {
		kyso_hex_encode(r->atr, r->atr_len, atr);
		data = json_pack("{s:s}", "reader", r->name);
		log_info("%s: %s %s", names[ev], r->name, atr);
	} else {
		data = json_object();
		log_info("%s", names[ev]);
	}
	if (ev == CARD_INSERTED) {
		kind = autoload_kind(d, r->atr, r->atr_len);
		json_object_set_new(data, "atr", json_string(atr));
		json_object_set_new(data, "token_kind", kind ? json_string(kind) : json_null());
		if (!kind)
			log_info("a card the token catalogue does not know: ATR %s", atr);
		autoload_card(d, r->atr, r->atr_len);
	}
	events_publish(&d->events, names[ev], data);
	/* A card came or went: the helpers look at their slots now, not at their
	 * next poll; after a removal, one that does not is stuck in its module. */
	if (ev == CARD_INSERTED || ev == CARD_REMOVED || ev == READER_REMOVED || ev == PCSC_DOWN)
		helpers_rescan(d, ev == CARD_REMOVED || ev == READER_REMOVED);
}

/* Every request in flight ends soon: waits for a helper's answer end with
 * shutting_down, open dialogs close, batches stop after their current item;
 * the HTTP server can then be stopped without waiting for a token. */
static void begin_stop(struct kysod *d)
{
	__atomic_store_n(&d->stopping, 1, __ATOMIC_RELEASE);
	helpers_fail_calls(d);
	pthread_mutex_lock(&d->prompt_lock);
	pthread_cond_broadcast(&d->prompt_cond);
	pthread_mutex_unlock(&d->prompt_lock);
}

static int daemonise(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/"))
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kysod_passed passed;
	struct kysod d;
	const char *conf = NULL;
	char confbuf[PATH_MAX], err[PATH_MAX + 256];
	sigset_t sigs;
	int c, foreground = 0, debug = 0, sig = 0, ret = 1;

	while ((c = getopt_long(argc, argv, "fdc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'V':
			printf("kysod %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	memset(&d, 0, sizeof(d));
	d.listen_fd = -1;
	kyso_log_init("kysod", 0, KYSO_LOG_INFO);
	if (kysod_config_defaults(&d.cfg)) {
		log_error("out of memory");
		return 1;
	}
	if (!conf)
		conf = default_config(confbuf, sizeof(confbuf));
	if (conf && kysod_config_load(&d.cfg, conf, err, sizeof(err))) {
		log_error("%s", err);
		goto out_config;
	}
	if (kysod_config_default_modules(&d.cfg)) {
		log_error("out of memory");
		goto out_config;
	}
	if (debug)
		d.cfg.log_level = KYSO_LOG_DEBUG;
	/* before daemonise: LISTEN_PID names this process, not its children */
	if (kysod_activation_take(&passed, err, sizeof(err))) {
		log_error("%s", err);
		goto out_config;
	}
	d.listen_fd = passed.unix_fd;
	d.socket_passed = d.listen_fd >= 0;
	memcpy(d.passed_path, passed.path, sizeof(d.passed_path));
	memcpy(d.tcp_fds, passed.tcp_fds, sizeof(d.tcp_fds));
	d.n_tcp = passed.n_tcp;
	d.tcp_port = passed.tcp_port;
	d.tcp_passed = passed.n_tcp > 0;
	if (!foreground && daemonise()) {
		log_error("cannot become a daemon: %s", strerror(errno));
		goto out_config;
	}
	kyso_log_init("kysod", !foreground, d.cfg.log_level);
	/* PINs pass through kysod: no core dumps, no ptrace attach by the user's
	 * other programs, PIN buffers in locked memory. After daemonise: a fork
	 * child does not inherit memory locks. */
	if (kyso_secure_process(err, sizeof(err))) {
		log_error("%s", err);
		goto out_config;
	}
	if (!d.cfg.n_modules)
		log_warn("no PKCS#11 module configured, and OpenSC's is not installed");
	if (access(d.cfg.pinentry, X_OK))
		log_warn("the PIN dialog %s cannot be run (%s): signatures that need a PIN will fail; "
			 "set pinentry in the configuration", d.cfg.pinentry, strerror(errno));

	/* Signals are taken by sigwait below; every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	inventory_init(&d.inv);
	events_init(&d.events);
	batches_init(&d.batches);
	d.inv.notify = inventory_changed;
	d.inv.notify_opaque = &d;
	pthread_mutex_init(&d.prompt_lock, NULL);
	/* prompt_acquire waits on it against the monotonic clock */
	kyso_cond_init(&d.prompt_cond);
	if (audit_open(&d.audit, d.cfg.audit_log, d.cfg.audit_max_size, err, sizeof(err))) {
		log_error("audit log: %s", err);
		goto out_audit;
	}
	autoload_init(&d);
	if (helpers_start(&d)) {
		log_error("cannot start the module helpers");
		goto out;
	}
	d.readers = reader_watch_start(reader_changed, &d);
	if (!d.readers)
		log_warn("cannot watch PC/SC readers");
	if (kysod_server_start(&d, err, sizeof(err))) {
		log_error("%s", err);
		goto out_helpers;
	}
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		log_info("SIGHUP ignored; restart kysod to read its configuration again");
	log_info("stopping on signal %d", sig);
	begin_stop(&d);
	kysod_server_stop(&d);
	ret = 0;
out_helpers:
	reader_watch_stop(d.readers);
	helpers_stop(&d);
out:
	audit_close(&d.audit);
out_audit:
	pthread_mutex_destroy(&d.prompt_lock);
	pthread_cond_destroy(&d.prompt_cond);
	inventory_free(&d.inv);
	events_free(&d.events);
	autoload_free(&d);
	batches_free(&d.batches);
out_config:
	if (d.listen_fd >= 0)
		close(d.listen_fd);
	kysod_config_free(&d.cfg);
	return ret;
}
