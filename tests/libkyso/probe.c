/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkyso-probe: calls libkyso the way an application does and prints
 * what it answered, one fact per line, for tests/integration/t-libkyso.sh
 * (which checks the lines and every signature with openssl).  It talks to
 * the kysod of $KYSO_SOCKET.
 *
 *   libkyso-probe sizes CERT HASHHEX DIR    parameter structures of wrong
 *       sizes (each "NAME CODE INDEX"), and of right ones: DIR/init.sig,
 *       DIR/tail-zero.sig
 *   libkyso-probe sign CERT HASHHEX raw|cms|pades FILE
 *   libkyso-probe verify raw|cms CERT|FILE|- HASHHEX SIGFILE
 *   libkyso-probe batch CERT DIR HASHHEX...  DIR/<id>.sig per signed item
 *   libkyso-probe batch-cancel CERT HASHHEX...   cancelled in its dialog
 *
 * Exit status: 0 when the calls went as the lines say, 1 on an error.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <kyso/kyso.h>

#define MAX_ITEMS 16

static struct kyso_client *client;

static void usage(void)
{
	fprintf(stderr, "usage: libkyso-probe sizes|sign|verify|batch|batch-cancel ...\n");
	exit(2);
}

static int hex_to_bytes(const char *hex, unsigned char *out, size_t size)
{
	size_t len = strlen(hex), i;
	unsigned int v;

	if (len % 2 || len / 2 > size)
		return -1;
	for (i = 0; i < len / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(len / 2);
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	if (fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* The whole file at path, in a new buffer with a NUL after its *len bytes. */
static unsigned char *read_file(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static void say_error(const char *name, const struct kyso_error *err)
{
	printf("%s %s %ld\n", name, err->code[0] ? err->code : "ok", err->index);
}

/* One kyso_sign() with the parameter bytes given (struct_size first). */
static int sign_raw_params(const char *name, const void *params, const char *dir)
{
	struct kyso_signature *sig = NULL;
	struct kyso_error err;
	char path[4096];
	int ret;

	ret = kyso_sign(client, params, &sig, &err);
	say_error(name, &err);
	if (ret == 0 && dir) {
		snprintf(path, sizeof(path), "%s/%s.sig", dir, name);
		ret = write_file(path, sig->data, sig->len);
	}
	kyso_signature_free(sig);
	return ret;
}

/* p for a SHA-256 hash given in hex (into hash, 64 bytes). */
static void sign_params(struct kyso_sign_params *p, const char *cert, const char *hashhex,
			unsigned char *hash)
{
	int n = hex_to_bytes(hashhex, hash, 64);

	if (n <= 0)
		usage();
	p->certificate = cert;
	p->hash = hash;
	p->hash_len = (size_t)n;
	p->hash_alg = KYSO_HASH_SHA256;
}

static int do_sizes(const char *cert, const char *hashhex, const char *dir)
{
	struct kyso_sign_params p = KYSO_SIGN_PARAMS_INIT;
	struct kyso_batch_params b = KYSO_BATCH_PARAMS_INIT;
	struct kyso_batch_item items[3] = {
		KYSO_BATCH_ITEM_INIT, KYSO_BATCH_ITEM_INIT, KYSO_BATCH_ITEM_INIT,
	};
	struct kyso_verify_params v = KYSO_VERIFY_PARAMS_INIT;
	struct kyso_batch_result *br = NULL;
	struct kyso_verify_result *vr = NULL;
	struct kyso_error err;
	/* a caller built against a later kyso.h: its structure is longer */
	struct {
		struct kyso_sign_params p;
		unsigned char later[16];
	} longer;
	unsigned char hash[64];
	int i, bad = 0;

	sign_params(&p, cert, hashhex, hash);

	p.struct_size = 0;
	bad |= sign_raw_params("sign-size-0", &p, NULL) == 0;
	p.struct_size = offsetof(struct kyso_sign_params, timestamp);
	bad |= sign_raw_params("sign-size-short", &p, NULL) == 0;
	p.struct_size = 1u << 20;
	bad |= sign_raw_params("sign-size-huge", &p, NULL) == 0;
	memset(&longer, 0, sizeof(longer));
	longer.p = p;
	longer.p.struct_size = sizeof(longer);
	longer.later[3] = 1;
	bad |= sign_raw_params("sign-later-field-set", &longer, NULL) == 0;

	for (i = 0; i < 3; i++) {
		items[i].id = i == 0 ? "a" : i == 1 ? "b" : "c";
		items[i].hash = hash;
		items[i].hash_len = p.hash_len;
	}
	b.certificate = cert;
	b.hash_alg = KYSO_HASH_SHA256;
	b.items = items;
	b.nitems = 3;
	b.struct_size = 0;
	kyso_sign_batch(client, &b, &br, &err);
	say_error("batch-size-0", &err);
	b.struct_size = sizeof(b);
	items[0].struct_size = 0;
	kyso_sign_batch(client, &b, &br, &err);
	say_error("batch-item0-size-0", &err);
	items[0].struct_size = sizeof(items[0]);
	items[2].struct_size = sizeof(items[2]) + 8;
	kyso_sign_batch(client, &b, &br, &err);
	say_error("batch-item2-size", &err);
	bad |= br != NULL;

	v.struct_size = 0;
	kyso_verify(client, &v, &vr, &err);
	say_error("verify-size-0", &err);
	bad |= vr != NULL;

	/* right sizes: signed */
	/* a caller built against the first kyso.h (no profile): as before */
	p.struct_size = offsetof(struct kyso_sign_params, profile);
	bad |= sign_raw_params("sign-size-first", &p, dir) != 0;
	p.struct_size = sizeof(p);
	bad |= sign_raw_params("init", &p, dir) != 0;
	longer.later[3] = 0;
	bad |= sign_raw_params("tail-zero", &longer, dir) != 0;
	return bad;
}

static int do_sign(const char *cert, const char *hashhex, const char *format, const char *path)
{
	struct kyso_sign_params p = KYSO_SIGN_PARAMS_INIT;
	struct kyso_signature *sig = NULL;
	struct kyso_error err;
	unsigned char hash[64];
	int ret;

	sign_params(&p, cert, hashhex, hash);
	p.format = strcmp(format, "cms") && strcmp(format, "pades") ? KYSO_FORMAT_RAW :
								     KYSO_FORMAT_CMS;
	if (!strcmp(format, "pades"))
		p.profile = KYSO_PROFILE_PADES;
	ret = kyso_sign(client, &p, &sig, &err);
	if (ret == 0) {
		printf("algorithm %s\nformat %s\n", sig->algorithm, sig->format);
		ret = write_file(path, sig->data, sig->len);
	} else {
		say_error("sign", &err);
	}
	kyso_signature_free(sig);
	return ret ? 1 : 0;
}

static const char *check_name(enum kyso_check_result r)
{
	switch (r) {
	case KYSO_CHECK_OK:
		return "ok";
	case KYSO_CHECK_FAILED:
		return "failed";
	case KYSO_CHECK_SKIPPED:
		return "skipped";
	case KYSO_CHECK_UNKNOWN:
		return "unknown";
	case KYSO_CHECK_NONE:
		break;
	}
	return "none";
}

static int do_verify(const char *format, const char *cert, const char *hashhex,
		     const char *sigpath)
{
	struct kyso_verify_params v = KYSO_VERIFY_PARAMS_INIT;
	struct kyso_verify_result *r = NULL;
	unsigned char hash[64], *sig, *certdata = NULL;
	struct kyso_error err;
	size_t siglen, certlen;
	struct stat st;
	int n, ret;
	size_t i;

	n = hex_to_bytes(hashhex, hash, sizeof(hash));
	sig = read_file(sigpath, &siglen);
	if (n < 0 || !sig)
		usage();
	v.format = strcmp(format, "cms") ? KYSO_FORMAT_RAW : KYSO_FORMAT_CMS;
	v.signature = sig;
	v.signature_len = siglen;
	v.hash = hash;
	v.hash_len = (size_t)n;
	v.hash_alg = KYSO_HASH_SHA256;
	if (strcmp(cert, "-") && stat(cert, &st) == 0) {
		certdata = read_file(cert, &certlen);
		if (!certdata)
			usage();
		if (!strncmp((const char *)certdata, "-----BEGIN", 10)) {
			v.certificate = (const char *)certdata;
		} else {
			v.certificate_der = certdata;
			v.certificate_der_len = certlen;
		}
	} else if (strcmp(cert, "-")) {
		v.certificate = cert;
	}
	ret = kyso_verify(client, &v, &r, &err);
	if (ret) {
		say_error("verify", &err);
		printf("http_status %ld\nfield %s\n", err.http_status, err.field);
		goto out;
	}
	printf("valid %d\nstatus %s %d\nreason %s\nformat %s\nalgorithm %s\n", r->valid,
	       r->status_name, r->status, r->reason, r->format, r->algorithm);
	printf("chain %s\nrevocation %s\n", check_name(r->chain), check_name(r->revocation));
	if (r->signer)
		printf("signer %s\nsigner_cn %s\nkey %s %ld\n", r->signer->id, r->signer->subject_cn,
		       r->signer->key_type, r->signer->key_bits);
	printf("checks");
	for (i = 0; i < r->nchecks; i++)
		printf(" %s=%s", r->checks[i]->check, check_name(r->checks[i]->result));
	printf("\njson %zu\n", strlen(r->json));
out:
	kyso_verify_result_free(r);
	free(certdata);
	free(sig);
	return ret ? 1 : 0;
}

/* Items from HASHHEX arguments: ids "rec-0", "rec-1"... */
static int make_items(int argc, char **argv, struct kyso_batch_item *items, char ids[][16],
		      unsigned char hashes[][64])
{
	int i, n;

	if (argc < 1 || argc > MAX_ITEMS)
		usage();
	for (i = 0; i < argc; i++) {
		n = hex_to_bytes(argv[i], hashes[i], 64);
		if (n < 0)
			usage();
		items[i] = (struct kyso_batch_item)KYSO_BATCH_ITEM_INIT;
		snprintf(ids[i], 16, "rec-%d", i);
		items[i].id = ids[i];
		items[i].hash = hashes[i];
		items[i].hash_len = (size_t)n;
	}
	return argc;
}

static void print_result(const struct kyso_batch_result *r)
{
	const struct kyso_batch_result_item *it;
	size_t i;

	printf("total %zu signed %zu failed %zu cancelled %d\n", r->total, r->nsigned,
	       r->nfailed, r->cancelled);
	for (i = 0; i < r->nitems; i++) {
		it = r->items[i];
		printf("item %zu %s %s %ld\n", it->index, it->id,
		       it->signature ? "signed" : it->error.code, it->error.index);
	}
}

static int do_batch(const char *cert, const char *dir, int argc, char **argv)
{
	struct kyso_batch_params b = KYSO_BATCH_PARAMS_INIT;
	struct kyso_batch_item items[MAX_ITEMS];
	struct kyso_batch_result *r = NULL;
	unsigned char hashes[MAX_ITEMS][64];
	char ids[MAX_ITEMS][16], path[4096];
	struct kyso_error err;
	int ret;
	size_t i;

	b.certificate = cert;
	b.hash_alg = KYSO_HASH_SHA256;
	b.items = items;
	b.nitems = (size_t)make_items(argc, argv, items, ids, hashes);
	ret = kyso_sign_batch(client, &b, &r, &err);
	if (ret) {
		say_error("batch", &err);
		printf("http_status %ld\nfield %s\n", err.http_status, err.field);
		return 1;
	}
	print_result(r);
	for (i = 0; i < r->nitems; i++) {
		if (!r->items[i]->signature)
			continue;
		snprintf(path, sizeof(path), "%s/%s.sig", dir, r->items[i]->id);
		if (write_file(path, r->items[i]->signature, r->items[i]->signature_len))
			ret = 1;
	}
	kyso_batch_result_free(r);
	return ret;
}

struct batch_thread {
	struct kyso_batch_params *params;
	struct kyso_batch_result *result;
	struct kyso_error err;
	int ret;
};

static void *batch_main(void *arg)
{
	struct batch_thread *t = arg;

	t->ret = kyso_sign_batch(client, t->params, &t->result, &t->err);
	return NULL;
}

static int do_batch_cancel(const char *cert, int argc, char **argv)
{
	struct kyso_batch_params b = KYSO_BATCH_PARAMS_INIT;
	struct kyso_batch_item items[MAX_ITEMS];
	unsigned char hashes[MAX_ITEMS][64];
	struct batch_thread t = { .params = &b };
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct kyso_client *canceller;
	char ids[MAX_ITEMS][16];
	struct kyso_error err;
	pthread_t th;
	int i, cancelled = 0;

	b.certificate = cert;
	b.hash_alg = KYSO_HASH_SHA256;
	b.items = items;
	b.nitems = (size_t)make_items(argc, argv, items, ids, hashes);
	b.batch_id = "probe-cancel";
	canceller = kyso_client_new(kyso_client_socket(client));
	if (!canceller || pthread_create(&th, NULL, batch_main, &t))
		return 1;
	/* the batch is known to kysod once its request is read */
	for (i = 0; i < 400 && !cancelled; i++) {
		if (kyso_cancel_batch(canceller, "probe-cancel", &err) == 0)
			cancelled = 1;
		else if (strcmp(err.code, "batch_not_found"))
			break;
		else
			nanosleep(&pause, NULL);
	}
	say_error("cancel", cancelled ? &(struct kyso_error){ .index = -1 } : &err);
	pthread_join(th, NULL);
	kyso_client_free(canceller);
	if (t.ret) {
		say_error("batch", &t.err);
		return 1;
	}
	print_result(t.result);
	kyso_batch_result_free(t.result);
	return cancelled ? 0 : 1;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		usage();
	client = kyso_client_new(NULL);
	if (!client)
		return 1;
	if (!strcmp(argv[1], "sizes") && argc == 5)
		ret = do_sizes(argv[2], argv[3], argv[4]);
	else if (!strcmp(argv[1], "sign") && argc == 6)
		ret = do_sign(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(argv[1], "verify") && argc == 6)
		ret = do_verify(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(argv[1], "batch") && argc >= 5)
		ret = do_batch(argv[2], argv[3], argc - 4, argv + 4);
	else if (!strcmp(argv[1], "batch-cancel") && argc >= 4)
		ret = do_batch_cancel(argv[2], argc - 3, argv + 3);
	else
		usage();
	kyso_client_free(client);
	return ret;
}
