#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit log's durability, with faults injected into kysod's writes and syncs of that file
# (tests/mock/fault-io.c, LD_PRELOAD): a signature is never answered before its intent entry is
# synced (a slow sync, observed through the marks the library writes after each sync), and that
# sync runs while the token signs; the result entry is written once the answer has gone (a slow
# write of it does not delay the answer), also for a client that left before its answer, and
# is synced later; a failed sync or write answers 500 audit_failed with no signature, leaves no
# half-written line, and the log still verifies; a failed write of a result entry, after its
# answer, makes the next signature fail with audit_failed. kysod killed with SIGKILL under load,
# or in the middle of a sync: every signature a client received has its intent entry, and kyso
# audit verify explains the intents left without a result.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
FAULT_LIB=$KYSO_BUILDDIR/tests/mock/.libs/libkyso-fault-io.so
require_build
[ -r "$FAULT_LIB" ] || bail_out "$FAULT_LIB not built (make check builds it)"
require_softhsm

ARM=$T/fault.armed
MARKS=$T/sync.marks
mkdir -p "$(dirname "$AUDIT_LOG")"
LOG_REAL=$(realpath -m "$AUDIT_LOG")

# start_faulty MODE [DELAY_MS]: kysod with the fault library on its audit log (the fault applies
# while $ARM exists, to the writes holding $FAULT_MATCH if set; marks in $MARKS).
FAULT_MATCH=
start_faulty()
{
	rm -f "$ARM" "$MARKS"
	KYSOD_WRAP=(env "LD_PRELOAD=$FAULT_LIB" "KYSO_FAULT_FILE=$LOG_REAL" "KYSO_FAULT_IO=$1"
		"KYSO_FAULT_ARM=$ARM" "KYSO_FAULT_MARK=$MARKS" "KYSO_FAULT_DELAY_MS=${2:-300}"
		"KYSO_FAULT_MATCH=$FAULT_MATCH"
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	start_kysod
	KYSOD_WRAP=()
}

# line_end SEQ: the offset just past the newline of the audit line with that seq (empty if none).
line_end()
{
	"$PY" - "$AUDIT_LOG" "$1" <<'EOF'
import json, sys
off = 0
for line in open(sys.argv[1], "rb").read().splitlines(keepends=True):
    off += len(line)
    try:
        if json.loads(line).get("seq") == int(sys.argv[2]) and line.endswith(b"\n"):
            print(off)
            break
    except ValueError:
        pass
EOF
}

# synced_past OFFSET: a successful sync recorded in $MARKS (read now) covered OFFSET bytes.
synced_past()
{
	[ -n "$1" ] && [ -f "$MARKS" ] && awk -v want="$1" '$1 == "sync" && $3 == 0 && $2 >= want { f = 1 } END { exit !f }' "$MARKS"
}

# log_state: kyso audit verify accepts the log, or at least its last line is whole; prints
# what was found.
log_state()
{
	local out
	if out=$("$KYSO_CLI" audit verify "$AUDIT_LOG" 2>&1); then
		echo "kyso audit verify accepts the log"
	elif [ -s "$AUDIT_LOG" ] && [ "$(tail -c 1 "$AUDIT_LOG" | xxd -p)" = 0a ]; then
		echo "the log ends with a whole line (kyso audit verify: $out)"
	else
		echo "a partial line at the end: $(tail -c 60 "$AUDIT_LOG" | tr -cd '[:print:]') (kyso audit verify: $out)"
		return 1
	fi
}

# log_whole DESC: log_state as one TAP line.
log_whole()
{
	local st
	st=$(log_state)
	ok $? "$1: nothing half-written ($st)"
}

no_signature()
{
	unlike "$BODY" '"signature"' "$1: no signature in the answer"
}

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
pinentry_says "pin 123456"

# ---------------------------------------------------------------- a slow sync
# Every sync of the log takes 300 ms more. The answer must come after the sync that covers
# its line: the marks file, read as soon as the answer is in, already records it.
start_faulty slow-sync 300
touch "$ARM"
for key in rsa p256; do
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[$key]}" sha256)"
	MARKS_NOW=$(cat "$MARKS" 2>/dev/null)
	is "$STATUS" 200 "slow sync, $key: 200" || diag "$BODY"
	SEQ=$(json_get 'j["audit_id"].split(":")[1]')
	END=$(line_end "$SEQ")
	is "$(audit_select "e['seq'] == $SEQ" | json_get '[j[0]["event"], j[0]["hash"]]' "$(cat)")" \
		"[\"intent\", \"$HASH_HEX\"]" "slow sync, $key: audit_id names the intent entry of its hash"
	if printf '%s\n' "$MARKS_NOW" > "$T/marks.now" && MARKS=$T/marks.now synced_past "$END"; then
		pass "slow sync, $key: the answer came after a sync covering its intent entry (seq $SEQ, $END bytes)"
	else
		fail "slow sync, $key: the answer came after a sync covering its intent entry (seq $SEQ, ${END:-no line})"
		diag "    syncs seen when the answer came: $(printf '%s' "$MARKS_NOW" | tr '\n' ';')"
	fi
	# The sync that made the intent durable began before the result entry was written
	# (it ran while the token signed), and the answer did not wait for a sync of the
	# result entry: with one client nothing else syncs it before the next request. The
	# result entry is written once the answer has gone: it is waited for here.
	audit_settle
	RES_END=$(line_end $((SEQ + 1)))
	is "$(audit_select "e['seq'] == $((SEQ + 1))" | json_get '[j[0]["event"], j[0]["intent"], j[0]["result"]]' "$(cat)")" \
		"[\"sign\", $SEQ, \"ok\"]" "slow sync, $key: the next entry is its result, naming the intent"
	awk -v lo="$END" -v hi="${RES_END:-0}" '$1 == "sync" && $3 == 0 && $2 >= lo && $2 < hi { f = 1 } END { exit !f }' "$T/marks.now"
	ok $? "slow sync, $key: the intent's sync began before the result entry was written (while the token signed)" ||
		diag "    intent ends at $END, result at $RES_END; syncs: $(tr '\n' ';' < "$T/marks.now")"
	MARKS=$T/marks.now synced_past "$RES_END"
	isnt $? 0 "slow sync, $key: the answer did not wait for a sync of the result entry"
	save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[$key]}" "$HASH_HEX" "$T/sig.bin" sha256
	ok $? "slow sync, $key: the signature verifies with openssl"
done

# Two clients: the second one's intent entry is written while the first one's sync runs, and
# that sync does not cover it. Its own sync starts at once, beside the first (two begins before
# the first end), rather than after it; both answers come after a sync covering their line.
rm -f "$MARKS"
sign_bg p256 conc1 30
J1=$JOB
for ((i = 0; i < 200; i++)); do
	grep -q '^begin' "$MARKS" 2>/dev/null && break
	sleep 0.01
done
sign_bg p256 conc2 30
wait "$J1"
JOB_STATUS1=$(cat "$T/conc1.code")
sign_bg_wait conc2
is "$JOB_STATUS1 $STATUS" "200 200" "slow sync, two clients: both signed"
awk '$1 == "begin" { b++ } $1 == "sync" { exit } END { exit !(b >= 2) }' "$MARKS"
ok $? "slow sync, two clients: the second sync began before the first ended" ||
	diag "    marks: $(tr '\n' ';' < "$MARKS")"
for c in conc1 conc2; do
	SEQ=$(json_get 'j["audit_id"].split(":")[1]' "$(cat "$T/$c.json")")
	synced_past "$(line_end "$SEQ")"
	ok $? "slow sync, two clients: $c's intent entry was synced (seq $SEQ)"
	json_get 'j["signature"]' "$(cat "$T/$c.json")" | openssl base64 -d -A > "$T/$c.sig" 2>/dev/null
	verify_sig "${CERT_PEM[p256]}" "$(json_get 'j["hash"]' "$(cat "$T/$c.req")" |
		openssl base64 -d -A | xxd -p -c 256)" "$T/$c.sig" sha256
	ok $? "slow sync, two clients: $c's signature verifies with openssl"
done

batch_make slow "${CERT_ID[p256]}" sha256 20
SYNCS0=$(grep -c '^sync' "$MARKS")
batch_post slow
MARKS_NOW=$(cat "$MARKS" 2>/dev/null)
is "$STATUS $(json_get 'j["signed"]')" "200 20" "slow sync, batch of 20: 200, 20 signed" || diag "$BODY"
SEQ=$(json_get 'max(int(i["audit_id"].split(":")[1]) for i in j["items"])')
END=$(line_end "$SEQ")
printf '%s\n' "$MARKS_NOW" > "$T/marks.now"
MARKS=$T/marks.now synced_past "$END"
ok $? "slow sync, batch: the answer came after a sync covering its last intent entry (seq $SEQ)" ||
	diag "    syncs seen when the answer came: $(tr '\n' ';' < "$T/marks.now")"
B=$(json_get 'j["batch"]')
is "$(audit_select "e.get('batch') == '$B'" | json_get '[sum(e["event"] == "intent" for e in j), sum(e.get("result") == "ok" for e in j)]' "$(cat)")" \
	"[20, 20]" "slow sync, batch: 20 intent entries and 20 results"
# one sync for the batch's 20 items (chunks of 64), not one per item
is "$(( $(grep -c '^sync' "$T/marks.now") - SYNCS0 ))" 1 "slow sync, batch of 20: one sync before the answer"
batch_verify --signed 20 slow "$T/batch.slow.ans" "${CERT_PEM[p256]}" sha256 > /dev/null
ok $? "slow sync, batch: the 20 signatures verify (cryptography)"
rm -f "$ARM"
stop_kysod
log_whole "slow sync"

# ---------------------------------------------------------------- the result entry after the answer
# Every write of a result entry takes 2 s more: the answer does not wait for it. When the
# answer is in, the log holds the intent and not yet the result; the result follows.
FAULT_MATCH='"event":"sign"'
start_faulty slow-write 2000
FAULT_MATCH=
touch "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
AT_ANSWER=$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get '[e["event"] for e in j]' "$(cat)")
is "$STATUS" 200 "slow result write: 200" || diag "$BODY"
is "$AT_ANSWER" '["intent"]' "slow result write: when the answer is in, its intent is in the log and its result not yet"
SEQ=$(json_get 'j["audit_id"].split(":")[1]')
audit_settle
is "$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get '[[e["event"], e.get("intent"), e.get("result")] for e in j]' "$(cat)")" \
	"[[\"intent\", null, null], [\"sign\", $SEQ, \"ok\"]]" "slow result write: the result entry follows the answer, naming the intent"
save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/sig.bin" sha256
ok $? "slow result write: the signature verifies with openssl"
rm -f "$ARM"
stop_kysod
log_whole "slow result write"

# A client that leaves before its answer (the intent's sync takes 3 s, the client waits 1 s):
# the result entry is written all the same once kysod is done with the request.
start_faulty slow-sync 3000
touch "$ARM"
make_hash sha256
sign_body "${CERT_ID[p256]}" sha256 > "$T/gone.req"
curl -sS --max-time 1 --unix-socket "$SOCK" -H 'Content-Type: application/json' -H 'Expect:' \
	--data-binary "@$T/gone.req" -o /dev/null -w '%{http_code}' http://localhost/v1/sign \
	> "$T/gone.code" 2>/dev/null
is "$(cat "$T/gone.code")" 000 "a client gone before its answer: it got no answer"
audit_settle
is "$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get '[[e["event"], e.get("result")] for e in j]' "$(cat)")" \
	'[["intent", null], ["sign", "ok"]]' "a client gone before its answer: its result entry is written all the same"
rm -f "$ARM"
status_ok "a client gone before its answer: kysod serves on"
stop_kysod
log_whole "a client gone before its answer"

# ---------------------------------------------------------------- SIGKILL in the middle of a sync
# The intent is written and its sync is under way (300 ms) when kysod is killed: no answer,
# the intent is in the file without a result, and kyso audit verify explains it.
start_faulty slow-sync 3000
touch "$ARM"
make_hash sha256
sign_body "${CERT_ID[p256]}" sha256 > "$T/kill.req"
curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' -H 'Expect:' \
	--data-binary "@$T/kill.req" -o "$T/kill.ans" -w '%{http_code}' http://localhost/v1/sign \
	> "$T/kill.code" 2>/dev/null &
KILL_CALLER=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get 'j and "y"' "$(cat)")" ] && break
	sleep 0.05
done
sleep 0.2
{ kill -KILL "$KYSOD_PID"; wait "$KYSOD_PID"; } 2>/dev/null
KYSOD_PID=
wait "$KILL_CALLER"
rm -f "$ARM"
isnt "$(cat "$T/kill.code")" 200 "killed during the intent's sync: no signature answered"
is "$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get '[e["event"] for e in j]' "$(cat)")" '["intent"]' \
	"killed during the intent's sync: the intent is in the log, without a result"
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
ok $? "killed during the intent's sync: kyso audit verify accepts the log" || diag "$(cat "$T/verify.out")"
like "$(cat "$T/verify.out")" "1 intent entry without a result entry: kysod stopped" \
	"kyso audit verify explains the intent without a result" || diag "$(cat "$T/verify.out")"
like "$(cat "$T/verify.out")" "intent seq $(audit_select "e.get('hash') == '$HASH_HEX'" | json_get 'j[0]["seq"]' "$(cat)")," \
	"...naming its seq"
"$KYSO_CLI" --json audit verify "$AUDIT_LOG" > "$T/verify.json" 2>&1
is "$(json_get '[j["ok"], len(j["intents_without_result"])]' "$(cat "$T/verify.json")")" "[true, 1]" \
	"kyso --json audit verify lists it under intents_without_result"

# ---------------------------------------------------------------- SIGKILL under load
# Four clients sign as fast as they can; kysod is killed with SIGKILL once 150 answers are in.
# Every signature a client received verifies and has its intent entry (its audit_id, its
# hash), and the log verifies.
start_kysod
cat > "$T/load.py" <<'EOF'
import base64, hashlib, http.client, json, os, socket, sys, threading
sock_path, out_path, cert = sys.argv[1], sys.argv[2], sys.argv[3]

class Conn(http.client.HTTPConnection):
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(sock_path)
        self.sock = s

out = open(out_path, "a", buffering=1)
lock = threading.Lock()

def client():
    conn = Conn("localhost", timeout=30)
    for _ in range(2000):
        digest = hashlib.sha256(os.urandom(32)).digest()
        body = json.dumps({"certificate": cert, "hash": base64.b64encode(digest).decode(),
                           "hash_algorithm": "sha256"})
        try:
            conn.request("POST", "/v1/sign", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            answer = json.loads(r.read())
        except Exception:
            return
        if r.status == 200:
            with lock:
                out.write(json.dumps({"hash": digest.hex(), "answer": answer}) + "\n")

threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
: > "$T/load.out"
"$PY" "$T/load.py" "$SOCK" "$T/load.out" "${CERT_ID[p256]}" &
LOAD=$!
for ((i = 0; i < 600; i++)); do
	[ "$(wc -l < "$T/load.out")" -ge 150 ] && break
	sleep 0.05
done
{ kill -KILL "$KYSOD_PID"; wait "$KYSOD_PID"; } 2>/dev/null
KYSOD_PID=
wait "$LOAD"
ANSWERED=$(wc -l < "$T/load.out" | tr -d ' ')
ok $(( ANSWERED >= 150 ? 0 : 1 )) "SIGKILL under load: $ANSWERED signatures answered before the kill"
is "$("$PY" - "$T/load.out" "$AUDIT_LOG" "${CERT_PEM[p256]}" <<'EOF'
import base64, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
answers = [json.loads(l) for l in open(sys.argv[1])]
entries = {}
for line in open(sys.argv[2], "rb"):
    e = json.loads(line)
    entries[(e["chain"], e["seq"])] = e
key = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read()).public_key()
bad = []
for a in answers:
    chain, seq = a["answer"]["audit_id"].split(":")
    e = entries.get((chain, int(seq)))
    if not e or e["event"] != "intent" or e["hash"] != a["hash"]:
        bad.append("%s: %s" % (a["answer"]["audit_id"], e))
        continue
    try:
        key.verify(base64.b64decode(a["answer"]["signature"]), bytes.fromhex(a["hash"]),
                   ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except Exception:
        bad.append("%s: the signature does not verify" % a["hash"][:8])
print("ok" if not bad else "%d bad: %s" % (len(bad), "; ".join(bad[:2])))
EOF
)" ok "SIGKILL under load: every signature answered verifies and has its intent entry (audit_id, hash)"
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
ok $? "SIGKILL under load: kyso audit verify accepts the log ($(head -n 1 "$T/verify.out"))" ||
	diag "$(cat "$T/verify.out")"
note "after the kill: $(sed -n 2p "$T/verify.out" | cut -c1-60)"

# ---------------------------------------------------------------- a failed sync
start_faulty sync-fail
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
is "$STATUS" 200 "sync-fail, not armed yet: 200"
touch "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
is_error 500 audit_failed "sync fails: 500 audit_failed"
no_signature "sync fails"
grep -q '^sync [0-9-]* 5$' "$MARKS"
ok $? "sync fails: kysod did try to sync (EIO recorded)"
is "$(audit_select "e.get('hash') == '$HASH_HEX'" | json_get 'len(j)' "$(cat)")" 1 \
	"sync fails: its line was written whole (the sync failed, not the write)"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
is_error 500 audit_failed "after a failed sync, the next signature is refused too"
no_signature "after a failed sync"
rm -f "$ARM"
stop_kysod
log_whole "sync fails"

start_faulty sync-fail
touch "$ARM"
batch_make syncfail "${CERT_ID[p256]}" sha256 10
batch_post syncfail
is_error 500 audit_failed "sync fails during a batch: 500 audit_failed"
no_signature "sync fails during a batch"
rm -f "$ARM"
stop_kysod
log_whole "sync fails during a batch"

# ---------------------------------------------------------------- a failed write
start_faulty write-fail
LINES=$(audit_lines)
touch "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is_error 500 audit_failed "write fails: 500 audit_failed"
no_signature "write fails"
is "$(audit_lines)" "$LINES" "write fails: nothing added to the log"
batch_make writefail "${CERT_ID[p256]}" sha256 10
batch_post writefail
# Once the log has failed, a batch is refused before it starts (500), or every item carries
# audit_failed: either way no signature leaves kysod.
like "$STATUS $(json_get 'j.get("error", {}).get("code") or sorted(set(i["error"]["code"] for i in j["items"]))')" \
	'^(500 audit_failed|200 \["audit_failed"\])$' "write fails, then a batch: audit_failed"
no_signature "write fails, then a batch"
# the fault gone, the log stays stopped until kysod is restarted
rm -f "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is_error 500 audit_failed "write fails: with the fault gone, kysod still refuses to sign until restarted"
no_signature "write fails, the fault gone"
stop_kysod
log_whole "write fails"

# ---------------------------------------------------------------- a failed write of a result entry
# Only the write of the result entry fails, after the answer has gone: that signature was
# answered (its intent entry was on disk before), kysod's log says the result is missing, and
# the log is stopped: the next signature is refused.
FAULT_MATCH='"event":"sign"'
start_faulty write-fail
FAULT_MATCH=
touch "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is "$STATUS" 200 "result write fails: the signature had been answered (200)" || diag "$BODY"
SEQ=$(json_get 'j["audit_id"].split(":")[1]')
FIRST_HEX=$HASH_HEX
save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/sig.bin" sha256
ok $? "result write fails: the signature answered verifies with openssl"
wait_log "the result entry of intent $SEQ \\(ok\\) cannot be written after its answer"
ok $? "result write fails: kysod's log names the intent whose result is missing"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is_error 500 audit_failed "result write fails: the next signature is refused, 500 audit_failed"
no_signature "result write fails, the next signature"
is "$(audit_select "e.get('hash') in ('$FIRST_HEX', '$HASH_HEX')" | json_get '[[e["event"], e["seq"]] for e in j]' "$(cat)")" \
	"[[\"intent\", $SEQ]]" "result write fails: the answered signature's intent is in the log, without a result"
rm -f "$ARM"
stop_kysod
log_whole "result write fails"
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
like "$(cat "$T/verify.out")" "intent seq $SEQ," "result write fails: kyso audit verify lists its intent without a result" ||
	diag "$(cat "$T/verify.out")"
like "$(cat "$T/verify.out")" "or the result entry could not be written" \
	"result write fails: kyso audit verify names that among the causes"

# The fault gone, a new kysod continues the same chain.
start_kysod
sign_and_verify rsa sha256
stop_kysod
CHECK=$(audit_check "$AUDIT_LOG")
like "$CHECK" '^ok: ' "after the faults, the log is one unbroken chain ($CHECK)"
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
ok $? "after the faults, kyso audit verify accepts the log" || diag "$(cat "$T/verify.out")"

# ---------------------------------------------------------------- a short write
# Half a line reaches the file. kysod must answer audit_failed; the torn line must not stay
# at the end of the log (audit.c truncating it back is under way on another branch: until it
# lands this last check reports a known problem as TODO instead of failing).
start_faulty short-write
touch "$ARM"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
is_error 500 audit_failed "short write: 500 audit_failed"
no_signature "short write"
rm -f "$ARM"
stop_kysod
if st=$(log_state); then
	pass "short write: nothing half-written ($st)"
else
	todo_ok 1 "short write: nothing half-written ($st)" "audit.c leaves a torn line after a short write"
fi

done_testing
