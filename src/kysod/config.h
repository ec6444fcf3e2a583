/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kysod's configuration: defaults, the INI file, and the module allowlist. */
#ifndef KYSOD_CONFIG_H
#define KYSOD_CONFIG_H
#include <stddef.h>

struct kysod_module_conf {
	char *name;
	char *path;
	unsigned int workers;	/* threads per token in its helper; 0 = default (1) */
};

struct kysod_config {
	char *socket_path;
	char *pinentry;
	char *helper;
	char *audit_log;
	char *catalogue;		/* token catalogue directory; "" for none */
	int auto_modules;		/* start the catalogue's module for inserted cards */
	int admin;			/* the /v1/admin routes (provisioning) are served */
	size_t audit_max_size;		/* bytes; 0 = never rotate */
	size_t max_batch_body;		/* bytes, for POST /v1/sign/batch */
	unsigned int max_batch_items;
	char **allow;			/* fnmatch patterns over a module's realpath */
	size_t n_allow;
	unsigned int login_ttl;		/* seconds after last use */
	unsigned int pin_timeout;	/* seconds */
	unsigned int request_timeout;	/* seconds */
	unsigned int stop_grace;	/* seconds a helper has to end, then after SIGTERM */
	unsigned int removal_timeout;	/* seconds a helper has to rescan after a card left; 0 off */
	size_t max_body;		/* bytes */
	int log_level;
	/* certificate checks before signing, and timestamps */
	int check_certificates;		/* 1 strict (default), 0 off */
	char *ca_bundle;		/* file or directory of CA certificates; NULL: no chain check */
	char **crls;			/* CRL files or directories */
	size_t n_crls;
	int crl_fetch;			/* fetch CRLs from the certificates' CDPs (default 1) */
	unsigned int crl_timeout;	/* seconds, for each CRL fetch */
	int ocsp;			/* ask OCSP responders (default 1) */
	char *ocsp_url;			/* NULL: the certificate's AIA */
	unsigned int ocsp_timeout;	/* seconds */
	int revocation_soft_fail;	/* an unknown revocation status does not refuse */
	char *tsa_url;			/* RFC 3161 time-stamp authority; NULL: none */
	unsigned int tsa_timeout;	/* seconds */
	/* the loopback listener for web pages (listen-tcp.c, browser.c) */
	unsigned int listen_port;	/* the first port tried; 0: no listener */
	unsigned int listen_ports;	/* how many ports from it are tried */
	char *origins_dir;		/* the administrator's allowed origins */
	char *pairings;			/* the user's paired origins */
	unsigned int pairing_cooldown;	/* seconds a refused origin gets no dialog */
	struct kysod_module_conf *modules;
	size_t n_modules;
};

/* The loopback listener's default port, and how many ports from it
 * `listen = yes` tries: each user's kysod takes the first one free. */
#define KYSO_LISTEN_PORT 24960
#define KYSO_LISTEN_PORTS 8

/* Fills cfg with the built-in defaults. Returns 0 or -1 (out of memory). */
int kysod_config_defaults(struct kysod_config *cfg);

/* Reads path over the values already in cfg. Refuses a file that others may
 * write. Returns 0, or -1 with a reason in err. */
int kysod_config_load(struct kysod_config *cfg, const char *path, char *err, size_t errlen);

/* Without any [module] section: the OpenSC module, when installed. */
int kysod_config_default_modules(struct kysod_config *cfg);

/* Resolves path and checks it against the allowlist. On success resolved
 * (PATH_MAX bytes) holds the real path and 0 is returned; else -1 and err. */
int kysod_module_allowed(const struct kysod_config *cfg, const char *path, char *resolved,
			 char *err, size_t errlen);

void kysod_config_free(struct kysod_config *cfg);

#endif
