#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kyso xml sign: enveloped XAdES (B-B, B-T) over an XML school record, RSA and EC keys,
# exclusive and inclusive C14N. xmlsec1 --verify accepts the XML-DSig core with only the
# test root trusted (the issuing CA comes from KeyInfo); a changed grade fails it; the
# structure (SignedProperties with SigningTime and SigningCertificateV2, the enveloped
# reference) is read with Python's ElementTree; B-T's SignatureTimeStamp verifies with
# openssl ts over the canonical SignatureValue.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm
command -v xmlsec1 >/dev/null || skip_all "xmlsec1 is not installed"

INSPECT=$KYSO_SRCDIR/tests/lib/xades-inspect.py
KYSO=("$KYSO_BUILDDIR/kyso")

make_softhsm_token
ca_init
tsa_init
ca_issue teacher rsa "Vũ Thị Thanh Hương"
ca_issue teacher2 p256 "Đặng Quốc Bảo"
make_ca_token kyso-ca teacher:21 teacher2:22

cat >"$T/record.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!-- học bạ -->
<hocBa xmlns="urn:example:hoc-ba" xmlns:hs="urn:example:hoc-sinh" namHoc="2025-2026">
  <hs:hocSinh ma="HS-0042">Nguyễn Thị Minh Khai</hs:hocSinh>
  <mon ten="Toán"><diem>9.5</diem></mon>
  <mon ten="Ngữ văn"><diem>8.0</diem></mon>
</hocBa>
XML

# verify FILE: xmlsec1 --verify with the test root trusted; its status returned.
verify()
{
	xmlsec1 --verify --trusted-pem "$CA_ROOT" --enabled-key-data x509 \
		--id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" \
		"$1" >"$T/xmlsec.out" 2>&1
}

# kyso_xml OUT CERT [OPTIONS...]: signs record.xml; its status returned.
kyso_xml()
{
	local out=$1 cert=$2
	shift 2
	"${KYSO[@]}" --socket "$SOCK" xml sign "$T/record.xml" -o "$out" \
		--cert "${CERT_ID[$cert]}" "$@" >"$T/out" 2>&1
}

write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off
start_kysod

for case in "rsa teacher exclusive" "ec teacher2 exclusive" "rsa-incl teacher inclusive" \
	"ec-incl teacher2 inclusive"; do
	set -- $case
	name=$1 cert=$2 c14n=$3
	kyso_xml "$T/$name.xml" "$cert" --c14n "$c14n"
	is "$?" 0 "$name: kyso xml sign (B-B, $c14n C14N): exit 0" || diag "$(cat "$T/out")"
	verify "$T/$name.xml"
	ok $? "$name: xmlsec1 --verify, the root trusted, the chain from KeyInfo" ||
		diag "$(cat "$T/xmlsec.out")"
	sed 's|<diem>9.5</diem>|<diem>10</diem>|' "$T/$name.xml" >"$T/$name-changed.xml"
	! cmp -s "$T/$name.xml" "$T/$name-changed.xml"
	ok $? "$name: the grade is changed in the copy"
	verify "$T/$name-changed.xml"
	isnt "$?" 0 "$name: xmlsec1 --verify fails when a grade is changed"
done

"$PY" "$INSPECT" "$T/rsa.xml" >"$T/rsa.json"
is "$(json_get '[j["last_child_of_root"], j["c14n"], j["signature_method"]]' "$(cat "$T/rsa.json")")" \
	'[true, "http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]' \
	"rsa: an enveloped signature, exclusive C14N, RSA-SHA256"
is "$(json_get 'j["references"]' "$(cat "$T/rsa.json")")" \
	'[["", null, ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"]], ["#'"$(sed -n 's/.*SignedProperties Id="\([^"]*\)".*/\1/p' "$T/rsa.xml")"'", "http://uri.etsi.org/01903#SignedProperties", ["http://www.w3.org/2001/10/xml-exc-c14n#"]]]' \
	"rsa: references to the whole document (enveloped) and to the SignedProperties"
is "$(json_get '[j["signed_properties"], j["x509_certificates"], j["signature_timestamp"]]' "$(cat "$T/rsa.json")")" \
	'[["SigningTime", "SigningCertificateV2"], 2, false]' \
	"rsa: SigningTime and SigningCertificateV2; the signer's and the issuing CA's certificates; no timestamp"
is "$(json_get '[j["signature_method"], j["signature_value_bytes"]]' "$("$PY" "$INSPECT" "$T/ec.xml")")" \
	'["http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", 64]' \
	"ec: ECDSA-SHA256, the value r || s (64 bytes)"
stop_kysod

# ---------------------------------------------------------------- B-T
tsa_start
write_conf --module "softhsm=$SOFTHSM" "ca_bundle=$CA_BUNDLE" ocsp=off "tsa_url=$TSA_URL"
start_kysod
for cert in teacher teacher2; do
	kyso_xml "$T/bt-$cert.xml" "$cert" --level B-T
	is "$?" 0 "$cert: kyso xml sign --level B-T: exit 0" || diag "$(cat "$T/out")"
	verify "$T/bt-$cert.xml"
	ok $? "$cert B-T: xmlsec1 --verify" || diag "$(cat "$T/xmlsec.out")"
	"$PY" "$INSPECT" "$T/bt-$cert.xml" --timestamp "$T/tst.der" --imprint "$T/sv.c14n" \
		>"$T/bt.json"
	is "$(json_get 'j["signature_timestamp"]' "$(cat "$T/bt.json")")" true \
		"$cert B-T: a SignatureTimeStamp"
	openssl ts -verify -in "$T/tst.der" -token_in -data "$T/sv.c14n" \
		-CAfile "$CA_ROOT" -untrusted "$CA_INT" >"$T/ts.out" 2>&1
	ok $? "$cert B-T: openssl ts -verify: the token is over the canonical SignatureValue" ||
		diag "$(cat "$T/ts.out")"
	printf 'x' >>"$T/sv.c14n"
	openssl ts -verify -in "$T/tst.der" -token_in -data "$T/sv.c14n" \
		-CAfile "$CA_ROOT" -untrusted "$CA_INT" >"$T/ts.out" 2>&1
	isnt "$?" 0 "$cert B-T: ...and not over other bytes"
done
stop_kysod
tsa_stop

# ---------------------------------------------------------------- refusals
start_kysod
printf '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e "x">]>\n<r>&e;</r>\n' >"$T/dtd.xml"
"${KYSO[@]}" --socket "$SOCK" xml sign "$T/dtd.xml" -o "$T/dtd-signed.xml" \
	--cert "${CERT_ID[teacher]}" >"$T/out" 2>&1
isnt "$?" 0 "a document with a DTD is refused" && like "$(cat "$T/out")" "document type declaration" \
	"...saying why"
printf '<r><a></r>\n' >"$T/bad.xml"
"${KYSO[@]}" --socket "$SOCK" xml sign "$T/bad.xml" -o "$T/bad-signed.xml" \
	--cert "${CERT_ID[teacher]}" >"$T/out" 2>&1
isnt "$?" 0 "XML that is not well-formed is refused"
"${KYSO[@]}" --socket "$SOCK" xml sign "$T/record.xml" --cert "${CERT_ID[teacher]}" \
	>"$T/out" 2>&1
is "$?" 2 "--out is required (usage error)"
# more hostile files: binary bytes, an empty file, one that is not there, an external entity
PIN0=$(getpin_count)
head -c 4096 /dev/urandom >"$T/random.xml"
: >"$T/empty.xml"
printf '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>\n' \
	>"$T/xxe.xml"
for bad in random empty missing xxe; do
	rm -f "$T/bad-out.xml"
	"${KYSO[@]}" --socket "$SOCK" xml sign "$T/$bad.xml" -o "$T/bad-out.xml" \
		--cert "${CERT_ID[teacher]}" >"$T/out" 2>&1
	isnt "$?" 0 "xml sign of a $bad document is refused"
	[ ! -e "$T/bad-out.xml" ]
	ok $? "...and no output file is left"
done
unlike "$(cat "$T/out")" "root:" "the external entity's file is not read into the message"
is "$(getpin_count)" "$PIN0" "no PIN dialog for a refused document"
status_ok "kysod serves after the refused documents"
stop_kysod
done_testing
