#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The grade book demo (examples/web) in Debian's Chromium, headless, driven by playwright-core
# from npm (installed under the build tree, never a browser download): the page on an https
# origin the browser treats as public, kyso on loopback. An allowed origin signs a record and
# the class of 40 (each checked: the record's signature with openssl); the local network
# permission denied gives the client's clear error; an unknown origin pairs through the
# scripted pinentry. A screenshot of the page after signing is kept in the build tree
# (tests/web/grade-book.png).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-web.sh"
require_build
require_softhsm
[ -x /usr/bin/chromium ] || plan_skip_all "Debian's chromium is not installed (tests/debian-packages lists it)"
command -v node >/dev/null && command -v npm >/dev/null || plan_skip_all "node and npm are needed"
[ "$KYSO_VALGRIND" = 1 ] && plan_skip_all "not under valgrind (a browser's timeouts are shorter than valgrind's kysod)"

# playwright-core from npm, once per build tree
PW=$KYSO_BUILDDIR/tests/web
if [ ! -f "$PW/node_modules/playwright-core/package.json" ]; then
	mkdir -p "$PW"
	npm install --no-audit --no-fund --prefix "$PW" 'playwright-core@>=1.57' >"$PW/npm.log" 2>&1 ||
		plan_skip_all "npm install playwright-core failed (the npm registry unreachable?): $(tail -n 1 "$PW/npm.log")"
fi
export PW_DIR=$PW

make_softhsm_token
web_ports
PAGE_PORT=$((50000 + $$ % 10000))
export PAGE_PORT
SITE=https://hocba.test:$PAGE_PORT
web_conf --module "softhsm=$SOFTHSM" pairing_cooldown=3
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
for ((i = 0; i < 50; i++)); do
	curl -sk -o /dev/null "https://127.0.0.1:$PAGE_PORT/" && break
	sleep 0.1
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

stop_kysod
done_testing
