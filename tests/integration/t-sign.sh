#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# POST /v1/sign with RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256 and P-384 over sha256/384/512,
# each signature verified with openssl; kept logins, POST /v1/logout, login_ttl.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"

# ---------------------------------------------------------------- every algorithm
sign_and_verify rsa sha256
is "$(getpin_count)" 1 "first signature asked the PIN once"
is "$(token_pin "$TOKEN_ID" logged_in true)" true "token is logged in after a signature"

for alg in sha256 sha384 sha512; do
	sign_and_verify rsa "$alg" pkcs1
	sign_and_verify rsa "$alg" pss
	sign_and_verify p256 "$alg"
	sign_and_verify p384 "$alg"
done
is "$(getpin_count)" 1 "login kept: no further GETPIN for 13 more signatures"

# The verification itself can fail: a corrupted signature and a wrong hash are rejected.
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256 pss)"
save_signature "$T/good.sig"
verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/good.sig" sha256 pss
ok $? "PSS signature verifies (control)"
cp "$T/good.sig" "$T/bad.sig"
printf '\x55' | dd of="$T/bad.sig" bs=1 seek=100 conv=notrunc 2>/dev/null
cmp -s "$T/good.sig" "$T/bad.sig" && printf '\xaa' | dd of="$T/bad.sig" bs=1 seek=100 conv=notrunc 2>/dev/null
! verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/bad.sig" sha256 pss
ok $? "a corrupted RSA signature fails verification"
! verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/good.sig" sha256 pkcs1
ok $? "a PSS signature fails verification as PKCS#1 v1.5"
! verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/good.sig" sha256
ok $? "an RSA signature fails verification with another certificate"

make_hash sha384
api POST /v1/sign "$(sign_body "${CERT_ID[p384]}" sha384)"
save_signature "$T/good.sig"
verify_sig "${CERT_PEM[p384]}" "$HASH_HEX" "$T/good.sig" sha384
ok $? "ECDSA P-384 signature verifies (control)"
openssl asn1parse -inform DER -in "$T/good.sig" > "$T/asn1.txt" 2>&1
like "$(head -n 1 "$T/asn1.txt")" '^ *0:d=0 +hl=[0-9]+ l= *[0-9]+ cons: SEQUENCE *$' "ECDSA signature is a DER ECDSA-Sig-Value (a SEQUENCE at offset 0)"
is "$(grep -c 'prim: INTEGER' "$T/asn1.txt") $(grep -vc -E 'SEQUENCE|prim: INTEGER' "$T/asn1.txt")" "2 0" \
	"...holding two INTEGERs and nothing else"
is "$(grep -c 'INTEGER' "$T/asn1.txt")" 2 "ECDSA-Sig-Value holds two INTEGERs"
cp "$T/good.sig" "$T/bad.sig"
len=$(stat -c %s "$T/bad.sig")
printf '\x01' | dd of="$T/bad.sig" bs=1 seek=$((len - 2)) conv=notrunc 2>/dev/null
cmp -s "$T/good.sig" "$T/bad.sig" && printf '\x02' | dd of="$T/bad.sig" bs=1 seek=$((len - 2)) conv=notrunc 2>/dev/null
! verify_sig "${CERT_PEM[p384]}" "$HASH_HEX" "$T/bad.sig" sha384
ok $? "a corrupted ECDSA signature fails verification"
OTHER=$(printf '%s' "$HASH_HEX" | tr '0-9a-f' '1-9a-f0')
! verify_sig "${CERT_PEM[p384]}" "$OTHER" "$T/good.sig" sha384
ok $? "an ECDSA signature fails verification over another hash"

# PKCS#1 v1.5 is deterministic: the same hash gives the same signature.
make_hash sha512
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha512 pkcs1)"
S1=$(json_get 'j["signature"]')
is "$STATUS" 200 "explicit pkcs1 over sha512: 200"
save_signature "$T/pkcs1.sig" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/pkcs1.sig" sha512 pkcs1
ok $? "explicit pkcs1 over sha512: openssl verifies it as PKCS#1 v1.5"
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha512)"
S2=$(json_get 'j["signature"]')
is "$STATUS" 200 "no padding given: 200"
is "$S2" "$S1" "padding defaults to pkcs1 (identical deterministic signature)"
is "$(json_get 'j["algorithm"]')" rsa-pkcs1-sha512 "default padding reports rsa-pkcs1-sha512"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[rsa]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha512\",\"format\":\"raw\"}"
is "$STATUS" 200 "format raw: 200"
is "$(json_get 'j["signature"]')" "$S1" "format raw accepted (same signature)"

# Concurrent requests on a logged-in token all succeed.
make_hash sha256
BODY_RSA=$(sign_body "${CERT_ID[rsa]}" sha256 pss)
BODY_EC=$(sign_body "${CERT_ID[p256]}" sha256)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	if [ $((i % 2)) = 0 ]; then b=$BODY_RSA; else b=$BODY_EC; fi
	curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		--data-binary "$b" -o "$T/par.$i.json" -w '%{http_code}' \
		http://localhost/v1/sign > "$T/par.$i.code" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for i in 1 2 3 4 5 6 7 8; do
	if [ $((i % 2)) = 0 ]; then key=rsa pad=pss; else key=p256 pad=; fi
	json_get 'j["signature"]' "$(cat "$T/par.$i.json")" | openssl base64 -d -A > "$T/par.$i.sig" 2>/dev/null
	if [ "$(cat "$T/par.$i.code")" = 200 ] &&
		verify_sig "${CERT_PEM[$key]}" "$HASH_HEX" "$T/par.$i.sig" sha256 "$pad"; then
		good=$((good + 1))
	else
		diag "parallel request $i: $(cat "$T/par.$i.code") $(cat "$T/par.$i.json")"
	fi
done
is "$good" 8 "8 concurrent signatures all succeed and verify"
is "$(getpin_count)" 1 "still a single GETPIN"

# ---------------------------------------------------------------- logout
api POST /v1/logout '{}'
is "$STATUS" 200 "POST /v1/logout {}: 200"
is "$(json_get 'j["logged_out"]')" 1 "logout: logged_out 1"
is "$(token_pin "$TOKEN_ID" logged_in false)" false "token no longer logged in"
sign_and_verify p256 sha256
is "$(getpin_count)" 2 "after logout the next signature asks the PIN again"
sign_and_verify rsa sha384 pss
is "$(getpin_count)" 2 "...and the new login is kept"

api POST /v1/logout "{\"token\":\"$TOKEN_ID\"}"
is "$STATUS" 200 "POST /v1/logout {token}: 200"
is "$(json_get 'j["logged_out"]')" 1 "logout of one token: logged_out 1"
api POST /v1/logout "{\"token\":\"$TOKEN_ID\"}"
is "$(json_get 'j["logged_out"]')" 0 "logout again: logged_out 0"
sign_and_verify p384 sha512
is "$(getpin_count)" 3 "after logout of the token the next signature asks the PIN again"
stop_kysod

# ---------------------------------------------------------------- login_ttl
write_conf --module "softhsm=$SOFTHSM" login_ttl=1
start_kysod
api GET /v1/status
is "$(json_get 'j["login_ttl"]')" 1 "status: login_ttl 1 from the config"
n=$(getpin_count)
sign_and_verify rsa sha256
is "$(getpin_count)" $((n + 1)) "login_ttl=1: first signature asks the PIN"
sleep 2.2
is "$(token_pin "$TOKEN_ID" logged_in false)" false "login_ttl=1: logged out after 2 s"
sign_and_verify rsa sha256
is "$(getpin_count)" $((n + 2)) "login_ttl=1: after 2 s the PIN is asked again"
stop_kysod

write_conf --module "softhsm=$SOFTHSM" login_ttl=0
start_kysod
n=$(getpin_count)
sign_and_verify p256 sha256
sign_and_verify p256 sha384
is "$(getpin_count)" $((n + 2)) "login_ttl=0: every signature asks the PIN"
is "$(token_pin "$TOKEN_ID" logged_in false)" false "login_ttl=0: not logged in after a signature"
stop_kysod

done_testing
