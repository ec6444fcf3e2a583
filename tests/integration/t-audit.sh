#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The audit log: one entry per signing attempt (single and batch) with the caller, the
# certificate and the hash; audit_id of the answers; the hash chain (and a checker that can
# fail); durability across SIGKILL; 8 concurrent clients; the chain continued after a restart;
# rotation; one kysod per log; a log that cannot be written.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
require_build
require_softhsm

CURL_EXE=$(realpath "$(command -v curl)")
PY_EXE=$(realpath "$("$PY" -c 'import sys; print(sys.executable)')")
MY_UID=$(id -u)

# sign_bg KEY ALG [PADDING]: one signature over a fresh hash by a curl of known pid, and its
# result entry in $SIGN_LOG, written once the answer has gone; sets CALLER_PID, STATUS, BODY,
# HASH_HEX.
SIGN_LOG=$AUDIT_LOG
sign_bg()
{
	make_hash "$2"
	sign_body "${CERT_ID[$1]}" "$2" "${3:-}" > "$T/sign.req"
	rm -f "$T/sign.ans"
	curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-H 'Expect:' --data-binary "@$T/sign.req" -o "$T/sign.ans" -w '%{http_code}' \
		http://localhost/v1/sign > "$T/sign.code" 2>/dev/null &
	CALLER_PID=$!
	wait "$CALLER_PID"
	STATUS=$(cat "$T/sign.code")
	BODY=$(cat "$T/sign.ans" 2>/dev/null)
	audit_settle "$SIGN_LOG"
}

# entry_of HEX: the sign entries (the results) with that hash (JSON list).
entry_of()
{
	audit_settle "${2:-$AUDIT_LOG}"
	audit_select "e.get('hash') == '$1' and e['event'] == 'sign'" "${2:-$AUDIT_LOG}"
}

# intent_of HEX: the intent entries with that hash (JSON list).
intent_of()
{
	audit_select "e.get('hash') == '$1' and e['event'] == 'intent'" "${2:-$AUDIT_LOG}"
}

# entry_ref JSON_LIST: "<chain>:<seq>" of the only entry in the list.
entry_ref()
{
	json_get 'j[0]["chain"] + ":" + str(j[0]["seq"]) if len(j) == 1 else "%d entries" % len(j)' "$1"
}

last_line()
{
	tail -n 1 "$1"
}

# ================================================================ the log and its entries
make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"

is "$(stat -c %a "$AUDIT_LOG" 2>&1)" 600 "audit log created with mode 0600"
is "$(stat -c %a "$(dirname "$AUDIT_LOG")" 2>&1)" 700 "audit log directory has mode 0700"
is "$(audit_lines)" 1 "a new log holds one line"
is "$(json_get '[j["event"], j["seq"], j["prev"]]' "$(head -n 1 "$AUDIT_LOG")")" \
	"[\"start\", 1, \"$(printf '0%.0s' $(seq 64))\"]" "the first line: event start, seq 1, prev 64 zeros"
CHAIN=$(json_get 'j["chain"]' "$(head -n 1 "$AUDIT_LOG")")
like "$CHAIN" '^[0-9a-f]{32}$' "chain id: 32 hex digits"

# sign_entry_ok DESC KEY ALG PADDING: a signature by a curl, its entry checked in full.
sign_entry_ok()
{
	local desc=$1 key=$2 alg=$3 pad=${4:-} want_alg entries
	sign_bg "$key" "$alg" "$pad"
	if ! is "$STATUS" 200 "$desc: 200"; then
		diag "    $BODY"
		skip 3 "$desc failed"
		return 1
	fi
	if [ "${KEY_TYPE[$key]}" = rsa ]; then
		want_alg=rsa-${pad:-pkcs1}-$alg
	else
		want_alg=ecdsa-$alg
	fi
	entries=$(entry_of "$HASH_HEX")
	intents=$(intent_of "$HASH_HEX")
	is "$(json_get 'len(j)' "$entries") $(json_get 'len(j)' "$intents")" "1 1" \
		"$desc: one intent and one sign entry with the hash sent"
	is "$(json_get '(lambda i, e: json.dumps([i["seq"] < e["seq"], e["intent"] == i["seq"], "result" in i,
		[i[k] for k in ("caller", "caller_check", "certificate", "hash", "hash_algorithm", "format",
		"token", "algorithm", "subject")] == [e[k] for k in ("caller", "caller_check", "certificate",
		"hash", "hash_algorithm", "format", "token", "algorithm", "subject")]]))(j[0][0], j[1][0])' \
		"[$intents, $entries]")" "[true, true, false, true]" \
		"$desc: the intent comes first, names the same request, has no result; the sign entry names it"
	is "$(json_get '(lambda e: json.dumps([e["event"], e["caller"], e["certificate"], e["hash"],
		e["hash_algorithm"], e["format"], e["result"], e["token"], e["algorithm"], e["chain"]]))(j[0])' "$entries")" \
		"$("$PY" -c 'import json, sys; print(json.dumps(["sign", {"exe": sys.argv[1], "pid": int(sys.argv[2]),
			"uid": int(sys.argv[3])}, sys.argv[4], sys.argv[5], sys.argv[6], "raw", "ok", sys.argv[7],
			sys.argv[8], sys.argv[9]]))' "$CURL_EXE" "$CALLER_PID" "$MY_UID" "${CERT_ID[$key]}" \
			"$HASH_HEX" "$alg" "$TOKEN_ID" "$want_alg" "$CHAIN")" \
		"$desc: event, caller (curl's path and pid, uid), certificate, hash, algorithm, result ok"
	is "$(json_get 'j["audit_id"]')" "$(entry_ref "$intents")" "$desc: audit_id = <chain>:<seq> of its intent"
	like "$(json_get 'j[0]["subject"]' "$entries")" "${CERT_CN[$key]}" "$desc: the entry names the holder"
}

sign_entry_ok "RSA PKCS#1 SHA-256" rsa sha256
sign_entry_ok "ECDSA P-256 SHA-384" p256 sha384
sign_entry_ok "RSA-PSS SHA-512" rsa sha512 pss
sign_entry_ok "ECDSA P-384 SHA-512" p384 sha512

# A batch: one entry per item, with the batch id and the item's id.
batch_make b20 "${CERT_ID[p256]}" sha256 20 "" "Hồ sơ tuyển sinh"
rm -f "$T/batch.b20.ans"
curl -sS --max-time 30 --unix-socket "$SOCK" -H 'Content-Type: application/json' -H 'Expect:' \
	--data-binary "@$T/batch.b20.req" -o "$T/batch.b20.ans" http://localhost/v1/sign/batch &
BATCH_CALLER=$!
wait "$BATCH_CALLER"
BODY=$(cat "$T/batch.b20.ans")
B=$(json_get 'j["batch"]')
is "$(json_get 'j["signed"]')" 20 "batch of 20 signed"
is "$("$PY" - "$T/batch.b20.ans" "$T/batch.b20.hashes" "$AUDIT_LOG" "$B" "$CURL_EXE" "$BATCH_CALLER" <<'EOF'
import json, sys
answer = json.load(open(sys.argv[1]))
want = [l.split() for l in open(sys.argv[2])]
entries = [json.loads(l) for l in open(sys.argv[3], "rb")]
by_hash = {}
for e in entries:
    by_hash.setdefault((e.get("hash"), e["event"]), []).append(e)
bad = []
for i, (item, (item_id, hx)) in enumerate(zip(answer["items"], want)):
    es, intents = by_hash.get((hx, "sign"), []), by_hash.get((hx, "intent"), [])
    if len(es) != 1 or len(intents) != 1 or es[0]["intent"] != intents[0]["seq"]:
        bad.append("%d: %d entries, %d intents" % (i, len(es), len(intents)))
        continue
    e = es[0]
    got = [e["event"], e.get("batch"), e.get("item"), e["result"], e["caller"]["exe"], e["caller"]["pid"],
           "%s:%d" % (e["chain"], e["intent"])]
    exp = ["sign", sys.argv[4], item_id, "ok", sys.argv[5], int(sys.argv[6]), item.get("audit_id")]
    if got != exp:
        bad.append("%d: %s != %s" % (i, got, exp))
print("ok" if not bad else "; ".join(bad[:3]))
EOF
)" ok "batch: each item has its entry (batch id, item id, curl's pid, result ok) and audit_id = <chain>:<seq>"

# Failed attempts are logged with their error code.
make_hash sha256
UNKNOWN=$(openssl rand -hex 32)
api POST /v1/sign "$(sign_body "$UNKNOWN" sha256)"
is_error 404 certificate_not_found "unknown certificate: 404"
is "$(json_get 'json.dumps([[e["result"], e["certificate"], "token" in e] for e in j])' "$(entry_of "$HASH_HEX")")" \
	"[[\"certificate_not_found\", \"$UNKNOWN\", false]]" "unknown certificate: logged as certificate_not_found"
api POST /v1/logout '{}'
pinentry_says "pin 000000"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
is_error 403 pin_incorrect "wrong PIN: 403 pin_incorrect"
is "$(json_get '[e["result"] for e in j]' "$(entry_of "$HASH_HEX")")" '["pin_incorrect"]' \
	"wrong PIN: logged as pin_incorrect"
pinentry_says cancel
make_hash sha384
api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha384)"
is_error 403 pin_cancelled "PIN dialog cancelled: 403 pin_cancelled"
is "$(json_get '[e["result"] for e in j]' "$(entry_of "$HASH_HEX")")" '["pin_cancelled"]' \
	"PIN dialog cancelled: logged as pin_cancelled"
pinentry_says "pin 123456"
n=$(audit_lines)
api POST /v1/sign "{\"certificate\":\"${CERT_ID[rsa]}\",\"hash\":\"AAAA\",\"hash_algorithm\":\"sha256\"}"
is "$STATUS $(audit_lines)" "400 $n" "a malformed request (400) is not an attempt: nothing logged"

# ---------------------------------------------------------------- the chain and its checker
OUT=$(audit_check "$AUDIT_LOG")
ok $? "the chain verifies ($OUT)"
like "$OUT" "^ok: $(audit_lines) lines, chain $CHAIN, seq 1\.\.$(audit_lines)$" "every line checked, seq 1..N"

# The checker can fail.
LINES=$(audit_lines)
cp "$AUDIT_LOG" "$T/edited.log"
"$PY" - "$T/edited.log" <<'EOF'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
line = lines[2]
i = line.index(b'"hash":"') + 10
lines[2] = line[:i] + (b"0" if line[i:i + 1] != b"0" else b"1") + line[i + 1:]
open(sys.argv[1], "wb").write(b"\n".join(lines))
EOF
is "$(cmp -l "$AUDIT_LOG" "$T/edited.log" | wc -l)" 1 "a copy with one byte of line 3 changed"
awk 'NR != 4' "$AUDIT_LOG" > "$T/deleted.log"
awk 'NR == 4 { keep = $0; next } NR == 5 { print; print keep; next } { print }' "$AUDIT_LOG" > "$T/swapped.log"
head -c -1 "$AUDIT_LOG" > "$T/torn.log"
tail -n +2 "$AUDIT_LOG" > "$T/headless.log"
{ cat "$AUDIT_LOG"; tail -n 1 "$AUDIT_LOG"; } > "$T/doubled.log"
"$PY" - "$AUDIT_LOG" "$T/reseq.log" <<'EOF'
import hashlib, json, sys
# A forged tail that is a valid chain on its own but skips a seq number.
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
e = json.loads(lines[-1])
e["seq"] += 1
e["prev"] = hashlib.sha256(lines[-2]).hexdigest()
lines[-1] = json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
open(sys.argv[2], "wb").write(b"\n".join(lines) + b"\n")
EOF
for f in edited deleted swapped torn headless doubled reseq; do
	OUT=$(audit_check "$T/$f.log")
	rc=$?
	if [ "$rc" != 0 ] && [ "${OUT#bad: }" != "$OUT" ]; then
		pass "the checker rejects the $f copy (${OUT#bad: "$T"/})"
	else
		fail "the checker rejects the $f copy"
		diag "    rc $rc: $OUT"
	fi
done

# kyso audit verify (always built: a missing command fails here).
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
is "$?" 0 "kyso audit verify accepts the log ($(head -n 1 "$T/verify.out"))" || diag "$(cat "$T/verify.out")"
for f in edited deleted swapped torn headless reseq; do
	"$KYSO_CLI" audit verify "$T/$f.log" > "$T/verify.out" 2>&1
	isnt "$?" 0 "kyso audit verify rejects the $f copy ($(head -n 1 "$T/verify.out" | sed "s|$T/||"))"
done

# ---------------------------------------------------------------- 8 concurrent clients
cat > "$T/clients.py" <<'EOF'
import base64, hashlib, http.client, json, os, socket, sys, threading
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

sock_path, out_path, clients, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
keys = [(sys.argv[5], sys.argv[6]), (sys.argv[7], sys.argv[8])]   # (certificate id, PEM file)

class Conn(http.client.HTTPConnection):
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(sock_path)
        self.sock = s

results = []
lock = threading.Lock()

def client(n):
    cert, pem = keys[n % 2]
    conn = Conn("localhost", timeout=60)
    mine = []
    for i in range(per):
        digest = hashlib.sha256(os.urandom(64)).digest()
        body = json.dumps({"certificate": cert, "hash": base64.b64encode(digest).decode(),
                           "hash_algorithm": "sha256"})
        try:
            conn.request("POST", "/v1/sign", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            answer = json.loads(r.read())
            mine.append({"client": n, "status": r.status, "hash": digest.hex(), "pem": pem,
                         "answer": answer})
        except Exception as exc:
            mine.append({"client": n, "status": 0, "hash": digest.hex(), "pem": pem,
                         "answer": {"exception": str(exc)}})
            conn.close()
            conn = Conn("localhost", timeout=60)
    with lock:
        results.extend(mine)

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
verified = 0
for r in results:
    if r["status"] != 200:
        continue
    key = x509.load_pem_x509_certificate(open(r["pem"], "rb").read()).public_key()
    sig = base64.b64decode(r["answer"]["signature"])
    digest = bytes.fromhex(r["hash"])
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        else:
            key.verify(sig, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        r["verified"] = True
        verified += 1
    except Exception:
        r["verified"] = False
json.dump({"pid": os.getpid(), "results": results}, open(out_path, "w"))
print(verified)
EOF
n0=$(audit_lines)
t0=$(now_ms)
VERIFIED=$("$PY" "$T/clients.py" "$SOCK" "$T/clients.json" 8 50 "${CERT_ID[rsa]}" "${CERT_PEM[rsa]}" \
	"${CERT_ID[p256]}" "${CERT_PEM[p256]}")
note "8 clients x 50 signatures in $(( $(now_ms) - t0 )) ms"
is "$(json_get '[len(j["results"]), sorted(set(r["status"] for r in j["results"]))]' "$(cat "$T/clients.json")")" \
	"[400, [200]]" "8 concurrent clients x 50 signatures: 400 answers, all 200"
is "$VERIFIED" 400 "8 concurrent clients: all 400 signatures verify"
audit_settle
is "$(audit_lines)" $((n0 + 800)) "8 concurrent clients: 800 new lines in the audit log (an intent and a result each)"
OUT=$(audit_check "$AUDIT_LOG")
ok $? "8 concurrent clients: one well-formed chain, no torn or interleaved line ($OUT)"
is "$("$PY" - "$T/clients.json" "$AUDIT_LOG" "$PY_EXE" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
entries = {}
for line in open(sys.argv[2], "rb"):
    e = json.loads(line)
    entries.setdefault((e.get("hash"), e["event"]), []).append(e)
bad = []
for r in run["results"]:
    es, intents = entries.get((r["hash"], "sign"), []), entries.get((r["hash"], "intent"), [])
    if len(es) != 1 or len(intents) != 1 or es[0]["intent"] != intents[0]["seq"]:
        bad.append("%s: %d entries, %d intents" % (r["hash"][:8], len(es), len(intents)))
        continue
    e = es[0]
    if (e["result"], e["caller"]["pid"], e["caller"]["exe"], "%s:%d" % (e["chain"], e["intent"])) != \
            ("ok", run["pid"], sys.argv[3], r["answer"].get("audit_id")):
        bad.append("%s: %s" % (r["hash"][:8], e))
print("ok" if not bad else "%d bad: %s" % (len(bad), "; ".join(bad[:2])))
EOF
)" ok "8 concurrent clients: each answer's audit_id is the entry with its hash (result ok, python's pid)"

# ---------------------------------------------------------------- SIGKILL right after a 200
# The result entry is written once the answer has gone; once it is in the file, a SIGKILL
# (no sync since) loses neither line: the kernel has them.
OLD_HELPER=$(helper_field pid)
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
audit_settle
{ kill -KILL "$KYSOD_PID"; wait "$KYSOD_PID"; } 2>/dev/null
REF=$(json_get 'j["audit_id"]')
is "$STATUS" 200 "a signature just before SIGKILL: 200"
KYSOD_PID=
check "the helper of the killed kysod ends" reaped "$OLD_HELPER"
ENTRY=$(entry_of "$HASH_HEX")
is "$(json_get '[e["result"] for e in j]' "$ENTRY") $(entry_ref "$(intent_of "$HASH_HEX")")" "[\"ok\"] $REF" \
	"after SIGKILL its intent and result are in the log, the intent with the answer's audit_id"
is "$(json_get 'j["hash"]' "$(last_line "$AUDIT_LOG")")" "$HASH_HEX" "...as the last line"
OUT=$(audit_check "$AUDIT_LOG")
ok $? "after SIGKILL the chain verifies ($OUT)"
LAST_SEQ=$(json_get 'j["seq"]' "$(last_line "$AUDIT_LOG")")

# ---------------------------------------------------------------- restart: the chain goes on
start_kysod
is "$(audit_lines)" "$LAST_SEQ" "restart after SIGKILL: no line added at start-up"
sign_bg rsa sha256
is "$STATUS" 200 "restart after SIGKILL: signature 200"
is "$(json_get 'j["audit_id"]')" "$CHAIN:$((LAST_SEQ + 1))" "restart after SIGKILL: same chain, seq continues"
stop_kysod
start_kysod
sign_bg p256 sha256
is "$(json_get 'j["audit_id"]')" "$CHAIN:$((LAST_SEQ + 3))" "restart after SIGTERM: same chain, seq continues"
OUT=$(audit_check "$AUDIT_LOG")
ok $? "one chain across the restarts ($OUT)"
is "$(audit_select 'e["event"] == "start"' | json_get 'len(j)' "$(cat)")" 1 "a single start line"
"$KYSO_CLI" audit verify "$AUDIT_LOG" > "$T/verify.out" 2>&1
is "$?" 0 "kyso audit verify agrees ($(head -n 1 "$T/verify.out"))"

# ---------------------------------------------------------------- one kysod per log
N=$(audit_lines)
SAVE_CONF=$CONF SAVE_SOCK=$SOCK
CONF=$T/kysod2.conf SOCK=$T/run2/kyso.sock
mkdir -m 0700 "$T/run2"
write_conf --module "softhsm=$SOFTHSM"
CONF=$SAVE_CONF SOCK=$SAVE_SOCK
kysod_once "$T/kysod2.conf" "$T/second.log" "$T/run2/kyso.sock"
rc=$KYSOD_RC
kysod_refused
ok $? "a second kysod on the same audit log exits with an error (status $rc)"
like "$(cat "$T/second.log")" "$AUDIT_LOG" "...with a message naming the log" || diag "$(cat "$T/second.log")"
note "second kysod: $(grep -i audit "$T/second.log" | head -n 1)"
[ -e "$T/run2/kyso.sock" ]
isnt $? 0 "...without a socket"
is "$(audit_lines)" "$N" "...and without writing to the log"
status_ok "the first kysod still serves"
sign_bg rsa sha256
is "$(json_get 'j["audit_id"]')" "$CHAIN:$((LAST_SEQ + 5))" "the first kysod still writes the chain"
stop_kysod

# ---------------------------------------------------------------- logs that cannot be used
# refused_with DESC KEY=VALUE...: kysod with those settings exits with an error that names
# the audit log.
refused_with()
{
	local desc=$1 rc path
	shift
	path=${1#audit_log=}
	write_conf --module "softhsm=$SOFTHSM" "$@"
	kysod_once "$CONF" "$T/refused.log"
	rc=$KYSOD_RC
	kysod_refused
	ok $? "$desc: kysod refuses to start (status $rc)"
	like "$(cat "$T/refused.log")" "$path" "$desc: the message names $path" || diag "$(cat "$T/refused.log")"
	note "$desc: $(grep -i audit "$T/refused.log" | head -n 1)"
	[ -e "$SOCK" ]
	isnt $? 0 "$desc: no socket left"
}

: > "$T/plainfile"
refused_with "audit log under a regular file" "audit_log=$T/plainfile/audit.log"
mkdir -p "$T/a-directory"
refused_with "audit log that is a directory" "audit_log=$T/a-directory"
# (a torn last line is repaired instead: t-hardening.sh)
cp "$AUDIT_LOG" "$T/garbage-tail.log"
printf 'not a kyso audit entry\n' >> "$T/garbage-tail.log"
refused_with "audit log whose last line is no entry" "audit_log=$T/garbage-tail.log"
write_conf --module "softhsm=$SOFTHSM" audit_max_size=1000
kysod_once "$CONF" "$T/refused.log"
rc=$KYSOD_RC
kysod_refused
ok $? "audit_max_size = 1000 (under 4096) is refused (status $rc)"
like "$(cat "$T/refused.log")" '\[kysod\] audit_max_size: ' "audit_max_size = 1000: the message names the key" ||
	diag "$(tail -n 3 "$T/refused.log")"

# ---------------------------------------------------------------- rotation
ROT=$T/rot/audit.log
SIGN_LOG=$ROT
write_conf --module "softhsm=$SOFTHSM" "audit_log=$ROT" audit_max_size=4096
start_kysod
is "$(stat -c %a "$T/rot")" 700 "rotation: new log directory with mode 0700"
for ((i = 0; i < 40; i++)); do
	sign_bg rsa sha256
	[ -e "$ROT.1" ] && break
done
ok "$([ -e "$ROT.1" ]; echo $?)" \
	"rotation: audit.log.1 exists after $((i + 1)) signatures ($(stat -c %s "$ROT.1" 2>/dev/null) bytes)"
ROT_REF=$(json_get 'j["audit_id"]')
FIRST=$(head -n 1 "$ROT")
PREV=$(last_line "$ROT.1" | tr -d '\n' | openssl dgst -sha256 -r | cut -d' ' -f1)
OLD_SEQ=$(json_get 'j["seq"]' "$(last_line "$ROT.1")")
ROT_CHAIN=$(json_get 'j["chain"]' "$(head -n 1 "$ROT.1")")
is "$(json_get '[j["event"], j["rotated_from"], j["prev"], j["seq"], j["chain"]]' "$FIRST")" \
	"[\"rotated\", \"$ROT.1\", \"$PREV\", $((OLD_SEQ + 1)), \"$ROT_CHAIN\"]" \
	"rotation: the new file begins with event rotated, rotated_from, prev = SHA-256 of the old last line, seq + 1"
is "$(json_get 'j["chain"] + ":" + str(j["seq"] if j["event"] == "intent" else j["intent"])' "$(sed -n 2p "$ROT")")" \
	"$ROT_REF" "rotation: the signature that rotated the log (its intent or its result) is the new file's second line"
is "$(stat -c %a "$ROT") $(stat -c %a "$ROT.1")" "600 600" "rotation: both files have mode 0600"
for ((i = 0; i < 12; i++)); do
	sign_bg p256 sha256
done
FILES=()
for f in "$ROT".[0-9]; do
	FILES=("$f" "${FILES[@]}")
done
FILES+=("$ROT")
note "rotated files: ${FILES[*]##*/}"
ok $(( ${#FILES[@]} >= 3 ? 0 : 1 )) "rotation: more files after 12 more signatures (${#FILES[@]})"
OUT=$(audit_check "${FILES[@]}")
ok $? "rotation: the files form one chain ($OUT)"
cp "$ROT.1" "$T/rot1.copy"
sed -i '$d' "$ROT.1"
audit_check "${FILES[@]}" > "$T/check.out"
isnt $? 0 "rotation: the checker fails when the last line of audit.log.1 is gone ($(cat "$T/check.out"))"
"$KYSO_CLI" audit verify "${FILES[@]}" > "$T/verify.out" 2>&1
isnt "$?" 0 "rotation: kyso audit verify fails too ($(head -n 1 "$T/verify.out"))"
cp "$T/rot1.copy" "$ROT.1"
"$KYSO_CLI" audit verify "${FILES[@]}" > "$T/verify.out" 2>&1
is "$?" 0 "rotation: kyso audit verify accepts the rotated files ($(head -n 1 "$T/verify.out"))"

# One kysod per log, also after rotation (the lock moves to the new file).
SAVE_CONF=$CONF SAVE_SOCK=$SOCK
CONF=$T/kysod3.conf SOCK=$T/run2/kyso.sock
write_conf --module "softhsm=$SOFTHSM" "audit_log=$ROT" audit_max_size=4096
CONF=$SAVE_CONF SOCK=$SAVE_SOCK
audit_settle "$ROT"
N=$(audit_lines "$ROT")
kysod_once "$T/kysod3.conf" "$T/second.log" "$T/run2/kyso.sock"
rc=$KYSOD_RC
kysod_refused
ok $? "after rotation a second kysod on the log is refused too (status $rc)"
is "$(audit_lines "$ROT")" "$N" "...and wrote nothing"
stop_kysod

done_testing
