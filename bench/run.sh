#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso's benchmark suite (`make bench`, or `bash bench/run.sh`). Not part of `make check`.
#
# Installs what it needs (as root on Debian 12), builds kyso, makes its own SoftHSM2 token
# with an RSA-2048 and a P-256 key, and measures:
#   - direct PKCS#11 (bench/p11bench on the module's function list), 1 and 2 threads
#   - p11-kit remoting of the same module (p11-kit server + p11-kit-client.so), same program
#   - kyso: POST /v1/sign over the Unix socket (bench/kysoload), 1, 2 and 8 clients, and
#     POST /v1/sign/batch with 1,000 items
#   - instructions per signature outside the PKCS#11 module (callgrind)
#   - hotplug latency on the virtual PIV card (bench/hotplug.sh)
#   - kyso pdf sign on a 100-page, 20 MB PDF beside one token signature (bench/pdfsign.py)
#   - signatures on the virtual PIV card through OpenSC, kyso against the direct program
#     (bench/piv.sh)
#   - resident memory and start-up time
# and prints a table, also written to bench/results/latest.md. Every throughput figure is the
# median of BENCH_ROUNDS runs (min-max beside it); the runs of all rows are interleaved round
# by round, so that a noisy machine slows every row alike.
#
# Environment:
#   BENCH_ROUNDS=5        runs per figure
#   BENCH_SECONDS=1.5     measured seconds per run (after BENCH_WARMUP=0.3 s)
#   BENCH_SKIP=cpu,hotplug   sections to leave out (tput, batch, cpu, hotplug, piv, footprint, pdf)
#   BENCH_PIV_ROUNDS=3, BENCH_PIV_SECONDS=3   runs on the virtual PIV card
#   BENCH_RELEASE=1       also keep this run as bench/results/<version>.md
#   KYSO_BENCH_BUILDDIR   build tree to use (default: the source tree when configured in
#                         place, else build/, made with tests/build.sh)
#   BENCH_KEEP=1          keep the work directory
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-1.5}
WARMUP=${BENCH_WARMUP:-0.3}
SKIP=,${BENCH_SKIP:-},
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
P11KIT_CLIENT=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
PIN=123456
CG_N=100		# signatures before the measured callgrind window
CG_W=100	# signatures in it

BENCH_T0=${EPOCHREALTIME/./}
say()
{
	local t=$(((${EPOCHREALTIME/./} - BENCH_T0) / 1000000))
	printf 'bench: [%d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*" >&2
}

die()
{
	say "error: $*"
	exit 1
}

skipped()
{
	case $SKIP in *",$1,"*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------- set-up

bash "$top/tests/install-deps.sh"
extra=(p11-kit p11-kit-modules pcscd vsmartcard-vpcd python3-cryptography iproute2 valgrind)
missing=()
for p in "${extra[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages; as root: apt-get install ${missing[*]}"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
	}
fi

if [ -n "${KYSO_BENCH_BUILDDIR:-}" ]; then
	builddir=$KYSO_BENCH_BUILDDIR
	make -C "$builddir" -j"$(nproc)" kysod kyso-p11 >/dev/null
elif [ -f "$top/config.status" ]; then
	# configured in the source tree (./configure && make): use that build
	builddir=$top
	make -C "$builddir" -j"$(nproc)" kysod kyso-p11 >/dev/null
else
	builddir=$top/build
	say "building in $builddir (see $builddir/make.out)"
	bash "$top/tests/build.sh" "$builddir"
fi
builddir=$(cd "$builddir" && pwd)
KYSOD=$builddir/kysod
HELPER=$builddir/kyso-p11
[ -x "$KYSOD" ] && [ -x "$HELPER" ] || die "kysod or kyso-p11 not built in $builddir"
VERSION=$("$KYSOD" --version | awk '{ print $2 }')

if [ "$builddir" = "$top" ]; then
	BIN=$top/build/bench	# keep the source tree clean (build/ is ignored)
else
	BIN=$builddir/bench
fi
mkdir -p "$BIN"
CFLAGS_BENCH="-O2 -g -Wall -Wextra"
cc $CFLAGS_BENCH -I/usr/include/p11-kit-1 -I"$top/bench" -o "$BIN/p11bench" "$top/bench/p11bench.c" -ldl -pthread
cc $CFLAGS_BENCH -I"$top/bench" -o "$BIN/kysoload" "$top/bench/kysoload.c" -pthread
cc $CFLAGS_BENCH $(pkg-config --cflags libpcsclite) -o "$BIN/pcscwatch" "$top/bench/pcscwatch.c" \
	$(pkg-config --libs libpcsclite)

W=$BIN/work
rm -rf "$W"
mkdir -m 0700 -p "$W"
SHM=$(mktemp -d /dev/shm/kyso-bench.XXXXXX)
RAW=$W/raw.txt
: >"$RAW"
declare -A LIVE	# processes this script started and has not stopped yet
cleanup()
{
	local p
	for p in "${!LIVE[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${!LIVE[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$SHM"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export LC_ALL=C.UTF-8
export SOFTHSM2_CONF=$W/softhsm2.conf
export KYSO_PINENTRY_SCRIPT=$W/pinentry.script
export KYSO_PINENTRY_LOG=/dev/null
printf 'pin %s\n' "$PIN" >"$KYSO_PINENTRY_SCRIPT"
mkdir -p "$W/tokens" "$W/keys"
cat >"$SOFTHSM2_CONF" <<EOF
directories.tokendir = $W/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF

say "making the SoftHSM2 token (RSA-2048 and P-256 keys)"
softhsm2-util --init-token --free --label kyso-bench --pin "$PIN" --so-pin 12345678 >"$W/init.log" 2>&1 ||
	die "softhsm2-util --init-token: $(cat "$W/init.log")"
declare -A CERT
for k in rsa ec; do
	case $k in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/keys/$k.key" 2>/dev/null
		id=01 ;;
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$W/keys/$k.key" 2>/dev/null
		id=02 ;;
	esac
	openssl req -new -x509 -key "$W/keys/$k.key" -subj "/O=kyso bench/CN=Bench $k" -days 3650 \
		-addext "keyUsage=critical,digitalSignature,nonRepudiation" -out "$W/keys/$k.pem" 2>/dev/null
	openssl x509 -in "$W/keys/$k.pem" -outform DER -out "$W/keys/$k.der"
	softhsm2-util --import "$W/keys/$k.key" --token kyso-bench --label "$k" --id "$id" --pin "$PIN" \
		>>"$W/init.log" 2>&1 || die "softhsm2-util --import: $(tail -3 "$W/init.log")"
	pkcs11-tool --module "$SOFTHSM" --token-label kyso-bench --login --pin "$PIN" \
		--write-object "$W/keys/$k.der" --type cert --id "$id" --label "$k" >>"$W/init.log" 2>&1 ||
		die "pkcs11-tool --write-object: $(tail -3 "$W/init.log")"
	CERT[$k]=$(openssl dgst -sha256 -r "$W/keys/$k.der" | cut -d' ' -f1)
done
declare -A KEYID=([rsa]=01 [ec]=02)

# ---------------------------------------------------------------- servers

# kysod_conf NAME WORKERS AUDITDIR: a production-like configuration (log level info,
# login kept, audit log on) with the SoftHSM2 module.
kysod_conf()
{
	local name=$1 workers=$2 auditdir=$3
	mkdir -m 0700 -p "$W/$name"
	{
		echo "[kysod]"
		echo "socket = $W/$name/run/kyso.sock"
		echo "pinentry = $top/tests/mock/pinentry-scripted"
		echo "helper = $HELPER"
		echo "audit_log = $auditdir/audit.log"
		echo "log_level = info"
		echo
		echo "[module softhsm]"
		echo "path = $SOFTHSM"
		if [ "$workers" -gt 1 ]; then
			echo "workers = $workers"
		fi
	} >"$W/$name/kysod.conf"
	chmod 0600 "$W/$name/kysod.conf"
}

# kysod_start NAME [WRAPPER...]: starts kysod NAME through kysoload startup, which times the
# first answer and the first signature. Sets KPID[NAME]; appends a startup line.
declare -A KPID
kysod_start()
{
	local name=$1 out
	shift
	out=$("$BIN/kysoload" startup --socket "$W/$name/run/kyso.sock" --cert "${CERT[ec]}" \
		--log "$W/$name/kysod.log" -- "$@" "$KYSOD" -f -c "$W/$name/kysod.conf") ||
		die "kysod $name did not start: $(tail -5 "$W/$name/kysod.log")"
	KPID[$name]=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
	LIVE[${KPID[$name]}]=1
	echo "startup inst=$name $out" >>"$RAW"
}

kysod_stop()
{
	local pid=${KPID[$1]}
	unset "LIVE[$pid]"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# helper_pid NAME: kysod NAME's helper process
helper_pid()
{
	pgrep -P "${KPID[$1]}" -f kyso-p11 | head -1
}

fstype()
{
	findmnt -n -o FSTYPE -T "$1" 2>/dev/null || stat -f -c %T "$1"
}

rss_kib()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

pss_kib()
{
	awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0
}

# private_kib PID: resident pages no other process shares
private_kib()
{
	awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null ||
		echo 0
}

footprint()
{
	local name=$1 label=$2 k=${KPID[$1]} h
	h=$(helper_pid "$name")
	echo "foot inst=$name at=$label kysod_rss=$(rss_kib "$k") kysod_pss=$(pss_kib "$k") kysod_priv=$(private_kib "$k") helper_rss=$(rss_kib "$h") helper_pss=$(pss_kib "$h") helper_priv=$(private_kib "$h")" >>"$RAW"
}

kysod_conf a 1 "$W/a/state"
kysod_conf b 2 "$W/b/state"
kysod_conf t 2 "$SHM"
say "starting kysod (start-up time, 3 times)"
for i in 1 2 3; do
	kysod_start a
	if [ "$i" -lt 3 ]; then
		kysod_stop a
	fi
done

if ! skipped footprint; then
	say "footprint: idle, then 10,000 signatures"
	sleep 1
	footprint a idle
	"$BIN/kysoload" sign --socket "$W/a/run/kyso.sock" --cert "${CERT[ec]}" --count 1000 --clients 2 \
		>/dev/null || die "signing failed"
	footprint a 1000
	"$BIN/kysoload" sign --socket "$W/a/run/kyso.sock" --cert "${CERT[ec]}" --count 9000 --clients 2 \
		>/dev/null || die "signing failed"
	footprint a 10000
	echo "audit inst=a lines=$(wc -l <"$W/a/state/audit.log") fs=$(fstype "$W/a/state")" >>"$RAW"
fi
kysod_start b
kysod_start t

say "starting p11-kit server"
"$(command -v p11-kit)" server -f -n "$W/p11kit.sock" -p "$SOFTHSM" "pkcs11:token=kyso-bench" \
	>"$W/p11kit.log" 2>&1 </dev/null &
P11KIT_PID=$!
LIVE[$P11KIT_PID]=1
for _ in $(seq 100); do
	[ -S "$W/p11kit.sock" ] && break
	sleep 0.05
done
[ -S "$W/p11kit.sock" ] || die "p11-kit server did not start: $(cat "$W/p11kit.log")"
P11KIT_ADDR=unix:path=$W/p11kit.sock

# ---------------------------------------------------------------- throughput

# p11 IMPL KEY THREADS ROUND
p11()
{
	local impl=$1 key=$2 n=$3 r=$4 module=$SOFTHSM out cpu=()
	if [ "$impl" = p11kit ]; then
		module=$P11KIT_CLIENT
		cpu=(--cpu-of-children "$P11KIT_PID")
	fi
	out=$(P11_KIT_SERVER_ADDRESS=$P11KIT_ADDR "$BIN/p11bench" --module "$module" --token kyso-bench \
		--pin "$PIN" --key-id "${KEYID[$key]}" --key "$key" --threads "$n" --seconds "$SECS" \
		--warmup "$WARMUP" "${cpu[@]}") || die "p11bench $impl $key $n failed"
	echo "tput impl=$impl key=$key conc=$n round=$r $out" >>"$RAW"
}

# kyso INSTANCE KEY CLIENTS ROUND
kyso()
{
	local inst=$1 key=$2 n=$3 r=$4 out impl=kyso
	[ "$inst" = t ] && impl=kyso-tmpfs
	out=$("$BIN/kysoload" sign --socket "$W/$inst/run/kyso.sock" --cert "${CERT[$key]}" --clients "$n" \
		--seconds "$SECS" --warmup "$WARMUP" --cpu-of "${KPID[$inst]}" --cpu-of "$(helper_pid "$inst")") ||
		die "kysoload $inst $key $n failed"
	echo "tput impl=$impl key=$key conc=$n round=$r workers=$([ "$inst" = a ] && echo 1 || echo 2) $out" >>"$RAW"
}

batch()
{
	local key=$1 r=$2 out
	out=$("$BIN/kysoload" batch --socket "$W/a/run/kyso.sock" --cert "${CERT[$key]}" --items 1000) ||
		die "batch $key failed"
	echo "batch impl=kyso key=$key round=$r $out" >>"$RAW"
}

skipped tput && ROUNDS=0
for ((r = 1; r <= ROUNDS; r++)); do
	say "round $r of $ROUNDS"
	for key in rsa ec; do
		p11 direct "$key" 1 "$r"
		kyso a "$key" 1 "$r"
		p11 p11kit "$key" 1 "$r"
		p11 direct "$key" 2 "$r"
		kyso b "$key" 2 "$r"
		p11 p11kit "$key" 2 "$r"
		kyso b "$key" 8 "$r"
		skipped batch || batch "$key" "$r"
	done
	kyso t ec 1 "$r"
	kyso t ec 8 "$r"
done
echo "audit inst=b fs=$(fstype "$W/b/state") tmpfs=$(fstype "$SHM")" >>"$RAW"
kysod_stop a
kysod_stop b
kysod_stop t
kill -TERM "$P11KIT_PID" 2>/dev/null || true
wait "$P11KIT_PID" 2>/dev/null || true
unset "LIVE[$P11KIT_PID]"

# ---------------------------------------------------------------- instructions per signature

cpu_section()
{
	local cg=$W/cg vg key=ec line t0 t1 dur f n proc spid files
	mkdir -p "$cg"
	vg=(valgrind --tool=callgrind --dump-line=no)

	say "callgrind: direct PKCS#11 ($CG_N and $((CG_N + CG_W)) P-256 signatures)"
	for n in "$CG_N" "$((CG_N + CG_W))"; do
		"${vg[@]}" --callgrind-out-file="$cg/direct.$n" "$BIN/p11bench" --module "$SOFTHSM" \
			--token kyso-bench --pin "$PIN" --key-id "${KEYID[$key]}" --key "$key" --count "$n" \
			>/dev/null 2>"$cg/direct.$n.log" || die "callgrind p11bench: $(tail -3 "$cg/direct.$n.log")"
		echo "cg part=direct n=$n $(python3 "$top/bench/cgsum.py" "$cg/direct.$n" libsofthsm2)" >>"$RAW"
	done
	python3 "$top/bench/cgsum.py" --entries "$cg/direct.$((CG_N + CG_W))" libsofthsm2 |
		sed "s/^/cgentry part=direct /" >>"$RAW"

	# p11-kit: the server under callgrind (nothing counted inside the module's C_*
	# functions), the same program as its client, also under callgrind (all counted: the
	# calls into p11-kit-client.so are the client side's share)
	say "callgrind: p11-kit server and client ($CG_N and $((CG_N + CG_W)) signatures)"
	rm -f "$W/p11kit-cg.sock"
	"${vg[@]}" --toggle-collect='C_*' --collect-atstart=yes --trace-children=yes \
		--callgrind-out-file="$cg/srv.%p" "$(command -v p11-kit)" server -f -n "$W/p11kit-cg.sock" \
		-p "$SOFTHSM" "pkcs11:token=kyso-bench" >"$W/p11kit-cg.log" 2>&1 </dev/null &
	spid=$!
	LIVE[$spid]=1
	for _ in $(seq 200); do
		[ -S "$W/p11kit-cg.sock" ] && break
		sleep 0.05
	done
	[ -S "$W/p11kit-cg.sock" ] || die "p11-kit server under callgrind did not start"
	for n in "$CG_N" "$((CG_N + CG_W))"; do
		P11_KIT_SERVER_ADDRESS=unix:path=$W/p11kit-cg.sock "${vg[@]}" \
			--callgrind-out-file="$cg/p11kitclient.$n" "$BIN/p11bench" --module "$P11KIT_CLIENT" \
			--token kyso-bench --pin "$PIN" --key-id "${KEYID[$key]}" --key "$key" --count "$n" \
			>/dev/null 2>"$cg/p11kitclient.$n.log" ||
			die "p11bench through p11-kit under callgrind: $(tail -3 "$cg/p11kitclient.$n.log")"
		echo "cg part=p11kit-client n=$n $(python3 "$top/bench/cgsum.py" "$cg/p11kitclient.$n" p11-kit-client)" >>"$RAW"
		sleep 0.3
	done
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null || true
	unset "LIVE[$spid]"
	sleep 0.5
	# one p11-kit-remote process per connection, in connection order
	files=$(grep -l "^cmd: .*p11-kit-remote" "$cg"/srv.* 2>/dev/null | sort -t. -k2 -n || true)
	n=$CG_N
	for f in $files; do
		echo "cg part=p11kit-server n=$n $(python3 "$top/bench/cgsum.py" "$f" libsofthsm2)" >>"$RAW"
		n=$((CG_N + CG_W))
	done

	# kyso: kysod (and its helper, traced) under callgrind; one connection signs CG_N
	# times, the counters are zeroed, it signs CG_W times more, they are dumped: the cost of
	# signatures CG_N+1..CG_N+CG_W. Then the same length of time idle is dumped too (the
	# helper's slot poll runs in the background) and subtracted by the report.
	say "callgrind: kysod and its helper ($CG_N, then $CG_W more signatures, then idle)"
	kysod_conf c 1 "$W/c/state"
	for mode in outside full; do
		local opts=()
		if [ "$mode" = outside ]; then
			opts=(--toggle-collect='C_*' --collect-atstart=yes)
		fi
		kysod_start c "${vg[@]}" "${opts[@]}" --trace-children=yes \
			"--trace-children-skip=*pinentry*,/bin/*,/usr/bin/*" --callgrind-out-file="$cg/$mode.%p"
		local hp
		hp=$(helper_pid c)
		coproc LOADGEN { "$BIN/kysoload" sign --socket "$W/c/run/kyso.sock" --cert "${CERT[$key]}" \
			--count "$CG_W" --groups 2; }
		local lg_pid=$LOADGEN_PID lg_in=${LOADGEN[1]} lg_out=${LOADGEN[0]}
		read -r line <&"$lg_out"
		callgrind_control -z "${KPID[c]}" >/dev/null 2>&1
		callgrind_control -z "$hp" >/dev/null 2>&1
		t0=$EPOCHREALTIME
		echo go >&"$lg_in"
		read -r line <&"$lg_out"
		t1=$EPOCHREALTIME
		callgrind_control -d "${KPID[c]}" >/dev/null 2>&1
		callgrind_control -d "$hp" >/dev/null 2>&1
		wait "$lg_pid" 2>/dev/null || true
		dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		sleep "$dur"
		callgrind_control -d "${KPID[c]}" >/dev/null 2>&1
		callgrind_control -d "$hp" >/dev/null 2>&1
		for f in "$cg/$mode".*.1 "$cg/$mode".*.2; do
			[ -f "$f" ] || continue
			proc=kysod
			grep -q "^cmd: .*kyso-p11" "$f" && proc=helper
			echo "cg part=kyso-$mode proc=$proc dump=${f##*.} seconds=$dur $(python3 "$top/bench/cgsum.py" "$f" libsofthsm2)" >>"$RAW"
			if [ "$mode" = outside ] && [ "${f##*.}" = 1 ]; then
				python3 "$top/bench/cgsum.py" --top 12 "$f" libsofthsm2 |
					sed "s/^/cgtop proc=$proc /" >>"$RAW"
			fi
			if [ "$mode" = full ] && [ "${f##*.}" = 1 ] && [ "$proc" = helper ]; then
				python3 "$top/bench/cgsum.py" --entries "$f" libsofthsm2 |
					sed "s/^/cgentry part=kyso /" >>"$RAW"
			fi
			# the same length of time idle: the slot poll's calls, subtracted
			if [ "$mode" = full ] && [ "${f##*.}" = 2 ] && [ "$proc" = helper ]; then
				python3 "$top/bench/cgsum.py" --entries "$f" libsofthsm2 |
					sed "s/^/cgentry part=kyso-idle /" >>"$RAW"
			fi
		done
		kysod_stop c
		sleep 0.5
	done
}

if ! skipped cpu; then
	cpu_section
fi

# ---------------------------------------------------------------- PDF

if ! skipped pdf; then
	say "kyso pdf sign: a 100-page, 20 MB PDF"
	make -C "$builddir" kyso >/dev/null
	kysod_conf p 1 "$W/p"
	kysod_start p
	python3 "$top/bench/pdfsign.py" --kyso "$builddir/kyso" --socket "$W/p/run/kyso.sock" \
		--cert "${CERT[rsa]}" --rounds "${BENCH_ROUNDS:-5}" --work "$W" >>"$RAW"
	kysod_stop p
else
	echo "pdf skipped: left out (BENCH_SKIP)" >>"$RAW"
fi

# ---------------------------------------------------------------- hotplug

if ! skipped hotplug; then
	say "hotplug on the virtual PIV card"
	KYSO_SRCDIR=$top KYSO_BUILDDIR=$builddir BENCH_BIN=$BIN \
		bash "$top/bench/hotplug.sh" "$W/hotplug.out" "${BENCH_HOTPLUG_ROUNDS:-5}" 2>"$W/hotplug.err" ||
		echo "skipped: bench/hotplug.sh failed: $(tail -2 "$W/hotplug.err")" >"$W/hotplug.out"
	sed 's/^/hotplug /' "$W/hotplug.out" >>"$RAW"
else
	echo "hotplug skipped: left out (BENCH_SKIP)" >>"$RAW"
fi

# ---------------------------------------------------------------- the virtual PIV card

if ! skipped piv; then
	say "signatures on the virtual PIV card through OpenSC (${BENCH_PIV_ROUNDS:-3} rounds)"
	KYSO_SRCDIR=$top KYSO_BUILDDIR=$builddir BENCH_BIN=$BIN \
		bash "$top/bench/piv.sh" "$W/piv.out" "${BENCH_PIV_ROUNDS:-3}" "${BENCH_PIV_SECONDS:-3}" \
		2>"$W/piv.err" || echo "skipped: bench/piv.sh failed: $(tail -2 "$W/piv.err")" >"$W/piv.out"
	sed 's/^/piv /' "$W/piv.out" >>"$RAW"
else
	echo "piv skipped: left out (BENCH_SKIP)" >>"$RAW"
fi

# ---------------------------------------------------------------- report

{
	echo "meta version=$VERSION rounds=$ROUNDS seconds=$SECS warmup=$WARMUP cpus=$(nproc)"
	echo "meta cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
	echo "meta kernel=$(uname -r) date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "meta softhsm=$(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null) p11kit=$(dpkg-query -W -f='${Version}' p11-kit 2>/dev/null) opensc=$(dpkg-query -W -f='${Version}' opensc 2>/dev/null)"
	echo "meta load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
} >>"$RAW"
mkdir -p "$top/bench/results"
cp "$RAW" "$BIN/raw-latest.txt"
python3 "$top/bench/report.py" "$RAW" "$top/bench/results" ${BENCH_RELEASE:+--release "$VERSION"}
