#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Listing routes: GET /v1/status, /v1/tokens[/{id}], /v1/certificates[/{id}][?token=].
# Two SoftHSM2 tokens; every value is checked against what openssl and softhsm2-util say.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token
make_softhsm_token2
write_conf --module "softhsm=$SOFTHSM"
start_kysod

# ---------------------------------------------------------------- status
api GET /v1/status
is "$STATUS" 200 "GET /v1/status: 200"
like "$(header Content-Type)" '^application/json' "status: Content-Type is application/json"
is "$(json_get 'j["version"]')" 0.1.0 "status: version 0.1.0"
is "$(json_get 'j["api"]')" 1 "status: api 1"
is "$(json_get 'j["pid"]')" "$KYSOD_PID" "status: pid is kysod's"
is "$(json_get 'j["socket"]')" "$SOCK" "status: socket path"
is "$(json_get 'j["login_ttl"]')" 600 "status: default login_ttl 600"
is "$(json_get 'len(j["modules"])')" 1 "status: one module"
is "$(json_get 'j["modules"][0]["name"]')" softhsm "status: module name"
is "$(json_get 'j["modules"][0]["path"]')" "$(realpath "$SOFTHSM")" "status: module path (realpath)"
is "$(json_get 'j["modules"][0]["state"]')" running "status: module running"
is "$(json_get 'j["modules"][0]["restarts"]')" 0 "status: no restarts"
is "$(json_get 'j["modules"][0]["tokens"]')" 2 "status: module has 2 tokens"
HPID=$(json_get 'j["modules"][0]["pid"]')
if [[ $HPID =~ ^[0-9]+$ ]] && [ "$HPID" != "$KYSOD_PID" ] && [ -d "/proc/$HPID" ]; then
	pass "status: helper pid $HPID is a live process other than kysod"
	is "$(awk '{ print $4 }' "/proc/$HPID/stat")" "$KYSOD_PID" "status: helper is kysod's child"
	if [ "$KYSO_VALGRIND" = 1 ]; then
		skip 1 "helper runs under valgrind"
	else
		like "$(tr '\0' ' ' < "/proc/$HPID/cmdline")" 'kyso-p11 .*libsofthsm2\.so' \
			"status: helper runs kyso-p11 with the module"
	fi
else
	fail "status: helper pid '$HPID' is a live process other than kysod"
	skip 2 "no helper pid"
fi

# ---------------------------------------------------------------- tokens
api GET /v1/tokens
is "$STATUS" 200 "GET /v1/tokens: 200"
like "$(header Content-Type)" '^application/json' "tokens: Content-Type is application/json"
ALL_TOKENS=$BODY
is "$(json_get 'len([t for t in j["tokens"] if t["label"] == "kyso-test"])')" 1 \
	"tokens: exactly one token labelled kyso-test"
is "$(json_get 'len([t for t in j["tokens"] if t["label"] == "kyso-test-2"])')" 1 \
	"tokens: exactly one token labelled kyso-test-2"
is "$(json_get 'sorted(t["id"] for t in j["tokens"] if t["label"].startswith("kyso-test"))' |
	tr -d '[]" ')" "$(printf '%s\n' "$TOKEN_ID" "$TOKEN2_ID" | sort | paste -sd,)" \
	"tokens: ids are the SHA-256 of manufacturer, model and serial"

# check_token JSON ID LABEL SERIAL: fields of one token object
check_token()
{
	local tok=$1 id=$2 label=$3 serial=$4 what="token $3"
	like "$(json_get 'j["id"]' "$tok")" '^[0-9a-f]{32}$' "$what: id is 32 lowercase hex digits"
	is "$(json_get 'j["id"]' "$tok")" "$id" "$what: id"
	is "$(json_get 'j["label"]' "$tok")" "$label" "$what: label"
	is "$(json_get 'j["manufacturer"]' "$tok")" "$TOKEN_MANUF" "$what: manufacturer (trimmed)"
	is "$(json_get 'j["model"]' "$tok")" "$TOKEN_MODEL" "$what: model (trimmed)"
	is "$(json_get 'j["serial"]' "$tok")" "$serial" "$what: serial"
	is "$(json_get 'j["module"]' "$tok")" softhsm "$what: module name"
	is "$(json_get 'j["present"]' "$tok")" true "$what: present"
	is "$(json_get 'j["pin"]["state"]' "$tok")" ok "$what: pin state ok"
	is "$(json_get 'j["pin"]["logged_in"]' "$tok")" false "$what: not logged in"
	is "$(json_get 'j["pin"]["protected_path"]' "$tok")" false "$what: no protected path"
}

TOK1=$(json_get "[t for t in j['tokens'] if t['label'] == 'kyso-test'][0]" "$ALL_TOKENS")
TOK2=$(json_get "[t for t in j['tokens'] if t['label'] == 'kyso-test-2'][0]" "$ALL_TOKENS")
check_token "$TOK1" "$TOKEN_ID" kyso-test "$TOKEN_SERIAL"
check_token "$TOK2" "$TOKEN2_ID" kyso-test-2 "$TOKEN2_SERIAL"

canon()
{
	json_get 'json.dumps(j, sort_keys=True)' "$1"
}

api GET "/v1/tokens/$TOKEN_ID"
is "$STATUS" 200 "GET /v1/tokens/{id}: 200"
is "$(canon "$BODY")" "$(canon "$TOK1")" "GET /v1/tokens/{id}: same object as in the list"
api GET /v1/tokens/00000000000000000000000000000000
is_error 404 token_not_found "GET /v1/tokens/{unknown}: 404 token_not_found"
like "$(header Content-Type)" '^application/json' "404 answer has Content-Type application/json"
like "$(json_get 'j["error"]["message"]')" '.' "404 answer has an error message"

# ---------------------------------------------------------------- certificates
api GET /v1/certificates
is "$STATUS" 200 "GET /v1/certificates: 200"
like "$(header Content-Type)" '^application/json' "certificates: Content-Type is application/json"
ALL_CERTS=$BODY
is "$(json_get 'len(j["certificates"])')" 4 "certificates: 4 certificates on the 2 tokens"
is "$(json_get 'sorted(c["id"] for c in j["certificates"])' | tr -d '[]" ')" \
	"$(printf '%s\n' "${CERT_ID[rsa]}" "${CERT_ID[p256]}" "${CERT_ID[p384]}" "${CERT_ID[p256b]}" |
		sort | paste -sd,)" \
	"certificates: ids are the SHA-256 of the DER certificates (openssl)"

# check_cert KEY TOKEN_ID JSON: fields of one certificate object against openssl's view
check_cert()
{
	local k=$1 token=$2 c=$3 pem=${CERT_PEM[$1]} what="certificate $1" v ku bits curve type
	if [ -z "$c" ]; then
		fail "$what: listed"
		skip 15 "$what missing"
		return
	fi
	pass "$what: listed"
	is "$(json_get 'j["token"]' "$c")" "$token" "$what: token id"
	is "$(json_get 'j["key_id"]' "$c")" "${KEY_ID[$k]}" "$what: key_id (CKA_ID hex)"
	is "$(json_get 'j["label"]' "$c")" "${KEY_LABEL[$k]}" "$what: label (UTF-8)"
	is "$(json_get 'j["subject_cn"]' "$c")" "${CERT_CN[$k]}" "$what: subject_cn is the UTF-8 CN"
	v=$(json_get 'j["subject"]' "$c")
	like "$v" "(^|,)CN=${CERT_CN[$k]}(,|$)" "$what: subject contains the UTF-8 CN"
	is "$v" "$(openssl x509 -in "$pem" -noout -subject -nameopt rfc2253,-esc_msb | sed 's/^subject=//')" \
		"$what: subject is the RFC 2253 string"
	is "$(json_get 'j["issuer"]' "$c")" \
		"$(openssl x509 -in "$pem" -noout -issuer -nameopt rfc2253,-esc_msb | sed 's/^issuer=//')" \
		"$what: issuer is the RFC 2253 string"
	is "$(json_get 'j["serial"]' "$c")" \
		"$(openssl x509 -in "$pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')" \
		"$what: serial in lowercase hex"
	is "$(json_get 'j["not_before"]' "$c")" \
		"$(openssl x509 -in "$pem" -noout -startdate -dateopt iso_8601 | sed 's/^notBefore=//; s/ /T/')" \
		"$what: not_before in RFC 3339 UTC"
	is "$(json_get 'j["not_after"]' "$c")" \
		"$(openssl x509 -in "$pem" -noout -enddate -dateopt iso_8601 | sed 's/^notAfter=//; s/ /T/')" \
		"$what: not_after in RFC 3339 UTC"
	case $k in
	rsa) ku='["digitalSignature", "nonRepudiation"]'; type=rsa; bits=2048; curve=null ;;
	p256) ku='["digitalSignature"]'; type=ec; bits=256; curve=P-256 ;;
	p384) ku='[]'; type=ec; bits=384; curve=P-384 ;;
	p256b) ku='["digitalSignature", "nonRepudiation"]'; type=ec; bits=256; curve=P-256 ;;
	esac
	is "$(json_get 'j["key_usage"]' "$c")" "$ku" "$what: key_usage"
	is "$(json_get 'j["key_type"]' "$c")" "$type" "$what: key_type $type"
	is "$(json_get 'j["key_bits"]' "$c")" "$bits" "$what: key_bits $bits"
	is "$(json_get 'j.get("curve")' "$c")" "$curve" "$what: curve $curve"
	json_get 'j["pem"]' "$c" > "$T/got.pem"
	is "$(openssl x509 -in "$T/got.pem" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1)" \
		"${CERT_ID[$k]}" "$what: pem is the imported certificate"
}

for k in rsa p256 p384 p256b; do
	tok=$TOKEN_ID
	[ "$k" = p256b ] && tok=$TOKEN2_ID
	check_cert "$k" "$tok" \
		"$(json_get "[c for c in j['certificates'] if c['id'] == '${CERT_ID[$k]}'][0]" "$ALL_CERTS")"
done

# ---------------------------------------------------------------- filters and single routes
api GET "/v1/certificates?token=$TOKEN_ID"
is "$STATUS" 200 "GET /v1/certificates?token=ID: 200"
is "$(json_get 'sorted(c["id"] for c in j["certificates"])' | tr -d '[]" ')" \
	"$(printf '%s\n' "${CERT_ID[rsa]}" "${CERT_ID[p256]}" "${CERT_ID[p384]}" | sort | paste -sd,)" \
	"?token=first: its three certificates only"
api GET "/v1/certificates?token=$TOKEN2_ID"
is "$STATUS" 200 "GET /v1/certificates?token=ID2: 200"
is "$(json_get '[c["id"] for c in j["certificates"]]' | tr -d '[]" ')" "${CERT_ID[p256b]}" \
	"?token=second: its one certificate only"
api GET /v1/certificates?token=0123456789abcdef0123456789abcdef
if { [ "$STATUS" = 200 ] && [ "$(json_get 'len(j["certificates"])')" = 0 ]; } ||
	{ [ "$STATUS" = 404 ] && [ "$(err_code)" = token_not_found ]; }; then
	pass "?token=unknown: empty list or 404 token_not_found ($STATUS)"
else
	fail "?token=unknown: empty list or 404 token_not_found"
	diag "    got $STATUS $BODY"
fi

api GET "/v1/certificates/${CERT_ID[rsa]}"
is "$STATUS" 200 "GET /v1/certificates/{id}: 200"
is "$(canon "$BODY")" \
	"$(canon "$(json_get "[c for c in j['certificates'] if c['id'] == '${CERT_ID[rsa]}'][0]" "$ALL_CERTS")")" \
	"GET /v1/certificates/{id}: same object as in the list"
api GET "/v1/certificates/${CERT_ID[p256b]}"
is "$(json_get 'j["id"]')" "${CERT_ID[p256b]}" "GET /v1/certificates/{id} on the second token"
api GET /v1/certificates/0000000000000000000000000000000000000000000000000000000000000000
is_error 404 certificate_not_found "GET /v1/certificates/{unknown}: 404 certificate_not_found"

# ---------------------------------------------------------------- stable across a restart
stop_kysod
start_kysod
api GET /v1/tokens
is "$(json_get 'sorted(t["id"] for t in j["tokens"] if t["label"].startswith("kyso-test"))' |
	tr -d '[]" ')" "$(printf '%s\n' "$TOKEN_ID" "$TOKEN2_ID" | sort | paste -sd,)" \
	"token ids are the same after a kysod restart"
api GET /v1/certificates
is "$(json_get 'sorted(c["id"] for c in j["certificates"])')" \
	"$(json_get 'sorted(c["id"] for c in j["certificates"])' "$ALL_CERTS")" \
	"certificate ids are the same after a kysod restart"
STOP_SIGNAL=INT stop_kysod

done_testing
