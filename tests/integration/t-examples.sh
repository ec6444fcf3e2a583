#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The interoperability examples in examples/, run against kysod and SoftHSM2:
# a PDF signed with a CAdES(-T) signature that poppler's pdfsig reports valid and covering
# the whole document, and an enveloped XML-DSig signature that xmlsec1 --verify accepts.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm
HAVE_PDFSIG=1
HAVE_XMLSEC=1
command -v pdfsig >/dev/null || HAVE_PDFSIG=0
command -v xmlsec1 >/dev/null || HAVE_XMLSEC=0
[ "$HAVE_PDFSIG$HAVE_XMLSEC" = 00 ] &&
	plan_skip_all "neither pdfsig (poppler-utils) nor xmlsec1 is installed"

PDF_SIGN=$KYSO_SRCDIR/examples/pdf-sign.py
XML_SIGN=$KYSO_SRCDIR/examples/xml-sign.py

make_softhsm_token
ca_init
tsa_init
ca_issue school rsa "Trường THPT Kyso — Phòng Đào tạo"
make_ca_token kyso-ca school:41
tsa_start
# the self-signed test certificates are trust anchors of their own here
cat "$CA_BUNDLE" "${CERT_PEM[rsa]}" "${CERT_PEM[p256]}" > "$T/bundle.pem"
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$T/bundle.pem" ocsp=off "tsa_url=$TSA_URL"
start_kysod

# pdf_valid FILE DESC: pdfsig says the signature is valid and covers the whole file.
pdf_valid()
{
	pdfsig -nocert "$1" >"$T/pdfsig.out" 2>&1
	if grep -q "Signature Validation: Signature is Valid" "$T/pdfsig.out" &&
		grep -q "Total document signed" "$T/pdfsig.out"; then
		pass "$2"
	else
		fail "$2"
		diag "$(cat "$T/pdfsig.out")"
	fi
}

# ---------------------------------------------------------------- PDF
if [ "$HAVE_PDFSIG" = 1 ]; then
	KYSO_SOCKET=$SOCK "$PY" "$PDF_SIGN" --certificate "${CERT_ID[school]}" --timestamp \
		--title "Hoc ba 2026" --line "Nguyen Van An: 9.5" --line "Tran Thi Binh: 8.75" \
		"$T/record.pdf" >"$T/pdf.out" 2>&1
	ok $? "pdf-sign.py: a CAdES-T signed PDF written"
	like "$(cat "$T/pdf.out")" "time-stamped at" "...with a timestamp"
	pdf_valid "$T/record.pdf" "pdfsig: the signature is valid and covers the whole document"
	like "$(cat "$T/pdfsig.out")" "Signer Certificate Common Name: Trường THPT Kyso" \
		"pdfsig names the signer"
	like "$(cat "$T/pdfsig.out")" "Signature Type: adbe.pkcs7.detached" \
		"pdfsig sees a detached CMS signature"
	( cd "$T" && pdfsig -dump record.pdf >/dev/null 2>&1 )
	if [ -f "$T/record.pdf.sig0" ]; then
		"$PY" "$KYSO_SRCDIR/tests/lib/cms-inspect.py" "$T/record.pdf.sig0" > "$T/pdfcms.json"
		is "$(json_get 'j["signers"][0]["unsigned_attrs"]' "$(cat "$T/pdfcms.json")")" \
			'["signatureTimeStampToken"]' "the PDF's CMS carries the timestamp token"
	else
		fail "the PDF's CMS carries the timestamp token (pdfsig -dump wrote no signature file)"
	fi

	# a changed byte inside the signed range: pdfsig notices
	cp "$T/record.pdf" "$T/changed.pdf"
	"$PY" - "$T/changed.pdf" <<-'EOF'
	import sys
	p = sys.argv[1]
	d = bytearray(open(p, "rb").read())
	i = d.index(b"Tran Thi Binh: 8.75")
	d[i + 15:i + 19] = b"9.75"
	open(p, "wb").write(d)
	EOF
	pdfsig -nocert "$T/changed.pdf" >"$T/pdfsig.out" 2>&1
	# pdfsig itself must have read the signature and judged it: an error of its own is no
	# rejection
	like "$(cat "$T/pdfsig.out")" "Signature Validation: " \
		"pdfsig reads the changed PDF's signature and judges it"
	like "$(grep 'Signature Validation: ' "$T/pdfsig.out")" "Signature Validation: (Digest Mismatch|Signature is Invalid)" \
		"pdfsig: a grade changed after signing makes the signature invalid" ||
		diag "$(cat "$T/pdfsig.out")"

	# ECDSA and RSA-PSS, no timestamp
	KYSO_SOCKET=$SOCK "$PY" "$PDF_SIGN" --certificate "${CERT_ID[p256]}" "$T/ec.pdf" \
		>"$T/pdf.out" 2>&1
	ok $? "pdf-sign.py with an ECDSA P-256 key"
	pdf_valid "$T/ec.pdf" "pdfsig: the ECDSA signature is valid"
	KYSO_SOCKET=$SOCK "$PY" "$PDF_SIGN" --certificate "${CERT_ID[rsa]}" --padding pss \
		--hash sha384 "$T/pss.pdf" >"$T/pdf.out" 2>&1
	ok $? "pdf-sign.py with RSA-PSS over sha384"
	pdf_valid "$T/pss.pdf" "pdfsig: the RSA-PSS signature is valid"
	# an existing PDF (the record written above), signed again through kyso pdf sign
	# with a visible Vietnamese appearance
	KYSO_SOCKET=$SOCK "$PY" "$PDF_SIGN" --certificate "${CERT_ID[school]}" \
		--input "$T/record.pdf" --level B-T --reason "Xác nhận học bạ" --location "Hà Nội" \
		--visible 1,300,60,250,70 --kyso "$KYSO_BUILDDIR/kyso" "$T/record2.pdf" >"$T/pdf.out" 2>&1
	ok $? "pdf-sign.py --input: an existing PDF signed (PAdES B-T, visible)" ||
		diag "$(cat "$T/pdf.out")"
	like "$(cat "$T/pdf.out")" "PAdES B-T, field Signature2" "...in a second signature field"
	pdfsig -nocert "$T/record2.pdf" >"$T/pdfsig.out" 2>&1
	is "$(grep -c 'Signature Validation: Signature is Valid' "$T/pdfsig.out") $(grep -c 'Total document signed' "$T/pdfsig.out")" \
		"2 1" "pdfsig: both signatures valid, the new one over the whole document" ||
		diag "$(cat "$T/pdfsig.out")"
	like "$(sed -n '/Signature #2/,$p' "$T/pdfsig.out")" "Signature Type: ETSI.CAdES.detached" \
		"pdfsig: the new one is PAdES (ETSI.CAdES.detached)"
	pdftotext "$T/record2.pdf" - 2>/dev/null | tr '\n' ' ' >"$T/record2.txt"
	like "$(cat "$T/record2.txt")" "Ký bởi: Trường THPT Kyso — Phòng Đào tạo.*Lý do: Xác nhận học bạ.*Nơi ký: Hà Nội" \
		"pdftotext reads the Vietnamese appearance back" || diag "$(cat "$T/record2.txt")"
else
	skip 17 "pdfsig (poppler-utils) is not installed"
fi

# ---------------------------------------------------------------- XML
if [ "$HAVE_XMLSEC" = 1 ]; then
	KYSO_SOCKET=$SOCK "$PY" "$XML_SIGN" --certificate "${CERT_ID[rsa]}" \
		--field "name=Nguyễn Văn An" --field "grade=9.5" --field "note=A & B <ok>" \
		"$T/record.xml" >"$T/xml.out" 2>&1
	ok $? "xml-sign.py: an enveloped XML-DSig signature written"
	xmlsec1 --verify --trusted-pem "${CERT_PEM[rsa]}" "$T/record.xml" >"$T/xmlsec.out" 2>&1
	ok $? "xmlsec1 --verify --trusted-pem accepts it"
	grep -q "^OK" "$T/xmlsec.out" || diag "$(cat "$T/xmlsec.out")"
	sed 's/9\.5/9.7/' "$T/record.xml" > "$T/changed.xml"
	xmlsec1 --verify --trusted-pem "${CERT_PEM[rsa]}" "$T/changed.xml" >"$T/xmlsec.out" 2>&1
	is "$? $(grep -c '^FAIL' "$T/xmlsec.out")" "1 1" "xmlsec1 rejects the record with a changed grade (FAIL)" ||
		diag "$(cat "$T/xmlsec.out")"
	xmlsec1 --verify --trusted-pem "${CERT_PEM[p256]}" "$T/record.xml" >"$T/xmlsec.out" 2>&1
	rc=$?
	isnt $rc 0 "xmlsec1 rejects it when another certificate is the trusted one"
	like "$(cat "$T/xmlsec.out")" 'certificate|verif' "...for want of a trusted certificate" ||
		diag "$(cat "$T/xmlsec.out")"

	KYSO_SOCKET=$SOCK "$PY" "$XML_SIGN" --certificate "${CERT_ID[school]}" \
		--field "class=12A1" "$T/school.xml" >"$T/xml.out" 2>&1
	ok $? "xml-sign.py with a CA-issued certificate"
	xmlsec1 --verify --trusted-pem "$CA_ROOT" --untrusted-pem "$CA_INT" "$T/school.xml" \
		>"$T/xmlsec.out" 2>&1
	ok $? "xmlsec1 accepts it with the root CA as the trusted certificate"
	grep -q "^OK" "$T/xmlsec.out" || diag "$(cat "$T/xmlsec.out")"
else
	skip 7 "xmlsec1 is not installed"
fi
stop_kysod
tsa_stop

done_testing
