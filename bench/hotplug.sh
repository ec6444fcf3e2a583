#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hotplug latency on the virtual PIV card: from the card process starting to kysod's
# token-inserted event, and from its stopping to token-removed, beside the moments a plain
# SCardGetStatusChange client (bench/pcscwatch) sees the card come and go.
#
#   bench/hotplug.sh OUTFILE ROUNDS      (KYSO_SRCDIR, KYSO_BUILDDIR, BENCH_BIN set by run.sh)
#
# Runs inside its own mount, network and PID namespaces with a private pcscd
# (tests/lib/pcsc-env.sh). Writes OUTFILE: "skipped: REASON", or one line per round:
#   round=N pcsc_in=S kyso_in=S pcsc_out=S kyso_out=S   (seconds after the card started or
#   stopped; "missed" when kysod sent no event within 5 s)
set -u
out=$1
rounds=${2:-5}

BENCH_NAME=hotplug
# shellcheck source=bench/pcsc-bench.sh
. "$KYSO_SRCDIR/bench/pcsc-bench.sh" "$@"
KYSOD_PID=
EVENTS_PID=
WATCH_PIDS=()
CARD_PID=
cleanup()
{
	local p
	[ -n "$CARD_PID" ] && kill -TERM "$CARD_PID" 2>/dev/null
	for p in "${WATCH_PIDS[@]}" $EVENTS_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	if [ -n "$KYSOD_PID" ]; then
		kill -TERM "$KYSOD_PID" 2>/dev/null
		wait "$KYSOD_PID" 2>/dev/null
	fi
	pcsc_stop
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "# kept $H" >&2
	else
		rm -rf "$H"
	fi
}
trap cleanup EXIT

pcsc_start || plan_skip_all "pcscd did not start: $(tail -3 "$PCSC_DIR/pcscd.log" 2>/dev/null)"
card_make_demo "$H/card" >"$H/make-demo.log" 2>&1 ||
	plan_skip_all "piv-card.py --make-demo failed: $(tail -2 "$H/make-demo.log")"

module=/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so
[ -e "$module" ] || module=$OPENSC_P11
mkdir -m 0700 -p "$H/run" "$H/state"
cat >"$H/kysod.conf" <<EOF
[kysod]
socket = $H/run/kyso/kyso.sock
helper = $KYSO_BUILDDIR/kyso-p11
audit_log = $H/state/audit.log
allow_modules = /usr/lib/*/pkcs11/*.so $(dirname "$(realpath "$module")")/*.so
log_level = ${BENCH_LOG_LEVEL:-info}

[module opensc]
path = $module
EOF
chmod 0600 "$H/kysod.conf"
sock=$H/run/kyso/kyso.sock

"$BENCH_BIN/pcscwatch" "$PCSC_READER0" >"$H/pcsc.events" 2>"$H/pcsc.err" &
WATCH_PIDS+=($!)
for ((i = 0; i < 200; i++)); do
	grep -q ready "$H/pcsc.events" 2>/dev/null && break
	sleep 0.02
done
[ "$i" -lt 200 ] || plan_skip_all "pcscwatch did not start: $(cat "$H/pcsc.err")"

# kysod_up: a fresh kysod for each round (a token whose removal it missed would hide the
# next insertion), with its event stream watched
kysod_up()
{
	local i
	"$KYSO_BUILDDIR/kysod" -f -c "$H/kysod.conf" >>"$H/kysod.log" 2>&1 </dev/null &
	KYSOD_PID=$!
	for ((i = 0; i < 200; i++)); do
		curl -s --max-time 1 --unix-socket "$sock" http://localhost/v1/status 2>/dev/null |
			grep -q '"state":"running"' && break
		sleep 0.05
	done
	[ "$i" -lt 200 ] || plan_skip_all "kysod with OpenSC's module did not come up: $(tail -3 "$H/kysod.log")"
	"$BENCH_BIN/kysoload" events --socket "$sock" >>"$H/kyso.events" 2>"$H/kyso.err" &
	EVENTS_PID=$!
	sleep 0.3
}

kysod_down()
{
	kill -TERM "$EVENTS_PID" 2>/dev/null
	wait "$EVENTS_PID" 2>/dev/null
	EVENTS_PID=
	kill -TERM "$KYSOD_PID" 2>/dev/null
	wait "$KYSOD_PID" 2>/dev/null
	KYSOD_PID=
}

# first_after FILE WORD T SECONDS: prints the time (microseconds) of the first WORD line
# after T (microseconds), waiting up to SECONDS; prints nothing when none came.
first_after()
{
	local file=$1 word=$2 after=$3 until t w us
	until=$((${EPOCHREALTIME/./} + $4 * 1000000))
	while [ "${EPOCHREALTIME/./}" -lt "$until" ]; do
		while read -r t w _; do
			[ "$w" = "$word" ] || continue
			us=${t/./}
			if [ "$us" -gt "$after" ]; then
				echo "$us"
				return 0
			fi
		done <"$file"
		sleep 0.01
	done
}

: >"$out.tmp"
for ((r = 1; r <= rounds; r++)); do
	kysod_up
	rm -f "$H/card.ready"
	t_in=${EPOCHREALTIME/./}
	"$PCSC_PY" "$PIV_CARD" --port "$PCSC_PORT0" --state "$H/card.state" \
		--ready-file "$H/card.ready" "$H/card" >>"$H/card.log" 2>&1 </dev/null &
	CARD_PID=$!
	pi=$(first_after "$H/pcsc.events" present "$t_in" 10)
	[ -n "$pi" ] || plan_skip_all "pcscd did not see the card (round $r)"
	# kyso's event: within 5 s of what pcscd allows, else missed
	ki=$(first_after "$H/kyso.events" token-inserted "$t_in" 5)
	sleep 0.5
	t_out=${EPOCHREALTIME/./}
	kill -TERM "$CARD_PID"
	wait "$CARD_PID" 2>/dev/null
	CARD_PID=
	po=$(first_after "$H/pcsc.events" absent "$t_out" 10)
	[ -n "$po" ] || plan_skip_all "pcscd did not see the card go (round $r)"
	ko=$(first_after "$H/kyso.events" token-removed "$t_out" 5)
	awk -v r="$r" -v ti="$t_in" -v to="$t_out" -v pi="$pi" -v ki="$ki" -v po="$po" -v ko="$ko" \
		'function d(x, t) { return x == "" ? "missed" : sprintf("%.4f", (x - t) / 1e6) }
		BEGIN { printf "round=%d pcsc_in=%s kyso_in=%s pcsc_out=%s kyso_out=%s\n",
			r, d(pi, ti), d(ki, ti), d(po, to), d(ko, to) }' >>"$out.tmp"
	kysod_down
done
mv "$out.tmp" "$out"
