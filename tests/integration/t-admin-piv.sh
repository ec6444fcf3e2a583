#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso admin on a PIV token through a real PKCS#11 module: Yubico's ykcs11 (Debian's ykcs11
# 2.2) over the virtual PIV card answering as a YubiKey 5 (tests/vcard/piv-card.py --yubikey)
# in a private pcscd whose readers are named as a YubiKey's (ykcs11 serves no others). The
# catalogue's module choice; keygen in 9a (RSA-2048) and 9c (P-256) with the management key,
# asked as such; csr (openssl req -verify); a test CA issues (openssl ca); import; kyso sign
# verified by openssl; PIN change, the last try, a locked PIN unblocked with the PUK, the
# PUK changed; wrong PUKs until it is blocked, each try counted on the card; what the token
# refuses (RSA-3072, delete); a card pulled in the middle of a key generation; wipe; no
# secret in any log.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
# ykcs11 2.2 lists only readers whose name starts with "Yubico" (ykcs11/utils.c)
PCSC_FRIENDLYNAME="Yubico YubiKey OTP+FIDO+CCID"
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build "$KYSO_CLI"

YKCS11=
for f in /usr/lib/*/libykcs11.so.2 /usr/lib64/libykcs11.so.2; do
	if [ -r "$f" ]; then
		YKCS11=$f
		break
	fi
done
[ -n "$YKCS11" ] || _pcsc_unavailable "Yubico's ykcs11 is not installed (Debian: ykcs11)"

# Secrets no other text of the test bed holds, so that a log holding one is found.
MGMT=4a6b2c9d1e0f5a3b7c8d9e0f1a2b3c4d5e6f708192a3b4c5
PIN0=123456		# a YubiKey's factory PIN and PUK
PUK0=12345678
PIN=70419263
PIN2=58302746
PUK=81736450
SERIAL=20417388
CATALOGUE=catalogue=$KYSO_SRCDIR/drivers/tokens
CONF_ALLOW="$KP_ALLOW /usr/lib/*/libykcs11.so.* /usr/lib64/libykcs11.so.*"
STATE=

pcsc_start || bail_out "pcscd does not start"
card_make_demo "$T/yk" --blank --yubikey 5.4.3 --serial "$SERIAL" --mgmt-key "$MGMT" \
	>"$T/make-demo.log" 2>&1 || bail_out "piv-card.py --make-demo failed: $(cat "$T/make-demo.log")"
HOLD=$T/hold
card_start yk "$PCSC_PORT0" "$T/yk" --hold-file "$HOLD" || bail_out "the card does not start"
STATE=$PCSC_DIR/card-yk.state
# ykcs11: manufacturer "Yubico (www.yubico.com)", model "YubiKey YK5" (the ATR), the serial
TOK=$(token_id "Yubico (www.yubico.com)" "YubiKey YK5" "$SERIAL")

# card_says EXPR: a Python expression over the card's state file (`j`), the card's own count.
card_says()
{
	json_get "$1" "$(cat "$STATE" 2>/dev/null || echo '{}')"
}

# tries: "PIN tries, PUK tries" as the card counts them (3 each until a state is written).
tries()
{
	card_says 'str(j.get("pin_tries", 3)) + " " + str(j.get("puk_tries", 3))'
}

mark_log()
{
	LOG_MARK=$(wc -l < "$KYSO_PINENTRY_LOG")
}

new_log()
{
	tail -n +$((LOG_MARK + 1)) "$KYSO_PINENTRY_LOG"
}

new_getpins()
{
	new_log | grep -c '^GETPIN'
}

# Percent-decoded SETDESC, SETPROMPT and SETERROR texts of the new log lines.
new_texts()
{
	new_log | sed -n 's/^SET\(DESC\|PROMPT\|ERROR\|TITLE\) //p' | "$PY" -c '
import sys, urllib.parse
for line in sys.stdin.buffer.read().decode("utf-8", "replace").splitlines():
    print(urllib.parse.unquote(line, encoding="utf-8", errors="replace"))'
}

pins_say()
{
	{
		echo queue
		printf '%s\n' "$@"
	} > "$KYSO_PINENTRY_SCRIPT"
}

no_dialog()
{
	is "$(new_getpins)" 0 "$1: no dialog"
}

# inv_token EXPR: a Python expression over the token's object in GET /v1/admin/tokens (`t`).
inv_token()
{
	api GET /v1/admin/tokens
	json_get "(lambda t: $1)([t for t in j['tokens'] if t['id'] == '$TOK'][0])"
}

last_admin()
{
	json_get "$1" "$(grep '"event":"admin"' "$AUDIT_LOG" | tail -n 1)"
}

# ---------------------------------------------------------------- the catalogue's choice
# The IT staff's kysod: ykcs11 allowed, the catalogue on, no module named. The YubiKey's
# ATR finds the catalogue's YubiKey entry, whose first module is ykcs11: kysod starts it,
# and the card is served by that one module (plus OpenSC, kysod's default).
write_conf "$CATALOGUE" admin=yes request_timeout=30
start_kysod
for ((i = 0; i < 100; i++)); do
	api GET /v1/status
	json_get '[m["path"] for m in j["modules"] if m["state"] == "running"]' | grep -q ykcs11 && break
	sleep 0.1
done
like "$(json_get '" ".join(sorted(m["name"] + "=" + m["path"] for m in j["modules"]))')" \
	"^opensc=.* yubico-yubikey=$(realpath "$YKCS11")\$" \
	"the YubiKey inserted: kysod starts the catalogue's first module for it, ykcs11"
stop_kysod

# From here on the module is named, as docs/provisioning.md tells IT staff to do, and the
# card has one module: ykcs11 (autoload would pick the same).
write_conf --module "ykcs11=$YKCS11" "$CATALOGUE" admin=yes request_timeout=30
start_kysod
api GET /v1/status
is "$(json_get 'len(j["modules"])')" 1 "one module serves the card"
mark_log

# ---------------------------------------------------------------- inventory
kyso_ok "kyso admin inventory" admin inventory
like "$OUT" "Yubico YubiKey" "the inventory names the family"
is "$(inv_token 't["family"]["id"] + " " + t["model"] + " " + t["serial"]')" \
	"yubico-yubikey YubiKey YK5 $SERIAL" "GET /v1/admin/tokens: family, model and serial"
is "$(inv_token 't["management_key"]')" true "the token is a management key token"
is "$(inv_token '" ".join(t["safe_operations"])')" \
	"pin-change pin-unblock keygen import wipe" "the catalogue's safe operations"
is "$(inv_token 't["so_pin"]["tries_left"]')" null \
	"the PUK's tries are not known: ykcs11 does not report them"
is "$(inv_token 't["user_pin"]["state"] + " " + str(t["user_pin"]["tries_left"])')" "ok 3" \
	"the user PIN is ok, 3 tries (the catalogue's count for a YubiKey)"
no_dialog "inventory"

# ---------------------------------------------------------------- keygen
mark_log
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"Nguyễn Văn An\"}"
is_error 400 missing_field "keygen without key_id: the PIV slot must be named"
like "$(json_get 'j["error"]["message"]')" '01 \(9a, PIV authentication\)' "the error lists the slots"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"x\",\"key_id\":\"9a\"}"
is_error 400 invalid_value "keygen with key_id 9a (not a slot's CKA_ID)"
no_dialog "keygen without a PIV slot"

mark_log
pins_say "pin 010203040506070801020304050607080102030405060708"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"Nguyễn Văn An\",\"key_id\":\"01\"}"
is_error 403 pin_incorrect "keygen with a wrong management key: 403 pin_incorrect"
is "$(json_get 'j["error"]["pin"]["which"]')" management_key "the error names the management key"
is "$(new_getpins)" 1 "one dialog"
TEXTS=$(new_texts)
like "$TEXTS" "Management key:" "the dialog's prompt is the management key"
like "$TEXTS" "the token's management key .* 48 hexadecimal digits" \
	"the dialog says what a management key is"
unlike "$TEXTS" "PIN:" "the dialog does not ask for a PIN"
is "$(tries)" "3 3" "a wrong management key spends no PIN or PUK try"
mark_log
pins_say "pin 0102030405060708"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"Nguyễn Văn An\",\"key_id\":\"01\"}"
is_error 422 pin_rejected "a management key of 16 hex digits is refused before the token sees it"
pins_say "pin ${MGMT:0:46}zz"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"Nguyễn Văn An\",\"key_id\":\"01\"}"
is_error 422 pin_rejected "so is one with other characters than hex digits"
pins_say "pin $MGMT" "pin $MGMT"
kyso_ok "kyso admin keygen 9a RSA-2048 with the management key" admin keygen --token "$TOK" \
	--type rsa2048 --id 01 --label "Nguyễn Văn An"
like "$OUT" "Key pair 01 " "the key's id is its slot's"
kyso_ok "kyso admin keygen --json 9c P-256" admin keygen --token "$TOK" --type p256 --id 02 \
	--label "Nguyễn Văn An ký số" --json
json_get 'j["public_key"]' "$OUT" > "$T/an9c.pub"
pins_say "pin $MGMT"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa2048\",\"label\":\"x\",\"key_id\":\"01\"}"
is_error 409 object_exists "keygen into a slot that holds a key: object_exists"
is "$(card_says '" ".join(sorted(j["keys"]))')" "9a 9c" "the card holds keys in 9A and 9C"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa3072\",\"label\":\"x\",\"key_id\":\"03\"}"
is_error 422 mechanism_unsupported "RSA-3072, which ykcs11 2.2 does not make: mechanism_unsupported"
is "$(card_says '" ".join(sorted(j["keys"]))')" "9a 9c" "and nothing was made"
is "$(tries)" "3 3" "keygen spent no PIN or PUK try"
is "$(last_admin 'j["operation"] + " " + j["key_type"] + " " + j["result"]')" \
	"keygen rsa3072 mechanism_unsupported" "audit: the refused keygen"

# ---------------------------------------------------------------- csr, the CA, import
ca_init
mark_log
pins_say "pin $PIN0"
kyso_ok "kyso admin csr of the key in 9a" admin csr --token "$TOK" --key 01 --cn "Nguyễn Văn An" \
	--org "Trường THPT Chu Văn An" --country VN --out "$T/an.csr"
is "$(new_getpins)" 1 "csr asks for the user PIN once"
like "$(new_texts)" "PIN:" "csr asks for the PIN, not the management key"
openssl req -in "$T/an.csr" -verify -noout >"$T/req.out" 2>&1
ok $? "openssl req -verify accepts the RSA request made on the card"
pins_say "pin $PIN0" "pin $PIN0"
kyso_ok "kyso admin csr of the key in 9c (PIN always)" admin csr --token "$TOK" --key 02 \
	--cn "Nguyễn Văn An" --org "Trường THPT Chu Văn An" --country VN --out "$T/an9c.csr"
openssl req -in "$T/an9c.csr" -verify -noout >"$T/req.out" 2>&1
ok $? "openssl req -verify accepts the P-256 request"
is "$(openssl req -in "$T/an9c.csr" -noout -pubkey 2>/dev/null)" "$(cat "$T/an9c.pub")" \
	"the request holds the key generated in 9C"

# issue NAME CSR: the issuing CA signs the request (openssl ca).
issue()
{
	printf '%s\n' "[leaf]" "basicConstraints = critical,CA:false" \
		"keyUsage = critical,digitalSignature,nonRepudiation" \
		"subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" > "$T/$1.ext"
	openssl ca -batch -notext -config "$CA_DIR/int/ca.cnf" -in "$2" -out "$T/$1.pem" \
		-extfile "$T/$1.ext" -extensions leaf >"$T/$1.log" 2>&1 ||
		bail_out "the CA did not issue $1: $(cat "$T/$1.log")"
	openssl x509 -in "$T/$1.pem" -outform DER -out "$T/$1.der"
	CERT_PEM[$1]=$T/$1.pem
	CERT_ID[$1]=$(openssl dgst -sha256 -r "$T/$1.der" | cut -d' ' -f1)
}
issue an "$T/an.csr"
issue an9c "$T/an9c.csr"
KEY_TYPE[an]=rsa
KEY_TYPE[an9c]=ec

mark_log
pins_say "pin $MGMT"
kyso_ok "kyso admin import of 9a's certificate, with the chain" admin import --token "$TOK" \
	--cert "${CERT_PEM[an]}" --chain "$CA_BUNDLE"
like "$OUT" "key id 01" "the certificate goes to the key's slot"
like "$OUT" 'CA certificates: 0 stored, 0 there already, 2 not stored' \
	"no CA certificate is written into a PIV slot, and the answer says so"
like "$(new_texts)" "Management key:" "import asks for the management key"
pins_say "pin $MGMT"
api POST /v1/admin/import "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/an9c.der")\"}"
is "$STATUS $(json_get 'j["key_id"]')" "200 02" "import of 9c's certificate: 200, key 02"
is "$(card_says '" ".join(sorted(j["objects"]))')" "5fc105 5fc10a" \
	"the card holds the certificates in 5FC105 (9A) and 5FC10A (9C)"
is "$(inv_token 't["certificates"]' | "$PY" -c '
import json, sys
print(" ".join(sorted(c["key_id"] + ":" + c["key"] for c in json.load(sys.stdin))))')" \
	"01:present 02:present" "inventory: each certificate with its key"
kyso_ok "kyso admin inventory shows them" admin inventory
like "$OUT" "Nguyễn Văn An" "the holder's name in the inventory"
is "$(tries)" "3 3" "no PIN or PUK try spent so far"

# ---------------------------------------------------------------- signatures through ykcs11
api GET /v1/certificates
is "$(json_get '" ".join(sorted(c["id"] for c in j["certificates"] if c["token"] == "'"$TOK"'"))')" \
	"$(printf '%s\n' "${CERT_ID[an]}" "${CERT_ID[an9c]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"kysod lists the two certificates for signing"
pinentry_says "pin $PIN0"
sign_and_verify an sha256
sign_and_verify an9c sha256
printf 'Sổ điểm lớp 12A3\n' > "$T/record.txt"
kyso_ok "kyso sign with the certificate the CA issued" sign --cert "${CERT_ID[an]:0:12}" \
	--file "$T/record.txt" --out "$T/record.sig"
openssl x509 -in "${CERT_PEM[an]}" -noout -pubkey > "$T/an-cert.pub"
openssl dgst -sha256 -verify "$T/an-cert.pub" -signature "$T/record.sig" "$T/record.txt" \
	>"$T/dgst.out" 2>&1
ok $? "openssl verifies kyso sign's signature with the certificate"
api POST /v1/logout "{\"token\":\"$TOK\"}"

# ---------------------------------------------------------------- the user PIN
mark_log
pins_say "pin 99999999" "pin $PIN" "pin $PIN"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 403 pin_incorrect "PIN change with a wrong current PIN: pin_incorrect"
is "$(tries)" "2 3" "the card counted one wrong PIN"
is "$(inv_token 't["user_pin"]["state"]')" count_low "the inventory shows the count low (ykcs11's flags)"
pins_say "pin $PIN0" "pin $PIN" "pin $PIN"
kyso_ok "kyso admin pin change" admin pin change --token "$TOK"
is "$(card_says 'j["pin"] + " " + str(j["pin_tries"])')" "$PIN 3" \
	"the card has the new PIN and its tries back"
pins_say "pin 1234" "pin 1234"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
pins_say "pin $PIN" "pin 123" "pin 123"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 422 pin_rejected "a new PIN of 3 digits is refused (PIV: 6 to 8)"
is "$(tries)" "3 3" "and no try is spent on it"
for i in 1 2; do
	pins_say "pin 99999999" "pin $PIN2" "pin $PIN2"
	api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
done
is "$(tries)" "1 3" "two wrong PINs: one try left on the card"
is "$(inv_token 't["user_pin"]["state"] + " " + str(t["user_pin"]["tries_left"])')" "final_try 1" \
	"the inventory shows the last try"
mark_log
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 409 last_try "the last try is refused without force"
no_dialog "the last try without force"
pins_say "pin 99999999" "pin $PIN2" "pin $PIN2"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\",\"force\":true}"
is_error 403 pin_incorrect "with force, a wrong PIN"
is "$(json_get 'j["error"]["pin"]["state"]')" locked "the answer says the PIN is locked now"
is "$(tries)" "0 3" "the card's PIN is blocked"
mark_log
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 423 pin_locked "a locked PIN: pin_locked, no dialog"
no_dialog "a locked PIN"

# ---------------------------------------------------------------- the PUK
mark_log
pins_say "pin 87654321" "pin $PIN2" "pin $PIN2"
api POST /v1/admin/pin/unblock "{\"token\":\"$TOK\"}"
is_error 403 pin_incorrect "unblock with a wrong PUK: pin_incorrect"
is "$(json_get 'j["error"]["pin"]["which"] + " " + j["error"]["pin"]["state"]')" "so count_low" \
	"the error is the PUK's, its count low"
TEXTS=$(new_texts)
like "$TEXTS" "PUK:" "the dialog asks for the PUK"
like "$TEXTS" "does not tell how many PUK tries are left" "and says its tries are not known"
is "$(tries)" "0 2" "the card counted one wrong PUK, and no PIN try"
pins_say "pin $PUK0" "pin $PIN2" "pin $PIN2"
kyso_ok "kyso admin pin unblock with the PUK" admin pin unblock --token "$TOK"
is "$(card_says 'j["pin"]') $(tries)" "$PIN2 3 3" "the card has the new PIN, both counters full"
pins_say "pin $PUK0" "pin $PUK" "pin $PUK"
kyso_ok "kyso admin pin change --so changes the PUK" admin pin change --so --token "$TOK"
is "$(card_says 'j["puk"]')" "$PUK" "the card has the new PUK"
pinentry_says "pin $PIN2"
sign_and_verify an sha256
api POST /v1/logout "{\"token\":\"$TOK\"}"

# Wrong PUKs until it is blocked: each one try on the card, the answers as the card's.
for i in 1 2 3; do
	pins_say "pin 0000000$i" "pin $PIN" "pin $PIN"
	api POST /v1/admin/pin/unblock "{\"token\":\"$TOK\"}"
	is_error 403 pin_incorrect "wrong PUK $i: pin_incorrect"
	is "$(tries)" "3 $((3 - i))" "wrong PUK $i: the card has $((3 - i)) PUK tries left"
done
pins_say "pin $PUK" "pin $PIN" "pin $PIN"
api POST /v1/admin/pin/unblock "{\"token\":\"$TOK\"}"
is_error 423 pin_locked "then even the right PUK: pin_locked"
is "$(json_get 'j["error"]["pin"]["which"] + " " + j["error"]["pin"]["state"]')" "so locked" \
	"the error says the PUK is locked"
is "$(tries)" "3 0" "the PUK is blocked, the PIN untouched"
is "$(card_says 'j["pin"]')" "$PIN2" "and the PIN is the one set before"

# ---------------------------------------------------------------- what the token refuses
mark_log
api POST /v1/admin/delete "{\"token\":\"$TOK\",\"key_id\":\"01\"}"
is_error 422 operation_unsafe "delete: not safe on a YubiKey (keys cannot be deleted before 5.7)"
api POST /v1/admin/pin/set "{\"token\":\"$TOK\"}"
is_error 422 operation_unsafe "pin set: not safe on a YubiKey"
no_dialog "the unsafe operations"

# ---------------------------------------------------------------- a card pulled mid-keygen
touch "$HOLD"
pins_say "pin $MGMT"
api_bg_out=$T/keygen-bg.out
( api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"Dở dang\",\"key_id\":\"03\"}"
  printf '%s %s\n' "$STATUS" "$BODY" > "$api_bg_out" ) &
BG=$!
for ((i = 0; i < 1000; i++)); do
	grep -q 'key generation in 9d: held' "$PCSC_DIR/card-yk.log" && break
	sleep 0.02
done
grep -q 'key generation in 9d: held' "$PCSC_DIR/card-yk.log"
ok $? "the card is in the middle of the key generation"
card_stop yk
ok $? "the card is pulled out"
rm -f "$HOLD"
wait "$BG"
read -r BG_STATUS BG_BODY < "$api_bg_out"
like "$BG_STATUS $(json_get 'j["error"]["code"]' "$BG_BODY")" '^50[23] token_(error|removed)$' \
	"the keygen fails with the token's error"
like "$(json_get 'j["error"]["message"]' "$BG_BODY")" 'may have been changed in part' \
	"the error says the token may hold part of it"
card_start yk "$PCSC_PORT0" "$T/yk" --hold-file "$HOLD" || bail_out "the card does not start again"
for ((i = 0; i < 50; i++)); do
	inv_token 't["keys"]' >/dev/null 2>&1 && break
	sleep 0.1
done
is "$(inv_token 't["keys"]' | "$PY" -c '
import json, sys
print(" ".join(sorted(k["key_id"] + ":" + str(len(k["certificates"])) for k in json.load(sys.stdin))))')" \
	"01:1 02:1 03:0" "back in: the inventory shows the key made in 9D, without a certificate"
is "$(last_admin 'j["operation"] + " " + j["key_id"] + " " + j["result"]')" \
	"keygen 03 token_error" "audit: the keygen that failed"

# ---------------------------------------------------------------- wipe
mark_log
pins_say "pin $MGMT"
kyso_ok "kyso admin wipe with the management key (the PUK is blocked)" admin wipe --token "$TOK"
like "$(new_texts)" "Management key:" "wipe asks for the management key"
is "$(card_says '" ".join(sorted(j["keys"])) + "|" + j["pin"] + " " + j["puk"]') $(tries)" \
	"|$PIN0 $PUK0 3 3" "the card is as it left the factory: no keys, PIN and PUK reset"
is "$(card_says 'j["mgmt_key"]')" "$MGMT" "with the management key given"
is "$(inv_token 't["keys"]')" "[]" "the inventory shows no key"

# ---------------------------------------------------------------- no secret anywhere
for s in "$MGMT" "$PIN" "$PIN2" "$PUK"; do
	if grep -rqF -- "$s" "$KYSOD_LOG" "$AUDIT_LOG" "$PCSC_DIR/pcscd.log" 2>/dev/null; then
		fail "no log holds the secret ${s:0:2}…"
	else
		pass "no log holds the secret ${s:0:2}…"
	fi
done
is "$(grep '"event":"admin"' "$AUDIT_LOG" | "$PY" -c '
import json, sys
ok = [json.loads(l) for l in sys.stdin if "\"result\":\"ok\"" in l]
print(" ".join(sorted(set(e["operation"] for e in ok))))')" \
	"csr import keygen pin-change pin-unblock wipe" "audit: a line for each operation done"
kyso_ok "kyso audit verify" audit verify
stop_kysod
done_testing
