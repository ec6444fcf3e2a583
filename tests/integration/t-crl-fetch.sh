#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# CRLs fetched from the CRL distribution points of the chain's certificates, no `crl`
# configured: a three-level PKI made here (the root, a sub-CA whose CDP names the root's
# CRL, teachers whose CDP names the sub-CA's CRL) with the CRLs served over loopback HTTP
# (python3 -m http.server). Good CRLs: signing works, the CRLs are fetched once and then
# reused (the server's access log counts the requests) until their nextUpdate. The sub-CA
# revoked on the root's served CRL: refused before any PIN dialog, naming the sub-CA. The
# server down: revocation_unknown (hard fail), signed under revocation_soft_fail. A CRL
# signed by another key with the root's name, and an older CRL served after a newer one:
# neither is used. /v1/verify lists the fetches in its checks. Every signature made here
# is checked with openssl as well.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

ca_init
WWW=$T/www
mkdir -p "$WWW"
PORT=$(free_port)
ROOT_URL=http://127.0.0.1:$PORT/root.crl
SUB_URL=http://127.0.0.1:$PORT/sub.crl
SUB_CN="Kyso Test Sở Giáo Dục CA"
ca_sub sub "$SUB_CN" --crl "$ROOT_URL"
ca_issue teacher p256 "Nguyễn Thị Thu Hà" --ca sub --uid CCCD:001203012345 --crl "$SUB_URL"
ca_issue teacher2 rsa "Trần Quốc Bảo" --ca sub --uid CCCD:079085001234 --crl "$SUB_URL"
# a teacher whose certificate names no CDP
ca_issue nocdp p256 "Phạm Minh Châu" --ca sub --uid CCCD:001203099999
make_ca_token kyso-crl teacher:41 teacher2:42 nocdp:43
CHAIN_BUNDLE=$T/chain-bundle.pem
cat "$CA_ROOT" "$CA_DIR/sub/ca.pem" > "$CHAIN_BUNDLE"
cp "$CA_DIR/root/index.txt" "$T/root-index.good"
# an early CRL of the root, kept to be served again after newer ones
ca_crl_of root "$T/root-old.crl"
sleep 1.1
# the root's CRL as PEM, the sub-CA's as DER
ca_crl_of root "$WWW/root.crl"
ca_crl_of sub "$T/sub.pem"
openssl crl -in "$T/sub.pem" -outform DER -out "$WWW/sub.crl" || bail_out "openssl crl -outform DER"
crl_serve_start "$WWW" "$PORT"

openssl x509 -in "$CA_DIR/sub/ca.pem" -noout -ext crlDistributionPoints > "$T/cdp.out" 2>&1
like "$(cat "$T/cdp.out")" "URI:$ROOT_URL" "the sub-CA's certificate names the root's CRL (CDP)"
openssl verify -crl_check_all -CRLfile "$WWW/root.crl" -CRLfile "$T/sub.pem" -CAfile "$CA_ROOT" \
	-untrusted "$CA_DIR/sub/ca.pem" "${CERT_PEM[teacher]}" > "$T/verify.out" 2>&1
ok $? "openssl verifies the chain and the CRLs that are served"

sign()
{
	make_hash sha256
	api POST /v1/sign "{\"certificate\":\"${CERT_ID[$1]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"format\":\"${2:-raw}\"}"
}

# signed NAME DESC: POST /v1/sign answers 200 and openssl verifies the raw signature (2 TAP lines).
signed()
{
	local pad=
	[ "${KEY_TYPE[$1]}" = rsa ] && pad=pkcs1
	sign "$1"
	is "$STATUS" 200 "$2" || diag "$BODY"
	save_signature "$T/raw.sig"
	verify_sig "${CERT_PEM[$1]}" "$HASH_HEX" "$T/raw.sig" sha256 $pad
	ok $? "...openssl pkeyutl verifies the signature"
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

verify_cms()
{
	api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$2\",\"hash\":\"$1\",\"hash_algorithm\":\"sha256\"}"
}

verdict()
{
	json_get "' '.join([j['status'], j['reason'], str(j['valid']).lower()])"
}

# crl_trail: "DEPTH:RESULT:SOURCE:FETCH" of the crl entries of the last answer's checks.
crl_trail()
{
	json_get "' '.join('%d:%s:%s:%s' % (c['depth'], c['result'], c.get('source'), c.get('fetch')) for c in j['checks'] if c['check'] == 'crl')"
}

counts()
{
	echo "$(crl_fetches root.crl) $(crl_fetches sub.crl)"
}

# ---------------------------------------------------------------- good CRLs, fetched once
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE"
start_kysod
sign teacher cms
is "$STATUS" 200 "no crl configured, the CDPs' CRLs say good: the teacher signs" || diag "$BODY"
is "$(getpin_count)" 1 "...after one PIN dialog"
GOOD_HASH=$HASH_B64
GOOD_SIG=$(json_get 'j["signature"]')
printf '%s' "$GOOD_SIG" | openssl base64 -d -A > "$T/good.p7s"
openssl cms -verify -binary -inform DER -in "$T/good.p7s" -content "$T/data.bin" \
	-CAfile "$CA_ROOT" -purpose any -out /dev/null > "$T/cms.out" 2>&1
ok $? "openssl cms verifies the signature and the chain it carries"
is "$(counts)" "1 1" "the root's CRL (PEM) and the sub-CA's (DER) were fetched once each"
grep -q "CRL: fetched $ROOT_URL: .* bytes, issued" "$KYSOD_LOG"
ok $? "the debug log records the fetch of the root's CRL"
grep -q "revocation: crl, depth 1 (CN=$SUB_CN.*): ok: not on the CRL of CN=Kyso Test Root CA.*fetched from $ROOT_URL" "$KYSOD_LOG"
ok $? "...and the finding for the sub-CA from it"
signed teacher2 "a second signature (another teacher under the sub-CA)"
signed teacher "a third signature"
is "$(counts)" "1 1" "...made no new fetch: both CRLs come from the cache"
grep -q "CRL: $ROOT_URL from the cache" "$KYSOD_LOG"
ok $? "the debug log says the root's CRL came from the cache"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "valid valid_now true" "/v1/verify: valid"
is "$(crl_trail)" "1:ok:cdp:cached 0:ok:cdp:cached" "...its checks list the CRLs of both levels, from the cache"
stop_kysod

# a new kysod starts with an empty cache: /v1/verify fetches and says so
start_kysod
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "valid valid_now true" "a new kysod: /v1/verify valid"
is "$(crl_trail)" "1:ok:cdp:fetched 0:ok:cdp:fetched" "...its checks list both CRLs as fetched"
is "$(json_get '[c["url"] for c in j["checks"] if c["check"] == "crl"]')" "[\"$ROOT_URL\", \"$SUB_URL\"]" \
	"...with the URL each came from"
like "$(json_get '[c["message"] for c in j["checks"] if c["check"] == "crl"][0]')" \
	"not on the CRL of CN=Kyso Test Root CA.* \(issued .*, next update .*\); fetched from $ROOT_URL\$" \
	"...the sub-CA's message names the root's CRL and where it was fetched"
is "$(counts)" "2 2" "...one more request for each"
stop_kysod

# many requests at once on an empty cache: one fetch of each CRL, the others wait for it
start_kysod
BODY_PAR="{\"format\":\"cms\",\"signature\":\"$GOOD_SIG\",\"hash\":\"$GOOD_HASH\",\"hash_algorithm\":\"sha256\"}"
pids=()
for i in 1 2 3 4 5 6; do
	curl -s --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d "$BODY_PAR" -o "$T/par.$i" http://localhost/v1/verify &
	pids+=($!)
done
wait "${pids[@]}"
valid=0
for i in 1 2 3 4 5 6; do
	[ "$(json_get "j['status']" "$(cat "$T/par.$i")")" = valid ] && valid=$((valid + 1))
done
is "$valid" 6 "six /v1/verify at once on a new kysod: all valid"
is "$(counts)" "3 3" "...with one request for each CRL"
stop_kysod

# OCSP off: the sub-CA's CRL is fetched, but the certificate without a CDP has no source
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" ocsp=off
start_kysod
refused nocdp 502 revocation_unknown "OCSP off, a teacher's certificate without a CDP: its status unknown, refused"
like "$(json_get 'j["error"]["message"]')" "whether the certificate is revoked cannot be told: no CRL is configured for it, its certificate names no CRL distribution point, and OCSP is off" \
	"...saying it names no CRL distribution point"
signed teacher "...while the teacher with a CDP signs"
stop_kysod

# crl_fetch = no, OCSP off, no crl: nothing to check revocation with
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" crl_fetch=no ocsp=off
start_kysod
before=$(counts)
signed teacher "crl_fetch = no: signing does not ask the CDPs"
is "$(counts)" "$before" "...no request made"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(json_get '[c["result"] for c in j["checks"] if c["check"] == "revocation"][0]')" skipped \
	"...and /v1/verify says the revocation check was skipped"
stop_kysod

# ---------------------------------------------------------------- a CRL signed by another key
# (a root with the same name and another key signs the CRL served as the root's)
_ca_make_root "$CA_DIR/fake" "Kyso Test Root CA"
ca_crl_of fake "$T/fake.crl"
cp "$WWW/root.crl" "$T/root-good.crl"
cp "$T/fake.crl" "$WWW/root.crl"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" crl_timeout=3
start_kysod
refused teacher 502 revocation_unknown "the root's CRL signed by another key: not trusted, refused"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked cannot be told: no CRL from its issuer CN=Kyso Test Root CA.*$ROOT_URL is not trusted: its signature does not verify" \
	"...the message names the sub-CA and why the CRL is not used"
is "$(json_get 'j["error"]["chain_certificate"]["depth"]')" 1 "...the error says depth 1"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "indeterminate revocation_unknown false" "/v1/verify: indeterminate"
is "$(crl_trail)" "1:unknown:cdp:failed 0:ok:cdp:cached" "...its checks list the failed fetch for the sub-CA"
# more than 16 MiB, or not a CRL at all: not used either
head -c $((16 * 1024 * 1024 + 1)) /dev/zero > "$WWW/root.crl"
refused teacher 502 revocation_unknown "a root CRL over 16 MiB: refused"
like "$(json_get 'j["error"]["message"]')" "$ROOT_URL: the answer is larger than 16777216 bytes" \
	"...the message says it is too large"
printf 'not a CRL\n' > "$WWW/root.crl"
refused teacher 502 revocation_unknown "a root CRL that is not a CRL: refused"
like "$(json_get 'j["error"]["message"]')" "$ROOT_URL sent no CRL \(10 bytes, neither DER nor PEM\)" \
	"...the message says what came"
cp "$T/root-good.crl" "$WWW/root.crl"
n=$(crl_fetches root.crl)
signed teacher "the good CRL served again: the forged one was not kept, the teacher signs"
is "$(crl_fetches root.crl)" $((n + 1)) "...after a new fetch"
stop_kysod

# ---------------------------------------------------------------- the sub-CA revoked on the root's CRL
sleep 1.1
ca_revoke_in root sub cACompromise
ca_crl_of root "$WWW/root.crl"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE"
start_kysod
refused teacher 422 certificate_revoked "the sub-CA on the root's served CRL: the teacher's signature refused"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked: on the CRL of CN=Kyso Test Root CA.*cACompromise.*fetched from $ROOT_URL" \
	"...the message names the sub-CA, the root's CRL, the reason and the URL"
is "$(json_get '[j["error"]["chain_certificate"]["depth"], j["error"]["chain_certificate"]["subject"]]')" \
	"[1, \"CN=$SUB_CN,O=Kyso Test,C=VN\"]" "...and the error says which certificate of the chain"
refused teacher2 422 certificate_revoked "...the other teacher under it too"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "invalid revoked false" "/v1/verify of the earlier signature: invalid, revoked"
is "$(crl_trail)" "1:failed:cdp:cached" "...the root's CRL (from the cache) says revoked; the teacher is not asked about"
stop_kysod
cp "$T/root-index.good" "$CA_DIR/root/index.txt"

# ---------------------------------------------------------------- the CRL server down
crl_serve_stop
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" crl_timeout=2
start_kysod
refused teacher 502 revocation_unknown "the CRL server down: hard fail, refused before the dialog"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\) is revoked cannot be told: no CRL from its issuer.*the CRL cannot be fetched: $ROOT_URL" \
	"...the message names the sub-CA and the URL that did not answer"
verify_cms "$GOOD_HASH" "$GOOD_SIG"
is "$(verdict)" "indeterminate revocation_unknown false" "/v1/verify: indeterminate (revocation_unknown)"
is "$(crl_trail)" "1:unknown:cdp:failed 0:unknown:cdp:failed" "...its checks list both failed fetches"
stop_kysod

write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" crl_timeout=2 \
	revocation_soft_fail=yes
start_kysod
n=$(getpin_count)
signed teacher "revocation_soft_fail: the CRLs cannot be fetched, the signature is made"
is "$(getpin_count)" $((n + 1)) "...after the PIN dialog"
grep -q "revocation_soft_fail" "$KYSOD_LOG"
ok $? "the log says a signature was made without the chain's revocation status"
stop_kysod

# ---------------------------------------------------------------- nextUpdate: fetched again after it
# the root's CRL due again in a few seconds; then an older one served (not taken), then a new one
ca_crl_of sub "$WWW/sub.crl"
crl_serve_start "$WWW" "$PORT"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CHAIN_BUNDLE" crl_timeout=3
start_kysod
_ca_run "short-lived CRL of root" openssl ca -config "$CA_DIR/root/ca.cnf" -gencrl -crlsec 15 \
	-out "$WWW/root.crl"
NEXT=$(date -d "$(openssl crl -in "$WWW/root.crl" -noout -nextupdate | cut -d= -f2)" +%s)
before=$(counts)
signed teacher "a root CRL due again in 15 s: the teacher signs"
read -r r0 s0 <<<"$before"
is "$(counts)" "$((r0 + 1)) $((s0 + 1))" "...both CRLs fetched"
signed teacher2 "a second signature before the root CRL's nextUpdate"
is "$(counts)" "$((r0 + 1)) $((s0 + 1))" "...no new fetch"
while [ "$(date +%s)" -le "$NEXT" ]; do sleep 0.5; done
cp "$T/root-old.crl" "$WWW/root.crl"
refused teacher 502 revocation_unknown "past the root CRL's nextUpdate, an older CRL served: it does not replace the newer one"
is "$(counts)" "$((r0 + 2)) $((s0 + 1))" "...the root's CRL was fetched again, not the sub-CA's"
like "$(json_get 'j["error"]["message"]')" "issuing CA \"CN=$SUB_CN.*\" \(depth 1 of the chain\).*the CRL from $ROOT_URL .* is older than the one kept" \
	"...the message says the fetched CRL is older than the one kept"
grep -q "is older than the one kept" "$KYSOD_LOG"
ok $? "...and so does the log"
ca_crl_of root "$WWW/root.crl"
signed teacher "a new CRL served: the teacher signs"
is "$(counts)" "$((r0 + 3)) $((s0 + 1))" "...after one more fetch of the root's CRL"
signed teacher "and signs again"
is "$(counts)" "$((r0 + 3)) $((s0 + 1))" "...from the cache"
stop_kysod
crl_serve_stop

done_testing
