/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A certificate as the API shows it. */
#ifndef KYSOD_CERT_INFO_H
#define KYSOD_CERT_INFO_H
#include <stddef.h>
#include <jansson.h>
#include <openssl/x509.h>

struct cert_facts {
	int is_rsa;
	int key_bits;
	char holder[256];	/* subject CN, UTF-8; the whole subject when it has none */
};

/* The API object for x (without id/token/key_id/label, which the caller adds),
 * and the facts signing needs. Returns a new reference or NULL. */
json_t *cert_info_json(X509 *x, struct cert_facts *facts);

/* Lowercase hex SHA-256 of the DER certificate into id (65 bytes). */
int cert_info_id(X509 *x, char *id);

#endif
