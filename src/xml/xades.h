/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An enveloped XAdES signature (ETSI EN 319 132-1 baseline, B-B and B-T)
 * added to an XML document: a ds:Signature, the last child of the root
 * element, whose SignedInfo references the whole document (enveloped-
 * signature transform, then C14N) and the xades:SignedProperties
 * (SigningTime, SigningCertificateV2). libxml2 parses and canonicalises;
 * the signature value and the timestamp token are made elsewhere and put
 * in.
 */
#ifndef KYSO_XADES_H
#define KYSO_XADES_H
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <libxml/tree.h>

struct xades_opts {
	const EVP_MD *md;		/* sha256, sha384 or sha512 */
	int inclusive;			/* C14N 1.0; 0: exclusive C14N 1.0 */
	X509 *signer;			/* the signer's certificate */
	STACK_OF(X509) *chain;		/* more certificates for KeyInfo, or NULL */
	time_t when;			/* SigningTime */
};

struct xades {
	xmlDocPtr doc;
	xmlNodePtr signature, signed_info, signature_value, qualifying;
	const EVP_MD *md;
	int inclusive;
	int ec_bytes;			/* EC keys: the size of r and of s; 0: RSA */
};

/* Reads path and adds the signature, its value still empty. Documents
 * with a DTD are refused (entities and defaulted attributes would change
 * what is signed). Returns 0, or -1 with err. */
int xades_prepare(struct xades *x, const char *path, const struct xades_opts *o, char *err,
		  size_t errlen);

/* The digest (the md of the options) of the canonical SignedInfo: what is signed. */
int xades_signed_info_digest(struct xades *x, unsigned char *out, unsigned int *len);

/* Puts the signature (RSA: the signature block; EC: a DER ECDSA-Sig-Value,
 * written as r || s) into SignatureValue. Returns 0, or -1 with err. */
int xades_put_signature(struct xades *x, const unsigned char *sig, size_t len, char *err,
			size_t errlen);

/* The SHA-256 of the canonical SignatureValue: the message imprint of a
 * SignatureTimeStamp. */
int xades_signature_value_digest(struct xades *x, unsigned char *out, unsigned int *len);

/* Adds the RFC 3161 token (DER) as the SignatureTimeStamp (B-T). */
int xades_put_timestamp(struct xades *x, const unsigned char *token, size_t len);

/* Writes the signed document to path (UTF-8). Returns 0, or -1 with err. */
int xades_save(struct xades *x, const char *path, char *err, size_t errlen);

void xades_free(struct xades *x);

#endif
