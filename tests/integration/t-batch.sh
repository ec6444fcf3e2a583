#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# POST /v1/sign/batch: 1,000 signatures on SoftHSM2 with a single PIN dialog, each verified;
# a confirmation (not a PIN) while logged in, and its cancellation; item validation before any
# dialog; the body limit; DELETE /v1/sign/batch/{id} midway; a token removed midway;
# batch-progress events.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
require_build
require_softhsm

DESC='Bảng điểm học kỳ I – lớp 12A1'
# A batch of 1,000 takes a few seconds; much longer under valgrind.
API_TIMEOUT=60
[ "$KYSO_VALGRIND" = 1 ] && API_TIMEOUT=600

# batch_mutate NAME OUT PYTHON: request OUT is a copy of batch NAME's request changed by the
# Python statements PYTHON over `r` (the request; b64 and os are at hand).
batch_mutate()
{
	"$PY" - "$T/batch.$1.req" "$T/batch.$2.req" "$3" <<'EOF' || bail_out "batch_mutate $2 failed"
import base64, json, os, sys
r = json.load(open(sys.argv[1], "rb"))
b64 = lambda n: base64.b64encode(os.urandom(n)).decode()
exec(sys.argv[3], {"r": r, "b64": b64, "os": os})
json.dump(r, open(sys.argv[2], "w"), ensure_ascii=False, separators=(",", ":"))
EOF
}

# quiet_since: no PIN dialog and no audit entry since the last `mark`.
mark()
{
	MARK_PIN=$(pinentry_lines)
	MARK_AUDIT=$(audit_lines)
}

quiet_since()
{
	is "$(pinentry_lines) $(audit_lines)" "$MARK_PIN $MARK_AUDIT" "$1: no dialog, nothing audited"
}

# bad_batch NAME STATUS CODE INDEX FIELD DESC: the request batch.NAME is refused with that
# error (INDEX and FIELD "-" when the error must not have them), before any dialog.
bad_batch()
{
	local name=$1 want="$2 $3 $4 $5" got
	mark
	batch_post "$name"
	got="$STATUS $(err_code) $(json_get 'j["error"].get("index", "-")') $(json_get 'j["error"].get("field", "-")')"
	is "$got" "$want" "$6: $2 $3 index $4 field $5"
	quiet_since "$6"
}

# progress_ok NAME BATCH TOTAL FAILED: the batch-progress events of BATCH seen on stream NAME
# start at done 0, never go back, and end with done TOTAL and failed FAILED (one TAP line).
progress_ok()
{
	local summary
	summary=$(sse_events "$1" | "$PY" -c '
import json, sys
ev = [e["data"] for e in json.load(sys.stdin)
      if e.get("event") == "batch-progress" and e["data"].get("batch") == sys.argv[1]]
done = [d["done"] for d in ev]
ok = bool(ev) and done[0] == 0 and done == sorted(done) and \
    all(d["total"] == int(sys.argv[2]) for d in ev)
last = ev[-1] if ev else {}
print("%s %s %s %d" % ("ok" if ok else "bad:%s" % done[:50], last.get("done"), last.get("failed"),
                       len(set(done))))
' "$2" "$3")
	PROGRESS_DISTINCT=${summary##* }
	is "${summary% *}" "ok $3 $4" "$5: progress events from done 0 up to done $3 (failed $4)"
	note "$5: ${PROGRESS_DISTINCT:-0} distinct done counts in the progress events"
}

# ================================================================ SoftHSM2
make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"
sse_open main

# ---------------------------------------------------------------- 1,000 RSA signatures
batch_make rsa1k "${CERT_ID[rsa]}" sha256 1000 pkcs1 "$DESC"
note "body of the 1,000-item batch: $(stat -c %s "$T/batch.rsa1k.req") bytes (max_body is 65536)"
g0=$(pinentry_count GETPIN)
c0=$(pinentry_count CONFIRM)
t0=$(now_ms)
batch_post rsa1k
note "1,000 RSA-2048 signatures in $(( $(now_ms) - t0 )) ms"
is "$STATUS" 200 "RSA batch of 1,000: 200" || diag "$(_tap_show "$BODY")"
is "$(pinentry_count GETPIN) $(pinentry_count CONFIRM)" "$((g0 + 1)) $c0" \
	"RSA batch of 1,000: exactly one GETPIN, no CONFIRM"
SETDESC=$(last_setdesc)
like "$SETDESC" '1000 records' "the PIN dialog names \"1000 records\""
like "$SETDESC" "$DESC" "the PIN dialog shows the application's description"
like "$SETDESC" '/curl" \(process [0-9]+\)' "the PIN dialog names the caller, quoted"
like "$SETDESC" "${CERT_CN[rsa]}" "the PIN dialog names the holder"
is "$(json_get '[j["total"], j["signed"], j["failed"], j["cancelled"], j["certificate"], j["algorithm"]]')" \
	"[1000, 1000, 0, false, \"${CERT_ID[rsa]}\", \"rsa-pkcs1-sha256\"]" \
	"RSA batch: total 1000, signed 1000, failed 0, not cancelled, certificate and algorithm"
B_RSA=$(json_get 'j["batch"]')
like "$B_RSA" '^[0-9a-f]{32}$' "RSA batch: batch id is 32 hex digits"
SUM=$(batch_verify --signed 1000 rsa1k "$T/batch.rsa1k.ans" "${CERT_PEM[rsa]}" sha256 pkcs1)
ok $? "RSA batch: every item in request order and every signature verifies (cryptography)"
is "$(json_get '[j["items"], j["signed"], j["verified"], j["bad"], j["order_ok"]]' "$SUM")" \
	"[1000, 1000, 1000, [], true]" "RSA batch: 1000 items, 1000 signatures verified"
for i in 0 499 999; do
	batch_item_sig rsa1k "$i" "$T/item.sig"
	verify_sig "${CERT_PEM[rsa]}" "$(batch_item_hash rsa1k "$i")" "$T/item.sig" sha256 pkcs1
	ok $? "RSA batch: item $i verifies with the openssl CLI"
done
batch_corrupt "$T/batch.rsa1k.ans" 321 "$T/corrupt.ans"
SUM=$(batch_verify rsa1k "$T/corrupt.ans" "${CERT_PEM[rsa]}" sha256 pkcs1)
rc=$?
is "$rc $(json_get 'j["bad"]' "$SUM")" "1 [321]" "the check fails on an answer with signature 321 altered"
json_get 'j["items"][321]["signature"]' "$(cat "$T/corrupt.ans")" | openssl base64 -d -A > "$T/item.sig"
! verify_sig "${CERT_PEM[rsa]}" "$(batch_item_hash rsa1k 321)" "$T/item.sig" sha256 pkcs1
ok $? "the openssl CLI rejects the altered signature"
batch_item_sig rsa1k 322 "$T/item.sig"
! verify_sig "${CERT_PEM[rsa]}" "$(batch_item_hash rsa1k 321)" "$T/item.sig" sha256 pkcs1
ok $? "the openssl CLI rejects item 322's signature over item 321's hash"
is "$(json_get 'len(set(i["audit_id"] for i in j["items"]))' "$(cat "$T/batch.rsa1k.ans")")" 1000 \
	"RSA batch: 1000 distinct audit ids"
is "$(audit_select "e.get('batch') == '$B_RSA' and e['result'] == 'ok'" | json_get 'len(j)' "$(cat)")" 1000 \
	"RSA batch: 1000 ok entries of this batch in the audit log"
progress_ok main "$B_RSA" 1000 0 "RSA batch"

# ---------------------------------------------------------------- while logged in: CONFIRM
batch_make p256 "${CERT_ID[p256]}" sha384 1000
g0=$(pinentry_count GETPIN)
c0=$(pinentry_count CONFIRM)
batch_post p256
is "$STATUS" 200 "P-256 batch of 1,000 while logged in: 200" || diag "$(_tap_show "$BODY")"
is "$(pinentry_count GETPIN) $(pinentry_count CONFIRM)" "$g0 $((c0 + 1))" \
	"P-256 batch while logged in: one CONFIRM, no GETPIN"
like "$(last_setdesc)" '1000 records' "the confirmation names \"1000 records\""
is "$(json_get '[j["total"], j["signed"], j["failed"], j["algorithm"]]')" '[1000, 1000, 0, "ecdsa-sha384"]' \
	"P-256 batch: 1000 signed with ecdsa-sha384"
SUM=$(batch_verify --signed 1000 p256 "$T/batch.p256.ans" "${CERT_PEM[p256]}" sha384)
ok $? "P-256 batch: every signature verifies (cryptography)"
is "$(json_get '[j["verified"], j["bad"]]' "$SUM")" "[1000, []]" "P-256 batch: 1000 verified"
batch_item_sig p256 777 "$T/item.sig"
verify_sig "${CERT_PEM[p256]}" "$(batch_item_hash p256 777)" "$T/item.sig" sha384
ok $? "P-256 batch: item 777 verifies with the openssl CLI"
batch_corrupt "$T/batch.p256.ans" 5 "$T/corrupt.ans"
batch_verify p256 "$T/corrupt.ans" "${CERT_PEM[p256]}" sha384 > /dev/null
isnt $? 0 "the check fails on a P-256 answer with one signature altered"

# Cancelling the confirmation: nothing is signed.
pinentry_says cancel
batch_make cancel "${CERT_ID[p256]}" sha256 10
g0=$(pinentry_count GETPIN)
c0=$(pinentry_count CONFIRM)
a0=$(audit_lines)
batch_post cancel
is_error 403 pin_cancelled "confirmation cancelled: 403 pin_cancelled"
is "$(pinentry_count GETPIN) $(pinentry_count CONFIRM)" "$g0 $((c0 + 1))" \
	"confirmation cancelled: one CONFIRM, no GETPIN"
is "$(audit_lines)" "$a0" "confirmation cancelled: nothing audited"
HASHES=$(cut -d' ' -f2 "$T/batch.cancel.hashes" | tr '\n' ' ')
is "$(audit_select "e.get('hash') in '$HASHES'.split()" | json_get 'len(j)' "$(cat)")" 0 \
	"confirmation cancelled: none of its hashes in the audit log"
pinentry_says "pin 123456"

# RSA-PSS over SHA-512, confirmed.
batch_make pss "${CERT_ID[rsa]}" sha512 50 pss
c0=$(pinentry_count CONFIRM)
batch_post pss
is "$STATUS $(json_get 'j["algorithm"]') $(pinentry_count CONFIRM)" "200 rsa-pss-sha512 $((c0 + 1))" \
	"PSS batch of 50: 200 rsa-pss-sha512 after one CONFIRM"
batch_verify --signed 50 pss "$T/batch.pss.ans" "${CERT_PEM[rsa]}" sha512 pss > "$T/sum"
ok $? "PSS batch: every signature verifies as RSA-PSS"
is "$(json_get '[j["signed"], j["failed"]]') $(json_get '[j["signed"], j["verified"]]' "$(cat "$T/sum")")" \
	"[50, 0] [50, 50]" "PSS batch: 50 signed and 50 verified"

# Two batches at the same time: two confirmations, one after the other.
batch_make par1 "${CERT_ID[rsa]}" sha256 100
batch_make par2 "${CERT_ID[p256]}" sha256 100
c0=$(pinentry_count CONFIRM)
batch_post_bg par1
P1=$BATCH_PID
batch_post_bg par2
P2=$BATCH_PID
batch_wait "$P1" par1
S1=$STATUS
batch_wait "$P2" par2
is "$S1 $STATUS" "200 200" "two concurrent batches: both 200"
batch_verify --signed 100 par1 "$T/batch.par1.ans" "${CERT_PEM[rsa]}" sha256 pkcs1 > "$T/sum" &&
	batch_verify --signed 100 par2 "$T/batch.par2.ans" "${CERT_PEM[p256]}" sha256 > "$T/sum"
ok $? "two concurrent batches: every signature verifies"
is "$(json_get 'j["signed"]' "$(cat "$T/batch.par1.ans")") $(json_get 'j["signed"]' "$(cat "$T/batch.par2.ans")")" \
	"100 100" "two concurrent batches: 100 signed each"
is "$(pinentry_count CONFIRM)" $((c0 + 2)) "two concurrent batches: two CONFIRMs"

# Logged out, cancelling the PIN dialog.
api POST /v1/logout '{}'
pinentry_says cancel
g0=$(pinentry_count GETPIN)
a0=$(audit_lines)
batch_post cancel
is_error 403 pin_cancelled "PIN dialog cancelled: 403 pin_cancelled"
is "$(pinentry_count GETPIN) $(audit_lines)" "$((g0 + 1)) $a0" \
	"PIN dialog cancelled: one GETPIN, nothing audited"
pinentry_says "pin 123456"

# ---------------------------------------------------------------- malformed batches
# Logged out: a request that went past validation would show a dialog.
batch_make base "${CERT_ID[rsa]}" sha256 600
batch_mutate base b64 'r["items"][7]["hash"] = "@@not*base64@@"'
bad_batch b64 400 hash_encoding 7 'items[7].hash' "bad base64 in item 7"
batch_mutate base len 'r["items"][500]["hash"] = b64(31)'
bad_batch len 400 hash_length 500 'items[500].hash' "a 31-byte hash in item 500"
batch_mutate base len48 'r["items"][599]["hash"] = b64(48)'
bad_batch len48 400 hash_length 599 'items[599].hash' "a SHA-384-sized hash in a sha256 batch (item 599)"
batch_mutate base noid 'del r["items"][3]["id"]'
bad_batch noid 400 missing_field 3 'items[3].id' "item 3 without id"
batch_mutate base nohash 'del r["items"][42]["hash"]'
bad_batch nohash 400 missing_field 42 'items[42].hash' "item 42 without hash"
batch_mutate base unknown 'r["items"][9]["note"] = "x"'
bad_batch unknown 400 unknown_field 9 'items[9].note' "an unknown field in item 9"
batch_mutate base idtype 'r["items"][11]["id"] = 11'
bad_batch idtype 400 invalid_type 11 'items[11].id' "a number as the id of item 11"
batch_mutate base idlong 'r["items"][12]["id"] = "x" * 257'
bad_batch idlong 400 invalid_value 12 'items[12].id' "a 257-character id in item 12"
batch_mutate base idlongvi 'r["items"][12]["id"] = "học-sinh-" * 28 + "Đức-Anh"'
bad_batch idlongvi 400 invalid_value 12 'items[12].id' "a 259-character Vietnamese id in item 12"
batch_mutate base idempty 'r["items"][13]["id"] = ""'
bad_batch idempty 400 invalid_value 13 'items[13].id' "an empty id in item 13"
batch_mutate base notobj 'r["items"][14] = "abc"'
mark
batch_post notobj
like "$STATUS $(err_code) $(json_get 'j["error"]["index"]') $(json_get 'j["error"]["field"]')" \
	'^400 invalid_type 14 items\[14\]' "a string as item 14: 400 invalid_type index 14 field items[14]…"
quiet_since "a string as item 14"
batch_mutate base notarray 'r["items"] = {"id": "a", "hash": b64(32)}'
bad_batch notarray 400 invalid_type - items "items not an array"
batch_mutate base empty 'r["items"] = []'
bad_batch empty 400 invalid_value - items "empty items"
batch_mutate base noitems 'del r["items"]'
bad_batch noitems 400 missing_field - items "no items"
batch_mutate base toomany 'r["items"] = [{"id": "i%d" % i, "hash": b64(32)} for i in range(10001)]'
bad_batch toomany 400 invalid_value - items "10,001 items"
batch_mutate base longdesc 'r["description"] = "Điểm " * 60 + "ệ"'
bad_batch longdesc 400 invalid_value - description "a Vietnamese description of 301 characters"
batch_mutate base topfield 'r["priority"] = 1'
bad_batch topfield 400 unknown_field - priority "an unknown top-level field"
batch_mutate base ecpss 'r["certificate"] = "'"${CERT_ID[p256]}"'"; r["padding"] = "pss"'
bad_batch ecpss 400 unsupported_padding - padding "padding pss for an EC key"
batch_mutate base nocert 'r["certificate"] = "ab" * 32'
bad_batch nocert 404 certificate_not_found - - "an unknown certificate"
printf '{"certificate":"%s","hash_algorithm":"sha256","items":[' "${CERT_ID[rsa]}" > "$T/batch.broken.req"
bad_batch broken 400 bad_request - - "a body that is not JSON"

# The limits count characters, not bytes: 300 Vietnamese characters of description (over
# 300 bytes of UTF-8) and a 256-character Vietnamese item id are taken.
batch_make vi "${CERT_ID[p256]}" sha256 2
batch_mutate vi vimax 'r["description"] = "Điểm " * 60; r["items"][0]["id"] = "học-sinh-" * 28 + "Đức-"'
batch_post vimax
is "$STATUS $(json_get 'j["signed"]') $(json_get 'len(j["items"][0]["id"])')" "200 2 256" \
	"a 300-character Vietnamese description and a 256-character Vietnamese id: signed"

"$PY" -c 'import sys; n = 8 * 1024 * 1024 + 1; sys.stdout.write("{\"description\":\"" + "a" * (n - 18) + "\"}")' \
	> "$T/batch.huge.req"
is "$(stat -c %s "$T/batch.huge.req")" 8388609 "a body of 8 MiB + 1 byte"
bad_batch huge 413 body_too_large - - "8 MiB + 1 byte (Content-Length)"
API_EXTRA=(-H 'Transfer-Encoding: chunked')
bad_batch huge 413 body_too_large - - "8 MiB + 1 byte (chunked)"
API_EXTRA=()
status_ok "the daemon serves after the oversized bodies"
sse_close main
stop_kysod

# ================================================================ mock module
if [ ! -r "$MOCK_MODULE" ]; then
	fail "the mock PKCS#11 module is built by make check ($MOCK_MODULE)"
	done_testing
	exit
fi
make_mock_key rsa
export KYSO_MOCK_SERIAL=BATCH01
MOCK_TOKEN_ID=$(token_id kyso mock BATCH01)

# ---------------------------------------------------------------- DELETE midway
export KYSO_MOCK_FAULT=slow-sign KYSO_MOCK_FAULT_AFTER=0 KYSO_MOCK_DELAY_MS=20
# signatures wait while $T/hold exists (none does until the duplicate-name case)
export KYSO_MOCK_HOLD=$T/hold
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sse_open slow
batch_make slow "${CERT_ID[mock]}" sha256 200
batch_post_bg slow
PB=$BATCH_PID
sse_wait slow batch-progress 'd["total"] == 200' 10
ok $? "slow batch: a batch-progress event arrives"
B=$(json_get 'j["data"]["batch"]' "$SSE_EVENT")
like "$B" '^[0-9a-f]{32}$' "slow batch: its id from the event"
sse_wait slow batch-progress "d['batch'] == '$B' and d['done'] >= 10" 10
ok $? "slow batch: 10 items done"
api DELETE "/v1/sign/batch/$B"
is "$STATUS $BODY" "200 {\"batch\":\"$B\",\"cancelled\":true}" "DELETE /v1/sign/batch/{id}: 200 cancelled"
batch_wait "$PB" slow
is "$STATUS" 200 "cancelled batch: its request answers 200"
is "$(json_get '[j["batch"], j["total"], j["cancelled"], j["signed"] + j["failed"]]')" "[\"$B\", 200, true, 200]" \
	"cancelled batch: same id, total 200, cancelled true, signed + failed = total"
SIGNED=$(json_get 'j["signed"]')
ok $(( SIGNED >= 10 && SIGNED < 200 ? 0 : 1 )) "cancelled batch: stopped midway ($SIGNED signed)"
SUM=$(batch_verify --signed "$SIGNED" slow "$T/batch.slow.ans" "${CERT_PEM[mock]}" sha256 pkcs1)
ok $? "cancelled batch: the signed items verify"
is "$(json_get '[j["verified"], j["first_error"], j["errors"]]' "$SUM")" \
	"[$SIGNED, $SIGNED, {\"batch_cancelled\": $((200 - SIGNED))}]" \
	"cancelled batch: the first $SIGNED items signed, the $((200 - SIGNED)) after them batch_cancelled"
is "$(audit_select "e.get('batch') == '$B'" | json_get '[len(j), sorted(set(e.get("result", e["event"]) for e in j))]' "$(cat)")" \
	"[$((2 * SIGNED)), [\"intent\", \"ok\"]]" "cancelled batch: $SIGNED intents and $SIGNED ok entries in the audit log, nothing else"
progress_ok slow "$B" 200 $((200 - SIGNED)) "cancelled batch"
ok $(( ${PROGRESS_DISTINCT:-0} >= 3 ? 0 : 1 )) "cancelled batch: progress reported while signing"
api DELETE "/v1/sign/batch/$B"
is_error 404 batch_not_found "DELETE of a finished batch: 404 batch_not_found"
api DELETE "/v1/sign/batch/00000000000000000000000000000000"
is_error 404 batch_not_found "DELETE of an unknown batch: 404 batch_not_found"
api DELETE "/v1/sign/batch/not-a-batch"
is_error 404 batch_not_found "DELETE of a malformed batch id: 404 batch_not_found"
api GET "/v1/sign/batch/$B"
is "$STATUS" 405 "GET /v1/sign/batch/{id}: 405"

# The app names its batch: it can cancel it without reading the event stream, and a
# second batch under the same name while the first runs is refused.
batch_make named "${CERT_ID[mock]}" sha256 200
"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); r["batch"] = "grades-10A1_2026"
json.dump(r, open(sys.argv[1], "w"))' "$T/batch.named.req"
touch "$T/hold"
batch_post_bg named
PN=$BATCH_PID
for ((i = 0; i < 600; i++)); do
	api DELETE /v1/sign/batch/grades-10A1_2026
	[ "$STATUS" = 200 ] && break
	sleep 0.05
done
rm -f "$T/hold" "$T/hold.waiting"
is "$STATUS $BODY" '200 {"batch":"grades-10A1_2026","cancelled":true}' \
	"a batch named by the app is cancelled by that name"
batch_wait "$PN" named
is "$(json_get '[j["batch"], j["cancelled"]]')" '["grades-10A1_2026", true]' \
	"its answer carries the app's name and cancelled true"
batch_make dup "${CERT_ID[mock]}" sha256 100
"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1])); r["batch"] = "dup-1"
json.dump(r, open(sys.argv[1], "w"))' "$T/batch.dup.req"
cp "$T/batch.dup.req" "$T/batch.dup2.req"
cp "$T/batch.dup.hashes" "$T/batch.dup2.hashes"
# dup-1 is held inside its first signature (KYSO_MOCK_HOLD) while the second one is posted
touch "$T/hold"
batch_post_bg dup
PD=$BATCH_PID
wait_file "$T/hold.waiting"
ok $? "dup-1: its first signature is under way (held)"
batch_post dup2
is_error 409 batch_exists "a second batch under a running batch's name: 409 batch_exists"
api DELETE /v1/sign/batch/dup-1
is "$STATUS $BODY" '200 {"batch":"dup-1","cancelled":true}' "dup-1 was still running: cancelled by its name"
rm -f "$T/hold"
batch_wait "$PD" dup
is "$(json_get '[j["batch"], j["cancelled"]]')" '["dup-1", true]' "dup-1 answers cancelled"
for bad in '""' '"a b"' '"../x"' "\"$(printf 'x%.0s' $(seq 33))\"" 5; do
	api POST /v1/sign/batch "{\"certificate\":\"${CERT_ID[mock]}\",\"hash_algorithm\":\"sha256\",\"batch\":$bad,\"items\":[{\"id\":\"1\",\"hash\":\"$(head -c 32 /dev/urandom | openssl base64 -A)\"}]}"
	like "$STATUS $(json_get 'j["error"]["code"]')" '^400 (invalid_value|invalid_type)$' "batch name $bad: 400"
done
status_ok "the daemon serves after the named batches"
sse_close slow
stop_kysod

# ---------------------------------------------------------------- token removed midway
unset KYSO_MOCK_HOLD
export KYSO_MOCK_FAULT=removed-sign KYSO_MOCK_FAULT_AFTER=50
unset KYSO_MOCK_DELAY_MS
start_kysod
sse_open removed
batch_make removed "${CERT_ID[mock]}" sha256 200
g0=$(pinentry_count GETPIN)
batch_post removed
is "$STATUS" 200 "token removed midway: 200" || diag "$(_tap_show "$BODY")"
is "$(pinentry_count GETPIN)" $((g0 + 1)) "token removed midway: one GETPIN"
B=$(json_get 'j["batch"]')
is "$(json_get '[j["total"], j["signed"], j["failed"], j["cancelled"]]')" '[200, 50, 150, false]' \
	"token removed midway: 50 signed, 150 failed"
SUM=$(batch_verify --signed 50 removed "$T/batch.removed.ans" "${CERT_PEM[mock]}" sha256 pkcs1)
ok $? "token removed midway: the 50 signatures verify"
is "$(json_get '[j["verified"], j["first_error"], j["errors"]]' "$SUM")" '[50, 50, {"token_removed": 150}]' \
	"token removed midway: items 0-49 signed, 50-199 token_removed"
is "$(audit_select "e.get('batch') == '$B' and e['result'] == 'ok'" | json_get 'len(j)' "$(cat)")" 50 \
	"token removed midway: 50 ok entries in the audit log"
is "$(audit_select "e.get('batch') == '$B' and e['result'] != 'ok'" |
	json_get 'sorted(set(e["result"] for e in j))' "$(cat)")" \
	'["token_removed"]' "token removed midway: the failed attempt audited as token_removed"
progress_ok removed "$B" 200 150 "token removed midway"
status_ok "token removed midway: the daemon serves"
for ((i = 0; i < 30; i++)); do
	api GET "/v1/tokens/$MOCK_TOKEN_ID"
	[ "$(json_get 'j["present"]')" = false ] && break
	sleep 0.1
done
is "$STATUS $(json_get 'j["present"]')" "200 false" "token removed midway: token listed as not present"
g0=$(pinentry_count GETPIN)
cp "$T/batch.removed.req" "$T/batch.removed2.req"
batch_post removed2
is_error 409 token_not_present "a batch for the removed token: 409 token_not_present"
is "$(pinentry_count GETPIN)" "$g0" "a batch for the removed token: no PIN asked"
sse_close removed
stop_kysod

done_testing
