#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Python client package (clients/python) against a real kysod: its own tests
# (clients/python/tests/test_kyso.py), one TAP line each, on a SoftHSM2 token with RSA and
# EC keys, a certificate without its key and an encryption-only one, and the scripted
# pinentry. Every signature is verified with Python's cryptography against the
# certificate; every answer and event the client got is checked against docs/openapi.yaml.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"

require_build
require_softhsm
"$PY" -c 'import cryptography' 2>/dev/null || plan_skip_all "python3-cryptography not installed"

make_softhsm_token
_make_cert nokey p256 "Võ Thị Sáu" "digitalSignature" 6f01020304050607
pkcs11-tool --module "$SOFTHSM" --token-label kyso-test --login --pin 123456 \
	--write-object "${CERT_DER[nokey]}" --type cert --id 04 --label "không có khoá" \
	>"$T/nokey.import" 2>&1 || bail_out "cannot write the key-less certificate: $(cat "$T/nokey.import")"
_make_cert kuenc p256 "Đặng Thu Thảo" "keyEncipherment" 7a01020304050607
_import kuenc kyso-test 05 "chỉ mã hoá"
write_conf --module "softhsm=$SOFTHSM"
start_kysod

certs=$(for k in rsa p256 p384 nokey kuenc; do
	printf '"%s":{"id":"%s","pem":"%s","type":"%s"}\n' "$k" "${CERT_ID[$k]}" "${CERT_PEM[$k]}" \
		"${KEY_TYPE[$k]}"
done | paste -sd, -)
export KYSO_TEST_CERTS="{$certs}"
export KYSO_SOCKET=$SOCK KYSO_TEST_TOKEN=$TOKEN_ID KYSO_TEST_RESULTS=$T/py-results
[ -n "${KYSO_API_RECORD:-}" ] && [ "$KYSO_API_RECORD" != 0 ] && export KYSO_API_RECORD_DIR=$T/api-record
: > "$KYSO_TEST_RESULTS"
(cd "$KYSO_SRCDIR/clients/python" && "$PY" tests/test_kyso.py) > "$T/py.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) pass "python: ${line#ok }" ;;
	"not ok "*) fail "python: ${line#not ok }" ;;
	"skip "*) skip 1 "python: ${line#skip }" ;;
	"#"*) printf '%s\n' "$line" ;;
	esac
done < "$KYSO_TEST_RESULTS"
ok $(( $(grep -c '^ok ' "$KYSO_TEST_RESULTS") >= 20 ? 0 : 1 )) "the Python tests ran (unittest exit status $rc)"
[ "$rc" = 0 ] || { diag "unittest output:"; tail -30 "$T/py.out" | sed 's/^/    /'; }

# the package installs as a wheel would (pyproject.toml), without the network
if "$PY" -c 'import setuptools' 2>/dev/null; then
	rm -rf "$T/site"
	(cd "$KYSO_SRCDIR/clients/python" && "$PY" -m pip --version >/dev/null 2>&1 &&
		"$PY" -m pip install --no-build-isolation --no-deps --no-index --target "$T/site" . \
		>"$T/pip.log" 2>&1 && rm -rf build kyso.egg-info)
	if [ -f "$T/site/kyso/client.py" ]; then
		is "$(cd / && PYTHONPATH=$T/site "$PY" -c 'import kyso; print(len(kyso.Client().certificates(usable=True)))')" \
			3 "installed from pyproject.toml: kyso.Client() lists the usable certificates"
	else
		skip 1 "pip cannot build the package here: $(tail -1 "$T/pip.log" 2>/dev/null)"
	fi
else
	skip 1 "python3-setuptools not installed"
fi

# ---------------------------------------------------------------- the examples' client
# examples/kyso_api.py raises an exception the caller can handle (not SystemExit), and gives
# a long batch all the time it needs.
out=$(cd "$KYSO_SRCDIR/examples" && KYSO_SOCKET=$SOCK "$PY" - "${CERT_ID[p256]}" <<'PYEOF' 2>&1
import base64, os, sys
import kyso_api
from kyso_api import KysoApiError, api, default_socket
sock = default_socket()
try:
    api(sock, "GET", "/v1/certificates/" + "0" * 64)
    print("no error")
except KysoApiError as e:
    print(e.status, e.code)
print(api(sock, "GET", "/v1/status")["api"])
kyso_api.TIMEOUT = 0.2
items = [{"id": "i%d" % i, "hash": base64.b64encode(os.urandom(32)).decode()} for i in range(1500)]
r = api(sock, "POST", "/v1/sign/batch", {"certificate": sys.argv[1], "hash_algorithm": "sha256",
                                         "items": items})
print(r["signed"])
PYEOF
)
is "$(printf '%s' "$out" | tr '\n' ' ')" "404 certificate_not_found 1 1500" \
	"examples/kyso_api.py: an error answer is an exception the caller handles; a long batch does not time out"

# docs/api.md's Python client picks a usable certificate and its signature verifies
sed -n '/^## A Python client/,$p' "$KYSO_SRCDIR/docs/api.md" |
	sed -n '/^```python$/,/^```$/p' | sed '1d;$d' > "$T/api-md-client.py"
printf 'Học bạ lớp 12A1\n' > "$T/record.txt"
pinentry_says "pin 123456"
out=$("$PY" "$T/api-md-client.py" "$T/record.txt" 2>&1)
ok $? "docs/api.md's Python client signs a file ($out)"
signer=
for k in rsa p256 p384; do
	case $out in *"${CERT_CN[$k]}"*) signer=$k ;; esac
done
if [ -n "$signer" ] && [ -s "$T/record.txt.sig" ]; then
	openssl dgst -sha256 -binary "$T/record.txt" > "$T/record.hash"
	verify_sig "${CERT_PEM[$signer]}" "$(xxd -p -c 256 "$T/record.hash")" "$T/record.txt.sig" \
		sha256 "$([ "$signer" = rsa ] && echo pkcs1)"
	ok $? "its signature verifies with openssl against the certificate of ${CERT_CN[$signer]}"
else
	fail "its signature verifies with openssl against the certificate"
	diag "    output: $out"
fi

stop_kysod
done_testing
