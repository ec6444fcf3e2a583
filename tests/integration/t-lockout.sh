#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One program cannot lock the others out of kysod, nor make it take memory without bound:
#  - 1,000 idle connections and 64 that send a header byte a second, all of one program, while
#    another program signs (finding 4 of issue 9): the other program's signatures are measured;
#    the bound tested is a generous 3 s (on an idle machine they take some tens of milliseconds);
#  - 64 concurrent maximal batch bodies (8 MiB of "{}," each, as 64 curl processes): kysod's peak
#    RSS (VmHWM) stays under the 256 MiB that docs/architecture.md states (finding 5).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
sign_and_verify rsa sha256	# logged in from here on

SIGN_BOUND_MS=3000
[ "$KYSO_VALGRIND" = 1 ] && SIGN_BOUND_MS=15000

# timed_sign: a signature by curl (another program); prints "HTTP_CODE MILLISECONDS".
timed_sign()
{
	make_hash sha256
	printf '%s' "$(sign_body "${CERT_ID[rsa]}" sha256)" > "$T/timed.req"
	curl -s --max-time 20 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		--data-binary "@$T/timed.req" -o "$T/timed.json" \
		-w '%{http_code} %{time_total}' http://localhost/v1/sign |
		awk '{ printf "%s %d\n", $1, $2 * 1000 }'
}

# ---------------------------------------------------------------- 4: one program, many connections
"$PY" - "$SOCK" "$T/flood.ready" "$T/flood.out" 14 <<'EOF' &
import resource, socket, sys, time
path, ready, out, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
    except OSError:
        return None
    return s
idle = [conn() for _ in range(1000)]
slow = [conn() for _ in range(64)]
request = b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
open(ready, "w").close()
alive_at, got, closed = {}, {}, set()
for s in idle + slow:
    if s is not None:
        s.setblocking(False)
def poll_one(s):
    # reads what kysod sent; notes the connection closed at its end
    while s not in closed:
        try:
            chunk = s.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            closed.add(s)
            return
        got[s] = got.get(s, b"") + chunk
start = time.time()
for i in range(seconds):
    for s in slow:
        if s is None or s in closed:
            continue
        try:
            s.send(request[i:i + 1])
        except OSError:
            pass
    for s in idle + slow:
        if s is not None:
            poll_one(s)
    alive_at[i] = sum(1 for s in idle + slow if s is not None and s not in closed)
    time.sleep(max(0, start + i + 1 - time.time()))
answers = {}
for s in idle + slow:
    if s is None:
        answers["none"] = answers.get("none", 0) + 1
        continue
    data = got.get(s, b"")
    key = data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed"
    if b"too_many_connections" in data:
        key += " too_many_connections"
    if b"request_timeout" in data:
        key += " request_timeout"
    answers[key] = answers.get(key, 0) + 1
with open(out, "w") as f:
    f.write("connections still open, by second: %s\n" % " ".join(str(alive_at[i]) for i in sorted(alive_at)))
    f.write("answers: %s\n" % ", ".join("%s: %d" % kv for kv in sorted(answers.items())))
    f.write("open at the end: %d\n" % alive_at[seconds - 1])
EOF
FLOOD=$!
BG_PIDS+=("$FLOOD")
for ((i = 0; i < 200; i++)); do
	[ -e "$T/flood.ready" ] && break
	sleep 0.1
done
check "the program opened its 1,064 connections" test -e "$T/flood.ready"
worst=0 all=
for round in 1 2 3 4 5 6; do
	read -r code ms <<<"$(timed_sign)"
	all="$all ${code}:${ms}ms"
	[ "$code" = 200 ] || worst=999999
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 2
done
note "signatures by another program during the flood:$all"
ok $(( worst <= SIGN_BOUND_MS ? 0 : 1 )) \
	"another program signs 6 times over 12 s of flood, each within ${SIGN_BOUND_MS} ms (slowest $worst ms)"
wait "$FLOOD"
note "$(cat "$T/flood.out" 2>/dev/null)"
like "$(cat "$T/flood.out" 2>/dev/null)" 'answers: .*503 too_many_connections: [0-9]{4}' \
	"the flooding program's connections past its cap are answered 503 too_many_connections"
is "$(sed -n 's/^open at the end: //p' "$T/flood.out")" 0 \
	"none of its connections is still open after 14 s (the request deadline is 10 s)"
like "$(cat "$T/flood.out" 2>/dev/null)" 'answers: .*408 request_timeout: [0-9]' \
	"the ones that sent no complete request in 10 s were answered 408 request_timeout"
status_ok "kysod serves after the flood"

# ---------------------------------------------------------------- 5: memory under 64 maximal bodies
LIMIT_KIB=$((256 * 1024))
# Two maximal bodies: 8 MiB of "{}," items (refused by their shape, before any parsing), and
# 8 MiB of 10,000 items with ids of 770 bytes (parsed whole, then refused for the ids' length).
"$PY" - "$T" "${CERT_ID[rsa]}" $((8 << 20)) "$HASH_B64" <<'EOF'
import sys
t, cert, size, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
head = b'{"certificate":"' + cert.encode() + b'","hash_algorithm":"sha256","items":['
tail = b'{}]}'
n = (size - len(head) - len(tail)) // 3
open(t + "/max-empty.req", "wb").write(head + b"{}," * n + tail)
items = []
for i in range(10000):
    items.append(b'{"id":"' + (b"%05d" % i) * 154 + b'","hash":"' + h.encode() + b'"}')
open(t + "/max-items.req", "wb").write(head + b",".join(items) + b"]}")
EOF
note "bodies: $(stat -c %s "$T/max-empty.req") and $(stat -c %s "$T/max-items.req") bytes (max_batch_body is $((8 << 20)))"
hwm()
{
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$KYSOD_PID/status"
}
ASAN=0
ldd "$KYSOD" 2>/dev/null | grep -q libasan && ASAN=1
note "kysod before: VmHWM $(hwm VmHWM) KiB, VmRSS $(hwm VmRSS) KiB"

# flood_bodies NAME: 64 curl processes send $T/NAME.req at once; 2 TAP lines on the answers.
# A guard stops a kysod that grows past 2 GiB before it hurts the machine (then returns 1).
flood_bodies()
{
	local name=$1 pids=() i p running rss guard=0 codes
	for ((i = 0; i < 64; i++)); do
		curl -s --max-time 60 --unix-socket "$SOCK" -H 'Content-Type: application/json' \
			-H 'Expect:' --data-binary "@$T/$name.req" -o "$T/$name.$i.json" \
			-w '%{http_code}' http://localhost/v1/sign/batch > "$T/$name.$i.code" 2>/dev/null &
		pids+=($!)
	done
	while :; do
		running=0
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && running=1 && break
		done
		[ "$running" = 0 ] && break
		rss=$(hwm VmRSS)
		if [ "${rss:-0}" -gt $((2048 * 1024)) ] && [ "$ASAN" = 0 ]; then
			guard=$rss
			kill -KILL "$KYSOD_PID"
			break
		fi
		sleep 0.05
	done
	wait "${pids[@]}" 2>/dev/null
	if [ "$guard" != 0 ]; then
		fail "$name: kysod's memory under 64 maximal batch bodies (killed at VmRSS $guard KiB)"
		wait "$KYSOD_PID" 2>/dev/null
		KYSOD_PID=
		return 1
	fi
	codes=$(for f in "$T/$name".*.code; do cat "$f"; echo; done | sort | uniq -c |
		awk '{ printf "%s%s×%s", sep, $2, $1; sep = ", " }')
	note "$name: answers to the 64 bodies: $codes; kysod's VmHWM now $(hwm VmHWM) KiB"
	like "$codes" '^(400×[0-9]+)?(, )?(503×[0-9]+)?$' \
		"$name: each of the 64 bodies is answered 400 (refused) or 503 server_busy"
	ok $(( $(grep -l '"code":"\(bad_request\|invalid_value\|server_busy\)"' "$T/$name".*.json | wc -l) == 64 ? 0 : 1 )) \
		"$name: ...with a JSON error"
}
flood_bodies max-empty || { done_testing; exit; }
flood_bodies max-items || { done_testing; exit; }
peak=$(hwm VmHWM)
if [ "$ASAN" = 1 ] || [ "$KYSO_VALGRIND" = 1 ]; then
	skip 1 "peak memory is not meaningful under ASan or valgrind (VmHWM $peak KiB)"
else
	ok $(( peak < LIMIT_KIB ? 0 : 1 )) \
		"kysod's peak RSS under 64 concurrent maximal batch bodies: $((peak / 1024)) MiB < 256 MiB"
fi
api_file POST /v1/sign/batch "$T/max-empty.req"
is_error 400 bad_request "a maximal body of {} items alone: 400 bad_request, refused before parsing"
status_ok "kysod serves after the bodies"
stop_kysod

done_testing
