#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso sign --batch against a running kysod: hashes from a "HEX" per line file, from "ID HEX"
# lines, from JSON (object and array) and from standard input; --out-dir files and the JSON
# answer verified with openssl; bad input refused before kysod is asked (exit 2, naming the
# line); no progress bar unless standard error is a terminal; Ctrl-C cancels the batch.
# Also kyso watch (the batch's progress events; exit 0 on SIGINT, 3 when kysod stops) and
# kyso readers.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
require_build "$KYSO_CLI"
require_softhsm

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"
export KYSO_SOCKET=$SOCK

# hex_b64 HEX: the same bytes in base64.
hex_b64()
{
	printf '%s' "$1" | xxd -r -p | openssl base64 -A
}

# verify_dir DIR KEY ALG PADDING LIST: every "ID HEX" of LIST has DIR/ID.sig, a valid
# signature of HEX with KEY's certificate; prints the number that verified.
verify_dir()
{
	local dir=$1 key=$2 alg=$3 pad=$4 list=$5 id hex n=0
	while read -r id hex; do
		[ -f "$dir/$id.sig" ] || continue
		verify_sig "${CERT_PEM[$key]}" "$hex" "$dir/$id.sig" "$alg" "$pad" && n=$((n + 1))
	done < "$list"
	echo "$n"
}

# verify_answer ANSWER KEY ALG PADDING LIST: the JSON answer's items match LIST (same ids in
# the same order) and each signature verifies; prints the number that verified.
verify_answer()
{
	local ans=$1 key=$2 alg=$3 pad=$4 list=$5 id hex i=0 n=0 got
	while read -r id hex; do
		got=$(json_get "j['items'][$i]['id']" "$(cat "$ans")")
		if [ "$got" = "$id" ]; then
			json_get "j['items'][$i]['signature']" "$(cat "$ans")" |
				openssl base64 -d -A > "$T/item.sig" 2>/dev/null
			verify_sig "${CERT_PEM[$key]}" "$hex" "$T/item.sig" "$alg" "$pad" && n=$((n + 1))
		fi
		i=$((i + 1))
	done < "$list"
	echo "$n"
}

audit_lines()
{
	wc -l < "$AUDIT_LOG"
}

# Dialogs, counted as t-batch does: dmark notes the GETPIN and CONFIRM commands the scripted
# pinentry received so far; dialogs DESC GETPINS CONFIRMS checks how many came since (one TAP
# line).
dcount()
{
	printf '%s %s' "$(grep -c '^GETPIN' "$KYSO_PINENTRY_LOG")" "$(grep -c '^CONFIRM' "$KYSO_PINENTRY_LOG")"
}

dmark()
{
	read -r D_GETPIN D_CONFIRM <<<"$(dcount)"
}

dialogs()
{
	local g c
	read -r g c <<<"$(dcount)"
	is "$((g - D_GETPIN)) GETPIN, $((c - D_CONFIRM)) CONFIRM" "$2 GETPIN, $3 CONFIRM" "$1: $2 GETPIN, $3 CONFIRM"
}

# ---------------------------------------------------------------- one hash per line
# "HEX" lines: the id is the line number; blank lines and comments are skipped but counted.
{
	echo "# grade book, term I"
	for i in $(seq 2 13); do random_hex sha256; done
	echo
	for i in $(seq 15 21); do random_hex sha256; done
} > "$T/hex.txt"
awk 'NF == 1 && !/^#/ { print NR, $1 }' "$T/hex.txt" > "$T/hex.list"
is "$(wc -l < "$T/hex.list")" 19 "the hex file lists 19 hashes"

dmark
kyso_exit "sign --batch FILE (HEX lines) --out-dir" 0 \
	sign --batch "$T/hex.txt" --cert "${CERT_ID[rsa]:0:8}" --out-dir "$T/sigs"
is "$ERR" "19 signed, 0 failed" "summary on stderr; no progress bar when stderr is not a terminal"
is "$OUT" "" "nothing on stdout with --out-dir"
is "$(ls "$T/sigs" | wc -l)" 19 "19 files in the output directory"
check "ids are the line numbers (2.sig ... 21.sig, not 1.sig or 14.sig)" \
	test -f "$T/sigs/2.sig" -a -f "$T/sigs/21.sig" -a ! -e "$T/sigs/1.sig" -a ! -e "$T/sigs/14.sig"
is "$(verify_dir "$T/sigs" rsa sha256 pkcs1 "$T/hex.list")" 19 \
	"every DIR/<id>.sig verifies with openssl (RSA PKCS#1 v1.5, sha256)"
is "$(getpin_count)" 1 "one PIN dialog for the whole batch"
dialogs "the first batch" 1 0

# ---------------------------------------------------------------- "ID HEX" lines, --out FILE
for i in $(seq 1 8); do printf 'rec-%02d\t%s\n' "$i" "$(random_hex sha256)"; done > "$T/ids.list"
printf 'Điểm-9  %s\n' "$(random_hex sha256)" >> "$T/ids.list"
sed 's/\t/ /' "$T/ids.list" > "$T/ids.txt"
dmark
kyso_exit "sign --batch (ID HEX lines) --out FILE, EC P-256" 0 \
	sign --batch "$T/ids.txt" --cert "${CERT_ID[p256]}" --out "$T/ids.json" \
	--description "Bảng điểm học kỳ I"
dialogs "a batch while logged in" 0 1
is "$(json_get 'str(j["total"]) + " " + str(j["signed"]) + " " + str(j["failed"]) + " " + j["algorithm"]' \
	"$(cat "$T/ids.json")")" "9 9 0 ecdsa-sha256" "the JSON answer counts 9 signed, algorithm ecdsa-sha256"
like "$(json_get 'j["batch"]' "$(cat "$T/ids.json")")" '^kyso-[0-9a-f]{16}$' \
	"the JSON answer names the batch (the name kyso gave it)"
is "$(verify_answer "$T/ids.json" p256 sha256 "" "$T/ids.list")" 9 \
	"the answer's items keep the order and ids, and every signature verifies"
like "$(json_get 'j["items"][0]["audit_id"]' "$(cat "$T/ids.json")")" '^[0-9a-f]{32}:[0-9]+$' \
	"items carry their audit id"

dmark
kyso_exit "the same to --out-dir, with a UTF-8 id" 0 \
	sign --batch "$T/ids.txt" --cert "${CERT_ID[p256]}" --out-dir "$T/ids"
dialogs "--out-dir batch" 0 1
is "$(verify_dir "$T/ids" p256 sha256 "" "$T/ids.list")" 9 "DIR/Điểm-9.sig and the others verify"

# ---------------------------------------------------------------- JSON input
"$PY" - "$T/json.list" "$T/items.json" "$T/array.json" <<'EOF'
import base64, hashlib, json, os, sys
items = []
with open(sys.argv[1], "w") as lst:
    for i in range(6):
        h = hashlib.sha384(os.urandom(40)).digest()
        items.append({"id": "inv-%d" % i, "hash": base64.b64encode(h).decode()})
        lst.write("inv-%d %s\n" % (i, h.hex()))
json.dump({"items": items}, open(sys.argv[2], "w"), indent=1)
json.dump(items, open(sys.argv[3], "w"))
EOF
dmark
kyso_exit "sign --batch FILE.json ({\"items\":[...]}), P-384 sha384, answer on stdout" 0 \
	sign --batch "$T/items.json" --cert "${CERT_ID[p384]:0:10}" --hash-alg sha384
dialogs "JSON object batch" 0 1
printf '%s\n' "$OUT" > "$T/items.ans"
is "$(verify_answer "$T/items.ans" p384 sha384 "" "$T/json.list")" 6 \
	"JSON object input: 6 signatures verify"
dmark
kyso_exit "sign --batch FILE.json (array), RSA-PSS sha384" 0 \
	sign --batch "$T/array.json" --cert "${CERT_ID[rsa]}" --hash-alg sha384 --padding pss \
	--out-dir "$T/pss"
dialogs "JSON array batch" 0 1
is "$(verify_dir "$T/pss" rsa sha384 pss "$T/json.list")" 6 "JSON array input: 6 RSA-PSS signatures verify"

dmark
kyso_exit "sign --batch - (standard input)" 0 \
	sign --batch - --cert "${CERT_ID[rsa]:0:8}" --out-dir "$T/stdin" < "$T/ids.txt"
dialogs "batch from standard input" 0 1
is "$(verify_dir "$T/stdin" rsa sha256 pkcs1 "$T/ids.list")" 9 "hashes read from standard input verify"

# ---------------------------------------------------------------- bad input: exit 2, nothing asked
n_pin=$(getpin_count)
n_audit=$(audit_lines)
H=$(random_hex sha256)
printf '%s\n%s\n%s\n' "$H" "$(random_hex sha256)" "${H:0:60}" > "$T/short.txt"
kyso_exit "a hash of the wrong length" 2 sign --batch "$T/short.txt" --cert "${CERT_ID[rsa]}"
like "$ERR" "short.txt:3: .*60 hex digits" "the error names the file and line 3"
printf '%s\nx%s\n' "$H" "${H:1}" > "$T/nothex.txt"
kyso_exit "a hash that is not hex" 2 sign --batch "$T/nothex.txt" --cert "${CERT_ID[rsa]}"
like "$ERR" "nothex.txt:2: .*not valid hex" "the error names line 2"
printf 'a %s\nb c %s\n' "$H" "$H" > "$T/fields.txt"
kyso_exit "three fields on a line" 2 sign --batch "$T/fields.txt" --cert "${CERT_ID[rsa]}"
like "$ERR" "fields.txt:2: " "the error names line 2"
printf 'x %s\ny %s\nx %s\n' "$H" "$H" "$H" > "$T/dup.txt"
kyso_exit "an id used twice" 2 sign --batch "$T/dup.txt" --cert "${CERT_ID[rsa]}"
like "$ERR" "dup.txt:3: .*twice.*line 1" "the error names line 3 and the first use"
printf 'ok-1 %s\n../etc %s\n' "$H" "$H" > "$T/dots.txt"
kyso_exit "an id with '..' for --out-dir" 2 sign --batch "$T/dots.txt" --cert "${CERT_ID[rsa]}" \
	--out-dir "$T/bad"
like "$ERR" "dots.txt:2: .*(/|\.\.)" "the error names line 2 and the problem"
printf 'a/b %s\n' "$H" > "$T/slash.txt"
kyso_exit "an id with '/' for --out-dir" 2 sign --batch "$T/slash.txt" --cert "${CERT_ID[rsa]}" \
	--out-dir "$T/bad"
like "$ERR" "slash.txt:1: .*'/'" "the error names line 1 and the '/'"
printf 'a\001b %s\n' "$H" > "$T/ctl.txt"
kyso_exit "an id with a control character for --out-dir" 2 sign --batch "$T/ctl.txt" \
	--cert "${CERT_ID[rsa]}" --out-dir "$T/bad"
like "$ERR" 'ctl.txt:1: .*control' "the error names line 1 and the control character"
printf '[{"id":"a","hash":"%s"},{"id":"b","hash":"%s"}]' "$(hex_b64 "$H")" "$(hex_b64 "${H:0:62}")" \
	> "$T/short.json"
kyso_exit "a JSON item with a short hash" 2 sign --batch "$T/short.json" --cert "${CERT_ID[rsa]}"
like "$ERR" 'short.json:items\[1\]: ' "the error names items[1]"
printf '{"items":[{"id":"a",\n"hash":}]}\n' > "$T/broken.json"
kyso_exit "JSON that does not parse" 2 sign --batch "$T/broken.json" --cert "${CERT_ID[rsa]}"
like "$ERR" 'broken.json:2:' "the error names line 2"
printf '\n# nothing\n' > "$T/empty.txt"
kyso_exit "a file without hashes" 2 sign --batch "$T/empty.txt" --cert "${CERT_ID[rsa]}"
kyso_exit "--batch with --hash" 2 sign --batch "$T/hex.txt" --hash "$H" --cert "${CERT_ID[rsa]}"
kyso_exit "--out-dir with --out" 2 sign --batch "$T/hex.txt" --cert "${CERT_ID[rsa]}" \
	--out-dir "$T/x" --out "$T/x.json"
is "$(getpin_count)" "$n_pin" "no PIN dialog for bad input"
is "$(audit_lines)" "$n_audit" "nothing signed for bad input (audit log unchanged)"
check "no output directory created for bad input" test ! -e "$T/bad"

# ---------------------------------------------------------------- on a terminal: progress bar
# Long enough (2,000 RSA signatures, seconds) for progress events to reach kyso while kysod
# signs: a batch of a few items may be answered before its first event is drawn.
"$PY" -c '
import hashlib, os
for i in range(2000):
    print("tty-%d" % i, hashlib.sha256(os.urandom(16)).hexdigest())' > "$T/tty.txt"
if script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "'$KYSO_CLI' sign --batch '$T/tty.txt' --cert '${CERT_ID[rsa]}' --out-dir '$T/tty'" \
		/dev/null > "$T/tty.out" 2>&1
	ok $? "sign --batch on a terminal: exit 0"
	like "$(tr '\r' '\n' < "$T/tty.out")" '\] [0-9]+/2000 signed' "a progress bar is drawn on the terminal"
	like "$(tr '\r' '\n' < "$T/tty.out")" '2000 signed, 0 failed' "the summary follows it"
else
	skip 3 "script(1) cannot run a command on a terminal here"
fi

# ---------------------------------------------------------------- Ctrl-C cancels the batch
# Enough RSA signatures to take a few seconds; SIGINT once some are in the audit log (20
# items: an intent and a result line each).
"$PY" -c '
import hashlib, os
for i in range(4000):
    print("big-%d" % i, hashlib.sha256(os.urandom(16)).hexdigest())' > "$T/big.txt"
n_audit=$(audit_lines)
dmark
"$KYSO_CLI" sign --batch "$T/big.txt" --cert "${CERT_ID[rsa]}" --out-dir "$T/big" \
	> "$T/big.out" 2> "$T/big.err" &
BIG=$!
BG_PIDS+=("$BIG")
for ((i = 0; i < 300; i++)); do
	[ "$(audit_lines)" -ge $((n_audit + 40)) ] && break
	kill -0 "$BIG" 2>/dev/null || break
	sleep 0.05
done
kill -INT "$BIG" 2>/dev/null
wait "$BIG"
RC=$?
ERR=$(cat "$T/big.err")
# A batch that ran to its end was not cancelled: that fails (4,000 RSA signatures take far
# longer than the cancellation).
is "$RC" 1 "Ctrl-C during a batch: exit 1 (not all signed)" || diag "$ERR"
like "$ERR" 'cancelling batch kyso-[0-9a-f]{16}' "kyso says it cancels the batch, by its name"
like "$ERR" '[0-9]+ signed, [0-9]+ failed \(batch cancelled\)' "the summary says the batch was cancelled"
n=$(printf '%s\n' "$ERR" | sed -n 's/^\([0-9]*\) signed.*/\1/p' | tail -1)
ok $(( ${n:-4000} >= 20 && ${n:-4000} < 4000 ? 0 : 1 )) "the batch stopped midway (${n:-?} of 4000 signed)"
is "$(ls "$T/big" | wc -l)" "${n:-none}" "the signed items were written (${n:-?} files)"
dialogs "the cancelled batch" 0 1
status_ok "kysod still answers after the cancelled batch"

# ---------------------------------------------------------------- kyso watch, kyso readers
"$KYSO_CLI" watch --json > "$T/watch.json" 2> "$T/watch.err" &
WJ=$!
"$KYSO_CLI" watch > "$T/watch.txt" 2> "$T/watch.txt.err" &
WT=$!
BG_PIDS+=("$WJ" "$WT")
# Both watchers are subscribed once they show an event: a pin-state from a logout (after a
# signature that logs in again when needed), repeated until they do.
make_hash sha256
for ((i = 0; i < 300; i++)); do
	api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
	api POST /v1/logout '{}'
	grep -q '"event": *"pin-state"' "$T/watch.json" && grep -q 'pin-state' "$T/watch.txt" && break
	sleep 0.1
done
check "both kyso watch processes receive events" \
	eval 'grep -q "\"event\": *\"pin-state\"" "$T/watch.json" && grep -q pin-state "$T/watch.txt"'
dmark
kyso_exit "a batch while kyso watch runs" 0 sign --batch "$T/ids.txt" --cert "${CERT_ID[rsa]}" \
	--out "$T/watched.json"
dialogs "a batch while logged out, watched" 1 0
BATCH=$(json_get 'j["batch"]' "$(cat "$T/watched.json")")
# until the batch's last progress event has reached both
for ((i = 0; i < 300; i++)); do
	grep -q "\"batch\": *\"$BATCH\".*\"done\": *9\|\"done\": *9.*\"batch\": *\"$BATCH\"" "$T/watch.json" &&
		grep -q "batch ${BATCH:0:12}: 9 of 9 done" "$T/watch.txt" && break
	sleep 0.1
done
kill -INT "$WJ" "$WT"
wait "$WJ"
is "$?" 0 "kyso watch --json exits 0 on SIGINT"
wait "$WT"
is "$?" 0 "kyso watch exits 0 on SIGINT"
is "$("$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert set(e) == {"id", "event", "data"}
    if e["event"] == "batch-progress" and e["data"]["batch"] == sys.argv[2]:
        n += 1
        last = e["data"]
print(n >= 2, last["done"], last["total"], last["failed"])' "$T/watch.json" "$BATCH")" "True 9 9 0" \
	"watch --json: one object per line; the batch's progress events, the last 9 of 9 done"
like "$(cat "$T/watch.txt")" "batch-progress +batch ${BATCH:0:12}: 9 of 9 done, 0 failed" \
	"watch: a readable line for the batch's progress"
kyso_exit "kyso readers" 0 readers
like "$OUT" '^PC/SC: (up|down)' "readers shows the PC/SC state"
kyso_exit "kyso --json readers" 0 --json readers
like "$(json_get '[j["pcsc"], type(j["readers"]).__name__]' "$OUT")" '^\["(up|down)", "list"\]$' \
	"readers --json parses"

"$KYSO_CLI" watch > "$T/watch2.txt" 2> "$T/watch2.err" &
WT=$!
BG_PIDS+=("$WT")
sleep 0.3
stop_kysod
wait "$WT"
is "$?" 3 "kyso watch exits 3 when kysod stops"
like "$(cat "$T/watch2.err")" 'daemon_unreachable' "and says kysod went away"
kyso_exit "kyso watch without kysod" 3 watch
kyso_exit "kyso sign --batch without kysod" 3 sign --batch "$T/ids.txt" --cert "${CERT_ID[rsa]}"
done_testing
