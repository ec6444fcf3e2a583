#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso admin batch on five virtual PIV cards (tests/vcard/piv-card.py, blank as from the
# factory) under OpenSC 0.23's module in a private pcscd, inserted one after another in one
# reader: the step OpenSC 0.23 can do on PIV through kysod, a PIN change (the catalogue does
# not know the virtual card's family, so kysod allows nothing else; key generation and
# import on PIV are another module's work). The batch waits for each card through kysod's
# event stream, is killed in the third card's dialog and restarted: the report has each
# card once, and each card's PIN was changed once (its state file and kysod's audit log).
# A sixth card given a wrong current PIN: each run spends one try, and at the last try the
# batch stops without a dialog (last_try).

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-admin-batch.sh"
kp_require

OLD=123456
NEW=73915284

pcsc_start || bail_out "pcscd does not start"
declare -A SERIAL
for i in 1 2 3 4 5 6; do
	card_make_demo "$T/card$i" --blank >"$T/make$i.log" 2>&1 ||
		bail_out "piv-card.py --make-demo: $(cat "$T/make$i.log")"
	guid=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["guid"])' \
		"$T/card$i/card.json")
	SERIAL[$i]=${guid:16:16}
done

# card_pin N: the PIN card N keeps in its state file (piv-card.py --state, in clear: tests
# only); its PIN tries left after it.
card_pin()
{
	"$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s.get("pin", "'"$OLD"'"), s.get("pin_tries", s.get("pin_retries", "?")))' \
		"$PCSC_DIR/card-c$1.state" 2>/dev/null || echo "$OLD ?"
}

insert()
{
	card_start "c$1" "$PCSC_PORT0" "$T/card$1" || bail_out "card $1 does not start"
}

pull()
{
	card_stop "c$1" || bail_out "card $1 does not stop"
}

kp_write_conf admin=yes "catalogue=$KYSO_SRCDIR/drivers/tokens" pin_timeout=20
start_kysod
printf 'steps,cn\n' > "$T/piv.csv"
for n in "Nguyễn Văn An" "Trần Thị Bích Ngọc" "Lê Hoàng Phúc" "Phạm Thị Hoa" "Đỗ Minh Đức"; do
	printf 'pin-change,%s\n' "$n" >> "$T/piv.csv"
done
R=$T/piv-report
pins $(for i in 1 2 3 4 5; do echo "$OLD $NEW"; done)

batch_bg run1 "$T/piv.csv"
wait_out 'Waiting for a token: rows 1, 2, 3, 4, 5 left'
ok $? "the batch waits for the cards"
for i in 1 2; do
	insert $i
	wait_out "Row $i: done\\."
	ok $? "card $i inserted: row $i done"
	pull $i
done
# The third card's first dialog: the batch is killed as it opens; kysod goes on.
act_signal $(($(dialogs) + 1)) KILL
insert 3
batch_wait
is "$BATCH_RC" 137 "the batch is killed in the third card's dialog"
wait_admin pin-change ok 3
ok $? "kysod finished the third card's PIN change"
is "$(report "$R" 'len(j["tokens"])')" 3 "the report has three cards"
is "$(entry "$R" 3 '["running"] + " " + e["serial"]')" "pin-change ${SERIAL[3]}" \
	"row 3: the third card, its PIN change begun"

D0=$(dialogs)
batch_bg run2 "$T/piv.csv"
wait_out 'Waiting for a token: rows 4, 5 left'
ok $? "run 2 does not repeat the third card's PIN change, and waits for the next cards"
like "$(cat "$T/run2.out")" 'pin-change: FAILED: an earlier run was stopped in this step.*\(outcome_unknown\)' \
	"it says why"
is "$(dialogs)" "$D0" "no dialog for the third card"
pull 3
for i in 4 5; do
	insert $i
	wait_out "Row $i: done\\."
	ok $? "card $i inserted: row $i done"
	pull $i
done
batch_wait
is "$BATCH_RC" 1 "run 2 ends, the third card still to be checked: exit 1"
like "$OUT" 'row 3 \(line 4\), serial [0-9a-f]+: check' "the summary names it"
# The third card's PIN is the new one (see the audit log): it was checked.
is "$(card_pin 3 | cut -d' ' -f1)" "$NEW" "the third card's PIN was changed (by the killed run)"
batch_bg run3 "$T/piv.csv" --checked "${SERIAL[3]}"
insert 3
batch_wait
is "$BATCH_RC" 0 "run 3 with --checked, the third card put back: exit 0"
like "$OUT" 'pin-change: checked by hand' "the step is taken as checked"
pull 3
is "$(report "$R" 'len(j["tokens"])') $(report "$R" '" ".join(sorted(e["serial"] for e in j["tokens"]))')" \
	"5 $(for i in 1 2 3 4 5; do echo "${SERIAL[$i]}"; done | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the report has each of the five cards once, by serial"
is "$(report "$R" '" ".join(e["status"] for e in sorted(j["tokens"], key=lambda e: e["row"]))')" \
	"done done done done done" "every row done"
for i in 1 2 3 4 5; do
	is "$(card_pin $i | cut -d' ' -f1)" "$NEW" "card $i has the new PIN"
done
is "$(admin_count pin-change ok) $(dialogs) $(queue_left)" "5 10 0" \
	"five PIN changes, two dialogs each: none was done twice"

# ---------------------------------------------------------------- a wrong PIN until the last try
printf 'serial,steps\n%s,pin-change\n' "${SERIAL[6]}" > "$T/wrong.csv"
insert 6
for run in 1 2; do
	pins 999999 "$NEW"
	D0=$(dialogs)
	batch_run "a wrong current PIN, run $run" 1 wrong$run "$T/wrong.csv"
	like "$OUT" 'pin-change: FAILED: .*\(pin_incorrect\)' "run $run: pin_incorrect"
	is "$(($(dialogs) - D0)) $(card_pin 6)" "2 $OLD $((3 - run))" \
		"run $run: the current PIN and the new one asked once, one try spent, not repeated"
done
D0=$(dialogs)
batch_run "the third run, at the card's last try" 1 wrong3 "$T/wrong.csv"
like "$OUT" 'pin-change: FAILED: .*one try left.*\(last_try\)' "the batch stops at the last try"
is "$(dialogs)" "$D0" "no dialog: the last try is left"
is "$(card_pin 6)" "$OLD 1" "the card keeps its PIN and one try"
pull 6
stop_kysod

for pin in "$NEW"; do
	if grep -rqF -- "$pin" "$T"/*.out "$T"/*.err "$R.json" "$R.csv" "$AUDIT_LOG" \
		"$T"/kysod.*.log "$KYSO_PINENTRY_LOG"; then
		fail "no output, report or log holds the new PIN"
	else
		pass "no output, report or log holds the new PIN"
	fi
done

done_testing
