#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# POST /v1/verify: raw and CMS signatures checked against a record hash, each check in the
# answer (signature, digest, content type, signingCertificateV2, timestamp, claimed signing
# time, validity, key usage, chain, CRL and OCSP findings, revocation) and a verdict
# (status valid | invalid | indeterminate, reason). The ETSI EN 319 102-1 time model: the
# claimed signingTime is never proof (backdated into an expired certificate's validity: not
# valid; in the future: invalid); a timestamp before expiry or revocation is. No ca_bundle:
# indeterminate. Single-bit flips in signed parts are never valid. Bad inputs answered with
# clear errors; `kyso verify`. Signatures made here are checked with openssl too.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm

make_softhsm_token
ca_init
tsa_init
ca_issue signer rsa "Hoàng Minh Tuấn"
ca_issue later p256 "Lý Thu Trang"
ca_issue old p256 "Võ Thị Cũ" --start 20220101000000Z --end 20240101000000Z
make_ca_token kyso-ca signer:31 later:32
ca_crl "$T/ca.crl"
ca_crl_of root "$T/root.crl"

# sign_as KEY ALG FORMAT [PADDING] [EXTRA]: a fresh record signed; SIG_B64 holds the signature.
sign_as()
{
	local extra=${5:-}
	make_hash "$2"
	api POST /v1/sign "{\"certificate\":\"${CERT_ID[$1]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"$2\",\"format\":\"$3\"${4:+,\"padding\":\"$4\"}${extra:+,$extra}}"
	SIG_B64=$(json_get 'j["signature"]')
	[ "$STATUS" = 200 ] || diag "sign $*: $STATUS $BODY"
}

# verify FORMAT ALG [CERT] [PADDING] [HASH_B64] [SIG_B64]: POST /v1/verify.
verify()
{
	local cert=${3:-} pad=${4:-} hash=${5:-$HASH_B64} sig=${6:-$SIG_B64}
	api POST /v1/verify "{\"format\":\"$1\",\"signature\":\"$sig\",\"hash\":\"$hash\",\"hash_algorithm\":\"$2\"${cert:+,\"certificate\":$cert}${pad:+,\"padding\":\"$pad\"}}"
	# every raw signature check is checked against openssl's at the end of this file
	[ "$1" = raw ] && printf '%s|%s|%s|%s|%s|%s %s\n' "$2" "$cert" "$pad" "$hash" "$sig" \
		"$STATUS" "$(result signature 2>/dev/null)" >> "$T/raw-verdicts"
	return 0
}

# result NAME: the result of check NAME in the last answer.
result()
{
	json_get "[c['result'] for c in j['checks'] if c['check'] == '$1'][0]"
}

results()
{
	json_get "' '.join(c['check'] + '=' + c['result'] for c in j['checks'])"
}

# verdict: "STATUS REASON valid" of the last answer.
verdict()
{
	json_get "' '.join([j['status'], j['reason'], str(j['valid']).lower()])"
}

# message NAME: the message of check NAME in the last answer.
message()
{
	json_get "[c['message'] for c in j['checks'] if c['check'] == '$1'][0]"
}

# cms_ok FILE.p7s DATA [openssl cms options]: openssl's own check of a detached CMS.
cms_ok()
{
	local f=$1 data=$2
	shift 2
	openssl cms -verify -binary -inform DER -in "$f" -content "$data" "$@" -out /dev/null \
		>"$T/cms-ok.out" 2>&1
}

# b64_to FILE: $SIG_B64 decoded into FILE.
b64_to()
{
	printf '%s' "$SIG_B64" | openssl base64 -d -A > "$1"
}

jstr()
{
	"$PY" -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$1"
}

# ---------------------------------------------------------------- raw, no CA bundle
write_conf --module "softhsm=$SOFTHSM"
start_kysod

sign_as rsa sha256 raw
verify raw sha256 "\"${CERT_ID[rsa]}\""
is "$STATUS" 200 "verify raw RSA with a certificate id: 200"
is "$(json_get '[j["valid"], j["status"], j["reason"], j["format"], j["algorithm"]]')" \
	'[false, "indeterminate", "chain_not_checked", "raw", "rsa-pkcs1-sha256"]' \
	"no CA bundle: indeterminate (chain_not_checked), never valid; format raw, rsa-pkcs1-sha256"
is "$(results)" "signature=ok validity=ok key_usage=ok chain=skipped revocation=skipped" \
	"the checks: signature, validity, key usage; chain and revocation skipped without a CA bundle"
like "$(message chain)" "no CA bundle.*anyone can make one" "...the chain check says why in words"
b64_to "$T/raw.sig"
verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/raw.sig" sha256 pkcs1
ok $? "openssl pkeyutl verifies the raw signature too"
is "$(json_get 'j["signer"]["id"]')" "${CERT_ID[rsa]}" "the signer is named by its id"
verify raw sha256 "$(jstr "${CERT_PEM[rsa]}")"
is "$(result signature)" ok "verify raw with the certificate as PEM"
verify raw sha256 "\"$(openssl base64 -A -in "${CERT_DER[rsa]}")\""
is "$(result signature)" ok "verify raw with the certificate as base64 DER"
verify raw sha256 "\"${CERT_ID[rsa]}\"" pss
is "$(json_get '[j["valid"], j["algorithm"]]')" '[false, "rsa-pss-sha256"]' \
	"a PKCS#1 v1.5 signature checked as PSS is not valid"
is "$(verdict)" "invalid signature_invalid false" "...invalid (signature_invalid) beats indeterminate"
is "$(result signature)" failed "...its signature check failed"
GOOD_HASH=$HASH_B64
make_hash sha256
verify raw sha256 "\"${CERT_ID[rsa]}\"" "" "$HASH_B64"
is "$(json_get '[j["valid"], [c["result"] for c in j["checks"] if c["check"] == "signature"][0]]')" \
	'[false, "failed"]' "a signature over another hash is not valid"
verify raw sha256 "\"${CERT_ID[p256]}\"" "" "$GOOD_HASH"
is "$(json_get 'j["valid"]')" false "an RSA signature checked with an EC certificate is not valid"

sign_as rsa sha384 raw pss
verify raw sha384 "\"${CERT_ID[rsa]}\"" pss
is "$(json_get '[[c["result"] for c in j["checks"] if c["check"] == "signature"][0], j["algorithm"]]')" '["ok", "rsa-pss-sha384"]' "verify raw RSA-PSS sha384"
sign_as p384 sha512 raw
verify raw sha512 "\"${CERT_ID[p384]}\""
is "$(json_get '[[c["result"] for c in j["checks"] if c["check"] == "signature"][0], j["algorithm"]]')" '["ok", "ecdsa-sha512"]' "verify raw ECDSA P-384 sha512"

# ---------------------------------------------------------------- CMS, no CA bundle
sign_as p256 sha256 cms
verify cms sha256
is "$STATUS" 200 "verify cms: 200"
is "$(json_get '[j["valid"], j["status"], j["format"], j["algorithm"]]')" \
	'[false, "indeterminate", "cms", "ecdsa-sha256"]' "no CA bundle: indeterminate, format cms, ecdsa-sha256"
is "$(results)" "digest=ok content_type=ok signature=ok signing_certificate=ok timestamp=skipped signing_time=ok validity=ok key_usage=ok chain=skipped revocation=skipped" \
	"the checks of a CAdES-BES signature"
like "$(json_get 'j["signing_time"]')" '^20[0-9-]{8}T' "the claimed signing time is reported"
like "$(message signing_time)" "a claim of the signer, not proof" "...as a claim, not as proof"
like "$(message validity)" "verification time" \
	"without a timestamp, validity is judged at the verification time, not the claimed one"
b64_to "$T/bes.p7s"
cms_ok "$T/bes.p7s" "$T/data.bin" -noverify
ok $? "openssl cms verifies the CMS signature over the record too"
CMS_B64=$SIG_B64
CMS_HASH=$HASH_B64
make_hash sha256
verify cms sha256 "" "" "$HASH_B64" "$CMS_B64"
is "$(json_get 'j["valid"]')" false "a CMS signature checked against another record is not valid"
is "$(result digest)" failed "...digest failed"
like "$(json_get '[c["message"] for c in j["checks"] if c["check"] == "digest"][0]')" "another record" \
	"...saying so"
make_hash sha384
verify cms sha384 "" "" "$HASH_B64" "$CMS_B64"
is "$(result digest)" failed "a sha256 CMS signature checked with a sha384 hash: digest failed"
verify cms sha256 "\"${CERT_ID[p256]}\"" "" "$CMS_HASH" "$CMS_B64"
is "$(result signature)" ok "verify cms with the signer's certificate given too"
verify cms sha256 "\"${CERT_ID[p384]}\"" "" "$CMS_HASH" "$CMS_B64"
is "$(json_get '[j["signer"]["id"], [c["result"] for c in j["checks"] if c["check"] == "signature"][0]]')" \
	"[\"${CERT_ID[p256]}\", \"ok\"]" "a CMS signature carrying its signer's certificate ignores another given one"

# a corrupted signature value inside the CMS
"$PY" - "$CMS_B64" > "$T/bad.b64" <<'EOF'
import base64, sys
d = bytearray(base64.b64decode(sys.argv[1]))
d[-10] ^= 0x01   # inside the signature value (the last field)
sys.stdout.write(base64.b64encode(bytes(d)).decode())
EOF
verify cms sha256 "" "" "$CMS_HASH" "$(cat "$T/bad.b64")"
is "$STATUS" 200 "a corrupted CMS signature: 200"
is "$(json_get '[j["valid"], [c["result"] for c in j["checks"] if c["check"] == "signature"][0]]')" \
	'[false, "failed"]' "...not valid: the signature check failed"

sign_as rsa sha512 cms pss
verify cms sha512
is "$(json_get '[[c["result"] for c in j["checks"] if c["check"] == "signature"][0], j["algorithm"]]')" '["ok", "rsa-pss-sha512"]' "verify cms RSA-PSS sha512"
b64_to "$T/pss.p7s"
cms_ok "$T/pss.p7s" "$T/data.bin" -noverify
ok $? "...openssl cms verifies it too"

# ---------------------------------------------------------------- kyso verify, no CA bundle
if [ -x "$KYSO_CLI" ] && "$KYSO_CLI" verify --help >/dev/null 2>&1; then
	K=("$KYSO_CLI" --socket "$SOCK")
	sign_as p256 sha256 cms
	cp "$T/data.bin" "$T/cms.data"
	printf '%s' "$SIG_B64" | openssl base64 -d -A > "$T/cms.der"
	"${K[@]}" verify --file "$T/cms.data" "$T/cms.der" > "$T/cli.out" 2>&1
	is $? 1 "kyso verify without a CA bundle: exit 1 (not valid)"
	like "$(cat "$T/cli.out")" "^Cannot tell whether the ecdsa-sha256 signature by CN=Trần Thị Bích Ngọc,.* is valid \\(chain_not_checked\\)" \
		"kyso verify says it cannot tell, names the algorithm and the signer"
	like "$(cat "$T/cli.out")" "no CA bundle \\(ca_bundle in kysod.conf\\).*anyone can make a certificate" \
		"...and says in plain words that the signer was not checked"
	like "$(cat "$T/cli.out")" "ok +digest" "kyso verify lists the checks"
	like "$(cat "$T/cli.out")" "signing time claimed by the signer \\(not proof\\)" \
		"kyso verify shows the signing time as a claim"
	"${K[@]}" verify --hash "$HASH_HEX" --format cms "$T/cms.der" > "$T/cli.out" 2>&1
	like "$(cat "$T/cli.out")" "^Cannot tell" "kyso verify --hash HEX --format cms"
	head -c 1 /dev/urandom >> "$T/cms.data"
	"${K[@]}" verify --file "$T/cms.data" "$T/cms.der" > "$T/cli.out" 2>&1
	is $? 1 "kyso verify: another record exits 1"
	like "$(cat "$T/cli.out")" "^NOT valid .*\\(digest_mismatch\\)" "...and says NOT valid, with the reason"
	sign_as rsa sha384 raw pss
	cp "$T/data.bin" "$T/raw.data"
	printf '%s' "$SIG_B64" | openssl base64 -d -A > "$T/raw.sig"
	"${K[@]}" verify --file "$T/raw.data" --hash-alg sha384 --padding pss \
		--cert "${CERT_ID[rsa]:0:12}" "$T/raw.sig" > "$T/cli.out" 2>&1
	like "$(cat "$T/cli.out")" "ok +signature" \
		"kyso verify of a raw RSA-PSS signature with a certificate id prefix"
	"${K[@]}" --json verify --file "$T/raw.data" --hash-alg sha384 --padding pss \
		--cert "${CERT_PEM[rsa]}" "$T/raw.sig" > "$T/cli.json" 2>&1
	is "$(json_get '[j["valid"], j["status"], j["reason"], j["format"]]' "$(cat "$T/cli.json")")" \
		'[false, "indeterminate", "chain_not_checked", "raw"]' \
		"kyso --json verify with the certificate from a PEM file: the answer as kysod gives it"
	"${K[@]}" verify --file "$T/raw.data" "$T/raw.sig" > "$T/cli.out" 2>&1
	is $? 1 "kyso verify of a raw signature without --cert fails"
	like "$(cat "$T/cli.out")" "missing_field" "...with kysod's missing_field"
	"${K[@]}" verify "$T/raw.sig" > /dev/null 2>&1
	is $? 2 "kyso verify without --file or --hash is a usage error"
else
	fail "kyso verify is in the build (kyso verify --help exits 0)"
fi

# ---------------------------------------------------------------- bad inputs
make_hash sha256
api POST /v1/verify '{"format":"cms","hash":"AAAA","hash_algorithm":"sha256"}'
is_error 400 missing_field "no signature: missing_field"
is "$(json_get 'j["error"]["field"]')" signature "...field signature"
api POST /v1/verify "{\"signature\":\"$SIG_B64\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\"}"
is_error 400 missing_field "raw without a certificate: missing_field"
is "$(json_get 'j["error"]["field"]')" certificate "...field certificate"
verify cms sha256 "" "" "$HASH_B64" "not*base64"
is_error 400 signature_encoding "a signature that is not base64: signature_encoding"
verify cms sha256 "" "" "$HASH_B64" "$(printf 'not a CMS structure at all' | openssl base64 -A)"
is_error 400 signature_malformed "a signature that is not CMS: signature_malformed"
verify cms sha256 "" "" "$HASH_B64" "$(openssl base64 -A -in "${CERT_DER[rsa]}")"
is_error 400 signature_malformed "a certificate sent as the signature: signature_malformed"
verify raw sha256 '"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"'
is_error 400 certificate_malformed "a broken PEM certificate: certificate_malformed"
verify raw sha256 '"bm90IGEgY2VydGlmaWNhdGU="'
is_error 400 certificate_malformed "base64 that is not a certificate: certificate_malformed"
verify raw sha256 "\"$(printf '%064d' 0)\""
is_error 404 certificate_not_found "an unknown certificate id: certificate_not_found"
verify raw sha256 "\"${CERT_ID[rsa]}\"" "" "AAAA"
is_error 400 hash_length "a short hash: hash_length"
verify raw sha256 "\"${CERT_ID[rsa]}\"" "" "!!!!"
is_error 400 hash_encoding "a hash that is not base64: hash_encoding"
verify cms sha256 "" pss
is_error 400 invalid_value "padding with cms: invalid_value"
verify raw sha256 "\"${CERT_ID[p256]}\"" pss
is_error 400 unsupported_padding "pss with an EC certificate: unsupported_padding"
api POST /v1/verify "{\"format\":\"xml\",\"signature\":\"$SIG_B64\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\"}"
is_error 400 invalid_value "format xml: invalid_value"
api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$SIG_B64\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"md5\"}"
is_error 400 invalid_value "hash_algorithm md5: invalid_value"
api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$SIG_B64\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"time\":1}"
is_error 400 unknown_field "an unknown field: unknown_field"
api POST /v1/verify '[1]'
is_error 400 bad_request "not an object: bad_request"
api GET /v1/verify
is_error 405 method_not_allowed "GET /v1/verify: 405"
is "$(getpin_count)" 1 "verification never asks for a PIN (one login for all signatures)"
stop_kysod

# ---------------------------------------------------------------- CA bundle, CRLs, timestamp
# a certificate that expires while the test runs: signed before, verified after
BRIEF_END=$(( $(date +%s) + 40 ))
ca_issue brief p256 "Đinh Văn Ngắn" --end "$(date -u -d "@$BRIEF_END" +%Y%m%d%H%M%SZ)"
make_ca_token kyso-ca-2 brief:33
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off \
	"crl=$T/ca.crl $T/root.crl" "tsa_url=$TSA_URL"
start_kysod

sign_as brief sha256 cms "" '"timestamp":true'
BRIEF_TS_SIG=$SIG_B64
BRIEF_TS_HASH=$HASH_B64
b64_to "$T/brief-ts.p7s"
cp "$T/data.bin" "$T/brief-ts.data"
sign_as brief sha256 cms
BRIEF_BES_SIG=$SIG_B64
BRIEF_BES_HASH=$HASH_B64
verify cms sha256
is "$(verdict)" "valid valid_now true" "a certificate about to expire: valid now"

sign_as later sha256 cms "" '"timestamp":true'
LATER_SIG=$SIG_B64
LATER_HASH=$HASH_B64
sign_as signer sha256 cms "" '"timestamp":true'
TS_SIG=$SIG_B64
TS_HASH=$HASH_B64
b64_to "$T/ts.p7s"
cp "$T/data.bin" "$T/ts.data"
cms_ok "$T/ts.p7s" "$T/ts.data" -CAfile "$CA_ROOT" -purpose any
ok $? "openssl cms verifies the CAdES-T signature and its chain"
"$PY" "$KYSO_SRCDIR/tests/lib/cms-inspect.py" "$T/ts.p7s" --timestamp-token "$T/ts.tst" \
	--signature-value "$T/ts.sigval" > /dev/null
openssl ts -verify -data "$T/ts.sigval" -in "$T/ts.tst" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" > "$T/ts.out" 2>&1
ok $? "openssl ts verifies its timestamp over the signature value"
verify cms sha256
is "$(results)" "digest=ok content_type=ok signature=ok signing_certificate=ok timestamp=ok signing_time=ok validity=ok key_usage=ok chain=ok crl=ok crl=ok revocation=ok" \
	"CAdES-T with a CA bundle and CRLs: every check ok, with a CRL finding for each certificate"
is "$(verdict)" "valid valid_at_timestamp true" "...valid, resting on the timestamp"
like "$(json_get '" | ".join(c["certificate"] + ": " + c["message"] for c in j["checks"] if c["check"] == "crl")')" \
	"^CN=Kyso Test Issuing CA.*: not on the CRL of CN=Kyso Test Root CA.* \| .*CN=Hoàng Minh Tuấn.*: not on the CRL of CN=Kyso Test Issuing CA" \
	"the CRL findings name the issuing CA (root's CRL) and the signer (issuing CA's CRL)"
like "$(json_get 'j["timestamp"]["tsa"]')" "Time-Stamp Authority" "the timestamp's authority is named"
like "$(message validity)" "timestamp" "validity is checked at the timestamp's time"
grep -q "revocation: crl, depth 1 (CN=Kyso Test Issuing CA" "$KYSOD_LOG"
ok $? "the debug log has the CRL finding for the issuing CA"
if [ -x "$KYSO_CLI" ]; then
	"$KYSO_CLI" --socket "$SOCK" verify --file "$T/ts.data" "$T/ts.p7s" > "$T/cli.out" 2>&1
	is $? 0 "kyso verify of a valid CAdES-T signature: exit 0"
	like "$(cat "$T/cli.out")" "^Valid rsa-pkcs1-sha256 signature by CN=Hoàng Minh Tuấn" "...says Valid"
else
	skip 2 "kyso verify is not in this build"
fi
sign_as signer sha256 cms
BES_SIG=$SIG_B64
BES_HASH=$HASH_B64
verify cms sha256
is "$(json_get '[j["valid"], j["reason"], [c["result"] for c in j["checks"] if c["check"] == "timestamp"][0]]')" \
	'[true, "valid_now", "skipped"]' "CAdES-BES: valid at the verification time, timestamp skipped"
# A document timestamp over a document that holds the BES signature (here its own DER
# stands for the document): the proof of existence a PDF's later /DocTimeStamp gives.
doc_timestamp()
{
	printf '%s' "$1" | base64 -d > "$T/doc.$2"
	DOC_HASH=$(openssl dgst -sha256 -binary "$T/doc.$2" | base64 -w0)
	api POST /v1/timestamp "{\"hash\":\"$DOC_HASH\",\"hash_algorithm\":\"sha256\"}"
	json_get 'j["token"]' | base64 -d > "$T/doc.$2.tst"
	openssl ts -verify -data "$T/doc.$2" -in "$T/doc.$2.tst" -token_in -CAfile "$CA_ROOT" \
		-untrusted "$CA_INT" > "$T/ts.out" 2>&1
	ok $? "a document timestamp over the document holding the $2 signature (openssl ts verifies it)" ||
		diag "$(cat "$T/ts.out")"
	DOC_TST=$(base64 -w0 "$T/doc.$2.tst")
}
doc_timestamp "$BES_SIG" bes
BES_DOC_TST=$DOC_TST BES_DOC_HASH=$DOC_HASH
doc_timestamp "$BRIEF_BES_SIG" brief
BRIEF_DOC_TST=$DOC_TST BRIEF_DOC_HASH=$DOC_HASH

# single-bit flips: anything signed is never valid; unsigned fields as docs/api.md says
"$PY" "$KYSO_SRCDIR/tests/lib/cms-flip.py" "$SOCK" "$T/ts.p7s" "$TS_HASH" sha256 > "$T/flip.json"
FLIP=$(cat "$T/flip.json")
is "$(json_get 'j["original"]' "$FLIP")" valid "bit flips: the signature flipped is valid to begin with"
is "$(json_get 'j["signed"].get("valid", 0) + j["signed"].get("indeterminate", 0) + j["signed"].get("inconsistent", 0)' "$FLIP")" 0 \
	"a bit flipped in any byte of the signed attributes or the signature value: never valid"
is "$(json_get 'j["signed"].get("invalid", 0) + j["signed"].get("malformed", 0) == j["signed_bytes"] and j["signed_bytes"] > 300' "$FLIP")" true \
	"...each one invalid, or 400 signature_malformed when the DER breaks ($(json_get 'j["signed"]' "$FLIP"))" ||
	diag "valid after a flip at byte offsets $(json_get 'j.get("valid_at")' "$FLIP") of $(openssl base64 -A -in "$T/ts.p7s")"
is "$(json_get 'j["fields"]["signed_attr_set_tag"]' "$FLIP")" "invalid/signature_invalid" \
	"a signed attribute's SET tag made primitive (OpenSSL parses it to the same value): invalid"
is "$(json_get 'j["fields"]["econtent_type"]' "$FLIP")" "invalid/content_type_mismatch" \
	"a flip in eContentType (unsigned, but it must equal the signed contentType): invalid"
is "$(json_get 'j["fields"]["signed_data_version"]' "$FLIP")" "valid/valid_at_timestamp" \
	"a flip in SignedData.version (unsigned, not used): harmless"
is "$(json_get 'j["fields"]["signer_info_version"]' "$FLIP")" "valid/valid_at_timestamp" \
	"a flip in SignerInfo.version (unsigned, not used): harmless"
is "$(json_get 'j["fields"]["digest_algorithms"]' "$FLIP")" "valid/valid_at_timestamp" \
	"a flip in the SignedData digestAlgorithms set (unsigned, advisory): harmless"
is "$(json_get 'j["fields"]["timestamp_token"]' "$FLIP")" "valid/valid_now" \
	"a flip in the timestamp token: the timestamp is no longer proof, judged now"

# claimed signing times (the signatures made with the key outside kysod)
make_hash sha256
"$PY" "$KYSO_SRCDIR/tests/lib/cms-make.py" "$T/keys/old.key" "${CERT_PEM[old]}" "$T/data.bin" \
	20230601000000Z "$T/old.p7s"
cms_ok "$T/old.p7s" "$T/data.bin" -noverify
ok $? "backdated signingTime: openssl cms verifies the signature itself"
is "$(openssl x509 -in "${CERT_PEM[old]}" -noout -enddate)" "notAfter=Jan  1 00:00:00 2024 GMT" \
	"...and its certificate was valid at the claimed time (2023), expired since 2024"
verify cms sha256 "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/old.p7s")"
is "$(verdict)" "indeterminate expired_no_poe false" \
	"a signingTime set back into an expired certificate's validity, no timestamp: not valid (expired_no_poe)"
is "$(json_get '[j["signing_time"], [c["result"] for c in j["checks"] if c["check"] == "validity"][0]]')" \
	'["2023-06-01T00:00:00Z", "failed"]' "...the claim is reported; validity failed at the verification time"
"$PY" "$KYSO_SRCDIR/tests/lib/cms-make.py" "$T/keys/signer.key" "${CERT_PEM[signer]}" \
	"$T/data.bin" 20300101000000Z "$T/future.p7s" "$CA_INT"
cms_ok "$T/future.p7s" "$T/data.bin" -CAfile "$CA_ROOT" -purpose any
ok $? "future signingTime: openssl cms verifies the signature and chain"
verify cms sha256 "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/future.p7s")"
is "$(verdict)" "invalid future_signing_time false" "a signingTime in the future: invalid"
is "$(result signing_time)" failed "...the signing_time check failed"
"$PY" "$KYSO_SRCDIR/tests/lib/cms-make.py" "$T/keys/signer.key" "${CERT_PEM[signer]}" \
	"$T/data.bin" "$(date -u -d '+4 minutes' +%Y%m%d%H%M%SZ)" "$T/skew.p7s"
verify cms sha256 "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/skew.p7s")"
is "$(verdict)" "valid valid_now true" "a signingTime 4 minutes ahead (within the 5 minutes of skew): valid"

# the certificates are revoked after the signatures were made
sleep 1.1
ca_revoke_in int signer superseded
ca_revoke later
ca_crl "$T/ca.crl.new" && mv "$T/ca.crl.new" "$T/ca.crl"
verify cms sha256 "" "" "$TS_HASH" "$TS_SIG"
is "$(json_get '[j["valid"], j["reason"], [c["result"] for c in j["checks"] if c["check"] == "revocation"][0]]')" \
	'[true, "valid_at_timestamp", "ok"]' "revoked (superseded) after the timestamped signing: still valid"
like "$(message revocation)" "after the timestamp" "...the revocation check says why"
verify cms sha256 "" "" "$BES_HASH" "$BES_SIG"
is "$(verdict)" "indeterminate revoked_no_poe false" \
	"without a timestamp, a revoked certificate's signature is not valid (revoked_no_poe)"
is "$(result revocation)" failed "...revocation failed"
verify cms sha256 "" "" "$LATER_HASH" "$LATER_SIG"
is "$(verdict)" "invalid revoked false" "revoked for keyCompromise after the timestamp: invalid"
like "$(message revocation)" "keyCompromise" "...saying keyCompromise"
sign_as signer sha256 cms
is_error 422 certificate_revoked "...and the certificate no longer signs"
# verify_poe HASH SIG TOKEN DOC_HASH: POST /v1/verify of a CMS with one document timestamp.
verify_poe()
{
	api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$2\",\"hash\":\"$1\",\"hash_algorithm\":\"sha256\",\"document_timestamps\":[{\"token\":\"$3\",\"hash\":\"$4\"}]}"
}
verify_poe "$BES_HASH" "$BES_SIG" "$BES_DOC_TST" "$BES_DOC_HASH"
is "$(verdict)" "valid valid_at_timestamp true" \
	"revoked (superseded) after a document timestamp that holds the signature: valid"
is "$(json_get '[j["proof_of_existence"]["source"], [c["result"] for c in j["checks"] if c["check"] == "document_timestamp"]]')" \
	'["document_timestamp", ["ok"]]' "...the proof of existence is the document timestamp"
verify_poe "$BES_HASH" "$BES_SIG" "$BES_DOC_TST" "$BRIEF_DOC_HASH"
is "$(verdict)" "indeterminate revoked_no_poe false" \
	"a document timestamp over another document: not proof (revoked_no_poe)"
is "$(result document_timestamp)" failed "...its check failed"
api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$TS_SIG\",\"hash\":\"$TS_HASH\",\"hash_algorithm\":\"sha256\",\"at_verification_time\":true}"
is "$(verdict) $(json_get '"proof_of_existence" in j')" "indeterminate revoked_no_poe false false" \
	"at_verification_time: the CAdES-T signature judged now, its timestamp not used (revoked_no_poe)"
is "$(result proof_of_existence)" skipped "...the check says so"
# hostile and malformed document_timestamps: a JSON error, no PIN, kysod serves on
PIN0=$(getpin_count)
poe_bad()
{
	api POST /v1/verify "{\"format\":\"$1\",\"signature\":\"$BES_SIG\",\"hash\":\"$BES_HASH\",\"hash_algorithm\":\"sha256\",$2}"
	is "$STATUS $(err_code)" "$3" "document_timestamps: $4"
	status_ok "kysod serves after $4"
}
poe_bad cms '"document_timestamps":{}' "400 invalid_type" "an object, not an array"
poe_bad cms '"document_timestamps":[5]' "400 invalid_type" "an entry that is a number"
poe_bad cms '"document_timestamps":[{"token":"'"$BES_DOC_TST"'"}]' "400 missing_field" "an entry without its hash"
poe_bad cms '"document_timestamps":[{"token":"'"$BES_DOC_TST"'","hash":"AAAA"}]' "400 hash_length" "a 3-byte hash"
poe_bad cms '"document_timestamps":[{"token":"%%%","hash":"'"$BES_DOC_HASH"'"}]' "400 signature_encoding" "a token not base64"
poe_bad cms '"document_timestamps":[{"token":"'"$BES_DOC_TST"'","hash":"'"$BES_DOC_HASH"'","x":1}]' "400 unknown_field" "an unknown field in an entry"
poe_bad cms "\"document_timestamps\":[$(for i in $(seq 9); do printf '{"token":"%s","hash":"%s"},' "$BES_DOC_TST" "$BES_DOC_HASH"; done | sed 's/,$//')]" \
	"400 invalid_value" "nine entries (at most 8)"
poe_bad raw '"document_timestamps":[],"certificate":"'"${CERT_ID[signer]}"'"' "400 invalid_value" "with a raw signature"
poe_bad cms '"at_verification_time":"yes"' "400 invalid_type" "at_verification_time a string"
api POST /v1/verify "{\"format\":\"cms\",\"signature\":\"$BES_SIG\",\"hash\":\"$BES_HASH\",\"hash_algorithm\":\"sha256\",\"document_timestamps\":[{\"token\":\"$(printf 'not a token' | base64 -w0)\",\"hash\":\"$BES_DOC_HASH\"}]}"
is "$STATUS $(verdict) $(result document_timestamp)" "200 indeterminate revoked_no_poe false failed" \
	"a token that is not a timestamp: reported failed, not used"
is "$(getpin_count)" "$PIN0" "no PIN dialog for any of them"

# a timestamp token over another signature value is caught
"$PY" - "$TS_SIG" > "$T/swapped.b64" <<'EOF'
import base64, sys
d = bytearray(base64.b64decode(sys.argv[1]))
# flip a bit of the signature value: the signature and the timestamp no longer match it
i = d.find(bytes([0x04, 0x82, 0x01, 0x00]))
d[i + 4 + 50] ^= 0x01
sys.stdout.write(base64.b64encode(bytes(d)).decode())
EOF
verify cms sha256 "" "" "$TS_HASH" "$(cat "$T/swapped.b64")"
is "$(json_get '[j["valid"], [c["result"] for c in j["checks"] if c["check"] in ("signature", "timestamp")]]')" \
	'[false, ["failed", "failed"]]' "a changed signature value fails both the signature and the timestamp"
is "$(verdict)" "invalid signature_invalid false" "...invalid"

# the short-lived certificate has expired now
while [ "$(date +%s)" -le $((BRIEF_END + 1)) ]; do sleep 1; done
verify cms sha256 "" "" "$BRIEF_TS_HASH" "$BRIEF_TS_SIG"
is "$(verdict)" "valid valid_at_timestamp true" \
	"a certificate expired after a timestamp before its expiry: valid"
like "$(message validity)" "valid at .* \(the timestamp's time\); it expired at" "...the validity check says so"
TS_TIME=$(json_get 'j["timestamp"]["time"]')
cms_ok "$T/brief-ts.p7s" "$T/brief-ts.data" -CAfile "$CA_ROOT" -purpose any \
	-attime "$(date -u -d "$TS_TIME" +%s)"
ok $? "openssl cms verifies it at the timestamp's time"
cms_ok "$T/brief-ts.p7s" "$T/brief-ts.data" -CAfile "$CA_ROOT" -purpose any
isnt $? 0 "...and, like kysod without the timestamp, not at the current time"
verify cms sha256 "" "" "$BRIEF_BES_HASH" "$BRIEF_BES_SIG"
is "$(verdict)" "indeterminate expired_no_poe false" "the same certificate without a timestamp: expired_no_poe"
verify_poe "$BRIEF_BES_HASH" "$BRIEF_BES_SIG" "$BRIEF_DOC_TST" "$BRIEF_DOC_HASH"
is "$(verdict)" "valid valid_at_timestamp true" \
	"an expired certificate with a document timestamp from before its expiry: valid"
stop_kysod

# the chain is checked against the configured bundle: another bundle does not trust it
ca_other_init
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_DIR/other/ca.pem" ocsp=off
start_kysod
verify cms sha256 "" "" "$BES_HASH" "$BES_SIG"
is "$(json_get '[j["valid"], [c["result"] for c in j["checks"] if c["check"] in ("chain", "revocation")]]')" \
	'[false, ["failed", "skipped"]]' "a signer outside the CA bundle: chain failed, not valid"
is "$(verdict)" "indeterminate chain_untrusted false" "...indeterminate (chain_untrusted)"
stop_kysod
tsa_stop

# ================================================================ signatures kysod did not make
# Signatures made by openssl (pkeyutl for raw ones, cms -sign for CMS) with the token's keys:
# good ones pass the signature check, tampered ones and those by another key fail it and are
# not valid. Then every raw signature check kysod made in this file is checked against openssl's
# own verification. (Without a CA bundle an answer's "valid" may stay false for a good signature
# whose chain is not checked: good signatures are judged by their signature check.)
write_conf --module "softhsm=$SOFTHSM"
start_kysod

# ossl_raw KEY ALG [PADDING]: a fresh hash signed by openssl pkeyutl with KEY's private key;
# HASH_B64, HASH_HEX and $T/ossl.sig (binary), OSSL_B64 (base64).
ossl_raw()
{
	local opts=(-pkeyopt "digest:$2")
	case ${3:-} in
	pss) opts+=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest -pkeyopt "rsa_mgf1_md:$2") ;;
	pkcs1) opts+=(-pkeyopt rsa_padding_mode:pkcs1) ;;
	esac
	make_hash "$2"
	openssl pkeyutl -sign -inkey "$T/keys/$1.key" -in "$HASH_FILE" -out "$T/ossl.sig" "${opts[@]}" ||
		bail_out "openssl pkeyutl -sign with $1 failed"
	OSSL_B64=$(openssl base64 -A -in "$T/ossl.sig")
}

# tamper B64: the same bytes with one bit changed in the middle.
tamper()
{
	"$PY" -c 'import base64, sys
d = bytearray(base64.b64decode(sys.argv[1])); d[len(d) // 2] ^= 0x04
print(base64.b64encode(bytes(d)).decode())' "$1"
}

for c in "rsa sha256 pkcs1" "rsa sha384 pss" "rsa sha512 pss" "p256 sha256 -" "p256 sha512 -" \
	"p384 sha384 -"; do
	read -r key alg pad <<<"$c"
	[ "$pad" = - ] && pad=
	name="openssl pkeyutl $key ${pad:+$pad }$alg"
	ossl_raw "$key" "$alg" "$pad"
	verify raw "$alg" "\"${CERT_ID[$key]}\"" "$pad" "$HASH_B64" "$OSSL_B64"
	is "$STATUS $(result signature)" "200 ok" "$name: signature ok"
	verify raw "$alg" "\"${CERT_ID[$key]}\"" "$pad" "$HASH_B64" "$(tamper "$OSSL_B64")"
	is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" "$name, one bit changed: not valid, signature failed"
	HASH_OK=$HASH_B64
	make_hash "$alg"
	verify raw "$alg" "\"${CERT_ID[$key]}\"" "$pad" "$HASH_B64" "$OSSL_B64"
	is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" "$name, over another hash: not valid, signature failed"
done
# a key of the same kind that is not the certificate's: not valid; valid with its own certificate
_make_cert other256 p256 "Khoá Khác" digitalSignature 7a7b7c7d7e7f01
_make_cert otherrsa rsa "Khoá RSA Khác" digitalSignature 7a7b7c7d7e7f02
ossl_raw other256 sha256
verify raw sha256 "\"${CERT_ID[p256]}\"" "" "$HASH_B64" "$OSSL_B64"
is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" "openssl pkeyutl, another P-256 key: not valid with p256's certificate"
verify raw sha256 "$(jstr "${CERT_PEM[other256]}")" "" "$HASH_B64" "$OSSL_B64"
is "$STATUS $(result signature)" "200 ok" "...and its signature check passes with that key's own certificate (PEM)"
ossl_raw otherrsa sha256 pss
verify raw sha256 "\"${CERT_ID[rsa]}\"" pss "$HASH_B64" "$OSSL_B64"
is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" "openssl pkeyutl, another RSA key (PSS): not valid with rsa's certificate"
verify raw sha256 "\"$(openssl base64 -A -in "${CERT_DER[otherrsa]}")\"" pss "$HASH_B64" "$OSSL_B64"
is "$STATUS $(result signature)" "200 ok" "...and its signature check passes with that key's own certificate (base64 DER)"

# ossl_cms KEY ALG: $T/record.bin signed by openssl cms -sign (CAdES-BES, detached) with KEY;
# HASH_B64 of the record, $T/ossl.cms (DER), OSSL_B64.
ossl_cms()
{
	head -c 700 /dev/urandom > "$T/record.bin"
	openssl dgst "-$2" -binary "$T/record.bin" > "$T/record.hash"
	HASH_B64=$(openssl base64 -A -in "$T/record.hash")
	openssl cms -sign -binary -cades -md "$2" -in "$T/record.bin" -signer "${CERT_PEM[$1]}" \
		-inkey "$T/keys/$1.key" -outform DER -out "$T/ossl.cms" 2>"$T/ossl.err" ||
		bail_out "openssl cms -sign with $1 failed: $(cat "$T/ossl.err")"
	OSSL_B64=$(openssl base64 -A -in "$T/ossl.cms")
}

for c in "rsa sha256" "p256 sha256" "p384 sha384" "rsa sha512"; do
	read -r key alg <<<"$c"
	name="openssl cms -sign $key $alg"
	ossl_cms "$key" "$alg"
	openssl cms -verify -binary -inform DER -in "$T/ossl.cms" -content "$T/record.bin" \
		-CAfile "${CERT_PEM[$key]}" -purpose any -out /dev/null 2>/dev/null
	ok $? "$name: openssl verifies its own CMS (control)"
	verify cms "$alg" "" "" "$HASH_B64" "$OSSL_B64"
	is "$STATUS $(result digest) $(result signature)" "200 ok ok" "$name: digest and signature ok" ||
		diag "$(results)"
	is "$(json_get 'j["signer"]["id"]')" "${CERT_ID[$key]}" "$name: the signer is the certificate in the CMS"
	"$PY" "$KYSO_SRCDIR/tests/lib/cms-resign.py" "$T/ossl.cms" --flip "$alg" "$T/flipped.cms"
	verify cms "$alg" "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/flipped.cms")"
	is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" \
		"$name, one bit of the signature value changed: not valid, signature failed"
	"$PY" "$KYSO_SRCDIR/tests/lib/cms-resign.py" "$T/ossl.cms" "$T/keys/$key.key" "$alg" "$T/resigned.cms"
	verify cms "$alg" "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/resigned.cms")"
	is "$STATUS $(result digest) $(result signature)" "200 ok ok" \
		"$name, signature value made again with its own key: digest and signature ok (control)"
	case $key in rsa) other=otherrsa ;; *) other=other256 ;; esac
	[ "$key" = p384 ] && other=other256
	"$PY" "$KYSO_SRCDIR/tests/lib/cms-resign.py" "$T/ossl.cms" "$T/keys/$other.key" "$alg" "$T/resigned.cms"
	verify cms "$alg" "" "" "$HASH_B64" "$(openssl base64 -A -in "$T/resigned.cms")"
	is "$STATUS $(json_get 'j["valid"]') $(result signature)" "200 false failed" \
		"$name, signature value made by another key ($other): not valid, signature failed"
	openssl cms -verify -binary -inform DER -in "$T/resigned.cms" -content "$T/record.bin" \
		-CAfile "${CERT_PEM[$key]}" -purpose any -out /dev/null 2>/dev/null
	isnt $? 0 "$name, another key's signature value: openssl cms -verify rejects it too"
	head -c 700 /dev/urandom > "$T/other.bin"
	verify cms "$alg" "" "" "$(openssl dgst "-$alg" -binary "$T/other.bin" | openssl base64 -A)" "$OSSL_B64"
	is "$STATUS $(json_get 'j["valid"]') $(result digest)" "200 false failed" "$name, another record: not valid, digest failed"
done
stop_kysod

# Every raw signature kysod checked in this file (status 200), checked again by openssl.
declare -A PEM_OF
for k in "${!CERT_ID[@]}"; do PEM_OF[${CERT_ID[$k]}]=${CERT_PEM[$k]}; done
n=0 agree=0
while IFS='|' read -r alg cert pad hash sig verdict; do
	[ "${verdict%% *}" = 200 ] || continue
	n=$((n + 1))
	"$PY" - "$cert" "$T/xc.pem" <<-'EOF' > "$T/xc.id"
	import base64, json, re, sys
	s = json.loads(sys.argv[1])
	if re.fullmatch(r"[0-9a-f]{64}", s):
	    print(s)
	elif s.startswith("-----BEGIN"):
	    open(sys.argv[2], "w").write(s)
	else:
	    der = base64.b64decode(s)
	    open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n"
	                                 % base64.encodebytes(der).decode().strip())
	EOF
	pem=$T/xc.pem
	[ -s "$T/xc.id" ] && pem=${PEM_OF[$(cat "$T/xc.id")]:-missing}
	printf '%s' "$sig" | openssl base64 -d -A > "$T/xc.sig"
	printf '%s' "$hash" | openssl base64 -d -A | xxd -p -c 256 > "$T/xc.hex"
	ktype=$(openssl x509 -in "$pem" -noout -text 2>/dev/null | grep -c 'rsaEncryption')
	vpad=$pad
	[ "$ktype" -gt 0 ] && [ -z "$vpad" ] && vpad=pkcs1
	if verify_sig "$pem" "$(cat "$T/xc.hex")" "$T/xc.sig" "$alg" "$vpad"; then o=true; else o=false; fi
	case ${verdict#* } in ok) k=true ;; failed) k=false ;; *) k="${verdict#* }" ;; esac
	if [ "$o" = "$k" ]; then
		agree=$((agree + 1))
	else
		diag "kysod's signature check: ${verdict#* }, openssl says $o: $alg ${pad:-(no padding)} $(_tap_show "$cert")"
	fi
done < "$T/raw-verdicts"
ok $(( n >= 20 && agree == n ? 0 : 1 )) "openssl agrees with every raw signature check kysod made ($agree of $n)"

done_testing
