#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Certificate checks before signing: validity period, key usage, chain to the CA bundle,
# revocation by OCSP (a real `openssl ocsp` responder on loopback: good, revoked, unknown,
# down) and by CRL; every unfit certificate refused before any PIN prompt; "usable" and
# "problems" in GET /v1/certificates; check_certificates = off; no ca_bundle.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

ca_init
ca_other_init
OCSP_PORT=$(free_port)
OCSP_URL=http://127.0.0.1:$OCSP_PORT/
ca_issue good p256 "Nguyễn Thị Hoa" --ocsp "$OCSP_URL"
ca_issue goodrsa rsa "Phan Văn Khải" --ocsp "$OCSP_URL"
ca_issue revoked p256 "Đã Thu Hồi" --ocsp "$OCSP_URL"
ca_issue unknown p256 "Không Rõ" --ocsp "$OCSP_URL"
ca_issue expired p256 "Hết Hạn" --start 20200101000000Z --end 20210101000000Z --ocsp "$OCSP_URL"
ca_issue future p256 "Chưa Hiệu Lực" --start 20350101000000Z --end 20360101000000Z \
	--ocsp "$OCSP_URL"
ca_issue kuenc rsa "Chỉ Mã Hoá" --ku keyEncipherment,dataEncipherment --ocsp "$OCSP_URL"
ca_issue noku p256 "Không Key Usage" --ku none --ocsp "$OCSP_URL"
ca_issue noaia p256 "Không AIA"
ca_issue untrusted p256 "Ngoài Chuỗi" --ca other
ca_revoke revoked
ca_forget unknown
ca_crl "$T/ca.crl"
# the root's CRL says the issuing CA is not revoked (every CA of the chain is checked too)
ca_crl_of root "$T/root.crl"
make_ca_token kyso-ca good:11 goodrsa:12 revoked:13 unknown:14 expired:15 future:16 kuenc:17 \
	noku:18 noaia:19 untrusted:1a

# sign NAME: POST /v1/sign with a fresh SHA-256 hash (raw, default padding).
sign()
{
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[$1]}" sha256)"
}

# refused NAME STATUS CODE DESC: the signature is refused with that error, and no PIN
# dialog was opened for it.
refused()
{
	local before
	before=$(getpin_count)
	sign "$1"
	is_error "$2" "$3" "$4"
	is "$(getpin_count)" "$before" "$4: no PIN asked"
}

# problems NAME: "usable problems…" of a certificate in GET /v1/certificates.
problems()
{
	api GET /v1/certificates
	json_get "[' '.join([str(c['usable']).lower()] + c['problems'])
		for c in j['certificates'] if c['id'] == '${CERT_ID[$1]}'][0]"
}

# ---------------------------------------------------------------- strict, OCSP from the AIA
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp_timeout=3 "crl=$T/root.crl"
start_kysod
ocsp_start "$OCSP_PORT"

is "$(problems good)" "true" "GET /v1/certificates: an issued certificate is usable"
is "$(problems noku)" "true" "a certificate without a keyUsage extension is usable"
is "$(problems expired)" "false certificate_expired" "an expired certificate: certificate_expired"
is "$(problems future)" "false certificate_not_yet_valid" \
	"a certificate not yet valid: certificate_not_yet_valid"
is "$(problems kuenc)" "false certificate_usage" "keyEncipherment only: certificate_usage"
is "$(problems untrusted)" "false certificate_untrusted" \
	"a certificate of another CA: certificate_untrusted"
is "$(problems revoked)" "true" "revocation is not looked up for the list (signing time only)"
api GET "/v1/certificates/${CERT_ID[expired]}"
is "$(json_get '[j["usable"], j["problems"]]')" '[false, ["certificate_expired"]]' \
	"GET /v1/certificates/{id} has usable and problems too"

refused expired 422 certificate_expired "expired certificate refused"
like "$(json_get 'j["error"]["message"]')" "expired at 2021-01-01T00:00:00Z" \
	"the message says when it expired"
is "$(json_get 'j["error"]["problems"]')" '["certificate_expired"]' "the error lists the problems"
refused future 422 certificate_not_yet_valid "certificate not yet valid refused"
refused kuenc 422 certificate_usage "certificate without a signing key usage refused"
refused untrusted 422 certificate_untrusted "certificate outside the CA bundle refused"
refused revoked 422 certificate_revoked "revoked certificate (OCSP) refused"
like "$(json_get 'j["error"]["message"]')" "OCSP.*revoked" "the message names OCSP"
refused unknown 502 revocation_unknown "certificate the OCSP responder does not know refused"
refused noaia 502 revocation_unknown "certificate without an OCSP URL refused (no CRL either)"
is "$(grep -c GETPIN "$KYSO_PINENTRY_LOG")" 0 "the pinentry log shows no GETPIN at all"

sign good
is "$STATUS" 200 "an issued, unrevoked certificate signs (OCSP good)"
is "$(getpin_count)" 1 "...after the PIN dialog"
sign goodrsa
is "$STATUS" 200 "an RSA certificate of the CA signs too"
sign noku
is "$STATUS" 200 "a certificate without keyUsage signs"
api POST /v1/logout '{}'

# The responder goes away: the status is unknown, so nothing is signed.
ocsp_stop
refused good 502 revocation_unknown "OCSP responder down: revocation_unknown"
like "$(json_get 'j["error"]["message"]')" "did not answer" "the message says the responder did not answer"
stop_kysod

# ---------------------------------------------------------------- soft fail
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp_timeout=2 \
	revocation_soft_fail=yes "crl=$T/root.crl"
start_kysod
n=$(getpin_count)
sign good
is "$STATUS" 200 "revocation_soft_fail: responder down, the signature is made"
is "$(getpin_count)" $((n + 1)) "...after the PIN dialog"
refused expired 422 certificate_expired "revocation_soft_fail does not let an expired certificate sign"
grep -q "revocation_soft_fail" "$KYSOD_LOG"
ok $? "the log says a signature was made without a revocation status"
stop_kysod

# ---------------------------------------------------------------- ocsp_url override
ocsp_start "$OCSP_PORT"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" "ocsp_url=$OCSP_URL" \
	"crl=$T/root.crl"
start_kysod
sign noaia
is "$STATUS" 200 "ocsp_url: a certificate without AIA is checked with the configured responder"
refused revoked 422 certificate_revoked "ocsp_url: revoked still refused"
stop_kysod
ocsp_stop

# ---------------------------------------------------------------- CRL only
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off "crl=$T/ca.crl $T/root.crl"
start_kysod
api POST /v1/logout '{}'
refused revoked 422 certificate_revoked "CRL: revoked certificate refused"
like "$(json_get 'j["error"]["message"]')" "CRL" "the message names the CRL"
sign unknown
is "$STATUS" 200 "CRL: a certificate not on the CRL signs (the responder is not asked)"
sign noaia
is "$STATUS" 200 "CRL: a certificate without AIA signs"
refused untrusted 422 certificate_untrusted "CRL configuration: another CA's certificate still refused"
stop_kysod

# A CRL directory, and a new CRL picked up without a restart.
mkdir -p "$T/crls"
ca_issue later p256 "Thu Hồi Sau"
make_ca_token kyso-ca-2 later:21
ca_crl "$T/crls/int.crl"
cp "$T/root.crl" "$T/crls/root.crl"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_DIR" ocsp=off "crl=$T/crls"
# the bundle directory holds other files too: they are skipped
start_kysod
sign later
is "$STATUS" 200 "CRL directory, CA bundle directory: a good certificate signs"
ca_revoke later
sleep 1.1
ca_crl "$T/crls/int.crl.new" && mv "$T/crls/int.crl.new" "$T/crls/int.crl"
refused later 422 certificate_revoked "a replaced CRL file is read again without a restart"
stop_kysod

# ---------------------------------------------------------------- check_certificates = off
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" check_certificates=off
start_kysod
is "$(problems expired)" "true" "check_certificates=off: an expired certificate is listed usable"
sign expired
is "$STATUS" 200 "check_certificates=off: an expired certificate signs"
sign untrusted
is "$STATUS" 200 "check_certificates=off: an untrusted certificate signs"
stop_kysod

# ---------------------------------------------------------------- no ca_bundle
write_conf --module "softhsm=$SOFTHSM"
start_kysod
api POST /v1/logout '{}'
is "$(problems untrusted)" "true" "no ca_bundle: the chain is not checked"
is "$(problems expired)" "false certificate_expired" "no ca_bundle: validity still checked"
is "$(problems kuenc)" "false certificate_usage" "no ca_bundle: key usage still checked"
refused expired 422 certificate_expired "no ca_bundle: expired certificate refused"
refused kuenc 422 certificate_usage "no ca_bundle: wrong key usage refused"
n=$(getpin_count)
sign untrusted
is "$STATUS" 200 "no ca_bundle: a certificate of any CA signs"
sign revoked
is "$STATUS" 200 "no ca_bundle: revocation is not checked (the issuer is not known)"
is "$(getpin_count)" $((n + 1)) "one PIN dialog for both"

# Batches are checked the same way, before the dialog.
n=$(getpin_count)
api POST /v1/sign/batch "{\"certificate\":\"${CERT_ID[expired]}\",\"hash_algorithm\":\"sha256\",\"items\":[{\"id\":\"a\",\"hash\":\"$HASH_B64\"}]}"
is_error 422 certificate_expired "a batch with an expired certificate is refused"
is "$(getpin_count)" "$n" "...without a dialog"

# The audit log records the refusals with their code.
audit_settle
grep -q '"result":"certificate_expired"' "$AUDIT_LOG"
ok $? "the audit log records a refused signature with its code"
stop_kysod

# ---------------------------------------------------------------- configuration errors
# conf_refused SETTING: kysod with that setting exits by itself with an error status, and its
# message names the key (2 TAP lines). kysod is never judged by a timeout.
conf_refused()
{
	local key=${1%%=*}
	write_conf --module "softhsm=$SOFTHSM" "$1"
	kysod_once "$CONF" "$T/conf.out"
	kysod_refused
	ok $? "config $1 is refused (kysod: $KYSOD_RC)"
	like "$(cat "$T/conf.out")" "\\[kysod\\] $key: " "config $1: the message names $key" ||
		diag "$(tail -n 3 "$T/conf.out")"
}
for bad in "ca_bundle=relative/path" "check_certificates=lax" "ocsp=maybe" "ocsp_timeout=0" \
	"ocsp_timeout=601" "tsa_url=ftp://x/" "crl=relative.crl" "revocation_soft_fail=perhaps" \
	"ca_bundle=$T/missing.pem"; do
	conf_refused "$bad"
done

done_testing
