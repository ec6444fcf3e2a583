#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The virtual smart-card test bed on its own, without kysod: a private pcscd with vpcd, and
# tests/vcard/piv-card.py cards seen through OpenSC's PKCS#11 module as real PIV cards.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"

set -u
export LC_ALL=C.UTF-8
umask 022

PIV_AID=A000000308000010000100
PIN=123456
PUK=12345678

pcsc_start || bail_out "pcscd does not start"
pass "pcscd runs with the vpcd readers"
W=$PCSC_DIR/work
mkdir -p "$W"
P11=(pkcs11-tool --module "$OPENSC_P11")

# hex of a PIN padded to 8 bytes with FF
pin_hex()
{
	local h
	h=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')
	while [ "${#h}" -lt 16 ]; do
		h=${h}ff
	done
	printf '%s' "$h"
}

# Sends APDUs (hex) in one connection to reader number $1 after selecting PIV; prints the
# status word of each one after the SELECT, space separated.
apdus()
{
	local reader=$1 a
	shift
	local -a args=(-r "$reader" -s "00A4040009${PIV_AID:0:18}")
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool "${args[@]}" 2>&1 | sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p' |
		tail -n +2 | tr 'a-f\n' 'A-F ' | sed 's/ $//'
}

# The PIN status as the card tells it: logs out, then asks (63Cx = x tries left).
pin_status()
{
	apdus "$1" 0020FF80 00200080 | awk '{ print $2 }'
}

quiet() { "$@" >/dev/null 2>&1; }
now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; }  # microseconds
ms_since() { printf '%d' $((($(now) - $1) / 1000)); }

# ---------------------------------------------------------------- a card appears
card_make_demo "$W/card1" >"$W/demo1.log" 2>&1 || bail_out "piv-card.py --make-demo failed"
card_make_demo "$W/card2" --cn "Nguyễn Văn An" >"$W/demo2.log" 2>&1 ||
	bail_out "piv-card.py --make-demo failed"
guid1=$("$PCSC_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["guid"])' "$W/card1/card.json")
guid2=$("$PCSC_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["guid"])' "$W/card2/card.json")

t0=$(now)
check "card a inserted in reader 0, pcscd sees it" card_start a "$PCSC_PORT0" "$W/card1"
t_insert=$(ms_since "$t0")

out=$("${P11[@]}" -L 2>&1)
like "$out" "token label +: Phạm Thị Hoa" "the token is labelled with the cardholder's name (UTF-8)"
like "$out" "token manufacturer : piv_II" "OpenSC drives it with its PIV driver"
like "$out" "serial num +: ${guid1:16:16}" "the token serial number comes from the card's GUID"
out=$(opensc-tool -r 0 -n 2>&1)
like "$out" "Personal Identity Verification Card" "opensc-tool names it a PIV card"

out=$("${P11[@]}" -O 2>&1)
for label in "PIV Authentication" "Digital Signature" "Key Management" "Card Authentication"; do
	like "$out" "label: +Certificate for $label" "certificate object for $label"
done

for pair in 01:9a 02:9c 03:9d 04:9e; do
	id=${pair%%:*} slot=${pair#*:}
	openssl x509 -in "$W/card1/$slot.crt" -outform DER -out "$W/$slot.want.der"
	"${P11[@]}" --read-object --type cert --id "$id" -o "$W/$slot.der" >/dev/null 2>&1
	check "certificate $slot read through PKCS#11 is the card's" cmp -s "$W/$slot.der" "$W/$slot.want.der"
done
for slot in 9a 9c; do
	openssl x509 -in "$W/card1/$slot.crt" -pubkey -noout >"$W/$slot.pub"
done

# ---------------------------------------------------------------- signatures
head -c 3000 /dev/urandom >"$W/data"

"${P11[@]}" --sign --mechanism SHA256-RSA-PKCS --id 01 --login --pin "$PIN" \
	-i "$W/data" -o "$W/sig-pkcs1" >"$W/sign.log" 2>&1
ok $? "RSA-2048 PKCS#1 v1.5 signature with 9A"
check "openssl verifies the PKCS#1 v1.5 signature against the 9A certificate" \
	quiet openssl dgst -sha256 -verify "$W/9a.pub" -signature "$W/sig-pkcs1" "$W/data"

"${P11[@]}" --sign --mechanism SHA256-RSA-PKCS-PSS --salt-len 32 --id 01 --login --pin "$PIN" \
	-i "$W/data" -o "$W/sig-pss" >>"$W/sign.log" 2>&1
ok $? "RSA-2048 PSS signature with 9A"
check "openssl verifies the PSS signature against the 9A certificate" \
	quiet openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-verify "$W/9a.pub" -signature "$W/sig-pss" "$W/data"

"${P11[@]}" --sign --mechanism ECDSA-SHA256 --id 02 --login --pin "$PIN" --signature-format openssl \
	-i "$W/data" -o "$W/sig-ecdsa" >>"$W/sign.log" 2>&1
ok $? "ECDSA P-256 signature with 9C (PIN always)"
check "openssl verifies the ECDSA signature against the 9C certificate" \
	quiet openssl dgst -sha256 -verify "$W/9c.pub" -signature "$W/sig-ecdsa" "$W/data"

hash=$(openssl dgst -sha256 -r "$W/data" | cut -c1-64)
ga9c=0087119C267C2482008120${hash}00
sws=$(apdus 0 0020FF80 "$ga9c" "0020008008$(pin_hex "$PIN")" "$ga9c" "$ga9c")
is "$sws" "9000 6982 9000 9000 6982" "9C needs the PIN verified right before each use"

# ---------------------------------------------------------------- PIN counter
is "$(pin_status 0)" 63C3 "PIN status: 3 tries"
"${P11[@]}" --login --pin 000000 -O >"$W/login.log" 2>&1
like "$(cat "$W/login.log")" CKR_PIN_INCORRECT "a wrong PIN is refused (CKR_PIN_INCORRECT)"
is "$(pin_status 0)" 63C2 "a wrong PIN takes one try away"
"${P11[@]}" --login --pin "$PIN" -O >"$W/login.log" 2>&1
ok $? "the right PIN logs in"
is "$(pin_status 0)" 63C3 "the right PIN gives the tries back"
for n in 1 2 3; do
	"${P11[@]}" --login --pin 000000 -O >"$W/login-$n.log" 2>&1
done
is "$(pin_status 0)" 6983 "3 wrong PINs in a row block the PIN"
"${P11[@]}" --login --pin "$PIN" -O >"$W/login.log" 2>&1
like "$(cat "$W/login.log")" CKR_PIN_LOCKED "a blocked PIN refuses even the right PIN (CKR_PIN_LOCKED)"
like "$("${P11[@]}" -L 2>&1)" "user PIN locked" "the token says the user PIN is locked"

# ---------------------------------------------------------------- removal and insertion
t0=$(now)
check "card a stopped: pcscd sees the removal" card_stop a
t_remove=$(ms_since "$t0")
like "$("${P11[@]}" -L 2>&1)" "Slot 0 \(0x0\): Virtual PCD 00 00"$'\n'"  \(empty\)" \
	"PKCS#11 shows slot 0 empty"
t0=$(now)
check "card a started again: pcscd sees the insertion" card_start a "$PCSC_PORT0" "$W/card1"
t_reinsert=$(ms_since "$t0")
like "$("${P11[@]}" -L 2>&1)" "serial num +: ${guid1:16:16}" "the same token is back"
is "$(pin_status 0)" 6983 "the PIN counter survives the restart (still blocked)"
sws=$(apdus 0 "002C008010$(pin_hex 00000000)$(pin_hex 654321)" \
	"002C008010$(pin_hex "$PUK")$(pin_hex 654321)")
is "$sws" "63C2 9000" "RESET RETRY COUNTER: a wrong PUK is counted, the right one unblocks"
is "$(pin_status 0)" 63C3 "the PIN has its 3 tries again"
"${P11[@]}" --sign --mechanism SHA256-RSA-PKCS --id 01 --login --pin 654321 \
	-i "$W/data" -o "$W/sig-new" >>"$W/sign.log" 2>&1 &&
	openssl dgst -sha256 -verify "$W/9a.pub" -signature "$W/sig-new" "$W/data" >/dev/null
ok $? "the new PIN signs"

# ---------------------------------------------------------------- a second card
check "card b inserted in reader 1" card_start b "$PCSC_PORT1" "$W/card2"
out=$("${P11[@]}" -L 2>&1)
like "$out" "token label +: Nguyễn Văn An" "both tokens listed: card b"
like "$out" "token label +: Phạm Thị Hoa" "both tokens listed: card a"
isnt "${guid1:16:16}" "${guid2:16:16}" "the two cards have different token serial numbers"
like "$out" "serial num +: ${guid2:16:16}" "card b shows its own serial number"
check "card b removed" card_stop b
like "$("${P11[@]}" -L 2>&1)" "Slot 1 \(0x4\): Virtual PCD 00 01"$'\n'"  \(empty\)" \
	"PKCS#11 shows slot 1 empty"

# ---------------------------------------------------------------- provisioning
# piv-tool 0.23 cannot write out generated keys with OpenSSL 3, so GENERATE goes through its
# raw APDU option, after the same management key authentication.
printf '%s\n' 010203040506070801020304050607080102030405060708 >"$W/mgmt.key"
PIV_EXT_AUTH_KEY=$W/mgmt.key piv-tool -r 0 -A M:9B:03 -s 0047009D05AC0380011100 \
	>"$W/piv-tool.log" 2>&1
gen=$(sed -n '/^Received (SW1=0x90, SW2=0x00):/,$p' "$W/piv-tool.log" | tail -n +2 |
	cut -c1-48 | tr -d ' \n')
like "$gen" "^7F4943864104[0-9A-F]{128}$" "GENERATE ASYMMETRIC KEY PAIR (P-256 in 9D) after management key authentication"
"$PCSC_PY" - "$W/card1" "${gen:10}" "$W" >>"$W/piv-tool.log" 2>&1 <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
d, point, w = sys.argv[1:]
ca = x509.load_pem_x509_certificate(open(d + "/ca.crt", "rb").read())
key = serialization.load_pem_private_key(open(d + "/ca.key", "rb").read(), None)
pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(point))
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
	.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provisioned 9D")]))
	.issuer_name(ca.subject).public_key(pub).serial_number(x509.random_serial_number())
	.not_valid_before(now - datetime.timedelta(days=1))
	.not_valid_after(now + datetime.timedelta(days=30))
	.add_extension(x509.KeyUsage(False, False, False, False, True, False, False, False, False),
		critical=True)
	.sign(key, hashes.SHA256()))
open(w + "/9d-new.der", "wb").write(cert.public_bytes(serialization.Encoding.DER))
open(w + "/9d-new.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
# a peer key for ECDH, and the secret it shares with the new key
peer = ec.generate_private_key(ec.SECP256R1())
open(w + "/peer.der", "wb").write(peer.public_key().public_bytes(serialization.Encoding.DER,
	serialization.PublicFormat.SubjectPublicKeyInfo))
open(w + "/shared.bin", "wb").write(peer.exchange(ec.ECDH(), pub))
PY
# (piv-tool 0.23 exits with the number of bytes written, not 0, when loading a certificate)
PIV_EXT_AUTH_KEY=$W/mgmt.key piv-tool -r 0 -A M:9B:03 -C 9D -i "$W/9d-new.pem" \
	>"$W/piv-tool-cert.log" 2>&1
unlike "$(cat "$W/piv-tool-cert.log")" "[Ff]ail|[Ee]rror|[Cc]annot" \
	"PUT DATA of a certificate for the new 9D key (command chaining)"
card_stop a && card_start a "$PCSC_PORT0" "$W/card1"
ok $? "card a restarted"
is "$(apdus 0 "00DB3FFF0A5C035FC10B5303700100")" 6982 "PUT DATA without the management key is refused"
"${P11[@]}" --read-object --type cert --id 03 -o "$W/9d-read.der" >/dev/null 2>&1
check "the provisioned certificate is on the card after the restart" cmp -s "$W/9d-read.der" "$W/9d-new.der"
"${P11[@]}" --derive --mechanism ECDH1-DERIVE --id 03 --login --pin 654321 \
	-i "$W/peer.der" -o "$W/shared-card.bin" >"$W/derive.log" 2>&1
check "ECDH with the generated 9D key gives the peer's shared secret" \
	cmp -s "$W/shared-card.bin" "$W/shared.bin"

# ---------------------------------------------------------------- timing
n=500
args=()
for ((i = 0; i < n; i++)); do
	args+=(-s 00CB3FFF055C035FC10200)
done
t0=$(now)
opensc-tool -r 0 -s 00CB3FFF055C035FC10200 >/dev/null 2>&1
t1=$(($(now) - t0))
t0=$(now)
opensc-tool -r 0 "${args[@]}" >/dev/null 2>&1
tn=$(($(now) - t0))
rtt_us=$(((tn - t1) / (n - 1)))
diag "APDU round trip ${rtt_us} us (opensc-tool through pcscd and vpcd)" \
	"insertion seen ${t_insert} ms after starting the card process (${t_reinsert} ms on restart)" \
	"removal seen ${t_remove} ms after stopping it"
ok $((rtt_us > 15000)) "an APDU round trip takes less than 15 ms (${rtt_us} us)"

done_testing
