#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kyso-p11 helper killed with SIGKILL, idle and in the middle of a signature: kysod keeps
# serving, restarts it (restarts counter), reaps the dead one, and signing works again.
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
sign_and_verify rsa sha256

P1=$(helper_field pid)
is "$(helper_field restarts)" 0 "no restarts at first"
like "$P1" '^[0-9]+$' "helper pid $P1 known"
kill -KILL "$P1"
status_ok "GET /v1/status answered right after the helper was killed"

# The next signature succeeds once the helper is back; until then only the documented errors.
make_hash sha256
bad=
for ((i = 0; i < 50; i++)); do
	api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
	[ "$STATUS" = 200 ] && break
	case "$STATUS $(err_code)" in
	"503 module_unavailable"|"502 module_crashed"|"409 token_not_present") ;;
	*) bad="$bad [$STATUS $BODY]" ;;
	esac
	sleep 0.1
done
is "$STATUS" 200 "signing works again after the helper was killed (after $i retries)"
save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/sig.bin" sha256
ok $? "signature after the restart verifies"
is "$bad" "" "answers while restarting were only module_unavailable/module_crashed"
diag "GETPIN count after the restart: $(getpin_count)"
P2=$(helper_field pid)
isnt "$P2" "$P1" "a new helper process runs ($P2)"
is "$(helper_field restarts)" 1 "restarts counter is 1"
is "$(helper_field state)" running "module state running"
check "the killed helper was reaped (no zombie)" reaped "$P1"
api GET /v1/tokens
is "$(json_get '[t["id"] for t in j["tokens"] if t["present"]]' | tr -d '[]" ')" "$TOKEN_ID" \
	"token listed again with the same id"
api GET /v1/certificates
is "$(json_get 'len(j["certificates"])')" 3 "certificates listed again"

# Repeated crashes: each is restarted and counted.
for n in 2 3 4; do
	P=$(helper_field pid)
	kill -KILL "$P"
	wait_restarted "$P"
	ok $? "helper killed again ($n): restarted"
done
is "$(helper_field restarts)" 4 "restarts counter is 4"
sign_and_verify p384 sha512
stop_kysod

# ---------------------------------------------------------------- killed mid-signature
if [ ! -r "$MOCK_MODULE" ]; then
	fail "the mock PKCS#11 module is built by make check ($MOCK_MODULE)"
	done_testing
	exit
fi
make_mock_key p256
# The second signature waits in C_Sign while $T/hold exists (KYSO_MOCK_HOLD): the helper is
# killed once it is there, so the request is in flight whatever the machine's speed.
export KYSO_MOCK_HOLD=$T/hold
write_conf --module "mock=$MOCK_MODULE" request_timeout=120
start_kysod
sign_and_verify mock sha256
P1=$(helper_field pid)
touch "$T/hold"
sign_bg mock mid 100
wait_file "$T/hold.waiting"
ok $? "the signature is inside the module's C_Sign"
kill -KILL "$P1"
sign_bg_wait mid
# Answered at once: not after request_timeout (120 s, which would be 504 module_timeout),
# and while the signature it was waiting for could never have finished (still held).
is_error 502 module_crashed "helper killed mid-signature: 502 module_crashed"
check "...answered while the signature was still held (not by its end)" test -e "$T/hold"
rm -f "$T/hold"
wait_restarted "$P1"
ok $? "helper restarted after the mid-signature kill"
is "$(helper_field restarts)" 1 "restarts counter is 1"
check "the killed helper was reaped (no zombie)" reaped "$P1"
sign_and_verify mock sha384
stop_kysod
unset KYSO_MOCK_HOLD

done_testing
