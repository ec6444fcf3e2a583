#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A module stuck after a card was pulled out. OpenSC 0.23 can deadlock when a PIV card leaves
# in the middle of an operation (a mutex it never gives back); the mock module stands in for
# it (KYSO_MOCK_STUCK: C_GetSlotList and C_GetTokenInfo wait, holding the module's lock),
# beside a virtual card in a private pcscd for the reader events. On a card's removal kysod
# sends the helpers RESCAN and waits for the answer: a helper that gives none within
# removal_timeout is restarted, and its tokens are back in seconds, not after
# request_timeout. A removal the module answers restarts nothing.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
kp_require
require_mock

pcsc_start || bail_out "pcscd does not start"
card_make_demo "$T/card" >"$T/make.log" 2>&1 || bail_out "piv-card.py --make-demo: $(cat "$T/make.log")"
make_mock_key rsa
export KYSO_MOCK_SERIAL=STUCK01
export KYSO_MOCK_STUCK=$T/stuck
write_conf --module "mock=$MOCK_MODULE" removal_timeout=3 request_timeout=120
start_kysod
pinentry_says "pin 123456"

restarts()
{
	api GET /v1/status
	json_get '[m["restarts"] for m in j["modules"] if m["name"] == "mock"][0]'
}

# ---------------------------------------------------------------- a removal the module answers
sign_and_verify mock sha256
card_start c "$PCSC_PORT0" "$T/card" || bail_out "the card does not start"
wait_log "card-inserted: $PCSC_READER0"
ok $? "kysod saw the card come"
card_stop c || bail_out "the card does not stop"
wait_log "card-removed: $PCSC_READER0"
ok $? "kysod saw the card go"
sleep 4
is "$(restarts)" 0 "the helper answered the rescan: it was not restarted"
unlike "$(cat "$KYSOD_LOG")" 'the module is stuck' "nothing said stuck"

# ---------------------------------------------------------------- a module stuck when a card leaves
card_start c "$PCSC_PORT0" "$T/card" || bail_out "the card does not start"
: > "$T/stuck"
for ((i = 0; i < 500; i++)); do
	[ -e "$T/stuck.waiting" ] && break
	sleep 0.02
done
ok $([ -e "$T/stuck.waiting" ]; echo $?) "the module is stuck in its slot listing"
card_stop c || bail_out "the card does not stop"
wait_log 'mock: no answer 3 s after a card was removed: the module is stuck' 20
ok $? "kysod: no answer to the rescan within removal_timeout, the module is stuck"
rm -f "$T/stuck"
wait_log 'mock: helper [0-9]+ killed by signal 9' 20
ok $? "the stuck helper was killed"
is "$(restarts)" 1 "and restarted once"
for ((i = 0; i < 100; i++)); do
	api GET /v1/tokens
	[ "$(json_get 'any(t["module"] == "mock" and t["present"] for t in j["tokens"])')" = true ] && break
	sleep 0.2
done
is "$(json_get 'any(t["module"] == "mock" and t["present"] for t in j["tokens"])')" true \
	"the mock token is back"
sign_and_verify mock sha256
api GET /v1/status
is "$STATUS" 200 "kysod still serves"

stop_kysod
done_testing
