#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The grade book demo (examples/web) in Debian's Chromium, headless, driven by playwright-core
# from npm (installed under the build tree, never a browser download): the page on an https
# origin the browser treats as public, kyso on loopback. An allowed origin signs a record and
# the class of 40 (each checked: the record's signature with openssl), and a PDF record the
# server prepared (PAdES: pdfsig finds it valid and trusted, qpdf --check passes); the local
# network permission denied gives the client's clear error; an unknown origin pairs through
# the scripted pinentry; a refused one gets origin_not_allowed and no new dialog during the
# cool-down; a page of an unknown origin can neither read answers nor raise a dialog; a page
# whose CSP connect-src leaves out loopback, and the demo in an iframe without
# allow="loopback-network", get the client's words for them. A screenshot of the page after
# signing is kept in the build tree (tests/web/grade-book.png).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-web.sh"
. "$KYSO_SRCDIR/tests/lib/test-ca.sh"
require_build
require_softhsm
[ -x /usr/bin/chromium ] || plan_skip_all "Debian's chromium is not installed (tests/debian-packages lists it)"
command -v node >/dev/null && command -v npm >/dev/null || plan_skip_all "node and npm are needed"
for tool in pdfsig qpdf certutil; do
	command -v "$tool" >/dev/null || plan_skip_all "$tool is not installed (tests/debian-packages lists it)"
done

# playwright-core from npm, once per build tree
PW=$KYSO_BUILDDIR/tests/web
if [ ! -f "$PW/node_modules/playwright-core/package.json" ]; then
	mkdir -p "$PW"
	npm install --no-audit --no-fund --prefix "$PW" 'playwright-core@>=1.57' >"$PW/npm.log" 2>&1 ||
		plan_skip_all "npm install playwright-core failed (the npm registry unreachable?): $(tail -n 1 "$PW/npm.log")"
fi
export PW_DIR=$PW

make_softhsm_token
# a teacher whose certificate the test CA issued, for the PDF record (pdfsig trusts the root)
ca_init
ca_issue teacher rsa "Vũ Thị Thanh Hương"
make_ca_token kyso-ca teacher:21
web_ports
# the demo's server (PAGE_PORT), the same with a strict CSP (PAGE_PORT2) and a school
# portal that frames the demo (PAGE_PORT3, no CSP)
# (kysod is not listening yet: the pages' ports must not fall in the listener's four)
for salt in 1500 1501 1502; do
	PAGE_PORT=$(web_free_block 3 "$salt") || bail_out "no 3 free loopback ports for the pages"
	[ $((PAGE_PORT + 2)) -lt "$WEB_PORT" ] || [ "$PAGE_PORT" -gt $((WEB_PORT + 3)) ] && break
done
PAGE_PORT2=$((PAGE_PORT + 1))
PAGE_PORT3=$((PAGE_PORT + 2))
export PAGE_PORT PAGE_PORT2 PAGE_PORT3 WEB_PORT
export PDF_SIGNER="${CERT_CN[teacher]}"
SITE=https://hocba.test:$PAGE_PORT
web_conf --module "softhsm=$SOFTHSM" pairing_cooldown=60
printf '%s\n' "$SITE" > "$T/origins.d/school.conf"

# the page's https certificate; Chromium trusts its key (--ignore-certificate-errors-spki-list)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=hocba.test \
	-addext "subjectAltName=DNS:hocba.test,DNS:grades.test" -keyout "$T/page.key" -out "$T/page.pem" \
	2>/dev/null || bail_out "openssl req for the page's certificate failed"
SPKI=$(openssl x509 -in "$T/page.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -binary | openssl base64 -A)
export SPKI

start_kysod
# the demo page asks kyso on the listener's ports: the test's, not the default
sed "s/export const DEFAULT_PORTS = \[[^]]*\]/export const DEFAULT_PORTS = [$WEB_PORT, $((WEB_PORT + 1)), $((WEB_PORT + 2)), $((WEB_PORT + 3))]/" \
	"$KYSO_SRCDIR/clients/js/kyso.js" > "$T/kyso.js"
mkdir -p "$T/site/examples/web" "$T/site/clients/js"
cp "$KYSO_SRCDIR"/examples/web/* "$T/site/examples/web/"
cp "$T/kyso.js" "$T/site/clients/js/kyso.js"
node "$T/site/examples/web/server.mjs" --cert "$T/page.pem" --key "$T/page.key" --port "$PAGE_PORT" \
	> "$T/server.log" 2>&1 &
BG_PIDS+=($!)
# the same site with a Content-Security-Policy whose connect-src is 'self' only
node "$T/site/examples/web/server.mjs" --cert "$T/page.pem" --key "$T/page.key" --port "$PAGE_PORT2" \
	--csp strict > "$T/server2.log" 2>&1 &
BG_PIDS+=($!)
node "$T/site/examples/web/server.mjs" --cert "$T/page.pem" --key "$T/page.key" --port "$PAGE_PORT3" \
	--csp none > "$T/server3.log" 2>&1 &
BG_PIDS+=($!)
for port in "$PAGE_PORT" "$PAGE_PORT2" "$PAGE_PORT3"; do
	for ((i = 0; i < 50; i++)); do
		curl -sk -o /dev/null "https://127.0.0.1:$port/" && break
		sleep 0.1
	done
done

drive()
{
	node "$KYSO_SRCDIR/tests/web/drive.mjs" "$@" 2>"$T/drive.err" | tail -n 1
}

# ---------------------------------------------------------------- an allowed origin signs
SHOT=$PW/grade-book.png
rm -f "$SHOT"
OUT=$(drive sign "$SITE/" "$SHOT")
diag "page: $(json_get '[j.get("granted"), j.get("grant_errors"), j.get("permission"), j.get("status"), j.get("exception","")]' "$OUT")"
is "$(json_get 'j["connected"]' "$OUT")" true "the allowed origin connects to kyso from Chromium"
like "$(json_get '" | ".join(j["certs"])' "$OUT")" "Nguyễn Văn An" "the page lists the teacher's certificates"
like "$(json_get 'j.get("verdict","")' "$OUT")" "Record 12A1-01 signed" "the page signs a record"
isnt "$(json_get 'j.get("verify_status","")' "$OUT")" invalid "kyso's verification from the page does not find it invalid"
json_get 'j["hash"]' "$OUT" | openssl base64 -d -A > "$T/page.hash"
json_get 'j["signature"]' "$OUT" | openssl base64 -d -A > "$T/page.sig"
# the certificate the page chose (the first usable one: RSA or EC), as kysod lists it
api GET "/v1/certificates/$(json_get 'j.get("cert") or "none"' "$OUT")"
json_get 'j["pem"]' > "$T/page-cert.pem" 2>/dev/null
PAGE_PAD=
[ "$(json_get 'j["key_type"]')" = rsa ] && PAGE_PAD=pkcs1
verify_sig "$T/page-cert.pem" "$(xxd -p "$T/page.hash" | tr -d '\n')" "$T/page.sig" sha256 $PAGE_PAD
ok $? "the page's signature verifies with openssl against the certificate it chose"
printf '%s' '{"student":"Nguyễn Văn An 1","id":"12A1-01"}' > /dev/null
like "$(json_get 'j.get("class_verdict","")' "$OUT")" "40 of 40 records signed" "the page signs the class of 40 with one consent"
is "$(json_get 'j.get("progress","")' "$OUT")" 40 "the progress bar reached 40"
grep -q "^SETDESC The web site $SITE in .*chromium.* (process [0-9]*) asks to sign 40 records" "$KYSO_PINENTRY_LOG"
ok $? "the class's dialog names the site and Chromium's process"

# the PDF record: the server prepared it, the page had kyso sign its hash (pades), the server
# put the CMS in; the teacher chose the certificate of the test CA, whose root pdfsig's NSS
# database trusts
curl -sk -o "$T/record.pdf" "https://127.0.0.1:$PAGE_PORT$(json_get 'j.get("pdf_url") or "/none"' "$OUT")"
like "$(json_get 'j.get("pdf_text","")' "$OUT")" "signed by" "the page offers the signed PDF record" ||
	diag "$(json_get 'j.get("final_status","")' "$OUT")"
is "$(head -c 5 "$T/record.pdf" 2>/dev/null)" "%PDF-" "the server gives the signed PDF"
NSS=sql:$T/nss
mkdir -p "$T/nss"
certutil -N -d "$NSS" --empty-password >/dev/null 2>&1 &&
	certutil -A -d "$NSS" -n "Kyso Test Root" -t "CT,C,C" -i "$CA_ROOT" >/dev/null 2>&1 &&
	certutil -A -d "$NSS" -n "Kyso Test Issuing CA" -t ",," -i "$CA_INT" >/dev/null 2>&1 ||
	bail_out "the NSS database cannot be made"
pdfsig -nssdir "$NSS" "$T/record.pdf" > "$T/pdfsig.out" 2>&1
grep -q 'Signature Validation: Signature is Valid' "$T/pdfsig.out"
ok $? "pdfsig: the PDF record's signature is valid" || diag "$(cat "$T/pdfsig.out")"
grep -q 'Certificate Validation: Certificate is Trusted' "$T/pdfsig.out"
ok $? "pdfsig: its certificate is trusted (the test root)"
grep -q "Signer Certificate Common Name: ${CERT_CN[teacher]}" "$T/pdfsig.out"
ok $? "pdfsig: signed by the teacher the page chose"
grep -q 'Total document signed' "$T/pdfsig.out"
ok $? "pdfsig: the signature covers the whole document"
grep -q 'Signature Type: ETSI.CAdES.detached' "$T/pdfsig.out"
ok $? "pdfsig: a PAdES signature (ETSI.CAdES.detached)"
qpdf --check "$T/record.pdf" > "$T/qpdf.out" 2>&1
ok $? "qpdf --check passes on the signed PDF record" || diag "$(tail -n 5 "$T/qpdf.out")"
"$PY" "$KYSO_SRCDIR/tests/lib/pdf-sig-check.py" "$T/record.pdf" "$T/record" > /dev/null 2>"$T/check.err" &&
	openssl cms -cmsout -print -inform DER -in "$T/record.p7s" > "$T/record.cms.txt" 2>&1 &&
	! grep -q signingTime "$T/record.cms.txt"
ok $? "its CMS has no signingTime (the pades profile)" || diag "$(cat "$T/check.err")"
if [ -s "$SHOT" ]; then pass "a screenshot of the page after signing: $SHOT"; else fail "a screenshot of the page"; fi
[ -s "$T/drive.err" ] && diag "$(head -n 5 "$T/drive.err")"

# ---------------------------------------------------------------- the permission denied
OUT=$(drive denied "$SITE/" "")
is "$(json_get 'j["connected"]' "$OUT")" false "with the local network permission denied, the page does not connect"
like "$(json_get 'j["status"]' "$OUT")" "permission_denied: The browser blocked this page" \
	"the page shows the client's clear error"

# ---------------------------------------------------------------- an unknown origin pairs
before=$(confirm_count)
pinentry_says "pin 123456"
OUT=$(drive pair "https://grades.test:$PAGE_PORT/" "")
is "$(json_get 'j["connected"]' "$OUT")" true "an unknown origin pairs and connects"
is "$(confirm_count)" $((before + 1)) "through one confirmation dialog"
grep -qx "https://grades.test:$PAGE_PORT" "$T/pairings"
ok $? "the pairing is stored"

# ---------------------------------------------------------------- a refused pairing
before=$(confirm_count)
pinentry_says cancel
OUT=$(drive refuse "https://refuse.test:$PAGE_PORT/" "")
is "$(json_get 'j["connected"]' "$OUT")" false "a refused origin does not connect"
like "$(json_get 'j["status"]' "$OUT")" "^origin_not_allowed: " "the page gets KysoError origin_not_allowed" ||
	diag "$OUT"
like "$(json_get 'j.get("status_again","")' "$OUT")" "^origin_not_allowed: " \
	"asking again at once: origin_not_allowed again"
is "$(confirm_count)" $((before + 1)) "one dialog: none during the cool-down"
pinentry_says "pin 123456"

# ---------------------------------------------------------------- another origin's page
before=$(confirm_count)
getpins=$(getpin_count)
OUT=$(drive foreign "https://evil.test:$PAGE_PORT/" "")
diag "foreign page: $(json_get 'j.get("foreign")' "$OUT")"
for k in certificates sign_json; do
	like "$(json_get "j['foreign']['$k']" "$OUT")" "^rejected TypeError" \
		"an unknown origin's page cannot read kyso's answer ($k): the fetch fails"
done
like "$(json_get "j['foreign']['status']" "$OUT")" "^rejected TypeError" \
	"nor GET /v1/status's"
for k in pair_nocors sign_nocors certificates_nocors; do
	like "$(json_get "j['foreign']['$k']" "$OUT")" "^opaque 0 \$" \
		"a no-cors request ($k) gives the page an opaque answer, nothing to read"
done
is "$(confirm_count) $(getpin_count)" "$before $getpins" "nor does it raise a dialog (no CONFIRM, no GETPIN)"
grep -qx "https://evil.test:$PAGE_PORT" "$T/pairings"
ok $(( ! $? )) "and it is not paired"

# ---------------------------------------------------------------- CSP and iframes
OUT=$(drive csp "https://hocba.test:$PAGE_PORT2/" "")
is "$(json_get 'j["connected"]' "$OUT")" false "a page whose CSP leaves out loopback does not connect"
like "$(json_get 'j["status"]' "$OUT")" "^csp_blocked: This page's Content Security Policy forbids connecting to kyso. Add .connect-src http://127.0.0.1:\*." \
	"the client says which connect-src to add" || diag "$OUT"
OUT=$(FRAME_URL="https://grades.test:$PAGE_PORT/" drive iframe "https://portal.test:$PAGE_PORT3/" "")
is "$(json_get 'j["connected"]' "$OUT")" false "the demo in an iframe without allow=\"loopback-network\" does not connect"
like "$(json_get 'j["status"]' "$OUT")" "^iframe_blocked: This page runs in an iframe that may not reach the local network. Add allow=\"loopback-network; local-network-access\"" \
	"the client says what to add to the <iframe>" || diag "$OUT"

stop_kysod
done_testing
