/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's configuration (src/kysod/config.c): defaults, the INI file, its
 * errors, and the module allowlist. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "kysod/config.h"

/* Writes text to a new temporary file with the given mode; returns its path
 * (caller unlinks and frees). */
static char *write_conf(const char *text, mode_t mode)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	size_t len = strlen(text);
	int fd;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	assert_true(asprintf(&path, "%s/kysod-conf.XXXXXX", tmp) > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads text over the defaults. */
static int load_text(struct kysod_config *cfg, const char *text, char *err, size_t errlen)
{
	char *path = write_conf(text, 0600);
	int ret;

	assert_int_equal(kysod_config_defaults(cfg), 0);
	err[0] = '\0';
	ret = kysod_config_load(cfg, path, err, errlen);
	unlink(path);
	free(path);
	return ret;
}

/* The file must be refused with a message holding each of the (up to two) needles. */
static void expect_error(const char *text, const char *needle, const char *needle2)
{
	struct kysod_config cfg;
	char err[512];

	if (load_text(&cfg, text, err, sizeof(err)) != -1)
		fail_msg("accepted:\n%s", text);
	if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
		fail_msg("message \"%s\" lacks \"%s\"%s%s%s for:\n%s", err, needle,
			 needle2 ? " and \"" : "", needle2 ? needle2 : "", needle2 ? "\"" : "", text);
	/* every message names the file */
	if (!strstr(err, "kysod-conf."))
		fail_msg("message \"%s\" does not name the file", err);
	kysod_config_free(&cfg);
}

static void expect_ok(const char *text)
{
	struct kysod_config cfg;
	char err[512];

	if (load_text(&cfg, text, err, sizeof(err)) != 0)
		fail_msg("refused (%s):\n%s", err, text);
	kysod_config_free(&cfg);
}

static int has_pattern(const struct kysod_config *cfg, const char *pattern)
{
	size_t i;

	for (i = 0; i < cfg->n_allow; i++)
		if (!strcmp(cfg->allow[i], pattern))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ defaults */

static void test_defaults(void **state)
{
	struct kysod_config cfg;

	assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1), 0);
	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_string_equal(cfg.socket_path, "/run/user/4242/kyso/kyso.sock");
	assert_string_equal(cfg.pinentry, "/usr/bin/pinentry");
	assert_string_equal(cfg.helper, LIBEXECDIR "/kyso-p11");
	assert_int_equal(cfg.login_ttl, 600);
	assert_int_equal(cfg.pin_timeout, 60);
	assert_int_equal(cfg.request_timeout, 120);
	assert_int_equal(cfg.max_body, 65536);
	assert_int_equal(cfg.log_level, KYSO_LOG_INFO);
	assert_int_equal(cfg.n_modules, 0);
	assert_true(has_pattern(&cfg, "/usr/lib/*/pkcs11/*.so"));
	assert_true(has_pattern(&cfg, "/usr/lib/softhsm/*.so"));
	assert_true(has_pattern(&cfg, "/usr/lib/*/softhsm/*.so"));
	kysod_config_free(&cfg);
	assert_null(cfg.socket_path);
	assert_null(cfg.allow);
}

static void test_defaults_without_runtime_dir(void **state)
{
	struct kysod_config cfg;
	char want[128];

	snprintf(want, sizeof(want), "/run/user/%u/kyso/kyso.sock", (unsigned)getuid());
	assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_string_equal(cfg.socket_path, want);
	kysod_config_free(&cfg);
	assert_int_equal(setenv("XDG_RUNTIME_DIR", "", 1), 0);
	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_string_equal(cfg.socket_path, want);
	kysod_config_free(&cfg);
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
}

/* The module kysod loads when none is configured passes the default allowlist,
 * and so does SoftHSM's (on this machine, where they are installed). */
static void test_default_modules_allowed(void **state)
{
	struct kysod_config cfg;
	char resolved[PATH_MAX], err[512];

	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(kysod_config_default_modules(&cfg), 0);
	if (cfg.n_modules) {
		assert_int_equal(cfg.n_modules, 1);
		assert_string_equal(cfg.modules[0].name, "opensc");
		if (kysod_module_allowed(&cfg, cfg.modules[0].path, resolved, err, sizeof(err)))
			fail_msg("the default module is refused: %s", err);
	}
	if (access("/usr/lib/softhsm/libsofthsm2.so", R_OK) == 0 &&
	    kysod_module_allowed(&cfg, "/usr/lib/softhsm/libsofthsm2.so", resolved, err,
				 sizeof(err)))
		fail_msg("SoftHSM is refused: %s", err);
	kysod_config_free(&cfg);
}

static void test_default_modules(void **state)
{
	static const char *const opensc[] = {
		"/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so",
		"/usr/lib/aarch64-linux-gnu/pkcs11/opensc-pkcs11.so",
		"/usr/lib/i386-linux-gnu/pkcs11/opensc-pkcs11.so",
		"/usr/lib/pkcs11/opensc-pkcs11.so",
	};
	const char *installed = NULL;
	struct kysod_config cfg;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(opensc) / sizeof(opensc[0]) && !installed; i++)
		if (access(opensc[i], R_OK) == 0)
			installed = opensc[i];

	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(kysod_config_default_modules(&cfg), 0);
	if (installed) {
		assert_int_equal(cfg.n_modules, 1);
		assert_string_equal(cfg.modules[0].name, "opensc");
		assert_string_equal(cfg.modules[0].path, installed);
	} else {
		assert_int_equal(cfg.n_modules, 0);
	}
	kysod_config_free(&cfg);

	/* configured modules are kept as they are */
	assert_int_equal(load_text(&cfg, "[module mine]\npath = /opt/mine.so\n", err,
				   sizeof(err)), 0);
	assert_int_equal(kysod_config_default_modules(&cfg), 0);
	assert_int_equal(cfg.n_modules, 1);
	assert_string_equal(cfg.modules[0].name, "mine");
	assert_string_equal(cfg.modules[0].path, "/opt/mine.so");
	kysod_config_free(&cfg);
}

/* ------------------------------------------------------------ loading */

static void test_full_file(void **state)
{
	static const char text[] =
		"; kysod.conf\n"
		"# a comment too\n"
		"[kysod]\n"
		"socket = /tmp/kyso-test/kyso.sock\n"
		"pinentry = /usr/bin/pinentry-curses\n"
		"helper = /opt/kyso/libexec/kyso-p11\n"
		"login_ttl = 0\n"
		"pin_timeout = 30 ; seconds\n"
		"request_timeout = 5\n"
		"max_body = 1024\n"
		"allow_modules = /opt/p11/*.so\t/usr/local/lib/*.so   /x/y.so\n"
		"log_level = debug\n"
		"\n"
		"[module softhsm]\n"
		"path = /usr/lib/softhsm/libsofthsm2.so\n"
		"\n"
		"[module my card]\n"
		"  path = /opt/p11/card.so  \n";
	struct kysod_config cfg;
	char err[512];

	if (load_text(&cfg, text, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_string_equal(cfg.socket_path, "/tmp/kyso-test/kyso.sock");
	assert_string_equal(cfg.pinentry, "/usr/bin/pinentry-curses");
	assert_string_equal(cfg.helper, "/opt/kyso/libexec/kyso-p11");
	assert_int_equal(cfg.login_ttl, 0);
	assert_int_equal(cfg.pin_timeout, 30);
	assert_int_equal(cfg.request_timeout, 5);
	assert_int_equal(cfg.max_body, 1024);
	assert_int_equal(cfg.n_allow, 3);
	assert_string_equal(cfg.allow[0], "/opt/p11/*.so");
	assert_string_equal(cfg.allow[1], "/usr/local/lib/*.so");
	assert_string_equal(cfg.allow[2], "/x/y.so");
	assert_int_equal(cfg.log_level, KYSO_LOG_DEBUG);
	assert_int_equal(cfg.n_modules, 2);
	assert_string_equal(cfg.modules[0].name, "softhsm");
	assert_string_equal(cfg.modules[0].path, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg.modules[1].name, "my card");
	assert_string_equal(cfg.modules[1].path, "/opt/p11/card.so");
	kysod_config_free(&cfg);
}

static void test_partial_file_keeps_defaults(void **state)
{
	struct kysod_config cfg;
	char err[512];

	assert_int_equal(load_text(&cfg, "[kysod]\nlogin_ttl = 5\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.login_ttl, 5);
	assert_int_equal(cfg.pin_timeout, 60);
	assert_int_equal(cfg.request_timeout, 120);
	assert_int_equal(cfg.max_body, 65536);
	assert_string_equal(cfg.socket_path, "/run/user/4242/kyso/kyso.sock");
	assert_string_equal(cfg.pinentry, "/usr/bin/pinentry");
	assert_true(has_pattern(&cfg, "/usr/lib/*/softhsm/*.so"));
	assert_int_equal(cfg.n_modules, 0);
	kysod_config_free(&cfg);

	/* an empty file is the defaults */
	assert_int_equal(load_text(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.login_ttl, 600);
	kysod_config_free(&cfg);
}

static void test_each_key(void **state)
{
	struct kysod_config cfg;
	char err[512];

	assert_int_equal(load_text(&cfg, "[kysod]\nsocket=/a/b.sock\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.socket_path, "/a/b.sock");
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\npinentry=/bin/pe\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.pinentry, "/bin/pe");
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nhelper=/bin/h\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.helper, "/bin/h");
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nlogin_ttl=604800\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.login_ttl, 604800);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\npin_timeout=0\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.pin_timeout, 0);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nrequest_timeout=1\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.request_timeout, 1);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nstop_grace=600\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.stop_grace, 600);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.removal_timeout, 10);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nremoval_timeout=0\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.removal_timeout, 0);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nmax_body=67108864\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.max_body, 67108864);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nallow_modules=/only/this.so\n", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.n_allow, 1);
	assert_string_equal(cfg.allow[0], "/only/this.so");
	kysod_config_free(&cfg);
	/* an empty list allows nothing */
	assert_int_equal(load_text(&cfg, "[kysod]\nallow_modules =\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_allow, 0);
	kysod_config_free(&cfg);
	/* a key given twice: the last one counts */
	assert_int_equal(load_text(&cfg, "[kysod]\nlogin_ttl=1\nlogin_ttl=2\n", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.login_ttl, 2);
	kysod_config_free(&cfg);
}

static void test_log_levels(void **state)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", KYSO_LOG_ERROR },
		{ "warning", KYSO_LOG_WARNING },
		{ "info", KYSO_LOG_INFO },
		{ "debug", KYSO_LOG_DEBUG },
	};
	struct kysod_config cfg;
	char text[64], err[512];
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "[kysod]\nlog_level = %s\n", levels[i].name);
		assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
		assert_int_equal(cfg.log_level, levels[i].level);
		kysod_config_free(&cfg);
	}
	expect_error("[kysod]\nlog_level = verbose\n", "log_level", "error, warning, info or debug");
	expect_error("[kysod]\nlog_level =\n", "log_level", "error, warning, info or debug");
	expect_error("[kysod]\nlog_level = 3\n", "log_level", "error, warning, info or debug");
}

static void test_module_sections(void **state)
{
	struct kysod_config cfg;
	char text[4096], err[512];
	size_t i, o = 0;

	/* many modules, each its own section */
	for (i = 0; i < 20; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "[module m%zu]\npath = /opt/p11/m%zu.so\n", i, i);
	assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_modules, 20);
	for (i = 0; i < 20; i++) {
		char name[16], path[32];

		snprintf(name, sizeof(name), "m%zu", i);
		snprintf(path, sizeof(path), "/opt/p11/m%zu.so", i);
		assert_string_equal(cfg.modules[i].name, name);
		assert_string_equal(cfg.modules[i].path, path);
	}
	kysod_config_free(&cfg);

	/* a section given twice is one module; its last path counts */
	assert_int_equal(load_text(&cfg,
				   "[module a]\npath = /x/1.so\n[kysod]\nlogin_ttl = 3\n"
				   "[module a]\npath = /x/2.so\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_modules, 1);
	assert_string_equal(cfg.modules[0].path, "/x/2.so");
	assert_int_equal(cfg.login_ttl, 3);
	kysod_config_free(&cfg);
}

/* ------------------------------------------------------------ CRL fetching */

static void test_crl_fetch(void **state)
{
	static const char *const bad_timeouts[] = { "0", "601", "-1", "abc", "5s", "", "1.5" };
	struct kysod_config cfg;
	char err[512], text[128];
	size_t i;

	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(cfg.crl_fetch, 1);
	assert_int_equal(cfg.crl_timeout, 10);
	assert_int_equal(cfg.crl_timeout, cfg.ocsp_timeout);
	kysod_config_free(&cfg);

	assert_int_equal(load_text(&cfg, "[kysod]\ncrl_fetch = no\ncrl_timeout = 3\n", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.crl_fetch, 0);
	assert_int_equal(cfg.crl_timeout, 3);
	/* the other timeouts keep their defaults */
	assert_int_equal(cfg.ocsp_timeout, 10);
	assert_int_equal(cfg.tsa_timeout, 30);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\ncrl_fetch = on\ncrl_timeout = 600\n", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.crl_fetch, 1);
	assert_int_equal(cfg.crl_timeout, 600);
	kysod_config_free(&cfg);
	expect_ok("[kysod]\ncrl_fetch = yes\n");
	expect_ok("[kysod]\ncrl_fetch = off\n");

	expect_error("[kysod]\ncrl_fetch = maybe\n", "[kysod] crl_fetch", "must be yes or no");
	expect_error("[kysod]\ncrl_fetch =\n", "[kysod] crl_fetch", "must be yes or no");
	expect_error("[kysod]\ncrl_fetch = Yes\n", "[kysod] crl_fetch", "must be yes or no");
	for (i = 0; i < sizeof(bad_timeouts) / sizeof(bad_timeouts[0]); i++) {
		snprintf(text, sizeof(text), "[kysod]\ncrl_timeout = %s\n", bad_timeouts[i]);
		expect_error(text, "[kysod] crl_timeout", "must be 1 to 600 seconds");
	}
	expect_error("[kysod]\ncrl_fetch_timeout = 5\n", "crl_fetch_timeout", "unknown key");
}

/* The provisioning routes: off unless the file turns them on. */
static void test_admin(void **state)
{
	struct kysod_config cfg;
	char err[512];

	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(cfg.admin, 0);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nadmin = yes\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.admin, 1);
	kysod_config_free(&cfg);
	assert_int_equal(load_text(&cfg, "[kysod]\nadmin = off\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.admin, 0);
	kysod_config_free(&cfg);
	expect_error("[kysod]\nadmin = maybe\n", "[kysod] admin", "must be yes or no");
	expect_error("[kysod]\nadmin =\n", "[kysod] admin", "must be yes or no");
	expect_error("[module a]\npath = /x.so\nadmin = yes\n", "[module a] admin", "unknown key");
}

/* ------------------------------------------------------------ errors */

static void test_unknown_key(void **state)
{
	expect_error("[kysod]\nsokcet = /a/b\n", "[kysod] sokcet", "unknown key");
	expect_error("[kysod]\nSocket = /a/b\n", "Socket", "unknown key");
	expect_error("[module a]\npath = /x.so\nfile = /y.so\n", "[module a] file", "unknown key");
}

static void test_unknown_section(void **state)
{
	expect_error("[server]\nport = 80\n", "[server] port", "unknown section");
	expect_error("[Kysod]\nlogin_ttl = 5\n", "[Kysod]", "unknown section");
	expect_error("[module]\npath = /x.so\n", "[module]", "unknown section");
	expect_error("[module ]\npath = /x.so\n", "[module ]", "unknown section");
	expect_error("[modules a]\npath = /x.so\n", "[modules a]", "unknown section");
	/* a key before any section */
	expect_error("login_ttl = 5\n", "login_ttl", "unknown section");
}

static void test_bad_numbers(void **state)
{
	static const char *const keys[] = { "login_ttl", "pin_timeout", "request_timeout" };
	static const char *const bad[] = {
		"-1", "-0", "abc", "12abc", "5s", "1e3", "0x10", "1.5", "", "1 2",
		"99999999999999999999999999", "18446744073709551616", "4294967296",
	};
	char text[128], key[64];
	size_t i, j;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(key, sizeof(key), "[kysod] %s", keys[i]);
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			snprintf(text, sizeof(text), "[kysod]\n%s = %s\n", keys[i], bad[j]);
			expect_error(text, key, "must be a number of seconds");
		}
		/* at most a week */
		snprintf(text, sizeof(text), "[kysod]\n%s = 604801\n", keys[i]);
		expect_error(text, key, "must be a number of seconds");
	}
	expect_error("[kysod]\nrequest_timeout = 0\n", "request_timeout", "at least 1");
	expect_error("[kysod]\nstop_grace = 0\n", "stop_grace", "from 1 to 600");
	expect_error("[kysod]\nstop_grace = 601\n", "stop_grace", "from 1 to 600");
	expect_error("[kysod]\nstop_grace = 2s\n", "stop_grace", "from 1 to 600");
	expect_error("[kysod]\nremoval_timeout = 601\n", "removal_timeout", "from 0 to 600");
	expect_error("[kysod]\nremoval_timeout = -1\n", "removal_timeout", "from 0 to 600");
	for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
		snprintf(text, sizeof(text), "[kysod]\nmax_body = %s\n", bad[j]);
		expect_error(text, "[kysod] max_body", "between 1024 and 67108864");
	}
	expect_error("[kysod]\nmax_body = 1023\n", "max_body", "between 1024 and 67108864");
	expect_error("[kysod]\nmax_body = 0\n", "max_body", "between 1024 and 67108864");
	expect_error("[kysod]\nmax_body = 67108865\n", "max_body", "between 1024 and 67108864");
	expect_ok("[kysod]\nmax_body = 1024\n");
	expect_ok("[kysod]\nlogin_ttl = 0\n");
}

static void test_relative_paths(void **state)
{
	expect_error("[kysod]\nsocket = kyso.sock\n", "[kysod] socket", "absolute path");
	expect_error("[kysod]\nsocket = ./kyso.sock\n", "socket", "absolute path");
	expect_error("[kysod]\nsocket =\n", "socket", "absolute path");
	expect_error("[kysod]\npinentry = pinentry\n", "[kysod] pinentry", "absolute path");
	expect_error("[kysod]\nhelper = ../libexec/kyso-p11\n", "[kysod] helper", "absolute path");
	expect_error("[kysod]\nhelper = ~/kyso-p11\n", "helper", "absolute path");
	/* a module path would be found from kysod's working directory */
	expect_error("[module a]\npath = libsofthsm2.so\n", ":2: [module a] path", "absolute path");
	expect_error("[kysod]\nlogin_ttl = 1\n\n[module b]\npath = ./lib/b.so\n",
		     ":5: [module b] path", "absolute path");
	expect_error("[module c]\npath = ~/c.so\n", "[module c] path", "absolute path");
}

static void test_module_without_path(void **state)
{
	expect_error("[module a]\n", "[module a]", "no path");
	expect_error("[module a]\n; path = /x.so\n", "[module a]", "no path");
	expect_error("[module a]\n[kysod]\nlogin_ttl = 5\n", "[module a]", "no path");
	expect_error("[module a]\npath = /x.so\n[module b]\n", "[module b]", "no path");
	expect_error("[module a]\npath = /x.so\n[module b]\n\n[module c]\npath = /z.so\n",
		     "[module b]", "no path");
}

/* Every error says on which line it is. */
static void test_error_line_numbers(void **state)
{
	expect_error("[kysod]\n\nsokcet = /x\n", ":3: [kysod] sokcet", "unknown key");
	expect_error("; comment\n[kysod]\nlogin_ttl = 1\nmax_body = 1\n", ":4: [kysod] max_body",
		     "between");
	expect_error("[module a]\npath = /x.so\n[module b]\n[kysod]\nlogin_ttl = 1\n",
		     ":3: [module b]", "no path");
	/* the first error counts */
	expect_error("[kysod]\nlogin_ttl = x\nmax_body = x\n", ":2: [kysod] login_ttl", NULL);
	expect_error("[kysod]\nbroken\nmax_body = x\n", ":2: syntax error", NULL);
	expect_error("[kysod]\nmax_body = x\nbroken\n", ":2: [kysod] max_body", NULL);
}

static void test_syntax_error(void **state)
{
	expect_error("[kysod]\nlogin_ttl = 5\nthis line has no equals sign\n", ":3:",
		     "syntax error");
	expect_error("[kysod\nlogin_ttl = 5\n", ":1:", "syntax error");
	expect_error("\n\n\n\n[kysod]\nlogin_ttl 5\n", ":6:", "syntax error");
}

/* A value continued on indented lines is part of it, not a new setting. */
static void test_continued_allow_modules(void **state)
{
	struct kysod_config cfg;
	char err[512];

	if (load_text(&cfg, "[kysod]\nallow_modules = /a/*.so\n  /b/*.so\n\t/c/*.so /d/*.so\n"
			    "login_ttl = 9\n", err, sizeof(err)))
		fail_msg("refused: %s", err);
	if (cfg.n_allow != 4 || !has_pattern(&cfg, "/a/*.so"))
		fail_msg("a continued allow_modules gives %zu patterns, the first %s", cfg.n_allow,
			 cfg.n_allow ? cfg.allow[0] : "");
	assert_string_equal(cfg.allow[0], "/a/*.so");
	assert_string_equal(cfg.allow[1], "/b/*.so");
	assert_string_equal(cfg.allow[2], "/c/*.so");
	assert_string_equal(cfg.allow[3], "/d/*.so");
	assert_int_equal(cfg.login_ttl, 9);
	kysod_config_free(&cfg);

	/* a comment line in between ends nothing; a new allow_modules line starts over */
	assert_int_equal(load_text(&cfg, "[kysod]\nallow_modules = /a/*.so\n  /b/*.so\n"
				   "allow_modules = /e/*.so\n; and\n  /f/*.so\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_allow, 2);
	assert_string_equal(cfg.allow[0], "/e/*.so");
	assert_string_equal(cfg.allow[1], "/f/*.so");
	kysod_config_free(&cfg);

	/* an indented key after a section header is a key, not a continuation */
	assert_int_equal(load_text(&cfg, "[kysod]\n  allow_modules = /g/*.so\n", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.n_allow, 1);
	assert_string_equal(cfg.allow[0], "/g/*.so");
	kysod_config_free(&cfg);
}

/* A line longer than the INI reader takes is refused as such, with its number;
 * up to the limit it is read whole. */
static void test_long_line(void **state)
{
	struct kysod_config cfg;
	char text[1024], err[512];
	size_t i, o;

	o = (size_t)snprintf(text, sizeof(text), "[kysod]\nlogin_ttl = 1\nallow_modules =");
	for (i = 0; i < 12; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " /opt/vendor-%02zu/lib/*.so", i);
	snprintf(text + o, sizeof(text) - o, "\n");
	assert_true(strlen(text) > 250);
	expect_error(text, ":3: line longer than", NULL);

	/* the same list over several lines */
	o = (size_t)snprintf(text, sizeof(text), "[kysod]\nallow_modules =");
	for (i = 0; i < 12; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s/opt/vendor-%02zu/lib/*.so",
				      i % 4 ? " " : "\n  ", i);
	snprintf(text + o, sizeof(text) - o, "\n");
	if (load_text(&cfg, text, err, sizeof(err)))
		fail_msg("refused (%s):\n%s", err, text);
	assert_int_equal(cfg.n_allow, 12);
	assert_string_equal(cfg.allow[0], "/opt/vendor-00/lib/*.so");
	assert_string_equal(cfg.allow[11], "/opt/vendor-11/lib/*.so");
	kysod_config_free(&cfg);

	/* 198 characters and a newline: fits, with or without the newline */
	o = (size_t)snprintf(text, sizeof(text), "[kysod]\nallow_modules = /");
	memset(text + o, 'p', 198 - 17);
	o += 198 - 17;
	text[o] = '\0';
	assert_int_equal(strlen(strrchr(text, '\n') + 1), 198);
	assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_allow, 1);
	assert_int_equal(strlen(cfg.allow[0]), 198 - 16);
	kysod_config_free(&cfg);
	strcat(text, "\n");
	assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(strlen(cfg.allow[0]), 198 - 16);
	kysod_config_free(&cfg);
}

/* The file is read whole: a NUL byte refuses it, a BOM is skipped. */
static void test_nul_and_bom(void **state)
{
	static const char nul[] = "[kysod]\nlogin_ttl = 7\0\nmax_body = 2048\n";
	struct kysod_config cfg;
	char err[512], *path;
	int fd;

	path = write_conf("", 0600);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, nul, sizeof(nul) - 1), (ssize_t)sizeof(nul) - 1);
	close(fd);
	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(kysod_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": holds a NUL byte"));
	assert_int_equal(cfg.login_ttl, 600);
	kysod_config_free(&cfg);
	unlink(path);
	free(path);

	assert_int_equal(load_text(&cfg, "\xef\xbb\xbf[kysod]\nlogin_ttl = 7\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.login_ttl, 7);
	kysod_config_free(&cfg);
	expect_error("\xef\xbb\xbf[module a]\n[kysod]\n", ":1: [module a]", "no path");
}

static void test_missing_file(void **state)
{
	struct kysod_config cfg;
	char err[512];

	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(kysod_config_load(&cfg, "/nonexistent/kysod.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/kysod.conf"));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(cfg.login_ttl, 600);
	kysod_config_free(&cfg);
}

static void test_writable_file_refused(void **state)
{
	static const mode_t bad[] = { 0620, 0602, 0622, 0666, 0660, 0606, 0777 };
	static const mode_t good[] = { 0600, 0400, 0644, 0640, 0604, 0444 };
	const char *text = "[kysod]\nlogin_ttl = 7\n";
	struct kysod_config cfg;
	char err[512], *path;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_conf(text, bad[i]);
		assert_int_equal(kysod_config_defaults(&cfg), 0);
		if (kysod_config_load(&cfg, path, err, sizeof(err)) != -1)
			fail_msg("a file with mode %o is accepted", (unsigned)bad[i]);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "writable"));
		/* nothing was read from it */
		assert_int_equal(cfg.login_ttl, 600);
		kysod_config_free(&cfg);
		unlink(path);
		free(path);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		path = write_conf(text, good[i]);
		assert_int_equal(kysod_config_defaults(&cfg), 0);
		if (kysod_config_load(&cfg, path, err, sizeof(err)))
			fail_msg("a file with mode %o is refused: %s", (unsigned)good[i], err);
		assert_int_equal(cfg.login_ttl, 7);
		kysod_config_free(&cfg);
		unlink(path);
		free(path);
	}
}

static void test_foreign_owner_refused(void **state)
{
	struct kysod_config cfg;
	char err[512], *path;
	uid_t other = getuid() == 4242 ? 4343 : 4242;

	path = write_conf("[kysod]\nlogin_ttl = 7\n", 0600);
	if (chown(path, other, (gid_t)-1)) {
		unlink(path);
		free(path);
		skip();	/* only root can give a file away */
	}
	assert_int_equal(kysod_config_defaults(&cfg), 0);
	assert_int_equal(kysod_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "owned by"));
	assert_int_equal(cfg.login_ttl, 600);
	kysod_config_free(&cfg);
	unlink(path);
	free(path);
}

/* ------------------------------------------------------------ allowlist */

struct tree {
	char dir[PATH_MAX];	/* real path of a temporary directory */
	struct kysod_config cfg;
};

static void touch(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void sub(const struct tree *t, const char *name, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", t->dir, name);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char tmpl[PATH_MAX], path[PATH_MAX], target[PATH_MAX], pattern[PATH_MAX + 32];
	const char *tmp = getenv("TMPDIR");

	if (!t)
		return -1;
	snprintf(tmpl, sizeof(tmpl), "%s/kysod-allow.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl) || !realpath(tmpl, t->dir))
		return -1;
	sub(t, "allowed", path);
	mkdir(path, 0700);
	sub(t, "allowed/sub", path);
	mkdir(path, 0700);
	sub(t, "other", path);
	mkdir(path, 0700);
	touch(t->dir, "allowed/mod.so");
	touch(t->dir, "allowed/sub/deep.so");
	touch(t->dir, "other/mod.so");
	touch(t->dir, "other/spy.so");
	/* a link outside the allowed directory to a module in it */
	sub(t, "allowed/mod.so", target);
	sub(t, "other/link-to-allowed.so", path);
	if (symlink(target, path))
		return -1;
	/* a link inside the allowed directory to a module outside it */
	sub(t, "other/spy.so", target);
	sub(t, "allowed/evil.so", path);
	if (symlink(target, path))
		return -1;
	/* a relative link, and a link to a link */
	sub(t, "other/rel.so", path);
	if (symlink("../allowed/mod.so", path))
		return -1;
	sub(t, "other/link-to-allowed.so", target);
	sub(t, "other/chain.so", path);
	if (symlink(target, path))
		return -1;
	/* a dangling link */
	sub(t, "allowed/gone.so", path);
	if (symlink("/nonexistent/module.so", path))
		return -1;

	if (kysod_config_defaults(&t->cfg))
		return -1;
	/* the allowlist: this one pattern */
	snprintf(pattern, sizeof(pattern), "%s/allowed/*.so", t->dir);
	while (t->cfg.n_allow)
		free(t->cfg.allow[--t->cfg.n_allow]);
	t->cfg.allow[0] = strdup(pattern);
	if (!t->cfg.allow[0])
		return -1;
	t->cfg.n_allow = 1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	static const char *const names[] = {
		"allowed/mod.so", "allowed/sub/deep.so", "other/mod.so", "other/spy.so",
		"other/link-to-allowed.so", "allowed/evil.so", "other/rel.so", "other/chain.so",
		"allowed/gone.so", "allowed/sub", "allowed", "other", "",
	};
	struct tree *t = *state;
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sub(t, names[i], path);
		remove(path);
	}
	kysod_config_free(&t->cfg);
	free(t);
	return 0;
}

static void expect_allowed(const struct tree *t, const char *name, const char *real_name)
{
	char path[PATH_MAX], want[PATH_MAX], resolved[PATH_MAX], err[512];

	sub(t, name, path);
	sub(t, real_name, want);
	if (kysod_module_allowed(&t->cfg, path, resolved, err, sizeof(err)))
		fail_msg("%s refused: %s", path, err);
	assert_string_equal(resolved, want);
}

static void expect_refused(const struct tree *t, const char *name, const char *why)
{
	char path[PATH_MAX], resolved[PATH_MAX], err[512];

	sub(t, name, path);
	if (kysod_module_allowed(&t->cfg, path, resolved, err, sizeof(err)) != -1)
		fail_msg("%s allowed (as %s)", path, resolved);
	if (!strstr(err, why))
		fail_msg("message \"%s\" lacks \"%s\"", err, why);
}

static void test_allow_matching(void **state)
{
	struct tree *t = *state;

	expect_allowed(t, "allowed/mod.so", "allowed/mod.so");
	expect_allowed(t, "allowed/./mod.so", "allowed/mod.so");
	expect_allowed(t, "other/../allowed/mod.so", "allowed/mod.so");
}

static void test_allow_not_matching(void **state)
{
	struct tree *t = *state;

	expect_refused(t, "other/mod.so", "not in allow_modules");
	/* '*' does not cross a '/' */
	expect_refused(t, "allowed/sub/deep.so", "not in allow_modules");
	/* the text of the path does not count, only where it leads */
	expect_refused(t, "allowed/../other/mod.so", "not in allow_modules");
}

static void test_allow_symlinks(void **state)
{
	struct tree *t = *state;

	expect_allowed(t, "other/link-to-allowed.so", "allowed/mod.so");
	expect_allowed(t, "other/rel.so", "allowed/mod.so");
	expect_allowed(t, "other/chain.so", "allowed/mod.so");
	expect_refused(t, "allowed/evil.so", "not in allow_modules");
}

static void test_allow_missing(void **state)
{
	struct tree *t = *state;

	expect_refused(t, "allowed/missing.so", "No such file");
	expect_refused(t, "allowed/gone.so", "No such file");
	expect_refused(t, "nodir/mod.so", "No such file");
}

static void test_allow_empty_list(void **state)
{
	struct tree *t = *state;
	size_t n = t->cfg.n_allow;

	t->cfg.n_allow = 0;
	expect_refused(t, "allowed/mod.so", "not in allow_modules");
	t->cfg.n_allow = n;
}

#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, tree_setup, tree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_without_runtime_dir),
		cmocka_unit_test(test_default_modules_allowed),
		cmocka_unit_test(test_default_modules),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_partial_file_keeps_defaults),
		cmocka_unit_test(test_each_key),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_module_sections),
		cmocka_unit_test(test_crl_fetch),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_module_without_path),
		cmocka_unit_test(test_error_line_numbers),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_continued_allow_modules),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_nul_and_bom),
		cmocka_unit_test(test_writable_file_refused),
		cmocka_unit_test(test_foreign_owner_refused),
		TREE_TEST(test_allow_matching),
		TREE_TEST(test_allow_not_matching),
		TREE_TEST(test_allow_symlinks),
		TREE_TEST(test_allow_missing),
		TREE_TEST(test_allow_empty_list),
	};

	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
