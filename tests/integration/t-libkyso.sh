#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libkyso as an application links it (tests/libkyso/probe.c) against a real kysod: parameter
# structures of a wrong struct_size are refused with invalid_argument (and those of a later
# kyso.h with its new fields left zero are accepted), kyso_verify's typed verdict on good and
# tampered raw and CMS signatures, the index of a batch item error (kysod's refusal of an item,
# and each item of a batch cancelled in its dialog), the exported symbols. Every signature is
# checked with openssl.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
PROBE=$KYSO_BUILDDIR/tests/libkyso/probe
require_build "$PROBE"
require_softhsm

make_softhsm_token
ca_init
ca_issue signer rsa "Phạm Thị Lan"
make_ca_token kyso-ca signer:31
ca_crl "$T/ca.crl"
ca_crl_of root "$T/root.crl"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off "crl=$T/ca.crl $T/root.crl"
start_kysod
pinentry_says "pin 123456"
export KYSO_SOCKET=$SOCK

# probe ARGS...: runs the probe, its output in $OUT, its exit status in $RC.
probe()
{
	OUT=$("$PROBE" "$@" 2>"$T/probe.err")
	RC=$?
	[ -s "$T/probe.err" ] && diag "probe $1: $(cat "$T/probe.err")"
	return 0
}

# line KEY: the rest of the output line starting with KEY.
line()
{
	printf '%s\n' "$OUT" | sed -n "s/^$1 //p" | head -1
}

# ---------------------------------------------------------------- the exported symbols
LIB=$KYSO_BUILDDIR/.libs/libkyso.so
nm -D --defined-only "$LIB" | awk '{print $3}' | sort > "$T/exported"
sort "$KYSO_SRCDIR/src/lib/libkyso.sym" > "$T/listed"
is "$(diff "$T/listed" "$T/exported")" "" "libkyso exports exactly the symbols of libkyso.sym"
sed -n 's/^[a-z].*[ *]\(kyso_[a-z_]*\)(.*/\1/p' "$KYSO_SRCDIR/include/kyso/kyso.h" | sort -u \
	> "$T/declared"
is "$(diff "$T/declared" "$T/listed")" "" "...which are the functions kyso.h declares"
is "$(grep -c 'b64\|hex\|utf8\|^lk_' "$T/exported")" 0 "the shared codecs and internals stay hidden"
like "$(objdump -p "$LIB" | sed -n 's/^ *SONAME *//p')" '^libkyso\.so\.1$' "soname libkyso.so.1"

# ---------------------------------------------------------------- man pages
MAN=$KYSO_SRCDIR/docs/man
missing=
while read -r fn; do
	[ -f "$MAN/$fn.3" ] || { missing="$missing $fn"; continue; }
	page=$MAN/$fn.3
	grep -q '^\.so ' "$page" && page=$MAN/$(sed -n 's|^\.so man3/||p' "$page")
	grep -q "^\.BI\? .*$fn(" "$page" || missing="$missing $fn(not-in-synopsis)"
done < "$T/listed"
is "$missing" "" "every exported function has a page in section 3 that shows its synopsis"
grep -q "docs/man/libkyso.3" "$KYSO_SRCDIR/Makefile.am"
ok $? "libkyso(3) is installed by make install"
if command -v groff >/dev/null; then
	warn=
	for page in "$MAN"/*.3; do
		grep -q '^\.so ' "$page" && continue
		w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -n "$w" ] && warn="$warn $(basename "$page"): $w"
	done
	is "$warn" "" "the section 3 pages format without groff warnings"
else
	skip 1 "groff is not installed"
fi
# the example of libkyso(3) compiles against kyso.h
sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$MAN/libkyso.3" | sed -n '/^\.EX/,/^\.EE/p' | sed '1d;$d' |
	sed 's/\\-/-/g; s/\\en/\\n/g' > "$T/example.c"
cc -Wall -Wextra -Werror -c -I "$KYSO_SRCDIR/include" -o "$T/example.o" "$T/example.c" \
	>"$T/example.err" 2>&1
ok $? "the example of libkyso(3) compiles with -Wall -Wextra" || diag "$(cat "$T/example.err")"

# ---------------------------------------------------------------- struct_size
make_hash sha256
mkdir -p "$T/sizes"
probe sizes "${CERT_ID[signer]}" "$HASH_HEX" "$T/sizes"
is "$RC" 0 "probe sizes ran"
is "$(line sign-size-0)" "invalid_argument -1" "kyso_sign_params with struct_size 0: invalid_argument"
is "$(line sign-size-short)" "invalid_argument -1" "...shorter than the structure: invalid_argument"
is "$(line sign-size-huge)" "invalid_argument -1" "...absurdly large: invalid_argument"
is "$(line sign-later-field-set)" "invalid_argument -1" \
	"...of a later kyso.h, with a field this libkyso does not know set: invalid_argument"
is "$(line batch-size-0)" "invalid_argument -1" "kyso_batch_params with struct_size 0: invalid_argument"
is "$(line batch-item0-size-0)" "invalid_argument 0" "batch item 0 with struct_size 0: invalid_argument, index 0"
is "$(line batch-item2-size)" "invalid_argument 2" \
	"batch item 2 with another struct_size than item 0: invalid_argument, index 2"
is "$(line verify-size-0)" "invalid_argument -1" "kyso_verify_params with struct_size 0: invalid_argument"
is "$(line sign-size-first)" "ok -1" "the first kyso_sign_params (without profile): signed"
verify_sig "${CERT_PEM[signer]}" "$HASH_HEX" "$T/sizes/sign-size-first.sig" sha256 pkcs1
ok $? "...and the signature verifies with openssl"
is "$(line init)" "ok -1" "KYSO_SIGN_PARAMS_INIT: signed"
verify_sig "${CERT_PEM[signer]}" "$HASH_HEX" "$T/sizes/init.sig" sha256 pkcs1
ok $? "...and the signature verifies with openssl"
is "$(line tail-zero)" "ok -1" "a later kyso.h's longer structure with the new fields zero: signed"
verify_sig "${CERT_PEM[signer]}" "$HASH_HEX" "$T/sizes/tail-zero.sig" sha256 pkcs1
ok $? "...and the signature verifies with openssl"
audit_settle
is "$(grep -c '"event":"sign"' "$AUDIT_LOG")" 3 "kysod made those three signatures and no other"

# ---------------------------------------------------------------- kyso_verify
cp "$T/sizes/init.sig" "$T/good.sig"
probe verify raw "${CERT_ID[signer]}" "$HASH_HEX" "$T/good.sig"
is "$RC" 0 "kyso_verify of a good raw signature: the call succeeds"
is "$(line valid) $(line status) $(line reason)" "1 valid 1 valid_now" \
	"...valid, KYSO_VERIFY_VALID, valid_now"
is "$(line chain) $(line revocation)" "ok ok" "...the chain was checked (and the revocation)"
is "$(line signer)" "${CERT_ID[signer]}" "...the signer's id"
is "$(line signer_cn)" "Phạm Thị Lan" "...the signer's name"
is "$(line key)" "rsa 2048" "...its key"
is "$(line checks)" "signature=ok validity=ok key_usage=ok chain=ok crl=ok crl=ok revocation=ok" \
	"...every check, typed"
# the same answer through the HTTP API
api POST /v1/verify "{\"format\":\"raw\",\"signature\":\"$(openssl base64 -A -in "$T/good.sig")\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"certificate\":\"${CERT_ID[signer]}\"}"
is "$(json_get "' '.join(c['check'] + '=' + c['result'] for c in j['checks'])")" \
	"$(line checks | tr -d '\n')" "...the checks POST /v1/verify lists"

cp "$T/good.sig" "$T/bad.sig"
# byte 100 flipped (not set to a fixed value, which it may already hold)
printf "$(printf '\\x%02x' $(( $(od -An -tu1 -j100 -N1 "$T/good.sig") ^ 0xff )))" |
	dd of="$T/bad.sig" bs=1 seek=100 conv=notrunc 2>/dev/null
cmp -s "$T/good.sig" "$T/bad.sig"
isnt $? 0 "one byte of the signature changed"
! verify_sig "${CERT_PEM[signer]}" "$HASH_HEX" "$T/bad.sig" sha256 pkcs1
ok $? "openssl refuses the changed signature"
probe verify raw "${CERT_ID[signer]}" "$HASH_HEX" "$T/bad.sig"
is "$RC" 0 "kyso_verify of the changed signature: the call succeeds (a verdict, not an error)"
is "$(line valid) $(line status) $(line reason)" "0 invalid 2 signature_invalid" \
	"...not valid: KYSO_VERIFY_INVALID, signature_invalid"
like "$(line checks)" "^signature=failed" "...the signature check failed"

probe verify raw "${CERT_PEM[signer]}" "$HASH_HEX" "$T/good.sig"
is "$(line valid) $(line reason)" "1 valid_now" "kyso_verify with the certificate as PEM"
probe verify raw "${CERT_DER[signer]}" "$HASH_HEX" "$T/good.sig"
is "$(line valid) $(line reason)" "1 valid_now" "kyso_verify with the certificate as DER (certificate_der)"

probe sign "${CERT_ID[signer]}" "$HASH_HEX" cms "$T/good.p7s"
is "$RC $(line format)" "0 cms" "kyso_sign, format CMS"
printf '%s' "$HASH_HEX" | xxd -r -p > "$T/hash.bin"
"$PY" "$KYSO_SRCDIR/tests/lib/cms-inspect.py" "$T/good.p7s" >/dev/null 2>&1
ok $? "...a CMS SignedData"
probe verify cms - "$HASH_HEX" "$T/good.p7s"
is "$(line valid) $(line status) $(line format)" "1 valid 1 cms" \
	"kyso_verify of the CMS signature (its certificate inside): valid"
is "$(json_get 'j["signers"][0]["signed_attrs"]' "$("$PY" "$KYSO_SRCDIR/tests/lib/cms-inspect.py" "$T/good.p7s")")" \
	'["contentType", "messageDigest", "signingCertificateV2", "signingTime"]' \
	"...without a profile: CAdES, signingTime among the signed attributes"
probe sign "${CERT_ID[signer]}" "$HASH_HEX" pades "$T/pades.p7s"
is "$RC $(line format)" "0 cms" "kyso_sign, profile KYSO_PROFILE_PADES"
is "$(json_get 'j["signers"][0]["signed_attrs"]' "$("$PY" "$KYSO_SRCDIR/tests/lib/cms-inspect.py" "$T/pades.p7s")")" \
	'["contentType", "messageDigest", "signingCertificateV2"]' \
	"...PAdES: no signingTime among the signed attributes"
cp "$T/good.p7s" "$T/bad.p7s"
len=$(stat -c %s "$T/bad.p7s")
# the signature value is the last thing of a CAdES-BES SignedData without unsigned attributes
printf "$(printf '\\x%02x' $(( $(od -An -tu1 -j$((len - 10)) -N1 "$T/good.p7s") ^ 0xff )))" |
	dd of="$T/bad.p7s" bs=1 seek=$((len - 10)) conv=notrunc 2>/dev/null
probe verify cms - "$HASH_HEX" "$T/bad.p7s"
is "$(line valid) $(line status) $(line reason)" "0 invalid 2 signature_invalid" \
	"kyso_verify of the CMS signature with its signature value changed: invalid"
make_hash sha256
probe verify cms - "$HASH_HEX" "$T/good.p7s"
is "$(line valid) $(line reason)" "0 digest_mismatch" "kyso_verify of the CMS signature against another record"

probe verify raw "${CERT_ID[signer]}" "${HASH_HEX:0:62}" "$T/good.sig"
is "$RC" 1 "kyso_verify of a hash of the wrong length fails"
is "$(line verify) $(line http_status) $(line field)" "hash_length -1 400 hash" \
	"...with kysod's error hash_length (400, field hash)"

# ---------------------------------------------------------------- batches and the item index
for i in 0 1 2; do
	make_hash sha256
	H[$i]=$HASH_HEX
done
mkdir -p "$T/batch"
probe batch "${CERT_ID[signer]}" "$T/batch" "${H[0]}" "${H[1]}" "${H[2]}"
is "$RC" 0 "kyso_sign_batch of 3 items"
is "$(line total)" "3 signed 3 failed 0 cancelled 0" "...all signed"
is "$(printf '%s\n' "$OUT" | grep '^item' | paste -sd,)" \
	"item 0 rec-0 signed -1,item 1 rec-1 signed -1,item 2 rec-2 signed -1" \
	"...each item with its index, no error"
n=0
for i in 0 1 2; do
	verify_sig "${CERT_PEM[signer]}" "${H[$i]}" "$T/batch/rec-$i.sig" sha256 pkcs1 && n=$((n + 1))
done
is "$n" 3 "...the 3 signatures verify with openssl"

probe batch "${CERT_ID[signer]}" "$T/batch" "${H[0]}" "${H[1]:0:62}" "${H[2]}"
is "$RC" 1 "kyso_sign_batch with a short hash in item 1 fails"
is "$(line batch) $(line http_status) $(line field)" "hash_length 1 400 items[1].hash" \
	"...kysod's hash_length, and the error's index is 1 (field items[1].hash)"

pinentry_says hang
probe batch-cancel "${CERT_ID[signer]}" "${H[0]}" "${H[1]}"
pinentry_says "pin 123456"
is "$RC" 0 "a batch cancelled in its consent dialog"
is "$(line cancel)" "ok -1" "...kyso_cancel_batch succeeded"
is "$(line total)" "2 signed 0 failed 2 cancelled 1" "...nothing signed, cancelled"
is "$(printf '%s\n' "$OUT" | grep '^item' | paste -sd,)" \
	"item 0 rec-0 batch_cancelled 0,item 1 rec-1 batch_cancelled 1" \
	"...each item's error batch_cancelled, its index the item's position"

status_ok "kysod still serves"
done_testing
