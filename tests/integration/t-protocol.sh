#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kysod and kyso-p11 of different protocol versions refuse each other, each saying why: a
# helper told another version by kysod (or none, as an older kysod does) ends with a HELLO
# error naming both versions; a helper whose HELLO names another version, or whose first
# message is an older JSON frame, is refused by kysod. GET /v1/status and kysod's log show
# the reason, and nothing is signed. A lane (a descriptor passed with LANE) is kept only when
# it is the helper's own socket. With matching versions the module runs.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token
pinentry_says "pin 123456"
REAL_P11=$KYSO_P11

# refused_by DESC REGEX: kysod runs, its module is reported failed with a reason matching
# REGEX, and a signature is answered module_unavailable.
refused_by()
{
	local desc=$1 re=$2 i state=
	start_kysod --no-wait
	for ((i = 0; i < 100; i++)); do
		api GET /v1/status
		state=$(json_get 'j["modules"][0]["state"]')
		[ "$state" = failed ] && break
		sleep 0.1
	done
	is "$state" failed "$desc: the module is reported failed"
	like "$(json_get 'j["modules"][0].get("error", "")')" "$re" "$desc: its error says why" ||
		diag "$BODY"
	make_hash sha256
	api POST /v1/sign "$(sign_body "${CERT_ID[p256]}" sha256)"
	is "$STATUS $(err_code)" "404 certificate_not_found" \
		"$desc: nothing signed (the module's certificates were never listed)"
	stop_kysod
	grep -q "$re" "$KYSOD_LOG"
	ok $? "$desc: the reason is in kysod's log"
}

# A kysod of another protocol version: the helper is given --protocol 1.
cat > "$T/helper-v1" <<EOS
#!/bin/bash
args=()
prev=
for a in "\$@"; do
	[ "\$prev" = --protocol ] && a=1
	args+=("\$a")
	prev=\$a
done
exec "$REAL_P11" "\${args[@]}"
EOS
# An older kysod: no --protocol at all.
cat > "$T/helper-none" <<EOS
#!/bin/bash
args=()
skip=0
for a in "\$@"; do
	if [ "\$skip" = 1 ]; then skip=0; continue; fi
	[ "\$a" = --protocol ] && { skip=1; continue; }
	args+=("\$a")
done
exec "$REAL_P11" "\${args[@]}"
EOS
# A helper of protocol 4 (a field this version does not know in its HELLO), and one of
# protocol 1 (a JSON HELLO): python, writing frames by hand on fd 3.
cat > "$T/helper-py" <<EOS
#!/usr/bin/python3
import json, os, struct, sys, time
mode = "$T/mode"
which = open(mode).read().strip()
def field(tag, kind, v):
    return struct.pack("<BBI", tag, kind, len(v)) + v
if which == "v4":
    fields = field(1, 1, struct.pack("<I", 4)) + field(99, 7, b"future") + \\
        field(15, 5, b'{"tokens":[]}\\0')
else:
    fields = json.dumps({"tokens": []}).encode()
os.write(3, struct.pack("<IIHHI", 12 + len(fields), 0, 1, 0, len(fields)) + fields)
time.sleep(30)
EOS
chmod 0755 "$T/helper-v1" "$T/helper-none" "$T/helper-py"

KYSO_P11=$T/helper-v1 write_conf --module "softhsm=$SOFTHSM"
refused_by "kysod of protocol 1" "kysod speaks protocol 1, this kyso-p11 protocol 3"

KYSO_P11=$T/helper-none write_conf --module "softhsm=$SOFTHSM"
refused_by "an older kysod (no --protocol)" "kysod did not say its protocol version"

echo v4 > "$T/mode"
KYSO_P11=$T/helper-py write_conf --module "softhsm=$SOFTHSM"
refused_by "a helper of protocol 4" "speaks protocol 4, this kysod protocol 3"

echo v1 > "$T/mode"
refused_by "a helper of protocol 1 (JSON frames)" "does not speak protocol 3"

# The same versions: the module runs and signs.
# Lanes (protocol 3): kysod keeps a descriptor passed with LANE only when it is a stream
# socket whose other end the helper itself holds (SO_PEERCRED). A helper passing a pipe, or a
# socket connected to someone else (here kysod's own API socket), has it closed.
cat > "$T/helper-lanes" <<EOS
#!/usr/bin/python3
import os, socket, struct, sys, time
out = "$T/lanes.out"
ch = socket.socket(fileno=3)
def frame(op, fields):
    return struct.pack("<IIHHI", 12 + len(fields), 0, op, 0, len(fields)) + fields
def field(tag, kind, v):
    return struct.pack("<BBI", tag, kind, len(v)) + v
token = field(5, 4, b"0123456789abcdef0123456789abcdef\0") + field(27, 1, struct.pack("<I", 0))
ch.sendall(frame(1, field(1, 1, struct.pack("<I", 3)) + field(15, 5, b'{"tokens":[]}\0')))
r, w = os.pipe()
ch.sendmsg([frame(14, token)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", w))])
os.close(w)
api = socket.socket(socket.AF_UNIX)
api.connect("$SOCK")
ch.sendmsg([frame(14, token)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", api.fileno()))])
mine, theirs = socket.socketpair()
ch.sendmsg([frame(14, token)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", theirs.fileno()))])
theirs.close()
time.sleep(1)
res = []
# the pipe: at its end once kysod closed the copy it was given
os.set_blocking(r, False)
try:
    res.append("pipe-closed" if os.read(r, 1) == b"" else "pipe-data")
except BlockingIOError:
    res.append("pipe-open")
mine.setblocking(False)
try:
    res.append("lane-ended" if mine.recv(1) == b"" else "lane-data")
except BlockingIOError:
    res.append("lane-kept")
open(out, "w").write(" ".join(res) + "\n")
time.sleep(30)
EOS
chmod 0755 "$T/helper-lanes"
KYSO_P11=$T/helper-lanes write_conf --module "softhsm=$SOFTHSM"
start_kysod --no-wait
for ((i = 0; i < 100; i++)); do
	[ -s "$T/lanes.out" ] && break
	sleep 0.1
done
is "$(cat "$T/lanes.out" 2>/dev/null)" "pipe-closed lane-kept" \
	"lanes: a pipe passed as a lane is closed; the helper's own socket is kept"
is "$(grep -c "a lane that is not the helper's own socket; closed" "$KYSOD_LOG")" 2 \
	"lanes: the pipe and the socket connected to kysod's API are refused, each logged"
api GET /v1/status
is "$(json_get 'j["modules"][0]["state"]')" running "lanes: the helper runs on"
stop_kysod

KYSO_P11=$REAL_P11 write_conf --module "softhsm=$SOFTHSM"
start_kysod
sign_and_verify p256 sha256
stop_kysod

done_testing
