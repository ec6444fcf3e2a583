#!/bin/bash
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
	skip 14 "mock PKCS#11 module not built"
	done_testing
	exit
fi
make_mock_key p256
export KYSO_MOCK_FAULT=slow-sign KYSO_MOCK_DELAY_MS=2500
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sign_and_verify mock sha256
P1=$(helper_field pid)
t0=$(now_ms)
sign_bg mock mid 20
sleep 1
kill -KILL "$P1"
sign_bg_wait mid
t1=$(now_ms)
is_error 502 module_crashed "helper killed mid-signature: 502 module_crashed"
ok $(( t1 - t0 < 2500 ? 0 : 1 )) "the in-flight request was answered at once ($((t1 - t0)) ms)"
wait_restarted "$P1"
ok $? "helper restarted after the mid-signature kill"
is "$(helper_field restarts)" 1 "restarts counter is 1"
check "the killed helper was reaped (no zombie)" reaped "$P1"
sign_and_verify mock sha384
stop_kysod

done_testing
