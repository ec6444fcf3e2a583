/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ini-reader.h"
#include "common/log.h"
#include "kysod/config.h"

#define DEFAULT_ALLOW "/usr/lib/*/pkcs11/*.so /usr/lib/*/opensc-pkcs11.so /usr/lib/softhsm/*.so " \
	"/usr/lib/*/softhsm/*.so"

static const char *const opensc_paths[] = {
	"/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so",
	"/usr/lib/aarch64-linux-gnu/pkcs11/opensc-pkcs11.so",
	"/usr/lib/i386-linux-gnu/pkcs11/opensc-pkcs11.so",
	"/usr/lib/pkcs11/opensc-pkcs11.so",
};

#define MAX_CONFIG_SIZE	(1024 * 1024)

struct load_state {
	struct kysod_config *cfg;
	struct kyso_ini *ini;	/* the reader, in its callbacks */
	int failed;
	char pending[64];	/* a [module NAME] header with no key after it yet */
	unsigned int pending_line;
};

static int set_str(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

static void free_allow(struct kysod_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_allow; i++)
		free(cfg->allow[i]);
	free(cfg->allow);
	cfg->allow = NULL;
	cfg->n_allow = 0;
}

/* Replaces the allowlist with the patterns in value, or adds them to it. */
static int set_allow(struct kysod_config *cfg, const char *value, int append)
{
	char *copy = strdup(value), *save = NULL, *tok;
	int ret = -1;

	if (!copy)
		return -1;
	if (!append)
		free_allow(cfg);
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **grown = realloc(cfg->allow, (cfg->n_allow + 1) * sizeof(*grown));

		if (!grown)
			goto out;
		cfg->allow = grown;
		cfg->allow[cfg->n_allow] = strdup(tok);
		if (!cfg->allow[cfg->n_allow])
			goto out;
		cfg->n_allow++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* Replaces the CRL list with the absolute paths in value. Returns 0, 1 for a
 * path that is not absolute, -1 when out of memory. */
static int set_crls(struct kysod_config *cfg, const char *value)
{
	char *copy = strdup(value), *save = NULL, *tok;
	size_t i;
	int ret = -1;

	if (!copy)
		return -1;
	for (i = 0; i < cfg->n_crls; i++)
		free(cfg->crls[i]);
	free(cfg->crls);
	cfg->crls = NULL;
	cfg->n_crls = 0;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **grown;

		if (tok[0] != '/') {
			ret = 1;
			goto out;
		}
		grown = realloc(cfg->crls, (cfg->n_crls + 1) * sizeof(*grown));
		if (!grown)
			goto out;
		cfg->crls = grown;
		cfg->crls[cfg->n_crls] = strdup(tok);
		if (!cfg->crls[cfg->n_crls])
			goto out;
		cfg->n_crls++;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* yes/no, on/off, true/false, 1/0: 1 or 0, -1 for anything else. */
static int parse_bool(const char *value)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(value, yes[i]))
			return 1;
		if (!strcmp(value, no[i]))
			return 0;
	}
	return -1;
}

static int is_http_url(const char *value)
{
	return (!strncmp(value, "http://", 7) && value[7]) ||
	       (!strncmp(value, "https://", 8) && value[8]);
}

static int parse_uint(const char *value, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*value || *value == '-')
		return -1;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int kysod_config_defaults(struct kysod_config *cfg)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *cfg_dir = getenv("XDG_CONFIG_HOME");
	char path[PATH_MAX], audit[PATH_MAX], pairings[PATH_MAX];

	memset(cfg, 0, sizeof(*cfg));
	if (rt && *rt)
		snprintf(path, sizeof(path), "%s/kyso/kyso.sock", rt);
	else
		snprintf(path, sizeof(path), "/run/user/%u/kyso/kyso.sock", (unsigned)getuid());
	if (state && *state)
		snprintf(audit, sizeof(audit), "%s/kyso/audit.log", state);
	else if (home && *home)
		snprintf(audit, sizeof(audit), "%s/.local/state/kyso/audit.log", home);
	else
		snprintf(audit, sizeof(audit), "/var/tmp/kyso-%u/audit.log", (unsigned)getuid());
	cfg->audit_max_size = 64u << 20;
	cfg->max_batch_body = 8u << 20;
	cfg->max_batch_items = 10000;
	cfg->auto_modules = 1;
	cfg->login_ttl = 600;
	cfg->pin_timeout = 60;
	cfg->request_timeout = 120;
	cfg->stop_grace = 3;
	cfg->removal_timeout = 10;
	cfg->max_body = 64 * 1024;
	cfg->log_level = KYSO_LOG_INFO;
	cfg->check_certificates = 1;
	cfg->ocsp = 1;
	cfg->ocsp_timeout = 10;
	cfg->crl_fetch = 1;
	cfg->crl_timeout = 10;
	cfg->tsa_timeout = 30;
	cfg->pairing_cooldown = 600;
	if (cfg_dir && *cfg_dir)
		snprintf(pairings, sizeof(pairings), "%s/kyso/origins", cfg_dir);
	else if (home && *home)
		snprintf(pairings, sizeof(pairings), "%s/.config/kyso/origins", home);
	else
		snprintf(pairings, sizeof(pairings), "/var/tmp/kyso-%u/origins", (unsigned)getuid());
	if (set_str(&cfg->socket_path, path) || set_str(&cfg->pinentry, "/usr/bin/pinentry") ||
	    set_str(&cfg->helper, LIBEXECDIR "/kyso-p11") || set_str(&cfg->audit_log, audit) ||
	    set_str(&cfg->catalogue, KYSO_TOKENS_DIR) ||
	    set_str(&cfg->origins_dir, SYSCONFDIR "/kyso/origins.d") ||
	    set_str(&cfg->pairings, pairings) ||
	    set_allow(cfg, DEFAULT_ALLOW, 0))
		return -1;
	return 0;
}

static struct kysod_module_conf *module_section(struct kysod_config *cfg, const char *name)
{
	struct kysod_module_conf *grown;
	size_t i;

	for (i = 0; i < cfg->n_modules; i++)
		if (!strcmp(cfg->modules[i].name, name))
			return &cfg->modules[i];
	grown = realloc(cfg->modules, (cfg->n_modules + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	cfg->modules = grown;
	memset(&grown[cfg->n_modules], 0, sizeof(*grown));
	grown[cfg->n_modules].name = strdup(name);
	if (!grown[cfg->n_modules].name)
		return NULL;
	return &cfg->modules[cfg->n_modules++];
}

static int bad_key(struct load_state *st, const char *section, const char *name, const char *why)
{
	st->failed = 1;
	return kyso_ini_fail(st->ini, "[%s] %s: %s", section, name, why);
}

/* The keys of the certificate checks and of timestamps, in [kysod]. */
static int checks_key(struct load_state *st, const char *name, const char *value)
{
	struct kysod_config *cfg = st->cfg;
	unsigned long v;
	int b;

	if (!strcmp(name, "check_certificates")) {
		if (strcmp(value, "strict") && strcmp(value, "off"))
			return bad_key(st, "kysod", name, "must be strict or off");
		cfg->check_certificates = !strcmp(value, "strict");
		return 1;
	}
	if (!strcmp(name, "ca_bundle")) {
		if (value[0] != '/')
			return bad_key(st, "kysod", name, "must be an absolute path");
		if (access(value, R_OK))
			return bad_key(st, "kysod", name, "cannot be read");
		if (set_str(&cfg->ca_bundle, value))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "crl")) {
		switch (set_crls(cfg, value)) {
		case 0:
			return 1;
		case 1:
			return bad_key(st, "kysod", name, "must be absolute paths");
		default:
			return bad_key(st, "kysod", name, "out of memory");
		}
	}
	if (!strcmp(name, "ocsp") || !strcmp(name, "revocation_soft_fail") ||
	    !strcmp(name, "crl_fetch")) {
		b = parse_bool(value);
		if (b < 0)
			return bad_key(st, "kysod", name, "must be yes or no (on or off)");
		if (name[0] == 'o')
			cfg->ocsp = b;
		else if (name[0] == 'c')
			cfg->crl_fetch = b;
		else
			cfg->revocation_soft_fail = b;
		return 1;
	}
	if (!strcmp(name, "ocsp_url") || !strcmp(name, "tsa_url")) {
		if (!is_http_url(value))
			return bad_key(st, "kysod", name, "must be an http:// or https:// URL");
		if (set_str(name[0] == 'o' ? &cfg->ocsp_url : &cfg->tsa_url, value))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "ocsp_timeout") || !strcmp(name, "tsa_timeout") ||
	    !strcmp(name, "crl_timeout")) {
		if (parse_uint(value, 600, &v) || v == 0)
			return bad_key(st, "kysod", name, "must be 1 to 600 seconds");
		if (name[0] == 'o')
			cfg->ocsp_timeout = (unsigned int)v;
		else if (name[0] == 'c')
			cfg->crl_timeout = (unsigned int)v;
		else
			cfg->tsa_timeout = (unsigned int)v;
		return 1;
	}
	return bad_key(st, "kysod", name, "unknown key");
}

/* The keys of the loopback listener, in [kysod]; 0 when name is not one. */
static int listen_key(struct load_state *st, const char *name, const char *value)
{
	struct kysod_config *cfg = st->cfg;
	unsigned long first, last;
	char *end;
	int b;

	if (!strcmp(name, "listen")) {
		b = parse_bool(value);
		if (b >= 0) {
			cfg->listen_port = b ? KYSO_LISTEN_PORT : 0;
			cfg->listen_ports = b ? KYSO_LISTEN_PORTS : 0;
			return 1;
		}
		errno = 0;
		first = strtoul(value, &end, 10);
		last = first;
		if (!errno && *end == '-' && end > value)
			last = strtoul(end + 1, &end, 10);
		if (errno || *end || !isdigit((unsigned char)value[0]) || first < 1024 ||
		    last > 65535 || last < first || last - first >= 64)
			return bad_key(st, "kysod", name,
				       "must be yes, no, a port (1024 to 65535) or a range of at most "
				       "64 ports (FIRST-LAST)");
		cfg->listen_port = (unsigned int)first;
		cfg->listen_ports = (unsigned int)(last - first + 1);
		return 1;
	}
	if (!strcmp(name, "origins_dir") || !strcmp(name, "pairings")) {
		if (value[0] != '/')
			return bad_key(st, "kysod", name, "must be an absolute path");
		if (set_str(name[0] == 'o' ? &cfg->origins_dir : &cfg->pairings, value))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "pairing_cooldown")) {
		if (parse_uint(value, 7 * 24 * 3600, &first) || first == 0)
			return bad_key(st, "kysod", name, "must be a number of seconds, at least 1");
		cfg->pairing_cooldown = (unsigned int)first;
		return 1;
	}
	return 0;
}

/* continued: this line is an indented continuation of the key above it (inih
 * then passes that key's name). */
static int kysod_key(struct load_state *st, const char *name, const char *value, int continued)
{
	struct kysod_config *cfg = st->cfg;
	unsigned long v;
	int level;

	if (!strcmp(name, "socket") || !strcmp(name, "pinentry") || !strcmp(name, "helper") ||
	    !strcmp(name, "audit_log")) {
		char **dst = name[0] == 's' ? &cfg->socket_path :
			     name[0] == 'p' ? &cfg->pinentry :
			     name[0] == 'a' ? &cfg->audit_log : &cfg->helper;

		if (value[0] != '/')
			return bad_key(st, "kysod", name, "must be an absolute path");
		if (set_str(dst, value))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "allow_modules")) {
		/* an indented line goes on with the list of the line above it */
		if (set_allow(cfg, value, continued))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "log_level")) {
		level = kyso_log_level_parse(value);
		if (level < 0)
			return bad_key(st, "kysod", name, "must be error, warning, info or debug");
		cfg->log_level = level;
		return 1;
	}
	if (!strcmp(name, "login_ttl") || !strcmp(name, "pin_timeout") ||
	    !strcmp(name, "request_timeout")) {
		if (parse_uint(value, 7 * 24 * 3600, &v))
			return bad_key(st, "kysod", name, "must be a number of seconds");
		if (!strcmp(name, "login_ttl"))
			cfg->login_ttl = (unsigned int)v;
		else if (!strcmp(name, "pin_timeout"))
			cfg->pin_timeout = (unsigned int)v;
		else if (v == 0)
			return bad_key(st, "kysod", name, "must be at least 1");
		else
			cfg->request_timeout = (unsigned int)v;
		return 1;
	}
	if (!strcmp(name, "removal_timeout")) {
		if (parse_uint(value, 600, &v))
			return bad_key(st, "kysod", name, "must be a number of seconds from 0 to 600");
		cfg->removal_timeout = (unsigned int)v;
		return 1;
	}
	if (!strcmp(name, "stop_grace")) {
		if (parse_uint(value, 600, &v) || v == 0)
			return bad_key(st, "kysod", name, "must be a number of seconds from 1 to 600");
		cfg->stop_grace = (unsigned int)v;
		return 1;
	}
	if (!strcmp(name, "catalogue")) {
		if (*value && value[0] != '/')
			return bad_key(st, "kysod", name, "must be an absolute path, or empty for none");
		if (set_str(&cfg->catalogue, value))
			return bad_key(st, "kysod", name, "out of memory");
		return 1;
	}
	if (!strcmp(name, "auto_modules")) {
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			cfg->auto_modules = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			cfg->auto_modules = 0;
		else
			return bad_key(st, "kysod", name, "must be yes or no");
		return 1;
	}
	if (!strcmp(name, "admin")) {
		cfg->admin = parse_bool(value);
		if (cfg->admin < 0) {
			cfg->admin = 0;
			return bad_key(st, "kysod", name, "must be yes or no");
		}
		return 1;
	}
	if (!strcmp(name, "audit_max_size")) {
		if (parse_uint(value, 1UL << 40, &v) || (v && v < 4096))
			return bad_key(st, "kysod", name, "must be 0 or at least 4096 bytes");
		cfg->audit_max_size = v;
		return 1;
	}
	if (!strcmp(name, "max_batch_body")) {
		if (parse_uint(value, 256UL << 20, &v) || v < 1024)
			return bad_key(st, "kysod", name, "must be between 1024 and 268435456 bytes");
		cfg->max_batch_body = v;
		return 1;
	}
	if (!strcmp(name, "max_batch_items")) {
		if (parse_uint(value, 100000, &v) || v < 1)
			return bad_key(st, "kysod", name, "must be between 1 and 100000");
		cfg->max_batch_items = (unsigned int)v;
		return 1;
	}
	if (!strcmp(name, "max_body")) {
		if (parse_uint(value, 64UL << 20, &v) || v < 1024)
			return bad_key(st, "kysod", name, "must be between 1024 and 67108864 bytes");
		cfg->max_body = v;
		return 1;
	}
	/* 1: taken; 0: not one of its keys, unless it failed it */
	if (listen_key(st, name, value) || st->failed)
		return !st->failed;
	return checks_key(st, name, value);
}

static int config_line(struct kyso_ini *ini, void *user, const char *section, const char *name,
		       const char *value)
{
	struct load_state *st = user;
	struct kysod_module_conf *mod;

	st->ini = ini;
	st->pending[0] = '\0';
	if (!strcmp(section, "kysod"))
		return kysod_key(st, name, value, kyso_ini_continued(ini));
	if (!strncmp(section, "module ", 7) && section[7]) {
		unsigned long v;

		mod = module_section(st->cfg, section + 7);
		if (!mod)
			return bad_key(st, section, name, "out of memory");
		if (!strcmp(name, "workers")) {
			if (parse_uint(value, 16, &v) || v < 1)
				return bad_key(st, section, name, "must be between 1 and 16");
			mod->workers = (unsigned int)v;
			return 1;
		}
		if (strcmp(name, "path"))
			return bad_key(st, section, name, "unknown key");
		/* relative, it would be found from wherever kysod was started */
		if (value[0] != '/')
			return bad_key(st, section, name, "must be an absolute path");
		if (set_str(&mod->path, value))
			return bad_key(st, section, name, "out of memory");
		return 1;
	}
	return bad_key(st, section, name, "unknown section");
}

/* inih gives keys, never sections: a [module NAME] header is noted as it is
 * read, and when the next header or the end of the file (section NULL) comes
 * before any key (config_line clears the note), that module has no path. */
static int config_section(struct kyso_ini *ini, void *user, const char *section)
{
	struct load_state *st = user;

	st->ini = ini;
	if (st->pending[0]) {
		st->failed = 1;
		return kyso_ini_fail_at(ini, st->pending_line, "[module %s] has no path",
					st->pending);
	}
	if (section && !strncmp(section, "module ", 7) && section[7]) {
		snprintf(st->pending, sizeof(st->pending), "%s", section + 7);
		st->pending_line = kyso_ini_line(ini);
	}
	return 1;
}

int kysod_config_load(struct kysod_config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_state st = { .cfg = cfg };
	const struct kyso_ini_parser parser = {
		.file = path,
		.max_size = MAX_CONFIG_SIZE,
		.on_key = config_line,
		.on_section = config_section,
		.user = &st,
	};
	struct stat sb;
	size_t i;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) || (sb.st_uid != 0 && sb.st_uid != getuid()) ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: must be owned by root or you, and writable by neither group nor others (chmod go-w)",
			 path);
		close(fd);
		return -1;
	}
	rc = kyso_ini_parse_fd(&parser, fd, err, errlen);
	close(fd);
	if (rc)
		return -1;
	for (i = 0; i < cfg->n_modules; i++) {
		if (!cfg->modules[i].path) {
			snprintf(err, errlen, "%s: [module %s] has no path", path,
				 cfg->modules[i].name);
			return -1;
		}
	}
	return 0;
}

int kysod_config_default_modules(struct kysod_config *cfg)
{
	struct kysod_module_conf *mod;
	size_t i;

	if (cfg->n_modules)
		return 0;
	for (i = 0; i < sizeof(opensc_paths) / sizeof(opensc_paths[0]); i++) {
		if (access(opensc_paths[i], R_OK))
			continue;
		mod = module_section(cfg, "opensc");
		if (!mod || set_str(&mod->path, opensc_paths[i]))
			return -1;
		break;
	}
	return 0;
}

int kysod_module_allowed(const struct kysod_config *cfg, const char *path, char *resolved,
			 char *err, size_t errlen)
{
	size_t i;

	if (!realpath(path, resolved)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < cfg->n_allow; i++)
		if (fnmatch(cfg->allow[i], resolved, FNM_PATHNAME) == 0)
			return 0;
	snprintf(err, errlen, "%s (%s) is not in allow_modules", path, resolved);
	return -1;
}

void kysod_config_free(struct kysod_config *cfg)
{
	size_t i;

	free(cfg->socket_path);
	free(cfg->pinentry);
	free(cfg->helper);
	free(cfg->audit_log);
	free(cfg->catalogue);
	free(cfg->ca_bundle);
	free(cfg->ocsp_url);
	free(cfg->tsa_url);
	free(cfg->origins_dir);
	free(cfg->pairings);
	for (i = 0; i < cfg->n_crls; i++)
		free(cfg->crls[i]);
	free(cfg->crls);
	free_allow(cfg);
	for (i = 0; i < cfg->n_modules; i++) {
		free(cfg->modules[i].name);
		free(cfg->modules[i].path);
	}
	free(cfg->modules);
	memset(cfg, 0, sizeof(*cfg));
}
