#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso audit verify and kyso audit show on the audit log kysod writes: the chain verifies after
# signatures (single and batch); copies of the log with one corruption each (a byte edited, a
# line deleted, two lines swapped, the last line cut, a prev or seq or chain altered) are
# refused, naming the broken line; the listing and its filters; rotation with
# audit_max_size = 4096, the files checked together and in the wrong order.
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

# corrupt IN OUT PYTHON: OUT is IN with the Python statements applied to `lines` (the lines
# as bytes, without their "\n") and `tail` (what ends the file, b"\n").
corrupt()
{
	"$PY" - "$1" "$2" "$3" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
lines = data[:-1].split(b"\n")
tail = b"\n"
def flip(i, key):
    """Changes one hex digit of key's value in line i."""
    b = bytearray(lines[i])
    at = lines[i].index(b'"%s":"' % key.encode()) + len(key) + 4
    b[at] = ord("0") if b[at] != ord("0") else ord("1")
    lines[i] = bytes(b)
exec(sys.argv[3])
open(sys.argv[2], "wb").write(b"\n".join(lines) + tail)
EOF
}

# broken DESC FILE LINE [REGEX] FILES...: kyso audit verify FILES exits 1 and names FILE:LINE
# first (2 or 3 TAP lines).
broken()
{
	local desc=$1 file=$2 line=$3 re=$4
	shift 4
	kyso_exit "verify: $desc" 1 audit verify "$@"
	like "$OUT" "^$file:$line: " "verify: $desc: names $file:$line"
	[ -n "$re" ] && like "$OUT" "$re" "verify: $desc: says what is wrong"
	return 0
}

# ---------------------------------------------------------------- signatures, then verify
make_hash sha256
kyso_exit "sign one hash" 0 sign --cert "${CERT_ID[rsa]:0:8}" --hash "$HASH_HEX" --out "$T/one.sig"
SIGNED_HEX=$HASH_HEX
for i in $(seq 1 12); do printf 'row-%d %s\n' "$i" "$(random_hex sha256)"; done > "$T/rows.txt"
kyso_exit "sign a batch of 12" 0 sign --batch "$T/rows.txt" --cert "${CERT_ID[p256]}" --out-dir "$T/rows"
kyso logout
pinentry_says "cancel"
make_hash sha384
kyso_exit "a signature refused at the PIN dialog" 1 sign --cert "${CERT_ID[p384]}" \
	--hash-alg sha384 --hash "$HASH_HEX"
pinentry_says "pin 123456"
kyso_exit "one more signature" 0 sign --cert "${CERT_ID[p384]}" --hash-alg sha384 --hash "$HASH_HEX"

audit_settle
N=$(wc -l < "$AUDIT_LOG")
CHAIN=$(json_get 'j["chain"]' "$(head -1 "$AUDIT_LOG")")
is "$N" 31 "the audit log has 31 lines (start, an intent and a result for each of 1 + 12 + 1 + 1 attempts)"
kyso_exit "audit verify (the default log)" 0 audit verify
is "$OUT" "OK: 31 entries, chain $CHAIN, seq 1..31" "verify reports the entries, the chain and the seq range"
kyso_exit "audit verify FILE" 0 audit verify "$AUDIT_LOG"
kyso_exit "audit verify --json" 0 audit verify --json
is "$(json_get '[j["ok"], j["entries"], j["chain"], j["first_seq"], j["last_seq"], "error" in j]' "$OUT")" \
	"[true, 31, \"$CHAIN\", 1, 31, false]" "--json: ok, entries, chain, first_seq, last_seq, no error"

# ---------------------------------------------------------------- corrupted copies
C=$T/copies
mkdir -p "$C"
cp "$AUDIT_LOG" "$C/audit.log"
corrupt "$C/audit.log" "$C/edit.log" 'flip(6, "hash")'
broken "a byte of line 7 edited" "$C/edit.log" 7 'altered' "$C/edit.log"
corrupt "$C/audit.log" "$C/edit1.log" 'lines[0] = lines[0].replace(b"start", b"Start")'
broken "line 1 edited" "$C/edit1.log" 1 '' "$C/edit1.log"
corrupt "$C/audit.log" "$C/del.log" 'del lines[9]'
broken "line 10 deleted" "$C/del.log" 10 'missing' "$C/del.log"
corrupt "$C/audit.log" "$C/swap.log" 'lines[4], lines[5] = lines[5], lines[4]'
broken "lines 5 and 6 swapped" "$C/swap.log" 5 'seq 6 follows seq 4' "$C/swap.log"
corrupt "$C/audit.log" "$C/torn.log" 'lines[-1] = lines[-1][:50]; tail = b""'
broken "the last line cut short" "$C/torn.log" 31 'incomplete' "$C/torn.log"
corrupt "$C/audit.log" "$C/nonl.log" 'tail = b""'
broken "the final newline missing" "$C/nonl.log" 31 'incomplete' "$C/nonl.log"
corrupt "$C/audit.log" "$C/prev.log" 'flip(11, "prev")'
broken "the prev of line 12 edited" "$C/prev.log" 12 'prev' "$C/prev.log"
corrupt "$C/audit.log" "$C/seq.log" 'lines[7] = lines[7].replace(b"\"seq\":8,", b"\"seq\":9,")'
broken "the seq of line 8 edited" "$C/seq.log" 8 'seq 9 follows seq 7' "$C/seq.log"
corrupt "$C/audit.log" "$C/chain.log" 'flip(3, "chain")'
broken "the chain of line 4 edited" "$C/chain.log" 4 'chain' "$C/chain.log"
corrupt "$C/audit.log" "$C/json.log" 'lines[8] = lines[8][:-1]'
broken "line 9 no longer JSON" "$C/json.log" 9 'JSON' "$C/json.log"
corrupt "$C/audit.log" "$C/nostart.log" 'del lines[0]'
broken "the start line removed" "$C/nostart.log" 1 'first entry' "$C/nostart.log"
corrupt "$C/audit.log" "$C/dup.log" 'lines.insert(3, lines[2])'
broken "line 3 repeated" "$C/dup.log" 4 '' "$C/dup.log"
kyso_exit "verify --json of a broken copy" 1 audit verify --json "$C/del.log"
is "$(json_get '[j["ok"], j["error"]["file"], j["error"]["line"], j["entries"]]' "$OUT")" \
	"[false, \"$C/del.log\", 10, 9]" "--json: ok false, error.file, error.line, entries before it"
kyso_exit "verify a file that does not exist" 1 audit verify "$C/none.log"
like "$OUT" "none.log: cannot open" "the missing file is named"
kyso_exit "the original still verifies" 0 audit verify "$C/audit.log"

# ---------------------------------------------------------------- audit show
kyso_exit "audit show" 0 audit show
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 15 "15 signing attempts listed"
like "$(printf '%s\n' "$OUT" | head -1)" '^TIME +RESULT +HOLDER +CALLER +HASH +BATCH/ITEM' "table header"
like "$OUT" "ok +${CERT_CN[rsa]} +[^ ]*kyso\([0-9]+\) +${SIGNED_HEX:0:16} +- *$" \
	"the single signature: result, holder, caller exe(pid), hash, no batch"
like "$OUT" "${CERT_CN[p256]} .* [0-9a-f]{8}/row-12" "batch items show batch/item"
like "$OUT" "pin_cancelled +${CERT_CN[p384]} " "the refused attempt shows its error code"
kyso_exit "audit show --result error" 0 audit show --result error
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 1 "--result error: 1 entry"
kyso_exit "audit show --result pin_cancelled" 0 audit show --result pin_cancelled
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 1 "--result CODE: 1 entry"
kyso_exit "audit show --result ok" 0 audit show --result ok
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 14 "--result ok: 14 entries"
kyso_exit "audit show --cert PREFIX" 0 audit show --cert "${CERT_ID[p256]:0:6}"
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 12 "--cert prefix: the 12 batch items"
kyso_exit "audit show --caller kyso" 0 audit show --caller kyso
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 15 "--caller: all by kyso"
kyso_exit "audit show --caller nomatch" 0 audit show --caller /usr/bin/nothing-like-this
is "$OUT" "No matching entries." "--caller without a match"
kyso_exit "audit show --since yesterday" 0 audit show --since "$(date -d yesterday +%F)"
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 15 "--since DATE: all"
kyso_exit "audit show --until yesterday" 0 audit show --until "$(date -d yesterday +%F)"
is "$OUT" "No matching entries." "--until DATE before the entries: none"
kyso_exit "audit show --until today" 0 audit show --until "$(date +%F)"
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 15 "--until today includes the whole day"
T8=$(json_get 'j["time"]' "$(grep '"event":"sign"' "$AUDIT_LOG" | sed -n 4p)")
kyso_exit "audit show --since RFC3339 --until RFC3339" 0 audit show --since "$T8" --until "$T8"
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" 1 "--since and --until the same instant: the one entry"
kyso_exit "audit show --json --cert" 0 audit show --json --cert "${CERT_ID[p256]}"
is "$OUT" "$(grep "\"certificate\":\"${CERT_ID[p256]}\"" "$AUDIT_LOG" | grep '"event":"sign"')" \
	"--json prints the matching lines as they are in the file"
kyso_exit "audit show --since not-a-date" 2 audit show --since 30/11/2026
kyso_exit "audit show --cert not-hex" 2 audit show --cert xyz
kyso_exit "audit with no subcommand" 2 audit
kyso_exit "audit frobnicate" 2 audit frobnicate

# ---------------------------------------------------------------- rotation
stop_kysod
write_conf --module "softhsm=$SOFTHSM" audit_max_size=4096
start_kysod
for i in $(seq 1 12); do printf 'rot-%d %s\n' "$i" "$(random_hex sha256)"; done > "$T/rot.txt"
kyso_exit "a batch of 12 with audit_max_size = 4096" 0 sign --batch "$T/rot.txt" \
	--cert "${CERT_ID[p256]}" --out-dir "$T/rot"
D=$(dirname "$AUDIT_LOG")
check "the log was rotated (audit.log.1 to audit.log.3 exist, not audit.log.8)" \
	test -f "$D/audit.log.1" -a -f "$D/audit.log.3" -a ! -e "$D/audit.log.8"
is "$(json_get 'j["event"]' "$(head -1 "$AUDIT_LOG")")" rotated \
	"audit.log begins with a rotated entry"
LAST=$(json_get 'j["seq"]' "$(tail -1 "$AUDIT_LOG")")
FIRST1=$(json_get 'j["seq"]' "$(head -1 "$D/audit.log.1")")
kyso_exit "verify audit.log.1 audit.log" 0 audit verify "$D/audit.log.1" "$D/audit.log"
like "$OUT" "^OK: [0-9]+ entries, chain $CHAIN, seq $FIRST1\.\.$LAST \(.*continues from an earlier file" \
	"the two newest files verify; the chain continues from an older file"
kyso_exit "verify --json audit.log.1 audit.log" 0 audit verify --json "$D/audit.log.1" "$D/audit.log"
is "$(json_get '[j["ok"], j["from_start"], j["first_seq"], j["last_seq"]]' "$OUT")" \
	"[true, false, $FIRST1, $LAST]" "--json: from_start false, the seq range"
kyso_exit "verify with no FILE: the default log and its rotated files" 0 audit verify
like "$OUT" "^OK: $LAST entries, chain $CHAIN, seq 1\.\.$LAST$" "all files from the start entry"
ROTATED=$(ls "$D" | grep -c '^audit\.log\.[0-9]$')
FILES=()
for ((i = ROTATED; i >= 1; i--)); do FILES+=("$D/audit.log.$i"); done
kyso_exit "verify every file given oldest first" 0 audit verify "${FILES[@]}" "$D/audit.log"
kyso_exit "verify audit.log audit.log.1 (wrong order)" 1 audit verify "$D/audit.log" "$D/audit.log.1"
like "$OUT" "^$D/audit.log.1:1: " "the wrong order is reported at audit.log.1:1"
broken "a file left out" "$D/audit.log.1" 1 'missing' "$D/audit.log.3" "$D/audit.log.1" "$D/audit.log"
cp "$AUDIT_LOG" "$C/r0"
corrupt "$D/audit.log.1" "$C/r1" 'flip(len(lines) - 1, "hash")'
broken "the last line of audit.log.1 edited" "$C/r1" "$(wc -l < "$C/r1")" 'altered' "$C/r1" "$C/r0"
corrupt "$AUDIT_LOG" "$C/r0" 'flip(0, "prev")'
cp "$D/audit.log.1" "$C/r1"
broken "the prev of the rotated line edited" "$C/r0" 1 'prev' "$C/r1" "$C/r0"

stop_kysod
done_testing
