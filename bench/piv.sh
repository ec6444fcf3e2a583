#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Signatures on the virtual PIV card through OpenSC: kyso (POST /v1/sign, one client, login
# kept, audit log durable) against the direct program (bench/p11bench on opensc-pkcs11.so,
# C_SignInit + C_Sign) on the same card, runs interleaved round by round.
#
#   bench/piv.sh OUTFILE ROUNDS SECONDS   (KYSO_SRCDIR, KYSO_BUILDDIR, BENCH_BIN set by run.sh)
#
# Runs inside its own mount, network and PID namespaces with a private pcscd
# (tests/lib/pcsc-env.sh). Writes OUTFILE: "skipped: REASON", or one line per run:
#   round=N impl=direct|kyso key=rsa sigs=... rate=... p50_us=... (p11bench/kysoload's line)
set -u
out=$1
rounds=${2:-3}
secs=${3:-3}

BENCH_NAME=piv
# shellcheck source=bench/pcsc-bench.sh
. "$KYSO_SRCDIR/bench/pcsc-bench.sh" "$@"
KYSOD_PID=
cleanup()
{
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

PIN=123456
pcsc_start || plan_skip_all "pcscd did not start: $(tail -3 "$PCSC_DIR/pcscd.log" 2>/dev/null)"
card_make_demo "$H/card" --pin "$PIN" >"$H/make-demo.log" 2>&1 ||
	plan_skip_all "piv-card.py --make-demo failed: $(tail -2 "$H/make-demo.log")"
card_start a "$PCSC_PORT0" "$H/card" || plan_skip_all "the card did not start"

module=/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so
[ -e "$module" ] || module=$OPENSC_P11
# the token's label, as OpenSC makes it from the card
label=$(pkcs11-tool --module "$module" -L 2>/dev/null | sed -n 's/^ *token label *: *//p' | head -1)
[ -n "$label" ] || plan_skip_all "OpenSC shows no token on the virtual card"
# 9A (RSA-2048, the PIN once per login): CKA_ID 01 in OpenSC's PIV driver
cert=$(openssl x509 -in "$H/card/9a.crt" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)

mkdir -m 0700 -p "$H/run" "$H/state"
printf 'pin %s\n' "$PIN" >"$H/pinentry.script"
export KYSO_PINENTRY_SCRIPT=$H/pinentry.script KYSO_PINENTRY_LOG=/dev/null
cat >"$H/kysod.conf" <<EOC
[kysod]
socket = $H/run/kyso/kyso.sock
helper = $KYSO_BUILDDIR/kyso-p11
pinentry = $KYSO_SRCDIR/tests/mock/pinentry-scripted
audit_log = $H/state/audit.log
allow_modules = /usr/lib/*/pkcs11/*.so $(dirname "$(realpath "$module")")/*.so
log_level = info

[module opensc]
path = $module
EOC
chmod 0600 "$H/kysod.conf"
sock=$H/run/kyso/kyso.sock
"$KYSO_BUILDDIR/kysod" -f -c "$H/kysod.conf" >>"$H/kysod.log" 2>&1 </dev/null &
KYSOD_PID=$!
for ((i = 0; i < 200; i++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 --unix-socket "$sock" \
		"http://localhost/v1/certificates/$cert" 2>/dev/null)" = 200 ] && break
	sleep 0.05
done
[ "$i" -lt 200 ] || plan_skip_all "kysod did not list the card's certificate: $(tail -3 "$H/kysod.log")"

: >"$out.tmp"
for ((r = 1; r <= rounds; r++)); do
	line=$("$BENCH_BIN/p11bench" --module "$module" --token "$label" --pin "$PIN" --key-id 01 \
		--key rsa --threads 1 --seconds "$secs" --warmup 0.5 2>"$H/p11bench.err") ||
		plan_skip_all "p11bench on the card failed: $(tail -2 "$H/p11bench.err")"
	echo "round=$r impl=direct key=rsa $line" >>"$out.tmp"
	line=$("$BENCH_BIN/kysoload" sign --socket "$sock" --cert "$cert" --clients 1 \
		--seconds "$secs" --warmup 0.5 2>"$H/kysoload.err") ||
		plan_skip_all "kysoload on the card failed: $(tail -2 "$H/kysoload.err") $(tail -2 "$H/kysod.log")"
	echo "round=$r impl=kyso key=rsa $line" >>"$out.tmp"
done
mv "$out.tmp" "$out"
