#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The helpers' side of the hardening: a frame for a helper (a LOGIN with the PIN) never reaches
# a client, even when the helper dies while the frame is being written and clients connect
# meanwhile; a helper ends with kysod, also when kysod is killed in the middle of a signature
# or while the module hangs; kysod and its helpers cannot be dumped or read by another program
# of the same user.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_mock

SHIM=$KYSO_BUILDDIR/tests/shim/.libs/libkyso-shim-login-delay.so
PIN=735914
make_mock_key rsa
export KYSO_MOCK_SERIAL=CHAN01 KYSO_MOCK_PIN=$PIN

# gone PID SECONDS: the process does not exist (or is a zombie) within SECONDS.
gone()
{
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -d "/proc/$1" ] || return 0
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	diag "process $1 still runs: $(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null)"
	return 1
}

# ---------------------------------------------------------------- no frame to the wrong peer
if [ "$KYSO_VALGRIND" = 1 ]; then
	skip 9 "the write-delaying shim is not used under valgrind"
else
	mkdir -p "$T/shim"
	KYSOD_WRAP=(env "KYSO_SHIM_DIR=$T/shim" "LD_PRELOAD=$SHIM"
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	write_conf --module "mock=$MOCK_MODULE" request_timeout=30
	start_kysod
	KYSOD_WRAP=()
	pinentry_says "pin $PIN"
	HP=$(helper_field pid)
	sign_bg mock race 30
	for ((i = 0; i < 400; i++)); do
		[ -e "$T/shim/held" ] && break
		sleep 0.05
	done
	[ -e "$T/shim/held" ]
	ok $? "race: the LOGIN frame with the PIN is held back in write()"
	# clients connect every 10 ms and wait, sending nothing: whatever one of them reads must
	# be kysod's own HTTP answer (a refusal), never a frame meant for a helper
	"$PY" - "$SOCK" "$T/flood.json" "$T/flood.ready" <<'EOF' &
import json, socket, sys, time
path, out, ready = sys.argv[1], sys.argv[2], sys.argv[3]
conns, made, data = [], 0, {}
end = time.monotonic() + 4
def drain(i, s):
    try:
        got = s.recv(65536)
        if got:
            data[i] = data.get(i, b"") + got
    except (BlockingIOError, OSError):
        pass
while time.monotonic() < end:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.setblocking(False)
        conns.append((made, s))
        made += 1
    except OSError:
        pass
    if made == 20:
        open(ready, "w").close()
    for i, s in conns:
        drain(i, s)
    # below kysod's cap on one program's pending connections
    while len(conns) > 24:
        i, s = conns.pop(0)
        drain(i, s)
        s.close()
    time.sleep(0.01)
for i, s in conns:
    drain(i, s)
    s.close()
json.dump({"made": made, "bytes": sum(len(v) for v in data.values()),
           "not_http": [v[:64].hex() for v in data.values() if not v.startswith(b"HTTP/1.")],
           "raw": b"".join(data.values()).decode("latin-1")}, open(out, "w"))
EOF
	FLOOD=$!
	kill -KILL "$HP"
	for ((i = 0; i < 200; i++)); do
		[ -e "$T/flood.ready" ] && break
		sleep 0.02
	done
	touch "$T/shim/go"
	sign_bg_wait race
	like "$STATUS $(json_get 'j["error"]["code"]')" '^(502 module_crashed|503 module_unavailable)$' \
		"race: the request whose helper died is answered with an error"
	wait "$FLOOD"
	MADE=$(json_get 'j["made"]' "$(cat "$T/flood.json")")
	ok $(( MADE >= 20 ? 0 : 1 )) "race: clients connected while the frame was held ($MADE)"
	is "$(json_get 'j["not_http"]' "$(cat "$T/flood.json")")" "[]" \
		"race: no client read anything but an HTTP answer of kysod's"
	json_get 'j["raw"]' "$(cat "$T/flood.json")" | grep -q "$PIN"
	isnt $? 0 "race: the PIN reached no client"
	wait_restarted "$HP"
	ok $? "race: the helper is restarted"
	sign_and_verify mock sha256
	stop_kysod
fi

# ---------------------------------------------------------------- a lane's reply after its inventory
# The helper's inventory (a login's new state) goes on the channel, the signature's reply on a
# lane. With kysod taking every INVENTORY frame 600 ms late, the answer still comes after it has
# applied the inventory the login sent: right after a first signature the token shows logged in.
if [ "$KYSO_VALGRIND" = 1 ]; then
	skip 9 "the write-delaying shim is not used under valgrind"
else
	KYSOD_WRAP=(env "LD_PRELOAD=$SHIM" KYSO_SHIM_OP=2 KYSO_SHIM_RECV_DELAY_MS=600
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	write_conf --module "mock=$MOCK_MODULE"
	start_kysod
	KYSOD_WRAP=()
	pinentry_says "pin $PIN"
	sign_and_verify mock sha256
	api GET /v1/tokens
	is "$(json_get '[t["pin"]["logged_in"] for t in j["tokens"]]')" "[true]" \
		"a lane's reply comes after the inventory its login sent: the token shows logged in"
	stop_kysod
fi

# ---------------------------------------------------------------- a helper ends with kysod
# login_ttl 0 and a slow signature: kysod killed while the helper works
export KYSO_MOCK_FAULT=slow-sign KYSO_MOCK_FAULT_AFTER=0 KYSO_MOCK_DELAY_MS=1500
write_conf --module "mock=$MOCK_MODULE" login_ttl=0
start_kysod
pinentry_says "pin $PIN"
HP=$(helper_field pid)
sign_bg mock slow 30
for ((i = 0; i < 200; i++)); do
	grep -q 'slow-sign' "$KYSOD_LOG" && break
	sleep 0.05
done
kill -KILL "$KYSOD_PID"
wait "$KYSOD_PID" 2>/dev/null
KYSOD_PID=
check "kysod killed during a slow signature with login_ttl 0: its helper ends" gone "$HP" 5
wait "$JOB" 2>/dev/null

# a module that hangs, and kysod killed
export KYSO_MOCK_FAULT=hang-sign KYSO_MOCK_FAULT_AFTER=0
write_conf --module "mock=$MOCK_MODULE" request_timeout=300
start_kysod
HP=$(helper_field pid)
sign_bg mock hung 30
for ((i = 0; i < 200; i++)); do
	grep -q 'hang-sign: hanging' "$KYSOD_LOG" && break
	sleep 0.05
done
grep -q 'hang-sign: hanging' "$KYSOD_LOG"
ok $? "hung module: the signature is stuck in the module"
kill -KILL "$KYSOD_PID"
wait "$KYSOD_PID" 2>/dev/null
KYSOD_PID=
check "kysod killed while its module hangs: the helper ends" gone "$HP" 5
wait "$JOB" 2>/dev/null
rm -f "$SOCK"

# ---------------------------------------------------------------- nothing to dump or read
# Root passes ptrace checks with CAP_SYS_PTRACE; kysod and the "other program" both run
# without it, as a user's programs do.
unset KYSO_MOCK_FAULT KYSO_MOCK_FAULT_AFTER KYSO_MOCK_DELAY_MS
NOPTRACE=(setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace)
# peek PID: what a same-user program gets trying /proc/PID/mem and PTRACE_ATTACH
peek()
{
	"${NOPTRACE[@]}" "$PY" - "$1" <<'EOF'
import ctypes, os, sys
pid = int(sys.argv[1])
res = []
try:
    open("/proc/%d/mem" % pid, "rb").close()
    res.append("mem:open")
except OSError as e:
    res.append("mem:" + os.strerror(e.errno))
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(16, pid, 0, 0) == 0:
    res.append("attach:ok")
    os.waitpid(pid, 0)
    libc.ptrace(17, pid, 0, 0)
else:
    res.append("attach:" + os.strerror(ctypes.get_errno()))
print(" ".join(res))
EOF
}
"${NOPTRACE[@]}" sleep 30 &
CONTROL=$!
sleep 0.2
is "$(peek "$CONTROL")" "mem:open attach:ok" "control: another program can read an ordinary process of the user"
kill "$CONTROL"
wait "$CONTROL" 2>/dev/null
KYSOD_WRAP=("${NOPTRACE[@]}")
write_conf --module "mock=$MOCK_MODULE"
start_kysod
KYSOD_WRAP=()
pinentry_says "pin $PIN"
sign_and_verify mock sha256
HP=$(helper_field pid)
like "$(peek "$KYSOD_PID")" '^mem:(Permission denied|Operation not permitted) attach:Operation not permitted$' \
	"kysod: /proc/PID/mem and ptrace attach refused to another program of the user"
like "$(peek "$HP")" '^mem:(Permission denied|Operation not permitted) attach:Operation not permitted$' \
	"helper (logged in): /proc/PID/mem and ptrace attach refused"
for p in "$KYSOD_PID" "$HP"; do
	is "$(awk '/^Max core file size/ { print $5, $6 }' "/proc/$p/limits")" "0 0" \
		"pid $p: core dumps off (soft and hard limit 0)"
done
# raw_sign MODE SIG-FILE: a POST /v1/sign of the last make_hash from a Python caller that
# first makes itself non-dumpable (nodump) or holds 6,000 descriptors (manyfd); prints the
# status line, writes the signature.
cat > "$T/raw-sign.py" <<'EOF'
import ctypes, os, resource, socket, sys
mode, path, body, out = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4]
if mode == "nodump":
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)	# PR_SET_DUMPABLE 0
else:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 10000), hard))
    keep = [os.dup(0) for _ in range(6000)]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
answer = b""
while True:
    got = s.recv(65536)
    if not got:
        break
    answer += got
print(answer.split(b"\r\n", 1)[0].decode())
if answer.startswith(b"HTTP/1.1 200"):
    import base64, json
    sig = json.loads(answer.split(b"\r\n\r\n", 1)[1])["signature"]
    open(out, "wb").write(base64.b64decode(sig))
EOF
# a caller that made itself non-dumpable: kysod cannot read its descriptors, so the audit
# entry must not claim the connection was checked
make_hash sha256
"${NOPTRACE[@]}" "$PY" "$T/raw-sign.py" nodump "$SOCK" "$(sign_body "${CERT_ID[mock]}" sha256)" \
	"$T/nodump.sig" > "$T/nodump.out"
like "$(cat "$T/nodump.out")" '^HTTP/1.1 200' "a non-dumpable caller signs"
verify_sig "${CERT_PEM[mock]}" "$HASH_HEX" "$T/nodump.sig" sha256 pkcs1
ok $? "the non-dumpable caller's signature verifies with openssl against the certificate"
is "$("$PY" -c 'import json, sys
print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["caller_check"]["checked"])' "$AUDIT_LOG")" \
	"pidfd, start time, executable" \
	"a caller whose descriptors kysod cannot read: the audit does not claim \"connection held\""
# a caller holding more descriptors than kysod looks through: not checked, and not slow
make_hash sha256
"$PY" "$T/raw-sign.py" manyfd "$SOCK" "$(sign_body "${CERT_ID[mock]}" sha256)" "$T/manyfd.sig" \
	> "$T/manyfd.out"
like "$(cat "$T/manyfd.out")" '^HTTP/1.1 200' "a caller with 6,000 descriptors signs"
verify_sig "${CERT_PEM[mock]}" "$HASH_HEX" "$T/manyfd.sig" sha256 pkcs1
ok $? "its signature verifies with openssl against the certificate"
is "$("$PY" -c 'import json, sys
print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["caller_check"]["checked"])' "$AUDIT_LOG")" \
	"pidfd, start time, executable" \
	"a caller with more descriptors than kysod looks through: the audit does not claim \"connection held\""
is "$(awk '/^VmLck:/ { print ($2 > 0) }' "/proc/$KYSOD_PID/status")" 1 \
	"kysod in the foreground: its secure heap is locked in memory"
stop_kysod

# As a daemon (no -f, its usual way): the PIN buffers are still in locked memory (a fork
# child does not inherit memory locks, so they are set up after the fork).
"$KYSOD" -c "$CONF" > "$T/daemon.out" 2>&1
for ((i = 0; i < 100; i++)); do
	_status_answers && break
	sleep 0.1
done
api GET /v1/status
DPID=$(json_get 'j["pid"]')
ok $(( DPID > 1 ? 0 : 1 )) "kysod runs as a daemon (pid $DPID)"
is "$(awk '/^VmLck:/ { print ($2 > 0) }' "/proc/$DPID/status" 2>/dev/null)" 1 \
	"kysod as a daemon: its secure heap is locked in memory"
kill -TERM "$DPID" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done

done_testing
