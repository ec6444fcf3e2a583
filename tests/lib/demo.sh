#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso demonstration, end to end, without a smart card:
#   a SoftHSM2 token with an RSA-2048 and an EC P-256 key and their certificates,
#   kysod started on a private socket with a scripted PIN dialog,
#   certificates listed and a grade book record's hash signed through the HTTP API with curl,
#   the signatures verified with openssl.
#
# Run after a build:  bash tests/lib/demo.sh
# (from the source tree for an in-tree build, from the build directory for an out-of-tree
# build, or with KYSO_BUILDDIR set). With KYSO_INSTALLED=1 it runs the installed kyso
# instead (kysod and kyso from $PATH, and the helper kysod was built to find), as
# tests/package.sh does with the Debian packages. Exits 0 only if every signature verified.
set -u

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${KYSO_INSTALLED:-0}" = 1 ]; then
	BUILDDIR=
elif [ -n "${KYSO_BUILDDIR:-}" ]; then
	BUILDDIR=$KYSO_BUILDDIR
elif [ -x "$PWD/kysod" ]; then
	BUILDDIR=$PWD
else
	BUILDDIR=$SRCDIR
fi
SOFTHSM=${KYSO_SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
PIN=246810
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ -t 1 ]; then
	BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m')
else
	BOLD= PLAIN=
fi

step()
{
	printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"
}

show()
{
	printf '    $ %s\n' "$*"
}

die()
{
	printf '\ndemo failed: %s\n' "$*" >&2
	exit 1
}

if [ -n "$BUILDDIR" ]; then
	KYSOD=$BUILDDIR/kysod KYSO=$BUILDDIR/kyso HELPER_LINE="helper = $BUILDDIR/kyso-p11"
	for f in "$KYSOD" "$BUILDDIR/kyso-p11"; do
		[ -x "$f" ] || die "$f not found: build kyso first (or set KYSO_BUILDDIR)"
	done
else
	KYSOD=$(command -v kysod) || die "kysod is not installed"
	KYSO=$(command -v kyso) || die "kyso is not installed"
	# no helper line: kysod runs the kyso-p11 it was built to find
	HELPER_LINE=
fi
for c in softhsm2-util pkcs11-tool openssl curl; do
	command -v "$c" >/dev/null || die "$c is not installed"
done
[ -r "$SOFTHSM" ] || die "SoftHSM2 module $SOFTHSM not found"

D=$(mktemp -d "${TMPDIR:-/tmp}/kyso-demo.XXXXXX") || die "mktemp failed"
KYSOD_PID=
cleanup()
{
	if [ -n "$KYSOD_PID" ] && kill -0 "$KYSOD_PID" 2>/dev/null; then
		kill -TERM "$KYSOD_PID"
		wait "$KYSOD_PID" 2>/dev/null
	fi
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export LC_ALL=C.UTF-8
mkdir -m 0700 "$D/run" "$D/keys" "$D/tokens"

# ---------------------------------------------------------------- token
step "1. A demo token in SoftHSM2 (in $D)"
cat > "$D/softhsm2.conf" <<EOF
directories.tokendir = $D/tokens
objectstore.backend = file
log.level = ERROR
EOF
export SOFTHSM2_CONF=$D/softhsm2.conf
show "softhsm2-util --init-token --free --label kyso-demo --pin $PIN --so-pin ..."
softhsm2-util --init-token --free --label kyso-demo --pin "$PIN" --so-pin 13579246 \
	> "$D/init.log" 2>&1 || die "cannot create the token: $(cat "$D/init.log")"

# make_key NAME ALGORITHM-OPTIONS CN ID
make_key()
{
	local name=$1 opts=$2 cn=$3 id=$4
	# shellcheck disable=SC2086
	openssl genpkey $opts -out "$D/keys/$name.key" 2>/dev/null || die "genpkey $name"
	printf '[req]\ndistinguished_name = dn\nprompt = no\nutf8 = yes\nstring_mask = utf8only\nx509_extensions = ext\n[dn]\nC = VN\nO = Trường THPT Kyso\nCN = %s\n[ext]\nbasicConstraints = critical,CA:false\nkeyUsage = critical,digitalSignature,nonRepudiation\n' \
		"$cn" > "$D/keys/$name.cnf"
	openssl req -new -x509 -config "$D/keys/$name.cnf" -key "$D/keys/$name.key" -days 365 \
		-sha256 -out "$D/keys/$name.pem" 2>/dev/null || die "certificate $name"
	openssl x509 -in "$D/keys/$name.pem" -outform DER -out "$D/keys/$name.der"
	softhsm2-util --import "$D/keys/$name.key" --token kyso-demo --label "$name" --id "$id" \
		--pin "$PIN" > "$D/import.log" 2>&1 || die "import $name: $(cat "$D/import.log")"
	pkcs11-tool --module "$SOFTHSM" --token-label kyso-demo --login --pin "$PIN" \
		--write-object "$D/keys/$name.der" --type cert --id "$id" --label "$name" \
		> "$D/import.log" 2>&1 || die "write certificate $name: $(cat "$D/import.log")"
	printf '    key and certificate "%s" (id %s) of %s\n' "$name" "$id" "$cn"
}
make_key teacher-rsa "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" "Nguyễn Văn An" 01
make_key teacher-ec "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" "Trần Thị Bích Ngọc" 02

# ---------------------------------------------------------------- daemon
step "2. kysod on a private socket, with a scripted PIN dialog"
SOCK=$D/run/kyso/kyso.sock
REAL=$(dirname "$(realpath "$SOFTHSM")")
cat > "$D/kysod.conf" <<EOF
[kysod]
socket = $SOCK
pinentry = $SRCDIR/tests/mock/pinentry-scripted
$HELPER_LINE
allow_modules = /usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so $REAL/*.so

[module softhsm]
path = $SOFTHSM
EOF
chmod 0600 "$D/kysod.conf"
sed 's/^/    | /' "$D/kysod.conf"
# The scripted pinentry stands in for the user typing the PIN.
printf 'pin %s\n' "$PIN" > "$D/pinentry.script"
export KYSO_PINENTRY_SCRIPT=$D/pinentry.script KYSO_PINENTRY_LOG=$D/pinentry.log
export XDG_RUNTIME_DIR=$D/run
# The demo's audit log stays with the demo, not in the user's own log.
export XDG_STATE_HOME=$D/state
show "$KYSOD -f -c $D/kysod.conf &"
"$KYSOD" -f -c "$D/kysod.conf" > "$D/kysod.log" 2>&1 &
KYSOD_PID=$!

api()
{
	curl -sS --max-time 30 --unix-socket "$SOCK" "$@"
}

for ((i = 0; i < 50; i++)); do
	state=$(api http://localhost/v1/status 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["modules"][0]["state"])' 2>/dev/null)
	[ "$state" = running ] && break
	kill -0 "$KYSOD_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$state" = running ] || die "kysod did not start: $(tail -5 "$D/kysod.log")"
show "curl --unix-socket $SOCK http://localhost/v1/status"
api http://localhost/v1/status | "$PY" -m json.tool | sed 's/^/    /'
HELPER_PID=$(api http://localhost/v1/status |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["modules"][0]["pid"])' 2>/dev/null)
printf '    kysod: %s, its helper: %s\n' "$(readlink "/proc/$KYSOD_PID/exe")" \
	"$(readlink "/proc/$HELPER_PID/exe" 2>/dev/null || echo unknown)"

# ---------------------------------------------------------------- certificates
step "3. Certificates on the token"
show "curl --unix-socket $SOCK http://localhost/v1/certificates"
api http://localhost/v1/certificates > "$D/certs.json" || die "GET /v1/certificates failed"
"$PY" - "$D/certs.json" <<'EOF' || die "unexpected /v1/certificates answer"
import json, sys
certs = json.load(open(sys.argv[1]))["certificates"]
for c in certs:
    key = c["key_type"] + "-" + (c.get("curve") or str(c["key_bits"]))
    print("    %s...  %-22s %-8s %s" % (c["id"][:16], c["subject_cn"], key, ",".join(c["key_usage"])))
EOF
cert_id()
{
	"$PY" -c 'import json,sys; print([c["id"] for c in json.load(open(sys.argv[1]))["certificates"] if c["key_id"] == sys.argv[2]][0])' \
		"$D/certs.json" "$1"
}
RSA_ID=$(cert_id 01) || die "RSA certificate not listed"
EC_ID=$(cert_id 02) || die "EC certificate not listed"

# ---------------------------------------------------------------- signing
step "4. A grade book record and its SHA-256 hash"
cat > "$D/gradebook.txt" <<'EOF'
Sổ điểm — Lớp 10A1 — Học kỳ I
Học sinh          Toán  Văn  Anh
Lê Hoàng Phúc     9.0   8.5  9.5
Phạm Minh Đức     7.5   9.0  8.0
EOF
sed 's/^/    | /' "$D/gradebook.txt"
HASH_B64=$(openssl dgst -sha256 -binary "$D/gradebook.txt" | openssl base64 -A)
printf '    sha256 = %s\n' "$(openssl dgst -sha256 -r "$D/gradebook.txt" | cut -d' ' -f1)"

verified=0
# sign NAME ID PADDING: POST /v1/sign, then openssl verification over the file.
sign()
{
	local name=$1 id=$2 pad=$3 body out st sigopt=()
	if [ -n "$pad" ]; then
		body=$(printf '{"certificate":"%s","hash":"%s","hash_algorithm":"sha256","padding":"%s"}' "$id" "$HASH_B64" "$pad")
	else
		body=$(printf '{"certificate":"%s","hash":"%s","hash_algorithm":"sha256"}' "$id" "$HASH_B64")
	fi
	show "curl --unix-socket ... -H 'Content-Type: application/json' -d '$body' http://localhost/v1/sign"
	api -H 'Content-Type: application/json' -d "$body" http://localhost/v1/sign > "$D/$name.json" ||
		die "POST /v1/sign failed"
	"$PY" -m json.tool "$D/$name.json" | sed 's/^/    /'
	"$PY" -c 'import json,sys,base64; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["signature"]))' \
		"$D/$name.json" > "$D/$name.sig" 2>/dev/null || die "no signature in the answer"
	openssl x509 -in "$D/keys/$name.pem" -pubkey -noout > "$D/$name.pub"
	[ "$pad" = pss ] && sigopt=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
	show "openssl dgst -sha256 -verify $name.pub ${sigopt[*]:+${sigopt[*]} }-signature $name.sig gradebook.txt"
	out=$(openssl dgst -sha256 -verify "$D/$name.pub" "${sigopt[@]}" -signature "$D/$name.sig" \
		"$D/gradebook.txt" 2>&1)
	st=$?
	printf '    %s\n' "$out"
	[ "$st" = 0 ] && verified=$((verified + 1))
}
step "5. Sign the hash with Nguyễn Văn An's RSA key (PKCS#1 v1.5); kysod asks the PIN"
sign teacher-rsa "$RSA_ID" ""
step "6. Sign it with Trần Thị Bích Ngọc's EC P-256 key (ECDSA); the token is still logged in"
sign teacher-ec "$EC_ID" ""
printf '    PIN dialogs shown: %s\n' "$(grep -c '^GETPIN' "$D/pinentry.log")"

step "7. Every signature is in the hash-chained audit log"
show "kyso audit verify $XDG_STATE_HOME/kyso/audit.log"
audit_ok=0
"$KYSO" audit verify "$XDG_STATE_HOME/kyso/audit.log" 2>&1 | sed 's/^/    /'
[ "${PIPESTATUS[0]}" = 0 ] && audit_ok=1

# ---------------------------------------------------------------- done
step "8. Stop kysod"
show "kill -TERM $KYSOD_PID"
kill -TERM "$KYSOD_PID"
wait "$KYSOD_PID"
rc=$?
KYSOD_PID=
printf '    kysod exited with status %s\n' "$rc"

if [ "$verified" = 2 ] && [ "$audit_ok" = 1 ]; then
	printf '\nBoth signatures verified, and recorded in the audit log.\n'
	exit 0
fi
printf '\n%s of 2 signatures verified; audit log %s\n' "$verified" \
	"$([ "$audit_ok" = 1 ] && echo verified || echo NOT verified)" >&2
exit 1
