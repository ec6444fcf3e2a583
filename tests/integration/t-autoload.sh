#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The token catalogue at work: kysod starts a module for a card it did not load one for.
# kysod is configured with the catalogue and SoftHSM2 only; a virtual PIV card inserted
# into a private pcscd makes it start OpenSC's module by itself (the card's ATR is not in
# the catalogue, so it goes to the PIV kind's module), report the card, and sign with it.
# With auto_modules = no the same card is reported and nothing is loaded.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
kp_require

pcsc_start || bail_out "pcscd does not start"
make_softhsm_token
kp_card a "$T/card-a"
pinentry_says "pin 123456"

# module_names: the names of the modules in GET /v1/status, sorted.
module_names()
{
	api GET /v1/status
	json_get '" ".join(sorted(m["name"] for m in j["modules"]))'
}

# wait_module NAME: until GET /v1/status lists a running module NAME (5 s).
wait_module()
{
	local i
	for ((i = 0; i < 100; i++)); do
		api GET /v1/status
		[ "$(json_get "','.join(m['state'] for m in j['modules'] if m['name'] == '$1')")" = running ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- auto_modules = yes
write_conf --module "softhsm=$SOFTHSM" "allow_modules=/usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so $KP_ALLOW" \
	"catalogue=$KYSO_SRCDIR/drivers/tokens" request_timeout=10
start_kysod
events_start || bail_out "cannot read GET /v1/events"
is "$(module_names)" "softhsm" "at start only the configured module runs"

mark=$(events_mark)
check "card a inserted" card_start a "$PCSC_PORT0" "$T/card-a"
wait_event "$mark" card-inserted
ok $? "event card-inserted"
like "$EV_DATA" '"atr":"3b' "card-inserted carries the card's ATR"
like "$EV_DATA" '"token_kind":null' "the card's ATR is not in the catalogue: token_kind null"
wait_module piv
ok $? "kysod started the PIV kind's module (OpenSC) for the card"
api GET /v1/status
like "$(json_get "[m['path'] for m in j['modules'] if m['name'] == 'piv'][0]")" 'opensc-pkcs11\.so$' \
	"the module it chose is OpenSC's"
kp_wait_token a yes 10
ok $? "the card's token appears"
api GET /v1/readers
like "$(json_get "[r.get('atr', '') for r in j['readers'] if r['card_present']][0]")" '^3b' \
	"GET /v1/readers reports the card's ATR"
sign_and_verify a-9a sha256 pss
sign_and_verify a-9e sha256

check "card a removed" card_stop a
kp_wait_token a no 5
ok $? "the card's token leaves"
mark=$(events_mark)
check "card a inserted again" card_start a "$PCSC_PORT0" "$T/card-a"
kp_wait_token a yes 10
ok $? "it comes back"
is "$(module_names)" "piv softhsm" "no second helper is started for the same module"
sign_and_verify a-9a sha256
stop_kysod
check "card a removed" card_stop a

# ---------------------------------------------------------------- auto_modules = no
write_conf --module "softhsm=$SOFTHSM" "allow_modules=/usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so $KP_ALLOW" \
	"catalogue=$KYSO_SRCDIR/drivers/tokens" auto_modules=no
start_kysod
events_start || bail_out "cannot read GET /v1/events"
mark=$(events_mark)
check "card a inserted" card_start a "$PCSC_PORT0" "$T/card-a"
wait_event "$mark" card-inserted
ok $? "with auto_modules = no the card is still reported"
sleep 1
is "$(module_names)" "softhsm" "and no module is started for it"

# ---------------------------------------------------------------- a module outside the allowlist
stop_kysod
write_conf --module "softhsm=$SOFTHSM" "allow_modules=/usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so" \
	"catalogue=$KYSO_SRCDIR/drivers/tokens"
start_kysod
card_stop a >/dev/null 2>&1
check "card a inserted" card_start a "$PCSC_PORT0" "$T/card-a"
sleep 1
is "$(module_names)" "softhsm" "a module outside allow_modules is never started for a card"
like "$(cat "$KYSOD_LOG")" "none of its modules is installed and allowed" "and kysod says why"
stop_kysod
done_testing
