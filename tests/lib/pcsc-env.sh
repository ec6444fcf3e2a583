# SPDX-License-Identifier: LGPL-2.1-or-later
# Test bed with real smart-card plumbing: a private pcscd with vsmartcard's vpcd reader
# driver, and virtual PIV cards (tests/vcard/piv-card.py) that OpenSC's PIV driver takes for
# real ones. Source it from a bash test script and enter the namespace first, before
# anything that makes files or starts processes (kyso-env.sh included); start pcscd after
# that, so that its cleanup runs before any EXIT trap already set:
#
#	. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh"
#	pcsc_enter_namespace "$@"       # re-executes the script once, see below
#	. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
#	pcsc_start
#	card_make_demo "$T/card"
#	card_start a "$PCSC_PORT0" "$T/card"
#
# Functions:
#   pcsc_enter_namespace ARGS   re-executes the calling script inside `unshare -m -n -p` (its
#                               own mounts, network and processes) with a tmpfs on /run/pcscd
#                               and the loopback up, so that test runs never meet each other or
#                               the system's pcscd; everything started inside dies with the
#                               script. When something needed is missing or not permitted, it
#                               prints `1..0 # SKIP REASON` and exits 0 -- unless
#                               KYSO_REQUIRE_VCARD=1 (the default when CI=true), where it bails
#                               out instead.
#   pcsc_start                  starts pcscd (one vpcd entry: two readers, ports PCSC_PORT0 and
#                               PCSC_PORT1) and waits for its readers
#   pcsc_stop                   stops the cards and pcscd
#   card_make_demo DIR [ARGS]   writes a demo card (piv-card.py --make-demo DIR ARGS)
#   card_start NAME PORT DIR [CARD-ARGS]
#                               starts card NAME from DIR on vpcd port PORT (keeps its PIN
#                               counters in $PCSC_DIR/card-NAME.state across restarts) and
#                               waits until pcscd reports it present: an insertion
#   card_stop NAME              stops card NAME and waits until pcscd reports it absent: a
#                               removal
#   card_reader NAME            prints the PC/SC reader name of card NAME
#   pcsc_reader_present READER  exit 0 when pcscd reports a card in READER
#   pcsc_wait_reader READER yes|no [SECONDS]  waits for that state (default 10 s)
#
# Variables:
#   PCSC_DIR         work directory (pcscd.log, card-NAME.{log,pid,state}); default a new
#                    directory under $TMPDIR, removed on exit unless KYSO_KEEP_TMP=1
#   PCSC_PORT0, PCSC_PORT1   vpcd ports of the two readers (35963, 35964)
#   PCSC_READER0, PCSC_READER1   their reader names: "$PCSC_FRIENDLYNAME 00 00" and "… 00 01"
#   PCSC_FRIENDLYNAME   set before sourcing: the readers' name (default "Virtual PCD")
#   OPENSC_P11       OpenSC's PKCS#11 module
#   PCSC_PY          Python 3 with the cryptography package
#   PIV_CARD         tests/vcard/piv-card.py
#   PCSC_CARD_VERBOSE=1   log every APDU to card-NAME.log

if [ -z "${BASH_VERSION:-}" ]; then
	echo "Bail out! pcsc-env.sh needs bash"
	exit 255
fi

: "${KYSO_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export KYSO_SRCDIR

if ! declare -F plan_skip_all >/dev/null; then
	. "$KYSO_SRCDIR/tests/lib/tap.sh" || exit 255
fi

PIV_CARD=$KYSO_SRCDIR/tests/vcard/piv-card.py
PCSC_PORT0=${PCSC_PORT0:-35963}
PCSC_PORT1=$((PCSC_PORT0 + 1))
# The readers' name in pcscd (FRIENDLYNAME of the vpcd entry); set before sourcing, e.g.
# "Yubico YubiKey OTP+FIDO+CCID" for a module that serves only readers named so (ykcs11)
PCSC_FRIENDLYNAME=${PCSC_FRIENDLYNAME:-Virtual PCD}
PCSC_READER0="$PCSC_FRIENDLYNAME 00 00"
PCSC_READER1="$PCSC_FRIENDLYNAME 00 01"
PCSC_PCSCD_PID=
PCSC_TRAP_SET=
declare -A PCSC_CARD_PID PCSC_CARD_PORT

# Prints why the test bed cannot run here; prints nothing when it can.
_pcsc_missing()
{
	local f
	PCSC_PCSCD=$(PATH=$PATH:/usr/sbin:/sbin command -v pcscd) || {
		echo "pcscd is not installed (Debian: pcscd)"
		return
	}
	PCSC_VPCD_LIB=
	for f in /usr/lib/pcsc/drivers/serial/libifdvpcd.so /usr/lib64/pcsc/drivers/serial/libifdvpcd.so \
		/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so; do
		if [ -e "$f" ]; then
			PCSC_VPCD_LIB=$f
			break
		fi
	done
	if [ -z "$PCSC_VPCD_LIB" ]; then
		echo "vpcd reader driver is not installed (Debian: vsmartcard-vpcd)"
		return
	fi
	command -v unshare >/dev/null || {
		echo "unshare is not installed (Debian: util-linux)"
		return
	}
	PCSC_IP=$(PATH=$PATH:/usr/sbin:/sbin command -v ip) || {
		echo "ip is not installed (Debian: iproute2)"
		return
	}
	OPENSC_P11=
	for f in /usr/lib/*/opensc-pkcs11.so /usr/lib64/opensc-pkcs11.so /usr/lib/opensc-pkcs11.so \
		/usr/local/lib/opensc-pkcs11.so; do
		if [ -e "$f" ]; then
			OPENSC_P11=$f
			break
		fi
	done
	if [ -z "$OPENSC_P11" ] || ! command -v opensc-tool >/dev/null; then
		echo "OpenSC is not installed (Debian: opensc)"
		return
	fi
	PCSC_PY=
	for f in /usr/bin/python3 python3; do
		if "$f" -c 'import cryptography' 2>/dev/null; then
			PCSC_PY=$f
			break
		fi
	done
	if [ -z "$PCSC_PY" ]; then
		echo "python3 with cryptography is missing (Debian: python3-cryptography)"
		return
	fi
	PCSC_UNSHARE=(unshare -m -n -p --fork --kill-child --mount-proc)
	if "${PCSC_UNSHARE[@]}" true 2>/dev/null; then
		return
	fi
	PCSC_UNSHARE=(unshare -r -m -n -p --fork --kill-child --mount-proc)
	if "${PCSC_UNSHARE[@]}" true 2>/dev/null; then
		return
	fi
	echo "not permitted to make mount, network and PID namespaces (unshare -m -n -p)"
}

_pcsc_unavailable()
{
	local require=${KYSO_REQUIRE_VCARD:-}
	if [ -z "$require" ] && [ "${CI:-}" = true ]; then
		require=1
	fi
	if [ "$require" = 1 ]; then
		bail_out "virtual card test bed required but unavailable: $*"
	fi
	plan_skip_all "$*"
}

pcsc_enter_namespace()
{
	local why
	why=$(_pcsc_missing)
	[ -z "$why" ] || _pcsc_unavailable "$why"
	_pcsc_missing >/dev/null  # again in this shell, for the variables it sets
	if [ "${PCSC_IN_NAMESPACE:-}" != 1 ]; then
		export PCSC_IN_NAMESPACE=1
		# shellcheck disable=SC2093 # falls through only when exec fails
		exec "${PCSC_UNSHARE[@]}" -- "$BASH" "$0" "$@"
		bail_out "cannot execute unshare"
	fi
	mkdir -p /run/pcscd 2>/dev/null
	mount -t tmpfs -o mode=0755 tmpfs /run/pcscd ||
		_pcsc_unavailable "cannot mount a tmpfs on /run/pcscd"
	"$PCSC_IP" link set lo up || _pcsc_unavailable "cannot bring up the loopback interface"
}

_pcsc_cleanup()
{
	pcsc_stop
	if [ -n "${PCSC_DIR_OWNED:-}" ]; then
		if [ "${KYSO_KEEP_TMP:-0}" = 1 ]; then
			echo "# kept pcsc directory $PCSC_DIR"
		else
			rm -rf "$PCSC_DIR"
		fi
	fi
}

# Runs _pcsc_cleanup on exit, before whatever EXIT trap the script already has.
_pcsc_set_trap()
{
	local -a old
	[ -z "$PCSC_TRAP_SET" ] || return 0
	eval "old=($(trap -p EXIT))"
	# shellcheck disable=SC2064 # the old trap's text is wanted now
	trap "_pcsc_cleanup; ${old[2]:-}" EXIT
	PCSC_TRAP_SET=1
}

# Reader lines of `opensc-tool -l`: "0    Yes             Virtual PCD 00 00".
pcsc_reader_present()
{
	opensc-tool -l 2>/dev/null | awk -v r="$1" '
		{ name = $0; sub(/^[0-9]+ +(Yes|No) +/, "", name) }
		name == r && $2 == "Yes" { found = 1 }
		END { exit !found }'
}

pcsc_wait_reader()
{
	local reader=$1 want=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 50; i++)); do
		if pcsc_reader_present "$reader"; then
			[ "$want" = yes ] && return 0
		else
			[ "$want" = no ] && return 0
		fi
		sleep 0.02
	done
	return 1
}

pcsc_start()
{
	local i
	[ -n "${PCSC_PCSCD:-}" ] || _pcsc_missing >/dev/null
	if [ -z "${PCSC_DIR:-}" ]; then
		PCSC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kyso-pcsc.XXXXXX") || bail_out "mktemp failed"
		PCSC_DIR_OWNED=1
	fi
	_pcsc_set_trap
	mkdir -p "$PCSC_DIR/reader.conf.d"
	printf 'FRIENDLYNAME "%s"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      %s\nCHANNELID    0x%X\n' \
		"$PCSC_FRIENDLYNAME" "$PCSC_PORT0" "$PCSC_VPCD_LIB" "$PCSC_PORT0" \
		>"$PCSC_DIR/reader.conf.d/vpcd"
	"$PCSC_PCSCD" --foreground --info --config "$PCSC_DIR/reader.conf.d" \
		>>"$PCSC_DIR/pcscd.log" 2>&1 </dev/null &
	PCSC_PCSCD_PID=$!
	for ((i = 0; i < 500; i++)); do
		if ! kill -0 "$PCSC_PCSCD_PID" 2>/dev/null; then
			diag "pcscd exited:" "$(tail -20 "$PCSC_DIR/pcscd.log")"
			return 1
		fi
		if [ -S /run/pcscd/pcscd.comm ] &&
			opensc-tool -l 2>/dev/null | grep -q "$PCSC_READER1"; then
			return 0
		fi
		sleep 0.02
	done
	diag "pcscd did not show its readers:" "$(tail -20 "$PCSC_DIR/pcscd.log")"
	return 1
}

pcsc_stop()
{
	local name i
	for name in "${!PCSC_CARD_PID[@]}"; do
		_card_kill "$name"
	done
	if [ -n "$PCSC_PCSCD_PID" ]; then
		kill -TERM "$PCSC_PCSCD_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$PCSC_PCSCD_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$PCSC_PCSCD_PID" 2>/dev/null
		wait "$PCSC_PCSCD_PID" 2>/dev/null
		PCSC_PCSCD_PID=
	fi
}

card_make_demo()
{
	local dir=$1
	shift
	"$PCSC_PY" "$PIV_CARD" --make-demo "$dir" "$@"
}

card_reader()
{
	local port=${PCSC_CARD_PORT[$1]:-}
	case $port in
	"$PCSC_PORT0") echo "$PCSC_READER0" ;;
	"$PCSC_PORT1") echo "$PCSC_READER1" ;;
	*) return 1 ;;
	esac
}

card_start()
{
	local name=$1 port=$2 dir=$3 ready i pid
	shift 3
	ready=$PCSC_DIR/card-$name.ready
	local -a extra=()
	if [ "${PCSC_CARD_VERBOSE:-0}" = 1 ]; then
		extra=(--verbose)
	fi
	if [ -n "${PCSC_CARD_PID[$name]:-}" ]; then
		diag "card $name is already running"
		return 1
	fi
	rm -f "$ready"
	"$PCSC_PY" "$PIV_CARD" --port "$port" --state "$PCSC_DIR/card-$name.state" \
		--ready-file "$ready" "${extra[@]}" "$@" "$dir" \
		>>"$PCSC_DIR/card-$name.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PCSC_DIR/card-$name.pid"
	PCSC_CARD_PID[$name]=$pid
	PCSC_CARD_PORT[$name]=$port
	for ((i = 0; i < 500; i++)); do
		[ -e "$ready" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			diag "card $name exited:" "$(tail -20 "$PCSC_DIR/card-$name.log")"
			unset "PCSC_CARD_PID[$name]"
			return 1
		fi
		sleep 0.02
	done
	if ! pcsc_wait_reader "$(card_reader "$name")" yes 10; then
		diag "pcscd does not see card $name"
		return 1
	fi
}

# Kills card NAME without waiting for pcscd.
_card_kill()
{
	local name=$1 pid=${PCSC_CARD_PID[$1]:-} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PCSC_CARD_PID[$name]"
	rm -f "$PCSC_DIR/card-$name.pid"
}

card_stop()
{
	local name=$1 reader
	reader=$(card_reader "$name") || {
		diag "no card $name"
		return 1
	}
	_card_kill "$name"
	if ! pcsc_wait_reader "$reader" no 10; then
		diag "pcscd still sees card $name"
		return 1
	fi
}
