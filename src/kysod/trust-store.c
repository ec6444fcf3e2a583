/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "kysod/trust-store.h"

static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trust *current;	/* the last one loaded, with one reference of its own */

/* FNV-1a over what identifies a file's version: a change of any file (or of
 * a directory's list) gives another stamp. */
static void stamp_add(unsigned long long *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 1099511628211ULL;
	}
}

static void stamp_file(unsigned long long *h, const char *path, const struct stat *sb)
{
	stamp_add(h, path, strlen(path) + 1);
	stamp_add(h, &sb->st_ino, sizeof(sb->st_ino));
	stamp_add(h, &sb->st_size, sizeof(sb->st_size));
	stamp_add(h, &sb->st_mtim, sizeof(sb->st_mtim));
	stamp_add(h, &sb->st_ctim, sizeof(sb->st_ctim));
}

typedef int (*file_fn)(void *opaque, const char *path, int in_dir);

/* Calls fn for path, or for each regular file in it when it is a directory
 * (not recursing, skipping names that start with a dot). Adds each file to
 * the stamp. Returns -1 when path itself cannot be read. */
static int each_file(const char *path, unsigned long long *h, file_fn fn, void *opaque)
{
	struct dirent *de;
	struct stat sb;
	char sub[PATH_MAX];
	DIR *dir;

	if (stat(path, &sb)) {
		stamp_add(h, path, strlen(path) + 1);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		stamp_file(h, path, &sb);
		if (fn)
			fn(opaque, path, 0);
		return 0;
	}
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		if (stat(sub, &sb) || !S_ISREG(sb.st_mode))
			continue;
		stamp_file(h, sub, &sb);
		if (fn)
			fn(opaque, sub, 1);
	}
	closedir(dir);
	return 0;
}

static unsigned long long stamp_of(const struct kysod_config *cfg)
{
	unsigned long long h = 14695981039346656037ULL;
	size_t i;

	if (cfg->ca_bundle)
		each_file(cfg->ca_bundle, &h, NULL, NULL);
	for (i = 0; i < cfg->n_crls; i++)
		each_file(cfg->crls[i], &h, NULL, NULL);
	return h;
}

int trust_read_certs(const char *path, STACK_OF(X509) *out)
{
	BIO *bio = BIO_new_file(path, "rb");
	X509 *x;
	int n = 0;

	if (!bio)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			break;
		}
		n++;
	}
	if (n == 0 && BIO_reset(bio) == 0 && (x = d2i_X509_bio(bio, NULL))) {
		if (sk_X509_push(out, x))
			n++;
		else
			X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	return n;
}

static int read_crls(const char *path, STACK_OF(X509_CRL) *out)
{
	BIO *bio = BIO_new_file(path, "rb");
	X509_CRL *crl;
	int n = 0;

	if (!bio)
		return -1;
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL))) {
		if (!sk_X509_CRL_push(out, crl)) {
			X509_CRL_free(crl);
			break;
		}
		n++;
	}
	if (n == 0 && BIO_reset(bio) == 0 && (crl = d2i_X509_CRL_bio(bio, NULL))) {
		if (sk_X509_CRL_push(out, crl))
			n++;
		else
			X509_CRL_free(crl);
	}
	ERR_clear_error();
	BIO_free(bio);
	return n;
}

static int add_cert_file(void *opaque, const char *path, int in_dir)
{
	struct trust *t = opaque;
	int n = trust_read_certs(path, t->certs);

	if (n <= 0 && !in_dir && !t->error[0])
		snprintf(t->error, sizeof(t->error), "the CA bundle %s holds no certificate", path);
	else if (n <= 0)
		log_debug("CA bundle: %s is not a certificate file; skipped", path);
	return 0;
}

static int add_crl_file(void *opaque, const char *path, int in_dir)
{
	struct trust *t = opaque;
	int n = read_crls(path, t->crls);

	if (n <= 0 && !in_dir && !t->crl_error[0])
		snprintf(t->crl_error, sizeof(t->crl_error), "the CRL file %s holds no CRL", path);
	else if (n <= 0)
		log_debug("CRL directory: %s is not a CRL file; skipped", path);
	return 0;
}

static void trust_free(struct trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->certs, X509_free);
	sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
	free(t);
}

static struct trust *trust_load(const struct kysod_config *cfg, unsigned long long stamp)
{
	unsigned long long ignored = 0;
	struct trust *t = calloc(1, sizeof(*t));
	size_t i;
	int k;

	if (!t)
		return NULL;
	t->stamp = stamp;
	t->certs = sk_X509_new_null();
	t->crls = sk_X509_CRL_new_null();
	if (!t->certs || !t->crls)
		goto fail;
	if (cfg->ca_bundle) {
		t->store = X509_STORE_new();
		if (!t->store)
			goto fail;
		if (each_file(cfg->ca_bundle, &ignored, add_cert_file, t))
			snprintf(t->error, sizeof(t->error), "the CA bundle %s cannot be read: %s",
				 cfg->ca_bundle, strerror(errno));
		for (k = 0; k < sk_X509_num(t->certs); k++)
			X509_STORE_add_cert(t->store, sk_X509_value(t->certs, k));
		ERR_clear_error();
		if (!t->error[0] && sk_X509_num(t->certs) == 0)
			snprintf(t->error, sizeof(t->error), "the CA bundle %s holds no certificate",
				 cfg->ca_bundle);
		if (t->error[0])
			log_error("%s", t->error);
		else
			log_info("CA bundle %s: %d certificates", cfg->ca_bundle,
				 sk_X509_num(t->certs));
	}
	for (i = 0; i < cfg->n_crls; i++) {
		if (each_file(cfg->crls[i], &ignored, add_crl_file, t) && !t->crl_error[0])
			snprintf(t->crl_error, sizeof(t->crl_error), "the CRL file %s cannot be read: %s",
				 cfg->crls[i], strerror(errno));
	}
	if (t->crl_error[0])
		log_error("%s", t->crl_error);
	else if (cfg->n_crls)
		log_info("CRLs: %d loaded", sk_X509_CRL_num(t->crls));
	return t;
fail:
	trust_free(t);
	return NULL;
}

struct trust *trust_get(const struct kysod_config *cfg)
{
	unsigned long long stamp;
	struct trust *t;

	pthread_mutex_lock(&trust_lock);
	stamp = stamp_of(cfg);
	if (!current || current->stamp != stamp) {
		t = trust_load(cfg, stamp);
		if (t) {
			t->refs = 1;
			if (current && --current->refs == 0)
				trust_free(current);
			current = t;
		}
	}
	t = current;
	if (t)
		t->refs++;
	pthread_mutex_unlock(&trust_lock);
	return t;
}

void trust_put(struct trust *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&trust_lock);
	if (--t->refs == 0)
		trust_free(t);
	pthread_mutex_unlock(&trust_lock);
}
