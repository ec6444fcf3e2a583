#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PINs on a real token through kysod: OpenSC's PKCS#11 module over a virtual PIV card
# (tests/vcard/piv-card.py) in a private pcscd. The digital signature key (9C) needs the PIN
# for each signature (CKA_ALWAYS_AUTHENTICATE); the PIN retry counter falls with wrong PINs
# and a blocked PIN is refused without a dialog.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
kp_require

PIV_SELECT=00A4040009A00000030800001000
PUK=12345678

pcsc_start || bail_out "pcscd does not start"
kp_card a "$T/card-a"
kp_write_conf request_timeout=10
check "card a inserted" card_start a "$PCSC_PORT0" "$T/card-a"
start_kysod
events_start || bail_out "cannot read GET /v1/events"
kp_wait_token a yes || bail_out "kysod does not see the card's token"
TOKEN=${KP_TOKEN[a]}

# dialog_since LINE: the pinentry commands after line LINE of its log
dialog_since()
{
	tail -n +"$(($1 + 1))" "$KYSO_PINENTRY_LOG"
}

log_lines()
{
	wc -l <"$KYSO_PINENTRY_LOG" | tr -d ' '
}

# sign_9c DESC [login]: a signature with the 9C key; 5 TAP lines: 200 and verified
# (sign_and_verify), one GETPIN, and the dialog said why it asks -- unless it was the login
# dialog of a token not logged in ("login"), whose PIN serves the signature too.
sign_9c()
{
	local lines n
	lines=$(log_lines)
	n=$(getpin_count)
	sign_and_verify a-9c sha256
	is "$(getpin_count)" $((n + 1)) "$1: one PIN dialog for this signature"
	if [ "${2:-}" = login ]; then
		is "$(token_pin "$TOKEN" logged_in true)" true "$1: the token is logged in now"
	else
		like "$(dialog_since "$lines")" "SETERROR This key needs the PIN for each signature" \
			"$1: the dialog says the key needs the PIN for each signature"
	fi
}

# hex of a PIN padded to 8 bytes with FF
pin_hex()
{
	local h
	h=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
	while [ "${#h}" -lt 16 ]; do
		h=${h}ff
	done
	printf '%s' "$h"
}

# The card's own word on the PIN: the status word of VERIFY without data (63Cx: x tries).
card_pin_status()
{
	opensc-tool -r 0 -s "$PIV_SELECT" -s 00200080 2>&1 |
		sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p' | tail -1 | tr 'a-f' 'A-F'
}

# ---------------------------------------------------------------- the retry counter
is "$(token_pin "$TOKEN" logged_in false)" false "the token is not logged in"
is "$(card_pin_status)" 63C3 "the card's PIN counter is full (3 tries)"
pinentry_says "pin 000000"
mark=$(events_mark)

make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
is_error 403 pin_incorrect "wrong PIN 1: 403 pin_incorrect"
state1=$(err_pin_state)
# PKCS#11 has CKF_USER_PIN_COUNT_LOW for this, but OpenSC sets it for a PIV card only when it
# knows the PIN's maximum tries, which the PIV card does not tell.
like "$state1" '^(ok|count_low)$' "wrong PIN 1: pin.state $state1 (2 tries left)"
is "$(card_pin_status)" 63C2 "wrong PIN 1: the card has 2 tries left"
is "$(token_pin "$TOKEN" state "$state1")" "$state1" "wrong PIN 1: GET /v1/tokens says $state1 too"

lines=$(log_lines)
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
is_error 403 pin_incorrect "wrong PIN 2: 403 pin_incorrect"
is "$(err_pin_state)" final_try "wrong PIN 2: pin.state final_try in the error"
like "$(json_get 'j["error"]["message"]')" "last try" "wrong PIN 2: the message warns of the last try"
is "$(card_pin_status)" 63C1 "wrong PIN 2: the card has 1 try left"
is "$(token_pin "$TOKEN" state final_try)" final_try "wrong PIN 2: GET /v1/tokens says final_try"
wait_event "$mark" pin-state '"state":"final_try"' 3
ok $? "event pin-state with final_try"

lines=$(log_lines)
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
like "$(dialog_since "$lines")" "SETERROR.*last try before the token locks" \
	"wrong PIN 3: the dialog warned that this was the last try"
like "$STATUS $(err_code)" '^(403 pin_incorrect|423 pin_locked)$' "wrong PIN 3: refused"
is "$(err_pin_state)" locked "wrong PIN 3: pin.state locked in the error"
is "$(card_pin_status)" 6983 "the card's PIN is blocked"
is "$(token_pin "$TOKEN" state locked)" locked "GET /v1/tokens says locked"
wait_event "$mark" pin-state '"state":"locked"' 3
ok $? "event pin-state with locked"

pinentry_says "pin 123456"
n=$(getpin_count)
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9a]}" sha256)"
is_error 423 pin_locked "a blocked PIN: 9A refused with 423 pin_locked"
is "$(err_pin_state)" locked "...pin.state locked"
api POST /v1/sign "$(sign_body "${CERT_ID[a-9c]}" sha256)"
is_error 423 pin_locked "a blocked PIN: 9C refused with 423 pin_locked"
is "$(getpin_count)" "$n" "no PIN dialog for a blocked PIN"
is "$(card_pin_status)" 6983 "the card is still blocked (no try spent)"

# Another application unblocks the PIN with the PUK (RESET RETRY COUNTER).
out=$(opensc-tool -r 0 -s "$PIV_SELECT" -s "002C008010$(pin_hex "$PUK")$(pin_hex 123456)" 2>&1 |
	sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p' | tail -1)
is "$out" 9000 "the PIN is unblocked with the PUK outside kysod"
is "$(card_pin_status)" 63C3 "the card's PIN has its 3 tries again"
n=$(getpin_count)
sign_and_verify a-9a sha256
is "$(getpin_count)" $((n + 1)) "after the unblock kysod asks the PIN and signs"
is "$(token_pin "$TOKEN" state ok)" ok "GET /v1/tokens: PIN state ok again"

# ---------------------------------------------------------------- a PIN for each signature
api GET "/v1/certificates/${CERT_ID[a-9c]}"
is "$(json_get '"%s %s" % (j["key_id"], j["curve"])')" "02 P-256" "9C, the digital signature key: P-256"
api POST /v1/logout '{}'
is "$(token_pin "$TOKEN" logged_in false)" false "logged out"
pinentry_says "pin 123456"
sign_9c "first 9C signature, token not logged in" login
sign_9c "second 9C signature"
is "$(card_pin_status)" 63C3 "the card's PIN counter is full (3 tries)"

n=$(getpin_count)
pinentry_says cancel
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9c]}" sha256)"
is_error 403 pin_cancelled "cancel in the per-signature dialog: 403 pin_cancelled"
is "$(getpin_count)" $((n + 1)) "...after one dialog"
is "$(card_pin_status)" 63C3 "...and no PIN try spent on the card"

n=$(getpin_count)
pinentry_says "pin 999999"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[a-9c]}" sha256)"
is_error 403 pin_incorrect "a wrong PIN in the per-signature dialog: 403 pin_incorrect"
is "$(getpin_count)" $((n + 1)) "...after one dialog, not retried"
is "$(card_pin_status)" 63C2 "...the card counted the wrong PIN"
pinentry_says "pin 123456"
sign_9c "9C with the right PIN after a wrong one"
is "$(card_pin_status)" 63C3 "the right PIN gives the tries back"

# The card forgets the PIN after each 9C operation (as PIV cards with a PIN-always key do);
# the other keys must still sign, asking the PIN again if needed. A fresh kysod, so that
# what went before cannot matter.
events_stop
stop_kysod
start_kysod
kp_wait_token a yes || bail_out "kysod does not see the card's token"
sign_9c "9C with a fresh kysod" login
n=$(getpin_count)
sign_and_verify a-9a sha256 pss
like "$(getpin_count)" "^($n|$((n + 1)))$" "9A after 9C: at most one PIN dialog"
[ "$STATUS" = 200 ] && diag "9A after a 9C signature asked the PIN $(($(getpin_count) - n)) time(s)"
sign_9c "9C after 9A"
n=$(getpin_count)
sign_and_verify a-9e sha256
like "$(getpin_count)" "^($n|$((n + 1)))$" "9E after 9C: at most one PIN dialog"
status_ok "kysod answers"

events_stop
stop_kysod
done_testing
