/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p11bench: signatures straight through a PKCS#11 module's function list, the floor
 * kyso is measured against. Each thread opens its own session and loops on
 * C_SignInit + C_Sign over a 32-byte digest (RSA: CKM_RSA_PKCS over a SHA-256
 * DigestInfo, as kyso does; EC: CKM_ECDSA).
 *
 *   p11bench --module SO --token LABEL --pin PIN --key-id HEX --key rsa|ec
 *            [--threads N] [--seconds S] [--warmup S] [--count N]
 *            [--cpu-of PID]... [--cpu-of-children PID]...
 *
 * Timed mode prints one line:
 *   sigs=N seconds=S rate=R p50_us=X p99_us=Y self_cpu_us=C other_cpu_us=D
 * (CPU time per signature in the measured window: this program's, and that of the
 * processes given with --cpu-of, or of the children of --cpu-of-children PID).
 * With --count, each run makes exactly N signatures (split over the threads), untimed:
 * for instruction counts under callgrind. */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "latency.h"
#include "procstat.h"

#define MAX_THREADS 64

static const unsigned char sha256_prefix[19] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

struct thread_arg {
	int index;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key;
	unsigned long count;		/* --count mode: signatures to make */
	struct lat lat;
	unsigned long done;
	int failed;
	pthread_t thread;
};

static CK_FUNCTION_LIST_PTR fl;
static int is_rsa;
static atomic_int phase;		/* 0 warm-up, 1 measuring, 2 stop */
static pthread_barrier_t start_barrier;

static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11bench: %s: CKR 0x%lx\n", what, (unsigned long)rv);
	exit(1);
}

/* One signature over a digest that differs per call. Returns 0 or -1. */
static int sign_once(struct thread_arg *t, unsigned long n)
{
	unsigned char in[sizeof(sha256_prefix) + 32], sig[1024];
	CK_MECHANISM mech = { is_rsa ? CKM_RSA_PKCS : CKM_ECDSA, NULL, 0 };
	CK_ULONG sig_len = sizeof(sig), in_len;
	unsigned char *digest = in;
	CK_RV rv;
	int i;

	if (is_rsa) {
		memcpy(in, sha256_prefix, sizeof(sha256_prefix));
		digest = in + sizeof(sha256_prefix);
		in_len = sizeof(in);
	} else {
		in_len = 32;
	}
	for (i = 0; i < 32; i++)
		digest[i] = (unsigned char)(0x5a ^ i ^ (n >> ((i % 8) * 8)) ^ t->index);
	rv = fl->C_SignInit(t->session, &mech, t->key);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11bench: C_SignInit: CKR 0x%lx\n", (unsigned long)rv);
		return -1;
	}
	rv = fl->C_Sign(t->session, in, in_len, sig, &sig_len);
	if (rv != CKR_OK) {
		fprintf(stderr, "p11bench: C_Sign: CKR 0x%lx\n", (unsigned long)rv);
		return -1;
	}
	return 0;
}

static void *run(void *arg)
{
	struct thread_arg *t = arg;
	unsigned long n = 0;
	double t0, t1;

	if (t->count) {
		for (n = 0; n < t->count; n++)
			if (sign_once(t, n)) {
				t->failed = 1;
				break;
			}
		t->done = n;
		return NULL;
	}
	pthread_barrier_wait(&start_barrier);
	while (atomic_load(&phase) < 2) {
		int measuring = atomic_load(&phase) == 1;

		t0 = mono_s();
		if (sign_once(t, n++)) {
			t->failed = 1;
			break;
		}
		t1 = mono_s();
		/* a signature counts when it started inside the measured window */
		if (measuring) {
			lat_add(&t->lat, (t1 - t0) * 1e6);
			t->done++;
		}
	}
	return NULL;
}

static int parse_hex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (s[0] && s[1] && n < max) {
		if (sscanf(s, "%2x", &b) != 1)
			return -1;
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return (int)n;
}

static CK_SLOT_ID find_slot(const char *label)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	size_t len = strlen(label);

	rv = fl->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		die("C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (len <= sizeof(ti.label) && !memcmp(ti.label, label, len) &&
		    (len == sizeof(ti.label) || ti.label[len] == ' '))
			return slots[i];
	}
	fprintf(stderr, "p11bench: no token labelled %s\n", label);
	exit(1);
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, unsigned char *id, int id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, id, (CK_ULONG)id_len },
	};
	CK_OBJECT_HANDLE key;
	CK_ULONG found = 0;
	CK_RV rv;

	rv = fl->C_FindObjectsInit(s, tmpl, 2);
	if (rv != CKR_OK)
		die("C_FindObjectsInit", rv);
	rv = fl->C_FindObjects(s, &key, 1, &found);
	if (rv != CKR_OK)
		die("C_FindObjects", rv);
	fl->C_FindObjectsFinal(s);
	if (!found) {
		fprintf(stderr, "p11bench: no private key with that id\n");
		exit(1);
	}
	return key;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "key-id", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "cpu-of", required_argument, NULL, 'P' },
		{ "cpu-of-children", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *module = NULL, *token = NULL, *pin = NULL, *key_hex = NULL, *key = "rsa";
	CK_C_INITIALIZE_ARGS init = { 0 };
	CK_C_GetFunctionList get_list;
	struct thread_arg targs[MAX_THREADS];
	CK_SESSION_HANDLE login_session;
	CK_SLOT_ID slot;
	unsigned char id[128];
	unsigned long count = 0, total = 0;
	double seconds = 2, warmup = 0.5, t0, t1;
	struct lat all = { 0 };
	struct procstat others = { 0 };
	int cpu_children[PROCSTAT_MAX], ncpu_children = 0;
	double self0 = 0, self1 = 0, other0 = 0, other1 = 0;
	int threads = 1, id_len, c, i, failed = 0;
	void *handle;
	CK_RV rv;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': module = optarg; break;
		case 't': token = optarg; break;
		case 'p': pin = optarg; break;
		case 'i': key_hex = optarg; break;
		case 'k': key = optarg; break;
		case 'n': threads = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'c': count = strtoul(optarg, NULL, 10); break;
		case 'P': procstat_add(&others, atoi(optarg)); break;
		case 'C':
			if (ncpu_children < PROCSTAT_MAX)
				cpu_children[ncpu_children++] = atoi(optarg);
			break;
		default: return 2;
		}
	}
	if (!module || !token || !pin || !key_hex || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "usage: p11bench --module SO --token LABEL --pin PIN --key-id HEX "
			"--key rsa|ec [--threads N] [--seconds S] [--warmup S] [--count N]\n");
		return 2;
	}
	is_rsa = !strcmp(key, "rsa");
	id_len = parse_hex(key_hex, id, sizeof(id));
	if (id_len <= 0) {
		fprintf(stderr, "p11bench: bad key id\n");
		return 2;
	}

	handle = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "p11bench: %s\n", dlerror());
		return 1;
	}
	get_list = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
	if (!get_list || get_list(&fl) != CKR_OK) {
		fprintf(stderr, "p11bench: %s has no function list\n", module);
		return 1;
	}
	init.flags = CKF_OS_LOCKING_OK;
	rv = fl->C_Initialize(&init);
	if (rv != CKR_OK)
		die("C_Initialize", rv);
	slot = find_slot(token);
	rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &login_session);
	if (rv != CKR_OK)
		die("C_OpenSession", rv);
	rv = fl->C_Login(login_session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		die("C_Login", rv);

	memset(targs, 0, sizeof(targs));
	for (i = 0; i < threads; i++) {
		targs[i].index = i;
		rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &targs[i].session);
		if (rv != CKR_OK)
			die("C_OpenSession", rv);
		targs[i].key = find_key(targs[i].session, id, id_len);
		if (count)
			targs[i].count = count / threads + ((unsigned long)i < count % threads);
	}
	pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1);
	for (i = 0; i < threads; i++)
		if (pthread_create(&targs[i].thread, NULL, run, &targs[i])) {
			fprintf(stderr, "p11bench: pthread_create failed\n");
			return 1;
		}
	if (count) {
		for (i = 0; i < threads; i++) {
			pthread_join(targs[i].thread, NULL);
			total += targs[i].done;
			failed |= targs[i].failed;
		}
		printf("sigs=%lu\n", total);
		goto out;
	}
	pthread_barrier_wait(&start_barrier);
	t0 = mono_s();
	while (mono_s() - t0 < warmup)
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	/* processes started by our connection (a p11-kit server's per-client process) exist now */
	for (i = 0; i < ncpu_children; i++)
		procstat_add_children(&others, cpu_children[i]);
	self0 = procstat_self();
	other0 = procstat_total(&others);
	t0 = mono_s();
	atomic_store(&phase, 1);
	while ((t1 = mono_s()) - t0 < seconds)
		nanosleep(&(struct timespec){ 0, 5000000L }, NULL);
	atomic_store(&phase, 2);
	t1 = mono_s();
	self1 = procstat_self();
	other1 = procstat_total(&others);
	for (i = 0; i < threads; i++) {
		pthread_join(targs[i].thread, NULL);
		failed |= targs[i].failed;
		total += targs[i].done;
		lat_merge(&all, &targs[i].lat);
	}
	if (all.n) {
		lat_report(&all, total, t1 - t0, self1 - self0, other1 - other0);
	}
	free(all.v);
out:
	for (i = 0; i < threads; i++)
		fl->C_CloseSession(targs[i].session);
	fl->C_Logout(login_session);
	fl->C_CloseSession(login_session);
	fl->C_Finalize(NULL);
	return failed ? 1 : 0;
}
