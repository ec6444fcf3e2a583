#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kyso CLI against a running kysod: status, tokens, certs, sign (verified with openssl),
# --json output, usage errors (exit 2), daemon errors (exit 1), daemon down (exit 3).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-cli.sh"
require_build "$KYSO_CLI"
require_softhsm

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"
unset KYSO_SOCKET

# ---------------------------------------------------------------- listing
kyso_ok "kyso status" status
like "$OUT" 'softhsm' "status names the module"
like "$OUT" 'running' "status shows the module running"
kyso_ok "kyso --json status" --json status
is "$(json_get 'j["pid"]' "$OUT")" "$KYSOD_PID" "--json status parses, pid is kysod's"
kyso_ok "kyso status --json" status --json
is "$(json_get 'j["modules"][0]["state"]' "$OUT")" running "status --json parses"

kyso_ok "kyso tokens" tokens
like "$OUT" 'kyso-test' "tokens shows the label"
like "$OUT" "${TOKEN_ID:0:8}" "tokens shows the token id"
kyso_ok "kyso --json tokens" --json tokens
is "$(json_get '[t["id"] for t in j["tokens"]]' "$OUT" | tr -d '[]" ')" "$TOKEN_ID" "--json tokens parses"

kyso_ok "kyso certs" certs
for k in rsa p256 p384; do
	like "$OUT" "${CERT_CN[$k]}" "certs table shows holder ${CERT_CN[$k]}"
	like "$OUT" "${CERT_ID[$k]:0:16}" "certs table shows the id of $k"
done
like "$OUT" 'rsa-2048' "certs table shows rsa-2048"
like "$OUT" 'ec-P-384' "certs table shows ec-P-384"
like "$OUT" 'USABLE' "certs table has a USABLE column"
is "$(printf '%s\n' "$OUT" | grep -c ' yes *$')" 3 "certs table: the three certificates are usable"
kyso_ok "kyso certs --json" certs --json
is "$(json_get 'sorted(c["id"] for c in j["certificates"])' "$OUT" | tr -d '[]" ')" \
	"$(printf '%s\n' "${CERT_ID[rsa]}" "${CERT_ID[p256]}" "${CERT_ID[p384]}" | sort | paste -sd,)" \
	"--json certs parses, ids match"
kyso_ok "kyso certs --token <prefix>" certs --token "${TOKEN_ID:0:8}"
like "$OUT" "${CERT_CN[rsa]}" "certs --token <prefix> lists the token's certificates"
kyso_ok "kyso --socket PATH status" --socket "$SOCK" status
KYSO_SOCKET=$SOCK kyso_ok "KYSO_SOCKET=PATH kyso status" status

# ---------------------------------------------------------------- signing
printf 'Bảng điểm học kỳ I\nNguyễn Văn An\tToán\t9.5\n' > "$T/record.txt"
openssl x509 -in "${CERT_PEM[rsa]}" -pubkey -noout > "$T/rsa.pub"
openssl x509 -in "${CERT_PEM[p256]}" -pubkey -noout > "$T/p256.pub"
openssl x509 -in "${CERT_PEM[p384]}" -pubkey -noout > "$T/p384.pub"

kyso_ok "kyso sign --cert <prefix> --file F --out sig" \
	sign --cert "${CERT_ID[rsa]:0:12}" --file "$T/record.txt" --out "$T/rsa.sig"
openssl dgst -sha256 -verify "$T/rsa.pub" -signature "$T/rsa.sig" "$T/record.txt" >/dev/null 2>&1
ok $? "RSA PKCS#1 sha256 signature of the file verifies (openssl dgst -verify)"
cp "$T/record.txt" "$T/record2.txt"
printf 'x' >> "$T/record2.txt"
! openssl dgst -sha256 -verify "$T/rsa.pub" -signature "$T/rsa.sig" "$T/record2.txt" >/dev/null 2>&1
ok $? "the same signature fails on a modified file"
is "$(getpin_count)" 1 "one GETPIN for the CLI signature"

kyso_ok "kyso sign --padding pss --hash-alg sha512" \
	sign --cert "${CERT_ID[rsa]:0:8}" --file "$T/record.txt" --hash-alg sha512 --padding pss --out "$T/pss.sig"
openssl dgst -sha512 -verify "$T/rsa.pub" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
	-signature "$T/pss.sig" "$T/record.txt" >/dev/null 2>&1
ok $? "RSA-PSS sha512 signature of the file verifies"

kyso_ok "kyso sign EC P-384 sha384" \
	sign --cert "${CERT_ID[p384]}" --file "$T/record.txt" --hash-alg sha384 --out "$T/p384.sig"
openssl dgst -sha384 -verify "$T/p384.pub" -signature "$T/p384.sig" "$T/record.txt" >/dev/null 2>&1
ok $? "ECDSA P-384 signature of the file verifies"

kyso_ok "kyso sign --file - (stdin)" sign --cert "${CERT_ID[p256]:0:10}" --file - --out "$T/p256.sig" < "$T/record.txt"
openssl dgst -sha256 -verify "$T/p256.pub" -signature "$T/p256.sig" "$T/record.txt" >/dev/null 2>&1
ok $? "ECDSA P-256 signature of standard input verifies"

make_hash sha256
kyso_ok "kyso sign --hash HEX (base64 on stdout)" sign --cert "${CERT_ID[p256]:0:8}" --hash "$HASH_HEX"
printf '%s' "$OUT" | openssl base64 -d -A > "$T/hex.sig" 2>/dev/null
verify_sig "${CERT_PEM[p256]}" "$HASH_HEX" "$T/hex.sig" sha256
ok $? "signature printed in base64 verifies"

kyso_ok "kyso --json sign" --json sign --cert "${CERT_ID[rsa]:0:8}" --hash "$HASH_HEX"
is "$(json_get 'j["algorithm"] + " " + j["certificate"]' "$OUT")" "rsa-pkcs1-sha256 ${CERT_ID[rsa]}" \
	"--json sign parses: algorithm and full certificate id"
json_get 'j["signature"]' "$OUT" | openssl base64 -d -A > "$T/json.sig" 2>/dev/null
verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/json.sig" sha256 pkcs1
ok $? "--json signature verifies"
is "$(getpin_count)" 1 "login kept across CLI invocations"

# ---------------------------------------------------------------- usage errors: exit 2
n=$(getpin_count)
kyso_exit "no command" 2
kyso_exit "unknown command" 2 frobnicate
kyso_exit "unknown global option" 2 --bogus status
kyso_exit "unknown command option" 2 certs --bogus
kyso_exit "extra operand" 2 status extra
kyso_exit "sign without --cert" 2 sign --file "$T/record.txt"
kyso_exit "sign without --hash or --file" 2 sign --cert "${CERT_ID[rsa]}"
kyso_exit "sign with both --hash and --file" 2 sign --cert "${CERT_ID[rsa]}" --hash "$HASH_HEX" --file "$T/record.txt"
kyso_exit "sign with a 4-digit id prefix" 2 sign --cert "${CERT_ID[rsa]:0:4}" --file "$T/record.txt"
kyso_exit "sign with a non-hex id" 2 sign --cert zzzzzzzzzzzz --file "$T/record.txt"
kyso_exit "sign --hash-alg md5" 2 sign --cert "${CERT_ID[rsa]}" --hash-alg md5 --file "$T/record.txt"
kyso_exit "sign --padding oaep" 2 sign --cert "${CERT_ID[rsa]}" --padding oaep --file "$T/record.txt"
kyso_exit "sign --hash of the wrong length" 2 sign --cert "${CERT_ID[rsa]}" --hash abcdef
kyso_exit "sign --hash not hex" 2 sign --cert "${CERT_ID[rsa]}" --hash "$(printf 'g%.0s' $(seq 64))"
kyso_exit "sign --cert without argument" 2 sign --cert
like "$ERR" "^kyso: option '--cert' needs an argument" "usage errors explain themselves on stderr (the option named)"
like "$ERR" "Try 'kyso sign --help'" "...and point to the command's --help"
is "$(getpin_count)" "$n" "no PIN asked for usage errors"
kyso_ok "kyso --help" --help
like "$OUT" 'Usage' "--help prints the usage"
like "$OUT" '--format raw\|cms \[--timestamp\]' "--help lists sign's --format and --timestamp"
like "$OUT" 'dev-setup DIR' "--help lists dev-setup"

# ---------------------------------------------------------------- daemon errors: exit 1
kyso_exit "unknown certificate" 1 sign --cert 0000000000000000000000000000000000000000000000000000000000000000 --hash "$HASH_HEX"
like "$ERR$OUT" 'certificate' "unknown certificate: the error says so"
kyso_exit "--json: unknown certificate" 1 --json sign --cert 0000000000000000000000000000000000000000000000000000000000000000 --hash "$HASH_HEX"
is "$(json_get 'j["error"]["code"]' "$OUT")" certificate_not_found "--json error: code certificate_not_found"
kyso_exit "prefix matching no certificate" 1 sign --cert 00000000 --hash "$HASH_HEX"
kyso_exit "sign --file of a missing file" 1 sign --cert "${CERT_ID[rsa]:0:8}" --file "$T/nonexistent"
kyso_exit "sign --out into a missing directory" 1 sign --cert "${CERT_ID[rsa]:0:8}" --hash "$HASH_HEX" --out "$T/no/such/dir/sig"
kyso_ok "kyso logout" logout
pinentry_says cancel
kyso_exit "PIN dialog cancelled" 1 sign --cert "${CERT_ID[rsa]:0:8}" --hash "$HASH_HEX"
like "$ERR$OUT" 'cancel' "cancelled: the error says so"
pinentry_says "pin 123456"

# ---------------------------------------------------------------- daemon down: exit 3
kyso_exit "--socket to a missing socket" 3 --socket "$T/nowhere.sock" status
KYSO_SOCKET=$T/nowhere.sock kyso_exit "KYSO_SOCKET to a missing socket" 3 status
: > "$T/not-a-socket"
kyso_exit "--socket to a regular file" 3 --socket "$T/not-a-socket" tokens
stop_kysod
kyso_exit "kyso status with kysod stopped" 3 status
like "$ERR" "^kyso: .*kysod does not seem to be running \(daemon_unreachable\)" "daemon down: explained on stderr"
kyso_exit "kyso sign with kysod stopped" 3 sign --cert "${CERT_ID[rsa]}" --hash "$HASH_HEX"
kyso_exit "kyso --json certs with kysod stopped" 3 --json certs
is "$(json_get 'j["error"]["code"]' "$OUT")" daemon_unreachable "--json: error code daemon_unreachable"

done_testing
