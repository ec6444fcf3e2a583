#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PIN handling through a scripted pinentry: correct, wrong (no automatic retry), cancelled,
# timed out, broken pinentry; the dialog text; PIN retry states and lock with the mock module.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

# New pinentry log lines since mark_log.
mark_log()
{
	LOG_MARK=$(wc -l < "$KYSO_PINENTRY_LOG")
}

new_log()
{
	tail -n +$((LOG_MARK + 1)) "$KYSO_PINENTRY_LOG"
}

new_getpins()
{
	new_log | grep -c '^GETPIN'
}

# Percent-decoded SETDESC text of the new log lines.
new_desc()
{
	new_log | sed -n 's/^SETDESC //p' | "$PY" -c '
import sys, urllib.parse
for line in sys.stdin.buffer.read().decode("utf-8", "replace").splitlines():
    print(urllib.parse.unquote(line, encoding="utf-8", errors="replace"))'
}

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM" pin_timeout=2
start_kysod

# ---------------------------------------------------------------- correct PIN, dialog text
pinentry_says "pin 123456"
mark_log
make_hash sha256
printf '%s' "$(sign_body "${CERT_ID[rsa]}" sha256)" > "$T/req.json"
curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
	--data-binary "@$T/req.json" -o "$T/resp.json" -w '%{http_code}' \
	http://localhost/v1/sign > "$T/code" 2>&1 &
CURL_PID=$!
wait "$CURL_PID"
BODY=$(cat "$T/resp.json")
is "$(cat "$T/code")" 200 "correct PIN: sign answers 200"
save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/sig.bin" sha256 pkcs1
ok $? "correct PIN: signature verifies"
is "$(new_getpins)" 1 "correct PIN: one GETPIN"
DESC=$(new_desc)
note "SETDESC: $DESC"
like "$DESC" 'curl' "dialog names the caller's executable (curl)"
like "$DESC" "(^|[^0-9])$CURL_PID([^0-9]|$)" "dialog names the caller's pid ($CURL_PID)"
like "$DESC" "Nguyễn Văn An" "dialog names the certificate holder (UTF-8 CN)"
like "$DESC" "kyso-test" "dialog names the token label"
like "$(new_log)" '^SETTIMEOUT 2$' "pinentry gets SETTIMEOUT from pin_timeout"
unlike "$(cat "$KYSO_PINENTRY_LOG" "$KYSOD_LOG")" '123456' "the PIN appears in no log"

# ---------------------------------------------------------------- wrong PIN, then correct
api POST /v1/logout '{}'
pinentry_says "pin 999999"
mark_log
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is_error 403 pin_incorrect "wrong PIN: 403 pin_incorrect"
like "$(err_pin_state)" '^(ok|count_low|final_try)$' "wrong PIN: error carries pin.state"
is "$(new_getpins)" 1 "wrong PIN: exactly one GETPIN (no automatic retry)"
status_ok "daemon serves after a wrong PIN"
pinentry_says "pin 123456"
mark_log
sign_and_verify p256 sha256
is "$(new_getpins)" 1 "correct PIN after a wrong one: one GETPIN"

# ---------------------------------------------------------------- cancel
api POST /v1/logout '{}'
pinentry_says cancel
mark_log
make_hash sha384
api POST /v1/sign "$(sign_body "${CERT_ID[p384]}" sha384)"
is_error 403 pin_cancelled "cancelled dialog: 403 pin_cancelled"
is "$(new_getpins)" 1 "cancelled dialog: one GETPIN"
status_ok "daemon serves after a cancelled dialog"

# ---------------------------------------------------------------- timeouts
pinentry_says timeout
mark_log
t0=$(now_ms)
api POST /v1/sign "$(sign_body "${CERT_ID[p384]}" sha384)"
t1=$(now_ms)
is_error 403 pin_cancelled "pinentry timing out (SETTIMEOUT honoured): 403 pin_cancelled"
ok $(( t1 - t0 < 8000 ? 0 : 1 )) "timed-out dialog answered in $((t1 - t0)) ms"

pinentry_says hang
mark_log
make_hash sha384
printf '%s' "$(sign_body "${CERT_ID[p384]}" sha384)" > "$T/req.json"
t0=$(now_ms)
curl -sS --max-time 15 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
	--data-binary "@$T/req.json" -o "$T/hang.json" -w '%{http_code}' \
	http://localhost/v1/sign > "$T/hang.code" 2>&1 &
HANG_JOB=$!
sleep 0.5
t_s=$(now_ms)
status_ok "daemon serves other requests while a PIN dialog is open"
t_e=$(now_ms)
ok $(( t_e - t_s < 2000 ? 0 : 1 )) "status answered in $((t_e - t_s)) ms during the dialog"
wait "$HANG_JOB"
t1=$(now_ms)
STATUS=$(cat "$T/hang.code")
BODY=$(cat "$T/hang.json" 2>/dev/null)
is_error 403 pin_cancelled "pinentry not answering: 403 pin_cancelled"
ok $(( t1 - t0 >= 2000 && t1 - t0 < 10000 ? 0 : 1 )) \
	"pinentry not answering: killed after pin_timeout + 5 s ($((t1 - t0)) ms)"
# If kysod did not end the dialog, end it here so that the following cases can run.
for pid in $(pgrep -P "$KYSOD_PID" -x sleep); do
	diag "killing the still running pinentry $pid"
	kill "$pid"
done
status_ok "daemon serves after a hung pinentry"

# ---------------------------------------------------------------- broken pinentry
pinentry_says broken
mark_log
api POST /v1/sign "$(sign_body "${CERT_ID[p384]}" sha384)"
is_error 500 pinentry_failed "pinentry exiting before its greeting: 500 pinentry_failed"
pinentry_says exit
api POST /v1/sign "$(sign_body "${CERT_ID[p384]}" sha384)"
if { [ "$STATUS" = 500 ] && [ "$(err_code)" = pinentry_failed ]; } ||
	{ [ "$STATUS" = 403 ] && [ "$(err_code)" = pin_cancelled ]; }; then
	pass "pinentry dying at GETPIN: 500 pinentry_failed or 403 pin_cancelled ($STATUS)"
else
	fail "pinentry dying at GETPIN: 500 pinentry_failed or 403 pin_cancelled"
	diag "    got $STATUS $BODY"
fi
status_ok "daemon serves after a broken pinentry"
pinentry_says "pin 123456"
sign_and_verify p384 sha384

# SIGTERM while a PIN dialog is open: kysod still exits promptly and cleanly.
pinentry_says hang
make_hash sha256
printf '%s' "$(sign_body "${CERT_ID[rsa]}" sha256)" > "$T/req.json"
api POST /v1/logout '{}'
curl -sS --max-time 20 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
	--data-binary "@$T/req.json" -o "$T/term.json" -w '%{http_code}' \
	http://localhost/v1/sign > "$T/term.code" 2>&1 &
JOB=$!
sleep 0.7
DIALOGS=$(pgrep -P "$KYSOD_PID" -x sleep)
stop_kysod
wait "$JOB"
note "request open at SIGTERM got: $(cat "$T/term.code") $(cat "$T/term.json" 2>/dev/null)"
for pid in $DIALOGS; do
	kill "$pid" 2>/dev/null
done

# ---------------------------------------------------------------- PIN states (mock module)
if [ ! -r "$MOCK_MODULE" ]; then
	fail "the mock PKCS#11 module is built by make check ($MOCK_MODULE)"
	done_testing
	exit
fi

make_mock_key rsa
export KYSO_MOCK_STATE_FILE=$T/mock.state
export KYSO_MOCK_LABEL="Thẻ ký số"
export KYSO_MOCK_SERIAL=MOCK0001
export KYSO_MOCK_PIN='12%34 ab'
MOCK_TOKEN_ID=$(token_id kyso mock MOCK0001)
write_conf --module "mock=$MOCK_MODULE"
start_kysod

# mock_pin_state EXPECTED: pin.state of the mock token (polled until EXPECTED, up to 3 s).
mock_pin_state()
{
	token_pin "$MOCK_TOKEN_ID" state "$1"
}

is "$(mock_pin_state ok)" ok "mock: pin.state ok at first"
pinentry_says "pin 12%34 ab"
mark_log
sign_and_verify mock sha256
is "$(new_getpins)" 1 "mock: PIN with % and space passes through pinentry escaping"
like "$(new_desc)" "Thẻ ký số" "mock: dialog names the UTF-8 token label"
api POST /v1/logout '{}'

pinentry_says "pin 000000"
mark_log
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
is_error 403 pin_incorrect "mock: 1st wrong PIN: 403 pin_incorrect"
is "$(err_pin_state)" count_low "mock: 1st wrong PIN: error pin.state count_low"
is "$(new_getpins)" 1 "mock: 1st wrong PIN: one GETPIN"
is "$(mock_pin_state count_low)" count_low "mock: /v1/tokens shows count_low"

mark_log
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
is_error 403 pin_incorrect "mock: 2nd wrong PIN: 403 pin_incorrect"
is "$(err_pin_state)" final_try "mock: 2nd wrong PIN: error pin.state final_try"
is "$(new_getpins)" 1 "mock: 2nd wrong PIN: one GETPIN"
is "$(mock_pin_state final_try)" final_try "mock: /v1/tokens shows final_try"

pinentry_says "pin 12%34 ab"
mark_log
sign_and_verify mock sha384 pss
is "$(new_getpins)" 1 "mock: correct PIN on the final try: one GETPIN"
is "$(mock_pin_state ok)" ok "mock: a correct PIN resets the state to ok"
api POST /v1/logout '{}'

pinentry_says "pin 000000"
make_hash sha256
for n in 1 2; do
	api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
done
is "$(mock_pin_state final_try)" final_try "mock: two more wrong PINs: final_try"
mark_log
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
if { [ "$STATUS" = 403 ] && [ "$(err_code)" = pin_incorrect ]; } ||
	{ [ "$STATUS" = 423 ] && [ "$(err_code)" = pin_locked ]; }; then
	pass "mock: 3rd wrong PIN: 403 pin_incorrect or 423 pin_locked ($STATUS)"
else
	fail "mock: 3rd wrong PIN: 403 pin_incorrect or 423 pin_locked"
	diag "    got $STATUS $BODY"
fi
is "$(err_pin_state)" locked "mock: 3rd wrong PIN: error pin.state locked"
is "$(mock_pin_state locked)" locked "mock: /v1/tokens shows locked"

pinentry_says "pin 12%34 ab"
mark_log
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
is_error 423 pin_locked "mock: locked token: 423 pin_locked"
is "$(err_pin_state)" locked "mock: pin_locked error carries pin.state locked"
is "$(new_getpins)" 0 "mock: locked token: no GETPIN"
status_ok "mock: daemon serves after the lock"
stop_kysod

# Starting states from the module itself (no state file).
rm -f "$KYSO_MOCK_STATE_FILE"
unset KYSO_MOCK_STATE_FILE
export KYSO_MOCK_PIN_STATE=locked
start_kysod
is "$(mock_pin_state locked)" locked "mock: token locked from the start: pin.state locked"
mark_log
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
is_error 423 pin_locked "mock: token locked from the start: 423 pin_locked"
is "$(new_getpins)" 0 "mock: token locked from the start: no GETPIN"
stop_kysod

export KYSO_MOCK_PIN_STATE=final_try
start_kysod
is "$(mock_pin_state final_try)" final_try "mock: final_try from the start"
sign_and_verify mock sha512
is "$(mock_pin_state ok)" ok "mock: back to ok after a correct PIN"
stop_kysod

done_testing
