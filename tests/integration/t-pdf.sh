#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso pdf sign: PAdES signatures appended to existing PDFs as incremental updates. PDFs
# written here byte by byte (classic xref table, with and without a form, a page of
# generation 2), and by qpdf with object and xref streams; one signed first by poppler's
# pdfsig with an NSS key (adbe.pkcs7.detached: poppler 22.12 has no -etsi for
# -add-signature), and two PDFs Debian packages install (libtasn1-doc, shared-mime-info).
# Each is signed by kyso (the ones no project code wrote at every level), then countersigned
# by a second teacher. pdfsig says every signature is valid and trusted (the test root in its
# NSS db) and the last covers the whole document; qpdf --check passes; the /ByteRange
# covers everything but /Contents; the CMS over the ByteRange verifies with openssl cms
# and python3-cryptography; it has no signingTime; B-T's timestamp verifies with openssl ts.
# B-LT: the /DSS holds the chains of the signers and of the TSA (each certificate once), the
# root's CRL (openssl crl verifies it) and OCSP answers openssl ocsp verifies and reads as
# good; B-LTA: a document timestamp over it all that openssl ts verifies. POST /v1/validation
# and POST /v1/timestamp are called directly too. kyso pdf verify: valid signatures, a changed
# byte, a page appended after a certification signature (a DocMDP violation), levels;
# kyso pdf extend: a fresh /DSS and a second document timestamp openssl ts verifies.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm
for tool in pdfsig pdftotext pdffonts qpdf certutil pk12util; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

INSPECT=$KYSO_SRCDIR/tests/lib/cms-inspect.py
PDFCHECK=$KYSO_SRCDIR/tests/lib/pdf-sig-check.py
KYSO=("$KYSO_BUILDDIR/kyso")

make_softhsm_token
ca_init
tsa_init
ca_issue teacher rsa "Vũ Thị Thanh Hương"
ca_issue teacher2 p256 "Đặng Quốc Bảo"
ca_issue other rsa "Lê Văn Tám"
make_ca_token kyso-ca teacher:21 teacher2:22

# The NSS database pdfsig checks with: the test root trusted.
NSS=sql:$T/nss
mkdir -p "$T/nss"
certutil -N -d "$NSS" --empty-password >/dev/null 2>&1 &&
	certutil -A -d "$NSS" -n "Kyso Test Root" -t "CT,C,C" -i "$CA_ROOT" >/dev/null 2>&1 &&
	certutil -A -d "$NSS" -n "Kyso Test Issuing CA" -t ",," -i "$CA_INT" >/dev/null 2>&1 ||
	bail_out "the NSS database cannot be made"
# another signer's key in NSS, for pdfsig -add-signature
openssl pkcs12 -export -inkey "$T/keys/other.key" -in "${CERT_PEM[other]}" -name other \
	-passout pass: -out "$T/other.p12" 2>/dev/null &&
	pk12util -i "$T/other.p12" -d "$NSS" -W "" >/dev/null 2>&1 ||
	bail_out "the NSS key cannot be imported"

# pdfsig_report FILE: pdfsig's report of FILE in $T/pdfsig.out; its status returned. (Not
# -no-ocsp: with it, poppler 22.12 reports a generic certificate error for a good chain; the
# test certificates name no OCSP responder, so nothing is asked.)
pdfsig_report()
{
	pdfsig -nssdir "$NSS" "$1" >"$T/pdfsig.out" 2>&1
}

# check_pdf NAME FILE N [TOTAL]: FILE has N signatures, all valid and trusted, TOTAL (1 by
# default; 0 when an update such as a /DSS follows) covering the whole document; qpdf
# --check passes; the last signature's CMS checks (TAP lines).
check_pdf()
{
	local name=$1 file=$2 n=$3 total=${4:-1} valid trusted nth=()
	pdfsig_report "$file"
	is "$(grep -c '^Signature #' "$T/pdfsig.out")" "$n" "$name: pdfsig finds $n signatures" ||
		diag "$(cat "$T/pdfsig.out")"
	valid=$(grep -c 'Signature Validation: Signature is Valid' "$T/pdfsig.out")
	trusted=$(grep -c 'Certificate Validation: Certificate is Trusted' "$T/pdfsig.out")
	is "$valid $trusted" "$n $n" "$name: pdfsig: every signature is valid and its certificate trusted" ||
		diag "$(cat "$T/pdfsig.out")"
	is "$(grep 'Total document signed' "$T/pdfsig.out" | wc -l)" "$total" \
		"$name: pdfsig: $total signature(s) cover the total document"
	qpdf --check "$file" >"$T/qpdf.out" 2>&1
	ok $? "$name: qpdf --check passes" || diag "$(tail -5 "$T/qpdf.out")"
	[ "$total" = 0 ] && nth=(--nth "$n")
	"$PY" "$PDFCHECK" "$file" "$T/last" "${nth[@]}" >"$T/check.json" 2>"$T/check.err"
	ok $? "$name: the last /ByteRange is [0 a b end-b] around /Contents' hex string" ||
		diag "$(cat "$T/check.err")"
	openssl cms -verify -binary -inform DER -in "$T/last.p7s" -content "$T/last.signed" \
		-CAfile "$CA_ROOT" -purpose any -out /dev/null >"$T/cms.out" 2>&1
	ok $? "$name: openssl cms -verify of the CMS over the signed bytes, root trusted" ||
		diag "$(cat "$T/cms.out")"
}

write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off
start_kysod

# ---------------------------------------------------------------- B-B on a classic PDF
"$PY" "$KYSO_SRCDIR/tests/lib/pdf-make.py" "$T/plain.pdf"
"${KYSO[@]}" --socket "$SOCK" pdf sign "$T/plain.pdf" -o "$T/plain-bb.pdf" \
	--cert "${CERT_ID[teacher]}" --reason "Xác nhận học bạ" --location "Hà Nội" \
	>"$T/out" 2>&1
is "$?" 0 "kyso pdf sign, classic xref table, B-B: exit 0" || diag "$(cat "$T/out")"
check_pdf "classic B-B" "$T/plain-bb.pdf" 1
cmp -n "$(stat -c %s "$T/plain.pdf")" "$T/plain.pdf" "$T/plain-bb.pdf" >/dev/null
ok $? "classic B-B: the original bytes are the signed file's beginning (an incremental update)"
is "$(json_get '[j["subfilter"], j["type"]]' "$(cat "$T/check.json")")" \
	'["/ETSI.CAdES.detached", "/Sig"]' "classic B-B: /SubFilter /ETSI.CAdES.detached, /Type /Sig"
is "$(json_get 'j["signers"][0]["signed_attrs"]' "$("$PY" "$INSPECT" "$T/last.p7s")")" \
	'["contentType", "messageDigest", "signingCertificateV2"]' \
	"classic B-B: the CMS has no signingTime (PAdES)"
like "$(cat "$T/pdfsig.out")" "Signer full Distinguished Name: .*Vũ Thị Thanh Hương" \
	"classic B-B: pdfsig names the signer"
like "$(cat "$T/pdfsig.out")" "Signature Type: ETSI.CAdES.detached" "...ETSI.CAdES.detached"

# kyso_pdf IN OUT CERT [OPTIONS...]: kyso pdf sign; its status returned, its output in $T/out.
kyso_pdf()
{
	local in=$1 out=$2 cert=$3
	shift 3
	"${KYSO[@]}" --socket "$SOCK" pdf sign "$in" -o "$out" --cert "${CERT_ID[$cert]}" "$@" \
		>"$T/out" 2>&1
}

# python3-cryptography on its own verifies the last CMS: its signed attributes with the
# signer's key, and messageDigest = the SHA-256 of the signed bytes.
py_verify()
{
	"$PY" "$INSPECT" "$T/last.p7s" --signed-attrs "$T/attrs.der" --signature-value "$T/sig.bin" \
		>"$T/inspect.json" 2>&1 || return 1
	"$PY" - "$T/attrs.der" "$T/sig.bin" "$1" "$T/last.signed" "$T/inspect.json" <<'PYEOF'
import hashlib, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
attrs, sig = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
cert = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
info = json.load(open(sys.argv[5]))
md = hashlib.sha256(open(sys.argv[4], "rb").read()).hexdigest()
assert info["signers"][0]["message_digest"] == md, "messageDigest is not the ByteRange hash"
key = cert.public_key()
if isinstance(key, rsa.RSAPublicKey):
    key.verify(sig, attrs, padding.PKCS1v15(), hashes.SHA256())
else:
    key.verify(sig, attrs, ec.ECDSA(hashes.SHA256()))
PYEOF
}

py_verify "${CERT_PEM[teacher]}"
ok $? "classic B-B: python3-cryptography verifies the CMS over the ByteRange's SHA-256"

# A changed byte inside the signed range is caught.
cp "$T/plain-bb.pdf" "$T/changed.pdf"
printf 'X' | dd of="$T/changed.pdf" bs=1 seek=200 conv=notrunc 2>/dev/null
pdfsig_report "$T/changed.pdf"
like "$(cat "$T/pdfsig.out")" "Signature Validation: Digest Mismatch" \
	"a byte changed inside the signed range: pdfsig reports a digest mismatch"

# Countersigned by a second teacher (EC key): both signatures valid.
kyso_pdf "$T/plain-bb.pdf" "$T/plain-bb2.pdf" teacher2 --reason "Kiểm tra"
is "$?" 0 "countersignature by a second teacher: exit 0" || diag "$(cat "$T/out")"
check_pdf "classic B-B + B-B" "$T/plain-bb2.pdf" 2
like "$(sed -n '/Signature #2/,$p' "$T/pdfsig.out")" "Signature Field Name: Signature2" \
	"the second signature is a new field, Signature2"
py_verify "${CERT_PEM[teacher2]}"
ok $? "classic B-B + B-B: python3-cryptography verifies the second (ECDSA) CMS"

# ---------------------------------------------------------------- xref and object streams
"$PY" "$KYSO_SRCDIR/tests/lib/pdf-make.py" "$T/form.pdf" --pages 3 --form --gen2
qpdf --object-streams=generate "$T/form.pdf" "$T/objstm.pdf"
grep -aq "/ObjStm" "$T/objstm.pdf" && grep -aq "/XRef" "$T/objstm.pdf"
ok $? "qpdf wrote a PDF with object streams and an xref stream"
kyso_pdf "$T/objstm.pdf" "$T/objstm-bb.pdf" teacher --field "Giáo viên chủ nhiệm"
is "$?" 0 "kyso pdf sign, xref stream and object streams, with a form: exit 0" ||
	diag "$(cat "$T/out")"
check_pdf "xref stream B-B" "$T/objstm-bb.pdf" 1
like "$(tail -c 200 "$T/objstm-bb.pdf" | tr -d '\0' | tr '\n' ' ')" "startxref" \
	"xref stream B-B: the update ends with its own startxref"
qpdf --show-xref "$T/objstm-bb.pdf" >"$T/xref.out" 2>&1
ok $? "xref stream B-B: qpdf reads the cross-reference data"
qpdf --json --json-key=acroform "$T/objstm-bb.pdf" >"$T/form.json" 2>&1
is "$(json_get '[f["fullname"] for f in j["acroform"]["fields"]]' "$(cat "$T/form.json")")" \
	'["hoc_sinh", "Giáo viên chủ nhiệm"]' "xref stream B-B: the form keeps its field and has the signature field"
kyso_pdf "$T/objstm-bb.pdf" "$T/objstm-bb2.pdf" teacher2
is "$?" 0 "xref stream: countersigned" || diag "$(cat "$T/out")"
check_pdf "xref stream B-B + B-B" "$T/objstm-bb2.pdf" 2

# The classic form PDF (page of generation 2), certified.
kyso_pdf "$T/form.pdf" "$T/form-cert.pdf" teacher --certify --visible 1,300,700,200,60
is "$?" 0 "kyso pdf sign --certify --visible on a form PDF: exit 0" || diag "$(cat "$T/out")"
check_pdf "certified" "$T/form-cert.pdf" 1
grep -aq "/TransformMethod /DocMDP" "$T/form-cert.pdf" && grep -aq "/Perms << /DocMDP" "$T/form-cert.pdf"
ok $? "certified: the signature has a DocMDP reference and the catalog /Perms names it"
qpdf --json --json-key=acroform "$T/form-cert.pdf" >"$T/form.json" 2>&1
is "$(json_get '[(a["fullname"], a["pageposfrom1"]) for a in j["acroform"]["fields"] if a["fieldtype"] == "/Sig"]' "$(cat "$T/form.json")")" \
	'[["Signature1", 1]]' "visible: the signature's widget is on page 1"

# kyso pdf verify: kysod's verdict on each CMS over its ByteRange, what came after each one.
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/objstm-bb2.pdf" >"$T/verify.json" 2>&1
is "$?" 0 "pdf verify, two signatures: exit 0" || diag "$(cat "$T/verify.json")"
is "$(json_get '[[s["signer"], s["status"], s["level"], s["covers_whole_document"], s["added_after"], s["docmdp_violation"]] for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[["Vũ Thị Thanh Hương", "valid", "B-B", false, ["signature"], false], ["Đặng Quốc Bảo", "valid", "B-B", true, [], false]]' \
	"pdf verify: both valid, the first followed by a signature, the second covering the whole document"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/form-cert.pdf" >"$T/verify.json" 2>&1
is "$?" 0 "pdf verify, a certified PDF: exit 0" || diag "$(cat "$T/verify.json")"
is "$(json_get '[j["valid"], j["signatures"][0]["certification"], j["signatures"][0]["covers_whole_document"]]' "$(cat "$T/verify.json")")" \
	'[true, 2, true]' "pdf verify: a certification signature (P 2) over the whole document"
"${KYSO[@]}" --socket "$SOCK" pdf verify "$T/form-cert.pdf" >"$T/verify.out" 2>&1
like "$(tr '\n' ' ' <"$T/verify.out")" "signer: +Vũ Thị Thanh Hương.*certification \\(DocMDP P 2\\)|certification \\(DocMDP P 2\\).*signer: +Vũ Thị Thanh Hương" \
	"pdf verify: the text names the signer and the certification" || diag "$(cat "$T/verify.out")"
# a byte changed in the signed range (the page's text)
"$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"So diem")
open(sys.argv[2], "wb").write(d[:i] + b"So diex" + d[i + 7:])' "$T/form-cert.pdf" "$T/form-changed.pdf"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/form-changed.pdf" >"$T/verify.json" 2>&1
is "$?" 1 "pdf verify: a changed byte in the signed range: exit 1"
is "$(json_get '[j["valid"], j["signatures"][0]["status"]]' "$(cat "$T/verify.json")")" \
	'[false, "invalid"]' "pdf verify: ...the signature is invalid" || diag "$(cat "$T/verify.json")"
pdfsig_report "$T/form-changed.pdf"
unlike "$(cat "$T/pdfsig.out")" "Signature is Valid" "pdfsig: ...and not valid for pdfsig either"
# a page added after the certification signature
"$PY" "$KYSO_SRCDIR/tests/lib/pdf-add-page.py" "$T/form-cert.pdf" "$T/form-page.pdf"
is "$(qpdf --show-npages "$T/form-page.pdf" 2>&1)" "$(($(qpdf --show-npages "$T/form-cert.pdf") + 1))" "a page is appended to the certified PDF (qpdf)"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/form-page.pdf" >"$T/verify.json" 2>&1
is "$?" 1 "pdf verify: a page added after a certification signature: exit 1"
is "$(json_get '[(s["added_after"], s["docmdp_violation"], s["reason"]) for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[[["pages"], true, "docmdp_violation"]]' "pdf verify: ...reported as a DocMDP violation (pages added)" ||
	diag "$(cat "$T/verify.json")"
# signing after a certification signature with P 2 is allowed
kyso_pdf "$T/form-cert.pdf" "$T/form-cert2.pdf" teacher2
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/form-cert2.pdf" >"$T/verify.json" 2>&1
is "$?" 0 "pdf verify: a certified PDF signed again: exit 0" || diag "$(cat "$T/verify.json")"
is "$(json_get '[(s["added_after"], s["docmdp_violation"]) for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[[["signature"], false], [[], false]]' "pdf verify: ...a signature after it is no DocMDP violation"

# The visible signature's text: the signer's Vietnamese name, the time, the reason and the
# place, in an embedded subset of DejaVu Sans that pdftotext reads back (ToUnicode).
kyso_pdf "$T/form.pdf" "$T/vis.pdf" teacher --visible 2,50,50,300,80 \
	--reason "Xác nhận học bạ" --location "Hà Nội"
is "$?" 0 "kyso pdf sign --visible with a reason and a place: exit 0" || diag "$(cat "$T/out")"
check_pdf "visible" "$T/vis.pdf" 1
pdftotext -f 2 -l 2 "$T/vis.pdf" "$T/vis.txt" 2>"$T/pdftotext.err"
ok $? "visible: pdftotext reads page 2" || diag "$(cat "$T/pdftotext.err")"
like "$(tr '\n' ' ' <"$T/vis.txt")" "Ký bởi: Vũ Thị Thanh Hương" \
	"visible: the appearance shows the signer's Vietnamese name (pdftotext)" ||
	diag "$(cat "$T/vis.txt")"
like "$(tr '\n' ' ' <"$T/vis.txt")" "Ngày ký: $(date +%Y-%m-%d) [0-9:]{8} [-+][0-9]{4}.*Lý do: Xác nhận học bạ.*Nơi ký: Hà Nội" \
	"visible: ...the time, the reason and the place"
pdffonts "$T/vis.pdf" >"$T/fonts.out" 2>&1
like "$(cat "$T/fonts.out")" "[A-Z]{6}\+DejaVuSans +CID TrueType +Identity-H +yes +yes +yes" \
	"visible: pdffonts: a DejaVu Sans subset, CID TrueType, Identity-H, embedded, with ToUnicode" ||
	diag "$(cat "$T/fonts.out")"
qpdf --json=2 --json-stream-data=file --json-stream-prefix="$T/vis-stream" "$T/vis.pdf" - |
	"$PY" -c '
import json, shutil, sys
j = json.load(sys.stdin)["qpdf"][1]
f = [v["stream"]["datafile"] for v in j.values() if "/Length1" in v.get("stream", {}).get("dict", {})]
shutil.copy(f[0], sys.argv[1])' "$T/font.ttf" 2>"$T/font.err"
ok $? "visible: the font file (/FontFile2) is read out" || diag "$(cat "$T/font.err")"
is "$(head -c 4 "$T/font.ttf" | od -An -tx1 | tr -d ' ')" 00010000 "visible: it is TrueType"
size=$(stat -c %s "$T/font.ttf")
ok "$([ "$size" -gt 1000 ] && [ "$size" -lt 200000 ]; echo $?)" \
	"visible: the embedded font is a subset ($size bytes, DejaVu Sans is $(stat -c %s /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf))"
kyso_pdf "$T/form.pdf" "$T/vis-tiny.pdf" teacher --visible 1,50,50,3,3 --reason "Xác nhận"
isnt "$?" 0 "visible: a box too small for the text is refused" 

# ---------------------------------------------------------------- a PDF signed by pdfsig
pdfsig -nssdir "$NSS" -add-signature -nick other -new-signature-field-name NSS \
	-reason "Ban giám hiệu" "$T/plain.pdf" "$T/nss.pdf" >"$T/add.out" 2>&1
if [ -s "$T/nss.pdf" ]; then
	check_pdf "signed by pdfsig" "$T/nss.pdf" 1
	kyso_pdf "$T/nss.pdf" "$T/nss-kyso.pdf" teacher
	is "$?" 0 "a PDF signed by pdfsig -add-signature (adbe.pkcs7.detached), signed by kyso: exit 0" ||
		diag "$(cat "$T/out")"
	check_pdf "pdfsig + kyso" "$T/nss-kyso.pdf" 2
else
	skip 9 "pdfsig -add-signature did not sign: $(cat "$T/add.out")"
fi
stop_kysod

# ---------------------------------------------------------------- B-T
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off "tsa_url=$TSA_URL"
start_kysod
kyso_pdf "$T/objstm.pdf" "$T/bt.pdf" teacher --level B-T
is "$?" 0 "kyso pdf sign --level B-T: exit 0" || diag "$(cat "$T/out")"
check_pdf "B-T" "$T/bt.pdf" 1
"$PY" "$INSPECT" "$T/last.p7s" --timestamp-token "$T/tst.der" --signature-value "$T/sig.bin" \
	>"$T/inspect.json"
is "$(json_get '[j["signers"][0]["signed_attrs"], j["signers"][0]["unsigned_attrs"]]' "$(cat "$T/inspect.json")")" \
	'[["contentType", "messageDigest", "signingCertificateV2"], ["signatureTimeStampToken"]]' \
	"B-T: no signingTime, a signatureTimeStampToken"
openssl ts -verify -in "$T/tst.der" -token_in \
	-digest "$(openssl dgst -sha256 -r "$T/sig.bin" | cut -d' ' -f1)" \
	-CAfile "$CA_ROOT" -untrusted "$CA_INT" >"$T/ts.out" 2>&1
ok $? "B-T: openssl ts -verify: the token is over the signature value, from the TSA" ||
	diag "$(cat "$T/ts.out")"
kyso_pdf "$T/bt.pdf" "$T/bt2.pdf" teacher2 --level B-T
is "$?" 0 "B-T countersigned at B-T" || diag "$(cat "$T/out")"
check_pdf "B-T + B-T" "$T/bt2.pdf" 2
stop_kysod
tsa_stop

# ---------------------------------------------------------------- B-LT, B-LTA
# Revocation evidence: the issuing CA by the root's CRL, the signers' and the TSA's
# certificates by the OCSP responder (ocsp_url).
OCSP_PORT=$(free_port)
ca_crl_of root "$T/root.crl"
ocsp_start "$OCSP_PORT"
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" "crl=$T/root.crl" \
	"ocsp_url=http://127.0.0.1:$OCSP_PORT/" "tsa_url=$TSA_URL"
start_kysod

# POST /v1/validation and POST /v1/timestamp as a web app's record server calls them.
b64der() { base64 -w0 "$1"; }
api POST /v1/validation "{\"certificates\":[\"$(b64der "${CERT_DER[teacher]}")\"]}"
is "$STATUS" 200 "POST /v1/validation: 200" || diag "$BODY"
is "$(json_get '[len(j["certificates"]), len(j["crls"]), len(j["ocsp_responses"]), [r["status"] for r in j["revocation"]]]')" \
	'[3, 1, 1, ["good"]]' "POST /v1/validation: the chain (3), the root's CRL, the OCSP answer; good"
api POST /v1/validation '{"certificates":["bm90IGEgY2VydA=="]}'
is "$STATUS $(err_code)" "400 certificate_malformed" "POST /v1/validation: not a certificate: 400"
api POST /v1/validation '{"certificates":[]}'
is "$STATUS $(err_code)" "400 invalid_value" "POST /v1/validation: no certificate: 400"
ca_other_init
ca_issue stranger rsa "Người Lạ" --ca other
api POST /v1/validation "{\"certificates\":[\"$(b64der "${CERT_DER[stranger]}")\"]}"
is "$STATUS $(err_code)" "422 certificate_untrusted" \
	"POST /v1/validation: a certificate of another CA: 422 certificate_untrusted"
printf 'record' > "$T/rec.txt"
api POST /v1/timestamp "{\"hash\":\"$(openssl dgst -sha256 -binary "$T/rec.txt" | base64 -w0)\",\"hash_algorithm\":\"sha256\"}"
is "$STATUS" 200 "POST /v1/timestamp: 200" || diag "$BODY"
json_get 'j["token"]' | base64 -d > "$T/rec.tst"
openssl ts -verify -data "$T/rec.txt" -in "$T/rec.tst" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >"$T/ts.out" 2>&1
ok $? "POST /v1/timestamp: openssl ts -verify: the token is over the hash sent" ||
	diag "$(cat "$T/ts.out")"
printf 'other' > "$T/rec2.txt"
openssl ts -verify -data "$T/rec2.txt" -in "$T/rec.tst" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >/dev/null 2>&1
isnt $? 0 "...and not over other data"
api POST /v1/timestamp '{"hash":"AAAA","hash_algorithm":"sha256"}'
is "$STATUS $(err_code)" "400 hash_length" "POST /v1/timestamp: a short hash: 400 hash_length"

# POST /v1/sign with validation_data: the CAdES signature and, beside it, the chain and the
# CRL and OCSP answer the check before signing used, for the app's own /DSS.
make_hash sha256
api POST /v1/sign "{\"certificate\":\"${CERT_ID[teacher]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"format\":\"cms\",\"profile\":\"pades\",\"validation_data\":true}"
is "$STATUS" 200 "POST /v1/sign with validation_data: 200" || diag "$BODY"
json_get 'j["signature"]' | base64 -d > "$T/vd.p7s"
openssl cms -verify -binary -inform DER -in "$T/vd.p7s" -content "$T/data.bin" \
	-CAfile "$CA_ROOT" -purpose any -out /dev/null >"$T/cms.out" 2>&1
ok $? "...its CMS verifies with openssl cms over the record" || diag "$(cat "$T/cms.out")"
is "$(json_get '[len(j["validation_data"]["certificates"]), len(j["validation_data"]["crls"]), len(j["validation_data"]["ocsp_responses"])]')" \
	'[3, 1, 1]' "...validation_data: the chain (signer first), the root's CRL, one OCSP answer"
json_get 'j["validation_data"]["certificates"][0]' | base64 -d |
	openssl x509 -inform DER -noout -fingerprint -sha256 > "$T/vd-leaf.fp"
is "$(cat "$T/vd-leaf.fp")" "$(openssl x509 -in "${CERT_PEM[teacher]}" -noout -fingerprint -sha256)" \
	"...the first certificate is the signer's"
json_get 'j["validation_data"]["crls"][0]' | base64 -d > "$T/vd.crl"
openssl crl -inform DER -in "$T/vd.crl" -CAfile "$CA_ROOT" -noout >"$T/crl.out" 2>&1
grep -q "verify OK" "$T/crl.out"
ok $? "...the CRL verifies with openssl crl against the root" || diag "$(cat "$T/crl.out")"
json_get 'j["validation_data"]["ocsp_responses"][0]' | base64 -d > "$T/vd.ocsp"
openssl ocsp -respin "$T/vd.ocsp" -issuer "$CA_INT" -cert "${CERT_PEM[teacher]}" \
	-CAfile "$CA_BUNDLE" -no_nonce >"$T/ocsp.out" 2>&1 && grep -q ": good" "$T/ocsp.out"
ok $? "...the OCSP answer verifies with openssl ocsp and says good" || diag "$(cat "$T/ocsp.out")"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[teacher]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\"}"
is "$STATUS $(json_get '"validation_data" in j')" "200 false" "POST /v1/sign without it: no validation_data"
PIN0=$(getpin_count)
api POST /v1/sign "{\"certificate\":\"${CERT_ID[teacher]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"validation_data\":\"yes\"}"
is "$STATUS $(err_code)" "400 invalid_type" "POST /v1/sign, validation_data a string: 400 invalid_type"
status_ok "kysod serves after a validation_data that is a string"
api POST /v1/sign "{\"certificate\":\"${CERT_ID[teacher]}\",\"hash\":\"$HASH_B64\",\"hash_algorithm\":\"sha256\",\"validation_data\":{\"a\":[1,2,3]}}"
is "$STATUS $(err_code)" "400 invalid_type" "POST /v1/sign, validation_data an object: 400 invalid_type"
status_ok "kysod serves after a validation_data that is an object"
is "$(getpin_count)" "$PIN0" "...and no PIN dialog"

# Hostile and malformed input to both: a JSON error with its code, and kysod serves on.
PIN0=$(getpin_count)
evidence_bad()
{
	local path=$1 body=$2 want=$3 desc=$4
	api POST "$path" "$body"
	is "$STATUS $(err_code)" "$want" "POST $path: $desc"
	status_ok "POST $path: kysod serves after $desc"
}
evidence_bad /v1/validation '{"certificates":' "400 bad_request" "truncated JSON"
evidence_bad /v1/validation '[]' "400 bad_request" "an array, not an object"
evidence_bad /v1/validation '{}' "400 missing_field" "no certificates"
evidence_bad /v1/validation '{"certificates":"MIIB"}' "400 invalid_type" "certificates a string"
evidence_bad /v1/validation '{"certificates":[5]}' "400 invalid_type" "a certificate a number"
evidence_bad /v1/validation '{"certificates":["%%%not base64"]}' "400 certificate_malformed" \
	"a certificate not base64"
evidence_bad /v1/validation "{\"certificates\":[\"$(b64der "${CERT_DER[teacher]}")\"],\"x\":1}" \
	"400 unknown_field" "an unknown field"
evidence_bad /v1/validation "{\"certificates\":[$(for i in $(seq 33); do printf '"%s",' "$(b64der "${CERT_DER[teacher]}")"; done | sed 's/,$//')]}" \
	"400 invalid_value" "33 certificates (at most 32)"
# a certificate with bytes after its DER
{ cat "${CERT_DER[teacher]}"; printf 'x'; } > "$T/trailing.der"
evidence_bad /v1/validation "{\"certificates\":[\"$(b64der "$T/trailing.der")\"]}" \
	"400 certificate_malformed" "a certificate with trailing bytes"
head -c 70000 /dev/zero | tr '\0' 'A' > "$T/big.b64"
evidence_bad /v1/validation "{\"certificates\":[\"$(cat "$T/big.b64")\"]}" "413 body_too_large" \
	"a body over 64 KiB"
evidence_bad /v1/timestamp '{"hash":' "400 bad_request" "truncated JSON"
evidence_bad /v1/timestamp '{"hash_algorithm":"sha256"}' "400 missing_field" "no hash"
evidence_bad /v1/timestamp '{"hash":5,"hash_algorithm":"sha256"}' "400 invalid_type" "a hash that is a number"
evidence_bad /v1/timestamp '{"hash":"%%%%","hash_algorithm":"sha256"}' "400 hash_encoding" "a hash not base64"
evidence_bad /v1/timestamp "{\"hash\":\"$(head -c 32 /dev/urandom | base64 -w0)\",\"hash_algorithm\":\"md5\"}" \
	"400 invalid_value" "an unknown hash algorithm"
evidence_bad /v1/timestamp "{\"hash\":\"$(head -c 48 /dev/urandom | base64 -w0)\",\"hash_algorithm\":\"sha256\"}" \
	"400 hash_length" "a SHA-384-long hash called sha256"
evidence_bad /v1/timestamp "{\"hash\":\"$(head -c 32 /dev/urandom | base64 -w0)\",\"hash_algorithm\":\"sha256\",\"nonce\":1}" \
	"400 unknown_field" "an unknown field"
evidence_bad /v1/timestamp "{\"hash\":\"$(cat "$T/big.b64")\",\"hash_algorithm\":\"sha256\"}" \
	"413 body_too_large" "a body over 64 KiB"
is "$(getpin_count)" "$PIN0" "no PIN dialog for any of them"

# check_dss FILE NAME CERT...: the /DSS of FILE holds (at least) the chains of the CERTs
# and of the TSA, the root's CRL (openssl crl verifies it against the root) and, for each
# of the CERTs and the TSA, an OCSP answer openssl ocsp verifies and reads as good.
check_dss()
{
	local file=$1 name=$2 c f got want found
	shift 2
	rm -rf "$T/dss"
	"$PY" "$KYSO_SRCDIR/tests/lib/pdf-dss.py" "$file" "$T/dss" >"$T/dss.json" 2>"$T/dss.err"
	ok $? "$name: the catalog has a /DSS qpdf reads" || diag "$(cat "$T/dss.err")"
	is "$(json_get '[j["indirect"], j["type"]]' "$(cat "$T/dss.json")")" '[true, "/DSS"]' \
		"$name: /DSS is an object of /Type /DSS"
	got=$(for f in "$T"/dss/cert-*.der; do
		openssl x509 -inform DER -in "$f" -noout -fingerprint -sha256; done | sort)
	is "$(printf '%s\n' "$got" | sort -u | wc -l)" "$(printf '%s\n' "$got" | wc -l)" \
		"$name: /DSS /Certs: each certificate once"
	found=1
	for c in "$@" tsa; do
		for f in "${CERT_PEM[$c]}" "$CA_INT" "$CA_ROOT"; do
			want=$(openssl x509 -in "$f" -noout -fingerprint -sha256)
			grep -qxF "$want" <<<"$got" || { found=0; diag "$c: missing $f"; }
		done
	done
	ok "$((1 - found))" "$name: /DSS /Certs: the chains of $* and of the TSA"
	found=0
	for f in "$T"/dss/crl-*.der; do
		openssl crl -inform DER -in "$f" -CAfile "$CA_ROOT" -noout >"$T/crl.out" 2>&1 &&
			grep -q "verify OK" "$T/crl.out" && found=1
	done
	ok "$((1 - found))" "$name: /DSS /CRLs: the root's CRL, its signature verified by openssl crl"
	for c in "$@" tsa; do
		found=0
		for f in "$T"/dss/ocsp-*.der; do
			openssl ocsp -respin "$f" -issuer "$CA_INT" -cert "${CERT_PEM[$c]}" \
				-CAfile "$CA_BUNDLE" -no_nonce >"$T/ocsp.out" 2>&1 &&
				grep -q "Response verify OK" "$T/ocsp.out" &&
				grep -q ": good" "$T/ocsp.out" && found=1
		done
		ok "$((1 - found))" "$name: /DSS /OCSPs: an answer for $c, verified by openssl ocsp: good"
	done
}

kyso_pdf "$T/objstm.pdf" "$T/lt.pdf" teacher --level B-LT
is "$?" 0 "kyso pdf sign --level B-LT (xref streams): exit 0" || diag "$(cat "$T/out")"
check_pdf "B-LT" "$T/lt.pdf" 1 0
check_dss "$T/lt.pdf" "B-LT" teacher
like "$(tail -c 300 "$T/lt.pdf" | tr -d '\0' | tr '\n' ' ')" "startxref" \
	"B-LT: the /DSS is an update of its own, with its startxref"

kyso_pdf "$T/plain.pdf" "$T/lt1.pdf" teacher --level B-LT
is "$?" 0 "B-LT on a classic PDF: exit 0" || diag "$(cat "$T/out")"
kyso_pdf "$T/lt1.pdf" "$T/lt2.pdf" teacher2 --level B-LT
is "$?" 0 "B-LT countersigned at B-LT: exit 0" || diag "$(cat "$T/out")"
check_pdf "B-LT + B-LT" "$T/lt2.pdf" 2 0
check_dss "$T/lt2.pdf" "B-LT + B-LT" teacher teacher2
py_verify "${CERT_PEM[teacher2]}"
ok $? "B-LT + B-LT: python3-cryptography verifies the second (ECDSA) CMS"

kyso_pdf "$T/objstm.pdf" "$T/lta.pdf" teacher --level B-LTA
is "$?" 0 "kyso pdf sign --level B-LTA: exit 0" || diag "$(cat "$T/out")"
check_dss "$T/lta.pdf" "B-LTA" teacher
pdfsig_report "$T/lta.pdf"
is "$(grep -c '^Signature #' "$T/pdfsig.out")" 2 "B-LTA: pdfsig finds the signature and the document timestamp" ||
	diag "$(cat "$T/pdfsig.out")"
like "$(sed -n '/Signature #1/,/Signature #2/p' "$T/pdfsig.out")" \
	"Signature Validation: Signature is Valid" "B-LTA: pdfsig: the signature is still valid"
like "$(sed -n '/Signature #2/,$p' "$T/pdfsig.out")" "Total document signed" \
	"B-LTA: pdfsig: the document timestamp covers the total document"
qpdf --check "$T/lta.pdf" >"$T/qpdf.out" 2>&1
ok $? "B-LTA: qpdf --check passes" || diag "$(tail -5 "$T/qpdf.out")"
"$PY" "$PDFCHECK" "$T/lta.pdf" "$T/last" >"$T/check.json" 2>"$T/check.err"
is "$(json_get '[j["type"], j["subfilter"]]' "$(cat "$T/check.json")")" \
	'["/DocTimeStamp", "/ETSI.RFC3161"]' "B-LTA: the last is a /DocTimeStamp, /SubFilter /ETSI.RFC3161" ||
	diag "$(cat "$T/check.err")"
openssl ts -verify -data "$T/last.signed" -in "$T/last.p7s" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >"$T/ts.out" 2>&1
ok $? "B-LTA: openssl ts -verify: the document timestamp is over its ByteRange, from the TSA" ||
	diag "$(cat "$T/ts.out")"
printf 'X' | dd of="$T/last.signed" bs=1 seek=100 conv=notrunc 2>/dev/null
openssl ts -verify -data "$T/last.signed" -in "$T/last.p7s" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >/dev/null 2>&1
isnt $? 0 "B-LTA: ...and not over the bytes with one changed"
"$PY" "$PDFCHECK" "$T/lta.pdf" "$T/last" --nth 1 >/dev/null 2>"$T/check.err" &&
	openssl cms -verify -binary -inform DER -in "$T/last.p7s" -content "$T/last.signed" \
		-CAfile "$CA_ROOT" -purpose any -out /dev/null >"$T/cms.out" 2>&1
ok $? "B-LTA: openssl cms -verify of the signature under the timestamp" ||
	diag "$(cat "$T/check.err" "$T/cms.out")"
grep -aq "/DSS" <(head -c "$(json_get 'j["range"][2] + j["range"][3]' "$(cat "$T/check.json")")" "$T/lta.pdf")
ok $? "B-LTA: the document timestamp covers the /DSS"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/lta.pdf" >"$T/verify.json" 2>&1
is "$?" 0 "pdf verify, B-LTA: exit 0" || diag "$(cat "$T/verify.json")"
is "$(json_get '[(s["type"], s["level"], s["status"], s["added_after"], s["only_harmless_after"]) for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[["signature", "B-LTA", "valid", ["dss", "document_timestamp"], true], ["document_timestamp", "document timestamp", "valid", [], true]]' \
	"pdf verify: B-LTA reached; only a /DSS and a document timestamp after the signature (harmless)"

# kyso pdf extend: fresh evidence and a new document timestamp, in place.
cp "$T/lta.pdf" "$T/ext.pdf"
"${KYSO[@]}" --socket "$SOCK" pdf extend "$T/ext.pdf" >"$T/out" 2>&1
is "$?" 0 "kyso pdf extend --level B-LTA (the default): exit 0" || diag "$(cat "$T/out")"
cmp -n "$(stat -c %s "$T/lta.pdf")" "$T/lta.pdf" "$T/ext.pdf" >/dev/null
ok $? "extend: the record's bytes are the extended file's beginning (incremental updates)"
pdfsig_report "$T/ext.pdf"
# (poppler 22.12 does not check document timestamps: openssl ts does, below)
is "$(grep -c '^Signature #' "$T/pdfsig.out") $(sed -n '/Signature #1/,/Signature #2/p' "$T/pdfsig.out" | grep -c 'Signature Validation: Signature is Valid')" \
	"3 1" "extend: pdfsig finds the signature, still valid, and two document timestamps" ||
	diag "$(cat "$T/pdfsig.out")"
like "$(sed -n '/Signature #3/,$p' "$T/pdfsig.out")" "Total document signed" \
	"extend: pdfsig: the new document timestamp covers the total document"
qpdf --check "$T/ext.pdf" >"$T/qpdf.out" 2>&1
ok $? "extend: qpdf --check passes" || diag "$(tail -5 "$T/qpdf.out")"
"$PY" "$PDFCHECK" "$T/ext.pdf" "$T/last" >"$T/check.json" 2>"$T/check.err"
is "$(json_get '[j["type"], j["subfilter"]]' "$(cat "$T/check.json")")" \
	'["/DocTimeStamp", "/ETSI.RFC3161"]' "extend: the last is a new /DocTimeStamp" ||
	diag "$(cat "$T/check.err")"
openssl ts -verify -data "$T/last.signed" -in "$T/last.p7s" -token_in -CAfile "$CA_ROOT" \
	-untrusted "$CA_INT" >"$T/ts.out" 2>&1
ok $? "extend: openssl ts -verify: the new document timestamp is over its ByteRange" ||
	diag "$(cat "$T/ts.out")"
"$PY" "$PDFCHECK" "$T/ext.pdf" "$T/last" --nth 2 >/dev/null 2>"$T/check.err" &&
	openssl ts -verify -data "$T/last.signed" -in "$T/last.p7s" -token_in -CAfile "$CA_ROOT" \
		-untrusted "$CA_INT" >"$T/ts.out" 2>&1
ok $? "extend: openssl ts -verify: the earlier document timestamp still verifies" ||
	diag "$(cat "$T/check.err" "$T/ts.out")"
grep -aq "/DSS" <(tail -c +"$(($(stat -c %s "$T/lta.pdf") + 1))" "$T/ext.pdf")
ok $? "extend: a /DSS is written again after the record's last byte"
"$PY" "$KYSO_SRCDIR/tests/lib/pdf-dss.py" "$T/ext.pdf" "$T/extdss" >"$T/dss.json" 2>"$T/dss.err"
ok $? "extend: the /DSS reads" || diag "$(cat "$T/dss.err")"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/ext.pdf" >"$T/verify.json" 2>&1
is "$(json_get '[(s["type"], s["level"], s["status"], s["only_harmless_after"]) for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[["signature", "B-LTA", "valid", true], ["document_timestamp", "document timestamp", "valid", true], ["document_timestamp", "document timestamp", "valid", true]]' \
	"extend: pdf verify: B-LTA, two valid document timestamps, only harmless updates" ||
	diag "$(cat "$T/verify.json")"
# A B-B signature extended with a document timestamp: its proof of existence is that
# timestamp; judged now, it rests on nothing but the verification time.
"${KYSO[@]}" --socket "$SOCK" pdf extend "$T/plain-bb.pdf" -o "$T/bb-ext.pdf" >"$T/out" 2>&1
is "$?" 0 "extend of a B-B record: exit 0" || diag "$(cat "$T/out")"
"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/bb-ext.pdf" >"$T/verify.json" 2>&1
is "$(json_get '[(s["type"], s["status"], s["reason"], (s.get("proof_of_existence") or {}).get("source"), s.get("now")) for s in j["signatures"]]' "$(cat "$T/verify.json")")" \
	'[["signature", "valid", "valid_at_timestamp", "document_timestamp", {"status": "valid", "reason": "valid_now"}], ["document_timestamp", "valid", "trusted_timestamp", null, null]]' \
	"pdf verify: the B-B signature's proof of existence is the later document timestamp, whose authority kysod trusts; valid now too" ||
	diag "$(cat "$T/verify.json")"
"${KYSO[@]}" --socket "$SOCK" pdf verify "$T/bb-ext.pdf" >"$T/out" 2>&1
like "$(cat "$T/out")" "proof: +existed at .* \(a document timestamp\)" "pdf verify's text names the proof"
like "$(cat "$T/out")" "now: +valid \(valid_now\)" "...and the verdict now"
"${KYSO[@]}" --socket "$SOCK" pdf extend "$T/objstm.pdf" -o "$T/unsigned-ext.pdf" >"$T/out" 2>&1
isnt "$?" 0 "extend: a PDF without a signature is refused"
[ ! -e "$T/unsigned-ext.pdf" ]
ok $? "...and no output file is written"

# ---------------------------------------------------------------- PDFs no project code wrote
# Two PDFs as Debian packages install them (pdfTeX output with object and xref streams),
# qpdf's rewrite with object streams, and the PDF poppler's pdfsig signed with an NSS key:
# each signed by kyso at every level, then countersigned by a second teacher at the same
# level. NAME|PATH|SIGNATURES ALREADY IN IT
FOREIGN=("qpdf-objstm|$T/objstm.pdf|0")
[ -s "$T/nss.pdf" ] && FOREIGN+=("pdfsig-signed|$T/nss.pdf|1")
for src in /usr/share/doc/libtasn1-doc/libtasn1.pdf \
	/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf; do
	pkg=$(dpkg -S "$src" 2>/dev/null | cut -d: -f1)
	if [ -s "$src" ]; then
		FOREIGN+=("${pkg:-$(basename "$src" .pdf)}|$src|0")
	else
		# dpkg may be told not to install /usr/share/doc (path-exclude); CI installs it
		skip 41 "$src is not installed (package ${pkg:-?}; see dpkg's path-exclude)"
	fi
done
for entry in "${FOREIGN[@]}"; do
	IFS='|' read -r name src n0 <<<"$entry"
	for level in B-B B-T B-LT B-LTA; do
		kyso_pdf "$src" "$T/deb-1.pdf" teacher --level "$level" --reason "Lưu trữ"
		is "$?" 0 "$name ($level): kyso pdf sign: exit 0" || diag "$(cat "$T/out")"
		kyso_pdf "$T/deb-1.pdf" "$T/deb-2.pdf" teacher2 --level "$level" --reason "Kiểm tra"
		is "$?" 0 "$name ($level): countersigned by a second teacher: exit 0" ||
			diag "$(cat "$T/out")"
		case $level in
		B-B|B-T)
			check_pdf "$name $level + $level" "$T/deb-2.pdf" $((n0 + 2)) ;;
		B-LT)
			check_pdf "$name $level + $level" "$T/deb-2.pdf" $((n0 + 2)) 0
			check_dss "$T/deb-2.pdf" "$name $level + $level" teacher teacher2 ;;
		B-LTA)
			# poppler 22.12 does not check document timestamps: kyso pdf verify
			# and openssl ts judge them
			"${KYSO[@]}" --socket "$SOCK" --json pdf verify "$T/deb-2.pdf" >"$T/verify.json" 2>&1
			is "$(json_get '[[(s["type"], s["level"], s["status"]) for s in j["signatures"]][-4:], all(s["status"] == "valid" for s in j["signatures"])]' "$(cat "$T/verify.json")")" \
				'[[["signature", "B-LTA", "valid"], ["document_timestamp", "document timestamp", "valid"], ["signature", "B-LTA", "valid"], ["document_timestamp", "document timestamp", "valid"]], true]' \
				"$name B-LTA + B-LTA: pdf verify: two B-LTA signatures, two document timestamps, all valid" ||
				diag "$(cat "$T/verify.json")"
			"$PY" "$PDFCHECK" "$T/deb-2.pdf" "$T/last" >/dev/null 2>"$T/check.err" &&
				openssl ts -verify -data "$T/last.signed" -in "$T/last.p7s" -token_in \
					-CAfile "$CA_ROOT" -untrusted "$CA_INT" >"$T/ts.out" 2>&1
			ok $? "$name B-LTA + B-LTA: openssl ts -verify of the last document timestamp" ||
				diag "$(cat "$T/check.err" "$T/ts.out")"
			qpdf --check "$T/deb-2.pdf" >"$T/qpdf.out" 2>&1
			ok $? "$name B-LTA + B-LTA: qpdf --check passes" || diag "$(tail -5 "$T/qpdf.out")" ;;
		esac
		cmp -n "$(stat -c %s "$src")" "$src" "$T/deb-2.pdf" >/dev/null
		ok $? "$name ($level): the original's bytes are the signed file's beginning"
	done
done

# Without an OCSP responder, the signer's certificate cannot be shown good: no B-LT.
ocsp_stop
kyso_pdf "$T/objstm.pdf" "$T/nolt.pdf" teacher --level B-LT
isnt "$?" 0 "B-LT without revocation evidence: refused"
[ ! -e "$T/nolt.pdf" ]
ok $? "...and no output file is left"
# Hostile input files: refused with a message, no output left, no PIN asked, kysod serves.
PIN0=$(getpin_count)
head -c 4096 /dev/urandom > "$T/random.pdf"
head -c $(( $(stat -c %s "$T/plain.pdf") / 2 )) "$T/plain.pdf" > "$T/half.pdf"
printf '%%PDF-1.7\n%%%%EOF\n' > "$T/empty.pdf"
for bad in random half empty missing; do
	rm -f "$T/bad-out.pdf"
	kyso_pdf "$T/$bad.pdf" "$T/bad-out.pdf" teacher
	isnt "$?" 0 "pdf sign of a $bad PDF is refused"
	[ ! -e "$T/bad-out.pdf" ]
	ok $? "...and no output file is left"
	"${KYSO[@]}" --socket "$SOCK" pdf verify "$T/$bad.pdf" >"$T/out" 2>&1
	isnt "$?" 0 "pdf verify of a $bad PDF fails" || diag "$(cat "$T/out")"
done
is "$(getpin_count)" "$PIN0" "no PIN dialog for a file that is refused"
status_ok "kysod serves after the refused files"
stop_kysod
tsa_stop

# ---------------------------------------------------------------- usage errors
"${KYSO[@]}" --socket "$SOCK" pdf sign "$T/plain.pdf" -o "$T/plain.pdf" \
	--cert "${CERT_ID[teacher]}" >"$T/out" 2>&1
isnt "$?" 0 "the output may not be the input"
"${KYSO[@]}" pdf sign "$T/plain.pdf" --cert 0123456789abcdef >"$T/out" 2>&1
is "$?" 2 "--out is required (usage error)"
"${KYSO[@]}" pdf sign "$T/plain.pdf" -o "$T/x.pdf" --cert 0123456789abcdef --visible 0,1,1,1,1 \
	>"$T/out" 2>&1
is "$?" 2 "--visible with page 0: usage error"
done_testing
