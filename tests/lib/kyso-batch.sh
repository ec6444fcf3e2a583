# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for the batch, audit log and event stream tests. Source it after kyso-env.sh:
#
#	. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
#	. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
#
# Batches (files $T/batch.NAME.*):
#   batch_make NAME CERT_ID ALG COUNT [PADDING] [DESCRIPTION]
#                         random hashes and the request body: $T/batch.NAME.req (JSON) and
#                         $T/batch.NAME.hashes ("ID HASH_HEX" lines, in request order)
#   batch_post NAME       POST /v1/sign/batch with that body (api_file); the answer is also
#                         kept in $T/batch.NAME.ans
#   batch_post_bg NAME    the same with curl in the background: BATCH_PID is its pid; the
#                         answer goes to $T/batch.NAME.ans, its status to $T/batch.NAME.code
#   batch_wait PID NAME   waits for batch_post_bg; sets STATUS and BODY
#   batch_verify [--signed N] NAME ANSWER_FILE CERT_PEM ALG [PADDING]
#                         checks the answer's items against the request (same ids, same order)
#                         and verifies every signature with Python's cryptography; prints a
#                         JSON summary {"items","signed","verified","bad":[index…],
#                         "errors":{code:count},"first_error":index|null,"order_ok"}; exits
#                         non-zero when an id is out of place, a signature does not verify, or
#                         the number of signed items is not N (without --signed: when no item
#                         is signed at all)
#   batch_item_sig NAME INDEX FILE   item INDEX's signature (binary) from the answer
#   batch_item_hash NAME INDEX       item INDEX's hash in hex
#   batch_corrupt ANSWER_FILE INDEX OUT_FILE   a copy of an answer with one signature altered
#
# PIN dialogs:
#   pinentry_count VERB   how many VERB commands (GETPIN, CONFIRM, SETDESC…) the scripted
#                         pinentry received so far
#   pinentry_lines        lines in the pinentry log
#   last_setdesc          the last SETDESC line received (percent-escaped, as logged)
#
# TAP:
#   todo_ok STATUS DESC REASON   a result marked TODO: a known problem, reported without failing
#                         the run (a TAP consumer reports it passing unexpectedly once fixed)
#
# Event stream (files $T/sse.NAME, one "MICROSECONDS LINE" record per line received):
#   sse_open NAME [LAST_EVENT_ID]   GET /v1/events with curl -N in the background; waits for the
#                         opening comment; SSE_PID[NAME] is curl's pid
#   sse_close NAME        ends that client
#   sse_events NAME       the events received so far as a JSON list of
#                         {"id","event","data","t"} (t: arrival, microseconds since the epoch)
#   sse_wait NAME EVENT [PYCOND] [SECONDS] [AFTER_ID]
#                         waits (default 5 s) for an EVENT whose `d` (its data) and `e` (the
#                         whole event) satisfy the Python expression PYCOND (default True) and
#                         whose id is greater than AFTER_ID; sets SSE_EVENT (JSON), SSE_ID, SSE_T
#   epoch_us              now, in microseconds since the epoch
#
# Audit log:
#   audit_check [--any-start] FILE...
#                         checks the files as one hash chain (older files first): every line a
#                         JSON object with sorted keys; the first line a "start" with prev = 64
#                         zeros and seq 1 (unless --any-start); each next line's prev the
#                         SHA-256 of the line before (without its newline), seq + 1, the same
#                         chain id; each later file begins with a "rotated" line. Prints
#                         "ok: N lines, chain C, seq A..B" or "bad: FILE:LINE: reason"
#   audit_select PYCOND [FILE]   the entries (JSON list) for which PYCOND holds over `e`
#   audit_lines [FILE]    lines in the audit log (0 when it does not exist)

declare -A SSE_PID

epoch_us()
{
	local t=$EPOCHREALTIME
	printf '%s' "${t/./}"
}

todo_ok()
{
	TAP_RUN=$((TAP_RUN + 1))
	if [ "$1" -eq 0 ] 2>/dev/null; then
		printf 'ok %d - %s # TODO %s\n' "$TAP_RUN" "$2" "$3"
	else
		printf 'not ok %d - %s # TODO %s\n' "$TAP_RUN" "$2" "$3"
	fi
}

# _forget_pid PID: a background process that was waited for leaves BG_PIDS (so that the
# clean-up at exit never signals a pid that may have been reused).
_forget_pid()
{
	local keep=() p
	for p in "${BG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- batches

batch_make()
{
	local name=$1 cert=$2 alg=$3 count=$4 pad=${5:-} desc=${6:-}
	"$PY" - "$T/batch.$name" "$cert" "$alg" "$count" "$pad" "$desc" <<'EOF' ||
import base64, json, os, sys
prefix, cert, alg, count, pad, desc = sys.argv[1:7]
size = {"sha256": 32, "sha384": 48, "sha512": 64}[alg]
req = {"certificate": cert, "hash_algorithm": alg, "items": []}
if pad:
    req["padding"] = pad
if desc:
    req["description"] = desc
with open(prefix + ".hashes", "w") as out:
    for i in range(int(count)):
        h = os.urandom(size)
        item_id = "%s-record-%05d" % (os.path.basename(prefix)[6:], i)
        req["items"].append({"id": item_id, "hash": base64.b64encode(h).decode()})
        out.write("%s %s\n" % (item_id, h.hex()))
with open(prefix + ".req", "w") as out:
    json.dump(req, out, ensure_ascii=False, separators=(",", ":"))
EOF
		bail_out "batch_make $name failed"
}

batch_post()
{
	api_file POST /v1/sign/batch "$T/batch.$1.req"
	printf '%s' "$BODY" > "$T/batch.$1.ans"
}

batch_post_bg()
{
	local name=$1
	rm -f "$T/batch.$name.ans" "$T/batch.$name.code"
	curl -sS --max-time "$API_TIMEOUT" --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-H 'Expect:' --data-binary "@$T/batch.$name.req" -o "$T/batch.$name.ans" -w '%{http_code}' \
		http://localhost/v1/sign/batch > "$T/batch.$name.code" 2>"$T/batch.$name.err" &
	BATCH_PID=$!
	BG_PIDS+=("$BATCH_PID")
}

batch_wait()
{
	wait "$1" 2>/dev/null
	_forget_pid "$1"
	STATUS=$(cat "$T/batch.$2.code" 2>/dev/null)
	BODY=$(cat "$T/batch.$2.ans" 2>/dev/null)
}

batch_verify()
{
	local want=some
	if [ "$1" = --signed ]; then
		want=$2
		shift 2
	fi
	local name=$1 answer=$2 cert=$3 alg=$4 pad=${5:-}
	"$PY" - "$T/batch.$name.hashes" "$answer" "$cert" "$alg" "$pad" "$want" <<'EOF'
import base64, json, sys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

hashes_file, answer_file, cert_file, alg, pad, want_signed = sys.argv[1:7]
algs = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
h = algs[alg]()
key = x509.load_pem_x509_certificate(open(cert_file, "rb").read()).public_key()
want = [line.split() for line in open(hashes_file)]
summary = {"items": 0, "signed": 0, "verified": 0, "bad": [], "errors": {},
           "first_error": None, "order_ok": True}
try:
    items = json.load(open(answer_file, "rb"))["items"]
except Exception as exc:
    summary["order_ok"] = False
    summary["bad"].append("answer: %s" % exc)
    print(json.dumps(summary))
    sys.exit(1)
summary["items"] = len(items)
if len(items) != len(want):
    summary["order_ok"] = False
for i, (item, (item_id, hex_hash)) in enumerate(zip(items, want)):
    if item.get("id") != item_id:
        summary["order_ok"] = False
    if "signature" not in item:
        code = item.get("error", {}).get("code", "?")
        summary["errors"][code] = summary["errors"].get(code, 0) + 1
        if summary["first_error"] is None:
            summary["first_error"] = i
        continue
    summary["signed"] += 1
    digest = bytes.fromhex(hex_hash)
    try:
        sig = base64.b64decode(item["signature"], validate=True)
        if isinstance(key, rsa.RSAPublicKey):
            if pad == "pss":
                scheme = padding.PSS(mgf=padding.MGF1(algs[alg]()), salt_length=h.digest_size)
            else:
                scheme = padding.PKCS1v15()
            key.verify(sig, digest, scheme, utils.Prehashed(h))
        else:
            key.verify(sig, digest, ec.ECDSA(utils.Prehashed(h)))
        summary["verified"] += 1
    except (InvalidSignature, ValueError):
        summary["bad"].append(i)
if want_signed == "some":
    summary["signed_ok"] = summary["signed"] > 0
else:
    summary["signed_ok"] = summary["signed"] == int(want_signed)
print(json.dumps(summary, sort_keys=True))
sys.exit(0 if summary["order_ok"] and not summary["bad"] and summary["signed_ok"] else 1)
EOF
}

batch_item_sig()
{
	json_get "j['items'][$2]['signature']" "$(cat "$T/batch.$1.ans")" |
		openssl base64 -d -A > "$3" 2>/dev/null
	[ -s "$3" ]
}

batch_item_hash()
{
	sed -n "$(($2 + 1))p" "$T/batch.$1.hashes" | cut -d' ' -f2
}

batch_corrupt()
{
	"$PY" - "$1" "$2" "$3" <<'EOF'
import base64, json, sys
src, index, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
answer = json.load(open(src, "rb"))
sig = bytearray(base64.b64decode(answer["items"][index]["signature"]))
sig[len(sig) // 2] ^= 0x5a
answer["items"][index]["signature"] = base64.b64encode(bytes(sig)).decode()
json.dump(answer, open(dst, "w"))
EOF
}

# ---------------------------------------------------------------- PIN dialogs

pinentry_count()
{
	grep -c "^$1\\b" "$KYSO_PINENTRY_LOG"
}

pinentry_lines()
{
	wc -l < "$KYSO_PINENTRY_LOG" | tr -d ' '
}

last_setdesc()
{
	grep '^SETDESC' "$KYSO_PINENTRY_LOG" | tail -n 1
}

# ---------------------------------------------------------------- event stream

# Prefixes every line read with its arrival time (microseconds).
_sse_stamp()
{
	local line t
	while IFS= read -r line; do
		t=$EPOCHREALTIME
		printf '%s %s\n' "${t/./}" "${line%$'\r'}"
	done
}

sse_open()
{
	local name=$1 last=${2:-} f=$T/sse.$1 hdr=() i
	[ -n "$last" ] && hdr=(-H "Last-Event-ID: $last")
	: > "$f"
	curl -sN --unix-socket "$SOCK" "${hdr[@]}" -D "$f.headers" \
		http://localhost/v1/events > >(_sse_stamp > "$f") 2>"$f.err" &
	SSE_PID[$name]=$!
	BG_PIDS+=("$!")
	for ((i = 0; i < 50; i++)); do
		grep -q '^[0-9]* : kyso events$' "$f" && return 0
		sleep 0.1
	done
	diag "event stream $name did not open: $(cat "$f.err" "$f.headers" 2>/dev/null)"
	return 1
}

sse_close()
{
	local pid=${SSE_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_forget_pid "$pid"
	SSE_PID[$1]=
}

# _sse_py list FILE | _sse_py wait FILE EVENT PYCOND SECONDS AFTER_ID: the parser of the
# stream records, listing the events, or polling the file for a matching one (a single
# Python process per wait).
_sse_py()
{
	"$PY" - "$@" <<'EOF'
import json, sys, time

def events(path):
    out, cur = [], {}
    for raw in open(path, encoding="utf-8", errors="replace"):
        t, _, line = raw.rstrip("\n").partition(" ")
        if line == "":
            if "event" in cur or "data" in cur:
                try:
                    cur["data"] = json.loads(cur.get("data", "null"))
                except ValueError:
                    pass
                if cur.get("id", "").isdigit():
                    cur["id"] = int(cur["id"])
                out.append(cur)
            cur = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data" and "data" in cur:
            cur["data"] += "\n" + value
        else:
            cur[field] = value
        cur["t"] = int(t)
    return out

if sys.argv[1] == "list":
    print(json.dumps(events(sys.argv[2]), ensure_ascii=False))
    sys.exit(0)
path, kind, cond, limit, after = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), \
    int(sys.argv[6])
deadline = time.monotonic() + limit
while True:
    for e in events(path):
        try:
            hit = e.get("event") == kind and int(e.get("id", 0)) > after and \
                eval(cond, {"d": e.get("data"), "e": e})
        except Exception:
            hit = False
        if hit:
            print(json.dumps(e, ensure_ascii=False))
            sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.05)
EOF
}

sse_events()
{
	_sse_py list "$T/sse.$1"
}

sse_wait()
{
	local name=$1 type=$2 cond=${3:-True} limit=${4:-5} after=${5:-0} found
	[ "$KYSO_VALGRIND" = 1 ] && limit=$((limit * 6))
	SSE_EVENT='' SSE_ID='' SSE_T=''
	found=$(_sse_py wait "$T/sse.$name" "$type" "$cond" "$limit" "$after") || return 1
	SSE_EVENT=$found
	SSE_ID=$(json_get 'j["id"]' "$found")
	SSE_T=$(json_get 'j["t"]' "$found")
}

# ---------------------------------------------------------------- audit log

audit_check()
{
	"$PY" - "$@" <<'EOF'
import hashlib, json, re, sys
args = sys.argv[1:]
any_start = bool(args) and args[0] == "--any-start"
if any_start:
    args = args[1:]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")

def bad(where, why):
    print("bad: %s: %s" % (where, why))
    sys.exit(1)

prev_line = None
prev_seq = chain = first_seq = None
count = 0
for fileno, path in enumerate(args):
    try:
        data = open(path, "rb").read()
    except OSError as exc:
        bad(path, str(exc))
    if not data:
        bad(path, "empty file")
    if not data.endswith(b"\n"):
        bad(path, "the last line has no newline (torn write)")
    for no, line in enumerate(data[:-1].split(b"\n"), 1):
        where = "%s:%d" % (path, no)
        unsorted = []
        def hook(pairs):
            keys = [k for k, _ in pairs]
            if keys != sorted(keys) or len(set(keys)) != len(keys):
                unsorted.append(keys)
            return dict(pairs)
        try:
            e = json.loads(line.decode("utf-8"), object_pairs_hook=hook)
        except ValueError as exc:
            bad(where, "not a JSON line (%s)" % exc)
        if not isinstance(e, dict):
            bad(where, "not a JSON object")
        if unsorted:
            bad(where, "keys not sorted or repeated: %s" % unsorted[0])
        if json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8") != line:
            bad(where, "not in the compact form with sorted keys")
        for k in ("chain", "event", "prev", "seq", "time"):
            if k not in e:
                bad(where, "no %s" % k)
        if not isinstance(e["seq"], int) or isinstance(e["seq"], bool):
            bad(where, "seq is not an integer")
        if not HEX32.match(str(e["chain"])) or not HEX64.match(str(e["prev"])):
            bad(where, "chain or prev malformed")
        if not TIME.match(str(e["time"])):
            bad(where, "time malformed: %s" % e["time"])
        if e["event"] == "sign":
            for k in ("caller", "certificate", "format", "hash", "hash_algorithm", "result"):
                if k not in e:
                    bad(where, "sign entry without %s" % k)
            c = e["caller"]
            if not isinstance(c, dict) or sorted(c) != ["exe", "pid", "uid"]:
                bad(where, "caller is not {exe, pid, uid}")
        if prev_line is None:
            if not any_start and (e["event"] != "start" or e["prev"] != "0" * 64 or e["seq"] != 1):
                bad(where, "the chain does not begin with a start line (seq 1, prev zeros)")
            chain, first_seq = e["chain"], e["seq"]
        else:
            if e["prev"] != hashlib.sha256(prev_line).hexdigest():
                bad(where, "prev is not the SHA-256 of the line before")
            if e["seq"] != prev_seq + 1:
                bad(where, "seq %s after %s" % (e["seq"], prev_seq))
            if e["chain"] != chain:
                bad(where, "chain id changed")
            if e["event"] == "start":
                bad(where, "a second start line inside the chain")
            if fileno > 0 and no == 1 and e["event"] != "rotated":
                bad(where, "a later file does not begin with a rotated line")
        prev_line, prev_seq = line, e["seq"]
        count += 1
print("ok: %d lines, chain %s, seq %s..%s" % (count, chain, first_seq, prev_seq))
EOF
}

audit_select()
{
	"$PY" - "$1" "${2:-$AUDIT_LOG}" <<'EOF'
import json, sys
out = []
try:
    lines = open(sys.argv[2], "rb").read().splitlines()
except OSError:
    lines = []
for line in lines:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    try:
        if eval(sys.argv[1], {"e": e}):
            out.append(e)
    except Exception:
        pass
print(json.dumps(out, ensure_ascii=False))
EOF
}

audit_lines()
{
	local f=${1:-$AUDIT_LOG}
	if [ -f "$f" ]; then
		wc -l < "$f" | tr -d ' '
	else
		echo 0
	fi
}
