#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso dev-setup DIR, as a new developer runs it: the token, certificates, kysod.conf and PIN
# dialog it makes; kysod started the way it prints; signatures with both teachers'
# certificates verified with openssl (against the certificate, and its chain to the dev CA);
# the scripted dialog cancelling on request; the CLI and the Python client against it.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"

require_build "$KYSO_CLI"
require_softhsm

DEV=$T/dev
"$KYSO_CLI" dev-setup "$DEV" > "$T/setup.out" 2>&1
ok $? "kyso dev-setup DIR succeeds"
grep -q 'Start kysod against it' "$T/setup.out" && grep -q "kysod -f -c" "$T/setup.out"
ok $? "it prints how to start kysod"
for f in kysod.conf env.sh softhsm2.conf ca.pem teacher-rsa.pem teacher-ec.pem pinentry; do
	[ -s "$DEV/$f" ] || { fail "it made $f"; continue; }
	pass "it made $f"
done
! ls "$DEV/keys"/*.key >/dev/null 2>&1
ok $? "no private key file is left outside the token"
"$KYSO_CLI" dev-setup "$DEV" > "$T/again.out" 2>&1
isnt $? 0 "a second run without --force refuses to overwrite"
"$KYSO_CLI" dev-setup "$DEV" --force > "$T/setup.out" 2>&1
ok $? "--force makes it again"
"$KYSO_CLI" dev-setup > /dev/null 2>&1
is $? 2 "no DIR: usage error (2)"

for f in teacher-rsa teacher-ec; do
	openssl verify -CAfile "$DEV/ca.pem" "$DEV/$f.pem" > /dev/null 2>&1
	ok $? "$f.pem chains to the dev CA"
done
like "$(openssl x509 -in "$DEV/teacher-rsa.pem" -noout -subject -nameopt utf8,sep_comma_plus_space)" \
	'CN ?= ?Nguyễn Thị Hồng Nhung' "the RSA teacher has a Vietnamese name"
like "$(openssl x509 -in "$DEV/teacher-ec.pem" -noout -text)" 'ASN1 OID: prime256v1' "the other key is EC P-256"

# Started as the output says: . env.sh, then kysod -f -c "$KYSO_CONF".
(
	. "$DEV/env.sh"
	exec "$KYSOD" -f -c "$KYSO_CONF"
) > "$T/kysod.dev.log" 2>&1 &
DEVPID=$!
BG_PIDS+=("$DEVPID")
SOCK=$DEV/run/kyso.sock
for _ in $(seq 100); do
	[ -S "$SOCK" ] && _status_answers && break
	sleep 0.1
done
status_ok "kysod answers on the dev socket"
wait_modules_running
api GET /v1/certificates
is "$(json_get 'sorted([c["subject_cn"], c["usable"]] for c in j["certificates"])')" \
	'[["Nguyễn Thị Hồng Nhung", true], ["Trần Văn Bình", true]]' \
	"both teachers' certificates are listed usable (chain to ca_bundle)"

RSA_ID=$(openssl x509 -in "$DEV/teacher-rsa.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
EC_ID=$(openssl x509 -in "$DEV/teacher-ec.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
CERT_PEM[devrsa]=$DEV/teacher-rsa.pem CERT_ID[devrsa]=$RSA_ID KEY_TYPE[devrsa]=rsa
CERT_PEM[devec]=$DEV/teacher-ec.pem CERT_ID[devec]=$EC_ID KEY_TYPE[devec]=ec
grep -q "$RSA_ID" "$T/setup.out" && grep -q "$EC_ID" "$T/setup.out"
ok $? "the output gives both certificate ids"

sign_and_verify devrsa sha256
sign_and_verify devrsa sha384 pss
sign_and_verify devec sha256
like "$(cat "$DEV/pinentry.log" 2>/dev/null)" "Trần Văn Bình|Nguyễn Thị Hồng Nhung" \
	"the dialog's text is in pinentry.log"
! grep -q 123456 "$DEV/pinentry.log"
ok $? "pinentry.log never holds the PIN"

api POST /v1/logout '{}'
echo cancel > "$DEV/pinentry.answer"
make_hash sha256
api POST /v1/sign "$(sign_body "$EC_ID" sha256)"
is_error 403 pin_cancelled "\"cancel\" in pinentry.answer: 403 pin_cancelled"
echo "pin 123456" > "$DEV/pinentry.answer"

# the CLI, with KYSO_SOCKET from env.sh
printf 'Bảng điểm lớp 12A1\n' > "$T/record.txt"
(
	. "$DEV/env.sh"
	"$KYSO_CLI" sign --cert "${EC_ID:0:8}" --file "$T/record.txt" --out "$T/record.sig"
) > "$T/cli.out" 2>&1
ok $? "kyso sign --file with the env.sh environment"
openssl dgst -sha256 -binary "$T/record.txt" > "$T/record.hash"
verify_sig "$DEV/teacher-ec.pem" "$(xxd -p -c 256 "$T/record.hash")" "$T/record.sig" sha256
ok $? "its signature verifies with openssl against the certificate"
(
	. "$DEV/env.sh"
	"$KYSO_CLI" verify --file "$T/record.txt" --cert "${EC_ID:0:8}" "$T/record.sig"
) > "$T/verify.out" 2>&1
ok $? "kyso verify calls it valid (the dev CA is kysod's ca_bundle): $(head -1 "$T/verify.out")"

# the Python client, with the same environment
out=$(
	. "$DEV/env.sh"
	cd "$KYSO_SRCDIR/clients/python" && "$PY" -c '
import hashlib, kyso
c = kyso.Client()
cert = [x for x in c.certificates(usable=True) if x["key_type"] == "rsa"][0]
d = hashlib.sha256("Học bạ".encode()).digest()
s = c.sign(cert["id"], d)
v = c.verify(s.signature, d, certificate=cert["id"])
print(v["status"], v["reason"])
' 2>&1)
is "$out" "valid valid_now" "the Python client signs, and kysod verifies it valid"

kill -TERM "$DEVPID"
for _ in $(seq 100); do
	kill -0 "$DEVPID" 2>/dev/null || break
	sleep 0.1
done
wait "$DEVPID"
is $? 0 "kysod stops cleanly"
done_testing
