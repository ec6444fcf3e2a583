#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Revocation of the whole chain on a three-level PKI made here: the root, a subordinate CA
# (its AIA names the root's OCSP responder) and a teacher's certificate with a UTF-8
# Vietnamese name and a UID like CCCD:001203012345 (its AIA names the sub-CA's responder).
# The sub-CA revoked on the root's CRL, then through the root's OCSP responder (`openssl
# ocsp` on loopback): signing refused before any PIN dialog, naming the sub-CA, and
# /v1/verify says revoked, naming it too. A sub-CA whose status cannot be learnt: refused
# (hard fail) or signed with a warning (revocation_soft_fail). Every signature made here is
# checked with openssl as well.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

ca_init
ROOT_OCSP_PORT=$(free_port)
SUB_OCSP_PORT=$(free_port)
while [ "$SUB_OCSP_PORT" = "$ROOT_OCSP_PORT" ]; do SUB_OCSP_PORT=$(free_port); done
SUB_CN="Kyso Test Sở Giáo Dục CA"
ca_sub sub "$SUB_CN" --ocsp "http://127.0.0.1:$ROOT_OCSP_PORT/"
ca_issue teacher p256 "Nguyễn Thị Thu Hà" --ca sub --uid CCCD:001203012345 \
	--ocsp "http://127.0.0.1:$SUB_OCSP_PORT/"
ca_issue teacher2 rsa "Trần Quốc Bảo" --ca sub --uid CCCD:079085001234 \
	--ocsp "http://127.0.0.1:$SUB_OCSP_PORT/"
make_ca_token kyso-chain teacher:41 teacher2:42
CHAIN_BUNDLE=$T/chain-bundle.pem
cat "$CA_ROOT" "$CA_DIR/sub/ca.pem" > "$CHAIN_BUNDLE"
cp "$CA_DIR/root/index.txt" "$T/root-index.good"
ca_crl_of root "$T/root.crl"
ca_crl_of sub "$T/sub.crl"

SUBJ=$(openssl x509 -in "${CERT_PEM[teacher]}" -noout -subject -nameopt RFC2253,-esc_msb)
like "$SUBJ" "UID=CCCD:001203012345,CN=Nguyễn Thị Thu Hà" \
	"the teacher's certificate has the UTF-8 name and the UID"
openssl verify -CAfile "$CA_ROOT" -untrusted "$CA_DIR/sub/ca.pem" "${CERT_PEM[teacher]}" \
	> "$T/verify.out" 2>&1
ok $? "openssl verifies the three-level chain"

# sign NAME [FORMAT]: POST /v1/sign with a fresh SHA-256 hash.
sign()
{
	make_hash sha256
	api POST /v1/sign "{\"certificate\":\"${CERT_ID[$1]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"format\":\"${2:-raw}\"}"
}

# refused NAME STATUS CODE DESC: refused with that error before any PIN dialog.
refused()
{
	local before
	before=$(getpin_count)
	sign "$1"
	is_error "$2" "$3" "$4"
	is "$(getpin_count)" "$before" "$4: no PIN asked"
}

# verify_cms HASH_B64 SIG_B64: POST /v1/verify.
verify_cms()
{
	api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$2\",\"hash\":\"$1\",\"hash_algorithm\":\"sha256\"}"
}

verdict()
{
	json_get "' '.join([j['status'], j['reason'], str(j['valid']).lower()])"
}

# findings KIND: "DEPTH:RESULT" of the crl or ocsp entries of the last answer.
findings()
{
	json_get "' '.join('%d:%s' % (c['depth'], c['result']) for c in j['checks'] if c['check'] == '$1')"
}

revocation_field()
{
	json_get "[c['$1'] for c in j['checks'] if c['check'] == 'revocation'][0]"
}

# ---------------------------------------------------------------- CRLs: every level good
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp=off \
	"crl=$T/root.crl $T/sub.crl"
start_kysod
sign teacher cms
is "$STATUS" 200 "three levels, nothing revoked: the teacher signs"
is "$(getpin_count)" 1 "...after one PIN dialog"
GOOD_HASH=$HASH_B64
GOOD_SIG=$(json_get 'j["signature"]')
printf '%s' "$GOOD_SIG" | openssl base64 -d -A > "$T/good.p7s"
cp "$T/data.bin" "$T/good.data"
openssl cms -verify -binary -inform DER -in "$T/good.p7s" -content "$T/good.data" \
	-CAfile "$CA_ROOT" -purpose any -out /dev/null > "$T/cms.out" 2>&1
ok $? "openssl cms verifies the signature and the chain it carries"
sign teacher2
is "$STATUS" 200 "an RSA teacher certificate under the sub-CA signs too"
save_signature "$T/raw2.sig"
verify_sig "${CERT_PEM[teacher2]}" "$HASH_HEX" "$T/raw2.sig" sha256 pkcs1
ok $? "...openssl pkeyutl verifies its signature"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "valid valid_now true" "/v1/verify: valid"
is "$(findings crl)" "1:ok 0:ok" "...a CRL finding for the sub-CA and for the teacher"
like "$(json_get '[c["certificate"] for c in j["checks"] if c["check"] == "crl"][0]')" "$SUB_CN" \
	"...naming the sub-CA"
grep -q "revocation: crl, depth 1 (CN=$SUB_CN" "$KYSOD_LOG"
ok $? "the debug log has the CRL finding for the sub-CA"
stop_kysod

# ---------------------------------------------------------------- the sub-CA revoked on the root's CRL
sleep 1.1
ca_revoke_in root sub cACompromise
ca_crl_of root "$T/root.crl"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp=off \
	"crl=$T/root.crl $T/sub.crl"
start_kysod
refused teacher 422 certificate_revoked "the sub-CA on the root's CRL: the teacher's signature refused"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked: on the CRL of CN=Kyso Test Root CA.*cACompromise" \
	"...the message names the sub-CA, the root's CRL and the reason"
is "$(json_get '[j["error"]["chain_certificate"]["depth"], j["error"]["chain_certificate"]["subject"]]')" \
	"[1, \"CN=$SUB_CN,O=Kyso Test,C=VN\"]" "...and the error says which certificate of the chain"
refused teacher2 422 certificate_revoked "...the other teacher under it too"
is "$(grep -c GETPIN "$KYSO_PINENTRY_LOG")" 1 "the pinentry log shows no GETPIN since"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "invalid revoked false" "/v1/verify of the earlier signature: invalid, revoked (cACompromise)"
is "$(revocation_field certificate)" "CN=$SUB_CN,O=Kyso Test,C=VN" "...naming the sub-CA"
is "$(revocation_field depth)" 1 "...at depth 1"
is "$(findings crl)" "1:failed" "...the root's CRL finding failed; the teacher is not asked about"
stop_kysod

# ---------------------------------------------------------------- the sub-CA revoked, by OCSP
# (the root's index says revoked for "superseded"; no CRL configured)
cp "$T/root-index.good" "$CA_DIR/root/index.txt"
ca_revoke_in root sub superseded
ca_ocsp_start root "$ROOT_OCSP_PORT"
ca_ocsp_start sub "$SUB_OCSP_PORT"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp_timeout=3
start_kysod
refused teacher 422 certificate_revoked "the sub-CA revoked by the root's OCSP responder: refused"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked: the OCSP responder http://127.0.0.1:$ROOT_OCSP_PORT/ says revoked.*superseded" \
	"...the message names the sub-CA and the root's responder"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "indeterminate revoked_no_poe false" \
	"/v1/verify: revoked (superseded), no timestamp to show the signature is older: indeterminate"
is "$(revocation_field certificate)" "CN=$SUB_CN,O=Kyso Test,C=VN" "...naming the sub-CA"
is "$(findings ocsp)" "1:failed" "...the root responder's answer is listed"
stop_kysod

# ---------------------------------------------------------------- OCSP: every level good
cp "$T/root-index.good" "$CA_DIR/root/index.txt"
ca_ocsp_stop root
ca_ocsp_start root "$ROOT_OCSP_PORT"
start_kysod
sign teacher
is "$STATUS" 200 "OCSP says good for the sub-CA (root's responder) and the teacher: signed"
save_signature "$T/raw.sig"
verify_sig "${CERT_PEM[teacher]}" "$HASH_HEX" "$T/raw.sig" sha256
ok $? "...openssl pkeyutl verifies the signature"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "valid valid_now true" "/v1/verify: valid"
is "$(findings ocsp)" "1:ok 0:ok" "...with an OCSP answer for each level"
like "$(json_get '[c["message"] for c in j["checks"] if c["check"] == "ocsp"][0]')" \
	"127.0.0.1:$ROOT_OCSP_PORT/ says good" "...the sub-CA's from the root's responder"
grep -q "revocation: ocsp, depth 1 (CN=$SUB_CN.*): ok" "$KYSOD_LOG"
ok $? "the debug log has the root responder's answer"
stop_kysod

# ---------------------------------------------------------------- the sub-CA's status cannot be learnt
ca_ocsp_stop root
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp_timeout=2
start_kysod
refused teacher 502 revocation_unknown "the root's responder down: hard fail, refused before the dialog"
like "$(json_get 'j["error"]["message"]')" "whether the certificate's issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked cannot be told.*did not answer" \
	"...the message names the sub-CA"
is "$(json_get 'j["error"]["chain_certificate"]["depth"]')" 1 "...the error says depth 1"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "indeterminate revocation_unknown false" "/v1/verify: indeterminate (revocation_unknown)"
is "$(revocation_field certificate)" "CN=$SUB_CN,O=Kyso Test,C=VN" "...naming the sub-CA"
is "$(findings ocsp)" "1:unknown 0:ok" "...the listed answers: none from the root, good from the sub-CA"
stop_kysod

write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp_timeout=2 \
	revocation_soft_fail=yes
start_kysod
n=$(getpin_count)
sign teacher
is "$STATUS" 200 "revocation_soft_fail: the sub-CA's status unknown, the signature is made"
is "$(getpin_count)" $((n + 1)) "...after the PIN dialog"
save_signature "$T/soft.sig"
verify_sig "${CERT_PEM[teacher]}" "$HASH_HEX" "$T/soft.sig" sha256
ok $? "...openssl pkeyutl verifies it"
grep -q "revocation_soft_fail" "$KYSOD_LOG"
ok $? "the log says a signature was made without the chain's revocation status"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "valid valid_now true" "/v1/verify with revocation_soft_fail: valid"
is "$(json_get '[c["result"] for c in j["checks"] if c["check"] == "revocation"][0]')" unknown \
	"...the revocation check still says unknown"
stop_kysod

# ---------------------------------------------------------------- no CRL from the root, no AIA
# (ca_init's issuing CA names no responder: only a CRL from the root can tell)
ca_issue plain p256 "Lê Văn Thường" --ocsp "http://127.0.0.1:$SUB_OCSP_PORT/"
make_ca_token kyso-chain-2 plain:43
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp_timeout=2
start_kysod
refused plain 502 revocation_unknown "an issuing CA without AIA and no root CRL: hard fail"
like "$(json_get 'j["error"]["message"]')" "Kyso Test Issuing CA.*names no OCSP responder" \
	"...saying the issuing CA names no responder"
stop_kysod
ca_ocsp_stop sub

done_testing
