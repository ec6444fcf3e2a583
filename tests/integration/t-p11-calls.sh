#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The PKCS#11 calls kyso makes per signature, logged by OpenSC's pkcs11-spy between kyso-p11
# and SoftHSM2: on a logged-in token a signature is C_SignInit + C_Sign and nothing else (the
# key and its session are kept per login; the helper's slot poll, every 0.5 s, reads only
# slot and token information). After a logout the key is looked up again, once.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm
SPY=
for f in /usr/lib/*/pkcs11-spy.so /usr/lib/*/pkcs11/pkcs11-spy.so; do
	[ -r "$f" ] && { SPY=$(realpath "$f"); break; }
done
[ -n "$SPY" ] || plan_skip_all "OpenSC's pkcs11-spy.so is not installed (opensc-pkcs11)"

make_softhsm_token
export PKCS11SPY=$SOFTHSM PKCS11SPY_OUTPUT=$T/spy.log
CONF_ALLOW="$(dirname "$SPY")/*.so $(dirname "$(realpath "$SOFTHSM")")/*.so" \
	write_conf --module "spy=$SPY"
pinentry_says "pin 123456"
start_kysod

# calls_since OFFSET: the PKCS#11 functions called after byte OFFSET of the spy's log, one
# "NAME COUNT" line each
calls_since()
{
	tail -c +"$(($1 + 1))" "$PKCS11SPY_OUTPUT" | sed -n 's/^[0-9]*: \(C_[A-Za-z]*\).*/\1/p' |
		sort | uniq -c | awk '{ print $2, $1 }'
}

sign_and_verify p256 sha256	# logs the token in, looks the key up
sign_and_verify rsa sha256
OFF=$(stat -c %s "$PKCS11SPY_OUTPUT")
for i in $(seq 1 10); do
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
	[ "$STATUS" = 200 ] || break
	save_signature "$T/sig.$i" && verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/sig.$i" sha256 ||
		break
done
is "$i $STATUS" "10 200" "10 more signatures on the logged-in token, each verified with openssl"
CALLS=$(calls_since "$OFF")
note "module calls during them: $(echo "$CALLS" | tr '\n' ' ')"
is "$(echo "$CALLS" | awk '$1 == "C_SignInit" || $1 == "C_Sign"' | tr '\n' ' ')" "C_Sign 10 C_SignInit 10 " \
	"one C_SignInit and one C_Sign per signature"
is "$(echo "$CALLS" | awk '$1 != "C_SignInit" && $1 != "C_Sign" && $1 != "C_GetSlotList" &&
	$1 != "C_GetSlotInfo" && $1 != "C_GetTokenInfo"' | tr '\n' ' ')" "" \
	"no other call but the slot poll's (no session opened, no object search, no attribute read, no login)"

# After a logout the next signature logs in again and looks its key up again.
api POST /v1/logout '{}'
is "$STATUS" 200 "logout"
OFF=$(stat -c %s "$PKCS11SPY_OUTPUT")
sign_and_verify p256 sha256
CALLS=$(calls_since "$OFF")
like "$(echo "$CALLS" | tr '\n' ' ')" "C_FindObjectsInit [1-9]" "after a logout the key is looked up again"
like "$(echo "$CALLS" | tr '\n' ' ')" "C_Login 1 " "...after one login"
OFF=$(stat -c %s "$PKCS11SPY_OUTPUT")
sign_and_verify p256 sha256
is "$(calls_since "$OFF" | awk '$1 == "C_FindObjectsInit" || $1 == "C_Login" || $1 == "C_OpenSession"')" "" \
	"and kept again for the signature after"
stop_kysod
done_testing
