/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mock-pkcs11.c - a small PKCS#11 v2.40 module for kyso's tests.
 *
 * It offers one slot holding one token with one key pair and its certificate,
 * loaded from PEM files, and injects faults on request (crashes, hangs, token
 * removal, slowness, PIN retry states) so that the tests can drive kysod and
 * kyso-p11 down error paths that real modules cannot reach on demand.
 * It is a test fixture, not a security boundary: the key lives in plain memory.
 *
 * Configuration, read from the environment by C_Initialize:
 *   KYSO_MOCK_KEY         PEM private key, RSA or EC (required)
 *   KYSO_MOCK_CERT        PEM certificate of that key (required)
 *   KYSO_MOCK_LABEL       token label (default "kyso mock")
 *   KYSO_MOCK_SERIAL      token serial number (default "0001")
 *   KYSO_MOCK_PIN         user PIN (default "123456")
 *   KYSO_MOCK_PIN_STATE   ok|count_low|final_try|locked: starting PIN state
 *   KYSO_MOCK_STATE_FILE  file keeping the PIN failure counter across processes;
 *                         when it exists it wins over KYSO_MOCK_PIN_STATE
 *   KYSO_MOCK_FAULT       none|crash-sign|hang-sign|removed-sign|crash-init|slow-sign
 *   KYSO_MOCK_FAULT_AFTER N: sign faults fire from the (N+1)th signature on
 *   KYSO_MOCK_DELAY_MS    delay of slow-sign in milliseconds (default 500)
 *   KYSO_MOCK_NO_RAW      "1": an RSA token offers CKM_RSA_PKCS only, no CKM_RSA_X_509
 *   KYSO_MOCK_HOLD        a path: while it exists, every signature waits (after any fault),
 *                         once it has created PATH.waiting to say so; the test removes PATH
 *                         to let the signatures go on
 *   KYSO_MOCK_STUCK       a path: while it exists, C_GetSlotList and C_GetTokenInfo wait
 *                         holding the module's lock, so that every other call waits too (a
 *                         module stuck on a card pulled out, as OpenSC 0.23 can be), once
 *                         they have created PATH.waiting
 *
 * Signatures are counted when C_Sign is asked for one with an output buffer;
 * length queries neither count nor fault.  Three wrong PINs lock the token.
 * A token removed by removed-sign stays away until the module is loaded again.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define MAX_SESSIONS		64
#define MAX_PIN_FAILURES	3
#define MAX_ATTRS		24
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

enum fault {
	FAULT_NONE, FAULT_CRASH_SIGN, FAULT_HANG_SIGN, FAULT_REMOVED_SIGN,
	FAULT_CRASH_INIT, FAULT_SLOW_SIGN,
};

/* Object handles are fixed: the token content never changes. */
enum { OBJ_CERT = 1, OBJ_PUBKEY, OBJ_PRIVKEY, OBJ_COUNT = OBJ_PRIVKEY };

struct attr {
	CK_ATTRIBUTE_TYPE type;
	const void *value;	/* points into struct mock or to a constant */
	CK_ULONG len;
};

struct object {
	CK_OBJECT_HANDLE handle;
	int private;		/* visible only while the user is logged in */
	struct attr attrs[MAX_ATTRS];
	size_t n_attrs;
};

/* A DER or big-endian byte string owned by struct mock (OPENSSL_free). */
struct buf {
	unsigned char *p;
	size_t len;
};

struct session {
	CK_SESSION_HANDLE handle;	/* 0: unused entry */
	CK_FLAGS flags;
	int find_active;
	CK_OBJECT_HANDLE found[OBJ_COUNT];
	size_t n_found, found_pos;
	int sign_active;
	CK_MECHANISM_TYPE sign_mech;
};

/* Everything below is guarded by mock_lock. */
static pthread_mutex_t mock_lock = PTHREAD_MUTEX_INITIALIZER;

static struct mock {
	int initialized;
	/* configuration */
	char label[33], serial[17];
	char *pin;
	char *state_file;
	enum fault fault;
	unsigned long fault_after, delay_ms;
	int no_raw;
	/* key material */
	EVP_PKEY *pkey;
	CK_KEY_TYPE key_type;
	CK_ULONG key_bits;
	struct buf cert_der, subject, issuer, serial_der;
	struct buf modulus, exponent, ec_params, ec_point;
	struct object objects[OBJ_COUNT];
	/* token state */
	int removed, logged_in, pin_failures;
	unsigned long signatures;
	CK_SESSION_HANDLE next_handle;
	struct session sessions[MAX_SESSIONS];
} m;

static const CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;
static const CK_OBJECT_CLASS class_cert = CKO_CERTIFICATE;
static const CK_OBJECT_CLASS class_pub = CKO_PUBLIC_KEY;
static const CK_OBJECT_CLASS class_priv = CKO_PRIVATE_KEY;
static const CK_CERTIFICATE_TYPE cert_x509 = CKC_X_509;
static const unsigned char key_id[] = { 0x01, 0x02 };
static const char key_label[] = "mock key";

/* Private key attributes that a real token refuses to reveal. */
static const CK_ATTRIBUTE_TYPE sensitive_attrs[] = {
	CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
	CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
};

static void mock_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void mock_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kyso-mock-pkcs11: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Copies src into a fixed-size PKCS#11 text field, padded with blanks. */
static void pad(CK_UTF8CHAR *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', size);
	memcpy(dst, src, n < size ? n : size);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* ------------------------------------------------------------ PIN state */

static CK_FLAGS pin_flags(void)
{
	if (m.pin_failures >= MAX_PIN_FAILURES)
		return CKF_USER_PIN_LOCKED;
	if (m.pin_failures == 2)
		return CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY;
	if (m.pin_failures == 1)
		return CKF_USER_PIN_COUNT_LOW;
	return 0;
}

static void state_load(void)
{
	FILE *f;
	int n;

	if (!m.state_file)
		return;
	f = fopen(m.state_file, "r");
	if (!f)
		return;
	if (fscanf(f, "%d", &n) == 1 && n >= 0)
		m.pin_failures = n > MAX_PIN_FAILURES ? MAX_PIN_FAILURES : n;
	fclose(f);
}

/* Writes the failure counter through a temporary file and rename(). */
static void state_save(void)
{
	char *tmp = NULL;
	FILE *f;
	size_t size;

	if (!m.state_file)
		return;
	size = strlen(m.state_file) + 32;
	tmp = malloc(size);
	if (!tmp)
		goto out;
	snprintf(tmp, size, "%s.%ld.tmp", m.state_file, (long)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		mock_log("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fprintf(f, "%d\n", m.pin_failures);
	if (fclose(f) != 0 || rename(tmp, m.state_file) != 0) {
		mock_log("cannot write %s: %s", m.state_file, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
}

/* Checks a PIN against the configured one and moves the retry counter. */
static CK_RV check_pin(const CK_UTF8CHAR *pin, CK_ULONG len)
{
	if (m.pin_failures >= MAX_PIN_FAILURES)
		return CKR_PIN_LOCKED;
	if (!pin)
		return CKR_ARGUMENTS_BAD;
	if (len == strlen(m.pin) && CRYPTO_memcmp(pin, m.pin, len) == 0) {
		if (m.pin_failures) {
			m.pin_failures = 0;
			state_save();
		}
		return CKR_OK;
	}
	m.pin_failures++;
	state_save();
	return CKR_PIN_INCORRECT;
}

/* ------------------------------------------------------ configuration */

/* Index of value in names[], or -1 (with a complaint about variable). */
static int lookup(const char *variable, const char *const *names, size_t n, const char *value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], value) == 0)
			return (int)i;
	mock_log("unknown %s '%s'", variable, value);
	return -1;
}

static CK_RV read_config(void)
{
	static const char *const faults[] = {
		[FAULT_NONE] = "none", [FAULT_CRASH_SIGN] = "crash-sign",
		[FAULT_HANG_SIGN] = "hang-sign", [FAULT_REMOVED_SIGN] = "removed-sign",
		[FAULT_CRASH_INIT] = "crash-init", [FAULT_SLOW_SIGN] = "slow-sign",
	};
	/* Indexed by the number of failed PIN attempts. */
	static const char *const pin_states[] = { "ok", "count_low", "final_try", "locked" };
	const char *state_file = getenv("KYSO_MOCK_STATE_FILE");
	int fault, failures;

	fault = lookup("KYSO_MOCK_FAULT", faults, ARRAY_SIZE(faults),
		       env_or("KYSO_MOCK_FAULT", "none"));
	failures = lookup("KYSO_MOCK_PIN_STATE", pin_states, ARRAY_SIZE(pin_states),
			  env_or("KYSO_MOCK_PIN_STATE", "ok"));
	if (fault < 0 || failures < 0)
		return CKR_GENERAL_ERROR;
	m.fault = fault;
	m.pin_failures = failures;
	m.fault_after = strtoul(env_or("KYSO_MOCK_FAULT_AFTER", "0"), NULL, 10);
	m.delay_ms = strtoul(env_or("KYSO_MOCK_DELAY_MS", "500"), NULL, 10);
	m.no_raw = strcmp(env_or("KYSO_MOCK_NO_RAW", "0"), "1") == 0;
	snprintf(m.label, sizeof(m.label), "%s", env_or("KYSO_MOCK_LABEL", "kyso mock"));
	snprintf(m.serial, sizeof(m.serial), "%s", env_or("KYSO_MOCK_SERIAL", "0001"));
	m.pin = strdup(env_or("KYSO_MOCK_PIN", "123456"));
	if (!m.pin)
		return CKR_HOST_MEMORY;
	if (state_file && *state_file) {
		m.state_file = strdup(state_file);
		if (!m.state_file)
			return CKR_HOST_MEMORY;
		state_load();
	}
	return CKR_OK;
}

/* Takes ownership of an i2d_*() result of length n. */
static int set_der(struct buf *b, unsigned char *p, int n)
{
	if (n <= 0 || !p)
		return 0;
	b->p = p;
	b->len = n;
	return 1;
}

/* Encodes obj with an OpenSSL i2d function into b; true on success. */
#define TO_DER(b, i2d, obj) ({				\
	unsigned char *p_ = NULL;			\
	int n_ = i2d((obj), &p_);			\
	set_der((b), p_, n_);				\
})

static int set_bn(struct buf *b, const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);

	b->p = OPENSSL_malloc(n > 0 ? n : 1);
	if (!b->p)
		return 0;
	b->len = BN_bn2bin(bn, b->p);
	return 1;
}

static int load_rsa(void)
{
	BIGNUM *n = NULL, *e = NULL;
	int ok = 0;

	if (!EVP_PKEY_get_bn_param(m.pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(m.pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		goto out;
	ok = set_bn(&m.modulus, n) && set_bn(&m.exponent, e);
out:
	BN_free(n);
	BN_free(e);
	return ok;
}

static int load_ec(void)
{
	unsigned char point[256];
	char group[80];
	size_t len;
	ASN1_OCTET_STRING *os = NULL;
	int nid, ok = 0;

	if (!EVP_PKEY_get_utf8_string_param(m.pkey, OSSL_PKEY_PARAM_GROUP_NAME,
					    group, sizeof(group), NULL))
		goto out;
	nid = OBJ_txt2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	if (nid == NID_undef || !TO_DER(&m.ec_params, i2d_ASN1_OBJECT, OBJ_nid2obj(nid)))
		goto out;
	if (!EVP_PKEY_get_octet_string_param(m.pkey, OSSL_PKEY_PARAM_PUB_KEY,
					     point, sizeof(point), &len) ||
	    len == 0 || point[0] != 0x04) {
		mock_log("EC public point missing or not uncompressed");
		goto out;
	}
	os = ASN1_OCTET_STRING_new();
	if (!os || !ASN1_OCTET_STRING_set(os, point, len))
		goto out;
	ok = TO_DER(&m.ec_point, i2d_ASN1_OCTET_STRING, os);
out:
	ASN1_OCTET_STRING_free(os);
	return ok;
}

static CK_RV load_material(void)
{
	const char *key_path = getenv("KYSO_MOCK_KEY");
	const char *cert_path = getenv("KYSO_MOCK_CERT");
	X509 *cert = NULL;
	FILE *f = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!key_path || !cert_path) {
		mock_log("KYSO_MOCK_KEY and KYSO_MOCK_CERT must be set");
		goto out;
	}
	f = fopen(key_path, "r");
	if (!f || !(m.pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL))) {
		mock_log("cannot read private key %s", key_path);
		goto out;
	}
	fclose(f);
	f = fopen(cert_path, "r");
	if (!f || !(cert = PEM_read_X509(f, NULL, NULL, NULL))) {
		mock_log("cannot read certificate %s", cert_path);
		goto out;
	}
	if (!X509_check_private_key(cert, m.pkey)) {
		mock_log("%s does not match %s", cert_path, key_path);
		goto out;
	}
	if (!TO_DER(&m.cert_der, i2d_X509, cert) ||
	    !TO_DER(&m.subject, i2d_X509_NAME, X509_get_subject_name(cert)) ||
	    !TO_DER(&m.issuer, i2d_X509_NAME, X509_get_issuer_name(cert)) ||
	    !TO_DER(&m.serial_der, i2d_ASN1_INTEGER, X509_get0_serialNumber(cert)))
		goto out;

	m.key_bits = EVP_PKEY_get_bits(m.pkey);
	switch (EVP_PKEY_get_base_id(m.pkey)) {
	case EVP_PKEY_RSA:
		m.key_type = CKK_RSA;
		if (!load_rsa())
			goto out;
		break;
	case EVP_PKEY_EC:
		m.key_type = CKK_EC;
		if (!load_ec())
			goto out;
		break;
	default:
		mock_log("%s: only RSA and EC keys are supported", key_path);
		goto out;
	}
	rv = CKR_OK;
out:
	if (f)
		fclose(f);
	X509_free(cert);
	return rv;
}

static void add(struct object *o, CK_ATTRIBUTE_TYPE type, const void *value, CK_ULONG len)
{
	if (o->n_attrs == MAX_ATTRS)
		abort();	/* a bug in build_objects() */
	o->attrs[o->n_attrs].type = type;
	o->attrs[o->n_attrs].value = value;
	o->attrs[o->n_attrs].len = len;
	o->n_attrs++;
}

#define ADD_VAL(o, type, v)	add((o), (type), &(v), sizeof(v))
#define ADD_BUF(o, type, b)	add((o), (type), (b).p, (b).len)

static void build_objects(void)
{
	struct object *cert = &m.objects[OBJ_CERT - 1];
	struct object *pub = &m.objects[OBJ_PUBKEY - 1];
	struct object *priv = &m.objects[OBJ_PRIVKEY - 1];
	struct object *o;
	int i;

	cert->handle = OBJ_CERT;
	ADD_VAL(cert, CKA_CLASS, class_cert);
	ADD_VAL(cert, CKA_PRIVATE, ck_false);
	ADD_VAL(cert, CKA_CERTIFICATE_TYPE, cert_x509);
	ADD_VAL(cert, CKA_TRUSTED, ck_false);
	ADD_BUF(cert, CKA_VALUE, m.cert_der);
	ADD_BUF(cert, CKA_ISSUER, m.issuer);
	ADD_BUF(cert, CKA_SERIAL_NUMBER, m.serial_der);

	pub->handle = OBJ_PUBKEY;
	ADD_VAL(pub, CKA_CLASS, class_pub);
	ADD_VAL(pub, CKA_PRIVATE, ck_false);
	ADD_VAL(pub, CKA_VERIFY, ck_true);
	ADD_VAL(pub, CKA_ENCRYPT, ck_false);
	ADD_VAL(pub, CKA_WRAP, ck_false);

	priv->handle = OBJ_PRIVKEY;
	priv->private = 1;
	ADD_VAL(priv, CKA_CLASS, class_priv);
	ADD_VAL(priv, CKA_PRIVATE, ck_true);
	ADD_VAL(priv, CKA_SIGN, ck_true);
	ADD_VAL(priv, CKA_SIGN_RECOVER, ck_false);
	ADD_VAL(priv, CKA_DECRYPT, ck_false);
	ADD_VAL(priv, CKA_UNWRAP, ck_false);
	ADD_VAL(priv, CKA_SENSITIVE, ck_true);
	ADD_VAL(priv, CKA_ALWAYS_SENSITIVE, ck_true);
	ADD_VAL(priv, CKA_EXTRACTABLE, ck_false);
	ADD_VAL(priv, CKA_NEVER_EXTRACTABLE, ck_true);
	ADD_VAL(priv, CKA_ALWAYS_AUTHENTICATE, ck_false);

	for (i = 0; i < OBJ_COUNT; i++) {
		o = &m.objects[i];
		ADD_VAL(o, CKA_TOKEN, ck_true);
		ADD_VAL(o, CKA_MODIFIABLE, ck_false);
		add(o, CKA_LABEL, key_label, strlen(key_label));
		add(o, CKA_ID, key_id, sizeof(key_id));
		ADD_BUF(o, CKA_SUBJECT, m.subject);
		if (o == cert)
			continue;
		ADD_VAL(o, CKA_KEY_TYPE, m.key_type);
		ADD_VAL(o, CKA_LOCAL, ck_false);
		ADD_VAL(o, CKA_DERIVE, ck_false);
		if (m.key_type == CKK_RSA) {
			ADD_BUF(o, CKA_MODULUS, m.modulus);
			ADD_BUF(o, CKA_PUBLIC_EXPONENT, m.exponent);
			ADD_VAL(o, CKA_MODULUS_BITS, m.key_bits);
		} else {
			ADD_BUF(o, CKA_EC_PARAMS, m.ec_params);
			ADD_BUF(o, CKA_EC_POINT, m.ec_point);
		}
	}
}

static void free_buf(struct buf *b)
{
	OPENSSL_free(b->p);
}

/* Releases everything C_Initialize set up and returns to the pristine state. */
static void mock_free(void)
{
	if (m.pin)
		OPENSSL_cleanse(m.pin, strlen(m.pin));
	free(m.pin);
	free(m.state_file);
	EVP_PKEY_free(m.pkey);
	free_buf(&m.cert_der);
	free_buf(&m.subject);
	free_buf(&m.issuer);
	free_buf(&m.serial_der);
	free_buf(&m.modulus);
	free_buf(&m.exponent);
	free_buf(&m.ec_params);
	free_buf(&m.ec_point);
	memset(&m, 0, sizeof(m));
}

/* ------------------------------------------------------------ lookups */

static CK_RV check_slot(CK_SLOT_ID slot)
{
	if (!m.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	return slot == 0 ? CKR_OK : CKR_SLOT_ID_INVALID;
}

static CK_RV check_token(CK_SLOT_ID slot)
{
	CK_RV rv = check_slot(slot);

	if (rv == CKR_OK && m.removed)
		rv = CKR_TOKEN_NOT_PRESENT;
	return rv;
}

static CK_RV get_session(CK_SESSION_HANDLE handle, struct session **out)
{
	int i;

	if (!m.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (m.removed)
		return CKR_DEVICE_REMOVED;
	for (i = 0; i < MAX_SESSIONS; i++) {
		if (handle != 0 && m.sessions[i].handle == handle) {
			*out = &m.sessions[i];
			return CKR_OK;
		}
	}
	return CKR_SESSION_HANDLE_INVALID;
}

static int session_count(int rw_only)
{
	int i, n = 0;

	for (i = 0; i < MAX_SESSIONS; i++)
		if (m.sessions[i].handle &&
		    (!rw_only || (m.sessions[i].flags & CKF_RW_SESSION)))
			n++;
	return n;
}

/* Ends the login and every session, as a token pulled out of its reader. */
static void close_all_sessions(void)
{
	memset(m.sessions, 0, sizeof(m.sessions));
	m.logged_in = 0;
}

/* Returns the object if it exists and the current login state shows it. */
static const struct object *find_object(CK_OBJECT_HANDLE handle)
{
	const struct object *o;

	if (handle < 1 || handle > OBJ_COUNT)
		return NULL;
	o = &m.objects[handle - 1];
	return o->private && !m.logged_in ? NULL : o;
}

static const struct attr *find_attr(const struct object *o, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < o->n_attrs; i++)
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	return NULL;
}

static int is_sensitive(const struct object *o, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	if (o->handle != OBJ_PRIVKEY)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sensitive_attrs); i++)
		if (sensitive_attrs[i] == type)
			return 1;
	return 0;
}

static int matches(const struct object *o, const CK_ATTRIBUTE *templ, CK_ULONG count)
{
	const struct attr *a;
	CK_ULONG i;

	for (i = 0; i < count; i++) {
		a = find_attr(o, templ[i].type);
		if (!a || a->len != templ[i].ulValueLen ||
		    (a->len && (!templ[i].pValue || memcmp(a->value, templ[i].pValue, a->len))))
			return 0;
	}
	return 1;
}

static size_t mechanisms(CK_MECHANISM_TYPE out[2])
{
	if (m.key_type == CKK_EC) {
		out[0] = CKM_ECDSA;
		return 1;
	}
	out[0] = CKM_RSA_PKCS;
	if (m.no_raw)
		return 1;
	out[1] = CKM_RSA_X_509;
	return 2;
}

static int mechanism_supported(CK_MECHANISM_TYPE type)
{
	CK_MECHANISM_TYPE list[2];
	size_t i, n = mechanisms(list);

	for (i = 0; i < n; i++)
		if (list[i] == type)
			return 1;
	return 0;
}

/* Signature size: the modulus for RSA, r||s for ECDSA. */
static CK_ULONG signature_length(void)
{
	CK_ULONG bytes = (m.key_bits + 7) / 8;

	return m.key_type == CKK_RSA ? bytes : 2 * bytes;
}

/* ------------------------------------------------------------ signing */

/* Signs in with mech into out, which holds at least signature_length() bytes. */
static CK_RV do_sign(CK_MECHANISM_TYPE mech, const unsigned char *in, size_t in_len,
		     unsigned char *out, CK_ULONG *out_len)
{
	size_t k = signature_length(), len = k, der_len = 0;
	unsigned char *block = NULL, *der = NULL;
	const unsigned char *p;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig = NULL;
	EVP_PKEY_CTX *ctx;
	CK_RV rv = CKR_GENERAL_ERROR;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, m.pkey, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0)
		goto out;
	switch (mech) {
	case CKM_RSA_PKCS:
		rv = CKR_DATA_LEN_RANGE;
		if (in_len + 11 > k)
			goto out;
		rv = CKR_GENERAL_ERROR;
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
		    EVP_PKEY_sign(ctx, out, &len, in, in_len) <= 0)
			goto out;
		break;
	case CKM_RSA_X_509:
		/* Raw RSA: the input is a big-endian number below the modulus. */
		rv = CKR_DATA_LEN_RANGE;
		if (in_len > k)
			goto out;
		rv = CKR_HOST_MEMORY;
		block = OPENSSL_zalloc(k);
		if (!block)
			goto out;
		memcpy(block + k - in_len, in, in_len);
		rv = CKR_DATA_INVALID;
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0 ||
		    EVP_PKEY_sign(ctx, out, &len, block, k) <= 0)
			goto out;
		break;
	case CKM_ECDSA:
		/* OpenSSL gives an ECDSA-Sig-Value; PKCS#11 wants r||s. */
		if (EVP_PKEY_sign(ctx, NULL, &der_len, in, in_len) <= 0)
			goto out;
		der = OPENSSL_malloc(der_len);
		if (!der || EVP_PKEY_sign(ctx, der, &der_len, in, in_len) <= 0)
			goto out;
		p = der;
		sig = d2i_ECDSA_SIG(NULL, &p, der_len);
		if (!sig)
			goto out;
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, out, k / 2) < 0 || BN_bn2binpad(s, out + k / 2, k / 2) < 0)
			goto out;
		break;
	default:
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	*out_len = len;
	rv = CKR_OK;
out:
	ECDSA_SIG_free(sig);
	OPENSSL_free(der);
	OPENSSL_clear_free(block, k);
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

/*
 * First half of C_Sign, under the lock: checks the call and answers length
 * queries.  Sets *go when a signature must be made, with the fault to inject
 * before it; the removed-sign fault is carried out here.
 */
static CK_RV sign_begin(CK_SESSION_HANDLE handle, const CK_BYTE *data, CK_ULONG data_len,
			const CK_BYTE *sig, CK_ULONG *sig_len, int *go,
			enum fault *fault, unsigned long *delay_ms)
{
	struct session *s;
	CK_ULONG need;
	CK_RV rv;

	rv = get_session(handle, &s);
	if (rv != CKR_OK)
		return rv;
	if (!s->sign_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!sig_len || (!data && data_len)) {
		s->sign_active = 0;
		return CKR_ARGUMENTS_BAD;
	}
	need = signature_length();
	if (!sig) {
		*sig_len = need;
		return CKR_OK;
	}
	if (*sig_len < need) {
		*sig_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	m.signatures++;
	*fault = m.signatures > m.fault_after ? m.fault : FAULT_NONE;
	*delay_ms = m.delay_ms;
	if (*fault == FAULT_REMOVED_SIGN) {
		mock_log("removed-sign: the token is gone");
		m.removed = 1;
		close_all_sessions();
		return CKR_DEVICE_REMOVED;
	}
	*go = 1;
	return CKR_OK;
}

/* While the file the environment variable var names exists: creates
 * PATH.waiting to say so, and waits. */
static void wait_while_file(const char *var, const char *what)
{
	const char *path = getenv(var);
	struct timespec ts = { 0, 10 * 1000000L };
	char waiting[PATH_MAX];
	FILE *f;

	if (!path || !*path || access(path, F_OK) != 0)
		return;
	snprintf(waiting, sizeof(waiting), "%s.waiting", path);
	f = fopen(waiting, "w");
	if (f)
		fclose(f);
	mock_log("%s: waiting while %s exists", what, path);
	while (access(path, F_OK) == 0)
		nanosleep(&ts, NULL);
}

/* KYSO_MOCK_HOLD: outside the lock, like inject_fault. */
static void hold(void)
{
	wait_while_file("KYSO_MOCK_HOLD", "hold");
}

/* KYSO_MOCK_STUCK: inside the lock, so every other call waits too. */
static void stuck(void)
{
	wait_while_file("KYSO_MOCK_STUCK", "stuck");
}

/* Runs outside the lock, so that only the signing thread is stuck. */
static void inject_fault(enum fault fault, unsigned long delay_ms)
{
	struct timespec ts;

	switch (fault) {
	case FAULT_CRASH_SIGN:
		mock_log("crash-sign: aborting");
		abort();
	case FAULT_HANG_SIGN:
		mock_log("hang-sign: hanging");
		for (;;)
			sleep(1);
	case FAULT_SLOW_SIGN:
		ts.tv_sec = delay_ms / 1000;
		ts.tv_nsec = (long)(delay_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------- general functions */

static CK_RV initialize(void)
{
	CK_RV rv;

	if (m.initialized)
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	rv = read_config();
	if (rv == CKR_OK && m.fault == FAULT_CRASH_INIT) {
		mock_log("crash-init: aborting");
		abort();
	}
	if (rv == CKR_OK)
		rv = load_material();
	if (rv != CKR_OK) {
		mock_free();
		return rv;
	}
	build_objects();
	m.next_handle = 1;
	m.initialized = 1;
	return CKR_OK;
}

static CK_RV finalize(CK_VOID_PTR reserved)
{
	if (reserved)
		return CKR_ARGUMENTS_BAD;
	if (!m.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	mock_free();
	return CKR_OK;
}

static CK_RV get_info(CK_INFO *info)
{
	if (!m.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
	info->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
	pad(info->manufacturerID, sizeof(info->manufacturerID), "kyso");
	pad(info->libraryDescription, sizeof(info->libraryDescription), "kyso mock PKCS#11 module");
	info->libraryVersion.minor = 1;
	return CKR_OK;
}

/* ------------------------------------------------ slots and tokens */

static CK_RV get_slot_list(CK_BBOOL token_present, CK_SLOT_ID *list, CK_ULONG *count)
{
	CK_ULONG n;

	stuck();
	if (!m.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	n = token_present && m.removed ? 0 : 1;
	if (list && *count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (list && n)
		list[0] = 0;
	*count = n;
	return CKR_OK;
}

static CK_RV get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO *info)
{
	CK_RV rv = check_slot(slot);

	if (rv != CKR_OK)
		return rv;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	pad(info->slotDescription, sizeof(info->slotDescription), "kyso mock slot");
	pad(info->manufacturerID, sizeof(info->manufacturerID), "kyso");
	info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | (m.removed ? 0 : CKF_TOKEN_PRESENT);
	info->hardwareVersion.major = 1;
	info->firmwareVersion.major = 1;
	return CKR_OK;
}

static CK_RV get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
	CK_RV rv;

	stuck();
	rv = check_token(slot);
	if (rv != CKR_OK)
		return rv;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	pad(info->label, sizeof(info->label), m.label);
	pad(info->manufacturerID, sizeof(info->manufacturerID), "kyso");
	pad(info->model, sizeof(info->model), "mock");
	pad(info->serialNumber, sizeof(info->serialNumber), m.serial);
	info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
		      CKF_TOKEN_INITIALIZED | pin_flags();
	info->ulMaxSessionCount = MAX_SESSIONS;
	info->ulSessionCount = session_count(0);
	info->ulMaxRwSessionCount = MAX_SESSIONS;
	info->ulRwSessionCount = session_count(1);
	info->ulMaxPinLen = 64;
	info->ulMinPinLen = 4;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 1;
	info->firmwareVersion.major = 1;
	memset(info->utcTime, ' ', sizeof(info->utcTime));
	return CKR_OK;
}

static CK_RV get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	CK_MECHANISM_TYPE mechs[2];
	CK_RV rv = check_token(slot);
	CK_ULONG n;

	if (rv != CKR_OK)
		return rv;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	n = mechanisms(mechs);
	if (list && *count < n)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list)
		memcpy(list, mechs, n * sizeof(mechs[0]));
	*count = n;
	return rv;
}

static CK_RV get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	CK_RV rv = check_token(slot);

	if (rv != CKR_OK)
		return rv;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	if (!mechanism_supported(type))
		return CKR_MECHANISM_INVALID;
	info->ulMinKeySize = m.key_bits;
	info->ulMaxKeySize = m.key_bits;
	info->flags = CKF_HW | CKF_SIGN;
	if (m.key_type == CKK_EC)
		info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	return CKR_OK;
}

/* ------------------------------------------------ sessions and login */

static CK_RV open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *handle)
{
	CK_RV rv = check_token(slot);
	struct session *s = NULL;
	int i;

	if (rv != CKR_OK)
		return rv;
	if (!handle)
		return CKR_ARGUMENTS_BAD;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	for (i = 0; i < MAX_SESSIONS && !s; i++)
		if (!m.sessions[i].handle)
			s = &m.sessions[i];
	if (!s)
		return CKR_SESSION_COUNT;
	memset(s, 0, sizeof(*s));
	s->handle = m.next_handle++;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	*handle = s->handle;
	return CKR_OK;
}

static CK_RV close_session(CK_SESSION_HANDLE handle)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	memset(s, 0, sizeof(*s));
	if (session_count(0) == 0)
		m.logged_in = 0;	/* closing the last session logs out */
	return CKR_OK;
}

static CK_RV close_all(CK_SLOT_ID slot)
{
	CK_RV rv = check_slot(slot);

	if (rv == CKR_OK)
		close_all_sessions();
	return rv;
}

static CK_RV get_session_info(CK_SESSION_HANDLE handle, CK_SESSION_INFO *info)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);
	int rw;

	if (rv != CKR_OK)
		return rv;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	rw = !!(s->flags & CKF_RW_SESSION);
	info->slotID = 0;
	if (m.logged_in)
		info->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	else
		info->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	info->flags = s->flags;
	info->ulDeviceError = 0;
	return CKR_OK;
}

/* The login is the token's, shared by all its sessions. */
static CK_RV login(CK_SESSION_HANDLE handle, CK_USER_TYPE user, const CK_UTF8CHAR *pin,
		   CK_ULONG len)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if (user == CKU_USER && m.logged_in)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (user == CKU_CONTEXT_SPECIFIC && !m.logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	if (user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
		return CKR_USER_TYPE_INVALID;	/* the token has no SO PIN */
	rv = check_pin(pin, len);
	if (rv == CKR_OK)
		m.logged_in = 1;
	return rv;
}

static CK_RV logout(CK_SESSION_HANDLE handle)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);
	int i;

	if (rv != CKR_OK)
		return rv;
	if (!m.logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	m.logged_in = 0;
	for (i = 0; i < MAX_SESSIONS; i++)
		m.sessions[i].sign_active = 0;
	return CKR_OK;
}

/* ------------------------------------------------------------ objects */

static CK_RV find_init(CK_SESSION_HANDLE handle, const CK_ATTRIBUTE *templ, CK_ULONG count)
{
	const struct object *o;
	struct session *s;
	CK_RV rv = get_session(handle, &s);
	CK_OBJECT_HANDLE h;

	if (rv != CKR_OK)
		return rv;
	if (!templ && count)
		return CKR_ARGUMENTS_BAD;
	if (s->find_active)
		return CKR_OPERATION_ACTIVE;
	s->n_found = 0;
	s->found_pos = 0;
	for (h = 1; h <= OBJ_COUNT; h++) {
		o = find_object(h);
		if (o && matches(o, templ, count))
			s->found[s->n_found++] = h;
	}
	s->find_active = 1;
	return CKR_OK;
}

static CK_RV find(CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE *objects, CK_ULONG max,
		  CK_ULONG *count)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);
	CK_ULONG n = 0;

	if (rv != CKR_OK)
		return rv;
	if (!count || (!objects && max))
		return CKR_ARGUMENTS_BAD;
	if (!s->find_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	while (n < max && s->found_pos < s->n_found)
		objects[n++] = s->found[s->found_pos++];
	*count = n;
	return CKR_OK;
}

static CK_RV find_final(CK_SESSION_HANDLE handle)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->find_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	s->find_active = 0;
	return CKR_OK;
}

/*
 * Every attribute of the template is answered; the return value is the
 * last problem met (sensitive, unknown type, buffer too small), and those
 * entries get CK_UNAVAILABLE_INFORMATION as their length.
 */
static CK_RV get_attributes(CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE object,
			    CK_ATTRIBUTE *templ, CK_ULONG count)
{
	const struct object *o;
	const struct attr *a;
	struct session *s;
	CK_RV rv = get_session(handle, &s);
	CK_ATTRIBUTE *t;

	if (rv != CKR_OK)
		return rv;
	o = find_object(object);
	if (!o)
		return CKR_OBJECT_HANDLE_INVALID;
	if (!templ && count)
		return CKR_ARGUMENTS_BAD;
	for (t = templ; t < templ + count; t++) {
		a = find_attr(o, t->type);
		if (is_sensitive(o, t->type)) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else if (!a) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (!t->pValue) {
			t->ulValueLen = a->len;
		} else if (t->ulValueLen < a->len) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(t->pValue, a->value, a->len);
			t->ulValueLen = a->len;
		}
	}
	return rv;
}

/* ------------------------------------------------ signing and random */

static CK_RV sign_init(CK_SESSION_HANDLE handle, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	const struct object *o;
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if (!mech)
		return CKR_ARGUMENTS_BAD;
	if (s->sign_active)
		return CKR_OPERATION_ACTIVE;
	o = find_object(key);
	if (key == OBJ_PRIVKEY && !o)
		return CKR_USER_NOT_LOGGED_IN;
	if (!o || key == OBJ_CERT)
		return CKR_KEY_HANDLE_INVALID;
	if (key != OBJ_PRIVKEY)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (!mechanism_supported(mech->mechanism))
		return CKR_MECHANISM_INVALID;
	s->sign_active = 1;
	s->sign_mech = mech->mechanism;
	return CKR_OK;
}

/* Second half of C_Sign, after the fault: the session may be gone by now. */
static CK_RV sign_finish(CK_SESSION_HANDLE handle, const CK_BYTE *data, CK_ULONG data_len,
			 CK_BYTE *sig, CK_ULONG *sig_len)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->sign_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	s->sign_active = 0;
	return do_sign(s->sign_mech, data, data_len, sig, sig_len);
}

static CK_RV generate_random(CK_SESSION_HANDLE handle, CK_BYTE *out, CK_ULONG len)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if ((!out && len) || len > INT_MAX)
		return CKR_ARGUMENTS_BAD;
	if (len && RAND_bytes(out, (int)len) != 1)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

static CK_RV seed_random(CK_SESSION_HANDLE handle, const CK_BYTE *seed, CK_ULONG len)
{
	struct session *s;
	CK_RV rv = get_session(handle, &s);

	if (rv != CKR_OK)
		return rv;
	if ((!seed && len) || len > INT_MAX)
		return CKR_ARGUMENTS_BAD;
	RAND_seed(seed, (int)len);
	return CKR_OK;
}

/* ------------------------------------------------------ entry points */

/* Runs an entry point's body under the module lock. */
#define LOCKED(call) do {			\
	CK_RV rv_;				\
	pthread_mutex_lock(&mock_lock);		\
	rv_ = (call);				\
	pthread_mutex_unlock(&mock_lock);	\
	return rv_;				\
} while (0)

CK_RV C_Initialize(CK_VOID_PTR init_args)
{
	CK_C_INITIALIZE_ARGS *args = init_args;
	int some, all;

	/* Our own pthread mutex serves whatever the application offers. */
	if (args) {
		some = args->CreateMutex || args->DestroyMutex || args->LockMutex || args->UnlockMutex;
		all = args->CreateMutex && args->DestroyMutex && args->LockMutex && args->UnlockMutex;
		if (some && !all)
			return CKR_ARGUMENTS_BAD;
		if (some && !(args->flags & CKF_OS_LOCKING_OK))
			return CKR_CANT_LOCK;
	}
	LOCKED(initialize());
}

/*
 * The lock is dropped between the checks and the signature, so that a hang
 * or a delay holds up the signing thread only, as a busy card would.
 */
CK_RV C_Sign(CK_SESSION_HANDLE handle, CK_BYTE_PTR data, CK_ULONG data_len,
	     CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	enum fault fault = FAULT_NONE;
	unsigned long delay_ms = 0;
	int go = 0;
	CK_RV rv;

	pthread_mutex_lock(&mock_lock);
	rv = sign_begin(handle, data, data_len, sig, sig_len, &go, &fault, &delay_ms);
	pthread_mutex_unlock(&mock_lock);
	if (rv != CKR_OK || !go)
		return rv;
	inject_fault(fault, delay_ms);
	hold();
	LOCKED(sign_finish(handle, data, data_len, sig, sig_len));
}

CK_RV C_Finalize(CK_VOID_PTR reserved) { LOCKED(finalize(reserved)); }
CK_RV C_GetInfo(CK_INFO_PTR info) { LOCKED(get_info(info)); }
CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
	{ LOCKED(get_slot_list(present, list, count)); }
CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) { LOCKED(get_slot_info(slot, info)); }
CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) { LOCKED(get_token_info(slot, info)); }
CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
	{ LOCKED(get_mechanism_list(slot, list, count)); }
CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
	{ LOCKED(get_mechanism_info(slot, type, info)); }
CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
		    CK_SESSION_HANDLE_PTR handle) { LOCKED(open_session(slot, flags, handle)); }
CK_RV C_CloseSession(CK_SESSION_HANDLE h) { LOCKED(close_session(h)); }
CK_RV C_CloseAllSessions(CK_SLOT_ID slot) { LOCKED(close_all(slot)); }
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
	{ LOCKED(get_session_info(h, info)); }
CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
	{ LOCKED(login(h, user, pin, len)); }
CK_RV C_Logout(CK_SESSION_HANDLE h) { LOCKED(logout(h)); }
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR templ, CK_ULONG count)
	{ LOCKED(find_init(h, templ, count)); }
CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR objects, CK_ULONG max,
		    CK_ULONG_PTR count) { LOCKED(find(h, objects, max, count)); }
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h) { LOCKED(find_final(h)); }
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR templ,
			  CK_ULONG count) { LOCKED(get_attributes(h, o, templ, count)); }
CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
	{ LOCKED(sign_init(h, mech, key)); }
CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG len)
	{ LOCKED(generate_random(h, out, len)); }
CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len)
	{ LOCKED(seed_random(h, seed, len)); }

/* Everything else is refused. Short type names keep the list readable. */
#define UNSUPPORTED(name, params) \
	CK_RV name params { return CKR_FUNCTION_NOT_SUPPORTED; }

typedef CK_SESSION_HANDLE SH;
typedef CK_OBJECT_HANDLE OH;
typedef CK_BYTE_PTR BP;
typedef CK_ULONG UL;
typedef CK_ULONG_PTR ULP;
typedef CK_MECHANISM_PTR MP;
typedef CK_ATTRIBUTE_PTR AP;

UNSUPPORTED(C_WaitForSlotEvent, (CK_FLAGS f, CK_SLOT_ID_PTR slot, CK_VOID_PTR r))
UNSUPPORTED(C_InitToken, (CK_SLOT_ID slot, BP pin, UL len, BP label))
UNSUPPORTED(C_InitPIN, (SH h, BP pin, UL len))
UNSUPPORTED(C_SetPIN, (SH h, BP old, UL old_len, BP pin, UL len))
UNSUPPORTED(C_GetOperationState, (SH h, BP state, ULP len))
UNSUPPORTED(C_SetOperationState, (SH h, BP state, UL len, OH k1, OH k2))
UNSUPPORTED(C_CreateObject, (SH h, AP t, UL n, OH *o))
UNSUPPORTED(C_CopyObject, (SH h, OH o, AP t, UL n, OH *o2))
UNSUPPORTED(C_DestroyObject, (SH h, OH o))
UNSUPPORTED(C_GetObjectSize, (SH h, OH o, ULP size))
UNSUPPORTED(C_SetAttributeValue, (SH h, OH o, AP t, UL n))
UNSUPPORTED(C_EncryptInit, (SH h, MP mech, OH k))
UNSUPPORTED(C_Encrypt, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_EncryptUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_EncryptFinal, (SH h, BP out, ULP out_len))
UNSUPPORTED(C_DecryptInit, (SH h, MP mech, OH k))
UNSUPPORTED(C_Decrypt, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_DecryptUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_DecryptFinal, (SH h, BP out, ULP out_len))
UNSUPPORTED(C_DigestInit, (SH h, MP mech))
UNSUPPORTED(C_Digest, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_DigestUpdate, (SH h, BP in, UL in_len))
UNSUPPORTED(C_DigestKey, (SH h, OH k))
UNSUPPORTED(C_DigestFinal, (SH h, BP out, ULP out_len))
UNSUPPORTED(C_SignUpdate, (SH h, BP in, UL in_len))
UNSUPPORTED(C_SignFinal, (SH h, BP out, ULP out_len))
UNSUPPORTED(C_SignRecoverInit, (SH h, MP mech, OH k))
UNSUPPORTED(C_SignRecover, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_VerifyInit, (SH h, MP mech, OH k))
UNSUPPORTED(C_Verify, (SH h, BP in, UL in_len, BP sig, UL sig_len))
UNSUPPORTED(C_VerifyUpdate, (SH h, BP in, UL in_len))
UNSUPPORTED(C_VerifyFinal, (SH h, BP sig, UL sig_len))
UNSUPPORTED(C_VerifyRecoverInit, (SH h, MP mech, OH k))
UNSUPPORTED(C_VerifyRecover, (SH h, BP sig, UL sig_len, BP out, ULP out_len))
UNSUPPORTED(C_DigestEncryptUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_DecryptDigestUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_SignEncryptUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_DecryptVerifyUpdate, (SH h, BP in, UL in_len, BP out, ULP out_len))
UNSUPPORTED(C_GenerateKey, (SH h, MP mech, AP t, UL n, OH *k))
UNSUPPORTED(C_GenerateKeyPair, (SH h, MP mech, AP t1, UL n1, AP t2, UL n2, OH *k1, OH *k2))
UNSUPPORTED(C_WrapKey, (SH h, MP mech, OH wk, OH k, BP out, ULP out_len))
UNSUPPORTED(C_UnwrapKey, (SH h, MP mech, OH uk, BP in, UL in_len, AP t, UL n, OH *k))
UNSUPPORTED(C_DeriveKey, (SH h, MP mech, OH base, AP t, UL n, OH *k))
UNSUPPORTED(C_GetFunctionStatus, (SH h))
UNSUPPORTED(C_CancelFunction, (SH h))

/* In the order of struct ck_function_list, which the designators check anyway. */
#define F(name) .name = name
static CK_FUNCTION_LIST function_list = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
	F(C_Initialize), F(C_Finalize), F(C_GetInfo), F(C_GetFunctionList),
	F(C_GetSlotList), F(C_GetSlotInfo), F(C_GetTokenInfo), F(C_GetMechanismList),
	F(C_GetMechanismInfo), F(C_InitToken), F(C_InitPIN), F(C_SetPIN),
	F(C_OpenSession), F(C_CloseSession), F(C_CloseAllSessions), F(C_GetSessionInfo),
	F(C_GetOperationState), F(C_SetOperationState), F(C_Login), F(C_Logout),
	F(C_CreateObject), F(C_CopyObject), F(C_DestroyObject), F(C_GetObjectSize),
	F(C_GetAttributeValue), F(C_SetAttributeValue), F(C_FindObjectsInit), F(C_FindObjects),
	F(C_FindObjectsFinal), F(C_EncryptInit), F(C_Encrypt), F(C_EncryptUpdate),
	F(C_EncryptFinal), F(C_DecryptInit), F(C_Decrypt), F(C_DecryptUpdate),
	F(C_DecryptFinal), F(C_DigestInit), F(C_Digest), F(C_DigestUpdate),
	F(C_DigestKey), F(C_DigestFinal), F(C_SignInit), F(C_Sign),
	F(C_SignUpdate), F(C_SignFinal), F(C_SignRecoverInit), F(C_SignRecover),
	F(C_VerifyInit), F(C_Verify), F(C_VerifyUpdate), F(C_VerifyFinal),
	F(C_VerifyRecoverInit), F(C_VerifyRecover), F(C_DigestEncryptUpdate),
	F(C_DecryptDigestUpdate), F(C_SignEncryptUpdate), F(C_DecryptVerifyUpdate),
	F(C_GenerateKey), F(C_GenerateKeyPair), F(C_WrapKey), F(C_UnwrapKey),
	F(C_DeriveKey), F(C_SeedRandom), F(C_GenerateRandom), F(C_GetFunctionStatus),
	F(C_CancelFunction), F(C_WaitForSlotEvent),
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}
