#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Nothing waits for ever: a batch cancelled while its consent dialog is open, or while it
# waits for another request's dialog, or while its dialog program never greets, answers at
# once with the dialog closed; SIGTERM while a dialog is open or while the module hangs
# answers the waiting request 503 shutting_down and kysod exits, its helper and dialogs gone;
# SIGTERM midway through a batch returns the signatures made so far.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
require_build
require_mock

API_TIMEOUT=60
[ "$KYSO_VALGRIND" = 1 ] && API_TIMEOUT=600
export KYSO_PINENTRY_PIDS=$T/pinentry.pids
make_mock_key rsa
export KYSO_MOCK_SERIAL=CANCEL01

# wait_for COUNT_CMD WANT SECONDS: until the command prints a number >= WANT.
wait_for()
{
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$($1)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

confirms() { pinentry_count CONFIRM; }
getpins() { pinentry_count GETPIN; }
pinentries() { wc -l < "$KYSO_PINENTRY_PIDS" 2>/dev/null || echo 0; }

# dialogs_gone: every pinentry started so far has ended (3 s).
dialogs_gone()
{
	local pid i
	for pid in $(cat "$KYSO_PINENTRY_PIDS" 2>/dev/null); do
		for ((i = 0; i < 60; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$pid" 2>/dev/null && { diag "pinentry $pid still runs"; return 1; }
	done
	return 0
}

# named_batch NAME N: batch NAME of N items over the mock key, named NAME by the app.
named_batch()
{
	batch_make "$1" "${CERT_ID[mock]}" sha256 "$2"
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); r["batch"] = sys.argv[2]
json.dump(r, open(sys.argv[1], "w"))' "$T/batch.$1.req" "$1"
}

# cancelled_ok NAME N DESC: batch NAME answered 200, cancelled, nothing signed (2 TAP lines).
cancelled_ok()
{
	is "$STATUS $(json_get '[j["batch"], j["cancelled"], j["signed"], j["failed"]]')" \
		"200 [\"$1\", true, 0, $2]" "$3: 200, cancelled, nothing signed"
	is "$(json_get 'sorted(set(i["error"]["code"] for i in j["items"]))')" '["batch_cancelled"]' \
		"$3: every item batch_cancelled"
}

write_conf --module "mock=$MOCK_MODULE" pin_timeout=60
start_kysod
pinentry_says "pin 123456"
sign_and_verify mock sha256

# ---------------------------------------------------------------- cancel during the consent dialog
pinentry_says hang
c0=$(confirms)
named_batch consent 20
batch_post_bg consent
PB=$BATCH_PID
wait_for confirms $((c0 + 1)) 20
ok $? "consent: the confirmation dialog is open"
t0=$(now_ms)
api DELETE /v1/sign/batch/consent
is "$STATUS" 200 "consent: DELETE answers 200"
batch_wait "$PB" consent
t1=$(now_ms)
cancelled_ok consent 20 "cancelled during its dialog"
diag "cancelled during its dialog: answered $((t1 - t0)) ms after the DELETE"
check "cancelled during its dialog: the dialog is closed" dialogs_gone
is "$(audit_select "e.get('batch') == 'consent'" | json_get 'len(j)' "$(cat)")" 0 \
	"cancelled during its dialog: nothing in the audit log"

# ---------------------------------------------------------------- cancel while waiting for the dialog slot
c0=$(confirms)
named_batch first 10
batch_post_bg first
PF=$BATCH_PID
wait_for confirms $((c0 + 1)) 20
ok $? "queued: the first batch's dialog is open"
named_batch second 10
batch_post_bg second
PS=$BATCH_PID
# waiting for the slot costs no CPU: kysod's user + system time over two seconds of it
# stays far below the two seconds a spinning wait would burn
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$KYSOD_PID/stat"; }
for ((i = 0; i < 100; i++)); do
	grep -q 'batch second: ' "$KYSOD_LOG" && break
	sleep 0.05
done
c_before=$(cpu_ticks)
sleep 2
c_used=$(( $(cpu_ticks) - c_before ))
ok $(( c_used < $(getconf CLK_TCK) / 2 ? 0 : 1 )) \
	"queued: the batch waiting for the dialog slot does not spin ($c_used ticks in 2 s)"
# the second batch is registered (so cancellable) before it waits for the slot
for ((i = 0; i < 100; i++)); do
	api DELETE /v1/sign/batch/second
	[ "$STATUS" = 200 ] && break
	sleep 0.05
done
is "$STATUS" 200 "queued: the waiting batch is cancelled"
batch_wait "$PS" second
cancelled_ok second 10 "cancelled while another dialog is open"
is "$(confirms)" $((c0 + 1)) "queued: the waiting batch never showed a dialog"
kill -0 "$PF" 2>/dev/null
ok $? "queued: the first batch still waits for its user"
api DELETE /v1/sign/batch/first
batch_wait "$PF" first
cancelled_ok first 10 "the first batch, cancelled in turn"
check "queued: every dialog is closed" dialogs_gone

# ---------------------------------------------------------------- a dialog program that never greets
pinentry_says mute
p0=$(pinentries)
named_batch mute 5
batch_post_bg mute
PM=$BATCH_PID
wait_for pinentries $((p0 + 1)) 20
ok $? "mute dialog: started"
api DELETE /v1/sign/batch/mute
is "$STATUS" 200 "mute dialog: DELETE answers 200"
batch_wait "$PM" mute
cancelled_ok mute 5 "cancelled while the dialog program never greeted"
check "mute dialog: ended" dialogs_gone
pinentry_says "pin 123456"
status_ok "the daemon serves after the cancelled dialogs"
sign_and_verify mock sha256

# ---------------------------------------------------------------- SIGTERM with a dialog open
pinentry_says hang
c0=$(confirms)
named_batch stop 10
batch_post_bg stop
PT=$BATCH_PID
wait_for confirms $((c0 + 1)) 20
ok $? "stop: the dialog is open"
stop_kysod
batch_wait "$PT" stop
is "$STATUS $(json_get 'j["error"]["code"]')" "503 shutting_down" \
	"stop: the batch in its dialog is answered 503 shutting_down"
check "stop: the dialog is closed" dialogs_gone

# ---------------------------------------------------------------- SIGTERM while the module hangs
export KYSO_MOCK_FAULT=hang-sign KYSO_MOCK_FAULT_AFTER=1
write_conf --module "mock=$MOCK_MODULE" pin_timeout=60 request_timeout=300
start_kysod
pinentry_says "pin 123456"
sign_and_verify mock sha256
HP=$(helper_field pid)
sign_bg mock hung "$API_TIMEOUT"
for ((i = 0; i < 200; i++)); do
	grep -q 'hang-sign: hanging' "$KYSOD_LOG" && break
	sleep 0.05
done
grep -q 'hang-sign: hanging' "$KYSOD_LOG"
ok $? "hung module: the signature is stuck in the module"
stop_kysod
sign_bg_wait hung
is "$STATUS $(json_get 'j["error"]["code"]')" "503 shutting_down" \
	"hung module: the waiting request is answered 503 shutting_down"
check "hung module: its helper is gone" reaped "$HP"
kill -0 "$HP" 2>/dev/null
isnt $? 0 "hung module: its helper process does not exist any more"

# ---------------------------------------------------------------- SIGTERM midway through a batch
export KYSO_MOCK_FAULT=slow-sign KYSO_MOCK_FAULT_AFTER=0 KYSO_MOCK_DELAY_MS=50
write_conf --module "mock=$MOCK_MODULE" pin_timeout=60
start_kysod
pinentry_says "pin 123456"
sse_open mid
named_batch mid 400
batch_post_bg mid
PMID=$BATCH_PID
sse_wait mid batch-progress "d['batch'] == 'mid' and d['done'] >= 5" 30
ok $? "stop midway: the batch is signing"
stop_kysod
batch_wait "$PMID" mid
is "$STATUS" 200 "stop midway: the batch answers 200 with what was signed"
SIGNED=$(json_get 'j["signed"]')
ok $(( SIGNED >= 5 && SIGNED < 400 ? 0 : 1 )) "stop midway: stopped after some items ($SIGNED signed)"
SUM=$(batch_verify mid "$T/batch.mid.ans" "${CERT_PEM[mock]}" sha256 pkcs1)
ok $? "stop midway: the signed items verify"
is "$(json_get '[j["verified"], j["errors"]]' "$SUM")" \
	"[$SIGNED, {\"shutting_down\": $((400 - SIGNED))}]" \
	"stop midway: the items after the stop are shutting_down"
sse_close mid

done_testing
