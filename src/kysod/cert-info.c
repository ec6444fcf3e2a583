/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "kysod/cert-info.h"

static json_t *bio_string(BIO *bio)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	return json_stringn(data, (size_t)len);
}

static json_t *name_json(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	json_t *s = NULL;

	if (!bio)
		return json_string("");
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		s = bio_string(bio);
	if (!s) {
		/* not valid UTF-8: fall back to the escaped form */
		BIO_reset(bio);
		if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
			s = bio_string(bio);
	}
	BIO_free(bio);
	return s ? s : json_string("");
}

static json_t *time_json(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (!ASN1_TIME_to_tm(t, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *serial_json(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	json_t *s;
	char *p;

	if (!hex) {
		BN_free(bn);
		return json_string("");
	}
	for (p = hex; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	s = json_string(hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

static json_t *usage_json(X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} usages[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	uint32_t ku = X509_get_key_usage(x);
	json_t *list = json_array();
	size_t i;

	if (ku == UINT32_MAX)
		return list;
	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (ku & usages[i].bit)
			json_array_append_new(list, json_string(usages[i].name));
	return list;
}

static void holder_name(X509 *x, char *out, size_t outlen)
{
	X509_NAME *subject = X509_get_subject_name(x);
	int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int len;

	out[0] = '\0';
	if (idx >= 0) {
		len = ASN1_STRING_to_UTF8(&utf8,
					  X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
		if (len > 0 && (size_t)len < outlen) {
			memcpy(out, utf8, (size_t)len);
			out[len] = '\0';
		}
		OPENSSL_free(utf8);
	}
	if (!out[0])
		X509_NAME_oneline(subject, out, (int)outlen);
}

int cert_info_id(X509 *x, char *id)
{
	unsigned char md[32];
	unsigned int len = sizeof(md);

	if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32)
		return -1;
	kyso_hex_encode(md, 32, id);
	return 0;
}

json_t *cert_info_json(X509 *x, struct cert_facts *facts)
{
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	BIO *bio = BIO_new(BIO_s_mem());
	json_t *obj = NULL, *holder;
	char group[64];
	size_t glen = 0;

	memset(facts, 0, sizeof(*facts));
	if (!pkey || !bio || !PEM_write_bio_X509(bio, x))
		goto out;
	holder_name(x, facts->holder, sizeof(facts->holder));
	holder = json_string(facts->holder);
	obj = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o}",
			"subject", name_json(X509_get_subject_name(x)),
			"subject_cn", holder ? holder : json_string(""),
			"issuer", name_json(X509_get_issuer_name(x)),
			"serial", serial_json(X509_get0_serialNumber(x)),
			"not_before", time_json(X509_get0_notBefore(x)),
			"not_after", time_json(X509_get0_notAfter(x)),
			"key_usage", usage_json(x),
			"key_type", json_string(EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA ? "rsa" : "ec"),
			"key_bits", EVP_PKEY_get_bits(pkey),
			"pem", bio_string(bio));
	if (!obj)
		goto out;
	facts->is_rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	facts->key_bits = EVP_PKEY_get_bits(pkey);
	if (!facts->is_rsa && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen)) {
		const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));

		json_object_set_new(obj, "curve", json_string(nist ? nist : group));
	}
out:
	BIO_free(bio);
	return obj;
}
