#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every error of the API contract, and hostile input. After each case the daemon must still
# answer GET /v1/status, and no PIN may have been asked (no PIN try spent on a bad request).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token
# A certificate without its private key (id 04), for key_not_found.
_make_cert nokey p256 "Vũ Thị Không Khoá" "digitalSignature" 6f010203040506
pkcs11-tool --module "$SOFTHSM" --token-label kyso-test --login --pin 123456 \
	--write-object "$T/keys/nokey.der" --type cert --id 04 --label "cert-only" >/dev/null 2>&1 ||
	bail_out "cannot write the key-less certificate"
write_conf --module "softhsm=$SOFTHSM"
start_kysod
pinentry_says "pin 123456"

RSA=${CERT_ID[rsa]}
EC=${CERT_ID[p256]}
ZERO=0000000000000000000000000000000000000000000000000000000000000000
b64_bytes()
{
	head -c "$1" /dev/zero | tr '\0' '\001' | openssl base64 -A
}
H32=$(b64_bytes 32)
H48=$(b64_bytes 48)
H64=$(b64_bytes 64)

# serves DESC: GET /v1/status answers 200 and no GETPIN was sent since the last case.
PIN_BASE=0
serves()
{
	local n
	api GET /v1/status
	n=$(getpin_count)
	if [ "$STATUS" = 200 ] && [ "$n" = "$PIN_BASE" ]; then
		pass "$1: daemon serves, no PIN asked"
	else
		fail "$1: daemon serves, no PIN asked"
		diag "    GET /v1/status: $STATUS (curl $CURL_RC); GETPIN count $n, was $PIN_BASE"
		PIN_BASE=$n
	fi
}

# expect DESC STATUSES CODES [FIELD]: the last answer has one of the HTTP statuses and one
# of the error codes ("a|b"), a JSON content type, and the field if given; then `serves`.
expect()
{
	local desc=$1 st=$2 codes=$3 field=${4:-} code ctype
	code=$(err_code)
	ctype=$(header Content-Type)
	if [[ "|$st|" == *"|$STATUS|"* && "|$codes|" == *"|$code|"* && $ctype == application/json* ]]; then
		pass "$desc: $STATUS $code"
	else
		fail "$desc: $st $codes"
		diag "    got: $STATUS (curl $CURL_RC) ${code:-<no error code>} [$ctype] $(_tap_show "$BODY")"
	fi
	if [ -n "$field" ]; then
		is "$(json_get 'j["error"]["field"]')" "$field" "$desc: error names field '$field'"
	fi
	serves "$desc"
}

# expect_4xx DESC: any client error (the HTTP layer may answer before kysod's router).
expect_4xx()
{
	if [[ $STATUS =~ ^4[0-9][0-9]$ ]] || { [ "$STATUS" = 000 ] && [ "$CURL_RC" != 28 ]; }; then
		pass "$1: client error ($STATUS)"
	else
		fail "$1: client error"
		diag "    got: $STATUS (curl $CURL_RC) $(_tap_show "$BODY")"
	fi
	serves "$1"
}

sign()
{
	api POST /v1/sign "$1"
}

# ---------------------------------------------------------------- not JSON, not an object
sign '{"certificate":'
expect "truncated JSON" 400 bad_request
sign ''
expect "empty body" 400 bad_request
sign "{'certificate':'$RSA'}"
expect "single-quoted pseudo-JSON" 400 bad_request
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"} {}"
expect "two JSON values" 400 bad_request
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",}"
expect "trailing comma" 400 bad_request
for v in '[]' '"a string"' '42' 'null' 'true' "[{\"certificate\":\"$RSA\"}]"; do
	sign "$v"
	expect "body $v is not an object" 400 bad_request
done
api POST /v1/logout '[]'
expect "logout body not an object" 400 bad_request

# ---------------------------------------------------------------- fields
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"extra\":1}"
expect "unknown field" 400 unknown_field extra
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"Padding\":\"pss\"}"
expect "field names are case-sensitive" 400 unknown_field Padding
api POST /v1/logout '{"tokens":"x"}'
expect "logout: unknown field" 400 unknown_field tokens

sign "{\"certificate\":42,\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate is a number" 400 invalid_type certificate
sign "{\"certificate\":[\"$RSA\"],\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate is an array" 400 invalid_type certificate
sign "{\"certificate\":\"$RSA\",\"hash\":123,\"hash_algorithm\":\"sha256\"}"
expect "hash is a number" 400 invalid_type hash
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":true}"
expect "hash_algorithm is a boolean" 400 invalid_type hash_algorithm
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"padding\":1}"
expect "padding is a number" 400 invalid_type padding
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"format\":{}}"
expect "format is an object" 400 invalid_type format
api POST /v1/logout '{"token":5}'
expect "logout: token is a number" 400 invalid_type token
api POST /v1/logout '{"token":"00000000000000000000000000000000"}'
expect "logout: a token never seen" 404 token_not_found token

sign "{\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate missing" 400 missing_field certificate
sign "{\"certificate\":\"$RSA\",\"hash_algorithm\":\"sha256\"}"
expect "hash missing" 400 missing_field hash
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\"}"
expect "hash_algorithm missing" 400 missing_field hash_algorithm
sign '{}'
expect "empty object" 400 missing_field

# ---------------------------------------------------------------- hash encoding and length
for h in '@@@@' 'Zm9v!' '*Zm9vYmFy' 'Zm9v YmFy====='; do
	sign "{\"certificate\":\"$RSA\",\"hash\":\"$h\",\"hash_algorithm\":\"sha256\"}"
	expect "hash '$h' is not base64" 400 hash_encoding hash
done
for c in "sha256 $H48" "sha256 $(b64_bytes 31)" "sha256 $(b64_bytes 33)" "sha256 $H64" \
	"sha384 $H32" "sha384 $H64" "sha512 $H32" "sha512 $H48" "sha512 $(b64_bytes 65)"; do
	set -- $c
	n=$(printf '%s' "$2" | openssl base64 -d -A | wc -c)
	sign "{\"certificate\":\"$RSA\",\"hash\":\"$2\",\"hash_algorithm\":\"$1\"}"
	expect "$1 with a $n-byte hash (RSA)" 400 hash_length
	sign "{\"certificate\":\"$EC\",\"hash\":\"$2\",\"hash_algorithm\":\"$1\"}"
	expect "$1 with a $n-byte hash (EC)" 400 hash_length
done
sign "{\"certificate\":\"$RSA\",\"hash\":\"\",\"hash_algorithm\":\"sha256\"}"
expect "empty hash" 400 "hash_length|hash_encoding"

# ---------------------------------------------------------------- enum values
for a in md5 sha1 SHA256 sha224 sha3-256 ''; do
	sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"$a\"}"
	expect "hash_algorithm '$a'" 400 invalid_value hash_algorithm
done
for p in oaep none PSS ''; do
	sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"padding\":\"$p\"}"
	expect "padding '$p'" 400 invalid_value padding
done
for f in der pkcs7 RAW ''; do
	sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"format\":\"$f\"}"
	expect "format '$f'" 400 invalid_value format
done
sign "{\"certificate\":\"$EC\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"padding\":\"pss\"}"
expect "pss with an EC P-256 key" 400 unsupported_padding
sign "{\"certificate\":\"${CERT_ID[p384]}\",\"hash\":\"$H48\",\"hash_algorithm\":\"sha384\",\"padding\":\"pss\"}"
expect "pss with an EC P-384 key" 400 unsupported_padding
sign "{\"certificate\":\"$EC\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"padding\":\"pkcs1\"}"
expect "pkcs1 padding given for an EC key" 400 unsupported_padding

# ---------------------------------------------------------------- unknown certificate
sign "{\"certificate\":\"$ZERO\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "unknown certificate" 404 certificate_not_found
sign "{\"certificate\":\"${RSA:0:63}\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate id one digit short" 400 invalid_value certificate
sign "{\"certificate\":\"../../etc/passwd\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate id is a path" 400 invalid_value certificate
sign "{\"certificate\":\"\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "empty certificate id" 400 invalid_value certificate
sign "{\"certificate\":\"${RSA}0\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "certificate id one digit too long" 400 invalid_value certificate

# ---------------------------------------------------------------- body size
# Exactly 64 KiB (whitespace-padded) is accepted; one byte more is not.
pad_to()
{
	local json=$1 size=$2
	{
		printf '%s' "$json"
		head -c $((size - ${#json})) /dev/zero | tr '\0' ' '
	} > "$T/body.json"
}
pad_to "{\"certificate\":\"$ZERO\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}" 65536
api_file POST /v1/sign "$T/body.json"
expect "body of exactly 65536 bytes is read" 404 certificate_not_found
pad_to "{\"certificate\":\"$ZERO\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}" 65537
api_file POST /v1/sign "$T/body.json"
expect "body of 65537 bytes" 413 body_too_large
{ printf '{"certificate":"'; head -c 1048576 /dev/zero | tr '\0' 'a'; printf '","hash":"%s","hash_algorithm":"sha256"}' "$H32"; } > "$T/big.json"
API_EXPECT=100-continue api_file POST /v1/sign "$T/big.json"
expect "1 MB certificate string" 413 body_too_large
API_EXTRA=(-H 'Transfer-Encoding: chunked')
API_EXPECT=100-continue api_file POST /v1/sign "$T/big.json"
API_EXTRA=()
expect "1 MB chunked body" 413 body_too_large
{ printf '{"certificate":"'; head -c 60000 /dev/zero | tr '\0' 'a'; printf '","hash":"%s","hash_algorithm":"sha256"}' "$H32"; } > "$T/long.json"
api_file POST /v1/sign "$T/long.json"
expect "60000-character certificate id" 400 invalid_value certificate

# ---------------------------------------------------------------- content type
GOOD="{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
API_CTYPE=text/plain api POST /v1/sign "$GOOD"
expect "POST with Content-Type text/plain" 415 unsupported_media_type
API_CTYPE= api POST /v1/sign "$GOOD"
expect "POST without Content-Type" 415 unsupported_media_type
API_CTYPE=application/x-www-form-urlencoded api POST /v1/sign "$GOOD"
expect "POST form-encoded" 415 unsupported_media_type
API_CTYPE=application/jsonx api POST /v1/sign "$GOOD"
expect "POST with Content-Type application/jsonx" 415 unsupported_media_type
API_CTYPE=text/plain api POST /v1/logout '{}'
expect "logout with Content-Type text/plain" 415 unsupported_media_type
API_CTYPE='application/json; charset=utf-8' api POST /v1/logout '{}'
is "$STATUS" 200 "application/json; charset=utf-8 is accepted (logout 200)"

# ---------------------------------------------------------------- methods and paths
method_case()
{
	local method=$1 path=$2 allow=$3
	if [ "$method" = POST ] || [ "$method" = PUT ] || [ "$method" = PATCH ]; then
		api "$method" "$path" '{}'
	else
		api "$method" "$path"
	fi
	if [ "$method" = HEAD ]; then
		is "$STATUS" 405 "HEAD $path: 405"
	else
		is_error 405 method_not_allowed "$method $path: 405 method_not_allowed"
	fi
	like "$(header Allow)" "^ *$allow *$" "$method $path: Allow: $allow"
	serves "$method $path"
}
method_case GET /v1/sign POST
method_case GET /v1/logout POST
method_case PUT /v1/sign POST
method_case DELETE /v1/logout POST
method_case POST /v1/status GET
method_case POST /v1/tokens GET
method_case POST /v1/certificates GET
method_case PATCH /v1/certificates GET
method_case DELETE "/v1/certificates/$RSA" GET
method_case PUT "/v1/tokens/$TOKEN_ID" GET
method_case OPTIONS /v1/status GET
method_case HEAD /v1/status GET
method_case HEAD /v1/certificates GET
method_case POST /v1/readers GET
method_case DELETE /v1/events GET
method_case GET /v1/sign/batch POST
method_case PUT /v1/sign/batch/0123456789abcdef0123456789abcdef DELETE
method_case GET /v1/verify POST

for p in / /v1 /v1/ /v2/status /v1/nope /v1/status/extra /V1/STATUS /v1/sign/x \
	"/v1/tokens/$TOKEN_ID/x" /v1//status /favicon.ico /v1/sign/batch/a/b /v1/readers/x \
	/v1/events/x; do
	api GET "$p"
	expect "GET $p" 404 not_found
done
api POST /v1/signature '{}'
expect "POST /v1/signature" 404 not_found
api GET /v1/certificates/
expect "GET /v1/certificates/ (empty id)" 404 "not_found|certificate_not_found"

# ---------------------------------------------------------------- hostile input
printf '{"certificate":"ab\0cd","hash":"%s","hash_algorithm":"sha256"}' "$H32" > "$T/nul.json"
api_file POST /v1/sign "$T/nul.json"
expect "raw NUL byte inside a string" 400 bad_request
printf '{}\0{"token":"x"}' > "$T/nul2.json"
api_file POST /v1/logout "$T/nul2.json"
expect "NUL byte after the JSON value" 400 bad_request
sign "{\"certificate\":\"$RSA\\u0000x\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "escaped \\u0000 in the certificate id" 400 "bad_request|invalid_value"
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\\u0000\"}"
expect "escaped \\u0000 in hash_algorithm" 400 "bad_request|invalid_value"
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":1e999999}"
expect "huge real number" 400 "bad_request|invalid_type"
sign "{\"certificate\":123456789012345678901234567890123456789,\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "huge integer" 400 "bad_request|invalid_type"
sign "{\"certificate\":\"$RSA\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\",\"padding\":-1e308}"
expect "huge negative number" 400 "bad_request|invalid_type"
{ head -c 10000 /dev/zero | tr '\0' '['; } > "$T/deep1.json"
api_file POST /v1/sign "$T/deep1.json"
expect "10000 unclosed ['s" 400 bad_request
{ printf '{"certificate":'; head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; printf '}'; } > "$T/deep2.json"
api_file POST /v1/sign "$T/deep2.json"
expect "array nested 10000 levels" 400 "bad_request|invalid_type"
{ for ((i = 0; i < 10000; i++)); do printf '{"a":'; done; printf '1'; head -c 10000 /dev/zero | tr '\0' '}'; } > "$T/deep3.json"
api_file POST /v1/sign "$T/deep3.json"
expect "object nested 10000 levels" "400|413" "bad_request|body_too_large"
printf '{"certificate":"\xff\xfe\xfd","hash":"%s","hash_algorithm":"sha256"}' "$H32" > "$T/utf8.json"
api_file POST /v1/sign "$T/utf8.json"
expect "invalid UTF-8 in a string" 400 bad_request
printf '{"certificate":"\xc0\xaf","hash":"%s","hash_algorithm":"sha256"}' "$H32" > "$T/utf8b.json"
api_file POST /v1/sign "$T/utf8b.json"
expect "overlong UTF-8 encoding" 400 bad_request
printf '{"\xff":1}' > "$T/utf8c.json"
api_file POST /v1/logout "$T/utf8c.json"
expect "invalid UTF-8 in a key" 400 bad_request
sign "{\"certificate\":\"\\ud800\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}"
expect "lone UTF-16 surrogate escape" 400 bad_request

API_EXTRA=(--path-as-is)
for p in /v1/../etc/passwd /v1/certificates/../../../etc/passwd /../../../../etc/passwd \
	/v1/certificates/..%2f..%2f..%2fetc%2fpasswd /v1/tokens/%2e%2e/%2e%2e/etc; do
	api GET "$p"
	unlike "$BODY" 'root:' "GET $p: no file content in the answer"
	expect "GET $p" "404|400" "not_found|certificate_not_found|token_not_found|bad_request"
done
API_EXTRA=()
api GET "/v1/certificates?token=%00%ff../../etc"
expect_4xx_or_empty()
{
	if { [ "$STATUS" = 200 ] && [ "$(json_get 'len(j["certificates"])')" = 0 ]; } ||
		[[ $STATUS =~ ^4 ]]; then
		pass "$1: empty list or client error ($STATUS)"
	else
		fail "$1: empty list or client error"
		diag "    got: $STATUS $(_tap_show "$BODY")"
	fi
	serves "$1"
}
expect_4xx_or_empty "junk ?token= query"
# A long request target or header block: kysod's own JSON answer, not the
# HTTP library's HTML one, up to the 32 KiB of head the library keeps per connection
api GET "/v1/certificates/$(head -c 8000 /dev/zero | tr '\0' 'a')"
is_error 404 certificate_not_found "8000-character URL: within bounds, 404 certificate_not_found"
serves "8000-character URL"
api GET "/v1/certificates/$(head -c 9000 /dev/zero | tr '\0' 'a')"
is_error 414 uri_too_long "9000-character URL: 414 uri_too_long"
serves "9000-character URL"
api GET "/v1/certificates?token=$(head -c 24000 /dev/zero | tr '\0' 'a')"
is_error 414 uri_too_long "24000-character query: 414 uri_too_long"
serves "24000-character query"
API_EXTRA=(-H "X-Junk: $(head -c 24000 /dev/zero | tr '\0' 'b')")
api GET /v1/status
API_EXTRA=()
is_error 431 headers_too_large "24000-byte header: 431 headers_too_large"
serves "24000-byte header"
API_EXTRA=()
for i in $(seq 1 40); do
	API_EXTRA+=(-H "X-Junk-$i: $(head -c 500 /dev/zero | tr '\0' 'c')")
done
api GET /v1/status
API_EXTRA=()
is_error 431 headers_too_large "40 headers of 500 bytes: 431 headers_too_large"
# past the library's per-connection memory (32 KiB): its own short answer, not recorded
# raw_head url|header: the status code of the answer to a 300,000-byte target or a
# 100,000-byte header sent on a raw connection ("000" for none)
raw_head()
{
	"$PY" - "$SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
if sys.argv[2] == "url":
    req = b"GET /v1/certificates/" + b"a" * 300000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
else:
    req = b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nX-Junk: " + b"b" * 100000 + b"\r\n\r\n"
try:
    s.sendall(req)
except OSError:
    pass
data = b""
try:
    while len(data) < 12:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(data[9:12].decode("ascii", "replace") if data.startswith(b"HTTP/1.1 ") else "000")
EOF
}
STATUS=$(raw_head url)
CURL_RC=0 BODY=
expect_4xx "300000-character URL"
STATUS=$(raw_head header)
CURL_RC=0 BODY=
expect_4xx "100000-byte header"

# Raw socket abuse: garbage, truncated requests, lying Content-Length, idle connections.
raw()
{
	"$PY" - "$SOCK" "$1" <<'EOF'
import os, socket, sys, time
path, what = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s
def drain(s):
    try:
        while s.recv(65536):
            pass
    except Exception:
        pass
if what == "garbage":
    s = conn(); s.sendall(b"\x00\xff\xfe GARBAGE \x01\x02\r\n\r\n"); drain(s); s.close()
elif what == "half-headers":
    s = conn(); s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: x\r\nContent-Ty"); s.close()
elif what == "half-body":
    s = conn()
    s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n{\"certificate\":")
    time.sleep(0.3); s.close()
elif what == "huge-length":
    s = conn()
    s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 99999999999999999999999\r\n\r\n{}")
    print(s.recv(100).split(b"\r\n")[0].decode("latin-1"))
    s.close()
elif what == "negative-length":
    s = conn()
    s.sendall(b"POST /v1/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: -5\r\n\r\n{}")
    print(s.recv(100).split(b"\r\n")[0].decode("latin-1"))
    s.close()
elif what == "idle":
    # 20 idle connections of this process; another process asks (a process
    # over its own cap of idle connections is refused, see t-lockout.sh)
    socks = [conn() for _ in range(20)]
    time.sleep(0.2)
    if os.fork() == 0:
        s = conn()
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        print(s.recv(100).split(b"\r\n")[0].decode("latin-1"), flush=True)
        os._exit(0)
    os.wait()
    for c in socks:
        c.close()
elif what == "connect-close":
    for _ in range(50):
        conn().close()
EOF
}
raw garbage >/dev/null 2>&1
serves "binary garbage on the socket"
raw half-headers >/dev/null 2>&1
serves "connection closed in the middle of the headers"
raw half-body >/dev/null 2>&1
serves "connection closed in the middle of a sign body"
line=$(raw huge-length 2>&1)
like "$line" '^HTTP/1\.[01] 4[0-9][0-9]' "Content-Length larger than 64 bits: client error ($line)"
serves "huge Content-Length"
line=$(raw negative-length 2>&1)
like "$line" '^HTTP/1\.[01] 4[0-9][0-9]' "negative Content-Length: client error ($line)"
serves "negative Content-Length"
line=$(raw idle 2>&1)
like "$line" '^HTTP/1\.1 200' "status answered to another process while 20 idle connections are open ($line)"
raw connect-close >/dev/null 2>&1
serves "50 connections opened and closed at once"

# ---------------------------------------------------------------- logout odds and ends
api POST /v1/logout '{"token":"zzz"}'
if { [ "$STATUS" = 200 ] && [ "$(json_get 'j["logged_out"]')" = 0 ]; } ||
	{ [ "$STATUS" = 404 ] && [ "$(err_code)" = token_not_found ]; }; then
	pass "logout of an unknown token: logged_out 0 or 404 token_not_found ($STATUS)"
else
	fail "logout of an unknown token: logged_out 0 or 404 token_not_found"
	diag "    got: $STATUS $BODY"
fi
serves "logout of an unknown token"

# ---------------------------------------------------------------- positive control
is "$(getpin_count)" 0 "no GETPIN at all so far"
sign_and_verify rsa sha256
is "$(getpin_count)" $((PIN_BASE + 1)) "the pinentry log does record GETPIN (control)"

# key_not_found: the certificate is listed but its key does not exist (known after login).
api GET "/v1/certificates/${CERT_ID[nokey]}"
is "$STATUS" 200 "key-less certificate is listed"
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[nokey]}" sha256)"
is_error 409 key_not_found "certificate without a private key: 409 key_not_found"
status_ok "daemon serves after key_not_found"

stop_kysod

# ---------------------------------------------------------------- max_body from the config
write_conf --module "softhsm=$SOFTHSM" max_body=1024
start_kysod
pad_to "{\"certificate\":\"$ZERO\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}" 1024
api_file POST /v1/sign "$T/body.json"
is_error 404 certificate_not_found "max_body=1024: a 1024-byte body is read"
pad_to "{\"certificate\":\"$ZERO\",\"hash\":\"$H32\",\"hash_algorithm\":\"sha256\"}" 1025
api_file POST /v1/sign "$T/body.json"
is_error 413 body_too_large "max_body=1024: a 1025-byte body is 413 body_too_large"
status_ok "max_body=1024: daemon serves"
stop_kysod
done_testing
