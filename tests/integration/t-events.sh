#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# GET /v1/events (Server-Sent Events): the stream's opening, pin-state on login and logout,
# token-removed / token-inserted when a helper dies and comes back or a token goes away,
# Last-Event-ID, many clients, clients that go away; GET /v1/readers without pcscd.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-batch.sh"
require_build
require_softhsm

# This kysod must not reach a pcscd, whatever runs on the machine.
export PCSCLITE_CSOCK_NAME=$T/no-pcscd/pcscd.comm

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"

threads()
{
	find "/proc/$KYSOD_PID/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# sse_churn N: N clients open the event stream at once, wait for its opening comment and go
# away; prints how many saw the stream open (connections kysod does not take are given up
# after 3 s without progress).
sse_churn()
{
	"$PY" - "$SOCK" "$1" <<'EOF'
import select, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
socks, bufs, opened = [], {}, 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        socks.append(s)
    except OSError:
        s.close()
pending = set(socks)
start = progress = time.monotonic()
while pending and time.monotonic() - progress < 3 and time.monotonic() - start < 20:
    ready, _, _ = select.select(list(pending), [], [], 0.1)
    for s in ready:
        try:
            chunk = s.recv(4096)
        except OSError:
            chunk = b""
        bufs[s] = bufs.get(s, b"") + chunk
        if b": kyso events" in bufs[s] or not chunk:
            opened += b": kyso events" in bufs[s]
            pending.discard(s)
            progress = time.monotonic()
for s in socks:
    s.close()
print(opened)
EOF
}

# same_events A B FIRST LAST: the events with FIRST <= id <= LAST of streams A and B are the
# same (ids, types, data) and there is at least one.
same_events()
{
	"$PY" - "$(sse_events "$1")" "$(sse_events "$2")" "$3" "$4" <<'EOF'
import json, sys
first, last = int(sys.argv[3]), int(sys.argv[4])
pick = lambda s: [(e.get("id"), e.get("event"), e.get("data")) for e in json.loads(s)
                  if first <= int(e.get("id", 0)) <= last]
a, b = pick(sys.argv[1]), pick(sys.argv[2])
sys.exit(0 if a and a == b else 1)
EOF
}

# ---------------------------------------------------------------- readers
api GET /v1/readers
is "$STATUS" 200 "GET /v1/readers: 200"
is "$(json_get '[j["pcsc"], j["readers"]]')" '["down", []]' "GET /v1/readers without pcscd: pcsc down, no readers"
is "$(header Content-Type)" application/json "GET /v1/readers: application/json"

# ---------------------------------------------------------------- the stream itself
curl -sN --max-time 1 --unix-socket "$SOCK" -D "$T/ev.headers" -o "$T/ev.body" \
	http://localhost/v1/events 2>/dev/null
rc=$?
is "$rc" 28 "GET /v1/events stays open (curl stopped by its --max-time)"
is "$(head -n 1 "$T/ev.headers" | tr -d '\r' | cut -d' ' -f2)" 200 "GET /v1/events: 200"
is "$(HEADERS=$(tr -d '\r' < "$T/ev.headers"); header Content-Type)" text/event-stream \
	"GET /v1/events: Content-Type text/event-stream"
is "$(head -n 1 "$T/ev.body")" ": kyso events" "the stream opens with the comment \": kyso events\""
api POST /v1/events '{}'
is "$STATUS" 405 "POST /v1/events: 405"

sse_open main
ok $? "event stream opened"

# ---------------------------------------------------------------- pin-state
sign_and_verify rsa sha256
sse_wait main pin-state "d['token'] == '$TOKEN_ID' and d['pin']['logged_in'] is True"
ok $? "a signature that logs in: pin-state with logged_in true"
E_LOGIN=${SSE_ID:-0}
is "$(json_get '[type(j["id"]).__name__, j["data"]["pin"]["state"], j["data"]["pin"]["protected_path"],
	type(j["data"]["time"]).__name__]' "${SSE_EVENT:-null}")" \
	'["int", "ok", false, "int"]' "pin-state: numeric id, pin state ok, protected_path false, time in seconds"
api POST /v1/logout '{}'
is "$STATUS" 200 "POST /v1/logout: 200"
sse_wait main pin-state "d['token'] == '$TOKEN_ID' and d['pin']['logged_in'] is False" 5 "$E_LOGIN"
ok $? "logout: pin-state with logged_in false"
E_LOGOUT=${SSE_ID:-0}
ok $(( E_LOGOUT > E_LOGIN ? 0 : 1 )) "event ids increase ($E_LOGIN, $E_LOGOUT)"

# ---------------------------------------------------------------- helper killed and back
P1=$(helper_field pid)
t0=$(epoch_us)
kill -KILL "$P1"
sse_wait main token-removed "d['token']['id'] == '$TOKEN_ID' and d['token']['present'] is False" 5 "$E_LOGOUT"
ok $? "helper SIGKILL: token-removed with the token's id, present false"
E_REM=${SSE_ID:-0}
[ -n "$SSE_T" ] && note "helper SIGKILL -> token-removed: $(( (SSE_T - t0) / 1000 )) ms"
sse_wait main token-inserted "d['token']['id'] == '$TOKEN_ID' and d['token']['present'] is True" 10 "$E_REM"
ok $? "helper back: token-inserted with the token's id, present true"
E_INS=${SSE_ID:-0}
[ -n "$SSE_T" ] && note "helper SIGKILL -> token-inserted: $(( (SSE_T - t0) / 1000 )) ms"
ok $(( E_INS > E_REM ? 0 : 1 )) "token-removed ($E_REM) comes before token-inserted ($E_INS)"
is "$(json_get '[j["data"]["token"][k] for k in ("label", "module")]' "${SSE_EVENT:-null}")" \
	"[\"$TOKEN_LABEL\", \"softhsm\"]" "token-inserted carries the token object (label, module)"
wait_restarted "$P1"
ok $? "the helper was restarted"
sign_and_verify p256 sha256

# ---------------------------------------------------------------- Last-Event-ID
sse_open resume "$E_LOGIN"
sse_wait resume token-inserted "d['token']['id'] == '$TOKEN_ID'" 5
ok $? "reconnecting with Last-Event-ID $E_LOGIN: the later token-inserted is sent again"
same_events main resume $((E_LOGIN + 1)) "$E_INS"
ok $? "reconnecting with Last-Event-ID: events $((E_LOGIN + 1))..$E_INS again, identical"
is "$(sse_events resume | json_get '[e["id"] for e in j if e["id"] <= '"$E_LOGIN"']' "$(cat)")" "[]" \
	"reconnecting with Last-Event-ID: nothing up to that id"
is "$(sse_events resume | json_get 'j[0]["id"] if j else None' "$(cat)")" "$((E_LOGIN + 1))" \
	"reconnecting with Last-Event-ID: the first event is the next one"
sse_open fresh
sse_open badid abc
sse_open future 99999999
api POST /v1/logout '{}'
for s in main fresh badid future; do
	sse_wait "$s" pin-state "d['token'] == '$TOKEN_ID' and d['pin']['logged_in'] is False" 5 "$E_INS"
	ok $? "stream $s: receives the new pin-state"
done
# Old events would have come before that new one: once it is in, the streams are judged.
is "$(sse_events fresh | json_get '[e["id"] for e in j if e["id"] <= '"$E_INS"']' "$(cat)")" "[]" \
	"a new client without Last-Event-ID gets no old events"
is "$(sse_events badid | json_get '[e["id"] for e in j if e["id"] <= '"$E_INS"']' "$(cat)")" "[]" \
	"a malformed Last-Event-ID: no old events"
is "$(sse_events future | json_get '[e["id"] for e in j if e["id"] <= '"$E_INS"']' "$(cat)")" "[]" \
	"a Last-Event-ID from the future: no old events"
E_LAST=${SSE_ID:-0}
for s in resume fresh badid future; do
	sse_close "$s"
done

# ---------------------------------------------------------------- 20 clients at once
T0=$(threads)
for i in $(seq 20); do
	sse_open "c$i" || break
done
is "$i" 20 "20 event streams open at once"
note "kysod threads: $T0 before, $(threads) with 20 more streams"
t0=$(now_ms)
status_ok "with 20 streams open, GET /v1/status answers"
ok $(( $(now_ms) - t0 < 2000 ? 0 : 1 )) "...promptly ($(( $(now_ms) - t0 )) ms)"
sign_and_verify rsa sha384 pss
got=0
for i in $(seq 20); do
	sse_wait "c$i" pin-state "d['token'] == '$TOKEN_ID' and d['pin']['logged_in'] is True" 5 "$E_LAST" &&
		got=$((got + 1))
done
is "$got" 20 "all 20 streams receive the pin-state of the login"
for i in $(seq 20); do
	sse_close "c$i"
done

# ---------------------------------------------------------------- clients that go away
is "$(sse_churn 20)" 20 "20 clients open the event stream and go away"
status_ok "after 20 clients connected and went away, GET /v1/status answers"
api POST /v1/logout '{}'
sse_wait main pin-state "d['token'] == '$TOKEN_ID' and d['pin']['logged_in'] is False" 5 "$E_LAST"
ok $? "the remaining stream still receives events"
# until the closed streams' threads are gone (the limit only ends a hung test)
for ((i = 0; i < 600; i++)); do
	[ "$(threads)" -le $((T0 + 2)) ] && break
	sleep 0.1
done
if [ "$KYSO_VALGRIND" = 1 ]; then
	skip 1 "thread count not meaningful under valgrind"
else
	ok $(( $(threads) <= T0 + 2 ? 0 : 1 )) \
		"the streams of the clients that went away are closed after the next event (threads: $T0 before, $(threads) now)"
fi

# More clients than kysod has connection slots (64) connect and go away, with no event in
# between: until the next event wakes their streams, nothing else gets through.
P2=$(helper_field pid)
n=$(sse_churn 70)
note "$n of 70 clients saw the stream open"
code=$(curl -s --max-time 2 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' http://localhost/v1/status)
ok "$([ "$code" = 200 ]; echo $?)" \
	"after 70 clients opened the stream and went away, GET /v1/status answers within 2 s (got $code)"
# An event (the helper's token going away) closes those streams.
kill -KILL "$P2"
for ((i = 0; i < 50; i++)); do
	_status_answers && break
	sleep 0.1
done
status_ok "after the next event kysod serves again ($((i * 100)) ms)"
wait_restarted "$P2"
ok $? "the helper is back"
sign_and_verify p384 sha384
sse_close main

# Streams that stay open are capped below the connection limit: the 49th is refused with
# 503 too_many_streams, and requests still get through.
CAP=$("$PY" - "$SOCK" <<'EOF'
import socket, sys
path = sys.argv[1]
held, codes = [], []
for i in range(49):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    code = head.split(b" ", 2)[1].decode() if head else "none"
    if code == "503":
        while b"too_many_streams" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        code += " too_many_streams" if b"too_many_streams" in head else ""
    codes.append(code)
    held.append(s)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(path)
s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
status = s.recv(64).split(b" ", 2)[1].decode()
print("%d %s %s" % (codes.count("200"), codes[-1], status))
EOF
)
# (a stream that just closed may hold its place for up to half a second)
note "streams opened before the refusal: ${CAP%% *}"
like "$CAP" '^4[6-8] 503 too_many_streams 200$' \
	"past 48 open streams the next gets 503 too_many_streams, and GET /v1/status still 200"
status_ok "the daemon serves after the streams were closed"
stop_kysod

# ---------------------------------------------------------------- token removed (mock module)
if [ ! -r "$MOCK_MODULE" ]; then
	fail "the mock PKCS#11 module is built by make check ($MOCK_MODULE)"
	done_testing
	exit
fi
make_mock_key p256
export KYSO_MOCK_SERIAL=EVENTS01 KYSO_MOCK_FAULT=removed-sign KYSO_MOCK_FAULT_AFTER=1
MOCK_TOKEN_ID=$(token_id kyso mock EVENTS01)
write_conf --module "mock=$MOCK_MODULE"
start_kysod
sse_open mock
sign_and_verify mock sha256
sse_wait mock pin-state "d['token'] == '$MOCK_TOKEN_ID' and d['pin']['logged_in'] is True"
ok $? "mock token: pin-state logged_in true"
make_hash sha256
printf '%s' "$(sign_body "${CERT_ID[mock]}" sha256)" > "$T/req.json"
t0=$(epoch_us)
api_file POST /v1/sign "$T/req.json"
t1=$(epoch_us)
is_error 503 token_removed "token removed during the signature: 503 token_removed"
sse_wait mock token-removed "d['token']['id'] == '$MOCK_TOKEN_ID' and d['token']['present'] is False" 5
ok $? "token removed: token-removed event with the token's id"
if [ -n "$SSE_T" ]; then
	LAT=$(( (SSE_T - t0) / 1000 ))
	note "latency from the request to the token-removed event: $LAT ms (the answer came after $(( (t1 - t0) / 1000 )) ms)"
	ok $(( LAT < 3000 ? 0 : 1 )) "token-removed arrives within 3 s of the request ($LAT ms)"
else
	fail "token-removed arrives within 3 s of the request"
fi
status_ok "token removed: the daemon serves"
sse_close mock
stop_kysod

done_testing
