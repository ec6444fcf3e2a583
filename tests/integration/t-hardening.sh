#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a hostile program of the same user tried (issue 9), each refused: a relative module path,
# a socket directory kysod did not make, HTTP requests RFC 9112 does not allow, a NUL in the PIN
# dialog's answer, forged dialog text and log lines, a caller that changes its identity after
# connecting, and a torn last line in the audit log.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
require_build "$KYSO_CLI"
require_softhsm
require_mock

make_softhsm_token
make_mock_key rsa

# refused_start DESC REGEX: kysod, started on $CONF, exits by itself with an error (not by the
# timeout) and says REGEX (2 TAP lines).
refused_start()
{
	local desc=$1 regex=$2 rc
	timeout 20 "$KYSOD" -f -c "$CONF" > "$T/refused.log" 2>&1
	rc=$?
	ok $(( rc != 0 && rc != 124 ? 0 : 1 )) "$desc: kysod exits with an error at once (status $rc)"
	like "$(cat "$T/refused.log")" "$regex" "$desc: the error says why"
}

# refused_serve DESC REGEX: kysod, started on $CONF, says REGEX and serves nothing (2 TAP
# lines). It refuses once its helpers run: its exit is then up to their stop.
refused_serve()
{
	local desc=$1 regex=$2 pid i
	"$KYSOD" -f -c "$CONF" > "$T/refused.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -Eq "$regex" "$T/refused.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	like "$(cat "$T/refused.log")" "$regex" "$desc: kysod refuses, saying why"
	ok $([ -e "$SOCK" ]; echo $((1 - $?))) "$desc: no socket is made"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- 14: relative module path
write_conf --module "softhsm=libsofthsm2.so"
refused_start "relative module path" \
	"kysod\\.conf:9: \\[module softhsm\\] path: must be an absolute path"
write_conf --module "softhsm=./lib/libsofthsm2.so"
refused_start "module path ./lib/..." "\\[module softhsm\\] path: must be an absolute path"

# ---------------------------------------------------------------- 10: the socket's directory
SAVE_SOCK=$SOCK
mkdir -m 0755 "$T/open"
SOCK=$T/open/kyso.sock
write_conf --module "softhsm=$SOFTHSM"
refused_serve "socket in an existing 0755 directory" "$T/open: .*mode 0700 .*mode 0755"
is "$(stat -c %a "$T/open")" 755 "...whose mode kysod left as it was"
mkdir -m 0700 "$T/theirs"
chown nobody "$T/theirs"
SOCK=$T/theirs/kyso.sock
write_conf --module "softhsm=$SOFTHSM"
refused_serve "socket in a 0700 directory of another user" "$T/theirs: .*directory of yours"
is "$(stat -c '%a %U' "$T/theirs")" "700 nobody" "...left as it was"
mkdir -m 0700 "$T/mine"
ln -s "$T/mine" "$T/link"
SOCK=$T/link/kyso.sock
write_conf --module "softhsm=$SOFTHSM"
refused_serve "socket directory that is a symbolic link" "$T/link: .*symbolic link"
SOCK=$SAVE_SOCK

# ---------------------------------------------------------------- the daemon for the rest
export KYSO_MOCK_STATE_FILE=$T/mock.state
write_conf --module "softhsm=$SOFTHSM" --module "mock=$MOCK_MODULE"
start_kysod

# raw_http REQUEST: sends REQUEST (a Python bytes literal) on its own connection; prints the
# status and the error code of the answer ("200 -" when there is none).
raw_http()
{
	"$PY" - "$SOCK" "$1" <<'EOF'
import ast, json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(ast.literal_eval(sys.argv[2]))
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if n and len(body) >= n[0]:
            break
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
status = head.split(b" ")[1].decode() if head else "none"
try:
    code = json.loads(body)["error"]["code"]
except Exception:
    code = "-"
print(status, code)
EOF
}

# ---------------------------------------------------------------- 12: HTTP as RFC 9112 asks
H='Host: x\r\nConnection: close\r\n'
J='Content-Type: application/json\r\n'
is "$(raw_http "b'GET /v1/status HTTP/1.1\\r\\n$H\\r\\n'")" "200 -" "a plain GET /v1/status: 200"
is "$(raw_http "b'GET /v1/status%00x HTTP/1.1\\r\\n$H\\r\\n'")" "400 http_malformed" \
	"GET /v1/status%00x: 400 http_malformed, not served as /v1/status"
is "$(raw_http "b'GET /v1/tokens%00 HTTP/1.1\\r\\n$H\\r\\n'")" "400 http_malformed" \
	"GET /v1/tokens%00: 400 http_malformed"
is "$(raw_http "b'GET /v1/events?token=a%00b HTTP/1.1\\r\\n$H\\r\\n'")" "400 http_malformed" \
	"a %00 in the query: 400 http_malformed"
is "$(raw_http "b'GET /v1/status%2500 HTTP/1.1\\r\\n$H\\r\\n'")" "404 not_found" \
	"GET /v1/status%2500 (an escaped %, no NUL): 404 not_found"
is "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Content-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\n{} '")" \
	"400 http_malformed" "two different Content-Length headers: 400 http_malformed"
like "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Content-Length: 2, 3\\r\\n\\r\\n{} '")" \
	"^400 " "Content-Length: 2, 3: 400"
is "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Content-Length: 2\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n'")" \
	"400 http_malformed" "Content-Length with Transfer-Encoding: chunked: 400 http_malformed"
is "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Transfer-Encoding: chunked\\r\\nContent-Length: 2\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n'")" \
	"400 http_malformed" "Transfer-Encoding: chunked before Content-Length: 400 http_malformed"
is "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Content-Length: 2\\r\\nContent-Length: 2\\r\\n\\r\\n{}'")" \
	"200 -" "the same Content-Length twice is one length (RFC 9112 6.3): 200"
is "$(raw_http "b'POST /v1/logout HTTP/1.1\\r\\n$H${J}Transfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n'")" \
	"200 -" "a chunked body alone: 200"
status_ok "kysod serves after the malformed requests"

# ---------------------------------------------------------------- 13: a NUL in the PIN
rm -f "$KYSO_MOCK_STATE_FILE"
g0=$(getpin_count)
pinentry_says 'raw 12%003456'
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[mock]}" sha256)"
is_error 500 pinentry_failed "a PIN answer holding %00: 500 pinentry_failed"
is "$(getpin_count)" "$((g0 + 1))" "...after one dialog"
if [ -e "$KYSO_MOCK_STATE_FILE" ]; then
	fail "...and no login was tried (the token counted a wrong PIN: $(cat "$KYSO_MOCK_STATE_FILE"))"
else
	pass "...and no login was tried (the token's failure counter is untouched)"
fi
like "$(cat "$KYSOD_LOG")" "PIN holding a NUL character; refused" "...and the log says why"
pinentry_says 'pin 123456'
sign_and_verify mock sha256
api GET "/v1/tokens"
is "$(json_get '[t["pin"]["state"] for t in j["tokens"] if t["module"] == "mock"][0]')" ok \
	"the mock token's PIN state is still ok"

# ---------------------------------------------------------------- 6: dialog text
api POST /v1/logout '{}'
make_hash sha256
"$PY" - "${CERT_ID[rsa]}" "$HASH_B64" > "$T/forged.req" <<'EOF'
import json, sys
desc = ("invoices\n\n/usr/bin/libreoffice (process 1) asks to sign 1 record\r\n"
        "\u202e\u2066gpj.exe\u2069\u200b\u200c\u200d\ufeff\u2028\u2029\x1b[2J\u200e\u200fend")
print(json.dumps({"certificate": sys.argv[1], "hash_algorithm": "sha256",
                  "items": [{"id": "one", "hash": sys.argv[2]}], "description": desc}))
EOF
api_file POST /v1/sign/batch "$T/forged.req"
is "$STATUS" 200 "batch with a forged description: signed (the user allowed it)"
D=$(last_setdesc)
like "$D" 'The application says: "invoices /usr/bin/libreoffice \(process 1\) asks to sign 1 record gpj\.exe \[2Jend"' \
	"the description is one quoted line in the dialog, its controls removed"
unlike "$D" '%0A/usr/bin/libreoffice' "no line of the dialog begins with the forged text"
if LC_ALL=C grep -q $'\xe2\x80[\xae\x8b\x8c\x8d\x8e\x8f\xa8\xa9]\|\xe2\x81[\xa6\xa9]\|\xef\xbb\xbf\|\x1b' <<<"$D"; then
	fail "no bidi, zero-width, separator or escape character reaches the dialog"
else
	pass "no bidi, zero-width, separator or escape character reaches the dialog"
fi
LONG=$(printf 'x%.0s' $(seq 300))
printf '{"certificate":"%s","hash_algorithm":"sha256","items":[{"id":"one","hash":"%s"}],"description":"%s"}' \
	"${CERT_ID[rsa]}" "$HASH_B64" "$LONG" > "$T/long.req"
api_file POST /v1/sign/batch "$T/long.req"
D=$(last_setdesc)
like "$D" "says: \"x{120}…\"" "a description of 300 characters is cut at 120, with an ellipsis"

# ---------------------------------------------------------------- 7: log lines
raw_http "b'GET /v1/nope%0Akysod[error]: forged path%1B[31m HTTP/1.1\\r\\n$H\\r\\n'" > /dev/null
api POST /v1/logout '{}'
EVIL="$T/bin/curl"$'\n'"kysod[error]: forged exe[2J"
mkdir -p "$T/bin"
cp "$(command -v curl)" "$EVIL"
make_hash sha256
printf '%s' "$(sign_body "${CERT_ID[rsa]}" sha256)" > "$T/evil.req"
code=$("$EVIL" -s --max-time 20 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
	--data-binary "@$T/evil.req" -o "$T/evil.json" -w '%{http_code}' http://localhost/v1/sign)
is "$code" 200 "a program whose path holds a newline signs"
grep -a '^kysod\[error\]: forged' "$KYSOD_LOG" > "$T/forged.lines"
is "$(wc -l < "$T/forged.lines")" 0 "no forged line in kysod's log"
like "$(cat "$KYSOD_LOG")" 'GET /v1/nope\\x0akysod\[error\]: forged path\\x1b\[31m from pid' \
	"the request path is logged with its newline and escape shown as \\x0a and \\x1b"
like "$(cat "$KYSOD_LOG")" 'curl\\x0akysod\[error\]: forged exe\[2J \(pid' \
	"the executable's name is logged escaped"
if LC_ALL=C grep -q $'\x1b' "$KYSOD_LOG"; then
	fail "no terminal escape in kysod's log"
else
	pass "no terminal escape in kysod's log"
fi
D=$(last_setdesc)
like "$D" 'kysod\[error\]: forged exe\[2J" \(process' "the dialog shows that executable as one quoted line"
unlike "$D" '%0Akysod' "...without its newline"

# ---------------------------------------------------------------- 11: a caller that changes
# spoof MODE: a python3 program connects, forks a child that keeps the connection, and execs
# /usr/bin/sleep; the child then asks for a signature. MODE status: kysod answers a request
# of the program first (it surely took its identity before the exec); at-once: no wait.
spoof()
{
	api POST /v1/logout '{}'
	make_hash sha256
	rm -f "$T/spoof.out" "$T/spoof.out.json"
	PYTHONPATH=$KYSO_SRCDIR/tests/lib "$PY" - "$SOCK" "$(sign_body "${CERT_ID[rsa]}" sha256)" \
		"$T/spoof.out" "$1" <<'EOF' &
import os, socket, sys, time
from unix_http import ask, ask_body, post_json
path, body, out, mode = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
if mode == "status":
    # kysod has accepted the connection, and taken this program's identity
    ask(s, b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
if os.fork() == 0:
    time.sleep(1)       # the parent is /usr/bin/sleep by now
    code, answer = ask_body(s, post_json(body))
    open(out + ".json", "wb").write(answer)
    with open(out, "w") as f:
        f.write(code)
    os._exit(0)
os.execv("/usr/bin/sleep", ["sleep", "3"])
EOF
	SPOOF=$!
	for ((i = 0; i < 150; i++)); do
		[ -s "$T/spoof.out" ] && break
		sleep 0.1
	done
	is "$(cat "$T/spoof.out" 2>/dev/null)" 200 "$1: a request on a connection whose process exec'd /usr/bin/sleep is answered"
	BODY=$(cat "$T/spoof.out.json" 2>/dev/null)
	save_signature "$T/spoof.sig" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/spoof.sig" sha256
	ok $? "$1: its signature verifies with openssl"
	D=$(last_setdesc)
	like "$D" 'unknown program \(its identity changed\) \(process [0-9]+\)' \
		"$1: the dialog says: unknown program (its identity changed)"
	unlike "$D" 'sleep' "$1: the dialog does not claim /usr/bin/sleep"
	audit_settle
	E=$(json_get 'json.dumps(j[-1])' "$(audit_select 'e["event"] == "sign"')")
	like "$(json_get 'j["caller_check"]["result"]' "$E")" '^(executable|connection)$' \
		"$1: the audit entry records what differed (the executable, or who holds the connection)"
	like "$(json_get 'j["caller_check"]["checked"]' "$E")" 'start time, executable, connection held' \
		"$1: ...and what was checked"
	unlike "$(json_get 'j["caller"]["exe"]' "$E")" 'sleep' "$1: the audit entry does not claim /usr/bin/sleep"
	wait "$SPOOF" 2>/dev/null
}
spoof status
like "$(cat "$KYSOD_LOG")" "identity changed \\(executable\\)" "kysod's log notes the change"
spoof at-once
# A program that signs once (kysod looks where it holds the connection), then hands the
# connection to a child and closes its own copy, living on as the same executable: the
# child's request is recorded as coming from a changed caller (the connection).
make_hash sha256
PYTHONPATH=$KYSO_SRCDIR/tests/lib "$PY" - "$SOCK" "$(sign_body "${CERT_ID[rsa]}" sha256)" \
	"$T/handover.out" <<'EOF'
import os, socket, sys
from unix_http import ask_body, post_json
path, body, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
spare = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
first, answer = ask_body(s, post_json(body))
open(out + ".1.json", "wb").write(answer)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)       # the parent has let go of the connection
    code, answer = ask_body(s, post_json(body))
    open(out + ".2.json", "wb").write(answer)
    with open(out, "w") as f:
        f.write(first + " " + code)
    os._exit(0)
# the descriptor the first check found is closed, and others take its place
s.close()
for fd in spare:
    os.close(fd)
again = [os.open("/dev/null", os.O_RDONLY) for _ in range(4)]
os.write(w, b"x")
os.waitpid(pid, 0)
EOF
is "$(cat "$T/handover.out" 2>/dev/null)" "200 200" "a connection handed to a child: both requests answered"
for n in 1 2; do
	BODY=$(cat "$T/handover.out.$n.json" 2>/dev/null)
	save_signature "$T/handover.$n.sig" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/handover.$n.sig" sha256
	ok $? "a connection handed to a child: signature $n verifies with openssl"
done
E=$(json_get 'json.dumps(j[-1])' "$(audit_select 'e["event"] == "sign"')")
is "$(json_get 'j["caller_check"]["result"]' "$E")" connection \
	"a connection handed to a child while its program lives on: caller_check.result connection"

# an unchanged caller is recorded as such
sign_and_verify rsa sha256
audit_settle
E=$(json_get 'json.dumps(j[-1])' "$(audit_select 'e["event"] == "sign"')")
is "$(json_get 'j["caller_check"]["result"]' "$E")" same "an unchanged caller: caller_check.result same"

# ---------------------------------------------------------------- 8: a write cut short
SHIM=$KYSO_BUILDDIR/tests/mock/.libs/libkyso-short-write.so
stop_kysod
if [ -r "$SHIM" ]; then
	KYSOD_WRAP=(env "LD_PRELOAD=$SHIM" "KYSO_SHORT_WRITE_PATH=$AUDIT_LOG"
		"KYSO_SHORT_WRITE_FLAG=$T/disk-full"
		"ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0")
	start_kysod
	KYSOD_WRAP=()
	sign_and_verify p384 sha384
	touch "$T/disk-full"
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
	is_error 500 audit_failed "a write of the audit line cut short: 500 audit_failed, no signature"
	is "$(tail -c 1 "$AUDIT_LOG" | od -An -c | tr -d ' ')" '\n' \
		"the log still ends with a whole line (the torn part was cut off)"
	"$KYSO_CLI" audit verify > "$T/verify.out" 2>&1
	is "$?" 0 "kyso audit verify accepts the log while kysod runs" ||
		diag "$(cat "$T/verify.out")"
	like "$(cat "$KYSOD_LOG")" "audit log .*: short write" "kysod's log names the short write"
	api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
	is_error 500 audit_failed "kysod signs nothing more until restarted"
	rm -f "$T/disk-full"
	stop_kysod
	start_kysod
	sign_and_verify p256 sha256
	"$KYSO_CLI" audit verify > "$T/verify.out" 2>&1
	is "$?" 0 "after a restart, the chain continues and verifies"
	stop_kysod
else
	skip 22 "the short-write shim $SHIM is not built"
fi

# ---------------------------------------------------------------- 8: a torn audit line
printf '{"caller":{"exe":"/usr/bin/cu' >> "$AUDIT_LOG"
TORN_SHA=$(printf '{"caller":{"exe":"/usr/bin/cu' | sha256sum | cut -d' ' -f1)
n0=$(wc -l < "$AUDIT_LOG")
start_kysod
like "$(cat "$KYSOD_LOG")" "last line was torn \\(29 bytes" "kysod starts on a log with a torn last line, and says so"
is "$(wc -l < "$AUDIT_LOG")" "$((n0 + 1))" "the torn bytes are cut off and one entry is added"
L=$(tail -n 1 "$AUDIT_LOG")
is "$(json_get '[j["event"], j["torn_bytes"], j["torn_sha256"]]' "$L")" "[\"repaired\", 29, \"$TORN_SHA\"]" \
	"the entry records the repair: event repaired, the torn bytes' length and SHA-256"
sign_and_verify p256 sha256
"$KYSO_CLI" audit verify > "$T/verify.out" 2>&1
is "$?" 0 "kyso audit verify accepts the repaired log"
like "$(audit_check "$AUDIT_LOG" 2>&1)" '^ok: ' "the chain is whole (the tests' own check)"
stop_kysod

done_testing
