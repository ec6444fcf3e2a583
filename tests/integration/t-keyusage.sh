#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Key usage of the signer's certificate: nonRepudiation alone (the usual kind for qualified
# signatures) and digitalSignature alone are accepted, for raw, CMS and batch signatures, each
# verified with openssl; keyCertSign alone is refused before any PIN dialog.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

ca_init
ca_issue nronly p256 "Chỉ Chống Chối Bỏ" --ku nonRepudiation
ca_issue nrrsa rsa "Chống Chối Bỏ RSA" --ku nonRepudiation
ca_issue dsonly p256 "Chỉ Ký Số" --ku digitalSignature
ca_issue csonly p256 "Chỉ Ký Chứng Thư" --ku keyCertSign
make_ca_token kyso-ku nronly:31 nrrsa:32 dsonly:33 csonly:34
for n in nronly nrrsa dsonly csonly; do
	openssl x509 -in "${CERT_PEM[$n]}" -noout -ext keyUsage > "$T/ku.$n" 2>&1
done
like "$(tail -n 1 "$T/ku.nronly")" '^ *Non Repudiation *$' "nronly: the certificate's keyUsage is nonRepudiation alone"
like "$(tail -n 1 "$T/ku.dsonly")" '^ *Digital Signature *$' "dsonly: the certificate's keyUsage is digitalSignature alone"
like "$(tail -n 1 "$T/ku.csonly")" '^ *Certificate Sign *$' "csonly: the certificate's keyUsage is keyCertSign alone"

write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off
start_kysod
pinentry_says "pin 123456"

# usable NAME: "usable problems…" of a certificate in GET /v1/certificates.
usable()
{
	api GET /v1/certificates
	json_get "[' '.join([str(c['usable']).lower()] + c['problems'])
		for c in j['certificates'] if c['id'] == '${CERT_ID[$1]}'][0]"
}

is "$(usable nronly)" true "GET /v1/certificates: nonRepudiation only is usable"
is "$(usable nrrsa)" true "GET /v1/certificates: nonRepudiation only (RSA) is usable"
is "$(usable dsonly)" true "GET /v1/certificates: digitalSignature only is usable"
is "$(usable csonly)" "false certificate_usage" "GET /v1/certificates: keyCertSign only has certificate_usage"

# Raw signatures, verified with openssl.
sign_and_verify nronly sha256
sign_and_verify nrrsa sha384 pss
sign_and_verify nrrsa sha256 pkcs1
sign_and_verify dsonly sha512

# CMS over a record, verified with openssl cms against the CA.
for n in nronly dsonly; do
	head -c 500 /dev/urandom > "$T/record.$n"
	make_hash sha256
	openssl dgst -sha256 -binary "$T/record.$n" > "$HASH_FILE"
	HASH_B64=$(openssl base64 -A -in "$HASH_FILE")
	api POST /v1/sign "{\"certificate\":\"${CERT_ID[$n]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"format\":\"cms\"}"
	is "$STATUS" 200 "$n: CMS signature 200" || diag "$BODY"
	save_signature "$T/cms.$n.der"
	openssl cms -verify -binary -inform DER -in "$T/cms.$n.der" -content "$T/record.$n" \
		-CAfile "$CA_BUNDLE" -purpose any -out /dev/null > "$T/cmsverify.out" 2>&1
	ok $? "$n: openssl cms -verify accepts the CMS signature" || diag "$(cat "$T/cmsverify.out")"
done

# A batch with nonRepudiation only.
batch_make nr "${CERT_ID[nronly]}" sha256 20
batch_post nr
is "$STATUS $(json_get 'j["signed"]')" "200 20" "nronly: a batch of 20 signed"
batch_verify --signed 20 nr "$T/batch.nr.ans" "${CERT_PEM[nronly]}" sha256 > "$T/sum"
ok $? "nronly: the batch's 20 signatures verify (cryptography)" || diag "$(cat "$T/sum")"

# keyCertSign only: refused before any dialog, nothing signed.
api POST /v1/logout '{}'
n=$(getpin_count)
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[csonly]}" sha256)"
is_error 422 certificate_usage "keyCertSign only: 422 certificate_usage"
unlike "$BODY" '"signature"' "keyCertSign only: no signature"
batch_make cs "${CERT_ID[csonly]}" sha256 3
batch_post cs
is_error 422 certificate_usage "keyCertSign only: a batch is refused too"
is "$(getpin_count)" "$n" "keyCertSign only: no PIN asked"
stop_kysod

done_testing
