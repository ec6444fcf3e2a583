#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The loopback listener for web pages, with curl: Host (DNS rebinding), Origin (missing,
# malformed, unknown, allowed), CORS answers and preflights, what a page may not do, a
# signature from an allowed origin (verified with openssl, its dialog and audit entry naming
# the origin), pairing through the scripted pinentry and its cool-down, kyso origins, event
# streams that carry a page's own batches only, hostile input, and a second uid: refused
# with wrong_user, and its own kysod on the next port signing at the same time.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-web.sh"
require_build "$KYSO_CLI"
require_softhsm

make_softhsm_token
export KYSO_PINENTRY_PIDS=$T/pinentry.pids
web_ports
web_conf --module "softhsm=$SOFTHSM" pairing_cooldown=3
start_kysod
A=$WEB_ADMIN_ORIGIN

# ---------------------------------------------------------------- the listener
api GET /v1/status
is "$(json_get 'j["listen"]["port"]')" "$WEB_PORT" "status: the listener took the first port of the range"
is "$(json_get '" ".join(j["listen"]["addresses"])')" "127.0.0.1 ::1" "status: on 127.0.0.1 and ::1"
grep -q "serving web pages on 127.0.0.1:$WEB_PORT" "$KYSOD_LOG"
ok $? "the log names the listener's port"

# ---------------------------------------------------------------- Host
WAPI_EXTRA=(-H "Host: evil.example:$WEB_PORT")
wapi GET /v1/certificates "$A"
is_error 421 host_not_allowed "a rebinding page's Host (evil.example:PORT) is 421 host_not_allowed"
no_cors "421: no CORS headers"
WAPI_EXTRA=(-H "Host: 127.0.0.1:$((WEB_PORT + 1))")
wapi GET /v1/certificates "$A"
is_error 421 host_not_allowed "Host with another port is 421"
WAPI_EXTRA=(-H "Host: localhost:$WEB_PORT")
wapi GET /v1/status "$A"
is "$STATUS" 200 "Host localhost:PORT is served"
WAPI_EXTRA=()
STATUS=$(curl -sS -g -o "$T/v6.json" -w '%{http_code}' -H "Origin: $A" "http://[::1]:$WEB_PORT/v1/status" 2>&1)
is "$STATUS" 200 "[::1]:PORT is served"

# ---------------------------------------------------------------- Origin
wapi GET /v1/certificates -
is_error 403 origin_required "no Origin: 403 origin_required"
no_cors "no Origin: no CORS headers"
for bad in "null" "HTTPS://HOCBA.EXAMPLE.EDU.VN" "$A/" "$A/path" "https://a..b" "ftp://x.example" \
	"https://x.example:0" "https://x.example:99999" "https://x.example:443:1" "https://x y" \
	"$(printf 'https://%0300d' 0)"; do
	wapi GET /v1/certificates "$bad"
	is_error 400 origin_malformed "malformed Origin '${bad:0:40}': 400 origin_malformed"
done
WAPI_EXTRA=(-H "Origin: https://other.example")
wapi GET /v1/certificates "$A"
is_error 400 origin_malformed "two Origin headers: 400 origin_malformed"
WAPI_EXTRA=()
wapi GET /v1/certificates https://ads.example
is_error 403 origin_not_allowed "an unknown origin: 403 origin_not_allowed"
no_cors "unknown origin: no CORS headers, its page cannot read the answer"
wapi GET /v1/certificates https://hocba.example.edu.vn:8443
is_error 403 origin_not_allowed "the allowed host on another port is another origin: refused"

# ---------------------------------------------------------------- an allowed origin
wapi GET /v1/certificates "$A"
is "$STATUS" 200 "the administrator's origin lists certificates"
cors_for "$A" "its answer allows exactly its origin, Vary: Origin, no credentials"
is "$(json_get 'len(j["certificates"])')" 3 "it sees the token's 3 certificates"
api GET /v1/certificates
is "$(header Access-Control-Allow-Origin)" "" "the Unix socket's answers carry no CORS headers"

# preflights
WAPI_EXTRA=(-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type'
	-H 'Access-Control-Request-Private-Network: true')
wapi OPTIONS /v1/sign "$A"
is "$STATUS" 204 "preflight from the allowed origin: 204"
cors_for "$A" "preflight: exact origin"
is "$(header Access-Control-Allow-Methods)|$(header Access-Control-Allow-Headers)" \
	"GET, POST, DELETE|Content-Type, Last-Event-ID" "preflight: methods and headers"
is "$(header Access-Control-Allow-Private-Network)" true "preflight: Private Network Access allowed when asked"
wapi OPTIONS /v1/sign https://ads.example
is_error 403 origin_not_allowed "preflight from an unknown origin: 403"
no_cors "preflight from an unknown origin: no CORS headers"
wapi OPTIONS /v1/pair https://ads.example
is "$STATUS" 204 "preflight of the pairing request from an unknown origin: 204"
cors_for https://ads.example "pairing preflight: its exact origin"
WAPI_EXTRA=(-H 'Access-Control-Request-Method: POST')
wapi OPTIONS /v1/sign "$A"
is "$(header Access-Control-Allow-Private-Network)" "" "preflight that does not ask: no Private Network header"
WAPI_EXTRA=()

# what a page may not do
wapi POST /v1/logout "$A" '{}'
is_error 403 not_for_browsers "a page cannot log out every token"
wapi POST /v1/logout "$A" "{\"token\":\"$TOKEN_ID\"}"
is "$STATUS" 200 "a page can log out the token it uses"
wapi GET /v1/origins "$A"
is_error 403 not_for_browsers "a page cannot list the allowed origins"
wapi POST /v1/origins "$A" "{\"origin\":\"https://ads.example\",\"action\":\"allow\"}"
is_error 403 not_for_browsers "a page cannot allow an origin"
api GET /v1/pair
is_error 404 not_found "GET /v1/pair on the Unix socket: 404"

# a signature from the page: verified, its dialog and audit entry name the origin
make_hash sha256
wapi POST /v1/sign "$A" "$(sign_body "${CERT_ID[rsa]}" sha256)"
is "$STATUS" 200 "the allowed origin signs"
cors_for "$A" "the signature's answer is readable by the page"
if save_signature "$T/sig.bin" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/sig.bin" sha256 pkcs1; then
	pass "the page's signature verifies with openssl"
else
	fail "the page's signature verifies with openssl"
	diag "    $BODY"
fi
grep -q "^SETDESC The web site $A in .*curl.* (process [0-9]*) asks to sign a record" "$KYSO_PINENTRY_LOG"
ok $? "the PIN dialog names the origin and the browser process"
audit_settle
is "$(json_get 'j["caller"]["origin"] + " " + j["result"]' "$(tail -n 1 "$AUDIT_LOG")")" "$A ok" \
	"the audit entry names the origin"

# ---------------------------------------------------------------- pairing
P=https://sll.example.vn
wapi GET /v1/pair "$P"
is "$STATUS $(json_get 'j["paired"]') $(json_get 'j["pairable"]')" "200 false true" \
	"GET /v1/pair: an unknown https origin is not paired, and can ask"
cors_for "$P" "GET /v1/pair answers any origin with its CORS headers"
wapi POST /v1/pair http://sll.example.vn '{}'
is_error 403 origin_not_allowed "a plain http origin cannot be paired"
pinentry_says "pin 123456"
before=$(confirm_count)
wapi POST /v1/pair "$P" '{}'
is "$STATUS $(json_get 'j["paired"]') $(json_get 'j["source"]')" "200 true user" "the user allows a pairing"
is "$(confirm_count)" $((before + 1)) "one confirmation dialog"
grep -q "^SETDESC The web site $P in .* wants to use your signing tokens" "$KYSO_PINENTRY_LOG"
ok $? "the pairing dialog names the origin"
grep -qx "$P" "$T/pairings"
ok $? "the pairing is stored in the user's pairings file"
is "$(json_get 'j["event"] + " " + j["caller"]["origin"] + " " + j["result"]' "$(tail -n 1 "$AUDIT_LOG")")" \
	"pair $P allowed" "the pairing is an audit entry"
wapi GET /v1/certificates "$P"
is "$STATUS" 200 "the paired origin is served"
wapi POST /v1/pair "$P" '{}'
is "$STATUS $(confirm_count)" "200 $((before + 1))" "asking again once paired: no dialog"

out=$(KYSO_SOCKET=$SOCK "$KYSO_CLI" origins list 2>&1)
like "$out" "$A +administrator" "kyso origins list: the administrator's origin"
like "$out" "$P +you" "kyso origins list: the user's pairing"
out=$(KYSO_SOCKET=$SOCK "$KYSO_CLI" origins revoke "$P" 2>&1)
is "$?" 0 "kyso origins revoke"
wapi GET /v1/certificates "$P"
is_error 403 origin_not_allowed "a revoked origin is refused"
grep -qx "$P" "$T/pairings"
isnt "$?" 0 "the revoked pairing left the file"
KYSO_SOCKET=$SOCK "$KYSO_CLI" origins allow "https://dev.example:8443" >/dev/null 2>&1
wapi GET /v1/certificates https://dev.example:8443
is "$STATUS" 200 "kyso origins allow: served without a dialog"
KYSO_SOCKET=$SOCK "$KYSO_CLI" origins allow "not an origin" >/dev/null 2>&1
is "$?" 1 "kyso origins allow refuses what is not an origin"
out=$(KYSO_SOCKET=$SOCK "$KYSO_CLI" --json origins revoke "$A")
is "$(json_get 'j["source"]' "$out")" admin "revoking the administrator's origin leaves it allowed"

# refusal and cool-down (pairing_cooldown = 3 s)
R=https://ads.example
pinentry_says cancel
before=$(confirm_count)
wapi POST /v1/pair "$R" '{}'
is_error 403 origin_not_allowed "the user refuses: 403 origin_not_allowed"
is "$(header Retry-After)" 3 "with Retry-After (the cool-down)"
cors_for "$R" "the refusal is readable by the page that asked"
wapi POST /v1/pair "$R" '{}'
is_error 403 origin_not_allowed "asking again during the cool-down: 403 at once"
wapi POST /v1/pair https://ads2.example '{}'
is_error 409 pairing_busy "another origin right after a refusal: 409 pairing_busy"
is "$(confirm_count)" $((before + 1)) "no dialog during the cool-down"
out=$(KYSO_SOCKET=$SOCK "$KYSO_CLI" origins list 2>&1)
like "$out" "$R: refused; may ask again" "kyso origins list shows the refused origin"
sleep 3.2
wapi POST /v1/pair "$R" '{}'
is_error 403 origin_not_allowed "after the cool-down the origin may ask again (refused again)"
is "$(confirm_count)" $((before + 2)) "a new dialog after the cool-down"
pinentry_says "pin 123456"

# one pairing dialog at a time
sleep 3.2
pinentry_says hang
curl -s -o "$T/hang.json" -H "Origin: https://slow.example" -H 'Content-Type: application/json' \
	-d '{}' --max-time 20 "http://127.0.0.1:$WEB_PORT/v1/pair" &
HANG=$!
BG_PIDS+=("$HANG")
for ((i = 0; i < 50; i++)); do
	[ "$(confirm_count)" -gt $((before + 2)) ] && break
	sleep 0.1
done
wapi POST /v1/pair https://second.example '{}'
is_error 409 pairing_busy "a second pairing while a dialog is open: 409 pairing_busy"
kill -KILL "$(tail -n 1 "$KYSO_PINENTRY_PIDS")" 2>/dev/null
wait "$HANG" 2>/dev/null
pinentry_says "pin 123456"

# ---------------------------------------------------------------- event streams
curl -sN --max-time 8 -H "Origin: $A" "http://127.0.0.1:$WEB_PORT/v1/events" > "$T/streamA" &
SA=$!
curl -sN --max-time 8 -H "Origin: https://dev.example:8443" "http://127.0.0.1:$WEB_PORT/v1/events" \
	> "$T/streamD" &
SD=$!
curl -sN --max-time 8 --unix-socket "$SOCK" http://localhost/v1/events > "$T/streamU" &
SU=$!
sleep 0.5
batch_body()
{
	make_hash sha256
	printf '{"certificate":"%s","hash_algorithm":"sha256","batch":"%s","items":[{"id":"1","hash":"%s"}]}' \
		"${CERT_ID[p256]}" "$1" "$HASH_B64"
}
wapi POST /v1/sign/batch "$A" "$(batch_body pageA)"
is "$STATUS $(json_get 'j["signed"]')" "200 1" "the allowed origin signs a batch"
api POST /v1/sign/batch "$(batch_body unixB)"
is "$STATUS" 200 "a program signs a batch on the Unix socket"
wapi DELETE /v1/sign/batch/unixB "$A"
is_error 404 batch_not_found "a page cannot cancel a batch that is not its own"
wait "$SA" "$SD" "$SU" 2>/dev/null
grep -q '"batch":"pageA"' "$T/streamA"
ok $? "the page's stream has its own batch's progress"
grep -q '"batch":"unixB"' "$T/streamA"
isnt "$?" 0 "the page's stream does not have the program's batch"
grep -q '"batch":"pageA"' "$T/streamD"
isnt "$?" 0 "another origin's stream does not have the page's batch"
grep -q '"batch":"pageA"' "$T/streamU" && grep -q '"batch":"unixB"' "$T/streamU"
ok $? "the Unix socket's stream has both"
head -c 200 "$T/streamA" | grep -q '^: kyso events'
ok $? "the page's stream opened"

# ---------------------------------------------------------------- hostile input
big=$(head -c 40000 /dev/zero | tr '\0' a)
WAPI_EXTRA=(-H "X-Big: $big")
# libmicrohttpd refuses it itself (431, HTML), outside docs/openapi.yaml: not recorded
KYSO_API_RECORD=0 wapi GET /v1/status "$A"
case $STATUS in
4*) pass "a 40 KB header is refused ($STATUS)" ;;
*) fail "a 40 KB header is refused (got $STATUS)" ;;
esac
WAPI_EXTRA=()
wapi GET /v1/status "$(printf 'https://%s.example' "$(head -c 4000 /dev/zero | tr '\0' a)")"
is_error 400 origin_malformed "an Origin of 4 KB: 400 origin_malformed"
printf 'GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nOrigin: %s\r\n\r\n' "$WEB_PORT" \
	"$(printf 'https://a.example\001')" > "$T/raw.req"
exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT" && cat "$T/raw.req" >&3 && timeout 5 cat <&3 > "$T/raw.ans"
exec 3<&-
grep -q '"code":"origin_malformed"' "$T/raw.ans"
ok $? "an Origin with a control character: JSON origin_malformed"
for _ in $(seq 20); do
	head -c 3000 /dev/urandom > "$T/junk"
	timeout 2 bash -c "cat '$T/junk' > /dev/tcp/127.0.0.1/$WEB_PORT" 2>/dev/null
done
wapi GET /v1/status "$A"
is "$STATUS" 200 "after junk connections the listener still serves"
status_ok "and the Unix socket too"

# ---------------------------------------------------------------- another uid, and two users
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
if [ "$(id -u)" -ne 0 ] || ! "${NOBODY[@]}" true 2>/dev/null; then
	skip 12 "not root (uid $(id -u)): a second uid (nobody) needs root; CI runs as root"
	stop_kysod
	done_testing
	exit
fi
N=$T/nobody
mkdir -p "$N/run" "$N/api" "$N/state" "$N/config" "$N/softhsm"
cp -a "$T/softhsm/tokens" "$N/softhsm/"
sed "s|$T/softhsm/tokens|$N/softhsm/tokens|" "$SOFTHSM2_CONF" > "$N/softhsm/softhsm2.conf"
chmod 0711 "$T"
chmod 0700 "$N/run"
chown -R nobody:nogroup "$N"
if ! "${NOBODY[@]}" test -x "$KYSOD" -a -x "$KYSO_P11" -a -r "$SOFTHSM" -a -x "$PINENTRY"; then
	fail "user nobody reaches the build tree (every directory above it searchable by others)"
	stop_kysod
	done_testing
	exit
fi
WAPI_AS=("${NOBODY[@]}")
API_DIR=$N/api
wapi GET /v1/certificates "$A"
is_error 403 wrong_user "another uid's request on the listener: 403 wrong_user"
no_cors "wrong_user on a route other than /v1/pair: no CORS headers"
wapi GET /v1/pair "$A"
is_error 403 wrong_user "another uid's GET /v1/pair: 403 wrong_user"
cors_for "$A" "readable by the page, so that its client tries the next port"
is "$(getpin_count)" 1 "no PIN dialog for another uid (only the first signature's)"

# nobody's own kysod takes the next port of the range
ROOT_SOCK=$SOCK ROOT_CONF=$CONF ROOT_PID=$KYSOD_PID ROOT_LOG=$KYSOD_LOG
SOCK=$N/run/kyso/kyso.sock
CONF=$N/kysod.conf
export KYSO_PINENTRY_SCRIPT=$N/pinentry.script KYSO_PINENTRY_LOG=$N/pinentry.log
pinentry_says "pin 123456"
: > "$KYSO_PINENTRY_LOG"
mkdir -p "$N/origins.d"
cp "$T/origins.d/school.conf" "$N/origins.d/"
write_conf "listen=$WEB_PORT-$((WEB_PORT + 3))" "origins_dir=$N/origins.d" "pairings=$N/pairings" \
	"audit_log=$N/state/audit.log" --module "softhsm=$SOFTHSM"
chown -R nobody:nogroup "$N"
KYSOD_WRAP=(env "XDG_RUNTIME_DIR=$N/run" "XDG_STATE_HOME=$N/state" "XDG_CONFIG_HOME=$N/config"
	"HOME=$N" "SOFTHSM2_CONF=$N/softhsm/softhsm2.conf" "${NOBODY[@]}")
API_AS=("${NOBODY[@]}")
KYSOD_PID=
start_kysod
NOBODY_PID=$KYSOD_PID
api GET /v1/status
is "$(json_get 'j["listen"]["port"]')" "$((WEB_PORT + 1))" "the second user's kysod takes the next port"

# both users sign at once, each on their own port
WAPI_PORT=$((WEB_PORT + 1))
make_hash sha256
HN=$HASH_HEX
printf '%s' "$(sign_body "${CERT_ID[rsa]}" sha256)" > "$N/api/n.req"
chown nobody "$N/api/n.req"
"${NOBODY[@]}" curl -s -o "$N/api/n.json" -H "Origin: $A" -H 'Content-Type: application/json' \
	--data-binary "@$N/api/n.req" "http://127.0.0.1:$WAPI_PORT/v1/sign" &
JN=$!
make_hash sha256
HR=$HASH_HEX
curl -s -o "$T/r.json" -H "Origin: $A" -H 'Content-Type: application/json' \
	--data-binary "$(sign_body "${CERT_ID[p256]}" sha256)" "http://127.0.0.1:$WEB_PORT/v1/sign" &
JR=$!
wait "$JN" "$JR"
BODY=$(cat "$N/api/n.json")
save_signature "$T/n.sig" && verify_sig "${CERT_PEM[rsa]}" "$HN" "$T/n.sig" sha256 pkcs1
ok $? "the second user's page signed on its port; verified with openssl"
BODY=$(cat "$T/r.json")
save_signature "$T/r.sig" && verify_sig "${CERT_PEM[p256]}" "$HR" "$T/r.sig" sha256
ok $? "the first user's page signed at the same time on its port; verified with openssl"
WAPI_AS=()
API_DIR=$T
wapi GET /v1/certificates "$A"
is_error 403 wrong_user "the first user reaching the second user's port: 403 wrong_user"
STOP_SOCK=$SOCK stop_kysod

SOCK=$ROOT_SOCK CONF=$ROOT_CONF KYSOD_PID=$ROOT_PID KYSOD_LOG=$ROOT_LOG
API_AS=()
KYSOD_WRAP=()
WAPI_PORT=$WEB_PORT
stop_kysod
done_testing
