#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso admin: provisioning through kysod. Refused while admin is off and on the loopback
# listener; then on SoftHSM2 the whole flow: inventory, init, keygen (RSA and EC), csr (openssl
# req -verify, the UTF-8 subject kept), a test CA issues the certificates, import with the
# chain, signatures with them verified by openssl, PIN change (user and SO, a new PIN typed
# twice, refused when it does not fit), unblock and set with the SO PIN, delete, wipe; what
# SoftHSM2 does after wrong PINs (it counts no tries); the mock module for the catalogue's
# refusals, the last try (force) and a locked PIN; bad input to every route; the audit lines.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-web.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
# (for its event stream reader: events_start, events_mark, wait_event)
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
require_build "$KYSO_CLI"
require_softhsm

# PINs no other text of the test bed holds, so that a log holding one is found.
SO_PIN=so-7302914
SO_PIN2=so-5518046
PIN=u-4471920
PIN2=u-9036271
PIN3=u-6620583
PIN4=u-1184637
CATALOGUE=catalogue=$KYSO_SRCDIR/drivers/tokens

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

# Percent-decoded SETDESC and SETPROMPT texts of the new log lines.
new_texts()
{
	new_log | sed -n 's/^SET\(DESC\|PROMPT\|ERROR\|TITLE\) //p' | "$PY" -c '
import sys, urllib.parse
for line in sys.stdin.buffer.read().decode("utf-8", "replace").splitlines():
    print(urllib.parse.unquote(line, encoding="utf-8", errors="replace"))'
}

# pins_say ANSWER...: the scripted pinentry answers the next GETPINs in this order.
pins_say()
{
	{
		echo queue
		printf '%s\n' "$@"
	} > "$KYSO_PINENTRY_SCRIPT"
}

# no_dialog DESC: the last request showed no dialog (one TAP line).
no_dialog()
{
	is "$(new_getpins)" 0 "$1: no PIN dialog"
}

admin_lines()
{
	grep -c '"event":"admin"' "$AUDIT_LOG" 2>/dev/null
}

# last_admin EXPR: a Python expression over the last admin line of the audit log (`j`).
last_admin()
{
	json_get "$1" "$(grep '"event":"admin"' "$AUDIT_LOG" | tail -n 1)"
}

# inv_token ID EXPR: EXPR over token ID's object of GET /v1/admin/tokens (`j`).
inv_token()
{
	api GET /v1/admin/tokens
	json_get "[t for t in j['tokens'] if t['id'] == '$1'][0]$2"
}

# ---------------------------------------------------------------- admin off
_softhsm_conf
write_conf --module "softhsm=$SOFTHSM" "$CATALOGUE"
start_kysod
mark_log
api GET /v1/admin/tokens
is_error 403 admin_disabled "admin off (the default): GET /v1/admin/tokens is refused"
api GET /v1/tokens
UNINIT=$(json_get 'j["tokens"][0]["id"]' 2>/dev/null)
api POST /v1/admin/init '{"token":"00112233445566778899aabbccddeeff","label":"x"}'
is_error 403 admin_disabled "admin off: POST /v1/admin/init is refused"
api POST /v1/admin/keygen '{"token":"00112233445566778899aabbccddeeff","key_type":"p256","label":"x"}'
is_error 403 admin_disabled "admin off: POST /v1/admin/keygen is refused"
like "$(json_get 'j["error"]["message"]')" 'admin = yes' "the error says how to turn it on"
kyso_exit "admin off: kyso admin inventory fails" 1 admin inventory
like "$ERR" 'admin_disabled' "kyso admin inventory names admin_disabled"
no_dialog "admin off"
is "$(admin_lines)" 0 "admin off: no admin line in the audit log"
stop_kysod

# ---------------------------------------------------------------- the loopback listener
web_ports
web_conf --module "softhsm=$SOFTHSM" "$CATALOGUE" admin=yes
start_kysod
mark_log
wapi GET /v1/admin/tokens "$WEB_ADMIN_ORIGIN"
is_error 403 not_for_browsers "loopback listener, an allowed origin: GET /v1/admin/tokens is refused"
wapi POST /v1/admin/init "$WEB_ADMIN_ORIGIN" '{"token":"00112233445566778899aabbccddeeff","label":"x"}'
is_error 403 not_for_browsers "loopback listener: POST /v1/admin/init is refused"
wapi POST /v1/admin/pin/change "$WEB_ADMIN_ORIGIN" '{"token":"00112233445566778899aabbccddeeff"}'
is_error 403 not_for_browsers "loopback listener: POST /v1/admin/pin/change is refused"
no_dialog "loopback listener"
api GET /v1/admin/tokens
is "$STATUS" 200 "the same kysod serves GET /v1/admin/tokens on its Unix socket"
is "$(admin_lines)" 0 "loopback listener: no admin line in the audit log"
stop_kysod

# ---------------------------------------------------------------- SoftHSM2: inventory
write_conf --module "softhsm=$SOFTHSM" "$CATALOGUE" admin=yes pin_timeout=10
start_kysod
api GET /v1/admin/tokens
is "$STATUS" 200 "GET /v1/admin/tokens: 200"
is "$(json_get 'len(j["tokens"])')" 1 "one token: SoftHSM2's slot that is not initialised"
UNINIT=$(json_get 'j["tokens"][0]["id"]')
is "$(json_get 'j["tokens"][0]["initialized"]')" false "it is not initialised"
is "$(json_get 'j["tokens"][0]["family"]["id"]')" softhsm2 "its family is softhsm2 (by its module)"
is "$(json_get '" ".join(j["tokens"][0]["safe_operations"])')" \
	"init pin-change pin-unblock pin-set keygen import delete wipe" \
	"the catalogue lists every operation as safe for SoftHSM2"
is "$(json_get 'j["tokens"][0]["user_pin"]["state"] + " " + j["tokens"][0]["so_pin"]["state"]')" \
	"not_initialized not_initialized" "neither PIN is initialised"
kyso_ok "kyso admin inventory" admin inventory
like "$OUT" 'not initialised' "the table shows the token as not initialised"
like "$OUT" 'SoftHSM v2' "the table names its family"
kyso_ok "kyso admin inventory --csv" admin inventory --csv
is "$(printf '%s\n' "$OUT" | head -n 1 | tr -d '\r' | cut -d, -f1-3)" "token,label,family" "CSV header"
is "$(printf '%s\n' "$OUT" | wc -l)" 2 "CSV: the header and one line for the token"

# ---------------------------------------------------------------- init
events_start
EV_MARK=$(events_mark)
mark_log
pins_say "pin $SO_PIN" "pin $PIN"
kyso_ok "kyso admin init with a prefix of the token's id" \
	admin init --token "${UNINIT:0:10}" --label "Trường Kyso 01"
TOK=$(printf '%s\n' "$OUT" | sed -n 's/^Token \([0-9a-f]\{32\}\) initialised.*/\1/p')
is "${#TOK}" 32 "the new token id is printed"
is "$(new_getpins)" 2 "two PIN dialogs: the SO PIN and the user PIN"
is "$(new_log | grep -c '^SETREPEAT ')" 2 "each new PIN is typed twice (SETREPEAT)"
TEXTS=$(new_texts)
like "$TEXTS" 'initialise a token as "Trường Kyso 01"' "the dialog says which operation"
like "$TEXTS" 'Token: "\(no label\)" \(SoftHSM v2, serial none\)' "the dialog says which token"
like "$TEXTS" '/kyso' "the dialog names the program that asks"
like "$TEXTS" '4 to 255 characters' "the dialog gives the PIN's length"
api GET "/v1/tokens/$TOK"
is "$STATUS $(json_get 'j["label"]')" "200 Trường Kyso 01" "kysod's token list has the new token with its label"
wait_event "$EV_MARK" token-inserted "$TOK"
ok $? "the event stream says the new token came (token-inserted)"
events_stop
is "$(last_admin 'j["operation"] + " " + j["result"] + " " + j["new_token"]')" "init ok $TOK" \
	"audit: init, ok, the new token's id"
mark_log
api POST /v1/admin/init "{\"token\":\"$TOK\",\"label\":\"again\"}"
is_error 409 token_initialized "init of an initialised token: 409 token_initialized"
no_dialog "init of an initialised token"

# ---------------------------------------------------------------- keygen
mark_log
pins_say "pin $PIN"
kyso_ok "kyso admin keygen rsa2048" admin keygen --token "$TOK" --type rsa2048 \
	--label "Chữ ký Nguyễn Văn An" --out "$T/an.pub"
RSA_ID=$(printf '%s\n' "$OUT" | sed -n 's/^Key pair \([0-9a-f]*\) .*/\1/p')
is "${#RSA_ID}" 40 "without --id the key id is 20 bytes (SHA-1 of the public key)"
is "$(new_getpins)" 1 "keygen asks for the user PIN once"
like "$(new_texts)" 'generate an RSA-2048 key pair "Chữ ký Nguyễn Văn An"' "the keygen dialog says what"
is "$(openssl pkey -pubin -in "$T/an.pub" -noout -text 2>/dev/null | grep -c 'Public-Key: (2048 bit)')" 1 \
	"--out wrote the RSA-2048 public key"
pinentry_says "pin $PIN"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"ec-p256\",\"key_id\":\"0B\"}"
is "$STATUS $(json_get 'j["key_id"]')" "200 0b" "keygen p256 with key_id 0B: 200, id 0b"
json_get 'j["public_key"]' > "$T/ec.pub"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"p384\",\"label\":\"ec-p384\",\"key_id\":\"0c\"}"
is "$STATUS" 200 "keygen p384: 200"
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"rsa3072\",\"label\":\"rsa-3072\",\"key_id\":\"0d\"}"
is "$STATUS $(json_get 'j["key_type"]')" "200 rsa3072" "keygen rsa3072: 200"
is "$(last_admin 'j["operation"] + " " + j["key_type"] + " " + j["key_id"] + " " + j["result"]')" \
	"keygen rsa3072 0d ok" "audit: keygen with its key type and id"
mark_log
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"again\",\"key_id\":\"0b\"}"
is_error 409 object_exists "keygen with a key id the token has: 409 object_exists"
no_dialog "keygen with a taken key id"
is "$(inv_token "$TOK" '["keys"]' | "$PY" -c 'import json,sys; print(" ".join(sorted(k["key_id"][:4] + ":" + k["key_type"] + ":" + str(k.get("key_bits", k.get("curve"))) for k in json.load(sys.stdin))))')" \
	"$(printf '%s\n' "0b:ec:P-256" "0c:ec:P-384" "0d:rsa:3072" "${RSA_ID:0:4}:rsa:2048" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the inventory lists the four keys with their types and sizes"
is "$(inv_token "$TOK" '["keys"][0]["certificates"]')" "[]" "a new key has no certificate"
kyso_ok "kyso admin inventory after keygen" admin inventory
like "$OUT" "key $RSA_ID \\(Chữ ký Nguyễn Văn An\\) has no certificate" \
	"the table notes a key without a certificate"

# ---------------------------------------------------------------- csr
ca_init
mark_log
pinentry_says "pin $PIN"
kyso_ok "kyso admin csr of the RSA key" admin csr --token "$TOK" --key "$RSA_ID" \
	--cn "Nguyễn Văn An" --org "Trường THPT Chu Văn An" --unit "Tổ Toán - Tin" \
	--locality "Hà Nội" --country VN --uid "CCCD:001099012345" --out "$T/an.csr"
is "$(new_getpins)" 1 "csr asks for the user PIN once"
like "$(new_texts)" 'sign a certificate request for Nguyễn Văn An' "the csr dialog says what"
is "$(stat -c %a "$T/an.csr") $(find "$T" -maxdepth 1 -name 'an.csr.*' | wc -l)" "600 0" \
	"--out: the request is 0600 (it names the holder and their id number), no temporary file left"
pinentry_says "pin $PIN"
kyso_exit "csr --out into a directory that is not there" 1 admin csr --token "$TOK" \
	--key "$RSA_ID" --cn "Nguyễn Văn An" --country VN --out "$T/no-such-dir/an.csr"
like "$ERR" "cannot write $T/no-such-dir/an.csr: No such file or directory \\(file_error\\)" \
	"...file_error, with the path and why"
api GET /v1/status
is "$STATUS $(ls -A "$T/no-such-dir" 2>/dev/null | wc -l)" "200 0" \
	"kysod still serves, and nothing was written"
openssl req -in "$T/an.csr" -verify -noout >"$T/req.out" 2>&1
ok $? "openssl req -verify accepts the RSA request"
SUBJ=$(openssl req -in "$T/an.csr" -noout -subject -nameopt utf8,sep_comma_plus 2>/dev/null)
is "$SUBJ" "subject=C=VN,L=Hà Nội,O=Trường THPT Chu Văn An,OU=Tổ Toán - Tin,CN=Nguyễn Văn An,UID=CCCD:001099012345" \
	"the request's subject keeps the Vietnamese names"
is "$(openssl asn1parse -in "$T/an.csr" 2>/dev/null | grep -c 'UTF8STRING')" 5 \
	"the names are UTF8Strings (C stays a PrintableString)"
is "$(openssl req -in "$T/an.csr" -noout -pubkey 2>/dev/null)" "$(cat "$T/an.pub")" \
	"the request holds the key generated on the token"
like "$(openssl req -in "$T/an.csr" -noout -text 2>/dev/null)" 'sha256WithRSAEncryption' \
	"RSA request: sha256WithRSAEncryption"
pinentry_says "pin $PIN"
api POST /v1/admin/csr "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"Trần Thị Bích Ngọc\",\"O\":\"Trường Kyso\",\"C\":\"VN\"}}"
is "$STATUS $(json_get 'j["algorithm"]')" "200 ecdsa-sha256" "csr of the P-256 key: 200, ecdsa-sha256"
json_get 'j["csr"]' > "$T/ngoc.csr"
openssl req -in "$T/ngoc.csr" -verify -noout >/dev/null 2>&1
ok $? "openssl req -verify accepts the EC request"
is "$(openssl req -in "$T/ngoc.csr" -noout -pubkey 2>/dev/null)" "$(cat "$T/ec.pub")" \
	"the EC request holds the P-256 key generated on the token"
# the key id in capitals, as keygen and delete take it
pinentry_says "pin $PIN"
api POST /v1/admin/csr "{\"token\":\"$TOK\",\"key_id\":\"0B\",\"subject\":{\"CN\":\"Ngọc\"}}"
is "$STATUS" 200 "csr with the key id in capitals (0B): 200" || diag "$BODY"
json_get 'j["csr"]' > "$T/ngoc2.csr"
is "$(openssl req -in "$T/ngoc2.csr" -noout -pubkey 2>/dev/null)" "$(cat "$T/ec.pub")" \
	"...for the same key as 0b"
openssl req -in "$T/ngoc2.csr" -verify -noout >/dev/null 2>&1
ok $? "...and openssl req -verify accepts it"
pinentry_says "pin $PIN"
api POST /v1/admin/csr "{\"token\":\"$TOK\",\"key_id\":\"0c\",\"hash_algorithm\":\"sha384\",\"subject\":{\"CN\":\"Lê Hoàng Phúc\",\"OU\":[\"Tổ Văn\",\"Chủ nhiệm 10A1\"]}}"
is "$STATUS $(json_get 'j["algorithm"]')" "200 ecdsa-sha384" "csr of the P-384 key with sha384"
json_get 'j["csr"]' > "$T/phuc.csr"
openssl req -in "$T/phuc.csr" -verify -noout >/dev/null 2>&1
ok $? "openssl req -verify accepts the P-384 request (two OUs)"
is "$(last_admin 'j["operation"] + " " + j["subject"] + " " + j["result"]')" "csr Lê Hoàng Phúc ok" \
	"audit: csr with the holder's name"

# ---------------------------------------------------------------- the CA issues them
# issue NAME CSR DAYS: the issuing CA signs the request as it is (openssl x509 -req).
issue()
{
	printf '%s\n' "basicConstraints=critical,CA:false" \
		"keyUsage=critical,digitalSignature,nonRepudiation" "subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" > "$T/keys/$1.ext"
	openssl x509 -req -in "$2" -CA "$CA_INT" -CAkey "$CA_DIR/int/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days "$3" -sha256 -extfile "$T/keys/$1.ext" \
		-out "$T/keys/$1.pem" >"$T/keys/$1.log" 2>&1 || bail_out "the CA did not issue $1: $(cat "$T/keys/$1.log")"
	openssl x509 -in "$T/keys/$1.pem" -outform DER -out "$T/keys/$1.der"
	CERT_PEM[$1]=$T/keys/$1.pem
	CERT_ID[$1]=$(openssl dgst -sha256 -r "$T/keys/$1.der" | cut -d' ' -f1)
}
issue an "$T/an.csr" 10
issue ngoc "$T/ngoc.csr" 365
issue phuc "$T/phuc.csr" 365
KEY_TYPE[an]=rsa
KEY_TYPE[ngoc]=p256
is "$(openssl x509 -in "${CERT_PEM[an]}" -noout -subject -nameopt utf8,sep_comma_plus)" "$SUBJ" \
	"the issued certificate has the request's subject"

# ---------------------------------------------------------------- import
mark_log
pinentry_says "pin $PIN"
kyso_ok "kyso admin import with the chain" admin import --token "$TOK" --cert "${CERT_PEM[an]}" \
	--chain "$CA_BUNDLE"
like "$OUT" "key id $RSA_ID, label \"Chữ ký Nguyễn Văn An\"" "the certificate gets the key's id and label"
like "$OUT" 'CA certificates: 2 stored, 0 there already, 0 not stored' "both CA certificates stored"
is "$(new_getpins)" 1 "import asks for the user PIN once"
pinentry_says "pin $PIN"
api POST /v1/admin/import "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\",\"label\":\"Ngọc ký số\",\"chain\":[\"$(sed ':a;N;$!ba;s/\n/\\n/g' "$CA_INT")\"]}"
is "$STATUS $(json_get 'j["key_id"] + " " + j["label"] + " " + str(j["chain_present"])')" \
	"200 0b Ngọc ký số 1" "import of base64 DER with a label: its key's id, the label, the CA there already"
mark_log
api POST /v1/admin/import "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\"}"
is_error 409 object_exists "importing a certificate that is there: 409 object_exists"
no_dialog "importing a certificate that is there"
ca_issue stranger p256 "Người Lạ"
pinentry_says "pin $PIN"
api POST /v1/admin/import "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/stranger.der")\"}"
is_error 409 key_not_found "a certificate whose key is not on the token: 409 key_not_found"
pkcs11-tool --module "$SOFTHSM" --token-label "Trường Kyso 01" -O > "$T/objects.txt" 2>&1
is "$(grep -A4 '^Certificate Object' "$T/objects.txt" | grep -c "ID: *$RSA_ID")" 1 \
	"pkcs11-tool sees the certificate with the key's CKA_ID"
is "$(grep -A4 '^Public Key Object' "$T/objects.txt" | grep -c 'label: *Ngọc ký số')" 1 \
	"the key's public half got the certificate's label"
is "$(inv_token "$TOK" '["certificates"]' | "$PY" -c '
import json, sys
c = {x["subject_cn"]: x for x in json.load(sys.stdin)}
a = c["Nguyễn Văn An"]
print(a["key"], a["key_id"], a["days_left"] in (9, 10), c["Kyso Test Issuing CA"]["ca"], c["Kyso Test Issuing CA"]["key"])')" \
	"present $RSA_ID True True None" "inventory: paired by key id, days left, CA certificates marked"
kyso_ok "kyso admin inventory --csv after import" admin inventory --csv
is "$(printf '%s\n' "$OUT" | grep -c ',certificate,')" 2 "CSV: one line per user certificate"
is "$(printf '%s\n' "$OUT" | grep -c ',ca_certificate,')" 2 "CSV: one line per CA certificate"

# ---------------------------------------------------------------- signatures with them
api GET /v1/certificates
is "$(json_get '" ".join(sorted(c["id"] for c in j["certificates"] if c["token"] == "'"$TOK"'"))')" \
	"$(for f in "${CERT_PEM[an]}" "${CERT_PEM[ngoc]}" "$CA_ROOT" "$CA_INT"; do
		openssl x509 -in "$f" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
	done | sort | tr '\n' ' ' | sed 's/ $//')" \
	"kysod lists the imported certificates (and the CA's) for signing"
pinentry_says "pin $PIN"
sign_and_verify an sha256
sign_and_verify ngoc sha256
printf 'Sổ điểm lớp 10A1\n' > "$T/record.txt"
kyso_ok "kyso sign with the imported certificate" sign --cert "${CERT_ID[an]:0:12}" \
	--file "$T/record.txt" --out "$T/record.sig"
openssl x509 -in "${CERT_PEM[an]}" -noout -pubkey > "$T/an-cert.pub"
openssl dgst -sha256 -verify "$T/an-cert.pub" -signature "$T/record.sig" "$T/record.txt" \
	>"$T/dgst.out" 2>&1
ok $? "openssl verifies kyso sign's signature with the certificate the CA issued"
api GET "/v1/tokens/$TOK"
is "$(json_get 'j["pin"]["logged_in"]')" true "the token is logged in after the signatures (login_ttl)"
pinentry_says "pin u-0000000"
api POST /v1/admin/csr "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"Trần Thị Bích Ngọc\"}}"
is_error 403 pin_incorrect "csr while the token is logged in: a wrong PIN is still refused"
pinentry_says "pin $PIN"
api POST /v1/admin/csr "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"Trần Thị Bích Ngọc\"}}"
is "$STATUS" 200 "and the right one signs the request"
kyso_ok "kyso certs" certs --token "$TOK"
like "$ERR" 'warning: the certificate of Nguyễn Văn An .* expires on' "kyso certs warns of the certificate that ends within 30 days"
unlike "$ERR" 'Trần Thị Bích Ngọc' "not of the one valid for a year"
kyso_ok "kyso tokens" tokens
like "$ERR" 'warning: the certificate of Nguyễn Văn An' "kyso tokens warns of it too"

# ---------------------------------------------------------------- PINs
mark_log
pins_say "pin $PIN" "pin 12"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 422 pin_rejected "a new PIN shorter than the token takes: 422 pin_rejected"
like "$(json_get 'j["error"]["message"]')" '4 to 255 characters' "the error says the length"
is "$(inv_token "$TOK" '["user_pin"]["state"]')" ok "the token was not asked: its PIN state is ok"
mark_log
pins_say "pin $PIN" "norepeat $PIN2" "pin u-0000000"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 422 pin_mismatch "a pinentry without SETREPEAT: a second entry that differs is 422 pin_mismatch"
is "$(new_getpins)" 3 "the new PIN was asked in a dialog of its own once more"
mark_log
pins_say "pin $PIN" "pin $PIN2"
kyso_ok "kyso admin pin change" admin pin change --token "$TOK"
like "$OUT" 'user PIN of token .* is changed' "pin change says so"
is "$(new_getpins)" 2 "pin change: the current PIN, then the new one"
like "$(new_texts)" "change a token's user PIN" "the dialog says what"
pinentry_says "pin $PIN2"
sign_and_verify ngoc sha384
pinentry_says "pin $PIN"
api POST /v1/logout "{\"token\":\"$TOK\"}"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[an]}" sha256)"
is_error 403 pin_incorrect "the old PIN no longer signs"
mark_log
pins_say "pin u-0000000" "pin $PIN3"
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 403 pin_incorrect "pin change with a wrong current PIN: 403 pin_incorrect"
is "$(json_get 'j["error"]["pin"]["which"] + " " + j["error"]["pin"]["state"]')" "user count_low" \
	"the error gives the user PIN's state"
mark_log
pins_say "pin $SO_PIN" "pin $SO_PIN2"
kyso_ok "kyso admin pin change --so" admin pin change --token "$TOK" --so
like "$(new_texts)" "change a token's SO PIN" "the dialog says it is the SO PIN"

# SoftHSM2 counts no tries: wrong PINs leave its user PIN at count_low, never final_try nor
# locked. What is checked of a lock is therefore checked with the mock module below.
for i in 1 2 3 4 5 6 7 8; do
	pkcs11-tool --module "$SOFTHSM" --token-label "Trường Kyso 01" --login --pin "u-99$i" -O \
		>/dev/null 2>&1
done
is "$(inv_token "$TOK" '["user_pin"]["state"]') $(inv_token "$TOK" '["user_pin"]["locked"]')" \
	"count_low false" "SoftHSM2 after 8 wrong PINs: count_low, not locked (it counts no tries)"
mark_log
pins_say "pin $SO_PIN2" "pin $PIN3"
kyso_ok "kyso admin pin unblock with the SO PIN" admin pin unblock --token "$TOK"
is "$(new_getpins)" 2 "unblock: the SO PIN, then the new user PIN"
is "$(inv_token "$TOK" '["user_pin"]["state"]')" ok "after the unblock the user PIN is ok again"
pinentry_says "pin $PIN3"
sign_and_verify an sha256
pins_say "pin $SO_PIN2" "pin $PIN4"
kyso_ok "kyso admin pin set" admin pin set --token "$TOK"
pinentry_says "pin $PIN4"
sign_and_verify ngoc sha256
mark_log
pins_say "pin so-0000000" "pin $PIN"
api POST /v1/admin/pin/unblock "{\"token\":\"$TOK\"}"
is_error 403 pin_incorrect "unblock with a wrong SO PIN: 403 pin_incorrect"
is "$(json_get 'j["error"]["pin"]["which"]')" so "the error is about the SO PIN"

# ---------------------------------------------------------------- delete
mark_log
pinentry_says "pin $PIN4"
kyso_ok "kyso admin delete --cert" admin delete --token "$TOK" --cert "${CERT_ID[ngoc]}"
like "$(new_texts)" 'delete the certificate of Trần Thị Bích Ngọc' "the dialog names the holder"
api GET "/v1/certificates/${CERT_ID[ngoc]}"
is "$STATUS" 404 "the deleted certificate is gone from kysod's list"
is "$(inv_token "$TOK" '["keys"]' | "$PY" -c 'import json,sys; print([k["certificates"] for k in json.load(sys.stdin) if k["key_id"] == "0b"][0])')" \
	"[]" "its key is now a key without a certificate"
pinentry_says "pin $PIN4"
api POST /v1/admin/delete "{\"token\":\"$TOK\",\"key_id\":\"0c\"}"
is "$STATUS" 200 "delete of the key pair 0c: 200"
is "$(inv_token "$TOK" '["keys"]' | "$PY" -c 'import json,sys; print(sum(k["key_id"] == "0c" for k in json.load(sys.stdin)))')" \
	0 "both halves of key 0c are gone"
mark_log
api POST /v1/admin/delete "{\"token\":\"$TOK\",\"certificate\":\"$(printf '%064d' 0)\"}"
is_error 404 object_not_found "delete of a certificate the token does not have: 404"
no_dialog "delete of an unknown certificate"
pinentry_says "pin $PIN4"
api POST /v1/admin/delete "{\"token\":\"$TOK\",\"key_id\":\"99\"}"
is_error 404 object_not_found "delete of a key id the token does not have: 404 (once logged in)"

# ---------------------------------------------------------------- wipe
mark_log
pinentry_says "pin so-0000000"
api POST /v1/admin/wipe "{\"token\":\"$TOK\"}"
is_error 403 pin_incorrect "wipe with a wrong SO PIN: 403 pin_incorrect"
is "$(inv_token "$TOK" '["keys"]' | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)) > 0)')" True \
	"nothing was deleted"
mark_log
pinentry_says "pin $SO_PIN2"
kyso_ok "kyso admin wipe" admin wipe --token "$TOK" --label "Trường Kyso 02"
like "$(new_texts)" 'wipe a token: every key and certificate on it is deleted' "the wipe dialog warns"
is "$(inv_token "$TOK" '["label"]')" "Trường Kyso 02" "the wiped token has its new label"
is "$(inv_token "$TOK" '["keys"]') $(inv_token "$TOK" '["certificates"]')" "[] []" \
	"no key or certificate is left"
is "$(inv_token "$TOK" '["user_pin"]["state"]')" not_initialized "the user PIN is gone with them"
api GET /v1/certificates
is "$(json_get 'sum(c["token"] == "'"$TOK"'" for c in j["certificates"])')" 0 "kysod lists no certificate of it"
mark_log
api POST /v1/admin/keygen "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"x\"}"
is_error 409 token_not_initialized "keygen on a token without a user PIN: 409 token_not_initialized"
no_dialog "keygen without a user PIN"
pins_say "pin $SO_PIN2" "pin $PIN"
kyso_ok "kyso admin pin set after the wipe" admin pin set --token "$TOK"
is "$(inv_token "$TOK" '["user_pin"]["state"]')" ok "the token has a user PIN again"

# ---------------------------------------------------------------- bad input
LINES_BEFORE=$(admin_lines)
mark_log
# bad REQ DESC STATUS CODE BODY: one request to route REQ; one TAP line.
bad()
{
	api POST "/v1/admin/$1" "$5"
	is_error "$3" "$4" "$1: $2: $3 $4"
}
head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big.json"
for r in init pin/change pin/unblock pin/set keygen csr import delete wipe; do
	bad "$r" "malformed JSON" 400 bad_request '{"token":'
	bad "$r" "not an object" 400 bad_request '["token"]'
	bad "$r" "an unknown member" 400 unknown_field "{\"token\":\"$TOK\",\"pin\":\"123456\"}"
	bad "$r" "no token" 400 missing_field '{}'
	bad "$r" "token not a string" 400 invalid_type '{"token":7}'
	bad "$r" "token not an id" 400 invalid_value '{"token":"../../etc"}'
	bad "$r" "force not a boolean" 400 invalid_type "{\"token\":\"$TOK\",\"force\":\"yes\"}"
	API_CTYPE=text/plain
	bad "$r" "not JSON" 415 unsupported_media_type "{\"token\":\"$TOK\"}"
	API_CTYPE=application/json
	api_file POST "/v1/admin/$r" "$T/big.json"
	is_error 413 body_too_large "$r: a body over max_body: 413 body_too_large"
done
bad init "no label" 400 missing_field "{\"token\":\"$UNINIT\"}"
bad init "a label over 32 bytes" 400 invalid_value "{\"token\":\"$UNINIT\",\"label\":\"Trường Trung học phổ thông Kyso\"}"
bad init "a label with a control character" 400 invalid_value "{\"token\":\"$UNINIT\",\"label\":\"a\\nb\"}"
bad pin/change "so not a boolean" 400 invalid_type "{\"token\":\"$TOK\",\"so\":1}"
bad keygen "no key_type" 400 missing_field "{\"token\":\"$TOK\",\"label\":\"x\"}"
bad keygen "an unknown key_type" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"rsa1024\",\"label\":\"x\"}"
bad keygen "no label" 400 missing_field "{\"token\":\"$TOK\",\"key_type\":\"p256\"}"
bad keygen "a key_id of odd length" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"x\",\"key_id\":\"abc\"}"
bad keygen "a key_id that is not hex" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"x\",\"key_id\":\"zz\"}"
bad keygen "a key_id over 64 bytes" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"x\",\"key_id\":\"$(printf '%0130d' 0)\"}"
bad keygen "a label over 64 bytes" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"$(printf '%065d' 0)\"}"
bad csr "no key_id" 400 missing_field "{\"token\":\"$TOK\",\"subject\":{\"CN\":\"A\"}}"
bad csr "a key_id that is not a string" 400 invalid_type "{\"token\":\"$TOK\",\"key_id\":11,\"subject\":{\"CN\":\"A\"}}"
bad csr "no subject" 400 missing_field "{\"token\":\"$TOK\",\"key_id\":\"0b\"}"
bad csr "a subject that is not an object" 400 invalid_type "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":\"CN=A\"}"
bad csr "a subject without CN" 400 missing_field "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"O\":\"A\"}}"
bad csr "an unknown attribute" 400 unknown_field "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"A\",\"DC\":\"x\"}}"
bad csr "a country that is not two capitals" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"A\",\"C\":\"Việt Nam\"}}"
bad csr "a CN over 64 characters" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"$(printf 'Ă%.0s' $(seq 65))\"}}"
bad csr "five OUs" 400 invalid_type "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"A\",\"OU\":[\"1\",\"2\",\"3\",\"4\",\"5\"]}}"
bad csr "a control character" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"subject\":{\"CN\":\"A\\u001b[2J\"}}"
bad csr "an unknown hash_algorithm" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"hash_algorithm\":\"md5\",\"subject\":{\"CN\":\"A\"}}"
bad import "no certificate" 400 missing_field "{\"token\":\"$TOK\"}"
bad import "a certificate that is not one" 400 certificate_malformed "{\"token\":\"$TOK\",\"certificate\":\"bm90IGEgY2VydA==\"}"
bad import "a chain that is not an array" 400 invalid_type "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\",\"chain\":\"x\"}"
bad import "a chain holding garbage" 400 certificate_malformed "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\",\"chain\":[\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"]}"
bad wipe "a label over 32 bytes" 400 invalid_value "{\"token\":\"$TOK\",\"label\":\"$(printf '%033d' 0)\"}"
bad wipe "a label with a control character" 400 invalid_value "{\"token\":\"$TOK\",\"label\":\"a\\u0007b\"}"
bad keygen "a label with a control character" 400 invalid_value "{\"token\":\"$TOK\",\"key_type\":\"p256\",\"label\":\"a\\u001b[2J\"}"
bad csr "a key_id that is not hex" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"zz\",\"subject\":{\"CN\":\"A\"}}"
bad csr "a key_id of odd length" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"abc\",\"subject\":{\"CN\":\"A\"}}"
bad csr "a key_id over 64 bytes" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"$(printf '%0130d' 0)\",\"subject\":{\"CN\":\"A\"}}"
bad import "a certificate that is not a string" 400 invalid_type "{\"token\":\"$TOK\",\"certificate\":[1]}"
bad import "a chain over 8 certificates" 400 certificate_malformed "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\",\"chain\":[$(for i in $(seq 9); do printf '"%s",' "$(openssl base64 -A -in "$T/keys/ngoc.der")"; done | sed 's/,$//')]}"
bad import "a label over 64 bytes" 400 invalid_value "{\"token\":\"$TOK\",\"certificate\":\"$(openssl base64 -A -in "$T/keys/ngoc.der")\",\"label\":\"$(printf '%065d' 0)\"}"
bad delete "a key_id of odd length" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"abc\"}"
bad delete "a key_id that is not hex" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"zz\"}"
bad delete "neither certificate nor key_id" 400 missing_field "{\"token\":\"$TOK\"}"
bad delete "both" 400 invalid_value "{\"token\":\"$TOK\",\"key_id\":\"0b\",\"certificate\":\"${CERT_ID[an]}\"}"
bad delete "a certificate that is no id" 400 invalid_value "{\"token\":\"$TOK\",\"certificate\":\"abc\"}"
no_dialog "every bad request"
is "$(admin_lines)" "$LINES_BEFORE" "no bad request got an audit line"
bad keygen "an unknown token" 404 token_not_found '{"token":"00112233445566778899aabbccddeeff","key_type":"p256","label":"x"}'
is "$(last_admin 'j["operation"] + " " + j["result"]')" "keygen token_not_found" \
	"a well-formed request for a token that is not there gets its audit line"
api GET /v1/admin/init
is_error 405 method_not_allowed "GET /v1/admin/init: 405"
api POST /v1/admin/tokens '{}'
is_error 405 method_not_allowed "POST /v1/admin/tokens: 405"
api GET /v1/admin/nothing
is_error 404 not_found "an unknown admin path: 404"
is "$(inv_token "$TOK" '["user_pin"]["state"]')" ok "no PIN try was spent by the bad requests"
status_ok "kysod serves after the bad requests"

# ---------------------------------------------------------------- cancelled, and the log
mark_log
pinentry_says cancel
api POST /v1/admin/pin/change "{\"token\":\"$TOK\"}"
is_error 403 pin_cancelled "a cancelled dialog: 403 pin_cancelled"
is "$(last_admin 'j["operation"] + " " + j["result"]')" "pin-change pin_cancelled" "audit: the cancel"
for pin in "$SO_PIN" "$SO_PIN2" "$PIN" "$PIN2" "$PIN3" "$PIN4"; do
	if grep -rqF -- "$pin" "$AUDIT_LOG" "$KYSOD_LOG" "$KYSO_PINENTRY_LOG"; then
		fail "no log holds the PIN $pin"
	else
		pass "no log holds the PIN $pin"
	fi
done
is "$(grep '"event":"admin"' "$AUDIT_LOG" | "$PY" -c '
import json, sys
seen = set()
for line in sys.stdin:
    e = json.loads(line)
    if e["result"] == "ok":
        seen.add(e["operation"])
print(" ".join(sorted(seen)))')" "csr delete import init keygen pin-change pin-set pin-unblock wipe" \
	"the audit log has a successful line of every operation"
is "$(grep '"event":"admin"' "$AUDIT_LOG" | "$PY" -c '
import json, sys
bad = [l for l in sys.stdin if not all(k in json.loads(l) for k in ("caller", "token", "operation", "result"))]
print(len(bad))')" 0 "every admin line names the caller, the token, the operation and the result"
"$KYSO_CLI" audit verify "$AUDIT_LOG" >"$T/verify.out" 2>&1
ok $? "kyso audit verify: the chain with the admin lines is whole"
stop_kysod

# ---------------------------------------------------------------- the mock module
# A token the catalogue does not know: only a PIN change is safe. Its PIN at its last try.
require_mock
make_mock_key p256
export KYSO_MOCK_PIN_STATE=final_try
write_conf --module "mock=$MOCK_MODULE" "$CATALOGUE" admin=yes
start_kysod
api GET /v1/admin/tokens
MOCK=$(json_get 'j["tokens"][0]["id"]')
is "$(json_get 'str(j["tokens"][0]["family"]) + " " + " ".join(j["tokens"][0]["safe_operations"])')" \
	"None pin-change" "a token outside the catalogue: no family, only pin-change is safe"
is "$(json_get 'j["tokens"][0]["user_pin"]["state"] + " " + str(j["tokens"][0]["user_pin"]["tries_left"])')" \
	"final_try 1" "its user PIN is at its last try"
mark_log
api POST /v1/admin/keygen "{\"token\":\"$MOCK\",\"key_type\":\"p256\",\"label\":\"x\"}"
is_error 422 operation_unsafe "keygen on a family the catalogue does not list it for: 422 operation_unsafe"
api POST /v1/admin/wipe "{\"token\":\"$MOCK\"}"
is_error 422 operation_unsafe "wipe on it: 422 operation_unsafe"
api POST /v1/admin/pin/unblock "{\"token\":\"$MOCK\"}"
is_error 422 operation_unsafe "unblock on it: 422 operation_unsafe"
no_dialog "unsafe operations"
api POST /v1/admin/pin/change "{\"token\":\"$MOCK\"}"
is_error 409 last_try "a PIN change at the last try without force: 409 last_try"
is "$(json_get 'j["error"]["pin"]["state"] + " " + str(j["error"]["pin"]["tries_left"])')" "final_try 1" \
	"the error shows the PIN's state"
no_dialog "the last try without force"
kyso_exit "kyso admin pin change at the last try" 1 admin pin change --token "$MOCK"
like "$ERR" 'one try left.*force' "the CLI says the PIN has one try left and what to do"
mark_log
pins_say "pin 123456" "pin 654321"
kyso_exit "kyso admin pin change --force reaches the token" 1 admin pin change --token "$MOCK" --force
like "$ERR" 'operation_unsupported' "the mock module cannot change PINs: operation_unsupported"
is "$(new_getpins)" 2 "with force the dialogs were shown"
like "$(new_texts)" 'last try' "the dialog warns that it is the last try"
is "$(last_admin 'j["operation"] + " " + j["force"] + " " + j["result"]')" \
	"pin-change yes operation_unsupported" "audit: force recorded, and the result"
stop_kysod
export KYSO_MOCK_PIN_STATE=locked
start_kysod
mark_log
api POST /v1/admin/pin/change "{\"token\":\"$MOCK\",\"force\":true}"
is_error 423 pin_locked "a locked PIN: 423 pin_locked, force or not"
no_dialog "a locked PIN"
stop_kysod
unset KYSO_MOCK_PIN_STATE

done_testing
