#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Faults injected by the mock PKCS#11 module: crash in C_Sign, hang in C_Sign (request_timeout),
# token removed during C_Sign, crash in C_Initialize, module failing to load, no raw RSA.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_mock

make_mock_key rsa
export KYSO_MOCK_SERIAL=FAULT01
MOCK_TOKEN_ID=$(token_id kyso mock FAULT01)
pinentry_says "pin 123456"

# mock_env FAULT [AFTER]: the mock's fault settings for the next kysod start.
mock_env()
{
	export KYSO_MOCK_FAULT=$1
	export KYSO_MOCK_FAULT_AFTER=${2:-0}
}

# sign_expect DESC STATUS CODE: one signature with the mock key, expecting an error.
sign_expect()
{
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
	is_error "$2" "$3" "$1"
}

# ---------------------------------------------------------------- crash in C_Sign
mock_env crash-sign 1
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sign_and_verify mock sha256
P1=$(helper_field pid)
sign_expect "crash-sign: 502 module_crashed" 502 module_crashed
status_ok "crash-sign: daemon serves"
wait_restarted "$P1"
ok $? "crash-sign: helper restarted"
is "$(helper_field restarts)" 1 "crash-sign: restarts counter 1"
check "crash-sign: crashed helper reaped" reaped "$P1"
# the helper said where it died: the signal, then its stack through the module
like "$(grep -A 12 '^kyso-p11: fatal signal 6;' "$KYSOD_LOG")" 'mock-pkcs11[^ ]*\.so' \
	"crash-sign: the helper's stack through the module is in kysod's log"
sign_and_verify mock sha384 pss
stop_kysod

# ---------------------------------------------------------------- hang in C_Sign
mock_env hang-sign 1
# Under valgrind a healthy signature may take longer than 2 s.
RT=2
[ "$KYSO_VALGRIND" = 1 ] && RT=10
write_conf --module "mock=$MOCK_MODULE" request_timeout=$RT
start_kysod
sign_and_verify mock sha256
P1=$(helper_field pid)
t0=$(now_ms)
sign_bg mock hang 60
# the module is hanging once it says so on its stderr (kysod's log)
wait_log 'kyso-mock-pkcs11: hang-sign: hanging'
ok $? "hang-sign: the module hangs in C_Sign"
status_ok "hang-sign: daemon serves while the module hangs"
api GET /v1/certificates
is "$STATUS" 200 "hang-sign: certificates listed while the module hangs"
check "hang-sign: the signature is still waiting while the daemon serves" kill -0 "$JOB"
sign_bg_wait hang
t1=$(now_ms)
is_error 504 module_timeout "hang-sign: 504 module_timeout"
# kysod gives up at request_timeout, never before (t0 was taken before the request left)
ok $(( t1 - t0 >= RT * 1000 ? 0 : 1 )) \
	"hang-sign: answered no sooner than request_timeout=$RT s ($((t1 - t0)) ms)"
status_ok "hang-sign: daemon serves after the timeout"
wait_restarted "$P1"
ok $? "hang-sign: the hung helper was replaced"
check "hang-sign: hung helper killed and reaped" reaped "$P1"
is "$(helper_field restarts)" 1 "hang-sign: restarts counter 1"
sign_and_verify mock sha512
stop_kysod

# ---------------------------------------------------------------- token removed in C_Sign
mock_env removed-sign 1
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sign_and_verify mock sha256
sign_expect "removed-sign: 503 token_removed" 503 token_removed
status_ok "removed-sign: daemon serves"
for ((i = 0; i < 30; i++)); do
	api GET "/v1/tokens/$MOCK_TOKEN_ID"
	[ "$(json_get 'j["present"]')" = false ] && break
	sleep 0.1
done
is "$STATUS $(json_get 'j["present"]')" "200 false" "removed-sign: token still listed, present false"
api GET /v1/tokens
is "$(json_get '[t["present"] for t in j["tokens"] if t["id"] == "'"$MOCK_TOKEN_ID"'"]')" "[false]" \
	"removed-sign: /v1/tokens lists it once with present false"
api GET /v1/certificates
is "$(json_get 'len(j["certificates"])')" 0 "removed-sign: its certificate is no longer listed"
n=$(getpin_count)
sign_expect "removed-sign: next signature 409 token_not_present" 409 token_not_present
is "$(getpin_count)" "$n" "removed-sign: no PIN asked for an absent token"
status_ok "removed-sign: daemon serves after token_not_present"
stop_kysod

# ---------------------------------------------------------------- crash in C_Initialize
mock_env crash-init
write_conf --module "mock=$MOCK_MODULE"
start_kysod --no-wait
# Wait for the first crash and restart (valgrind makes a helper start slowly).
limit=30
[ "$KYSO_VALGRIND" = 1 ] && limit=200
for ((i = 0; i < limit; i++)); do
	[ "$(helper_field restarts)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
api GET /v1/status
is "$STATUS" 200 "crash-init: status answers"
like "$(json_get 'j["modules"][0]["state"]')" '^(failed|starting)$' "crash-init: module state failed or starting"
diag "crash-init status: $BODY"
like "$(json_get 'j["modules"][0]["restarts"]')" '^[1-9][0-9]*$' "crash-init: helper restarts counted"
api GET /v1/tokens
is "$STATUS $(json_get 'len(j["tokens"])')" "200 0" "crash-init: no tokens"
sign_expect_either()
{
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
	if { [ "$STATUS" = 503 ] && [ "$(err_code)" = module_unavailable ]; } ||
		{ [ "$STATUS" = 404 ] && [ "$(err_code)" = certificate_not_found ]; }; then
		pass "$1 ($STATUS $(err_code))"
	else
		fail "$1"
		diag "    got $STATUS $BODY"
	fi
}
n=$(getpin_count)
sign_expect_either "crash-init: never-seen certificate: 503 module_unavailable or 404 certificate_not_found"
is "$(getpin_count)" "$n" "crash-init: no PIN asked"
status_ok "crash-init: daemon serves"
stop_kysod

# ---------------------------------------------------------------- module failing to load
# The key file disappears: the helper's restart fails (C_Initialize error) until it is back.
mock_env none
cp "$KYSO_MOCK_KEY" "$T/keys/mock.key.saved"
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sign_and_verify mock sha256
P1=$(helper_field pid)
rm -f "$KYSO_MOCK_KEY"
kill -KILL "$P1"
for ((i = 0; i < 30; i++)); do
	state=$(helper_field state)
	[ "$state" = failed ] && break
	sleep 0.1
done
like "$state" '^(failed|starting)$' "load failure: module state $state"
diag "load failure status: $BODY"
n=$(getpin_count)
sign_expect "load failure: known certificate: 503 module_unavailable" 503 module_unavailable
is "$(getpin_count)" "$n" "load failure: no PIN asked"
status_ok "load failure: daemon serves"
cp "$T/keys/mock.key.saved" "$KYSO_MOCK_KEY"
wait_restarted "$P1" 12
ok $? "load failure: module back once the key file is back"
sign_and_verify mock sha256
stop_kysod

# ---------------------------------------------------------------- no raw RSA: PSS impossible
mock_env none
export KYSO_MOCK_NO_RAW=1
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sign_and_verify mock sha256 pkcs1
sign_and_verify mock sha512 pkcs1
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256 pss)"
is_error 422 mechanism_unsupported "no CKM_RSA_X_509: PSS is 422 mechanism_unsupported"
status_ok "mechanism_unsupported: daemon serves"
stop_kysod
unset KYSO_MOCK_NO_RAW

done_testing
