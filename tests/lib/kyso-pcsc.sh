# SPDX-License-Identifier: LGPL-2.1-or-later
# kysod on real tokens: OpenSC's PKCS#11 module over virtual PIV cards in a private pcscd
# (tests/lib/pcsc-env.sh). Source it after kyso-env.sh:
#
#	. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh"
#	pcsc_enter_namespace "$@"
#	. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
#	. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
#	pcsc_start
#
# Provides:
#   kp_require               skips unless kysod, kyso-p11 and OpenSC's module (under a path
#                            kysod's default allow_modules accepts) are there; sets KP_MODULE
#   kp_write_conf [KEY=VALUE]...   write_conf with the one module "opensc"
#   kp_card NAME DIR [MAKE-DEMO-ARGS]   demo card NAME in DIR; its certificates are NAME-9a,
#                            NAME-9c, NAME-9d, NAME-9e in CERT_PEM, CERT_DER, CERT_ID, KEY_TYPE
#                            (for sign_and_verify); KP_SERIAL[NAME] = the token serial (the
#                            GUID's last 8 bytes), KP_TOKEN[NAME] = the API's token id
#   kp_wait_token NAME yes|no [SECONDS]  until /v1/tokens shows the token present (or not), 5 s
#   events_start             reads GET /v1/events in the background into $T/events.log, one
#                            line per event: "MICROSECONDS ID TYPE DATA" (arrival time)
#   events_mark              prints the number of events read so far
#   wait_event MARK TYPE [ERE] [SECONDS]   the first event after MARK of TYPE whose data
#                            matches ERE; sets EV_US, EV_ID, EV_DATA; fails after SECONDS (5)
#   pcsc_watch_start READER...  a plain PC/SC client (SCardGetStatusChange) logging
#                            "MICROSECONDS READER present|empty" into $T/pcsc-watch.log
#   wait_pcsc_watch MARK READER present|empty [SECONDS]   the same for that log; sets EV_US
#   now_us, ms_between US0 US1
#
# shellcheck shell=bash disable=SC2034 # the variables set here are for the test scripts

KP_MODULE=

kp_require()
{
	local f
	require_build
	KP_MODULE=
	for f in /usr/lib/*/pkcs11/opensc-pkcs11.so /usr/lib/pkcs11/opensc-pkcs11.so; do
		if [ -r "$f" ]; then
			KP_MODULE=$f
			break
		fi
	done
	[ -n "$KP_MODULE" ] || _pcsc_unavailable "OpenSC's module is not in a pkcs11 directory"
}

# kysod's default allow_modules (write_conf sets its own for SoftHSM2 and the mock module)
KP_ALLOW="/usr/lib/*/pkcs11/*.so /usr/lib/*/opensc-pkcs11.so /usr/lib/pkcs11/*.so"

kp_write_conf()
{
	write_conf --module "opensc=$KP_MODULE" "allow_modules=$KP_ALLOW" "$@"
}

declare -A KP_SERIAL KP_TOKEN

kp_card()
{
	local name=$1 dir=$2 slot guid
	shift 2
	card_make_demo "$dir" "$@" >"$T/make-demo-$name.log" 2>&1 ||
		bail_out "piv-card.py --make-demo failed: $(cat "$T/make-demo-$name.log")"
	for slot in 9a 9c 9d 9e; do
		CERT_PEM["$name-$slot"]=$dir/$slot.crt
		CERT_DER["$name-$slot"]=$dir/$slot.der
		openssl x509 -in "$dir/$slot.crt" -outform DER -out "$dir/$slot.der" ||
			bail_out "openssl x509 failed"
		CERT_ID["$name-$slot"]=$(openssl dgst -sha256 -r "$dir/$slot.der" | cut -c1-64)
		KEY_TYPE["$name-$slot"]=ec
	done
	KEY_TYPE["$name-9a"]=rsa
	guid=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["guid"])' "$dir/card.json")
	KP_SERIAL[$name]=${guid:16:16}
	# OpenSC's PIV driver: manufacturer "piv_II", model "PKCS#15 emulated"
	KP_TOKEN[$name]=$(token_id piv_II "PKCS#15 emulated" "${KP_SERIAL[$name]}")
}

kp_wait_token()
{
	local name=$1 want=$2 secs=${3:-5} i got
	for ((i = 0; i < secs * 20; i++)); do
		api GET "/v1/tokens/${KP_TOKEN[$name]}"
		# absent: listed with present false, or not known at all (404 token_not_found);
		# anything else (kysod down, an error) is neither present nor absent
		case "$STATUS $(err_code)" in
		"200 "*) got=$(json_get 'j["present"]') ;;
		"404 token_not_found") got=false ;;
		*) got="no answer ($STATUS $(err_code))" ;;
		esac
		if { [ "$want" = yes ] && [ "$got" = true ]; } ||
			{ [ "$want" = no ] && [ "$got" = false ]; }; then
			return 0
		fi
		sleep 0.05
	done
	diag "kp_wait_token $name $want: last answer $STATUS ${got:-}"
	return 1
}

now_us()
{
	printf '%s' "${EPOCHREALTIME/[.,]/}"
}

# ms_between US0 US1: milliseconds from US0 to US1 ("?" when one is unknown)
ms_between()
{
	if [ -n "${1:-}" ] && [ -n "${2:-}" ]; then
		printf '%d' $((($2 - $1) / 1000))
	else
		printf '?'
	fi
}

# ---------------------------------------------------------------- the event stream

EVENTS_PID=

events_start()
{
	local i
	: >"$T/events.log"
	"$PY" - "$SOCK" "$T/events.log" <<-'PY' 2>"$T/events.err" &
	import http.client, socket, sys, time
	class Conn(http.client.HTTPConnection):
	    def connect(self):
	        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	        self.sock.connect(sys.argv[1])
	c = Conn("localhost", timeout=None)
	c.request("GET", "/v1/events")
	r = c.getresponse()
	out = open(sys.argv[2], "a", buffering=1)
	ev = {}
	while True:
	    line = r.readline()
	    if not line:
	        break
	    us = time.time_ns() // 1000
	    line = line.decode("utf-8").rstrip("\r\n")
	    if line.startswith(":"):
	        out.write("%d - comment %s\n" % (us, line[1:].strip()))
	    elif line:
	        k, _, v = line.partition(":")
	        ev[k] = v[1:] if v.startswith(" ") else v
	    elif ev:
	        out.write("%d %s %s %s\n" % (us, ev.get("id", "-"), ev.get("event", "message"),
	                                     ev.get("data", "")))
	        ev = {}
	PY
	EVENTS_PID=$!
	BG_PIDS+=("$EVENTS_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q ' comment kyso events' "$T/events.log" && return 0
		sleep 0.02
	done
	diag "the event stream did not open: $(cat "$T/events.err")"
	return 1
}

events_stop()
{
	[ -n "$EVENTS_PID" ] || return 0
	kill "$EVENTS_PID" 2>/dev/null
	wait "$EVENTS_PID" 2>/dev/null
	EVENTS_PID=
}

events_mark()
{
	wc -l <"$T/events.log" | tr -d ' '
}

# _wait_log FILE MARK AWK-CONDITION SECONDS: the first line after MARK matching; sets EV_LINE.
_wait_log()
{
	local file=$1 mark=$2 cond=$3 secs=$4 i
	for ((i = 0; i < secs * 50; i++)); do
		EV_LINE=$(awk -v m="$mark" "NR > m && ($cond) { print; exit }" "$file")
		[ -n "$EV_LINE" ] && return 0
		sleep 0.02
	done
	return 1
}

wait_event()
{
	local mark=$1 type=$2 ere=${3:-} secs=${4:-5} i
	EV_US='' EV_ID='' EV_DATA=''
	for ((i = 0; i < secs * 50; i++)); do
		EV_LINE=$(awk -v m="$mark" -v t="$type" -v e="$ere" '
			NR > m && $3 == t { d = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ ?/, "", d)
				if (e == "" || d ~ e) { print; exit } }' "$T/events.log")
		if [ -n "$EV_LINE" ]; then
			read -r EV_US EV_ID _ EV_DATA <<<"$EV_LINE"
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# ---------------------------------------------------------------- a plain PC/SC client

PCSC_WATCH_PID=

pcsc_watch_start()
{
	local i
	: >"$T/pcsc-watch.log"
	"$PCSC_PY" - "$T/pcsc-watch.log" "$@" <<-'PY' 2>"$T/pcsc-watch.err" &
	import ctypes, sys, time
	lib = ctypes.CDLL("libpcsclite.so.1")
	DWORD = ctypes.c_ulong  # pcsc-lite on Linux: DWORD is unsigned long, SCARDCONTEXT long
	class State(ctypes.Structure):
	    _fields_ = [("reader", ctypes.c_char_p), ("user", ctypes.c_void_p),
	                ("current", DWORD), ("event", DWORD), ("atr_len", DWORD),
	                ("atr", ctypes.c_ubyte * 33)]
	PRESENT, CHANGED, MUTE = 0x20, 0x02, 0x200
	out = open(sys.argv[1], "a", buffering=1)
	ctx = ctypes.c_long()
	if lib.SCardEstablishContext(DWORD(2), None, None, ctypes.byref(ctx)):
	    sys.exit("SCardEstablishContext failed")
	names = sys.argv[2:]
	states = (State * len(names))()
	for i, n in enumerate(names):
	    states[i].reader = n.encode()
	lib.SCardGetStatusChange.argtypes = [ctypes.c_long, DWORD, ctypes.POINTER(State), DWORD]
	first = True
	while True:
	    rv = lib.SCardGetStatusChange(ctx, DWORD(1000), states, DWORD(len(names))) & 0xFFFFFFFF
	    us = time.time_ns() // 1000
	    if rv == 0x8010000A:  # SCARD_E_TIMEOUT
	        continue
	    if rv:
	        out.write("%d - error %08x\n" % (us, rv))
	        break
	    for s in states:
	        if first or s.event & CHANGED:
	            present = s.event & PRESENT and not s.event & MUTE
	            out.write("%d %s %s\n" % (us, s.reader.decode().replace(" ", "_"),
	                                       "present" if present else "empty"))
	        s.current = s.event & ~CHANGED
	    if first:
	        out.write("%d - ready\n" % us)
	        first = False
	PY
	PCSC_WATCH_PID=$!
	BG_PIDS+=("$PCSC_WATCH_PID")
	for ((i = 0; i < 200; i++)); do
		grep -q ' - ready' "$T/pcsc-watch.log" && return 0
		sleep 0.02
	done
	diag "the PC/SC client did not start: $(cat "$T/pcsc-watch.err")"
	return 1
}

pcsc_watch_stop()
{
	[ -n "$PCSC_WATCH_PID" ] || return 0
	kill "$PCSC_WATCH_PID" 2>/dev/null
	wait "$PCSC_WATCH_PID" 2>/dev/null
	PCSC_WATCH_PID=
}

pcsc_watch_mark()
{
	wc -l <"$T/pcsc-watch.log" | tr -d ' '
}

wait_pcsc_watch()
{
	local mark=$1 reader=${2// /_} state=$3 secs=${4:-10}
	EV_US=
	_wait_log "$T/pcsc-watch.log" "$mark" "\$2 == \"$reader\" && \$3 == \"$state\"" "$secs" ||
		return 1
	EV_US=${EV_LINE%% *}
}
