#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Provisioning on the virtual PIV card (tests/vcard/piv-card.py) with OpenSC's own tools, as
# on a real PIV token: management key authentication (3DES and AES-192), key generation
# (RSA-2048 in 9A, P-256 in 9C), certificate requests signed by the new keys through
# opensc-pkcs11.so (OpenSSL's pkcs11 engine), certificates from the test CA written with
# PUT DATA, signatures with the new keys verified by openssl, PIN change, PIN and PUK
# blocking, unblocking with the PUK, and all of it kept when the card is pulled and put back.
# Two blank cards with different serials, management keys and retry limits run at once.
#
# OpenSC 0.23 cannot do every step itself (tests/vcard/README, "OpenSC 0.23 and
# provisioning"): piv-tool -G fails to write the public key with OpenSSL 3, external
# authentication (piv-tool -A A:...) fails before it answers the card, and opensc-pkcs11.so
# has no C_GenerateKeyPair or C_CreateObject for PIV. Those steps go through OpenSC's raw
# APDU options (piv-tool -s after piv-tool -A, opensc-tool -s), and the test checks that the
# tools still fail as described, so that a fixed OpenSC is noticed.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"

set -u
export LC_ALL=C.UTF-8
umask 022

ENGINES=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
[ -e "$ENGINES/pkcs11.so" ] ||
	_pcsc_unavailable "OpenSSL's pkcs11 engine is not installed (Debian: libengine-pkcs11-openssl)"
OPENSC_VERSION=$(opensc-tool --info 2>/dev/null | sed -n 's/^OpenSC \([0-9.]*\).*/\1/p')

PIV_AID=A000000308000010000100
PIN=123456
PUK=12345678
KEY_A=9f3c2a71d4e85b06c1a7f2e39d48b5a6e07c1d2f3a4b5c6d   # card a: AES-192 (YubiKey 5.7)
KEY_B=010203040506070801020304050607080102030405060708   # card b: 3DES, the PIV default
KEY_WRONG=0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021

PCSC_CARD_VERBOSE=1  # every card logs its APDUs: card_sw reads them
pcsc_start || bail_out "pcscd does not start"
W=$PCSC_DIR/work
T=$W
mkdir -p "$W/keys"
declare -A CERT_PEM CERT_DER CERT_ID CERT_CN KEY_TYPE
. "$KYSO_SRCDIR/tests/lib/test-ca.sh" || bail_out "cannot read test-ca.sh"
ca_init
P11=(pkcs11-tool --module "$OPENSC_P11")

# PIN unblocking through PKCS#11 is off in OpenSC unless configured (pkcs11 {
# user_pin_unblock_style }): C_SetPIN in a session not logged in then takes the PUK.
export OPENSC_CONF=$W/opensc.conf
cat >"$OPENSC_CONF" <<-EOF
	app default {
		framework pkcs15 {
		}
	}
	app opensc-pkcs11 {
		pkcs11 {
			user_pin_unblock_style = set_pin_in_unlogged_session;
		}
	}
EOF
# OpenSSL with the pkcs11 engine on OpenSC's module
cat >"$W/openssl.cnf" <<-EOF
	openssl_conf = init
	[init]
	engines = engines
	[engines]
	pkcs11 = pkcs11
	[pkcs11]
	engine_id = pkcs11
	MODULE_PATH = $OPENSC_P11
	init = 0
EOF
printf '%s\n' "$KEY_A" >"$W/key-a"
printf '%s\n' "$KEY_B" >"$W/key-b"
printf '%s\n' "$KEY_WRONG" >"$W/key-wrong"

quiet() { "$@" >/dev/null 2>&1; }

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

# The responses in the output of opensc-tool -s or piv-tool -s, one line each: the status
# word and the data in hex.
replies()
{
	awk '/^Received \(SW1=0x/ {
			if (n++) print sw, data
			sw = substr($2, 8, 2) substr($3, 7, 2); data = ""; next
		}
		n && /^[0-9A-F][0-9A-F] / { x = substr($0, 1, 48); gsub(/ /, "", x); data = data x }
		END { if (n) print sw, data }' "$@"
}

# apdus READER APDU...: sends the APDUs in one connection after selecting PIV and prints the
# status word of each, space separated.
apdus()
{
	local reader=$1 a
	shift
	local -a args=(-r "$reader" -s "00A4040009${PIV_AID:0:18}")
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool "${args[@]}" >"$W/apdus.log" 2>&1
	replies "$W/apdus.log" | tail -n +2 | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//'
}

# The data of the last response of apdus.
apdus_data() { replies "$W/apdus.log" | tail -1 | cut -d' ' -f2; }

# admin READER KEYFILE ALG [PIV-TOOL-ARGS]: piv-tool after mutual authentication with the
# management key in KEYFILE (algorithm ALG: 03, 0A); its output in $W/admin.log.
admin()
{
	local reader=$1 key=$2 alg=$3
	shift 3
	PIV_EXT_AUTH_KEY=$key piv-tool -r "$reader" -A "M:9B:$alg" "$@" >"$W/admin.log" 2>&1
}

# tlv_value HEX TAG: the value (hex) of element TAG among the BER-TLV elements in HEX.
tlv_value()
{
	local h=${1^^} want=${2^^} tag len
	while [ ${#h} -ge 4 ]; do
		tag=${h:0:2}
		h=${h:2}
		if (((16#$tag & 0x1F) == 0x1F)); then
			tag+=${h:0:2}
			h=${h:2}
		fi
		len=$((16#${h:0:2}))
		h=${h:2}
		if ((len == 0x81)); then
			len=$((16#${h:0:2}))
			h=${h:2}
		elif ((len == 0x82)); then
			len=$((16#${h:0:4}))
			h=${h:4}
		fi
		if [ "$tag" = "$want" ]; then
			printf '%s' "${h:0:len*2}"
			return 0
		fi
		h=${h:len*2}
	done
	return 1
}

# spki_from_template HEX OUT: the public key of a GENERATE answer (7F49 template) as a DER
# SubjectPublicKeyInfo, the file OpenSC's PIV_9x_KEY variables name.
spki_from_template()
{
	local tpl n e point
	tpl=$(tlv_value "$1" 7F49) || return 1
	if point=$(tlv_value "$tpl" 86); then
		case ${#point} in
		130) printf '%s' 3059301306072a8648ce3d020106082a8648ce3d030107034200 ;;
		194) printf '%s' 3076301006072a8648ce3d020106052b81040022036200 ;;
		*) return 1 ;;
		esac | cat - <(printf '%s' "$point") | xxd -r -p >"$2"
	else
		n=$(tlv_value "$tpl" 81) && e=$(tlv_value "$tpl" 82) || return 1
		printf '%s\n' "asn1=SEQUENCE:spki" "[spki]" "alg=SEQUENCE:alg" \
			"key=BITWRAP,SEQUENCE:rsa" "[alg]" "oid=OID:rsaEncryption" "null=NULL" \
			"[rsa]" "n=INTEGER:0x$n" "e=INTEGER:0x$e" >"$2.cnf"
		openssl asn1parse -genconf "$2.cnf" -out "$2" -noout >/dev/null
	fi
	openssl pkey -pubin -inform DER -in "$2" -noout 2>/dev/null
}

# generate READER KEYFILE ALG SLOT KEYALG NAME: GENERATE ASYMMETRIC KEY PAIR after mutual
# authentication; the public key in $W/NAME.spki. Prints the status word.
generate()
{
	local reader=$1 key=$2 alg=$3 slot=$4 kalg=$5 name=$6 sw data
	admin "$reader" "$key" "$alg" -s "004700${slot}05AC038001${kalg}00"
	read -r sw data < <(replies "$W/admin.log" | tail -1)
	printf '%s' "${sw:-none}"
	[ "${sw:-}" = 9000 ] && spki_from_template "$data" "$W/$name.spki"
}

# csr ID NAME CN: a certificate request signed by card a's key ID through the pkcs11
# engine, in $W/NAME.csr. The PIN comes twice on standard input, without a terminal: the
# login, and 9C's always-authenticate.
csr()
{
	printf '%s\n%s\n' "$PIN" "$PIN" | setsid -w env OPENSSL_CONF="$W/openssl.cnf" \
		openssl req -new -engine pkcs11 -keyform engine -key "pkcs11:serial=${guid_a:16:16};id=%$1;type=private" \
		-subj "/C=VN/O=Kyso Test/CN=$3" -utf8 -sha256 -out "$W/$2.csr" >"$W/$2.csr.log" 2>&1
}

# issue NAME KU: the test CA's issuing CA certifies $W/NAME.csr: $W/NAME.pem, $W/NAME.der
issue()
{
	printf '%s\n' "[leaf]" "basicConstraints = critical,CA:false" "keyUsage = critical,$2" \
		"subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" >"$W/$1.ext"
	openssl ca -batch -notext -config "$CA_DIR/int/ca.cnf" -in "$W/$1.csr" \
		-out "$W/$1.pem" -extfile "$W/$1.ext" -extensions leaf >"$W/$1.ca.log" 2>&1 &&
		openssl x509 -in "$W/$1.pem" -outform DER -out "$W/$1.der"
}

# card_sw NAME PREFIX: the status word of the card's last answer to an APDU starting with
# PREFIX (hex), after the GET RESPONSEs that fetched the rest of a long one, from its APDU
# log (cards started with PCSC_CARD_VERBOSE=1)
card_sw()
{
	awk -v p="> ${2,,}" 'index($0, p) { want = 1; next }
		want && / > 00c0/ { next }
		want && /^< / {
			sw = toupper(substr($2, length($2) - 3))
			want = sw ~ /^61/
			next
		}
		/ > / { want = 0 }
		END { print sw }' "$PCSC_DIR/card-$1.log"
}

# pin_status READER: the PIN's state as the card tells it (63Cx: x tries left; 6983 blocked)
pin_status() { apdus "$1" 0020FF80 00200080 | awk '{ print $2 }'; }

# ---------------------------------------------------------------- two blank cards
"$PCSC_PY" "$PIV_CARD" --make-demo "$W/card-a" --blank --mgmt-alg aes192 --mgmt-key "$KEY_A" \
	--pin-retries 3 --puk-retries 3 >"$W/make.log" 2>&1 ||
	bail_out "piv-card.py --make-demo --blank failed: $(cat "$W/make.log")"
"$PCSC_PY" "$PIV_CARD" --make-demo "$W/card-b" --blank --pin-retries 5 \
	--guid 4b59534f2d7663617264000000b0b0b0 >"$W/make.log" 2>&1 ||
	bail_out "piv-card.py --make-demo --blank failed: $(cat "$W/make.log")"
card_start a "$PCSC_PORT0" "$W/card-a"
ok $? "card a (blank, AES-192 management key, PIN 3 tries like VGCA tokens) in reader 0"
card_start b "$PCSC_PORT1" "$W/card-b"
ok $? "card b (blank, 3DES management key, PIN 5 tries like Viettel-CA tokens) in reader 1"
out=$("${P11[@]}" -L 2>&1)
guid_a=$("$PCSC_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["guid"])' "$W/card-a/card.json")
like "$out" "serial num +: ${guid_a:16:16}" "card a's token serial is its (random) GUID's"
like "$out" "serial num +: 7264000000b0b0b0" "card b's token serial is the GUID given with --guid"
is "$(apdus 0 00CB3FFF055C035FC10700) $(apdus 1 00CB3FFF055C035FC10700)" "9000 9000" \
	"both cards have a Card Capability Container"
ccc_a=$(apdus 0 00CB3FFF055C035FC10700 >/dev/null; apdus_data)
ccc_b=$(apdus 1 00CB3FFF055C035FC10700 >/dev/null; apdus_data)
like "$ccc_a" "^53..F015A000000116FF02" "CCC: card identifier F0 with the GSC-RID"
isnt "$ccc_a" "$ccc_b" "the two cards' CCCs differ (card identifier from the GUID)"
is "$(pin_status 0) $(pin_status 1)" "63C3 63C5" "PIN tries: 3 on card a, 5 on card b"
unlike "$("${P11[@]}" -O 2>&1)" "Private Key Object" "blank cards: no key through PKCS#11"

# ---------------------------------------------------------------- management key
admin 1 "$W/key-b" 03
ok $? "3DES mutual authentication with the right key (piv-tool -A M:9B:03)"
admin 1 "$W/key-wrong" 03
ok $((!$?)) "3DES: a wrong key is refused"
like "$(cat "$W/admin.log")" "admin_mode failed" "...piv-tool says the authentication failed"
is "$(card_sw b 0087039b)" 6982 "...the card refuses the witness the wrong key decrypted (6982)"
admin 0 "$W/key-a" 0A
ok $? "AES-192 mutual authentication with the right key (piv-tool -A M:9B:0A)"
admin 0 "$W/key-wrong" 0A
ok $((!$?)) "AES-192: a wrong key is refused"
is "$(card_sw a 00870a9b)" 6982 "...by the card (6982)"
admin 0 "$W/key-b" 03
ok $((!$?)) "AES-192 card: 3DES (algorithm 03) is refused"
is "$(card_sw a 0087039b)" 6A86 "...with 6A86 (the card's algorithm is 0A)"

# external authentication: the card's challenge, encrypted with the key by openssl
# ext_auth READER ALG KEY CIPHER: prints the status word of the answer
ext_auth()
{
	local reader=$1 alg=$2 key=$3 cipher=$4 challenge enc n
	apdus "$reader" "0087${alg}9B047C02810000" >/dev/null
	challenge=$(tlv_value "$(tlv_value "$(apdus_data)" 7C)" 81) || {
		printf 'no challenge'
		return
	}
	enc=$(printf '%s' "$challenge" | xxd -r -p |
		openssl enc "-$cipher" -nopad -K "$key" -e 2>/dev/null | xxd -p | tr -d '\n')
	n=$((${#enc} / 2))
	# (the card keeps its challenge across connections, as a real one until reset)
	opensc-tool -r "$reader" -s "0087${alg}9B$(printf '%02X%02X%02X' $((n + 4)) 0x7C $((n + 2)))82$(printf '%02X' "$n")$enc" \
		>"$W/apdus.log" 2>&1
	replies "$W/apdus.log" | tail -1 | cut -d' ' -f1
}
is "$(ext_auth 1 03 "$KEY_B" des-ede3)" 9000 "3DES external authentication (8-byte challenge)"
is "$(ext_auth 1 03 "$KEY_WRONG" des-ede3)" 6982 "3DES external authentication, wrong key: 6982"
is "$(ext_auth 0 0A "$KEY_A" aes-192-ecb)" 9000 "AES-192 external authentication (16-byte challenge)"
is "$(ext_auth 0 0A "$KEY_WRONG" aes-192-ecb)" 6982 "AES-192 external authentication, wrong key: 6982"
PIV_EXT_AUTH_KEY=$W/key-a piv-tool -r 0 -A A:9B:0A >"$W/ext.log" 2>&1
ext_rc=$?
if [ "$OPENSC_VERSION" = 0.23.0 ]; then
	ok $((!ext_rc)) "OpenSC 0.23.0's piv-tool -A A:9B:0A still fails on its own length check (fixed in 0.24)"
	like "$(grep -A1 '> 0087' "$PCSC_DIR/card-a.log" | tail -2 | tr '\n' ' ')" \
		"> 00870a9b047c028100.* < 7c128110" "...after the card gave its challenge"
else
	ok "$ext_rc" "piv-tool -A A:9B:0A: external authentication (OpenSC $OPENSC_VERSION)"
fi

# ---------------------------------------------------------------- key generation
is "$(apdus 0 0047009A05AC0380010700)" 6982 "GENERATE without the management key: 6982"
is "$(apdus 0 00DB3FFF0A5C035FC1055303700100)" 6982 "PUT DATA without the management key: 6982"
is "$(generate 0 "$W/key-a" 0A 9A 99 bad)" 6A80 "GENERATE with an unknown algorithm: 6A80"
is "$(generate 0 "$W/key-a" 0A 9B 11 bad)" 6A86 "GENERATE for the management key: 6A86"
is "$(generate 0 "$W/key-a" 0A 9A 07 9a)" 9000 "RSA-2048 generated in 9A (AES-192 session)"
like "$(openssl pkey -pubin -inform DER -in "$W/9a.spki" -noout -text 2>&1)" "Public-Key: \(2048 bit\)" \
	"...its 7F49 template (81 modulus, 82 exponent) is a 2048-bit RSA key"
is "$(generate 0 "$W/key-a" 0A 9C 11 9c)" 9000 "P-256 generated in 9C"
like "$(openssl pkey -pubin -inform DER -in "$W/9c.spki" -noout -text 2>&1)" "ASN1 OID: prime256v1" \
	"...its 7F49 template (86 point) is a P-256 key"
is "$(generate 1 "$W/key-b" 03 9D 14 9d-b)" 9000 "P-384 generated in card b's 9D (3DES session)"
like "$(openssl pkey -pubin -inform DER -in "$W/9d-b.spki" -noout -text 2>&1)" "ASN1 OID: secp384r1" \
	"...a P-384 key"
# piv-tool -G: the card generates, piv-tool 0.23 cannot make an OpenSSL 3 key of the answer
# piv_tool_gen SLOT ALG WHAT ERROR FIXED
piv_tool_gen()
{
	local slot=$1 alg=$2 what=$3 err=$4 fixed=$5 rc
	PIV_EXT_AUTH_KEY=$W/key-b piv-tool -r 1 -A M:9B:03 -G "$slot:$alg" -o "$W/$slot-b.spki" \
		>"$W/gen-tool.log" 2>&1
	rc=$?
	is "$(card_sw b "004700${slot}05ac038001$alg")" 9000 "piv-tool -G $slot:$alg: the card generates $what"
	if [ "$OPENSC_VERSION" = 0.23.0 ]; then
		ok $((!rc)) "...then OpenSC 0.23.0's piv-tool fails on the answer (fixed in $fixed)"
		like "$(cat "$W/gen-tool.log")" "$err" "...making an OpenSSL 3 key of it ($err)"
	else
		ok "$rc" "...and piv-tool takes its answer (OpenSC $OPENSC_VERSION)"
		check "...its public key file is a key" \
			quiet openssl pkey -pubin -inform DER -in "$W/$slot-b.spki"
	fi
}
piv_tool_gen 9E 11 P-256 "gen_key unable to gen EC key" 0.25
piv_tool_gen 9D 07 RSA-2048 "gen_key unable to gen RSA" 0.26
"${P11[@]}" --keypairgen --key-type EC:prime256v1 --id 01 --login --pin "$PIN" >"$W/p11gen.log" 2>&1
like "$(cat "$W/p11gen.log")" "mechanism .* not supported|CKR_FUNCTION_NOT_SUPPORTED" \
	"pkcs11-tool --keypairgen: opensc-pkcs11.so has no key generation for PIV"

# ---------------------------------------------------------------- requests and certificates
export PIV_9A_KEY=$W/9a.spki PIV_9C_KEY=$W/9c.spki
out=$("${P11[@]}" -O --login --pin "$PIN" 2>&1)
like "$out" "Private Key Object; RSA.*"$'\n'"  label: +PIV AUTH key" \
	"with PIV_9A_KEY, OpenSC shows the new 9A key (no certificate yet)"
like "$out" "Private Key Object; EC.*"$'\n'"  label: +SIGN key" "...and with PIV_9C_KEY the 9C key"
csr 01 9a "Nguyễn Văn An"
ok $? "certificate request for 9A signed through opensc-pkcs11.so (openssl req, pkcs11 engine)"
check "openssl req -verify accepts it" quiet openssl req -in "$W/9a.csr" -verify -noout
openssl req -in "$W/9a.csr" -pubkey -noout 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
	cmp -s - "$W/9a.spki"
ok $? "...and it holds the generated key"
csr 02 9c "Trần Thị Bích Ngọc"
ok $? "certificate request for 9C (PIN given again for the always-authenticate key)"
check "openssl req -verify accepts it" quiet openssl req -in "$W/9c.csr" -verify -noout
openssl req -in "$W/9c.csr" -pubkey -noout 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
	cmp -s - "$W/9c.spki"
ok $? "...and it holds the generated key"

issue 9a digitalSignature,keyEncipherment && issue 9c digitalSignature,nonRepudiation
ok $? "the test CA issues both certificates"
"${P11[@]}" --write-object "$W/9a.der" --type cert --id 01 --login --pin "$PIN" >"$W/p11write.log" 2>&1
like "$(cat "$W/p11write.log")" "C_CreateObject failed: rv = CKR_FUNCTION_NOT_SUPPORTED" \
	"pkcs11-tool --write-object: opensc-pkcs11.so cannot write PIV objects"
# (piv-tool 0.23 exits with the number of bytes written, not 0)
admin 0 "$W/key-a" 0A -C 9A -i "$W/9a.pem"
unlike "$(cat "$W/admin.log")" "[Ff]ail|[Ee]rror|[Cc]annot" "piv-tool -C 9A writes the 9A certificate (PUT DATA)"
admin 0 "$W/key-a" 0A -C 9C -i "$W/9c.pem"
unlike "$(cat "$W/admin.log")" "[Ff]ail|[Ee]rror|[Cc]annot" "piv-tool -C 9C writes the 9C certificate"
unset PIV_9A_KEY PIV_9C_KEY
"${P11[@]}" --read-object --type cert --id 01 -o "$W/9a.read" >/dev/null 2>&1
check "the 9A certificate read back through PKCS#11 is the CA's" cmp -s "$W/9a.read" "$W/9a.der"
"${P11[@]}" --read-object --type cert --id 02 -o "$W/9c.read" >/dev/null 2>&1
check "the 9C certificate read back through PKCS#11 is the CA's" cmp -s "$W/9c.read" "$W/9c.der"
like "$("${P11[@]}" -L 2>&1)" "token label +: Nguyễn Văn An" "the token is now labelled with the cardholder"
check "openssl verifies the 9A certificate up to the test root" \
	quiet openssl verify -CAfile "$CA_BUNDLE" "$W/9a.pem"

# an object too big: a YubiKey keeps at most 3063 bytes (sent with command chaining)
obj=5C035FC10D53820C2070820C1C$(head -c 3100 /dev/zero | xxd -p | tr -d '\n')
chain=()
while [ ${#obj} -gt 510 ]; do
	chain+=(-s "10DB3FFFFF${obj:0:510}")
	obj=${obj:510}
done
chain+=(-s "00DB3FFF$(printf '%02X' $((${#obj} / 2)))$obj")
admin 0 "$W/key-a" 0A "${chain[@]}"
is "$(replies "$W/admin.log" | sort | uniq -c | awk '{ print $1 "x" $2 }' | tr '\n' ' ')" "1x6A84 12x9000 " \
	"PUT DATA of 3108 bytes in 13 chained commands: 6A84 (a YubiKey keeps 3063 at most)"

# ---------------------------------------------------------------- signatures
head -c 5000 /dev/urandom >"$W/data"
openssl x509 -in "$W/9a.pem" -pubkey -noout >"$W/9a.pub"
openssl x509 -in "$W/9c.pem" -pubkey -noout >"$W/9c.pub"
sign_9a()
{
	"${P11[@]}" --sign --mechanism SHA256-RSA-PKCS --id 01 --login --pin "$1" \
		-i "$W/data" -o "$W/sig-9a" >"$W/sign.log" 2>&1 &&
		openssl dgst -sha256 -verify "$W/9a.pub" -signature "$W/sig-9a" "$W/data" >/dev/null 2>&1
}
sign_9a "$PIN"
ok $? "RSA signature with the generated 9A key, verified by openssl against its certificate"
"${P11[@]}" --sign --mechanism ECDSA-SHA256 --id 02 --login --pin "$PIN" --signature-format openssl \
	-i "$W/data" -o "$W/sig-9c" >>"$W/sign.log" 2>&1 &&
	openssl dgst -sha256 -verify "$W/9c.pub" -signature "$W/sig-9c" "$W/data" >/dev/null 2>&1
ok $? "ECDSA signature with the generated 9C key, verified by openssl against its certificate"

# ---------------------------------------------------------------- pulled and put back
check "card a pulled" card_stop a
card_start a "$PCSC_PORT0" "$W/card-a"
ok $? "card a put back"
"${P11[@]}" --read-object --type cert --id 01 -o "$W/9a.read2" >/dev/null 2>&1
check "the 9A certificate is still there" cmp -s "$W/9a.read2" "$W/9a.der"
sign_9a "$PIN"
ok $? "the generated 9A key still signs (verified against the certificate)"
admin 0 "$W/key-a" 0A
ok $? "the AES-192 management key still authenticates"

# ---------------------------------------------------------------- PIN and PUK
NEW_PIN=24681357
"${P11[@]}" --change-pin --pin "$PIN" --new-pin "$NEW_PIN" >"$W/pin.log" 2>&1
ok $? "PIN changed through PKCS#11 (pkcs11-tool --change-pin: CHANGE REFERENCE DATA)"
"${P11[@]}" --login --pin "$PIN" -O >"$W/pin.log" 2>&1
like "$(cat "$W/pin.log")" CKR_PIN_INCORRECT "the old PIN is refused"
is "$(pin_status 0)" 63C2 "...and counted (2 tries left)"
sign_9a "$NEW_PIN"
ok $? "the new PIN signs, and gives the tries back"
is "$(pin_status 0)" 63C3 "3 tries again"
flags=()
for n in 1 2 3; do
	"${P11[@]}" --login --pin 00000000 -O >"$W/pin.log" 2>&1
	flags+=("$(grep -o 'CKR_[A-Z_]*' "$W/pin.log" | head -1)/$(pin_status 0)")
done
is "${flags[*]}" "CKR_PIN_INCORRECT/63C2 CKR_PIN_INCORRECT/63C1 CKR_PIN_INCORRECT/6983" \
	"3 wrong PINs: 2 tries left, 1, then blocked"
like "$("${P11[@]}" -L 2>&1 | grep -A8 'Virtual PCD 00 00')" "user PIN locked" \
	"the token says the user PIN is locked"
"${P11[@]}" --login --pin "$NEW_PIN" -O >"$W/pin.log" 2>&1
like "$(cat "$W/pin.log")" CKR_PIN_LOCKED "the right PIN is refused too (CKR_PIN_LOCKED)"
check "card a pulled and put back while blocked" card_stop a
card_start a "$PCSC_PORT0" "$W/card-a"
is "$(pin_status 0)" 6983 "the PIN is still blocked after the restart"

PIN2=13579246
"${P11[@]}" --unlock-pin --puk 87654321 --new-pin "$PIN2" >"$W/puk.log" 2>&1
like "$(cat "$W/puk.log")" CKR_PIN_INCORRECT "unblock with a wrong PUK is refused (RESET RETRY COUNTER)"
"${P11[@]}" --unlock-pin --puk "$PUK" --new-pin "$PIN2" >"$W/puk.log" 2>&1
ok $? "unblock with the PUK and a new PIN (pkcs11-tool --unlock-pin)"
is "$(pin_status 0)" 63C3 "the PIN has its 3 tries again"
sign_9a "$PIN2"
ok $? "the new PIN signs"

# the PUK: changed (CHANGE REFERENCE DATA 81; OpenSC has no PKCS#11 way: C_Login as SO
# verifies the PUK, which PIV cannot), then blocked
PUK2=87654321
"${P11[@]}" --login --login-type so --so-pin "$PUK" -O >"$W/so.log" 2>&1
like "$(cat "$W/so.log")" "C_Login failed: rv = CKR_GENERAL_ERROR" \
	"C_Login as SO (the PUK) fails: OpenSC sends VERIFY 81, which PIV does not have"
is "$(card_sw a 0020008108)" 6A88 "...and the card answers 6A88"
is "$(apdus 0 "0024008110$(pin_hex 00000000)$(pin_hex "$PUK2")" \
	"0024008110$(pin_hex "$PUK")$(pin_hex "$PUK2")")" "63C2 9000" \
	"PUK change: a wrong PUK counted (63C2), the right one changes it"
flags=()
for n in 1 2 3 4; do
	"${P11[@]}" --unlock-pin --puk 11112222 --new-pin "$PIN" >"$W/puk.log" 2>&1
	flags+=("$(grep -o 'CKR_[A-Z_]*' "$W/puk.log" | head -1)")
done
is "${flags[*]}" "CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_LOCKED" \
	"3 wrong PUKs: refused, then the PUK is blocked (CKR_PIN_LOCKED)"
is "$(apdus 0 "002C008010$(pin_hex "$PUK2")$(pin_hex "$PIN")")" 6983 \
	"a blocked PUK refuses even the right PUK (6983)"
sign_9a "$PIN2"
ok $? "a blocked PUK leaves the PIN working"
check "card a pulled and put back" card_stop a
card_start a "$PCSC_PORT0" "$W/card-a"
is "$(apdus 0 "002C008010$(pin_hex "$PUK2")$(pin_hex "$PIN")")" 6983 "the PUK is still blocked after the restart"

# card b's 5 tries, counted by the card
flags=()
for n in 1 2 3 4 5 6; do
	flags+=("$(apdus 1 "0020008008$(pin_hex 999999)")")
done
is "${flags[*]}" "63C4 63C3 63C2 63C1 63C0 6983" "card b: 5 wrong PINs counted down to 0 tries, then blocked"
is "$(apdus 1 "002C008010$(pin_hex "$PUK")$(pin_hex "$PIN")")" 9000 "card b: unblocked with its PUK"
is "$(pin_status 1)" 63C5 "card b: 5 tries again"

# ---------------------------------------------------------------- a new management key
admin 1 "$W/key-b" 03 -s "00FFFFFF1B0A9B18$KEY_A"
is "$(replies "$W/admin.log" | tail -1 | cut -d' ' -f1)" 9000 \
	"card b: SET MANAGEMENT KEY (YubiKey INS FF) to an AES-192 key"
check "card b pulled" card_stop b
card_start b "$PCSC_PORT1" "$W/card-b"
ok $? "card b put back"
admin 1 "$W/key-a" 0A
ok $? "card b now authenticates with the new AES-192 key"
admin 1 "$W/key-b" 03
ok $((!$?)) "...and refuses its old 3DES key"

done_testing
