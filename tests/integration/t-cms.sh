#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# POST /v1/sign with "format": "cms": detached CMS SignedData (CAdES-BES) over the record
# hash for RSA PKCS#1 v1.5, RSA-PSS and ECDSA, verified by `openssl cms -verify` against the
# record; the signed attributes read back (messageDigest = the hash sent, signingTime,
# contentType, signingCertificateV2 naming the signer); the CA chain included; CAdES-T with
# a test TSA on loopback, its token verified by `openssl ts -verify`; TSA failures.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

INSPECT=$KYSO_SRCDIR/tests/lib/cms-inspect.py

make_softhsm_token
ca_init
tsa_init
ca_other_init
ca_issue cades rsa "Vũ Thị Thanh Hương"
ca_issue cadesec p256 "Đặng Quốc Bảo"
make_ca_token kyso-ca cades:21 cadesec:22

# cms_body CERT_ID ALG [PADDING] [EXTRA_JSON]: a /v1/sign body for format cms.
cms_body()
{
	local extra=${4:-}
	printf '{"certificate":"%s","hash":"%s","hash_algorithm":"%s","format":"cms"%s%s}' \
		"$1" "$HASH_B64" "$2" "${3:+,\"padding\":\"$3\"}" "${extra:+,$extra}"
}

# cms_sign KEY ALG [PADDING] [EXTRA_JSON]: a fresh record signed; the CMS in $T/sig.der
# and its inspection in $INFO. Returns 1 when the signature was not made.
cms_sign()
{
	make_hash "$2"
	api POST /v1/sign "$(cms_body "${CERT_ID[$1]}" "$2" "${3:-}" "${4:-}")"
	rm -f "$T/sig.der"
	INFO=
	[ "$STATUS" = 200 ] || return 1
	json_get 'j["signature"]' | openssl base64 -d -A > "$T/sig.der" 2>/dev/null
	INFO=$("$PY" "$INSPECT" "$T/sig.der" --timestamp-token "$T/tst.der" \
		--signature-value "$T/sigvalue.bin" 2>"$T/inspect.err")
}

info()
{
	json_get "$1" "$INFO"
}

# cms_verify CAFILE: openssl cms -verify of $T/sig.der against the record $T/data.bin.
cms_verify()
{
	openssl cms -verify -binary -inform DER -in "$T/sig.der" -content "$T/data.bin" \
		-CAfile "$1" -out /dev/null >"$T/cmsverify.out" 2>&1
}

# cms_rejects CAFILE: $T/sig.der is a CMS signature openssl can read, and openssl cms -verify
# refuses it for its content (not a missing or unreadable file).
cms_rejects()
{
	[ -s "$T/sig.der" ] && [ -s "$T/data.bin" ] &&
		openssl cms -cmsout -inform DER -in "$T/sig.der" -noout >/dev/null 2>&1 || {
		diag "    no readable CMS signature in $T/sig.der"
		return 1
	}
	if cms_verify "$1"; then
		diag "    openssl cms -verify accepted it"
		return 1
	fi
	grep -qi 'verification failure\|digest failure\|content verify error' "$T/cmsverify.out" || {
		diag "    openssl cms -verify failed for another reason: $(cat "$T/cmsverify.out")"
		return 1
	}
}

# check_cms KEY ALG [PADDING]: a CMS signature made and checked (TAP lines).
check_cms()
{
	local key=$1 alg=$2 pad=${3:-} name sigalg
	name="$key ${pad:+$pad }$alg"
	if ! cms_sign "$key" "$alg" "$pad"; then
		fail "cms $name: 200"
		diag "    $STATUS $BODY"
		skip 7 "cms $name failed"
		return 1
	fi
	pass "cms $name: 200"
	is "$(json_get 'j["format"] + " " + j["certificate"]')" "cms ${CERT_ID[$key]}" \
		"cms $name: format cms and the certificate id in the answer"
	if cms_verify "${CERT_PEM[$key]}"; then
		pass "cms $name: openssl cms -verify -binary -content <record> succeeds"
	else
		fail "cms $name: openssl cms -verify -binary -content <record> succeeds"
		diag "$(cat "$T/cmsverify.out")"
	fi
	is "$(info 'j["signers"][0]["message_digest"]')" "$HASH_HEX" \
		"cms $name: messageDigest is the hash sent"
	is "$(info '[j["detached"], j["signers"][0]["digest_algorithm"], j["signers"][0]["content_type_attr"]]')" \
		"[true, \"$alg\", \"data\"]" "cms $name: detached, digestAlgorithm $alg, contentType data"
	like "$(info 'j["signers"][0]["signing_time"]')" '^[0-9]{12}Z$' "cms $name: signingTime present"
	is "$(info '[j["signers"][0]["signing_certificate_v2"]["names"], j["signers"][0]["signing_certificate_v2"]["hash_algorithm"]]')" \
		"[\"${CERT_ID[$key]}\", \"$alg\"]" \
		"cms $name: signingCertificateV2 names the signer's certificate ($alg)"
	case ${KEY_TYPE[$key]}:$pad in
	rsa:pss) sigalg=rsassaPss ;;
	rsa:*) sigalg=rsaEncryption ;;
	*) sigalg=ecdsa-with-SHA${alg#sha} ;;
	esac
	is "$(info 'j["signers"][0]["signature_algorithm"]["algorithm"]')" "$sigalg" \
		"cms $name: signatureAlgorithm $sigalg"
}

# ---------------------------------------------------------------- CAdES-BES, every key
write_conf --module "softhsm=$SOFTHSM"
start_kysod

check_cms rsa sha256
is "$(getpin_count)" 1 "the first CMS signature asked the PIN once"
check_cms rsa sha256 pkcs1
check_cms rsa sha256 pss
check_cms rsa sha384 pss
check_cms rsa sha512 pss
check_cms rsa sha512
check_cms p256 sha256
check_cms p256 sha384
check_cms p384 sha384
check_cms p384 sha512
is "$(getpin_count)" 1 "login kept across CMS signatures"

# The details of one signature.
cms_sign rsa sha256 pss
is "$(json_get 'j["algorithm"]')" rsa-pss-sha256 "algorithm rsa-pss-sha256 in the answer"
like "$(json_get 'j["audit_id"]')" '^[0-9a-f]{32}:[0-9]+$' "an audit id in the answer"
is "$(info 'j["signers"][0]["signature_algorithm"]["parameters"]')" \
	"3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120" \
	"PSS parameters: SHA-256, MGF1 with SHA-256, salt 32"
is "$(info 'j["signers"][0]["signed_attrs"]')" \
	'["contentType", "messageDigest", "signingCertificateV2", "signingTime"]' \
	"the signed attributes are exactly contentType, messageDigest, signingCertificateV2, signingTime"
is "$(info 'j["signers"][0]["signed_attrs_sorted"]')" true "the signed attributes are a DER SET (sorted)"
is "$(info 'j["certificates"]')" "[\"${CERT_ID[rsa]}\"]" \
	"without a CA bundle the CMS carries the signer's certificate only"
is "$(info 'j["trailing_bytes"]')" 0 "no bytes after the ContentInfo"
openssl cms -cmsout -print -inform DER -in "$T/sig.der" > "$T/print.txt" 2>&1
like "$(cat "$T/print.txt")" "id-smime-aa-signingCertificateV2" "openssl cms -cmsout -print shows signingCertificateV2"
like "$(cat "$T/print.txt")" "messageDigest" "...and messageDigest"
like "$(cat "$T/print.txt")" "rsassaPss" "...and rsassaPss"
# another record does not verify against it
head -c 10 /dev/urandom >> "$T/data.bin"
cms_rejects "${CERT_PEM[rsa]}"
ok $? "the CMS signature does not verify against another record"

# Audit entry for a CMS signature (its result, written once the answer has gone).
audit_settle
tail -n 1 "$AUDIT_LOG" > "$T/last.json"
is "$(json_get '[j["format"], j["result"], j["hash"]]' "$(cat "$T/last.json")")" \
	"[\"cms\", \"ok\", \"$HASH_HEX\"]" "the audit entry says format cms, ok, the record hash"

# Request errors.
make_hash sha256
api POST /v1/sign "$(cms_body "${CERT_ID[p256]}" sha256 pss)"
is_error 400 unsupported_padding "cms with pss on an EC key: unsupported_padding"
api POST /v1/sign "$(cms_body "${CERT_ID[rsa]}" sha256 "" '"timestamp":true')"
is_error 400 timestamp_unavailable "timestamp without tsa_url: timestamp_unavailable"
is "$(json_get 'j["error"]["field"]')" timestamp "...field timestamp"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[rsa]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"timestamp\":true}"
is_error 400 invalid_value "timestamp with format raw: invalid_value"
api POST /v1/sign "$(cms_body "${CERT_ID[rsa]}" sha256 "" '"timestamp":"yes"')"
is_error 400 invalid_type "timestamp not a boolean: invalid_type"
api POST /v1/sign "$(cms_body "${CERT_ID[rsa]}" sha256 "" '"timestamp":false')"
is "$STATUS" 200 "timestamp false: a CAdES-BES signature"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[rsa]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"format\":\"pkcs7\"}"
is_error 400 invalid_value "format pkcs7: invalid_value"
api POST /v1/sign "$(cms_body "${CERT_ID[rsa]}" sha256 "" '"profile":"xades"')"
is_error 400 invalid_value "profile xades: invalid_value"
is "$(json_get 'j["error"]["field"]')" profile "...field profile"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[rsa]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"profile\":\"pades\"}"
is_error 400 invalid_value "profile pades with format raw: invalid_value"

# ---------------------------------------------------------------- the pades profile (B-B)
for key in rsa p256; do
	alg=sha256
	[ "$key" = p256 ] || alg=sha384
	if ! cms_sign "$key" "$alg" "" '"profile":"pades"'; then
		fail "pades $key: 200"
		diag "    $STATUS $BODY"
		continue
	fi
	pass "pades $key $alg: 200"
	is "$(json_get '[j["format"], j["profile"]]')" '["cms", "pades"]' \
		"pades $key: the answer says format cms, profile pades"
	cms_verify "${CERT_PEM[$key]}"
	ok $? "pades $key: openssl cms -verify -binary -content <record> succeeds" ||
		diag "$(cat "$T/cmsverify.out")"
	is "$(info 'j["signers"][0]["signed_attrs"]')" \
		'["contentType", "messageDigest", "signingCertificateV2"]' \
		"pades $key: the signed attributes are contentType, messageDigest, signingCertificateV2 (no signingTime)"
	is "$(info 'j["signers"][0].get("signing_time")')" null "pades $key: no signingTime"
	is "$(info '[j["signers"][0]["message_digest"], j["signers"][0]["content_type_attr"]]')" \
		"[\"$HASH_HEX\", \"data\"]" "pades $key: messageDigest is the hash sent, contentType data"
	is "$(info 'j["signers"][0]["signing_certificate_v2"]["names"]')" "${CERT_ID[$key]}" \
		"pades $key: signingCertificateV2 names the signer's certificate"
done
"$PY" "$INSPECT" "$T/sig.der" --signed-attrs "$T/attrs.der" --signature-value "$T/sigvalue.bin" \
	>/dev/null 2>&1
"$PY" - "$T/attrs.der" "$T/sigvalue.bin" "${CERT_PEM[p256]}" >"$T/pycheck.out" 2>&1 <<'PYEOF'
# python3-cryptography on its own: the signer's key verifies the DER signed attributes, and
# signingTime (1.2.840.113549.1.9.5) is not among them.
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
attrs = open(sys.argv[1], "rb").read()
sig = open(sys.argv[2], "rb").read()
cert = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
assert attrs[0] == 0x31 and len(attrs) > 100, "no signed attributes"
assert bytes.fromhex("06092a864886f70d010905") not in attrs, "signingTime present"
assert bytes.fromhex("06092a864886f70d010904") in attrs, "messageDigest missing"
cert.public_key().verify(sig, attrs, ec.ECDSA(hashes.SHA256()))
print("ok")
PYEOF
is "$(cat "$T/pycheck.out")" ok "pades: python3-cryptography verifies the signed attributes with the certificate; no signingTime OID in them" ||
	diag "$(cat "$T/pycheck.out")"
stop_kysod

# ---------------------------------------------------------------- the chain, CAdES-T
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off "tsa_url=$TSA_URL"
start_kysod

# libcurl is loaded by the first request that needs HTTP, not at start-up
grep -q 'libcurl' "/proc/$KYSOD_PID/maps"
isnt $? 0 "kysod has not loaded libcurl before its first HTTP request"
cms_sign cades sha256 "" '"timestamp":true'
is "$STATUS" 200 "CAdES-T with RSA: 200"
grep -q 'libcurl\.so\.4' "/proc/$KYSOD_PID/maps"
ok $? "kysod loaded libcurl for the timestamp"
is "$(info 'len(j["certificates"])')" 3 \
	"the CMS carries the signer, the issuing CA and the root"
cms_verify "$CA_ROOT"
ok $? "openssl cms -verify with only the root as trust anchor (the chain is in the CMS)"
is "$(info 'j["signers"][0]["unsigned_attrs"]')" '["signatureTimeStampToken"]' \
	"the timestamp is the signatureTimeStampToken unsigned attribute"
like "$(json_get 'j["timestamp"]["time"]')" '^20[0-9-]{8}T[0-9:]{8}Z$' "the answer gives the timestamp's time"
like "$(json_get 'j["timestamp"]["tsa"]')" "Kyso Test Time-Stamp Authority" "...and the TSA's name"
DIGEST=$(openssl dgst -sha256 -r "$T/sigvalue.bin" | cut -d' ' -f1)
openssl ts -verify -in "$T/tst.der" -token_in -digest "$DIGEST" -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >"$T/tsverify.out" 2>&1
ok $? "openssl ts -verify: the token is over the signature value and signed by the TSA"
grep -q "Verification: OK" "$T/tsverify.out" || diag "$(cat "$T/tsverify.out")"
openssl ts -verify -in "$T/tst.der" -token_in -digest "$HASH_HEX" -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >/dev/null 2>&1
isnt $? 0 "openssl ts -verify: the token is not over the record hash itself"

cms_sign cadesec sha384 "" '"timestamp":true'
is "$STATUS" 200 "CAdES-T with ECDSA over sha384: 200"
cms_verify "$CA_ROOT"
ok $? "openssl cms -verify of the ECDSA CAdES-T signature"
DIGEST=$(openssl dgst -sha384 -r "$T/sigvalue.bin" | cut -d' ' -f1)
openssl ts -verify -in "$T/tst.der" -token_in -digest "$DIGEST" -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >/dev/null 2>&1
ok $? "openssl ts -verify: the timestamp imprint uses sha384"

cms_sign cades sha512 pss '"timestamp":true'
is "$STATUS" 200 "CAdES-T with RSA-PSS sha512: 200"
cms_verify "$CA_ROOT"
ok $? "openssl cms -verify of the RSA-PSS CAdES-T signature"

# PAdES B-T: the pades profile with a signature timestamp.
cms_sign cades sha256 "" '"timestamp":true,"profile":"pades"'
is "$STATUS" 200 "PAdES B-T (pades profile with a timestamp): 200"
cms_verify "$CA_ROOT"
ok $? "openssl cms -verify of the PAdES B-T signature"
is "$(info '[j["signers"][0]["signed_attrs"], j["signers"][0]["unsigned_attrs"]]')" \
	'[["contentType", "messageDigest", "signingCertificateV2"], ["signatureTimeStampToken"]]' \
	"PAdES B-T: no signingTime; the signatureTimeStampToken unsigned attribute"
DIGEST=$(openssl dgst -sha256 -r "$T/sigvalue.bin" | cut -d' ' -f1)
openssl ts -verify -in "$T/tst.der" -token_in -digest "$DIGEST" -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >/dev/null 2>&1
ok $? "PAdES B-T: openssl ts -verify of the token over the signature value"

# TSA failures: no signature comes back.
audit_settle
n=$(wc -l < "$AUDIT_LOG")
tsa_stop
cms_sign cades sha256 "" '"timestamp":true'
is_error 502 timestamp_failed "TSA down: timestamp_failed"
like "$(json_get 'j["error"]["message"]')" "did not answer" "...saying the TSA did not answer"
is "$(json_get '"signature" in j')" false "...and no signature in the answer"
audit_settle
tail -n 1 "$AUDIT_LOG" > "$T/last.json"
is "$(json_get 'j["result"]' "$(cat "$T/last.json")")" timestamp_failed \
	"the audit entry records timestamp_failed"
# the same port, other answers
port=${TSA_URL#http://127.0.0.1:}
port=${port%%/*}
for mode in http500 garbage reject; do
	tsa_start "$mode" "$port"
	cms_sign cades sha256 "" '"timestamp":true'
	is_error 502 timestamp_failed "TSA answering $mode: timestamp_failed"
	note "$(json_get 'j["error"]["message"]')"
	tsa_stop
done
audit_settle
is "$(wc -l < "$AUDIT_LOG")" $((n + 8)) "each failed attempt is in the audit log (its intent and its result)"
# (a result entry is written once its answer has gone: the next attempt's intent may come first)
is "$(tail -n 8 "$AUDIT_LOG" | "$PY" -c 'import json, sys
intents, results = set(), []
for l in sys.stdin:
    e = json.loads(l)
    if e["event"] == "intent":
        intents.add(e["seq"])
    else:
        results.append([e["result"], e.get("intent") in intents])
print(json.dumps([len(intents), results]))')" \
	'[4, [["timestamp_failed", true], ["timestamp_failed", true], ["timestamp_failed", true], ["timestamp_failed", true]]]' \
	"...each result timestamp_failed, after its intent"
stop_kysod

# A TSA whose certificate does not chain to the CA bundle is refused.
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_DIR/other/ca.pem" check_certificates=off \
	"tsa_url=$TSA_URL"
start_kysod
cms_sign cades sha256 "" '"timestamp":true'
is_error 502 timestamp_failed "a TSA outside the CA bundle: timestamp_failed"
like "$(json_get 'j["error"]["message"]')" "not trusted" "...its certificate is not trusted"
stop_kysod
tsa_stop

# The CLI: kyso sign --format cms --file writes the DER CMS, which openssl verifies against
# the file itself; --timestamp without --format cms is a usage error.
write_conf --module "softhsm=$SOFTHSM"
start_kysod
printf 'Sổ điểm lớp 10A1, học kỳ I\n' > "$T/data.bin"
"$KYSO_BUILDDIR/kyso" --socket "$SOCK" sign --cert "${CERT_ID[rsa]}" --file "$T/data.bin" \
	--format cms --out "$T/sig.der" >"$T/cli.out" 2>&1
is "$?" 0 "kyso sign --format cms: exit 0"
if cms_verify "${CERT_PEM[rsa]}"; then
	pass "kyso sign --format cms: openssl cms -verify -binary -content <file> succeeds"
else
	fail "kyso sign --format cms: openssl cms -verify -binary -content <file> succeeds"
	diag "$(cat "$T/cmsverify.out" "$T/cli.out")"
fi
printf 'altered\n' >> "$T/data.bin"
cms_rejects "${CERT_PEM[rsa]}"
ok $? "...and fails once the file is altered"
"$KYSO_BUILDDIR/kyso" --socket "$SOCK" sign --cert "${CERT_ID[rsa]}" --file "$T/data.bin" \
	--timestamp >"$T/cli.out" 2>&1
is "$?" 2 "kyso sign --timestamp without --format cms: usage error (exit 2)"
"$KYSO_BUILDDIR/kyso" --socket "$SOCK" sign --cert "${CERT_ID[rsa]}" --file "$T/data.bin" \
	--format cms --profile pades --out "$T/sig.der" >"$T/cli.out" 2>&1
is "$?" 0 "kyso sign --format cms --profile pades: exit 0"
cms_verify "${CERT_PEM[rsa]}"
ok $? "...openssl cms -verify succeeds"
is "$(json_get 'j["signers"][0]["signed_attrs"]' "$("$PY" "$INSPECT" "$T/sig.der")")" \
	'["contentType", "messageDigest", "signingCertificateV2"]' "...no signingTime"
"$KYSO_BUILDDIR/kyso" --socket "$SOCK" sign --cert "${CERT_ID[rsa]}" --file "$T/data.bin" \
	--profile pades >"$T/cli.out" 2>&1
is "$?" 2 "kyso sign --profile without --format cms: usage error (exit 2)"
stop_kysod

done_testing
